"""Every event of the valid XML conformance documents, read by the XML codec, passes event validation.

Files: the GS1 EPCISDocument / EPCISQueryDocument examples (``XML/``) and the OpenEPCIS capture documents,
capture events and query documents (``openepcis/2.0/EPCIS/XML/{Capture/Documents,Capture/Events,Query}``),
copied under tests/data/epcis (see SOURCE.md). Where a file's content itself breaks a rule of EPCIS 2.0,
``KNOWN`` names the event, the field and the rule, and each claim is checked here on the raw XML with plain
lxml (and the ratified JSON schema's own lists), independently of the codec and of the validator: a listed
problem that is not in the file, or a problem of a file that is not listed, fails the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from zhuisu.epcis.validate import validate_event
from zhuisu.epcis.xml import iter_xml_document

DATA = Path(__file__).resolve().parent.parent / "data" / "epcis"
OE = "openepcis/2.0/EPCIS/XML"
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
_SCHEMA = json.loads(resources.files("zhuisu.epcis").joinpath("data", "epcis-json-schema.json").read_text("utf-8"))
# The ratified JSON schema's list of GS1 measurement types (its bare-word enum).
MEASUREMENT_TYPES = frozenset(
    next(b["enum"] for b in _SCHEMA["definitions"]["measurementType"]["anyOf"] if "enum" in b)
)


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _root_kind(path: Path) -> str:
    return _local(etree.parse(str(path)).getroot())


def documents() -> list[Path]:
    gs1 = [p for p in sorted((DATA / "XML").rglob("*.xml")) if _root_kind(p) in ("EPCISDocument", "EPCISQueryDocument")]
    oe = [
        p
        for sub in ("Capture/Documents", "Capture/Events", "Query", "Query/Documents")
        for p in sorted((DATA / OE / sub).glob("*.xml"))
    ]
    return gs1 + oe


def rel(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


def test_all_gs1_event_documents_are_here() -> None:
    """shared/conformance/README.md: 31 EPCISDocument / EPCISQueryDocument files in the GS1 XML folder."""
    assert sum(1 for p in documents() if rel(p).startswith("XML/")) == 31


# --- the raw XML, read with plain lxml -----------------------------------------------------------------


def event_elements(path: Path) -> list[Any]:
    root = etree.parse(str(path)).getroot()
    if _local(root) in EVENT_TYPES:
        return [root]
    return [c for el in root.iter("{*}EventList") for c in el if _local(c) in EVENT_TYPES]


def locate(event: Any, pointer: str) -> tuple[Any, str | None]:
    """The XML element a JSON pointer of the event form names, and the attribute if it ends on one."""
    el, parts = event, pointer.strip("/").split("/")
    i = 0
    while i < len(parts):
        part = parts[i]
        if part.isdigit():
            el = [c for c in el if isinstance(c.tag, str)][int(part)]
        else:
            found = [c for c in el if _local(c) == part]
            if not found:
                assert i == len(parts) - 1, (pointer, part)
                return el, part
            if i + 1 < len(parts) and parts[i + 1].isdigit() and part == "sensorReport":
                el, i = found[int(parts[i + 1])], i + 1  # repeated elements, a JSON list
            else:
                el = found[0]
        i += 1
    return el, None


def _gs1_check_digit(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _dl_value(uri: str, ai: str) -> str:
    return uri.split(f"/{ai}/", 1)[1].split("/", 1)[0]


@dataclass(frozen=True)
class Rule:
    """A rule of EPCIS 2.0 that the file's content breaks, and a check that it really does."""

    text: str
    breaks: Callable[[Any, str | None], bool]


NOT_A_GS1_MEASUREMENT_TYPE = Rule(
    "sensorReport type gs1:X names a term of the GS1 vocabulary, but X is none of the GS1 measurement types "
    "(the ratified JSON schema's measurementType list; its JSON twins use DoseEquivalentRate and "
    "AmountOfSubstancePerUnitVolume): an IRI in gs1's namespace that GS1 does not define",
    lambda el, attr: (v := el.get("type", "")).startswith("gs1:") and v[4:] not in MEASUREMENT_TYPES,
)
SENSOR_REPORT_WITHOUT_TYPE = Rule(
    "a sensorReport without type: optional in the 2.0 XSD, required by the ratified JSON schema "
    "(sensorReport 'required': ['type']), i.e. the event has no JSON form; the codec does not invent one",
    lambda el, attr: _local(el) == "sensorReport" and "type" not in el.attrib,
)
GRAI_CHECK_DIGIT = Rule(
    "GS1 Digital Link AI (8003) GRAI with a wrong check digit (mod-10 over the 12 digits after the filler 0)",
    lambda el, attr: (v := _dl_value(el.text.strip(), "8003"))[13] != _gs1_check_digit(v[1:13]),
)
GRAI_FILLER = Rule(
    "GS1 Digital Link AI (8003) GRAI whose first digit is not the filler 0 the AI's format N1=0 requires",
    lambda el, attr: _dl_value(el.text.strip(), "8003")[0] != "0",
)
DUPLICATE_EPC = Rule(
    "the same EPC twice in one epcList: an EPC list is a set (ratified JSON schema: uniqueItems)",
    lambda el, attr: len({c.text.strip() for c in el}) < len(el),
)
NO_SECONDS = Rule(
    "declarationTime without seconds: the XSD's DateTimeStamp (and ISO 8601 date-time) require them",
    lambda el, attr: re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(Z|[+-]\d\d:\d\d)", el.text.strip()) is not None,
)

