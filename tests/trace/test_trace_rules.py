"""Graph rules from single events, and containment intervals (no database)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from trace_networks import event, lgtin, sgtin, sscc

from zhuisu.codes.epc import canonical_id
from zhuisu.epcis.capture import prepare_event
from zhuisu.epcis.index import IndexedEvent
from zhuisu.trace.rules import POS, Edge, containment, edges_of, hub_id, lgtin_of


def _prepared(ev: dict) -> IndexedEvent:
    row = prepare_event(ev, 0, 0, "2026-03-02T00:00:00.000Z")
    assert isinstance(row, IndexedEvent), row
    return row


def test_aggregation_add_links_parent_to_every_child_with_quantities() -> None:
    ev = event(
        "AggregationEvent",
        5,
        action="ADD",
        parentID=sscc(1),
        childEPCs=[sgtin("107346", 1)],
        childQuantityList=[{"epcClass": lgtin("200001", "A"), "quantity": 4, "uom": "KGM"}],
    )
    row = _prepared(ev)
    edges = list(edges_of(7, row))
    parent = canonical_id(sscc(1))
    assert {(e.src, e.dst, e.kind, e.seq, e.time) for e in edges} == {
        (parent, canonical_id(sgtin("107346", 1)), "a", 7, row.event_time),
        (parent, canonical_id(lgtin("200001", "A")), "a", 7, row.event_time),
    }
    assert [e.qty for e in edges if "/10/" in e.dst] == [4.0]


def test_delete_without_children_unpacks_all() -> None:
    row = _prepared(event("AggregationEvent", 5, action="DELETE", parentID=sscc(1)))
    assert [(e.dst, e.kind) for e in edges_of(1, row)] == [("", "d")]


def test_transformation_goes_through_one_hub_per_transformation_id() -> None:
    tid = "urn:uuid:3f4c0d2e-0000-4000-8000-000000000009"
    a = _prepared(
        event(
            "TransformationEvent",
            1,
            transformationID=tid,
            inputQuantityList=[{"epcClass": lgtin("200001", "A"), "quantity": 1}],
        )
    )
    b = _prepared(event("TransformationEvent", 2, transformationID=tid, outputEPCList=[sgtin("107346", 3)]))
    ea, eb = list(edges_of(1, a)), list(edges_of(2, b))
    assert hub_id(a) == hub_id(b)
    assert [(e.src, e.dst) for e in ea] == [(canonical_id(lgtin("200001", "A")), hub_id(a))]
    assert [(e.src, e.dst) for e in eb] == [(hub_id(b), canonical_id(sgtin("107346", 3)))]


def test_commissioning_under_a_lot_makes_serials_members_of_the_lgtin() -> None:
    row = _prepared(
        event("ObjectEvent", 0, action="ADD", epcList=[sgtin("107346", 1)], ilmd={"cbvmda:lotNumber": "L-1/x"})
    )
    (edge,) = list(edges_of(1, row))
    assert edge.kind == "m"
    # the LGTIN the edge names is the one the EPC URN of that class and lot canonicalises to
    assert edge.src == canonical_id("urn:epc:class:lgtin:0614141.107346.L-1%2Fx")
    assert lgtin_of("urn:zhuisu:code:1", "L1") is None


def _mark(parent: str, child: str, kind: str, t: int, seq: int) -> Edge:
    return Edge(parent, child, kind, seq, t)


def test_containment_packing_elsewhere_ends_the_former_interval() -> None:
    marks = [
        _mark("P", "c", "a", 10, 1),
        _mark("P", "c", "a", 15, 2),  # packed again into the same parent: no change
        _mark("Q", "c", "a", 20, 3),
        _mark("Q", "", "d", 30, 4),
        _mark("P", "c", "d", 40, 5),  # not in P any more: ignored
    ]
    got = [(i.parent, i.start, i.end) for i in containment(marks, "c")]
    assert got == [("P", 10, 20), ("Q", 20, 30)]


def test_containment_open_interval_and_capture_order_do_not_matter() -> None:
    marks = [_mark("P", "c", "d", 30, 1), _mark("P", "c", "a", 10, 2), _mark("R", "c", "a", 50, 3)]
    got = [(i.parent, i.start, i.end) for i in containment(marks, "c")]
    assert got == [("P", 10, 30), ("R", 50, POS)]
