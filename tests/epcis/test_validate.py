"""Validation of captured EPCIS 2.0 input: conformance vectors (valid pass, invalid refused at the right
field), the rules a schema cannot check, XSD validation in memory and while streaming."""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhuisu.epcis import validate as V
from zhuisu.epcis.problems import Problem
from zhuisu.epcis.validate import (
    validate_event,
    validate_json_document,
    validate_xml_bytes,
    validate_xml_stream,
    xml_schema,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "epcis"
OE = "openepcis/2.0/EPCIS"
CTX = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def _rel(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


VALID_JSON = sorted(
    [*(DATA / "JSON").rglob("*.jsonld"), *(DATA / OE / "JSON/Capture/Documents").glob("*.json")], key=_rel
)
VALID_JSON_EVENTS = sorted((DATA / OE / "JSON/Capture/Events").glob("*.json"), key=_rel)
INVALID_JSON = sorted((DATA / OE / "JSON/Capture/Invalid").glob("*.json"), key=_rel)
INVALID_XML = sorted((DATA / OE / "XML/Capture/Invalid").glob("*.xml"), key=_rel)


def _xml_root(path: Path) -> str:
    from lxml import etree

    return etree.QName(etree.parse(str(path)).getroot()).localname


VALID_XML = sorted(
    [
        *(p for p in (DATA / "XML").rglob("*.xml") if _xml_root(p) in ("EPCISDocument", "EPCISQueryDocument")),
        *(DATA / OE / "XML/Capture/Documents").glob("*.xml"),
        *(DATA / OE / "XML/Capture/Events").glob("*.xml"),
    ],
    key=_rel,
)
MASTER_DATA_XML = sorted(
    (p for p in (DATA / "XML").rglob("*.xml") if _xml_root(p) == "EPCISMasterDataDocument"), key=_rel
)

# Conformance files labelled valid that this validator refuses, each with where and why. We checked each
# against the ratified artefacts: the standard is right, the example is not (see the reasons).
REFUSED_VALID_JSON: dict[str, tuple[set[tuple[int | None, str]], str]] = {
    f"{OE}/JSON/Capture/Documents/Combination_of_different_event.json": (
        {(0, "/epcisBody/eventList/0/epcList/0")},
        "https://id.example.com/8003/030013450007718765 is a GRAI (AI 8003) whose check digit is 1; "
        "GS1's mod-10 over 0300134500077 gives 6, so the Digital Link is malformed",
    ),
    f"{OE}/JSON/Capture/Documents/SensorData_with_combined_events.json": (
        {
            (7, "/epcisBody/eventList/7/sensorElementList/0/sensorReport/1/type"),
            (7, "/epcisBody/eventList/7/sensorElementList/0/sensorReport/2/type"),
            (8, "/epcisBody/eventList/8/sensorElementList/0/sensorReport/0/type"),
            (8, "/epcisBody/eventList/8/sensorElementList/0/sensorReport/1/type"),
            (10, "/epcisBody/eventList/10/sensorElementList/0/sensorReport/0/type"),
            (12, "/epcisBody/eventList/12/epcList/0"),
        },
        "'Molar_concentration' and 'EffectiveDoseRate' are not GS1 measurement types (the ratified 2.0.1 "
        "schema's enum and GS1's gs1-context agree; GS1's own JSON examples use AmountOfSubstancePerUnitVolume "
        "and DoseEquivalentRate, only the older XML keeps the draft words); the ratified schema requires a "
        "sensorReport 'type' (GS1 added one to the JSON of SensorDataExample9, whose XML omits it); and "
        "https://id.example.com/8003/952012200000001004 is a GRAI whose first digit must be 0",
    ),
    f"{OE}/JSON/Capture/Documents/TransactionEvent_with_userExtensions.json": (
        {(0, "/epcisBody/eventList/0/sensorElementList/0/sensorReport/0/type")},
        "'EffectiveDoseRate' is not a GS1 measurement type (see above)",
    ),
}

REFUSED_VALID_XML: dict[str, tuple[str, str]] = {
    f"{OE}/XML/Capture/Documents/JumbledFieldsOrder.xml": (
        "disposition",
        "the XSD defines each event as an xsd:sequence: <disposition> before <eventTime> is invalid XML "
        "(field order is free only in JSON)",
    ),
    f"{OE}/XML/Capture/Documents/Namespace_document.xml": (
        "ObjectEvent",
        "events are in the EPCIS namespace (<epcis:ObjectEvent>); the XSD has elementFormDefault="
        "'unqualified', so event elements and their fields carry no namespace",
    ),
    f"{OE}/XML/Capture/Events/Namespace_event.xml": (
        "ObjectEvent",
        "a bare <epcis:ObjectEvent>: same reason as Namespace_document.xml",
    ),
}

# Per invalid file: every (event index, path) the validator must name, and nothing else.
EXPECTED_INVALID_JSON: dict[str, set[tuple[int | None, str]]] = {
    "Combination_of_events_with_missing_mandatory_fields.json": {
        (0, "action"),
        (1, "eventTimeZoneOffset"),
        (1, "action"),
    },
    "Combination_of_multiple_invalid_fields.json": {
        (0, "bizStep"),
        (1, "disposition"),
        (2, "sourceList/0/type"),
        (3, "ilmd/materialType"),
        (4, "eventTime"),
        (4, "action"),
    },
    "Combination_of_non_standard_bizStep_and_disposition.json": {(0, "bizStep"), (1, "disposition")},
    "EPCISDocument_without_context.json": {(None, "@context")},
    "ObjectEvent_with_ilmd_field_without_namespace.json": {(0, "ilmd/materialType")},
    "ObjectEvent_with_invalid_action.json": {(0, "action")},
    "ObjectEvent_with_invalid_certificationInfo.json": {(0, "certificationInfo/0"), (0, "certificationInfo/1")},
    "ObjectEvent_with_invalid_eventTime_format.json": {(0, "eventTime")},
    "ObjectEvent_with_non_standard_bizStep.json": {(0, "bizStep")},
    "ObjectEvent_with_non_standard_bizStep_in_second_event.json": {(1, "bizStep")},
    "ObjectEvent_with_non_standard_disposition.json": {(0, "disposition")},
    "ObjectEvent_with_quantity_as_text.json": {(0, "quantityList/0/quantity")},
    "ObjectEvent_with_unknown_field_in_quantityList.json": {(0, "quantityList/0/weight")},
    "ObjectEvent_without_action_and_eventTime.json": {(0, "action"), (0, "eventTime"), (0, "eventTimeZoneOffset")},
    "ObjectEvent_without_identifier_list.json": {(0, "epcList")},
}

# Per invalid XML file: the element the problem names, its line, and a word the message must contain.
EXPECTED_INVALID_XML: dict[str, tuple[str, int, str]] = {
    "ObjectEvent_bare_event_without_action.xml": ("bizStep", 8, "expected action"),
    "ObjectEvent_with_invalid_action.xml": ("action", 12, "'CREATE' is not allowed"),
    "ObjectEvent_with_invalid_eventTime_format.xml": ("eventTime", 7, "'22-07-2026' is not a valid date-time"),
    "ObjectEvent_with_near_miss_action.xml": ("action", 13, "did you mean 'OBSERVE'"),
    "ObjectEvent_with_unknown_element.xml": ("madeUpField", 13, "not an EPCIS field"),
    "ObjectEvent_with_wrong_element_order.xml": ("action", 7, "expected eventTime"),
    "ObjectEvent_without_eventTime.xml": ("eventTimeZoneOffset", 7, "expected eventTime"),
}


def _where(problems: list[Problem]) -> set[tuple[int | None, str]]:
    return {(p.index, p.path) for p in problems}


# ------------------------------------------------------------------------------------------------------
# Conformance vectors
# ------------------------------------------------------------------------------------------------------


def test_conformance_files_are_all_here() -> None:
    assert len(VALID_JSON) == 47 + 38
    assert len(VALID_JSON_EVENTS) == 5
    assert len(INVALID_JSON) == 15
    assert len(INVALID_XML) == 7
    assert set(EXPECTED_INVALID_JSON) == {p.name for p in INVALID_JSON}
    assert set(EXPECTED_INVALID_XML) == {p.name for p in INVALID_XML}
    assert len(VALID_XML) == 31 + 37 + 6  # GS1's 31 documents (not capture jobs, master data) + OpenEPCIS'
    assert len(MASTER_DATA_XML) == 2


@pytest.mark.parametrize("path", [p for p in VALID_JSON if _rel(p) not in REFUSED_VALID_JSON], ids=_rel)
def test_valid_json_document_passes(path: Path) -> None:
    assert validate_json_document(_load(path)) == []


@pytest.mark.parametrize("name", sorted(REFUSED_VALID_JSON))
def test_conformance_json_we_refuse_and_why(name: str) -> None:
    where, _why = REFUSED_VALID_JSON[name]
    assert _where(validate_json_document(_load(DATA / name))) == where


@pytest.mark.parametrize("path", VALID_JSON_EVENTS, ids=_rel)
def test_valid_single_event_passes(path: Path) -> None:
    event = _load(path)
    assert validate_event(event) == []  # prefixes from its own @context
    assert validate_json_document(event) == []  # as POST /events receives it


@pytest.mark.parametrize("path", INVALID_JSON, ids=lambda p: p.name)
def test_invalid_json_document_is_refused_naming_the_field(path: Path) -> None:
    problems = validate_json_document(_load(path))
    expected = set()
    for index, field in EXPECTED_INVALID_JSON[path.name]:
        prefix = "" if index is None else f"/epcisBody/eventList/{index}"
        expected.add((index, f"{prefix}/{field}"))
    assert _where(problems) == expected
    for p in problems:  # the message names the field it is about
        leaf = p.path.rsplit("/", 1)[-1]
        assert leaf in p.message or (leaf.isdigit() and p.path.split("/")[-2] in p.message), p


def test_cbv_and_namespace_problems_are_not_left_to_the_schema() -> None:
    # The README counts 10 of 15 invalid files as failing the JSON schema (formats unchecked); the other
    # five are caught by the vocabulary and namespace checks. Run those checks alone to show it.
    for name in (
        "ObjectEvent_with_non_standard_bizStep.json",
        "ObjectEvent_with_non_standard_disposition.json",
        "ObjectEvent_with_ilmd_field_without_namespace.json",
    ):
        doc = _load(DATA / OE / "JSON/Capture/Invalid" / name)
        event = doc["epcisBody"]["eventList"][0]
        assert V._Checker(event, 0, "", None).run(event["type"]), name


@pytest.mark.parametrize("path", [p for p in VALID_XML if _rel(p) not in REFUSED_VALID_XML], ids=_rel)
def test_valid_xml_document_passes_xsd(path: Path) -> None:
    assert validate_xml_bytes(path.read_bytes()) == []
    assert list(validate_xml_stream(path)) == []


@pytest.mark.parametrize("path", MASTER_DATA_XML, ids=_rel)
def test_master_data_documents_pass_xsd(path: Path) -> None:
    assert validate_xml_bytes(path.read_bytes()) == []


@pytest.mark.parametrize("name", sorted(REFUSED_VALID_XML))
def test_conformance_xml_we_refuse_and_why(name: str) -> None:
    element, _why = REFUSED_VALID_XML[name]
    problems = validate_xml_bytes((DATA / name).read_bytes())
    assert problems and all(f"element <{element}>" in p.message for p in problems)
    assert [p.message for p in validate_xml_stream(DATA / name)] == [p.message for p in problems]


@pytest.mark.parametrize("path", INVALID_XML, ids=lambda p: p.name)
def test_invalid_xml_is_refused_naming_line_and_element(path: Path) -> None:
    element, line, words = EXPECTED_INVALID_XML[path.name]
    problems = validate_xml_bytes(path.read_bytes())
    assert len(problems) == 1
    (p,) = problems
    assert p.index == 0
    assert p.message.startswith(f"line {line}, element <{element}>:")
    assert words in p.message
    assert p.path.endswith(f"/{element}")
    streamed = list(validate_xml_stream(io.BytesIO(path.read_bytes())))
    assert [(s.index, s.message) for s in streamed] == [(p.index, p.message)]


# ------------------------------------------------------------------------------------------------------
# One event: what the schema cannot check
# ------------------------------------------------------------------------------------------------------


def _event(etype: str = "ObjectEvent", /, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": etype,
        "eventTime": "2026-07-22T06:45:00.000+08:00",
        "eventTimeZoneOffset": "+08:00",
    }
    if etype == "ObjectEvent":
        event |= {"action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"]}
    elif etype in ("AggregationEvent", "AssociationEvent"):
        event |= {
            "action": "ADD",
            "parentID": "urn:epc:id:sscc:0614141.1234567890",
            "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2017"],
        }
    elif etype == "TransactionEvent":
        event |= {
            "action": "ADD",
            "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:PO-1"}],
            "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        }
    elif etype == "TransformationEvent":
        event |= {
            "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200}],
            "outputEPCList": ["urn:epc:id:sgtin:4012345.077889.25"],
        }
    event |= fields
    return {k: v for k, v in event.items() if v is not None}


