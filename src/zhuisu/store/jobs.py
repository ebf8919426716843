"""Capture jobs: created when a document arrives, finished when its events are stored or refused."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import Engine, select, update

from zhuisu.store.schema import capture_job


def create(engine: Engine, capture_id: str, *, behaviour: str, media_type: str, created_at: int) -> None:
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
            )
        )


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
) -> None:
    with engine.begin() as conn:
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
                errors=orjson.dumps(list(errors)).decode(),
            )
        )


def get(engine: Engine, capture_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(capture_job).where(capture_job.c.capture_id == capture_id)).mappings().first()
    return _as_dict(row) if row else None


def list_jobs(engine: Engine, *, limit: int, before: int | None = None) -> list[dict[str, Any]]:
    """Newest first; ``before`` is the ``created_at`` of the last job of the previous page."""
    stmt = select(capture_job).order_by(capture_job.c.created_at.desc(), capture_job.c.capture_id.desc())
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
