"""Trace codes the platform issues itself: 一物一码 (one code per item, ``serial``) and 一批一码 (one code per lot,
``lot``). Plain Python — no SQL, no HTTP; ``zhuisu.store.codes`` stores what this module draws.

Two forms, chosen by the product:

GS1 Digital Link (the product has a GTIN)
    ``<resolver base>/01/<GTIN-14>/21/<serial>`` for an item, ``<resolver base>/01/<GTIN-14>/10/<lot>`` for a lot,
    on the platform's own resolver domain (``Settings.resolver_base``, env ``ZHUISU_RESOLVER_BASE``). The serial
    is 12 random characters of the Crockford base-32 alphabet (digits and upper-case letters without I, L, O,
    U) — inside the AI (21) character set, URI-safe, and unpredictable as GS1 recommends for serialised
    medicines. A lot drawn by the platform has the same shape; a lot given by the enterprise is used as given
    (AI (10) rules apply). An item code does not carry its lot (an SGTIN is GTIN + serial only); the lot is stored
    beside it. The human-readable text is the GS1 element string, ``(01)…(21)…``.

Platform code (the product has no GTIN)
    ``<party code>-<kind letter><random part><check character>``, e.g. ``N3713020000001X-S7K9F2M4X8A1ZQ``: the
    party code (主体码) of the product's owner, ``S`` (serial, 一物一码) or ``L`` (lot, 一批一码), 12 random
    Crockford base-32 characters and one check character. The label's QR code carries it as a URL on the
    resolver, ``<resolver base>/t/<platform code>``; the text under the label is the bare platform code.

    Check character: ISO/IEC 7064 hybrid system MOD 37,36 (python-stdnum ``iso7064.mod_37_36``, the system
    the registry uses for party codes) over every character but the hyphen. It is one character from 0-9A-Z,
    so the code stays alphanumeric; it detects every single-character substitution and every transposition
    of adjacent characters, so a mistyped code is refused before any lookup.

Unguessable (EU falsified-medicines rule, Delegated Regulation (EU) 2016/161 art. 4(b): the probability of
guessing a serial must be below 1 in 10,000)
    Random parts come from ``secrets`` (the operating system's CSPRNG): 12 characters of a 32-letter alphabet
    are 60 bits, 32^12 = 1,152,921,504,606,846,976 ≈ 1.15·10^18 values. One guess hits one given issued code
    with probability 1 / 32^12 ≈ 8.7·10^-19 and hits *any* of n issued codes of the same product (or party and
    kind) with probability n / 32^12: even with a billion codes issued that is 8.7·10^-10, seven orders of
    magnitude below 10^-4. The check character adds nothing to that secrecy (anyone can compute it); it only
    catches typing errors. See ``guess_probability``.

Codes are never issued twice: the store keeps a unique index on each code's canonical form and draws again
on the (astronomically rare) collision; see ``zhuisu.store.codes``.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any, Literal, Protocol

from stdnum.iso7064 import mod_37_36

from zhuisu.access.principal import Principal
from zhuisu.codes.ai import AIValueError, check_ai_value
from zhuisu.codes.digital_link import escape_path_value
from zhuisu.codes.errors import IdentifierError
from zhuisu.codes.gs1 import GS1KeyError, gtin_info

__all__ = [
    "ALPHABET",
    "KINDS",
    "RANDOM_LENGTH",
    "CodeKind",
    "CodeSpec",
    "IssueBatch",
    "IssueError",
    "IssuedCode",
    "PlatformCode",
    "ProductLike",
    "canonical_code",
    "check_character",
    "draw_random_parts",
    "generate_codes",
    "guess_probability",
    "may_issue",
    "parse_platform_code",
    "platform_code",
]

CodeKind = Literal["serial", "lot"]
KINDS: tuple[str, ...] = ("serial", "lot")
KIND_LETTER = {"serial": "S", "lot": "L"}
LETTER_KIND = {"S": "serial", "L": "lot"}

# Crockford base 32: no I, L, O, U (nothing to misread as 1, 0 or V, no accidental words).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 12
_ISO_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # ISO 7064 MOD 37,36 character values 0..35
_PARTY_RE = re.compile(r"[0-9A-Z]{1,40}")
PLATFORM_CODE_RE = re.compile(r"([0-9A-Z]{1,40})-([SL])([0-9A-HJKMNP-TV-Z]{12})([0-9A-Z])")
# RFC 4648 base-32 alphabet → Crockford, so base64.b32encode (C speed) yields Crockford text.
_B32_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())
# Typed-in look-alikes a reader may enter for Crockford characters.
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})


class IssueError(ValueError):
    """A request to issue codes that cannot be met; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ProductLike(Protocol):
    """What issuing needs of a product (``zhuisu.registry.model.Product`` has it)."""

    @property
    def product_id(self) -> str: ...
    @property
    def party_code(self) -> str: ...
    @property
    def gtin(self) -> str | None: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """One issued code. ``code`` is exactly what the label's QR code carries (a URL on the resolver);
    ``canonical`` is the identity the store keeps unique and looks codes up by: the GS1 canonical Digital Link
    (``https://id.gs1.org/01/…/21/…``) or the bare platform code."""

    code: str
    kind: str
    product_id: str
    party_code: str
    lot: str | None
    serial: str | None
    canonical: str
    batch_id: int | None = None
    issued_at: int | None = None  # microseconds since the epoch, UTC

    @property
    def is_gs1(self) -> bool:
        return self.canonical.startswith("https://id.gs1.org/")

    @property
    def human_readable(self) -> str:
        """The text printed under the symbol: the GS1 element string, or the bare platform code."""
        if self.is_gs1:
            gtin = self.canonical.split("/")[4]
            if self.kind == "serial":
                return f"(01){gtin}(21){self.serial}"
            return f"(01){gtin}(10){self.lot}"
        return self.canonical

    @property
    def element_string(self) -> str | None:
        """GS1 element string for a GS1 DataMatrix (``None`` for platform codes)."""
        return self.human_readable if self.is_gs1 else None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["human_readable"] = self.human_readable
        return d