def _paths(event: dict[str, Any], **kw: Any) -> list[str]:
    return [p.path for p in validate_event(event, **kw)]


def _messages(event: dict[str, Any], **kw: Any) -> list[str]:
    return [p.message for p in validate_event(event, **kw)]


@pytest.mark.parametrize("etype", V.EVENT_TYPES)
def test_a_plain_event_of_each_type_passes(etype: str) -> None:
    assert validate_event(_event(etype)) == []


def test_messages_say_what_to_do() -> None:
    assert _messages(_event(bizStep="shiping")) == [
        "bizStep 'shiping' is not a CBV 2.0 business step; use a CBV word such as 'shipping' or an absolute URI"
    ]
    assert _messages(_event(myField=1)) == [
        "extension field 'myField' has no namespace: write it as prefix:myField and declare the prefix in @context"
    ]
    assert _messages(_event(action="OBSERV")) == [
        "action 'OBSERV' is not ADD, OBSERVE or DELETE (did you mean 'OBSERVE'?)"
    ]
    assert _messages(_event(disposition="In_Transit")) == [
        "disposition 'In_Transit' is not a CBV 2.0 disposition; use a CBV word such as 'in_transit' or an absolute URI"
    ]


def test_index_and_path_are_reported() -> None:
    (p,) = validate_event(_event(bizStep="nope"), 7)
    assert (p.index, p.path) == (7, "/bizStep")
    assert str(p).startswith("event 7 at /bizStep: ")


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("bizStep", "shipping", True),
        ("bizStep", "https://example.com/steps/inspecting", True),  # a URI of one's own
        ("bizStep", "https://ref.gs1.org/cbv/BizStep-shipping", True),
        ("bizStep", "https://ref.gs1.org/cbv/BizStep-shiping", False),  # claims to be CBV, is not
        ("bizStep", "urn:epcglobal:cbv:bizstep:shipping", False),  # the JSON form takes the bare word
        ("bizStep", "cbv:BizStep-receiving", True),
        ("bizStep", "transforming", False),
        ("disposition", "in_transport", False),
        ("disposition", "urn:epcglobal:cbv:disp:in_transit", False),
    ],
)
def test_cbv_vocabulary(field: str, value: str, ok: bool) -> None:
    problems = validate_event(_event(**{field: value}))
    assert (problems == []) is ok, problems
    assert all(p.path == f"/{field}" and value in p.message for p in problems)


