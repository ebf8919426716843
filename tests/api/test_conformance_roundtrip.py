"""Every valid conformance document captures over HTTP and queries back with the same fields and values;
every invalid one is refused whole, with nothing stored.

Each document is captured into a fresh database (SQLite and PostgreSQL), so events shared between the
GS1 examples do not hide each other. Data: tests/data/epcis (see its SOURCE.md).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from zhuisu.epcis import xml
from zhuisu.epcis.hash import event_hash
from zhuisu.epcis.jsonld import context_prefixes
from zhuisu.store.schema import epcis_event

DATA = Path(__file__).parents[1] / "data" / "epcis"
OE = "openepcis/2.0/EPCIS"

# Documents the conformance sets call valid that the platform refuses, and why (the details, with the
# offending lines, are asserted in tests/epcis/test_validate.py and test_xml.py).
REFUSED_VALID = {
    f"{OE}/JSON/Capture/Documents/Combination_of_different_event.json": "a GRAI Digital Link with a wrong check digit",
    f"{OE}/JSON/Capture/Documents/SensorData_with_combined_events.json": (
        "sensor types that are not GS1 measurement types, and sensor reports without the type the ratified "
        "JSON schema requires"
    ),
    f"{OE}/JSON/Capture/Documents/TransactionEvent_with_userExtensions.json": (
        "sensor type EffectiveDoseRate is not a GS1 measurement type"
    ),
    f"{OE}/XML/Capture/Documents/JumbledFieldsOrder.xml": "fields out of the XSD's sequence",
    f"{OE}/XML/Capture/Documents/Namespace_document.xml": "events in the epcis: namespace, which the XSD forbids",
    f"{OE}/XML/Capture/Documents/Combination_of_different_event.xml": "the JSON twin's wrong GRAI check digit",
    f"{OE}/XML/Capture/Documents/SensorData_with_combined_events.xml": "the JSON twin's sensor types",
    f"{OE}/XML/Capture/Documents/TransactionEvent_with_userExtensions.xml": "the JSON twin's sensor type",
    "XML/WithExtension/TransactionEvent.xml": "sensor type gs1:EffectiveDoseRate is not a GS1 measurement type",
    "XML/WithSensorData/SensorDataExamples.xml": (
        "sensor types gs1:Molar_concentration and gs1:EffectiveDoseRate are not GS1 measurement types (the JSON "
        "twins use AmountOfSubstancePerUnitVolume and DoseEquivalentRate), and sensor reports without a type"
    ),
    f"{OE}/XML/Capture/Documents/epcisDocWithAllGS1Keys.xml": (
        "its epcList repeats an EPC (the JSON twin does not): the ratified JSON schema requires unique items, "
        "and one object cannot be observed twice in one event"
    ),
}

JSON_DOCS = sorted(
    [*DATA.glob("JSON/**/*.jsonld"), *DATA.glob(f"{OE}/JSON/Capture/Documents/*.json")],
    key=lambda p: str(p),
)
JSON_EVENTS = sorted(DATA.glob(f"{OE}/JSON/Capture/Events/*.json"))
INVALID = sorted([*DATA.glob(f"{OE}/JSON/Capture/Invalid/*.json"), *DATA.glob(f"{OE}/XML/Capture/Invalid/*.xml")])
# Repository-assigned or derived fields that a query answer may add to what was captured.
ASSIGNED = {"recordTime", "@context"}


def rel(path: Path) -> str:
    return str(path.relative_to(DATA))


def is_query_document(doc: dict[str, Any]) -> bool:
    return doc.get("type") == "EPCISQueryDocument"


def document_events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc["epcisBody"]
    return list(body["queryResults"]["resultsBody"]["eventList"] if "queryResults" in body else body["eventList"])


def all_events(client: TestClient) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Every stored event, by the query interface, with the prefixes of the answer's @context."""
    r = client.get("/epcis/events", params={"perPage": 1000})
    assert r.status_code == 200, r.text
    return document_events(r.json()), context_prefixes(r.json()["@context"])


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(epcis_event)).scalar_one())


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in ASSIGNED}


def identity(event: dict[str, Any], prefixes: dict[str, str]) -> tuple[str, bool]:
    # An event and its error declaration share eventID and hash; the declaration is the second identity.
    return event_hash(event, prefixes), "errorDeclaration" in event


