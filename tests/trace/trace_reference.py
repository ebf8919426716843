"""Brute-force trace reference, computed directly from raw EPCIS events (no lineage tables, no walk code).

It replays every aggregation event in (time, capture order) to get containment intervals, groups
transformation events by transformationID, reads lot membership from commissioning ILMD, then grows the
answer to a fixed point by scanning all facts again and again. The rules it implements are the ones
``zhuisu.trace.walk`` documents (objects with windows; carriers with intervals; events within them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from zhuisu.codes.epc import canonical_id

NEG = -(2**62)
POS = 2**62
LOT = "cbvmda:lotNumber"


def micros(ts: str) -> int:
    dt = datetime.fromisoformat(ts)
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


@dataclass
class Facts:
    events: list[tuple[int, dict[str, Any]]]  # (capture position, event) of live events
    intervals: list[tuple[str, str, int, int]]  # parent, child, start, end
    groups: dict[str, tuple[list[tuple[str, int]], list[tuple[str, int]]]]  # inputs, outputs with times
    members: list[tuple[str, str, int]]  # lot, serial, time


def _ids(ev: dict[str, Any], *keys: str) -> list[str]:
    out: list[str] = []
    for key in keys:
        for item in ev.get(key) or ():
            out.append(canonical_id(item["epcClass"] if isinstance(item, dict) else item))
    return out


def facts(captured: list[dict[str, Any]]) -> Facts:
    """Facts of the events as captured (in this order); error-declared events and duplicates removed."""
    declared = {ev["eventID"] for ev in captured if "errorDeclaration" in ev}
    live = [(i, ev) for i, ev in enumerate(captured) if "errorDeclaration" not in ev and ev["eventID"] not in declared]
    order = sorted(live, key=lambda p: (micros(p[1]["eventTime"]), p[0]))
    current: dict[str, tuple[str, int]] = {}
    intervals: list[tuple[str, str, int, int]] = []
    for _i, ev in order:
        if ev["type"] != "AggregationEvent" or ev.get("action") not in ("ADD", "DELETE") or not ev.get("parentID"):
            continue
        t = micros(ev["eventTime"])
        parent = canonical_id(ev["parentID"])
        children = _ids(ev, "childEPCs", "childQuantityList")
        if ev["action"] == "ADD":
            for c in children:
                if c in current and current[c][0] == parent:
                    continue
                if c in current:
                    intervals.append((current[c][0], c, current[c][1], t))
                current[c] = (parent, t)
        else:
            if not children:
                children = [c for c, (p, _s) in current.items() if p == parent]
            for c in children:
                if c in current and current[c][0] == parent:
                    intervals.append((parent, c, current[c][1], t))
                    del current[c]
    intervals.extend((p, c, s, POS) for c, (p, s) in current.items())
    groups: dict[str, tuple[list[tuple[str, int]], list[tuple[str, int]]]] = {}
    members: list[tuple[str, str, int]] = []
    for _i, ev in live:
        t = micros(ev["eventTime"])
        if ev["type"] == "TransformationEvent":
            g = groups.setdefault(ev.get("transformationID") or ev["eventID"], ([], []))
            g[0].extend((x, t) for x in _ids(ev, "inputEPCList", "inputQuantityList"))
            g[1].extend((x, t) for x in _ids(ev, "outputEPCList", "outputQuantityList"))
        lot = (ev.get("ilmd") or {}).get(LOT)
        if lot and ev.get("action") != "DELETE":
            serials = _ids(ev, "outputEPCList" if ev["type"] == "TransformationEvent" else "epcList")
            for s in serials:
                if "/21/" in s:
                    gtin = s.split("/")[4]
                    members.append((canonical_id(f"https://id.gs1.org/01/{gtin}/10/{quote(lot, safe='')}"), s, t))
    return Facts(live, intervals, groups, members)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def walk(f: Facts, start: str, forward: bool) -> tuple[dict[str, tuple[int, int]], dict[str, set[tuple[int, int]]]]:
    objs: dict[str, tuple[int, int]] = {start: (NEG, POS)}
    carriers: dict[str, set[tuple[int, int]]] = {}

    def reach(node: str, t: int) -> bool:
        new = (t, POS) if forward else (NEG, t)
        old = objs.get(node)
        if old is None:
            objs[node] = new
            return True
        merged = (min(old[0], new[0]), max(old[1], new[1]))
        if merged != old:
            objs[node] = merged
            return True
        return False

    changed = True
    while changed:
        changed = False
        for inputs, outputs in f.groups.values():
            src, dst = (inputs, outputs) if forward else (outputs, inputs)
            if any(x in objs for x, _t in src):
                for x, t in dst:
                    changed |= reach(x, t)
        for lot, serial, t in f.members:
            a, b = (lot, serial) if forward else (serial, lot)
            if a in objs:
                changed |= reach(b, t)
        for p, c, s, e in f.intervals:
            if p in objs:
                ov = _overlap((s, e), objs[p])
                if ov:
                    changed |= reach(c, ov[0] if forward else ov[1])
            wins = ([objs[c]] if c in objs else []) + sorted(carriers.get(c, ()))
            for win in wins:
                ov = _overlap((s, e), win)
                if ov and ov not in carriers.setdefault(p, set()):
                    carriers[p].add(ov)
                    changed = True
    return objs, carriers


def trace_events(f: Facts, start: str, direction: str) -> tuple[set[str], set[str], set[str]]:
    """(objects, carriers, eventIDs) of a trace; objects include the start, exclude transformation hubs."""
    objects: set[str] = set()
    carrier_nodes: set[str] = set()
    event_ids: set[str] = set()
    for forward in [False, True] if direction == "both" else [direction == "forward"]:
        objs, carriers = walk(f, start, forward)
        objects |= set(objs)
        carrier_nodes |= set(carriers)
        for _i, ev in f.events:
            t = micros(ev["eventTime"])
            names = _ids(
                ev,
                "epcList",
                "childEPCs",
                "inputEPCList",
                "outputEPCList",
                "quantityList",
                "childQuantityList",
                "inputQuantityList",
                "outputQuantityList",
            )
            if ev.get("parentID"):
                names.append(canonical_id(ev["parentID"]))
            for n in names:
                win = objs.get(n)
                if (win and win[0] <= t <= win[1]) or any(lo <= t <= hi for lo, hi in carriers.get(n, ())):
                    event_ids.add(ev["eventID"])
                    break
    return objects, carrier_nodes - objects, event_ids
