"""Property tests: every trace answer equals a brute-force answer computed directly from the raw events."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent))

import trace_reference as reference
from trace_generate import MemGraph, network_ids, networks

from zhuisu.access.principal import SYSTEM
from zhuisu.codes.epc import canonical_id
from zhuisu.epcis.capture import capture_events
from zhuisu.trace import trace
from zhuisu.trace.rules import is_hub
from zhuisu.trace.walk import event_windows, walk

_ns = itertools.count(1)
DIRECTIONS = ("backward", "forward", "both")


def _starts(events: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for ev in events:
        for key in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
            found.extend(ev.get(key) or ())
        for key in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
            found.extend(q["epcClass"] for q in ev.get(key) or ())
        if ev.get("parentID"):
            found.append(ev["parentID"])
    return sorted({canonical_id(x) for x in found})


@settings(max_examples=300, deadline=None)
@given(networks(lambda: 1, max_events=16))
def test_walk_matches_brute_force(events: list[dict[str, Any]]) -> None:
    graph = MemGraph(events)
    facts = reference.facts(events)
    for start in _starts(events):
        _compare(graph, facts, start)


def _compare(graph: MemGraph, facts: reference.Facts, start: str) -> None:
    for direction in DIRECTIONS:
        objects, carriers, expected_events = reference.trace_events(facts, start, direction)
        parts = ["backward", "forward"] if direction == "both" else [direction]
        got_objects: set[str] = set()
        got_carriers: set[str] = set()
        got_events: set[str] = set()
        for part in parts:
            w = walk(graph, [start], part)  # type: ignore[arg-type]
            got_objects |= {n for n in w.objects if not is_hub(n)}
            got_carriers |= set(w.carriers)
            got_events |= {graph.event_ids[s] for s in event_windows(graph, w)}
        assert got_objects == objects, direction
        assert got_carriers - got_objects == carriers, direction
        assert got_events == expected_events, direction


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(networks(lambda: next(_ns) + 50_000, max_events=12), st.data())
def test_store_trace_matches_brute_force(engine: Engine, events: list[dict[str, Any]], data: st.DataObject) -> None:
    """Captured through the real capture path into both stores; the trace API answers like brute force."""
    result = capture_events(engine, [dict(e) for e in events])
    assert result.success, result.problems
    facts = reference.facts(events)
    start = data.draw(st.sampled_from(_starts(events)))
    direction = data.draw(st.sampled_from(DIRECTIONS))
    objects, carriers, expected_events = reference.trace_events(facts, start, direction)
    with engine.connect() as conn:
        answer = trace(conn, start, direction, SYSTEM)  # type: ignore[arg-type]
    assert {o.id for o in answer.objects if o.relation != "carrier"} == objects
    assert {o.id for o in answer.objects if o.relation == "carrier"} == carriers
    assert {s.event_id for s in answer.steps} == expected_events
    assert answer.hidden_steps == 0


def test_network_ids_are_disjoint() -> None:
    a, b = network_ids(1), network_ids(2)
    assert not {x for v in a.values() for x in v} & {x for v in b.values() for x in v}
