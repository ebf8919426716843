"""A fresh, empty database for one benchmark run, dropped afterwards: an SQLite file in a temporary folder, or
a schema of its own on the PostgreSQL server ``ZHUISU_BENCH_PG`` names (default: the local ``test`` database).

    from fresh import fresh_database  # the benchmarks run as scripts, with this folder on sys.path

    with fresh_database("postgresql") as (url, sqlite_file):
        ...
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_ADMIN = os.environ.get("ZHUISU_BENCH_PG", "postgresql://127.0.0.1:5432/test")


@contextmanager
def fresh_database(store: str) -> Iterator[tuple[str, Path | None]]:
    """(database URL, the SQLite file or None) of a new database of ``store`` (sqlite or postgresql)."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="zhuisu-bench-") as tmp:
            path = Path(tmp) / "bench.db"
            yield f"sqlite:///{path}", path
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://{PG_ADMIN.split('://', 1)[1]}?options=-csearch_path%3D{schema}", None
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