def test_bare_urn_is_told_to_use_the_bare_word() -> None:
    (msg,) = _messages(_event(bizStep="urn:epcglobal:cbv:bizstep:shipping"))
    assert "write the bare word 'shipping'" in msg


@pytest.mark.parametrize(
    ("sub", "ok"),
    [
        ({"bizTransactionList": [{"type": "po", "bizTransaction": "http://example.com/po/1"}]}, True),
        ({"bizTransactionList": [{"type": "purchase_order", "bizTransaction": "http://example.com/po/1"}]}, False),
        ({"bizTransactionList": [{"type": "https://example.com/btt/x", "bizTransaction": "http://e.com/1"}]}, True),
        ({"sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00000"}]}, True),
        ({"sourceList": [{"type": "place", "source": "urn:epc:id:sgln:0614141.00001.0"}]}, False),
        ({"destinationList": [{"type": "https://ref.gs1.org/cbv/SDT-locaton", "destination": "urn:x:y"}]}, False),
        ({"errorDeclaration": {"declarationTime": "2026-07-23T00:00:00Z", "reason": "did_not_occur"}}, True),
        ({"errorDeclaration": {"declarationTime": "2026-07-23T00:00:00Z", "reason": "did_not_occurr"}}, False),
        ({"sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 4.5, "uom": "CEL"}]}]}, True),
        ({"sensorElementList": [{"sensorReport": [{"type": "gs1:Temperature"}]}]}, True),
        ({"sensorElementList": [{"sensorReport": [{"type": "example:myProperty"}]}]}, True),
        ({"sensorElementList": [{"sensorReport": [{"type": "Temprature"}]}]}, False),
        ({"sensorElementList": [{"sensorReport": [{"type": "https://gs1.org/voc/Temperature"}]}]}, False),
        ({"sensorElementList": [{"sensorReport": [{"type": "gs1:Molar_concentration"}]}]}, False),
        ({"sensorElementList": [{"sensorReport": [{"type": "Speed", "exception": "ALARM_CONDITON"}]}]}, False),
        ({"sensorElementList": [{"sensorReport": [{"type": "Length", "component": "lattitude"}]}]}, False),
    ],
)
def test_other_vocabularies(sub: dict[str, Any], ok: bool) -> None:
    problems = validate_event(_event(**sub))
    assert (problems == []) is ok, problems
    if not ok:
        assert len(problems) == 1 and problems[0].path.endswith(("/type", "/reason", "/exception", "/component"))


