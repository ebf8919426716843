"""EPCIS 2.0 SimpleEventQuery parameters (查询参数): parsed and checked into a typed ``EventQuery``.

Two inputs, one meaning: the REST query string (``EQ_bizStep=shipping|receiving``, pipes separate
alternatives) and the JSON ``query`` object of a named query (arrays hold alternatives). Every
parameter is ANDed, alternatives within one parameter are ORed (EPCIS 2.0 §8.2.7.1). Values are
normalised with the functions the store indexes with (``zhuisu.epcis.index``), so any spelling of an
identifier or a CBV term finds the events. Problems name the parameter; unknown parameter names are a
``QueryParameterException``, parameters this repository does not evaluate an ``ImplementationException``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from zhuisu.epcis import cbv, units
from zhuisu.epcis.index import (
    NESTED_SCOPES,
    SENSOR_MEASURES,
    SENSOR_SCOPE,
    STANDARD_PREFIXES,
    canonical_biz_step,
    canonical_disposition,
    canonical_link_type,
    canonical_measurement_type,
    to_micros,
)
from zhuisu.epcis.problems import EPCISError, Problem
from zhuisu.epcis.vocabulary import FIELD_VTYPES, expand_name

EPC_PATTERN_PREFIX = "urn:epc:idpat:"
# Parameters of the REST binding that steer paging, not the query (they never enter the fingerprint).
PAGING_PARAMS = frozenset({"perPage", "nextPageToken"})
MAX_ALTERNATIVES = 1000
MAX_COUNT = 2**53  # eventCountLimit / maxEventCount: far beyond any store, well inside SQL integers


class QueryParameterError(EPCISError):
    """A parameter is unknown, malformed or inconsistent (EPCIS ``QueryParameterException``)."""

    exception = "QueryParameterException"


class QueryUnsupportedError(EPCISError):
    """A standard parameter this repository does not evaluate (EPCIS ``ImplementationException``)."""

    exception = "ImplementationException"


def _problem(param: str, message: str) -> Problem:
    return Problem(None, f"/{param}", f"{param}: {message}")


def _fail(param: str, message: str) -> QueryParameterError:
    return QueryParameterError([_problem(param, message)])


# --- the typed query ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnFilter:
    """The event's ``column`` (of ``epcis_event``) equals one of ``values``."""

    param: str
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IdFilter:
    """An identifier in one of ``roles`` equals one of ``ids`` or matches one of the LIKE ``patterns``."""

    param: str
    roles: tuple[str, ...]
    ids: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkFilter:
    """A bizTransaction / source / destination of ``type`` has one of ``values`` (canonical)."""

    param: str
    kind: str
    type: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuantityFilter:
    """A quantity element (with unit ``uom`` when given) compares ``op`` with one of ``values``."""

    param: str
    op: str  # EQ, GT, GE, LT, LE
    values: tuple[float, ...]
    uom: str | None = None


@dataclass(frozen=True, slots=True)
class FieldFilter:
    """An ILMD / extension field named one of ``names`` (expanded IRIs) exists or compares ``op``."""

    param: str
    op: str  # EQ, GT, GE, LT, LE, EXISTS
    scope: str  # ext, ilmd, inner_ext, inner_ilmd (as zhuisu.epcis.index writes them)
    names: tuple[str, ...]
    texts: tuple[str, ...] = ()
    numbers: tuple[float, ...] = ()
    times: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class MeasureFilter:
    """A sensor report's measure (``value``, ``minValue`` …) compares ``op`` with one of ``values`` given in ``uom``;
    reports in a unit convertible to ``uom`` count too (``units``: (field name, the values in that unit), ``uom``
    first). EQ matches within a relative 1e-9, as converted values are rarely exact in binary."""

    param: str
    op: str  # EQ, GT, GE, LT, LE
    units: tuple[tuple[str, tuple[float, ...]], ...]


