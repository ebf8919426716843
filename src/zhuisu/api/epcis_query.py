"""EPCIS 2.0 REST binding, query side: ``/epcis/events``, discovery resources and named queries.

Thin: parameters go through ``zhuisu.epcis.query``, SQL through ``zhuisu.store.queries``, documents
through ``zhuisu.epcis.render``. Endpoints are plain ``def`` (FastAPI runs them in its thread pool).

Choices where the binding leaves room: without a ``GS1-EPC-Format`` header events come back as
captured (the binding's text suggests Digital Link; as-captured keeps capture → query round trips
exact, and ``Always_GS1_Digital_Link`` is one header away). Pages are at most ``max_per_page`` events.
Discovery lists are JSON(-LD) only; ``/eventTypes``, ``/bizSteps`` and ``/dispositions`` list the
standard vocabulary plus any custom value in use.

Access (``zhuisu.access.policy``): every resource needs credentials with ``epcis:read`` (401 for the public,
whose view is the trace page). Results hold only the events the asker may see — filtered in SQL, so pages
and counts stay exact; an invisible event is 404 like a missing one. Enterprises and platform clients get
other parties' events redacted (trade secrets), and filters on hidden fields match only their own events.
Discovery lists list only values of visible events.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement
from starlette.responses import Response

from zhuisu.access import policy
from zhuisu.access.principal import Principal
from zhuisu.api.auth import principal, require
from zhuisu.api.problems import ProblemError
from zhuisu.config import Settings
from zhuisu.epcis import cbv, render
from zhuisu.epcis.problems import EPCISError, Problem
from zhuisu.epcis.query import (
    PAGING_PARAMS,
    ColumnFilter,
    EventQuery,
    QueryUnsupportedError,
    canonical,
    id_filter,
    parse_extensions_header,
    parse_named_query,
    parse_query_json,
    parse_query_params,
)
from zhuisu.store import access as access_store
from zhuisu.store import queries as store
from zhuisu.store import registry as registry_store
from zhuisu.store.queries import PageTokens, QueryTooLargeError, TokenError

router = APIRouter(prefix="/epcis", tags=["EPCIS query"])

EPCIS_VERSION = (2, 0)
CBV_VERSION = (2, 0)
Format = Literal["jsonld", "json", "xml"]
MEDIA = {"jsonld": "application/ld+json", "json": "application/json", "xml": "application/xml"}
QUERY_PARAMETER = "epcisException:QueryParameterException"
TOP_LEVEL = [
    "queries",
    "capture",
    "events",
    "eventTypes",
    "epcs",
    "readPoints",
    "bizLocations",
    "dispositions",
    "bizSteps",
]
# Query-string parameters of a WebSocket subscription (GET /queries/{name}/events with Upgrade).
_SUBSCRIPTION_PARAMS = frozenset(
    {"stream", "second", "minute", "hour", "dayOfMonth", "month", "dayOfWeek", "reportIfEmpty", "initialRecordTime"}
)


# --- request headers -----------------------------------------------------------------------------------

_ACCEPT_PART = re.compile(r"^\s*([^;\s]+)\s*(?:;(.*))?$")


def negotiate(request: Request, *, xml: bool = True) -> Format:
    """The output format the ``Accept`` header asks for; 406 (problem document) if none we produce fits.

    ``application/ld+json``, ``application/json`` and ``*/*`` give JSON-LD (served as ``application/json``
    only when that was asked for), ``application/xml`` or ``text/xml`` give XML where offered.
    """
    header = request.headers.get("accept", "").strip()
    if not header:
        return "jsonld"
    offers: dict[str, Format] = {"application/ld+json": "jsonld", "application/json": "json"}
    if xml:
        offers.update({"application/xml": "xml", "text/xml": "xml"})
    best: tuple[float, int, Format] | None = None
    for part in header.split(","):
        m = _ACCEPT_PART.match(part)
        if not m:
            continue
        media = m.group(1).lower()
        q = 1.0
        for param in (m.group(2) or "").split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        chosen: Format | None = None
        if media in offers:
            chosen, specificity = offers[media], 2
        elif media == "*/*" or media == "application/*":
            chosen, specificity = "jsonld", 1
        elif media == "text/*" and xml:
            chosen, specificity = "xml", 1
        if chosen is not None and (best is None or (q, specificity) > best[:2]):
            best = (q, specificity, chosen)
    if best is None:
        produced = ", ".join(offers)
        raise ProblemError(
            406, f"cannot answer in any media type of Accept: {header!r}; this resource gives {produced}"
        )
    return best[2]


def _version(value: str, header: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)(?:\.(\d+))?(?:\.\d+)*\s*", value)
    if not m:
        raise ProblemError(400, f"{header}: {value!r} is not a version such as 2.0.0")
    return int(m.group(1)), int(m.group(2) or 0)


def check_versions(request: Request) -> None:
    """Refuse (406) clients that ask for an EPCIS or CBV version other than 2.0."""
    for prefix, ours in (("GS1-EPCIS", EPCIS_VERSION), ("GS1-CBV", CBV_VERSION)):
        exact = request.headers.get(f"{prefix}-Version")
        if exact and _version(exact, f"{prefix}-Version") != ours:
            raise ProblemError(406, f"{prefix}-Version {exact} is not served here; this repository speaks 2.0")
        low = request.headers.get(f"{prefix}-Min")
        if low and _version(low, f"{prefix}-Min") > ours:
            raise ProblemError(406, f"{prefix}-Min {low} is above 2.0, the version this repository speaks")
        high = request.headers.get(f"{prefix}-Max")
        if high and _version(high, f"{prefix}-Max") < ours:
            raise ProblemError(406, f"{prefix}-Max {high} is below 2.0, the version this repository speaks")


def _choice(request: Request, header: str, allowed: tuple[str, ...]) -> str:
    value = request.headers.get(header, "No_Preference").strip() or "No_Preference"
    if value not in allowed:
        raise ProblemError(400, f"{header}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _prefixes(request: Request) -> dict[str, str]:
    try:
        return parse_extensions_header(request.headers.get("gs1-extensions"))
    except EPCISError as err:
        raise _query_problem(err) from None


def _query_problem(err: EPCISError) -> ProblemError:
    detail = "; ".join(p.message for p in err.problems[:5])
    if isinstance(err, QueryUnsupportedError):
        return ProblemError(501, detail, problems=err.problems)
    return ProblemError(400, detail, type_=QUERY_PARAMETER, problems=err.problems)


def _per_page(request: Request) -> int:
    settings: Settings = request.app.state.settings
    raw = request.query_params.get("perPage")
    if raw is None:
        return min(settings.default_per_page, settings.max_per_page)
    text = raw.strip().lstrip("0") or "0"
    if not (text.isascii() and text.isdigit()) or text == "0":
        raise ProblemError(400, f"perPage: {raw[:40]!r} is not a positive integer", type_=QUERY_PARAMETER)
    # The binding lets a server cap pages; larger requests get full pages and a Link to the rest.
    return min(int(text) if len(text) < 12 else settings.max_per_page, settings.max_per_page)


def _tokens(request: Request) -> PageTokens:
    tokens = getattr(request.app.state, "page_tokens", None)
    if tokens is None:
        secret = getattr(request.app.state.settings, "secret_key", None)
        if secret:
            tokens = PageTokens(str(secret).encode())
        else:
            tokens = PageTokens.for_database(_engine(request).url.render_as_string(hide_password=False))
        request.app.state.page_tokens = tokens
    return tokens


def _engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def _next_link(request: Request, token: str, per_page: int) -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in PAGING_PARAMS]
    items += [("perPage", str(per_page)), ("nextPageToken", token)]
    # The path as the client spelled it (identifiers in it may carry encoded '/', '?', '#').
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else quote(request.url.path)
    return f'<{path}?{urlencode(items)}>; rel="next"'


def _json_response(body: Any, fmt: Format, headers: dict[str, str] | None = None, status: int = 200) -> Response:
    media = MEDIA["json"] if fmt == "json" else MEDIA["jsonld"]
    return Response(orjson.dumps(body), status_code=status, media_type=media, headers=headers)


# --- access --------------------------------------------------------------------------------------------


_HIDDEN_FROM_PARTNERS = frozenset({"ext", "ilmd", "inner_ext", "inner_ilmd"})  # event_field scopes of redacted fields


def _visibility(who: Principal, query: EventQuery | None = None) -> ColumnElement[bool] | None:
    """The SQL condition of what ``who`` may see (None: everything); 401/403 without ``epcis:read``."""
    require(who, "epcis:read")
    if who.is_admin:
        return None
    # Filters on what partners do not see (quantities, business transactions, sources/destinations,
    # ILMD/extension fields) match only events captured for the asker: no oracle on hidden values. (Sensor data
    # and error declarations, extension fields inside them included, are part of what partners see.)
    owned_only = (
        who.role in ("enterprise", "client")
        and query is not None
        and bool(
            query.links
            or query.quantities
            or any(f.scope in _HIDDEN_FROM_PARTNERS for f in query.fields)
            or query.order_by == "field"
        )
    )
    return access_store.visibility_condition(who, owned_only=owned_only)


def _events_for(conn: Connection, who: Principal, rows: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Event bodies as ``who`` may see them: other parties' events redacted for enterprises and clients."""
    events = store.parse_rows(rows)
    if who.role not in ("enterprise", "client") or not rows:
        return events
    parties = access_store.parties_of_events(conn, [seq for seq, _ in rows])
    partner = [
        i for i, (seq, _) in enumerate(rows) if not any(parties.get(seq, {}).get(p) == "owner" for p in who.parties)
    ]
    if not partner:
        return events
    owners = registry_store.parties_for_identifiers(
        conn, {cid for i in partner for cid in policy.hidden_values(events[i])}
    )
    for i in partner:
        owner = next((p for p, rel in parties.get(rows[i][0], {}).items() if rel == "owner"), None)
        events[i] = policy.redact(events[i], who.parties, owner, owners)
    return events


# --- running queries -----------------------------------------------------------------------------------


def _parse_request_query(request: Request) -> EventQuery:
    try:
        return parse_query_params(request.query_params.multi_items(), prefixes=_prefixes(request))
    except EPCISError as err:
        raise _query_problem(err) from None


def run_query(
    request: Request,
    query: EventQuery,
    *,
    scope: str,
    who: Principal,
    query_name: str = "SimpleEventQuery",
) -> Response:
    """Answer ``query`` as a page of an EPCISQueryDocument in the negotiated format, as ``who`` may see it."""
    visible = _visibility(who, query)
    check_versions(request)
    fmt = negotiate(request)
    epc_format = _choice(request, "GS1-EPC-Format", render.EPC_FORMATS)
    _choice(request, "GS1-CBV-XML-Format", render.CBV_XML_FORMATS)  # checked; see render.CBV_XML_WRITTEN
    per_page = _per_page(request)
    token = request.query_params.get("nextPageToken") or None
    try:
        with _engine(request).connect() as conn:
            page = store.find_events(
                conn, query, per_page=per_page, tokens=_tokens(request), token=token, scope=scope, visible=visible
            )
            events = _events_for(conn, who, page.rows)
    except TokenError as exc:
        raise ProblemError(400, f"nextPageToken: {exc}", type_=QUERY_PARAMETER) from None
    except QueryTooLargeError as exc:
        raise ProblemError(413, str(exc), type_="epcisException:QueryTooLargeException") from None
    headers = {"GS1-EPC-Format": epc_format}
    if page.next_token:
        headers["Link"] = _next_link(request, page.next_token, per_page)
    if fmt == "xml":
        body = render.render_xml(events, query_name=query_name, epc_format=epc_format)
        headers["GS1-CBV-XML-Format"] = render.CBV_XML_WRITTEN
        return Response(body, media_type=MEDIA["xml"], headers=headers)
    doc = render.render_json(events, query_name=query_name, epc_format=epc_format)
    return Response(doc, media_type=MEDIA[fmt], headers=headers)


def _options(allow: str) -> Response:
    return Response(
        status_code=204,
        headers={
            "Allow": allow,
            "GS1-EPC-Format": ", ".join(render.EPC_FORMATS),
            "GS1-CBV-XML-Format": ", ".join(render.CBV_XML_FORMATS),
            "Accept": "application/ld+json, application/json, application/xml",
        },
    )


# --- top level and events ------------------------------------------------------------------------------


@router.options("", status_code=204, include_in_schema=False)
@router.options("/", status_code=204)
def root_options() -> Response:
    return _options("OPTIONS, GET")


@router.get("", include_in_schema=False)
@router.get("/")
def root(request: Request, who: Principal = Depends(principal)) -> Response:
    """The top-level resources of this EPCIS repository."""
    require(who, "epcis:read")
    check_versions(request)
    fmt = negotiate(request, xml=False)
    return _json_response(render.collection(TOP_LEVEL), fmt)


@router.options("/events", status_code=204)
def events_options() -> Response:
    return _options("OPTIONS, GET, POST")


@router.get("/events")
def get_events(request: Request, who: Principal = Depends(principal)) -> Response:
    """All events matching the SimpleEventQuery parameters of the query string, a page at a time."""
    require(who, "epcis:read")
    return run_query(request, _parse_request_query(request), scope="/events", who=who)


@router.options("/events/{event_id:path}", status_code=204)
def event_options() -> Response:
    return _options("OPTIONS, GET")


@router.get("/events/{event_id:path}")
def get_event(request: Request, event_id: str, who: Principal = Depends(principal)) -> Response:
    """One event by its eventID, as an EPCISQueryDocument (404 also when it is not the asker's to see)."""
    visible = _visibility(who)
    check_versions(request)
    fmt = negotiate(request)
    epc_format = _choice(request, "GS1-EPC-Format", render.EPC_FORMATS)
    _choice(request, "GS1-CBV-XML-Format", render.CBV_XML_FORMATS)  # checked; see render.CBV_XML_WRITTEN
    events: list[dict[str, Any]] = []
    if "\x00" not in event_id:  # no stored eventID has one (and PostgreSQL text cannot hold it)
        with _engine(request).connect() as conn:
            found = store.find_event(conn, event_id, visible)
            if found is not None:
                events = _events_for(conn, who, [found])
    if not events:
        raise ProblemError(404, f"there is no event with eventID {event_id!r}")
    headers = {"GS1-EPC-Format": epc_format}
    if fmt == "xml":
        headers["GS1-CBV-XML-Format"] = render.CBV_XML_WRITTEN
        return Response(render.render_xml(events, epc_format=epc_format), media_type=MEDIA["xml"], headers=headers)
    return Response(render.render_json(events, epc_format=epc_format), media_type=MEDIA[fmt], headers=headers)


# --- discovery resources -------------------------------------------------------------------------------

# resource → what a value of it constrains in a query
_RESOURCES = ("eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions")


def _resource_value(resource: str, value: str) -> str:
    """The stored (canonical) form of a resource instance named in a path; 404 if it cannot be one."""
    try:
        if "\x00" in value:
            raise ValueError("it contains a NUL character")
        if resource == "bizSteps":
            word = cbv.BIZ_STEP.to_word(value)
            if word not in cbv.BIZ_STEP.words and ":" not in word:
                raise ValueError("not a CBV business step nor a URI")
            return word
        if resource == "dispositions":
            word = cbv.DISPOSITION.to_word(value)
            if word not in cbv.DISPOSITION.words and ":" not in word:
                raise ValueError("not a CBV disposition nor a URI")
            return word
        if resource == "eventTypes":
            if value not in cbv.EVENT_TYPES and ":" not in value:
                raise ValueError("not an EPCIS event type nor a URI")
            return value
        return canonical(resource, value)
    except (ValueError, EPCISError) as exc:
        raise ProblemError(404, f"{value!r} is not one of the {resource}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, EPCISError) and exc.problems:
        return exc.problems[0].message
    return str(exc)


def _narrow(resource: str, value: str, query: EventQuery) -> EventQuery:
    param = f"/{resource}/{{{resource[:-1]}}}"
    if resource == "eventTypes":
        return query.narrowed(event_types=(value,))
    if resource == "epcs":
        return query.narrowed(ids=[id_filter(param, store.EPC_ROLES, [value])])
    column = {
        "bizSteps": "biz_step",
        "dispositions": "disposition",
        "readPoints": "read_point",
        "bizLocations": "biz_location",
    }[resource]
    return query.narrowed(columns=[ColumnFilter(param, column, (value,))])


def _list_resource(request: Request, resource: str, who: Principal) -> Response:
    visible = _visibility(who)
    check_versions(request)
    fmt = negotiate(request, xml=False)
    per_page = _per_page(request)
    unknown = sorted(set(request.query_params) - PAGING_PARAMS)
    if unknown:
        raise ProblemError(400, f"{unknown[0]}: unknown query parameter for /{resource}", type_=QUERY_PARAMETER)
    tokens = _tokens(request)
    after = None
    token = request.query_params.get("nextPageToken")
    if token:
        try:
            after = str(tokens.open(token, f"list:{resource}")["k"])
        except (TokenError, KeyError) as exc:
            raise ProblemError(400, f"nextPageToken: {exc}", type_=QUERY_PARAMETER) from None
    with _engine(request).connect() as conn:
        values, more = store.list_values(conn, resource, after, per_page, visible)
    headers: dict[str, str] = {}
    members = values
    if resource in ("epcs", "readPoints", "bizLocations"):
        # Stored in canonical (Digital Link) form; GS1-EPC-Format may ask for EPC URNs.
        epc_format = _choice(request, "GS1-EPC-Format", render.EPC_FORMATS)
        headers["GS1-EPC-Format"] = epc_format
        convert = render.identifier_converter(epc_format)
        if convert is not None:
            members = [convert(v) for v in values]
    if more and values:
        headers["Link"] = _next_link(request, tokens.issue(f"list:{resource}", {"k": values[-1]}), per_page)
    return _json_response(render.collection(members), fmt, headers)


def _resource_instance(request: Request, resource: str, value: str, who: Principal) -> Response:
    visible = _visibility(who)
    check_versions(request)
    fmt = negotiate(request, xml=False)
    stored = _resource_value(resource, value)
    with _engine(request).connect() as conn:
        known = store.value_known(conn, resource, stored, visible)
    if not known:
        raise ProblemError(404, f"no event in this repository names {value!r} among its {resource}")
    return _json_response(render.collection(["events"]), fmt)


def _resource_events(request: Request, resource: str, value: str, who: Principal) -> Response:
    require(who, "epcis:read")
    stored = _resource_value(resource, value)
    query = _narrow(resource, stored if resource != "epcs" else value, _parse_request_query(request))
    return run_query(request, query, scope=f"/{resource}/{stored}/events", who=who)


def _register(resource: str) -> None:
    # One set of routes per discovery resource; ':path' because identifiers contain '/' once decoded.
    def list_options() -> Response:
        return _options("OPTIONS, GET")

    def list_get(request: Request, who: Principal = Depends(principal)) -> Response:
        return _list_resource(request, resource, who)

    def events_get(request: Request, value: str, who: Principal = Depends(principal)) -> Response:
        return _resource_events(request, resource, value, who)

    def instance_get(request: Request, value: str, who: Principal = Depends(principal)) -> Response:
        return _resource_instance(request, resource, value, who)

    list_get.__doc__ = f"The {resource} of this repository (a Collection), a page at a time."
    events_get.__doc__ = f"Events of one of the {resource}, filtered further by query parameters."
    instance_get.__doc__ = f"Sub-resources of one of the {resource} (``events``)."
    router.add_api_route(f"/{resource}", list_options, methods=["OPTIONS"], status_code=204, name=f"{resource}_options")
    router.add_api_route(f"/{resource}", list_get, methods=["GET"], name=f"list_{resource}")
    router.add_api_route(
        f"/{resource}/{{value:path}}/events",
        list_options,
        methods=["OPTIONS"],
        status_code=204,
        name=f"{resource}_events_options",
    )
    router.add_api_route(f"/{resource}/{{value:path}}/events", events_get, methods=["GET"], name=f"{resource}_events")
    router.add_api_route(
        f"/{resource}/{{value:path}}",
        list_options,
        methods=["OPTIONS"],
        status_code=204,
        name=f"{resource}_one_options",
    )
    router.add_api_route(f"/{resource}/{{value:path}}", instance_get, methods=["GET"], name=f"{resource}_one")


for _resource in _RESOURCES:
    _register(_resource)


# --- named queries -------------------------------------------------------------------------------------


def _query_url(name: str) -> str:
    return f"/epcis/queries/{quote(name, safe='')}"


def _load_named(request: Request, name: str, who: Principal) -> dict[str, Any]:
    stored = None
    if "\x00" not in name:  # no name has one (and PostgreSQL text cannot hold it)
        with _engine(request).connect() as conn:
            stored = store.get_named_query(conn, name, policy.query_owners(who))
    if stored is None:
        raise ProblemError(404, f"there is no named query {name!r}", type_="epcisException:NoSuchNameException")
    return stored


@router.options("/queries", status_code=204)
def queries_options() -> Response:
    return _options("OPTIONS, GET, POST")


@router.get("/queries")
def list_queries(request: Request, who: Principal = Depends(principal)) -> Response:
    """The named queries, by name, a page at a time."""
    require(who, "epcis:read")
    check_versions(request)
    fmt = negotiate(request, xml=False)
    per_page = _per_page(request)
    tokens = _tokens(request)
    after = None
    token = request.query_params.get("nextPageToken")
    if token:
        try:
            after = str(tokens.open(token, "list:queries")["k"])
        except (TokenError, KeyError) as exc:
            raise ProblemError(400, f"nextPageToken: {exc}", type_=QUERY_PARAMETER) from None
    with _engine(request).connect() as conn:
        found = store.list_named_queries(conn, after, per_page + 1, policy.query_owners(who))
    headers: dict[str, str] = {}
    if len(found) > per_page:
        found = found[:per_page]
        headers["Link"] = _next_link(request, tokens.issue("list:queries", {"k": found[-1][0]}), per_page)
    return _json_response([{"name": n, "query": q} for n, q in found], fmt, headers)


@router.post("/queries", status_code=201)
async def create_query(request: Request, who: Principal = Depends(principal)) -> Response:
    """Create a named query from ``{"name": …, "query": {…}}``; 201 with its Location, 409 if the name is taken."""
    from fastapi.concurrency import run_in_threadpool

    require(who, "epcis:read")
    check_versions(request)
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in ("application/json", "application/ld+json") and not media.endswith("+json"):
        raise ProblemError(415, f"a named query is sent as application/json, not {media!r}")
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProblemError(
            400, f"the body is not well-formed JSON: {exc}", problems=[Problem(None, "/", str(exc))]
        ) from None
    try:
        name, query = parse_named_query(body, prefixes=_prefixes(request))
    except EPCISError as err:
        raise _query_problem(err) from None
    created = await run_in_threadpool(store.create_named_query, _engine(request), name, query, policy.query_owner(who))
    if not created:
        raise ProblemError(
            409,
            f"a named query {name!r} already exists; delete it first or choose another name",
            type_="epcisException:ResourceAlreadyExistsException",
        )
    return Response(status_code=201, headers={"Location": _query_url(name)})


@router.options("/queries/{name}", status_code=204)
def query_options() -> Response:
    return _options("OPTIONS, GET, DELETE")


@router.get("/queries/{name}")
def get_query(request: Request, name: str, who: Principal = Depends(principal)) -> Response:
    """The definition of a named query."""
    require(who, "epcis:read")
    check_versions(request)
    fmt = negotiate(request, xml=False)
    return _json_response({"name": name, "query": _load_named(request, name, who)}, fmt)


@router.delete("/queries/{name}", status_code=204)
def delete_query(request: Request, name: str, who: Principal = Depends(principal)) -> Response:
    """Remove a named query."""
    require(who, "epcis:read")
    if "\x00" in name or not store.delete_named_query(_engine(request), name, policy.query_owners(who)):
        raise ProblemError(404, f"there is no named query {name!r}", type_="epcisException:NoSuchNameException")
    return Response(status_code=204)


@router.options("/queries/{name}/events", status_code=204)
def query_events_options() -> Response:
    return _options("OPTIONS, GET")


@router.get("/queries/{name}/events")
def get_query_events(request: Request, name: str, who: Principal = Depends(principal)) -> Response:
    """The events a named query selects, a page at a time."""
    require(who, "epcis:read")
    stored = _load_named(request, name, who)
    extra = sorted(set(request.query_params) - PAGING_PARAMS)
    if extra:
        if extra[0] in _SUBSCRIPTION_PARAMS:
            why = "is a subscription parameter; subscribe by WebSocket or POST /queries/{name}/subscriptions"
        else:
            why = "cannot be added here: a named query's parameters are fixed by its definition"
        raise ProblemError(400, f"{extra[0]}: {why}", type_=QUERY_PARAMETER)
    try:
        query = parse_query_json(stored)
    except EPCISError as err:
        raise _query_problem(err) from None
    return run_query(request, query, scope=f"/queries/{name}/events", who=who)


@router.delete("/nextPageToken/{token}", status_code=204)
def release_token(request: Request, token: str, who: Principal = Depends(principal)) -> Response:
    """Page tokens hold no server resources here (they carry their own state): nothing to release."""
    require(who, "epcis:read")
    body, dot, _ = token.partition(".")
    if not dot or not body:
        raise ProblemError(404, "nextPageToken is not one this server issued")
    return Response(status_code=204)
