"""Access data: users, sessions, API keys, log-in failures, client authorisations, and which parties each
stored event concerns (``event_party``).

Secrets are never stored: passwords as argon2id hashes (``zhuisu.access.passwords``), API keys and session
tokens as their SHA-256 (they are 256-bit random strings, so a fast hash is as safe as a slow one and keeps
every request cheap). Sets of party codes, regions, sectors and scopes are stored space-separated.

``event_party`` is written inside each capture transaction: one ``owner`` row (the party the event was
captured for) and one ``partner`` row per other registered party that owns a location, source or destination
the event names. Visibility (``visibility_condition``) is an ``EXISTS`` over it, so it pages with the query.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    delete,
    false,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from zhuisu.access.principal import Principal, Role
from zhuisu.epcis.index import IndexedEvent
from zhuisu.store import registry
from zhuisu.store.schema import BigId, epcis_event, metadata

app_user = Table(
    "app_user",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", Text, nullable=False, default=""),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("parties", Text, nullable=False, default=""),
    Column("regions", Text, nullable=False, default=""),
    Column("sectors", Text, nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", BigInteger, nullable=False),
    Column("password_changed_at", BigInteger, nullable=False),
)

user_session = Table(
    "user_session",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # absolute end, whatever the activity
    Column("remote", Text, nullable=True),
    Index("ix_user_session_user", "user_id"),
)

api_key = Table(
    "api_key",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # the first characters, to recognise a key in lists
    Column("name", Text, nullable=False, default=""),
    Column("role", String(16), nullable=False),
    Column("parties", Text, nullable=False, default=""),  # enterprise keys: the party; client keys: unused
    Column("regions", Text, nullable=False, default=""),
    Column("sectors", Text, nullable=False, default=""),
    Column("scopes", Text, nullable=False, default=""),
    Column("client", Text, nullable=True),  # platform clients: the client name authorisations refer to
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Column("last_used_at", BigInteger, nullable=True),
)

login_failure = Table(
    "login_failure",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=True),
)

client_authorisation = Table(
    "client_authorisation",
    metadata,
    Column("client", String(128), primary_key=True),
    Column("party", String(64), primary_key=True),
    Column("granted_at", BigInteger, nullable=False),
    Column("granted_by", Text, nullable=False),
)

event_party = Table(
    "event_party",
    metadata,
    Column("seq", BigInteger, nullable=False),
    Column("party", String(64), nullable=False),
    Column("relation", String(8), nullable=False),  # owner | partner
    Index("ix_event_party_party", "party", "seq"),
    Index("ix_event_party_seq", "seq"),
)


def now_micros() -> int:
    return time.time_ns() // 1000


def _words(values: Iterable[str]) -> str:
    return " ".join(sorted(set(values)))


def _split(text: str | None) -> list[str]:
    return text.split() if text else []


def _regions_text(regions: Iterable[str]) -> str:
    return " ".join(r or "*" for r in regions)  # "" (nationwide) is kept as "*"


def _regions(text: str | None) -> tuple[str, ...]:
    return tuple("" if r == "*" else r for r in _split(text))


# --- users ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    display_name: str
    password_hash: str
    role: Role
    parties: frozenset[str]
    regions: tuple[str, ...]
    sectors: frozenset[str]
    active: bool
    created_at: int

    def principal(self) -> Principal:
        return Principal(
            role=self.role,
            subject=f"user:{self.id}",
            parties=self.parties,
            regions=self.regions,
            sectors=self.sectors,
            name=self.username,
        )

    def public(self) -> dict[str, Any]:
        """The user as the API shows it (never the password hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "displayName": self.display_name,
            "role": self.role,
            "parties": sorted(self.parties),
            "regions": list(self.regions),
            "sectors": sorted(self.sectors),
            "active": self.active,
            "createdAt": self.created_at,
        }


def _user(row: Any) -> UserRow:
    return UserRow(
        id=row.id,
        username=row.username,
        display_name=row.display_name or "",
        password_hash=row.password_hash,
        role=row.role,
        parties=frozenset(_split(row.parties)),
        regions=_regions(row.regions),
        sectors=frozenset(_split(row.sectors)),
        active=bool(row.active),
        created_at=row.created_at,
    )