def assert_same_events(
    captured: list[dict[str, Any]],
    captured_prefixes: dict[str, str],
    answered: list[dict[str, Any]],
    answered_prefixes: dict[str, str],
) -> None:
    """Each captured event comes back once, with the same fields and values (eventID added when absent)."""
    by_identity: dict[tuple[str, bool], dict[str, Any]] = {}
    for event in answered:
        by_identity.setdefault(identity(event, answered_prefixes), event)
    for event in captured:
        key = identity(event, captured_prefixes)
        assert key in by_identity, f"captured event {event.get('eventID', key[0])} did not come back"
        back = comparable(by_identity[key])
        if "eventID" not in event:
            assert back.pop("eventID") == key[0]  # the hash became its ID
        elif back["eventID"] != event["eventID"]:
            # The same event (same hash) came earlier in this document under another ID: stored once.
            back["eventID"] = event["eventID"]
        assert back == comparable(event)
    assert len(by_identity) == len({identity(e, captured_prefixes) for e in captured})


def capture(client: TestClient, body: bytes, media_type: str) -> dict[str, Any]:
    r = client.post("/epcis/capture", content=body, headers={"Content-Type": media_type})
    assert r.status_code == 202, r.text
    job = client.get(r.headers["Location"]).json()
    assert job["running"] is False  # small documents are captured before the answer
    return dict(job)


@pytest.mark.parametrize("path", JSON_DOCS, ids=rel)
def test_json_document_captures_and_queries_back_equal(path: Path, client: TestClient, engine: Engine) -> None:
    doc = orjson.loads(path.read_bytes())
    job = capture(client, path.read_bytes(), "application/ld+json")
    if rel(path) in REFUSED_VALID:
        assert job["success"] is False and job["errors"], REFUSED_VALID[rel(path)]
        assert stored(engine) == 0
        return
    assert job["success"] is True, job["errors"][:3]
    assert_same_events(document_events(doc), context_prefixes(doc["@context"]), *all_events(client))


@pytest.mark.parametrize("path", JSON_EVENTS, ids=rel)
def test_single_json_event_captures_and_queries_back_equal(path: Path, client: TestClient) -> None:
    event = orjson.loads(path.read_bytes())
    r = client.post("/epcis/events", content=path.read_bytes(), headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 201, r.text
    answer = client.get(r.headers["Location"]).json()
    prefixes = context_prefixes(event.get("@context", []))
    captured = [{k: v for k, v in event.items() if k != "@context"}]
    assert_same_events(captured, prefixes, document_events(answer), context_prefixes(answer["@context"]))


def xml_docs() -> list[Path]:
    docs = [*DATA.glob(f"{OE}/XML/Capture/Documents/*.xml")]
    for path in DATA.glob("XML/**/*.xml"):
        head = path.read_bytes()[:2000]
        if b"EPCISDocument" in head or b"EPCISQueryDocument" in head:
            docs.append(path)
    return sorted(docs, key=str)


@pytest.mark.parametrize("path", xml_docs(), ids=rel)
def test_xml_document_captures_and_queries_back_equal_in_both_syntaxes(
    path: Path, client: TestClient, engine: Engine
) -> None:
    _header, events = xml.iter_xml_document(io.BytesIO(path.read_bytes()))
    captured = list(events)
    job = capture(client, path.read_bytes(), "application/xml")
    if rel(path) in REFUSED_VALID:
        assert job["success"] is False and job["errors"], REFUSED_VALID[rel(path)]
        assert stored(engine) == 0
        return
    assert job["success"] is True, job["errors"][:3]
    prefixes: dict[str, str] = {}
    for event in captured:
        prefixes.update(context_prefixes(event.get("@context", [])))
    # JSON-LD answer
    assert_same_events(captured, prefixes, *all_events(client))
    # XML answer, read back with the same codec
    r = client.get("/epcis/events", params={"perPage": 1000}, headers={"Accept": "application/xml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    _h, answered = xml.iter_xml_document(io.BytesIO(r.content))
    answered_events = list(answered)
    answered_prefixes: dict[str, str] = {}
    for event in answered_events:
        answered_prefixes.update(context_prefixes(event.get("@context", [])))
    assert_same_events(captured, prefixes, answered_events, answered_prefixes)


@pytest.mark.parametrize("path", INVALID, ids=rel)
def test_invalid_document_is_refused_whole(path: Path, client: TestClient, engine: Engine) -> None:
    media_type = "application/xml" if path.suffix == ".xml" else "application/ld+json"
    r = client.post("/epcis/capture", content=path.read_bytes(), headers={"Content-Type": media_type})
    if r.status_code == 202:
        job = client.get(r.headers["Location"]).json()
        assert job["success"] is False
        assert job["errors"] and all(e["detail"] for e in job["errors"])
    else:
        assert r.status_code == 400 and r.json()["detail"]
    assert stored(engine) == 0
