"""Ledger storage (账本存储): the append-only Merkle log of accepted events, its tiles and checkpoints.

Tables:

- ``ledger_head`` — one row, the tree size; every append updates it first, which serialises appends
  (a row lock on PostgreSQL until the capture transaction ends; SQLite has one writer anyway);
- ``ledger_leaf`` — one row per log position: the event's ``seq`` (its log position is recorded
  here) and the 32-byte event hash that is the leaf input;
- ``ledger_tile`` — C2SP tlog-tiles style: 256 hashes of tree level 8·L per row, right-most tiles
  partial (see :mod:`zhuisu.ledger.tiles`), so a proof is one read of O(log n) small rows;
- ``ledger_checkpoint`` — every signed checkpoint, so a size is signed once and audits can check it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Table,
    Text,
    bindparam,
    func,
    inspect,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from zhuisu.ledger import merkle, note
from zhuisu.ledger.audit import Auditor, AuditReport, EventRow, LeafRow, Recolumn, Rehash, StoredCheckpoint
from zhuisu.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from zhuisu.ledger.service import Evidence, InclusionProof, LedgerError, LedgerIntegrityError, UnknownEvent
from zhuisu.ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileError,
    TileKey,
    TileReader,
    edge_tiles,
    extend,
    split_hashes,
)
from zhuisu.store.events import EVENT_COLUMNS
from zhuisu.store.schema import epcis_event, metadata

BigId = BigInteger().with_variant(Integer(), "sqlite")

ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
)

ledger_leaf = Table(
    "ledger_leaf",
    metadata,
    Column("leaf_index", BigId, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_hash", LargeBinary(32), nullable=False),
    Index("ux_ledger_leaf_seq", "seq", unique=True),
)

ledger_tile = Table(
    "ledger_tile",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("tile_index", BigInteger, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

ledger_checkpoint = Table(
    "ledger_checkpoint",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

HEAD_ID = 1


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def current_size(conn: Connection) -> int:
    """Current number of leaves."""
    size = conn.execute(select(ledger_head.c.tree_size).where(ledger_head.c.id == HEAD_ID)).scalar()
    if size is None:
        raise LedgerError("the ledger tables are not initialised: upgrade the database schema")
    return int(size)


# Built once: proofs run this on every request (row-value IN, SQLite >= 3.15 and PostgreSQL).
_SELECT_TILES = select(ledger_tile.c.level, ledger_tile.c.tile_index, ledger_tile.c.hashes).where(
    tuple_(ledger_tile.c.level, ledger_tile.c.tile_index).in_(bindparam("keys", expanding=True))
)


def fetch_tiles(conn: Connection, keys: Collection[TileKey]) -> dict[TileKey, bytes]:
    """The stored tiles among ``keys`` (one query)."""
    if not keys:
        return {}
    rows = conn.execute(_SELECT_TILES, {"keys": sorted(keys)})
    return {(int(level), int(index)): bytes(data) for level, index, data in rows}


def tile_reader(conn: Connection) -> TileReader:
    return TileReader(lambda keys: fetch_tiles(conn, keys))


def append_leaves(conn: Connection, items: Sequence[tuple[int, bytes]]) -> int:
    """Append ``(event seq, 32-byte event hash)`` items as consecutive leaves; the first leaf index.

    Call inside the capture transaction: the head row update serialises concurrent appenders
    until that transaction ends, so leaves, tiles and size stay consistent across processes.
    """
    k = len(items)
    if k == 0:
        return current_size(conn)
    inputs: list[bytes] = []
    for seq, digest in items:
        if len(digest) != merkle.HASH_SIZE:
            raise LedgerError(f"event seq {seq}: event hash is {len(digest)} bytes, expected 32")
        inputs.append(bytes(digest))
    new_size = conn.execute(
        update(ledger_head)
        .where(ledger_head.c.id == HEAD_ID)
        .values(tree_size=ledger_head.c.tree_size + k)
        .returning(ledger_head.c.tree_size)
    ).scalar()
    if new_size is None:
        raise LedgerError("the ledger tables are not initialised: upgrade the database schema")
    first = int(new_size) - k
    edge_keys = [key for key, _ in edge_tiles(first)]
    edge = fetch_tiles(conn, edge_keys)
    changed = extend(first, edge, merkle.leaf_hashes(inputs))

    ph = _placeholder(conn)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        rows = [(first + i, seq, inputs[i]) for i, (seq, _) in enumerate(items)]
        if conn.dialect.name == "postgresql":  # COPY: far cheaper than parsing a 3,000-parameter INSERT
            with cursor.copy("COPY ledger_leaf (leaf_index, seq, event_hash) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO ledger_leaf (leaf_index, seq, event_hash) VALUES ({ph},{ph},{ph})", rows)
        updates = [(data, level, index) for (level, index), data in changed.items() if (level, index) in edge]
        inserts = [(level, index, data) for (level, index), data in changed.items() if (level, index) not in edge]
        if updates:
            cursor.executemany(
                f"UPDATE ledger_tile SET hashes = {ph} WHERE level = {ph} AND tile_index = {ph}", updates
            )
        if inserts:
            cursor.executemany(f"INSERT INTO ledger_tile (level, tile_index, hashes) VALUES ({ph},{ph},{ph})", inserts)
    finally:
        cursor.close()
    return first


def root_at(conn: Connection, size: int) -> bytes:
    """Root hash of the tree of the first ``size`` leaves."""
    return merkle.root_hash(tile_reader(conn), size)


def _stored_checkpoint(conn: Connection, size: int) -> tuple[bytes, str] | None:
    c = ledger_checkpoint.c
    row = conn.execute(select(c.root, c.note).where(c.tree_size == size)).first()
    return (bytes(row[0]), str(row[1])) if row else None


def checkpoint_at(conn: Connection, size: int) -> str | None:
    """The signed checkpoint stored for ``size``, if that size was ever signed."""
    stored = _stored_checkpoint(conn, size)
    return stored[1] if stored else None


def latest_checkpoint(conn: Connection, signer: note.Signer) -> str:
    """A signed checkpoint for the current tree size (signed once per size, then reused)."""
    size = current_size(conn)
    return _checkpoint_for(conn, signer, size)


def _checkpoint_for(conn: Connection, signer: note.Signer, size: int) -> str:
    stored = _stored_checkpoint(conn, size)
    if stored is not None:
        try:
            open_checkpoint(stored[1], [signer.verifier], signer.name)
            return stored[1]
        except CheckpointError:
            pass  # signed with an earlier key or origin: sign again below
    root = root_at(conn, size)
    if stored is not None and stored[0] != root:
        raise LedgerIntegrityError(
            f"the stored tree gives a different root at size {size} than the checkpoint signed earlier: "
            "refusing to sign; run `zhuisu ledger audit`"
        )
    _check_grows_from_previous(conn, signer, size, root)
    signed = Checkpoint(signer.name, size, root).sign(signer)
    values = {"tree_size": size, "root": root, "note": signed, "created_at": time.time_ns() // 1000}
    if stored is not None:
        conn.execute(
            update(ledger_checkpoint)
            .where(ledger_checkpoint.c.tree_size == size)
            .values(note=signed, created_at=values["created_at"])
        )
    else:
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(dialect_insert(ledger_checkpoint).values(**values).on_conflict_do_nothing())
    return signed


def _check_grows_from_previous(conn: Connection, signer: note.Signer, size: int, root: bytes) -> None:
    """Never sign a tree that does not extend the last one signed (a changed tile would fork the log)."""
    c = ledger_checkpoint.c
    prev = conn.execute(
        select(c.tree_size, c.root, c.note).where(c.tree_size < size).order_by(c.tree_size.desc()).limit(1)
    ).first()
    if prev is None or int(prev[0]) == 0:
        return
    prev_size, prev_root = int(prev[0]), bytes(prev[1])
    # The signed note is the authentic record; the root column is all there is for an earlier key.
    with contextlib.suppress(CheckpointError):
        prev_root = open_checkpoint(str(prev[2]), [signer.verifier], signer.name).root
    try:
        proof = merkle.consistency_proof(tile_reader(conn), prev_size, size)
        merkle.verify_consistency(prev_size, size, prev_root, root, proof)
    except (merkle.ProofError, TileError) as exc:
        raise LedgerIntegrityError(
            f"the stored tree at size {size} does not extend the checkpoint signed at size {prev_size} ({exc}): "
            "refusing to sign; run `zhuisu ledger audit`"
        ) from exc


def _leaf_of_event(conn: Connection, event_id: str) -> tuple[int, int, bytes]:
    e, leaf = epcis_event.c, ledger_leaf.c
    row = conn.execute(
        select(leaf.leaf_index, leaf.seq, leaf.event_hash)
        .select_from(epcis_event.join(ledger_leaf, leaf.seq == e.seq))
        .where(e.event_id == event_id)
    ).first()
    if row is None:
        known = conn.execute(select(e.seq).where(e.event_id == event_id)).first()
        if known is None:
            raise UnknownEvent(f"no event with eventID {event_id!r}")
        raise UnknownEvent(f"event {event_id!r} is stored but has no log entry")
    return int(row[0]), int(row[1]), bytes(row[2])


def inclusion_proof(conn: Connection, event_id: str, tree_size: int | None = None) -> InclusionProof:
    """Log position of the event and its audit path in the tree of ``tree_size`` leaves (default: now)."""
    index, seq, digest = _leaf_of_event(conn, event_id)
    current = current_size(conn)
    size = current if tree_size is None else tree_size
    if size > current:
        raise LedgerError(f"tree_size {size} is larger than the log ({current} leaves)")
    if index >= size:
        raise LedgerError(f"event {event_id!r} is at leaf {index}, not inside a tree of size {size}")
    path = merkle.inclusion_proof(tile_reader(conn), index, size)
    return InclusionProof(event_id, seq, index, size, digest, tuple(path))


def consistency_proof(conn: Connection, first: int, second: int) -> list[bytes]:
    """Proof that the tree of ``first`` leaves is a prefix of the tree of ``second`` leaves."""
    current = current_size(conn)
    if first <= 0:
        raise LedgerError(f"first={first}: must be at least 1 (an empty tree has no consistency proof)")
    if second < first:
        raise LedgerError(f"second={second} is smaller than first={first}")
    if second > current:
        raise LedgerError(f"second={second} is larger than the log ({current} leaves)")
    return merkle.consistency_proof(tile_reader(conn), first, second)


def event_evidence(conn: Connection, signer: note.Signer, event_id: str) -> Evidence:
    """For the trace page: the event's log position, the latest signed checkpoint and the proof."""
    signed = latest_checkpoint(conn, signer)
    size = Checkpoint.parse_text(signed[: signed.rindex("\n\n") + 1]).size
    return Evidence(inclusion_proof(conn, event_id, size), signed)


