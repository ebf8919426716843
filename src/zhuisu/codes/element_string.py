"""GS1 element strings (GS1 元素串): bracketed, FNC1 and scanner (symbology identifier) forms.

- bracketed (human readable): ``(01)09520123456788(10)ABC`` — a literal "(" in data is written "\\(";
- FNC1 form as the GS1 Syntax Engine writes it: ``^0109520123456788^10ABC`` (``^`` = FNC1);
- scanner output: a symbology identifier (``]C1`` GS1-128, ``]e0`` GS1 DataBar, ``]d2`` GS1 DataMatrix,
  ``]Q3`` GS1 QR Code, ``]J1`` GS1 DotCode) followed by the data with GS (0x1D) as separator.
  ``]d1``/``]Q1``/``]J0`` carry plain data (often a Digital Link URI), returned as ``plain``.

Every value is checked against the syntax dictionary; duplicate AIs with different values and the
dictionary's pairing rules (req/ex) are refused, naming the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from zhuisu.codes.ai import AIValueError, check_ai_value, check_pairings, dl_primary_keys, get_ai, match_ai_prefix
from zhuisu.codes.digital_link import canonical_from_ais, element_string_unbracketed, escape_path_value
from zhuisu.codes.errors import IdentifierError
from zhuisu.codes.gs1 import gs1_check_digit

__all__ = ["SYMBOLOGIES", "ElementString", "ScanData", "parse_element_string", "parse_scan_data"]

GS = "\x1d"

# Symbology identifiers (ISO/IEC 15424) whose data is GS1 AI element strings, and the plain-data ones.
SYMBOLOGIES: dict[str, tuple[str, bool]] = {
    "]C1": ("GS1-128", True),
    "]e0": ("GS1 DataBar", True),
    "]d2": ("DataMatrix", True),
    "]Q3": ("QR", True),
    "]J1": ("DotCode", True),
    "]d1": ("DataMatrix", False),
    "]Q1": ("QR", False),
    "]J0": ("DotCode", False),
    "]E0": ("EAN-13", False),
    "]E4": ("EAN-8", False),
}


@dataclass(frozen=True, slots=True)
class ElementString:
    """Parsed GS1 AI data."""

    ais: tuple[tuple[str, str], ...]

    def bracketed(self) -> str:
        return "".join(f"({ai}){value.replace('(', chr(92) + '(')}" for ai, value in self.ais)

    def unbracketed(self) -> str:
        return element_string_unbracketed(self.ais)

    def get(self, ai: str) -> str | None:
        for a, v in self.ais:
            if a == ai:
                return v
        return None

    def digital_link(self, *, with_attributes: bool = True) -> str:
        """Canonical GS1 Digital Link URI for the primary key in this data (IdentifierError if none)."""
        present = dict(self.ais)
        keys = [ai for ai, _ in self.ais if ai in dl_primary_keys()]
        if not keys:
            raise IdentifierError(f"element string {self.bracketed()!r}: no GS1 Digital Link primary key AI")
        key_ai = keys[0]
        entry = dl_primary_keys()[key_ai]
        assert entry.dlpkey is not None
        best: tuple[str, ...] = ()
        for seq in entry.dlpkey:
            used = tuple(q for q in seq if q in present)
            if len(used) > len(best):
                best = used
        qualifiers = tuple((q, present[q]) for q in best)
        uri = canonical_from_ais((key_ai, present[key_ai]), qualifiers)
        if with_attributes:
            used_ais = {key_ai, *best}
            attrs = []
            for ai, value in self.ais:
                e = get_ai(ai)
                if ai not in used_ais and e is not None and e.dl_data_attribute:
                    attrs.append(f"{ai}={escape_path_value(value)}")
            if attrs:
                uri += "?" + "&".join(attrs)
        return uri


@dataclass(frozen=True, slots=True)
class ScanData:
    """Scanner output: the symbology and either GS1 AI data or plain data."""

    symbology_id: str
    symbology: str
    element_string: ElementString | None
    plain: str | None


def _fail(text: str, reason: str) -> IdentifierError:
    return IdentifierError(f"GS1 element string {text!r}: {reason}")


def _finish(text: str, pairs: list[tuple[str, str]], check_ai_pairings: bool) -> ElementString:
    if not pairs:
        raise _fail(text, "no AI data")
    seen: dict[str, str] = {}
    for ai, value in pairs:
        if ai in seen and seen[ai] != value:
            raise _fail(text, f"AI ({ai}) appears twice with different values")
        seen[ai] = value
        try:
            check_ai_value(ai, value)
        except AIValueError as exc:
            raise _fail(text, str(exc)) from exc
    if check_ai_pairings:
        problems = check_pairings([ai for ai, _ in pairs])
        if problems:
            raise _fail(text, "; ".join(problems))
    return ElementString(ais=tuple(dict.fromkeys(pairs)))


def _parse_bracketed(text: str, check_ai_pairings: bool) -> ElementString:
    pairs: list[tuple[str, str]] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i] != "(":
            raise _fail(text, f"expected '(' at position {i + 1}")
        close = text.find(")", i + 1)
        if close < 0:
            raise _fail(text, "unclosed '('")
        ai = text[i + 1 : close]
        if get_ai(ai) is None:
            raise _fail(text, f"unknown AI ({ai})")
        j = close + 1
        value_chars: list[str] = []
        while j < n and text[j] != "(":
            if text[j] == "\\" and j + 1 < n and text[j + 1] == "(":
                value_chars.append("(")
                j += 2
                continue
            value_chars.append(text[j])
            j += 1
        pairs.append((ai, "".join(value_chars)))
        i = j
    return _finish(text, pairs, check_ai_pairings)


def _parse_fnc1(text: str, data: str, separators: str, check_ai_pairings: bool) -> ElementString:
    pairs: list[tuple[str, str]] = []
    i = 0
    n = len(data)
    while i < n:
        if data[i] in separators:
            i += 1  # a separator right after a predefined-length AI, or at the end, is harmless
            continue
        entry = match_ai_prefix(data, i)
        if entry is None:
            raise _fail(text, f"no known AI at {data[i : i + 4]!r}")
        start = i + len(entry.ai)
        if not entry.fnc1_required:
            end = start + entry.max_length
            value = data[start:end]
            if len(value) < entry.max_length or any(c in separators for c in value):
                raise _fail(text, f"AI ({entry.ai}) needs {entry.max_length} characters")
        else:
            end = start
            while end < n and data[end] not in separators:
                end += 1
            value = data[start:end]
        pairs.append((entry.ai, value))
        i = end
    return _finish(text, pairs, check_ai_pairings)


def parse_element_string(text: str, *, check_ai_pairings: bool = True) -> ElementString:
    """Parse bracketed ``(01)…``, FNC1 ``^01…`` or GS-separated ``01…\\x1d10…`` element strings."""
    if not text:
        raise _fail(text, "empty")
    if text.startswith("("):
        return _parse_bracketed(text, check_ai_pairings)
    if text.startswith("^"):
        return _parse_fnc1(text, text[1:], "^", check_ai_pairings)
    if text.startswith("]"):
        scan = parse_scan_data(text, check_ai_pairings=check_ai_pairings)
        if scan.element_string is None:
            raise _fail(text, f"symbology {scan.symbology_id} carries plain data, not GS1 AI data")
        return scan.element_string
    if text[0].isdigit():
        return _parse_fnc1(text, text, GS, check_ai_pairings)
    raise _fail(text, "not a bracketed, FNC1 or scanner element string")


def _parse_ean(text: str, sym_id: str, name: str, data: str, check_ai_pairings: bool) -> ScanData:
    """EAN-13/UPC-A (]E0) or EAN-8 (]E4), optionally with a GS1 Composite part after "|]e0"."""
    primary, bar, composite = data.partition("|")
    want = 13 if sym_id == "]E0" else 8
    if len(primary) != want or not (primary.isascii() and primary.isdigit()):
        raise IdentifierError(f"scan data {text!r}: {name} needs {want} digits")
    if gs1_check_digit(primary[:-1]) != ord(primary[-1]) - 48:
        raise IdentifierError(f"scan data {text!r}: wrong check digit in {primary!r}")
    cc: ElementString | None = None
    if bar:
        if not composite.startswith("]e0"):
            raise IdentifierError(f"scan data {text!r}: a composite component must start with ]e0")
        cc = _parse_fnc1(text, composite[3:], GS, check_ai_pairings)
    return ScanData(symbology_id=sym_id, symbology=name, element_string=cc, plain=primary)


def parse_scan_data(text: str, *, check_ai_pairings: bool = True) -> ScanData:
    """Parse scanner output that starts with a symbology identifier (``]d2…``, ``]Q1https://…``)."""
    sym_id = text[:3]
    found = SYMBOLOGIES.get(sym_id)
    if found is None:
        raise IdentifierError(f"scan data {text!r}: unknown or missing symbology identifier {sym_id!r}")
    name, is_gs1 = found
    data = text[3:]
    if sym_id in ("]E0", "]E4"):
        return _parse_ean(text, sym_id, name, data, check_ai_pairings)
    if not is_gs1:
        return ScanData(symbology_id=sym_id, symbology=name, element_string=None, plain=data)
    if not data:
        raise _fail(text, "no AI data after the symbology identifier")
    return ScanData(
        symbology_id=sym_id,
        symbology=name,
        element_string=_parse_fnc1(text, data, GS, check_ai_pairings),
        plain=None,
    )
