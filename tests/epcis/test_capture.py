"""The capture pipeline as a library: large documents go through worker processes, in document order."""

from __future__ import annotations

from pathlib import Path
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


N = 3 * capture.CHUNK + 150  # more than one round of chunks for two workers, the last one partial
BAD = N - 100


@pytest.fixture
def many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A document the worker processes prepare (the size threshold lowered to take it)."""
    monkeypatch.setattr(capture, "PARALLEL_BYTES", 0)
    events = [event(i) for i in range(N)]
    events[BAD]["disposition"] = "in_trnasit"
    path = tmp_path / "many.jsonld"
    path.write_bytes(
        orjson.dumps(
            {
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", CONTEXT],
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": "2026-11-22T00:00:00Z",
                "epcisBody": {"eventList": events},
            }
        )
    )
    return path


def test_large_capture_in_workers_refuses_whole_and_names_the_bad_event(engine: Engine, many: Path) -> None:
    assert capture.capture_workers() > 0
    result = capture.capture_file(engine, many, "json")
    assert not result.success and result.rolled_back
    assert [(p.index, p.path) for p in result.problems] == [(BAD, "/disposition")]
    assert count(engine) == 0


def test_large_capture_in_workers_proceeds_in_document_order(engine: Engine, many: Path) -> None:
    result = capture.capture_file(engine, many, "json", behaviour="proceed")
    assert result.event_count == N and result.stored == N - 1
    numbers = [int(orjson.loads(body)["example:n"]) for body in stored_ids(engine)]
    assert numbers == [i for i in range(N) if i != BAD]


@pytest.mark.parametrize("workers", ["0", "1", "3"])
def test_any_number_of_workers_gives_the_same_result(
    engine: Engine, many: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv("ZHUISU_CAPTURE_WORKERS", workers)
    result = capture.capture_file(engine, many, "json", behaviour="proceed")
    assert result.stored == N - 1 and [p.index for p in result.problems] == [BAD]


def test_a_document_broken_midway_stores_nothing(engine: Engine, many: Path) -> None:
    data = many.read_bytes()
    many.write_bytes(data[: len(data) * 2 // 3])  # cut off inside the event list
    result = capture.capture_file(engine, many, "json", behaviour="proceed")
    assert not result.success and result.rolled_back
    assert "well-formed JSON" in result.problems[-1].message
    assert count(engine) == 0


def test_a_failure_while_writing_stores_nothing_and_reaches_the_caller(engine: Engine) -> None:
    """Batches are written by a thread of their own: its error is raised in the capturing thread, nothing stays.

    The database itself fails on one event of the second batch (a trigger; the capture code is compiled, so it is
    not patched from here)."""
    fail = {
        "sqlite": [
            "CREATE TRIGGER disk_full BEFORE INSERT ON epcis_event WHEN NEW.biz_step = 'destroying' "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        ],
        "postgresql": [
            "CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.biz_step = 'destroying' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER disk_full BEFORE INSERT ON epcis_event FOR EACH ROW EXECUTE FUNCTION disk_full()",
        ],
    }[engine.dialect.name]
    with engine.begin() as conn:
        for statement in fail:
            conn.exec_driver_sql(statement)
    events = [event(i) for i in range(3 * capture.BATCH_SIZE)]
    events[capture.BATCH_SIZE + 5]["bizStep"] = "destroying"
    with pytest.raises(Exception, match="disk full"):
        capture.capture_events(engine, events, behaviour="proceed")
    assert count(engine) == 0  # the first batch, written before, is rolled back with the rest
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER disk_full" + (" ON epcis_event" if engine.dialect.name != "sqlite" else ""))
    # the connection and (SQLite) the writer lock were given back: the next capture stores
    assert capture.capture_events(engine, [event(1)]).stored == 1


def test_problems_found_reading_and_writing_are_reported_in_event_order(engine: Engine) -> None:
    taken = event(0, eventID="urn:uuid:7c3b3c8e-0000-4000-8000-000000000001")
    capture.capture_events(engine, [taken])
    events = [event(i) for i in range(1, 8)]
    events[5]["disposition"] = "in_trnasit"  # refused when read (validation)
    events[2]["eventID"] = taken["eventID"]  # refused when written: the eventID belongs to another event
    result = capture.capture_events(engine, events, behaviour="proceed")
    assert [(p.index, p.path) for p in result.problems] == [(2, "/eventID"), (5, "/disposition")]
    assert result.problem_count == 2 and result.stored == 5


def test_an_in_memory_sqlite_database_captures_in_one_thread() -> None:
    """Its connection belongs to the thread that opened it: batches are written there, not by the writer thread."""
    from zhuisu.store.db import open_store

    memory = open_store("sqlite:///:memory:")
    result = capture.capture_events(memory, [event(i) for i in range(capture.BATCH_SIZE + 5)])
    assert result.stored == capture.BATCH_SIZE + 5 and count(memory) == capture.BATCH_SIZE + 5


def test_a_nul_character_is_refused_naming_its_field_and_nothing_is_stored(engine: Engine) -> None:
    """PostgreSQL cannot store U+0000 in text: both stores refuse it, as a problem of the event, not a crash."""
    in_value = event(1, **{"example:n": "a\x00b"})
    in_name = event(2, **{"example:n\x00": "x"})
    in_list = event(3, epcList=["urn:epc:id:sgtin:0614141.107346.3", "urn:epc:id:sgtin:0614141.107346.\x00"])
    result = capture.capture_events(engine, [event(0), in_value, in_name, in_list], behaviour="proceed")
    assert [(p.index, p.path) for p in result.problems][:2] == [(1, "/example:n"), (2, "/example:n\\u0000")]
    assert result.problems[0].message == "contains the NUL character (U+0000), which cannot be stored"
    assert result.problems[2].index == 3  # a malformed EPC: refused by validation already
    assert result.stored == 1 and count(engine) == 1


def test_texts_the_copy_format_escapes_are_stored_and_read_back_unchanged(engine: Engine) -> None:
    """Backslashes, tabs, newlines and carriage returns in texts survive the store and its indexes (on
    PostgreSQL rows are sent in COPY's text format, where these characters are escaped)."""
    from zhuisu.epcis.query import parse_query_params
    from zhuisu.store.queries import events_after

    tricky = "back\\slash\ttab\nnewline\rreturn \\N \\t ünïcödé 追溯"
    e = event(7, **{"example:n": tricky, "example:m": "\\N", "example:nested": {"example:deep": tricky}})
    e["ilmd"] = {"example:lot": tricky}
    assert capture.capture_events(engine, [e]).stored == 1
    with engine.connect() as conn:
        (body,) = conn.execute(select(epcis_event.c.body)).one()
        stored = orjson.loads(body)
        assert stored["example:n"] == tricky and stored["example:nested"]["example:deep"] == tricky
        assert stored["ilmd"]["example:lot"] == tricky
        for name, value in (
            ("EQ_example:n", tricky),
            ("EQ_example:m", "\\N"),  # not NULL: COPY's NULL is this text unescaped
            ("EQ_INNER_example:deep", tricky),
            ("EQ_ILMD_example:lot", tricky),
        ):
            query = parse_query_params([(name, value)], prefixes=CONTEXT)
            assert len(events_after(conn, 0, query, 10)) == 1, name