@dataclass(frozen=True, slots=True)
class MasterDataFilter:
    """The event's ``field`` (readPoint, bizLocation, bizStep, disposition, epcClass) names a master-data element:
    one of ``ids`` or below one of them (``WD_``), or one with one of ``attributes`` set to one of ``values``
    (``EQ_ATTR_``; ``values`` None: any value, ``HASATTR_``). See ``zhuisu.epcis.vocabulary``."""

    param: str
    field: str
    ids: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    values: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class BodyFilter:
    """A condition on a field the store keeps only in the event body (persistent disposition, error declaration).

    ``path`` leads to the field in the event's JSON; ``kind`` says how it is compared: ``member`` (an array
    holding one of ``texts``, given as JSON strings), ``one_of`` (a string equal to one of ``texts``), ``ge_time``
    / ``lt_time`` (a date-time at or after / before ``time``, microseconds since the epoch).
    """

    param: str
    path: tuple[str, ...]
    kind: str
    texts: tuple[str, ...] = ()
    time: int | None = None


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A SimpleEventQuery: every member narrows the result (AND); tuples inside hold alternatives (OR)."""

    event_types: tuple[str, ...] = ()
    ge_event_time: int | None = None
    lt_event_time: int | None = None
    ge_record_time: int | None = None
    lt_record_time: int | None = None
    columns: tuple[ColumnFilter, ...] = ()
    ids: tuple[IdFilter, ...] = ()
    links: tuple[LinkFilter, ...] = ()
    quantities: tuple[QuantityFilter, ...] = ()
    fields: tuple[FieldFilter, ...] = ()
    measures: tuple[MeasureFilter, ...] = ()
    body: tuple[BodyFilter, ...] = ()
    masterdata: tuple[MasterDataFilter, ...] = ()
    error_declared: bool = False
    # "" = capture order (seq), "eventTime", "recordTime", or "field" (an extension field in order_field)
    order_by: str = ""
    order_field: tuple[str, ...] = ()
    order_desc: bool = False
    event_count_limit: int | None = None
    max_event_count: int | None = None
    nothing: bool = False  # narrowed to an impossible condition (e.g. two different event types)

    def fingerprint(self) -> str:
        """Stable digest of what the query means (the same for any spelling of the same query)."""
        data = orjson.dumps(dataclasses.asdict(self), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(data).hexdigest()

    def narrowed(
        self,
        *,
        columns: Iterable[ColumnFilter] = (),
        ids: Iterable[IdFilter] = (),
        event_types: tuple[str, ...] = (),
    ) -> EventQuery:
        """This query ANDed with more filters (the resource of ``/epcs/{epc}/events`` and the like)."""
        new = dataclasses.replace(self, columns=self.columns + tuple(columns), ids=self.ids + tuple(ids))
        if event_types:
            if self.event_types:
                keep = tuple(t for t in self.event_types if t in event_types)
                # An empty intersection must match nothing, not everything.
                return dataclasses.replace(new, event_types=keep, nothing=not keep)
            return dataclasses.replace(new, event_types=event_types)
        return new


# --- parameter names -----------------------------------------------------------------------------------

CLASS_ROLES = ("class", "inclass", "outclass")  # event_identifier roles of an EPC class, wherever it appears
_ID_ROLES: Mapping[str, tuple[str, ...]] = {
    "MATCH_epc": ("epc",),
    "MATCH_parentID": ("parent",),
    "MATCH_inputEPC": ("input",),
    "MATCH_outputEPC": ("output",),
    "MATCH_anyEPC": ("epc", "parent", "input", "output"),
    "MATCH_epcClass": ("class",),
    "MATCH_inputEPCClass": ("inclass",),
    "MATCH_outputEPCClass": ("outclass",),
    "MATCH_anyEPCClass": CLASS_ROLES,
}
_TIME_PARAMS = {
    "GE_eventTime": "ge_event_time",
    "LT_eventTime": "lt_event_time",
    "GE_recordTime": "ge_record_time",
    "LT_recordTime": "lt_record_time",
}
_LOCATION_PARAMS = {"EQ_readPoint": "read_point", "EQ_bizLocation": "biz_location"}
# With descendants: the locations below in the master data captured (zhuisu.epcis.vocabulary).
_WITHIN_PARAMS = {"WD_readPoint": "readPoint", "WD_bizLocation": "bizLocation"}
_ATTR_RE = re.compile(r"^EQ_ATTR_([A-Za-z]+)_(.+)$", re.S)
_HASATTR_RE = re.compile(r"^HASATTR_(.+)$", re.S)
_LINK_RE = re.compile(r"^EQ_(bizTransaction|source|destination)_(.+)$", re.S)
_QUANTITY_RE = re.compile(r"^(EQ|GT|GE|LT|LE)_quantity(?:_([A-Za-z0-9]{2,4}))?$")
_FIELD_RE = re.compile(r"^(EQ|GT|GE|LT|LE|EXISTS)_(INNER_ILMD_|ILMD_|INNER_)?(.+)$", re.S)
_FIELD_SCOPES = {"": "ext", "ILMD_": "ilmd", "INNER_": "inner_ext", "INNER_ILMD_": "inner_ilmd"}

# Fields kept only in the event body: persistent disposition (EPCIS 2.0 names and the earlier draft's) and the
# error declaration's details. Queried in the body's JSON: fine as a narrowing of other filters, a scan alone.
_PERSISTENT_PARAMS = {
    "EQ_persistentDisposition_set": "set",
    "EQ_setPersistentDisposition": "set",
    "EQ_persistentDisposition_unset": "unset",
    "EQ_unsetPersistentDisposition": "unset",
}
_ERROR_TIME_PARAMS = {
    "GE_errorDeclarationTime": "ge_time",
    "GE_errorDeclaration_Time": "ge_time",
    "LT_errorDeclarationTime": "lt_time",
    "LT_errorDeclaration_Time": "lt_time",
}

# Sensor data (sensorElementList): compared with the rows zhuisu.epcis.index.sensor_rows writes (scope "sensor").
# Each parameter holds when one sensorMetadata or sensorReport of the event satisfies it (they need not be the same).
_SENSOR_TEXT_PARAMS = {
    "EQ_deviceID": "deviceID",
    "EQ_dataProcessingMethod": "dataProcessingMethod",
    "EQ_microorganism": "microorganism",
    "EQ_chemicalSubstance": "chemicalSubstance",
    "EQ_bizRules": "bizRules",
    "EQ_stringValue": "stringValue",
    "EQ_uriValue": "uriValue",
}
_SENSOR_TIME_PARAMS = {
    "GE_time": ("GE", "time"),
    "LT_time": ("LT", "time"),
    "GE_startTime": ("GE", "startTime"),
    "LT_startTime": ("LT", "startTime"),
    "GE_endTime": ("GE", "endTime"),
    "LT_endTime": ("LT", "endTime"),
}
_SENSOR_RANK_RE = re.compile(r"^(GT|GE|LT|LE)_percRank$")
_SENSOR_MEASURE_RE = re.compile(rf"^(EQ|GT|GE|LT|LE)_({'|'.join(SENSOR_MEASURES)})_([A-Za-z0-9]{{1,8}})$")

# Standard SimpleEventQuery parameters whose fields the store does not index yet (see module docstring).
# Extension fields inside sensor data and error declarations: scopes as zhuisu.epcis.index.NESTED_SCOPES writes them.
_NESTED_FIELD_RE = re.compile(
    rf"^(EQ|GT|GE|LT|LE|EXISTS)_(INNER_)?({'|'.join(NESTED_SCOPES)})_(.+)$",
    re.S,
)
_UNSUPPORTED_RE = re.compile(r"^EQ_(?:INNER_)?(?:readPoint|bizLocation)_.+$", re.S)
_UNSUPPORTED_WHY = (
    "this repository does not evaluate this parameter yet (extension fields of locations are not indexed)"
)


# --- values --------------------------------------------------------------------------------------------

Raw = str | int | float | bool


@dataclass(slots=True)
class _Param:
    name: str
    values: list[Raw]
    from_text: bool  # query string: split on pipes, scalars given once


def _fix_offset(text: str) -> str:
    # An unencoded '+' in a query string arrives as a space: "2005-04-03T20:33:31 01:00".
    if text.find(" ", 19) > 0:
        head, _, tail = text.rpartition(" ")
        if tail[:2].isdigit():
            return f"{head}+{tail}"
    return text


def parse_time(param: str, value: Raw) -> int:
    """Microseconds since the epoch of a date-time that carries a time zone."""
    if not isinstance(value, str):
        raise _fail(param, f"{value!r} is not a date-time")
    text = _fix_offset(value.strip())
    try:
        return to_micros(text)
    except ValueError as exc:
        if "time zone" in str(exc):
            raise _fail(param, f"{value!r} has no time zone; add Z or an offset such as +08:00") from None
        raise _fail(param, f"{value!r} is not an ISO 8601 date-time such as 2024-05-01T08:00:00+08:00") from None


def _maybe_time(text: str) -> int | None:
    if len(text) < 19 or text[4:5] != "-" or "T" not in text:
        return None
    try:
        return to_micros(_fix_offset(text))
    except ValueError:
        return None


def _number(param: str, value: Raw) -> float:
    if isinstance(value, bool):
        raise _fail(param, f"{value!r} is not a number")
    if isinstance(value, int | float):
        return float(value)
    try:
        number = float(value.strip())
    except ValueError:
        raise _fail(param, f"{value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _fail(param, f"{value!r} is not a finite number")
    return number


def _integer(param: str, value: Raw) -> int:
    if isinstance(value, bool):
        raise _fail(param, f"{value!r} is not an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip()
        if not text.isdigit():
            raise _fail(param, f"{value!r} is not a non-negative integer")
        if len(text) > 15:
            raise _fail(param, f"{text[:20]}… is too large")
        number = int(text)
    if number < 0:
        raise _fail(param, f"{value!r} is not a non-negative integer")
    if number > MAX_COUNT:
        raise _fail(param, f"{number} is too large (at most {MAX_COUNT})")
    return number


def _alts(values: Iterable[Any]) -> tuple[Any, ...]:
    """Alternatives in a canonical order (their order means nothing; the query fingerprint must not see it)."""
    return tuple(sorted(set(values)))


def _json_text(value: str) -> str:
    """A string as it appears inside a stored body (JSON, as orjson writes it)."""
    return orjson.dumps(value).decode()


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def parse_extensions_header(value: str | None) -> dict[str, str]:
    """Prefixes of a ``GS1-Extensions`` header: ``ex=http://ns.example.com/epcis/, ex2=…`` (also ``ex:<uri>``)."""
    prefixes: dict[str, str] = {}
    if not value:
        return prefixes
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        prefix, sep, uri = part.partition("=")
        if not sep:
            prefix, sep, uri = part.partition(":")
        prefix, uri = prefix.strip(), uri.strip().strip('"<>')
        if not sep or not prefix or not uri or not re.fullmatch(r"[A-Za-z_][\w.-]*", prefix):
            raise _fail("GS1-Extensions", f"{part!r} is not of the form prefix=namespace-URI")
        prefixes[prefix] = uri
    return prefixes


