"""CBV 2.0 event hash ID: published vectors, equivalent renderings, and a differential oracle.

Data: tests/data/epcis/eventhash (see SOURCE.md). The reference implementation
(``epcis_event_hash_generator``, a dev dependency) is the oracle; where it is known to be wrong the case
is listed in ``zhuisu.epcis.hash.DEVIATIONS`` and shown below, each with what the standard asks.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hash_strategies as hs  # tests/epcis/hash_strategies.py
import pytest
from hypothesis import HealthCheck, given, settings

from zhuisu.epcis.hash import (
    DEVIATIONS,
    canonical_value,
    event_hash,
    event_hash_bytes,
    hash_uri,
    prehash_string,
)
from zhuisu.epcis.problems import EPCISError

# the reference implementation loads its bundled JSON-LD context with a deprecated importlib call
pytestmark = pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")

DATA = Path(__file__).resolve().parent.parent / "data" / "epcis" / "eventhash"
EXAMPLES = DATA / "examples"
NI_RE = re.compile(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0")


# ---------------------------------------------------------------------------------------------------
# helpers: reading the JSON-LD vectors (plain json; the platform's reader is tested elsewhere)
# ---------------------------------------------------------------------------------------------------


def doc_prefixes(doc: dict[str, Any]) -> dict[str, str]:
    ctx = doc.get("@context", [])
    out: dict[str, str] = {}
    for entry in ctx if isinstance(ctx, list) else [ctx]:
        if isinstance(entry, dict):
            out.update({k: v for k, v in entry.items() if isinstance(v, str)})
    return out


def doc_events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc["epcisBody"]
    if "queryResults" in body:
        body = body["queryResults"]["resultsBody"]
    return body["eventList"] if "eventList" in body else [body["event"]]


def doc_ignore_fields(*maps: dict[str, Any]) -> list[str]:
    """A repository's ``<prefix>:ignoreFields`` header (document or query results level)."""
    for m in maps:
        for k, v in m.items():
            if k.endswith(":ignoreFields"):
                return list(v) if isinstance(v, list) else list(v or {})
    return []


def json_prehashes(path: Path) -> list[str]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    ignore = doc_ignore_fields(doc, doc["epcisBody"].get("queryResults", {}))
    ctx = doc_prefixes(doc)
    return [prehash_string(e, ctx, ignore_fields=ignore) for e in doc_events(doc)]


def ni(pre: str) -> str:
    return "ni:///sha-256;" + hashlib.sha256(pre.encode()).hexdigest() + "?ver=CBV2.0"


def lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def stems(ext: str) -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.hashes") if (EXAMPLES / f"{p.stem}.{ext}").exists())


# ---------------------------------------------------------------------------------------------------
# 1. published vectors
# ---------------------------------------------------------------------------------------------------

# Lines of the upstream .prehashes files that are themselves wrong: they do not hash to the line of
# the .hashes file (checked below), which the reference and we both produce.
DEFECTIVE_PREHASH_LINES = {
    ("epcisDocWithAllGS1Keys", 0): "garbled upstream (fragments of the line are pasted into it)",
    ("epcisDocWithCustomSchemaInContext", 1): "stale upstream: written for an older version of the document",
    ("epcisDocWithDefaultSchemaInContext", 1): "stale upstream: truncated line",
}


def test_vector_set_is_complete() -> None:
    assert len(stems("jsonld")) == 22
    assert len(stems("xml")) == 17


@pytest.mark.parametrize("stem", stems("jsonld"))
def test_jsonld_vector(stem: str) -> None:
    expected = lines(EXAMPLES / f"{stem}.hashes")
    pre = json_prehashes(EXAMPLES / f"{stem}.jsonld")
    assert [ni(p) for p in pre] == expected
    prehash_file = EXAMPLES / f"{stem}.prehashes"
    if not prehash_file.exists():
        return
    for i, line in enumerate(lines(prehash_file)):
        if (stem, i) in DEFECTIVE_PREHASH_LINES:
            assert ni(line) != expected[i], "the upstream line is no longer defective: drop it from the list"
            assert ni(pre[i]) == expected[i]
        else:
            assert pre[i] == line, f"event {i}"


