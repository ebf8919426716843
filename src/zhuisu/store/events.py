"""Writing events: one batch at a time, idempotent by event hash, inside the caller's transaction.

Rows go in through the DB-API driver directly: on SQLite a multi-row ``INSERT … RETURNING`` for events and
``executemany`` for the index tables; on PostgreSQL COPY of rows formatted ahead of time (``prepare_batch``, in
the capturing thread, while the writer thread sends the previous batch). Capture must sustain 10,000 events/s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from zhuisu.epcis.index import IndexedEvent
from zhuisu.store import pgcopy
from zhuisu.store.schema import epcis_event

EVENT_COLUMNS = (
    "event_id",
    "event_hash",
    "event_type",
    "event_time",
    "event_tz",
    "record_time",
    "action",
    "biz_step",
    "disposition",
    "read_point",
    "biz_location",
    "transformation_id",
    "error_declared",
    "capture_id",
    "source_platform",
    "body",
)
# Keep each statement under SQLite's and PostgreSQL's bound-parameter limits.
_ROWS_PER_INSERT = 1000


@dataclass(slots=True)
class BatchOutcome:
    """What happened to each event of a batch."""

    stored: list[tuple[int, IndexedEvent]] = field(default_factory=list)  # (seq, event), in seq order
    duplicates: list[IndexedEvent] = field(default_factory=list)  # same content already stored
    conflicts: list[tuple[IndexedEvent, str]] = field(default_factory=list)  # eventID taken by other content


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


Key = tuple[str, bool]  # (event hash or eventID, whether it is an error declaration)


def existing(conn: Connection, rows: Sequence[IndexedEvent]) -> tuple[set[Key], dict[Key, str]]:
    """(hash, declared) pairs already stored, and (eventID, declared) → stored hash, for a batch."""
    hashes: set[Key] = set()
    ids: dict[Key, str] = {}
    cols = (epcis_event.c.event_hash, epcis_event.c.event_id, epcis_event.c.error_declared)
    for chunk in _chunks(rows, 500):
        # Two lookups, not one with OR: each must use its own unique index.
        for column, values in (
            (epcis_event.c.event_hash, [r.event_hash for r in chunk]),
            (epcis_event.c.event_id, [r.event_id for r in chunk]),
        ):
            for h, i, declared in conn.execute(select(*cols).where(column.in_(values))):
                hashes.add((h, bool(declared)))
                ids[(i, bool(declared))] = h
    return hashes, ids


def _event_params(r: IndexedEvent, capture_id: str | None, source: str | None) -> tuple[Any, ...]:
    return (
        r.event_id,
        r.event_hash,
        r.event_type,
        r.event_time,
        r.event_tz,
        r.record_time,
        r.action,
        r.biz_step,
        r.disposition,
        r.read_point,
        r.biz_location,
        r.transformation_id,
        r.error_declared,
        capture_id,
        source,
        r.body,
    )


@dataclass(slots=True)
class PreparedBatch:
    """A batch made ready to write without the database (``prepare_batch``): events repeated within the batch
    sorted out, and on PostgreSQL every row already in COPY's text form, so the writing thread only sends bytes."""

    fresh: list[IndexedEvent]  # the events to insert, first occurrence of each within the batch
    outcome: BatchOutcome  # the batch's own duplicates and conflicts so far
    capture_id: str | None
    source: str | None
    copy: _CopyData | None = None  # PostgreSQL


@dataclass(slots=True)
class _CopyData:
    events: bytes  # staging rows of ``fresh``, in order
    side: list[tuple[bytes, bytes, bytes]]  # per fresh event: its identifier, link and field rows, seq to come


_SIDE_TABLES = (
    ("event_identifier", ("seq", "role", "id", "quantity", "uom")),
    ("event_link", ("seq", "kind", "type", "value")),
    ("event_field", ("seq", "scope", "name", "text_value", "num_value", "time_value")),
)


def prepare_batch(
    dialect: str, rows: Sequence[IndexedEvent], *, capture_id: str | None = None, source: str | None = None
) -> PreparedBatch:
    """The part of writing a batch that needs no database: run it while the previous batch is being written.

    Raises ValueError when a text holds a NUL character (PostgreSQL cannot store it; capture refuses such
    events before they get here).
    """
    outcome = BatchOutcome()
    fresh: list[IndexedEvent] = []
    seen: dict[Key, str] = {}  # (eventID, declared) -> hash, within this batch
    seen_hashes: set[Key] = set()
    for row in rows:
        declared = row.error_declared
        if (row.event_hash, declared) in seen_hashes:
            outcome.duplicates.append(row)
            continue
        taken = seen.get((row.event_id, declared))
        if taken is not None:
            outcome.conflicts.append((row, taken))
            continue
        seen[(row.event_id, declared)] = row.event_hash
        seen_hashes.add((row.event_hash, declared))
        fresh.append(row)
    batch = PreparedBatch(fresh, outcome, capture_id, source)
    if dialect == "postgresql" and fresh:
        batch.copy = _CopyData(
            "".join([pgcopy.row(_event_params(r, capture_id, source)) for r in fresh]).encode(),
            [
                (pgcopy.keyed_rows(r.identifiers), pgcopy.keyed_rows(r.links), pgcopy.keyed_rows(r.fields))
                for r in fresh
            ],
        )
    return batch


