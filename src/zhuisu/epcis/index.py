"""What the store indexes of an event: one canonical form per value, so any spelling finds it.

``index_event`` turns an event (internal JSON-LD form) into the column values and side-table rows
the store writes. Queries normalise their parameters with the same functions (``canonical_*``), so
``MATCH_epc=urn:epc:id:sgtin:…`` finds events captured with the Digital Link of the same item, and
``EQ_bizStep=urn:epcglobal:cbv:bizstep:shipping`` finds ``"bizStep": "shipping"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

import orjson

from zhuisu.codes.epc import SIMPLE_URN_IDS, simple_urn_id
from zhuisu.codes.epc import canonical_id as _canonical_id
from zhuisu.epcis import cbv

# Prefixes the EPCIS 2.0 context itself defines; any other prefix must be declared by the document.
STANDARD_PREFIXES = cbv.STANDARD_PREFIXES

# Top-level keys of the five event types defined by EPCIS 2.0; any other key is an extension.
STANDARD_KEYS = frozenset(
    {
        "@context",
        "type",
        "eventID",
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
        "certificationInfo",
        "errorDeclaration",
        "action",
        "epcList",
        "quantityList",
        "parentID",
        "childEPCs",
        "childQuantityList",
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        "bizStep",
        "disposition",
        "persistentDisposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "ilmd",
    }
)

_EPC_ROLES = (
    ("epcList", "epc"),
    ("childEPCs", "epc"),
    ("inputEPCList", "input"),
    ("outputEPCList", "output"),
)
_QTY_ROLES = (
    ("quantityList", "class"),
    ("childQuantityList", "class"),
    ("inputQuantityList", "inclass"),
    ("outputQuantityList", "outclass"),
)
_LINKS = (
    ("bizTransactionList", "bizTransaction", "bizTransaction", cbv.BIZ_TRANSACTION_TYPE),
    ("sourceList", "source", "source", cbv.SOURCE_DEST_TYPE),
    ("destinationList", "destination", "destination", cbv.SOURCE_DEST_TYPE),
)

_SIMPLE_GET = SIMPLE_URN_IDS.get

IdentifierRow = tuple[str, str, float | None, str | None]  # role, canonical id, quantity, uom
LinkRow = tuple[str, str, str]  # kind, type, canonical value
FieldRow = tuple[str, str, str | None, float | None, int | None]  # scope, name, text, number, time


@dataclass(slots=True)
class IndexedEvent:
    """An event ready to store: its columns, its side-table rows and its JSON body."""

    event_id: str
    event_hash: str
    event_type: str
    event_time: int
    event_tz: str | None
    record_time: int
    action: str | None
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    transformation_id: str | None
    error_declared: bool
    body: str
    hash_bytes: bytes = b""
    identifiers: list[IdentifierRow] = field(default_factory=list)
    links: list[LinkRow] = field(default_factory=list)
    fields: list[FieldRow] = field(default_factory=list)

    def __reduce__(self) -> tuple[type[IndexedEvent], tuple[Any, ...]]:
        # Pickled (worker → writer) as the constructor's arguments: twice as fast both ways as the generic
        # slots-dataclass state, which runs Python code per field.
        return (IndexedEvent, indexed_event_values(self))


# An IndexedEvent's field values in field order (``IndexedEvent(*values)`` makes it again).
indexed_event_values = attrgetter(*(f.name for f in fields(IndexedEvent)))


def to_micros(timestamp: str) -> int:
    """Microseconds since the epoch (UTC) of an ISO 8601 date-time with offset or Z."""
    dt = datetime.fromisoformat(timestamp)
    if dt.tzinfo is None:
        raise ValueError(f"date-time {timestamp!r} has no time zone offset")
    ts = dt.timestamp()
    if dt.microsecond == 0:
        return int(ts * 1_000_000)
    epoch_s = int(ts)  # _exact_micros(dt), without computing the timestamp twice
    return epoch_s * 1_000_000 + dt.microsecond if epoch_s >= 0 else int(ts * 1_000_000)


def _exact_micros(dt: datetime) -> int:
    # float timestamps lose microseconds for far dates; compute exactly.
    epoch_s = int(dt.timestamp())
    return epoch_s * 1_000_000 + dt.microsecond if epoch_s >= 0 else int(dt.timestamp() * 1_000_000)


def canonical_id(value: str) -> str:
    """``zhuisu.codes.epc.canonical_id``, reusing what validation computed for simple EPC URNs."""
    return simple_urn_id(value) or _canonical_id(value)


def canonical_biz_step(value: str) -> str:
    return cbv.BIZ_STEP.to_word(value)


def canonical_disposition(value: str) -> str:
    return cbv.DISPOSITION.to_word(value)


def canonical_link_type(kind: str, value: str) -> str:
    vocab = cbv.BIZ_TRANSACTION_TYPE if kind == "bizTransaction" else cbv.SOURCE_DEST_TYPE
    return vocab.to_word(value)


def event_prefixes(event: Mapping[str, Any]) -> dict[str, str]:
    """Prefix → namespace for an event: the standard ones plus those its own @context declares."""
    prefixes = dict(STANDARD_PREFIXES)
    ctx = event.get("@context")
    if isinstance(ctx, dict):
        ctx = [ctx]
    if isinstance(ctx, list):
        for entry in ctx:
            if isinstance(entry, dict):
                prefixes.update({k: v for k, v in entry.items() if isinstance(v, str)})
    return prefixes


# The @context of the last event indexed (a copy) and its prefixes: the events of one capture carry the
# same one (the document's), so the prefix table is built once, not per event. Read only.
_LAST_PREFIXES: tuple[list[Any], Mapping[str, str]] | None = None


def _shared_prefixes(event: Mapping[str, Any]) -> Mapping[str, str]:
    """``event_prefixes(event)``, shared with the previous event when that had an equal @context."""
    global _LAST_PREFIXES
    ctx = event.get("@context")
    if type(ctx) is not list:
        return event_prefixes(event)
    last = _LAST_PREFIXES
    if last is not None and last[0] == ctx:
        return last[1]
    prefixes = event_prefixes(event)
    # only lists of strings and of objects with string values are kept, as a copy: no later change reaches it
    if all(type(c) is str or (type(c) is dict and all(type(v) is str for v in c.values())) for c in ctx):
        _LAST_PREFIXES = ([dict(c) if type(c) is dict else c for c in ctx], prefixes)
    return prefixes


def expand_name(key: str, prefixes: Mapping[str, str]) -> str:
    """``example:myField`` → ``http://ns.example.com/epcis/myField``; unknown prefixes stay as given."""
    prefix, sep, local = key.partition(":")
    if sep and prefix in prefixes:
        return prefixes[prefix] + local
    return key


