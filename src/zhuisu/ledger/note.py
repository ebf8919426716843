"""C2SP signed notes (签名记录) with Ed25519 keys: https://c2sp.org/signed-note.

Byte-compatible with Go's ``golang.org/x/mod/sumdb/note``: the same key IDs, verifier key strings
(``name+hex(keyid)+base64(0x01‖pubkey)``), private key strings (``PRIVATE+KEY+name+hex(keyid)+
base64(0x01‖seed)``) and signature lines (``— name base64(keyid‖signature)``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01
SIG_PREFIX = "— "  # em dash U+2014 and a space
MAX_SIGNATURES = 100  # Go's limit; the spec asks for at least 16

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_NAME_BAD = re.compile(r"[\s+]")  # Unicode spaces and plus are not allowed in key names
_HEX8 = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A malformed key or note, or a note whose signatures do not verify."""


def check_key_name(name: str) -> None:
    """Key names are non-empty and hold neither Unicode spaces nor '+'."""
    if not name or _NAME_BAD.search(name) or _CONTROL.search(name):
        raise NoteError(f"invalid key name {name!r}: must be non-empty, without spaces or '+'")


def key_id(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc
    if base64.b64encode(raw).decode() != text:  # refuse non-canonical padding bits
        raise NoteError(f"{what} is not canonical base64")
    return raw


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise NoteError(f"Ed25519 public key is {len(self.public_key)} bytes, expected 32")
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))
        object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(self.public_key))

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key string ``name+hex(keyid)+base64(0x01‖pubkey)``."""
        parts = vkey.strip().split("+", 2)  # base64 may itself contain "+"
        if len(parts) != 3:
            raise NoteError("verifier key must have the form name+keyid+base64key")
        name, hex_id, b64 = parts
        if not _HEX8.fullmatch(hex_id):
            raise NoteError("verifier key ID must be 8 lower-case hex digits")
        raw = _b64decode(b64, "verifier public key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("verifier key is not an Ed25519 key (type 0x01 and 32 bytes)")
        verifier = cls(name, raw[1:])
        if verifier.key_id.hex() != hex_id:
            raise NoteError("verifier key ID does not match the name and public key")
        return verifier

    @property
    def vkey(self) -> str:
        """The verifier key string, as published."""
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key that signs notes."""

    name: str
    seed: bytes = field(repr=False)
    verifier: Verifier = field(init=False)
    _key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.seed) != 32:
            raise NoteError(f"Ed25519 private key seed is {len(self.seed)} bytes, expected 32")
        key = Ed25519PrivateKey.from_private_bytes(self.seed)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "verifier", Verifier(self.name, key.public_key().public_bytes_raw()))

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse a private key string ``PRIVATE+KEY+name+hex(keyid)+base64(0x01‖seed)``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise NoteError("private key must have the form PRIVATE+KEY+name+keyid+base64key")
        name, hex_id, b64 = parts[2:]
        if not _HEX8.fullmatch(hex_id):
            raise NoteError("private key ID must be 8 lower-case hex digits")
        raw = _b64decode(b64, "private key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("private key is not an Ed25519 key (type 0x01 and a 32-byte seed)")
        signer = cls(name, raw[1:])
        if signer.key_id.hex() != hex_id:
            raise NoteError("private key ID does not match the name and key")
        return signer

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    @property
    def skey(self) -> str:
        """The private key string (keep it secret)."""
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64}"

    def signature_line(self, text: str) -> str:
        """``— name base64(keyid‖sig)`` over the note text, newline-terminated."""
        sig = self._key.sign(text.encode())
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(self.key_id + sig).decode()}\n"


def check_text(text: str) -> None:
    """A note text is non-empty, ends in a newline and has no control characters but newlines."""
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("note text must not contain control characters other than newline")


def sign(text: str, *signers: Signer) -> str:
    """A signed note: the text, a blank line, one signature line per signer."""
    check_text(text)
    if not signers:
        raise NoteError("a signed note needs at least one signer")
    return text + "\n" + "".join(s.signature_line(text) for s in signers)


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures verified and those from unknown keys."""

    text: str
    verified: tuple[Signature, ...]
    unverified: tuple[Signature, ...]


def parse(message: str | bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and (unverified) signatures, checking the syntax."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("malformed note: not valid UTF-8") from exc
    if _CONTROL.search(message):
        raise NoteError("malformed note: control characters other than newline")
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, sig_block = message[: split + 1], message[split + 2 :]
    if not sig_block.endswith("\n"):
        raise NoteError("malformed note: signature block must end with a newline")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    sigs: list[Signature] = []
    for n, line in enumerate(lines, 1):
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"malformed note: signature line {n} does not start with '— '")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or " " in b64:
            raise NoteError(f"malformed note: signature line {n} is not '— name signature'")
        check_key_name(name)
        raw = _b64decode(b64, f"signature {n}")
        if len(raw) < 5:
            raise NoteError(f"malformed note: signature {n} is too short")
        sigs.append(Signature(name, raw[:4], raw[4:]))
    return text, sigs


def open_note(message: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Verify a signed note against known keys.

    Signatures from unknown keys (name and key ID not both known) are ignored; a bad signature
    from a known key rejects the whole note; at least one known signature must verify.
    """
    text, sigs = parse(message)
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known and known[(v.name, v.key_id)] != v:
            raise NoteError(f"ambiguous key {v.name}+{v.key_id.hex()}")
        known[(v.name, v.key_id)] = v
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, bytes]] = set()
    data = text.encode()
    for sig in sigs:
        found = known.get((sig.name, sig.key_id))
        if found is None:
            unverified.append(sig)
            continue
        if (sig.name, sig.key_id) in seen:  # duplicate signature of one key: checked once
            continue
        seen.add((sig.name, sig.key_id))
        if not found.verify(data, sig.signature):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id.hex()}")
        verified.append(sig)
    if not verified:
        raise NoteError("note has no verifiable signatures from the known keys")
    return Note(text, tuple(verified), tuple(unverified))
