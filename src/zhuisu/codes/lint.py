"""Content linters named by the GS1 Barcode Syntax Dictionary (``csum``, ``yymmd0``, ``iso3166`` …).

Each linter takes one component's data and returns None when it is fine, or a LintError carrying the
GS1 linter error name (``GS1_LINTER_`` prefix dropped), a readable message and the 0-based position of
the offending data. Code lists (ISO 3166, ISO 4217, package types, media types …) come from
``data/gs1-code-lists.json`` (see data/SOURCE.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from zhuisu.codes.gs1 import CSET39, CSET82, check_pair, gs1_check_digit

__all__ = ["LINTERS", "LintError", "first_non_digit", "first_not_cset39", "first_not_cset82", "run"]


@dataclass(frozen=True, slots=True)
class LintError:
    """Why a linter refused a component."""

    code: str
    message: str
    position: int = 0


_DIGITS = frozenset("0123456789")
_DIGIT_STR = "0123456789"
_CSET64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_HEX = frozenset("0123456789ABCDEFabcdef")


def _first_not_in(data: str, allowed: frozenset[str]) -> int:
    for i, ch in enumerate(data):
        if ch not in allowed:
            return i
    return -1


def first_non_digit(data: str) -> int:
    """Index of the first character that is not an ASCII digit, or -1."""
    if data.isascii() and data.isdigit():
        return -1
    return _first_not_in(data, _DIGITS)


def first_not_cset82(data: str) -> int:
    """Index of the first character outside GS1 character set 82, or -1."""
    return _first_not_in(data, CSET82)


def first_not_cset39(data: str) -> int:
    """Index of the first character outside GS1 character set 39, or -1."""
    return _first_not_in(data, CSET39)


def first_not_cset64(data: str) -> int:
    """Index of the first character outside base64url (CSET 64) that is not trailing padding, or -1."""
    stripped = data.rstrip("=")
    return _first_not_in(stripped, _CSET64)


@cache
def _lists() -> dict[str, frozenset[str]]:
    raw = resources.files("zhuisu.codes").joinpath("data/gs1-code-lists.json").read_text("utf-8")
    data = json.loads(raw)
    return {k: frozenset(v) for k, v in data.items() if isinstance(v, list)}


def _non_digit(data: str) -> LintError | None:
    i = first_non_digit(data)
    if i >= 0:
        return LintError("NON_DIGIT_CHARACTER", f"non-digit character {data[i]!r}", i)
    return None


# --- character sets -------------------------------------------------------------------------------


def _csetnumeric(data: str) -> LintError | None:
    return _non_digit(data)


def _cset82(data: str) -> LintError | None:
    i = first_not_cset82(data)
    if i >= 0:
        return LintError("INVALID_CSET82_CHARACTER", f"character {data[i]!r} is not in GS1 CSET 82", i)
    return None


def _cset39(data: str) -> LintError | None:
    i = first_not_cset39(data)
    if i >= 0:
        return LintError("INVALID_CSET39_CHARACTER", f"character {data[i]!r} is not in GS1 CSET 39", i)
    return None


def _cset64(data: str) -> LintError | None:
    stripped = data.rstrip("=")
    pads = len(data) - len(stripped)
    # The syntax dictionary's rule for CSET 64 padding: at most two "=", and only on a value whose
    # full length is a multiple of 3.
    if pads > 2 or (pads and len(data) % 3 != 0):
        return LintError("INVALID_CSET64_PADDING", "invalid base64 padding", len(stripped))
    i = _first_not_in(stripped, _CSET64)
    if i >= 0:
        return LintError("INVALID_CSET64_CHARACTER", f"character {data[i]!r} is not in base64url", i)
    return None


def _pcenc(data: str) -> LintError | None:
    i = data.find("%")
    while i >= 0:
        seq = data[i + 1 : i + 3]
        if len(seq) < 2 or seq[0] not in _HEX or seq[1] not in _HEX:
            return LintError("INVALID_PERCENT_SEQUENCE", f"invalid percent sequence {data[i : i + 3]!r}", i)
        i = data.find("%", i + 3)
    return None


def _hasnondigit(data: str) -> LintError | None:
    if first_non_digit(data) < 0:
        return LintError("REQUIRES_NON_DIGIT_CHARACTER", "at least one non-digit character is required")
    return None


# --- check digits -----------------------------------------------------------------------------------


def _csum(data: str) -> LintError | None:
    if not data:
        return LintError("TOO_SHORT_FOR_CHECK_DIGIT", "no room for a check digit")
    err = _non_digit(data)
    if err:
        return err
    expected = gs1_check_digit(data[:-1])
    if expected != ord(data[-1]) - 48:
        return LintError(
            "INCORRECT_CHECK_DIGIT", f"check digit {data[-1]} is wrong, expected {expected}", len(data) - 1
        )
    return None


def _csumalpha(data: str) -> LintError | None:
    if len(data) < 2:
        return LintError("TOO_SHORT_FOR_CHECK_PAIR", "no room for a check character pair")
    if len(data) > 99:
        return LintError("TOO_LONG_FOR_CHECK_PAIR_IMPLEMENTATION", "too long for a check character pair")
    payload = data[:-2]
    i = first_not_cset82(payload)
    if i >= 0:
        return LintError("INVALID_CSET82_CHARACTER", f"character {payload[i]!r} is not in GS1 CSET 82", i)
    expected = check_pair(payload)
    if expected != data[-2:]:
        return LintError(
            "INCORRECT_CHECK_PAIR", f"check pair {data[-2:]!r} is wrong, expected {expected!r}", len(data) - 2
        )
    return None


def _gcppos(data: str, offset: int) -> LintError | None:
    # A GS1 Company Prefix is at least 4 digits, starting at ``offset``; whether it is allocated is a
    # question for the GCP table, which the structural check does not need.
    gcp = data[offset : offset + 4]
    if len(gcp) < 4:
        # The GS1 linter marks the short prefix itself, or the whole value when nothing of it is there.
        return LintError("TOO_SHORT_FOR_GCP", "too short to hold a GS1 Company Prefix", offset if gcp else 0)
    i = first_non_digit(gcp)
    if i >= 0:
        return LintError("INVALID_GCP_PREFIX", "the GS1 Company Prefix must start with 4 digits", offset + i)
    return None


def _gcppos1(data: str) -> LintError | None:
    return _gcppos(data, 0)


def _gcppos2(data: str) -> LintError | None:
    return _gcppos(data, 1)


# --- dates and times --------------------------------------------------------------------------------

_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _yy_to_year(yy: int) -> int:
    # GS1 General Specifications §7.12: the century is chosen so the year lies within -49/+50 years
    # of the current year; for validating 29 February only leap-ness matters, and for two-digit years
    # every multiple of 4 is a leap year in both candidate centuries except 00 (2000 leap, 2100 not).
    # The GS1 reference linter treats 00 as 2000 (leap); we do the same.
    return 2000 + yy


def _date(data: str, year_digits: int, zero_day_ok: bool) -> LintError | None:
    want = year_digits + 4
    if len(data) < want:
        return LintError("DATE_TOO_SHORT", f"date must have {want} digits")
    if len(data) > want:
        return LintError("DATE_TOO_LONG", f"date must have {want} digits")
    err = _non_digit(data)
    if err:
        return err
    year = int(data[:year_digits])
    if year_digits == 2:
        year = _yy_to_year(year)
    month = int(data[year_digits : year_digits + 2])
    day = int(data[year_digits + 2 :])
    if not 1 <= month <= 12:
        return LintError("ILLEGAL_MONTH", f"month {month:02d} does not exist", year_digits)
    if day == 0 and zero_day_ok:
        return None
    max_day = _MONTH_DAYS[month - 1]
    if month == 2 and not _leap(year):
        max_day = 28
    if not 1 <= day <= max_day:
        return LintError("ILLEGAL_DAY", f"day {day:02d} does not exist in month {month:02d}", year_digits + 2)
    return None


def _fixed_number(data: str, n: int, short: str, long: str, what: str) -> LintError | None:
    if len(data) < n:
        return LintError(short, f"{what} must have {n} digits")
    if len(data) > n:
        return LintError(long, f"{what} must have {n} digits")
    return _non_digit(data)


def _hh(data: str) -> LintError | None:
    err = _fixed_number(data, 2, "HOUR_TOO_SHORT", "HOUR_TOO_LONG", "hour")
    if err:
        return err
    if int(data) > 23:
        return LintError("ILLEGAL_HOUR", f"hour {data} does not exist")
    return None


def _mi(data: str) -> LintError | None:
    err = _fixed_number(data, 2, "MINUTE_TOO_SHORT", "MINUTE_TOO_LONG", "minute")
    if err:
        return err
    if int(data) > 59:
        return LintError("ILLEGAL_MINUTE", f"minute {data} does not exist")
    return None


def _ss(data: str) -> LintError | None:
    err = _fixed_number(data, 2, "SECOND_TOO_SHORT", "SECOND_TOO_LONG", "second")
    if err:
        return err
    if int(data) > 59:
        return LintError("ILLEGAL_SECOND", f"second {data} does not exist")
    return None


def _hhmi(data: str) -> LintError | None:
    err = _fixed_number(data, 4, "HOUR_WITH_MINUTE_TOO_SHORT", "HOUR_WITH_MINUTE_TOO_LONG", "time")
    if err:
        return err
    if int(data[:2]) > 23:
        return LintError("ILLEGAL_HOUR", f"hour {data[:2]} does not exist")
    if int(data[2:]) > 59:
        return LintError("ILLEGAL_MINUTE", f"minute {data[2:]} does not exist", 2)
    return None


# --- codes from lists -------------------------------------------------------------------------------


def _in_list(name: str, code: str, what: str) -> Callable[[str], LintError | None]:
    def linter(data: str) -> LintError | None:
        if data not in _lists()[name]:
            return LintError(code, f"{data!r} is not {what}")
        return None

    return linter


def _iso3166999(data: str) -> LintError | None:
    if data == "999" or data in _lists()["iso3166"]:
        return None
    return LintError("NOT_ISO3166_OR_999", f"{data!r} is not an ISO 3166 numeric country code or 999")


def _iso5218(data: str) -> LintError | None:
    if data in ("0", "1", "2", "9"):
        return None
    return LintError("INVALID_BIOLOGICAL_SEX_CODE", f"{data!r} is not an ISO/IEC 5218 code")


def _importeridx(data: str) -> LintError | None:
    if len(data) != 1:
        return LintError("IMPORTER_IDX_MUST_BE_ONE_CHARACTER", "importer index must be one character")
    ch = data
    if ch.isascii() and (ch.isalnum() or ch in "-_"):
        return None
    return LintError("INVALID_IMPORT_IDX_CHARACTER", f"{ch!r} is not a valid importer index")


# --- small fixed vocabularies ------------------------------------------------------------------------


def _yesno(data: str) -> LintError | None:
    return None if data in ("0", "1") else LintError("NOT_ZERO_OR_ONE", f"{data!r} must be 0 or 1")


def _winding(data: str) -> LintError | None:
    if data in ("0", "1", "9"):
        return None
    return LintError("INVALID_WINDING_DIRECTION", f"{data!r} is not a winding direction (0, 1, 9)")


def _zero(data: str) -> LintError | None:
    return None if data and set(data) == {"0"} else LintError("NOT_ZERO", f"{data!r} must be zero")


def _nonzero(data: str) -> LintError | None:
    err = _non_digit(data)
    if err:
        return err
    if not data or set(data) == {"0"}:
        return LintError("ILLEGAL_ZERO_VALUE", "value must not be zero")
    return None


def _nozeroprefix(data: str) -> LintError | None:
    err = _non_digit(data)
    if err:
        return err
    if data.startswith("0"):
        return LintError("ILLEGAL_ZERO_PREFIX", "value must not start with 0")
    return None


def _hyphen(data: str) -> LintError | None:
    return None if data and set(data) == {"-"} else LintError("NOT_HYPHEN", f"{data!r} must be '-'")


def _pieceoftotal(data: str) -> LintError | None:
    if not data or len(data) % 2:
        return LintError("INVALID_LENGTH_FOR_PIECE_OF_TOTAL", "piece and total need the same even length")
    err = _non_digit(data)
    if err:
        return err
    half = len(data) // 2
    piece, total = int(data[:half]), int(data[half:])
    if piece == 0:
        return LintError("ZERO_PIECE_NUMBER", "piece number must not be zero")
    if total == 0:
        return LintError("ZERO_TOTAL_PIECES", "total pieces must not be zero", half)
    if piece > total:
        return LintError("PIECE_NUMBER_EXCEEDS_TOTAL", f"piece {piece} exceeds total {total}")
    return None


def _posinseqslash(data: str) -> LintError | None:
    parts = data.split("/")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return LintError("POSITION_IN_SEQUENCE_MALFORMED", "expected <position>/<end>")
    pos, end = parts
    if pos.startswith("0"):
        return LintError("ILLEGAL_ZERO_PREFIX", f"position {pos} must not start with 0")
    if end.startswith("0"):
        return LintError("ILLEGAL_ZERO_PREFIX", f"end {end} must not start with 0", len(pos) + 1)
    if int(pos) > int(end):
        return LintError("POSITION_EXCEEDS_END", f"position {pos} exceeds end {end}")
    return None


def _coordinate(data: str, limit: int, what: str) -> LintError | None:
    if len(data) != 10:
        return LintError(f"{what.upper()}_INVALID_LENGTH", f"{what} must have 10 digits")
    err = _non_digit(data)
    if err:
        return err
    if int(data) > limit:
        return LintError(f"INVALID_{what.upper()}", f"{what} {data} is out of range")
    return None


def _latitude(data: str) -> LintError | None:
    return _coordinate(data, 1800000000, "latitude")


def _longitude(data: str) -> LintError | None:
    return _coordinate(data, 3600000000, "longitude")


def _iban(data: str) -> LintError | None:
    # ISO 13616 fixes lengths per country; like the GS1 linter, require more than 10 characters overall.
    if len(data) <= 10:
        return LintError("IBAN_TOO_SHORT", "IBAN is too short")
    if len(data) > 34:
        return LintError("IBAN_TOO_LONG", "IBAN is too long")
    for i, ch in enumerate(data):
        if not (ch.isascii() and (ch.isdigit() or ch.isupper())):
            return LintError("INVALID_IBAN_CHARACTER", f"character {ch!r} is not allowed in an IBAN", i)
    if data[:2] not in _lists()["iso3166alpha2"] and data[:2] != "XK":
        return LintError("ILLEGAL_IBAN_COUNTRY_CODE", f"{data[:2]!r} is not a country code")
    rearranged = data[4:] + data[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    if int(number) % 97 != 1:
        return LintError("INCORRECT_IBAN_CHECKSUM", "IBAN checksum is wrong", 2)
    return None


# --- North American coupon codes (AI 8110 and AI 8112) ------------------------------------------------
# Field layout: "North American Coupon Application Guideline Using GS1 DataBar Expanded Symbols" (AI 8110)
# and "GS1 AI (8112) Coupon Data Specification"; error names and field order as the GS1 Barcode Syntax
# Dictionary's linters ``couponcode`` / ``couponposoffer`` report them. Every field after a VLI (variable
# length indicator) digit has that many digits (plus a fixed offset for company prefixes and serials).


class _Coupon:
    """A cursor over all-digit coupon data; each read returns what it read, or the LintError that stops it."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: str) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)

    def at_end(self) -> bool:
        return self.pos >= self.end

    def peek(self) -> str:
        return self.data[self.pos]

    def missing(self, code: str, what: str) -> LintError:
        return LintError(code, f"coupon data ends before the {what}", 0)

    def vli(self, code_missing: str, code_invalid: str, allowed: str, what: str) -> LintError | int:
        """Read one VLI digit; the caller maps it to a length."""
        if self.at_end():
            return self.missing(code_missing, f"{what} length indicator")
        ch = self.peek()
        if ch not in allowed:
            return LintError(code_invalid, f"{what} length indicator {ch!r} is not one of {allowed}", self.pos)
        self.pos += 1
        return ord(ch) - 48

    def take(self, n: int, code: str, what: str) -> LintError | str:
        """Take ``n`` digits, or report the field as truncated."""
        if self.end - self.pos < n:
            return LintError(code, f"{what} needs {n} digits", self.pos if self.pos < self.end else 0)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def digit(self, code_missing: str, code_invalid: str, allowed: str, what: str) -> LintError | str:
        if self.at_end():
            return self.missing(code_missing, what)
        ch = self.peek()
        if ch not in allowed:
            return LintError(code_invalid, f"{what} {ch!r} is not one of {allowed}", self.pos)
        self.pos += 1
        return ch


