"""Writing events: one batch at a time, idempotent by event hash, inside the caller's transaction.

Rows go in through the DB-API driver directly (multi-row ``INSERT … RETURNING`` for events,
``executemany`` for the index tables): capture must sustain well over 10,000 events/s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from zhuisu.epcis.index import IndexedEvent
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


def write_batch(
    conn: Connection,
    rows: Sequence[IndexedEvent],
    *,
    capture_id: str | None = None,
    source: str | None = None,
) -> BatchOutcome:
    """Store the new events of ``rows`` with their index rows; report duplicates and conflicts.

    New events are inserted with ``ON CONFLICT DO NOTHING``; only the events the database skipped are
    looked up again, to tell a duplicate (same hash stored) from a conflict (eventID used by other content).
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
    if not fresh:
        return outcome

    by_key = {(r.event_hash, r.error_declared): r for r in fresh}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            returned = _insert_events_pg(cursor, fresh, capture_id, source)
        else:
            returned = _insert_events_multirow(cursor, _placeholder(conn), fresh, capture_id, source)
        for seq, event_hash, stored_declared in returned:
            outcome.stored.append((seq, by_key.pop((event_hash, bool(stored_declared)))))
        if by_key:  # skipped by the database: already stored, or its eventID is taken
            stored_keys, stored_ids = existing(conn, list(by_key.values()))
            for (event_hash, declared), row in by_key.items():
                if (event_hash, declared) in stored_keys:
                    outcome.duplicates.append(row)
                else:
                    outcome.conflicts.append((row, stored_ids.get((row.event_id, declared), "")))
        outcome.stored.sort(key=lambda item: item[0])
        ident = [(seq, *i) for seq, r in outcome.stored for i in r.identifiers]
        links = [(seq, *link) for seq, r in outcome.stored for link in r.links]
        fields = [(seq, *f) for seq, r in outcome.stored for f in r.fields]
        if conn.dialect.name == "postgresql":
            _copy(cursor, "event_identifier", ("seq", "role", "id", "quantity", "uom"), ident)
            _copy(cursor, "event_link", ("seq", "kind", "type", "value"), links)
            _copy(cursor, "event_field", ("seq", "scope", "name", "text_value", "num_value", "time_value"), fields)
        else:
            ph = _placeholder(conn)
            for table, columns, data in (
                ("event_identifier", ("seq", "role", "id", "quantity", "uom"), ident),
                ("event_link", ("seq", "kind", "type", "value"), links),
                ("event_field", ("seq", "scope", "name", "text_value", "num_value", "time_value"), fields),
            ):
                if data:
                    marks = ",".join([ph] * len(columns))
                    cursor.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})", data)
    finally:
        cursor.close()
    return outcome


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


def _insert_events_pg(
    cursor: Any, rows: Sequence[IndexedEvent], capture_id: str | None, source: str | None
) -> list[tuple[int, str, int]]:  # (seq, hash, error_declared: a bool here)
    # COPY into a session-private staging table, then one set-based insert that skips duplicates.
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS epcis_event_staging "
        "(LIKE epcis_event INCLUDING DEFAULTS EXCLUDING CONSTRAINTS EXCLUDING INDEXES) ON COMMIT DELETE ROWS"
    )
    cursor.execute("TRUNCATE epcis_event_staging")
    _copy(cursor, "epcis_event_staging", EVENT_COLUMNS, [_event_params(r, capture_id, source) for r in rows])
    cols = ",".join(EVENT_COLUMNS)
    cursor.execute(
        f"INSERT INTO epcis_event ({cols}) SELECT {cols} FROM epcis_event_staging "
        "ON CONFLICT DO NOTHING RETURNING seq, event_hash, error_declared"
    )
    return list(cursor.fetchall())


def _copy(cursor: Any, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None:
    if not data:
        return
    with cursor.copy(f"COPY {table} ({','.join(columns)}) FROM STDIN") as copy:
        for record in data:
            copy.write_row(record)
