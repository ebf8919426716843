"""One entry point for any code a person or scanner hands us: ``parse_code(text) -> ParsedCode``.

Scheme names are stable: ``gs1-digital-link``, ``gs1-element-string``, ``gtin``, ``sscc``, ``gln``,
``epc-urn``, ``uscc``, ``cn-region``, ``cn-drug``, ``cn-pesticide``, ``cn-vet-drug``, ``cn-seed``, ``ma``,
``handle``, ``zhuisu`` (platform trace codes, bare or as a resolver URL ``…/t/<code>``, check character
verified); anything else is ``unknown`` (never guessed).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from stdnum.cn import uscc as _uscc

from zhuisu.codes import cn
from zhuisu.codes.digital_link import looks_like_digital_link, parse_digital_link
from zhuisu.codes.element_string import parse_element_string, parse_scan_data
from zhuisu.codes.epc import canonical_id, parse_epc_uri
from zhuisu.codes.errors import IdentifierError
from zhuisu.codes.gs1 import GS1KeyError, gtin_info, validate_key
from zhuisu.codes.issue import parse_platform_code

__all__ = ["ParsedCode", "parse_code"]


@dataclass(frozen=True, slots=True)
class ParsedCode:
    """The result of parse_code; ``ok`` False means ``error`` says why."""

    input: str
    ok: bool
    scheme: str
    fields: dict[str, str] = field(default_factory=dict)
    ai: dict[str, str] = field(default_factory=dict)
    canonical: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Platform trace codes (zhuisu.codes.issue): "<party code>-<S|L><12 characters><check>", bare or as the last path
# segment after /t/ of a resolver URL.
_PLATFORM_SHAPE_RE = re.compile(r"[0-9A-Za-z]{1,40}-[SLsl][0-9A-Za-z]{13}")
_PLATFORM_URL_RE = re.compile(
    r"^https?://[^/?#]+(?:/[^?#]*)?/t/([0-9A-Za-z]{1,40}-[SLsl][0-9A-Za-z]{13})/?(?:[?#].*)?$", re.IGNORECASE
)
_USCC_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")


def _ok(text: str, scheme: str, **kw: Any) -> ParsedCode:
    return ParsedCode(input=text, ok=True, scheme=scheme, **kw)


def _bad(text: str, scheme: str, exc: Exception) -> ParsedCode:
    return ParsedCode(input=text, ok=False, scheme=scheme, error=str(exc))


def _from_ais(text: str, scheme: str, ais: tuple[tuple[str, str], ...], canonical: str | None) -> ParsedCode:
    return _ok(text, scheme, ai=dict(ais), canonical=canonical)


def parse_code(text: str) -> ParsedCode:
    """Recognise and check one code; never raises for bad input."""
    s = text.strip()
    try:
        return _parse(text, s)
    except (IdentifierError, GS1KeyError) as exc:
        return _bad(text, _guess_scheme(s), exc)


def _guess_scheme(s: str) -> str:
    if s.startswith("urn:epc:"):
        return "epc-urn"
    if s.lower().startswith(("http://", "https://")):
        return "gs1-digital-link"
    if s.startswith(("(", "^", "]")):
        return "gs1-element-string"
    if s.isdigit():
        return {
            8: "gtin",
            12: "gtin",
            13: "gtin",
            14: "gtin",
            18: "sscc",
            20: "cn-drug",
            24: "cn-vet-drug",
            32: "cn-pesticide",
            6: "cn-region",
        }.get(len(s), "unknown")
    if len(s) == 18:
        return "uscc"
    return "unknown"


def _parse(text: str, s: str) -> ParsedCode:
    if not s:
        return ParsedCode(input=text, ok=False, scheme="unknown", error="empty input")
    if s.startswith("urn:epc:"):
        epc = parse_epc_uri(s)
        return _ok(
            text,
            "epc-urn",
            fields={"scheme": epc.scheme, "company_prefix": epc.company_prefix},
            ai=dict((epc.key, *epc.qualifiers)),
            canonical=epc.canonical(),
        )
    if s.lower().startswith(("http://", "https://")):
        m = _PLATFORM_URL_RE.search(s)
        if m is not None:
            return _platform(text, m.group(1))
        if looks_like_digital_link(s) or s[:8].lower() != s[:8]:
            dl = parse_digital_link(s)
            return _ok(text, "gs1-digital-link", fields={"stem": dl.stem}, ai=dict(dl.ais), canonical=dl.canonical())
        if s.lower().startswith(("https://zhuisu.", "http://zhuisu.")) or "/zhuisu/" in s:
            return _ok(text, "zhuisu", canonical=s)
        return ParsedCode(input=text, ok=False, scheme="unknown", error="a URL, but not a GS1 Digital Link")
    if s.startswith("]"):
        scan = parse_scan_data(s)
        if scan.element_string is None and scan.plain is not None and not scan.symbology_id.startswith("]E"):
            inner = parse_code(scan.plain)
            return ParsedCode(
                input=text,
                ok=inner.ok,
                scheme=inner.scheme,
                fields={**inner.fields, "symbology": scan.symbology},
                ai=inner.ai,
                canonical=inner.canonical,
                error=inner.error,
            )
        if scan.element_string is None:
            g = gtin_info(scan.plain or "")
            return _ok(
                text,
                "gtin",
                fields={"symbology": scan.symbology, "form": g.form, "type": g.gtin_type},
                ai={"01": g.gtin14},
                canonical=canonical_id(f"https://id.gs1.org/01/{g.gtin14}"),
            )
        es = scan.element_string
        return _element_string_result(text, es.ais, {"symbology": scan.symbology}, es.digital_link)
    if s.startswith(("(", "^")) or "\x1d" in s:
        es = parse_element_string(s)
        return _element_string_result(text, es.ais, {}, es.digital_link)
    if s.upper().startswith("MA."):
        c = cn.parse_ma(s)
        return _ok(text, c.scheme, fields=c.fields, canonical=c.value)
    if s.startswith("88.") and "/" in s:
        c = cn.parse_handle(s)
        return _ok(text, c.scheme, fields=c.fields, canonical=c.value)
    if s.isdigit():
        return _digits(text, s)
    if len(s) == 18 and _USCC_RE.fullmatch(s.upper()):
        c = cn.parse_uscc(s)
        return _ok(text, c.scheme, fields=c.fields, canonical=c.value)
    if _PLATFORM_SHAPE_RE.fullmatch(s):
        return _platform(text, s)
    if any(k in s for k in ("品种名称", "单元识别代码", "生产经营者名称")):
        c = cn.parse_seed_label(s)
        return _ok(text, c.scheme, fields=c.fields)
    return ParsedCode(input=text, ok=False, scheme="unknown", error="unknown code scheme")


def _platform(text: str, code: str) -> ParsedCode:
    """A platform trace code (bare, or in a resolver URL ``…/t/<code>``), its check character verified."""
    try:
        pc = parse_platform_code(code)
    except IdentifierError as exc:
        return _bad(text, "zhuisu", exc)
    return _ok(text, "zhuisu", fields={"party_code": pc.party_code, "kind": pc.kind}, canonical=pc.code)


def _element_string_result(text: str, ais: tuple[tuple[str, str], ...], fields: dict[str, str], dl: Any) -> ParsedCode:
    try:
        canonical = dl(with_attributes=False)
    except IdentifierError:
        canonical = None
    return _ok(text, "gs1-element-string", fields=fields, ai=dict(ais), canonical=canonical)


def _digits(text: str, s: str) -> ParsedCode:
    n = len(s)
    if n in (8, 12, 13, 14):
        g = gtin_info(s)
        return _ok(
            text,
            "gtin",
            fields={"form": g.form, "type": g.gtin_type, "indicator": g.indicator},
            ai={"01": g.gtin14},
            canonical=f"https://id.gs1.org/01/{g.gtin14}",
        )
    if n == 18:
        # 18 digits may be an SSCC or an all-digit USCC: a valid USCC wins (its checks are stricter).
        try:
            c = cn.parse_uscc(s)
        except IdentifierError as uscc_error:
            try:
                validate_key("SSCC", s)
            except GS1KeyError as sscc_error:
                # Neither: name the reading whose own check character holds (the closer miss), else both.
                if _uscc.is_valid(s):
                    return _bad(text, "uscc", uscc_error)
                return ParsedCode(input=text, ok=False, scheme="sscc", error=f"{sscc_error}; {uscc_error}")
            return _ok(text, "sscc", ai={"00": s}, canonical=f"https://id.gs1.org/00/{s}")
        return _ok(text, c.scheme, fields=c.fields, canonical=c.value)
    if n == 6:
        c = cn.parse_region(s)
        return _ok(text, c.scheme, fields=c.fields, canonical=s)
    if n == 20:
        c = cn.parse_drug_code(s)
        return _ok(text, c.scheme, fields=c.fields, canonical=s)
    if n == 24:
        c = cn.parse_vet_drug_code(s)
        return _ok(text, c.scheme, fields=c.fields, canonical=s)
    if n == 32:
        c = cn.parse_pesticide_code(s)
        return _ok(text, c.scheme, fields=c.fields, canonical=s)
    return ParsedCode(input=text, ok=False, scheme="unknown", error=f"unknown code scheme ({n} digits)")


def parse_gln(text: str) -> ParsedCode:
    """A 13-digit string is ambiguous (GTIN-13 or GLN); callers who know it is a GLN use this."""
    try:
        validate_key("GLN", text)
    except GS1KeyError as exc:
        return _bad(text, "gln", exc)
    return _ok(text, "gln", ai={"414": text}, canonical=f"https://id.gs1.org/414/{text}")
