"""What every ``zhuisu`` command shares: the ``--db`` option, one-sentence errors, opening the database."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine

err = Console(stderr=True)

DbOption = Annotated[
    str, typer.Option("--db", envvar="ZHUISU_DB", help="Database URL (sqlite:/// or postgresql+psycopg://).")
]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr (no markup: the message may hold brackets) and exit with ``code``."""
    err.print(f"error: {message}", highlight=False, markup=False)
    raise typer.Exit(code)


def open_engine(db: str) -> Engine:
    """The database at ``db``, migrated to the newest schema; a plain sentence when it cannot be opened."""
    from sqlalchemy.exc import SQLAlchemyError

    from zhuisu.store.db import open_store

    try:
        return open_store(db)
    except SQLAlchemyError as exc:
        fail(f"cannot open the database {db}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