@pytest.mark.parametrize("stem", stems("jsonld"))
def test_jsonld_vector_in_internal_form(stem: str) -> None:
    """Events carrying their own @context (design.md) hash as with the document context."""
    doc = json.loads((EXAMPLES / f"{stem}.jsonld").read_text(encoding="utf-8"))
    ctx = doc_prefixes(doc)
    ignore = doc_ignore_fields(doc, doc["epcisBody"].get("queryResults", {}))
    for event in doc_events(doc):
        own = {**event, "@context": [{k: v} for k, v in ctx.items()]}
        assert event_hash(own, ignore_fields=ignore) == event_hash(event, ctx, ignore_fields=ignore)


# XML vector events we do not reproduce, and why. Each entry maps our pre-hash string to the vector's,
# so the test proves the stated difference is the only one.
def _swap(a: str, b: str) -> Callable[[str], str]:
    return lambda pre: pre.replace(a, b)


_BIZ_RULES = "bizRules=https://id.gs1.org/253/4012345000054987"
XML_EXPECTED_DIFFERENCES: dict[tuple[str, int], tuple[str, Callable[[str], str]]] = {
    ("SensorDataExamples", 6): (
        "DEVIATIONS['numeric-precision']: the vector holds the reference's float() rounding of the "
        "24-digit stringValue 111100001111000011110000 (it would give 111100001111000011110001 the same hash)",
        _swap("stringValue=111100001111000011110000", "stringValue=111100001111000003641344"),
    ),
    ("SensorDataExamples", 7): (
        "DEVIATIONS['stray-nested-fields']: the document puts bizRules (a sensorMetadata field) on a "
        "sensorReport; the reference re-emits the enclosing sensorElementList at the end of the string",
        lambda pre: (
            pre.replace("uom=CEL" + _BIZ_RULES, "uom=CEL") + "sensorElementListsensorElementsensorReport" + _BIZ_RULES
        ),
    ),
    ("SensorDataExamples", 11): (
        "XML codec: it reads the CBV XML namespace urn:epcglobal:cbv:mda (no colon) as the JSON-LD prefix "
        "cbvmda (urn:epcglobal:cbv:mda:), so XML and JSON renderings of lotNumber agree; the reference "
        "keeps the XML namespace and hashes the two renderings differently",
        _swap("{urn:epcglobal:cbv:mda:}", "{urn:epcglobal:cbv:mda}"),
    ),
}


@pytest.fixture(scope="module")
def xml_codec() -> Any:
    from zhuisu.epcis import xml

    return xml


def xml_prehashes(xml_codec: Any, path: Path) -> tuple[list[str], bool]:
    """Pre-hash strings of an XML document read by the codec; also whether its header had ignoreFields."""
    header, events = xml_codec.iter_xml_document(path)
    events = list(events)
    ignore = doc_ignore_fields(header)
    return [prehash_string(e, ignore_fields=ignore) for e in events], bool(ignore)


@pytest.mark.parametrize("stem", stems("xml"))
def test_xml_vector(xml_codec: Any, stem: str) -> None:
    expected = lines(EXAMPLES / f"{stem}.hashes")
    vector_pre = lines(EXAMPLES / f"{stem}.prehashes")
    pre, had_ignore_fields = xml_prehashes(xml_codec, EXAMPLES / f"{stem}.xml")
    assert len(pre) == len(expected)
    source = (EXAMPLES / f"{stem}.xml").read_text(encoding="utf-8")
    # The codec carries the document's <x:ignoreFields> list in its header.
    assert had_ignore_fields == (":ignoreFields" in source)
    for i, p in enumerate(pre):
        if (stem, i) in XML_EXPECTED_DIFFERENCES:
            _, to_vector = XML_EXPECTED_DIFFERENCES[(stem, i)]
            assert ni(p) != expected[i], "now reproduced: drop it from XML_EXPECTED_DIFFERENCES"
            assert to_vector(p) == vector_pre[i]
            assert ni(vector_pre[i]) == expected[i]
        else:
            assert p == vector_pre[i], f"event {i}"
            assert ni(p) == expected[i]


def test_xml_and_jsonld_renderings_agree(xml_codec: Any) -> None:
    both = sorted(set(stems("xml")) & set(stems("jsonld")))
    assert len(both) >= 10
    for stem in both:
        xml_pre, _ = xml_prehashes(xml_codec, EXAMPLES / f"{stem}.xml")
        assert xml_pre == json_prehashes(EXAMPLES / f"{stem}.jsonld"), stem


