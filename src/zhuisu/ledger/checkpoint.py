"""C2SP transparency-log checkpoints (检查点): https://c2sp.org/tlog-checkpoint.

The note text is the origin line, the decimal tree size, the base64 root hash and optional
extension lines; it is published as a signed note (:mod:`zhuisu.ledger.note`) whose key name
matches the origin.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from zhuisu.ledger import note
from zhuisu.ledger.merkle import HASH_SIZE

_SIZE = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(ValueError):
    """A checkpoint whose text or signature is not acceptable."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("checkpoint origin must be a non-empty single line")
        if self.size < 0:
            raise CheckpointError(f"checkpoint tree size {self.size} is negative")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root hash is {len(self.root)} bytes, expected {HASH_SIZE}")
        for ext in self.extensions:
            if not ext or "\n" in ext:
                raise CheckpointError("checkpoint extension lines must be non-empty single lines")

    def text(self) -> str:
        """The note text, newline-terminated."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    def sign(self, *signers: note.Signer) -> str:
        """The checkpoint as a signed note."""
        return note.sign(self.text(), *signers)

    @classmethod
    def parse_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (without signatures)."""
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("checkpoint text needs an origin, a tree size and a root hash line")
        origin, size, root_b64, *extensions = lines
        if not origin:
            raise CheckpointError("checkpoint origin line is empty")
        if not _SIZE.fullmatch(size):
            raise CheckpointError(f"checkpoint tree size {size!r} is not a decimal without leading zeros")
        try:
            root = base64.b64decode(root_b64.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise CheckpointError("checkpoint root hash is not valid base64") from exc
        if len(root) != HASH_SIZE or base64.b64encode(root).decode() != root_b64:
            raise CheckpointError("checkpoint root hash is not the base64 of 32 bytes")
        return cls(origin, int(size), root, tuple(extensions))


def open_checkpoint(signed: str | bytes, verifiers: Iterable[note.Verifier], origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and parse it.

    ``origin`` (when given) must match the first line, so that a checkpoint from another log
    signed with the same key is not taken for this one.
    """
    try:
        opened = note.open_note(signed, verifiers)
    except note.NoteError as exc:
        raise CheckpointError(f"checkpoint signature: {exc}") from exc
    cp = Checkpoint.parse_text(opened.text)
    if origin is not None and cp.origin != origin:
        raise CheckpointError(f"checkpoint origin {cp.origin!r} is not the expected {origin!r}")
    return cp
