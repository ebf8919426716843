"""Master data captured with events answers WD_, EQ_ATTR_ and HASATTR_ queries, on both stores.

The master data is the conformance file ``XML/WithFullCombinationOfFields/masterdata_all_possible_fields.xml`` (an
EPCISDocument whose header carries a BusinessLocation and a ReadPoint vocabulary, no events; see
tests/data/epcis/SOURCE.md) and a JSON-LD document written here (nested sites, products, a bizStep).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from zhuisu.epcis.capture import capture_file
from zhuisu.epcis.query import QueryParameterError, parse_query_params
from zhuisu.store import queries
from zhuisu.store.vocabulary import masterdata_attribute, masterdata_child

XML_DATA = Path(__file__).parents[1] / "data" / "epcis" / "XML"
MASTERDATA_XML = XML_DATA / "WithFullCombinationOfFields" / "masterdata_all_possible_fields.xml"
SITE = "urn:epc:id:sgln:0037000.00729.0"  # the XML file's element, with child .8201
ROOM = "urn:epc:id:sgln:0037000.00729.8201"
OTHER = "urn:epc:id:sgln:0037000.00729.8202"
# The JSON document's: a warehouse, its hall, a dock in the hall (two levels down), a product class, a bizStep.
WAREHOUSE = "urn:epc:id:sgln:4012345.00001.0"
HALL = "https://id.gs1.org/414/4012345000016/254/hall"  # a child given as a Digital Link
DOCK = "urn:epc:id:sgln:4012345.00001.dock"
GTIN = "urn:epc:idpat:sgtin:4012345.011111.*"
CLASS = "https://id.gs1.org/01/04012345111118"
MDA = "urn:epcglobal:cbv:mda#"


def _event(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:9a1e0000-0000-4000-8000-00000000000{n}",
        "eventTime": f"2026-11-0{n}T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": [f"urn:epc:id:sgtin:4012345.011111.{n}"],
        **fields,
    }


EVENTS = [
    _event(1, bizLocation={"id": SITE}, readPoint={"id": SITE}),
    _event(2, bizLocation={"id": ROOM}, readPoint={"id": ROOM}),
    _event(3, bizLocation={"id": OTHER}),
    _event(4, bizLocation={"id": DOCK}, readPoint={"id": DOCK}, bizStep="receiving"),
    _event(5, bizLocation={"id": WAREHOUSE}, bizStep="shipping"),
    {
        **_event(6, bizStep="packing"),
        "epcList": [],
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.111111.LOT7", "quantity": 3}],
    },
    {**_event(7), "epcList": [], "quantityList": [{"epcClass": CLASS, "quantity": 2}]},
]

VOCABULARIES = [
    {
        "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
        "vocabularyElementList": [
            {
                "id": WAREHOUSE,
                "attributes": [{"id": "cbvmda:name", "attribute": "Central warehouse"}],
                "children": [HALL],
            },
            {"id": HALL, "attributes": [], "children": [DOCK]},
            {"id": DOCK, "attributes": [{"id": MDA + "sst", "attribute": 203}]},
        ],
    },
    {
        "type": "urn:epcglobal:epcis:vtype:EPCClass",
        "vocabularyElementList": [
            {"id": CLASS, "attributes": [{"id": MDA + "descriptionShort", "attribute": "Apple juice 1 l"}]},
            {
                "id": "urn:epc:class:lgtin:4012345.111111.LOT7",
                "attributes": [{"id": MDA + "descriptionShort", "attribute": "Apple juice 1 l, lot 7"}],
            },
        ],
    },
    {
        "type": "urn:epcglobal:epcis:vtype:BusinessStep",
        "vocabularyElementList": [
            {"id": "urn:epcglobal:cbv:bizstep:receiving", "attributes": [{"id": "ex:audited", "attribute": True}]}
        ],
    },
]


def _document(path: Path, events: list[dict[str, Any]], vocabularies: list[dict[str, Any]] | None) -> Path:
    doc: dict[str, Any] = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://ex.com/ns#"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-23T00:00:00Z",
        "epcisBody": {"eventList": events},
    }
    if vocabularies is not None:
        doc["epcisHeader"] = {"epcisMasterData": {"vocabularyList": vocabularies}}
    path.write_bytes(orjson.dumps(doc))
    return path


@pytest.fixture
def captured(engine: Engine, tmp_path: Path) -> Engine:
    assert capture_file(engine, MASTERDATA_XML, "xml").success
    result = capture_file(engine, _document(tmp_path / "events.jsonld", EVENTS, VOCABULARIES), "json")
    assert result.success and result.stored == len(EVENTS), result.problems
    return engine


def found(engine: Engine, *params: tuple[str, str]) -> set[int]:
    query = parse_query_params(list(params), prefixes={"ex": "https://ex.com/ns#"})
    with engine.connect() as conn:
        rows = conn.execute(queries.select_events(query, queries._order(conn, query))).all()
    return {int(e["eventID"][-1]) for e in queries.parse_rows([(r[0], r[1]) for r in rows])}


CASES = [
    # WD_: the element itself and every element below it, at any depth, in either identifier form
    ([("WD_bizLocation", SITE)], {1, 2}),
    ([("WD_readPoint", SITE)], {1, 2}),
    ([("WD_bizLocation", ROOM)], {2}),
    ([("WD_bizLocation", WAREHOUSE)], {4, 5}),
    ([("WD_bizLocation", "https://id.gs1.org/414/4012345000016")], {4, 5}),
    ([("WD_readPoint", WAREHOUSE)], {4}),  # a place is a place: the business-location hierarchy serves read points
    ([("WD_bizLocation", "urn:epc:id:sgln:4012345.00001.elsewhere")], set()),
    ([("EQ_bizLocation", SITE)], {1}),  # EQ_ stays exact
    # EQ_ATTR_: the field's element has the attribute with one of the values (texts as given, others as JSON)
    ([("EQ_ATTR_bizLocation_http://example.com/ext1#string", "stringValue")], {1}),
    ([("EQ_ATTR_readPoint_http://example.com/ext1#array", "string2InArray|nothing")], {1}),
    ([("EQ_ATTR_bizLocation_cbvmda:name", "Central warehouse")], {5}),
    ([("EQ_ATTR_bizLocation_urn:epcglobal:cbv:mda#sst", "203")], {4}),
    ([("EQ_ATTR_bizStep_ex:audited", "true")], {4}),
    ([("EQ_ATTR_epcClass_cbvmda:descriptionShort", "Apple juice 1 l")], {7}),
    ([("EQ_ATTR_epcClass_cbvmda:descriptionShort", "Apple juice 1 l, lot 7|Apple juice 1 l")], {6, 7}),
    ([("EQ_ATTR_bizLocation_cbvmda:name", "Other warehouse")], set()),
    # HASATTR_: the field's element has one of the attributes
    ([("HASATTR_bizLocation", "http://example.com/ext1#object1")], {1}),
    ([("HASATTR_bizLocation", "cbvmda:name|urn:epcglobal:cbv:mda#sst")], {4, 5}),
    ([("HASATTR_readPoint", "cbvmda:sst")], {4}),  # written urn:epcglobal:cbv:mda#sst: the same attribute
    ([("HASATTR_epcClass", "cbvmda:descriptionShort")], {6, 7}),
    ([("HASATTR_bizStep", "ex:audited")], {4}),
    # with other parameters (AND)
    ([("WD_bizLocation", WAREHOUSE), ("EQ_bizStep", "shipping")], {5}),
]


@pytest.mark.parametrize(("params", "expected"), CASES, ids=[" & ".join(f"{k}={v}" for k, v in p) for p, _ in CASES])
def test_master_data_parameters(captured: Engine, params: list[tuple[str, str]], expected: set[int]) -> None:
    assert found(captured, *params) == expected


def test_a_nested_attribute_value_is_kept_as_json(captured: Engine) -> None:
    with captured.connect() as conn:
        values = conn.execute(
            select(masterdata_attribute.c.value).where(
                masterdata_attribute.c.attribute == "http://example.com/ext1#object2",
                masterdata_attribute.c.vtype == "urn:epcglobal:epcis:vtype:BusinessLocation",
            )
        ).scalars()
        (value,) = list(values)
    assert orjson.loads(value)["ext1:int"] == "10"  # as the XML reader gives an untyped extension element


def test_capturing_an_element_again_replaces_what_that_party_said(engine: Engine, tmp_path: Path) -> None:
    renamed = [
        {
            "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
            "vocabularyElementList": [{"id": WAREHOUSE, "attributes": [{"id": "cbvmda:name", "attribute": "Depot"}]}],
        }
    ]
    assert capture_file(engine, _document(tmp_path / "a.jsonld", EVENTS, VOCABULARIES), "json").success
    assert capture_file(engine, _document(tmp_path / "b.jsonld", [], renamed), "json", party="P2").success
    assert found(engine, ("EQ_ATTR_bizLocation_cbvmda:name", "Central warehouse")) == {5}  # another party's
    assert found(engine, ("EQ_ATTR_bizLocation_cbvmda:name", "Depot")) == {5}
    assert capture_file(engine, _document(tmp_path / "c.jsonld", [], renamed), "json").success  # the platform
    assert found(engine, ("EQ_ATTR_bizLocation_cbvmda:name", "Central warehouse")) == set()
    assert found(engine, ("WD_bizLocation", WAREHOUSE)) == {5}  # the platform's new statement has no children


def test_malformed_master_data_refuses_the_document_and_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    bad = [{"type": "urn:epcglobal:epcis:vtype:ReadPoint", "vocabularyElementList": [{"attributes": []}]}]
    result = capture_file(engine, _document(tmp_path / "bad.jsonld", EVENTS, bad), "json")
    assert not result.success and result.stored == 0
    assert [(p.index, p.path) for p in result.problems] == [
        (None, "/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/0/id")
    ]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(masterdata_attribute)).scalar_one() == 0


def test_a_rolled_back_capture_leaves_the_master_data_as_it_was(engine: Engine, tmp_path: Path) -> None:
    broken = [*EVENTS, {**_event(8), "disposition": "in_trnasit"}]
    result = capture_file(engine, _document(tmp_path / "broken.jsonld", broken, VOCABULARIES), "json")
    assert not result.success and result.rolled_back
    with engine.connect() as conn:
        for table in (masterdata_attribute, masterdata_child):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0


@pytest.mark.parametrize(
    ("param", "problem"),
    [
        ("EQ_ATTR_epc_cbvmda:name", "master-data attributes are evaluated for readPoint, bizLocation"),
        ("HASATTR_eventTime", "not 'eventTime'"),
    ],
)
def test_master_data_of_other_fields_is_refused_naming_the_parameter(param: str, problem: str) -> None:
    with pytest.raises(QueryParameterError) as err:
        parse_query_params([(param, "x")])
    assert err.value.problems[0].path == "/" + param and problem in err.value.problems[0].message