def test_nearest_word_is_suggested() -> None:
    sub = {"sensorElementList": [{"sensorReport": [{"type": "Temprature"}]}]}
    assert "such as 'Temperature'" in _messages(_event(**sub))[0]
    assert (
        "such as 'did_not_occur'"
        in _messages(_event(errorDeclaration={"declarationTime": "2026-07-23T00:00:00Z", "reason": "did_not_occurr"}))[
            0
        ]
    )


@pytest.mark.parametrize(
    ("time", "ok"),
    [
        ("2026-07-22T06:45:00+08:00", True),
        ("2026-07-22T06:45:00.123456789Z", True),
        ("2026-07-22T06:45:00-14:00", True),
        ("2026-07-22T06:45:00", False),  # no time zone
        ("2026-07-22 06:45:00+08:00", False),
        ("2026-02-30T06:45:00Z", False),  # no such day
        ("2026-07-22T24:00:00Z", False),
        ("2026-07-22T06:45:00+15:00", False),
        ("2026-07-22T06:45:00+0800", False),  # XSD dateTime needs the colon
        ("22-07-2026", False),
    ],
)
def test_event_and_record_time_need_a_time_zone(time: str, ok: bool) -> None:
    for field in ("eventTime", "recordTime"):
        problems = validate_event(_event(**{field: time}))
        assert (problems == []) is ok, (field, problems)
        assert all(p.path == f"/{field}" for p in problems)


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        ("+08:00", True),
        ("-14:00", True),
        ("+14:00", True),
        ("+05:45", True),
        ("+14:30", False),
        ("+15:00", False),
        ("+8:00", False),
        ("08:00", False),
        ("Z", False),
    ],
)
def test_time_zone_offset(offset: str, ok: bool) -> None:
    problems = validate_event(_event(eventTimeZoneOffset=offset))
    assert (problems == []) is ok, problems
    assert all(p.path == "/eventTimeZoneOffset" for p in problems)


def test_required_times() -> None:
    assert _paths(_event(eventTime=None)) == ["/eventTime"]
    assert _paths(_event(eventTimeZoneOffset=None)) == ["/eventTimeZoneOffset"]
    no_declaration_time = _event(errorDeclaration={"reason": "incorrect_data"})
    assert _paths(no_declaration_time) == ["/errorDeclaration/declarationTime"]
    assert "declarationTime" in _messages(no_declaration_time)[0]


