"""Capture through the REST binding: jobs, error behaviour, limits, idempotency, single events."""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from zhuisu.api import epcis_capture
from zhuisu.api.app import create_app
from zhuisu.config import Settings
from zhuisu.store.schema import epcis_event

LD = {"Content-Type": "application/ld+json"}
CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"example": "http://ns.example.com/epcis/"},
]


def event(n: int, **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": f"2026-11-0{1 + n % 9}T08:00:00.000+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{1000 + n}"],
        "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
        "example:lane": f"lane-{n}",
    }
    e.update(extra)
    return e


def document(*events: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-22T08:00:00Z",
            "epcisBody": {"eventList": list(events)},
        }
    )


def stored_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(epcis_event)).scalar_one())


def job(client: TestClient, location: str) -> dict[str, Any]:
    for _ in range(200):
        body = client.get(location).json()
        if not body["running"]:
            return body
        time.sleep(0.05)
    raise AssertionError(f"capture job {location} still running")


def test_capture_document_answers_202_with_a_job_that_reports_success(client: TestClient, engine: Engine) -> None:
    r = client.post("/epcis/capture", content=document(event(1), event(2)), headers=LD)
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    assert location.startswith("/epcis/capture/")
    j = job(client, location)
    assert j["success"] is True and j["errors"] == []
    assert j["captureErrorBehaviour"] == "rollback"
    assert j["storedCount"] == 2 and "finishedAt" in j
    assert stored_count(engine) == 2
    listed = client.get("/epcis/capture").json()
    assert [x["captureID"] for x in listed] == [j["captureID"]]


def test_rollback_stores_nothing_and_names_the_bad_event_and_field(client: TestClient, engine: Engine) -> None:
    bad = event(2, bizStep="shiping")
    r = client.post("/epcis/capture", content=document(event(1), bad, event(3)), headers=LD)
    assert r.status_code == 202
    j = job(client, r.headers["Location"])
    assert j["success"] is False
    assert stored_count(engine) == 0
    [err] = j["errors"]
    assert err["eventIndex"] == 1
    assert "bizStep" in err["pointer"] and "shiping" in err["detail"]
    assert err["status"] == 400 and err["type"].startswith("epcisException:")


def test_proceed_stores_the_good_events_and_reports_the_bad(client: TestClient, engine: Engine) -> None:
    bad = event(2, eventTime="2026-11-02T08:00:00")  # no time zone
    r = client.post(
        "/epcis/capture",
        content=document(event(1), bad, event(3)),
        headers={**LD, "GS1-Capture-Error-Behaviour": "proceed"},
    )
    j = job(client, r.headers["Location"])
    assert j["success"] is False and j["captureErrorBehaviour"] == "proceed"
    assert j["storedCount"] == 2
    assert stored_count(engine) == 2
    assert [e["eventIndex"] for e in j["errors"]] == [1]
    assert "eventTime" in j["errors"][0]["pointer"]


def test_capturing_the_same_events_again_stores_them_once(client: TestClient, engine: Engine) -> None:
    doc = document(event(1), event(2))
    job(client, client.post("/epcis/capture", content=doc, headers=LD).headers["Location"])
    # The same events again, in another order and with fields shuffled, still match their hashes.
    reordered = [dict(reversed(list(e.items()))) for e in (event(2), event(1))]
    j = job(client, client.post("/epcis/capture", content=document(*reordered), headers=LD).headers["Location"])
    assert j["success"] is True and j["storedCount"] == 0 and j["duplicateCount"] == 2
    assert stored_count(engine) == 2


def test_event_without_event_id_gets_its_hash_as_id(client: TestClient, engine: Engine) -> None:
    from zhuisu.epcis.hash import event_hash

    e = event(7)
    job(client, client.post("/epcis/capture", content=document(e), headers=LD).headers["Location"])
    expected = event_hash({**copy.deepcopy(e), "@context": [CONTEXT[1]]})
    with engine.connect() as conn:
        ids = conn.execute(select(epcis_event.c.event_id, epcis_event.c.event_hash)).all()
    assert ids == [(expected, expected)]


