"""Engines and schema migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000  # how long an SQLite transaction waits for another one's write lock


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL and foreign keys, PostgreSQL uses psycopg 3.

    ``postgresql://`` URLs are taken as ``postgresql+psycopg://``.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, issue BEGIN, so transactions mean what they say.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # 16 KiB pages (a new database only; an existing file keeps its size): shallower B-trees and fewer
            # pages written per capture, ~15 % less writer CPU than 4 KiB on the capture benchmark.
            cur.execute("PRAGMA page_size=16384")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Readers never take the write lock; writers (see ``writing``) take it at BEGIN, so a
            # read-then-write transaction cannot fail half-way on a lock upgrade.
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def for_writing(conn: Connection) -> Connection:
    """Mark a connection's transactions as write transactions (SQLite: BEGIN IMMEDIATE)."""
    return conn.execution_options(sqlite_immediate=True)


def json_unnest(dialect: str, param: str) -> str:
    """A SELECT of the texts of a JSON array given as the one parameter ``param`` (its placeholder).

    Capture passes its identifier lists this way: one parameter however long the list, where a thousand-element
    array parameter costs psycopg more CPU to send (it scans each element for quoting) than the statement takes,
    and the index on the compared column is still used on both databases.
    """
    if dialect == "postgresql":
        return f"SELECT json_array_elements_text(CAST({param} AS json))"
    return f"SELECT value FROM json_each({param})"


class DatabaseBusy(Exception):
    """Another transaction is writing (on SQLite, a long capture holds the database) and the caller would not wait."""


@contextmanager
def writing(engine: Engine, *, wait: bool = True) -> Iterator[Connection]:
    """A write transaction: committed on success, rolled back on error.

    ``wait=False`` is for bookkeeping a request may skip (when a key or session was last used): DatabaseBusy is
    raised instead of waiting for another transaction's lock — on SQLite, where one transaction writes at a time
    and a large capture writes for minutes, at once (not after the 30 s busy timeout, failing the request); on
    PostgreSQL after 50 ms waiting for a row lock.
    """
    with engine.connect() as conn:
        for_writing(conn)
        sqlite = conn.dialect.name == "sqlite"
        if not wait and sqlite:
            conn.connection.driver_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if not wait and not sqlite:
                    conn.exec_driver_sql("SET LOCAL lock_timeout = '50ms'")
                yield conn
        except OperationalError as exc:
            if not wait and ("locked" in str(exc.orig) or getattr(exc.orig, "sqlstate", None) == "55P03"):
                raise DatabaseBusy(str(exc.orig)) from exc
            raise
        finally:
            if not wait and sqlite:
                conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"
                )


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (default: the newest); safe to call on every start."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def open_store(url: str) -> Engine:
    """Engine with the schema upgraded to the newest version (what ``zhuisu serve`` does on start)."""
    engine = make_engine(url)
    upgrade(engine)
    return engine
