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


def existing(conn: Connection, rows: Sequence[IndexedEvent]) -> tuple[set[str], dict[str, str]]:
    """Hashes already stored, and eventID → stored hash for the batch's eventIDs."""
    hashes: set[str] = set()
    ids: dict[str, str] = {}
    for chunk in _chunks(rows, 500):
        found = conn.execute(
            select(epcis_event.c.event_hash, epcis_event.c.event_id).where(
                epcis_event.c.event_hash.in_([r.event_hash for r in chunk])
                | epcis_event.c.event_id.in_([r.event_id for r in chunk])
            )
        )
        for h, i in found:
            hashes.add(h)
            ids[i] = h
    return hashes, ids


def write_batch(
    conn: Connection,
    rows: Sequence[IndexedEvent],
    *,
    capture_id: str | None = None,
    source: str | None = None,
) -> BatchOutcome:
    """Store the new events of ``rows`` with their index rows; report duplicates and conflicts."""
    outcome = BatchOutcome()
    stored_hashes, stored_ids = existing(conn, rows)
    fresh: list[IndexedEvent] = []
    seen_ids: dict[str, str] = {}
    for row in rows:
        if row.event_hash in stored_hashes:
            outcome.duplicates.append(row)
            continue
        taken = stored_ids.get(row.event_id) or seen_ids.get(row.event_id)
        if taken is not None:
            if taken == row.event_hash:
                outcome.duplicates.append(row)
            else:
                outcome.conflicts.append((row, taken))
            continue
        seen_ids[row.event_id] = row.event_hash
        stored_hashes.add(row.event_hash)
        fresh.append(row)
    if not fresh:
        return outcome

    ph = _placeholder(conn)
    one_row = "(" + ",".join([ph] * len(EVENT_COLUMNS)) + ")"
    by_hash = {r.event_hash: r for r in fresh}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for chunk in _chunks(fresh, _ROWS_PER_INSERT):
            sql = (
                f"INSERT INTO epcis_event ({','.join(EVENT_COLUMNS)}) VALUES "
                + ",".join([one_row] * len(chunk))
                + " ON CONFLICT DO NOTHING RETURNING seq, event_hash"
            )
            params: list[Any] = []
            for r in chunk:
                params.extend(
                    (
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
                )
            cursor.execute(sql, params)
            for seq, event_hash in cursor.fetchall():
                outcome.stored.append((seq, by_hash.pop(event_hash)))
        # Lost a race with another writer between the lookup and the insert: re-classify.
        if by_hash:
            late_hashes, late_ids = existing(conn, list(by_hash.values()))
            for row in by_hash.values():
                if row.event_hash in late_hashes:
                    outcome.duplicates.append(row)
                else:
                    outcome.conflicts.append((row, late_ids.get(row.event_id, "")))
        outcome.stored.sort(key=lambda item: item[0])
        ident = [(seq, *i) for seq, r in outcome.stored for i in r.identifiers]
        links = [(seq, *link) for seq, r in outcome.stored for link in r.links]
        fields = [(seq, *f) for seq, r in outcome.stored for f in r.fields]
        if ident:
            cursor.executemany(
                f"INSERT INTO event_identifier (seq, role, id, quantity, uom) VALUES ({ph},{ph},{ph},{ph},{ph})",
                ident,
            )
        if links:
            cursor.executemany(
                f"INSERT INTO event_link (seq, kind, type, value) VALUES ({ph},{ph},{ph},{ph})", links
            )
        if fields:
            cursor.executemany(
                "INSERT INTO event_field (seq, scope, name, text_value, num_value, time_value) "
                f"VALUES ({ph},{ph},{ph},{ph},{ph},{ph})",
                fields,
            )
    finally:
        cursor.close()
    return outcome
