"""Authentication at the HTTP edge: ``Authorization: Bearer KEY`` or a session cookie → ``Principal``; log-in
and log-out; API keys, users, client authorisations and the audit log.

``principal`` is the dependency every router uses (``Depends(principal)``); tests override it with
``app.dependency_overrides[principal]``. A request with a bad, revoked or expired key is refused (401 with
``WWW-Authenticate: Bearer``) rather than treated as anonymous, so a client notices; a request without
credentials, or with an ended session cookie, is ``PUBLIC``.

The session cookie (``zhuisu_session``) is HttpOnly and SameSite=Lax (Secure over HTTPS). Because browsers
send it by themselves, a state-changing request authenticated by the cookie whose ``Origin`` (or ``Referer``)
names another site is refused (403): cross-site request forgery cannot act with a user's session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from starlette.responses import RedirectResponse, Response

from zhuisu import web
from zhuisu.access import passwords, policy, service
from zhuisu.access.principal import PUBLIC, ROLES, Principal, Role
from zhuisu.api.problems import ProblemError
from zhuisu.store import access as access_store
from zhuisu.store import audit

router = APIRouter(tags=["access"])

SESSION_COOKIE = "zhuisu_session"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_ID = 2**63 - 1  # the largest database id (BIGINT); larger numbers name nothing


def _engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def remote(request: Request) -> str | None:
    """The client address, for audit entries."""
    return request.client.host if request.client else None


def _unauthorised(detail: str, error: str | None = None) -> ProblemError:
    challenge = 'Bearer realm="zhuisu"' + (f', error="{error}"' if error else "")
    return ProblemError(401, detail, headers={"WWW-Authenticate": challenge})


def _same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source is None
    return urlsplit(source).netloc.lower() == (request.headers.get("host") or "").lower()


def principal(request: Request) -> Principal:
    """The principal behind this request (PUBLIC when it carries no credentials)."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    found = _authenticate(request)
    request.state.principal = found
    return found


def _authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if header:
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise _unauthorised("send the API key as 'Authorization: Bearer KEY'", "invalid_request")
        try:
            return service.key_principal(_engine(request), credential.strip())
        except service.AuthError as exc:
            raise _unauthorised(exc.reason, "invalid_token") from None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = service.session_principal(_engine(request), token)
        if found is not None:
            if request.method in _UNSAFE and not _same_origin(request):
                raise ProblemError(403, "a request from another site cannot act with this session (CSRF)")
            return found
    return PUBLIC


def require(who: Principal, scope: str) -> None:
    """401 for the public, 403 for a principal whose role or key lacks ``scope``."""
    if who.is_public:
        raise _unauthorised("sign in or send an API key (Authorization: Bearer KEY)")
    if not policy.allows(who, scope):
        raise ProblemError(403, f"{who.role} credentials{' with these scopes' if who.scopes else ''} may not {scope}")


# --- log-in / log-out ----------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would let a phishing link borrow the platform's name.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, *, error: str | None = None, status: int = 200, next_: str = "/") -> Response:
    return web.templates.TemplateResponse(
        request,
        "login.html",
        {"lang": web.lang(request), "error": error, "next": next_},
        status_code=status,
    )


@router.get("/login", include_in_schema=False)
def login_page(request: Request) -> Response:
    """The log-in page (Chinese first; ``?lang=en``)."""
    return _login_page(request, next_=_safe_next(request.query_params.get("next")))


_LOGIN_ERRORS = {
    "wrong": ("用户名或密码错误。", "The user name or the password is wrong."),
    "locked": (
        "登录失败次数过多，账户已暂时锁定，请稍后再试。",
        "Too many failed log-ins: the account is locked for a while.",
    ),
    "missing": ("请输入用户名和密码。", "Enter your user name and password."),
}


def _login_error(request: Request, key: str, status: int, next_: str) -> Response:
    zh, en = _LOGIN_ERRORS[key]
    return _login_page(request, error=en if web.lang(request) == "en" else zh, status=status, next_=next_)


