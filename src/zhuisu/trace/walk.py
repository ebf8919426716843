"""Walks over the lineage graph: breadth-first, one batched look-up per frontier level.

The graph is read through a :class:`GraphSource` (the store implements it with SQL, tests with lists), so
the walk rules live here once. Two sets come out of a walk:

- *objects* (identity): what the start object is, came from or became — inputs and outputs of
  transformations, the lot of a serial and the serials of a lot, and the contents of a container it reaches
  as an object in its own right; each with the time *window* in which it is related (forward: from the time
  it was reached, backward: up to it);
- *carriers*: containers an object travelled in, each with the intervals it was inside them, limited to
  the object's window. A carrier's own events in those intervals are the object's events too (the pallet was
  shipped, so the case in it was shipped); a carrier's other contents are not related (siblings stay out).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from zhuisu.trace.rules import HUB_PREFIX, NEG, POS, Edge, Interval, containment

Direction = Literal["backward", "forward", "both"]
Window = tuple[int, int]


class GraphSource(Protocol):
    """Batched read access to lineage edges and to which events touch which node."""

    def out(self, nodes: Collection[str], kinds: str) -> list[Edge]:
        """Edges with ``src`` in ``nodes`` and ``kind`` in ``kinds``."""
        ...

    def into(self, nodes: Collection[str], kinds: str) -> list[Edge]:
        """Edges with ``dst`` in ``nodes`` and ``kind`` in ``kinds``."""
        ...

    def unpack_all(self, parents: Collection[str]) -> list[Edge]:
        """Unpack-everything edges (kind ``d``, ``dst == ""``) of ``parents``."""
        ...

    def touches(self, nodes: Collection[str]) -> list[tuple[str, int, int]]:
        """(node, seq, event time) of every live (not retracted) event naming one of ``nodes``."""
        ...


@dataclass(slots=True)
class Walk:
    """What a walk reached: objects with windows and how they relate, carriers with intervals."""

    start: frozenset[str]
    objects: dict[str, Window] = field(default_factory=dict)
    relation: dict[str, str] = field(default_factory=dict)  # node -> self|input|output|lot|member|content
    carriers: dict[str, list[Window]] = field(default_factory=dict)
    carried: dict[str, list[tuple[str, Window]]] = field(default_factory=dict)  # node -> (its container, when)
    edges: list[Edge] = field(default_factory=list)  # the edges the walk followed

    def merge(self, other: Walk) -> None:
        for node, (lo, hi) in other.objects.items():
            if node in self.objects:
                a, b = self.objects[node]
                self.objects[node] = (min(a, lo), max(b, hi))
            else:
                self.objects[node] = (lo, hi)
                self.relation[node] = other.relation[node]
        for node, ws in other.carriers.items():
            for w in ws:
                _add_window(self.carriers.setdefault(node, []), w)
        for node, cs in other.carried.items():
            mine = self.carried.setdefault(node, [])
            mine.extend(c for c in cs if c not in mine)
        self.edges.extend(other.edges)


def _add_window(windows: list[Window], w: Window) -> bool:
    """Add ``w`` unless an existing window covers it; True when added."""
    if any(a <= w[0] and w[1] <= b for a, b in windows):
        return False
    windows.append(w)
    return True


def intervals_of(source: GraphSource, children: Collection[str]) -> dict[str, list[Interval]]:
    """Containment intervals of every node in ``children`` (three batched look-ups)."""
    if not children:
        return {}
    marks = source.into(children, "ad")
    parents = {m.src for m in marks}
    alls = source.unpack_all(parents) if parents else []
    by_child: dict[str, list[Edge]] = {}
    for m in marks:
        ms = by_child.get(m[1])  # dst
        if ms is None:
            by_child[m[1]] = [m]
        else:
            ms.append(m)
    by_parent: dict[str, list[Edge]] = {}
    for m in alls:
        by_parent.setdefault(m.src, []).append(m)
    out: dict[str, list[Interval]] = {}
    for child, ms in by_child.items():
        if len(ms) == 1 and ms[0].kind == "a":  # packed once: inside until its container is next unpacked whole
            a = ms[0]
            end = POS
            for d in by_parent.get(a.src, ()):
                if (d.time > a.time or (d.time == a.time and d.seq > a.seq)) and d.time < end:
                    end = d.time
            out[child] = [Interval(a.src, a.time, end)]
            continue
        extra = [a for p in {m.src for m in ms} for a in by_parent.get(p, ())]
        out[child] = containment([*ms, *extra], child)
    return out


def _note(w: Walk, child: str, parent: str, window: Window) -> None:
    mine = w.carried.get(child)
    if mine is None:
        w.carried[child] = [(parent, window)]
    elif (parent, window) not in mine:
        mine.append((parent, window))


def _overlap(a: Window, b: Window) -> Window | None:
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def walk(source: GraphSource, start: Iterable[str], direction: Direction, *, limit: int = 2_000_000) -> Walk:
    """Walk from ``start`` nodes; ``both`` is the union of a backward and a forward walk."""
    nodes = frozenset(start)
    if direction == "both":
        result = _walk(source, nodes, forward=False, limit=limit)
        result.merge(_walk(source, nodes, forward=True, limit=limit))
        return result
    return _walk(source, nodes, forward=direction == "forward", limit=limit)


def _walk(source: GraphSource, start: frozenset[str], *, forward: bool, limit: int) -> Walk:
    w = Walk(start=start)
    for n in start:
        w.objects[n] = (NEG, POS)
        w.relation[n] = "self"
    # time of reaching: forward keeps the earliest (window start), backward the latest (window end)
    frontier = set(start)
    carrier_queue: list[tuple[str, Window]] = []

    def reach(node: str, t: int, relation: str, edge: Edge | None) -> None:
        old = w.objects.get(node)
        new = (t, POS) if forward else (NEG, t)
        if old is not None:
            better = new[0] < old[0] if forward else new[1] > old[1]
            if not better:
                return
            new = (min(old[0], new[0]), max(old[1], new[1]))
        else:
            w.relation[node] = relation
        w.objects[node] = new
        if edge is not None:
            w.edges.append(edge)
        frontier.add(node)

    while frontier and len(w.objects) < limit:
        level = frontier.copy()
        frontier.clear()
        # transformations and lot membership
        for e in source.out(level, "xm") if forward else source.into(level, "xm"):
            there = e.dst if forward else e.src
            rel = ("output" if forward else "input") if e.kind == "x" else ("member" if forward else "lot")
            reach(there, e.time, rel, e)
        plain = [n for n in level if not n.startswith(HUB_PREFIX)]
        # contents of containers reached as objects
        packed = source.out(plain, "a")
        if packed:
            kids = {e.dst for e in packed}
            for child, ivs in intervals_of(source, kids).items():
                for iv in ivs:
                    if iv.parent not in level:
                        continue
                    ov = _overlap((iv.start, iv.end), w.objects[iv.parent])
                    if ov is not None:
                        reach(child, ov[0] if forward else ov[1], "content", None)
        # carriers the objects travelled in, within each object's window
        objects, carriers, carried = w.objects, w.carriers, w.carried
        for child, ivs in intervals_of(source, plain).items():
            clo, chi = objects[child]
            for parent, begin, end in ivs:
                lo = begin if begin > clo else clo
                hi = end if end < chi else chi
                if lo <= hi:
                    span = (lo, hi)
                    mine = carried.get(child)
                    if mine is None:
                        carried[child] = [(parent, span)]
                    elif (parent, span) not in mine:
                        mine.append((parent, span))
                    wins = carriers.get(parent)
                    if wins is None:
                        carriers[parent] = [span]
                        carrier_queue.append((parent, span))
                    elif _add_window(wins, span):
                        carrier_queue.append((parent, span))
        while carrier_queue:
            batch, carrier_queue = carrier_queue, []
            wanted: dict[str, list[Window]] = {}
            for node, win in batch:
                wanted.setdefault(node, []).append(win)
            for child, ivs in intervals_of(source, wanted).items():
                for iv in ivs:
                    for win in wanted[child]:
                        ov = _overlap((iv.start, iv.end), win)
                        if ov is not None:
                            _note(w, child, iv.parent, ov)
                            if _add_window(w.carriers.setdefault(iv.parent, []), ov):
                                carrier_queue.append((iv.parent, ov))
    return w


def event_windows(source: GraphSource, w: Walk) -> dict[int, int]:
    """seq → event time of every live event of the walk: on objects within their window, on carriers
    within their intervals (hub nodes have no events of their own)."""
    return {seq: t for seq, (t, _nodes) in event_nodes(source, w).items()}


def event_nodes(source: GraphSource, w: Walk) -> dict[int, tuple[int, set[str]]]:
    """seq → (event time, the walk's nodes it names within their windows)."""
    wanted = [n for n in w.objects if not n.startswith(HUB_PREFIX)] + [n for n in w.carriers if n not in w.objects]
    out: dict[int, tuple[int, set[str]]] = {}
    if not wanted:
        return out
    objects = w.objects
    carriers = w.carriers
    for node, seq, t in source.touches(set(wanted)):
        win = objects.get(node)
        if (win is not None and win[0] <= t <= win[1]) or (
            node in carriers and any(lo <= t <= hi for lo, hi in carriers[node])
        ):
            entry = out.get(seq)
            if entry is None:
                out[seq] = (t, {node})
            else:
                entry[1].add(node)
    return out
