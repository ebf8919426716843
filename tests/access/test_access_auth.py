"""Passwords (argon2id), log-in lockout, sessions and their expiry, API keys and the log-in page."""

from __future__ import annotations

import base64
import hashlib

import pytest
from argon2 import low_level as argon2_low_level
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from zhuisu.access import keys, passwords, policy, service
from zhuisu.access.principal import SYSTEM
from zhuisu.store import access as store
from zhuisu.store.audit import audit_log

PASSWORD = "正确的马 battery staple"
SECOND = 1_000_000


def test_passwords_are_argon2id_hashes_that_verify_and_never_contain_the_password(real_kdf: None) -> None:
    hashed = passwords.hash_password(PASSWORD)
    # RFC 9106's second recommended option: argon2id, 64 MiB, 3 passes, 4 lanes.
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in hashed and PASSWORD.encode().hex() not in hashed
    assert passwords.hash_password(PASSWORD) != hashed  # salted
    assert passwords.verify_password(hashed, PASSWORD)
    assert not passwords.verify_password(hashed, PASSWORD + " ")
    assert not passwords.verify_password(None, PASSWORD)
    assert not passwords.verify_password("not a hash", PASSWORD)
    # argon2-cffi's low-level verifier, told only the type, accepts the hash.
    assert argon2_low_level.verify_secret(hashed.encode(), PASSWORD.encode(), argon2_low_level.Type.ID)


def test_password_policy() -> None:
    for bad in ("short", "x" * 2000):
        with pytest.raises(passwords.PasswordPolicyError):
            passwords.check_policy(bad)
    with pytest.raises(passwords.PasswordPolicyError):
        passwords.check_policy("alice.wang.2026", "Alice.Wang.2026")
    passwords.check_policy(PASSWORD, "alice")


def test_api_keys_are_random_256_bit_and_stored_as_their_sha256() -> None:
    a, b = keys.new_api_key(), keys.new_api_key()
    assert a != b and keys.looks_like_key(a) and a.startswith("zs_")
    raw = base64.b32decode(a[3:].upper() + "====")
    assert len(raw) == 32
    assert keys.token_hash(a) == hashlib.sha256(a.encode()).hexdigest()


def test_a_stored_key_is_only_its_hash(engine: Engine) -> None:
    new = service.create_key(engine, SYSTEM, role="admin", name="ops")
    with engine.connect() as conn:
        rows = conn.execute(select(store.api_key)).mappings().all()
    assert [r["key_hash"] for r in rows] == [hashlib.sha256(new.key.encode()).hexdigest()]
    assert all(new.key not in str(v) for r in rows for v in r.values() if v != r["prefix"])
    assert new.row.prefix == new.key[:10]


def test_key_revocation_and_expiry(engine: Engine) -> None:
    now = store.now_micros()
    new = service.create_key(engine, SYSTEM, role="admin", expires_at=now + 60 * SECOND)
    assert service.key_principal(engine, new.key, now=now).role == "admin"
    with pytest.raises(service.AuthError, match="expired"):
        service.key_principal(engine, new.key, now=now + 61 * SECOND)
    assert service.revoke_key(engine, SYSTEM, new.row.id)
    with pytest.raises(service.AuthError, match="revoked"):
        service.key_principal(engine, new.key, now=now)
    assert not service.revoke_key(engine, SYSTEM, new.row.id + 1000)


def test_grants_that_make_no_sense_are_refused() -> None:
    with pytest.raises(policy.ScopeError):
        policy.check_grant("enterprise")  # no party
    with pytest.raises(policy.ScopeError):
        policy.check_grant("regulator", scopes=["epcis:capture"])
    with pytest.raises(policy.ScopeError):
        policy.check_grant("regulator", regions=["3"])
    with pytest.raises(policy.ScopeError):
        policy.check_grant("admin", scopes=["everything"])
    policy.check_grant("regulator", regions=["", "3713"], scopes=["epcis:read"])


def _user(engine: Engine, name: str = "alice") -> store.UserRow:
    return service.create_user(engine, SYSTEM, username=name, password=PASSWORD, role="admin")


def test_lockout_after_five_failures_even_for_the_right_password_then_it_lifts(engine: Engine) -> None:
    _user(engine)
    t0 = store.now_micros()
    for i in range(service.LOCKOUT_FAILURES):
        with pytest.raises(service.AuthError) as caught:
            service.login(engine, "alice", "wrong password!", now=t0 + i)
    assert caught.value.locked_until == t0 + service.LOCKOUT_FAILURES - 1 + service.LOCKOUT_FOR
    with pytest.raises(service.AuthError, match="locked"):
        service.login(engine, "alice", PASSWORD, now=t0 + 10 * SECOND)
    session = service.login(engine, "alice", PASSWORD, now=t0 + service.LOCKOUT_FOR + 10 * SECOND)
    assert session.user.username == "alice"
    # Unknown names lock the same way (a lock does not tell whether a name exists).
    for i in range(service.LOCKOUT_FAILURES):
        with pytest.raises(service.AuthError):
            service.login(engine, "nobody", "whatever it is", now=t0 + i)
    with pytest.raises(service.AuthError, match="locked"):
        service.login(engine, "nobody", "whatever it is", now=t0 + 10)