# ---------------------------------------------------------------------------------------------------
# 2. renderings that must hash alike
# ---------------------------------------------------------------------------------------------------


def test_expected_equal_json() -> None:
    pre = json_prehashes(DATA / "expected_equal" / "ReferenceEventHashAlgorithm.json")
    assert len(pre) == 2 and len(set(pre)) == 1
    # and it is the same event as the published example
    assert ni(pre[0]) == lines(EXAMPLES / "ReferenceEventHashAlgorithm.hashes")[0]


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "expected_equal").glob("*.xml")))
def test_expected_equal_xml(xml_codec: Any, name: str) -> None:
    pre, _ = xml_prehashes(xml_codec, DATA / "expected_equal" / name)
    assert len(pre) >= 2
    assert len(set(pre)) == 1, "\n".join(pre)


OPENEPCIS = DATA / "openepcis"


def openepcis_prehashes(xml_codec: Any, rel: str) -> list[str]:
    path = OPENEPCIS / rel
    if path.suffix == ".xml":
        return xml_prehashes(xml_codec, path)[0]
    return json_prehashes(path)


def _openepcis_cases(kind: str) -> list[Any]:
    spec = json.loads((DATA / "openepcis-equivalence-pairs.json").read_text(encoding="utf-8"))
    return [pytest.param(t["inputs"], id=t["test"]) for t in spec["tests"] if t["assert"] == kind]


@pytest.mark.parametrize("inputs", _openepcis_cases("equal"))
def test_openepcis_equivalence_pairs(xml_codec: Any, inputs: list[str]) -> None:
    """Every pair the Java implementation's tests call equivalent hashes alike here (no exceptions)."""
    left, right = (openepcis_prehashes(xml_codec, rel) for rel in inputs)
    assert left and left == right


@pytest.mark.parametrize("inputs", _openepcis_cases("count"))
def test_openepcis_documents_hash(xml_codec: Any, inputs: list[str]) -> None:
    (rel,) = inputs
    pre = openepcis_prehashes(xml_codec, rel)
    assert pre and all(NI_RE.fullmatch(ni(p)) for p in pre)


# The Python reference implementation (1.9.3, as installed) does not hash these pairs alike; the Java
# one does (they are its tests). Why, in terms of DEVIATIONS:
_BOOL = "boolean: JSON booleanValue true prints as 'True', XML gives 'true'"
_CURIE = (
    "curie-values: its JSON reader expands the declared prefix of type='example:someSensorProperty', "
    "its XML reader does not"
)
_QUERY = "1.9.3 cannot read EPCISQueryDocument at all (KeyError 'event' for JSON, no events for XML)"
_PROTECTED = "its JSON-LD expansion fails: the document redefines a protected term of the EPCIS context"
REFERENCE_PAIR_DISAGREEMENTS: dict[str, str] = {
    "withFullCombinationFieldsTest": _BOOL,
    "withJumbledOrderFieldsTest": _BOOL,
    "fullCombinationOrderAggregationEventTest": _BOOL,
    "fullCombinationOrderTransactionEventTest": _BOOL,
    "objectEventAllFieldsTest": _BOOL,
    "withUserExtensionsHavingEventID": _CURIE,
    "xmlVsJsonCaptureDocument": _CURIE,
    "xmlVsJsonCaptureDocumentVersion2_1": _CURIE,
    "sensorDataTest": _CURIE + "; also boolean",
    "curieStringTest": "curie-values: JSON exception='gs1:ALARM_CONDITION' stays unexpanded (gs1 not re-declared)",
    "bizTransactionOrderTest": "sensor-local-words: XML type='gs1:EffectiveDoseRate' expands, the JSON word does not",
    "withCombinationOfEvents": "type-value-order: a bizTransaction without type crashes it (IndexError), both sides",
    "combinationJSONQueryDocumentTest": "type-value-order: a bizTransaction without type crashes it; " + _QUERY,
    "curieJSONQueryDocumentTest": _QUERY,
    "jumbledJSONOrderQueryDocumentTest": _QUERY,
    "sensorDataJSONnQueryDocumentTest": _QUERY,
    "errorDeclarationJSONQueryDocumentTest": _QUERY,
    "combinationXMLQueryDocumentTest": _QUERY,
    "curieXMLQueryDocumentTest": _QUERY,
    "jumbledXMLOrderQueryDocumentTest": _QUERY,
    "sensorDataXMLQueryDocumentTest": _QUERY,
    "errorDeclarationXMLQueryDocumentTest": _PROTECTED,
    "transformationEventAllFieldsTest": _PROTECTED,
    "transformationEventAllFieldsTestVersion2_1": _PROTECTED,
}


