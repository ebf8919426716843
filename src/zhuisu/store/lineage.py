"""The lineage graph's tables and SQL: kept up to date inside each capture transaction.

``lineage_node`` numbers every identified object (canonical identifier → integer id; transformations are
hub nodes, see ``zhuisu.trace.rules``); ``lineage_edge`` holds the facts events imply, indexed both ways so
a walk reads only indexes: ``(src, kind, dst, t, seq)`` forward and ``(dst, kind, src, t, seq)`` backward.
``lineage_retracted`` lists events corrected by an error declaration: their edges are deleted and their
steps left out. Which events touch a node is read from ``event_identifier`` (already indexed by id).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    String,
    Table,
    Text,
    delete,
    false,
    func,
    inspect,
    select,
)

from zhuisu.epcis.index import IndexedEvent
from zhuisu.store.db import json_unnest
from zhuisu.store.schema import BigId, bytewise, epcis_event, event_identifier, metadata
from zhuisu.trace.rules import HUB_PREFIX, Edge, edges_of

lineage_node = Table(
    "lineage_node",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ident", bytewise(Text()), nullable=False),
    Index("ux_lineage_node_ident", "ident", unique=True),
)

lineage_edge = Table(
    "lineage_edge",
    metadata,
    Column("src", BigInteger, nullable=False),
    Column("dst", BigInteger, nullable=False),  # 0: every child (unpack-all)
    Column("kind", bytewise(String(1)), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("t", BigInteger, nullable=False),
    Column("qty", Float, nullable=True),
    Column("uom", String(16), nullable=True),
    Index("ix_lineage_edge_src", "src", "kind", "dst", "t", "seq"),
    Index("ix_lineage_edge_dst", "dst", "kind", "src", "t", "seq"),
    Index("ix_lineage_edge_seq", "seq"),
)

lineage_retracted = Table(
    "lineage_retracted",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
)

CHUNK = 500
READ_CHUNK = 2000  # identifiers per look-up while walking (under both stores' bound-parameter limits)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_ignore(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def node_ids(conn: Connection, idents: Collection[str], *, create: bool = False) -> dict[str, int]:
    """Integer ids of ``idents`` (those known; all of them when ``create``)."""
    out: dict[str, int] = {}
    wanted = sorted(set(idents) - {""})
    for chunk in _chunks(wanted):
        out.update(
            conn.execute(select(lineage_node.c.ident, lineage_node.c.id).where(lineage_node.c.ident.in_(chunk))).all()
        )
    if create:
        missing = [i for i in wanted if i not in out]
        if missing:
            conn.execute(_insert_ignore(conn, lineage_node), [{"ident": i} for i in missing])
            out.update(node_ids(conn, missing))
    return out


def node_idents(conn: Connection, ids: Collection[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(sorted(set(ids) - {0})):
        out.update(
            conn.execute(select(lineage_node.c.id, lineage_node.c.ident).where(lineage_node.c.id.in_(chunk))).all()
        )
    return out


def record(conn: Connection, stored: Sequence[tuple[int, IndexedEvent]]) -> None:
    """Inside the capture transaction: add the nodes and edges the newly stored events imply (seq order).

    An error declaration retracts the event it corrects (same eventID, stored earlier): its edges go and its
    seq is listed in ``lineage_retracted``. Rows go in through the driver (``executemany``; COPY on
    PostgreSQL), as the event rows do: keeping the lineage must not slow capture much.
    """
    edges: list[Edge] = []
    declared: list[str] = []
    for seq, event in stored:
        if event.error_declared:
            declared.append(event.event_id)
        else:
            edges.extend(edges_of(seq, event))
    if edges:
        ids = _node_ids_raw(conn, {e.src for e in edges} | {e.dst for e in edges})
        ids[""] = 0
        rows = [(ids[e.src], ids[e.dst], e.kind, e.seq, e.time, e.qty, e.uom) for e in edges]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if conn.dialect.name == "postgresql":
                with cursor.copy("COPY lineage_edge (src, dst, kind, seq, t, qty, uom) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    "INSERT INTO lineage_edge (src, dst, kind, seq, t, qty, uom) VALUES (?,?,?,?,?,?,?)", rows
                )
        finally:
            cursor.close()
    if declared:
        retract(conn, declared)


def _node_ids_raw(conn: Connection, idents: Collection[str]) -> dict[str, int]:
    """Ids of ``idents``, creating the missing nodes (concurrent captures: ON CONFLICT DO NOTHING).

    At most two statements whatever the number: the identifiers go as one JSON text (``db.json_unnest``),
    inserted in sorted order (concurrent captures take their index locks in the same order) answering the new
    nodes' ids; then the ids of those that were there already are read.
    """
    wanted = sorted(set(idents) - {""})
    if not wanted:
        return {}
    ph = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    unnest = json_unnest(conn.dialect.name, ph)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        # "WHERE true": SQLite's grammar needs it between a SELECT and ON CONFLICT (PostgreSQL accepts it too)
        cursor.execute(
            f"INSERT INTO lineage_node (ident) {unnest} WHERE true ON CONFLICT DO NOTHING RETURNING ident, id",
            (orjson.dumps(wanted).decode(),),
        )
        ids = dict(cursor.fetchall())
        known = [i for i in wanted if i not in ids]
        if known:
            cursor.execute(
                f"SELECT ident, id FROM lineage_node WHERE ident IN ({unnest})", (orjson.dumps(known).decode(),)
            )
            ids.update(cursor.fetchall())
        return ids
    finally:
        cursor.close()


def retract(conn: Connection, event_ids: Sequence[str]) -> None:
    """Retract the (not error-declared) events with these eventIDs from the lineage."""
    seqs: list[int] = []
    for chunk in _chunks(list(event_ids)):
        seqs.extend(
            conn.execute(
                select(epcis_event.c.seq).where(
                    epcis_event.c.event_id.in_(chunk), epcis_event.c.error_declared == false()
                )
            ).scalars()
        )
    if not seqs:
        return
    conn.execute(_insert_ignore(conn, lineage_retracted), [{"seq": s} for s in seqs])
    for chunk in _chunks(seqs):
        conn.execute(delete(lineage_edge).where(lineage_edge.c.seq.in_(chunk)))


def rebuild(conn: Connection, batch: int = 1000) -> int:
    """Build the lineage of every stored event again, in seq order (migration of older databases)."""
    import orjson

    from zhuisu.epcis.index import index_event

    conn.execute(delete(lineage_edge))
    conn.execute(delete(lineage_retracted))
    last = 0
    count = 0
    while True:
        rows = conn.execute(
            select(epcis_event.c.seq, epcis_event.c.body, epcis_event.c.event_hash, epcis_event.c.record_time)
            .where(epcis_event.c.seq > last)
            .order_by(epcis_event.c.seq)
            .limit(batch)
        ).all()
        if not rows:
            return count
        stored = [
            (seq, index_event(orjson.loads(body), event_hash=event_hash, record_time=rt))
            for seq, body, event_hash, rt in rows
        ]
        record(conn, stored)
        count += len(rows)
        last = rows[-1][0]


def _raw(conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (``?`` placeholders) through the driver: the walk's hot queries skip SQLAlchemy's compiler."""
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return _driver_rows(conn, sql, params)