def context_prefixes(context: Any) -> dict[str, str]:
    """Prefixes declared by a JSON-LD ``@context`` (URL entries name standard contexts and are skipped)."""
    prefixes: dict[str, str] = {}
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict):
            prefixes.update({k: v for k, v in entry.items() if isinstance(v, str) and not k.startswith("@")})
    return prefixes


def field_names(param: str, name: str, prefixes: Mapping[str, str]) -> tuple[str, ...]:
    """Expanded names (as ``zhuisu.epcis.index.expand_name`` writes them) of a field in a parameter name.

    ``ex:myField`` with ``ex`` declared, a full IRI ``http://ns.example.com/epcis/myField``, or the
    EPCIS 1.x spelling ``http://ns.example.com/epcis#myField`` (namespace, '#', local name).
    """
    if "://" in name or name.startswith("urn:"):
        if "#" in name:
            ns, _, local = name.rpartition("#")
            return tuple(dict.fromkeys((ns + local, f"{ns}#{local}")))
        return (name,)
    prefix, sep, local = name.partition(":")
    if not sep or not prefix or not local:
        raise _fail(param, f"{name!r} is not a qualified field name; write prefix:localName or a full IRI")
    if prefix not in prefixes:
        raise _fail(
            param,
            f"the namespace prefix {prefix!r} is not declared; declare it in the GS1-Extensions header "
            f"({prefix}=http://…) or in the query's @context, or write the full IRI",
        )
    return (prefixes[prefix] + local,)