_SENSOR_DATA = {
    (7, "/sensorElementList/0/sensorReport/1/type"): NOT_A_GS1_MEASUREMENT_TYPE,  # gs1:Molar_concentration
    (7, "/sensorElementList/0/sensorReport/2/type"): NOT_A_GS1_MEASUREMENT_TYPE,
    (8, "/sensorElementList/0/sensorReport/0/type"): SENSOR_REPORT_WITHOUT_TYPE,
    (8, "/sensorElementList/0/sensorReport/1/type"): SENSOR_REPORT_WITHOUT_TYPE,
    (10, "/sensorElementList/0/sensorReport/0/type"): NOT_A_GS1_MEASUREMENT_TYPE,  # gs1:EffectiveDoseRate
}
_COMBINED = {**_SENSOR_DATA, (12, "/epcList/0"): GRAI_FILLER}  # OpenEPCIS's copy of the GS1 examples, and more
_DOSE_RATE = {(0, "/sensorElementList/0/sensorReport/0/type"): NOT_A_GS1_MEASUREMENT_TYPE}

KNOWN: dict[str, dict[tuple[int, str], Rule]] = {
    "XML/WithSensorData/SensorDataExamples.xml": _SENSOR_DATA,
    "XML/WithExtension/TransactionEvent.xml": _DOSE_RATE,
    f"{OE}/Capture/Documents/SensorData_with_combined_events.xml": _COMBINED,
    f"{OE}/Query/SensorData_with_combined_events.xml": _COMBINED,
    f"{OE}/Capture/Documents/TransactionEvent_with_userExtensions.xml": _DOSE_RATE,
    f"{OE}/Query/TransactionEvent_with_userExtensions.xml": _DOSE_RATE,
    f"{OE}/Query/Documents/TransactionEvent_with_userExtensions.xml": _DOSE_RATE,
    f"{OE}/Capture/Documents/Combination_of_different_event.xml": {(0, "/epcList/0"): GRAI_CHECK_DIGIT},
    f"{OE}/Query/Combination_of_different_event.xml": {(0, "/epcList/0"): GRAI_CHECK_DIGIT},
    f"{OE}/Query/queryDocument.xml": {(0, "/epcList/0"): GRAI_CHECK_DIGIT},
    f"{OE}/Query/Documents/QueryResultsDocument.xml": {(0, "/epcList/0"): GRAI_FILLER},
    f"{OE}/Capture/Documents/epcisDocWithAllGS1Keys.xml": {(0, "/epcList"): DUPLICATE_EPC},  # the SSCC, lines 10-11
    f"{OE}/Query/ObjectEventWithAllPossibleFields.xml": {(0, "/errorDeclaration/declarationTime"): NO_SECONDS},
    f"{OE}/Query/TransformationEvent_with_error_declaration.xml": {
        (0, "/errorDeclaration/declarationTime"): NO_SECONDS
    },
}


@pytest.mark.parametrize("path", documents(), ids=rel)
def test_every_event_passes_validation(path: Path) -> None:
    _, events = iter_xml_document(path)
    found: dict[tuple[int, str], str] = {}
    count = 0
    for i, event in enumerate(events):
        count += 1
        for problem in validate_event(event, i):
            assert problem.index == i
            found[(i, problem.path)] = problem.message
    raw = event_elements(path)
    assert count == len(raw)
    known = KNOWN.get(rel(path), {})
    assert sorted(found) == sorted(known), found
    for (i, pointer), rule in known.items():
        el, attr = locate(raw[i], pointer)
        assert rule.breaks(el, attr), f"event {i} {pointer} (line {el.sourceline}) does not break: {rule.text}"


def test_known_list_names_only_files_under_test() -> None:
    assert set(KNOWN) <= {rel(p) for p in documents()}