def _driver_rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` through the driver as it is (its own placeholders: on PostgreSQL ``%s`` text, ``%b`` binary)."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, tuple(params))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _pg_array_in(cast: str) -> str:
    """``IN`` over an array parameter (binary) whose size the planner does not see: behind ``OFFSET 0`` the
    array is not a constant, so every call is planned alike (an unnested array of about ten values; index
    probes per value) and, once psycopg prepares the statement, PostgreSQL keeps one generic plan instead of
    planning each call again (a custom plan would know the size, be costed lower and win every time)."""
    return f"IN (SELECT unnest(a) FROM (SELECT %b::{cast} AS a OFFSET 0) q)"


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _in_rows(conn: Connection, sql: str, values: Sequence[Any], extra: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` whose ``IN ({})`` takes ``values`` (then ``extra`` parameters): many values go to
    PostgreSQL as one array, else chunks of placeholders.

    The array is joined as ``IN (SELECT unnest(?))``, not compared with ``= ANY(?)``: PostgreSQL estimates
    an unnested array at a couple of hundred rows and probes the indexes once per value, where ``= ANY`` of
    ten thousand values is costed as a large fraction of the table, planned as parallel sequential scans
    and hash joins (and JIT-compiled): several times slower, and slower still as the tables grow."""
    out: list[tuple[Any, ...]] = []
    if conn.dialect.name == "postgresql" and len(values) > 200:  # few values: a literal list plans better
        cast = "bigint[]" if isinstance(values[0], int) else "text[]"
        # the array goes in binary (%b): psycopg's text form quotes every element through a regular expression
        array_sql = sql.replace("?", "%s").replace("IN ({})", _pg_array_in(cast))
        for chunk in _chunks(values, 50_000):
            out.extend(_driver_rows(conn, array_sql, [list(chunk), *extra]))
        return out
    for chunk in _chunks(values, READ_CHUNK):
        out.extend(_raw(conn, sql.format(_marks(len(chunk))), [*chunk, *extra]))
    return out


_OUT_SQL = (
    "SELECT s.ident, COALESCE(d.ident, ''), e.kind, e.seq, e.t, NULL, NULL FROM lineage_node s "
    "JOIN lineage_edge e ON e.src = s.id LEFT JOIN lineage_node d ON d.id = e.dst WHERE s.ident IN ({})"
)
_IN_SQL = (
    "SELECT s.ident, d.ident, e.kind, e.seq, e.t, NULL, NULL FROM lineage_node d "
    "JOIN lineage_edge e ON e.dst = d.id JOIN lineage_node s ON s.id = e.src WHERE d.ident IN ({})"
)
_IN_AD_SQL = _IN_SQL.replace(" WHERE d.ident IN ({})", " WHERE e.kind IN ('a', 'd') AND d.ident IN ({})")
_IN_XM_SQL = _IN_SQL.replace(" WHERE d.ident IN ({})", " WHERE e.kind NOT IN ('a', 'd') AND d.ident IN ({})")
_UNPACK_ALL_SQL = (  # CROSS JOIN: SQLite would otherwise read every unpack-all edge of the database first
    "SELECT s.ident, '', e.kind, e.seq, e.t FROM lineage_node s CROSS JOIN lineage_edge e "
    "WHERE s.ident IN ({}) AND e.src = s.id AND e.kind = 'd' AND e.dst = 0"
)
_TOUCH_SQL = (
    "SELECT i.id, e.seq, e.event_time FROM event_identifier i JOIN epcis_event e ON e.seq = i.seq "
    "WHERE i.id IN ({}) AND e.error_declared = ? AND NOT EXISTS (SELECT 1 FROM lineage_retracted r WHERE r.seq = e.seq)"
)


# PostgreSQL: a frontier level's look-ups in one statement (see DbGraph._read). The nodes come as an array of
# identifiers and one of flags (1: outgoing edges wanted, 2: incoming pack/unpack edges, 4: other incoming
# edges), each looked up once; the unpack-all edges of the containers the incoming pack/unpack edges name come
# along (intervals_of asks them next). Behind OFFSET 0 the arrays' size stays unknown (see _pg_array_in).
_LEVEL_PG_SQL = """WITH n AS MATERIALIZED (
  SELECT d.id, d.ident, f.flag FROM (SELECT %b::text[] AS a, %b::int[] AS b OFFSET 0) q,
  unnest(q.a, q.b) AS f(ident, flag) JOIN lineage_node d ON d.ident = f.ident),
