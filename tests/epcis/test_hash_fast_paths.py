"""The fast paths of the event hash compute what the general code computes.

Each shortcut in ``zhuisu.epcis.hash`` has the general code next to it; these tests run both on the
capture shapes, on the hash strategies' events, on the conformance events and on odd inputs: the
traversal (the general path forced by handing the event in as read-only mappings and ``str``
subclasses, which no shortcut takes), timestamps, EPC URNs, check digits and the shared event scope.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import hash_strategies as hs  # tests/epcis/hash_strategies.py
import pytest
from hypothesis import HealthCheck, given, settings
from test_validate_precheck import ODD_VALUES, capture_mix, conformance_events

from zhuisu.codes import epc
from zhuisu.epcis import hash as H
from zhuisu.epcis.problems import EPCISError


class _Text(str):
    """Text no shortcut recognises (they test ``type(v) is str``); the general code reads it as text."""

    __slots__ = ()


def _opaque(node: Any) -> Any:
    """The same event as read-only mappings and ``_Text``: only the general code can traverse it."""
    if isinstance(node, dict):
        return MappingProxyType({k: _opaque(v) for k, v in node.items()})
    if isinstance(node, list):
        return [_opaque(v) for v in node]
    if type(node) is str:
        return _Text(node)
    return node


def _outcome(event: Any, context: dict[str, str] | None = None) -> Any:
    H._CANON_MEMO.clear()  # so that both sides compute every value
    epc.forget_simple_urns()
    H._TIME_MEMO.clear()
    try:
        return H.prehash_string(event, context)
    except EPCISError as exc:  # (messages name the type found: the general side's are renamed)
        return [(p.path, p.message.replace("_Text", "str").replace("mappingproxy", "dict")) for p in exc.problems]


def _odd_mutants(event: dict[str, Any], rnd: random.Random) -> Iterator[dict[str, Any]]:
    keys = [*event, "ex:x", "zs:y", "plain", "extension", "ilmd", "sourceList", "quantityList", "sensorElementList"]
    for _ in range(3):
        m = copy.deepcopy(event)
        m[rnd.choice(keys)] = copy.deepcopy(rnd.choice(ODD_VALUES))
        for value in m.values():  # and one member of a nested object
            if isinstance(value, list) and value and isinstance(value[0], dict):
                value[0][rnd.choice(["type", "id", "quantity", "uom", "ex:e", "zs:q", "value"])] = copy.deepcopy(
                    rnd.choice(ODD_VALUES)
                )
                break
        yield m


def _events() -> list[dict[str, Any]]:
    return [*capture_mix(300, seed=3), *(e for e in conformance_events() if isinstance(e.get("type"), str))]


def test_fast_traversal_equals_the_general_one() -> None:
    rnd = random.Random(17)
    compared = failed = 0
    for event in _events():
        for m in [event, *_odd_mutants(event, rnd)]:
            for context in (None, {"ex": "https://ex.example/ns/", "zs": "https://zs.example/ns/"}):
                fast = _outcome(m, context)
                assert fast == _outcome(_opaque(m), context), m
                compared += 1
                failed += isinstance(fast, list)
    assert compared > 2000 and 0 < failed < compared / 2, (compared, failed)


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hs.event())
def test_fast_traversal_equals_the_general_one_on_generated_events(event: dict[str, Any]) -> None:
    assert _outcome(event, hs.DOCUMENT_PREFIXES) == _outcome(_opaque(event), hs.DOCUMENT_PREFIXES)
    own = {**event, "@context": [{k: v} for k, v in hs.DOCUMENT_PREFIXES.items()]}  # as the platform stores it
    assert _outcome(own) == _outcome(_opaque(own))


def _timestamps(rnd: random.Random, n: int) -> Iterator[str]:
    for _ in range(n):
        year = rnd.choice(["2026", "2024", "2000", "1900", "0000", "0001", "9999", f"{rnd.randrange(10000):04d}"])
        month = rnd.choice(["01", "02", "12", "13", "00", f"{rnd.randrange(14):02d}"])
        day = rnd.choice(["01", "28", "29", "30", "31", "32", f"{rnd.randrange(33):02d}"])
        clock = f"{rnd.randrange(26):02d}:{rnd.randrange(62):02d}:{rnd.randrange(62):02d}"
        frac = rnd.choice(["", ".000", ".123", ".999", ".1", ".12", ".1234", ".9995", ",5"])
        anywhere = f"{rnd.choice('+-')}{rnd.randrange(100):02d}:{rnd.randrange(100):02d}"
        zone = rnd.choice(["Z", "z", "", "+08:00", "-05:00", "+14:00", "-14:00", "+00:00", "-00:00", "+0800", anywhere])
        yield f"{year}-{month}-{day}{rnd.choice(['T', 'T', 'T', 't', ' '])}{clock}{frac}{zone}"


def test_timestamp_fast_path_equals_the_general_one() -> None:
    rnd = random.Random(23)
    fast_taken = 0
    for text in _timestamps(rnd, 40000):
        assert H._timestamp_uncached(text) == H._timestamp_general(text), text
        fast_taken += H._TS_COMMON(text) is not None
    # day before, same day, day after, month and year ends: the cases the shortcut itself handles
    for text in ("2026-01-01T02:00:00.5+08:00", "2025-12-31T23:30:00-01:00", "2024-02-28T23:00:00-02:00"):
        assert H._timestamp_uncached(text) == H._timestamp_general(text), text
    assert fast_taken > 4000


def _digits(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("0123456789") for _ in range(n))


def _urns(rnd: random.Random, n: int) -> Iterator[str]:
    serial_chars = "0123456789" * 3 + "aZ.-_!'()*+,:;=%2F%7E% "
    for _ in range(n):
        scheme = rnd.choice(
            ["id:sgtin", "class:lgtin", "id:sscc", "id:sgln", "id:pgln"] * 3
            + ["id:grai", "id:giai", "id:gdti", "id:cpi", "id:itip", "idpat:sgtin", "id:gsrn", "id:x", "idpat:grai"]
        )
        cp = _digits(rnd, rnd.randint(5, 13))
        total = {"id:sgtin": 13, "class:lgtin": 13, "id:sscc": 17}.get(scheme, 12)  # what the key needs
        ref = _digits(rnd, max(0, rnd.choice([total, total, 13, 12, 17, 16, rnd.randint(0, 14)]) - len(cp)))
        odd = "".join(rnd.choice(serial_chars) for _ in range(rnd.randint(0, 22)))
        tail = rnd.choice([_digits(rnd, rnd.randint(1, 6)), "0", "L1", "*", "", odd])
        parts = [cp, ref, tail][: rnd.choice([1, 2, 3, 3, 3])]
        yield f"urn:epc:{scheme}:" + ".".join(parts) + rnd.choice(["", "", "", ".9", ":"])


def _table_reference(text: str) -> str | None:
    """The table conversion with the escape-aware patterns only (how every URN was read before)."""
    colon = text.find(":", text.find(":", 8) + 1)
    entry = H._EPC_TABLE.get(text[: colon + 1])
    if entry is None:
        return None
    m = entry[0].fullmatch(text, colon + 1)
    tail = None if m is None else entry[2](m.groups())
    return None if tail is None else "https://id.gs1.org/" + tail


def test_common_epc_urns_convert_as_the_table_does() -> None:
    rnd = random.Random(29)
    common = 0
    for text in _urns(rnd, 40000):
        expected = _table_reference(text)
        assert H._epc_urn(text) == expected, text
        assert H._epc_urn_table(text) == expected, text
        common += H._EPC_COMMON.fullmatch(text) is not None and expected is not None
    assert common > 3000


@pytest.mark.parametrize("value", [*(v for v in ODD_VALUES if isinstance(v, str)), " urn:epc:id:sgtin:0614141.1 "])
def test_canonical_value_equals_the_uncached_form(value: str) -> None:
    H._CANON_MEMO.clear()
    stripped = value.strip()
    assert H.canonical_value(value) == (H._canon_uncached(stripped) if stripped else "")


def test_canonical_value_of_urns_equals_the_uncached_form() -> None:
    rnd = random.Random(31)
    for text in _urns(rnd, 5000):
        H._CANON_MEMO.clear()
        assert H.canonical_value(" " + text) == H._canon_uncached(text.strip()), text


def test_simple_urn_table_gives_the_hash_s_own_digital_link() -> None:
    # The hash takes simple EPC URNs from zhuisu.codes.epc's table: it must hold what the hash's own tables give.
    rnd = random.Random(37)
    simple = 0
    for text in _urns(rnd, 20000):
        epc.forget_simple_urns()
        got = epc.simple_urn_id(text)
        if got is not None:
            simple += 1
            assert got == H._canon_uncached(text), text
            assert epc.simple_urn_id(text) == got  # and the table answers the same the second time
    assert simple > 500  # (the generator makes many other kinds of URN too)


def test_check_digit() -> None:
    rnd = random.Random(37)
    for n in range(40):
        for _ in range(50):
            digits = _digits(rnd, n)
            weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
            assert H._cd(digits) == str(-weighted % 10), digits


def test_event_scope_follows_changes_of_the_context() -> None:
    event = capture_mix(1)[0]
    event["@context"] = [{"zs": "https://one.example/"}]
    first = H.prehash_string(event)
    assert "{https://one.example/}lot" in first
    event["@context"][0]["zs"] = "https://two.example/"  # the same objects, changed in place
    second = H.prehash_string(event)
    assert "{https://two.example/}lot" in second
    event["@context"] = [{"zs": {"@id": "https://three.example/"}}]  # not a plain string: not shared
    with pytest.raises(EPCISError, match="not declared"):
        H.prehash_string(event)
    assert H.prehash_string({**event, "@context": [{"zs": "https://two.example/"}]}) == second
