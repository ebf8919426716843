"""The shortcuts of event validation decide as the full checks do.

The structural pre-check in front of the generated JSON-schema code may only say "valid" where the
ratified schema agrees (it is compared with the verbatim schema on the common capture shapes and on
thousands of mutants of them and of the conformance events), and it must take the common shapes, or it
would be dead weight. The faster tests of identifiers and date-times agree with the full ones.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest

from zhuisu.epcis import validate as V
from zhuisu.epcis.validate import validate_event

DATA = Path(__file__).resolve().parent.parent / "data" / "epcis"
ZS = {"zs": "https://zhuisu.org/ns/epcis/"}
CONTEXTS: list[Any] = [
    [ZS],
    ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", ZS],
    ZS,
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
]


@pytest.fixture(scope="module")
def verbatim() -> Callable[[Any], bool]:
    schema = json.loads((Path(V.__file__).parent / "data" / "epcis-json-schema.json").read_text())
    check = fastjsonschema.compile(
        {**{k: schema[k] for k in ("$id", "$schema", "definitions")}, "$ref": "#/definitions/EPCIS-Document-Event"}
    )

    def accepts(event: Any) -> bool:
        try:
            check(event)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    return accepts


def capture_mix(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Events as captures bring them: the shapes of benchmarks/capture.py, and the other event types."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        cp = f"69{rnd.randrange(10000, 99999)}"
        when = f"2026-10-{1 + i % 28:02d}T{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:{rnd.randrange(60):02d}"
        when += rnd.choice([f".{i % 1000:03d}+08:00", "Z", "-05:00", ".5+14:00"])
        loc = {"id": f"urn:epc:id:sgln:{cp}.{rnd.randrange(10000, 99999)}.0"}
        serials = [f"urn:epc:id:sgtin:{cp}.0{rnd.randrange(10000, 99999)}.{i}{k}" for k in range(rnd.randrange(1, 6))]
        lot = f"urn:epc:class:lgtin:{cp}.0{rnd.randrange(10000, 99999)}.L{i // 50}"
        base: dict[str, Any] = {
            "eventTime": when,
            "eventTimeZoneOffset": rnd.choice(["+08:00", "-05:00", "+00:00", "+14:00"]),
            "readPoint": loc,
            "bizLocation": dict(loc),
            "@context": copy.deepcopy(CONTEXTS[i % len(CONTEXTS)]),
        }
        kind = i % 12
        if kind < 3:
            event = {
                "type": "ObjectEvent",
                "action": "ADD",
                "bizStep": "commissioning",
                "disposition": "active",
                "epcList": serials,
                "ilmd": {"zs:lot": f"L{i // 50}", "zs:origin": "山东临沂"},
            }
        elif kind < 5:
            event = {
                "type": "AggregationEvent",
                "action": rnd.choice(["ADD", "DELETE"]),
                "bizStep": "packing",
                "disposition": "in_progress",
                "parentID": f"urn:epc:id:sscc:{cp}.{i:010d}",
                "childEPCs": serials,
            }
        elif kind < 8:
            event = {
                "type": "ObjectEvent",
                "action": "OBSERVE",
                "bizStep": rnd.choice(["shipping", "receiving", "https://example.com/steps/x"]),
                "disposition": rnd.choice(["in_transit", "in_progress"]),
                "epcList": [f"urn:epc:id:sscc:{cp}.{i:010d}"],
                "bizTransactionList": [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{cp}000001:{i}"}],
                "sourceList": [{"type": "owning_party", "source": f"urn:epc:id:pgln:{cp}.00001"}],
                "destinationList": [{"type": "owning_party", "destination": f"urn:epc:id:pgln:{cp}.00002"}],
            }
            if kind == 7:
                event["persistentDisposition"] = {"set": ["completeness_verified"], "unset": ["in_transit"]}
        elif kind == 8:
            event = {
                "type": "TransformationEvent",
                "bizStep": "commissioning",
                "inputQuantityList": [{"epcClass": lot, "quantity": 40, "uom": "KGM"}],
                "outputQuantityList": [{"epcClass": lot + "X", "quantity": 38.5}],
            }
            if i % 24 < 12:  # with it, one side may be missing
                event["transformationID"] = f"urn:uuid:{rnd.getrandbits(64):016x}-0000-4000-8000-000000000000"
        elif kind == 9:
            event = {
                "type": "ObjectEvent",
                "action": "OBSERVE",
                "bizStep": "sensor_reporting",
                "quantityList": [{"epcClass": lot, "quantity": 100, "uom": "KGM"}],
                "sensorElementList": [
                    {
                        "sensorMetadata": {"time": when, "deviceID": f"urn:epc:id:giai:{cp}.D1"},
                        "sensorReport": [
                            {"type": "Temperature", "value": round(rnd.uniform(0, 4), 2), "uom": "CEL"},
                            {"type": "RelativeHumidity", "value": 61, "uom": "P1", "zs:note": "ok"},
                        ],
                    }
                ],
            }
        elif kind == 10:
            event = {
                "type": "TransactionEvent",
                "action": "ADD",
                "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:{cp}000001:{i}"}],
                "epcList": serials,
                "zs:batchNote": {"zs:line": str(i % 20)},
            }
        else:
            event = {
                "type": "AssociationEvent",
                "action": "ADD",
                "parentID": f"urn:epc:id:grai:{cp}.12345.{i}",
                "childEPCs": [f"urn:epc:id:giai:{cp}.S{i}"],
                "recordTime": when,
                "eventID": f"ni:///sha-256;{i:064x}?ver=CBV2.0",
                "certificationInfo": [f"https://cert.example.com/{i}"],
            }
        out.append({**event, **base})
    return out


def conformance_events() -> Iterator[dict[str, Any]]:
    """Every event of the JSON conformance files, valid and invalid."""
    for path in sorted([*DATA.joinpath("JSON").rglob("*.jsonld"), *DATA.rglob("openepcis/**/JSON/**/*.json")]):
        doc = json.loads(path.read_text(encoding="utf-8"))
        body = doc.get("epcisBody") if isinstance(doc, dict) else None
        if isinstance(body, dict):
            results = body.get("queryResults")
            if isinstance(results, dict):
                body = results.get("resultsBody") or {}
            yield from (e for e in body.get("eventList") or [] if isinstance(e, dict))
        elif isinstance(doc, dict) and "type" in doc:
            yield doc


# Values and names that sit just inside or outside what the schema and the shortcuts accept.
ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1.5,
    "",
    " ",
    "x",
    "urn:x",
    "urn:x y",
    "urn:x\u00a0y",  # a no-break space is whitespace to the schema's regex
    "urn:x\u2003",
    "urn:x\n",
    "ex\u0661:x",  # an Arabic-Indic digit is a word character
    "éx:y",
    "a:",
    ":b",
    "urn:%",
    "urn:epcglobal:cbv:bizstep:shipping",
    "https://ns.gs1.org/cbv/BizStep-shipping",
    "https://gs1.org/voc/Temperature",
    "shipping",
    "in_transit",
    "owning_party",
    "po",
    "Temperature",
    "ADD",
    "OBSERVE",
    "DELETE",
    "KGM",
    "kgm",
    "+08:00",
    "+14:01",
    "-13:59",
    "+08:00\n",
    "+٠٨:00",
    "2026-10-01T10:00:00+08:00",
    "2026-02-29T10:00:00Z",
    "2026-10-01T24:00:00Z",
    "2026-10-01T10:00:00",
    "2026-10-01T10:00:00+0800",
    "2026-10-01t10:00:00z",
    "٢٠٢٦-10-01T10:00:00Z",
    [],
    [None],
    ["urn:x"],
    ["urn:x", "urn:x"],
    ["urn:x y"],
    [{"id": "urn:x"}],
    {},
    {"id": "urn:x"},
    {"id": "x"},
    {"id": "urn:x", "zs:more": 1},
    {"id": " "},
    {"zs:a": "b"},
    {"zs:a": " b ", "zs:c": {"zs:d": " "}},
    {"a": "b"},
    {"epcClass": "urn:x"},
    {"epcClass": "urn:x", "quantity": True},
    {"epcClass": "urn:x", "quantity": "1"},
    {"epcClass": "urn:x", "uom": "KGMS"},
    {"epcClass": "urn:x", "weight": 1},
    {"type": "po", "bizTransaction": "urn:x"},
    {"bizTransaction": "urn:x"},
    {"type": "po", "bizTransaction": "urn:x", "zs:x": 1},
    {"type": "owning_party", "source": "urn:x"},
    {"type": "owning_party", "destination": "urn:x"},
    {"source": "urn:x"},
    {"sensorReport": [{"type": "Temperature"}]},
    {"sensorReport": []},
    {"sensorReport": [{"value": 1}]},
    {"sensorReport": [{"type": "Temperature", "booleanValue": 1}]},
    {"sensorReport": [{"type": "Temperature", "hexBinaryValue": "0fz"}]},
    {"sensorMetadata": {"time": "x"}, "sensorReport": [{"type": "Temperature"}]},
    {"set": ["in_transit"]},
    {"set": []},
    {"set": ["in_transit"], "x": ["active"]},
    {"unset": ["active", "active"]},
    ["in_transit", "in_transit"],
    {"declarationTime": "2026-10-01T10:00:00Z"},
    [{"zs": "https://x.example/"}, {"ex": "https://y.example/"}],
    ["https://a.example/ctx", "https://a.example/ctx"],
    [{"zs": {"@id": "https://x.example/"}}],
]
NAMES = [
    "zs:x",
    "urn:x",
    "x",
    "ex\u0661:x",
    "a b:c",
    "@id",
    "type",
    "id",
    "epcList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputEPCList",
    "outputQuantityList",
    "action",
    "ilmd",
    "persistentDisposition",
    "errorDeclaration",
    "sensorElementList",
    "readPoint",
    "parentID",
    "transformationID",
    "bizTransactionList",
    "epcClass",
    "quantity",
    "uom",
    "sensorReport",
    "sensorMetadata",
    "value",
    "time",
]


def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every member and list item of an event."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*path, i)
            yield from _places(value, (*path, i))


def _mutants(event: dict[str, Any], rnd: random.Random, n: int) -> Iterator[dict[str, Any]]:
    places = list(_places(event))
    for _ in range(n):
        m = copy.deepcopy(event)
        for _ in range(rnd.randint(1, 2)):
            where = rnd.choice(places) if places and rnd.random() < 0.85 else ()
            parent: Any = m
            try:
                for step in where[:-1]:
                    parent = parent[step]
            except (KeyError, IndexError, TypeError):
                continue
            last = where[-1] if where else None
            action = rnd.random()
            if last is None or not isinstance(parent, (dict, list)):
                m[rnd.choice(NAMES)] = copy.deepcopy(rnd.choice(ODD_VALUES))
            elif action < 0.6:
                if isinstance(parent, dict) or (isinstance(last, int) and last < len(parent)):
                    parent[last] = copy.deepcopy(rnd.choice(ODD_VALUES))
            elif action < 0.75:
                if isinstance(parent, dict):
                    parent.pop(last, None)
                elif isinstance(last, int) and last < len(parent):
                    del parent[last]
            elif isinstance(parent, dict):
                parent[rnd.choice(NAMES)] = copy.deepcopy(rnd.choice(ODD_VALUES))
            else:
                parent.append(copy.deepcopy(parent[0]) if parent else copy.deepcopy(rnd.choice(ODD_VALUES)))
        yield m


def test_the_precheck_is_in_place() -> None:
    # it reads fastjsonschema's own regexes; a version naming them otherwise would switch it off silently
    assert set(V._PRECHECK) == set(V.EVENT_TYPES)
    assert all(V._FAST[t] is not V._SCHEMA_FAST[t] for t in V.EVENT_TYPES)


def test_common_capture_shapes_take_the_fast_path(verbatim: Callable[[Any], bool]) -> None:
    events = capture_mix(600)
    for event in events:
        assert V._PRECHECK[event["type"]](event), event
        assert verbatim(event), event
        assert validate_event(event, context=ZS) == [], event


def test_precheck_never_accepts_what_the_schema_refuses(verbatim: Callable[[Any], bool]) -> None:
    rnd = random.Random(2026)
    bases = [*capture_mix(240, seed=11), *conformance_events()]
    checked = plain = refused = 0
    for base in bases:
        for mutant in [base, *_mutants(base, rnd, 14)]:
            etype = mutant.get("type")
            if not isinstance(etype, str):
                continue
            expected = verbatim(mutant)
            fast = V._FAST.get(etype, V._FAST_EXTENDED)
            try:
                fast(mutant)
                got = True
            except fastjsonschema.JsonSchemaValueException:
                got = False
            assert got is expected, mutant
            precheck = V._PRECHECK.get(etype)
            if precheck is not None and isinstance(mutant, dict) and precheck(mutant):
                assert expected, mutant  # "plainly valid" must be valid
                plain += 1
            checked += 1
            refused += not expected
    # the comparison means something only if both verdicts and the shortcut all occur often
    assert checked > 5000 and refused > 1000 and plain > 1000, (checked, refused, plain)


def rich_events() -> list[dict[str, Any]]:
    """One event of each type with every field the schema gives it, nested extensions included."""
    when = "2026-10-01T10:00:00.000+08:00"
    common: dict[str, Any] = {
        "@context": [ZS],
        "eventTime": when,
        "recordTime": when,
        "eventTimeZoneOffset": "+08:00",
        "eventID": "urn:uuid:6f1c2b1e-1111-2222-3333-444455556666",
        "certificationInfo": ["https://cert.example.com/1"],
        "errorDeclaration": {
            "declarationTime": when,
            "reason": "incorrect_data",
            "correctiveEventIDs": ["urn:uuid:6f1c2b1e-1111-2222-3333-444455556667"],
            "zs:why": "typo",
        },
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:0614141.00001.0", "zs:dock": "3"},
        "bizLocation": {"id": "urn:epc:id:sgln:0614141.00001.0"},
        "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000001:1"}],
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00001"}],
        "destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:0614141.00002.0"}],
        "sensorElementList": [
            {
                "sensorMetadata": {"time": when, "deviceID": "urn:epc:id:giai:0614141.D1", "zs:m": "1"},
                "sensorReport": [
                    {
                        "type": "Temperature",
                        "exception": "ALARM_CONDITION",
                        "value": 3.5,
                        "component": "x",
                        "stringValue": "s",
                        "booleanValue": True,
                        "hexBinaryValue": "0F",
                        "uriValue": "urn:x:1",
                        "uom": "CEL",
                        "zs:r": "1",
                    }
                ],
                "zs:e": {"zs:f": "1"},
            }
        ],
        "zs:ext": {"zs:inner": ["a", {"zs:deep": "b"}]},
    }
    epcs = ["urn:epc:id:sgtin:0614141.107346.1", "urn:epc:id:sgtin:0614141.107346.2"]
    quantities = [{"epcClass": "urn:epc:class:lgtin:0614141.107346.L1", "quantity": 5, "uom": "KGM"}]
    return [
        {
            **common,
            "type": "ObjectEvent",
            "action": "ADD",
            "epcList": epcs,
            "quantityList": quantities,
            "persistentDisposition": {"set": ["completeness_verified"], "unset": ["in_transit"]},
            "ilmd": {"zs:lot": "L1"},
        },
        {
            **common,
            "type": "TransformationEvent",
            "inputEPCList": epcs,
            "inputQuantityList": quantities,
            "outputEPCList": ["urn:epc:id:sgtin:0614141.107346.3"],
            "outputQuantityList": quantities,
            "transformationID": "urn:uuid:6f1c2b1e-1111-2222-3333-444455556668",
            "persistentDisposition": {"set": ["completeness_verified"]},
            "ilmd": {"zs:lot": "L1"},
        },
        *(
            {
                **common,
                "type": etype,
                "action": "ADD",
                "parentID": "urn:epc:id:sscc:0614141.1234567890",
                "childEPCs": epcs,
                "childQuantityList": quantities,
                "persistentDisposition": {"set": ["completeness_verified"]},
            }
            for etype in ("AggregationEvent", "AssociationEvent")
        ),
        {**common, "type": "TransactionEvent", "action": "ADD", "epcList": epcs, "quantityList": quantities},
    ]


_ABSENT = object()


def test_every_odd_value_in_every_place_decides_as_the_schema(verbatim: Callable[[Any], bool]) -> None:
    checked = plain = 0
    for base in rich_events():
        assert V._PRECHECK[base["type"]](base) and verbatim(base), base["type"]
        every = [*ODD_VALUES, "<delete>"]
        changes = [(p, every) for p in _places(base) if p != ("type",)]  # (the type picks the validator)
        changes += [((*p, name), ["x"]) for p in [(), *_places(base)] for name in ("zs:new", "new")]
        for where, values in changes:
            parent: Any = base
            for step in where[:-1]:
                parent = parent[step]
            key = where[-1]
            if not isinstance(parent, (dict, list)) or isinstance(parent, list) != isinstance(key, int):
                continue  # a name added to a list or a text
            before = parent[key] if isinstance(parent, list) or key in parent else _ABSENT
            for value in values:  # changed in place and put back: no validator changes what it reads
                if value == "<delete>":
                    if isinstance(parent, dict):
                        parent.pop(key, None)
                else:
                    parent[key] = value
                expected = verbatim(base)
                try:
                    V._FAST[base["type"]](base)
                    got = True
                except fastjsonschema.JsonSchemaValueException:
                    got = False
                assert got is expected, (where, value)
                if V._PRECHECK[base["type"]](base):
                    assert expected, (where, value)
                    plain += 1
                checked += 1
            if before is _ABSENT:
                parent.pop(key, None)
            else:
                parent[key] = before
    assert checked > 30000 and plain > 3000, (checked, plain)


@pytest.mark.parametrize("value", [v for v in ODD_VALUES if isinstance(v, str)])
@pytest.mark.parametrize("where", ["epcList", "readPoint", "bizTransaction", "name", "ilmd", "context", "time"])
def test_odd_text_in_every_place_decides_as_the_schema(verbatim: Callable[[Any], bool], value: str, where: str) -> None:
    event = capture_mix(12)[5]  # a shipping event: lists, locations, transactions, parties
    event["ilmd"] = {"zs:lot": "L1"}
    event["action"] = "ADD"
    if where == "epcList":
        event["epcList"] = [value]
    elif where == "readPoint":
        event["readPoint"] = {"id": value}
    elif where == "bizTransaction":
        event["bizTransactionList"] = [{"type": "po", "bizTransaction": value}]
    elif where == "name":
        event[value] = "x"
    elif where == "ilmd":
        event["ilmd"] = {value: "x"}
    elif where == "context":
        event["@context"] = [value, ZS]
    else:
        event["eventTime"] = value
    try:
        V._FAST["ObjectEvent"](event)
        got = True
    except fastjsonschema.JsonSchemaValueException:
        got = False
    assert got is verbatim(event)


def _strings(rnd: random.Random, n: int) -> Iterator[str]:
    alphabet = "aZ09:/.+-_%~ \t\n\u00a0\u2003\u0661é中@#?=&'()*,;!"
    for _ in range(n):
        yield "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        yield rnd.choice(["urn:", "https://", "ex:", "a:", "1a:", "x"]) + "".join(
            rnd.choice(alphabet) for _ in range(rnd.randint(0, 8))
        )


def test_ascii_uri_shortcuts_are_subsets_of_the_full_patterns() -> None:
    schema_uri = V._SCHEMA_PATTERNS["uri_re_pattern"]
    rnd = random.Random(5)
    for text in _strings(rnd, 20000):
        if V._ASCII_URI(text) is not None:
            assert schema_uri.match(text) is not None, text
        if V._ASCII_ABSOLUTE_URI(text) is not None:
            assert V._ABSOLUTE_URI.match(text) is not None, text
        assert V._absolute(text) is (V._ABSOLUTE_URI.match(text) is not None), text


def _date_times(rnd: random.Random, n: int) -> Iterator[str]:
    for _ in range(n):
        date = rnd.choice(
            ["2026-10-01", "2024-02-29", "2026-02-29", "2026-13-01", "2026-04-31", "0000-01-01", "٢٠٢٦-10-01"]
        )
        clock = rnd.choice(["10:00:00", "23:59:59", "24:00:00", "10:60:00", "10:00:60", "1:00:00"])
        frac = rnd.choice(["", ".5", ".123", ".123456789", "."])
        zone = rnd.choice(["", "Z", "z", "+08:00", "-05:30", "+14:00", "+14:01", "-15:00", "+08:60", "+0800", "+٠٨:00"])
        yield f"{date}{rnd.choice(['T', 'T', 't', ' '])}{clock}{frac}{zone}"


def test_date_time_shortcut_agrees_with_the_full_check() -> None:
    rnd = random.Random(9)
    for text in _date_times(rnd, 5000):
        fast = V._Checker({}, 0, "", None)
        fast._time(text, "eventTime", "/eventTime")
        full = V._Checker({}, 0, "", None)
        full._time_general(text, "eventTime", "/eventTime")
        assert fast.problems == full.problems, text


def test_repeated_location_is_checked_once_but_reported_where_it_is_wrong() -> None:
    bad = "urn:epc:id:sgln:0614141.00001"  # one component short
    event = capture_mix(1)[0]
    event["readPoint"] = {"id": bad}
    event["bizLocation"] = {"id": bad}
    assert {p.path for p in validate_event(event)} == {"/readPoint/id", "/bizLocation/id"}
