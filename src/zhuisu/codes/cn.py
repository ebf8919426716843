"""Chinese codes: 统一社会信用代码 (GB 32100) with its 组织机构代码 (GB 11714), 行政区划代码 (GB/T 2260),
drug trace codes (药品追溯码 / 码上放心), pesticide label codes (农药标签二维码), veterinary drug codes,
seed label QR content, MA (IDcode) and industrial-internet Handle identifiers.

USCC structure and check character: python-stdnum (``stdnum.cn.uscc``); the embedded organisation code's
GB 11714 check digit is checked here as well (stdnum does not), and the region part against the GB/T 2260
list that python-stdnum ships (``stdnum/cn/loc.dat``, from the Chinese Wikipedia list), with ``100000``
allowed for nationally registered bodies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from stdnum.cn import uscc as _uscc
from stdnum.exceptions import ValidationError

from zhuisu.codes.errors import IdentifierError

__all__ = [
    "CnCode",
    "parse_drug_code",
    "parse_handle",
    "parse_ma",
    "parse_pesticide_code",
    "parse_seed_label",
    "parse_uscc",
    "parse_vet_drug_code",
    "region_name",
]


@dataclass(frozen=True, slots=True)
class CnCode:
    """A checked Chinese code: its scheme name and decoded fields."""

    scheme: str
    value: str
    fields: dict[str, str] = field(default_factory=dict)


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def org_code_check(code8: str) -> str:
    """GB 11714 check character for the first 8 characters of an organisation code."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(code8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


