"""Validation of captured EPCIS 2.0 input (数据校验): bad input is refused whole, every problem located.

JSON (the internal JSON-LD event form, ``docs/design.md``): the ratified EPCIS 2.0.1 JSON schema, then
what a schema cannot say — CBV vocabulary, namespaces of extension and ILMD fields, well-formed
identifiers, time zones, the per-type rules of the standard, non-negative quantities.
XML: the ratified EPCIS 2.0.0 XSDs, event by event while streaming, in constant memory.

Every problem is a ``Problem(index, path, message)``: the 0-based event index, a JSON-pointer path
(an XPath for XML, with the line in the message) and words a user can act on.
"""

from __future__ import annotations

import copy
import difflib
import io
import json
import math
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import IO, Any

import fastjsonschema
from lxml import etree

from zhuisu.codes.epc import SIMPLE_URN_IDS, IdentifierError, canonical_id, simple_urn_id
from zhuisu.epcis import cbv
from zhuisu.epcis.problems import Problem

__all__ = [
    "validate_event",
    "validate_json_document",
    "validate_xml_bytes",
    "validate_xml_stream",
    "xml_schema",
]

_DATA = resources.files("zhuisu.epcis").joinpath("data")
_SCHEMA: dict[str, Any] = json.loads(_DATA.joinpath("epcis-json-schema.json").read_text(encoding="utf-8"))
_DEFS: dict[str, Any] = _SCHEMA["definitions"]

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument")


# ---------------------------------------------------------------------------------------------------
# The JSON schema, compiled once
# ---------------------------------------------------------------------------------------------------


def _no_remote(uri: str) -> Any:
    raise ValueError(f"remote $ref {uri!r} refused: the EPCIS schema is self-contained")


_HANDLERS = {"http": _no_remote, "https": _no_remote, "file": _no_remote, "ftp": _no_remote}


def _schema_for(ref: str, definitions: dict[str, Any]) -> dict[str, Any]:
    return {
        "$id": _SCHEMA["$id"],
        "$schema": _SCHEMA["$schema"],
        "definitions": definitions,
        "$ref": f"#/definitions/{ref}",
    }


def _compile(ref: str, definitions: dict[str, Any], **options: Any) -> Callable[[Any], Any]:
    schema = _schema_for(ref, definitions)
    return fastjsonschema.compile(schema, handlers=_HANDLERS, use_default=False, **options)  # type: ignore[no-any-return]


_ROOT_FUNCTION = re.compile(r"^def (validate\w*)\(", re.M)


def _compile_fast(ref: str, definitions: dict[str, Any]) -> Callable[[Any], Any]:
    """A yes/no validator: fastjsonschema's code without the error names it would build for nothing.

    The generated code formats a name (``data.epcList[3]``) with ``str.format(**locals())`` for every
    list item even when exceptions carry no details; that costs several µs per EPC. Names only go into
    error messages, which this validator never shows (a failure reruns the verbatim schema), so dropping
    the formatting changes no verdict; tests check this against the verbatim schema.
    """
    code = fastjsonschema.compile_to_code(
        _schema_for(ref, definitions), handlers=_HANDLERS, use_default=False, detailed_exceptions=False
    )
    root = _ROOT_FUNCTION.search(code)
    if root is None:  # a future code generator: keep its own function, only slower
        return _compile(ref, definitions, detailed_exceptions=False)
    namespace: dict[str, Any] = {}
    exec(compile(code.replace(".format(**locals())", ""), f"<epcis schema {ref}>", "exec"), namespace)
    _SCHEMA_PATTERNS.update(namespace.get("REGEX_PATTERNS", {}))
    return namespace[root.group(1)]  # type: ignore[no-any-return]


# The regexes the generated code checks formats and patterns with (the pre-check below uses the same ones).
_SCHEMA_PATTERNS: dict[str, re.Pattern[str]] = {}


