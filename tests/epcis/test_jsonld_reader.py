"""``iter_events`` (orjson, by blocks) reads exactly what ``iter_events_ijson`` reads, errors included."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhuisu.epcis import jsonld
from zhuisu.epcis.problems import EPCISError

DATA = Path(__file__).resolve().parents[1] / "data"
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "http://ns.example.com/epcis/"}]
READ_SIZES = (7, 64, 1 << 18)

Outcome = tuple[list[dict[str, Any]], Any]


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types, the same key order and the same float bits (-0.0 is not 0.0)."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if list(x) != list(y):
                return False
            pending.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y, strict=True))
        elif isinstance(x, float):
            if repr(x) != repr(y):
                return False
        elif x != y:
            return False
    return True


def collect(events: Callable[[], Iterator[dict[str, Any]]]) -> Outcome:
    """The events read before any error, and the error (type and problems or message)."""
    out: list[dict[str, Any]] = []
    try:
        for event in events():
            out.append(event)
    except EPCISError as exc:
        return out, ("EPCISError", exc.problems)
    except Exception as exc:
        return out, (type(exc).__name__, str(exc))
    return out, None


def read_ijson(doc: bytes) -> Outcome:
    def events() -> Iterator[dict[str, Any]]:
        with mock.patch.object(jsonld, "iter_events", jsonld.iter_events_ijson):
            yield from jsonld.open_document(io.BytesIO(doc))[1]

    return collect(events)


def read_fast(doc: bytes, read_size: int = 1 << 18, parse: Callable[[int], bool] | None = None) -> tuple[Outcome, bool]:
    """(outcome, whether the fast reader handed over to ijson); ``parse`` says which events to keep."""
    handed_over: list[bool] = []
    original = jsonld.iter_events_ijson

    def spy(*args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        handed_over.append(True)
        return original(*args, **kwargs)

    def events() -> Iterator[dict[str, Any]]:
        for i, event in enumerate(jsonld.open_document(io.BytesIO(doc))[1]):
            if parse is None or parse(i):
                yield event

    with mock.patch.object(jsonld, "iter_events_ijson", spy), mock.patch.object(jsonld, "_READ_SIZE", read_size):
        outcome = collect(events)
    return outcome, bool(handed_over)


def assert_same(doc: bytes, read_sizes: tuple[int, ...] = READ_SIZES) -> bool:
    """Both readers agree on ``doc`` at every read size; returns whether any read handed over to ijson."""
    expected_events, expected_error = read_ijson(doc)
    any_fallback = False
    for size in read_sizes:
        (events, error), fallback = read_fast(doc, size)
        any_fallback |= fallback
        assert error == expected_error, (size, error, expected_error)
        assert len(events) == len(expected_events), size
        assert all(same(a, b) for a, b in zip(events, expected_events, strict=True)), size
    return any_fallback


def document(events: list[Any], *, doc_type: str = "EPCISDocument", body_first: bool = False, **dumps: Any) -> bytes:
    body: dict[str, Any] = {"eventList": events}
    if doc_type == "EPCISQueryDocument":
        body = {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": body}}
    header = {"@context": CONTEXT, "type": doc_type, "schemaVersion": "2.0", "creationDate": "2026-11-01T00:00:00Z"}
    doc = {"epcisBody": body, **header} if body_first else {**header, "epcisBody": body}
    return json.dumps(doc, allow_nan=False, **dumps).encode("utf-8", "surrogatepass")


def event(n: int, **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": f"2026-11-01T08:{n // 60 % 60:02d}:{n % 60:02d}.000+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{n}"],
        "ex:n": {"value": n, "note": 'a "quoted" {brace} [bracket] \\ back\\slash'},
    }
    e.update(extra)
    return e


# --- hypothesis: arbitrary events ---------------------------------------------------------------------------

tricky = st.sampled_from([*'"\\{}[],: \t\n/\x00\x1fé中😀\u2028\ufeff', "\\u", '\\"', "}]", "},{"])
strings = st.lists(tricky | st.characters(), max_size=12).map("".join)
numbers = (
    st.integers(-(2**63) + 1, 2**63 - 1)
    | st.integers()  # beyond ±(2**63 - 1): ijson refuses them, the fast reader must hand over
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 5e-324, 1e308, 1.7976931348623157e308, 2.0**63, 2.0**64, 1e-300])
)
scalars = st.none() | st.booleans() | numbers | strings
values = st.recursive(
    scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(strings, kids, max_size=4), max_leaves=16
)
events_st = st.dictionaries(strings, values, max_size=5)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(events_st, max_size=8),
    doc_type=st.sampled_from(["EPCISDocument", "EPCISQueryDocument"]),
    body_first=st.booleans(),
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 2]),
    read_size=st.sampled_from(READ_SIZES),
)
def test_generated_documents_read_the_same(
    events: list[dict[str, Any]],
    doc_type: str,
    body_first: bool,
    ensure_ascii: bool,
    indent: int | None,
    read_size: int,
) -> None:
    doc = document(events, doc_type=doc_type, body_first=body_first, ensure_ascii=ensure_ascii, indent=indent)
    expected = read_ijson(doc)
    (got_events, got_error), _fallback = read_fast(doc, read_size)
    assert got_error == expected[1]
    assert len(got_events) == len(expected[0])
    assert all(same(a, b) for a, b in zip(got_events, expected[0], strict=True))


@settings(max_examples=100, deadline=None)
@given(
    ns=st.lists(st.integers(0, 10**6), min_size=1, max_size=40),
    separators=st.sampled_from([(",", ":"), (", ", ": "), (",\n", ": ")]),
    read_size=st.sampled_from(READ_SIZES),
)
def test_usual_documents_take_the_fast_path(ns: list[int], separators: tuple[str, str], read_size: int) -> None:
    doc = document([event(n) for n in ns], separators=separators)
    expected = read_ijson(doc)
    (got_events, got_error), fallback = read_fast(doc, read_size)
    assert not fallback
    assert got_error is None and expected[1] is None
    assert all(same(a, b) for a, b in zip(got_events, expected[0], strict=True))
    assert len(got_events) == len(ns)


# --- every JSON document of the test data ---------------------------------------------------------------------


def data_documents() -> list[Path]:
    return sorted(p for p in DATA.rglob("*.json*") if p.is_file())


def test_every_data_document_reads_the_same() -> None:
    paths = data_documents()
    assert len(paths) > 100
    fast = 0
    for path in paths:
        doc = path.read_bytes()
        fallback = assert_same(doc, (64, 1 << 18))
        events, error = read_ijson(doc)
        fast += bool(events) and error is None and not fallback
    assert fast > 100  # the EPCIS documents among them take the fast path


# --- malformed and unusual documents ------------------------------------------------------------------------

E0 = json.dumps(event(0)).encode()
E1 = json.dumps(event(1)).encode()
E2 = json.dumps(event(2)).encode()
HEAD = (
    b'{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "http://ns.ex/"}], '
    b'"type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-01T00:00:00Z", '
)


def doc_of(body: bytes, tail: bytes = b"}") -> bytes:
    return HEAD + b'"epcisBody": {"eventList": [' + body + b"]}" + tail


VALID = doc_of(E0 + b", " + E1 + b", " + E2)

ODD_DOCUMENTS = {
    "junk after an event": doc_of(E0 + b" x, " + E1),
    "missing comma": doc_of(E0 + b" " + E1),
    "trailing comma": doc_of(E0 + b", " + E1 + b","),
    "number element": doc_of(E0 + b", 5, " + E1),
    "array element": doc_of(E0 + b", [1, 2], " + E1),
    "string element": doc_of(E0 + b', "x", ' + E1),
    "null element": doc_of(E0 + b", null"),
    "array element first": doc_of(b"[{}], " + E0),
    "invalid utf-8": doc_of(E0 + b', {"a": "\xff"}, ' + E1),
    "overlong utf-8": doc_of(E0 + b', {"a": "\xc0\x80"}, ' + E1),
    "utf-8 surrogate": doc_of(E0 + b', {"a": "\xed\xa0\x80"}, ' + E1),
    "NaN": doc_of(E0 + b', {"a": NaN}, ' + E1),
    "Infinity": doc_of(E0 + b', {"a": -Infinity}, ' + E1),
    "float overflow": doc_of(E0 + b', {"a": 1e400}, ' + E1),
    "float underflow": doc_of(E0 + b', {"a": 1e-400, "b": -0.0, "c": -0, "d": 1E2}, ' + E1),
    "largest integer": doc_of(E0 + b', {"a": 9223372036854775807, "b": -9223372036854775807}, ' + E1),
    "integer 2**63": doc_of(E0 + b', {"a": 9223372036854775808}, ' + E1),
    "integer -2**63": doc_of(E0 + b', {"a": -9223372036854775808}, ' + E1),
    "integer 2**64": doc_of(E0 + b', {"a": 18446744073709551616}, ' + E1),
    "huge integer": doc_of(E0 + b', {"a": [123456789012345678901234567890]}, ' + E1),
    "long digits in a string": doc_of(E0 + b', {"a": "123456789012345678901234567890"}, ' + E1),
    "long digits in a fraction": doc_of(E0 + b', {"a": 0.123456789012345678901234567890}, ' + E1),
    "long digits after an escaped quote": doc_of(E0 + b', {"a": "x\\"123456789012345678901"}, ' + E1),
    "form feed between events": doc_of(E0 + b",\x0c" + E1),
    "vertical tab in an event": doc_of(E0 + b', {"a":\x0b1}, ' + E1),
    "lone high surrogate": doc_of(E0 + b', {"a": "\\ud83d"}, ' + E1),
    "lone low surrogate": doc_of(E0 + b', {"a": "\\ude00"}, ' + E1),
    "high surrogate and letter": doc_of(E0 + b', {"a": "\\ud83d\\u0041"}, ' + E1),
    "surrogate pair": doc_of(E0 + b', {"a": "\\ud83d\\ude00", "\\u00e9": "\\u4e2d"}, ' + E1),
    "control character": doc_of(E0 + b', {"a": "\x01"}, ' + E1),
    "duplicate keys": doc_of(E0 + b', {"a": 1, "b": 2, "a": 3}, ' + E1),
    "deep nesting": doc_of(E0 + b', {"a": ' + b"[" * 1100 + b"]" * 1100 + b"}, " + E1),
    "comment": doc_of(E0 + b", /* c */ " + E1),
    "unbalanced brace in a string": doc_of(E0 + b', {"a": "}}}, {"}, {"b": "[[["}, ' + E1),
    "duplicate eventList": HEAD + b'"epcisBody": {"eventList": [' + E0 + b'], "eventList": [' + E1 + b"]}}",
    "second epcisBody": HEAD + b'"epcisBody": {"eventList": [' + E0 + b']}, "epcisBody": {"eventList": [' + E1 + b"]}}",
    "dotted key": HEAD + b'"epcisBody.eventList": [' + E0 + b'], "epcisBody": {"eventList": [' + E1 + b"]}}",
    "escaped key": HEAD + b'"epcisBody": {"event\\u004cist": [' + E0 + b", " + E1 + b"]}}",
    "eventList in a header string": HEAD.replace(b'"type"', b'"x": "\\"eventList\\": [", "type"')
    + b'"epcisBody": {"eventList": ['
    + E0
    + b"]}}",
    "eventList not first": HEAD + b'"epcisBody": {"other": {"eventList": [1]}, "eventList": [' + E0 + b"]}}",
    "keys after eventList": HEAD + b'"epcisBody": {"eventList": [' + E0 + b'], "x": {"y": [1, {"z": 2}]}}}',
    "header after body": b'{"epcisBody": {"eventList": ['
    + E0
    + b", "
    + E1
    + b']}, "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], '
    b'"type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-01T00:00:00Z"}',
    "empty list": doc_of(b""),
    "empty list with spaces": doc_of(b" \n "),
    "empty objects": doc_of(b"{}, {}, {}"),
    "junk after the document": VALID + b" x",
    "second document": VALID + b" {}",
    "whitespace after the document": VALID + b" \n\t\r ",
    "missing final brace": VALID[:-1],
    "list not closed": HEAD + b'"epcisBody": {"eventList": [' + E0 + b", " + E1,
    "epcisBody not an object": HEAD + b'"epcisBody": [' + E0 + b"]}",
    "query document": (
        b'{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], '
        b'"type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": "2026-11-01T00:00:00Z", '
        b'"epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": ['
        + E0
        + b", "
        + E1
        + b']}, "subscriptionID": "s1"}}}'
    ),
}


@pytest.mark.parametrize("name", sorted(ODD_DOCUMENTS))
def test_odd_documents_read_the_same(name: str) -> None:
    assert_same(ODD_DOCUMENTS[name])


def test_errors_are_the_same_and_come_from_ijson() -> None:
    for name in ("junk after an event", "number element", "invalid utf-8", "NaN", "integer 2**63", "trailing comma"):
        (events, error), fallback = read_fast(ODD_DOCUMENTS[name])
        assert fallback, name
        assert error is not None and error[0] == "EPCISError", name
        assert events and len(events) == len(read_ijson(ODD_DOCUMENTS[name])[0]), name  # read once each


def test_valid_odd_documents_mostly_stay_fast() -> None:
    for name in (
        "float underflow",
        "largest integer",
        "long digits in a string",
        "long digits after an escaped quote",
        "surrogate pair",
        "duplicate keys",
        "keys after eventList",
        "header after body",
        "empty list",
        "empty objects",
        "whitespace after the document",
        "query document",
        "eventList not first",
        "eventList in a header string",
    ):
        (_events, error), fallback = read_fast(ODD_DOCUMENTS[name])
        assert not fallback, name
        assert error is None, name


def test_truncated_documents_read_the_same() -> None:
    doc = document([event(n) for n in range(12)], indent=1)
    for cut in range(0, len(doc), max(1, len(doc) // 97)):
        assert_same(doc[:cut], (7, 1 << 18))


# --- errors after events ---------------------------------------------------------------------------------------


def test_a_bad_event_after_good_ones_stops_the_reader_with_ijson_s_error() -> None:
    doc = doc_of(E0 + b", " + E1 + b', {"a": 1 2}, ' + E2)
    expected_events, expected_error = read_ijson(doc)
    (got, error), fallback = read_fast(doc, 1 << 18, parse=lambda i: i == 0)
    assert fallback
    assert error == expected_error and error is not None
    assert len(got) == 1 and same(got[0], expected_events[0])
