"""Graph rules: which lineage facts an event implies (pure Python, no database).

Nodes are canonical identifiers (``zhuisu.codes.epc.canonical_id``): serial EPCs, classes and lots (LGTIN
``https://id.gs1.org/01/<gtin>/10/<lot>``), SSCCs and other parent IDs, plus one internal *hub* node per
transformation (``urn:zhuisu:xform:<transformationID or eventID>``), so that a transformation spread over
several events sharing a transformationID links all its inputs to all its outputs without quadratic edges.

Edge kinds (``src`` is always upstream / the container):

- ``x`` transformation: input → hub at the event time, hub → output at the event time;
- ``m`` lot membership: LGTIN → serial of the same GTIN, from an event whose ILMD names ``lotNumber``
  (commissioning under a lot: 一物一码 serials tied to their 一批一码 lot);
- ``a`` pack: parent → child (AggregationEvent ADD; children from childEPCs and childQuantityList);
- ``d`` unpack: parent → child (AggregationEvent DELETE); ``dst`` ``""`` when the event names no child,
  which unpacks every child the parent holds.

Aggregation is time-aware: :func:`containment` turns pack/unpack marks into intervals (a child is in one
container at a time; packing it into another container takes it out of the former). Error declarations
retract the facts of the event they correct (see ``zhuisu.store.lineage.record``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote

from zhuisu.codes.epc import canonical_id
from zhuisu.epcis.index import IndexedEvent

NEG = -(2**62)  # before any time
POS = 2**62  # after any time
HUB_PREFIX = "urn:zhuisu:xform:"
LOT_FIELD = "urn:epcglobal:cbv:mda:lotNumber"
_SGTIN = "https://id.gs1.org/01/"


class Edge(NamedTuple):
    """One lineage fact: ``src`` → ``dst`` of ``kind`` from event ``seq`` at ``time`` (µs, UTC)."""

    src: str
    dst: str
    kind: str
    seq: int
    time: int
    qty: float | None = None
    uom: str | None = None


class Interval(NamedTuple):
    """A child inside ``parent`` from ``start`` to ``end`` (closed; ``POS`` while still inside)."""

    parent: str
    start: int
    end: int


def hub_id(event: IndexedEvent) -> str:
    return HUB_PREFIX + (event.transformation_id or event.event_id)


def is_hub(node: str) -> bool:
    return node.startswith(HUB_PREFIX)


def lgtin_of(serial: str, lot: str) -> str | None:
    """The LGTIN (class + lot) of an SGTIN ``https://id.gs1.org/01/<gtin>/21/<serial>`` and a lot number."""
    if not serial.startswith(_SGTIN) or "/21/" not in serial:
        return None
    return _lgtin(serial[len(_SGTIN) : len(_SGTIN) + 14], lot)


@lru_cache(maxsize=4096)
def _lgtin(gtin: str, lot: str) -> str | None:
    try:
        return canonical_id(f"{_SGTIN}{gtin}/10/{quote(lot, safe='')}")
    except ValueError:
        return None


def edges_of(seq: int, event: IndexedEvent) -> Iterator[Edge]:
    """The lineage edges one (not error-declared) event implies."""
    t = event.event_time
    kind = event.event_type
    if kind == "AggregationEvent" and event.action in ("ADD", "DELETE"):
        parents = [i for role, i, _q, _u in event.identifiers if role == "parent"]
        if not parents:
            return
        parent = parents[0]
        mark = "a" if event.action == "ADD" else "d"
        children = [(i, q, u) for role, i, q, u in event.identifiers if role in ("epc", "class")]
        if not children and mark == "d":
            yield Edge(parent, "", "d", seq, t)
        for child, q, u in children:
            yield Edge(parent, child, mark, seq, t, q, u)
        return
    if kind == "TransformationEvent":
        hub = hub_id(event)
        for role, i, q, u in event.identifiers:
            if role in ("input", "inclass"):
                yield Edge(i, hub, "x", seq, t, q, u)
            elif role in ("output", "outclass"):
                yield Edge(hub, i, "x", seq, t, q, u)
    if event.action != "DELETE":
        lots = [text for scope, name, text, _n, _t in event.fields if scope == "ilmd" and name == LOT_FIELD and text]
        if lots:
            roles = ("output",) if kind == "TransformationEvent" else ("epc",)
            for role, i, _q, _u in event.identifiers:
                if role in roles:
                    lot = lgtin_of(i, lots[0])
                    if lot:
                        yield Edge(lot, i, "m", seq, t, 1.0, None)


def containment(marks: Iterable[Edge], child: str) -> list[Interval]:
    """The intervals during which ``child`` was inside a container.

    ``marks`` are the pack/unpack edges naming ``child`` plus the unpack-all edges (``dst == ""``) of its
    containers; they are replayed in (time, seq) order. Packing into another container ends the former
    interval; packing again into the same container changes nothing; unpacking ends it.
    """
    relevant = sorted(
        (m for m in marks if m.kind in ("a", "d") and (m.dst == child or (m.dst == "" and m.kind == "d"))),
        key=lambda m: (m.time, m.seq, m.kind != "d"),
    )
    out: list[Interval] = []
    cur: str | None = None
    start = NEG
    for m in relevant:
        if m.kind == "a":
            if cur == m.src:
                continue
            if cur is not None:
                out.append(Interval(cur, start, m.time))
            cur, start = m.src, m.time
        elif cur == m.src:
            out.append(Interval(cur, start, m.time))
            cur = None
    if cur is not None:
        out.append(Interval(cur, start, POS))
    return out