i AS MATERIALIZED (
  SELECT e.src, n.ident AS dst, e.kind, e.seq, e.t FROM n JOIN lineage_edge e ON e.dst = n.id
  WHERE n.flag & 2 <> 0 AND e.kind IN ('a', 'd')
  UNION ALL
  SELECT e.src, n.ident, e.kind, e.seq, e.t FROM n JOIN lineage_edge e ON e.dst = n.id
  WHERE n.flag & 4 <> 0 AND e.kind NOT IN ('a', 'd')),
p AS MATERIALIZED (SELECT n.id, n.ident FROM lineage_node n WHERE n.id IN (SELECT src FROM i))
SELECT 'o', n.ident, COALESCE(d.ident, ''), e.kind, e.seq, e.t, NULL::bigint FROM n
  JOIN lineage_edge e ON e.src = n.id LEFT JOIN lineage_node d ON d.id = e.dst
  WHERE n.flag & 1 <> 0
UNION ALL
SELECT 'i', NULL, i.dst, i.kind, i.seq, i.t, i.src FROM i
UNION ALL
SELECT 'p', p.ident, NULL, NULL, NULL, NULL, p.id FROM p
UNION ALL
SELECT 'u', p.ident, '', u.kind, u.seq, u.t, NULL FROM p
  JOIN lineage_edge u ON u.src = p.id AND u.kind = 'd' AND u.dst = 0
  WHERE p.id IN (SELECT src FROM i WHERE kind IN ('a', 'd'))"""

# PostgreSQL: which events name the nodes ('t' rows: node, seq) and, once per event, its time if it is live
# ('e' rows: seq, time): a lot's serials share their events, so each event row is read once (a few thousand
# look-ups, not one per node and event); the two are joined here.
_TOUCH_PG_SQL = """WITH t AS MATERIALIZED (SELECT i.id, i.seq FROM event_identifier i WHERE i.id {ARRAY})
SELECT 't', t.id, t.seq, NULL::bigint FROM t
UNION ALL
SELECT 'e', NULL, e.seq, e.event_time FROM epcis_event e
  WHERE e.seq IN (SELECT seq FROM t) AND e.error_declared = false
  AND NOT EXISTS (SELECT 1 FROM lineage_retracted r WHERE r.seq = e.seq)""".replace("{ARRAY}", _pg_array_in("text[]"))


class DbGraph:
    """``zhuisu.trace.walk.GraphSource`` over the lineage tables of one connection.

    Each node's outgoing and incoming edges are read once per ``DbGraph`` (through the covering indexes) and
    kept, so the walk's several look-ups cost one query. What a walk asks next is read along with what it asks
    now: a plain node's outgoing edges come with its incoming pack and unpack edges (the walk asks both for
    every node of a level), and incoming pack and unpack edges with the unpack-all edges of the containers
    they name (``intervals_of`` asks those next). On PostgreSQL all of that is one statement per look-up
    (arrays, so its text never changes and psycopg prepares it); SQLite runs the parts one after the other.

    A forward walk asks a node's incoming edges only for containment (``into(nodes, "ad")``): those are read
    alone, so a lot's ten thousand serials do not bring their lot-membership edges back a second time; the
    other kinds follow if a backward walk asks for them later.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"
        # edges by node, only for nodes that have some; which nodes were read is kept apart, so that a walk
        # over ten thousand serials without out-edges asks set operations, not ten thousand look-ups
        self._out: dict[str, list[Edge]] = {}
        self._in: dict[str, list[Edge]] = {}
        self._unpack: dict[str, list[Edge]] = {}  # container -> its unpack-all edges (read along, see above)
        self._out_read: set[str] = set()
        self._in_read: set[str] = set()  # every kind of incoming edge read
        self._in_ad_read: set[str] = set()  # only the pack and unpack edges read
        self._unpack_read: set[str] = set()  # containers whose unpack-all edges are in _unpack
        self._touched: set[str] = set()  # nodes whose touching events are in _touch_rows
        self._touch_rows: list[tuple[str, int, int]] = []

    def _read(self, out: set[str], in_ad: set[str], in_xm: set[str]) -> None:
        """Read (and mark read) the outgoing edges of ``out``, the incoming pack and unpack edges of ``in_ad``
        and the other incoming edges of ``in_xm``, with the unpack-all edges of the containers met."""
        self._out_read |= out
        self._in_read |= in_xm  # (their pack and unpack edges are read now or were before)
        self._in_ad_read |= in_ad - in_xm
        out.discard("")
        in_ad.discard("")
        in_xm.discard("")
        if not (out or in_ad or in_xm):
            return
        # rows (src, dst, kind, seq, t, qty, uom) of the outgoing, incoming and unpack-all edges read
        ins: list[tuple[Any, ...]] = []
        if self._pg:
            # each node once, with what to read of it: 1 outgoing, 2 incoming pack/unpack, 4 other incoming
            flags = dict.fromkeys(out, 1)
            for n in in_ad:
                flags[n] = flags.get(n, 0) | 2
            for n in in_xm:
                flags[n] = flags.get(n, 0) | 4
            rows = _driver_rows(self.conn, _LEVEL_PG_SQL, [list(flags), list(flags.values())])
            # incoming edges come with their upstream node's id, named once per node ('p' rows): ten thousand
            # serials packed into a hundred cases look up a hundred names, not ten thousand
            names = {r[6]: r[1] for r in rows if r[0] == "p"}
            outs = [(*r[1:6], None, None) for r in rows if r[0] == "o"]
            ins = [(names[r[6]], *r[2:6], None, None) for r in rows if r[0] == "i" and r[6] in names]
            unpacks = [(*r[1:6], None, None) for r in rows if r[0] == "u"]
        else:
            outs = _in_rows(self.conn, _OUT_SQL, list(out)) if out else []
            both = in_ad & in_xm
            for sql, nodes in ((_IN_SQL, both), (_IN_AD_SQL, in_ad - both), (_IN_XM_SQL, in_xm - both)):
                if nodes:
                    ins += _in_rows(self.conn, sql, list(nodes))
            unpacks = []
        fresh = {r[0] for r in ins if r[2] in "ad"} - self._unpack_read  # containers met for the first time
        if fresh and not self._pg:
            unpacks = [(*r, None, None) for r in _in_rows(self.conn, _UNPACK_ALL_SQL, list(fresh))]
        self._add(self._out, outs, 0)
        self._add(self._in, ins, 1)
        self._unpack_read |= fresh
        make = tuple.__new__
        for r in unpacks:
            if r[0] in fresh:  # PostgreSQL reads them again for containers met before: keep them once
                self._unpack.setdefault(r[0], []).append(make(Edge, r))

    @staticmethod
    def _add(cache: dict[str, list[Edge]], rows: list[tuple[Any, ...]], key: int) -> None:
        """Edges by their ``src`` (``key`` 0) or ``dst`` (``key`` 1) from rows (src, dst, kind, seq, t, qty, uom)."""
        make = tuple.__new__  # an Edge per row, no per-row call
        for row in rows:
            edges = cache.get(row[key])
            if edges is None:
                cache[row[key]] = [make(Edge, row)]
            else:
                edges.append(make(Edge, row))

    def out(self, nodes: Collection[str], kinds: str) -> list[Edge]:
        wanted = set(nodes)
        missing = wanted - self._out_read
        if missing:
            # the plain ones' pack and unpack edges come along (the walk asks them for every plain node)
            plain = {n for n in missing if not n.startswith(HUB_PREFIX)} - self._in_read - self._in_ad_read
            self._read(missing, plain, set())
        return [e for n in wanted & self._out.keys() for e in self._out[n] if e.kind in kinds]

    def into(self, nodes: Collection[str], kinds: str) -> list[Edge]:
        wanted = set(nodes)
        if set(kinds) <= {"a", "d"}:  # containment only (a forward walk): leave out the lot and input edges
            missing = wanted - self._in_read - self._in_ad_read
            if missing:
                self._read(set(), missing, set())
        else:
            missing = wanted - self._in_read
            if missing:
                partly = missing & self._in_ad_read  # their pack and unpack edges are in already
                # a backward walk asks the plain ones' outgoing edges next: they come along
                out = {n for n in missing if not n.startswith(HUB_PREFIX)} - self._out_read
                self._read(out, missing - partly, missing)
        return [e for n in wanted & self._in.keys() for e in self._in[n] if e.kind in kinds]

    def unpack_all(self, parents: Collection[str]) -> list[Edge]:
        wanted = set(parents)
        read = wanted & self._unpack_read
        out = [e for p in read & self._unpack.keys() for e in self._unpack[p]]
        wanted -= read
        known = wanted & self._out_read
        out += [e for p in known & self._out.keys() for e in self._out[p] if e.kind == "d" and e.dst == ""]
        rest = [p for p in wanted - known if p]
        out.extend(Edge(*row) for row in _in_rows(self.conn, _UNPACK_ALL_SQL, rest))
        return out

    def touches(self, nodes: Collection[str]) -> list[tuple[str, int, int]]:
        wanted = set(nodes)
        missing = sorted(wanted - self._touched)
        if missing:
            self._touched.update(missing)
            # an event naming a node in two roles counts once
            if self._pg:
                for chunk in _chunks(missing, 50_000):
                    rows = _driver_rows(self.conn, _TOUCH_PG_SQL, [list(chunk)])
                    times = {r[2]: r[3] for r in rows if r[0] == "e"}
                    self._touch_rows.extend({(r[1], r[2], times[r[2]]) for r in rows if r[0] == "t" and r[2] in times})
            else:
                self._touch_rows.extend(set(_in_rows(self.conn, _TOUCH_SQL, missing, [False])))
        if missing and len(self._touched) == len(missing):  # the first look-up: every row is wanted
            return self._touch_rows[:]
        return [row for row in self._touch_rows if row[0] in wanted]


