"""The capture pipeline as a library: large captures go through worker processes, in document order."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from zhuisu.epcis import capture
from zhuisu.store.schema import epcis_event

CONTEXT = {"example": "http://ns.example.com/epcis/"}


def event(n: int, **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": f"2026-11-01T08:{n // 60 % 60:02d}:{n % 60:02d}.000+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "ADD",
        "bizStep": "commissioning",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{n}"],
        "example:n": str(n),
        "@context": [CONTEXT],
    }
    e.update(extra)
    return e


def stored_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(select(epcis_event.c.body).order_by(epcis_event.c.seq))]


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(epcis_event)).scalar_one())


@pytest.fixture
def many() -> list[dict[str, Any]]:
    # More than two chunks, so the worker processes prepare them and the writer reorders nothing.
    n = 2 * capture.CHUNK + 150
    events = [event(i) for i in range(n)]
    events[n - 100]["disposition"] = "in_trnasit"
    return events


def test_large_capture_in_workers_refuses_whole_and_names_the_bad_event(engine: Engine, many: list) -> None:
    assert capture.capture_workers() > 0
    result = capture.capture_events(engine, many)
    assert not result.success and result.rolled_back
    assert [(p.index, p.path) for p in result.problems] == [(len(many) - 100, "/disposition")]
    assert count(engine) == 0


def test_large_capture_in_workers_proceeds_in_document_order(engine: Engine, many: list) -> None:
    result = capture.capture_events(engine, many, behaviour="proceed")
    assert result.event_count == len(many) and result.stored == len(many) - 1
    numbers = [int(orjson.loads(body)["example:n"]) for body in stored_ids(engine)]
    assert numbers == [i for i in range(len(many)) if i != len(many) - 100]


def test_capture_without_worker_processes(engine: Engine, many: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHUISU_CAPTURE_WORKERS", "0")
    result = capture.capture_events(engine, many, behaviour="proceed")
    assert result.stored == len(many) - 1