@dataclass(frozen=True, slots=True)
class IssueBatch:
    """One issuing request (发码批次): who issued how many codes of which product, when."""

    batch_id: int
    product_id: str
    party_code: str
    kind: str
    count: int
    lot: str | None
    issued_at: int  # microseconds since the epoch, UTC
    issued_by: str  # principal subject
    resolver_base: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PlatformCode:
    """A parsed platform code ``<party>-<S|L><random><check>``."""

    code: str
    party_code: str
    kind: str
    random_part: str
    check: str


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """How the codes of one product and kind are made: everything but the random part is fixed."""

    product_id: str
    party_code: str
    kind: str
    gtin14: str | None
    resolver_base: str
    lot: str | None  # given lot (stored with every code); None: lots are drawn (kind "lot") or absent

    def rows(self, parts: list[str]) -> Iterator[tuple[str, str, str | None, str | None]]:
        """``(code, canonical, lot, serial)`` for each random part — the hot loop of issuing, kept lean."""
        base = self.resolver_base
        if self.gtin14 is not None:
            gtin = self.gtin14
            if self.kind == "serial":
                stem, canon = f"{base}/01/{gtin}/21/", f"https://id.gs1.org/01/{gtin}/21/"
                lot = self.lot
                for p in parts:
                    yield stem + p, canon + p, lot, p
            elif self.lot is not None:
                lot_path = escape_path_value(self.lot)
                yield f"{base}/01/{gtin}/10/{lot_path}", f"https://id.gs1.org/01/{gtin}/10/{lot_path}", self.lot, None
            else:
                stem, canon = f"{base}/01/{gtin}/10/", f"https://id.gs1.org/01/{gtin}/10/"
                for p in parts:
                    yield stem + p, canon + p, p, None
            return
        letter = KIND_LETTER[self.kind]
        prefix = f"{self.party_code}-{letter}"
        state = _state_after(self.party_code + letter)
        url = f"{base}/t/"
        steps = _STEPS
        finals = _FINAL_CHECK
        for p in parts:
            s = state
            for ch in p:
                s = steps[s][ch]
            short = prefix + p + finals[s]
            if self.kind == "serial":
                yield url + short, short, self.lot, p
            else:
                yield url + short, short, self.lot if self.lot is not None else p, None

    @property
    def fixed(self) -> bool:
        """True when every code of the spec is the same (a lot code for a given lot): only one can exist."""
        return self.gtin14 is not None and self.kind == "lot" and self.lot is not None

    def code(self, part: str, *, batch_id: int | None = None, issued_at: int | None = None) -> IssuedCode:
        code, canonical, lot, serial = next(self.rows([part]))
        return IssuedCode(
            code=code,
            kind=self.kind,
            product_id=self.product_id,
            party_code=self.party_code,
            lot=lot,
            serial=serial,
            canonical=canonical,
            batch_id=batch_id,
            issued_at=issued_at,
        )