def reference_document_prehashes(rel: str) -> list[str] | str:
    """The reference's pre-hash strings for one openepcis document, or its error."""
    from epcis_event_hash_generator import hash_generator, json_to_py, xml_to_py

    path = OPENEPCIS / rel
    logging.disable(logging.CRITICAL)
    try:
        if path.suffix == ".xml":
            events = xml_to_py.event_list_from_epcis_document_str(path.read_text(encoding="utf-8"))
        else:
            doc = json.loads(path.read_text(encoding="utf-8"))
            ctx = doc.get("@context")  # its offline loader knows only this URL of the EPCIS context
            doc["@context"] = [hs.EPCIS_CONTEXT_URL if isinstance(c, str) else c for c in ctx] if ctx else ctx
            json_to_py._namespaces.clear()
            events = json_to_py.event_list_from_epcis_document_json(doc)
        return list(hash_generator.derive_prehashes_from_events(events))
    except Exception as exc:  # its failures are part of what this test records
        return f"{type(exc).__name__}: {exc}"
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize("inputs", _openepcis_cases("equal"))
def test_reference_on_openepcis_pairs(inputs: list[str], request: pytest.FixtureRequest) -> None:
    left, right = (reference_document_prehashes(rel) for rel in inputs)
    alike = isinstance(left, list) and bool(left) and left == right
    reason = REFERENCE_PAIR_DISAGREEMENTS.get(request.node.callspec.id)
    if reason is None:
        assert alike, (left, right)
    else:
        assert not alike, f"the reference now hashes them alike ({reason}): drop it from the list"


# ---------------------------------------------------------------------------------------------------
# 3. differential oracle: the reference implementation on generated events
# ---------------------------------------------------------------------------------------------------


def reference_prehashes(events: list[dict[str, Any]], context: list[Any] | None = None) -> list[str]:
    """Pre-hash strings of the reference implementation for a JSON-LD document holding ``events``."""
    from epcis_event_hash_generator import hash_generator, json_to_py

    json_to_py._namespaces.clear()  # module-global state that would leak between documents
    doc = hs.reference_document(copy.deepcopy(events))
    if context is not None:
        doc["@context"] = context
    logging.disable(logging.CRITICAL)  # it logs every event it cannot read
    try:
        return list(hash_generator.derive_prehashes_from_events(json_to_py.event_list_from_epcis_document_json(doc)))
    finally:
        logging.disable(logging.NOTSET)


# 200 fixed examples keep CI deterministic and quick; ZHUISU_HASH_EXAMPLES=5000 explores further, randomly.
_EXAMPLES = int(os.environ.get("ZHUISU_HASH_EXAMPLES", "0"))


@settings(
    max_examples=_EXAMPLES or 200,
    derandomize=not _EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hs.event())
def test_agrees_with_reference_implementation(event: dict[str, Any]) -> None:
    ours = prehash_string(event, hs.DOCUMENT_PREFIXES)
    assert reference_prehashes([event]) == [ours]
    # the same event as the platform stores it: its own @context, no document context
    own = {**event, "@context": [{k: v} for k, v in hs.DOCUMENT_PREFIXES.items()]}
    assert prehash_string(own) == ours


def _ref_one(event: dict[str, Any]) -> str | None:
    out = reference_prehashes([event])
    return out[0] if out else None


def _base(**fields: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": "2020-03-04T11:00:30.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.9876"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.0"},
    }
    ev.update(fields)
    return ev


_HEAD = (
    "eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00"
    "epcListepc=https://id.gs1.org/01/04012345111118/21/9876action=OBSERVE"
    "bizStep=https://ref.gs1.org/cbv/BizStep-shippingreadPointid=https://id.gs1.org/414/4012345000115"
)
EX = "{https://ns.example.com/epcis/}"