def _cheap_first(node: Any) -> Any:
    """The same schema with each ``anyOf`` trying its likeliest branches first.

    ``anyOf`` does not depend on the order of its branches, so this changes no verdict; it only spares
    the common case (a CBV word, a standard field name, an ``@context`` list) the exceptions of failing
    branches first: enumerations, then lists, then the rest.
    """
    if isinstance(node, list):
        return [_cheap_first(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _cheap_first(value) for key, value in node.items()}
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = sorted(_merge_common_names(out["anyOf"]), key=_branch_cost)
    return out


_COMMON_NAMES = {"$ref": "#/definitions/common-event-properties"}


def _merge_common_names(branches: list[Any]) -> list[Any]:
    """``anyOf [common-event-properties, {enum: own names}]`` as ``anyOf [{enum: common + own}, vocab-uri]``.

    common-event-properties is itself ``anyOf [{enum: common names}, vocab-uri]``, so this is the same set
    of field names, tested with one membership check instead of an exception per common field.
    """
    own = [b for b in branches if isinstance(b, dict) and "enum" in b and b.get("type") == "string"]
    if _COMMON_NAMES not in branches or len(own) != 1 or len(branches) != 2:
        return branches
    common = _DEFS["common-event-properties"]["anyOf"]
    names = next(b["enum"] for b in common if "enum" in b)
    rest = [b for b in common if "enum" not in b]
    return [{"type": "string", "enum": [*names, *own[0]["enum"]]}, *rest]


def _branch_cost(branch: Any) -> int:
    if isinstance(branch, dict) and "enum" in branch:
        return 0
    if isinstance(branch, dict) and branch.get("type") == "array":
        return 1
    return 2


_FAST_DEFS = _cheap_first(_DEFS)
# One validator per event type: EPCIS-Document-Event dispatches on "type" with if/then, the same thing.
# (``_FAST``, below, puts a structural pre-check in front of these.)
_SCHEMA_FAST = {t: _compile_fast(t, _FAST_DEFS) for t in EVENT_TYPES}
_FAST_EXTENDED = _compile_fast("Extended-Event", _FAST_DEFS)


def _document_definitions() -> dict[str, Any]:
    defs = copy.deepcopy(_DEFS)
    defs["eventList"] = {"type": "array"}  # events are validated one by one, with their index
    return defs


_DOC_DEFS = _document_definitions()
_DOCUMENT_SCHEMA = {
    "EPCISDocument": _compile("epcisDocument", _DOC_DEFS, fast_fail=False),
    "EPCISQueryDocument": _compile("epcisQueryDocument", _DOC_DEFS, fast_fail=False),
}
_detailed_event: Callable[[Any], Any] | None = None  # the verbatim schema reporting every error; built on first failure
_detailed_lock = threading.Lock()


def _detailed() -> Callable[[Any], Any]:
    global _detailed_event
    with _detailed_lock:
        if _detailed_event is None:
            _detailed_event = _compile("EPCIS-Document-Event", _DEFS, fast_fail=False)
        return _detailed_event


def _property_names(definition: str) -> frozenset[str]:
    """Field names the schema gives an event type (its own plus the common event fields)."""
    common = next(b["enum"] for b in _DEFS["common-event-properties"]["anyOf"] if "enum" in b)
    names = set(common)
    if definition in _DEFS:
        for part in _DEFS[definition]["allOf"]:
            for branch in part.get("propertyNames", {}).get("anyOf", []):
                names.update(branch.get("enum", ()))
    return frozenset(names)


_EVENT_KEYS = {t: _property_names(t) for t in EVENT_TYPES}
_EXTENDED_KEYS = _property_names("Extended-Event")
_ANY_EVENT_KEYS = frozenset().union(*_EVENT_KEYS.values())
_LOCATION_KEYS = frozenset({"id"})
_ERROR_DECLARATION_KEYS = frozenset(_DEFS["errorDeclaration"]["properties"])
_SENSOR_ELEMENT_KEYS = frozenset(_DEFS["sensorElement"]["properties"])
_SENSOR_METADATA_KEYS = frozenset(_DEFS["sensorMetadata"]["properties"])
_SENSOR_REPORT_KEYS = frozenset(_DEFS["sensorReport"]["properties"])
_HEADER_KEYS = frozenset(_DEFS["epcisHeader"]["properties"])


# ---------------------------------------------------------------------------------------------------
# A structural pre-check: plainly valid common events skip the generated schema code
# ---------------------------------------------------------------------------------------------------
# The generated code costs ~20 µs for a common event (exceptions for each failing anyOf branch, enum
# tests as chains of comparisons). The checks below say "valid" only where the schema certainly agrees;
# anything they do not recognise (another shape, another type, a value of another JSON type, a field
# they do not cover) goes to the generated code, which decides. So no verdict changes, provided each
# check is at least as strict as the schema at its place; every check names the definition it mirrors,
# and tests compare the composite validators with the verbatim schema on thousands of variants.
# Values must be exactly dict/list/str/int/float/Decimal/bool (no subclasses: the schema would accept
# some, but then the generated code decides). Uniqueness (``uniqueItems``) is only claimed for strings.

_Check = Callable[[Any], bool]


def _precheck_patterns() -> dict[str, Callable[[str], Any]] | None:
    """The generated code's own regexes, by role; None (no pre-check) if this fastjsonschema names them otherwise."""
    roles = {
        "uri": "uri_re_pattern",  # format "uri", used with .match
        "date-time": "date-time_re_pattern",  # format "date-time", used with .match
        "not-cbv": _DEFS["vocab-other-uri"]["pattern"],  # "pattern", used with .search
        "not-gs1-voc": _DEFS["vocab-nonGS1WebVoc-uri"]["pattern"],
        "uom": _DEFS["uom"]["pattern"],
        "hex": _DEFS["hexBinary"]["pattern"],
        "tz": _DEFS["Event"]["properties"]["eventTimeZoneOffset"]["pattern"],
    }
    if not all(name in _SCHEMA_PATTERNS for name in roles.values()):
        return None
    return {
        role: (_SCHEMA_PATTERNS[name].match if role in ("uri", "date-time") else _SCHEMA_PATTERNS[name].search)
        for role, name in roles.items()
    }


_PATTERNS = _precheck_patterns()
# A subset of format "uri" (letters/digits, ':', printable ASCII without space), tried before the
# schema's Unicode-aware regex because it is twice as fast: it may only say yes where that one says yes.
_ASCII_URI = re.compile(r"[A-Za-z0-9]+:[!-~]+").fullmatch
_NUMBER = (int, float, Decimal)  # JSON numbers as parsed (bool is a type of its own, so refused here)


def _enum(definition: str) -> frozenset[str]:
    """The string enum of a definition that is ``anyOf [<uri>, {enum: …}]`` (or a plain enum)."""
    node = _DEFS[definition]
    branches = node.get("anyOf", [node])
    return frozenset(w for b in branches for w in b.get("enum", ()) if isinstance(w, str))


def _build_precheck(patterns: dict[str, Callable[[str], Any]]) -> dict[str, Callable[[dict[str, Any]], bool]]:
    """One pre-check per standard event type: True only when the event certainly passes the schema."""
    schema_uri, date_time, not_cbv = patterns["uri"], patterns["date-time"], patterns["not-cbv"]
    not_gs1_voc, uom_pattern, hex_pattern = patterns["not-gs1-voc"], patterns["uom"], patterns["hex"]
    ascii_uri = _ASCII_URI
    # "eventTimeZoneOffset" pattern: every string it accepts has this form, so the set is the pattern
    zones = frozenset(
        z
        for z in (f"{s}{h:02d}:{m:02d}" for s in "+-" for h in range(15) for m in range(60))
        if patterns["tz"](z) is not None
    )

    # Simple EPC URNs that canonical_id has seen (the checks above run first) are printable ASCII
    # "urn:epc:…" without spaces, so ascii_uri matches them: a table lookup instead of a regex.
    simple = SIMPLE_URN_IDS

    def uri(v: Any) -> bool:  # definitions uri, id, eventID, vocab-uri (format "uri")
        return type(v) is str and (v in simple or ascii_uri(v) is not None or schema_uri(v) is not None)

    names: set[str] = set()  # field names found to be URIs: names repeat from event to event, values less so

    def name(k: Any) -> bool:  # uri(k) for a field name (extension fields, ILMD), remembered (bounded)
        if k in names:
            return True
        if not uri(k):
            return False
        if len(names) >= 4096:
            names.clear()
        names.add(k)
        return True

    def uri_list(v: Any) -> bool:  # {"type": "array", "items": uri}
        if type(v) is not list:
            return False
        for x in v:  # (a loop is faster than all() over a generator)
            if type(x) is not str or (x not in simple and ascii_uri(x) is None and schema_uri(x) is None):
                return False
        return True

    def unique_uri_list(v: Any) -> bool:  # definition epcList (uniqueItems)
        return uri_list(v) and len(set(v)) == len(v)

    def time(v: Any) -> bool:  # definition time (format "date-time")
        return type(v) is str and date_time(v) is not None

    def zone(v: Any) -> bool:
        return type(v) is str and v in zones

    def certification(v: Any) -> bool:  # definition certificationInfo: anyOf [array of uri, uri]
        return uri_list(v) or uri(v)

    def context(v: Any) -> bool:  # definition @context: anyOf [uri, object, unique array of (uri | object)]
        kind = type(v)
        if kind is dict:
            return True
        if kind is str:
            return uri(v)
        if kind is not list:
            return False
        objects = 0
        for x in v:
            if type(x) is dict:
                objects += 1  # one object at most, with string values: unique, and hashable as uniqueItems needs
                if objects > 1 or not all(type(y) is str for y in x.values()):
                    return False
            elif not uri(x):
                return False
        texts = len(v) - objects
        return texts < 2 or len({x for x in v if type(x) is str}) == texts

    def vocabulary(definition: str, outside: Callable[[str], Any]) -> _Check:
        words = _enum(definition)

        def check(v: Any) -> bool:  # anyOf [vocab-other-uri | vocab-nonGS1WebVoc-uri, {enum: words}]
            return type(v) is str and (v in words or (outside(v) is not None and uri(v)))

        return check

    biz_step, disposition = vocabulary("bizStep", not_cbv), vocabulary("disposition", not_cbv)
    btt, sdt = vocabulary("bizTransaction-type", not_cbv), vocabulary("source-dest-type", not_cbv)
    measurement, alert = vocabulary("measurementType", not_gs1_voc), vocabulary("sensorAlertType", not_gs1_voc)
    component = vocabulary("component", not_cbv)
    error_reason = vocabulary("error-reason", not_cbv)
    actions = _enum("action")

    def action(v: Any) -> bool:  # definition action
        return type(v) is str and v in actions

    def quantity(q: Any) -> bool:  # definition quantityElement (additionalProperties false)
        if type(q) is not dict or not uri(q.get("epcClass")):
            return False
        n = 1
        if "quantity" in q:
            if type(q["quantity"]) not in _NUMBER:
                return False
            n += 1
        if "uom" in q:
            u = q["uom"]
            if type(u) is not str or uom_pattern(u) is None:
                return False
            n += 1
        return len(q) == n

    def quantity_list(v: Any) -> bool:  # definition quantityList
        return type(v) is list and all(map(quantity, v))

    def location(v: Any) -> bool:  # definitions readPoint, bizLocation (other members unconstrained)
        return type(v) is dict and uri(v.get("id"))

    def biz_transaction(bt: Any) -> bool:  # definition bizTransaction (additionalProperties false)
        if type(bt) is not dict or not uri(bt.get("bizTransaction")):
            return False
        return len(bt) == 2 and btt(bt["type"]) if "type" in bt else len(bt) == 1

    def biz_transaction_list(v: Any) -> bool:
        return type(v) is list and all(map(biz_transaction, v))

    def party_list(member: str) -> _Check:
        def entry(sd: Any) -> bool:  # definitions source, destination (both required, nothing else)
            return type(sd) is dict and len(sd) == 2 and sdt(sd.get("type")) and uri(sd.get(member))

        return lambda v: type(v) is list and all(map(entry, v))

    def members(fields: dict[str, _Check]) -> _Check:
        def check(obj: Any) -> bool:  # an object with typed properties; other names must be URIs (propertyNames)
            if type(obj) is not dict:
                return False
            for k, v in obj.items():
                field = fields.get(k)
                if field is None:
                    if not uri(k):
                        return False
                elif not field(v):
                    return False
            return True

        return check

    def string(v: Any) -> bool:  # definition string
        return type(v) is str

    def boolean(v: Any) -> bool:  # definition boolean
        return type(v) is bool

    def hex_binary(v: Any) -> bool:  # definition hexBinary
        return type(v) is str and hex_pattern(v) is not None

    def number(v: Any) -> bool:  # definition decimal
        return type(v) in _NUMBER

    metadata = members(  # definition sensorMetadata
        {
            "time": time,
            "startTime": time,
            "endTime": time,
            **dict.fromkeys(("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"), uri),
        }
    )
    report_members = members(  # definition sensorReport
        {
            "type": measurement,
            "exception": alert,
            "time": time,
            "component": component,
            "stringValue": string,
            "booleanValue": boolean,
            "hexBinaryValue": hex_binary,
            "uom": string,
            **dict.fromkeys(
                (
                    "deviceID",
                    "deviceMetadata",
                    "rawData",
                    "dataProcessingMethod",
                    "bizRules",
                    "microorganism",
                    "chemicalSubstance",
                    "coordinateReferenceSystem",
                    "uriValue",
                ),
                uri,
            ),
            **dict.fromkeys(("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"), number),
        }
    )

    def report(r: Any) -> bool:  # "type" is required
        return type(r) is dict and "type" in r and report_members(r)

    element_members = members({"sensorMetadata": metadata})

    def sensor_element(se: Any) -> bool:  # definition sensorElement: sensorReport required, minItems 1
        if type(se) is not dict:
            return False
        reports = se.get("sensorReport")
        if type(reports) is not list or not reports or not all(map(report, reports)):
            return False
        return element_members({k: v for k, v in se.items() if k != "sensorReport"}) if len(se) > 1 else True

    def sensor_element_list(v: Any) -> bool:
        return type(v) is list and all(map(sensor_element, v))

    def ilmd(v: Any) -> bool:  # definition ilmd: propertyNames {type: string, format: uri}
        return type(v) is dict and all(map(name, v))

    declaration_members = members({"declarationTime": time, "reason": error_reason, "correctiveEventIDs": uri_list})

    def error_declaration(v: Any) -> bool:  # definition errorDeclaration: declarationTime required
        return type(v) is dict and "declarationTime" in v and declaration_members(v)

    def dispositions(v: Any) -> bool:  # {"type": "array", "items": disposition, "minItems": 1, "uniqueItems": true}
        return type(v) is list and len(v) > 0 and all(map(disposition, v)) and len(set(v)) == len(v)

    def persistent_disposition(v: Any) -> bool:  # definition persistentDisposition: set and/or unset, nothing else
        return type(v) is dict and len(v) > 0 and v.keys() <= {"set", "unset"} and all(map(dispositions, v.values()))

    def anything(v: Any) -> bool:  # a field name the type allows without giving it a schema
        return True

    common = {  # definition Event (plus "type", which the dispatch on the type already matched)
        "@context": context,
        "type": anything,
        "eventTime": time,
        "recordTime": time,
        "eventTimeZoneOffset": zone,
        "eventID": uri,
        "certificationInfo": certification,
        "errorDeclaration": error_declaration,
    }
    where = {
        "action": action,
        "bizStep": biz_step,
        "disposition": disposition,
        "readPoint": location,
        "bizLocation": location,
        "bizTransactionList": biz_transaction_list,
        "sourceList": party_list("source"),
        "destinationList": party_list("destination"),
        "sensorElementList": sensor_element_list,
    }
    fields = {
        "ObjectEvent": {
            **common,
            **where,
            "epcList": unique_uri_list,
            "quantityList": quantity_list,
            "persistentDisposition": persistent_disposition,
            "ilmd": ilmd,
        },
        "AggregationEvent": {
            **common,
            **where,
            "parentID": uri,
            "childEPCs": uri_list,
            "childQuantityList": quantity_list,
            "persistentDisposition": anything,
        },
        "TransactionEvent": {
            **common,
            **where,
            "parentID": uri,
            "epcList": uri_list,
            "quantityList": quantity_list,
            "persistentDisposition": anything,
        },
        "TransformationEvent": {
            **common,
            **{k: c for k, c in where.items() if k != "action"},
            "inputEPCList": unique_uri_list,
            "inputQuantityList": quantity_list,
            "outputEPCList": unique_uri_list,
            "outputQuantityList": quantity_list,
            "transformationID": uri,
            "persistentDisposition": persistent_disposition,
            "ilmd": ilmd,
        },
        "AssociationEvent": {
            **common,
            **where,
            "parentID": uri,
            "childEPCs": uri_list,
            "childQuantityList": quantity_list,
            "persistentDisposition": anything,
        },
    }
    for etype, table in fields.items():  # a field the type does not allow would make its check meaningless
        if not table.keys() <= _EVENT_KEYS[etype]:
            raise RuntimeError(f"pre-check of {etype} covers fields the schema does not allow: {table.keys()}")

    def full(v: Any) -> bool:  # minItems 1
        return type(v) is list and len(v) > 0

    # The rest of each type's schema: required fields and its anyOf rules, on fields already checked.
    def object_rule(e: dict[str, Any]) -> bool:
        return (
            "epcList" in e or full(e.get("quantityList")) or (full(e.get("sensorElementList")) and "readPoint" in e)
        ) and ("ilmd" not in e or e["action"] == "ADD")

    def children_rule(e: dict[str, Any]) -> bool:  # AggregationEvent, AssociationEvent
        return full(e.get("childEPCs")) or full(e.get("childQuantityList")) or e["action"] == "DELETE"

    def transaction_rule(e: dict[str, Any]) -> bool:
        return full(e.get("bizTransactionList")) and (
            "epcList" in e or full(e.get("quantityList")) or e["action"] == "DELETE"
        )

    def transformation_rule(e: dict[str, Any]) -> bool:
        inputs = full(e.get("inputEPCList")) or full(e.get("inputQuantityList"))
        outputs = full(e.get("outputEPCList")) or full(e.get("outputQuantityList"))
        return (inputs and outputs) or ((inputs or outputs) and "transformationID" in e)

    rules: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], bool]]] = {
        "ObjectEvent": (("action",), object_rule),
        "AggregationEvent": (("action",), children_rule),
        "TransactionEvent": (("action", "bizTransactionList"), transaction_rule),
        "TransformationEvent": ((), transformation_rule),
        "AssociationEvent": (("action", "parentID"), children_rule),
    }

    def precheck(table: dict[str, _Check], required: tuple[str, ...], rule: Callable[[dict[str, Any]], bool]) -> Any:
        needed = ("eventTime", "eventTimeZoneOffset", *required)

        def plainly_valid(e: dict[str, Any]) -> bool:
            for key, value in e.items():
                check = table.get(key)
                if check is None:
                    if not name(key):  # an extension field: the schema only asks for a URI as its name
                        return False
                elif not check(value):
                    return False
            for key in needed:
                if key not in e:
                    return False
            return rule(e)

        return plainly_valid

    return {t: precheck(fields[t], *rules[t]) for t in EVENT_TYPES}


