"""The append-only audit log: who did what, when, to what, from where. Written in the caller's transaction,
so a change and its audit entry are stored together or not at all. Nothing here updates or deletes: the
table is append-only (no code path changes or removes an entry; ``query`` reads it).

Actions in use: ``epcis.capture`` (detail: counts, capture id, behaviour), ``apikey.create`` / ``apikey.revoke``,
``user.create`` / ``user.update``, ``auth.login`` / ``auth.login_failed`` / ``auth.logout``,
``client.authorise`` / ``client.withdraw``, and the registry's own (``party.*``, ``location.*``, ``product.*``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    String,
    Table,
    Text,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from zhuisu.access.principal import Principal
from zhuisu.store.schema import BigId, metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("actor", Text, nullable=False),  # principal subject
    Column("role", String(16), nullable=False),
    Column("parties", Text, nullable=True),  # party codes the actor acted for, space-separated
    Column("action", String(64), nullable=False),  # e.g. enterprise.create, epcis.capture, apikey.revoke
    Column("target_type", String(32), nullable=True),
    Column("target_id", Text, nullable=True),
    Column("detail", Text, nullable=True),  # JSON
    Column("remote", Text, nullable=True),  # client address
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_target", "target_type", "target_id"),
    Index("ix_audit_log_actor", "actor"),
)


def record(
    conn: Connection,
    principal: Principal,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    detail: dict[str, Any] | None = None,
    remote: str | None = None,
) -> None:
    """Append one entry, inside ``conn``'s open transaction."""
    conn.execute(
        insert(audit_log).values(
            at=time.time_ns() // 1000,
            actor=principal.subject,
            role=principal.role,
            parties=" ".join(sorted(principal.parties)) or None,
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=orjson.dumps(detail).decode() if detail is not None else None,
            remote=remote,
        )
    )


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What ``query`` selects; every field optional (ANDed)."""

    actor: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("registry.")
    target_type: str | None = None
    target_id: str | None = None
    party: str | None = None  # entries made by someone acting for this party, or about it
    since: int | None = None  # microseconds, inclusive
    until: int | None = None  # microseconds, exclusive


def _mentions(party_col: Any, code: Any) -> ColumnElement[bool]:
    """Whether a space-separated party list contains ``code`` (a literal or a column)."""
    return (literal(" ") + func.coalesce(party_col, "") + literal(" ")).like(literal("% ") + code + literal(" %"))


def query(
    conn: Connection,
    f: AuditFilter,
    *,
    limit: int,
    before: int | None = None,
    jurisdiction: Any = None,
) -> list[dict[str, Any]]:
    """Entries matching ``f``, newest first, ``limit`` of them with id below ``before`` (keyset paging).

    ``jurisdiction`` (a SELECT of party codes) keeps only entries made for, or about, one of those parties:
    what a regulator may read.
    """
    a = audit_log.c
    where: list[ColumnElement[bool]] = []
    if f.actor:
        where.append(a.actor == f.actor)
    if f.action:
        where.append(a.action.startswith(f.action) if f.action.endswith(".") else a.action == f.action)
    if f.target_type:
        where.append(a.target_type == f.target_type)
    if f.target_id:
        where.append(a.target_id == f.target_id)
    if f.party:
        where.append(or_(_mentions(a.parties, literal(f.party)), a.target_id == f.party))
    if f.since is not None:
        where.append(a.at >= f.since)
    if f.until is not None:
        where.append(a.at < f.until)
    if before is not None:
        where.append(a.id < before)
    if jurisdiction is not None:
        codes = jurisdiction.subquery()
        code = codes.c[0]
        where.append(
            or_(
                exists(select(literal(1)).select_from(codes).where(_mentions(a.parties, code))),
                a.target_id.in_(select(code)),
            )
        )
    rows = conn.execute(select(audit_log).where(*where).order_by(a.id.desc()).limit(limit))
    return [_entry(r) for r in rows]


def _entry(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "actor": row.actor,
        "role": row.role,
        "parties": row.parties.split() if row.parties else [],
        "action": row.action,
        "targetType": row.target_type,
        "targetId": row.target_id,
        "detail": orjson.loads(row.detail) if row.detail else None,
        "remote": row.remote,
    }
