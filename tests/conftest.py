"""Shared fixtures: every database test runs on a fresh SQLite file and a fresh PostgreSQL schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN = os.environ.get("ZHUISU_TEST_PG", "postgresql://127.0.0.1:5432/test")
DATA = Path(__file__).parent / "data"


def _pg_unreachable() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect means: skip the PostgreSQL half, loudly
        return f"PostgreSQL not reachable at {PG_ADMIN}: {exc.__class__.__name__}: {exc}".strip()


_PG_REASON: str | bool | None = False


def pg_reason() -> str | None:
    global _PG_REASON
    if _PG_REASON is False:
        _PG_REASON = _pg_unreachable()
    return _PG_REASON  # type: ignore[return-value]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database (no tables yet): a new SQLite file or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zhuisu.db'}"
        return
    reason = pg_reason()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def engine(db_url: str) -> Iterator[object]:
    """An engine on a fresh database with the schema migrated to the newest version."""
    from zhuisu.store.db import open_store

    eng = open_store(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


# The per-file pass rates of the external identifier vectors, printed at the end of every run
# (a plugin loaded here, so the xdist controller — not only its workers — prints the table).
pytest_plugins = ["codes.vector_summary"]