_PRECHECK = _build_precheck(_PATTERNS) if _PATTERNS is not None else {}


def _with_precheck(etype: str) -> Callable[[Any], Any]:
    """The schema validator of one event type, skipped when the pre-check finds the event plainly valid."""
    schema = _SCHEMA_FAST[etype]
    plainly_valid = _PRECHECK.get(etype)
    if plainly_valid is None:
        return schema

    def validate(event: Any) -> Any:
        if type(event) is dict and plainly_valid(event):
            return event
        return schema(event)

    return validate


_FAST = {t: _with_precheck(t) for t in EVENT_TYPES}


# Prefixes the EPCIS 2.0 context itself declares (gs1, cbv, cbvmda, epcis, xsd …).
STANDARD_PREFIXES = frozenset(cbv.STANDARD_PREFIXES)

# ---------------------------------------------------------------------------------------------------
# Precompiled patterns and vocabularies
# ---------------------------------------------------------------------------------------------------

_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+\Z")
# The same test for printable ASCII (no space), which is most identifiers: twice as fast, and a subset.
_ASCII_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[!-~]+").fullmatch


def _absolute(value: str) -> bool:
    """Whether ``value`` is an absolute URI (``_ABSOLUTE_URI``)."""
    return _ASCII_ABSOLUTE_URI(value) is not None or _ABSOLUTE_URI.match(value) is not None


_DATE_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-](\d\d):(\d\d))?\Z")
# What _DATE_TIME matches with an offset in range (ASCII digits only): date-times as usually written.
_COMMON_DATE_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]+)?(?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)"
).fullmatch
_TZ_OFFSET = re.compile(r"[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)\Z")
_EPCIS_CONTEXT = re.compile(
    r"https?://ref\.gs1\.org/standards/epcis/(?:\d+\.\d+\.\d+/)?epcis-context\.jsonld"
    r"|https?://gs1\.github\.io/EPCIS/epcis-context\.jsonld"
)
_SCHEMA_VERSION = re.compile(r"\d+(?:\.\d+)*\Z")
_ACTIONS = ("ADD", "OBSERVE", "DELETE")
_NEEDS_ACTION = frozenset({"ObjectEvent", "AggregationEvent", "TransactionEvent", "AssociationEvent"})
_CBV_SCHEMA_REFUSED = ("urn:epcglobal:cbv", "http://ns.gs1.org/cbv/", "https://ns.gs1.org/cbv/")
_GS1_FORMS = (
    "https://gs1.org/voc/",
    "http://gs1.org/voc/",
    "https://www.gs1.org/voc/",
    "http://www.gs1.org/voc/",
    "gs1:",
)
_GS1_SCHEMA_REFUSED = _GS1_FORMS[:4]


@dataclass(frozen=True, slots=True)
class _Vocab:
    """How one CBV/GS1 vocabulary field is checked and explained."""

    vocab: cbv.Vocabulary
    noun: str  # "a CBV 2.0 business step"
    examples: tuple[str, ...]
    kind: str  # "CBV word" / "GS1 vocabulary word"
    forms: tuple[str, ...]  # prefixes of the URI forms of a term (…/BizStep-, urn:…:bizstep:, cbv:BizStep-)
    schema_refused: tuple[str, ...]  # URIs the JSON schema refuses here (the JSON form uses bare words)

    def problem(self, value: Any, label: str, index: int | None, path: str) -> Problem | None:
        if not isinstance(value, str) or value in self.vocab.words:
            return None
        if not _absolute(value):
            return Problem(index, path, f"{label} '{value}' is not {self.noun}; {self._advice(value)}")
        word = next((value[len(f) :] for f in self.forms if value.startswith(f)), None)
        if word is None:  # a URI of your own is fine, unless it sits where the schema wants bare words
            if value.startswith(self.schema_refused):
                return Problem(index, path, f"{label} '{value}' is not {self.noun}; {self._advice(value)}")
            return None
        if word not in self.vocab.words:  # claims to be a term of the vocabulary, but is none
            return Problem(index, path, f"{label} '{value}' is not {self.noun}; {self._advice(word)}")
        if value.startswith(self.schema_refused):
            return Problem(
                index, path, f"{label} '{value}': write the bare word '{word}' (the JSON form of EPCIS uses bare words)"
            )
        return None

    def _advice(self, value: str) -> str:
        near = _nearest(value, self.vocab.words)
        if near:
            return f"use a {self.kind} such as '{near}' or an absolute URI"
        examples = ", ".join(f"'{w}'" for w in self.examples)
        return f"use a {self.kind} (for example {examples}) or an absolute URI of your own"


def _cbv_vocab(vocab: cbv.Vocabulary, noun: str, examples: tuple[str, ...]) -> _Vocab:
    tail = vocab.web_prefix[len(cbv.CBV_WEB) :]  # "BizStep-"
    forms = [vocab.web_prefix, "http://ref.gs1.org/cbv/" + tail, "cbv:" + tail]
    forms += [vocab.urn_prefix] if vocab.urn_prefix else []
    forms += ["https://ns.gs1.org/cbv/" + tail, "http://ns.gs1.org/cbv/" + tail]
    return _Vocab(vocab, noun, examples, "CBV word", tuple(forms), _CBV_SCHEMA_REFUSED)


