"""The append-only audit log: who did what, when, to what, from where. Written in the caller's transaction,
so a change and its audit entry are stored together or not at all. Nothing here updates or deletes."""

from __future__ import annotations

import time
from typing import Any

import orjson
from sqlalchemy import BigInteger, Column, Connection, Index, String, Table, Text, insert

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