def _demo_timestamp_rounding() -> None:
    # CBV: millisecond precision; the reference documents "round the 4th decimal, 5-9 rounds up"
    tie = _base(eventTime="2020-03-04T10:00:30.0125Z")
    assert prehash_string(tie).startswith("eventType=ObjectEventeventTime=2020-03-04T10:00:30.013Z")
    assert "eventTime=2020-03-04T10:00:30.012Z" in (_ref_one(tie) or "")  # round() ties to even
    carry = _base(eventTime="2020-03-04T10:00:30.9996Z")
    assert "eventTime=2020-03-04T10:00:31.000Z" in prehash_string(carry)
    assert _ref_one(carry) is None  # ValueError inside: the reference silently drops the event


def _demo_timestamp_without_offset() -> None:
    # EPCIS requires an offset; we read a missing one as UTC, the reference as the machine's local time
    ev = _base(eventTime="2020-03-04T10:00:30.5")
    assert "eventTime=2020-03-04T10:00:30.500Z" in prehash_string(ev)
    assert prehash_string(ev) == prehash_string(_base(eventTime="2020-03-04T10:00:30.500Z"))


def _demo_bare_word_heuristic() -> None:
    ev = _base(bizTransactionList=[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:1"}])
    ev["ex:note"] = "po"
    ev["@context"] = [{"ex": "https://ns.example.com/epcis/"}]
    assert prehash_string(ev).endswith(EX + "note=po")
    assert (_ref_one({k: v for k, v in ev.items() if k != "@context"}) or "").endswith(
        EX + "note=https://ref.gs1.org/cbv/BTT-po"
    )


def _demo_type_value_order() -> None:
    typed_first = _base(sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}])
    value_first = _base(sourceList=[{"source": "urn:epc:id:pgln:4012345.00000", "type": "owning_party"}])
    want = "sourceListtype=https://ref.gs1.org/cbv/SDT-owning_partysource=https://id.gs1.org/417/4012345000009"
    assert prehash_string(typed_first) == prehash_string(value_first) == _HEAD + want
    assert _ref_one(typed_first) == _HEAD + want
    assert _ref_one(value_first) != _HEAD + want  # JSON key order leaks into its hash
    untyped = _base(bizTransactionList=[{"bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:1"}])
    assert prehash_string(untyped).endswith("bizTransactionListbizTransaction=urn:epcglobal:cbv:bt:4012345000009:1")
    with pytest.raises(IndexError):
        _ref_one(untyped)


def _demo_boolean() -> None:
    report = {"type": "Temperature", "booleanValue": True}
    ev = _base(sensorElementList=[{"sensorReport": [report]}])
    assert "booleanValue=true" in prehash_string(ev)  # what <sensorReport booleanValue="true"/> gives
    assert "booleanValue=True" in (_ref_one(ev) or "")


def _demo_null() -> None:
    ev = _base(disposition=None)
    assert prehash_string(ev) == _HEAD
    assert "disposition=None" in (_ref_one(ev) or "")


def _demo_nested_extension_namespace() -> None:
    ctx = [hs.EPCIS_CONTEXT_URL, {"ex": "https://ns.example.com/epcis/", "h": "urn:example:ns:"}]
    ev = _base(readPoint={"id": "urn:epc:id:sgln:4012345.00011.0", "h:dock": "7"})
    ours = prehash_string(ev, {"h": "urn:example:ns:"})
    assert ours == _HEAD + "{urn:example:ns:}dock=7"
    ref = reference_prehashes([ev], ctx)[0]
    assert ref.count("readPoint") == 2  # emitted again at the end, for a namespace not ending in '/'


def _demo_stray_nested_fields() -> None:
    ev = _base(sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 5, "bizRules": "urn:x:y"}]}])
    ours = prehash_string(ev)
    assert ours.endswith("sensorReporttype=https://gs1.org/voc/Temperaturevalue=5bizRules=urn:x:y")
    assert (_ref_one(ev) or "").endswith("sensorElementListsensorElementsensorReportbizRules=urn:x:y")


def _demo_extension_list_names() -> None:
    ev = _base(**{"ex:wasteList": {"ex:wasteElement": {"ex:amount": "2"}}})
    want = EX + "wasteList" + EX + "wasteElement" + EX + "amount=2"
    assert prehash_string(ev, {"ex": "https://ns.example.com/epcis/"}).endswith(want)  # as XML gives
    assert not (_ref_one(ev) or "").endswith(want)  # it renames the member to 'ex:waste'