def _gs1_vocab(vocab: cbv.Vocabulary, noun: str, examples: tuple[str, ...]) -> _Vocab:
    return _Vocab(vocab, noun, examples, "GS1 vocabulary word", _GS1_FORMS, _GS1_SCHEMA_REFUSED)


_BIZ_STEP = _cbv_vocab(cbv.BIZ_STEP, "a CBV 2.0 business step", ("shipping", "receiving", "commissioning"))
_DISPOSITION = _cbv_vocab(cbv.DISPOSITION, "a CBV 2.0 disposition", ("in_transit", "in_progress", "active"))
_BTT = _cbv_vocab(cbv.BIZ_TRANSACTION_TYPE, "a CBV 2.0 business transaction type", ("po", "inv", "desadv"))
_SDT = _cbv_vocab(cbv.SOURCE_DEST_TYPE, "a CBV 2.0 source/destination type", ("owning_party", "location"))
_ERROR_REASON = _cbv_vocab(cbv.ERROR_REASON, "a CBV 2.0 error reason", ("did_not_occur", "incorrect_data"))
_COMPONENT = _cbv_vocab(cbv.COMPONENT, "a CBV 2.0 component", ("x", "latitude", "longitude"))
_MEASUREMENT = _gs1_vocab(cbv.MEASUREMENT_TYPE, "a GS1 measurement type", ("Temperature", "RelativeHumidity"))
_SENSOR_ALERT = _gs1_vocab(cbv.SENSOR_ALERT_TYPE, "a GS1 sensor alert type", ("ALARM_CONDITION", "ERROR_CONDITION"))


_SENSOR_REPORT_VOCABULARIES = (
    (_MEASUREMENT, "type", "sensorReport type"),
    (_SENSOR_ALERT, "exception", "sensorReport exception"),
    (_COMPONENT, "component", "sensorReport component"),
)


def _nearest(value: str, words: frozenset[str] | tuple[str, ...]) -> str | None:
    """The vocabulary word a typo most likely meant (same word in another case, or a close spelling)."""
    folded = value.lower().replace("-", "_").replace(" ", "_")
    for word in words:
        if word.lower() == folded:
            return word
    close = difflib.get_close_matches(value, sorted(words), n=1, cutoff=0.6)
    if not close and folded != value:
        close = difflib.get_close_matches(folded, sorted(words), n=1, cutoff=0.6)
    return close[0] if close else None


def _esc(key: str) -> str:
    """JSON-pointer escaping of one key (``/`` and ``~`` in URI-named extension fields)."""
    return key.replace("~", "~0").replace("/", "~1") if ("/" in key or "~" in key) else key


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "…"


# ---------------------------------------------------------------------------------------------------
# One event
# ---------------------------------------------------------------------------------------------------


def validate_event(event: Any, index: int | None = None, *, context: Mapping[str, str] | None = None) -> list[Problem]:
    """Problems of one event in the internal JSON-LD form; empty when it may be captured.

    ``context`` maps the namespace prefixes of the enclosing document (``{"ex": "https://…"}``);
    the event's own ``@context`` and the EPCIS context's prefixes count as declared too.
    Paths are relative to the event (``/bizStep``).
    """
    return _check_event(event, index, "", context)


def _check_event(event: Any, index: int | None, base: str, context: Mapping[str, str] | None) -> list[Problem]:
    if not isinstance(event, dict):
        return [Problem(index, base or "/", f"an event must be a JSON object, not {_short(event)}")]
    etype = event.get("type")
    problems = _Checker(event, index, base, context).run(etype)
    if not isinstance(etype, str):
        return problems  # without a type the schema cannot say which event it should be
    try:
        _FAST.get(etype, _FAST_EXTENDED)(event)
    except fastjsonschema.JsonSchemaException:
        problems.extend(_schema_problems(event, index, base, problems))
    return problems


