"""Reading events: SimpleEventQuery as SQL, keyset paging, discovery lists and named queries.

Every filter of an ``EventQuery`` becomes an indexed predicate: event columns directly, identifiers,
links and ILMD/extension fields as ``seq IN (SELECT seq FROM <side table> WHERE …)`` over their
(id, role) / (kind, type, value) / (scope, name, value) indexes. Pages are cut by keyset on
(order key, seq), never by OFFSET, and continue through an opaque, signed ``nextPageToken`` bound to
the query it was issued for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Text,
    and_,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Select

from zhuisu.epcis import cbv
from zhuisu.epcis.index import SENSOR_SCOPE
from zhuisu.epcis.query import (
    CLASS_ROLES,
    BodyFilter,
    EventQuery,
    FieldFilter,
    IdFilter,
    MasterDataFilter,
    MeasureFilter,
    QuantityFilter,
)
from zhuisu.store import vocabulary
from zhuisu.store.schema import epcis_event, event_field, event_identifier, event_link, named_query

E = epcis_event.c
_OPS = {
    "EQ": lambda col, v: col == v,
    "GT": lambda col, v: col > v,
    "GE": lambda col, v: col >= v,
    "LT": lambda col, v: col < v,
    "LE": lambda col, v: col <= v,
}
EPC_ROLES = ("epc", "parent", "input", "output")


class TokenError(ValueError):
    """A ``nextPageToken`` this server did not issue, or issued for another query."""


# --- page tokens ---------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    """Signs and checks page tokens: base64url(JSON state) '.' base64url(HMAC-SHA256 truncated)."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"zhuisu nextPageToken\x00" + secret).digest()

    @classmethod
    def for_database(cls, url: str) -> PageTokens:
        """Tokens keyed by ``ZHUISU_SECRET_KEY`` when set, else by the database URL (stable across workers)."""
        secret = os.environ.get("ZHUISU_SECRET_KEY") or url
        return cls(secret.encode())

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def issue(self, scope: str, state: dict[str, Any]) -> str:
        payload = orjson.dumps({"s": scope[:32], **state})
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def open(self, token: str, scope: str) -> dict[str, Any]:
        """The state in ``token``; ``TokenError`` if it is forged, damaged or for another ``scope``."""
        body, dot, mac = token.partition(".")
        try:
            payload = _unb64(body)
            ok = dot and hmac.compare_digest(_unb64(mac), self._mac(payload))
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise TokenError("nextPageToken is not one this server issued (damaged or altered)")
        state = orjson.loads(payload)
        if not isinstance(state, dict) or state.get("s") != scope[:32]:
            raise TokenError("nextPageToken belongs to a different query; repeat the query's parameters with it")
        return state


# --- filters -------------------------------------------------------------------------------------------


def _id_condition(f: IdFilter) -> ColumnElement[bool]:
    t = event_identifier.c
    alternatives: list[ColumnElement[bool]] = []
    if f.ids:
        alternatives.append(t.id.in_(f.ids))
    for pattern in f.patterns:
        alternatives.append(_like(t.id, pattern))
    sub = select(t.seq).where(t.role.in_(f.roles), or_(*alternatives) if alternatives else false())
    return E.seq.in_(sub)


def _like(col: Any, pattern: str) -> ColumnElement[bool]:
    """``col LIKE pattern`` with the literal prefix as an index range, case-sensitive on every backend."""
    prefix = _like_prefix(pattern)
    parts: list[ColumnElement[bool]] = []
    if prefix:
        parts.append(col >= prefix)
        parts.append(col < prefix[:-1] + chr(ord(prefix[-1]) + 1))
    if pattern != prefix + "%" or not prefix:
        # SQLite's LIKE ignores case; the range above keeps the prefix exact and the rest of an EPC
        # pattern is digits and separators, where case does not arise.
        parts.append(col.like(pattern))
    return and_(*parts)


def _like_prefix(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1])
            i += 2
            continue
        if ch in "%_":
            break
        out.append(ch)
        i += 1
    return "".join(out)