@pytest.mark.parametrize(
    ("event", "paths"),
    [
        (_event("ObjectEvent", action=None), ["/action"]),
        (_event("ObjectEvent", action="CREATE"), ["/action"]),
        (_event("AggregationEvent", action=None), ["/action"]),
        (_event("TransactionEvent", action=None), ["/action"]),
        (_event("AssociationEvent", action=None), ["/action"]),
        (_event("TransformationEvent", action="ADD"), ["/action"]),  # it has none
        # AggregationEvent: parentID is required for ADD and DELETE, optional for OBSERVE (EPCIS 2.0 §7.4.3)
        (_event("AggregationEvent", parentID=None), ["/parentID"]),
        (_event("AggregationEvent", parentID=None, action="DELETE"), ["/parentID"]),
        (_event("AggregationEvent", parentID=None, action="OBSERVE"), []),
        # ... and DELETE may omit the children (all of them are disaggregated)
        (_event("AggregationEvent", childEPCs=None, action="DELETE"), []),
        (_event("AggregationEvent", childEPCs=None), ["/childEPCs"]),
        (_event("AssociationEvent", parentID=None), ["/parentID"]),
        (_event("AssociationEvent", childEPCs=None, action="DELETE"), []),
        (_event("TransactionEvent", bizTransactionList=None), ["/bizTransactionList"]),
        (_event("TransactionEvent", bizTransactionList=[]), ["/bizTransactionList"]),
        (_event("TransactionEvent", epcList=None), ["/epcList"]),
        (_event("TransactionEvent", epcList=None, action="DELETE"), []),
        (_event("ObjectEvent", epcList=None), ["/epcList"]),
        (_event("ObjectEvent", epcList=[]), []),  # the schema allows an empty list
        (_event("ObjectEvent", epcList=None, quantityList=[{"epcClass": "urn:epc:class:lgtin:4012345.012345.1"}]), []),
        (
            _event(
                "ObjectEvent",
                epcList=None,
                readPoint={"id": "urn:epc:id:sgln:4012345.00005.0"},
                sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 4}]}],
            ),
            [],
        ),
        (_event("ObjectEvent", action="ADD", ilmd={"cbvmda:lotNumber": "L1"}), []),
        (_event("ObjectEvent", action="OBSERVE", ilmd={"cbvmda:lotNumber": "L1"}), ["/ilmd"]),
        (_event("TransformationEvent", inputQuantityList=None, outputEPCList=None), ["/inputEPCList"]),
        (_event("TransformationEvent", outputEPCList=None), ["/outputEPCList"]),
        (
            _event(
                "TransformationEvent",
                outputEPCList=None,
                transformationID="urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            ),
            [],
        ),
        (_event("TransformationEvent", inputQuantityList=None), ["/inputEPCList"]),
    ],
)
def test_rules_of_each_event_type(event: dict[str, Any], paths: list[str]) -> None:
    assert sorted(_paths(event)) == sorted(paths)


def test_quantities_are_not_negative() -> None:
    q = [{"epcClass": "urn:epc:class:lgtin:4012345.012345.1", "quantity": -1, "uom": "KGM"}]
    assert _paths(_event(quantityList=q)) == ["/quantityList/0/quantity"]
    assert "negative" in _messages(_event(quantityList=q))[0]
    q[0]["quantity"] = 0
    assert validate_event(_event(quantityList=q)) == []
    t = _event("TransformationEvent")
    t["inputQuantityList"][0]["quantity"] = -0.5
    assert _paths(t) == ["/inputQuantityList/0/quantity"]


@pytest.mark.parametrize(
    ("where", "value", "ok"),
    [
        ("epc", "urn:epc:id:sgtin:0614141.107346.2017", True),
        ("epc", "https://id.gs1.org/01/09521141012345/21/2017", True),
        ("epc", "https://example.com/01/09521141012345/21/2017", True),  # a Digital Link on any domain
        ("epc", "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", True),
        ("epc", "urn:epc:id:sgtin:0614141.107346", False),  # no serial
        ("epc", "https://id.gs1.org/01/09521141012346/21/2017", False),  # check digit
        ("epc", "sgtin 0614141.107346.2017", False),  # not a URI
        ("parentID", "urn:epc:id:sscc:0614141.12345678901", False),  # 18 digits needed, 19 given
        ("readPoint", "urn:epc:id:sgln:0614141.07346.1234", True),
        ("readPoint", "warehouse 7", False),
        ("epcClass", "urn:epc:class:lgtin:4023333.002000.2019-10-07", True),
        ("epcClass", "urn:epc:class:lgtin:4023333.002000", False),
        ("source", "urn:epc:id:pgln:0614141.00000", True),
        ("source", "urn:epc:id:pgln:0614141", False),
    ],
)
def test_identifiers_are_well_formed(where: str, value: str, ok: bool) -> None:
    if where == "epc":
        event, path = _event(epcList=[value]), "/epcList/0"
    elif where == "parentID":
        event, path = _event("AggregationEvent", parentID=value), "/parentID"
    elif where == "readPoint":
        event, path = _event(readPoint={"id": value}), "/readPoint/id"
    elif where == "epcClass":
        event, path = (
            _event(epcList=None, quantityList=[{"epcClass": value, "quantity": 1}]),
            "/quantityList/0/epcClass",
        )
    else:
        event, path = _event(sourceList=[{"type": "owning_party", "source": value}]), "/sourceList/0/source"
    problems = validate_event(event)
    assert (problems == []) is ok, problems
    assert all(p.path == path and value in p.message for p in problems)