def _field_rows(scope: str, obj: Mapping[str, Any], prefixes: Mapping[str, str]) -> Iterator[FieldRow]:
    for key, value in obj.items():
        if key.startswith("@"):
            continue
        name = expand_name(key, prefixes)
        if type(value) is str:  # what _value_rows gives for a text, without its type tests
            yield (scope, name, value, _maybe_number(value), _maybe_time(value))
        else:
            yield from _value_rows(scope, name, value, prefixes)


def _value_rows(scope: str, name: str, value: Any, prefixes: Mapping[str, str]) -> Iterator[FieldRow]:
    inner = scope if scope.startswith("inner_") else "inner_" + scope
    if isinstance(value, dict):
        yield (scope, name, None, None, None)  # the field exists (EXISTS_), its value is structured
        yield from _field_rows(inner, value, prefixes)
    elif isinstance(value, list):
        for item in value:
            yield from _value_rows(scope, name, item, prefixes)
    elif isinstance(value, bool):
        yield (scope, name, "true" if value else "false", None, None)
    elif isinstance(value, int | float):
        yield (scope, name, _number_text(value), float(value), None)
    elif value is None:
        yield (scope, name, None, None, None)
    else:
        text = str(value)
        yield (scope, name, text, _maybe_number(text), _maybe_time(text))


