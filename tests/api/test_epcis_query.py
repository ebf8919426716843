"""EPCIS 2.0 REST query binding end to end: capture, then query over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import hypothesis
import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import Engine

from zhuisu.api.app import create_app
from zhuisu.codes.epc import canonical_id, to_digital_link, to_epc_urn
from zhuisu.config import Settings
from zhuisu.epcis import jsonld
from zhuisu.epcis.capture import capture_events, capture_file

DATA = Path(__file__).parents[1] / "data" / "epcis"
NS = "https://ns.example.com/zhuisu-test/"
CTX = [{"ex": NS}]
EXT = {"GS1-Extensions": f"ex={NS}"}
STANDARD_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

# Identifiers of the hand-made events.
S1 = "urn:epc:id:sgtin:0614141.107346.2018"
S2 = "urn:epc:id:sgtin:0614141.107346.2019"
S3 = "urn:epc:id:sgtin:0614141.107346.3001"
S4 = "urn:epc:id:sgtin:0614141.107347.4001"
S5 = "urn:epc:id:sgtin:4012345.011111.5001"
S6 = "urn:epc:id:sgtin:4012345.011111.6001"
SSCC1 = "urn:epc:id:sscc:0614141.1234567890"
SSCC2 = "urn:epc:id:sscc:0614141.1234567891"
GIAI1 = "urn:epc:id:giai:4000001.111"
C1 = "urn:epc:class:lgtin:4012345.012345.998877"
C2 = "urn:epc:idpat:sgtin:4012345.012345.*"
C3 = "urn:epc:class:lgtin:0614141.107346.LOT3"
RP_A = "urn:epc:id:sgln:0614141.00001.0"
RP_B = "urn:epc:id:sgln:0614141.00002.0"
LOC_1 = "urn:epc:id:sgln:0614141.00011.0"
LOC_2 = "urn:epc:id:sgln:0614141.00012.0"
PGLN_1 = "urn:epc:id:pgln:0614141.00777"
PGLN_2 = "urn:epc:id:pgln:4012345.00225"
PO_1 = "urn:epcglobal:cbv:bt:0614141000005:PO-1"
PO_2 = "urn:epcglobal:cbv:bt:0614141000005:PO-2"
DESADV = "urn:epcglobal:cbv:bt:0614141000005:DESADV-1"
DISP_X = "https://ns.example.com/disp/kept_for_audit"  # a custom disposition (a URI, with an underscore)
T1 = "urn:uuid:7b6c0a4e-0000-4000-8000-0000000000f1"


def eid(n: int) -> str:
    return f"urn:uuid:7b6c0a4e-0000-4000-8000-00000000000{n}"


def hand_made() -> list[dict[str, Any]]:
    """Seven events, each distinguishable by the parameters the tests below use."""
    return [
        {
            "@context": CTX,
            "type": "ObjectEvent",
            "eventID": eid(1),
            "eventTime": "2024-01-01T08:00:00+08:00",  # = 2024-01-01T00:00:00Z
            "eventTimeZoneOffset": "+08:00",
            "epcList": [S1],
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": RP_A},
            "bizLocation": {"id": LOC_1},
            "bizTransactionList": [{"type": "po", "bizTransaction": PO_1}],
            "quantityList": [{"epcClass": C1, "quantity": 10, "uom": "KGM"}],
            "ilmd": {"ex:lot": "LOT-1", "ex:weight": 3.5, "ex:bestBefore": "2025-01-01T00:00:00Z"},
            "ex:temperature": 4,
        },
        {
            "@context": CTX,
            "type": "ObjectEvent",
            "eventID": eid(2),
            "eventTime": "2024-01-02T00:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [to_digital_link(S1), S2],
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "readPoint": {"id": RP_B},
            "bizLocation": {"id": to_digital_link(LOC_2)},
            "sourceList": [{"type": "owning_party", "source": PGLN_1}],
            "destinationList": [{"type": "owning_party", "destination": PGLN_2}],
            "quantityList": [{"epcClass": C2, "quantity": 5}],
            "ex:temperature": 8,
            "ex:box": {"ex:colour": "red"},
            "ex:sealed": True,
            "persistentDisposition": {
                "set": ["completeness_verified"],
                "unset": ["completeness_inferred"],
            },
        },
        {
            "type": "AggregationEvent",
            "eventID": eid(3),
            "eventTime": "2024-01-03T00:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "parentID": SSCC1,
            "childEPCs": [S2],
            "action": "ADD",
            "bizStep": "packing",
            "disposition": "in_progress",
            "readPoint": {"id": RP_A},
            "childQuantityList": [{"epcClass": C1, "quantity": 20, "uom": "KGM"}],
        },
        {
            "@context": CTX,
            "type": "TransformationEvent",
            "eventID": eid(4),
            "eventTime": "2024-01-04T00:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "inputEPCList": [S3],
            "outputEPCList": [S4],
            "inputQuantityList": [{"epcClass": C1, "quantity": 30, "uom": "KGM"}],
            "outputQuantityList": [{"epcClass": C3, "quantity": 7, "uom": "KGM"}],
            "transformationID": T1,
            "bizStep": "commissioning",
            "ilmd": {"ex:lot": "LOT-4", "ex:weight": 7.25, "ex:origin": {"ex:farm": "F1"}},
        },
        {
            "type": "TransactionEvent",
            "eventID": eid(5),
            "eventTime": "2024-01-05T00:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "parentID": SSCC2,
            "epcList": [S5],
            "action": "DELETE",
            "bizStep": "accepting",
            "persistentDisposition": {"set": ["completeness_verified", DISP_X]},
            "bizTransactionList": [
                {"type": "po", "bizTransaction": PO_2},
                {"type": "desadv", "bizTransaction": DESADV},
            ],
        },
        {
            "type": "AssociationEvent",
            "eventID": eid(6),
            "eventTime": "2024-01-06T00:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "parentID": GIAI1,
            "childEPCs": [S6],
            "action": "ADD",
            "bizStep": "installing",
            "readPoint": {"id": RP_B},
        },
        {
            "@context": CTX,
            "type": "ObjectEvent",
            "eventID": eid(7),
            "eventTime": "2024-01-07T00:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [S1],
            "action": "OBSERVE",
            "bizStep": "receiving",
            "disposition": "in_progress",
            "errorDeclaration": {
                "declarationTime": "2024-01-08T00:00:00Z",
                "reason": "incorrect_data",
                "correctiveEventIDs": [eid(2)],
            },
            "ex:temperature": 12,
        },
    ]


ALL = set(range(1, 8))


def capture(engine: Engine, events: list[dict[str, Any]], behaviour: str = "rollback") -> Any:
    result = capture_events(engine, copy.deepcopy(events), behaviour=behaviour, collect_ids=True)  # type: ignore[arg-type]
    assert result.success or behaviour == "proceed", result.problems
    return result


@pytest.fixture
def client(engine: Engine, tmp_path: Path, admin_key: str) -> Iterator[TestClient]:
    app = create_app(Settings(db_url="unused://", spool_dir=str(tmp_path / "spool")), engine)
    with TestClient(app, headers={"Authorization": f"Bearer {admin_key}"}) as c:
        yield c


@pytest.fixture
def seeded(engine: Engine, client: TestClient) -> tuple[TestClient, str]:
    """The hand-made events, captured in two batches; returns the client and a record time between them."""
    events = hand_made()
    capture(engine, events[:4])
    time.sleep(0.01)
    boundary = time.time()
    time.sleep(0.01)
    capture(engine, events[4:])
    between = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(boundary)) + f".{int(boundary % 1 * 1e6):06d}Z"
    return client, between


def event_list(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["type"] == "EPCISQueryDocument"
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[no-any-return]


def labels(events: list[dict[str, Any]]) -> set[int]:
    return {int(e["eventID"][-1]) for e in events if e["eventID"].startswith(eid(0)[:-1])}


def walk(client: TestClient, url: str, params: Any = None, headers: Any = None) -> list[dict[str, Any]]:
    """Every event of a query, following Link: rel="next" until the last page."""
    out: list[dict[str, Any]] = []
    response = client.get(url, params=params, headers=headers)
    while True:
        out.extend(event_list(response))
        link = response.headers.get("link")
        if not link:
            return out
        assert link.endswith('>; rel="next"'), link
        response = client.get(link[1 : link.index(">")], headers=headers)


# --- every parameter, on data built to tell --------------------------------------------------------------

CASES: list[tuple[str, dict[str, str], set[int]]] = [
    ("eventType", {"eventType": "ObjectEvent"}, {1, 2, 7}),
    ("eventType alternatives", {"eventType": "AggregationEvent|TransformationEvent"}, {3, 4}),
    ("GE_eventTime", {"GE_eventTime": "2024-01-03T00:00:00Z"}, {3, 4, 5, 6, 7}),
    ("LT_eventTime", {"LT_eventTime": "2024-01-02T00:00:00Z"}, {1}),
    ("GE_eventTime with offset", {"GE_eventTime": "2024-01-01T08:00:00.001+08:00"}, {2, 3, 4, 5, 6, 7}),
    ("LT_eventTime with offset", {"LT_eventTime": "2024-01-01T08:00:00.001+08:00"}, {1}),
    ("time window", {"GE_eventTime": "2024-01-02T00:00:00Z", "LT_eventTime": "2024-01-04T00:00:00Z"}, {2, 3}),
    ("EQ_action", {"EQ_action": "ADD"}, {1, 3, 6}),
    ("EQ_action alternatives", {"EQ_action": "OBSERVE|DELETE"}, {2, 5, 7}),
    ("EQ_bizStep", {"EQ_bizStep": "shipping"}, {2}),
    ("EQ_bizStep URN", {"EQ_bizStep": "urn:epcglobal:cbv:bizstep:commissioning"}, {1, 4}),
    ("EQ_bizStep web URI", {"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-packing"}, {3}),
    ("EQ_bizStep alternatives", {"EQ_bizStep": "shipping|packing"}, {2, 3}),
    ("EQ_disposition", {"EQ_disposition": "in_progress"}, {3, 7}),
    ("EQ_readPoint", {"EQ_readPoint": RP_A}, {1, 3}),
    ("EQ_readPoint as Digital Link", {"EQ_readPoint": to_digital_link(RP_A)}, {1, 3}),
    ("EQ_bizLocation URN finds DL", {"EQ_bizLocation": LOC_2}, {2}),
    ("WD_bizLocation", {"WD_bizLocation": LOC_1}, {1}),
    ("MATCH_epc URN", {"MATCH_epc": S1}, {1, 2, 7}),
    ("MATCH_epc Digital Link", {"MATCH_epc": to_digital_link(S1)}, {1, 2, 7}),
    ("MATCH_epc childEPCs", {"MATCH_epc": S2}, {2, 3}),
    ("MATCH_epc pattern", {"MATCH_epc": "urn:epc:idpat:sgtin:4012345.*.*"}, {5, 6}),
    ("MATCH_epc item pattern", {"MATCH_epc": "urn:epc:idpat:sgtin:0614141.107346.*"}, {1, 2, 3, 7}),
    ("MATCH_parentID", {"MATCH_parentID": SSCC1}, {3}),
    ("MATCH_parentID pattern", {"MATCH_parentID": "urn:epc:idpat:sscc:0614141.*"}, {3, 5}),
    ("MATCH_inputEPC", {"MATCH_inputEPC": S3}, {4}),
    ("MATCH_outputEPC", {"MATCH_outputEPC": S4}, {4}),
    ("MATCH_outputEPC is not input", {"MATCH_outputEPC": S3}, set()),
    ("MATCH_anyEPC", {"MATCH_anyEPC": f"{S2}|{SSCC2}"}, {2, 3, 5}),
    ("MATCH_anyEPC input", {"MATCH_anyEPC": S3}, {4}),
    ("MATCH_epcClass", {"MATCH_epcClass": C1}, {1, 3}),
    ("MATCH_epcClass class pattern", {"MATCH_epcClass": "urn:epc:idpat:sgtin:4012345.012345.*"}, {1, 2, 3}),
    ("MATCH_inputEPCClass", {"MATCH_inputEPCClass": C1}, {4}),
    ("MATCH_outputEPCClass", {"MATCH_outputEPCClass": C3}, {4}),
    ("MATCH_anyEPCClass", {"MATCH_anyEPCClass": C1}, {1, 3, 4}),
    ("EQ_transformationID", {"EQ_transformationID": T1}, {4}),
    ("EQ_eventID", {"EQ_eventID": f"{eid(1)}|{eid(5)}"}, {1, 5}),
    ("EXISTS_errorDeclaration", {"EXISTS_errorDeclaration": ""}, {7}),
    ("EQ_persistentDisposition_set", {"EQ_persistentDisposition_set": "completeness_verified"}, {2, 5}),
    (
        "EQ_persistentDisposition_set URN",
        {"EQ_persistentDisposition_set": "urn:epcglobal:cbv:disp:completeness_verified"},
        {2, 5},
    ),
    ("EQ_persistentDisposition_set custom URI", {"EQ_persistentDisposition_set": DISP_X}, {5}),
    ("EQ_setPersistentDisposition (draft name)", {"EQ_setPersistentDisposition": "completeness_verified"}, {2, 5}),
    ("EQ_persistentDisposition_unset", {"EQ_persistentDisposition_unset": "completeness_inferred"}, {2}),
    ("set is not unset", {"EQ_persistentDisposition_unset": "completeness_verified"}, set()),
    ("EQ_errorReason", {"EQ_errorReason": "incorrect_data"}, {7}),
    ("EQ_errorReason URN", {"EQ_errorReason": "urn:epcglobal:cbv:er:incorrect_data"}, {7}),
    ("EQ_errorReason another reason", {"EQ_errorReason": "did_not_occur"}, set()),
    ("EQ_correctiveEventID", {"EQ_correctiveEventID": eid(2)}, {7}),
    ("EQ_correctiveEventID another", {"EQ_correctiveEventID": eid(3)}, set()),
    ("GE_errorDeclarationTime", {"GE_errorDeclarationTime": "2024-01-08T00:00:00Z"}, {7}),
    ("GE_errorDeclarationTime later", {"GE_errorDeclarationTime": "2024-01-08T00:00:00.001Z"}, set()),
    ("LT_errorDeclarationTime", {"LT_errorDeclarationTime": "2024-01-08T08:00:00.001+08:00"}, {7}),
    ("LT_errorDeclarationTime at", {"LT_errorDeclarationTime": "2024-01-08T08:00:00+08:00"}, set()),
    ("EQ_bizTransaction_po", {"EQ_bizTransaction_po": PO_1}, {1}),
    ("EQ_bizTransaction_desadv", {"EQ_bizTransaction_desadv": DESADV}, {5}),
    ("EQ_bizTransaction type matters", {"EQ_bizTransaction_po": DESADV}, set()),
    ("EQ_source_owning_party", {"EQ_source_owning_party": PGLN_1}, {2}),
    ("EQ_source type URN", {"EQ_source_urn:epcglobal:cbv:sdt:owning_party": to_digital_link(PGLN_1)}, {2}),
    ("EQ_destination_owning_party", {"EQ_destination_owning_party": PGLN_2}, {2}),
    ("EQ_source is not destination", {"EQ_source_owning_party": PGLN_2}, set()),
    ("EQ_quantity", {"EQ_quantity": "20"}, {3}),
    ("GT_quantity", {"GT_quantity": "20"}, {4}),
    ("GE_quantity", {"GE_quantity": "20"}, {3, 4}),
    ("LT_quantity", {"LT_quantity": "7"}, {2}),
    ("LE_quantity", {"LE_quantity": "7"}, {2, 4}),
    ("LT_quantity with unit", {"LT_quantity_KGM": "8"}, {4}),
    ("EQ_ILMD_", {"EQ_ILMD_ex:lot": "LOT-1"}, {1}),
    ("GT_ILMD_ number", {"GT_ILMD_ex:weight": "5"}, {4}),
    ("LT_ILMD_ number", {"LT_ILMD_ex:weight": "5"}, {1}),
    ("LT_ILMD_ time", {"LT_ILMD_ex:bestBefore": "2026-01-01T00:00:00Z"}, {1}),
    ("EXISTS_ILMD_", {"EXISTS_ILMD_ex:lot": ""}, {1, 4}),
    ("EQ_INNER_ILMD_", {"EQ_INNER_ILMD_ex:farm": "F1"}, {4}),
    ("EQ_ extension", {"EQ_ex:temperature": "8"}, {2}),
    ("GE_ extension", {"GE_ex:temperature": "8"}, {2, 7}),
    ("LT_ extension", {"LT_ex:temperature": "5"}, {1}),
    ("EXISTS_ extension", {"EXISTS_ex:temperature": ""}, {1, 2, 7}),
    ("EQ_INNER_ extension", {"EQ_INNER_ex:colour": "red"}, {2}),
    ("EQ_ boolean extension", {"EQ_ex:sealed": "true"}, {2}),
    ("ILMD is not extension", {"EQ_ex:lot": "LOT-1"}, set()),
    ("parameters AND", {"EQ_bizStep": "commissioning", "eventType": "TransformationEvent"}, {4}),
]


def test_each_parameter_filters(seeded: tuple[TestClient, str]) -> None:
    """Every case of CASES on one seeded store (a store per case would cost a migration each)."""
    client, _ = seeded
    wrong = []
    for name, params, expected in CASES:
        got = labels(event_list(client.get("/epcis/events", params=params, headers=EXT)))
        if got != expected or got == ALL:  # exactly these, and the parameter did narrow the answer
            wrong.append(f"{name}: {params} gave {sorted(got)}, expected {sorted(expected)}")
    assert not wrong, "\n".join(wrong)


def test_record_time(seeded: tuple[TestClient, str]) -> None:
    client, between = seeded
    assert labels(event_list(client.get("/epcis/events", params={"GE_recordTime": between}))) == {5, 6, 7}
    assert labels(event_list(client.get("/epcis/events", params={"LT_recordTime": between}))) == {1, 2, 3, 4}


def test_no_parameter_returns_everything(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    assert labels(event_list(client.get("/epcis/events"))) == ALL


def test_extension_fields_by_full_iri_without_header(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    got = labels(event_list(client.get("/epcis/events", params={f"EQ_ILMD_{NS}lot": "LOT-4"})))
    assert got == {4}


# --- identifiers: one canonical form ------------------------------------------------------------------


def read_events(relative: str) -> list[dict[str, Any]]:
    with open(DATA / relative, "rb") as stream:
        _header, events = jsonld.open_document(stream)
        return list(events)


def test_urn_query_finds_digital_link_event_and_back(engine: Engine, client: TestClient) -> None:
    urn_events = read_events("JSON/Example_9.6.1-ObjectEvent.jsonld")
    dl_events = read_events("JSON/WithDigitalLinkID/Example_9.6.1-ObjectEventWithDigitalLink.jsonld")
    capture(engine, urn_events + dl_events)
    dl_first = dl_events[0]["epcList"][0]  # https://id.gs1.org/01/70614141123451/21/2017
    urn_first = urn_events[0]["epcList"][0]  # urn:epc:id:sgtin:0614141.107346.2017
    assert dl_first.startswith("https://") and urn_first.startswith("urn:epc:id:sgtin:")

    by_urn = event_list(client.get("/epcis/events", params={"MATCH_epc": to_epc_urn(dl_first)}))
    assert [e["eventID"] for e in by_urn] == [dl_events[0]["eventID"]]
    assert by_urn[0]["epcList"][0] == dl_first  # returned as captured

    by_dl = event_list(client.get("/epcis/events", params={"MATCH_epc": to_digital_link(urn_first)}))
    assert [e["eventID"] for e in by_dl] == [urn_events[0]["eventID"]]

    # The same through the /epcs resource, with the Digital Link percent-encoded in the path.
    via_path = event_list(client.get(f"/epcis/epcs/{quote(to_epc_urn(dl_first), safe='')}/events"))
    assert [e["eventID"] for e in via_path] == [dl_events[0]["eventID"]]
    via_dl_path = event_list(client.get(f"/epcis/epcs/{quote(to_digital_link(urn_first), safe='')}/events"))
    assert [e["eventID"] for e in via_dl_path] == [urn_events[0]["eventID"]]


def test_epc_format_header(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    params = {"EQ_eventID": eid(2)}
    (as_captured,) = event_list(client.get("/epcis/events", params=params))
    assert as_captured["epcList"] == [to_digital_link(S1), S2]

    response = client.get("/epcis/events", params=params, headers={"GS1-EPC-Format": "Always_EPC_URN"})
    (urns,) = event_list(response)
    assert response.headers["GS1-EPC-Format"] == "Always_EPC_URN"
    assert urns["epcList"] == [S1, S2]
    assert urns["bizLocation"]["id"] == LOC_2
    assert urns["sourceList"][0]["source"] == PGLN_1

    (dls,) = event_list(
        client.get("/epcis/events", params=params, headers={"GS1-EPC-Format": "Always_GS1_Digital_Link"})
    )
    assert dls["epcList"] == [to_digital_link(S1), to_digital_link(S2)]
    assert dls["readPoint"]["id"] == to_digital_link(RP_B)

    (kept,) = event_list(client.get("/epcis/events", params=params, headers={"GS1-EPC-Format": "Never_Translates"}))
    assert kept["epcList"] == as_captured["epcList"]

    bad = client.get("/epcis/events", headers={"GS1-EPC-Format": "Sometimes"})
    assert bad.status_code == 400
    assert "GS1-EPC-Format" in bad.json()["detail"]


# --- documents ----------------------------------------------------------------------------------------------


def test_query_document_merges_event_contexts(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    response = client.get("/epcis/events", params={"EQ_eventID": f"{eid(1)}|{eid(3)}"})
    doc = response.json()
    assert response.headers["content-type"] == "application/ld+json"
    assert doc["@context"][0] == STANDARD_CONTEXT
    assert {"ex": NS} in doc["@context"]
    assert doc["epcisBody"]["queryResults"]["queryName"] == "SimpleEventQuery"
    for event in doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]:
        assert "@context" not in event


def test_conflicting_prefixes_stay_on_their_event(engine: Engine, client: TestClient) -> None:
    one = {
        "@context": [{"p": "https://one.example/"}],
        "type": "ObjectEvent",
        "eventTime": "2024-02-01T00:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [S1],
        "action": "OBSERVE",
        "p:f": "1",
    }
    two = {**copy.deepcopy(one), "@context": [{"p": "https://two.example/"}], "eventTime": "2024-02-02T00:00:00Z"}
    capture(engine, [one, two])
    doc = client.get("/epcis/events", params={"orderBy": "eventTime", "orderDirection": "ASC"}).json()
    events = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert {"p": "https://one.example/"} in doc["@context"]
    assert "@context" not in events[0]
    assert events[1]["@context"] == [{"p": "https://two.example/"}]


def test_xml_output(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    response = client.get(
        "/epcis/events", params={"EQ_bizStep": "shipping|packing"}, headers={"Accept": "application/xml"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    assert etree.QName(root).localname == "EPCISQueryDocument"
    event_ids = [el.text for el in root.iter("eventID")]
    assert sorted(event_ids) == sorted([eid(2), eid(3)])
    assert root.findtext(".//queryName") == "SimpleEventQuery"


NEGOTIATION = [
    ("application/ld+json", 200, "application/ld+json"),
    ("application/json", 200, "application/json"),
    ("*/*", 200, "application/ld+json"),
    ("text/html, application/xml;q=0.5", 200, "application/xml"),
    ("application/json;q=0.4, application/xml;q=0.9", 200, "application/xml"),
    ("text/html", 406, "application/problem+json"),
    ("application/xml;q=0", 406, "application/problem+json"),
]


def test_content_negotiation(client: TestClient) -> None:
    for accept, status, media in NEGOTIATION:
        response = client.get("/epcis/events", headers={"Accept": accept})
        assert (response.status_code, response.headers["content-type"].split(";")[0]) == (status, media), accept
        if status == 406:
            assert response.json()["type"] == "epcisException:NotAcceptableException"
    # Discovery lists are JSON only.
    assert client.get("/epcis/eventTypes", headers={"Accept": "application/xml"}).status_code == 406


def test_version_headers(client: TestClient) -> None:
    ok = client.get("/epcis/events", headers={"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Max": "2.0.0"})
    assert ok.status_code == 200
    assert ok.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert ok.headers["GS1-CBV-Version"] == "2.0.0"
    for header, value in (("GS1-EPCIS-Version", "1.2"), ("GS1-EPCIS-Min", "2.1"), ("GS1-CBV-Max", "1.2.0")):
        refused = client.get("/epcis/events", headers={header: value})
        assert refused.status_code == 406, header
        assert header in refused.json()["detail"]


# --- single events -------------------------------------------------------------------------------------


def test_get_event_by_id(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    events = event_list(client.get(f"/epcis/events/{quote(eid(4), safe='')}"))
    assert [e["eventID"] for e in events] == [eid(4)]
    missing = client.get(f"/epcis/events/{quote('urn:uuid:00000000-0000-4000-8000-000000000000', safe='')}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_get_event_by_hash_id_with_slashes_and_query_chars(engine: Engine, client: TestClient) -> None:
    event = copy.deepcopy(hand_made()[2])
    del event["eventID"]  # capture names it by its hash: ni:///sha-256;…?ver=CBV2.0
    (event_id,) = capture(engine, [event]).event_ids
    assert event_id.startswith("ni:///")
    events = event_list(client.get(f"/epcis/events/{quote(event_id, safe='')}"))
    assert [e["eventID"] for e in events] == [event_id]


# --- conformance round trip ---------------------------------------------------------------------------


def test_conformance_events_round_trip(engine: Engine, client: TestClient) -> None:
    """Every GS1 example event that captures comes back with the same fields and values."""
    expected: dict[str, dict[str, Any]] = {}
    stored = 0
    for path in sorted((DATA / "JSON").rglob("*.jsonld")):
        events = read_events(str(path.relative_to(DATA)))
        # Examples repeat events (same content, so the same event hash) and reuse eventIDs for different
        # events across files; compare the documents whose every event was stored as new.
        result = capture_events(engine, events, behaviour="proceed")
        stored += result.stored
        if result.stored == len(events):
            expected.update({e["eventID"]: {k: v for k, v in e.items() if k != "@context"} for e in events})
    assert len(expected) > 40
    got = {e["eventID"]: e for e in walk(client, "/epcis/events", params={"perPage": 7})}
    assert len(got) == stored
    for event_id, event in expected.items():
        # An event whose prefix clashes with another event's on the same page keeps its own @context.
        assert {k: v for k, v in got[event_id].items() if k != "@context"} == event, event_id
    some_id = next(iter(expected))
    (single,) = event_list(client.get(f"/epcis/events/{quote(some_id, safe='')}"))
    assert single == expected[some_id]


# --- paging ---------------------------------------------------------------------------------------------


def many(n: int) -> list[dict[str, Any]]:
    """n events, several sharing an eventTime (ties must still page exactly once)."""
    return [
        {
            "@context": CTX,
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:3c2a0000-0000-4000-8000-{i:012d}",
            "eventTime": f"2024-03-{1 + i // 3:02d}T00:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [f"urn:epc:id:sgtin:0614141.107346.{9000 + i}"],
            "action": "OBSERVE",
            "bizStep": "shipping" if i % 2 else "receiving",
            "ex:rank": (i * 7) % 11,
        }
        for i in range(n)
    ]


PAGED_QUERIES: list[dict[str, str]] = [
    {},
    {"orderBy": "eventTime"},
    {"orderBy": "eventTime", "orderDirection": "ASC"},
    {"orderBy": "recordTime"},
    {"orderBy": "ex:rank", "orderDirection": "ASC"},
    {"orderBy": "ex:rank"},
    {"EQ_bizStep": "shipping", "orderBy": "eventTime"},
]


def test_paging_walks_every_event_once(engine: Engine, client: TestClient) -> None:
    capture(engine, many(23))
    for params in PAGED_QUERIES:
        whole = event_list(client.get("/epcis/events", params={**params, "perPage": 1000}, headers=EXT))
        paged = walk(client, "/epcis/events", params={**params, "perPage": 4}, headers=EXT)
        ids = [e["eventID"] for e in paged]
        assert len(ids) == len(set(ids)), params
        assert ids == [e["eventID"] for e in whole], params  # same events, same order
        assert len(ids) == (11 if "EQ_bizStep" in params else 23), params
        descending = params.get("orderDirection") != "ASC"
        if params.get("orderBy") == "eventTime":
            times = [e["eventTime"] for e in paged]
            assert times == sorted(times, reverse=descending), params
        if params.get("orderBy") == "ex:rank":
            ranks = [e["ex:rank"] for e in paged]
            assert ranks == sorted(ranks, reverse=descending), params


def test_event_count_limit_and_max_event_count(engine: Engine, client: TestClient) -> None:
    capture(engine, many(23))
    latest = walk(client, "/epcis/events", params={"orderBy": "eventTime", "eventCountLimit": 10, "perPage": 3})
    everything = event_list(client.get("/epcis/events", params={"orderBy": "eventTime", "perPage": 100}))
    assert [e["eventID"] for e in latest] == [e["eventID"] for e in everything[:10]]

    too_many = client.get("/epcis/events", params={"maxEventCount": 22})
    assert too_many.status_code == 413
    assert too_many.json()["type"] == "epcisException:QueryTooLargeException"
    enough = event_list(client.get("/epcis/events", params={"maxEventCount": 23, "perPage": 100}))
    assert len(enough) == 23
    huge = client.get("/epcis/events", params={"maxEventCount": "9" * 30})
    assert huge.status_code == 400
    assert "maxEventCount" in huge.json()["detail"]

    no_order = client.get("/epcis/events", params={"eventCountLimit": 5})
    assert no_order.status_code == 400
    assert no_order.json()["type"] == "epcisException:QueryParameterException"


def test_page_token_is_bound_to_its_query(engine: Engine, client: TestClient) -> None:
    capture(engine, many(10))
    first = client.get("/epcis/events", params={"EQ_bizStep": "shipping", "perPage": 2})
    link = first.headers["link"]
    token = link.split("nextPageToken=")[1].split(">")[0]
    assert client.get(link[1 : link.index(">")]).status_code == 200
    other_query = client.get("/epcis/events", params={"EQ_bizStep": "receiving", "nextPageToken": token})
    assert other_query.status_code == 400
    assert "nextPageToken" in other_query.json()["detail"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    tampered = client.get("/epcis/events", params={"EQ_bizStep": "shipping", "nextPageToken": forged})
    assert tampered.status_code == 400
    assert client.get("/epcis/events", params={"nextPageToken": "garbage"}).status_code == 400
    assert client.delete(f"/epcis/nextPageToken/{token}").status_code == 204


def test_per_page(engine: Engine, client: TestClient) -> None:
    capture(engine, many(5))
    assert len(event_list(client.get("/epcis/events", params={"perPage": 2}))) == 2
    assert len(event_list(client.get("/epcis/events", params={"perPage": "9" * 5000}))) == 5  # capped, not an error
    for bad in ("0", "-3", "many", "00"):
        response = client.get("/epcis/events", params={"perPage": bad})
        assert response.status_code == 400, bad


# --- errors -------------------------------------------------------------------------------------------------


def test_query_errors_are_problem_documents(client: TestClient) -> None:
    unknown = client.get("/epcis/events", params={"GE_eventDate": "2024-01-01T00:00:00Z"})
    assert unknown.status_code == 400
    body = unknown.json()
    assert body["type"] == "epcisException:QueryParameterException"
    assert "GE_eventDate" in body["detail"]
    assert [e["pointer"] for e in body["errors"]] == ["/GE_eventDate"]

    no_zone = client.get("/epcis/events", params={"GE_eventTime": "2024-01-01T00:00:00"})
    assert no_zone.status_code == 400
    assert "time zone" in no_zone.json()["detail"]

    undeclared = client.get("/epcis/events", params={"EQ_ex:temperature": "8"})
    assert undeclared.status_code == 400
    assert "GS1-Extensions" in undeclared.json()["detail"]

    unsupported = client.get("/epcis/events", params={"EQ_readPoint_ex:site": "x"})
    assert unsupported.status_code == 501
    assert unsupported.json()["type"] == "epcisException:ImplementationException"


# --- discovery ------------------------------------------------------------------------------------------


def members(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "Collection"
    return body["member"]  # type: ignore[no-any-return]


def all_members(client: TestClient, url: str, per_page: int) -> list[str]:
    out: list[str] = []
    response = client.get(url, params={"perPage": per_page})
    while True:
        out.extend(members(response))
        link = response.headers.get("link")
        if not link:
            return out
        response = client.get(link[1 : link.index(">")])


def test_top_level(client: TestClient) -> None:
    assert set(members(client.get("/epcis"))) >= {"events", "eventTypes", "epcs", "bizSteps", "queries"}


def test_discovery_lists(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    event_types = all_members(client, "/epcis/eventTypes", 2)
    assert sorted(event_types) == sorted(
        ["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"]
    )
    biz_steps = all_members(client, "/epcis/bizSteps", 7)
    assert len(biz_steps) == len(set(biz_steps))
    assert {"shipping", "receiving", "commissioning", "void_shipping"} <= set(biz_steps)
    assert "in_transit" in all_members(client, "/epcis/dispositions", 50)

    epcs = all_members(client, "/epcis/epcs", 3)
    used = {S1, S2, S3, S4, S5, S6, SSCC1, SSCC2, GIAI1}
    assert sorted(epcs) == sorted({canonical_id(x) for x in used})  # one entry per EPC, whatever its spelling
    urns = members(client.get("/epcis/epcs", params={"perPage": 100}, headers={"GS1-EPC-Format": "Always_EPC_URN"}))
    assert set(urns) == used

    assert set(all_members(client, "/epcis/readPoints", 1)) == {canonical_id(RP_A), canonical_id(RP_B)}
    read_points = client.get("/epcis/readPoints", headers={"GS1-EPC-Format": "Always_EPC_URN"})
    assert set(members(read_points)) == {RP_A, RP_B}
    assert set(all_members(client, "/epcis/bizLocations", 1)) == {canonical_id(LOC_1), canonical_id(LOC_2)}


RESOURCE_EVENTS = [
    ("/epcis/eventTypes/TransformationEvent/events", {4}),
    (f"/epcis/epcs/{quote(S2, safe='')}/events", {2, 3}),
    (f"/epcis/epcs/{quote(to_digital_link(SSCC2), safe='')}/events", {5}),
    ("/epcis/bizSteps/commissioning/events", {1, 4}),
    (f"/epcis/bizSteps/{quote('urn:epcglobal:cbv:bizstep:shipping', safe='')}/events", {2}),
    ("/epcis/dispositions/in_progress/events", {3, 7}),
    (f"/epcis/readPoints/{quote(RP_B, safe='')}/events", {2, 6}),
    (f"/epcis/bizLocations/{quote(to_digital_link(LOC_1), safe='')}/events", {1}),
]


def test_resource_events(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    for path, expected in RESOURCE_EVENTS:
        assert labels(event_list(client.get(path))) == expected, path


def test_resource_events_take_more_filters_and_page(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    assert labels(
        event_list(client.get("/epcis/bizSteps/commissioning/events", params={"eventType": "ObjectEvent"}))
    ) == {1}
    disjoint = client.get("/epcis/eventTypes/TransformationEvent/events", params={"eventType": "ObjectEvent"})
    assert event_list(disjoint) == []
    assert labels(walk(client, f"/epcis/epcs/{quote(S1, safe='')}/events", params={"perPage": 1})) == {1, 2, 7}
    # A Digital Link in the path ('/' encoded as %2F): the next-page links keep the path as sent.
    by_dl = walk(client, f"/epcis/epcs/{quote(to_digital_link(S1), safe='')}/events", params={"perPage": 2})
    assert [e["eventID"] for e in by_dl] == [eid(1), eid(2), eid(7)]


def test_resource_instances(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    assert members(client.get("/epcis/bizSteps/shipping")) == ["events"]
    assert members(client.get(f"/epcis/epcs/{quote(to_digital_link(S1), safe='')}")) == ["events"]
    assert client.get(f"/epcis/epcs/{quote('urn:epc:id:sgtin:0614141.107346.1', safe='')}").status_code == 404
    assert client.get("/epcis/eventTypes/NoSuchEvent/events").status_code == 404
    assert client.get("/epcis/bizSteps/shiping").status_code == 404
    assert client.get("/epcis/epcs/a%00b/events").status_code == 404
    assert client.get("/epcis/events/a%00b").status_code == 404
    assert client.get("/epcis/events", params={"EQ_eventID": "a\x00b"}).status_code == 400


def test_options(client: TestClient) -> None:
    for path, allow in (
        ("/epcis/events", "OPTIONS, GET, POST"),
        ("/epcis/eventTypes", "OPTIONS, GET"),
        ("/epcis/epcs/urn:epc:id:sgtin:0614141.107346.2018/events", "OPTIONS, GET"),
        ("/epcis/queries", "OPTIONS, GET, POST"),
        ("/epcis/queries/q", "OPTIONS, GET, DELETE"),
    ):
        response = client.options(path)
        assert response.status_code == 204, path
        assert response.headers["allow"] == allow
        assert response.headers["GS1-EPCIS-Version"] == "2.0.0"
        assert "Always_GS1_Digital_Link" in response.headers["GS1-EPC-Format"]


# --- named queries --------------------------------------------------------------------------------------


def test_named_query_lifecycle(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    definition = {"name": "shipments", "query": {"EQ_bizStep": ["shipping", "packing"], "GE_ex:temperature": 5}}
    created = client.post("/epcis/queries", json=definition, headers=EXT)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/epcis/queries/shipments"
    assert client.post("/epcis/queries", json=definition, headers=EXT).status_code == 409

    stored = client.get("/epcis/queries/shipments").json()
    assert stored["name"] == "shipments"
    assert stored["query"]["EQ_bizStep"] == ["shipping", "packing"]
    assert stored["query"]["@context"] == [{"ex": NS}]  # the header's prefix travels with the query

    # shipping|packing selects 2 and 3; the temperature condition (≥ 5) keeps only 2.
    assert labels(event_list(client.get("/epcis/queries/shipments/events"))) == {2}
    extra = client.get("/epcis/queries/shipments/events", params={"EQ_action": "ADD"})
    assert extra.status_code == 400

    assert client.delete("/epcis/queries/shipments").status_code == 204
    gone = client.get("/epcis/queries/shipments/events")
    assert gone.status_code == 404
    assert gone.json()["type"] == "epcisException:NoSuchNameException"
    assert client.delete("/epcis/queries/shipments").status_code == 404


def test_named_query_list_pages(client: TestClient) -> None:
    names = [f"q{i:02d}" for i in range(7)]
    for name in reversed(names):
        assert (
            client.post("/epcis/queries", json={"name": name, "query": {"eventType": ["ObjectEvent"]}}).status_code
            == 201
        )
    seen: list[str] = []
    response = client.get("/epcis/queries", params={"perPage": 3})
    while True:
        assert response.status_code == 200
        seen.extend(item["name"] for item in response.json())
        link = response.headers.get("link")
        if not link:
            break
        response = client.get(link[1 : link.index(">")])
    assert seen == names


def test_named_query_refusals(client: TestClient) -> None:
    bad = client.post("/epcis/queries", json={"name": "x", "query": {"EQ_action": ["SHIP"]}})
    assert bad.status_code == 400
    assert bad.json()["type"] == "epcisException:QueryParameterException"
    assert "EQ_action" in bad.json()["detail"]
    assert client.post("/epcis/queries", json={"query": {}}).status_code == 400
    assert (
        client.post("/epcis/queries", content=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert (
        client.post("/epcis/queries", content=b"<q/>", headers={"Content-Type": "application/xml"}).status_code == 415
    )
    assert client.get("/epcis/queries/nope").status_code == 404


def test_openepcis_query_document_as_named_query(seeded: tuple[TestClient, str]) -> None:
    client, _ = seeded
    query = json.loads((DATA / "openepcis/2.0/EPCIS/JSON/Query/Queries/SimpleEventQuery.json").read_text())
    assert client.post("/epcis/queries", json={"name": "openepcis", "query": query}).status_code == 201
    # Its time window is 2026 and its keys match none of the test events: a valid, empty answer.
    assert event_list(client.get("/epcis/queries/openepcis/events")) == []


# --- robustness -----------------------------------------------------------------------------------------

_NAMES = [name for _, params, _ in CASES for name in params] + [
    "orderBy",
    "orderDirection",
    "eventCountLimit",
    "maxEventCount",
    "perPage",
    "nextPageToken",
    "EQ_ILMD_",
    "GT_",
    "EXISTS_",
]


@hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    st.lists(
        st.tuples(st.one_of(st.sampled_from(_NAMES), st.text(max_size=12)), st.text(max_size=40)),
        max_size=4,
    )
)
def test_any_query_string_gets_an_answer_not_a_crash(client: TestClient, items: list[tuple[str, str]]) -> None:
    response = client.get("/epcis/events", params=items, headers=EXT)
    assert response.status_code in (200, 400, 413, 501), (items, response.text)
    if response.status_code != 200:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]


def test_master_data_parameters_over_http(client: TestClient, engine: Engine, tmp_path: Path) -> None:
    """Attribute names with '#' travel percent-encoded in the parameter's name; the answer is the events whose
    location the master data (captured in the document's header) describes so."""
    doc = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-23T00:00:00Z",
        "epcisHeader": {
            "epcisMasterData": {
                "vocabularyList": [
                    {
                        "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                        "vocabularyElementList": [
                            {
                                "id": LOC_1,
                                "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "冷库一号"}],
                                "children": [LOC_2],
                            }
                        ],
                    }
                ]
            }
        },
        "epcisBody": {"eventList": []},
    }
    path = tmp_path / "masterdata.jsonld"
    path.write_bytes(orjson.dumps(doc))
    assert capture_file(engine, path, "json").success
    capture(engine, hand_made())
    named = client.get("/epcis/events", params={"EQ_ATTR_bizLocation_urn:epcglobal:cbv:mda#name": "冷库一号"})
    assert labels(event_list(named)) == {1}
    below = client.get("/epcis/events", params={"WD_bizLocation": LOC_1})
    assert labels(event_list(below)) == {1, 2}
    has = client.get("/epcis/events", params={"HASATTR_bizLocation": "cbvmda:name"})
    assert labels(event_list(has)) == {1}
    wrong = client.get("/epcis/events", params={"HASATTR_epc": "cbvmda:name"})
    assert wrong.status_code == 400 and "HASATTR_epc" in wrong.json()["detail"]
