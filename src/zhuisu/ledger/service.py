"""What the ledger answers (账本服务), as plain values, and how an outsider checks those answers.

The store (:mod:`zhuisu.store.ledger`) produces these values; the API renders them as JSON; the
``zhuisu ledger verify`` command and other platforms check them with :func:`check_inclusion` and
:func:`check_consistency`, trusting nothing but the verifier key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zhuisu.ledger import merkle, note
from zhuisu.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint

_NI = re.compile(r"ni:///sha-256;([0-9a-f]{64})(?:\?.*)?")


class LedgerError(ValueError):
    """A ledger request that cannot be answered (bad parameters or state)."""


class LedgerIntegrityError(LedgerError):
    """The stored log contradicts what was signed: nothing more is signed until it is audited."""


class UnknownEvent(LedgerError):
    """No stored event, or no log entry, for the given event ID."""


class VerificationError(ValueError):
    """Evidence that does not hold up: the message says which check failed."""


def hash_bytes_from_uri(uri: str) -> bytes:
    """The 32 digest bytes of a CBV event hash URI ``ni:///sha-256;<hex>?ver=CBV2.0``."""
    m = _NI.fullmatch(uri)
    if not m:
        raise ValueError(f"not a sha-256 ni: event hash URI: {uri!r}")
    return bytes.fromhex(m.group(1))


def hash_uri(digest: bytes) -> str:
    return f"ni:///sha-256;{digest.hex()}?ver=CBV2.0"


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Where an event sits in the log and the audit path to the root of a tree that contains it."""

    event_id: str
    seq: int
    leaf_index: int
    tree_size: int
    event_hash: bytes  # the leaf input: the event's CBV 2.0 sha-256 hash
    audit_path: tuple[bytes, ...]

    @property
    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.event_hash)

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_hash": hash_uri(self.event_hash),
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "audit_path": [h.hex() for h in self.audit_path],
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """For the trace page: an event's log position, the signed checkpoint including it, the proof."""

    proof: InclusionProof
    checkpoint: str  # signed note of a tree that includes the event

    def as_json(self) -> dict[str, Any]:
        return {**self.proof.as_json(), "checkpoint": self.checkpoint}


@dataclass(frozen=True, slots=True)
class VerifiedInclusion:
    checkpoint: Checkpoint
    leaf_index: int
    event_hash: bytes


def hex_hashes(values: Any, what: str) -> list[bytes]:
    """A JSON list of hex strings as bytes, or :class:`VerificationError` naming ``what``."""
    if not isinstance(values, list):
        raise VerificationError(f"{what} must be a list of hex strings")
    try:
        return [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise VerificationError(f"{what} holds something that is not hex") from exc


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise VerificationError(f"{what} must be a non-negative integer")
    return value


def check_inclusion(
    event: Mapping[str, Any] | None,
    answer: Mapping[str, Any],
    signed_checkpoint: str,
    verifiers: Sequence[note.Verifier],
    rehash: Callable[[Mapping[str, Any]], bytes],
    origin: str | None = None,
) -> VerifiedInclusion:
    """Check an inclusion answer (:meth:`InclusionProof.as_json`) from the outside.

    1. the checkpoint's signature verifies with a trusted key (and its origin, when given);
    2. the event content (when given) hashes to the logged event hash;
    3. the audit path leads from that leaf to the checkpoint's root at the checkpoint's size.
    """
    try:
        cp = open_checkpoint(signed_checkpoint, verifiers, origin)
    except CheckpointError as exc:
        raise VerificationError(str(exc)) from exc
    try:
        logged = hash_bytes_from_uri(str(answer.get("event_hash", "")))
    except ValueError as exc:
        raise VerificationError(f"answer event_hash: {exc}") from exc
    if event is not None:
        try:
            recomputed = rehash(event)
        except (ValueError, KeyError, TypeError) as exc:
            raise VerificationError(f"cannot compute the event's hash from its content: {exc}") from exc
        if recomputed != logged:
            raise VerificationError(
                f"the event's content hashes to {hash_uri(recomputed)}, but the log holds {hash_uri(logged)}"
            )
    index = _int(answer.get("leaf_index"), "leaf_index")
    size = _int(answer.get("tree_size"), "tree_size")
    if size != cp.size:
        raise VerificationError(f"proof is for tree size {size}, the checkpoint is for {cp.size}")
    path = hex_hashes(answer.get("audit_path"), "audit_path")
    try:
        merkle.verify_inclusion(index, size, merkle.leaf_hash(logged), path, cp.root)
    except merkle.ProofError as exc:
        raise VerificationError(f"inclusion proof: {exc}") from exc
    return VerifiedInclusion(cp, index, logged)


def check_consistency(
    old_checkpoint: str,
    new_checkpoint: str,
    proof: Sequence[bytes],
    verifiers: Sequence[note.Verifier],
    origin: str | None = None,
) -> tuple[Checkpoint, Checkpoint]:
    """Check that the log only grew between two signed checkpoints (both signatures, same origin)."""
    try:
        old = open_checkpoint(old_checkpoint, verifiers, origin)
        new = open_checkpoint(new_checkpoint, verifiers, origin or old.origin)
    except CheckpointError as exc:
        raise VerificationError(str(exc)) from exc
    try:
        merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    except merkle.ProofError as exc:
        raise VerificationError(f"consistency proof from {old.size} to {new.size}: {exc}") from exc
    return old, new