def _coupon_take(c: _Coupon, n: int, code: str, what: str) -> LintError | None:
    got = c.take(n, code, what)
    return got if isinstance(got, LintError) else None


def _coupon_gcp(c: _Coupon, n: int, code: str, what: str) -> LintError | None:
    start = c.pos
    got = c.take(n, code, what)
    if isinstance(got, LintError):
        return got
    err = _gcppos(got, 0) if n else None
    if err is not None:
        return LintError(err.code, f"{what}: {err.message}", start)
    return None


def _coupon_purchase(c: _Coupon, nth: str, with_gcp: bool) -> LintError | None:
    """A purchase requirement: VLI + value, requirement code, family code (+ GCP VLI and GCP)."""
    n = c.vli(
        f"COUPON_MISSING_{nth}_PURCHASE_REQUIREMENT_VLI",
        f"COUPON_INVALID_{nth}_PURCHASE_REQUIREMENT_LENGTH",
        "12345",
        "purchase requirement",
    )
    if isinstance(n, LintError):
        return n
    got: LintError | str = c.take(n, f"COUPON_TRUNCATED_{nth}_PURCHASE_REQUIREMENT", "purchase requirement")
    if isinstance(got, LintError):
        return got
    got = c.digit(
        f"COUPON_MISSING_{nth}_PURCHASE_REQUIREMENT_CODE",
        f"COUPON_INVALID_{nth}_PURCHASE_REQUIREMENT_CODE",
        "012349",
        "purchase requirement code",
    )
    if isinstance(got, LintError):
        return got
    got = c.take(3, f"COUPON_TRUNCATED_{nth}_PURCHASE_FAMILY_CODE", "purchase family code")
    if isinstance(got, LintError):
        return got
    if not with_gcp:
        return None
    n = c.vli(
        f"COUPON_MISSING_{nth}_PURCHASE_GCP_VLI",
        f"COUPON_INVALID_{nth}_PURCHASE_GCP_LENGTH",
        "01234569",
        "purchase company prefix",
    )
    if isinstance(n, LintError):
        return n
    # VLI 9: no company prefix of its own (the primary one applies).
    return _coupon_gcp(c, 0 if n == 9 else n + 6, f"COUPON_TRUNCATED_{nth}_PURCHASE_GCP", "purchase company prefix")