# --- the parser ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Builder:
    prefixes: Mapping[str, str]
    event_types: list[str] = field(default_factory=list)
    times: dict[str, int] = field(default_factory=dict)
    columns: list[ColumnFilter] = field(default_factory=list)
    ids: list[IdFilter] = field(default_factory=list)
    links: list[LinkFilter] = field(default_factory=list)
    quantities: list[QuantityFilter] = field(default_factory=list)
    fields: list[FieldFilter] = field(default_factory=list)
    measures: list[MeasureFilter] = field(default_factory=list)
    body: list[BodyFilter] = field(default_factory=list)
    error_declared: bool = False
    order_by: str = ""
    order_field: tuple[str, ...] = ()
    order_direction: str | None = None
    event_count_limit: int | None = None
    max_event_count: int | None = None
    masterdata: list[MasterDataFilter] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    # values

    def alternatives(self, p: _Param) -> list[Raw]:
        out: list[Raw] = []
        for v in p.values:
            if p.from_text and isinstance(v, str):
                parts = v.split("|")
                if any(not part.strip() for part in parts):
                    raise _fail(p.name, "empty value (pipes separate alternatives: a|b)")
                out.extend(part.strip() for part in parts)
            elif isinstance(v, str) and not v.strip():
                raise _fail(p.name, "empty value")
            else:
                out.append(v)
        if not out:
            raise _fail(p.name, "no value given")
        if len(out) > MAX_ALTERNATIVES:
            raise _fail(p.name, f"more than {MAX_ALTERNATIVES} alternatives")
        return list(dict.fromkeys(out))

    def strings(self, p: _Param) -> list[str]:
        values = self.alternatives(p)
        for v in values:
            if not isinstance(v, str):
                raise _fail(p.name, f"{v!r} is not a string")
        return [str(v) for v in values]

    def scalar(self, p: _Param) -> Raw:
        if len(p.values) != 1:
            raise _fail(p.name, "given more than once; it takes a single value")
        value = p.values[0]
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise _fail(p.name, "no value given")
        return value

    # dispatch

    def add(self, p: _Param) -> None:
        """Take one parameter; a problem with it is kept so that every bad parameter is reported at once."""
        try:
            self._add(p)
        except QueryParameterError as err:
            self.problems.extend(err.problems)

    def _add(self, p: _Param) -> None:
        name = p.name
        if "\x00" in name or any(isinstance(v, str) and "\x00" in v for v in p.values):
            raise _fail(name.replace("\x00", "\\0"), "contains a NUL character")
        if name == "eventType":
            self.add_event_types(p)
        elif name in _TIME_PARAMS:
            if name in self.times:
                raise _fail(name, "given more than once")
            self.times[name] = parse_time(name, self.scalar(p))
        elif name == "EQ_action":
            actions = self.strings(p)
            for a in actions:
                if a not in cbv.ACTIONS:
                    raise _fail(name, f"{a!r} is not an action; use ADD, OBSERVE or DELETE")
            self.columns.append(ColumnFilter(name, "action", _alts(actions)))
        elif name == "EQ_bizStep":
            self.columns.append(ColumnFilter(name, "biz_step", self.vocabulary(p, cbv.BIZ_STEP)))
        elif name == "EQ_disposition":
            self.columns.append(ColumnFilter(name, "disposition", self.vocabulary(p, cbv.DISPOSITION)))
        elif name in _LOCATION_PARAMS:
            values = _alts(canonical(name, v) for v in self.strings(p))
            self.columns.append(ColumnFilter(name, _LOCATION_PARAMS[name], values))
        elif name in _WITHIN_PARAMS:
            ids = _alts(canonical(name, v) for v in self.strings(p))
            self.masterdata.append(MasterDataFilter(name, _WITHIN_PARAMS[name], ids=ids))
        elif m := _ATTR_RE.match(name):
            field_name = self.masterdata_field(name, m.group(1))
            attribute = expand_name(m.group(2), self.prefixes)
            values = _alts(self.strings(p))
            self.masterdata.append(MasterDataFilter(name, field_name, attributes=(attribute,), values=values))
        elif m := _HASATTR_RE.match(name):
            field_name = self.masterdata_field(name, m.group(1))
            attributes = _alts(expand_name(v, self.prefixes) for v in self.strings(p))
            self.masterdata.append(MasterDataFilter(name, field_name, attributes=attributes))
        elif name == "EQ_transformationID":
            self.columns.append(ColumnFilter(name, "transformation_id", _alts(self.strings(p))))
        elif name == "EQ_eventID":
            self.columns.append(ColumnFilter(name, "event_id", _alts(self.strings(p))))
        elif name in _ID_ROLES:
            self.ids.append(id_filter(name, _ID_ROLES[name], self.strings(p)))
        elif name == "EXISTS_errorDeclaration":
            self.error_declared = self.truthy(p)
        elif name in _PERSISTENT_PARAMS:
            spellings = self.spellings(p, cbv.DISPOSITION)
            path = ("persistentDisposition", _PERSISTENT_PARAMS[name])
            self.body.append(BodyFilter(name, path, "member", _alts(_json_text(v) for v in spellings)))
        elif name == "EQ_errorReason":
            self.body.append(
                BodyFilter(name, ("errorDeclaration", "reason"), "one_of", self.spellings(p, cbv.ERROR_REASON))
            )
        elif name == "EQ_correctiveEventID":
            ids = _alts(_json_text(v) for v in self.strings(p))
            self.body.append(BodyFilter(name, ("errorDeclaration", "correctiveEventIDs"), "member", ids))
        elif name in _ERROR_TIME_PARAMS:
            at = parse_time(name, self.scalar(p))
            self.body.append(
                BodyFilter(name, ("errorDeclaration", "declarationTime"), _ERROR_TIME_PARAMS[name], time=at)
            )
        elif name == "orderBy":
            self.add_order_by(p)
        elif name == "orderDirection":
            direction = str(self.scalar(p))
            if direction not in ("ASC", "DESC"):
                raise _fail(name, f"{direction!r} is not ASC or DESC")
            self.order_direction = direction
        elif name == "eventCountLimit":
            self.event_count_limit = _integer(name, self.scalar(p))
        elif name == "maxEventCount":
            self.max_event_count = _integer(name, self.scalar(p))
        elif name == "EXISTS_sensorElementList":
            if self.truthy(p):
                self.fields.append(FieldFilter(name, "EXISTS", SENSOR_SCOPE, ("sensorElementList",)))
        elif name in _SENSOR_TEXT_PARAMS:
            self.sensor_equals(p, _SENSOR_TEXT_PARAMS[name], self.strings(p))
        elif name == "EQ_type":
            self.sensor_equals(p, "type", [canonical_measurement_type(v) for v in self.strings(p)])
        elif name == "EQ_hexBinaryValue":
            self.sensor_equals(p, "hexBinaryValue", [v.upper() for v in self.strings(p)])
        elif name == "EQ_booleanValue":
            self.sensor_equals(p, "booleanValue", ["true" if self.truthy(p) else "false"])
        elif name in _SENSOR_TIME_PARAMS:
            op, field_name = _SENSOR_TIME_PARAMS[name]
            at = parse_time(name, self.scalar(p))
            self.fields.append(FieldFilter(name, op, SENSOR_SCOPE, (field_name,), times=(at,)))
        elif m := _SENSOR_RANK_RE.match(name):
            number = _number(name, self.scalar(p))
            self.fields.append(FieldFilter(name, m.group(1), SENSOR_SCOPE, ("percRank",), numbers=(number,)))
        elif m := _SENSOR_MEASURE_RE.match(name):
            op, measure, uom = m.groups()
            if op == "EQ":
                numbers = _alts(_number(name, v) for v in self.alternatives(p))
            else:
                numbers = (_number(name, self.scalar(p)),)
            per_unit: dict[str, list[float]] = {}
            for number in numbers:
                for unit, converted in units.equivalents(uom, number):
                    per_unit.setdefault(f"{measure}_{unit}", []).append(converted)
            self.measures.append(MeasureFilter(name, op, tuple((n, tuple(v)) for n, v in per_unit.items())))
        elif m := _NESTED_FIELD_RE.match(name):
            op, inner, nested, raw_name = m.groups()
            self.add_field(p, op, ("inner_" if inner else "") + NESTED_SCOPES[nested], raw_name)
        elif _UNSUPPORTED_RE.match(name):
            self.unsupported.append(name)
        elif m := _QUANTITY_RE.match(name):
            self.add_quantity(p, m.group(1), m.group(2))
        elif m := _LINK_RE.match(name):
            self.add_link(p, m.group(1), m.group(2))
        elif (m := _FIELD_RE.match(name)) and (m.group(2) or ":" in m.group(3)):
            self.add_field(p, m.group(1), _FIELD_SCOPES[m.group(2) or ""], m.group(3))
        else:
            raise _fail(name, "unknown query parameter")

    @staticmethod
    def masterdata_field(param: str, name: str) -> str:
        if name not in FIELD_VTYPES:
            raise _fail(param, f"master-data attributes are evaluated for {', '.join(FIELD_VTYPES)}, not {name!r}")
        return name

    def add_event_types(self, p: _Param) -> None:
        types = self.strings(p)
        if "all" in types:  # OpenEPCIS spelling of "every type"
            return
        for t in types:
            if t not in cbv.EVENT_TYPES and ":" not in t:
                raise _fail(p.name, f"{t!r} is not an event type; use {', '.join(sorted(cbv.EVENT_TYPES))} or a URI")
        self.event_types.extend(types)

    def vocabulary(self, p: _Param, vocab: cbv.Vocabulary) -> tuple[str, ...]:
        norm = canonical_biz_step if vocab is cbv.BIZ_STEP else canonical_disposition
        out: list[str] = []
        for v in self.strings(p):
            word = norm(v)
            if word not in vocab.words and ":" not in word:
                raise _fail(p.name, f"{v!r} is neither a CBV {vocab.name} nor a URI")
            out.append(word)
            if word not in vocab.words:
                out.extend(self.curie_spellings(word))
        return _alts(out)

    def spellings(self, p: _Param, vocab: cbv.Vocabulary) -> tuple[str, ...]:
        """Every way a value of ``p`` may be written in a stored body: a CBV term as its word, URN and web URI;
        another URI (or CURIE) as given and as its other spelling."""
        out: list[str] = []
        for v in self.strings(p):
            word = vocab.to_word(v)
            if word in vocab.words:
                out.extend((word, vocab.to_urn(word), vocab.to_web_uri(word)))
            elif ":" in word:
                out.append(word)
                out.extend(self.curie_spellings(word))
            else:
                raise _fail(p.name, f"{v!r} is neither a CBV {vocab.name} nor a URI")
        return _alts(out)

    def curie_spellings(self, value: str) -> list[str]:
        # A custom term may be stored as a CURIE or as its full URI: look for both spellings.
        prefix, sep, local = value.partition(":")
        if sep and not local.startswith("//") and prefix in self.prefixes and prefix not in STANDARD_PREFIXES:
            return [self.prefixes[prefix] + local]
        return [
            f"{pfx}:{value[len(ns) :]}"
            for pfx, ns in self.prefixes.items()
            if pfx not in STANDARD_PREFIXES and value.startswith(ns) and len(value) > len(ns)
        ]

    def truthy(self, p: _Param) -> bool:
        # EPCIS 1.x sends EXISTS_ parameters with no value (Void); JSON queries use null or 1/true.
        if not p.values:
            return True
        value = p.values[-1]
        if value is None or value == "":
            return True
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise _fail(p.name, f"{value!r} is not true or false")

    def add_order_by(self, p: _Param) -> None:
        value = str(self.scalar(p))
        if value in ("eventTime", "recordTime"):
            self.order_by = value
        else:
            self.order_by = "field"
            self.order_field = field_names(p.name, value, self.prefixes)

    def add_quantity(self, p: _Param, op: str, uom: str | None) -> None:
        if op == "EQ":
            values = _alts(_number(p.name, v) for v in self.alternatives(p))
        else:
            values = (_number(p.name, self.scalar(p)),)
        self.quantities.append(QuantityFilter(p.name, op, values, uom))

    def add_link(self, p: _Param, kind: str, link_type: str) -> None:
        values = _alts(canonical(p.name, v) for v in self.strings(p))
        self.links.append(LinkFilter(p.name, kind, canonical_link_type(kind, link_type), values))

    def sensor_equals(self, p: _Param, field_name: str, values: Iterable[str]) -> None:
        self.fields.append(FieldFilter(p.name, "EQ", SENSOR_SCOPE, (field_name,), texts=_alts(values)))

    def add_field(self, p: _Param, op: str, scope: str, raw_name: str) -> None:
        names = field_names(p.name, raw_name, self.prefixes)
        if op == "EXISTS":
            if self.truthy(p):
                self.fields.append(FieldFilter(p.name, op, scope, names))
            return
        texts: list[str] = []
        numbers: list[float] = []
        times: list[int] = []
        values = self.alternatives(p) if op == "EQ" else [self.scalar(p)]
        for v in values:
            if isinstance(v, bool):
                if op != "EQ":
                    raise _fail(p.name, f"{v!r} cannot be compared; use a number or a date-time")
                texts.append("true" if v else "false")
            elif isinstance(v, int | float):
                numbers.append(float(v))
                texts.append(_number_text(float(v)))
            else:
                text = v.strip() if op != "EQ" else v
                t = _maybe_time(text)
                n = None
                if t is None:
                    try:
                        n = float(text)
                    except ValueError:
                        n = None
                if t is not None:
                    times.append(t)
                elif n is not None and n == n and n not in (float("inf"), float("-inf")):
                    numbers.append(n)
                elif op != "EQ":
                    raise _fail(p.name, f"{v!r} is neither a number nor a date-time with a time zone")
                if op == "EQ":
                    texts.append(text)
        self.fields.append(
            FieldFilter(
                p.name,
                op,
                scope,
                names,
                _alts(texts),
                _alts(numbers),
                _alts(times),
            )
        )

    # result

    def build(self) -> EventQuery:
        if self.event_count_limit is not None and self.max_event_count is not None:
            self.problems.append(_problem("eventCountLimit", "cannot be combined with maxEventCount; use one"))
        if self.event_count_limit is not None and not self.order_by:
            self.problems.append(_problem("eventCountLimit", "needs orderBy, so that the first N events are defined"))
        if self.problems:
            raise QueryParameterError(self.problems)
        if self.unsupported:
            raise QueryUnsupportedError([_problem(n, _UNSUPPORTED_WHY) for n in sorted(set(self.unsupported))])
        times = self.times
        return EventQuery(
            event_types=_alts(self.event_types),
            ge_event_time=times.get("GE_eventTime"),
            lt_event_time=times.get("LT_eventTime"),
            ge_record_time=times.get("GE_recordTime"),
            lt_record_time=times.get("LT_recordTime"),
            columns=tuple(sorted(self.columns, key=repr)),
            ids=tuple(sorted(self.ids, key=repr)),
            links=tuple(sorted(self.links, key=repr)),
            quantities=tuple(sorted(self.quantities, key=repr)),
            fields=tuple(sorted(self.fields, key=repr)),
            measures=tuple(sorted(self.measures, key=repr)),
            body=tuple(sorted(self.body, key=repr)),
            masterdata=tuple(sorted(self.masterdata, key=repr)),
            error_declared=self.error_declared,
            order_by=self.order_by,
            order_field=self.order_field,
            # EPCIS 2.0 §8.2.7.1: orderDirection defaults to DESC when orderBy is given.
            order_desc=bool(self.order_by) and self.order_direction != "ASC",
            event_count_limit=self.event_count_limit,
            max_event_count=self.max_event_count,
        )