# --- ISO/IEC 7064 MOD 37,36 -------------------------------------------------------------------------------


def _step(state: int, value: int) -> int:
    return (((state or 36) * 2) % 37 + value) % 36


# _STEPS[state][char] → next state, for every character a code may contain.
_STEPS: list[dict[str, int]] = [{ch: _step(s, v) for v, ch in enumerate(_ISO_ALPHABET)} for s in range(36)]
# The check character that, appended in state s, makes the checksum 1 (stdnum's calc_check_digit).
_FINAL_CHECK: list[str] = [_ISO_ALPHABET[(1 - ((s or 36) * 2) % 37) % 36] for s in range(36)]


def _state_after(text: str) -> int:
    state = 18  # ISO 7064 hybrid: start with M/2
    for ch in text:
        state = _STEPS[state][ch]
    return state


def check_character(body: str) -> str:
    """ISO/IEC 7064 MOD 37,36 check character of ``body`` (characters 0-9A-Z), as stdnum computes it.

    >>> check_character("A12425GABC1234002")
    'M'
    """
    return _FINAL_CHECK[_state_after(body)]


# --- random parts -----------------------------------------------------------------------------------------


def draw_random_parts(count: int) -> list[str]:
    """``count`` independent random 12-character Crockford base-32 strings from the OS CSPRNG.

    15 random bytes are 120 bits = 24 base-32 characters = two parts; encoding many at once stays in C."""
    if count <= 0:
        return []
    n_bytes = ((count + 1) // 2) * 15
    text = base64.b32encode(secrets.token_bytes(n_bytes)).translate(_B32_TO_CROCKFORD).decode("ascii")
    return [text[i : i + RANDOM_LENGTH] for i in range(0, count * RANDOM_LENGTH, RANDOM_LENGTH)]


def guess_probability(issued: int = 1) -> Fraction:
    """Chance that one random guess of a random part matches one of ``issued`` codes: issued / 32^12."""
    return Fraction(issued, len(ALPHABET) ** RANDOM_LENGTH)


# --- building codes ---------------------------------------------------------------------------------------


def _resolver_base(base: str) -> str:
    b = base.strip().rstrip("/")
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(?:/[A-Za-z0-9._~\-/]*)?", b):
        raise IssueError("resolver_base", f"resolver base {base!r} is not an http(s) URL without query")
    return b


def make_spec(product: ProductLike, kind: str, *, resolver_base: str, lot: str | None = None) -> CodeSpec:
    """Check the request and fix the shape of its codes; raises IssueError naming the field at fault."""
    if kind not in KINDS:
        raise IssueError("kind", f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    party = product.party_code
    gtin14: str | None = None
    if product.gtin:
        try:
            gtin14 = gtin_info(product.gtin).gtin14
        except (GS1KeyError, IdentifierError) as exc:
            raise IssueError("product_id", f"the product's GTIN {product.gtin!r} is not valid: {exc}") from exc
    elif not _PARTY_RE.fullmatch(party or ""):
        raise IssueError("product_id", f"party code {party!r} cannot prefix a platform code (0-9, A-Z only)")
    if lot is not None:
        if lot == "":
            raise IssueError("lot", "lot must not be empty")
        try:
            check_ai_value("10", lot)  # AI (10): up to 20 characters of GS1 character set 82
        except (AIValueError, IdentifierError) as exc:
            raise IssueError("lot", f"lot {lot!r} is not a valid batch/lot number (AI 10): {exc}") from exc
    return CodeSpec(
        product_id=product.product_id,
        party_code=party,
        kind=kind,
        gtin14=gtin14,
        resolver_base=_resolver_base(resolver_base),
        lot=lot,
    )


def check_count(spec: CodeSpec, count: int, limit: int) -> None:
    if count < 1:
        raise IssueError("count", f"count must be at least 1, got {count}")
    if count > limit:
        raise IssueError("count", f"count must be at most {limit:,}, got {count:,}")
    if spec.kind == "lot" and spec.lot is not None and count != 1:
        raise IssueError("count", "a given lot has exactly one lot code: count must be 1 (omit lot to draw lots)")


def generate_codes(
    product: ProductLike,
    kind: str,
    count: int,
    *,
    resolver_base: str,
    lot: str | None = None,
    draw: Callable[[int], list[str]] = draw_random_parts,
) -> list[IssuedCode]:
    """Codes for ``product`` without storing them (the store's ``issue_codes`` makes them unique and keeps them)."""
    spec = make_spec(product, kind, resolver_base=resolver_base, lot=lot)
    check_count(spec, count, 10**7)
    return [
        IssuedCode(code, spec.kind, spec.product_id, spec.party_code, lot_, serial, canonical)
        for code, canonical, lot_, serial in spec.rows(draw(count))
    ]


def may_issue(principal: Principal, party_code: str) -> bool:
    """Only an administrator or the enterprise owning the product may issue and print its codes."""
    return principal.is_admin or (principal.role == "enterprise" and party_code in principal.parties)


# --- reading codes back -----------------------------------------------------------------------------------


def platform_code(party_code: str, kind: str, random_part: str) -> str:
    """The bare platform code for a party, kind and random part (check character appended)."""
    body = party_code + KIND_LETTER[kind] + random_part
    return f"{party_code}-{KIND_LETTER[kind]}{random_part}{check_character(body)}"


def parse_platform_code(text: str) -> PlatformCode:
    """Parse and verify a bare platform code; raises IdentifierError saying what is wrong.

    Case is ignored, and in the random part the look-alikes I, L and O read as 1, 1 and 0 (Crockford)."""
    s = text.strip().upper()
    m = re.fullmatch(r"([0-9A-Z]{1,40})-([SL])([0-9A-Z]{12})([0-9A-Z])", s)
    if m is None:
        raise IdentifierError(f"{text!r} is not a platform trace code (<party code>-<S|L><12 characters><check>)")
    party, letter, rnd, check = m.groups()
    rnd = rnd.translate(_LOOKALIKES)
    if "U" in rnd:
        raise IdentifierError(f"platform code {text!r}: 'U' is not a character of the random part")
    expected = mod_37_36.calc_check_digit(party + letter + rnd)
    if check != expected:
        raise IdentifierError(f"platform code {text!r}: check character {check} is wrong, expected {expected}")
    return PlatformCode(f"{party}-{letter}{rnd}{check}", party, LETTER_KIND[letter], rnd, check)


def canonical_code(text: str) -> str | None:
    """The canonical form a scanned or typed code is stored under, or None when it cannot be an issued code.

    Accepts what a label yields: the QR code's URL (``…/t/<platform code>`` or a Digital Link on any domain),
    the bare platform code, a GS1 element string (DataMatrix, ``(01)…(21)…``) or an EPC URN."""
    from zhuisu.codes.parse import parse_code  # parse imports this module

    parsed = parse_code(text)
    if not parsed.ok:
        return None
    return parsed.canonical