@cache
def _regions() -> dict[str, str]:
    """GB/T 2260 codes → names, from python-stdnum's loc.dat (every code that has existed; a name like
    "[-2010]崇文区" carries the years it was in use)."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text("utf-8")
    out: dict[str, str] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r'\s*(\d+)\s+\w+="([^"]*)"', line)
        if m is None:
            continue
        digits, name = m.groups()
        if not line.startswith(" "):
            province = digits
            out[digits + "0000"] = name
        else:
            out.setdefault(province + digits, name)
    return out


def region_name(code: str) -> str | None:
    """Name of a GB/T 2260 administrative division code (current or historic), or None."""
    if len(code) != 6 or not code.isdigit():
        return None
    return _regions().get(code)


def parse_uscc(text: str) -> CnCode:
    """统一社会信用代码: GB 32100 check character, GB 11714 organisation-code check, GB/T 2260 region."""
    code = text.strip().upper()
    try:
        _uscc.validate(code)
    except ValidationError as exc:
        raise IdentifierError(f"统一社会信用代码 {text!r}: {exc}") from exc
    org = code[8:17]
    expected = org_code_check(org[:8])
    if org[8] != expected:
        raise IdentifierError(
            f"统一社会信用代码 {text!r}: organisation code {org} has check character {org[8]}, expected {expected}"
        )
    region = code[2:8]
    name = "national (全国)" if region == "100000" else region_name(region)
    if name is None:
        raise IdentifierError(f"统一社会信用代码 {text!r}: region {region} is not a GB/T 2260 code")
    return CnCode(
        scheme="uscc",
        value=code,
        fields={
            "registration_authority": code[0],
            "organisation_type": code[1],
            "region": region,
            "region_name": name,
            "organisation_code": org,
            "check": code[17],
        },
    )


def parse_region(text: str) -> CnCode:
    name = region_name(text)
    if name is None:
        raise IdentifierError(f"行政区划代码 {text!r}: not in the GB/T 2260 list")
    return CnCode(scheme="cn-region", value=text, fields={"name": name})


def parse_drug_code(text: str) -> CnCode:
    """20-digit drug trace code (药品追溯码): digits, first digit 8 (the rule the NMPA-era platforms apply).

    The split into a 7-digit product identification part, 9-digit serial and 4-digit tail follows
    the layout given in the project's conformance notes; no check digit is defined publicly.
    """
    if len(text) != 20 or not text.isdigit():
        raise IdentifierError(f"药品追溯码 {text!r}: must be 20 digits")
    if text[0] != "8":
        raise IdentifierError(f"药品追溯码 {text!r}: must start with 8")
    return CnCode(
        scheme="cn-drug",
        value=text,
        fields={"product_identifier": text[:7], "serial": text[7:16], "tail": text[16:]},
    )


def parse_pesticide_code(text: str) -> CnCode:
    """32-digit pesticide label code (农药标签二维码 单元识别代码), per 农业农村部 layout (no check digit)."""
    if len(text) != 32 or not text.isdigit():
        raise IdentifierError(f"农药追溯码 {text!r}: must be 32 digits")
    kinds = {"1": "PD", "2": "WP"}
    if text[0] not in kinds:
        raise IdentifierError(f"农药追溯码 {text!r}: registration class digit must be 1 (PD) or 2 (WP)")
    if text[7] not in "123":
        raise IdentifierError(f"农药追溯码 {text!r}: production type digit must be 1, 2 or 3")
    return CnCode(
        scheme="cn-pesticide",
        value=text,
        fields={
            "registration_class": kinds[text[0]],
            "registration_number_tail": text[1:7],
            "production_type": {"1": "own", "2": "委托加工", "3": "委托分装"}[text[7]],
            "pack_spec": text[8:11],
            "random": text[11:],
        },
    )


def parse_vet_drug_code(text: str) -> CnCode:
    """24-digit veterinary drug trace code (兽药追溯码): length and digits only — no published layout was
    found, so nothing more is checked or decoded."""
    if len(text) != 24 or not text.isdigit():
        raise IdentifierError(f"兽药追溯码 {text!r}: must be 24 digits")
    return CnCode(scheme="cn-vet-drug", value=text, fields={"layout": "unknown (length and digits only)"})


_SEED_KEYS = {"品种名称", "生产经营者名称", "单元识别代码", "追溯网址", "品种审定编号", "生产经营许可证编号"}
_SEED_LINE_RE = re.compile(r"[\r\n;；]+")
_SEED_FIELD_RE = re.compile(r"\s*([^:：]+?)\s*[:：]\s*(.*?)\s*")


def parse_seed_label(text: str) -> CnCode:
    """Seed label QR content (种子标签二维码): lines of ``名称：值``; recognised by its field names."""
    fields: dict[str, str] = {}
    for line in _SEED_LINE_RE.split(text):
        m = _SEED_FIELD_RE.fullmatch(line)
        if m is not None and m.group(2):
            fields[m.group(1)] = m.group(2)
    if not (_SEED_KEYS & set(fields)):
        raise IdentifierError("种子标签: none of the label fields (品种名称, 单元识别代码, 追溯网址 …) found")
    return CnCode(scheme="cn-seed", value=text, fields=fields)


# MA (IDcode, ISO/IEC 15459 issuing agency code "MA"): MA.<country>.<sector>.<organisation>, then the
# product class and production-information segments (S serial, M/P production date, L lot, E expiry, V,
# D …, C check), dot-separated; "/" introduces an object identifier. The check character is assigned by
# the issuing platform (its algorithm is not published), so it is not verified here.
_MA_RE = re.compile(r"MA\.([0-9]{3})\.([0-9A-Z]{1,4})\.([0-9]{1,12})((?:\.[^./\s]+)*)(?:/(\S+))?", re.I)


def parse_ma(text: str) -> CnCode:
    """MA 码 (IDcode): ``MA.<country, 156 = China>.<sector>.<organisation>[.<class>[.<PI>…]][/<object>]``."""
    s = text.strip()
    m = _MA_RE.fullmatch(s)
    if m is None:
        raise IdentifierError(
            f"MA 码 {text!r}: expected MA.<3-digit country>.<sector>.<organisation code>[.<segments>][/<object>]"
        )
    country, sector, organisation, rest, obj = m.groups()
    fields = {"country": country, "sector": sector.upper(), "organisation": organisation}
    segments = rest[1:].split(".") if rest else []
    if segments:
        fields["class"] = segments[0]
    if len(segments) > 1:
        fields["production_information"] = ".".join(segments[1:])
    if obj:
        fields["object"] = obj
    return CnCode(scheme="ma", value=s, fields=fields)


_HANDLE_RE = re.compile(r"(88\.\d+(?:\.\d+)*)/(\S+)")


def parse_handle(text: str) -> CnCode:
    """Industrial-internet identifier (工业互联网标识, Handle): ``88.<secondary node>…/<suffix>``."""
    m = _HANDLE_RE.fullmatch(text.strip())
    if m is None:
        raise IdentifierError(f"工业互联网标识 {text!r}: expected 88.<node>/<suffix>")
    return CnCode(scheme="handle", value=text.strip(), fields={"prefix": m.group(1), "suffix": m.group(2)})