def _demo_curie_values() -> None:
    report = {"type": "gs1:Temperature", "value": 5, "component": "cbv:Comp-x"}
    ev = _base(sensorElementList=[{"sensorReport": [report]}])
    ours = prehash_string(ev)
    assert "type=https://gs1.org/voc/Temperature" in ours and "component=https://ref.gs1.org/cbv/Comp-x" in ours
    plain_ctx = [hs.EPCIS_CONTEXT_URL, {"ex": "https://ns.example.com/epcis/"}]
    assert "type=gs1:Temperature" in reference_prehashes([ev], plain_ctx)[0]  # gs1 not re-declared
    # user prefixes in values stay as written (as the reference's XML reader and its vectors keep them)
    ev2 = _base(**{"ex:code": "ex:A1"})
    assert prehash_string(ev2, {"ex": "https://ns.example.com/epcis/"}).endswith(EX + "code=ex:A1")
    assert _ref_one(ev2).endswith(EX + "code=https://ns.example.com/epcis/A1")  # type: ignore[union-attr]


def _demo_sensor_local_words() -> None:
    # the XML codec reads type="gs1:X" as the word X for any X; the word means the gs1 term again
    ev = _base(sensorElementList=[{"sensorReport": [{"type": "MT-Temperature", "value": 5}]}])
    assert "type=https://gs1.org/voc/MT-Temperature" in prehash_string(ev)
    assert "type=MT-Temperature" in (_ref_one(ev) or "")


def _demo_numeric_precision() -> None:
    a = _base(**{"ex:serialNo": "111100001111000011110000"})
    b = _base(**{"ex:serialNo": "111100001111000011110001"})
    ctx = {"ex": "https://ns.example.com/epcis/"}
    assert prehash_string(a, ctx) != prehash_string(b, ctx)
    assert _ref_one(a) == _ref_one(b)  # float() makes them one number
    assert canonical_value("12.50") == "12.5" and canonical_value("1e-7") == "1e-07"  # as the reference
    assert canonical_value("inf") == "inf" and canonical_value("1_000") == "1_000"
    assert reference_prehashes([_base(**{"ex:v": "inf"})]) == []  # OverflowError inside: event dropped


def _demo_epc_cp12_patterns() -> None:
    assert canonical_value("urn:epc:id:grai:123456789012..5") == "https://id.gs1.org/8003/012345678901285"
    assert canonical_value("urn:epc:idpat:grai:123456789012..*") == "https://id.gs1.org/8003/01234567890128"
    ev = _base(epcList=["urn:epc:id:grai:123456789012..5"])
    assert "epc=urn:epc:id:grai:123456789012..5" in (_ref_one(ev) or "")


def _demo_digital_link_percent() -> None:
    urn = "urn:epc:id:sgtin:4012345.011111.98%22"
    dl = "https://example.com/01/04012345111118/21/98%22?linkType=all"
    assert canonical_value(urn) == canonical_value(dl) == "https://id.gs1.org/01/04012345111118/21/98%22"
    assert (_ref_one(_base(epcList=[dl])) or "").count("example.com") == 1


def _demo_context_prefixes() -> None:
    ev = _base(ilmd={"cbvmda:lotNumber": "LOT1"})
    assert prehash_string(ev).endswith("ilmd{urn:epcglobal:cbv:mda:}lotNumber=LOT1")
    plain_ctx = [hs.EPCIS_CONTEXT_URL, {"ex": "https://ns.example.com/epcis/"}]
    assert reference_prehashes([ev], plain_ctx)[0].endswith("ilmdcbvmda:lotNumber=LOT1")


def _demo_event_context() -> None:
    ev = _base(**{"@context": [{"ex": "https://ns.example.com/epcis/"}], "ex:f": "1"})
    assert prehash_string(ev) == _HEAD + EX + "f=1"
    assert "@context" in (_ref_one(ev) or "")  # read as data


def _demo_attribute_keys() -> None:
    # <ex:f ex:a="2">text</ex:f> as the XML codec gives it
    ev = _base(**{"ex:f": {"@ex:a": "2", "@b": "3", "value": "text"}})
    assert prehash_string(ev, {"ex": "https://ns.example.com/epcis/"}) == _HEAD + EX + "f=textb=3" + EX + "a=2"