def _coupon_date(c: _Coupon, code_short: str, code_invalid: str, what: str) -> LintError | str:
    start = c.pos
    got = c.take(6, code_short, what)
    if isinstance(got, LintError):
        return got
    if _date(got, 2, False) is not None:
        return LintError(code_invalid, f"{what} {got} is not a valid YYMMDD date", start)
    return got


def _couponcode(data: str) -> LintError | None:
    err = _non_digit(data)
    if err:
        return err
    c = _Coupon(data)
    n = c.vli("COUPON_MISSING_GCP_VLI", "COUPON_INVALID_GCP_LENGTH", "0123456", "company prefix")
    if isinstance(n, LintError):
        return n
    e = _coupon_gcp(c, n + 6, "COUPON_TRUNCATED_GCP", "company prefix")
    if e is None:
        e = _coupon_take(c, 6, "COUPON_TRUNCATED_OFFER_CODE", "offer code")
    if e is None:
        n2 = c.vli("COUPON_MISSING_SAVE_VALUE_VLI", "COUPON_INVALID_SAVE_VALUE_LENGTH", "12345", "save value")
        e = n2 if isinstance(n2, LintError) else _coupon_take(c, n2, "COUPON_TRUNCATED_SAVE_VALUE", "save value")
    if e is None:
        e = _coupon_purchase(c, "1ST", with_gcp=False)
    if e:
        return e
    expiry: str | None = None
    # Optional fields, each introduced by its digit, in this order: 1 2 3 4 5 6 9.
    if not c.at_end() and c.peek() == "1":
        c.pos += 1
        got = c.digit(
            "COUPON_MISSING_ADDITIONAL_PURCHASE_RULES_CODE",
            "COUPON_INVALID_ADDITIONAL_PURCHASE_RULES_CODE",
            "0123",
            "additional purchase rules code",
        )
        if isinstance(got, LintError):
            return got
        e = _coupon_purchase(c, "2ND", with_gcp=True)
        if e:
            return e
    if not c.at_end() and c.peek() == "2":
        c.pos += 1
        e = _coupon_purchase(c, "3RD", with_gcp=True)
        if e:
            return e
    if not c.at_end() and c.peek() == "3":
        c.pos += 1
        got = _coupon_date(c, "COUPON_TOO_SHORT_FOR_EXPIRATION_DATE", "COUPON_INVALID_EXIPIRATION_DATE", "expiry")
        if isinstance(got, LintError):
            return got
        expiry = got
    if not c.at_end() and c.peek() == "4":
        c.pos += 1
        start = c.pos
        got = _coupon_date(c, "COUPON_TOO_SHORT_FOR_START_DATE", "COUPON_INVALID_START_DATE", "start date")
        if isinstance(got, LintError):
            return got
        # YYMMDD strings compare like dates within one century window, as the GS1 linter compares them.
        if expiry is not None and got > expiry:
            return LintError("COUPON_EXPIRATION_BEFORE_START", f"expiry {expiry} is before start {got}", start - 8)
    if not c.at_end() and c.peek() == "5":
        c.pos += 1
        n = c.vli("COUPON_MISSING_SERIAL_NUMBER_VLI", "COUPON_MISSING_SERIAL_NUMBER_VLI", _DIGIT_STR, "serial")
        if isinstance(n, LintError):
            return n
        e = _coupon_take(c, n + 6, "COUPON_TRUNCATED_SERIAL_NUMBER", "serial number")
        if e:
            return e
    if not c.at_end() and c.peek() == "6":
        c.pos += 1
        n = c.vli(
            "COUPON_MISSING_RETAILER_GCP_OR_GLN_VLI",
            "COUPON_INVALID_RETAILER_GCP_OR_GLN_LENGTH",
            "1234567",
            "retailer company prefix or GLN",
        )
        if isinstance(n, LintError):
            return n
        e = _coupon_gcp(c, n + 6, "COUPON_TRUNCATED_RETAILER_GCP_OR_GLN", "retailer company prefix or GLN")
        if e:
            return e
    if not c.at_end() and c.peek() == "9":
        c.pos += 1
        for missing, invalid, allowed, what in (
            ("COUPON_MISSING_SAVE_VALUE_CODE", "COUPON_INVALID_SAVE_VALUE_CODE", "01256", "save value code"),
            (
                "COUPON_MISSING_SAVE_VALUE_APPLIES_TO_ITEM",
                "COUPON_INVALID_SAVE_VALUE_APPLIES_TO_ITEM",
                "012",
                "save value applies to item",
            ),
            ("COUPON_MISSING_STORE_COUPON_FLAG", "COUPON_MISSING_STORE_COUPON_FLAG", _DIGIT_STR, "store coupon flag"),
            ("COUPON_MISSING_DONT_MULTIPLY_FLAG", "COUPON_INVALID_DONT_MULTIPLY_FLAG", "01", "don't multiply flag"),
        ):
            got = c.digit(missing, invalid, allowed, what)
            if isinstance(got, LintError):
                return got
    if not c.at_end():
        return LintError("COUPON_EXCESS_DATA", f"unexpected data {data[c.pos :]!r} after the coupon fields", c.pos)
    return None