@router.post("/api/login")
async def login(request: Request) -> Response:
    """Log in with ``{"username", "password"}`` (JSON) or the log-in form; sets the session cookie.

    JSON: 200 with the user, 401 for a wrong name or password, 429 (``Retry-After``) while locked.
    Form: a redirect (303) to ``next`` on success, else the page again with the reason.
    """
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    is_form = media == "application/x-www-form-urlencoded"
    if is_form:
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    else:
        try:
            parsed = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError as exc:
            raise ProblemError(400, f"the body is not well-formed JSON: {exc}") from None
        fields = parsed if isinstance(parsed, dict) else {}
    username, password = fields.get("username"), fields.get("password")
    next_ = _safe_next(fields.get("next") if isinstance(fields.get("next"), str) else None)
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        if is_form:
            return _login_error(request, "missing", 400, next_)
        raise ProblemError(400, "send both username and password (strings)", pointer="/username")
    if "\x00" in username or "\x00" in password:  # no account has one (and PostgreSQL text cannot hold it)
        if is_form:
            return _login_error(request, "wrong", 401, next_)
        raise ProblemError(401, "the user name or the password is wrong")
    try:
        session = await run_in_threadpool(service.login, _engine(request), username, password, remote=remote(request))
    except service.AuthError as exc:
        locked = exc.locked_until is not None
        if is_form:
            return _login_error(request, "locked" if locked else "wrong", 429 if locked else 401, next_)
        if locked:
            assert exc.locked_until is not None
            wait = max(1, (exc.locked_until - access_store.now_micros()) // 1_000_000)
            raise ProblemError(
                429, exc.reason, title="Too many failed log-ins", headers={"Retry-After": str(wait)}
            ) from None
        raise ProblemError(401, exc.reason) from None
    if is_form:
        response: Response = RedirectResponse(next_, status_code=303)
    else:
        doc = {"user": session.user.public(), "expiresAt": session.expires_at}
        response = Response(orjson.dumps(doc), media_type="application/json")
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=service.SESSION_MAX // 1_000_000,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/api/logout", status_code=204)
def logout(request: Request) -> Response:
    """End the session of the cookie (if any) and clear it."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        if not _same_origin(request):
            raise ProblemError(403, "a request from another site cannot end this session (CSRF)")
        service.logout(_engine(request), token, remote=remote(request))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/me")
def me(who: Principal = Depends(principal)) -> Response:
    """Who the request is authenticated as, and what it may do."""
    doc = {
        "role": who.role,
        "subject": who.subject,
        "name": who.name,
        "parties": sorted(who.parties),
        "regions": list(who.regions),
        "sectors": sorted(who.sectors),
        "scopes": sorted(policy.effective_scopes(who)),
    }
    return Response(orjson.dumps(doc), media_type="application/json")


# --- request bodies ------------------------------------------------------------------------------------


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ProblemError(400, f"the body is not well-formed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ProblemError(400, "the body must be a JSON object")
    return body


def _strings(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProblemError(400, f"{name} must be a list of strings", pointer=f"/{name}")
    if any("\x00" in v for v in value):
        raise ProblemError(400, f"{name} must not contain a NUL character", pointer=f"/{name}")
    return value


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise ProblemError(400, f"{name} must be a non-empty string", pointer=f"/{name}")
    if "\x00" in value:
        raise ProblemError(400, f"{name} must not contain a NUL character", pointer=f"/{name}")
    return value


def _role(body: dict[str, Any]) -> Role:
    role = body.get("role")
    if role not in ROLES or role == "public":
        raise ProblemError(400, "role must be one of admin, regulator, enterprise, client", pointer="/role")
    return role  # type: ignore[no-any-return]


def _digits(raw: str) -> bool:
    # ASCII digits only: str.isdigit() also accepts "²" and other characters int() refuses.
    return raw.isascii() and raw.isdigit()


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _digits(raw) or len(raw) > 20 or not low <= int(raw) <= high:
        raise ProblemError(400, f"{name} must be an integer from {low} to {high}")
    return int(raw)


def _after_token(request: Request) -> int | None:
    """The id a ``nextPageToken`` of the id-ordered lists (keys, users, audit entries) continues from."""
    token = request.query_params.get("nextPageToken")
    if token is None:
        return None
    if not _digits(token) or len(token) > 19 or int(token) > MAX_ID:
        raise ProblemError(400, "nextPageToken is not one this server issued")
    return int(token)


def _known_id(value: int, what: str) -> None:
    """404 for an id no row can have (a number beyond BIGINT would otherwise fail in the database)."""
    if not 0 < value <= MAX_ID:
        raise ProblemError(404, f"there is no {what} {value}")


def _page_link(request: Request, after: int | str) -> dict[str, str]:
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
    query = urlencode([*items, ("nextPageToken", str(after))])
    return {"Link": f'<{request.url.path}?{query}>; rel="next"'}


# --- API keys ------------------------------------------------------------------------------------------


@router.post("/api/apikeys", status_code=201)
async def create_api_key(request: Request, who: Principal = Depends(principal)) -> Response:
    """Issue an API key; the key is in this answer only (``key``), never again.

    Body: ``role``, ``name``, ``parties``, ``regions``, ``sectors``, ``scopes``, ``expiresDays``. An
    administrator issues any key; an enterprise only enterprise keys for its own party.
    """
    require(who, "apikeys:manage")
    body = await _json_object(request)
    role = _role(body)
    parties = _strings(body, "parties")
    if not who.is_admin and (role != "enterprise" or not parties or not set(parties) <= who.parties):
        raise ProblemError(403, "an enterprise issues keys only for itself (role enterprise, its own party)")
    scopes = _strings(body, "scopes")
    if who.scopes and not (scopes and set(scopes) <= policy.effective_scopes(who)):
        # A narrowed key issues only keys narrowed at least as much: a key without scopes has all of its role's.
        raise ProblemError(
            403,
            "a key with scopes issues only keys with some of its own scopes: "
            + ", ".join(sorted(policy.effective_scopes(who))),
            pointer="/scopes",
        )
    days = body.get("expiresDays")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650):
        raise ProblemError(400, "expiresDays must be an integer from 1 to 3650", pointer="/expiresDays")
    expires = access_store.now_micros() + days * 86_400_000_000 if days else None
    try:
        new = await run_in_threadpool(
            service.create_key,
            _engine(request),
            who,
            role=role,
            name=_text(body, "name") or "",
            parties=parties,
            regions=_strings(body, "regions"),
            sectors=_strings(body, "sectors"),
            scopes=scopes,
            client=_text(body, "client"),
            expires_at=expires,
            remote=remote(request),
        )
    except policy.ScopeError as exc:
        raise ProblemError(400, str(exc)) from None
    doc = {"key": new.key, **new.row.public()}
    return Response(
        orjson.dumps(doc),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/api/apikeys/{new.row.id}", "Cache-Control": "no-store"},
    )


@router.get("/api/apikeys")
def list_api_keys(request: Request, who: Principal = Depends(principal)) -> Response:
    """The keys one may manage (administrators: all; an enterprise: its own), without the keys themselves."""
    require(who, "apikeys:manage")
    per_page = _int_param(request, "perPage", 100, 1, 1000)
    after = _after_token(request)
    with _engine(request).connect() as conn:
        rows = access_store.list_keys(
            conn, parties=None if who.is_admin else who.parties, after=after, limit=per_page + 1
        )
    headers = _page_link(request, rows[per_page - 1].id) if len(rows) > per_page else {}
    return Response(orjson.dumps([k.public() for k in rows[:per_page]]), media_type="application/json", headers=headers)


def _manageable_key(request: Request, who: Principal, key_id: int) -> access_store.KeyRow:
    if not 0 < key_id <= MAX_ID:
        raise ProblemError(404, f"there is no API key {key_id} you may manage")
    with _engine(request).connect() as conn:
        row = access_store.get_key(conn, key_id)
    if row is None or not service.may_manage_key(who, row):
        raise ProblemError(404, f"there is no API key {key_id} you may manage")
    return row


@router.get("/api/apikeys/{key_id}")
def get_api_key(request: Request, key_id: int, who: Principal = Depends(principal)) -> Response:
    require(who, "apikeys:manage")
    return Response(orjson.dumps(_manageable_key(request, who, key_id).public()), media_type="application/json")


@router.delete("/api/apikeys/{key_id}", status_code=204)
def revoke_api_key(request: Request, key_id: int, who: Principal = Depends(principal)) -> Response:
    """Revoke a key at once and for good (idempotent)."""
    require(who, "apikeys:manage")
    _manageable_key(request, who, key_id)
    service.revoke_key(_engine(request), who, key_id, remote=remote(request))
    return Response(status_code=204)


# --- users ---------------------------------------------------------------------------------------------


@router.post("/api/users", status_code=201)
async def create_user(request: Request, who: Principal = Depends(principal)) -> Response:
    """Create a user (administrators): ``username``, ``password``, ``role``, ``parties``, ``regions``, ``sectors``."""
    require(who, "users:manage")
    body = await _json_object(request)
    try:
        user = await run_in_threadpool(
            service.create_user,
            _engine(request),
            who,
            username=_text(body, "username", required=True) or "",
            password=_text(body, "password", required=True) or "",
            role=_role(body),
            display_name=_text(body, "displayName") or "",
            parties=_strings(body, "parties"),
            regions=_strings(body, "regions"),
            sectors=_strings(body, "sectors"),
            remote=remote(request),
        )
    except passwords.PasswordPolicyError as exc:
        raise ProblemError(400, str(exc), pointer="/password") from None
    except policy.ScopeError as exc:
        raise ProblemError(400, str(exc)) from None
    except ValueError as exc:
        status = 409 if "taken" in str(exc) else 400
        raise ProblemError(status, str(exc), pointer="/username") from None
    return Response(
        orjson.dumps(user.public()),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/api/users/{user.id}"},
    )


@router.get("/api/users")
def list_users(request: Request, who: Principal = Depends(principal)) -> Response:
    require(who, "users:manage")
    per_page = _int_param(request, "perPage", 100, 1, 1000)
    after = _after_token(request)
    with _engine(request).connect() as conn:
        rows = access_store.list_users(conn, after=after, limit=per_page + 1)
    headers = _page_link(request, rows[per_page - 1].id) if len(rows) > per_page else {}
    return Response(orjson.dumps([u.public() for u in rows[:per_page]]), media_type="application/json", headers=headers)


@router.get("/api/users/{user_id}")
def get_user(request: Request, user_id: int, who: Principal = Depends(principal)) -> Response:
    require(who, "users:manage")
    _known_id(user_id, "user")
    with _engine(request).connect() as conn:
        user = access_store.get_user(conn, user_id)
    if user is None:
        raise ProblemError(404, f"there is no user {user_id}")
    return Response(orjson.dumps(user.public()), media_type="application/json")


@router.patch("/api/users/{user_id}")
async def update_user(request: Request, user_id: int, who: Principal = Depends(principal)) -> Response:
    """Deactivate/reactivate (``active``) or set a new ``password``; either ends the user's sessions."""
    require(who, "users:manage")
    _known_id(user_id, "user")
    body = await _json_object(request)
    active = body.get("active")
    if active is not None and not isinstance(active, bool):
        raise ProblemError(400, "active must be true or false", pointer="/active")
    try:
        user = await run_in_threadpool(
            service.update_user,
            _engine(request),
            who,
            user_id,
            active=active,
            password=_text(body, "password"),
            remote=remote(request),
        )
    except passwords.PasswordPolicyError as exc:
        raise ProblemError(400, str(exc), pointer="/password") from None
    if user is None:
        raise ProblemError(404, f"there is no user {user_id}")
    return Response(orjson.dumps(user.public()), media_type="application/json")


# --- platform clients ----------------------------------------------------------------------------------


def _may_grant(who: Principal, party: str) -> None:
    if who.is_public:
        raise _unauthorised("sign in to authorise a platform client")
    if not (who.is_admin or (who.role == "enterprise" and party in who.parties)):
        raise ProblemError(403, f"only party {party} itself (or an administrator) can authorise clients for it")
    # Authorising a client hands it the party's capture rights: as much as issuing a key.
    require(who, "apikeys:manage")


@router.put("/api/clients/{client}/parties/{party}", status_code=204)
def authorise_client(request: Request, client: str, party: str, who: Principal = Depends(principal)) -> Response:
    """Let platform client ``client`` capture for (and read like) ``party``."""
    _may_grant(who, party)
    from zhuisu.store import registry
    from zhuisu.store.db import writing

    with writing(_engine(request)) as conn:
        if registry.get_party(conn, party) is None:
            raise ProblemError(404, f"there is no registered party {party!r}")
        if access_store.authorise_client(conn, client, party, who.subject):
            audit.record(
                conn,
                who,
                "client.authorise",
                target_type="party",
                target_id=party,
                detail={"client": client},
                remote=remote(request),
            )
    return Response(status_code=204)


@router.delete("/api/clients/{client}/parties/{party}", status_code=204)
def withdraw_client(request: Request, client: str, party: str, who: Principal = Depends(principal)) -> Response:
    """Withdraw an authorisation; the client's keys stop acting for ``party`` at their next request."""
    _may_grant(who, party)
    from zhuisu.store.db import writing

    with writing(_engine(request)) as conn:
        if not access_store.withdraw_client(conn, client, party):
            raise ProblemError(404, f"client {client!r} is not authorised for party {party}")
        audit.record(
            conn,
            who,
            "client.withdraw",
            target_type="party",
            target_id=party,
            detail={"client": client},
            remote=remote(request),
        )
    return Response(status_code=204)


@router.get("/api/clients")
def list_client_authorisations(request: Request, who: Principal = Depends(principal)) -> Response:
    """Client authorisations: all (administrators) or those of one's own party (enterprises)."""
    if who.is_public:
        raise _unauthorised("sign in to see client authorisations")
    if not (who.is_admin or who.role == "enterprise"):
        raise ProblemError(403, "only administrators and enterprises see client authorisations")
    with _engine(request).connect() as conn:
        if who.is_admin:
            found = access_store.list_authorisations(conn)
        else:
            found = [a for p in sorted(who.parties) for a in access_store.list_authorisations(conn, party=p)]
    return Response(orjson.dumps(found), media_type="application/json")


# --- the audit log -------------------------------------------------------------------------------------


def _time_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if _digits(raw):
        if len(raw) > 19 or int(raw) > MAX_ID:
            raise ProblemError(400, f"{name}: {raw[:40]!r} is too large for microseconds since 1970")
        return int(raw)
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ProblemError(400, f"{name}: {raw!r} is neither a date-time (ISO 8601) nor microseconds") from None
    if dt.tzinfo is None:
        raise ProblemError(400, f"{name}: {raw!r} needs a time zone (Z or +08:00)")
    return int(dt.timestamp() * 1_000_000)


@router.get("/api/audit")
def audit_log(request: Request, who: Principal = Depends(principal)) -> Response:
    """Audit entries, newest first. Filters: ``actor``, ``action`` (exact, or a prefix ending in '.'),
    ``targetType``, ``targetId``, ``party``, ``since``, ``until`` (ISO 8601 or microseconds); ``perPage``,
    ``nextPageToken``. Regulators see only entries made for, or about, parties of their jurisdiction."""
    require(who, "audit:read")
    known = {"actor", "action", "targetType", "targetId", "party", "since", "until", "perPage", "nextPageToken"}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ProblemError(400, f"{unknown[0]}: not a filter of the audit log; use {', '.join(sorted(known))}")
    q = request.query_params
    f = audit.AuditFilter(
        actor=q.get("actor") or None,
        action=q.get("action") or None,
        target_type=q.get("targetType") or None,
        target_id=q.get("targetId") or None,
        party=q.get("party") or None,
        since=_time_param(request, "since"),
        until=_time_param(request, "until"),
    )
    per_page = _int_param(request, "perPage", 100, 1, 1000)
    before = _after_token(request)
    jurisdiction = None if who.is_admin else access_store.jurisdiction_parties(who)
    with _engine(request).connect() as conn:
        rows = audit.query(conn, f, limit=per_page + 1, before=before, jurisdiction=jurisdiction)
    headers = _page_link(request, rows[per_page - 1]["id"]) if len(rows) > per_page else {}
    return Response(orjson.dumps(rows[:per_page]), media_type="application/json", headers=headers)
