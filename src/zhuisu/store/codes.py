"""Issued trace codes (发码) and their batches: storing a million codes in seconds, never the same code twice.

``code_batch`` keeps one row per issuing request (who, when, which product, how many); ``issued_code`` one row
per code, with a UNIQUE index on the code's canonical form (``IssuedCode.canonical``). Uniqueness is the
database's job, so it holds for concurrent issuers in other processes and across restarts: random parts are
drawn (``zhuisu.codes.issue.draw_random_parts``), a chunk is written inside a savepoint, and should any code of
the chunk already exist (a collision of 60-bit random parts, or a given lot issued before) the savepoint is
rolled back and the codes found taken are drawn again. Issuers of the same GTIN or party take turns (SQLite:
one writer at a time; PostgreSQL: a transaction-scoped advisory lock), so a collision is always with a committed
code; issuers of different products run side by side (their codes cannot collide).

Bulk writes: PostgreSQL takes each chunk by ``COPY … FROM STDIN``; SQLite by ``executemany`` inside the one
``writing`` transaction (BEGIN IMMEDIATE), so a whole batch and its audit entry are stored together or not at all.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Engine, Index, Integer, String, Table, Text, insert, select, text

from zhuisu.access.principal import Principal
from zhuisu.codes.issue import (
    CodeSpec,
    IssueBatch,
    IssuedCode,
    ProductLike,
    canonical_code,
    check_count,
    draw_random_parts,
    make_spec,
)
from zhuisu.store import audit
from zhuisu.store.db import writing
from zhuisu.store.schema import BigId, metadata

__all__ = [
    "CHUNK",
    "MAX_COUNT",
    "CodeConflict",
    "code_batch",
    "count_batch_codes",
    "get_batch",
    "issue_codes",
    "issued_code",
    "iter_batch_codes",
    "list_batch_codes",
    "list_product_codes",
    "lookup_code",
]

MAX_COUNT = 10_000_000  # most codes in one batch
CHUNK = 50_000  # codes drawn and written per savepoint
_ATTEMPTS = 20  # tries to write one chunk before giving up (only a test's tiny random space gets near)

code_batch = Table(
    "code_batch",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("product_id", Text, nullable=False),
    Column("party_code", Text, nullable=False),
    Column("kind", String(8), nullable=False),  # serial | lot
    Column("count", Integer, nullable=False),
    Column("lot", Text, nullable=True),
    Column("issued_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("issued_by", Text, nullable=False),  # principal subject
    Column("resolver_base", Text, nullable=False),
    Index("ix_code_batch_product", "product_id"),
    Index("ix_code_batch_party", "party_code"),
)

issued_code = Table(
    "issued_code",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", Text, nullable=False),  # exactly what the label carries
    Column("canonical", Text, nullable=False),  # identity: GS1 canonical Digital Link or bare platform code
    Column("kind", String(8), nullable=False),
    Column("product_id", Text, nullable=False),
    Column("party_code", Text, nullable=False),
    Column("lot", Text, nullable=True),
    Column("serial", Text, nullable=True),
    Column("batch_id", BigInteger, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Index("ux_issued_code_canonical", "canonical", unique=True),
    Index("ix_issued_code_batch", "batch_id", "id"),
    Index("ix_issued_code_product", "product_id", "id"),
)

_COLUMNS = ("code", "canonical", "kind", "product_id", "party_code", "lot", "serial", "batch_id", "issued_at")


class CodeConflict(Exception):
    """The codes asked for exist already (a given lot whose lot code was issued before)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _unique_violation(exc: BaseException) -> bool:
    """True for a unique-index violation from either driver (raw DBAPI or wrapped by SQLAlchemy).

    On PostgreSQL two issuers whose uncommitted chunks share codes wait for each other's index entries; the
    server breaks that deadlock by failing one statement, which is then a collision like any other."""
    orig = getattr(exc, "orig", exc)
    name = type(orig).__name__
    if name in ("UniqueViolation", "DeadlockDetected"):  # psycopg
        return True
    return name == "IntegrityError" and "UNIQUE" in str(orig).upper()


