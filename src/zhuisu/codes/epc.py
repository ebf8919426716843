"""EPC URIs (GS1 EPC Tag Data Standard 2.x) ⇄ GS1 Digital Link, and the canonical identifier form.

``canonical_id`` is the form the event store indexes: every GS1 key, whether captured as an EPC
pure-identity URN, an EPC class URN (LGTIN), a class-level EPC pattern (``urn:epc:idpat:sgtin:CP.IR.*``)
or a GS1 Digital Link URI on any domain, becomes ``https://id.gs1.org/<key AI>/<value>[/<qualifier
AI>/<value>…]``. Anything that is not a GS1 key (``urn:uuid:``, CBV URNs, ``ni:``, other URLs) comes
back unchanged.

Company-prefix lengths (needed only for DL → EPC URN) come from GS1's GCP length table as shipped with
biip (see ``zhuisu.codes.gs1.company_prefix_length``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from zhuisu.codes.ai import AIValueError, check_ai_value
from zhuisu.codes.digital_link import (
    CANONICAL_STEM,
    DigitalLink,
    canonical_from_ais,
    looks_like_digital_link,
    parse_digital_link,
)
from zhuisu.codes.errors import IdentifierError
from zhuisu.codes.gs1 import company_prefix_length, gs1_check_digit

__all__ = [
    "SIMPLE_URN_IDS",
    "EpcUri",
    "IdentifierError",
    "canonical_id",
    "epc_pattern_like",
    "epc_pattern_prefix",
    "forget_simple_urns",
    "parse_epc_uri",
    "simple_urn_id",
    "to_digital_link",
    "to_epc_urn",
]

_DIGITS_RE = re.compile(r"[0-9]+")
# TDS 2.x §5 / §6: characters allowed unescaped in an EPC URI component, plus %-escapes.
_URN_COMPONENT_RE = re.compile(r"(?:[A-Za-z0-9\-_.:;=!'()*+,]|%[0-9A-Fa-f]{2})+")
# GS1 keys in EPC URNs; other EPC schemes (gid, usdod, adi, bic, imovn) are not GS1 keys.
_GS1_ID_SCHEMES = frozenset(
    {
        "sgtin",
        "sscc",
        "sgln",
        "grai",
        "giai",
        "gsrn",
        "gsrnp",
        "gdti",
        "cpi",
        "sgcn",
        "ginc",
        "gsin",
        "itip",
        "upui",
        "pgln",
    }
)
_OTHER_ID_SCHEMES = frozenset({"gid", "usdod", "adi", "bic", "imovn"})
_PARTS = {
    "sgtin": 3,
    "sscc": 2,
    "sgln": 3,
    "grai": 3,
    "giai": 2,
    "gsrn": 2,
    "gsrnp": 2,
    "gdti": 3,
    "cpi": 3,
    "sgcn": 3,
    "ginc": 2,
    "gsin": 2,
    "itip": 5,
    "upui": 3,
    "pgln": 2,
    "lgtin": 3,
}


@dataclass(frozen=True, slots=True)
class EpcUri:
    """An EPC URI decoded to GS1 element strings."""

    uri: str
    kind: str  # "id", "class" or "idpat"
    scheme: str  # "sgtin", "lgtin" …
    company_prefix: str
    key: tuple[str, str]
    qualifiers: tuple[tuple[str, str], ...]

    def canonical(self) -> str:
        return canonical_from_ais(self.key, self.qualifiers)


def _err(uri: str, reason: str) -> IdentifierError:
    return IdentifierError(f"EPC URI {uri!r}: {reason}")


def _digits(uri: str, value: str, what: str) -> None:
    if not _DIGITS_RE.fullmatch(value):
        raise _err(uri, f"{what} {value!r} must be digits")


def _cp(uri: str, cp: str) -> None:
    _digits(uri, cp, "company prefix")
    if not 6 <= len(cp) <= 12:
        raise _err(uri, f"company prefix {cp!r} must have 6 to 12 digits (partition table)")


def _fixed(uri: str, cp: str, ref: str, total: int, what: str) -> str:
    """Company prefix + reference of exactly ``total`` digits, as TDS partition tables require."""
    _cp(uri, cp)
    if ref:
        _digits(uri, ref, what)
    if len(cp) + len(ref) != total:
        raise _err(uri, f"company prefix and {what} must have {total} digits together, not {len(cp) + len(ref)}")
    return cp + ref


def _text(uri: str, raw: str, what: str) -> str:
    """Decode an escaped URN component (TDS §5: %22 %25 %26 %2F %3C %3E %3F and friends)."""
    if not raw:
        raise _err(uri, f"{what} is empty")
    if _URN_COMPONENT_RE.fullmatch(raw) is None:
        bad = next((ch for ch in raw if _URN_COMPONENT_RE.fullmatch(ch) is None and ch != "%"), "%")
        raise _err(uri, f"{what} {raw!r}: character {bad!r} is not allowed in an EPC URI")
    return unquote(raw) if "%" in raw else raw


def _with_check(payload: str) -> str:
    return payload + chr(48 + gs1_check_digit(payload))


def _validate(uri: str, pairs: tuple[tuple[str, str], ...]) -> None:
    for ai, value in pairs:
        try:
            check_ai_value(ai, value)
        except AIValueError as exc:
            raise _err(uri, str(exc)) from exc


def _decode_id(uri: str, scheme: str, parts: list[str]) -> tuple[str, tuple[str, str], tuple[tuple[str, str], ...]]:
    """(company prefix, key, qualifiers) for a pure-identity or class URN body."""
    cp = parts[0]
    if scheme in ("sgtin", "lgtin", "itip", "upui"):
        _fixed(uri, cp, parts[1], 13, "indicator and item reference")
        iir = parts[1]
        gtin = _with_check(iir[0] + cp + iir[1:])
        if scheme == "sgtin":
            return cp, ("01", gtin), (("21", _text(uri, parts[2], "serial")),)
        if scheme == "lgtin":
            return cp, ("01", gtin), (("10", _text(uri, parts[2], "lot")),)
        if scheme == "upui":
            return cp, ("01", gtin), (("235", _text(uri, parts[2], "third-party controlled serial")),)
        piece, total = parts[2], parts[3]
        for v, what in ((piece, "piece"), (total, "total")):
            _digits(uri, v, what)
            if len(v) != 2:
                raise _err(uri, f"{what} {v!r} must have 2 digits")
        return cp, ("8006", gtin + piece + total), (("21", _text(uri, parts[4], "serial")),)
    if scheme == "sscc":
        sr = parts[1]
        _fixed(uri, cp, sr, 17, "extension and serial reference")
        return cp, ("00", _with_check(sr[0] + cp + sr[1:])), ()
    if scheme in ("sgln", "pgln"):
        gln = _with_check(_fixed(uri, cp, parts[1], 12, "location reference"))
        if scheme == "pgln":
            return cp, ("417", gln), ()
        ext = _text(uri, parts[2], "extension")
        # TDS: extension "0" means the GLN has no extension component.
        return cp, ("414", gln), (() if ext == "0" else (("254", ext),))
    if scheme == "grai":
        grai = _with_check(_fixed(uri, cp, parts[1], 12, "asset type"))
        return cp, ("8003", "0" + grai + _text(uri, parts[2], "serial")), ()
    if scheme == "giai":
        _cp(uri, cp)
        return cp, ("8004", cp + _text(uri, parts[1], "individual asset reference")), ()
    if scheme in ("gsrn", "gsrnp"):
        gsrn = _with_check(_fixed(uri, cp, parts[1], 17, "service reference"))
        return cp, ("8018" if scheme == "gsrn" else "8017", gsrn), ()
    if scheme == "gdti":
        gdti = _with_check(_fixed(uri, cp, parts[1], 12, "document type"))
        return cp, ("253", gdti + _text(uri, parts[2], "serial")), ()
    if scheme == "sgcn":
        gcn = _with_check(_fixed(uri, cp, parts[1], 12, "coupon reference"))
        serial = parts[2]
        _digits(uri, serial, "serial")
        return cp, ("255", gcn + serial), ()
    if scheme == "cpi":
        _cp(uri, cp)
        ref = _text(uri, parts[1], "component/part reference")
        serial = parts[2]
        _digits(uri, serial, "serial")
        return cp, ("8010", cp + ref), (("8011", serial),)
    if scheme == "ginc":
        _cp(uri, cp)
        return cp, ("401", cp + _text(uri, parts[1], "consignment reference")), ()
    if scheme == "gsin":
        return cp, ("402", _with_check(_fixed(uri, cp, parts[1], 16, "shipper reference"))), ()
    raise _err(uri, f"unknown EPC scheme {scheme!r}")  # pragma: no cover - callers check the scheme


def parse_epc_uri(uri: str) -> EpcUri:
    """Decode a GS1 EPC pure-identity URN (``urn:epc:id:…``) or LGTIN class URN.

    Class-level patterns (only the last component ``*``, e.g. ``urn:epc:idpat:sgtin:CP.IR.*``) decode
    to the key without its serial. Raises IdentifierError for anything malformed.
    """
    head, _, body = uri.partition(":epc:")
    if head != "urn" or not body:
        raise _err(uri, "not an EPC URN")
    kind, _, rest = body.partition(":")
    scheme, _, value = rest.partition(":")
    if kind not in ("id", "class", "idpat"):
        raise _err(uri, f"unknown EPC URI kind {kind!r}")
    if kind == "class" and scheme != "lgtin":
        raise _err(uri, f"unknown EPC class scheme {scheme!r} (only lgtin)")
    if kind != "class" and scheme not in _GS1_ID_SCHEMES:
        raise _err(uri, f"{scheme!r} is not a GS1 key EPC scheme")
    n = _PARTS[scheme]
    parts = value.split(".", n - 1)
    if len(parts) != n:
        raise _err(uri, f"expected {n} dot-separated parts after urn:epc:{kind}:{scheme}:, got {len(parts)}")
    if kind == "idpat":
        return _class_pattern(uri, scheme, parts)
    cp, key, qualifiers = _decode_id(uri, scheme, parts)
    _validate(uri, (key, *qualifiers))
    return EpcUri(uri=uri, kind=kind, scheme=scheme, company_prefix=cp, key=key, qualifiers=qualifiers)


# Class-level patterns: wildcarding only the serial leaves a GS1 key that identifies the class.
_CLASS_PATTERN_SCHEMES = frozenset({"sgtin", "grai", "gdti", "sgcn", "cpi", "itip"})


def _class_pattern(uri: str, scheme: str, parts: list[str]) -> EpcUri:
    if parts[-1] != "*" or "*" in parts[:-1] or scheme not in _CLASS_PATTERN_SCHEMES:
        raise _err(uri, "only a pattern with just the last component '*' names a class")
    filled = [*parts[:-1], "1"]  # a stand-in serial, dropped below
    cp, key, qualifiers = _decode_id(uri, scheme, filled)
    if scheme in ("grai", "gdti", "sgcn"):
        key = (key[0], key[1][:-1])  # drop the stand-in serial
    qualifiers = tuple(q for q in qualifiers if q[0] not in ("21", "8011"))
    _validate(uri, (key, *qualifiers))
    return EpcUri(uri=uri, kind="idpat", scheme=scheme, company_prefix=cp, key=key, qualifiers=qualifiers)


def _is_epc_urn(uri: str) -> bool:
    return uri.startswith("urn:epc:")


def _gs1_epc_kind(uri: str) -> bool:
    """True for EPC URNs that name GS1 keys (and must therefore be well-formed)."""
    if uri.startswith("urn:epc:id:"):
        scheme = uri[11:].partition(":")[0]
        return scheme not in _OTHER_ID_SCHEMES
    if uri.startswith("urn:epc:class:"):
        return True
    if uri.startswith("urn:epc:idpat:"):
        return _is_class_pattern(uri)
    return False


def _is_class_pattern(uri: str) -> bool:
    scheme, _, body = uri[14:].partition(":")
    return scheme in _CLASS_PATTERN_SCHEMES and body.endswith(".*") and body.count("*") == 1


# Fast paths for the commonest captured forms (SGTIN/LGTIN/SSCC/SGLN/PGLN URNs, simple Digital Links):
# one regex match and a check digit; anything unusual (escapes, other schemes, wrong lengths) falls
# through to the full parsers, which decide. tests/codes/test_epc_fast_paths.py checks the two agree.
_SAFE = r"[A-Za-z0-9\-_.]"  # characters that need no escaping in the canonical DL and are in CSET 82
_FAST_DL_RE = re.compile(
    rf"https?://[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?(?::[0-9]{{1,5}})?"
    rf"/(01|00|414|417)/([0-9]{{13,18}})(?:/(21|10|254)/({_SAFE}{{1,20}}))?"
)
_FAST_KEY_LEN = {"01": 14, "00": 18, "414": 13, "417": 13}
_FAST_QUALIFIER = {"01": ("21", "10"), "414": ("254",)}
_STEM_01 = CANONICAL_STEM + "/01/"


def _cd(digits: str) -> str:
    """GS1 mod-10 check digit of ASCII digits (the fast paths' regexes guarantee them), as a character."""
    b = digits.encode()
    heavy = b[-1::-2]
    return "0123456789"[-(sum(b) + 2 * sum(heavy) - 48 * (len(b) + 2 * len(heavy))) % 10]


# One regex for the simple URN forms; the group that matched says which (and so the scheme).
_FAST_URN_RE = re.compile(
    rf"urn:epc:(?:(id:sgtin|class:lgtin):([0-9]{{6,12}})\.([0-9]{{1,7}})\.({_SAFE}{{1,20}})"
    r"|id:sscc:([0-9]{6,12})\.([0-9]{5,11})"
    rf"|id:sgln:([0-9]{{6,12}})\.([0-9]{{0,6}})\.({_SAFE}{{1,20}})"
    r"|id:pgln:([0-9]{6,12})\.([0-9]{0,6}))"
)


# 'urn:epc:id:sgtin:CP.IR' (or class:lgtin) → 'https://id.gs1.org/01/<GTIN>/21/' (/10/), '' where the
# lengths are wrong: many serials share one GTIN, so its check digit is computed once. Bounded.
_GTIN_HEADS: dict[str, str] = {}


def _gtin_head(m: re.Match[str]) -> str:
    kind, cp, ref = m.group(1, 2, 3)
    if len(cp) + len(ref) != 13:
        return ""
    gtin = ref[0] + cp + ref[1:]
    b = gtin.encode()  # _cd(gtin), inline: 13 digits, 7 of weight 3 (from index 0)
    cd = "0123456789"[(1296 - sum(b) - 2 * sum(b[::2])) % 10]
    return f"{_STEM_01}{gtin}{cd}{'/21/' if kind == 'id:sgtin' else '/10/'}"


def _fast_urn(uri: str) -> str | None:
    m = _FAST_URN_RE.fullmatch(uri)
    if m is None:
        return None
    if m.lastindex == 4:  # SGTIN (AI 21 serial) or LGTIN (AI 10 lot): groups 1-4, the serial last
        cut = m.end(3)  # the '.' before the serial
        key = uri[:cut]
        head = _GTIN_HEADS.get(key)
        if head is None:
            if len(_GTIN_HEADS) >= _SIMPLE_URNS_LIMIT:
                _GTIN_HEADS.clear()
            head = _GTIN_HEADS[key] = _gtin_head(m)
        return head + uri[cut + 1 :] if head else None
    _kind, _cp, _ref, _tail, sscc_cp, sscc_ref, sgln_cp, sgln_ref, ext, pgln_cp, pgln_ref = m.groups()
    if sscc_cp is not None:
        if len(sscc_cp) + len(sscc_ref) != 17:
            return None
        sscc = sscc_ref[0] + sscc_cp + sscc_ref[1:]
        return f"{CANONICAL_STEM}/00/{sscc}{_cd(sscc)}"
    if sgln_cp is not None:
        if len(sgln_cp) + len(sgln_ref) != 12:
            return None
        gln = sgln_cp + sgln_ref
        gln = f"{CANONICAL_STEM}/414/{gln}{_cd(gln)}"
        return gln if ext == "0" else f"{gln}/254/{ext}"  # TDS: extension "0" means no extension
    if len(pgln_cp) + len(pgln_ref) != 12:
        return None
    gln = pgln_cp + pgln_ref
    return f"{CANONICAL_STEM}/417/{gln}{_cd(gln)}"


def _fast(uri: str) -> str | None:
    """Canonical id for the common simple forms, or None to take the full path."""
    return _fast_urn(uri) if uri.startswith("urn:epc:") else _fast_dl(uri)


def _fast_dl(uri: str) -> str | None:
    m = _FAST_DL_RE.fullmatch(uri)
    if m is None:
        return None
    key_ai, key, q_ai, q_value = m.groups()
    if len(key) != _FAST_KEY_LEN[key_ai] or _cd(key[:-1]) != key[-1]:
        return None
    if q_ai is None:
        return f"{CANONICAL_STEM}/{key_ai}/{key}"
    if q_ai not in _FAST_QUALIFIER.get(key_ai, ()):
        return None
    return f"{CANONICAL_STEM}/{key_ai}/{key}/{q_ai}/{q_value}"


# EPC URNs of the simple forms (``_fast_urn``) → their canonical id. Capture meets each identifier three
# times (validation, event hash, index) and most are new serials: this table lets the later two reuse the
# first computation. Bounded: emptied once full; small, so it stays in the processor's cache (with 65,536
# entries its look-ups missed the cache and cost a tenth of preparing an event; 4,096 still holds all the
# identifiers of the events in flight). Every key is a well-formed EPC URN in printable ASCII
# (so an absolute URI), of a form the event hash canonicalises to the same Digital Link (hash.py).
_SIMPLE_URNS: dict[str, str] = {}
_SIMPLE_URNS_LIMIT = 4096
# The table itself, for hot loops elsewhere that look there before calling simple_urn_id (read only!).
SIMPLE_URN_IDS: Mapping[str, str] = _SIMPLE_URNS


def simple_urn_id(uri: str) -> str | None:
    """``canonical_id(uri)`` when ``uri`` is an EPC URN of a simple common form (SGTIN, LGTIN, SSCC, SGLN,
    PGLN without escapes), else None (take ``canonical_id``). Never raises; ``uri`` must be a str."""
    out = _SIMPLE_URNS.get(uri)
    if out is None and uri.startswith("urn:epc:"):
        out = _fast_urn(uri)
        if out is not None:
            if len(_SIMPLE_URNS) >= _SIMPLE_URNS_LIMIT:
                _SIMPLE_URNS.clear()
            _SIMPLE_URNS[uri] = out
    return out


def forget_simple_urns() -> None:
    """Empty the tables of simple EPC URNs (benchmarks: every identifier new)."""
    _SIMPLE_URNS.clear()
    _GTIN_HEADS.clear()


# Capture calls this several times per event, and locations, classes and parents repeat from event to
# event: a bounded cache answers those in well under a microsecond (errors are not cached).
@lru_cache(maxsize=65536)
def canonical_id(uri: str) -> str:
    """The canonical identifier the store indexes (see module docstring); raises IdentifierError."""
    if uri.startswith("urn:epc:"):
        fast = simple_urn_id(uri)
        if fast is not None:
            return fast
        if not _gs1_epc_kind(uri):
            return uri
        return parse_epc_uri(uri).canonical()
    fast = _fast_dl(uri)
    if fast is not None:
        return fast
    if uri.startswith(("http", "HTTP")):
        if not looks_like_digital_link(uri):
            return uri
        return parse_digital_link(uri).canonical()
    return uri


def to_digital_link(uri: str) -> str:
    """Canonical GS1 Digital Link for a GS1 key in any form; anything else unchanged."""
    return canonical_id(uri)


def _scheme_for(dl: DigitalLink) -> str:
    key_ai = dl.key[0]
    q = dict(dl.qualifiers)
    if key_ai == "01":
        if "21" in q:
            if set(q) - {"21"}:
                raise IdentifierError(f"{dl.uri!r}: an SGTIN carries a serial only (no CPV or lot)")
            return "sgtin"
        if "10" in q:
            if set(q) - {"10"}:
                raise IdentifierError(f"{dl.uri!r}: an LGTIN carries a lot only (no CPV)")
            return "lgtin"
        if "235" in q:
            return "upui"
        if not q:
            return "gtin-class"
        raise IdentifierError(f"{dl.uri!r}: no EPC scheme for a GTIN with only a CPV (22)")
    mapping = {
        "00": "sscc",
        "414": "sgln",
        "417": "pgln",
        "8003": "grai",
        "8004": "giai",
        "8018": "gsrn",
        "8017": "gsrnp",
        "253": "gdti",
        "8010": "cpi",
        "255": "sgcn",
        "401": "ginc",
        "402": "gsin",
        "8006": "itip",
    }
    scheme = mapping.get(key_ai)
    if scheme is None:
        raise IdentifierError(f"{dl.uri!r}: GS1 key AI ({key_ai}) has no EPC URI form")
    return scheme


def _escape_urn(value: str) -> str:
    # TDS §5: these characters must be %-escaped in EPC URIs; the rest of CSET 82 stands as it is.
    out = []
    for ch in value:
        if ch in '"%&/<>?#':
            out.append(f"%{ord(ch):02X}")
        else:
            out.append(ch)
    return "".join(out)


def _gcp_len(uri: str, digits: str, gcp_length: int | None) -> int:
    if gcp_length is not None:
        if not 6 <= gcp_length <= 12:
            raise IdentifierError(f"{uri!r}: company prefix length {gcp_length} is not 6..12")
        return gcp_length
    n = company_prefix_length(digits)
    if n is None:
        raise IdentifierError(f"company prefix length unknown for {uri!r} (not in the GS1 GCP length table)")
    if not 6 <= n <= 12:
        raise IdentifierError(f"{uri!r}: company prefix length {n} cannot be written as an EPC URI")
    return n


def to_epc_urn(uri: str, *, gcp_length: int | None = None) -> str:
    """EPC pure-identity URN (or LGTIN class URN, or ``idpat`` for a bare GTIN) for a GS1 key.

    EPC URNs are returned in their normalised form (re-encoded from the parsed key, so the company
    prefix split is the one given). For Digital Links the company-prefix length comes from
    ``gcp_length`` or the GS1 GCP length table; unknown → IdentifierError. Non-GS1 URIs unchanged.
    """
    if uri.startswith("urn:epc:"):
        if not _gs1_epc_kind(uri):
            return uri
        epc = parse_epc_uri(uri)
        return _encode_urn(
            uri,
            epc.scheme if epc.kind != "idpat" else epc.scheme + "-class",
            epc.key,
            epc.qualifiers,
            len(epc.company_prefix),
        )
    if uri.startswith(("http", "HTTP")) and looks_like_digital_link(uri):
        dl = parse_digital_link(uri)
        scheme = _scheme_for(dl)
        return _encode_urn(uri, scheme, dl.key, dl.qualifiers, gcp_length)
    return uri


def _encode_urn(
    uri: str,
    scheme: str,
    key: tuple[str, str],
    qualifiers: tuple[tuple[str, str], ...],
    gcp_length: int | None,
) -> str:
    key_ai, value = key
    q = dict(qualifiers)
    if key_ai in ("01", "8006"):
        gtin = value[:14]
        n = _gcp_len(uri, gtin[1:], gcp_length)
        cp, iir = gtin[1 : 1 + n], gtin[0] + gtin[1 + n : 13]
        base = f"{cp}.{iir}"
        if scheme in ("sgtin",):
            return f"urn:epc:id:sgtin:{base}.{_escape_urn(q['21'])}"
        if scheme == "lgtin":
            return f"urn:epc:class:lgtin:{base}.{_escape_urn(q['10'])}"
        if scheme == "upui":
            return f"urn:epc:id:upui:{base}.{_escape_urn(q['235'])}"
        if scheme in ("gtin-class", "sgtin-class"):
            return f"urn:epc:idpat:sgtin:{base}.*"
        piece, total = value[14:16], value[16:18]
        if "21" in q:
            return f"urn:epc:id:itip:{base}.{piece}.{total}.{_escape_urn(q['21'])}"
        return f"urn:epc:idpat:itip:{base}.{piece}.{total}.*"
    if key_ai == "00":
        n = _gcp_len(uri, value[1:], gcp_length)
        return f"urn:epc:id:sscc:{value[1 : 1 + n]}.{value[0]}{value[1 + n : 17]}"
    if key_ai in ("414", "417"):
        n = _gcp_len(uri, value, gcp_length)
        cp, ref = value[:n], value[n:12]
        if key_ai == "417":
            return f"urn:epc:id:pgln:{cp}.{ref}"
        return f"urn:epc:id:sgln:{cp}.{ref}.{_escape_urn(q.get('254', '0'))}"
    if key_ai in ("8003", "253", "255"):
        body = value[1:] if key_ai == "8003" else value
        n = _gcp_len(uri, body, gcp_length)
        cp, ref, serial = body[:n], body[n:12], body[13:]
        name = {"8003": "grai", "253": "gdti", "255": "sgcn"}[key_ai]
        if not serial:
            return f"urn:epc:idpat:{name}:{cp}.{ref}.*"
        return f"urn:epc:id:{name}:{cp}.{ref}.{_escape_urn(serial)}"
    if key_ai in ("8004", "401", "8010"):
        n = _gcp_len(uri, value, gcp_length)
        cp, ref = value[:n], value[n:]
        if key_ai == "8010":
            if "8011" not in q:
                return f"urn:epc:idpat:cpi:{cp}.{_escape_urn(ref)}.*"
            return f"urn:epc:id:cpi:{cp}.{_escape_urn(ref)}.{q['8011']}"
        name = "giai" if key_ai == "8004" else "ginc"
        if not ref:
            raise IdentifierError(f"{uri!r}: the {name.upper()} has no reference after the company prefix")
        return f"urn:epc:id:{name}:{cp}.{_escape_urn(ref)}"
    if key_ai in ("8017", "8018"):
        n = _gcp_len(uri, value, gcp_length)
        return f"urn:epc:id:{'gsrn' if key_ai == '8018' else 'gsrnp'}:{value[:n]}.{value[n:17]}"
    if key_ai == "402":
        n = _gcp_len(uri, value, gcp_length)
        return f"urn:epc:id:gsin:{value[:n]}.{value[n:16]}"
    raise IdentifierError(f"{uri!r}: GS1 key AI ({key_ai}) has no EPC URI form")


# --- EPC patterns in queries -------------------------------------------------------------------------

# scheme -> number of components; class-level LGTIN has no pattern URI of its own.
_PATTERN_SCHEMES = {scheme: n for scheme, n in _PARTS.items() if scheme != "lgtin"}


def _pattern_parts(pattern: str) -> tuple[str, list[str]] | None:
    if not pattern.startswith("urn:epc:idpat:"):
        return None
    scheme, _, body = pattern[14:].partition(":")
    n = _PATTERN_SCHEMES.get(scheme)
    if n is None:
        raise _err(pattern, f"unknown EPC pattern scheme {scheme!r}")
    parts = body.split(".", n - 1)
    if len(parts) != n:
        raise _err(pattern, f"expected {n} dot-separated parts, got {len(parts)}")
    # TDS §6.? grammar: once a component is '*', every later component is '*' too.
    star = False
    for p in parts:
        if p == "*":
            star = True
        elif star:
            raise _err(pattern, "a '*' component may only be followed by '*' components")
        elif "*" in p:
            raise _err(pattern, f"component {p!r}: '*' must stand alone")
    return scheme, parts


def epc_pattern_like(pattern: str) -> list[str] | None:
    """SQL LIKE patterns (any one matching) over canonical ids for an EPC pattern URI, or None if
    ``pattern`` is not a pattern (``urn:epc:idpat:…``). Raises IdentifierError if malformed.

    The literal parts contain no ``%`` or ``_`` (digits and fixed text only), so no ESCAPE clause is
    needed; ``_`` stands for exactly one character (the GTIN indicator digit, item-reference digits,
    check digits), ``%`` for the free-text tail (serials, lots, asset references).
    """
    found = _pattern_parts(pattern)
    if found is None:
        return None
    scheme, parts = found
    concrete = [p for p in parts if p != "*"]
    stem = CANONICAL_STEM
    if not concrete:
        return [_all_of_scheme(scheme)]
    cp = concrete[0]
    _cp(pattern, cp)
    if len(concrete) == len(parts):
        # No wildcard at all: the pattern names exactly one EPC.
        return [parse_epc_uri("urn:epc:id:" + pattern[14:]).canonical()]
    if scheme in ("sgtin", "itip", "upui"):
        if len(concrete) == 1:
            gtin_like = "_" + cp + "_" * (13 - len(cp))
        else:
            iir = concrete[1]
            _fixed(pattern, cp, iir, 13, "indicator and item reference")
            gtin13 = iir[0] + cp + iir[1:]
            gtin_like = gtin13 + str(gs1_check_digit(gtin13))
        if scheme == "sgtin":
            return [f"{stem}/01/{gtin_like}/21/%"]
        if scheme == "upui":
            return [f"{stem}/01/{gtin_like}/235/%"]
        rest = "".join(f"{p}" for p in concrete[2:4])
        tail = "____"[len(rest) :]
        return [f"{stem}/8006/{gtin_like}{rest}{tail}/21/%"]
    if scheme == "sscc":
        return [f"{stem}/00/_{cp}{'_' * (17 - len(cp))}"]
    if scheme in ("sgln", "pgln", "gsrn", "gsrnp", "gsin", "grai", "gdti", "sgcn"):
        total = {"sgln": 12, "pgln": 12, "gsrn": 17, "gsrnp": 17, "gsin": 16, "grai": 12, "gdti": 12, "sgcn": 12}[
            scheme
        ]
        if len(concrete) >= 2:
            key = _with_check(_fixed(pattern, cp, concrete[1], total, "reference"))
        else:
            key = cp + "_" * (total + 1 - len(cp))
        ai = {
            "sgln": "414",
            "pgln": "417",
            "gsrn": "8018",
            "gsrnp": "8017",
            "gsin": "402",
            "grai": "8003",
            "gdti": "253",
            "sgcn": "255",
        }[scheme]
        if scheme == "sgln":
            return [f"{stem}/414/{key}", f"{stem}/414/{key}/254/%"]
        if scheme == "grai":
            return [f"{stem}/8003/0{key}_%"]
        if scheme in ("gdti", "sgcn"):
            return [f"{stem}/{ai}/{key}_%"]
        return [f"{stem}/{ai}/{key}"]
    if scheme in ("giai", "ginc"):
        return [f"{stem}/{'8004' if scheme == 'giai' else '401'}/{cp}_%"]
    if scheme == "cpi":
        if len(concrete) >= 2:
            ref = _text(pattern, concrete[1], "component/part reference")
            from zhuisu.codes.digital_link import escape_path_value

            return [f"{stem}/8010/{escape_path_value(cp + ref)}/8011/%"]
        return [f"{stem}/8010/{cp}%/8011/%"]
    raise _err(pattern, f"unsupported pattern scheme {scheme!r}")  # pragma: no cover


def _all_of_scheme(scheme: str) -> str:
    stem = CANONICAL_STEM
    return {
        "sgtin": f"{stem}/01/______________/21/%",
        "upui": f"{stem}/01/______________/235/%",
        "itip": f"{stem}/8006/__________________/21/%",
        "sscc": f"{stem}/00/%",
        "sgln": f"{stem}/414/%",
        "pgln": f"{stem}/417/%",
        "grai": f"{stem}/8003/%",
        "giai": f"{stem}/8004/%",
        "gsrn": f"{stem}/8018/%",
        "gsrnp": f"{stem}/8017/%",
        "gdti": f"{stem}/253/%",
        "cpi": f"{stem}/8010/%",
        "sgcn": f"{stem}/255/%",
        "ginc": f"{stem}/401/%",
        "gsin": f"{stem}/402/%",
    }[scheme]


def epc_pattern_prefix(pattern: str) -> str | None:
    """A prefix P such that a canonical id matches the EPC pattern exactly when it starts with P.

    None when ``pattern`` is not an EPC pattern URI, and also when no such prefix exists — use
    ``epc_pattern_like`` then. Prefix-expressible: ``sgtin:CP.IR.*`` (→ ``…/01/<GTIN>/21/``),
    ``upui:CP.IR.*``, ``itip:CP.IR.PP.TT.*``, ``cpi:CP.REF.*``, and the all-wildcard ``sscc:*``, ``sgln:*``…
    Not expressible: patterns fixing only the company prefix of a GTIN, SSCC, GLN, GSRN (the GTIN's
    indicator digit comes before the prefix, and check digits after it), and patterns whose wildcard
    stands for a serial glued to the key (GRAI, GDTI, SGCN, GIAI, GINC: the key itself, without serial,
    would also start with the prefix).
    """
    likes = epc_pattern_like(pattern)
    if likes is None or len(likes) != 1:
        return None
    like = likes[0]
    if not like.endswith("%") or "_" in like or like.count("%") != 1:
        return None
    return like[:-1]