class _Checker:
    """What the schema cannot check, for one event; collects problems instead of stopping at the first."""

    __slots__ = ("base", "context", "event", "index", "own_prefixes", "problems")

    def __init__(self, event: dict[str, Any], index: int | None, base: str, context: Mapping[str, str] | None):
        self.event = event
        self.index = index
        self.base = base
        self.context = context
        self.own_prefixes: dict[str, str] | None = None
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.index, self.base + path, message))

    def run(self, etype: Any) -> list[Problem]:
        e = self.event
        if isinstance(etype, str) and etype in _EVENT_KEYS:
            allowed = _EVENT_KEYS[etype]
        else:
            allowed = _EXTENDED_KEYS
            self._check_type(etype)
        ctx = e.get("@context")
        if ctx is not None:
            self.own_prefixes = self._shared_context(ctx)
        self._times()
        self._action(etype)
        self._vocabularies()
        self._identifiers()
        self._shape(etype)
        if e.keys() <= allowed:
            return self.problems  # (the common case: only fields of this type, nothing for the loop below)
        for key, value in e.items():
            if key in allowed:
                continue
            if key in _ANY_EVENT_KEYS:  # a field of another event type
                if key != "action" and allowed is not _EXTENDED_KEYS:  # (Transformation: reported above)
                    self.add(f"/{key}", f"{_a(etype)} has no field '{key}'; remove it")
            else:
                self._extension(key, value, "", "extension field")
        return self.problems

    # -- fields ------------------------------------------------------------------------------------

    def _check_type(self, etype: Any) -> None:
        if not isinstance(etype, str):
            self.add(
                "/type",
                "type is required: ObjectEvent, AggregationEvent, TransactionEvent, "
                "TransformationEvent, AssociationEvent (or an absolute URI for an extension event type)",
            )
        elif _ABSOLUTE_URI.match(etype) is None:
            near = _nearest(etype, EVENT_TYPES)
            hint = f"did you mean '{near}'? " if near else ""
            self.add(
                "/type",
                f"type '{etype}' is not an EPCIS event type; {hint}use one of "
                f"{', '.join(EVENT_TYPES)} or an absolute URI for an extension event type",
            )

    def _times(self) -> None:
        e = self.event
        if "eventTime" in e:
            self._time(e["eventTime"], "eventTime", "/eventTime")
        else:
            self.add(
                "/eventTime",
                "eventTime is required: when the event took place, with a time zone (e.g. 2026-07-22T06:45:00+08:00)",
            )
        if "recordTime" in e:
            self._time(e["recordTime"], "recordTime", "/recordTime")
        tz = e.get("eventTimeZoneOffset")
        if tz is None:
            self.add(
                "/eventTimeZoneOffset",
                "eventTimeZoneOffset is required: the local time zone offset where the event took place, e.g. +08:00",
            )
        elif isinstance(tz, str) and _TZ_OFFSET.match(tz) is None:
            self.add(
                "/eventTimeZoneOffset",
                f"eventTimeZoneOffset '{tz}' must be ±hh:mm between -14:00 and +14:00, e.g. +08:00",
            )
        decl = e.get("errorDeclaration")
        if isinstance(decl, dict):
            if "declarationTime" in decl:
                self._time(decl["declarationTime"], "declarationTime", "/errorDeclaration/declarationTime")
            else:
                self.add(
                    "/errorDeclaration/declarationTime",
                    "errorDeclaration needs declarationTime: when the error was declared, with a time zone",
                )
            p = _ERROR_REASON.problem(
                decl.get("reason"), "errorDeclaration reason", self.index, self.base + "/errorDeclaration/reason"
            )
            if p:
                self.problems.append(p)
            for key, value in decl.items():
                if key not in _ERROR_DECLARATION_KEYS:
                    self._extension(key, value, "/errorDeclaration", "errorDeclaration extension field")

    def _time(self, value: Any, label: str, path: str) -> None:
        if not isinstance(value, str):
            return  # the schema says what type it must be
        common = _COMMON_DATE_TIME(value)
        if common is None:
            self._time_general(value, label, path)
            return
        try:  # a time zone in range: only the date and time themselves are left to check
            datetime.fromisoformat(common.group(1))
        except ValueError:
            self.add(path, f"{label} '{value}' is not a real date and time")

    def _time_general(self, value: str, label: str, path: str) -> None:
        m = _DATE_TIME.match(value)
        if m is None:
            self.add(
                path,
                f"{label} '{value}' is not an ISO 8601 date-time; write it like "
                "2026-07-22T06:45:00+08:00 (date, 'T', time, time zone)",
            )
            return
        if m.group(3) is None:
            self.add(path, f"{label} '{value}' has no time zone; add an offset such as +08:00, or Z for UTC")
            return
        try:
            datetime.fromisoformat(m.group(1))
        except ValueError:
            self.add(path, f"{label} '{value}' is not a real date and time")
            return
        hh = m.group(4)
        if hh is not None and (int(hh) > 14 or int(m.group(5)) > 59 or (hh == "14" and m.group(5) != "00")):
            self.add(path, f"{label} '{value}' has a time zone offset outside -14:00 … +14:00")

    def _action(self, etype: Any) -> None:
        e = self.event
        action = e.get("action")
        if isinstance(etype, str) and etype in _NEEDS_ACTION:
            if action is None:
                self.add("/action", f"{etype} needs an action: ADD, OBSERVE or DELETE")
            elif isinstance(action, str) and action not in _ACTIONS:
                near = _nearest(action, _ACTIONS) or _nearest(action.upper(), _ACTIONS)
                hint = f" (did you mean '{near}'?)" if near else ""
                self.add("/action", f"action '{action}' is not ADD, OBSERVE or DELETE{hint}")
        elif etype == "TransformationEvent" and "action" in e:
            self.add("/action", "a TransformationEvent has no action field; remove it")

    def _vocabularies(self) -> None:
        e = self.event
        index, base, out = self.index, self.base, self.problems
        for spec, key in ((_BIZ_STEP, "bizStep"), (_DISPOSITION, "disposition")):
            if key in e:
                value = e[key]
                if type(value) is str and value in spec.vocab.words:
                    continue  # a CBV word: nothing to say (the common case, without building a path)
                p = spec.problem(value, key, index, f"{base}/{key}")
                if p:
                    out.append(p)
        pd = e.get("persistentDisposition")
        if isinstance(pd, dict):
            for part in ("set", "unset"):
                values = pd.get(part)
                if isinstance(values, list):
                    for i, v in enumerate(values):
                        p = _DISPOSITION.problem(
                            v, f"persistentDisposition {part}", index, f"{base}/persistentDisposition/{part}/{i}"
                        )
                        if p:
                            out.append(p)
        for i, bt in enumerate(_list(e.get("bizTransactionList"))):
            if isinstance(bt, dict) and "type" in bt:
                if type(bt["type"]) is str and bt["type"] in _BTT.vocab.words:
                    continue
                p = _BTT.problem(bt["type"], "bizTransaction type", index, f"{base}/bizTransactionList/{i}/type")
                if p:
                    out.append(p)
        for i, se in enumerate(_list(e.get("sensorElementList"))):
            if isinstance(se, dict):
                self._sensor_element(se, f"/sensorElementList/{i}")

    def _sensor_element(self, se: dict[str, Any], path: str) -> None:
        for key, value in se.items():
            if key not in _SENSOR_ELEMENT_KEYS:
                self._extension(key, value, path, "sensorElement extension field")
        meta = se.get("sensorMetadata")
        if isinstance(meta, dict):
            for key, value in meta.items():
                if key not in _SENSOR_METADATA_KEYS:
                    self._extension(key, value, f"{path}/sensorMetadata", "sensorMetadata extension field")
        for j, report in enumerate(_list(se.get("sensorReport"))):
            if not isinstance(report, dict):
                continue
            rpath = f"{path}/sensorReport/{j}"
            for spec, key, label in _SENSOR_REPORT_VOCABULARIES:
                if key in report:
                    value = report[key]
                    if type(value) is str and value in spec.vocab.words:
                        continue
                    p = spec.problem(value, label, self.index, f"{self.base}{rpath}/{key}")
                    if p:
                        self.problems.append(p)
            for key, value in report.items():
                if key not in _SENSOR_REPORT_KEYS:
                    self._extension(key, value, rpath, "sensorReport extension field")

    def _identifiers(self) -> None:
        e = self.event
        check, simple, other = _identifier_problem, simple_urn_id, _other_identifier_problem
        for key in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
            if key in e:
                epcs = e[key]
                if type(epcs) is list:
                    for i, epc in enumerate(epcs):  # (_identifier_problem, inline)
                        if type(epc) is str and simple(epc) is None:
                            message = other(epc, key + " entry")
                            if message:
                                self.add(f"/{key}/{i}", message)
        for key in ("parentID", "transformationID"):
            if key in e:
                message = check(e[key], key)
                if message:
                    self.add(f"/{key}", message)
        if "eventID" in e:
            value = e["eventID"]
            if isinstance(value, str) and not _absolute(value):
                self.add(
                    "/eventID",
                    f"eventID '{value}' is not an absolute URI; use e.g. a urn:uuid: or the "
                    "event hash (ni:///sha-256;…)",
                )
        cert = e.get("certificationInfo")
        if cert is not None:
            for i, c in enumerate(cert if isinstance(cert, list) else [cert]):
                if not isinstance(c, str) or not _absolute(c):
                    self.add(
                        f"/certificationInfo/{i}" if isinstance(cert, list) else "/certificationInfo",
                        f"certificationInfo {_short(c)} is not a URI: give the URI of the certificate (or "
                        "a list of URIs); certification details belong in what the URI points to",
                    )
        fine_location = None  # bizLocation is often readPoint again: checked once (a fine id is fine anywhere)
        for key in ("readPoint", "bizLocation"):
            loc = e.get(key)
            if type(loc) is dict:
                if "id" in loc and loc["id"] != fine_location:
                    message = check(loc["id"], key + " id")
                    if message:
                        self.add(f"/{key}/id", message)
                    else:
                        fine_location = loc["id"]
                if len(loc) > 1 or "id" not in loc:
                    for k, value in loc.items():
                        if k not in _LOCATION_KEYS:
                            self._extension(k, value, f"/{key}", f"{key} extension field")
        for key in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
            items = e.get(key)
            if type(items) is not list:
                continue
            for i, q in enumerate(items):
                if type(q) is not dict:
                    continue
                if "epcClass" in q:
                    message = check(q["epcClass"], "epcClass")
                    if message:
                        self.add(f"/{key}/{i}/epcClass", message)
                qty = q.get("quantity")
                if isinstance(qty, (int, float)) and not isinstance(qty, bool):
                    if not math.isfinite(qty):
                        self.add(f"/{key}/{i}/quantity", f"quantity {qty} is not a finite number")
                    elif qty < 0:
                        self.add(f"/{key}/{i}/quantity", f"quantity {qty} is negative; a quantity is zero or more")
        for key, member in (("sourceList", "source"), ("destinationList", "destination")):
            items = e.get(key)
            if type(items) is not list:
                continue
            for i, sd in enumerate(items):
                if type(sd) is not dict:
                    continue
                sdt = sd.get("type")
                if sdt is not None and not (type(sdt) is str and sdt in _SDT.vocab.words):
                    p = _SDT.problem(sdt, f"{member} type", self.index, f"{self.base}/{key}/{i}/type")
                    if p:
                        self.problems.append(p)
                if member in sd:
                    message = check(sd[member], member)
                    if message:
                        self.add(f"/{key}/{i}/{member}", message)

    def _shape(self, etype: Any) -> None:
        """The per-type rules of the standard (which list or field each kind of event needs)."""
        e = self.event
        action = e.get("action")
        if etype == "ObjectEvent":
            if not (
                "epcList" in e
                or _nonempty(e, "quantityList")
                or (_nonempty(e, "sensorElementList") and "readPoint" in e)
            ):
                self.add(
                    "/epcList",
                    "an ObjectEvent needs epcList or quantityList (or a sensorElementList together with a readPoint)",
                )
            if "ilmd" in e and action in ("OBSERVE", "DELETE"):
                self.add(
                    "/ilmd",
                    f"ilmd is only allowed when action is ADD (it describes objects as they are created), not {action}",
                )
        elif etype in ("AggregationEvent", "AssociationEvent"):
            if "parentID" not in e and (etype == "AssociationEvent" or action in ("ADD", "DELETE")):
                when = "always" if etype == "AssociationEvent" else f"when action is {action}"
                self.add(
                    "/parentID",
                    f"an {etype} needs parentID {when}: the identifier of the parent "
                    "(only an AggregationEvent with action OBSERVE may omit it)",
                )
            if action != "DELETE" and not (_nonempty(e, "childEPCs") or _nonempty(e, "childQuantityList")):
                self.add(
                    "/childEPCs",
                    f"an {etype} needs childEPCs or childQuantityList (only DELETE may omit "
                    "the children, meaning all of them)",
                )
        elif etype == "TransactionEvent":
            if not _nonempty(e, "bizTransactionList"):
                self.add(
                    "/bizTransactionList",
                    "a TransactionEvent needs a bizTransactionList with at least one business transaction",
                )
            if action != "DELETE" and not ("epcList" in e or _nonempty(e, "quantityList")):
                self.add("/epcList", "a TransactionEvent needs epcList or quantityList (only DELETE may omit them)")
        elif etype == "TransformationEvent":
            inputs = _nonempty(e, "inputEPCList") or _nonempty(e, "inputQuantityList")
            outputs = _nonempty(e, "outputEPCList") or _nonempty(e, "outputQuantityList")
            if not (inputs and outputs) and not ("transformationID" in e and (inputs or outputs)):
                if not inputs and not outputs:
                    self.add(
                        "/inputEPCList",
                        "a TransformationEvent needs inputs (inputEPCList or "
                        "inputQuantityList) and outputs (outputEPCList or outputQuantityList)",
                    )
                else:
                    missing = "/outputEPCList" if inputs else "/inputEPCList"
                    side = (
                        "outputs (outputEPCList or outputQuantityList)"
                        if inputs
                        else ("inputs (inputEPCList or inputQuantityList)")
                    )
                    self.add(
                        missing,
                        f"a TransformationEvent needs {side}, or a transformationID linking it to "
                        "the events that carry them",
                    )
        ilmd = e.get("ilmd")
        if isinstance(ilmd, dict):
            for key, value in ilmd.items():
                self._extension(key, value, "/ilmd", "ILMD field")

    # -- namespaces ----------------------------------------------------------------------------------

    def _context(self, ctx: Any, path: str) -> dict[str, str]:
        prefixes: dict[str, str] = {}
        for i, entry in enumerate(ctx if isinstance(ctx, list) else [ctx]):
            if not isinstance(entry, dict):
                continue
            for prefix, iri in entry.items():
                if not isinstance(prefix, str) or prefix.startswith("@") or ":" in prefix:
                    continue  # keywords and term definitions of compact IRIs, not prefixes
                target = iri.get("@id") if isinstance(iri, dict) else iri
                if not isinstance(target, str):
                    continue
                if not _absolute(target):
                    where = f"{path}/{i}/{_esc(prefix)}" if isinstance(ctx, list) else f"{path}/{_esc(prefix)}"
                    self.add(where, f"prefix '{prefix}' maps to '{target}', which is not an absolute IRI")
                prefixes[prefix] = target
        return prefixes

    def _shared_context(self, ctx: Any) -> dict[str, str]:
        """``_context(ctx, "/@context")``, its prefixes shared with the previous event when that had an equal
        @context without problems (the events of one capture carry the same one). Only lists of strings and
        of objects with string values are kept, as a copy, so no later change to an event can reach it."""
        global _LAST_CONTEXT
        last = _LAST_CONTEXT
        if last is not None and type(ctx) is list and last[0] == ctx:
            return last[1]
        known = len(self.problems)
        prefixes = self._context(ctx, "/@context")
        if (
            len(self.problems) == known
            and type(ctx) is list
            and all(type(c) is str or (type(c) is dict and all(type(v) is str for v in c.values())) for c in ctx)
        ):
            _LAST_CONTEXT = ([dict(c) if type(c) is dict else c for c in ctx], prefixes)
        return prefixes

    def _declared(self, prefix: str) -> bool:
        return (
            prefix in STANDARD_PREFIXES
            or (self.context is not None and prefix in self.context)
            or (self.own_prefixes is not None and prefix in self.own_prefixes)
        )

    def _extension(self, key: Any, value: Any, parent: str, what: str) -> None:
        """An extension field and everything nested in it: every key ``prefix:local`` with a declared prefix."""
        if type(key) is str and type(value) is not dict and type(value) is not list and key[:1] != "@":
            prefix, _, local = key.partition(":")  # the common case (one value, a declared prefix): fine
            if prefix and local and (local.startswith("//") or prefix in _URI_SCHEMES or self._declared(prefix)):
                return
        stack: list[tuple[Any, Any, str, str]] = [(key, value, parent, what)]
        while stack:
            k, v, at, label = stack.pop()
            path = f"{at}/{_esc(k)}" if isinstance(k, str) else at
            if isinstance(k, str):
                self._key(k, path, label, nested=label == _NESTED)
            if isinstance(v, dict):
                stack.extend((ck, cv, path, _NESTED) for ck, cv in reversed(v.items()))
            elif isinstance(v, list):
                for i in range(len(v) - 1, -1, -1):
                    if isinstance(v[i], (dict, list)):
                        stack.append((None, v[i], f"{path}/{i}", label))

    def _key(self, key: str, path: str, what: str, nested: bool = False) -> None:
        if key.startswith("@"):
            return  # JSON-LD keywords (@value, @type, @id …)
        prefix, sep, local = key.partition(":")
        if not sep or not prefix or not local:
            if nested:
                return  # inside an extension, as unqualified child elements inside an XML extension element
            self.add(
                path,
                f"{what} '{key}' has no namespace: write it as prefix:{key.strip(':') or 'name'} and "
                "declare the prefix in @context",
            )
        elif not (local.startswith("//") or prefix in _URI_SCHEMES or self._declared(prefix)):
            self.add(
                path,
                f"{what} '{key}' uses the prefix '{prefix}', which is not declared: add "
                f'{{"{prefix}": "https://…"}} to @context',
            )


