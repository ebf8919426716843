"""Scans of codes at the resolver (扫码记录) and each code's running counters and counterfeit flag.

Tables:

- ``code_scan`` — one row per counted scan: the code (canonical Digital Link or platform code), when,
  the GB/T 2260 region if known, and how it was asked (``page`` or ``redirect``). No IP address or
  device data is kept.
- ``code_scan_stat`` — one row per code: scan count, first and last scan time, the last known region
  and when it was seen, and the counterfeit flag (rule, time, figures) once raised.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import orjson
from sqlalchemy import BigInteger, Boolean, Column, Connection, Index, String, Table, Text, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from zhuisu.resolver.scans import Flag, ScanRules, ScanState, assess
from zhuisu.store.schema import BigId, metadata

__all__ = ["ScanSummary", "code_scan", "code_scan_stat", "record_scan", "scan_summary"]

code_scan = Table(
    "code_scan",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", Text, nullable=False),
    Column("scanned_at", BigInteger, nullable=False),
    Column("region", String(6), nullable=True),
    Column("via", String(8), nullable=False),
    Index("ix_code_scan_code", "code", "scanned_at"),
    Index("ix_code_scan_scanned_at", "scanned_at"),
)

code_scan_stat = Table(
    "code_scan_stat",
    metadata,
    Column("code", Text, primary_key=True),
    Column("serialized", Boolean, nullable=False),
    Column("scan_count", BigInteger, nullable=False),
    Column("first_scan_at", BigInteger, nullable=False),
    Column("last_scan_at", BigInteger, nullable=False),
    Column("last_region", String(6), nullable=True),
    Column("last_region_at", BigInteger, nullable=True),
    Column("flag_reason", String(32), nullable=True),
    Column("flag_at", BigInteger, nullable=True),
    Column("flag_detail", Text, nullable=True),
    Index("ix_code_scan_stat_flag", "flag_reason"),
)


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """A code's scans as the trace page shows them."""

    code: str
    count: int
    first_at: int | None
    last_at: int | None
    last_region: str | None
    flag: Flag | None


def _flag_from(row: object) -> Flag | None:
    m = row._mapping  # type: ignore[attr-defined]
    if m["flag_reason"] is None:
        return None
    detail = orjson.loads(m["flag_detail"]) if m["flag_detail"] else {}
    return Flag(**{**detail, "reason": m["flag_reason"], "at": int(m["flag_at"])})


def _state(conn: Connection, code: str, *, lock: bool) -> ScanState | None:
    stmt = select(code_scan_stat).where(code_scan_stat.c.code == code)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        return None
    m = row._mapping
    return ScanState(
        count=int(m["scan_count"]),
        first_at=int(m["first_scan_at"]),
        last_at=int(m["last_scan_at"]),
        last_region=m["last_region"],
        last_region_at=None if m["last_region_at"] is None else int(m["last_region_at"]),
        flag=_flag_from(row),
    )


def record_scan(
    conn: Connection,
    code: str,
    *,
    serialized: bool,
    at: int,
    region: str | None,
    via: str = "page",
    rules: ScanRules | None = None,
) -> ScanSummary:
    """Count one scan of ``code`` and apply the counterfeit rules; call inside a write transaction.

    The code's counter row is created if missing and then locked (PostgreSQL ``FOR UPDATE``; SQLite's
    write transaction holds the database), so concurrent scans are all counted and a flag is raised once.
    """
    rules = rules or ScanRules()
    c = code_scan_stat.c
    values = {
        "code": code,
        "serialized": serialized,
        "scan_count": 0,
        "first_scan_at": at,
        "last_scan_at": at,
    }
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(postgresql.insert(code_scan_stat).values(values).on_conflict_do_nothing(index_elements=["code"]))
    else:
        conn.execute(sqlite.insert(code_scan_stat).values(values).on_conflict_do_nothing(index_elements=["code"]))
    state = _state(conn, code, lock=True)
    assert state is not None
    flag = assess(state, at, region, serialized=serialized, rules=rules)
    changes: dict[str, object] = {
        "scan_count": state.count + 1,
        "last_scan_at": max(at, state.last_at or at),
        "first_scan_at": min(at, state.first_at or at) if state.count else at,
    }
    if region:
        changes["last_region"] = region
        changes["last_region_at"] = at
    if flag is not None:
        detail = {k: v for k, v in asdict(flag).items() if k not in ("reason", "at")}
        changes.update(flag_reason=flag.reason, flag_at=flag.at, flag_detail=orjson.dumps(detail).decode())
    conn.execute(update(code_scan_stat).where(c.code == code).values(**changes))
    conn.execute(insert(code_scan).values(code=code, scanned_at=at, region=region, via=via))
    return ScanSummary(
        code=code,
        count=state.count + 1,
        first_at=int(changes["first_scan_at"]),  # type: ignore[call-overload]
        last_at=int(changes["last_scan_at"]),  # type: ignore[call-overload]
        last_region=region or state.last_region,
        flag=flag or state.flag,
    )


def scan_summary(conn: Connection, code: str) -> ScanSummary:
    """A code's scans so far (count 0 when never scanned)."""
    state = _state(conn, code, lock=False)
    if state is None:
        return ScanSummary(code, 0, None, None, None, None)
    return ScanSummary(code, state.count, state.first_at, state.last_at, state.last_region, state.flag)


def flagged_codes(conn: Connection, limit: int = 100) -> list[ScanSummary]:
    """Codes flagged as possibly counterfeit, newest flag first (for regulators' early warnings)."""
    rows = conn.execute(
        select(code_scan_stat)
        .where(code_scan_stat.c.flag_reason.is_not(None))
        .order_by(code_scan_stat.c.flag_at.desc())
        .limit(limit)
    ).all()
    out = []
    for row in rows:
        m = row._mapping
        out.append(
            ScanSummary(
                str(m["code"]),
                int(m["scan_count"]),
                int(m["first_scan_at"]),
                int(m["last_scan_at"]),
                m["last_region"],
                _flag_from(row),
            )
        )
    return out
