"""Audit of the stored log against the stored events (审计): what no longer matches, and where.

Each log position has several independent records, so a direct change to one of them shows up as a
disagreement that names it:

- the leaf row (event ``seq`` and logged event hash),
- the level-0 tile entry written when the leaf was appended (its RFC 6962 leaf hash),
- the event row (its body re-hashed, its stored ``event_hash`` and indexed columns),
- the signed checkpoints (roots over all positions below their size).

The store streams rows in leaf order into :class:`Auditor`; it holds only the disagreements, the
right edge of the tree and one hash per 256 leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from zhuisu.ledger import merkle, note
from zhuisu.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from zhuisu.ledger.service import hash_uri
from zhuisu.ledger.tiles import TILE_HEIGHT, TILE_WIDTH, split_hashes

EVENT_CHANGED = "event-changed"  # the event's content no longer hashes to its leaf
EVENT_FIELD_CHANGED = "event-field-changed"  # a stored column disagrees with the event's content
EVENT_DELETED = "event-deleted"  # a leaf whose event row is gone
EVENT_NOT_LOGGED = "event-not-logged"  # an event row with no leaf (inserted around the capture path)
LEAF_CHANGED = "leaf-changed"  # a leaf row's hash differs from what was logged at that position
LEAF_DELETED = "leaf-deleted"  # a log position with no leaf row
REORDERED = "reordered"  # an entry or event sits at another position than the one it was logged at
TILE_CHANGED = "tile-changed"  # stored tree hashes disagree with each other
CHECKPOINT_MISMATCH = "checkpoint-mismatch"  # the stored leaves no longer give a signed root
CHECKPOINT_INVALID = "checkpoint-invalid"  # a stored checkpoint whose signature or text is wrong
SIZE_MISMATCH = "size-mismatch"  # the recorded tree size disagrees with the leaf rows


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    detail: str
    leaf_index: int | None = None
    seq: int | None = None
    event_id: str | None = None
    tree_size: int | None = None

    def as_json(self) -> dict[str, Any]:
        names = ("kind", "detail", "leaf_index", "seq", "event_id", "tree_size")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


@dataclass(slots=True)
class AuditReport:
    tree_size: int = 0
    leaves: int = 0
    events: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.kind] = out.get(f.kind, 0) + 1
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "leaves": self.leaves,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "findings": [f.as_json() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class LeafRow:
    leaf_index: int
    seq: int
    event_hash: bytes


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    event_id: str
    body: str
    columns: Mapping[str, Any]  # stored columns to compare with the body (incl. "event_hash")


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    tree_size: int
    root: bytes
    note: str


Rehash = Callable[[str], bytes]
"""Event body (stored JSON text) → its CBV 2.0 sha-256 event hash."""

Recolumn = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]
"""Event body and stored columns → the column values the body gives (same keys)."""


EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "event_time",
    "event_tz",
    "action",
    "biz_step",
    "disposition",
    "read_point",
    "biz_location",
    "transformation_id",
    "error_declared",
)
"""Stored columns derived from the body that the default :func:`default_recolumn` checks."""


def default_rehash(body: str) -> bytes:
    """The platform's CBV 2.0 event hash of a stored body."""
    from zhuisu.epcis.hash import event_hash_bytes

    return event_hash_bytes(orjson.loads(body))


def default_recolumn(body: str, columns: Mapping[str, Any]) -> dict[str, Any]:
    """The indexed columns the platform's indexer derives from a stored body."""
    from zhuisu.epcis.index import index_event

    indexed = index_event(
        orjson.loads(body), event_hash=str(columns.get("event_hash")), record_time=int(columns["record_time"])
    )
    return {name: getattr(indexed, name) for name in EVENT_COLUMNS}


@dataclass(slots=True)
class _Pending:
    seq: int | None
    event_id: str | None
    event_hash: bytes | None  # from the leaf row
    recomputed: bytes | None  # from the event body