def edge_quantities(
    conn: Connection, seqs: Collection[int]
) -> list[tuple[int, str, str, str, float | None, str | None]]:
    """(seq, src, dst, kind, qty, uom) of the edges of these events."""
    e = lineage_edge.c
    rows: list[tuple[int, int, int, str, float | None, str | None]] = []
    for chunk in _chunks(sorted(seqs)):
        rows.extend(conn.execute(select(e.seq, e.src, e.dst, e.kind, e.qty, e.uom).where(e.seq.in_(chunk))))
    names = node_idents(conn, {r[1] for r in rows} | {r[2] for r in rows})
    names[0] = ""
    return [(s, names[a], names[b], k, q, u) for s, a, b, k, q, u in rows]


EVENT_COLUMNS = (
    "seq",
    "event_id",
    "event_type",
    "event_time",
    "event_tz",
    "action",
    "biz_step",
    "disposition",
    "read_point",
    "biz_location",
    "transformation_id",
    "body",
)


def events(conn: Connection, seqs: Collection[int]) -> list[dict[str, Any]]:
    """Stored events by seq (columns of ``EVENT_COLUMNS``), in (event time, seq) order."""
    out: list[dict[str, Any]] = []
    sql = f"SELECT {', '.join(EVENT_COLUMNS)} FROM epcis_event WHERE seq IN ({{}})"
    out.extend(dict(zip(EVENT_COLUMNS, row, strict=True)) for row in _in_rows(conn, sql, sorted(seqs)))
    out.sort(key=lambda r: (r["event_time"], r["seq"]))
    return out