_NESTED = "field inside an extension"
# The @context of the last event checked (a copy) and its prefixes, read only: see _Checker._shared_context.
_LAST_CONTEXT: tuple[list[Any], dict[str, str]] | None = None
_URI_SCHEMES = ("urn", "http", "https")  # extension names that are absolute URIs, not prefix:local


def _a(etype: Any) -> str:
    name = etype if isinstance(etype, str) else "this event"
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def _identifier_problem(value: Any, label: str) -> str | None:
    """What is wrong with an identifier (EPC, class, location, party …), or ``None``."""
    if type(value) is not str:
        return None  # the schema says it must be a string
    if simple_urn_id(value) is not None:  # the common simple EPC URNs: absolute and well formed
        return None
    return _other_identifier_problem(value, label)


def _other_identifier_problem(value: str, label: str) -> str | None:
    """``_identifier_problem`` of a text that is not a simple EPC URN (``simple_urn_id`` gave None)."""
    if _ASCII_ABSOLUTE_URI(value) is None and _ABSOLUTE_URI.match(value) is None:  # not _absolute(value)
        return (
            f"{label} '{value}' is not an absolute URI; use an EPC URI (urn:epc:id:…), a GS1 Digital Link "
            "(https://id.gs1.org/…) or another absolute URI"
        )
    try:  # EPC URNs and Digital Links must be well formed; other URIs come back unchanged
        canonical_id(value)
    except IdentifierError as exc:
        kind = "EPC URI" if value.startswith("urn:epc:") else "GS1 Digital Link URI"
        reason = str(exc)
        _, quoted, rest = reason.partition(f"{value!r}: ")  # the codec names the URI too: once is enough
        return f"{label} '{value}' is not a well-formed {kind}: {rest if quoted else reason}"
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _nonempty(event: Mapping[str, Any], key: str) -> bool:
    value = event.get(key)
    return isinstance(value, list) and len(value) > 0


# ---------------------------------------------------------------------------------------------------
# Schema errors, in words
# ---------------------------------------------------------------------------------------------------

_NAME_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def _pointer(name: str | None) -> tuple[str, str]:
    """JSON pointer and last field name of a fastjsonschema error name (``data.quantityList[0].quantity``)."""
    rest = (name or "data")[4:]
    parts: list[str] = []
    field = ""
    for m in _NAME_PART.finditer(rest):
        if m.group(1) is not None:
            parts.append(_esc(m.group(1)))
            field = m.group(1)
        else:
            parts.append(m.group(2))
    return ("/" + "/".join(parts) if parts else ""), field


_JSON_TYPE = {
    "number": "a number",
    "string": "a string",
    "object": "an object",
    "array": "a list",
    "boolean": "true or false",
    "integer": "a whole number",
    "null": "null",
}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _schema_problems(
    data: Any,
    index: int | None,
    base: str,
    known: list[Problem],
    validator: Callable[[Any], Any] | None = None,
    what: str = "event",
) -> list[Problem]:
    """Every error of the verbatim ratified schema not already explained (better) by a hand check.

    With no ``validator``, ``data`` is an event the fast validator refused: the detailed one must agree.
    """
    try:
        (validator or _detailed())(data)
        errors: list[fastjsonschema.JsonSchemaValueException] = []
    except fastjsonschema.JsonSchemaValuesException as exc:
        errors = list(exc.errors)
    except fastjsonschema.JsonSchemaValueException as exc:
        errors = [exc]
    described = [(base + path, message) for err in errors for path, message in _describe(err, what)]
    precise = bool(known) or any(full != base for full, _ in described)
    out: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for full, message in described:
        if (full, message) in seen or _explained(full, known) or (full == base and precise):
            continue  # a whole-event error is only worth showing when nothing more precise was found
        seen.add((full, message))
        out.append(Problem(index, full or "/", message))
    if validator is None and not errors and not known:  # never pass what the fast validator refused
        out.append(Problem(index, base or "/", f"the {what} does not match the EPCIS 2.0 JSON schema"))
    return out


def _explained(path: str, known: list[Problem]) -> bool:
    """Whether a hand check already reported this field or something inside it (root: anything)."""
    if not path or path == "/":
        return bool(known)
    prefix = path + "/"
    return any(p.path == path or p.path.startswith(prefix) for p in known)


def _describe(err: fastjsonschema.JsonSchemaValueException, what: str) -> list[tuple[str, str]]:
    path, field = _pointer(err.name)
    label = field or what
    value, rule, definition = err.value, err.rule, err.definition if isinstance(err.definition, dict) else {}
    if rule == "required":
        present = value if isinstance(value, dict) else {}
        return [
            (f"{path}/{_esc(k)}", f"required field '{k}' is missing")
            for k in (err.rule_definition or [])
            if k not in present
        ]
    if rule == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(definition.get("properties", {}))
        return [
            (f"{path}/{_esc(k)}", f"field '{k}' is not allowed in {label}; it takes {', '.join(allowed)}")
            for k in value
            if k not in allowed
        ]
    if rule == "type":
        expected = err.rule_definition
        names = [expected] if isinstance(expected, str) else list(expected or [])
        want = " or ".join(_JSON_TYPE.get(n, n) for n in names)
        return [(path, f"{label} must be {want}, not {_json_type(value)} ({_short(value)})")]
    if rule == "enum":
        return [(path, f"{label} {_short(value)} is not one of {', '.join(map(str, err.rule_definition or []))}")]
    if rule == "format":
        if err.rule_definition == "date-time":
            return [
                (path, f"{label} {_short(value)} is not a date-time with a time zone (e.g. 2026-07-22T06:45:00+08:00)")
            ]
        if err.rule_definition == "uri":
            return [(path, f"{label} {_short(value)} is not an absolute URI")]
        return [(path, f"{label} {_short(value)} is not a valid {err.rule_definition}")]
    if rule == "pattern":
        if field == "uom":
            return [
                (
                    path,
                    f"uom {_short(value)} must be a UN/ECE Rec 20 unit code: 2–3 capital letters or digits, e.g. KGM",
                )
            ]
        return [(path, f"{label} {_short(value)} does not match the pattern {err.rule_definition}")]
    if rule == "minItems":
        return [(path, f"{label} needs at least {err.rule_definition} item(s)")]
    if rule == "uniqueItems":
        return [(path, f"{label} repeats an item; its items must be unique")]
    if rule == "propertyNames":
        return [
            (
                path,
                f"{label} has a field name EPCIS does not allow: use the standard field names, or "
                "prefix:name for extensions with the prefix declared in @context",
            )
        ]
    if rule in ("anyOf", "oneOf", "allOf", "not", "if", "then", "else"):
        if path:
            return [(path, f"{label} {_short(value)} is not allowed here by the EPCIS 2.0 JSON schema")]
        return [
            (
                path,
                f"the {what} does not match the EPCIS 2.0 JSON schema"
                + (f" for {value.get('type')}" if isinstance(value, dict) and value.get("type") else ""),
            )
        ]
    message = err.message
    if message.startswith(err.name or "data"):
        message = message[len(err.name or "data") :].strip()
    return [(path, f"{label} {message}")]


