"""Alembic environment: runs on the engine handed over by ``zhuisu.store.db.upgrade``."""

from __future__ import annotations

from alembic import context

from zhuisu.store.db import make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
