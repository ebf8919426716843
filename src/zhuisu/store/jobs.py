"""Capture jobs: created when a document arrives, finished when its events are stored or refused.

A job remembers the party it captures for (``party``) and who sent it (``actor``, ``role:subject``), so a job
resumed after a restart captures for the same party and is audited under the same name; its finish writes the
``epcis.capture`` audit entry in the same transaction as the job's outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import Engine, select, update

from zhuisu.access.principal import ROLES, Principal
from zhuisu.store import audit
from zhuisu.store.schema import capture_job


def create(
    engine: Engine,
    capture_id: str,
    *,
    behaviour: str,
    media_type: str,
    created_at: int,
    party: str | None = None,
    actor: Principal | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            capture_job.insert().values(
                capture_id=capture_id,
                created_at=created_at,
                running=True,
                success=True,
                error_behaviour=behaviour,
                media_type=media_type,
                event_count=0,
                stored_count=0,
                duplicate_count=0,
                party=party,
                actor=f"{actor.role}:{actor.subject}" if actor is not None else None,
            )
        )


def actor_of(job: Mapping[str, Any]) -> Principal | None:
    """The principal that sent a job (as far as the job remembers it: role, subject, party)."""
    role, _, subject = (job.get("actor") or "").partition(":")
    if role not in ROLES or not subject:
        return None
    party = job.get("party")
    return Principal(role=role, subject=subject, parties=frozenset({party}) if party else frozenset())  # type: ignore[arg-type]


def finish(
    engine: Engine,
    capture_id: str,
    *,
    finished_at: int,
    success: bool,
    event_count: int,
    stored: int,
    duplicates: int,
    errors: Iterable[Mapping[str, Any]],
    actor: Principal | None = None,
    remote: str | None = None,
) -> None:
    """Record a job's outcome; with ``actor``, also its ``epcis.capture`` audit entry (same transaction)."""
    errors = list(errors)
    with engine.begin() as conn:
        if actor is not None:
            row = conn.execute(select(capture_job.c.party).where(capture_job.c.capture_id == capture_id)).first()
            audit.record(
                conn,
                actor,
                "epcis.capture",
                target_type="capture",
                target_id=capture_id,
                detail={
                    "party": row[0] if row else None,
                    "success": success,
                    "events": event_count,
                    "stored": stored,
                    "duplicates": duplicates,
                    "errors": len(errors),
                },
                remote=remote,
            )
        conn.execute(
            update(capture_job)
            .where(capture_job.c.capture_id == capture_id)
            .values(
                finished_at=finished_at,
                running=False,
                success=success,
                event_count=event_count,
                stored_count=stored,
                duplicate_count=duplicates,
                errors=orjson.dumps(errors).decode(),
            )
        )


def get(engine: Engine, capture_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(capture_job).where(capture_job.c.capture_id == capture_id)).mappings().first()
    return _as_dict(row) if row else None


def list_jobs(
    engine: Engine, *, limit: int, before: int | None = None, parties: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Newest first; ``before`` is the ``created_at`` of the last job of the previous page; ``parties`` (when
    given) keeps only jobs captured for one of them."""
    stmt = select(capture_job).order_by(capture_job.c.created_at.desc(), capture_job.c.capture_id.desc())
    if parties is not None:
        stmt = stmt.where(capture_job.c.party.in_(sorted(parties)))
    if before is not None:
        stmt = stmt.where(capture_job.c.created_at < before)
    with engine.connect() as conn:
        return [_as_dict(r) for r in conn.execute(stmt.limit(limit)).mappings()]


def running(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(capture_job).where(capture_job.c.running.is_(True))).mappings().all()
    return [_as_dict(r) for r in rows]


def _as_dict(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["errors"] = orjson.loads(out["errors"]) if out.get("errors") else []
    return out
