"""Platform codes the registry issues, and protection of natural persons' identity numbers.

Party code (主体码)
    ``<kind letter><region, 6 digits><sequence, 7 digits><check character>`` — 15 characters, e.g.
    ``N3713020000001X``. The kind letter follows the policy's three kinds of 主体: ``N`` node (节点: an
    enterprise, farm, market, slaughterhouse …), ``O`` operator (经营者: a stall holder or other individual
    operator inside a node), ``P`` natural person (自然人: a farmer registering without a business). The region
    is the party's GB/T 2260 code at registration (it stays in the code if the party moves). The sequence
    counts per kind letter and region, from 1, and is taken from a counter row under a row lock, so codes are
    unique and never reused (parties are revoked, never deleted). The check character is the ISO 7064 hybrid
    MOD 37,36 system (python-stdnum ``iso7064.mod_37_36``) over the 14 characters
    before it, so a mistyped code is caught before any lookup.

Platform location code (when a location has no GLN)
    ``urn:zhuisu:loc:<party code>.<n>`` — a URI, usable as an EPCIS readPoint / bizLocation as it is.

Platform product code (when a product has no GTIN)
    ``urn:zhuisu:class:<party code>.<n>`` — a URI, usable as an EPCIS epcClass as it is.

Identity numbers (身份证号) of natural persons
    Stored encrypted with AES-256-GCM (``cryptography``) under a key derived by HKDF-SHA256 from the
    platform secret (``ZHUISU_SECRET_KEY``; unset: from the database URL, as query page tokens are), with a
    random 96-bit nonce per value; beside it a keyed hash (HMAC-SHA256 under a second HKDF-derived key) finds
    duplicates without decrypting, and a masked form (first 4 and last 4 characters, ``3701**********1234``)
    is stored for display. Nothing ever returns the clear number through the API; ``IdentityProtector.reveal``
    exists for an administrator's export. Changing the secret makes stored numbers unreadable and
    duplicates undetectable, so deployments must set and keep ``ZHUISU_SECRET_KEY``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from stdnum.iso7064 import mod_37_36

PARTY_CODE_RE = re.compile(r"^[NOP][0-9]{6}[0-9]{7}[0-9A-Z]$")
KIND_LETTERS = {"N": "node (节点)", "O": "operator (经营者)", "P": "natural person (自然人)"}
LOCATION_PREFIX = "urn:zhuisu:loc:"
PRODUCT_PREFIX = "urn:zhuisu:class:"


def party_letter(kind: str, types: tuple[str, ...] | list[str]) -> str:
    """``O`` for stall holders (operators inside a market), ``P`` for other natural persons, else ``N``."""
    if "stall_holder" in types:
        return "O"
    return "P" if kind == "person" else "N"


def make_party_code(letter: str, region: str, sequence: int) -> str:
    if letter not in KIND_LETTERS or len(region) != 6 or not region.isdigit() or not 0 < sequence < 10**7:
        raise ValueError(f"cannot make a party code from {letter!r}, {region!r}, {sequence}")
    body = f"{letter}{region}{sequence:07d}"
    return body + mod_37_36.calc_check_digit(body)


def party_code_problem(code: str) -> str | None:
    """Why ``code`` is not a well-formed party code, or None."""
    if not PARTY_CODE_RE.match(code):
        return "a party code is a kind letter (N, O or P), 6 region digits, 7 sequence digits and a check character"
    if not mod_37_36.is_valid(code):
        return f"check character {code[-1]} is wrong, expected {mod_37_36.calc_check_digit(code[:-1])}"
    return None


def location_code(party_code: str, n: int) -> str:
    return f"{LOCATION_PREFIX}{party_code}.{n}"


def product_code(party_code: str, n: int) -> str:
    return f"{PRODUCT_PREFIX}{party_code}.{n}"


def mask_identity(number: str) -> str:
    """``370102199001011234`` → ``3701**********1234`` (short numbers keep at most a quarter visible)."""
    n = len(number)
    keep = 4 if n >= 12 else max(1, n // 4)
    return number[:keep] + "*" * (n - 2 * keep) + number[-keep:]


class IdentityProtector:
    """Encrypts, hashes and masks identity numbers under keys derived from one secret."""

    def __init__(self, secret: bytes) -> None:
        self._enc = _derive(secret, b"zhuisu registry identity encryption")
        self._mac = _derive(secret, b"zhuisu registry identity hash")

    @classmethod
    def from_settings(cls, secret_key: str | None, db_url: str) -> IdentityProtector:
        """The secret is ``secret_key`` (``ZHUISU_SECRET_KEY``); unset, the database URL."""
        return cls((secret_key or os.environ.get("ZHUISU_SECRET_KEY") or "db:" + db_url).encode())

    def protect(self, number: str) -> tuple[str, str, str]:
        """(ciphertext, keyed hash, masked form) of an identity number (upper-cased first)."""
        number = number.strip().upper()
        nonce = os.urandom(12)
        sealed = AESGCM(self._enc).encrypt(nonce, number.encode(), b"identity")
        return base64.b64encode(nonce + sealed).decode(), self.digest(number), mask_identity(number)

    def digest(self, number: str) -> str:
        return hmac.new(self._mac, number.strip().upper().encode(), hashlib.sha256).hexdigest()

    def reveal(self, ciphertext: str) -> str:
        raw = base64.b64decode(ciphertext)
        return AESGCM(self._enc).decrypt(raw[:12], raw[12:], b"identity").decode()


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"zhuisu", info=info).derive(secret)
