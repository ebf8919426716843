"""Helpers for the ledger's database tests: sample events and the capture path's ledger step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from zhuisu.epcis.hash import event_hash_bytes
from zhuisu.epcis.index import index_event
from zhuisu.ledger import service
from zhuisu.store import events as event_store
from zhuisu.store import ledger


def make_event(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{i}"],
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
        **extra,
    }


def capture(engine: Engine, events: list[dict[str, Any]]) -> list[int]:
    """What the capture path does for the ledger: store the events, then append their hashes.

    Sets ``eventID`` (when missing) and ``recordTime`` on the given events, as capture does.
    """
    with engine.begin() as conn:
        rows = []
        for e in events:
            digest = event_hash_bytes(e)
            uri = service.hash_uri(digest)
            e.setdefault("eventID", uri)
            e["recordTime"] = "2024-04-01T00:00:00.000Z"
            rows.append(index_event(e, event_hash=uri, record_time=1_711_929_600_000_000, hash_bytes=digest))
        outcome = event_store.write_batch(conn, rows)
        first = ledger.append_leaves(conn, [(seq, r.hash_bytes) for seq, r in outcome.stored])
        return list(range(first, first + len(outcome.stored)))


def rehash_body(event: Any) -> bytes:
    return event_hash_bytes(event)


def capture_real(engine: Engine, events: list[dict[str, Any]]) -> None:
    """The platform's own capture path (validation, hashing, storage, ledger) in one transaction."""
    from zhuisu.epcis.capture import capture_events

    result = capture_events(engine, events)
    assert result.success and result.stored == len(events), result.problems