def canonical(param: str, value: str) -> str:
    """Canonical form of an identifier (EPC URN or GS1 Digital Link alike), as the store indexes it.

    A malformed GS1 key (a wrong check digit, say) cannot be in the store, whose capture refuses it;
    it is matched as given, so the query finds nothing rather than failing (OpenEPCIS's valid example
    queries carry such keys).
    """
    from zhuisu.codes.epc import canonical_id

    del param
    try:
        return canonical_id(value)
    except ValueError:
        return value


def id_filter(param: str, roles: tuple[str, ...], values: Iterable[str]) -> IdFilter:
    """Identifiers and EPC patterns (``urn:epc:idpat:…``, EPCIS 2.0 §8.2.7.1.1) for a MATCH_ parameter.

    For EPC classes, ``urn:epc:idpat:sgtin:CP.IR.*`` names the product class: it matches that class and
    its batches/lots (LGTIN ``urn:epc:class:lgtin:CP.IR.lot``).
    """
    from zhuisu.codes.epc import epc_pattern_like

    classes = any(role in CLASS_ROLES for role in roles)
    ids: list[str] = []
    patterns: list[str] = []
    for value in values:
        if not value.startswith(EPC_PATTERN_PREFIX):
            ids.append(canonical(param, value))
            continue
        try:
            likes = epc_pattern_like(value) or []
        except ValueError as exc:
            raise _fail(param, f"{value!r} is not a valid EPC pattern: {exc}") from None
        patterns.extend(likes)
        if classes:
            gtin_class = canonical(param, value)
            if gtin_class != value:  # only class-level patterns (CP.IR.*) have a canonical class id
                ids.append(gtin_class)
            patterns.extend(p[: -len("/21/%")] + "/10/%" for p in likes if "/01/" in p and p.endswith("/21/%"))
    return IdFilter(param, roles, _alts(ids), _alts(patterns))