@pytest.mark.parametrize(("limit_field", "value"), [("capture_limit", 2), ("capture_file_size_limit", 400)])
def test_over_a_capture_limit_answers_413_and_stores_nothing(
    engine: Engine, settings: Settings, limit_field: str, value: int, admin_key: str
) -> None:
    small = replace(settings, **{limit_field: value})
    with TestClient(create_app(small, engine), headers={"Authorization": f"Bearer {admin_key}"}) as client:
        r = client.post("/epcis/capture", content=document(event(1), event(2), event(3)), headers=LD)
        assert r.status_code == 413, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["GS1-EPCIS-Capture-Limit"] == str(small.capture_limit)
        assert str(value) in r.json()["detail"]
        assert client.get("/epcis/capture").json() == []
    assert stored_count(engine) == 0


def test_limits_are_advertised(client: TestClient, settings: Settings) -> None:
    r = client.options("/epcis/capture")
    assert r.status_code == 204
    assert r.headers["GS1-EPCIS-Capture-Limit"] == str(settings.capture_limit)
    assert r.headers["GS1-EPCIS-Capture-File-Size-Limit"] == str(settings.capture_file_size_limit)
    assert client.get("/epcis/capture").headers["GS1-EPCIS-Version"] == "2.0.0"


@pytest.mark.parametrize(
    ("body", "headers", "status", "words"),
    [
        (b"{not json", LD, 400, "well-formed JSON"),
        (b'{"type": "EPCISDocument"}', LD, 400, "schemaVersion"),
        (document(event(1)), {"Content-Type": "text/plain"}, 415, "Content-Type"),
        (
            document(event(1)),
            {**LD, "GS1-Capture-Error-Behaviour": "maybe"},
            400,
            "GS1-Capture-Error-Behaviour",
        ),
        (b"", LD, 400, "no body"),
    ],
)
def test_unreadable_requests_get_a_problem_document(
    client: TestClient, engine: Engine, body: bytes, headers: dict[str, str], status: int, words: str
) -> None:
    r = client.post("/epcis/capture", content=body, headers=headers)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"]
    assert stored_count(engine) == 0