def test_namespaces_of_extension_fields() -> None:
    declared = [{"ex": "https://example.com/ns/"}]
    assert validate_event(_event(**{"@context": declared, "ex:note": "x"})) == []
    assert validate_event(_event(**{"ex:note": "x"}), context={"ex": "https://example.com/ns/"}) == []
    assert validate_event(_event(**{"cbvmda:lotNumber": "x", "gs1:x": 1})) == []  # the EPCIS context's own
    assert validate_event(_event(**{"https://example.com/ns/note": "x"})) == []  # a full IRI as the key
    (msg,) = _messages(_event(**{"ex:note": "x"}))
    assert msg == (
        "extension field 'ex:note' uses the prefix 'ex', which is not declared: add {\"ex\": \"https://…\"} to @context"
    )
    # inside an extension, unqualified children are fine (as in XML); prefixed ones still need a declaration
    nested = {"@context": declared, "ex:note": {"plain": {"ex:deeper": 1, "zz:bad": [{"zz:x": 2}]}}}
    assert _paths(_event(**nested)) == ["/ex:note/plain/zz:bad", "/ex:note/plain/zz:bad/0/zz:x"]
    # ILMD, readPoint and sensor extensions follow the same rule
    assert _paths(_event(action="ADD", ilmd={"lot": 1})) == ["/ilmd/lot"]
    assert "ILMD field 'lot' has no namespace" in _messages(_event(action="ADD", ilmd={"lot": 1}))[0]
    assert _paths(_event(readPoint={"id": "urn:epc:id:sgln:0614141.07346.1234", "floor": 2})) == ["/readPoint/floor"]
    sensor = [{"sensorReport": [{"type": "Temperature", "note": "x"}], "ex:y": 1}]
    assert _paths(_event(**{"@context": declared, "sensorElementList": sensor})) == [
        "/sensorElementList/0/sensorReport/0/note"
    ]
    escaped = _paths(_event(**{"a/b": 1}))
    assert escaped == ["/a~1b"]


def test_context_prefix_must_name_an_iri() -> None:
    assert _paths(_event(**{"@context": [{"ex": "not an iri"}], "ex:a": 1})) == ["/@context/0/ex"]


def test_type_and_shape_of_the_event() -> None:
    assert _paths({"eventTime": "2026-07-22T06:45:00Z", "eventTimeZoneOffset": "+00:00"}) == ["/type"]
    (msg,) = _messages(_event(type="Objectevent"))
    assert "did you mean 'ObjectEvent'?" in msg
    assert validate_event(_event(type="https://example.com/MyEvent", action=None, epcList=None)) == []
    assert validate_event([1, 2], 3) == [Problem(3, "/", "an event must be a JSON object, not [1, 2]")]


def test_schema_errors_are_reported_in_words() -> None:
    assert _messages(_event(epcList="urn:epc:id:sgtin:0614141.107346.2017")) == [
        'epcList must be a list, not text ("urn:epc:id:sgtin:0614141.107346.2017")'
    ]
    q = [{"epcClass": "urn:epc:class:lgtin:4012345.012345.1", "quantity": 1, "uom": "kg"}]
    assert _paths(_event(quantityList=q)) == ["/quantityList/0/uom"]
    assert "UN/ECE Rec 20" in _messages(_event(quantityList=q))[0]
    assert _paths(_event(epcList=["urn:epc:id:sgtin:0614141.107346.1", "urn:epc:id:sgtin:0614141.107346.1"])) == [
        "/epcList"
    ]


# ------------------------------------------------------------------------------------------------------
# The fast schema validators decide exactly as the ratified schema
# ------------------------------------------------------------------------------------------------------


def _all_events() -> Iterator[dict[str, Any]]:
    for path in [*VALID_JSON, *INVALID_JSON]:
        doc = _load(path)
        if doc.get("type") == "EPCISQueryDocument":
            yield from doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        elif isinstance(doc.get("epcisBody"), dict):
            yield from doc["epcisBody"]["eventList"]
    for path in VALID_JSON_EVENTS:
        yield _load(path)


def _mutants(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield event
    for extra in ("foo", "ex:foo", "childEPCs", "epcList", "ilmd", "action", "@id", "recordTime"):
        yield {**event, extra: "2026-07-22T06:45:00Z"}  # field names: the merged propertyNames enum
    for key in list(event):
        without = dict(event)
        del without[key]
        yield without
        bad_values: tuple[Any, ...] = (42, "not a uri", [], {}, ["x y"], None)
        for bad in bad_values:
            yield {**event, key: bad}


def test_fast_validators_agree_with_the_verbatim_schema() -> None:
    schema = json.loads((Path(V.__file__).parent / "data" / "epcis-json-schema.json").read_text())
    verbatim = fastjsonschema.compile(
        {**{k: schema[k] for k in ("$id", "$schema", "definitions")}, "$ref": "#/definitions/EPCIS-Document-Event"}
    )
    checked = refused = 0
    for event in _all_events():
        for mutant in _mutants(event):
            if not isinstance(mutant.get("type"), str):
                continue
            try:
                verbatim(mutant)
                expected = True
            except fastjsonschema.JsonSchemaValueException:
                expected = False
            fast = V._FAST.get(mutant["type"], V._FAST_EXTENDED)
            try:
                fast(mutant)
                got = True
            except fastjsonschema.JsonSchemaValueException:
                got = False
            assert got is expected, mutant
            checked += 1
            refused += not expected
    assert checked > 3000 and 0 < refused < checked


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "type",
                "action",
                "eventTime",
                "eventTimeZoneOffset",
                "epcList",
                "quantityList",
                "bizStep",
                "ilmd",
                "readPoint",
                "sourceList",
                "sensorElementList",
                "errorDeclaration",
                "@context",
                "x",
                "ex:y",
                "parentID",
                "childEPCs",
                "certificationInfo",
                "persistentDisposition",
                "bizTransactionList",
            ]
        ),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False)
            | st.text(max_size=12)
            | st.sampled_from(["ObjectEvent", "AggregationEvent", "ADD", "urn:epc:id:sgtin:1.2.3", "shipping"]),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
            max_leaves=12,
        ),
        max_size=8,
    )
)
def test_arbitrary_input_never_raises(event: dict[str, Any]) -> None:
    problems = validate_event(event)
    assert all(isinstance(p, Problem) and p.message for p in problems)
    validate_json_document(
        {
            "@context": [CTX],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-07-22T06:45:00Z",
            "epcisBody": {"eventList": [event]},
        }
    )