def _number_text(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _maybe_number(text: str) -> float | None:
    if not text or text[0] not in "+-.0123456789":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _maybe_time(text: str) -> int | None:
    # Only full date-times with an offset count as times (xsd:dateTimeStamp), as the query binding compares.
    if len(text) < 20 or text[4:5] != "-" or "T" not in text:
        return None
    try:
        return to_micros(text)
    except ValueError:
        return None


# --- sensor data (EPCIS 2.0 sensorElementList), scope "sensor": what the sensor query parameters compare -----------

SENSOR_SCOPE = "sensor"
# sensorMetadata and sensorReport fields compared as text (EQ_deviceID …) and as date-times (GE_time …); a field
# that both carry (deviceID, dataProcessingMethod, time) is one name: a parameter matches either.
_SENSOR_TEXT_FIELDS = (
    "deviceID",
    "dataProcessingMethod",
    "bizRules",
    "microorganism",
    "chemicalSubstance",
    "stringValue",
    "uriValue",
)
_SENSOR_TIME_FIELDS = ("time", "startTime", "endTime")
# Numeric report fields, compared per unit: GE_value_CEL reads the rows named "value_CEL" (no unit: "value").
SENSOR_MEASURES = ("value", "minValue", "maxValue", "meanValue", "sDev", "percValue")


def canonical_measurement_type(value: str) -> str:
    """``Temperature`` for ``Temperature``, ``gs1:Temperature`` and ``https://gs1.org/voc/Temperature``; other
    values (a URI of one's own) unchanged."""
    if value.startswith("gs1:") and value[4:] in cbv.MEASUREMENT_TYPE.words:
        return value[4:]
    return cbv.MEASUREMENT_TYPE.to_word(value)


# Extension fields inside sensor data and error declarations (EQ_SENSORREPORT_ex:f, EQ_INNER_ERROR_DECLARATION_ex:g …):
# their scopes (event_field.scope holds 12 characters), "inner_" + scope for fields nested in them (as for ILMD).
NESTED_SCOPES = {
    "SENSORELEMENT": "s_el",
    "SENSORMETADATA": "s_md",
    "SENSORREPORT": "s_rp",
    "ERROR_DECLARATION": "err",
}


def _extension_rows(scope: str, obj: Mapping[str, Any], prefixes: Mapping[str, str]) -> list[FieldRow]:
    """Rows of the extension fields (namespaced names: the standard's own have no colon) of a nested object."""
    rows: list[FieldRow] = []
    for key, value in obj.items():
        if ":" in key and not key.startswith("@"):
            rows.extend(_value_rows(scope, expand_name(key, prefixes), value, prefixes))
    return rows


def body_field_rows(event: Mapping[str, Any]) -> list[FieldRow]:
    """The field rows of an event's sensor data and of its error declaration's extension fields (what
    ``index_event`` adds for them; the migration that introduced them reads stored bodies with it)."""
    rows: list[FieldRow] = []
    sensors = event.get("sensorElementList")
    decl = event.get("errorDeclaration")
    if sensors or isinstance(decl, dict):
        prefixes = _shared_prefixes(event)
        rows.extend(sensor_rows(sensors, prefixes))
        if isinstance(decl, dict):
            rows.extend(_extension_rows(NESTED_SCOPES["ERROR_DECLARATION"], decl, prefixes))
    return rows


def sensor_rows(elements: Any, prefixes: Mapping[str, str] = STANDARD_PREFIXES) -> list[FieldRow]:
    """Field rows (scope ``sensor``) of an event's sensorElementList: one that says it has one, then per element
    its metadata's and each report's fields; then the extension fields of elements, metadata and reports (their
    own scopes). Values of other types than the schema allows are left out."""
    if not isinstance(elements, list) or not elements:
        return []
    scope = SENSOR_SCOPE
    rows: list[FieldRow] = [(scope, "sensorElementList", None, None, None)]
    for element in elements:
        if not isinstance(element, dict):
            continue
        rows.extend(_extension_rows(NESTED_SCOPES["SENSORELEMENT"], element, prefixes))
        meta = element.get("sensorMetadata")
        parts = [meta] if isinstance(meta, dict) else []
        reports = element.get("sensorReport")
        parts += [r for r in reports if isinstance(r, dict)] if isinstance(reports, list) else []
        for part in parts:
            nested = NESTED_SCOPES["SENSORMETADATA" if part is meta else "SENSORREPORT"]
            rows.extend(_extension_rows(nested, part, prefixes))
            for key in _SENSOR_TEXT_FIELDS:
                value = part.get(key)
                if isinstance(value, str):
                    rows.append((scope, key, value, None, None))
            for key in _SENSOR_TIME_FIELDS:
                value = part.get(key)
                if isinstance(value, str):
                    rows.append((scope, key, value, None, _maybe_time(value)))
            if part is meta:
                continue  # the rest are report fields
            value = part.get("type")
            if isinstance(value, str):
                rows.append((scope, "type", canonical_measurement_type(value), None, None))
            value = part.get("hexBinaryValue")
            if isinstance(value, str):
                rows.append((scope, "hexBinaryValue", value.upper(), None, None))
            value = part.get("booleanValue")
            if isinstance(value, bool):
                rows.append((scope, "booleanValue", "true" if value else "false", None, None))
            value = part.get("percRank")
            if isinstance(value, int | float) and not isinstance(value, bool):
                rows.append((scope, "percRank", None, float(value), None))
            uom = part.get("uom")
            suffix = f"_{uom}" if isinstance(uom, str) and uom else ""
            for key in SENSOR_MEASURES:
                value = part.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    rows.append((scope, key + suffix, None, float(value), None))
    return rows


# What index_event reads itself: an event with no other key has no extension fields (one set test, no loop).
_OWN_KEYS = STANDARD_KEYS | {"@context"}


def _location(value: Any) -> str | None:
    """Canonical id of a readPoint / bizLocation object, or None."""
    ident = value.get("id") if value else None
    return (_SIMPLE_GET(ident) or canonical_id(ident)) if ident else None


def index_event(
    event: Mapping[str, Any], *, event_hash: str, record_time: int, hash_bytes: bytes = b""
) -> IndexedEvent:
    """Columns and index rows of a valid event (validation has already passed)."""
    get = event.get
    biz_step = get("bizStep")
    disposition = get("disposition")
    ids: list[IdentifierRow] = []
    links: list[LinkRow] = []
    fields: list[FieldRow] = []
    # positional, in field order: a third of the cost of keyword arguments, on every event of every capture
    row = IndexedEvent(
        get("eventID") or event_hash,
        event_hash,
        event["type"],
        to_micros(event["eventTime"]),
        get("eventTimeZoneOffset"),
        record_time,
        get("action"),
        canonical_biz_step(biz_step) if biz_step else None,
        canonical_disposition(disposition) if disposition else None,
        _location(get("readPoint")),
        _location(get("bizLocation")),
        get("transformationID"),
        "errorDeclaration" in event,
        orjson.dumps(event).decode(),
        hash_bytes,
        ids,
        links,
        fields,
    )
    # (identifiers: simple EPC URNs straight from the table validation filled, else canonical_id)
    simple = _SIMPLE_GET
    parent = get("parentID")
    if parent:
        ids.append(("parent", simple(parent) or canonical_id(parent), None, None))
    for key, role in _EPC_ROLES:
        epcs = get(key)
        if epcs:
            for epc in epcs:
                ids.append((role, simple(epc) or canonical_id(epc), None, None))
    for key, role in _QTY_ROLES:
        quantities = get(key)
        if quantities:
            for q in quantities:
                qty = q.get("quantity")
                cls = q["epcClass"]
                ids.append(
                    (role, simple(cls) or canonical_id(cls), float(qty) if qty is not None else None, q.get("uom"))
                )
    for key, kind, value_key, _vocab in _LINKS:
        entries = get(key)
        if entries:
            for link in entries:
                link_type = canonical_link_type(kind, link.get("type") or "") if link.get("type") else ""
                links.append((kind, link_type, canonical_id(link[value_key])))
    if "sensorElementList" in event or "errorDeclaration" in event:
        fields.extend(body_field_rows(event))
    ilmd = get("ilmd")
    if _OWN_KEYS.issuperset(event) and not isinstance(ilmd, dict):
        return row
    prefixes = _shared_prefixes(event)
    for key, value in event.items():
        if key not in STANDARD_KEYS and not key.startswith("@"):
            fields.extend(_value_rows("ext", expand_name(key, prefixes), value, prefixes))
    if isinstance(ilmd, dict):
        fields.extend(_field_rows("ilmd", ilmd, prefixes))
    return row