def event_parties(conn: Connection, seqs: Collection[int]) -> dict[int, dict[str, str]]:
    """seq → {party: relation} of these events: ``zhuisu.store.access.parties_of_events`` through the driver
    (one array on PostgreSQL, no statement compiled per call)."""
    out: dict[int, dict[str, str]] = {}
    sql = "SELECT seq, party, relation FROM event_party WHERE seq IN ({})"
    for seq, party, relation in _in_rows(conn, sql, sorted(set(seqs))):
        found = out.get(seq)
        if found is None:
            out[seq] = {party: relation}
        else:
            found[party] = relation
    return out


def event_links(conn: Connection, seqs: Collection[int]) -> dict[int, list[tuple[str, str, str]]]:
    """seq → (kind, type, canonical value) of bizTransactions, sources and destinations."""
    out: dict[int, list[tuple[str, str, str]]] = {}
    for chunk in _chunks(sorted(seqs)):
        sql = f"SELECT seq, kind, type, value FROM event_link WHERE seq IN ({_marks(len(chunk))})"
        for seq, kind, typ, value in _raw(conn, sql, chunk):
            out.setdefault(seq, []).append((kind, typ, value))
    return out


def biz_transactions(conn: Connection, seqs: Collection[int]) -> dict[int, list[tuple[str, str]]]:
    """seq → (type, canonical value) of each event's business transactions, from the stored bodies."""
    from zhuisu.trace.engine import links_of  # the same canonical form the index uses

    out: dict[int, list[tuple[str, str]]] = {}
    for seq, body in _in_rows(conn, "SELECT seq, body FROM epcis_event WHERE seq IN ({})", sorted(set(seqs))):
        out[seq] = [(t, v) for k, t, v in links_of(orjson.loads(body)) if k == "bizTransaction"]
    return out