DEVIATION_DEMOS: dict[str, Callable[[], None]] = {
    "timestamp-rounding": _demo_timestamp_rounding,
    "timestamp-without-offset": _demo_timestamp_without_offset,
    "bare-word-heuristic": _demo_bare_word_heuristic,
    "type-value-order": _demo_type_value_order,
    "boolean": _demo_boolean,
    "null": _demo_null,
    "nested-extension-namespace": _demo_nested_extension_namespace,
    "stray-nested-fields": _demo_stray_nested_fields,
    "extension-list-names": _demo_extension_list_names,
    "curie-values": _demo_curie_values,
    "sensor-local-words": _demo_sensor_local_words,
    "numeric-precision": _demo_numeric_precision,
    "epc-cp12-patterns": _demo_epc_cp12_patterns,
    "digital-link-percent": _demo_digital_link_percent,
    "context-prefixes": _demo_context_prefixes,
    "event-context": _demo_event_context,
    "attribute-keys": _demo_attribute_keys,
}


def test_every_deviation_is_demonstrated() -> None:
    assert set(DEVIATION_DEMOS) == set(DEVIATIONS)


@pytest.mark.parametrize("name", sorted(DEVIATION_DEMOS))
def test_deviation_from_reference(name: str) -> None:
    DEVIATION_DEMOS[name]()


# ---------------------------------------------------------------------------------------------------
# 4. distinct events, distinct hashes
# ---------------------------------------------------------------------------------------------------


def _vector_events() -> Iterator[tuple[str, dict[str, Any], dict[str, str], list[str]]]:
    for path in [*sorted(EXAMPLES.glob("*.jsonld")), DATA / "expected_equal" / "ReferenceEventHashAlgorithm.json"]:
        doc = json.loads(path.read_text(encoding="utf-8"))
        ignore = doc_ignore_fields(doc, doc["epcisBody"].get("queryResults", {}))
        for i, e in enumerate(doc_events(doc)):
            yield f"{path.name}#{i}", e, doc_prefixes(doc), ignore


def test_distinct_vector_events_have_distinct_hashes() -> None:
    by_hash: dict[str, set[str]] = {}
    for _, event, ctx, ignore in _vector_events():
        kept = {k: v for k, v in event.items() if k not in ("eventID", "recordTime", "rdfs:comment", *ignore)}
        by_hash.setdefault(event_hash(event, ctx, ignore_fields=ignore), set()).add(json.dumps(kept, sort_keys=True))
    shared = {h: evs for h, evs in by_hash.items() if len(evs) > 1}
    assert not shared, shared
    assert len(by_hash) >= 35