def create_user(
    conn: Connection,
    *,
    username: str,
    password_hash: str,
    role: Role,
    display_name: str = "",
    parties: Iterable[str] = (),
    regions: Iterable[str] = (),
    sectors: Iterable[str] = (),
) -> int:
    """A new user; the caller checked that ``username`` is free (``get_user_by_name``)."""
    now = now_micros()
    result = conn.execute(
        insert(app_user).values(
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            role=role,
            parties=_words(parties),
            regions=_regions_text(regions),
            sectors=_words(sectors),
            active=True,
            created_at=now,
            password_changed_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_user_by_name(conn: Connection, username: str) -> UserRow | None:
    row = conn.execute(select(app_user).where(app_user.c.username == username)).first()
    return _user(row) if row else None


def get_user(conn: Connection, user_id: int) -> UserRow | None:
    row = conn.execute(select(app_user).where(app_user.c.id == user_id)).first()
    return _user(row) if row else None


def list_users(conn: Connection, *, after: int | None, limit: int) -> list[UserRow]:
    stmt = select(app_user).order_by(app_user.c.id).limit(limit)
    if after is not None:
        stmt = stmt.where(app_user.c.id > after)
    return [_user(r) for r in conn.execute(stmt)]


def update_user(
    conn: Connection, user_id: int, *, active: bool | None = None, password_hash: str | None = None
) -> bool:
    """Deactivate/reactivate a user or set a new password hash; False if there is no such user.

    Deactivating or changing the password ends the user's sessions.
    """
    values: dict[str, Any] = {}
    if active is not None:
        values["active"] = active
    if password_hash is not None:
        values["password_hash"] = password_hash
        values["password_changed_at"] = now_micros()
    if not values:
        return get_user(conn, user_id) is not None
    changed = conn.execute(update(app_user).where(app_user.c.id == user_id).values(**values)).rowcount
    if changed and (active is False or password_hash is not None):
        conn.execute(delete(user_session).where(user_session.c.user_id == user_id))
    return bool(changed)


# --- log-in failures (lockout) -------------------------------------------------------------------------


def locked_until(conn: Connection, username: str, now: int) -> int | None:
    """When the lock on ``username`` ends, if it is locked at ``now``."""
    row = conn.execute(select(login_failure.c.locked_until).where(login_failure.c.username == username)).first()
    if row and row[0] is not None and row[0] > now:
        return int(row[0])
    return None


def note_failure(conn: Connection, username: str, now: int, *, window: int, limit: int, lock_for: int) -> int | None:
    """Count a failed log-in; lock the name when ``limit`` failures fall within ``window``. The lock end, if any."""
    row = conn.execute(select(login_failure).where(login_failure.c.username == username)).first()
    if row is None or now - row.first_at > window or (row.locked_until is not None and row.locked_until <= now):
        failures, first = 1, now
        if row is None:
            conn.execute(insert(login_failure).values(username=username, failures=1, first_at=now, locked_until=None))
        else:
            conn.execute(
                update(login_failure)
                .where(login_failure.c.username == username)
                .values(failures=1, first_at=now, locked_until=None)
            )
    else:
        failures, first = row.failures + 1, row.first_at
    lock = now + lock_for if failures >= limit else None
    conn.execute(
        update(login_failure)
        .where(login_failure.c.username == username)
        .values(failures=failures, first_at=first, locked_until=lock)
    )
    return lock


def clear_failures(conn: Connection, username: str) -> None:
    conn.execute(delete(login_failure).where(login_failure.c.username == username))


# --- sessions ------------------------------------------------------------------------------------------


def create_session(
    conn: Connection, token_hash: str, user_id: int, *, now: int, expires_at: int, remote: str | None
) -> None:
    conn.execute(
        insert(user_session).values(
            token_hash=token_hash,
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            remote=remote,
        )
    )


def session_user(conn: Connection, token_hash: str, *, now: int, idle: int) -> tuple[UserRow, int] | None:
    """The active user of a live session (not idle longer than ``idle``, not past its end) and when the
    session was last seen, else None."""
    row = conn.execute(
        select(user_session.c.user_id, user_session.c.last_seen_at, user_session.c.expires_at).where(
            user_session.c.token_hash == token_hash
        )
    ).first()
    if row is None or row.expires_at <= now or now - row.last_seen_at > idle:
        return None
    user = get_user(conn, row.user_id)
    return (user, int(row.last_seen_at)) if user is not None and user.active else None


def touch_session(conn: Connection, token_hash: str, now: int) -> None:
    conn.execute(update(user_session).where(user_session.c.token_hash == token_hash).values(last_seen_at=now))


def end_session(conn: Connection, token_hash: str) -> bool:
    return bool(conn.execute(delete(user_session).where(user_session.c.token_hash == token_hash)).rowcount)


# --- API keys ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: int
    prefix: str
    name: str
    role: Role
    parties: frozenset[str]
    regions: tuple[str, ...]
    sectors: frozenset[str]
    scopes: frozenset[str]
    client: str | None
    created_at: int
    created_by: str
    expires_at: int | None
    revoked_at: int | None
    last_used_at: int | None

    def usable(self, now: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def public(self) -> dict[str, Any]:
        """The key as lists show it: never the key itself (it is shown once, when created)."""
        return {
            "id": self.id,
            "prefix": self.prefix,
            "name": self.name,
            "role": self.role,
            "parties": sorted(self.parties),
            "regions": list(self.regions),
            "sectors": sorted(self.sectors),
            "scopes": sorted(self.scopes),
            "client": self.client,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "expiresAt": self.expires_at,
            "revokedAt": self.revoked_at,
            "lastUsedAt": self.last_used_at,
        }


def _key(row: Any) -> KeyRow:
    return KeyRow(
        id=row.id,
        prefix=row.prefix,
        name=row.name or "",
        role=row.role,
        parties=frozenset(_split(row.parties)),
        regions=_regions(row.regions),
        sectors=frozenset(_split(row.sectors)),
        scopes=frozenset(_split(row.scopes)),
        client=row.client,
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def create_key(
    conn: Connection,
    *,
    key_hash: str,
    prefix: str,
    role: Role,
    created_by: str,
    name: str = "",
    parties: Iterable[str] = (),
    regions: Iterable[str] = (),
    sectors: Iterable[str] = (),
    scopes: Iterable[str] = (),
    client: str | None = None,
    expires_at: int | None = None,
) -> int:
    result = conn.execute(
        insert(api_key).values(
            key_hash=key_hash,
            prefix=prefix,
            name=name,
            role=role,
            parties=_words(parties),
            regions=_regions_text(regions),
            sectors=_words(sectors),
            scopes=_words(scopes),
            client=client,
            created_at=now_micros(),
            created_by=created_by,
            expires_at=expires_at,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def key_by_hash(conn: Connection, key_hash: str) -> KeyRow | None:
    row = conn.execute(select(api_key).where(api_key.c.key_hash == key_hash)).first()
    return _key(row) if row else None


def get_key(conn: Connection, key_id: int) -> KeyRow | None:
    row = conn.execute(select(api_key).where(api_key.c.id == key_id)).first()
    return _key(row) if row else None


def list_keys(
    conn: Connection, *, parties: Iterable[str] | None = None, after: int | None = None, limit: int = 100
) -> list[KeyRow]:
    """Keys by id; ``parties`` (when given) keeps only keys acting for one of them."""
    stmt = select(api_key).order_by(api_key.c.id)
    if after is not None:
        stmt = stmt.where(api_key.c.id > after)
    if parties is not None:
        wanted = set(parties)
        return [k for k in (_key(r) for r in conn.execute(stmt)) if k.parties & wanted][:limit]
    return [_key(r) for r in conn.execute(stmt.limit(limit))]


def revoke_key(conn: Connection, key_id: int, now: int) -> bool:
    """Revoke a key (idempotent: a revoked key keeps its first revocation time); False if there is none."""
    if get_key(conn, key_id) is None:
        return False
    conn.execute(update(api_key).where(api_key.c.id == key_id, api_key.c.revoked_at.is_(None)).values(revoked_at=now))
    return True


def touch_key(conn: Connection, key_id: int, now: int) -> None:
    conn.execute(update(api_key).where(api_key.c.id == key_id).values(last_used_at=now))


# --- platform clients ----------------------------------------------------------------------------------


def authorise_client(conn: Connection, client: str, party: str, granted_by: str) -> bool:
    """Let ``client`` capture for ``party``; False if it already could."""
    found = conn.execute(
        select(client_authorisation.c.party).where(
            client_authorisation.c.client == client, client_authorisation.c.party == party
        )
    ).first()
    if found:
        return False
    conn.execute(
        insert(client_authorisation).values(client=client, party=party, granted_at=now_micros(), granted_by=granted_by)
    )
    return True


def withdraw_client(conn: Connection, client: str, party: str) -> bool:
    return bool(
        conn.execute(
            delete(client_authorisation).where(
                client_authorisation.c.client == client, client_authorisation.c.party == party
            )
        ).rowcount
    )


def client_parties(conn: Connection, client: str) -> frozenset[str]:
    rows = conn.execute(select(client_authorisation.c.party).where(client_authorisation.c.client == client))
    return frozenset(r[0] for r in rows)


def list_authorisations(conn: Connection, *, party: str | None = None) -> list[dict[str, Any]]:
    stmt = select(client_authorisation).order_by(client_authorisation.c.client, client_authorisation.c.party)
    if party is not None:
        stmt = stmt.where(client_authorisation.c.party == party)
    return [
        {"client": r.client, "party": r.party, "grantedAt": r.granted_at, "grantedBy": r.granted_by}
        for r in conn.execute(stmt)
    ]


# --- which parties an event concerns -------------------------------------------------------------------


def event_location_ids(ev: IndexedEvent) -> set[str]:
    """The canonical ids of an event that may belong to a registered party: where, from, to."""
    ids = {link[2] for link in ev.links if link[0] in ("source", "destination")}
    if ev.read_point:
        ids.add(ev.read_point)
    if ev.biz_location:
        ids.add(ev.biz_location)
    return ids


def record_event_parties(conn: Connection, stored: Sequence[tuple[int, IndexedEvent]], owner: str | None) -> None:
    """Inside the capture transaction: note which parties each newly stored event concerns.

    ``owner`` is the party code the event was captured for (None: captured by the platform itself, e.g. from
    another platform's feed); partners are the parties owning the event's locations, sources and destinations.
    One registry lookup and one ``executemany`` per batch.
    """
    per_event = [(seq, event_location_ids(ev)) for seq, ev in stored]
    wanted: set[str] = set().union(*(ids for _, ids in per_event)) if per_event else set()
    owners = registry.parties_for_identifiers(conn, wanted)
    rows: list[dict[str, Any]] = []
    for seq, ids in per_event:
        if owner:
            rows.append({"seq": seq, "party": owner, "relation": "owner"})
        for party in sorted({owners[i] for i in ids if i in owners} - {owner}):
            rows.append({"seq": seq, "party": party, "relation": "partner"})
    if rows:
        conn.execute(insert(event_party), rows)


def jurisdiction_parties(principal: Principal) -> Any:
    """SELECT of the party codes inside a regulator's jurisdiction: region starting with one of its prefixes
    (``""`` = nationwide; no regions = none) and, when it has sectors, sharing one (the registry's rule)."""
    from zhuisu.store.registry import registry_party

    p = registry_party.c
    regions = or_(false(), *(p.region.like(prefix + "%") for prefix in principal.regions))
    cond: ColumnElement[bool] = regions
    if principal.sectors:
        cond = and_(regions, or_(*(p.sectors.like(f"% {s} %") for s in sorted(principal.sectors))))
    return select(p.party_code).where(cond)


def visibility_condition(principal: Principal, *, owned_only: bool = False) -> ColumnElement[bool]:
    """The events ``principal`` may see, as a predicate over ``epcis_event``.

    Administrators see everything; regulators the events concerning a party of their jurisdiction (see
    ``jurisdiction_parties``); enterprises and platform clients the events concerning one of their parties
    (as owner or partner; with ``owned_only`` only those captured for them); the public nothing. Written as
    ``seq IN (SELECT seq FROM event_party WHERE party …)`` so the database starts from the (party, seq) index:
    a party's events are few among many.
    """
    ep = event_party.c
    if principal.role == "admin":
        return true()
    if principal.role == "regulator":
        return epcis_event.c.seq.in_(select(ep.seq).where(ep.party.in_(jurisdiction_parties(principal))))
    if principal.role in ("enterprise", "client") and principal.parties:
        where: list[ColumnElement[bool]] = [ep.party.in_(sorted(principal.parties))]
        if owned_only:
            where.append(ep.relation == "owner")
        return epcis_event.c.seq.in_(select(ep.seq).where(*where))
    return false()


def visible_seqs(conn: Connection, principal: Principal, seqs: Iterable[int]) -> set[int]:
    """The subset of event ``seqs`` that ``principal`` may see (at least in part)."""
    wanted = sorted(set(seqs))
    if principal.role == "admin" or not wanted:
        return set(wanted)
    out: set[int] = set()
    cond = visibility_condition(principal)
    for i in range(0, len(wanted), 1000):
        chunk = wanted[i : i + 1000]
        out.update(r[0] for r in conn.execute(select(epcis_event.c.seq).where(epcis_event.c.seq.in_(chunk), cond)))
    return out


def owned_seqs(conn: Connection, principal: Principal, seqs: Iterable[int]) -> set[int]:
    """The subset of ``seqs`` that ``principal`` sees whole (admins, regulators in jurisdiction, owners)."""
    wanted = sorted(set(seqs))
    if principal.role in ("admin", "regulator") or not wanted:
        return visible_seqs(conn, principal, wanted)
    ep = event_party.c
    rows = conn.execute(
        select(ep.seq).where(
            ep.seq.in_(wanted), ep.party.in_(sorted(principal.parties) or [""]), ep.relation == "owner"
        )
    )
    return {r[0] for r in rows}


def parties_of_events(conn: Connection, seqs: Iterable[int]) -> dict[int, dict[str, str]]:
    """seq → {party: relation} for the given events."""
    out: dict[int, dict[str, str]] = {}
    wanted = sorted(set(seqs))
    ep = event_party.c
    for i in range(0, len(wanted), 1000):
        for seq, party, relation in conn.execute(
            select(ep.seq, ep.party, ep.relation).where(ep.seq.in_(wanted[i : i + 1000]))
        ):
            out.setdefault(seq, {})[party] = relation
    return out