def _write_chunk(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY issued_code ({','.join(_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ",".join("?" * len(_COLUMNS))
            cursor.executemany(f"INSERT INTO issued_code ({','.join(_COLUMNS)}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def _lock_key(spec: CodeSpec) -> int:
    stem = f"zhuisu.codes:{spec.gtin14 or spec.party_code}".encode()
    return int.from_bytes(hashlib.sha256(stem).digest()[:8], "big", signed=True)


def _existing(conn: Connection, canonicals: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(canonicals), 1000):
        part = canonicals[i : i + 1000]
        found.update(conn.execute(select(issued_code.c.canonical).where(issued_code.c.canonical.in_(part))).scalars())
    return found


def _store_codes(
    conn: Connection,
    spec: CodeSpec,
    count: int,
    batch_id: int,
    issued_at: int,
    draw: Callable[[int], list[str]],
    progress: Callable[[int], None] | None,
) -> None:
    def make(parts: list[str]) -> list[tuple[Any, ...]]:
        return [
            (code, canonical, spec.kind, spec.product_id, spec.party_code, lot, serial, batch_id, issued_at)
            for code, canonical, lot, serial in spec.rows(parts)
        ]

    done = 0
    while done < count:
        n = min(CHUNK, count - done)
        rows = make(draw(n))
        for _attempt in range(_ATTEMPTS):
            # Codes the chunk itself repeats, then (after a refused write) codes stored already, are drawn again.
            unique = {r[1]: r for r in rows}
            if len(unique) < len(rows):
                rows = [*unique.values(), *make(draw(len(rows) - len(unique)))]
                continue
            savepoint = conn.begin_nested()
            try:
                _write_chunk(conn, rows)
            except Exception as exc:
                savepoint.rollback()
                if not _unique_violation(exc):
                    raise
                if spec.fixed:
                    raise CodeConflict("lot", f"the lot code for lot {spec.lot!r} was issued before") from exc
                taken = _existing(conn, [r[1] for r in rows])
                keep = [r for r in rows if r[1] not in taken] if taken else []
                rows = keep + make(draw(len(rows) - len(keep)))
                continue
            savepoint.commit()
            break
        else:
            raise CodeConflict("count", f"could not draw {n} unused codes in {_ATTEMPTS} attempts")
        done += n
        if progress is not None:
            progress(n)


def issue_codes(
    engine: Engine,
    principal: Principal,
    product: ProductLike,
    kind: str,
    count: int,
    lot: str | None = None,
    *,
    resolver_base: str | None = None,
    remote: str | None = None,
    draw: Callable[[int], list[str]] = draw_random_parts,
    progress: Callable[[int], None] | None = None,
) -> IssueBatch:
    """Issue ``count`` new codes of ``product`` in one transaction, with the batch row and an audit entry.

    Raises ``IssueError`` for a bad request (nothing written) and ``CodeConflict`` when a given lot's code exists.
    ``resolver_base`` defaults to ``Settings().resolver_base``; ``progress`` is called with each chunk's size.
    Access (``may_issue``) is the caller's check."""
    if resolver_base is None:
        from zhuisu.config import Settings

        resolver_base = Settings().resolver_base
    spec = make_spec(product, kind, resolver_base=resolver_base, lot=lot)
    check_count(spec, count, MAX_COUNT)
    issued_at = time.time_ns() // 1000
    with writing(engine) as conn:
        batch_id = conn.execute(
            insert(code_batch)
            .values(
                product_id=spec.product_id,
                party_code=spec.party_code,
                kind=spec.kind,
                count=count,
                lot=lot,
                issued_at=issued_at,
                issued_by=principal.subject,
                resolver_base=spec.resolver_base,
            )
            .returning(code_batch.c.id)
        ).scalar_one()
        if conn.dialect.name == "postgresql":
            # Issuers of one GTIN / party take turns (SQLite writers always do): a collision is then always with
            # a committed code, found and redrawn, never two open chunks waiting on each other's index entries.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(spec)})
        _store_codes(conn, spec, count, batch_id, issued_at, draw, progress)
        audit.record(
            conn,
            principal,
            "codes.issue",
            target_type="code_batch",
            target_id=str(batch_id),
            detail={"product_id": spec.product_id, "kind": spec.kind, "count": count, "lot": lot},
            remote=remote,
        )
    return IssueBatch(
        batch_id=batch_id,
        product_id=spec.product_id,
        party_code=spec.party_code,
        kind=spec.kind,
        count=count,
        lot=lot,
        issued_at=issued_at,
        issued_by=principal.subject,
        resolver_base=spec.resolver_base,
    )


def get_batch(conn: Connection, batch_id: int) -> IssueBatch | None:
    row = conn.execute(select(code_batch).where(code_batch.c.id == batch_id)).first()
    if row is None:
        return None
    return IssueBatch(
        batch_id=row.id,
        product_id=row.product_id,
        party_code=row.party_code,
        kind=row.kind,
        count=row._mapping["count"],  # Row.count is a tuple method
        lot=row.lot,
        issued_at=row.issued_at,
        issued_by=row.issued_by,
        resolver_base=row.resolver_base,
    )


def _code(row: Any) -> IssuedCode:
    return IssuedCode(
        code=row.code,
        kind=row.kind,
        product_id=row.product_id,
        party_code=row.party_code,
        lot=row.lot,
        serial=row.serial,
        canonical=row.canonical,
        batch_id=row.batch_id,
        issued_at=row.issued_at,
    )


def list_batch_codes(conn: Connection, batch_id: int, *, offset: int = 0, limit: int = 1000) -> list[IssuedCode]:
    """One page of a batch's codes, in issuing order."""
    rows = conn.execute(
        select(issued_code)
        .where(issued_code.c.batch_id == batch_id)
        .order_by(issued_code.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [_code(r) for r in rows]


def list_product_codes(
    conn: Connection, product_id: str, *, kind: str | None = None, offset: int = 0, limit: int = 1000
) -> list[IssuedCode]:
    """One page of a product's issued codes (of every batch, or of one ``kind``), in issuing order."""
    q = select(issued_code).where(issued_code.c.product_id == product_id)
    if kind is not None:
        q = q.where(issued_code.c.kind == kind)
    rows = conn.execute(q.order_by(issued_code.c.id).offset(offset).limit(limit))
    return [_code(r) for r in rows]


def iter_batch_codes(
    engine: Engine, batch_id: int, *, offset: int = 0, limit: int | None = None
) -> Iterator[IssuedCode]:
    """Every code of a batch (or ``limit`` of them from ``offset``) in issuing order, read page by page by key
    (memory stays flat for a million codes; each page in its own short read)."""
    after: int | None = None
    left = limit
    skip = offset
    while left is None or left > 0:
        page = 5000 if left is None else min(5000, left)
        with engine.connect() as conn:
            q = select(issued_code).where(issued_code.c.batch_id == batch_id).order_by(issued_code.c.id)
            if after is not None:
                q = q.where(issued_code.c.id > after)
            elif skip:
                q = q.offset(skip)
            rows = list(conn.execute(q.limit(page)))
        if not rows:
            return
        for r in rows:
            yield _code(r)
        after = rows[-1].id
        if left is not None:
            left -= len(rows)


def count_batch_codes(conn: Connection, batch_id: int) -> int:
    from sqlalchemy import func

    return int(conn.execute(select(func.count()).where(issued_code.c.batch_id == batch_id)).scalar_one())


def lookup_code(conn: Connection, code: str) -> IssuedCode | None:
    """The issued code a scanned or typed ``code`` stands for — the label's URL, the bare platform code, a Digital
    Link on any domain, an element string or EPC URN of the same GS1 key — or None (never issued here)."""
    canonical = canonical_code(code)
    if canonical is None:
        return None
    row = conn.execute(select(issued_code).where(issued_code.c.canonical == canonical)).first()
    return _code(row) if row is not None else None