def _check_names(params: Iterable[_Param]) -> list[_Param]:
    seen: dict[str, _Param] = {}
    for p in params:
        if not p.name:
            raise _fail("(empty)", "a parameter has no name")
        if p.name in seen:
            seen[p.name].values.extend(p.values)
        else:
            seen[p.name] = p
    return list(seen.values())


def parse_query_params(
    items: Iterable[tuple[str, str]],
    *,
    prefixes: Mapping[str, str] | None = None,
    ignore: Iterable[str] = PAGING_PARAMS,
) -> EventQuery:
    """An ``EventQuery`` from a query string's (name, value) pairs; pipes in values separate alternatives.

    A list parameter given twice collects the alternatives of both; ``ignore`` names non-query parameters.
    """
    skip = frozenset(ignore)
    params = _check_names(_Param(k, [v], True) for k, v in items if k not in skip)
    builder = _Builder({**STANDARD_PREFIXES, **(prefixes or {})})
    for p in params:
        builder.add(p)
    return builder.build()


def parse_query_json(query: Any, *, prefixes: Mapping[str, str] | None = None) -> EventQuery:
    """An ``EventQuery`` from the JSON ``query`` object of a named query (query-schema.json)."""
    if not isinstance(query, dict):
        raise _fail("query", "must be a JSON object of query parameters")
    declared = {**STANDARD_PREFIXES, **(prefixes or {}), **context_prefixes(query.get("@context"))}
    builder = _Builder(declared)
    for name, value in query.items():
        if name == "@context":
            continue
        if name in PAGING_PARAMS:
            raise _fail(name, "is a paging parameter; give it in the URL, not in the query")
        if isinstance(value, list):
            values: list[Raw] = []
            for v in value:
                if not isinstance(v, str | int | float | bool):
                    raise _fail(name, f"{v!r} is not a string, number or boolean")
                values.append(v)
        elif value is None:
            values = []
        elif isinstance(value, str | int | float | bool):
            values = [value]
        else:
            raise _fail(name, "must be a string, number, boolean or an array of them")
        p = _Param(name, values, False)
        if not values and not name.startswith("EXISTS_"):
            raise _fail(name, "no value given")
        builder.add(p)
    return builder.build()


