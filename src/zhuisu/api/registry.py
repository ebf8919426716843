"""Registry API (备案接口) under ``/api``: parties (enterprises and natural persons), their status, locations,
products, catalogs, and the registry as EPCIS master data.

| method and path | what |
|---|---|
| ``GET /api/parties`` | list (filters ``region`` prefix code, ``sector``, ``type``, ``status``, ``kind``, ``q``) |
| ``POST /api/parties`` | register a party → ``201`` + ``Location`` |
| ``GET/PATCH /api/parties/{party_code}`` | read (public fields, or everything for those allowed) / update |
| ``POST /api/parties/{party_code}/status`` | ``{"status": "approved"|"suspended"|"revoked", "reason": …}`` |
| ``GET/POST /api/locations``, ``GET/PATCH /api/locations/{code}`` | locations (``party_code``, ``region``) |
| ``GET/POST /api/products``, ``GET/PATCH /api/products/{product_id}`` | products (``party_code``, ``sector``, |
| | ``category``, ``q``) |
| ``GET /api/catalogs?catalog=key&on=YYYY-MM-DD&region=…`` | the entries in force on a date (default today) |
| ``GET /api/catalogs/versions``, ``POST /api/catalogs/versions`` | catalog versions / publish one |
| ``GET /api/catalogs/check?category=…|product=…&on=…`` | was it on the catalog on that date? |
| ``GET /api/masterdata`` | an EPCISDocument carrying the visible locations and products as master data |

Paging (parties, locations, products): ``perPage`` (default and cap from settings) and ``nextPageToken``;
a response with more after it carries ``nextPageToken`` in the body and a ``Link: <…>; rel="next"`` header.
The token is the opaque (base64url) sort key of the last item, so pages stay stable while records are
added. Catalog lists are short and come whole; ``/api/masterdata`` takes ``party_code`` and ``vtype``
and gives at most ``perPage`` locations and products (ask per party for more).

Codes with ``/`` (Digital Link location codes) go in the path percent-encoded or as they are.
Access rules: see ``zhuisu.registry.access``. Every error is an RFC 7807 document naming the field
(``errors[].pointer``); a refused request writes nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Query, Request
from sqlalchemy import Connection, Engine
from starlette.responses import JSONResponse, Response

from zhuisu.access.principal import Principal
from zhuisu.api.auth import principal, require
from zhuisu.api.problems import ProblemError
from zhuisu.registry import access
from zhuisu.registry.catalog import CATALOGS, parse_versions
from zhuisu.registry.errors import RegistryError
from zhuisu.registry.identifiers import IdentityProtector
from zhuisu.registry.masterdata import masterdata_document
from zhuisu.registry.model import Location, Party
from zhuisu.registry.validate import validate_catalog_version
from zhuisu.registry.views import entry_view, location_view, party_view, product_view, version_view
from zhuisu.store import registry as store
from zhuisu.store.db import writing

router = APIRouter(prefix="/api", tags=["registry"])


def _reader(who: Principal = Depends(principal)) -> Principal:
    # The public reads the public view; a signed-in principal needs the registry:read scope (a key narrowed to,
    # say, epcis:capture reads nothing here).
    if not who.is_public:
        require(who, "registry:read")
    return who


def _writer(who: Principal = Depends(principal)) -> Principal:
    require(who, "registry:write")
    return who


Who = Annotated[Principal, Depends(_reader)]
Writer = Annotated[Principal, Depends(_writer)]
JsonBody = Annotated[dict[str, Any], Body()]
T = TypeVar("T")


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def _problem(exc: RegistryError) -> ProblemError:
    return ProblemError(exc.status, str(exc), problems=exc.problems)


@contextmanager
def _write(request: Request) -> Iterator[Connection]:
    """One write transaction; a ``RegistryError`` rolls it back and answers with a problem document."""
    try:
        with writing(_engine(request)) as conn:
            yield conn
    except RegistryError as exc:
        raise _problem(exc) from exc


def _protector(request: Request) -> IdentityProtector:
    protector: IdentityProtector | None = getattr(request.app.state, "identity_protector", None)
    if protector is None:
        settings = request.app.state.settings
        url = _engine(request).url.render_as_string(hide_password=False)
        protector = IdentityProtector.from_settings(getattr(settings, "secret_key", None), url)
        request.app.state.identity_protector = protector
    return protector


def _per_page(request: Request, raw: str | None) -> int:
    settings = request.app.state.settings
    if raw is None:
        return int(settings.default_per_page)
    if not (raw.isascii() and raw.isdigit()) or int(raw) == 0:
        raise ProblemError(400, f"perPage: {raw[:40]!r} is not a positive integer")
    return min(int(raw), int(settings.max_per_page))


def _decode_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ProblemError(400, "nextPageToken: not a token this server issued") from exc


def _page(
    request: Request,
    items: list[T],
    per_page: int,
    key: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
) -> Response:
    more = len(items) > per_page
    items = items[:per_page]
    body: dict[str, Any] = {"items": [render(i) for i in items]}
    headers = {}
    if more:
        token = base64.urlsafe_b64encode(key(items[-1]).encode()).decode().rstrip("=")
        body["nextPageToken"] = token
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("perPage", "nextPageToken")]
        params += [("perPage", str(per_page)), ("nextPageToken", token)]
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    return JSONResponse(body, headers=headers)


def _visible_party(conn: Connection, who: Principal, code: str) -> Party:
    party = store.get_party(conn, code)
    if party is None or not access.can_read(who, party):
        raise ProblemError(404, f"no party {code!r}")
    return party


def _render_party(conn: Connection, who: Principal, party: Party) -> dict[str, Any]:
    if access.full_view(who, party):
        return party_view(party, store.get_party_detail(conn, party.party_code))
    return party_view(party)


def _location_public(who: Principal, owner: Party) -> bool:
    return owner.kind == "person" and not access.full_view(who, owner)


# ------------------------------------------------------------------------------------------------ parties


@router.get("/parties", summary="List parties (主体)")
def list_parties(
    request: Request,
    who: Who,
    region: str | None = None,
    sector: str | None = None,
    type: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    per_page: Annotated[str | None, Query(alias="perPage")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> Response:
    n = _per_page(request, per_page)
    with _engine(request).connect() as conn:
        found = store.list_parties(
            conn,
            who,
            region=region,
            sector=sector,
            type_=type,
            status=status,
            kind=kind,
            q=q,
            after=_decode_token(next_page_token),
            limit=n + 1,
        )
        return _page(request, found, n, lambda p: p.party_code, lambda p: _render_party(conn, who, p))


@router.post("/parties", status_code=201, summary="Register a party (主体备案)")
def create_party(request: Request, who: Writer, data: JsonBody) -> Response:
    with _write(request) as conn:
        party = store.create_party(conn, who, data, protector=_protector(request), remote=_remote(request))
        body = _render_party(conn, who, party)
    return JSONResponse(body, status_code=201, headers={"Location": f"/api/parties/{party.party_code}"})


@router.get("/parties/{party_code}", summary="One party")
def get_party(request: Request, who: Who, party_code: str) -> dict[str, Any]:
    with _engine(request).connect() as conn:
        return _render_party(conn, who, _visible_party(conn, who, party_code))


@router.patch("/parties/{party_code}", summary="Update a party")
def update_party(request: Request, who: Writer, party_code: str, data: JsonBody) -> dict[str, Any]:
    with _write(request) as conn:
        party = store.update_party(conn, who, party_code, data, remote=_remote(request))
        return _render_party(conn, who, party)


@router.post("/parties/{party_code}/status", summary="Approve, suspend, reinstate or revoke a party")
def set_status(request: Request, who: Writer, party_code: str, data: JsonBody) -> dict[str, Any]:
    status = data.get("status")
    if not isinstance(status, str):
        raise ProblemError(400, "/status: is required (approved, suspended or revoked)")
    with _write(request) as conn:
        party = store.set_party_status(conn, who, party_code, status, data.get("reason"), remote=_remote(request))
        return _render_party(conn, who, party)


# ---------------------------------------------------------------------------------------------- locations


def _owners(conn: Connection, codes: set[str]) -> dict[str, Party]:
    out = {}
    for code in codes:
        party = store.get_party(conn, code)
        if party is not None:
            out[code] = party
    return out


@router.get("/locations", summary="List locations")
def list_locations(
    request: Request,
    who: Who,
    party_code: str | None = None,
    region: str | None = None,
    per_page: Annotated[str | None, Query(alias="perPage")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> Response:
    n = _per_page(request, per_page)
    with _engine(request).connect() as conn:
        found = store.list_locations(
            conn, who, party_code=party_code, region=region, after=_decode_token(next_page_token), limit=n + 1
        )
        owners = _owners(conn, {loc.party_code for loc in found})

        def render(loc: Location) -> dict[str, Any]:
            return location_view(loc, public=_location_public(who, owners[loc.party_code]))

        return _page(request, found, n, lambda loc: loc.code, render)


@router.post("/locations", status_code=201, summary="Register a location")
def create_location(request: Request, who: Writer, data: JsonBody) -> Response:
    with _write(request) as conn:
        loc = store.create_location(conn, who, data, remote=_remote(request))
    return JSONResponse(location_view(loc), status_code=201, headers={"Location": f"/api/locations/{loc.code}"})


def _visible_location(conn: Connection, who: Principal, code: str) -> tuple[Location, Party]:
    loc = store.get_location(conn, code)
    owner = store.get_party(conn, loc.party_code) if loc is not None else None
    if loc is None or owner is None or not access.can_read(who, owner):
        raise ProblemError(404, f"no location {code!r}")
    return loc, owner


@router.get("/locations/{code:path}", summary="One location")
def get_location(request: Request, who: Who, code: str) -> dict[str, Any]:
    with _engine(request).connect() as conn:
        loc, owner = _visible_location(conn, who, code)
        return location_view(loc, public=_location_public(who, owner))


@router.patch("/locations/{code:path}", summary="Update a location")
def update_location(request: Request, who: Writer, code: str, data: JsonBody) -> dict[str, Any]:
    with _write(request) as conn:
        loc = store.update_location(conn, who, code, data, remote=_remote(request))
    return location_view(loc)


# ----------------------------------------------------------------------------------------------- products


@router.get("/products", summary="List products (品种)")
def list_products(
    request: Request,
    who: Who,
    party_code: str | None = None,
    sector: str | None = None,
    category: str | None = None,
    q: str | None = None,
    per_page: Annotated[str | None, Query(alias="perPage")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> Response:
    n = _per_page(request, per_page)
    with _engine(request).connect() as conn:
        found = store.list_products(
            conn,
            who,
            party_code=party_code,
            sector=sector,
            category=category,
            q=q,
            after=_decode_token(next_page_token),
            limit=n + 1,
        )
    return _page(request, found, n, lambda p: p.product_id, product_view)


@router.post("/products", status_code=201, summary="Register a product (品种备案)")
def create_product(request: Request, who: Writer, data: JsonBody) -> Response:
    with _write(request) as conn:
        product = store.create_product(conn, who, data, remote=_remote(request))
    return JSONResponse(
        product_view(product), status_code=201, headers={"Location": f"/api/products/{product.product_id}"}
    )


@router.get("/products/{product_id:path}", summary="One product")
def get_product(request: Request, who: Who, product_id: str) -> dict[str, Any]:
    with _engine(request).connect() as conn:
        product = store.get_product(conn, product_id)
        owner = store.get_party(conn, product.party_code) if product is not None else None
        if product is None or owner is None or not access.can_read(who, owner):
            raise ProblemError(404, f"no product {product_id!r}")
        return product_view(product)


@router.patch("/products/{product_id:path}", summary="Update a product")
def update_product(request: Request, who: Writer, product_id: str, data: JsonBody) -> dict[str, Any]:
    with _write(request) as conn:
        product = store.update_product(conn, who, product_id, data, remote=_remote(request))
    return product_view(product)


# ----------------------------------------------------------------------------------------------- catalogs


def _date(raw: str | None, field: str = "on") -> str:
    if raw is None:
        return dt.date.today().isoformat()
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError as exc:
        raise ProblemError(400, f"/{field}: {raw[:40]!r} is not an ISO date (YYYY-MM-DD)") from exc


def _catalog(raw: str) -> str:
    if raw not in CATALOGS:
        raise ProblemError(400, f"/catalog: {raw[:40]!r} is not one of: " + ", ".join(CATALOGS))
    return raw


@router.get("/catalogs", summary="Catalog entries in force on a date")
def catalog_in_force(
    request: Request, catalog: str = "key", on: str | None = None, region: str | None = None
) -> dict[str, Any]:
    day = _date(on)
    with _engine(request).connect() as conn:
        found = store.catalog_in_force(conn, day, catalog=_catalog(catalog), region=region)
    return {
        "catalog": catalog,
        "on": day,
        "region": region,
        "items": [dict(version_view(v, entries=False), entry=entry_view(e)) for v, e in found],
    }


@router.get("/catalogs/versions", summary="Every catalog version")
def catalog_versions(request: Request, catalog: str | None = None, scope: str | None = None) -> dict[str, Any]:
    with _engine(request).connect() as conn:
        versions = store.catalog_versions(conn, catalog=_catalog(catalog) if catalog else None, scope=scope)
    return {"items": [version_view(v) for v in versions]}


@router.post("/catalogs/versions", status_code=201, summary="Publish a catalog version")
def publish_version(request: Request, who: Writer, data: JsonBody) -> dict[str, Any]:
    if who.is_public:
        raise ProblemError(401, "sign in to publish catalogs")
    try:
        version = parse_versions({"versions": [validate_catalog_version(data)]})[0]
    except RegistryError as exc:
        raise _problem(exc) from exc
    with _write(request) as conn:
        added = store.load_catalog_versions(conn, [version], principal=who)
        if not added:
            raise RegistryError.one("version", f"version {version.version} of this catalog exists", status=409)
    return version_view(version)


@router.get("/catalogs/check", summary="Was a category or product on a catalog on a date?")
def catalog_check(
    request: Request,
    who: Who,
    catalog: str = "key",
    category: str | None = None,
    product: str | None = None,
    on: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    day = _date(on)
    catalog = _catalog(catalog)
    with _engine(request).connect() as conn:
        if product is not None:
            found_product = store.get_product(conn, product)
            owner = store.get_party(conn, found_product.party_code) if found_product else None
            if found_product is None or owner is None or not access.can_read(who, owner):
                raise ProblemError(404, f"no product {product!r}")
            category = found_product.category
            region = region or owner.region
        elif category is None:
            raise ProblemError(400, "/category: give category or product")
        hit = store.catalog_entry_on(conn, category, day, catalog=catalog, region=region) if category else None
    return {
        "catalog": catalog,
        "category": category,
        "on": day,
        "region": region,
        "on_catalog": hit is not None,
        "version": version_view(hit[0], entries=False) if hit else None,
        "entry": entry_view(hit[1]) if hit else None,
    }


# --------------------------------------------------------------------------------------------- masterdata


@router.get("/masterdata", summary="Locations and products as EPCIS master data")
def masterdata(
    request: Request,
    who: Who,
    party_code: str | None = None,
    vtype: Annotated[str | None, Query(description="location or product; both when absent")] = None,
    per_page: Annotated[str | None, Query(alias="perPage")] = None,
) -> Response:
    n = _per_page(request, per_page)
    if vtype not in (None, "location", "product"):
        raise ProblemError(400, "/vtype: must be location or product")
    with _engine(request).connect() as conn:
        locs = store.list_locations(conn, who, party_code=party_code, limit=n) if vtype != "product" else []
        products = store.list_products(conn, who, party_code=party_code, limit=n) if vtype != "location" else []
        owners = _owners(conn, {x.party_code for x in locs} | {p.party_code for p in products})
    doc = masterdata_document(
        [(loc, _location_public(who, owners[loc.party_code])) for loc in locs],
        products,
        {code: party.name for code, party in owners.items()},
    )
    return JSONResponse(doc, media_type="application/ld+json")