def events_by_biz_transaction(conn: Connection, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], set[int]]:
    """(type, value) → seqs of the events naming that business transaction (index ``ix_event_link_value``)."""
    out: dict[tuple[str, str], set[int]] = {p: set() for p in pairs}
    types = sorted({t for t, _v in out})
    # one look-up for all the pairs (types × values through the index, the other combinations dropped here)
    for chunk in _chunks(sorted({v for _t, v in out})):
        sql = (
            "SELECT type, value, seq FROM event_link WHERE kind = 'bizTransaction' "
            f"AND type IN ({_marks(len(types))}) AND value IN ({_marks(len(chunk))})"
        )
        for typ, value, seq in _raw(conn, sql, [*types, *chunk]):
            found = out.get((typ, value))
            if found is not None:
                found.add(seq)
    return out


_TABLE_COLUMNS: dict[tuple[str, str], frozenset[str]] = {}


def _columns(conn: Connection, table: str) -> frozenset[str]:
    """Columns of another area's table, or empty when it does not exist (yet) in this database."""
    key = (str(conn.engine.url), table)
    if key not in _TABLE_COLUMNS:
        insp = inspect(conn)
        cols = frozenset(c["name"] for c in insp.get_columns(table)) if insp.has_table(table) else frozenset()
        if not cols:
            return cols  # not cached: the table may be created later in this process
        _TABLE_COLUMNS[key] = cols
    return _TABLE_COLUMNS[key]