def _couponposoffer(data: str) -> LintError | None:
    err = _non_digit(data)
    if err:
        return err
    c = _Coupon(data)
    got = c.digit("COUPON_MISSING_FORMAT_CODE", "COUPON_INVALID_FORMAT_CODE", "01", "format code")
    if isinstance(got, LintError):
        return got
    n = c.vli("COUPON_MISSING_FUNDER_VLI", "COUPON_INVALID_FUNDER_LENGTH", "0123456", "funder ID")
    if isinstance(n, LintError):
        return n
    e = _coupon_take(c, n + 6, "COUPON_TRUNCATED_FUNDER", "funder ID")
    if e is None:
        e = _coupon_take(c, 6, "COUPON_TRUNCATED_OFFER_CODE", "offer code")
    if e is None:
        n = c.vli("COUPON_MISSING_SERIAL_NUMBER_VLI", "COUPON_MISSING_SERIAL_NUMBER_VLI", _DIGIT_STR, "serial")
        e = n if isinstance(n, LintError) else _coupon_take(c, n + 6, "COUPON_TRUNCATED_SERIAL_NUMBER", "serial")
    if e:
        return e
    if not c.at_end():
        return LintError("COUPON_EXCESS_DATA", f"unexpected data {data[c.pos :]!r} after the serial number", c.pos)
    return None