def _in_key(k: str, f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda c: {**c, k: f(c[k])}


def _at_index(i: int, f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda c: [*c[:i], f(c[i]), *c[i + 1 :]]


def _mutations(value: Any, path: str = "") -> Iterator[tuple[str, Callable[[Any], Any]]]:
    """Every leaf of an event, with a function changing it in the copy it is given."""
    if isinstance(value, dict):
        for k, v in value.items():
            for p, f in _mutations(v, f"{path}/{k}"):
                yield p, _in_key(k, f)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            for p, f in _mutations(v, f"{path}/{i}"):
                yield p, _at_index(i, f)
    elif isinstance(value, bool):
        yield path, lambda c: not c
    elif isinstance(value, int | float):
        yield path, lambda c: c + 1
    else:  # before a query string, which is no part of an identifier
        yield path, lambda c: c.replace("?", "X?") if "?" in c else c + "X"


_NOT_HASHED = ("/eventID", "/recordTime", "/errorDeclaration", "/rdfs:comment", "/@context", "/type")


def test_every_hashed_field_changes_the_hash() -> None:
    checked = 0
    for name, event, ctx, ignore in _vector_events():
        base = event_hash(event, ctx, ignore_fields=ignore)
        for path, mutate in _mutations(event):
            if path.startswith(_NOT_HASHED) or path.lstrip("/").split("/")[0] in ignore:
                continue
            assert event_hash(mutate(event), ctx, ignore_fields=ignore) != base, f"{name} {path}"
            checked += 1
    assert checked > 500


# ---------------------------------------------------------------------------------------------------
# 5. units and errors
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("2019-10-21T11:00:30+01:00", "2019-10-21T10:00:30.000Z"),
        ("2019-10-21T00:05:00-06:00", "2019-10-21T06:05:00.000Z"),
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),
        ("2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z"),
        ("2020-12-31T23:59:59.9999-01:00", "2021-01-01T01:00:00.000Z"),
        ("2022-02-15T01:33:31.116000-06:00", "2022-02-15T07:33:31.116Z"),
        ("2024-02-29T23:30:00+05:30", "2024-02-29T18:00:00.000Z"),
        ("not a time", "not a time"),
        ("2019-13-01T00:00:00Z", "2019-13-01T00:00:00Z"),
    ],
)
def test_event_time_normalisation(raw: str, canonical: str) -> None:
    assert prehash_string({"type": "ObjectEvent", "eventTime": raw}) == f"eventType=ObjectEventeventTime={canonical}"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("452.0", "452"),
        ("+0012.5000", "12.5"),
        ("-0.0", "0"),
        ("1e3", "1000"),
        ("0.00001", "1e-05"),
        ("12345678901234567890", "12345678901234567890"),
        ("9007199254740993", "9007199254740993"),
        ("1.23456789012345678", "1.23456789012345678"),
        ("1e400", "1" + "0" * 400),
        ("12a", "12a"),
        ("urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("urn:epcglobal:cbv:disp:in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("gs1:Temperature", "https://gs1.org/voc/Temperature"),
        ("urn:epc:id:sscc:4012345.0000000333", "https://id.gs1.org/00/040123450000003338"),
        ("urn:epc:id:sgln:4012345.00011.0", "https://id.gs1.org/414/4012345000115"),
        ("urn:epc:class:lgtin:4054739.099914.20160711", "https://id.gs1.org/01/04054739999148/10/20160711"),
        ("https://id.gs1.org/gtin/9780345418913/lot/A1/ser/77?x=1", "https://id.gs1.org/01/09780345418913/21/77"),
        ("https://example.com/01/09780345418913/22/CPV/21/5", "https://id.gs1.org/01/09780345418913/21/5"),
        ("https://localhost/01/09780345418913", "https://localhost/01/09780345418913"),
        ("urn:epc:id:bic:CSQU3054383", "urn:epc:id:bic:CSQU3054383"),
    ],
)
def test_value_canonicalisation(raw: str, canonical: str) -> None:
    assert canonical_value(raw) == canonical


def test_hash_forms() -> None:
    event = _base()
    digest = event_hash_bytes(event)
    assert digest == hashlib.sha256(prehash_string(event).encode()).digest()
    assert event_hash(event) == hash_uri(digest)
    assert NI_RE.fullmatch(event_hash(event))


def test_bad_input_names_the_field() -> None:
    with pytest.raises(EPCISError, match=r"/ex:f.*namespace prefix 'ex'"):
        prehash_string(_base(**{"ex:f": "1"}))
    with pytest.raises(EPCISError, match=r"/type.*missing"):
        prehash_string({"eventTime": "2020-01-01T00:00:00Z"})
    with pytest.raises(EPCISError, match=r"/quantityList/0.*expected an object"):
        prehash_string(_base(quantityList=["urn:epc:class:lgtin:4054739.099914.1"]))
    with pytest.raises(EPCISError, match=r"/epcList/1.*single value"):
        prehash_string(_base(epcList=["urn:epc:id:sscc:4012345.0000000333", {"id": 1}]))
    with pytest.raises(EPCISError, match="must be an object"):
        prehash_string(["not", "an", "event"])  # type: ignore[arg-type]


def test_ignore_fields_and_nested_context() -> None:
    ctx = {"ex": "https://ns.example.com/epcis/"}
    ev = _base(**{"ex:a": "1", "ex:b": "2"})
    assert prehash_string(ev, ctx, ignore_fields=["ex:a"]) == _HEAD + EX + "b=2"
    assert prehash_string(ev, ctx, ignore_fields=[EX + "b"]) == _HEAD + EX + "a=1"
    assert prehash_string(ev, ctx, ignore_fields=["nobody:knows"]) == prehash_string(ev, ctx)
    nested = _base(**{"ex:a": {"@context": {"ex": "urn:other:"}, "ex:b": "2"}})
    assert prehash_string(nested, ctx) == _HEAD + EX + "a{urn:other:}b=2"
