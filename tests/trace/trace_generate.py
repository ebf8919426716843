"""Random supply networks for property tests: packing, unpacking, transformation (also spread over events
sharing a transformationID), split and merge of lots, commissioning under a lot, shipping and receiving, and
error declarations — with event times out of capture order."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

GCP = "0614141"
_ids = itertools.count(1)


def network_ids(ns: int) -> dict[str, list[str]]:
    """Identifiers of one generated network; ``ns`` keeps networks of different examples apart."""
    return {
        "serials": [f"urn:epc:id:sgtin:{GCP}.1{ns:05d}.{k}" for k in range(1, 5)],
        "lots": [f"urn:epc:class:lgtin:{GCP}.2{ns:05d}.L{k}" for k in range(1, 4)],
        "containers": [f"urn:epc:id:sscc:{GCP}.{ns * 10 + k:010d}" for k in range(1, 3)],
    }


def _time(minute: int) -> str:
    return f"2026-03-01T{minute // 60:02d}:{minute % 60:02d}:00+08:00"


def networks(ns_source: Callable[[], int], max_events: int = 14) -> st.SearchStrategy[list[dict[str, Any]]]:
    @st.composite
    def build(draw: Any) -> list[dict[str, Any]]:
        ns = ns_source()
        ids = network_ids(ns)
        serials, lots, containers = ids["serials"], ids["lots"], ids["containers"]
        objects = serials + containers
        n = draw(st.integers(1, max_events))
        events: list[dict[str, Any]] = []
        for i in range(n):
            minute = draw(st.integers(0, 40))
            ev: dict[str, Any] = {
                "eventID": f"urn:uuid:00000000-0000-4000-8000-{next(_ids):012d}",
                "eventTime": _time(minute),
                "eventTimeZoneOffset": "+08:00",
                "readPoint": {"id": f"urn:epc:id:sgln:{GCP}.{i:05d}.0"},
            }
            kind = draw(st.sampled_from(["commission", "pack", "pack", "unpack", "transform", "observe", "declare"]))
            if kind == "declare" and events:
                original = draw(st.sampled_from([e for e in events if "errorDeclaration" not in e] or events))
                if "errorDeclaration" in original:
                    continue
                ev = copy.deepcopy(original)
                ev["errorDeclaration"] = {"declarationTime": _time(50), "reason": "incorrect_data"}
            elif kind == "commission":
                ev.update(
                    type="ObjectEvent",
                    action="ADD",
                    bizStep="commissioning",
                    epcList=draw(st.lists(st.sampled_from(serials), min_size=1, max_size=3, unique=True)),
                    ilmd={"cbvmda:lotNumber": draw(st.sampled_from(["L1", "L2"]))},
                )
            elif kind == "pack":
                parent = draw(st.sampled_from(containers))
                children = draw(st.lists(st.sampled_from([o for o in objects if o != parent]), max_size=3, unique=True))
                qty = draw(st.lists(st.sampled_from(lots), max_size=2, unique=True))
                if not children and not qty:
                    children = [serials[0]]
                ev.update(type="AggregationEvent", action="ADD", parentID=parent, bizStep="packing")
                if children:
                    ev["childEPCs"] = children
                if qty:
                    ev["childQuantityList"] = [{"epcClass": c, "quantity": 5, "uom": "KGM"} for c in qty]
            elif kind == "unpack":
                parent = draw(st.sampled_from(containers))
                children = draw(st.lists(st.sampled_from([o for o in objects if o != parent]), max_size=2, unique=True))
                ev.update(type="AggregationEvent", action="DELETE", parentID=parent, bizStep="unpacking")
                if children:
                    ev["childEPCs"] = children
            elif kind == "transform":
                tid = draw(st.sampled_from([None, "T1", "T2"]))
                least = 0 if tid else 1  # without a transformationID an event needs inputs and outputs
                ins = draw(st.lists(st.sampled_from(lots + serials), min_size=least, max_size=2, unique=True))
                outs = draw(st.lists(st.sampled_from(lots + serials), min_size=least, max_size=2, unique=True))
                if not ins and not outs:
                    outs = [lots[0]]
                ev.update(type="TransformationEvent", bizStep="commissioning")
                if tid:
                    ev["transformationID"] = f"urn:uuid:00000000-0000-4000-9000-{ns:08d}{tid[1]:0>4}"
                _put(ev, "inputEPCList", "inputQuantityList", ins)
                _put(ev, "outputEPCList", "outputQuantityList", outs)
            else:
                seen = draw(st.lists(st.sampled_from(objects + lots), min_size=1, max_size=2, unique=True))
                ev.update(
                    type="ObjectEvent", action="OBSERVE", bizStep=draw(st.sampled_from(["shipping", "receiving"]))
                )
                _put(ev, "epcList", "quantityList", seen)
                if not ev.get("epcList"):
                    ev["epcList"] = []
            events.append(ev)
        return events

    return build()


def _put(ev: dict[str, Any], epc_key: str, qty_key: str, items: list[str]) -> None:
    epcs = [i for i in items if ":class:" not in i]
    classes = [i for i in items if ":class:" in i]
    if epcs:
        ev[epc_key] = epcs
    if classes:
        ev[qty_key] = [{"epcClass": c, "quantity": 3, "uom": "KGM"} for c in classes]


class MemGraph:
    """``GraphSource`` over lists, built with the same rules the store applies at capture (``edges_of``)."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        from zhuisu.epcis.capture import prepare_event
        from zhuisu.trace.rules import edges_of

        self.edges: list[Any] = []
        self.touch: list[tuple[str, int, int]] = []
        prepared = []
        for i, ev in enumerate(copy.deepcopy(events)):
            row = prepare_event(ev, i, 0, "2026-03-02T00:00:00.000Z")
            assert not isinstance(row, list), row
            prepared.append((i + 1, row))
        declared = {r.event_id for _s, r in prepared if r.error_declared}
        for seq, row in prepared:
            if row.error_declared or row.event_id in declared:
                continue
            self.edges.extend(edges_of(seq, row))
            self.touch.extend({(i, seq, row.event_time) for _role, i, _q, _u in row.identifiers})
        self.event_ids = {seq: r.event_id for seq, r in prepared}

    def out(self, nodes: Any, kinds: str) -> list[Any]:
        return [e for e in self.edges if e.src in nodes and e.kind in kinds]

    def into(self, nodes: Any, kinds: str) -> list[Any]:
        return [e for e in self.edges if e.dst in nodes and e.kind in kinds]

    def unpack_all(self, parents: Any) -> list[Any]:
        return [e for e in self.edges if e.src in parents and e.kind == "d" and e.dst == ""]

    def touches(self, nodes: Any) -> list[tuple[str, int, int]]:
        return [t for t in self.touch if t[0] in nodes]