LINTERS: dict[str, Callable[[str], LintError | None]] = {
    "csetnumeric": _csetnumeric,
    "cset82": _cset82,
    "cset39": _cset39,
    "cset64": _cset64,
    "pcenc": _pcenc,
    "hasnondigit": _hasnondigit,
    "csum": _csum,
    "csumalpha": _csumalpha,
    "gcppos1": _gcppos1,
    "gcppos2": _gcppos2,
    "yymmdd": lambda d: _date(d, 2, False),
    "yymmd0": lambda d: _date(d, 2, True),
    "yyyymmdd": lambda d: _date(d, 4, False),
    "yyyymmd0": lambda d: _date(d, 4, True),
    "hh": _hh,
    "mi": _mi,
    "ss": _ss,
    "hhmi": _hhmi,
    "iso3166": _in_list("iso3166", "NOT_ISO3166", "an ISO 3166 numeric country code"),
    "iso3166alpha2": _in_list("iso3166alpha2", "NOT_ISO3166_ALPHA2", "an ISO 3166 alpha-2 country code"),
    "iso3166999": _iso3166999,
    "iso4217": _in_list("iso4217", "NOT_ISO4217", "an ISO 4217 numeric currency code"),
    "iso5218": _iso5218,
    "packagetype": _in_list("packagetype", "INVALID_PACKAGE_TYPE", "a PackageTypeCode"),
    "mediatype": _in_list("mediatype", "INVALID_MEDIA_TYPE", "an AIDC media type"),
    "importeridx": _importeridx,
    "yesno": _yesno,
    "winding": _winding,
    "zero": _zero,
    "nonzero": _nonzero,
    "nozeroprefix": _nozeroprefix,
    "hyphen": _hyphen,
    "pieceoftotal": _pieceoftotal,
    "posinseqslash": _posinseqslash,
    "latitude": _latitude,
    "longitude": _longitude,
    "iban": _iban,
    "couponcode": _couponcode,
    "couponposoffer": _couponposoffer,
}


def run(name: str, data: str) -> LintError | None:
    """Run the linter called ``name``; an unknown linter name is a programming error (KeyError)."""
    return LINTERS[name](data)