_NAME_RE = re.compile(r"[^/\\?#\x00-\x1f\x7f]{1,200}")


def parse_named_query(body: Any, *, prefixes: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """Name and self-contained query object of ``{"name": …, "query": {…}}`` (``POST /queries``).

    Prefixes from the ``GS1-Extensions`` header are folded into the stored query's ``@context`` so the
    query means the same when it runs later.
    """
    if not isinstance(body, dict):
        raise _fail("body", 'must be a JSON object {"name": …, "query": {…}}')
    unknown = sorted(set(body) - {"name", "query", "@context"})
    if unknown:
        raise _fail(unknown[0], 'unknown member; a named query is {"name": …, "query": {…}}')
    name = body.get("name")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise _fail("name", "must be 1–200 characters without '/', '\\', '?', '#' or control characters")
    query = body.get("query")
    if not isinstance(query, dict):
        raise _fail("query", "must be a JSON object of query parameters")
    extra = {**(prefixes or {}), **context_prefixes(body.get("@context"))}
    stored = dict(query)
    if extra:
        own = query.get("@context")
        entries = own if isinstance(own, list) else ([own] if own is not None else [])
        declared = context_prefixes(entries)
        missing = {k: v for k, v in extra.items() if k not in declared}
        if missing:
            stored["@context"] = [*entries, missing]
    parse_query_json(stored)  # refuse it now rather than when it runs
    return name, stored