# ---------------------------------------------------------------------------------------------------
# A JSON document
# ---------------------------------------------------------------------------------------------------


def validate_json_document(doc: Any) -> list[Problem]:
    """Problems of a JSON-LD EPCISDocument or EPCISQueryDocument (or a single event), events included.

    Document-level problems have index ``None``; event problems carry the event index and paths such as
    ``/epcisBody/eventList/3/bizStep``.
    """
    if not isinstance(doc, dict):
        return [Problem(None, "/", f"an EPCIS document must be a JSON object, not {_short(doc)}")]
    header = _Checker(doc, None, "", None)
    ctx = doc.get("@context")
    if ctx is None:
        header.add(
            "/@context",
            '@context is required: include "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld" '
            'and a {"prefix": "namespace"} entry for each extension prefix',
        )
    elif not any(isinstance(c, str) and _EPCIS_CONTEXT.fullmatch(c) for c in (ctx if isinstance(ctx, list) else [ctx])):
        header.add(
            "/@context",
            '@context must include the EPCIS 2.0 context "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"',
        )
    dtype = doc.get("type")
    if isinstance(dtype, str) and dtype not in DOCUMENT_TYPES and (dtype in EVENT_TYPES or ":" in dtype):
        return header.problems + _check_event(doc, 0, "", None)  # a single event (POST /events)
    if dtype not in DOCUMENT_TYPES:
        near = _nearest(dtype, DOCUMENT_TYPES) if isinstance(dtype, str) else None
        hint = f" (did you mean '{near}'?)" if near else ""
        header.add("/type", f"type {_short(dtype)} is not an EPCIS document type{hint}: use EPCISDocument to capture")
        return header.problems
    prefixes = header._context(ctx, "/@context") if ctx is not None else {}
    header.own_prefixes = prefixes
    version = doc.get("schemaVersion")
    if isinstance(version, str) and _SCHEMA_VERSION.match(version) and version.split(".")[0] != "2":
        header.add(
            "/schemaVersion",
            f"schemaVersion '{version}' is not supported: this is the JSON form of EPCIS 2.0, write \"2.0\"",
        )
    if "creationDate" in doc:
        header._time(doc["creationDate"], "creationDate", "/creationDate")
    head = doc.get("epcisHeader")
    if isinstance(head, dict):
        for key, value in head.items():
            if key not in _HEADER_KEYS:
                header._extension(key, value, "/epcisHeader", "epcisHeader extension field")
    problems = header.problems
    problems.extend(_schema_problems(doc, None, "", problems, _DOCUMENT_SCHEMA[dtype], "document"))
    body = doc.get("epcisBody")
    if dtype == "EPCISQueryDocument":
        body = body.get("queryResults") if isinstance(body, dict) else None
        body = body.get("resultsBody") if isinstance(body, dict) else None
        where = "/epcisBody/queryResults/resultsBody/eventList"
    else:
        where = "/epcisBody/eventList"
    events = body.get("eventList") if isinstance(body, dict) else None
    if isinstance(events, list):
        for i, event in enumerate(events):
            problems.extend(_check_event(event, i, f"{where}/{i}", prefixes))
    return problems


# ---------------------------------------------------------------------------------------------------
# XML: the ratified XSDs
# ---------------------------------------------------------------------------------------------------

EPCIS_NS = "urn:epcglobal:epcis:xsd:2"
QUERY_NS = "urn:epcglobal:epcis-query:xsd:2"
MASTERDATA_NS = "urn:epcglobal:epcis-masterdata:xsd:2"
_XML_ROOTS = frozenset(
    {
        f"{{{EPCIS_NS}}}EPCISDocument",
        f"{{{QUERY_NS}}}EPCISQueryDocument",
        f"{{{MASTERDATA_NS}}}EPCISMasterDataDocument",
    }
)
_XSD_DIR = Path(str(_DATA.joinpath("xsd")))
# One schema importing the three document schemas, so any EPCIS 2.0 document root validates.
_XSD_ALL = f"""<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:zhuisu:epcis-all">
  <xsd:import namespace="{EPCIS_NS}" schemaLocation="EPCglobal-epcis-2_0.xsd"/>
  <xsd:import namespace="{QUERY_NS}" schemaLocation="EPCglobal-epcis-query-2_0.xsd"/>
  <xsd:import namespace="{MASTERDATA_NS}" schemaLocation="EPCglobal-epcis-masterdata-2_0.xsd"/>
</xsd:schema>""".encode()
_schemas = threading.local()  # an XMLSchema keeps the error log of its last run: one per thread


# lxml's default resolves internal entities only (no XXE); resolve_entities=False would also make iterparse
# accept a truncated document, so the default it is.
_PARSE_OPTIONS: dict[str, Any] = {"no_network": True, "load_dtd": False}


def _parser() -> Any:
    return etree.XMLParser(**_PARSE_OPTIONS)


def xml_schema() -> Any:
    """The compiled EPCIS 2.0 XSDs (document, query, master data), local files only; one per thread."""
    schema = getattr(_schemas, "schema", None)
    if schema is None:
        root = etree.fromstring(_XSD_ALL, _parser(), base_url=(_XSD_DIR / "zhuisu-epcis-all.xsd").as_uri())
        schema = etree.XMLSchema(etree.ElementTree(root))
        _schemas.schema = schema
    return schema


def _is_bare_event(tag: str) -> bool:
    return tag in EVENT_TYPES  # a single event as POST /events sends it: unqualified, no document around it


def _wrap_event(event: Any, in_scope: Mapping[str | None, str] | None = None) -> Any:
    """An EPCISDocument holding ``event`` (moved, so lines stay), to validate a bare or copied event."""
    nsmap = {k: v for k, v in (in_scope or event.nsmap).items() if k is not None}
    prefix = next((k for k, v in nsmap.items() if v == EPCIS_NS), None)
    if prefix is None:
        prefix = "epcis" if "epcis" not in nsmap else "zhuisu-epcis"
        nsmap[prefix] = EPCIS_NS
    doc = etree.Element(etree.QName(EPCIS_NS, "EPCISDocument"), nsmap=nsmap)
    # schemaVersion/creationDate belong to the document; some tools put them on a bare event
    doc.set("schemaVersion", event.attrib.pop("schemaVersion", "2.0"))
    doc.set("creationDate", event.attrib.pop("creationDate", "1970-01-01T00:00:00Z"))
    etree.SubElement(etree.SubElement(doc, "EPCISBody"), "EventList").append(event)
    return doc


_XSD_MESSAGE = re.compile(r"Element '(?P<el>[^']+)'(?:, attribute '(?P<attr>[^']+)')?: (?P<rest>.*)", re.S)
_XSD_ENUM = re.compile(
    r"\[facet 'enumeration'\] The value '(?P<v>[^']*)' is not an element of the set \{(?P<set>.*)\}\."
)
_XSD_UNEXPECTED = re.compile(r"This element is not expected\.(?: Expected is (?:one of )?\( (?P<exp>.*) \)\.)?")
_XSD_MISSING = re.compile(r"Missing child element\(s\)\. Expected is (?:one of )?\( (?P<exp>.*) \)\.")
_XSD_TYPE = re.compile(r"'(?P<v>.*)' is not a valid value of the (?:atomic|list|union) type '(?P<t>[^']*)'\.", re.S)
_XSD_TYPES = {
    "DateTimeStamp": "date-time with a time zone, like 2026-07-22T06:45:00+08:00",
    "dateTime": "date-time, like 2026-07-22T06:45:00+08:00",
    "decimal": "decimal number",
    "double": "number",
    "anyURI": "URI",
    "boolean": "boolean (true or false)",
}


