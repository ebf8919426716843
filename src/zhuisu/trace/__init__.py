"""The trace engine: the lineage graph derived from events; backward and forward trace, chain synthesis and
recall impact as walks over it.

``trace(conn, identifier, direction, principal)``, ``chain(conn, identifier, principal)`` and
``recall_impact(conn, identifiers, principal)`` take a SQLAlchemy connection (any store) and answer with the
dataclasses of ``zhuisu.trace.model``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from zhuisu.access.principal import PUBLIC, Principal

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from zhuisu.trace.model import Chain, RecallImpact, TraceResult
    from zhuisu.trace.walk import Direction


def trace(
    conn: Connection, identifier: str, direction: Direction = "both", principal: Principal = PUBLIC
) -> TraceResult:
    """Backward / forward / both trace of one identifier (EPC URN, Digital Link, lot, platform code)."""
    from zhuisu.trace import engine

    return engine.trace(conn, identifier, direction, principal)


def chain(conn: Connection, identifier: str, principal: Principal = PUBLIC) -> Chain:
    """The ordered steps of one product's life (追溯链条合成)."""
    from zhuisu.trace import engine

    return engine.chain(conn, identifier, principal)


def recall_impact(conn: Connection, identifiers: Iterable[str], principal: Principal = PUBLIC) -> RecallImpact:
    """Recall impact (销售范围及影响评估) of a set of lots or serials."""
    from zhuisu.trace import engine

    return engine.recall_impact(conn, identifiers, principal)


__all__ = ["chain", "recall_impact", "trace"]