class Auditor:
    """Feed leaf rows in order with their tile entries and events, then :meth:`finish`.

    ``verifiers`` check the stored checkpoints' signatures; ``None`` checks only their roots.
    """

    def __init__(
        self,
        tree_size: int,
        checkpoints: Sequence[StoredCheckpoint],
        verifiers: Sequence[note.Verifier] | None,
        rehash: Rehash,
        recolumn: Recolumn | None = None,
        origin: str | None = None,
    ) -> None:
        self.report = AuditReport(tree_size=tree_size, checkpoints=len(checkpoints))
        self._tree_size = tree_size
        self._checkpoints = sorted(checkpoints, key=lambda c: c.tree_size)
        self._verifiers = verifiers
        self._origin = origin
        self._rehash = rehash
        self._recolumn = recolumn
        self._next = 0  # next expected leaf index
        self._rows_range = merkle.CompactRange()  # the tree as the leaf rows give it
        self._tile_range = merkle.CompactRange()  # the tree as the level-0 tiles give it
        self._rows_roots: dict[int, bytes] = {}
        self._tile_roots: dict[int, bytes] = {}
        self._cp_sizes = {c.tree_size for c in self._checkpoints}
        # disagreements between leaf rows and tiles, resolved in finish(): position -> (row, tile)
        self._tile_mismatch: dict[int, tuple[bytes, bytes | None, bool]] = {}  # row, tile, event agrees
        # events that do not hash to their leaf: position -> pending
        self._event_mismatch: dict[int, _Pending] = {}
        self._tile_only: dict[int, bytes] = {}  # positions with a tile entry but no leaf row
        self._level0_roots: list[bytes] = []  # root of every full level-0 tile, as tiles give them
        self._current_tile: list[bytes] = []

    def _note_size(self) -> None:
        size = self._rows_range.size
        if size in self._cp_sizes:
            self._rows_roots[size] = self._rows_range.root()
            self._tile_roots[size] = self._tile_range.root()

    def feed(self, rows: Sequence[LeafRow], tile_hashes: Mapping[int, bytes], events: Mapping[int, EventRow]) -> None:
        """One chunk: leaf rows in index order, level-0 tile entries by position, events by seq.

        ``tile_hashes`` must cover every position of the chunk's range, also where a row is missing.
        """
        for row in rows:
            while self._next < row.leaf_index:  # positions with no leaf row at all
                self._missing(self._next, tile_hashes.get(self._next))
            self._leaf(row, tile_hashes.get(row.leaf_index), events.get(row.seq))
            self.report.leaves += 1

    def feed_gap(self, end: int, tile_hashes: Mapping[int, bytes]) -> None:
        """Positions up to ``end`` (exclusive) that have no leaf rows (deleted at the end of the log)."""
        while self._next < end:
            self._missing(self._next, tile_hashes.get(self._next))

    def _advance(self, lh_row: bytes | None, lh_tile: bytes | None) -> None:
        # Each side stands in for the other where one is missing: the gap itself is reported, and
        # the trees (and upper tiles) stay aligned for the positions after it.
        by_rows = lh_row if lh_row is not None else (lh_tile or merkle.EMPTY_ROOT)
        by_tiles = lh_tile if lh_tile is not None else by_rows
        self._rows_range.append(by_rows)
        self._tile_range.append(by_tiles)
        self._current_tile.append(by_tiles)
        if len(self._current_tile) == TILE_WIDTH:
            self._level0_roots.append(merkle.perfect_root(self._current_tile))
            self._current_tile = []
        self._next += 1
        self._note_size()

    def _missing(self, index: int, tile_hash: bytes | None) -> None:
        if tile_hash is not None:
            self._tile_only[index] = tile_hash
        else:
            self.report.findings.append(
                Finding(LEAF_DELETED, "no leaf row and no tile entry at this log position", leaf_index=index)
            )
        self._advance(None, tile_hash)

    def _leaf(self, row: LeafRow, tile_hash: bytes | None, event: EventRow | None) -> None:
        i = row.leaf_index
        lh = merkle.leaf_hash(row.event_hash)
        tile_ok = tile_hash == lh
        self._advance(lh, tile_hash)
        recomputed: bytes | None = None
        if event is None:
            self.report.findings.append(
                Finding(
                    EVENT_DELETED,
                    f"the event logged here ({hash_uri(row.event_hash)}) has no event row",
                    leaf_index=i,
                    seq=row.seq,
                )
            )
        else:
            self.report.events += 1
            try:
                recomputed = self._rehash(event.body)
            except Exception as exc:  # any failure to re-hash means the body is not the logged event
                self.report.findings.append(
                    Finding(
                        EVENT_CHANGED,
                        f"the stored body cannot be hashed any more: {exc}",
                        leaf_index=i,
                        seq=row.seq,
                        event_id=event.event_id,
                    )
                )
        if not tile_ok:
            # Two records agreeing outvote the third: row and event against the tile, or not.
            self._tile_mismatch[i] = (lh, tile_hash, recomputed == row.event_hash)
        if event is None or recomputed is None:
            return
        if recomputed != row.event_hash:
            if not tile_ok and tile_hash == merkle.leaf_hash(recomputed):
                pass  # the event still matches what was logged here: the leaf row is what changed
            else:
                self._event_mismatch[i] = _Pending(row.seq, event.event_id, row.event_hash, recomputed)
        self._check_columns(i, row.seq, event, recomputed)

    def _check_columns(self, index: int, seq: int, event: EventRow, recomputed: bytes) -> None:
        stored_hash = event.columns.get("event_hash")
        if stored_hash is not None and stored_hash != hash_uri(recomputed):
            self.report.findings.append(
                Finding(
                    EVENT_FIELD_CHANGED,
                    f"column event_hash is {stored_hash!r}, the body hashes to {hash_uri(recomputed)}",
                    leaf_index=index,
                    seq=seq,
                    event_id=event.event_id,
                )
            )
        if self._recolumn is None:
            return
        try:
            expected = self._recolumn(event.body, event.columns)
        except Exception as exc:  # a body that no longer indexes is itself a finding
            self.report.findings.append(
                Finding(
                    EVENT_FIELD_CHANGED,
                    f"the stored body cannot be indexed any more: {exc}",
                    leaf_index=index,
                    seq=seq,
                    event_id=event.event_id,
                )
            )
            return
        for name, value in expected.items():
            stored = event.columns.get(name)
            if stored != value:
                self.report.findings.append(
                    Finding(
                        EVENT_FIELD_CHANGED,
                        f"column {name} is {stored!r}, the body gives {value!r}",
                        leaf_index=index,
                        seq=seq,
                        event_id=event.event_id,
                    )
                )

    def finish(
        self,
        upper_tiles: Mapping[tuple[int, int], bytes],
        unlogged: Sequence[EventRow],
    ) -> AuditReport:
        """Resolve disagreements; check upper tiles, checkpoints, size and events with no leaf."""
        findings = self.report.findings
        self._resolve_tiles()
        self._resolve_events()
        self._deleted_leaves(unlogged)
        self._check_upper_tiles(upper_tiles)
        self._check_checkpoints()
        if self._next != self._tree_size:
            findings.append(
                Finding(
                    SIZE_MISMATCH,
                    f"the ledger records tree size {self._tree_size}, the leaf rows cover {self._next} positions",
                    tree_size=self._tree_size,
                )
            )
        findings.sort(key=lambda f: (f.leaf_index if f.leaf_index is not None else -1, f.kind))
        return self.report

    def _resolve_tiles(self) -> None:
        mismatched = self._tile_mismatch
        logged_at = {tile: i for i, (_, tile, _) in mismatched.items() if tile is not None}
        for i, (row_hash, tile_hash, event_agrees) in sorted(mismatched.items()):
            j = logged_at.get(row_hash)
            if j is not None and j != i:
                kind, detail = REORDERED, f"leaf row {i} holds the entry logged at position {j}"
            elif tile_hash is None:
                kind, detail = TILE_CHANGED, "the level-0 tile has no entry for this position"
            elif event_agrees:
                kind, detail = TILE_CHANGED, "the level-0 tile entry differs from the leaf row and its event"
            else:
                kind, detail = LEAF_CHANGED, "the leaf row's hash differs from the one logged here"
            self.report.findings.append(Finding(kind, detail, leaf_index=i))

    def _resolve_events(self) -> None:
        pending = self._event_mismatch
        by_logged = {p.event_hash: i for i, p in pending.items() if p.event_hash is not None}
        for i, p in sorted(pending.items()):
            j = by_logged.get(p.recomputed) if p.recomputed is not None else None
            if j is not None and j != i:
                detail = f"event seq {p.seq} is linked to leaf {i}, but its content was logged at leaf {j}"
                kind = REORDERED
            else:
                detail = "the event's content no longer hashes to the event hash logged for it"
                kind = EVENT_CHANGED
            self.report.findings.append(Finding(kind, detail, leaf_index=i, seq=p.seq, event_id=p.event_id))

    def _deleted_leaves(self, unlogged: Sequence[EventRow]) -> None:
        by_tile = {h: i for i, h in self._tile_only.items()}
        matched: set[int] = set()
        for ev in unlogged:
            try:
                lh = merkle.leaf_hash(self._rehash(ev.body))
            except Exception:  # an unlogged event that does not even hash: still not logged
                lh = b""
            i = by_tile.get(lh)
            if i is not None:
                matched.add(i)
                self.report.findings.append(
                    Finding(
                        LEAF_DELETED,
                        "the leaf row of this event was deleted (the tile still records it here)",
                        leaf_index=i,
                        seq=ev.seq,
                        event_id=ev.event_id,
                    )
                )
            else:
                self.report.findings.append(
                    Finding(
                        EVENT_NOT_LOGGED,
                        "event row with no leaf: it did not come in through capture",
                        seq=ev.seq,
                        event_id=ev.event_id,
                    )
                )
        for i in sorted(set(self._tile_only) - matched):
            self.report.findings.append(
                Finding(LEAF_DELETED, "no leaf row at this log position (the tile still records it)", leaf_index=i)
            )

    def _check_upper_tiles(self, upper: Mapping[tuple[int, int], bytes]) -> None:
        # Level L+1 entries must be the roots of the full level-L tiles (as the tiles give them).
        level_roots = self._level0_roots
        level = 1
        while level_roots or any(key[0] == level for key in upper):
            for t in range((len(level_roots) + TILE_WIDTH - 1) // TILE_WIDTH):
                want = level_roots[t * TILE_WIDTH : (t + 1) * TILE_WIDTH]
                got = upper.get((level, t))
                if got is None or split_hashes(got) != want:
                    first = (t * TILE_WIDTH) << (TILE_HEIGHT * level)
                    self.report.findings.append(
                        Finding(
                            TILE_CHANGED,
                            f"tile {level}/{t} disagrees with the tiles below it (leaves from {first})",
                        )
                    )
            level_roots = [
                merkle.perfect_root(level_roots[t * TILE_WIDTH : (t + 1) * TILE_WIDTH])
                for t in range(len(level_roots) // TILE_WIDTH)
            ]
            level += 1
            if level > 8:
                break

    def _check_checkpoints(self) -> None:
        for cp in self._checkpoints:
            try:
                if self._verifiers is None:  # no key at hand: check the text, not the signature
                    opened = Checkpoint.parse_text(note.parse(cp.note)[0])
                else:
                    opened = open_checkpoint(cp.note, self._verifiers, self._origin)
            except (CheckpointError, note.NoteError) as exc:
                self.report.findings.append(
                    Finding(CHECKPOINT_INVALID, f"stored checkpoint: {exc}", tree_size=cp.tree_size)
                )
                continue
            if opened.size != cp.tree_size or opened.root != cp.root:
                self.report.findings.append(
                    Finding(
                        CHECKPOINT_INVALID,
                        "stored tree size or root differs from the signed note",
                        tree_size=cp.tree_size,
                    )
                )
            if cp.tree_size > self._next:
                self.report.findings.append(
                    Finding(
                        CHECKPOINT_MISMATCH,
                        f"a checkpoint was signed at size {cp.tree_size}, the log has only {self._next} positions",
                        tree_size=cp.tree_size,
                    )
                )
                continue
            rows_root = self._rows_roots.get(cp.tree_size, merkle.EMPTY_ROOT)
            tile_root = self._tile_roots.get(cp.tree_size, merkle.EMPTY_ROOT)
            if rows_root != opened.root:
                where = "the tiles still give it" if tile_root == opened.root else "nor do the tiles"
                self.report.findings.append(
                    Finding(
                        CHECKPOINT_MISMATCH,
                        f"the leaf rows no longer give the root signed at size {cp.tree_size} ({where})",
                        tree_size=cp.tree_size,
                    )
                )