# ------------------------------------------------------------------------------------------------------
# A JSON document
# ------------------------------------------------------------------------------------------------------


def _doc(*events: dict[str, Any], **fields: Any) -> dict[str, Any]:
    doc = {
        "@context": [CTX, {"ex": "https://example.com/ns/"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-07-22T06:45:00Z",
        "epcisBody": {"eventList": list(events)},
    }
    doc |= fields
    return {k: v for k, v in doc.items() if v is not None}


def test_document_level_checks() -> None:
    assert validate_json_document(_doc(_event(), _event(**{"ex:a": 1}))) == []
    assert _where(validate_json_document(_doc(type="EPCISDocumnet"))) == {(None, "/type")}
    assert "did you mean 'EPCISDocument'" in validate_json_document(_doc(type="EPCISDocumnet"))[0].message
    assert _where(validate_json_document(_doc(schemaVersion="1.2"))) == {(None, "/schemaVersion")}
    assert _where(validate_json_document(_doc(schemaVersion=None))) == {(None, "/schemaVersion")}
    assert _where(validate_json_document(_doc(creationDate="2026-07-22T06:45:00"))) == {(None, "/creationDate")}
    assert _where(validate_json_document(_doc(**{"@context": [{"ex": "https://example.com/ns/"}]}))) == {
        (None, "/@context")
    }
    assert _where(validate_json_document(_doc(epcisHeader={"note": 1}))) == {(None, "/epcisHeader/note")}
    assert validate_json_document(_doc(epcisHeader={"ex:note": 1})) == []
    assert _where(validate_json_document(_doc(epcisBody={}))) == {(None, "/epcisBody/eventList")}
    assert validate_json_document([]) == [Problem(None, "/", "an EPCIS document must be a JSON object, not []")]


def test_every_event_is_checked_with_its_index() -> None:
    doc = _doc(_event(), _event(bizStep="x"), _event(), _event(**{"zz:a": 1}))
    assert _where(validate_json_document(doc)) == {
        (1, "/epcisBody/eventList/1/bizStep"),
        (3, "/epcisBody/eventList/3/zz:a"),
    }


def test_query_document_events() -> None:
    doc = {
        "@context": [CTX],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-07-22T06:45:00Z",
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [_event(), _event(action="x")]},
            }
        },
    }
    assert _where(validate_json_document(doc)) == {(1, "/epcisBody/queryResults/resultsBody/eventList/1/action")}


# ------------------------------------------------------------------------------------------------------
# XML
# ------------------------------------------------------------------------------------------------------

_XML_EVENT = """\
<ObjectEvent>
  <eventTime>2005-04-03T20:33:31.116-06:00</eventTime>
  <eventTimeZoneOffset>-06:00</eventTimeZoneOffset>
  <epcList><epc>urn:epc:id:sgtin:0614141.107346.{i}</epc></epcList>
  <action>{action}</action>
  <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
  <readPoint><id>urn:epc:id:sgln:0614141.07346.1234</id></readPoint>
  <ex:count xsi:type="xsd:integer">{count}</ex:count>
</ObjectEvent>
"""  # 9 lines per event; xsd: is declared on the document only (in scope for the copy validated alone)


def _xml_document(
    n: int, bad: Any = (), attrs: str = 'creationDate="2005-07-11T11:30:47.0Z"', extra: str = ""
) -> Iterator[bytes]:
    yield (
        '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:ex="https://example.com/ns/"\n'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"\n'
        f' schemaVersion="2.0" {attrs}>\n<EPCISBody>\n<EventList>\n'
    ).encode()
    for i in range(n):
        if i == 3 and extra:
            yield extra.encode()
        action, count = ("OBSERV", "7") if i in bad else ("OBSERVE", "7")
        if i in bad and i % 2:
            action, count = "OBSERVE", "seven"
        yield _XML_EVENT.format(i=i, action=action, count=count).encode()
    yield b"</EventList>\n</EPCISBody>\n</epcis:EPCISDocument>\n"


class _Generated(io.RawIOBase):
    """A document produced while it is read: never all in memory."""

    def __init__(self, parts: Iterator[bytes]):
        self._parts = parts
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self._buffer) < len(buffer):
            try:
                self._buffer += next(self._parts)
            except StopIteration:
                break
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def test_stream_locates_errors_deep_in_a_large_document() -> None:
    stream = io.BufferedReader(_Generated(_xml_document(20_000, bad={5000, 7001})))
    problems = list(validate_xml_stream(stream))
    assert [(p.index, p.path) for p in problems] == [
        (5000, "/epcis:EPCISDocument/EPCISBody/EventList/ObjectEvent[5001]/action"),
        (7001, "/epcis:EPCISDocument/EPCISBody/EventList/ObjectEvent[7002]/ex:count"),
    ]
    # header: 5 lines; each event 9 lines; <action> is line 5 and <ex:count> line 8 of its event
    assert problems[0].message.startswith(f"line {5 + 5000 * 9 + 5}, element <action>: 'OBSERV' is not allowed")
    assert problems[1].message.startswith(f"line {5 + 7001 * 9 + 8}, element <count>: 'seven' is not a valid")


