"""A lot of a few hundred serials: more identifiers per look-up than the stores take as a literal list.

PostgreSQL then gets the identifiers as one array (``zhuisu.store.lineage._in_rows``); the walk over the
store must still equal the walk over the raw events (``MemGraph``) and the brute-force reference.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent))

import trace_reference as reference
from trace_generate import MemGraph
from trace_networks import event, lgtin, pgln, sgln, sgtin, sscc

from zhuisu.access.principal import SYSTEM
from zhuisu.codes.epc import canonical_id
from zhuisu.epcis.capture import capture_events
from zhuisu.store import lineage
from zhuisu.trace import recall_impact, trace
from zhuisu.trace.walk import Walk, event_nodes, walk

SERIALS = 300  # above the 200 values from which PostgreSQL gets an array
PER_CASE = 100


def _network() -> list[dict[str, Any]]:
    items = [sgtin("107346", i) for i in range(SERIALS)]
    cases = [sscc(10 + k) for k in range(SERIALS // PER_CASE)]
    pallet = sscc(1)
    maker, dist = pgln(1), pgln(2)
    evs = [
        event(
            "ObjectEvent",
            0,
            action="ADD",
            epcList=items,
            bizStep="commissioning",
            disposition="active",
            bizLocation={"id": sgln(1)},
            ilmd={"cbvmda:lotNumber": "BIG"},
        )
    ]
    for k, case in enumerate(cases):
        evs.append(
            event(
                "AggregationEvent",
                1,
                action="ADD",
                parentID=case,
                childEPCs=items[k * PER_CASE : (k + 1) * PER_CASE],
                bizStep="packing",
            )
        )
    evs.append(event("AggregationEvent", 2, action="ADD", parentID=pallet, childEPCs=cases, bizStep="packing"))
    evs.append(
        event(
            "ObjectEvent",
            10,
            action="OBSERVE",
            epcList=[pallet],
            bizStep="shipping",
            disposition="in_transit",
            sourceList=[{"type": "owning_party", "source": maker}],
            destinationList=[{"type": "owning_party", "destination": dist}],
        )
    )
    evs.append(
        event(
            "ObjectEvent",
            20,
            action="OBSERVE",
            epcList=[pallet],
            bizStep="receiving",
            disposition="in_progress",
            bizLocation={"id": sgln(2)},
            destinationList=[{"type": "owning_party", "destination": dist}],
        )
    )
    evs.append(event("AggregationEvent", 21, action="DELETE", parentID=pallet, bizStep="unpacking"))
    for k, case in enumerate(cases):
        hospital = pgln(3 + k)
        evs.append(
            event(
                "ObjectEvent",
                30 + k,
                action="OBSERVE",
                epcList=[case],
                bizStep="shipping",
                disposition="in_transit",
                sourceList=[{"type": "owning_party", "source": dist}],
                destinationList=[{"type": "owning_party", "destination": hospital}],
            )
        )
        evs.append(event("AggregationEvent", 40 + k, action="DELETE", parentID=case, bizStep="unpacking"))
    for i in range(0, SERIALS, 4):
        evs.append(
            event(
                "ObjectEvent",
                60 + i // 10,
                action="OBSERVE",
                epcList=[items[i]],
                bizStep="dispensing",
                disposition="dispensed",
                bizLocation={"id": sgln(3 + i // PER_CASE)},
            )
        )
    return evs


def _shape(w: Walk) -> tuple[Any, ...]:
    return (
        dict(w.objects),
        dict(w.relation),
        {n: sorted(ws) for n, ws in w.carriers.items()},
        {n: sorted(cs) for n, cs in w.carried.items()},
    )


def test_big_lot_walk_over_the_store_equals_the_walk_over_the_events(engine: Engine) -> None:
    events = _network()
    copies = [dict(e) for e in events]
    result = capture_events(engine, copies)
    assert result.success, result.problems
    lot = canonical_id(lgtin("107346", "BIG"))
    mem = MemGraph(copies)
    expected = walk(mem, [lot], "forward")
    with engine.connect() as conn:
        db = lineage.DbGraph(conn)
        got = walk(db, [lot], "forward")
        assert len(got.objects) == SERIALS + 1
        assert _shape(got) == _shape(expected)
        ids = dict(conn.exec_driver_sql("SELECT seq, event_id FROM epcis_event").all())
        got_events = {ids[s]: (t, sorted(n)) for s, (t, n) in event_nodes(db, got).items()}
        # the same graph walked backward afterwards: the serials' lot edges, left out by the forward walk
        # (it reads only their pack and unpack edges), are read then
        item = canonical_id(sgtin("107346", 7))
        back = walk(db, [item], "backward")
        assert lot in back.objects
        assert _shape(back) == _shape(walk(mem, [item], "backward"))
    want_events = {mem.event_ids[s]: (t, sorted(n)) for s, (t, n) in event_nodes(mem, expected).items()}
    assert got_events == want_events


def test_big_lot_recall_matches_brute_force(engine: Engine) -> None:
    events = _network()
    copies = [dict(e) for e in events]
    result = capture_events(engine, copies)
    assert result.success, result.problems
    lot = canonical_id(lgtin("107346", "BIG"))
    facts = reference.facts(copies)
    objects, carriers, expected_events = reference.trace_events(facts, lot, "forward")
    with engine.connect() as conn:
        impact = recall_impact(conn, [lot], SYSTEM)
        forward = trace(conn, lot, "forward", SYSTEM)
    assert {o.id for o in impact.objects if o.relation != "carrier"} == objects
    assert {o.id for o in impact.objects if o.relation == "carrier"} == carriers
    assert {s.event_id for s in forward.steps} == expected_events
    assert impact.event_count == len(expected_events)
    # the maker shipped every serial inside the pallet then
    ship = next(e for e in copies if e.get("bizStep") == "shipping" and e.get("epcList") == [sscc(1)])
    t = reference.micros(ship["eventTime"])
    cases = {c for p, c, s, e in facts.intervals if p == canonical_id(sscc(1)) and s <= t <= e}
    inside = {c for p, c, s, e in facts.intervals if p in cases and s <= t <= e and c in objects}
    by_party = {p.party: p for p in impact.parties}
    assert by_party[canonical_id(pgln(1))].shipped == {"EA": float(len(inside))}
    shipped_on = 0  # the distributor shipped each case with the serials inside it then
    for k in range(SERIALS // PER_CASE):
        case = canonical_id(sscc(10 + k))
        ship_case = next(e for e in copies if e.get("bizStep") == "shipping" and e.get("epcList") == [sscc(10 + k)])
        tc = reference.micros(ship_case["eventTime"])
        shipped_on += len({c for p, c, s, e in facts.intervals if p == case and s <= tc <= e and c in objects})
    assert by_party[canonical_id(pgln(2))].shipped == {"EA": float(shipped_on)}
    dispensed = {canonical_id(e["epcList"][0]) for e in copies if e.get("bizStep") == "dispensing"}
    assert {h.id for h in impact.holders if not h.in_custody} >= dispensed
    assert len(impact.holders) == SERIALS