def event_body(conn: Connection, event_id: str) -> Any:
    """The stored event (JSON-LD form), for verifiers that re-hash it."""
    body = conn.execute(select(epcis_event.c.body).where(epcis_event.c.event_id == event_id)).scalar()
    if body is None:
        raise UnknownEvent(f"no event with eventID {event_id!r}")
    return orjson.loads(body)


# Every column the event row repeats from its body (the audit re-derives them), not where it came from.
_AUDIT_EVENT_COLUMNS = tuple(c for c in EVENT_COLUMNS if c not in ("capture_id", "source_platform", "body"))


def _event_rows(conn: Connection, where: Any) -> list[EventRow]:
    cols = [epcis_event.c.seq, epcis_event.c.body, *(epcis_event.c[name] for name in _AUDIT_EVENT_COLUMNS)]
    out = []
    for row in conn.execute(select(*cols).where(where)):
        m = row._mapping
        columns = {name: m[name] for name in _AUDIT_EVENT_COLUMNS}
        out.append(EventRow(int(m["seq"]), str(m["event_id"]), str(m["body"]), columns))
    return out


def audit(
    conn: Connection,
    verifiers: Sequence[note.Verifier] | None,
    *,
    rehash: Rehash | None = None,
    recolumn: Recolumn | None = None,
    origin: str | None = None,
    chunk: int = 32 * TILE_WIDTH,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Re-hash every logged event, recompute the tree and compare with tiles and signed checkpoints.

    ``rehash``/``recolumn`` default to the platform's event hash and indexer
    (:func:`zhuisu.ledger.audit.default_rehash`, :func:`~zhuisu.ledger.audit.default_recolumn`).
    """
    from zhuisu.ledger.audit import default_recolumn, default_rehash

    if chunk % TILE_WIDTH:
        raise ValueError("chunk must be a multiple of the tile width")
    size = current_size(conn)
    c = ledger_checkpoint.c
    checkpoints = [
        StoredCheckpoint(int(s), bytes(r), str(n)) for s, r, n in conn.execute(select(c.tree_size, c.root, c.note))
    ]
    auditor = Auditor(size, checkpoints, verifiers, rehash or default_rehash, recolumn or default_recolumn, origin)
    leaf, tile = ledger_leaf.c, ledger_tile.c
    last = conn.execute(select(func.max(leaf.leaf_index))).scalar()
    end = max(size, int(last) + 1 if last is not None else 0)
    for start in range(0, end, chunk):
        stop = min(start + chunk, end)
        rows = [
            LeafRow(int(i), int(s), bytes(h))
            for i, s, h in conn.execute(
                select(leaf.leaf_index, leaf.seq, leaf.event_hash)
                .where(leaf.leaf_index >= start, leaf.leaf_index < stop)
                .order_by(leaf.leaf_index)
            )
        ]
        tile_hashes: dict[int, bytes] = {}
        for index, data in conn.execute(
            select(tile.tile_index, tile.hashes).where(
                tile.level == 0,
                tile.tile_index >= start >> TILE_HEIGHT,
                tile.tile_index < (stop + TILE_WIDTH - 1) >> TILE_HEIGHT,
            )
        ):
            base = int(index) << TILE_HEIGHT
            for offset, h in enumerate(split_hashes(bytes(data))):
                tile_hashes[base + offset] = h
        seqs = [r.seq for r in rows]
        events = {e.seq: e for e in _event_rows(conn, epcis_event.c.seq.in_(seqs))} if seqs else {}
        auditor.feed(rows, tile_hashes, events)
        auditor.feed_gap(stop, tile_hashes)
        if progress:
            progress(stop, end)
    upper = {
        (int(level), int(index)): bytes(data)
        for level, index, data in conn.execute(select(tile.level, tile.tile_index, tile.hashes).where(tile.level > 0))
    }
    logged = select(leaf.seq).where(leaf.seq == epcis_event.c.seq).exists()
    unlogged = _event_rows(conn, ~logged)
    return auditor.finish(upper, unlogged)


def audit_database(
    engine: Engine,
    verifiers: Sequence[note.Verifier] | None,
    **options: Any,
) -> AuditReport:
    """:func:`audit` in one read snapshot (REPEATABLE READ on PostgreSQL), while captures go on."""
    if not inspect(engine).has_table("ledger_head"):
        raise LedgerError("this database has no ledger tables: is it a zhuisu database, upgraded to the newest schema?")
    conn = engine.connect()
    try:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return audit(conn, verifiers, **options)
    finally:
        conn.close()


def tile_rows(conn: Connection) -> Mapping[TileKey, bytes]:
    """Every stored tile (tests and tools)."""
    t = ledger_tile.c
    return {(int(a), int(b)): bytes(h) for a, b, h in conn.execute(select(t.level, t.tile_index, t.hashes))}
