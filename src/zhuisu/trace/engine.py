"""Trace, chain synthesis and recall impact: walks over the lineage graph turned into answers.

Access (every answer, see :func:`_steps_for`): the public (``principal.is_public``) sees every live step of
the walk, each in the *public view*; enterprises, clients and regulators see the steps
``zhuisu.store.access.visible_seqs`` allows — in full those ``owned_seqs`` allows (their own events, regulators
within their jurisdiction), a trading partner's step in the public view; administrators see everything.
Hidden steps are counted, never shown. The public view (:func:`public_view`) of a step has no

- quantities (of objects, inputs and outputs),
- business transactions (documents such as purchase orders and despatch advices, which carry prices),
- trading partners: sources, destinations and parties other than those who recorded the step or own the
  place it happened at (a shipment names its sender, a receipt its receiver — never a party's customers),
- ILMD fields whose name mentions a price or cost;

and holders (where things are now) show no party to the public, only the location.
Party and location names, certifications, sensor readings (temperatures) and the lot's ILMD stay visible.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from sqlalchemy import Connection

from zhuisu.access.principal import PUBLIC, Principal
from zhuisu.codes.epc import canonical_id
from zhuisu.epcis.index import canonical_link_type
from zhuisu.store import access as access_store
from zhuisu.store import lineage as store
from zhuisu.trace.model import (
    Chain,
    Handoff,
    Holder,
    PartyImpact,
    Place,
    Quantity,
    RecallImpact,
    Related,
    Step,
    TraceResult,
)
from zhuisu.trace.rules import is_hub
from zhuisu.trace.walk import Direction, Walk, event_nodes, walk

DIRECTIONS: tuple[Direction, ...] = ("backward", "forward", "both")
PARTY_TYPES = ("owning_party", "possessing_party")
SHIP_STEPS = frozenset({"shipping", "departing"})
RECEIVE_STEPS = frozenset({"receiving", "accepting", "arriving"})
SELL_STEPS = frozenset({"retail_selling", "dispensing", "consuming"})
GONE_DISPOSITIONS = frozenset({"retail_sold", "dispensed", "destroyed", "disposed", "consumed", "in_transit", "stolen"})
ORIGIN_STEPS = frozenset({"commissioning", "creating_class_instance"})
_PRICE_WORDS = ("price", "cost", "价格", "价")


_gc_lock = threading.Lock()
_gc_state = {"holders": 0, "restore": False}


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """No cyclic garbage collection while an answer is built: a big walk makes hundreds of thousands of
    small objects, and the collector's passes over them cost a third of a recall's time. Reference counting
    still frees them; the collector is switched back on (if it was on) when the last concurrent answer is
    done."""
    with _gc_lock:
        if _gc_state["holders"] == 0:
            _gc_state["restore"] = gc.isenabled()
            gc.disable()
        _gc_state["holders"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["holders"] -= 1
            if _gc_state["holders"] == 0 and _gc_state["restore"]:
                gc.enable()


def canonical(identifier: str) -> str:
    """The node id of an identifier in any spelling (EPC URN, Digital Link, platform code)."""
    text = identifier.strip()
    try:
        return canonical_id(text)
    except ValueError:
        return text


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSETS: dict[str | None, timezone] = {}


def _offset(tz: str | None) -> timezone:
    offset = _OFFSETS.get(tz)
    if offset is None:
        offset = UTC
        if tz and len(tz) == 6 and tz[0] in "+-":
            sign = 1 if tz[0] == "+" else -1
            offset = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
        if len(_OFFSETS) < 1000:
            _OFFSETS[tz] = offset
    return offset


def _iso(micros: int, tz: str | None) -> str:
    return (_EPOCH + timedelta(microseconds=micros)).astimezone(_offset(tz)).isoformat()


def _qty(items: Iterable[Mapping[str, Any]] | None) -> list[Quantity]:
    out = []
    for q in items or ():
        cls = q.get("epcClass")
        if cls:
            amount = q.get("quantity")
            out.append(Quantity(canonical(cls), float(amount) if amount is not None else None, q.get("uom")))
    return out


def _epcs(items: Iterable[str] | None, memo: dict[str, str] | None = None) -> list[Quantity]:
    """Objects named by EPC; ``memo`` keeps the canonical form of EPCs met before (events repeat them)."""
    if not items:
        return []
    if memo is None:
        return [Quantity(canonical(e)) for e in items]
    out = []
    for e in items:
        c = memo.get(e)
        if c is None:
            c = memo[e] = canonical(e)
        out.append(Quantity(c))
    return out


def _sensors(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for element in body.get("sensorElementList") or ():
        meta = element.get("sensorMetadata") or {}
        for report in element.get("sensorReport") or ():
            reading = {k: v for k, v in report.items() if not k.startswith("@")}
            if "time" not in reading and meta.get("time"):
                reading["time"] = meta["time"]
            out.append(reading)
    return out


def _place(ident: str | None, places: Mapping[str, Mapping[str, str | None]], typ: str = "") -> Place | None:
    if not ident:
        return None
    info = places.get(ident, {})
    return Place(ident, typ, info.get("name"), info.get("party_code"), info.get("region"))


def build_steps(
    conn: Connection,
    rows: list[dict[str, Any]],
    walk_nodes: Mapping[int, set[str]] | None = None,
    walk_objects: Collection[str] = (),
    *,
    lean: bool = False,
) -> list[Step]:
    """Steps (full detail) of stored event rows, in the rows' order.

    ``lean`` (a recall's steps, never shown): what a recall reads only — no certifications, sensor readings
    or ILMD, and the objects, inputs and outputs only of steps that move quantities (see :func:`_role`)."""
    seqs = [r["seq"] for r in rows]
    bodies = {r["seq"]: orjson.loads(r["body"]) for r in rows}
    links = {seq: links_of(body) for seq, body in bodies.items()}
    owners = {
        seq: [p for p, rel in ps.items() if rel == "owner"] for seq, ps in store.event_parties(conn, seqs).items()
    }
    codes: set[str] = set()
    for r in rows:
        codes.update(x for x in (r["read_point"], r["biz_location"]) if x)
    for ls in links.values():
        codes.update(v for k, _t, v in ls if k != "bizTransaction")
    places = store.registry_places(conn, codes)
    memo: dict[str, str] = {}
    place_of: dict[tuple[str, str], Place | None] = {}  # places are shared between steps (never changed)

    def place(ident: str | None, typ: str = "") -> Place | None:
        if not ident:
            return None
        key = (ident, typ)
        if key not in place_of:
            place_of[key] = _place(ident, places, typ)
        return place_of[key]

    no_nodes: set[str] = set()
    steps: list[Step] = []
    for r in rows:
        seq = r["seq"]
        body = bodies[seq]
        ls = links.get(seq) or []
        own = owners.get(seq, [])
        if ls:
            sources = [p for k, t, v in ls if k == "source" and (p := place(v, t))]
            dests = [p for k, t, v in ls if k == "destination" and (p := place(v, t))]
            parties = list(
                dict.fromkeys([*own, *(p.party_code or p.id for p in sources + dests if p.type in PARTY_TYPES)])
            )
            documents = [{"type": t, "id": v} for k, t, v in ls if k == "bizTransaction"]
        else:
            sources, dests, documents = [], [], []
            parties = list(dict.fromkeys(own))
        loc = place(r["biz_location"])
        if loc and loc.party_code and loc.party_code not in parties:
            parties.append(loc.party_code)
        parent = body.get("parentID")
        step = Step(
            owners=own,
            event_id=r["event_id"],
            seq=seq,
            event_type=r["event_type"],
            time=_iso(r["event_time"], r["event_tz"]),
            time_micros=r["event_time"],
            biz_step=r["biz_step"],
            disposition=r["disposition"],
            action=r["action"],
            read_point=place(r["read_point"]),
            biz_location=loc,
            parties=parties,
            parent=canonical(parent) if parent else None,
            sources=sources,
            destinations=dests,
            biz_transactions=documents,
        )
        if lean and _role_of(r["event_type"], r["biz_step"], r["disposition"]) is None:
            steps.append(step)  # a lean step with no role: its objects are not read
            continue
        step.objects = _epcs(body.get("epcList"), memo)
        if "childEPCs" in body:
            step.objects += _epcs(body["childEPCs"], memo)
        if "quantityList" in body or "childQuantityList" in body:
            step.objects += _qty(body.get("quantityList")) + _qty(body.get("childQuantityList"))
        transformation = "inputEPCList" in body or "inputQuantityList" in body or "outputEPCList" in body
        if transformation:
            step.inputs = _epcs(body.get("inputEPCList"), memo) + _qty(body.get("inputQuantityList"))
        if transformation or "outputQuantityList" in body:
            step.outputs = _epcs(body.get("outputEPCList"), memo) + _qty(body.get("outputQuantityList"))
        if not lean:
            step.certifications = list(_as_list(body.get("certificationInfo")))
            step.sensors = _sensors(body) if "sensorElementList" in body else []
            step.ilmd = dict(body.get("ilmd") or {})
        if walk_nodes is not None:  # a step on a container only: say which
            nodes = walk_nodes.get(seq, no_nodes)
            if nodes and not any(n in walk_objects for n in nodes):
                step.via = sorted(nodes)[0]
        steps.append(step)
    return steps


_LINK_KEYS = (
    ("bizTransactionList", "bizTransaction", "bizTransaction"),
    ("sourceList", "source", "source"),
    ("destinationList", "destination", "destination"),
)


def links_of(body: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, type, canonical value) of an event's business transactions, sources and destinations, as the
    store indexes them (read from the body: ``event_link`` has no index by event)."""
    out: list[tuple[str, str, str]] = []
    for key, kind, value_key in _LINK_KEYS:
        for link in body.get(key) or ():
            value = link.get(value_key)
            if not value:
                continue
            typ = link.get("type") or ""
            with contextlib.suppress(ValueError):
                typ = canonical_link_type(kind, typ) if typ else ""
            out.append((kind, typ, canonical(value)))
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def public_view(step: Step) -> Step:
    """The step as the public trace page may show it (see the module docstring)."""
    for q in step.objects + step.inputs + step.outputs:
        q.quantity = None
        q.uom = None
    step.biz_transactions = []
    # Who a step's party trades with is its secret: only the parties who recorded the step or own the place it
    # happened at are named (a shipment names its sender, a receipt its receiver; the chain still shows each).
    keep = set(step.owners) | _loc_parties(step)
    if not keep:  # recorded for no registered party at no registered place: the sender, at most
        sender = next((x.party_code or x.id for x in step.sources if x.type in PARTY_TYPES), None)
        keep = {sender} if sender else set()
    step.sources = [x for x in step.sources if (x.party_code or x.id) in keep]
    step.destinations = [x for x in step.destinations if (x.party_code or x.id) in keep]
    step.parties = [p for p in step.parties if p in keep]
    step.ilmd = {k: v for k, v in step.ilmd.items() if not any(w in k.lower() for w in _PRICE_WORDS)}
    return step


def _loc_parties(step: Step) -> set[str]:
    return {p.party_code for p in (step.biz_location, step.read_point) if p and p.party_code}


def _steps_for(
    conn: Connection,
    principal: Principal,
    nodes: Mapping[int, tuple[int, set[str]]],
    objects: Collection[str],
    *,
    lean: bool = False,
) -> tuple[list[Step], int]:
    """The steps of ``nodes`` that ``principal`` may see, each in the view it may see, and how many are hidden.

    The public sees every live step in the public view (the public trace page is its view of the chain);
    others see the steps ``visible_seqs`` allows, in full where ``owned_seqs`` allows (their own events;
    regulators in jurisdiction), else in the public view (a trading partner's step).
    """
    seqs = list(nodes)
    visible, whole = _access(conn, principal, seqs)
    rows = store.events(conn, visible)
    if lean:
        steps = build_steps(conn, rows, lean=True)
    else:
        steps = build_steps(conn, rows, {s: n for s, (_t, n) in nodes.items()}, objects)
    steps = [s if s.seq in whole else public_view(s) for s in steps]
    return steps, len(seqs) - len(visible)


def _handoffs(
    conn: Connection, principal: Principal, steps: list[Step], walk_objects: Collection[str]
) -> tuple[list[Step], list[Handoff], int]:
    """Custody hand-offs: each shipping step matched with the receiving that took it over — by a business
    transaction they share (a despatch advice, an order) or, failing that, by object (the receiving names an
    object the shipping named, later, at the shipping's destination party when both name one).

    Receiving steps found only through a shared business transaction (they may name the goods at another
    level, e.g. by class) join the answer. Returns those extra steps, the hand-offs and how many hidden.
    """
    ships = [s for s in steps if s.biz_step in SHIP_STEPS]
    if not ships:
        return [], [], 0
    known = {s.seq for s in steps}
    if principal.is_public:  # the public view has no documents: match by the stored ones all the same
        docs_of = store.biz_transactions(conn, [s.seq for s in steps if s.biz_step in SHIP_STEPS | RECEIVE_STEPS])
    else:
        docs_of = {s.seq: [(d["type"], d["id"]) for d in s.biz_transactions] for s in steps}
    pairs = {p for s in ships for p in docs_of.get(s.seq, ())}
    linked = store.events_by_biz_transaction(conn, pairs) if pairs else {}
    extra_seqs = {seq for seqs in linked.values() for seq in seqs} - known
    extra: list[Step] = []
    hidden = 0
    if extra_seqs:
        rows = [r for r in store.events(conn, extra_seqs) if r["biz_step"] in RECEIVE_STEPS]
        seen, whole = _access(conn, principal, [r["seq"] for r in rows])
        hidden = len(rows) - len(seen)
        extra = build_steps(conn, [r for r in rows if r["seq"] in seen])
        for s in extra:
            docs_of[s.seq] = [(d["type"], d["id"]) for d in s.biz_transactions]
            s.via = "bizTransaction"
        extra = [s if s.seq in whole else public_view(s) for s in extra]
    receivers = [s for s in [*steps, *extra] if s.biz_step in RECEIVE_STEPS]
    stored_docs = docs_of
    out: list[Handoff] = []
    for ship in ships:
        docs = set(stored_docs.get(ship.seq, ()))
        objs = {q.id for q in ship.objects}
        to = {d.party_code or d.id for d in ship.destinations if d.type in PARTY_TYPES}
        match: tuple[Step, str] | None = None
        for rec in receivers:
            if rec.time_micros < ship.time_micros:
                continue
            if docs & set(stored_docs.get(rec.seq, ())):
                match = (rec, "bizTransaction")
                break
            got = {q.id for q in rec.objects}
            at = {d.party_code or d.id for d in rec.destinations if d.type in PARTY_TYPES} or set(_owners(rec))
            if (
                objs & got
                and (not to or not at or to & at)
                and (match is None or rec.time_micros < match[0].time_micros)
            ):
                match = (rec, "object")
        if match:
            rec, how = match
            out.append(
                Handoff(
                    ship.event_id,
                    rec.event_id,
                    _party_of(ship, "ship"),
                    _party_of(rec, "receive"),
                    how,
                    ship.time,
                    rec.time,
                )
            )
    return extra, out, hidden


def _access(conn: Connection, principal: Principal, seqs: list[int]) -> tuple[set[int], set[int]]:
    """(visible, seen whole) among ``seqs`` for ``principal`` (see :func:`_steps_for`)."""
    if principal.is_public:
        return set(seqs), set()
    visible = set(access_store.visible_seqs(conn, principal, seqs)) & set(seqs)
    whole = visible if principal.is_admin else set(access_store.owned_seqs(conn, principal, visible))
    return visible, whole


Replayed = tuple[dict[str, Step], dict[str, list[str]], list[tuple[Step, set[str], set[str], list[str]]]]


def _replay(w: Walk, steps: list[Step], nodes: Mapping[int, tuple[int, set[str]]]) -> Replayed:
    """Replay the steps in time order. Per object: its latest step (on itself or on a container holding it
    then) and who holds it (see :func:`_custodians`); per step: the walk's nodes it names, the objects it
    reached and — for a step that moves quantities in a recall (:func:`_role`) and names no party of its
    own — who held them just before.

    Work is per step and per set (custody and latest step are updated for all the objects a step reached
    at once), so a pallet's step costs a few set operations, not one Python statement per case inside."""
    latest: dict[str, Step] = {}
    custody: dict[str, list[str]] = {}
    held: set[str] = set()  # objects whose custody is known (not empty)
    per_step: list[tuple[Step, set[str], set[str], list[str]]] = []
    objects = w.objects.keys()
    flat = _INSIDE.get(id(w))
    if flat is None:
        flat = _INSIDE[id(w)] = _flatten(w)
    for step in steps:
        entry = nodes.get(step.seq)
        if entry is None:
            continue
        t, named = entry
        reached: set[str] = named & objects
        for node in named & flat.keys():
            reached.update(_carried_at(w, node, t))
        explicit = _explicit(step)
        fallback = _location_party(step)
        # who held them before: only asked for when the step names no party of its own (see _party_of)
        anonymous = not explicit and not fallback and not [s for s in step.sources if s.type in PARTY_TYPES]
        before: list[str] = []
        if anonymous and held and _role(step) is not None:  # only a counted step's party may need them
            lists = {id(c): c for c in map(custody.__getitem__, reached & held)}
            before = list(dict.fromkeys(p for c in lists.values() for p in c))
        # custody: the step's own parties, else whoever held it before, else the location's party
        if explicit:
            custody.update(dict.fromkeys(reached, explicit))
            held |= reached
        else:
            fresh = reached - held
            custody.update(dict.fromkeys(fresh, fallback))
            if fallback:
                held |= fresh
        latest.update(dict.fromkeys(reached, step))
        per_step.append((step, named, reached, before))
    return latest, custody, per_step


def _holder(
    obj: str, step: Step, custodians: list[str], memo: dict[tuple[int, bool], tuple[Place | None, bool]] | None = None
) -> Holder:
    """Where ``step`` left ``obj``; ``memo`` keeps the answer per step and level (a pallet's step leaves
    thousands of serials at once)."""
    lot_level = _is_class(obj)
    known = memo.get((id(step), lot_level)) if memo is not None else None
    if known is None:
        gone = step.disposition in GONE_DISPOSITIONS or (step.biz_step in SELL_STEPS and not lot_level)
        if lot_level and step.disposition not in ("destroyed", "disposed", "in_transit"):
            gone = False  # a lot is sold or shipped in parts: the rest stays (quantities per party tell)
        where = step.biz_location or step.read_point
        if step.disposition == "in_transit" or step.biz_step in SHIP_STEPS:
            dest = [d for d in step.destinations if d.type == "location"]
            where = dest[0] if dest else where
        known = (where, not gone)
        if memo is not None:
            memo[(id(step), lot_level)] = known
    return Holder(obj, step.event_id, step.time, step.biz_step, step.disposition, known[0], custodians, known[1])


def _holders(
    w: Walk, steps: list[Step], nodes: Mapping[int, tuple[int, set[str]]], objects: Iterable[str]
) -> list[Holder]:
    """Per object: where its latest visible step left it, and the party holding it."""
    latest, custody, _per_step = _replay(w, steps, nodes)
    return [_holder(o, latest[o], list(dict.fromkeys(custody[o]))) for o in objects if o in latest]


def _is_class(node: str) -> bool:
    return "/21/" not in node and (node.startswith("https://id.gs1.org/01/") or node.startswith("urn:epc:class:"))


def _custodians(history: list[Step]) -> list[str]:
    """Who holds an object after these steps (time order): the destination party (else the owner) of a
    shipping (on its way to it) or receiving step; the owner of any other step recorded for a party
    (event_party); else whoever held it before; else the party of the step's location."""
    holders: list[str] = []
    for step in history:
        holders = _explicit(step) or holders or _location_party(step)
    return list(dict.fromkeys(holders))


def _explicit(step: Step) -> list[str]:
    if step.biz_step in SHIP_STEPS or step.biz_step in RECEIVE_STEPS:
        dest = [d.party_code or d.id for d in step.destinations if d.type in PARTY_TYPES]
        return dest or _owners(step)
    return _owners(step)


def _owners(step: Step) -> list[str]:
    return [p for p in step.parties if p in step.owners]


def _location_party(step: Step) -> list[str]:
    loc = step.biz_location or step.read_point
    return [loc.party_code] if loc and loc.party_code else []


def _carried_at(w: Walk, carrier: str, t: int) -> list[str]:
    """Objects of the walk inside ``carrier`` (at any depth) at time ``t``, each once (do not change the list)."""
    flat = _INSIDE.get(id(w))
    if flat is None:
        flat = _INSIDE[id(w)] = _flatten(w)
    groups = flat.get(carrier)
    if not groups:
        return []
    hits = [objs for lo, hi, objs in groups if lo <= t <= hi]
    if len(hits) == 1:
        return hits[0]
    return list(dict.fromkeys(o for objs in hits for o in objs))


def _flatten(w: Walk) -> dict[str, list[tuple[int, int, list[str]]]]:
    """carrier → (from, to, objects): every object of the walk inside it at any depth, grouped by the time the
    whole chain of containers held them (the intersection of the windows along the way); an object appears
    once per group. Objects packed together share their group, so a carrier's contents at a time are read
    per group, not per object; the chain of containers above a (container, window) is worked out once."""
    carried = w.carried
    above: dict[tuple[str, int, int], list[tuple[str, int, int]]] = {}

    def chain_from(state: tuple[str, int, int]) -> list[tuple[str, int, int]]:
        """``state`` and every (container, from, to) above it."""
        known = above.get(state)
        if known is None:
            known = [state]
            seen = {state}
            stack = [state]
            while stack:
                node, lo, hi = stack.pop()
                for parent, (a, b) in carried.get(node, ()):
                    nlo = a if a > lo else lo
                    nhi = b if b < hi else hi
                    if nlo <= nhi and (parent, nlo, nhi) not in seen:
                        seen.add((parent, nlo, nhi))
                        known.append((parent, nlo, nhi))
                        stack.append((parent, nlo, nhi))
            above[state] = known
        return known

    flat: dict[str, dict[tuple[int, int], list[str]]] = {}
    for obj in w.objects:
        ups = carried.get(obj)
        if not ups:
            continue
        firsts = [(parent, a, b) for parent, (a, b) in ups if a <= b]
        if len(firsts) == 1:
            states = chain_from(firsts[0])
        else:
            states = list(dict.fromkeys(s for first in firsts for s in chain_from(first)))
        for parent, lo, hi in states:
            groups = flat.get(parent)
            if groups is None:
                groups = flat[parent] = {}
            members = groups.get((lo, hi))
            if members is None:
                groups[(lo, hi)] = [obj]
            else:
                members.append(obj)
    return {c: [(lo, hi, objs) for (lo, hi), objs in groups.items()] for c, groups in flat.items()}


_INSIDE: dict[int, dict[str, list[tuple[int, int, list[str]]]]] = {}


def _party_of(step: Step, role: str, holders: list[str] | None = None) -> list[str]:
    """The party acting in a step: shipper (source party), receiver (destination party); else the step's
    owner, else the party of its location, else who held the objects before (``holders``), else the location."""
    if role == "ship":
        named = [s.party_code or s.id for s in step.sources if s.type in PARTY_TYPES]
    elif role == "receive":
        named = [s.party_code or s.id for s in step.destinations if s.type in PARTY_TYPES]
    else:
        named = []
    named = named or _owners(step) or _location_party(step) or list(holders or ())
    if named:
        return list(dict.fromkeys(named))
    loc = step.biz_location or step.read_point
    return [loc.id] if loc else []


def _walks(graph: store.DbGraph, starts: list[str], direction: Direction) -> list[tuple[Direction, Walk]]:
    """One walk per direction (``both``: backward and forward, kept apart so windows do not mix)."""
    names: list[Direction] = ["backward", "forward"] if direction == "both" else [direction]
    return [(name, walk(graph, starts, name)) for name in names]


def _event_nodes(graph: store.DbGraph, parts: list[tuple[Direction, Walk]]) -> dict[int, tuple[int, set[str]]]:
    out: dict[int, tuple[int, set[str]]] = {}
    for _name, w in parts:
        for seq, (t, named) in event_nodes(graph, w).items():
            out.setdefault(seq, (t, set()))[1].update(named)
    return out


def _walk(conn: Connection, identifiers: Iterable[str], direction: Direction) -> tuple[Walk, store.DbGraph]:
    graph = store.DbGraph(conn)
    return walk(graph, [canonical(i) for i in identifiers], direction), graph


def _trace(
    conn: Connection, identifier: str, direction: Direction = "both", principal: Principal = PUBLIC
) -> TraceResult:
    """Backward (sources back to origin), forward (where it went, what it became, who holds it) or both."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    ident = canonical(identifier)
    result = TraceResult(identifier=ident, direction=direction, found=False)
    graph = store.DbGraph(conn)
    parts = _walks(graph, [ident], direction)
    merged = Walk(start=frozenset([ident]))
    relation: dict[str, tuple[str, str]] = {}
    for name, w in parts:
        merged.merge(w)
        for node, rel in w.relation.items():
            if is_hub(node):
                continue
            prev = relation.get(node)
            relation[node] = (rel, name) if prev is None else (prev[0], "both")
        for node in w.carriers:
            if node not in w.objects and node not in relation:
                relation[node] = ("carrier", name)
    nodes = _event_nodes(graph, parts)
    result.found = bool(nodes) or store.has_node(conn, ident)
    steps, hidden = _steps_for(conn, principal, nodes, merged.objects)
    extra, handoffs, hidden_extra = _handoffs(conn, principal, steps, merged.objects)
    steps = sorted([*steps, *extra], key=lambda s: (s.time_micros, s.seq))
    result.handoffs = handoffs
    try:
        result.steps = steps
        result.hidden_steps = hidden + hidden_extra
        result.objects = [
            Related(n, r, d) for n, (r, d) in sorted(relation.items(), key=lambda kv: (kv[1][0] != "self", kv[0]))
        ]
        result.parties = sorted({p for s in steps for p in s.parties})
        places: dict[str, Place] = {}
        for s in steps:
            for p in (s.biz_location, s.read_point):
                if p:
                    places.setdefault(p.id, p)
        result.locations = list(places.values())
        if direction in ("backward", "both"):
            result.origins = [
                s for s in steps if s.biz_step in ORIGIN_STEPS or (s.event_type == "ObjectEvent" and s.action == "ADD")
            ]
        if direction in ("forward", "both"):
            objs = sorted(n for n, (r, _d) in relation.items() if r != "carrier")  # the same order every run
            result.holders = _holders(merged, steps, nodes, objs)
            if principal.is_public:
                for h in result.holders:
                    h.parties = []
    finally:
        _INSIDE.pop(id(merged), None)
    return result


def _chain(conn: Connection, identifier: str, principal: Principal = PUBLIC) -> Chain:
    """追溯链条合成: every visible step of the product's life in time order — its sources' steps up to it,
    its own steps and its containers' steps while it was inside them, and what was made from it."""
    ident = canonical(identifier)
    graph = store.DbGraph(conn)
    parts = _walks(graph, [ident], "both")
    nodes = _event_nodes(graph, parts)
    objects = {n for _d, w in parts for n in w.objects}
    steps, hidden = _steps_for(conn, principal, nodes, objects)
    extra, handoffs, hidden_extra = _handoffs(conn, principal, steps, objects)
    return Chain(
        identifier=ident,
        found=bool(nodes) or store.has_node(conn, ident),
        steps=sorted([*steps, *extra], key=lambda s: (s.time_micros, s.seq)),
        hidden_steps=hidden + hidden_extra,
        handoffs=handoffs,
    )


def _role(step: Step) -> str | None:
    """How a step moves quantities in a recall: make, ship, receive, sell, or None."""
    return _role_of(step.event_type, step.biz_step, step.disposition)


def _role_of(event_type: str, biz_step: str | None, disposition: str | None) -> str | None:
    if biz_step in SHIP_STEPS:
        return "ship"
    if biz_step in RECEIVE_STEPS:
        return "receive"
    if biz_step in SELL_STEPS or disposition in ("retail_sold", "dispensed"):
        return "sell"
    if event_type == "TransformationEvent":
        return "make"
    return None


def _add(d: dict[str, float], uom: str, amount: float) -> None:
    d[uom] = d.get(uom, 0.0) + amount


def _recall_impact(conn: Connection, identifiers: Iterable[str], principal: Principal = PUBLIC) -> RecallImpact:
    """销售范围及影响评估: everything downstream of the given lots or serials, who holds it, where it went,
    and quantities shipped / received / sold per party (serials counted as ``EA``)."""
    starts = list(dict.fromkeys(canonical(i) for i in identifiers))
    w, graph = _walk(conn, starts, "forward")
    nodes = event_nodes(graph, w)
    steps, _hidden = _steps_for(conn, principal, nodes, w.objects, lean=True)
    objects = [n for n in w.objects if not is_hub(n)]
    impact = RecallImpact(identifiers=starts, event_count=len(steps))
    objects.sort()
    impact.objects = [Related(n, w.relation[n], "forward") for n in objects]
    impact.objects += [Related(n, "carrier", "forward") for n in sorted(w.carriers) if n not in w.objects]
    impact.lots = sorted(n for n in objects if "/10/" in n or n.startswith("urn:epc:class:"))
    parties: dict[str, PartyImpact] = {}

    def party(code: str) -> PartyImpact:
        found = parties.get(code)
        if found is None:
            found = parties[code] = PartyImpact(code)
        return found

    try:
        latest, custody, per_step = _replay(w, steps, nodes)
        classes: set[str] | None = None  # the walk's lot-level objects, when first needed
        for step, touched, _reached, before in per_step:
            role = _role(step)
            if role is None:
                continue
            t = step.time_micros
            named = {q.id: q for q in (step.outputs if role == "make" else step.objects + step.inputs + step.outputs)}
            counted: dict[str, float] = {}
            for node in touched:
                if node in w.objects and node in named:
                    q = named[node]
                    _add(counted, q.uom or "EA", q.quantity if q.quantity is not None else 1.0)
                elif role != "make":
                    inside = _carried_at(w, node, t)
                    if inside:
                        if classes is None:
                            classes = {o for o in w.objects if _is_class(o)}
                        count = sum(1 for obj in inside if obj not in named and obj not in classes)
                        if count:
                            _add(counted, "EA", float(count))
            acting = _party_of(step, role, before) if counted else []
            for code in acting:
                pi = party(code)
                target = {"make": pi.produced, "ship": pi.shipped, "receive": pi.received, "sell": pi.sold}[role]
                for uom, amount in counted.items():
                    _add(target, uom, amount)
        unique: dict[int, list[str]] = {}  # custody lists are shared between objects: deduplicate each once
        for lst in custody.values():
            if id(lst) not in unique:
                unique[id(lst)] = list(dict.fromkeys(lst))
        memo: dict[tuple[int, bool], tuple[Place | None, bool]] = {}
        impact.holders = [  # in identifier order
            _holder(o, latest[o], list(unique[id(custody[o])]), memo) for o in objects if o in latest
        ]
    finally:
        _INSIDE.pop(id(w), None)
    by_id = {s.seq: s for s in steps}
    for h in impact.holders:
        if h.in_custody:
            for code in h.parties:
                if not _is_class(h.id):
                    _add(party(code).in_custody, "EA", 1.0)
                if h.location and h.location.id not in party(code).locations:
                    party(code).locations.append(h.location.id)
    for pi in parties.values():  # lots: what came in and was not passed on
        for uom in {*pi.produced, *pi.received} - {"EA"}:
            left = pi.produced.get(uom, 0.0) + pi.received.get(uom, 0.0) - pi.shipped.get(uom, 0.0)
            left -= pi.sold.get(uom, 0.0)
            if left > 0:
                pi.in_custody[uom] = left
    places: dict[str, Place] = {}
    for s in by_id.values():
        for p in (s.biz_location, s.read_point, *s.destinations):
            if p and (p.type in ("", "location")):
                places.setdefault(p.id, p)
    impact.locations = sorted(places.values(), key=lambda p: p.id)
    info = store.registry_places(conn, parties)
    for code, pi in parties.items():
        pi.name = info.get(code, {}).get("name")
        pi.region = info.get(code, {}).get("region")
    impact.parties = sorted(parties.values(), key=lambda p: p.party)
    impact.regions = sorted(
        {r for r in [*(p.region for p in places.values()), *(p.region for p in parties.values())] if r}
    )
    if principal.is_public:
        for h in impact.holders:
            h.parties = []
    return impact


def trace(
    conn: Connection, identifier: str, direction: Direction = "both", principal: Principal = PUBLIC
) -> TraceResult:
    """Backward (sources back to origin), forward (where it went, what it became, who holds it) or both."""
    with _quiet_gc():
        return _trace(conn, identifier, direction, principal)


def chain(conn: Connection, identifier: str, principal: Principal = PUBLIC) -> Chain:
    """追溯链条合成: every visible step of the product's life in time order (see ``_chain``)."""
    with _quiet_gc():
        return _chain(conn, identifier, principal)


def recall_impact(conn: Connection, identifiers: Iterable[str], principal: Principal = PUBLIC) -> RecallImpact:
    """销售范围及影响评估 of a set of lots or serials (see ``_recall_impact``)."""
    with _quiet_gc():
        return _recall_impact(conn, identifiers, principal)