def _field_names() -> frozenset[str]:
    """Every field name of the standard (JSON schema properties, plus the XML-only element names)."""
    names: set[str] = set()
    stack: list[Any] = [_DEFS]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                names.update(node["properties"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    xml_only = {
        "epc",
        "bizTransaction",
        "source",
        "destination",
        "quantityElement",
        "sensorElement",
        "extension",
        "baseExtension",
        "correctiveEventID",
        "EPCISBody",
        "EPCISHeader",
        "EventList",
        "VocabularyList",
    }
    return frozenset(names | xml_only)


_FIELD_NAMES = _field_names()


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _names(expected: str | None) -> list[str]:
    return [_local(n.strip()) for n in (expected or "").split(",") if n.strip() and not n.strip().startswith("##")]


def _xsd_words(element: str, rest: str) -> str:
    """A libxml2 schema message in plainer words, with a suggestion where one helps."""
    local = _local(element)
    m = _XSD_ENUM.fullmatch(rest)
    if m:
        allowed = re.findall(r"'([^']*)'", m.group("set"))
        near = _nearest(m.group("v"), tuple(allowed))
        hint = f" (did you mean '{near}'?)" if near else ""
        return f"'{m.group('v')}' is not allowed; use one of {', '.join(allowed)}{hint}"
    m = _XSD_UNEXPECTED.fullmatch(rest)
    if m:
        expected = _names(m.group("exp"))
        if element.startswith(f"{{{EPCIS_NS}}}"):
            return (
                f"<{local}> must not be in the EPCIS namespace: event elements and their fields are "
                f"unqualified (write <{local}>, not <epcis:{local}>)"
            )
        if local not in _FIELD_NAMES and not element.startswith("{"):
            near = _nearest(local, tuple(expected)) if expected else None
            hint = f"did you mean <{near}>? " if near else ""
            return (
                f"<{local}> is not an EPCIS field; {hint}put extensions in a namespace of your own "
                f"(e.g. <ex:{local}> with xmlns:ex declared)"
            )
        if not expected:
            return f"<{local}> is not expected here"
        return (
            f"<{local}> is not expected here; expected {' or '.join(expected)} "
            "(EPCIS XML fields must appear in the order the standard gives)"
        )
    m = _XSD_MISSING.fullmatch(rest)
    if m:
        return f"a required child element is missing: {' or '.join(_names(m.group('exp')))}"
    m = _XSD_TYPE.fullmatch(rest)
    if m:
        kind = _local(m.group("t"))
        return f"'{m.group('v')}' is not a valid {_XSD_TYPES.get(kind, kind)}"
    if rest.startswith("No matching global declaration available for the validation root"):
        return (
            f"<{local}> is not an EPCIS document: the root must be EPCISDocument, EPCISQueryDocument or "
            f"EPCISMasterDataDocument in namespace {EPCIS_NS} (or its query/masterdata namespace)"
        )
    return rest.rstrip(".")


def _xml_message(line: int | None, raw: str) -> str:
    m = _XSD_MESSAGE.fullmatch(raw.strip())
    where = f"line {line}" if line else "line unknown"
    if not m:
        return f"{where}: {raw.strip()}"
    element = _local(m.group("el"))
    attr = f" attribute '{m.group('attr')}'" if m.group("attr") else ""
    return f"{where}, element <{element}>{attr}: {_xsd_words(m.group('el'), m.group('rest').strip())}"


def _root_problem(root: Any) -> Problem | None:
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag in _XML_ROOTS or _is_bare_event(tag):
        return None
    local = _local(tag)
    if local in EVENT_TYPES:
        detail = f"<{local}> must not be in the EPCIS namespace: send it unqualified, or inside an EPCISDocument"
    else:
        detail = (
            f"<{local}> is not an EPCIS document: the root must be EPCISDocument, EPCISQueryDocument or "
            f"EPCISMasterDataDocument (namespace {EPCIS_NS} …), or a single unqualified event"
        )
    return Problem(None, f"/{local}", f"line {root.sourceline}, element <{local}>: {detail}")


def _not_well_formed(exc: Any) -> Problem:
    line = getattr(exc, "lineno", None)
    msg = _clean_parse_message(getattr(exc, "msg", None) or str(exc))
    return Problem(None, "/", f"line {line or 'unknown'}: not well-formed XML: {msg}")


def validate_xml_bytes(data: bytes) -> list[Problem]:
    """XSD problems of an XML EPCIS document (or a single unqualified event), each naming line and element."""
    return list(validate_xml_stream(io.BytesIO(data)))


def validate_xml_stream(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[Problem]:
    """XSD problems of an XML EPCIS document, found while streaming it in constant memory.

    Each event is validated as soon as it is parsed (inside a one-event document, lines kept), then
    dropped; what is left at the end — root, header, envelope — is validated last. The EPCIS XSDs have
    no identity constraints and their EventList takes any sequence of events, so this is exactly
    whole-document validation. (``iterparse(schema=…)`` would validate too, but reports no line, and
    libxml2 keeps ~100 bytes per event while it streams: 100 MB more for a million events.)
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            yield from _validate_stream(fh)
    else:
        yield from _validate_stream(source)


class _Chained(io.RawIOBase):
    """Bytes already read, then the rest of the stream: lets us look at the root before parsing on."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


_PEEK = 65536
_PEEK_LIMIT = 1 << 20
_STREAM_TAGS = (*EVENT_TYPES, "extension", "EventList", *sorted(_XML_ROOTS))


def _peek_root(stream: IO[bytes]) -> tuple[bytes, Any]:
    """Read until the root element's start tag; the bytes read and the root (``None`` if not found)."""
    head = b""
    pull = etree.XMLPullParser(events=("start",), **_PARSE_OPTIONS)
    while len(head) < _PEEK_LIMIT:
        chunk = stream.read(_PEEK)
        if not chunk:
            break
        head += chunk
        pull.feed(chunk)
        for _event, element in pull.read_events():
            return head, element
    return head, None


def _validate_stream(stream: IO[bytes]) -> Iterator[Problem]:
    try:
        head, root = _peek_root(stream)
    except etree.XMLSyntaxError as exc:
        yield _not_well_formed(exc)
        return
    if root is None:
        yield Problem(None, "/", "line unknown: no root element found in the first MiB: not an XML document")
        return
    bad_root = _root_problem(root)
    if bad_root:
        yield bad_root
        return
    if _is_bare_event(root.tag):  # one event, as POST /events sends it: small, validate it whole
        yield from _validate_bare_event(head + stream.read())
        return
    parser = etree.iterparse(_Chained(head, stream), events=("start", "end"), tag=_STREAM_TAGS, **_PARSE_OPTIONS)
    events = _EventValidator()
    kept = event_list = None  # the root and the current EventList: what is left at the end
    event_list_path = event_path = ""
    index = -1
    counts: dict[str, int] = {}
    others: list[tuple[int, Any]] = []  # elements of other namespaces before this event (not reported by tag)
    try:
        for action, element in parser:
            tag = element.tag
            if tag in _XML_ROOTS:
                kept = element
                continue
            if tag == "EventList":
                if action == "start":
                    event_list, event_list_path = element, _xpath(element)
                continue
            parent = element.getparent()
            if parent is None or parent.tag != "EventList":
                continue  # an <extension> inside an event, not an event
            if action == "start":
                before = [s for s in element.itersiblings(preceding=True) if isinstance(s.tag, str)]
                others = [(index + n, s) for n, s in enumerate(reversed(before), 1)]
                index += 1 + len(before)
                counts[tag] = counts.get(tag, 0) + 1
                event_path = f"{event_list_path}/{tag}[{counts[tag]}]"
                continue
            for other_index, other in others:
                yield from events.validate(other, other_index, _xpath(other))
            others = []
            while element.getprevious() is not None:  # comments and the like before it; never what follows
                del parent[0]
            yield from events.validate(element, index, event_path)  # moves it out of the streamed tree
    except etree.XMLSyntaxError as exc:
        yield _not_well_formed(exc)
        return
    if event_list is not None:  # elements of other namespaces after the last event
        for child in [c for c in event_list if isinstance(c.tag, str)]:
            index += 1
            yield from events.validate(child, index, _xpath(child))
    yield from _validate_rest(kept)


class _EventValidator:
    """Validates events one at a time, each inside a one-event EPCISDocument it is moved into."""

    def __init__(self) -> None:
        self._schema = xml_schema()
        self._documents: dict[frozenset[tuple[str | None, str]], tuple[Any, Any]] = {}

    def validate(self, event: Any, index: int, path: str) -> list[Problem]:
        scope = event.nsmap  # prefixes in scope where it stood, e.g. for xsi:type="xsd:integer"
        key = frozenset(scope.items())
        document = self._documents.get(key)
        if document is None:
            placeholder = etree.Element("ObjectEvent")
            root = _wrap_event(placeholder, scope)
            event_list = placeholder.getparent()
            event_list.remove(placeholder)
            document = self._documents[key] = (etree.ElementTree(root), event_list)
        tree, event_list = document
        event_list.append(event)  # moved, not copied: lines stay, and the streamed tree lets go of it
        try:
            if self._schema.validate(tree):
                return []
            problems = []
            for entry in self._schema.error_log:
                inner = "/".join((entry.path or "").split("/")[5:])  # below /EPCISDocument/…/EventList/<event>
                problems.append(
                    Problem(index, f"{path}/{inner}" if inner else path, _xml_message(entry.line, entry.message))
                )
            return problems
        finally:
            event_list.remove(event)


def _validate_bare_event(data: bytes) -> list[Problem]:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        return [_not_well_formed(exc)]
    tree = etree.ElementTree(_wrap_event(root))
    schema = xml_schema()
    if schema.validate(tree):
        return []
    return [
        Problem(0, "/" + "/".join((e.path or "").split("/")[4:]), _xml_message(e.line, e.message))
        for e in schema.error_log
    ]


def _validate_rest(root: Any) -> list[Problem]:
    """Validate what the stream kept (the document without its events): root, header, envelope."""
    schema = xml_schema()
    if root is None or schema.validate(etree.ElementTree(root)):
        return []
    return [Problem(None, e.path or "/", _xml_message(e.line, e.message)) for e in schema.error_log]


def _clean_parse_message(msg: str) -> str:
    m = re.fullmatch(r"line \d+: b?'(.*)'", msg, re.S)
    return m.group(1) if m else msg


def _xpath(element: Any) -> str:
    parts: list[str] = []
    node = element
    while node is not None:
        local = etree.QName(node).localname
        parts.append(f"{node.prefix}:{local}" if node.prefix else local)
        node = node.getparent()
    return "/" + "/".join(reversed(parts))
