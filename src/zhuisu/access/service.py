"""Authentication and credential management as plain functions over an engine (no HTTP, no SQL here).

Choices:

- **Sessions** (web log-in): a 256-bit random cookie value, stored as its SHA-256. A session ends after
  ``SESSION_IDLE`` (8 h) without a request, and in any case ``SESSION_MAX`` (24 h) after log-in; log-out,
  a password change and deactivating the user end it at once.
- **Lockout**: ``LOCKOUT_FAILURES`` (5) failed log-ins for one user name within ``LOCKOUT_WINDOW`` (15 min)
  lock that name for ``LOCKOUT_FOR`` (15 min), even for the right password; counted per user name (so an
  attacker rotating addresses gains nothing) and for unknown names too (so a lock does not reveal whether a
  name exists). A successful log-in clears the count.
- **API keys**: see ``zhuisu.access.keys``; optional expiry; revocation is immediate and permanent.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from zhuisu.access import keys, passwords, policy
from zhuisu.access.principal import Principal, Role
from zhuisu.store import access as store
from zhuisu.store import audit
from zhuisu.store.db import DatabaseBusy, writing

SECOND = 1_000_000
SESSION_IDLE = 8 * 3600 * SECOND
SESSION_MAX = 24 * 3600 * SECOND
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = 15 * 60 * SECOND
LOCKOUT_FOR = 15 * 60 * SECOND
# Refresh a session's last-seen time at most this often (saves a write per request).
TOUCH_EVERY = 60 * SECOND


class AuthError(Exception):
    """A credential refused; ``reason`` is safe to show (it never says which part of a log-in was wrong)."""

    def __init__(self, reason: str, *, locked_until: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.locked_until = locked_until


def _now(now: int | None) -> int:
    return store.now_micros() if now is None else now


# --- API keys ------------------------------------------------------------------------------------------


def _check_parties(engine: Engine, parties: Iterable[str]) -> None:
    """Refuse credentials for a party the registry does not know (a typo would create a key for nobody)."""
    from zhuisu.store import registry

    with engine.connect() as conn:
        for code in parties:
            if registry.get_party(conn, code) is None:
                raise policy.ScopeError(f"there is no registered party {code!r}")


def key_principal(engine: Engine, key: str, *, now: int | None = None) -> Principal:
    """The principal of an API key; ``AuthError`` if it is unknown, revoked or expired."""
    now = _now(now)
    if not keys.looks_like_key(key):
        raise AuthError("the API key is not one this platform issues")
    with engine.connect() as conn:
        row = store.key_by_hash(conn, keys.token_hash(key))
        if row is None:
            raise AuthError("unknown API key")
        if row.revoked_at is not None:
            raise AuthError("the API key has been revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise AuthError("the API key has expired")
        parties = row.parties
        if row.role == "client" and row.client:
            parties = store.client_parties(conn, row.client)
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        with suppress(DatabaseBusy), writing(engine, wait=False) as conn:  # noted on a later request
            store.touch_key(conn, row.id, now)
    return Principal(
        role=row.role,
        subject=f"key:{row.id}",
        parties=parties,
        regions=row.regions,
        sectors=row.sectors,
        scopes=row.scopes,
        name=row.name,
    )


@dataclass(frozen=True, slots=True)
class NewKey:
    key: str  # shown once
    row: store.KeyRow


def create_key(
    engine: Engine,
    creator: Principal,
    *,
    role: Role,
    name: str = "",
    parties: Iterable[str] = (),
    regions: Iterable[str] = (),
    sectors: Iterable[str] = (),
    scopes: Iterable[str] = (),
    client: str | None = None,
    expires_at: int | None = None,
    remote: str | None = None,
) -> NewKey:
    """Issue an API key (audited). A client key's ``parties`` are authorised for its client name at once.

    Raises ``policy.ScopeError`` for a combination that makes no sense.
    """
    parties, regions, sectors, scopes = list(parties), list(regions), list(sectors), list(scopes)
    if role == "client":
        client = client or name
        if not client:
            raise policy.ScopeError("a platform client key needs a client name (--name)")
        policy.check_grant(role, regions=regions, scopes=scopes)
    else:
        policy.check_grant(role, parties=parties, regions=regions, scopes=scopes)
        client = None
    _check_parties(engine, parties)
    key = keys.new_api_key()
    with writing(engine) as conn:
        key_id = store.create_key(
            conn,
            key_hash=keys.token_hash(key),
            prefix=keys.shown_prefix(key),
            role=role,
            created_by=creator.subject,
            name=name,
            parties=parties if role != "client" else (),
            regions=regions,
            sectors=sectors,
            scopes=scopes,
            client=client,
            expires_at=expires_at,
        )
        if client:
            for party in parties:
                store.authorise_client(conn, client, party, creator.subject)
        audit.record(
            conn,
            creator,
            "apikey.create",
            target_type="api_key",
            target_id=str(key_id),
            detail={"role": role, "name": name, "parties": sorted(parties), "scopes": sorted(scopes), "client": client},
            remote=remote,
        )
        row = store.get_key(conn, key_id)
    assert row is not None
    return NewKey(key, row)


def revoke_key(engine: Engine, actor: Principal, key_id: int, *, remote: str | None = None) -> bool:
    """Revoke a key (audited); False if there is no such key."""
    with writing(engine) as conn:
        if not store.revoke_key(conn, key_id, store.now_micros()):
            return False
        audit.record(conn, actor, "apikey.revoke", target_type="api_key", target_id=str(key_id), remote=remote)
    return True


def may_manage_key(actor: Principal, row: store.KeyRow) -> bool:
    """Administrators manage every key; an enterprise the keys of its own party."""
    if actor.is_admin:
        return True
    return actor.role == "enterprise" and row.role == "enterprise" and bool(row.parties & actor.parties)


# --- users and sessions --------------------------------------------------------------------------------


def create_user(
    engine: Engine,
    creator: Principal,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    parties: Iterable[str] = (),
    regions: Iterable[str] = (),
    sectors: Iterable[str] = (),
    remote: str | None = None,
) -> store.UserRow:
    """A new user (audited). Raises ``policy.ScopeError``, ``passwords.PasswordPolicyError``, or ``ValueError``
    when the name is taken or malformed."""
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise ValueError("a user name has 1 to 64 characters and no spaces")
    parties, regions, sectors = list(parties), list(regions), list(sectors)
    if role == "client":
        raise policy.ScopeError("platform clients use API keys, not user accounts")
    policy.check_grant(role, parties=parties, regions=regions)
    _check_parties(engine, parties)
    passwords.check_policy(password, username)
    hashed = passwords.hash_password(password)
    with writing(engine) as conn:
        if store.get_user_by_name(conn, username) is not None:
            raise ValueError(f"the user name {username!r} is taken")
        user_id = store.create_user(
            conn,
            username=username,
            password_hash=hashed,
            role=role,
            display_name=display_name,
            parties=parties,
            regions=regions,
            sectors=sectors,
        )
        audit.record(
            conn,
            creator,
            "user.create",
            target_type="user",
            target_id=str(user_id),
            detail={"username": username, "role": role, "parties": sorted(parties), "regions": regions},
            remote=remote,
        )
        user = store.get_user(conn, user_id)
    assert user is not None
    return user


def update_user(
    engine: Engine,
    actor: Principal,
    user_id: int,
    *,
    active: bool | None = None,
    password: str | None = None,
    remote: str | None = None,
) -> store.UserRow | None:
    """Deactivate/reactivate a user or set its password (audited; ends its sessions). None: no such user."""
    hashed = None
    with engine.connect() as conn:
        user = store.get_user(conn, user_id)
    if user is None:
        return None
    if password is not None:
        passwords.check_policy(password, user.username)
        hashed = passwords.hash_password(password)
    with writing(engine) as conn:
        store.update_user(conn, user_id, active=active, password_hash=hashed)
        detail: dict[str, Any] = {}
        if active is not None:
            detail["active"] = active
        if hashed is not None:
            detail["password"] = "changed"
        audit.record(
            conn, actor, "user.update", target_type="user", target_id=str(user_id), detail=detail, remote=remote
        )
        return store.get_user(conn, user_id)


@dataclass(frozen=True, slots=True)
class Session:
    token: str  # the cookie value (only the client keeps it)
    user: store.UserRow
    expires_at: int


def login(
    engine: Engine, username: str, password: str, *, remote: str | None = None, now: int | None = None
) -> Session:
    """Check a password and open a session; ``AuthError`` (audited as ``auth.login_failed``) otherwise."""
    now = _now(now)
    username = username.strip()[:64]
    with engine.connect() as conn:
        lock = store.locked_until(conn, username, now)
        user = store.get_user_by_name(conn, username) if lock is None else None
    if lock is not None:
        raise AuthError("too many failed log-ins: this account is locked for a while", locked_until=lock)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        with writing(engine) as conn:
            lock = store.note_failure(
                conn, username, now, window=LOCKOUT_WINDOW, limit=LOCKOUT_FAILURES, lock_for=LOCKOUT_FOR
            )
            audit.record(
                conn,
                Principal(role="public", subject="public"),
                "auth.login_failed",
                target_type="user",
                target_id=username,
                detail={"locked": lock is not None},
                remote=remote,
            )
        raise AuthError("the user name or the password is wrong", locked_until=lock)
    token = keys.new_session_token()
    expires = now + SESSION_MAX
    rehash = passwords.needs_rehash(user.password_hash)
    with writing(engine) as conn:
        store.clear_failures(conn, username)
        store.create_session(conn, keys.token_hash(token), user.id, now=now, expires_at=expires, remote=remote)
        if rehash:
            store.update_user(conn, user.id, password_hash=passwords.hash_password(password))
        audit.record(conn, user.principal(), "auth.login", target_type="user", target_id=str(user.id), remote=remote)
    return Session(token, user, expires)


def session_principal(engine: Engine, token: str, *, now: int | None = None) -> Principal | None:
    """The principal of a live session cookie, else None (expired, ended, unknown, user deactivated)."""
    now = _now(now)
    hashed = keys.token_hash(token)
    with engine.connect() as conn:
        found = store.session_user(conn, hashed, now=now, idle=SESSION_IDLE)
    if found is None:
        return None
    user, last_seen = found
    if now - last_seen > TOUCH_EVERY:
        with suppress(DatabaseBusy), writing(engine, wait=False) as conn:  # noted on a later request
            store.touch_session(conn, hashed, now)
    return user.principal()


def logout(engine: Engine, token: str, *, remote: str | None = None) -> None:
    hashed = keys.token_hash(token)
    with engine.connect() as conn:
        found = store.session_user(conn, hashed, now=store.now_micros(), idle=SESSION_IDLE)
    with writing(engine) as conn:
        if store.end_session(conn, hashed) and found is not None:
            user = found[0]
            audit.record(
                conn, user.principal(), "auth.logout", target_type="user", target_id=str(user.id), remote=remote
            )