def _quantity_condition(f: QuantityFilter) -> ColumnElement[bool]:
    t = event_identifier.c
    if f.op == "EQ":
        cond: ColumnElement[bool] = t.quantity.in_(f.values)
    else:
        cond = _OPS[f.op](t.quantity, f.values[0])
    where = [t.role.in_(("class", "inclass", "outclass")), cond]
    if f.uom:
        where.append(t.uom == f.uom)
    return E.seq.in_(select(t.seq).where(*where))


def _field_condition(f: FieldFilter) -> ColumnElement[bool]:
    t = event_field.c
    base = [t.scope == f.scope, t.name.in_(f.names) if len(f.names) > 1 else t.name == f.names[0]]
    if f.op == "EXISTS":
        return E.seq.in_(select(t.seq).where(*base))
    if f.op == "EQ":
        alternatives: list[ColumnElement[bool]] = []
        if f.texts:
            alternatives.append(t.text_value.in_(f.texts))
        if f.numbers:
            alternatives.append(t.num_value.in_(f.numbers))
        if f.times:
            alternatives.append(t.time_value.in_(f.times))
        return E.seq.in_(select(t.seq).where(*base, or_(*alternatives)))
    if f.times:
        return E.seq.in_(select(t.seq).where(*base, _OPS[f.op](t.time_value, f.times[0])))
    return E.seq.in_(select(t.seq).where(*base, _OPS[f.op](t.num_value, f.numbers[0])))


def _measure_condition(f: MeasureFilter) -> ColumnElement[bool]:
    """A sensor report's measure in one of the convertible units compares with the value in that unit."""
    t = event_field.c
    per_unit: list[ColumnElement[bool]] = []
    for name, values in f.units:
        if f.op == "EQ":
            cond = or_(*(t.num_value.between(v - abs(v) * 1e-9 - 1e-12, v + abs(v) * 1e-9 + 1e-12) for v in values))
        else:
            cond = _OPS[f.op](t.num_value, values[0])
        per_unit.append(and_(t.name == name, cond))
    return E.seq.in_(select(t.seq).where(t.scope == SENSOR_SCOPE, or_(*per_unit)))


class _BodyText(FunctionElement[str]):
    """``body_text(body, key, key…)``: the value at a path of an event body's JSON as text (a string unquoted, an
    array or object as its JSON text), NULL where the path is absent."""

    type = Text()
    name = "body_text"
    inherit_cache = True


class _BodyInstant(FunctionElement[int]):
    """``body_instant(body, key, key…)``: the date-time at a path of an event body as microseconds since the epoch
    (SQLite: to the millisecond, as its date functions read them)."""

    type = BigInteger()
    name = "body_instant"
    inherit_cache = True


