"""The lineage graph's tables and SQL: kept up to date inside each capture transaction.

SKELETON — the lineage helper replaces the body below; the signature is the contract capture uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from zhuisu.epcis.index import IndexedEvent


def record(conn: Connection, stored: Sequence[tuple[int, IndexedEvent]]) -> None:
    """Inside the capture transaction: add the nodes and edges the newly stored events imply (seq order)."""
