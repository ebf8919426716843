"""Access data: users, sessions, API keys, and which parties each stored event concerns (``event_party``).

SKELETON — the access helper replaces the bodies below; the signatures are the contract other modules use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from zhuisu.access.principal import Principal
from zhuisu.epcis.index import IndexedEvent


def record_event_parties(conn: Connection, stored: Sequence[tuple[int, IndexedEvent]], owner: str | None) -> None:
    """Inside the capture transaction: note which parties each newly stored event concerns.

    ``owner`` is the party code the event was captured for (None: captured by the platform itself, e.g. from
    another platform's feed); partners are the parties owning the event's locations, sources and destinations.
    """


def visible_seqs(conn: Connection, principal: Principal, seqs: Iterable[int]) -> set[int]:
    """The subset of event ``seqs`` that ``principal`` may see (at least in part)."""
    return set(seqs)