def _sqlite_path(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
    body, *keys = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_extract({body}, '$' || " + " || ".join(f"'.' || {k}" for k in keys) + ")"


def _pg_path(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
    body, *keys = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({body} AS JSON) #>> ARRAY[" + ", ".join(f"CAST({k} AS TEXT)" for k in keys) + "])"


@compiles(_BodyText, "sqlite")
def _body_text_sqlite(element: _BodyText, compiler: Any, **kw: Any) -> str:
    return _sqlite_path(element, compiler, **kw)


@compiles(_BodyText, "postgresql")
def _body_text_pg(element: _BodyText, compiler: Any, **kw: Any) -> str:
    return _pg_path(element, compiler, **kw)


@compiles(_BodyInstant, "sqlite")
def _body_instant_sqlite(element: _BodyInstant, compiler: Any, **kw: Any) -> str:
    days = f"julianday({_sqlite_path(element, compiler, **kw)})"
    return f"(CAST(round(({days} - 2440587.5) * 86400000.0) AS INTEGER) * 1000)"


@compiles(_BodyInstant, "postgresql")
def _body_instant_pg(element: _BodyInstant, compiler: Any, **kw: Any) -> str:
    return f"CAST(extract(epoch FROM CAST({_pg_path(element, compiler, **kw)} AS TIMESTAMPTZ)) * 1000000 AS BIGINT)"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _body_condition(f: BodyFilter) -> ColumnElement[bool]:
    keys = [literal(k) for k in f.path]
    if f.kind == "member":  # the array's JSON text holds one of the values (each a JSON string, quotes and all)
        text = _BodyText(E.body, *keys)
        return or_(*(text.like(f"%{_escape_like(v)}%", escape="\\") for v in f.texts))
    if f.kind == "one_of":
        return _BodyText(E.body, *keys).in_(f.texts)
    assert f.time is not None
    instant = _BodyInstant(E.body, *keys)
    return instant >= f.time if f.kind == "ge_time" else instant < f.time


def conditions(q: EventQuery) -> list[ColumnElement[bool]]:
    """The WHERE clause of ``q`` over ``epcis_event``, one predicate per parameter (ANDed)."""
    where: list[ColumnElement[bool]] = []
    if q.nothing:
        where.append(false())
    if q.event_types:
        where.append(E.event_type.in_(q.event_types))
    if q.ge_event_time is not None:
        where.append(E.event_time >= q.ge_event_time)
    if q.lt_event_time is not None:
        where.append(E.event_time < q.lt_event_time)
    if q.ge_record_time is not None:
        where.append(E.record_time >= q.ge_record_time)
    if q.lt_record_time is not None:
        where.append(E.record_time < q.lt_record_time)
    for cf in q.columns:
        where.append(epcis_event.c[cf.column].in_(cf.values))
    if q.error_declared:
        where.append(E.error_declared == true())
    for idf in q.ids:
        where.append(_id_condition(idf))
    for lf in q.links:
        lt = event_link.c
        where.append(E.seq.in_(select(lt.seq).where(lt.kind == lf.kind, lt.type == lf.type, lt.value.in_(lf.values))))
    for qf in q.quantities:
        where.append(_quantity_condition(qf))
    for ff in q.fields:
        where.append(_field_condition(ff))
    for mf in q.measures:
        where.append(_measure_condition(mf))
    for bf in q.body:
        where.append(_body_condition(bf))
    for md in q.masterdata:
        where.append(_masterdata_condition(md))
    return where


_MASTERDATA_COLUMNS = {
    "readPoint": E.read_point,
    "bizLocation": E.biz_location,
    "bizStep": E.biz_step,
    "disposition": E.disposition,
}


def _masterdata_condition(f: MasterDataFilter) -> ColumnElement[bool]:
    """The event's field names an element of the captured master data (``zhuisu.store.vocabulary``)."""
    if f.ids:  # WD_: the given elements or any below them
        column = _MASTERDATA_COLUMNS[f.field]
        return or_(column.in_(f.ids), column.in_(vocabulary.below(f.field, f.ids)))
    elements = vocabulary.with_attribute(f.field, f.attributes, f.values)
    if f.field == "epcClass":
        t = event_identifier.c
        return E.seq.in_(select(t.seq).where(t.role.in_(CLASS_ROLES), t.id.in_(elements)))
    return _MASTERDATA_COLUMNS[f.field].in_(elements)


# --- ordering and keyset paging ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Order:
    key: Any  # column expression, or None when ordering by capture sequence only
    desc: bool
    nullable: bool
    join: Any = None  # a subquery (seq, k) to outer-join when the key lives outside epcis_event
    kind: str = ""  # for extension fields: which value column orders them (num, time, text)


_FIELD_COLUMNS = {"num": event_field.c.num_value, "time": event_field.c.time_value, "text": event_field.c.text_value}


def _order(conn: Connection, q: EventQuery, kind: str | None = None) -> _Order:
    """How ``q`` orders events; ``kind`` repeats an extension field's value kind from the first page."""
    if q.order_by == "eventTime":
        return _Order(E.event_time, q.order_desc, False)
    if q.order_by == "recordTime":
        return _Order(E.record_time, q.order_desc, False)
    if q.order_by == "field":
        t = event_field.c
        name_cond = t.name.in_(q.order_field) if len(q.order_field) > 1 else t.name == q.order_field[0]
        if kind not in _FIELD_COLUMNS:
            # The field's type decides what to compare: numbers, then date-times, else text (§8.2.7.1).
            probe = conn.execute(select(t.num_value, t.time_value).where(t.scope == "ext", name_cond).limit(1)).first()
            kind = "text"
            if probe is not None and probe[0] is not None:
                kind = "num"
            elif probe is not None and probe[1] is not None:
                kind = "time"
        col = _FIELD_COLUMNS[kind]
        agg = func.max(col) if q.order_desc else func.min(col)
        # One grouped pass over the field's index rows, joined by seq: a correlated subquery per event
        # would let SQLite probe the (scope, name) index once per event.
        keys = (
            select(t.seq.label("seq"), agg.label("k"))
            .where(t.scope == "ext", name_cond)
            .group_by(t.seq)
            .subquery("order_key")
        )
        return _Order(keys.c.k, q.order_desc, True, keys, kind)
    return _Order(None, False, False)


def _order_by(o: _Order) -> list[Any]:
    seq = E.seq.desc() if o.desc else E.seq.asc()
    if o.key is None:
        return [seq]
    key = o.key.desc() if o.desc else o.key.asc()
    if o.nullable:
        # Events lacking the field come last in either direction (the standard lets them go anywhere).
        return [o.key.is_(None).asc(), key, seq]
    return [key, seq]


def _after(o: _Order, last_key: Any, last_seq: int) -> ColumnElement[bool]:
    if o.key is None:
        return E.seq > last_seq
    if o.nullable and last_key is None:
        return and_(o.key.is_(None), E.seq < last_seq if o.desc else E.seq > last_seq)
    if o.desc:
        cond: ColumnElement[bool] = and_(o.key <= last_key, tuple_(o.key, E.seq) < tuple_(last_key, last_seq))
    else:
        cond = and_(o.key >= last_key, tuple_(o.key, E.seq) > tuple_(last_key, last_seq))
    return or_(cond, o.key.is_(None)) if o.nullable else cond


@dataclass(slots=True)
class EventPage:
    """One page of a query: (seq, JSON body) rows and the token of the next page, if any."""

    rows: list[tuple[int, str]]
    next_token: str | None


def select_events(
    q: EventQuery,
    o: _Order,
    *,
    after: tuple[Any, int] | None = None,
    limit: int | None = None,
    visible: ColumnElement[bool] | None = None,
) -> Select[Any]:
    cols: list[Any] = [E.seq, E.body]
    if o.key is not None:
        cols.append(o.key.label("order_key"))
    stmt = select(*cols)
    if o.join is not None:
        stmt = stmt.select_from(epcis_event.outerjoin(o.join, o.join.c.seq == E.seq))
    stmt = stmt.where(*conditions(q))
    if visible is not None:
        stmt = stmt.where(visible)
    if after is not None:
        stmt = stmt.where(_after(o, after[0], after[1]))
    stmt = stmt.order_by(*_order_by(o))
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def count_up_to(conn: Connection, q: EventQuery, limit: int, visible: ColumnElement[bool] | None = None) -> int:
    """How many events match ``q``, counting no further than ``limit`` (cheap on large results)."""
    where = conditions(q) + ([visible] if visible is not None else [])
    sub = select(E.seq).where(*where).limit(limit).subquery()
    return int(conn.execute(select(func.count()).select_from(sub)).scalar_one())


class QueryTooLargeError(Exception):
    """More events match than the query's ``maxEventCount`` allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} events match this query (maxEventCount={limit})")
        self.limit = limit


def find_events(
    conn: Connection,
    q: EventQuery,
    *,
    per_page: int,
    tokens: PageTokens,
    token: str | None = None,
    scope: str = "",
    visible: ColumnElement[bool] | None = None,
) -> EventPage:
    """A page of the events matching ``q`` in its order; ``token`` continues a previous page.

    ``scope`` names what else the request fixes (a resource path) so a token cannot cross resources.
    ``visible`` (``zhuisu.store.access.visibility_condition``) keeps only the events the asker may see; it is
    part of the SQL, so pages, ``maxEventCount`` and ``eventCountLimit`` count visible events only.
    Raises ``TokenError`` for a bad token and ``QueryTooLargeError`` when ``maxEventCount`` is exceeded.
    """
    bound = f"{scope}|{q.fingerprint()}"
    fp = hashlib.sha256(bound.encode()).hexdigest()[:32]
    after: tuple[Any, int] | None = None
    served = 0
    kind = None
    if token:
        state = tokens.open(token, fp)
        try:
            after = (state["k"], int(state["q"]))
            served = int(state["n"])
            kind = state.get("c")
        except (KeyError, TypeError, ValueError):
            raise TokenError("nextPageToken is not one this server issued (damaged or altered)") from None
    if q.max_event_count is not None and count_up_to(conn, q, q.max_event_count + 1, visible) > q.max_event_count:
        raise QueryTooLargeError(q.max_event_count)
    limit = per_page
    if q.event_count_limit is not None:
        limit = min(limit, q.event_count_limit - served)
        if limit <= 0:
            return EventPage([], None)
    o = _order(conn, q, kind)
    result = conn.execute(select_events(q, o, after=after, limit=limit + 1, visible=visible)).all()
    more = len(result) > limit
    result = result[:limit]
    served += len(result)
    next_token = None
    if more and result and (q.event_count_limit is None or served < q.event_count_limit):
        last = result[-1]
        last_key = last[2] if o.key is not None else None
        state = {"k": last_key, "q": last[0], "n": served}
        if o.kind:
            state["c"] = o.kind
        next_token = tokens.issue(fp, state)
    return EventPage([(row[0], row[1]) for row in result], next_token)


def events_after(conn: Connection, cursor_seq: int, q: EventQuery, limit: int) -> list[tuple[int, str]]:
    """Events matching ``q`` captured after sequence number ``cursor_seq``, oldest first (subscriptions)."""
    stmt = select(E.seq, E.body).where(E.seq > cursor_seq, *conditions(q)).order_by(E.seq).limit(limit)
    return [(row[0], row[1]) for row in conn.execute(stmt)]


def get_event(conn: Connection, event_id: str) -> str | None:
    """The JSON body of the event with this eventID (or this event hash), if stored.

    When an error has been declared on the event, its declaration (the event with its errorDeclaration) is
    returned: it carries everything the original did, and says it is in error.
    """
    found = find_event(conn, event_id)
    return found[1] if found else None


def find_event(conn: Connection, event_id: str, visible: ColumnElement[bool] | None = None) -> tuple[int, str] | None:
    """(seq, JSON body) of the event ``get_event`` returns, if stored and (with ``visible``) visible."""
    stmt = select(E.seq, E.body).where(or_(E.event_id == event_id, E.event_hash == event_id))
    if visible is not None:
        stmt = stmt.where(visible)
    row = conn.execute(stmt.order_by(E.error_declared.desc(), E.seq).limit(1)).first()
    return (row[0], row[1]) if row else None


# --- discovery lists -----------------------------------------------------------------------------------

# resource → (column, extra condition) of a value list read by a loose index scan
_DISTINCT: dict[str, tuple[Any, Any]] = {
    "eventTypes": (E.event_type, None),
    "bizSteps": (E.biz_step, None),
    "dispositions": (E.disposition, None),
    "readPoints": (E.read_point, None),
    "bizLocations": (E.biz_location, None),
    "epcs": (event_identifier.c.id, event_identifier.c.role.in_(EPC_ROLES)),
}
STANDARD_VALUES: dict[str, frozenset[str]] = {
    "eventTypes": cbv.EVENT_TYPES,
    "bizSteps": cbv.BIZ_STEP.words,
    "dispositions": cbv.DISPOSITION.words,
}


def distinct_values(
    conn: Connection, resource: str, after: str | None, limit: int, visible: ColumnElement[bool] | None = None
) -> list[str]:
    """Up to ``limit`` distinct stored values of a resource after ``after``, in the database's order.

    A recursive loose index scan: one index probe per distinct value, however many events share it. With
    ``visible``, only values of visible events, by a plain DISTINCT over them.
    """
    col, extra = _DISTINCT[resource]
    conds = [col.is_not(None)] + ([extra] if extra is not None else [])
    if visible is not None:
        stmt = select(col).distinct().where(*conds, visible, *([col > after] if after is not None else []))
        if resource == "epcs":
            stmt = stmt.select_from(event_identifier.join(epcis_event, epcis_event.c.seq == event_identifier.c.seq))
        return [row[0] for row in conn.execute(stmt.order_by(col).limit(limit))]
    first = select(col).where(*conds, *([col > after] if after is not None else [])).order_by(col).limit(1)
    cte = select(first.scalar_subquery().label("v"), literal(1).label("n")).cte("vals", recursive=True)
    step = select(col).where(*conds, col > cte.c.v).order_by(col).limit(1).scalar_subquery()
    cte = cte.union_all(select(step, cte.c.n + 1).where(cte.c.v.is_not(None), cte.c.n < limit))
    return [row[0] for row in conn.execute(select(cte.c.v).where(cte.c.v.is_not(None)).order_by(cte.c.n))]


# Vocabulary lists are small: read them whole (up to this many custom values) and page in Python.
_VOCABULARY_CAP = 10_000


def list_values(
    conn: Connection, resource: str, after: str | None, limit: int, visible: ColumnElement[bool] | None = None
) -> tuple[list[str], bool]:
    """A page of a discovery list, and whether more follow.

    Event types, business steps and dispositions list the standard vocabulary and every custom value
    in use (as the REST binding asks); identifiers and locations list the values in use.
    """
    if resource in STANDARD_VALUES:
        used = distinct_values(conn, resource, None, _VOCABULARY_CAP, visible)
        values = sorted(set(STANDARD_VALUES[resource]) | set(used))
        if after is not None:
            values = [v for v in values if v > after]
        return values[:limit], len(values) > limit
    values = distinct_values(conn, resource, after, limit + 1, visible)
    return values[:limit], len(values) > limit


def value_known(conn: Connection, resource: str, value: str, visible: ColumnElement[bool] | None = None) -> bool:
    """Whether a discovery resource instance exists (standard vocabulary or used by a (visible) stored event)."""
    if value in STANDARD_VALUES.get(resource, ()):
        return True
    col, extra = _DISTINCT[resource]
    where = [col == value] + ([extra] if extra is not None else [])
    stmt = select(literal(1)).where(*where)
    if visible is not None:
        stmt = stmt.where(visible)
        if resource == "epcs":
            stmt = stmt.select_from(event_identifier.join(epcis_event, epcis_event.c.seq == event_identifier.c.seq))
    return conn.execute(stmt.limit(1)).first() is not None


# --- named queries -------------------------------------------------------------------------------------


def create_named_query(engine: Engine, name: str, query: dict[str, Any], owner: str) -> bool:
    """Store a named query for ``owner`` (see ``zhuisu.access.policy.query_owner``); False if the name is taken."""
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(named_query).values(
                    name=name, query=orjson.dumps(query).decode(), created_at=time.time_ns() // 1000, owner=owner
                )
            )
    except IntegrityError:
        return False
    return True


def _owned(stmt: Any, owners: frozenset[str] | None) -> Any:
    # None: every query (administrators); else only those of these owners (queries made before owners were
    # recorded have none, and so belong to the administrators alone).
    return stmt if owners is None else stmt.where(named_query.c.owner.in_(sorted(owners)))


def get_named_query(conn: Connection, name: str, owners: frozenset[str] | None) -> dict[str, Any] | None:
    row = conn.execute(_owned(select(named_query.c.query).where(named_query.c.name == name), owners)).first()
    return orjson.loads(row[0]) if row else None


def list_named_queries(
    conn: Connection, after: str | None, limit: int, owners: frozenset[str] | None
) -> list[tuple[str, dict[str, Any]]]:
    """Named queries of ``owners`` by name, ``limit`` of them after ``after``."""
    stmt = _owned(select(named_query.c.name, named_query.c.query), owners)
    if after is not None:
        stmt = stmt.where(named_query.c.name > after)
    rows = conn.execute(stmt.order_by(named_query.c.name).limit(limit))
    return [(row[0], orjson.loads(row[1])) for row in rows]


def delete_named_query(engine: Engine, name: str, owners: frozenset[str] | None) -> bool:
    """Remove a named query of ``owners``; False if they have none of that name."""
    with engine.begin() as conn:
        stmt = delete(named_query).where(named_query.c.name == name)
        if owners is not None:
            stmt = stmt.where(named_query.c.owner.in_(sorted(owners)))
        return bool(conn.execute(stmt).rowcount)


def parse_rows(rows: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    """Event bodies (JSON text) as dicts, in order."""
    return [orjson.loads(body) for _seq, body in rows]