def test_bytes_and_stream_agree() -> None:
    data = b"".join(_xml_document(12, bad={2, 9}))
    in_memory = validate_xml_bytes(data)
    streamed = list(validate_xml_stream(io.BytesIO(data)))
    assert [(p.index, p.message) for p in in_memory] == [(p.index, p.message) for p in streamed]
    assert [p.index for p in in_memory] == [2, 9]
    assert validate_xml_bytes(b"".join(_xml_document(12))) == []


def test_stream_reports_header_errors_with_their_line() -> None:
    data = b"".join(_xml_document(5, attrs=""))
    (p,) = list(validate_xml_stream(io.BytesIO(data)))
    assert p.index is None
    # libxml2 gives the line where the start tag ends (its attributes span lines 1-3)
    assert p.message == "line 3, element <EPCISDocument>: The attribute 'creationDate' is required but missing"
    assert validate_xml_bytes(data) == [p]


def test_header_and_event_errors_together() -> None:
    data = b"".join(_xml_document(6, bad={1}, attrs=""))
    problems = validate_xml_bytes(data)
    # event 1 (odd): its <ex:count> on line 8 of the event; the root's missing attribute, where the tag ends
    assert [(p.index, p.message.split(",")[0]) for p in problems] == [(1, f"line {5 + 9 + 8}"), (None, "line 3")]


def test_other_elements_after_the_last_event() -> None:
    data = b"".join(_xml_document(2)).replace(b"</EventList>", b"<ex:Late/>\n</EventList>")
    (p,) = validate_xml_bytes(data)
    assert p.index == 2 and "element <Late>" in p.message


def test_events_of_other_namespaces_keep_the_count() -> None:
    data = b"".join(_xml_document(8, extra="<ex:Custom><ex:a>1</ex:a></ex:Custom>\n"))
    (p,) = list(validate_xml_stream(io.BytesIO(data)))
    assert p.index == 3 and "element <Custom>" in p.message
    assert [(q.index, q.message) for q in validate_xml_bytes(data)] == [(3, p.message)]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"".join(_xml_document(10))[:-30], "line 97: not well-formed XML"),  # truncated: 5 + 90 + 2 lines
        (b"not xml", "not well-formed XML"),
        (b"<foo/>", "<foo> is not an EPCIS document"),
        (b'<epcis:ObjectEvent xmlns:epcis="urn:epcglobal:epcis:xsd:2"/>', "must not be in the EPCIS namespace"),
        (b"", "no root element"),
    ],
)
def test_not_an_epcis_document(data: bytes, words: str) -> None:
    streamed = list(validate_xml_stream(io.BytesIO(data)))
    assert len(streamed) == 1 and words in streamed[0].message, streamed
    if data:
        in_memory = validate_xml_bytes(data)
        assert len(in_memory) == 1 and in_memory[0].message.split(":")[0] in streamed[0].message


def test_external_entities_are_not_read() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE epcis:EPCISDocument [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
        + b"".join(_xml_document(1)).replace(b"<bizStep>urn:epcglobal:cbv:bizstep:shipping", b"<bizStep>&e;")
    )
    for problems in (validate_xml_bytes(data), list(validate_xml_stream(io.BytesIO(data)))):
        assert problems and "not well-formed" in problems[0].message


def test_xml_schema_is_one_per_thread() -> None:
    import threading

    mine = xml_schema()
    assert xml_schema() is mine
    other: list[Any] = []
    thread = threading.Thread(target=lambda: other.append(xml_schema()))
    thread.start()
    thread.join()
    assert other[0] is not mine


def test_stream_memory_stays_flat() -> None:
    """Peak RSS of streaming 150,000 events is that of 10,000: nothing is kept per event.

    (Building the tree would take ~600 MB more; lxml's ``iterparse(schema=…)`` ~15 MB more.)
    """
    script = textwrap.dedent(
        f"""
        import io, resource, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_validate import _Generated, _xml_document
        from zhuisu.epcis.validate import validate_xml_stream
        n = int(sys.argv[1])
        problems = list(validate_xml_stream(io.BufferedReader(_Generated(_xml_document(n, bad={{n - 2}})))))
        assert [p.index for p in problems] == [n - 2], problems
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    runs = {
        n: subprocess.Popen(
            [sys.executable, "-c", script, str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for n in (10_000, 150_000)
    }
    peak = {}
    for n, run in runs.items():
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        peak[n] = int(out.strip())  # KiB
    assert peak[150_000] - peak[10_000] < 8_000, peak  # KiB


def test_validated_events_are_not_modified() -> None:
    event = _event(bizStep="x", **{"@context": [{"ex": "https://example.com/"}], "ex:a": {"b": [1]}})
    before = copy.deepcopy(event)
    validate_event(event)
    validate_json_document(_doc(event))
    assert event == before