def registry_places(conn: Connection, codes: Collection[str]) -> dict[str, dict[str, str | None]]:
    """Location code, party code or party GLN Digital Link (``https://id.gs1.org/417/<gln>``) → {name,
    party_code, region} from the registry tables (when this database has them)."""
    out: dict[str, dict[str, str | None]] = {}
    wanted = sorted(set(codes) - {""})
    if not wanted:
        return out
    locations = {"code", "name", "party_code", "region"} <= _columns(conn, "registry_location")
    parties = {"gln", "name", "party_code", "region"} <= _columns(conn, "registry_party")
    glns = {c.rsplit("/", 1)[-1]: c for c in wanted if c.startswith("https://id.gs1.org/417/")}
    plain = [c for c in wanted if not c.startswith(("http", "urn:"))]
    keys = [*plain, *glns]
    loc_rows: list[tuple[Any, ...]] = []  # code, name, party_code, region
    party_rows: list[tuple[Any, ...]] = []  # party_code, gln, name, region
    if locations and parties and keys and len(wanted) <= CHUNK and len(keys) <= CHUNK:
        # a chain's few places: both tables in one statement
        sql = (
            "SELECT 'l', code, NULL, name, party_code, region FROM registry_location "
            f"WHERE code IN ({_marks(len(wanted))}) UNION ALL "
            "SELECT 'p', party_code, gln, name, party_code, region FROM registry_party "
            f"WHERE party_code IN ({_marks(len(keys))}) OR gln IN ({_marks(len(keys))})"
        )
        for tag, code, gln, name, party, region in _raw(conn, sql, [*wanted, *keys, *keys]):
            if tag == "l":
                loc_rows.append((code, name, party, region))
            else:
                party_rows.append((party, gln, name, region))
    else:
        if locations:
            for chunk in _chunks(wanted):
                sql = (
                    f"SELECT code, name, party_code, region FROM registry_location WHERE code IN ({_marks(len(chunk))})"
                )
                loc_rows += _raw(conn, sql, chunk)
        if parties:
            for chunk in _chunks(keys):
                sql = (
                    "SELECT party_code, gln, name, region FROM registry_party "
                    f"WHERE party_code IN ({_marks(len(chunk))}) OR gln IN ({_marks(len(chunk))})"
                )
                party_rows += _raw(conn, sql, [*chunk, *chunk])
    for code, name, party, region in loc_rows:
        out[code] = {"name": name, "party_code": party, "region": region}
    for party, gln, name, region in party_rows:
        info: dict[str, str | None] = {"name": name, "party_code": party, "region": region}
        if party in plain:
            out[party] = info
        if gln in glns:
            out[glns[gln]] = info
    return out


def has_node(conn: Connection, ident: str) -> bool:
    return bool(node_ids(conn, [ident])) or bool(
        conn.execute(select(event_identifier.c.seq).where(event_identifier.c.id == ident).limit(1)).first()
    )


def sample_nodes(conn: Connection, k: int, rnd: Any) -> list[str]:
    """Up to ``k`` random object identifiers (not transformation hubs) for benchmarks."""
    top = conn.execute(select(func.max(lineage_node.c.id))).scalar() or 0
    out: list[str] = []
    tries = 0
    while len(out) < k and top and tries < k * 20:
        tries += 1
        ident = conn.execute(select(lineage_node.c.ident).where(lineage_node.c.id == rnd.randint(1, top))).scalar()
        if ident and not ident.startswith("urn:zhuisu:xform:"):
            out.append(ident)
    return out


def event_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(epcis_event)).scalar() or 0)


def analyze(conn: Connection) -> None:
    """Refresh the planner's statistics after a bulk load (PostgreSQL; autovacuum does it later anyway)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE")


def vacuum_analyze(engine: Engine) -> None:
    """After a bulk load on PostgreSQL: VACUUM (ANALYZE) the lineage and event tables, so that the walks' index-only
    scans need not visit the table for rows the visibility map does not yet show as visible to all (autovacuum
    would get there, later). Runs outside a transaction, as VACUUM must. SQLite: ANALYZE."""
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            return
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("lineage_node", "lineage_edge", "epcis_event", "event_identifier", "event_link", "event_party"):
            auto.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
