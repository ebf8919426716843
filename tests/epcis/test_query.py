"""SimpleEventQuery parameter parsing (pure: no database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from zhuisu.codes.epc import canonical_id, epc_pattern_like
from zhuisu.epcis.index import to_micros
from zhuisu.epcis.query import (
    ColumnFilter,
    EventQuery,
    QueryParameterError,
    QueryUnsupportedError,
    parse_extensions_header,
    parse_named_query,
    parse_query_json,
    parse_query_params,
)

QUERIES = Path(__file__).parents[1] / "data" / "epcis" / "openepcis" / "2.0" / "EPCIS" / "JSON" / "Query" / "Queries"
EX = {"ex": "http://ns.example.com/epcis/"}


def q(text: str, prefixes: dict[str, str] | None = None) -> EventQuery:
    """Parse a query string written as in a URL (already decoded): ``a=1&b=2``."""
    items = [tuple(part.split("=", 1)) if "=" in part else (part, "") for part in text.split("&") if part]
    return parse_query_params(items, prefixes=prefixes)  # type: ignore[arg-type]


def problems_of(exc: pytest.ExceptionInfo[QueryParameterError]) -> list[str]:
    return [p.path for p in exc.value.problems]


def column(query: EventQuery, name: str) -> list[tuple[str, ...]]:
    return [c.values for c in query.columns if c.column == name]


# --- fixed parameters -----------------------------------------------------------------------------------


def test_empty_query_has_no_filter() -> None:
    query = q("")
    assert query == EventQuery()
    assert q("perPage=5&nextPageToken=abc") == EventQuery()  # paging is not part of the query


def test_pipes_separate_alternatives_and_repeats_add_more() -> None:
    query = q("EQ_bizStep=shipping|receiving&EQ_bizStep=packing")
    assert column(query, "biz_step") == [("packing", "receiving", "shipping")]


def test_event_types() -> None:
    assert q("eventType=ObjectEvent|AggregationEvent").event_types == ("AggregationEvent", "ObjectEvent")
    assert q("eventType=https://example.org/MyEvent").event_types == ("https://example.org/MyEvent",)
    assert q("eventType=all").event_types == ()  # OpenEPCIS spelling of "any type"
    with pytest.raises(QueryParameterError) as exc:
        q("eventType=ObjectEvents")
    assert problems_of(exc) == ["/eventType"]
    assert "ObjectEvents" in str(exc.value)


def test_times_need_a_zone() -> None:
    query = q("GE_eventTime=2005-04-03T20:33:31.116-06:00&LT_recordTime=2030-01-01T00:00:00Z")
    assert query.ge_event_time == to_micros("2005-04-04T02:33:31.116Z")
    assert query.lt_record_time == to_micros("2030-01-01T00:00:00+00:00")
    with pytest.raises(QueryParameterError) as exc:
        q("GE_eventTime=2005-04-03T20:33:31")
    assert problems_of(exc) == ["/GE_eventTime"]
    assert "time zone" in str(exc.value)
    with pytest.raises(QueryParameterError):
        q("LT_eventTime=yesterday")


def test_unencoded_plus_in_offset_is_repaired() -> None:
    # "+01:00" sent without percent-encoding arrives as " 01:00".
    assert q("GE_eventTime=2005-04-03T20:33:31 01:00").ge_event_time == to_micros("2005-04-03T20:33:31+01:00")


def test_scalar_given_twice_is_refused() -> None:
    with pytest.raises(QueryParameterError) as exc:
        q("GE_eventTime=2005-04-03T20:33:31Z&GE_eventTime=2006-04-03T20:33:31Z")
    assert problems_of(exc) == ["/GE_eventTime"]


def test_action() -> None:
    assert column(q("EQ_action=ADD|OBSERVE"), "action") == [("ADD", "OBSERVE")]
    with pytest.raises(QueryParameterError) as exc:
        q("EQ_action=SHIPPED")
    assert problems_of(exc) == ["/EQ_action"]


def test_cbv_terms_in_any_form_become_the_bare_word() -> None:
    query = q(
        "EQ_bizStep=urn:epcglobal:cbv:bizstep:shipping|https://ref.gs1.org/cbv/BizStep-receiving"
        "&EQ_disposition=urn:epcglobal:cbv:disp:in_transit"
    )
    assert column(query, "biz_step") == [("receiving", "shipping")]
    assert column(query, "disposition") == [("in_transit",)]
    with pytest.raises(QueryParameterError):
        q("EQ_bizStep=shiping")  # neither a CBV word nor a URI


def test_custom_vocabulary_matches_curie_and_full_uri() -> None:
    query = q("EQ_bizStep=ex:aCustomStep", EX)
    assert column(query, "biz_step") == [("ex:aCustomStep", "http://ns.example.com/epcis/aCustomStep")]


def test_locations_use_the_canonical_identifier() -> None:
    urn = q("EQ_readPoint=urn:epc:id:sgln:0012345.11111.400")
    dl = q("EQ_readPoint=https://id.gs1.org/414/0012345111112/254/400")
    assert (
        column(urn, "read_point") == column(dl, "read_point") == [(canonical_id("urn:epc:id:sgln:0012345.11111.400"),)]
    )
    # WD_: the location or any below it in the master data (tests/store/test_masterdata_queries.py)
    (within,) = q("WD_bizLocation=urn:epc:id:sgln:0012345.11111.0").masterdata
    assert (within.field, within.ids) == ("bizLocation", (canonical_id("urn:epc:id:sgln:0012345.11111.0"),))


def test_event_id_and_transformation_id_are_taken_as_given() -> None:
    query = q("EQ_eventID=urn:uuid:1|urn:uuid:2&EQ_transformationID=urn:epc:id:gdti:0614141.12345.400")
    assert column(query, "event_id") == [("urn:uuid:1", "urn:uuid:2")]
    assert column(query, "transformation_id") == [("urn:epc:id:gdti:0614141.12345.400",)]


def test_error_declaration_exists() -> None:
    assert q("EXISTS_errorDeclaration").error_declared
    assert q("EXISTS_errorDeclaration=true").error_declared
    assert not q("EXISTS_errorDeclaration=false").error_declared  # §8.2.7.1: false means "regardless"


# --- identifiers ---------------------------------------------------------------------------------------


def test_match_urn_and_digital_link_give_the_same_filter() -> None:
    urn = q("MATCH_epc=urn:epc:id:sgtin:0614141.712345.2017")
    dl = q("MATCH_epc=https://id.gs1.org/01/70614141123451/21/2017")
    assert urn.ids == dl.ids
    assert urn.ids[0].ids == (canonical_id("https://id.gs1.org/01/70614141123451/21/2017"),)
    assert urn.fingerprint() == dl.fingerprint()


@pytest.mark.parametrize(
    ("param", "roles"),
    [
        ("MATCH_epc", ("epc",)),
        ("MATCH_parentID", ("parent",)),
        ("MATCH_inputEPC", ("input",)),
        ("MATCH_outputEPC", ("output",)),
        ("MATCH_anyEPC", ("epc", "parent", "input", "output")),
        ("MATCH_epcClass", ("class",)),
        ("MATCH_inputEPCClass", ("inclass",)),
        ("MATCH_outputEPCClass", ("outclass",)),
        ("MATCH_anyEPCClass", ("class", "inclass", "outclass")),
    ],
)
def test_match_roles(param: str, roles: tuple[str, ...]) -> None:
    (f,) = q(f"{param}=urn:epc:id:sscc:0614141.1234567890").ids
    assert f.roles == roles


def test_epc_patterns_become_like_patterns() -> None:
    (f,) = q("MATCH_epc=urn:epc:idpat:sgtin:0614141.*.*").ids
    assert f.ids == ()
    assert f.patterns == tuple(epc_pattern_like("urn:epc:idpat:sgtin:0614141.*.*") or ())
    with pytest.raises(QueryParameterError) as exc:
        q("MATCH_epc=urn:epc:idpat:sgtin:0614141.*.2017")
    assert problems_of(exc) == ["/MATCH_epc"]


def test_class_pattern_names_the_class_and_its_lots() -> None:
    (f,) = q("MATCH_epcClass=urn:epc:idpat:sgtin:4012345.012345.*").ids
    gtin_class = canonical_id("urn:epc:idpat:sgtin:4012345.012345.*")
    assert f.ids == (gtin_class,)
    assert f"{gtin_class}/10/%" in f.patterns


def test_malformed_key_is_matched_as_given() -> None:
    # Capture refuses malformed GS1 keys, so such a value can only find nothing; it is not an error
    # (OpenEPCIS's *valid* SimpleEventQuery.json carries a GLN with a wrong check digit).
    (f,) = q("MATCH_epc=urn:epc:id:sgtin:0614141.10734.2017").ids  # item reference one digit short
    assert f.ids == ("urn:epc:id:sgtin:0614141.10734.2017",)


# --- links and quantities -----------------------------------------------------------------------------


def test_links_by_type() -> None:
    query = q(
        "EQ_bizTransaction_po=http://transaction.acme.com/po/12345678"
        "&EQ_source_urn:epcglobal:cbv:sdt:owning_party=urn:epc:id:pgln:4012345.00225"
        "&EQ_destination_location=urn:epc:id:sgln:0614141.00777.0"
    )
    links = {(f.kind, f.type): f.values for f in query.links}
    assert links == {
        ("bizTransaction", "po"): ("http://transaction.acme.com/po/12345678",),
        ("source", "owning_party"): (canonical_id("urn:epc:id:pgln:4012345.00225"),),
        ("destination", "location"): (canonical_id("urn:epc:id:sgln:0614141.00777.0"),),
    }


def test_quantities() -> None:
    query = q("GE_quantity=1&LT_quantity=500&EQ_quantity=200|300&GT_quantity_KGM=10")
    got = {(f.op, f.uom): f.values for f in query.quantities}
    assert got == {
        ("GE", None): (1.0,),
        ("LT", None): (500.0,),
        ("EQ", None): (200.0, 300.0),
        ("GT", "KGM"): (10.0,),
    }
    with pytest.raises(QueryParameterError) as exc:
        q("GT_quantity=lots")
    assert problems_of(exc) == ["/GT_quantity"]


# --- ILMD and extension fields ------------------------------------------------------------------------


def test_fields_by_scope_with_declared_prefix() -> None:
    query = q(
        "EQ_ex:myField=a|b&EQ_ILMD_ex:lot=L1&EQ_INNER_ex:deep=x&EQ_INNER_ILMD_ex:deeper=y&EXISTS_ex:flag",
        EX,
    )
    by_param = {f.param: (f.op, f.scope, f.names, f.texts) for f in query.fields}
    ns = EX["ex"]
    assert by_param == {
        "EQ_ex:myField": ("EQ", "ext", (ns + "myField",), ("a", "b")),
        "EQ_ILMD_ex:lot": ("EQ", "ilmd", (ns + "lot",), ("L1",)),
        "EQ_INNER_ex:deep": ("EQ", "inner_ext", (ns + "deep",), ("x",)),
        "EQ_INNER_ILMD_ex:deeper": ("EQ", "inner_ilmd", (ns + "deeper",), ("y",)),
        "EXISTS_ex:flag": ("EXISTS", "ext", (ns + "flag",), ()),
    }


def test_field_comparisons_are_numeric_or_temporal() -> None:
    query = q("GT_ILMD_ex:weight=3.5&LT_ex:when=2020-01-01T00:00:00Z&EQ_ex:count=10", EX)
    by_param = {f.param: f for f in query.fields}
    assert by_param["GT_ILMD_ex:weight"].numbers == (3.5,)
    assert by_param["LT_ex:when"].times == (to_micros("2020-01-01T00:00:00+00:00"),)
    # EQ on a number matches the text "10" and any numeric spelling of ten ("10.0").
    assert by_param["EQ_ex:count"].texts == ("10",)
    assert by_param["EQ_ex:count"].numbers == (10.0,)
    with pytest.raises(QueryParameterError) as exc:
        q("GT_ex:colour=red", EX)
    assert problems_of(exc) == ["/GT_ex:colour"]


def test_field_names_in_every_spelling() -> None:
    curie = q("EQ_ex:myField=v", EX).fields[0].names
    iri = q("EQ_http://ns.example.com/epcis/myField=v").fields[0].names
    legacy = q("EQ_http://ns.example.com/epcis/#myField=v").fields[0].names  # EPCIS 1.x: namespace#name
    assert curie == iri == ("http://ns.example.com/epcis/myField",)
    assert "http://ns.example.com/epcis/myField" in legacy
    assert q("EQ_ILMD_cbvmda:lotNumber=A").fields[0].names == ("urn:epcglobal:cbv:mda:lotNumber",)


def test_undeclared_prefix_is_explained() -> None:
    with pytest.raises(QueryParameterError) as exc:
        q("EQ_example:myField=x")
    assert problems_of(exc) == ["/EQ_example:myField"]
    assert "GS1-Extensions" in str(exc.value)


# --- order and limits ---------------------------------------------------------------------------------


def test_order() -> None:
    assert q("").order_by == ""
    desc = q("orderBy=eventTime")
    assert (desc.order_by, desc.order_desc) == ("eventTime", True)  # §8.2.7.1: DESC by default
    asc = q("orderBy=recordTime&orderDirection=ASC")
    assert (asc.order_by, asc.order_desc) == ("recordTime", False)
    by_field = q("orderBy=ex:rank", EX)
    assert (by_field.order_by, by_field.order_field) == ("field", ("http://ns.example.com/epcis/rank",))
    with pytest.raises(QueryParameterError) as exc:
        q("orderBy=eventTime&orderDirection=UP")
    assert problems_of(exc) == ["/orderDirection"]


def test_limits() -> None:
    assert q("orderBy=eventTime&eventCountLimit=5").event_count_limit == 5
    assert q("maxEventCount=7").max_event_count == 7
    with pytest.raises(QueryParameterError) as exc:
        q("eventCountLimit=5")
    assert problems_of(exc) == ["/eventCountLimit"]  # needs orderBy (§8.2.7.1)
    with pytest.raises(QueryParameterError) as exc:
        q("orderBy=eventTime&eventCountLimit=5&maxEventCount=5")
    assert problems_of(exc) == ["/eventCountLimit"]
    with pytest.raises(QueryParameterError):
        q("maxEventCount=-1")


# --- errors ---------------------------------------------------------------------------------------------


def test_unknown_parameter_is_a_query_parameter_exception() -> None:
    with pytest.raises(QueryParameterError) as exc:
        q("GE_eventDate=2026-01-01T00:00:00Z")
    assert problems_of(exc) == ["/GE_eventDate"]
    assert "unknown" in str(exc.value)


def test_every_bad_parameter_is_reported() -> None:
    with pytest.raises(QueryParameterError) as exc:
        q("EQ_action=X&GE_eventTime=never&nonsense=1")
    assert sorted(problems_of(exc)) == ["/EQ_action", "/GE_eventTime", "/nonsense"]


def test_nul_character_is_refused() -> None:
    with pytest.raises(QueryParameterError) as exc:
        q("EQ_bizStep=ship\x00ping")
    assert problems_of(exc) == ["/EQ_bizStep"]


def test_empty_alternative_is_refused() -> None:
    with pytest.raises(QueryParameterError) as exc:
        q("EQ_bizStep=shipping|")
    assert problems_of(exc) == ["/EQ_bizStep"]


@pytest.mark.parametrize(
    "param",
    [
        "EQ_readPoint_ex:site=x",
        "EQ_INNER_bizLocation_ex:site=x",
    ],
)
def test_standard_parameters_not_evaluated_here_are_said_so(param: str) -> None:
    # (extension fields of locations; master data: tests/store/test_masterdata_queries.py)
    with pytest.raises(QueryUnsupportedError) as exc:
        q(param)
    assert exc.value.problems[0].path == "/" + param.split("=")[0]


def test_body_parameters_take_every_spelling() -> None:
    query = q("EQ_persistentDisposition_set=urn:epcglobal:cbv:disp:active&EQ_errorReason=did_not_occur")
    by_param = {f.param: f for f in query.body}
    assert set(by_param["EQ_persistentDisposition_set"].texts) == {
        '"active"',
        '"urn:epcglobal:cbv:disp:active"',
        '"https://ref.gs1.org/cbv/Disp-active"',
    }
    assert by_param["EQ_persistentDisposition_set"].path == ("persistentDisposition", "set")
    assert set(by_param["EQ_errorReason"].texts) == {
        "did_not_occur",
        "urn:epcglobal:cbv:er:did_not_occur",
        "https://ref.gs1.org/cbv/ER-did_not_occur",
    }
    with pytest.raises(QueryParameterError) as exc:
        q("EQ_errorReason=not_a_reason")
    assert problems_of(exc) == ["/EQ_errorReason"]


def test_fingerprint_ignores_spelling_and_order() -> None:
    a = q("EQ_bizStep=shipping|receiving&MATCH_epc=urn:epc:id:sgtin:0614141.107346.2018")
    b = q(
        "MATCH_epc=https://id.gs1.org/01/10614141073464/21/2018&EQ_bizStep=urn:epcglobal:cbv:bizstep:receiving|shipping"
    )
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != q("EQ_bizStep=shipping").fingerprint()


def test_narrowed_intersects_event_types() -> None:
    query = q("eventType=ObjectEvent|AggregationEvent")
    assert query.narrowed(event_types=("ObjectEvent",)).event_types == ("ObjectEvent",)
    # No type in common must select nothing (not fall back to "any type").
    assert query.narrowed(event_types=("TransformationEvent",)).nothing
    assert not query.narrowed(event_types=("ObjectEvent",)).nothing
    extra = ColumnFilter("/bizSteps/{bizStep}", "biz_step", ("shipping",))
    assert query.narrowed(columns=[extra]).columns == (extra,)


# --- JSON queries ---------------------------------------------------------------------------------------


def test_openepcis_simple_event_query_document() -> None:
    doc = json.loads((QUERIES / "SimpleEventQuery.json").read_text())
    query = parse_query_json(doc)
    assert query.event_types == ("AggregationEvent", "ObjectEvent")
    assert column(query, "biz_step") == [("shipping",)]
    assert column(query, "disposition") == [("in_transit",)]
    # 9521141123452 has a wrong check digit (4 is right): kept as given, see test_malformed_key_is_matched_as_given.
    assert column(query, "biz_location") == [("https://id.gs1.org/414/9521141123452",)]
    assert query.ids[0].ids == (canonical_id("https://id.gs1.org/01/09521141012345/21/2017"),)
    assert {(f.op, f.values) for f in query.quantities} == {("GE", (1.0,)), ("LT", (500.0,))}
    assert (query.order_by, query.order_desc, query.event_count_limit) == ("eventTime", True, 100)
    assert query.ge_event_time == to_micros("2026-01-01T00:00:00+01:00")


def test_openepcis_invalid_queries_name_their_parameters() -> None:
    with pytest.raises(QueryParameterError) as exc:
        parse_query_json(json.loads((QUERIES / "Invalid" / "Query_with_invalid_values.json").read_text()))
    assert sorted(problems_of(exc)) == ["/EQ_action", "/GE_eventTime", "/orderDirection"]
    with pytest.raises(QueryParameterError) as exc:
        parse_query_json(json.loads((QUERIES / "Invalid" / "Query_with_unknown_parameter.json").read_text()))
    assert problems_of(exc) == ["/GE_eventDate"]


def test_json_values_are_not_pipe_split_and_types_are_checked() -> None:
    query = parse_query_json({"EQ_transformationID": ["urn:x:a|b"], "EXISTS_errorDeclaration": None})
    assert column(query, "transformation_id") == [("urn:x:a|b",)]
    assert query.error_declared
    with pytest.raises(QueryParameterError):
        parse_query_json({"EQ_bizStep": [{"word": "shipping"}]})
    with pytest.raises(QueryParameterError):
        parse_query_json(["EQ_bizStep"])


def test_json_query_context_declares_prefixes() -> None:
    query = parse_query_json({"@context": [{"ex": EX["ex"]}], "EQ_ILMD_ex:lot": ["L1"]})
    assert query.fields[0].names == (EX["ex"] + "lot",)


def test_named_query_body() -> None:
    name, stored = parse_named_query({"name": "myQuery", "query": {"EQ_ex:f": ["1"]}}, prefixes=EX)
    assert name == "myQuery"
    # Header prefixes are folded into the stored query so it means the same when it runs later.
    assert stored["@context"] == [EX]
    assert parse_query_json(stored).fields[0].names == (EX["ex"] + "f",)
    bodies: list[dict[str, Any]] = [
        {"query": {}},
        {"name": "a/b", "query": {}},
        {"name": "x", "query": []},
        {"name": "x", "q": {}},
    ]
    for bad in bodies:
        with pytest.raises(QueryParameterError):
            parse_named_query(bad)
    with pytest.raises(QueryParameterError) as exc:
        parse_named_query({"name": "x", "query": {"EQ_action": ["NOPE"]}})
    assert problems_of(exc) == ["/EQ_action"]


def test_extensions_header() -> None:
    assert parse_extensions_header("ex=http://ns.example.com/epcis/, ex2=https://b.example/") == {
        "ex": "http://ns.example.com/epcis/",
        "ex2": "https://b.example/",
    }
    assert parse_extensions_header(None) == {}
    with pytest.raises(QueryParameterError):
        parse_extensions_header("just-a-word")
