"""GS1 identification keys: check digits, GTIN forms, company prefix length.

GS1 General Specifications §7.9 (mod-10 check digit), §7.9.5 (alphanumeric check pair for GMN/MUDI).
The company-prefix (厂商识别代码) length comes from GS1's GCP length table as shipped with
biip (``biip.gs1_prefixes``), which is built from GS1's ``gcpprefixformatlist.xml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from biip.gs1_prefixes import GS1CompanyPrefix

__all__ = [
    "CSET39",
    "CSET82",
    "GS1KeyError",
    "GtinInfo",
    "check_pair",
    "company_prefix_length",
    "gs1_check_digit",
    "gtin_info",
    "is_valid_mod10",
    "normalize_gtin",
    "validate_key",
]

# GS1 AI encodable character set 82 and set 39 (GS1 General Specifications, figures 7.11-1 and 7.11-2).
CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
CSET39 = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")


class GS1KeyError(ValueError):
    """A GS1 key is malformed; the message names the key and the reason."""


def gs1_check_digit(payload: str) -> int:
    """Mod-10 check digit for ``payload`` (ASCII digits, without the check digit); GS1KeyError otherwise."""
    if not payload.isascii() or not (payload.isdigit() or not payload):
        raise GS1KeyError(f"check digit: {payload!r} must consist of the digits 0-9 only")
    # Weights 3,1,3,… from the right: digit sum + 2 × (sum of the digits at weight 3); bytes sums run in C.
    b = payload.encode("ascii")
    heavy = b[-1::-2]
    return -(sum(b) + 2 * sum(heavy) - 48 * (len(b) + 2 * len(heavy))) % 10


def is_valid_mod10(value: str) -> bool:
    """True when ``value`` is all ASCII digits and its last digit is the GS1 check digit."""
    if len(value) < 2 or not value.isascii() or not value.isdigit():
        return False
    return gs1_check_digit(value[:-1]) == ord(value[-1]) - 48


# Check pair for AI 8013 (GMN) and 8014 (MUDI): GS1 General Specifications §7.9.5.
_CSET82_ORDER = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CSET82_VALUE = {ch: i for i, ch in enumerate(_CSET82_ORDER)}
_CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _first_primes(count: int) -> tuple[int, ...]:
    primes: list[int] = []
    n = 2
    while len(primes) < count:
        if all(n % p for p in primes if p * p <= n):
            primes.append(n)
        n += 1
    return tuple(primes)


# One weight per payload character; 99 covers the longest CSET 82 field of the syntax dictionary.
_PRIMES = _first_primes(99)


def check_pair(payload: str) -> str:
    """The two check characters for ``payload`` (CSET 82 characters), per GS1 GS §7.9.5."""
    n = len(payload)
    if n > len(_PRIMES):
        # The weights are the first primes, one per character; longer payloads have no defined pair.
        raise GS1KeyError(f"check pair: payload of {n} characters is longer than {len(_PRIMES)}")
    total = 0
    for i, ch in enumerate(payload):
        value = _CSET82_VALUE.get(ch)
        if value is None:
            raise GS1KeyError(f"check pair: character {ch!r} is not in GS1 character set 82")
        total += value * _PRIMES[n - 1 - i]
    total %= 1021
    return _CSET32[total >> 5] + _CSET32[total & 31]


def company_prefix_length(digits: str) -> int | None:
    """Length of the GS1 Company Prefix that starts ``digits``, or None when the table has none.

    ``digits`` starts where the company prefix starts (a GTIN-14 without its indicator digit,
    an SSCC without its extension digit, a GLN as it is). None means the prefix is unknown to the
    GS1 table or is not allocated to companies (e.g. restricted circulation numbers, 2xx, 98x, 99x).
    """
    try:
        found = GS1CompanyPrefix.extract(digits)
    except Exception:  # biip raises ParseError for non-digits; we only answer for digits
        return None
    return len(found.value) if found is not None else None


@dataclass(frozen=True, slots=True)
class GtinInfo:
    """A GTIN normalised to 14 digits, with the form it was given in."""

    gtin14: str
    form: str  # the length it was given in: "GTIN-8", "GTIN-12", "GTIN-13", "GTIN-14"
    indicator: str  # first digit of the GTIN-14

    @property
    def gtin_type(self) -> str:
        """The GTIN's type by its significant digits: a GTIN-8 padded to any length stays a GTIN-8.

        In the 14-digit field a GTIN-8 has six leading zeros, a GTIN-12 two, a GTIN-13 one (GTIN-12s that
        start with 00000 are not issued, so the reading is unambiguous).
        """
        g = self.gtin14
        if g.startswith("000000"):
            return "GTIN-8"
        if g.startswith("00"):
            return "GTIN-12"
        return "GTIN-13" if g[0] == "0" else "GTIN-14"


def normalize_gtin(value: str) -> str:
    """GTIN-8/12/13/14 → 14-digit GTIN; raises GS1KeyError naming the reason."""
    return gtin_info(value).gtin14


def gtin_info(value: str) -> GtinInfo:
    """Validate a GTIN-8/12/13/14 (digits and check digit) and describe it."""
    n = len(value)
    if n not in (8, 12, 13, 14):
        raise GS1KeyError(f"GTIN {value!r}: length {n}, expected 8, 12, 13 or 14 digits")
    if not (value.isascii() and value.isdigit()):
        raise GS1KeyError(f"GTIN {value!r}: only digits are allowed")
    expected = gs1_check_digit(value[:-1])
    if expected != ord(value[-1]) - 48:
        raise GS1KeyError(f"GTIN {value!r}: wrong check digit {value[-1]}, expected {expected}")
    gtin14 = value.rjust(14, "0")
    return GtinInfo(gtin14=gtin14, form=f"GTIN-{n}", indicator=gtin14[0])


# Fixed-length numeric keys with a mod-10 check digit, by AI.
_MOD10_KEYS: dict[str, tuple[str, int]] = {
    "00": ("SSCC", 18),
    "01": ("GTIN", 14),
    "02": ("GTIN", 14),
    "03": ("GTIN", 14),
    "402": ("GSIN", 17),
    "410": ("GLN", 13),
    "411": ("GLN", 13),
    "412": ("GLN", 13),
    "413": ("GLN", 13),
    "414": ("GLN", 13),
    "415": ("GLN", 13),
    "416": ("GLN", 13),
    "417": ("GLN", 13),
    "8017": ("GSRN", 18),
    "8018": ("GSRN", 18),
}


def validate_key(kind: str, value: str) -> None:
    """Check a fixed-length GS1 key by name: GTIN (8/12/13/14), SSCC, GLN, GSRN, GSIN."""
    if kind == "GTIN":
        gtin_info(value)
        return
    lengths = {"SSCC": 18, "GLN": 13, "GSRN": 18, "GSIN": 17}
    n = lengths.get(kind)
    if n is None:
        raise GS1KeyError(f"unknown GS1 key kind {kind!r}")
    if len(value) != n or not (value.isascii() and value.isdigit()):
        raise GS1KeyError(f"{kind} {value!r}: expected {n} digits")
    expected = gs1_check_digit(value[:-1])
    if expected != ord(value[-1]) - 48:
        raise GS1KeyError(f"{kind} {value!r}: wrong check digit {value[-1]}, expected {expected}")
