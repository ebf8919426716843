"""Sensor-data query parameters (EPCIS 2.0 §8.2.7.1: EXISTS_sensorElementList, EQ_type, GE_value_<uom> …) on both
stores: each holds when one sensorMetadata or sensorReport of the event satisfies it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from zhuisu.epcis.capture import capture_events
from zhuisu.epcis.index import body_field_rows, sensor_rows
from zhuisu.epcis.query import QueryParameterError, parse_query_params
from zhuisu.store import queries

CHILL = {  # a cold-chain logger: metadata with a device and a time window, two reports; extension fields
    "ex:logger": {"ex:firmware": "2.1", "ex:channel": 3},
    "sensorMetadata": {
        "ex:calibrated": "2024-02-01T00:00:00Z",
        "time": "2024-03-01T10:00:00Z",
        "startTime": "2024-03-01T08:00:00Z",
        "endTime": "2024-03-01T10:00:00Z",
        "deviceID": "urn:epc:id:giai:4000001.111",
        "dataProcessingMethod": "https://example.com/processing/avg",
        "bizRules": "https://example.com/rules/cold-chain",
    },
    "sensorReport": [
        {
            "type": "Temperature",
            "value": 3.5,
            "uom": "CEL",
            "deviceID": "urn:epc:id:giai:4000001.112",
            "ex:probe": "core",
        },
        {
            "type": "gs1:RelativeHumidity",
            "value": 61,
            "uom": "A93",
            "percRank": 50,
            "percValue": 12.5,
            "time": "2024-03-01T09:30:00Z",
        },
    ],
}
LAB = {  # a laboratory report: every kind of value, no metadata
    "sensorReport": [
        {
            "type": "gs1:Temperature",
            "minValue": 35.6,
            "maxValue": 40,
            "meanValue": 38.1,
            "sDev": 0.8,
            "uom": "FAH",
            "booleanValue": True,
            "hexBinaryValue": "a1b2",
            "stringValue": "passed",
            "uriValue": "https://example.com/certificates/77",
            "microorganism": "https://www.ncbi.nlm.nih.gov/taxonomy/1496",
            "chemicalSubstance": "https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N",
        }
    ]
}


def _event(label: str, sensors: list[dict[str, Any]] | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "@context": [{"ex": "https://example.com/ns/"}],
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:5e450000-0000-4000-8000-00000000000{label}",
        "eventTime": "2024-03-01T10:05:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{label}"],
        "action": "OBSERVE",
        "bizStep": "sensor_reporting",
        "readPoint": {"id": "urn:epc:id:sgln:0614141.00001.0"},
    }
    if sensors is not None:
        event["sensorElementList"] = sensors
    return event


RETRACTED = {  # event 4: an error declaration with extension fields of its own
    **_event("4", None),
    "errorDeclaration": {
        "declarationTime": "2024-03-02T08:00:00Z",
        "reason": "incorrect_data",
        "ex:ticket": "INC-7",
        "ex:review": {"ex:by": "QA", "ex:score": 2},
    },
}
EVENTS = [_event("1", [CHILL]), _event("2", [LAB]), _event("3", None), RETRACTED]


def found_ids(engine: Engine, text: str) -> set[str]:
    items = [(*p.split("=", 1), "")[:2] for p in text.split("&") if p]
    query = parse_query_params(items, prefixes={"ex": "https://example.com/ns/"})  # type: ignore[arg-type]
    with engine.connect() as conn:
        rows = conn.execute(queries.select_events(query, queries._order(conn, query))).all()
    return {e["eventID"] for e in queries.parse_rows([(r[0], r[1]) for r in rows])}


def found(engine: Engine, text: str) -> set[int]:
    return {int(event_id[-1]) for event_id in found_ids(engine, text)}


CASES = [
    ("EXISTS_sensorElementList=", {1, 2}),
    ("EQ_type=Temperature", {1, 2}),  # any spelling of a GS1 measurement type, stored and asked
    ("EQ_type=gs1:Temperature", {1, 2}),
    ("EQ_type=https://gs1.org/voc/RelativeHumidity", {1}),
    ("EQ_type=Pressure|RelativeHumidity", {1}),
    ("EQ_deviceID=urn:epc:id:giai:4000001.111", {1}),  # the metadata's device
    ("EQ_deviceID=urn:epc:id:giai:4000001.112", {1}),  # a report's device
    ("EQ_dataProcessingMethod=https://example.com/processing/avg", {1}),
    ("EQ_bizRules=https://example.com/rules/cold-chain", {1}),
    ("EQ_microorganism=https://www.ncbi.nlm.nih.gov/taxonomy/1496", {2}),
    ("EQ_chemicalSubstance=https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N", {2}),
    ("EQ_stringValue=passed", {2}),
    ("EQ_stringValue=failed", set()),
    ("EQ_uriValue=https://example.com/certificates/77", {2}),
    ("EQ_hexBinaryValue=A1B2", {2}),  # hexBinary is case-insensitive
    ("EQ_booleanValue=true", {2}),
    ("EQ_booleanValue=false", set()),
    ("GE_time=2024-03-01T09:30:00Z", {1}),  # the report's 09:30 and the metadata's 10:00
    ("LT_time=2024-03-01T09:30:00Z", set()),
    ("LT_time=2024-03-01T09:31:00Z", {1}),
    ("GE_startTime=2024-03-01T08:00:00Z", {1}),
    ("LT_startTime=2024-03-01T08:00:00Z", set()),
    ("GE_endTime=2024-03-01T10:00:01Z", set()),
    ("LT_endTime=2024-03-01T10:00:01Z", {1}),
    ("EQ_value_CEL=3.5", {1}),
    ("GE_value_CEL=3", {1}),
    ("LT_value_CEL=3", set()),
    ("GT_value_A93=60&LE_value_A93=61", {1}),
    ("GE_value_FAH=39", set()),  # 3.5 °C is 38.3 °F; the laboratory report has no value, only statistics
    ("GE_value_FAH=38", {1}),
    ("GE_value_KEL=276&LT_value_KEL=277", {1}),  # 3.5 °C = 276.65 K: values in another unit are converted
    ("EQ_value_KEL=276.65", {1}),
    ("EQ_value_FAH=38.3", {1}),  # 38.3 °F is 3.5 °C
    ("EQ_value_FAH=38.4", set()),
    ("GE_maxValue_CEL=4.4&LT_maxValue_CEL=4.5", {2}),  # 40 °F = 4.44 °C
    ("GE_value_MTR=0", set()),  # no report measures a length
    ("GE_maxValue_FAH=40&LT_minValue_FAH=36", {2}),
    ("EQ_meanValue_FAH=38.1|40", {2}),
    ("LT_sDev_FAH=1", {2}),
    ("EQ_percValue_A93=12.5", {1}),
    ("GE_percRank=50", {1}),
    ("GT_percRank=50", set()),
    ("EQ_type=Temperature&EQ_stringValue=passed&MATCH_epc=urn:epc:id:sgtin:0614141.107346.2", {2}),
    # extension fields inside sensor data and error declarations
    ("EXISTS_SENSORELEMENT_ex:logger=", {1}),
    ("EQ_INNER_SENSORELEMENT_ex:firmware=2.1", {1}),
    ("GE_INNER_SENSORELEMENT_ex:channel=3", {1}),
    ("LT_SENSORMETADATA_ex:calibrated=2024-02-02T00:00:00Z", {1}),
    ("EQ_SENSORREPORT_ex:probe=core", {1}),
    ("EQ_SENSORREPORT_https://example.com/ns/probe=core", {1}),
    ("EQ_SENSORMETADATA_ex:probe=core", set()),  # a report's field, not the metadata's
    ("EQ_ERROR_DECLARATION_ex:ticket=INC-7", {4}),
    ("EXISTS_ERROR_DECLARATION_ex:review=", {4}),
    ("EQ_INNER_ERROR_DECLARATION_ex:by=QA", {4}),
    ("GT_INNER_ERROR_DECLARATION_ex:score=1", {4}),
    ("EQ_ERROR_DECLARATION_ex:by=QA", set()),  # nested, so only the INNER_ parameter sees it
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_sensor_parameters(engine: Engine, text: str, expected: set[int]) -> None:
    assert capture_events(engine, [dict(e) for e in EVENTS]).success
    assert found(engine, text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("GE_time=yesterday", "/GE_time"),
        ("GE_value_CEL=warm", "/GE_value_CEL"),
        ("GE_percRank=", "/GE_percRank"),
        ("EQ_booleanValue=maybe", "/EQ_booleanValue"),
        ("EQ_SENSORREPORT_nope:probe=core", "/EQ_SENSORREPORT_nope:probe"),
    ],
)
def test_bad_sensor_values_name_the_parameter(text: str, problem: str) -> None:
    items = [(*p.split("=", 1), "")[:2] for p in text.split("&") if p]
    with pytest.raises(QueryParameterError) as exc:
        parse_query_params(items)  # type: ignore[arg-type]
    assert [p.path for p in exc.value.problems] == [problem]


def test_sensor_rows_of_an_event() -> None:
    rows = sensor_rows([CHILL])
    assert rows[0] == ("sensor", "sensorElementList", None, None, None)
    by_name: dict[str, list[Any]] = {}
    for scope, name, text, number, time in rows:
        if scope == "sensor":
            by_name.setdefault(name, []).append(text if number is None and time is None else (number, time))
    assert by_name["type"] == ["Temperature", "RelativeHumidity"]
    assert by_name["deviceID"] == ["urn:epc:id:giai:4000001.111", "urn:epc:id:giai:4000001.112"]
    assert by_name["value_CEL"] == [(3.5, None)]
    assert by_name["value_A93"] == [(61.0, None)]
    assert [t for _n, t in by_name["time"]] == [1709287200000000, 1709285400000000]
    assert sensor_rows([]) == [] and sensor_rows("not a list") == []
    prefixes = {"ex": "https://example.com/ns/"}
    nested = [r for r in sensor_rows([CHILL], prefixes) if r[0] != "sensor"]
    assert nested == [
        ("s_el", "https://example.com/ns/logger", None, None, None),
        ("inner_s_el", "https://example.com/ns/firmware", "2.1", 2.1, None),
        ("inner_s_el", "https://example.com/ns/channel", "3", 3.0, None),
        ("s_md", "https://example.com/ns/calibrated", "2024-02-01T00:00:00Z", None, 1706745600000000),
        ("s_rp", "https://example.com/ns/probe", "core", None, None),
    ]


def test_upgrade_indexes_the_sensor_data_of_events_already_stored(db_url: str) -> None:
    from sqlalchemy import text

    from zhuisu.store.db import make_engine, upgrade, writing

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0009")
        assert capture_events(engine, [dict(e) for e in EVENTS]).success
        with writing(engine) as conn:  # as a release before 0010 left them: no sensor rows
            conn.execute(text("DELETE FROM event_field WHERE scope <> 'ext'"))
        assert found(engine, "EXISTS_sensorElementList=") == set()
        upgrade(engine)
        for query, expected in CASES:
            assert found(engine, query) == expected, query
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM event_field WHERE scope <> 'ext'")).scalar()
        assert count == sum(len(body_field_rows(e)) for e in EVENTS)
    finally:
        engine.dispose()


XML_SENSORS = Path(__file__).parent.parent / "data" / "epcis" / "XML" / "WithSensorData" / "SensorDataExamples.xml"


def test_sensor_data_captured_as_xml_is_queried_alike(engine: Engine) -> None:
    # GS1's XML sensor examples (gs1:Temperature types, values as XML attributes), expectations read off the events;
    # the examples GS1 wrote before the vocabulary was fixed (types outside it) are refused, the others stored
    from zhuisu.epcis import xml

    with open(XML_SENSORS, "rb") as stream:
        _header, parsed = xml.iter_xml_document(stream)
        events = list(parsed)
    result = capture_events(engine, [dict(e) for e in events], behaviour="proceed", collect_ids=True)
    refused = {p.index for p in result.problems}
    stored = [e for i, e in enumerate(events) if i not in refused]
    assert refused and len(stored) == len(result.event_ids) > 5
    ids = {id(e): event_id for e, event_id in zip(stored, result.event_ids, strict=True)}

    def reports(event: dict[str, Any]) -> list[dict[str, Any]]:
        return [r for el in event.get("sensorElementList", []) for r in el.get("sensorReport", [])]

    def labels(pick: Any) -> set[str]:
        return {ids[id(e)] for e in stored if any(pick(r) for r in reports(e))}

    def temperature(r: dict[str, Any]) -> bool:
        return r.get("type") in ("Temperature", "gs1:Temperature")

    warm = labels(lambda r: temperature(r) and r.get("uom") == "CEL" and r.get("value", -1e9) >= 26.05)
    assert labels(temperature) and warm and warm != labels(temperature)
    assert found_ids(engine, "EQ_type=Temperature") == labels(temperature)
    assert found_ids(engine, "EQ_type=Temperature&GE_value_CEL=26.05") == warm
    assert found_ids(engine, "GE_value_FAH=78.89") == warm  # 26.05 °C