def test_failures_spread_beyond_the_window_do_not_lock(engine: Engine) -> None:
    _user(engine)
    t0 = store.now_micros()
    for i in range(service.LOCKOUT_FAILURES + 2):
        with pytest.raises(service.AuthError) as caught:
            service.login(engine, "alice", "wrong password!", now=t0 + i * (service.LOCKOUT_WINDOW // 3))
        assert caught.value.locked_until is None
    # Every third failure restarts the window, so no five fall inside one.
    assert service.login(engine, "alice", PASSWORD, now=t0 + 20 * service.LOCKOUT_WINDOW).user.username == "alice"


def test_sessions_expire_when_idle_and_at_their_end(engine: Engine) -> None:
    _user(engine)
    t0 = store.now_micros()
    s = service.login(engine, "alice", PASSWORD, now=t0)
    assert service.session_principal(engine, s.token, now=t0 + SECOND) is not None
    assert service.session_principal(engine, s.token, now=t0 + service.SESSION_IDLE + 2 * SECOND) is None
    # Kept busy, it still ends SESSION_MAX after log-in.
    s = service.login(engine, "alice", PASSWORD, now=t0)
    t = t0
    while t + service.SESSION_IDLE // 2 < t0 + service.SESSION_MAX:
        t += service.SESSION_IDLE // 2
        assert service.session_principal(engine, s.token, now=t) is not None
    assert service.session_principal(engine, s.token, now=t0 + service.SESSION_MAX) is None
    assert service.session_principal(engine, "made-up-token", now=t0) is None


def test_password_change_and_deactivation_end_sessions(engine: Engine) -> None:
    user = _user(engine)
    s = service.login(engine, "alice", PASSWORD)
    service.update_user(engine, SYSTEM, user.id, password=PASSWORD + "!")
    assert service.session_principal(engine, s.token) is None
    s = service.login(engine, "alice", PASSWORD + "!")
    service.update_user(engine, SYSTEM, user.id, active=False)
    assert service.session_principal(engine, s.token) is None
    with pytest.raises(service.AuthError):
        service.login(engine, "alice", PASSWORD + "!")


def test_log_in_by_json_and_form_sets_a_cookie_that_authenticates(engine: Engine, app_client: TestClient) -> None:
    _user(engine)
    assert app_client.get("/api/me").json()["role"] == "public"
    page = app_client.get("/login")
    assert page.status_code == 200 and "登录" in page.text and 'name="password"' in page.text
    assert "Sign in" in app_client.get("/login?lang=en").text
    r = app_client.post("/api/login", json={"username": "alice", "password": "not the password"})
    assert r.status_code == 401 and "set-cookie" not in r.headers
    r = app_client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert app_client.get("/api/me").json()["role"] == "admin"
    assert app_client.get("/epcis/events").status_code == 200
    # A state-changing request from another site cannot use the session (CSRF).
    forged = app_client.post("/api/apikeys", json={"role": "admin"}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert app_client.post("/api/logout", headers={"Origin": "http://testserver"}).status_code == 204
    assert app_client.get("/api/me").json()["role"] == "public"
    # The form: a redirect to a local page only; a wrong password shows the page again.
    form = {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    r = app_client.post("/api/login", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = app_client.post("/api/login", data={**form, "password": "wrong password!"}, follow_redirects=False)
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    with engine.connect() as conn:
        actions = [row[0] for row in conn.execute(select(audit_log.c.action).order_by(audit_log.c.id))]
    assert actions.count("auth.login") == 2 and actions.count("auth.login_failed") == 2 and "auth.logout" in actions


def test_locked_json_log_in_answers_429_with_retry_after(engine: Engine, app_client: TestClient) -> None:
    _user(engine)
    for _ in range(service.LOCKOUT_FAILURES):
        app_client.post("/api/login", json={"username": "alice", "password": "wrong password!"})
    r = app_client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= service.LOCKOUT_FOR // SECOND


def test_users_api_for_administrators(engine: Engine, app_client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {service.create_key(engine, SYSTEM, role='admin').key}"}
    body = {"username": "bob", "password": PASSWORD, "role": "regulator", "regions": ["3713"], "sectors": ["meat"]}
    r = app_client.post("/api/users", json=body, headers=admin)
    assert r.status_code == 201 and "password" not in r.text and "argon2" not in r.text
    assert app_client.post("/api/users", json=body, headers=admin).status_code == 409
    assert (
        app_client.post("/api/users", json={**body, "username": "eve", "password": "short"}, headers=admin).status_code
        == 400
    )
    user_id = r.json()["id"]
    assert app_client.get(f"/api/users/{user_id}", headers=admin).json()["regions"] == ["3713"]
    assert app_client.patch(f"/api/users/{user_id}", json={"active": False}, headers=admin).json()["active"] is False
    assert app_client.get("/api/users/99999", headers=admin).status_code == 404


def test_a_key_in_use_while_another_transaction_writes_is_still_accepted(engine: Engine) -> None:
    """Noting when a key was last used is skipped, not waited for, while another transaction holds the lock
    (on SQLite a large capture holds the whole database for minutes: polling its job must not fail)."""
    from zhuisu.store.db import writing

    now = store.now_micros()
    new = service.create_key(engine, SYSTEM, role="admin", name="poller")
    with writing(engine) as held:  # another transaction writing, as a capture does
        held.execute(store.api_key.update().values(name="poller"))
        assert service.key_principal(engine, new.key, now=now).role == "admin"
    with engine.connect() as conn:
        assert conn.execute(select(store.api_key.c.last_used_at)).scalar() is None  # skipped, not waited for
    later = now + 2 * service.TOUCH_EVERY
    service.key_principal(engine, new.key, now=later)
    with engine.connect() as conn:
        assert conn.execute(select(store.api_key.c.last_used_at)).scalar() == later


def test_writing_without_waiting_says_busy_and_leaves_sqlite_connections_waiting_again(engine: Engine) -> None:
    from zhuisu.store.db import DatabaseBusy, writing

    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock and busy timeout; PostgreSQL's row locks are tested above")
    with writing(engine), pytest.raises(DatabaseBusy), writing(engine, wait=False):
        pass
    with engine.connect() as conn:  # the pooled connections wait for the write lock again
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