def test_large_documents_are_captured_in_the_background(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(epcis_capture, "INLINE_CAPTURE_BYTES", 10)
    r = client.post("/epcis/capture", content=document(*(event(i) for i in range(50))), headers=LD)
    assert r.status_code == 202
    j = job(client, r.headers["Location"])
    assert j["success"] is True and j["storedCount"] == 50
    assert stored_count(engine) == 50


def test_unknown_capture_job_is_404(client: TestClient) -> None:
    r = client.get("/epcis/capture/nope")
    assert r.status_code == 404 and "nope" in r.json()["detail"]


def test_single_event_capture_201_then_200_then_409(client: TestClient, engine: Engine) -> None:
    e = {**event(1), "eventID": "urn:uuid:5f7e3c0a-1111-4a2b-9c3d-000000000001", "@context": CONTEXT}
    r = client.post("/epcis/events", content=orjson.dumps(e), headers=LD)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == "/epcis/events/urn%3Auuid%3A5f7e3c0a-1111-4a2b-9c3d-000000000001"
    again = client.post("/epcis/events", content=orjson.dumps(e), headers=LD)
    assert again.status_code == 200
    conflicting = {**e, "disposition": "in_progress"}
    r = client.post("/epcis/events", content=orjson.dumps(conflicting), headers=LD)
    assert r.status_code == 409
    assert "already used" in r.json()["detail"]
    assert stored_count(engine) == 1


def test_single_bad_event_is_refused_with_the_field(client: TestClient, engine: Engine) -> None:
    e = {**event(1, action="MOVE"), "@context": CONTEXT}
    r = client.post("/epcis/events", content=orjson.dumps(e), headers=LD)
    assert r.status_code == 400
    assert "action" in r.json()["detail"]
    assert stored_count(engine) == 0


def test_an_error_declaration_is_stored_beside_the_event_it_corrects(client: TestClient, engine: Engine) -> None:
    original = {**event(1), "eventID": "urn:uuid:5f7e3c0a-1111-4a2b-9c3d-00000000000e", "@context": CONTEXT}
    assert client.post("/epcis/events", content=orjson.dumps(original), headers=LD).status_code == 201
    declared = {
        **original,
        "errorDeclaration": {
            "declarationTime": "2026-11-03T08:00:00.000+08:00",
            "reason": "incorrect_data",
            "correctiveEventIDs": ["urn:uuid:5f7e3c0a-1111-4a2b-9c3d-00000000000f"],
        },
    }
    r = client.post("/epcis/events", content=orjson.dumps(declared), headers=LD)
    assert r.status_code == 201, r.text
    # The same declaration again is a duplicate, not a third row.
    assert client.post("/epcis/events", content=orjson.dumps(declared), headers=LD).status_code == 200
    assert stored_count(engine) == 2
    with engine.connect() as conn:
        rows = conn.execute(select(epcis_event.c.event_id, epcis_event.c.error_declared)).all()
    assert sorted(rows, key=lambda r: r[1]) == [(original["eventID"], False), (original["eventID"], True)]
    [body] = client.get(r.headers["Location"]).json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert body["errorDeclaration"]["reason"] == "incorrect_data"
    found = client.get("/epcis/events", params={"EQ_eventID": original["eventID"]}).json()
    assert len(found["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    flagged = client.get("/epcis/events", params={"EXISTS_errorDeclaration": "true"}).json()
    assert [e["eventID"] for e in flagged["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == [
        original["eventID"]
    ]


def test_jobs_interrupted_by_a_restart_are_finished_on_start(
    engine: Engine, settings: Settings, admin_key: str
) -> None:
    from pathlib import Path

    from zhuisu.store import jobs

    spool = Path(settings.spool_dir)
    spool.mkdir(parents=True, exist_ok=True)
    jobs.create(engine, "kept", behaviour="rollback", media_type="application/ld+json", created_at=1)
    (spool / "kept.json").write_bytes(document(event(1), event(2)))
    jobs.create(engine, "lost", behaviour="rollback", media_type="application/ld+json", created_at=2)
    auth = {"Authorization": f"Bearer {admin_key}"}
    with TestClient(create_app(settings, engine), headers=auth) as client:  # start-up resumes what it can
        kept = job(client, "/epcis/capture/kept")
        lost = job(client, "/epcis/capture/lost")
    assert kept["success"] is True and kept["storedCount"] == 2
    assert lost["success"] is False and "resend" in lost["errors"][0]["detail"]
    assert not (spool / "kept.json").exists()
    assert stored_count(engine) == 2


@pytest.mark.parametrize("kind", ["json", "xml"])
def test_event_count_for_the_capture_limit(tmp_path: Any, kind: str) -> None:
    from zhuisu.epcis.capture import count_events
    from zhuisu.epcis.xml import write_xml_document

    events = [event(i) for i in range(5)]
    path = tmp_path / f"doc.{kind}"
    if kind == "json":
        path.write_bytes(document(*events))
    else:
        with open(path, "wb") as out:
            write_xml_document([{**e, "@context": [CONTEXT[1]]} for e in events], out)
    assert count_events(path, kind, 5) <= 5  # within the limit: the byte scan suffices
    assert count_events(path, kind, 4) > 4  # over it
    # A value that mentions eventTime inflates the byte scan, so the events are counted one by one.
    tricky = [event(i, **{"example:sensor": {"eventTime": "2026-11-01T00:00:00Z"}}) for i in range(5)]
    if kind == "json":
        path.write_bytes(document(*tricky))
        assert path.read_bytes().count(b'"eventTime"') == 10
        assert count_events(path, "json", 5) == 5


def test_the_api_describes_itself_and_loads_nothing_from_outside(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/epcis/capture" in spec["paths"] and "/epcis/events" in spec["paths"]
    assert client.get("/docs").status_code == 404  # FastAPI's page would pull scripts from a CDN