def write_batch(
    conn: Connection,
    rows: Sequence[IndexedEvent],
    *,
    capture_id: str | None = None,
    source: str | None = None,
) -> BatchOutcome:
    """Store the new events of ``rows`` with their index rows; report duplicates and conflicts."""
    return write_prepared(conn, prepare_batch(conn.dialect.name, rows, capture_id=capture_id, source=source))


def write_prepared(conn: Connection, batch: PreparedBatch) -> BatchOutcome:
    """Store a prepared batch's new events with their index rows; report duplicates and conflicts.

    New events are inserted with ``ON CONFLICT DO NOTHING``; only the events the database skipped are
    looked up again, to tell a duplicate (same hash stored) from a conflict (eventID used by other content).
    """
    outcome = batch.outcome
    fresh = batch.fresh
    if not fresh:
        return outcome
    position = {(r.event_hash, r.error_declared): k for k, r in enumerate(fresh)}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if batch.copy is not None:
            returned = _insert_events_pg(cursor, batch.copy.events)
        else:
            returned = _insert_events_multirow(cursor, _placeholder(conn), fresh, batch.capture_id, batch.source)
        stored = sorted((seq, position.pop((event_hash, bool(declared)))) for seq, event_hash, declared in returned)
        outcome.stored = [(seq, fresh[k]) for seq, k in stored]
        if position:  # skipped by the database: already stored, or its eventID is taken
            skipped = [fresh[k] for k in position.values()]
            stored_keys, stored_ids = existing(conn, skipped)
            for row in skipped:
                if (row.event_hash, row.error_declared) in stored_keys:
                    outcome.duplicates.append(row)
                else:
                    outcome.conflicts.append((row, stored_ids.get((row.event_id, row.error_declared), "")))
        if batch.copy is not None:
            side = batch.copy.side
            for t, (table, columns) in enumerate(_SIDE_TABLES):
                text = b"".join([pgcopy.with_seq(side[k][t], seq) for seq, k in stored])
                if text:
                    with cursor.copy(f"COPY {table} ({','.join(columns)}) FROM STDIN") as copy:
                        copy.write(text)
        else:
            ph = _placeholder(conn)
            for table, columns in _SIDE_TABLES:
                data = [(seq, *r) for seq, k in stored for r in _side_rows(fresh[k], table)]
                if data:
                    marks = ",".join([ph] * len(columns))
                    cursor.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})", data)
    finally:
        cursor.close()
    return outcome


def _side_rows(r: IndexedEvent, table: str) -> Sequence[tuple[Any, ...]]:
    if table == "event_identifier":
        return r.identifiers
    return r.links if table == "event_link" else r.fields


def _insert_events_multirow(
    cursor: Any, ph: str, rows: Sequence[IndexedEvent], capture_id: str | None, source: str | None
) -> list[tuple[int, str, int]]:  # (seq, hash, error_declared: SQLite answers 0 or 1)
    one_row = "(" + ",".join([ph] * len(EVENT_COLUMNS)) + ")"
    returned: list[tuple[int, str, int]] = []
    for chunk in _chunks(rows, _ROWS_PER_INSERT):
        sql = (
            f"INSERT INTO epcis_event ({','.join(EVENT_COLUMNS)}) VALUES "
            + ",".join([one_row] * len(chunk))
            + " ON CONFLICT DO NOTHING RETURNING seq, event_hash, error_declared"
        )
        params: list[Any] = []
        for r in chunk:
            params.extend(_event_params(r, capture_id, source))
        cursor.execute(sql, params)
        returned.extend(cursor.fetchall())
    return returned


def _insert_events_pg(cursor: Any, data: bytes) -> list[tuple[int, str, int]]:  # (seq, hash, error_declared)
    # COPY into a session-private staging table, then one set-based insert that skips duplicates.
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS epcis_event_staging "
        "(LIKE epcis_event INCLUDING DEFAULTS EXCLUDING CONSTRAINTS EXCLUDING INDEXES) ON COMMIT DELETE ROWS"
    )
    cursor.execute("TRUNCATE epcis_event_staging")
    cols = ",".join(EVENT_COLUMNS)
    with cursor.copy(f"COPY epcis_event_staging ({cols}) FROM STDIN") as copy:
        copy.write(data)
    cursor.execute(
        f"INSERT INTO epcis_event ({cols}) SELECT {cols} FROM epcis_event_staging "
        "ON CONFLICT DO NOTHING RETURNING seq, event_hash, error_declared"
    )
    return list(cursor.fetchall())
