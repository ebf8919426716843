"""The resolver at the HTTP edge: GS1 Digital Link paths (``/01/{gtin}/10/{lot}…``, ``/00/{sscc}``,
``/414/{gln}`` … every path whose first AI is a GS1 primary key) and platform codes (``/t/{code}``).

A browser gets the public trace page; ``Accept: application/linkset+json`` (or ``application/json``) or
``?linkType=all`` gets the GS1 linkset; ``?linkType=<type>`` is redirected (307) to that link. A malformed
code is a 400 page saying what is wrong, an unknown one a 404 page, both in Chinese and English (or problem
documents for clients that asked for JSON). Pages and redirects count as scans; linksets do not.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine

from zhuisu import web
from zhuisu.api import ledger
from zhuisu.api.problems import problem_response
from zhuisu.codes.parse import parse_code
from zhuisu.resolver import page as page_mod
from zhuisu.resolver.dl import PRIMARY_KEY_AIS, CodeRef, MalformedCode, digital_link_ref, parse_dl_request
from zhuisu.resolver.linkset import LINKSET_TYPE, WHOLE_SET, normalize_link_type
from zhuisu.resolver.page import TracePage
from zhuisu.resolver.scans import ScanRules, normalize_region
from zhuisu.resolver.service import Lookup, Sources, build_linkset, check_platform_code, trace_page_url
from zhuisu.resolver.vocab import Lang
from zhuisu.store.db import writing
from zhuisu.store.resolver import ScanSummary, record_scan

router = APIRouter(tags=["resolver"])

REGION_HEADER = "x-zhuisu-region"


def _sources(request: Request) -> Sources:
    found: Sources | None = getattr(request.app.state, "resolver_sources", None)
    if found is None:
        from zhuisu.resolver.sources import StoreSources

        state = request.app.state
        found = StoreSources(state.engine, lambda: ledger.get_signer(state))
        request.app.state.resolver_sources = found
    return found


def _base(request: Request) -> str:
    """Links point back at the host the client reached (so a linkset works on any deployment name)."""
    return str(request.base_url).rstrip("/")


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    if "text/html" in accept:
        return False
    return LINKSET_TYPE in accept or "application/json" in accept


def _t(lang: Lang) -> Any:
    return lambda zh, en: en if lang == "en" else zh


def _html(request: Request, name: str, status_code: int, **context: Any) -> HTMLResponse:
    lang = web.lang(request)
    ctx = {"request": request, "lang": lang, "t": _t(lang), **context}
    return web.templates.TemplateResponse(request, name, ctx, status_code=status_code)


def _error(request: Request, status: int, code: str, reason: str | None) -> Response:
    if _wants_json(request) or request.query_params.get("linkType"):
        detail = f"{code}: {reason}" if reason else f"{code}: no such code on this platform"
        return problem_response(status, detail, instance=request.url.path)
    return _html(request, "resolver_error.html", status, status=status, code=code, reason=reason)


def _region(request: Request) -> str | None:
    return normalize_region(request.query_params.get("region") or request.headers.get(REGION_HEADER))


def _count(request: Request, ref: CodeRef, via: str) -> ScanSummary:
    engine: Engine = request.app.state.engine
    rules: ScanRules = getattr(request.app.state, "scan_rules", None) or ScanRules()
    at = time.time_ns() // 1000
    with writing(engine) as conn:
        return record_scan(
            conn, ref.key, serialized=ref.serialized, at=at, region=_region(request), via=via, rules=rules
        )


def _answer(request: Request, ref: CodeRef) -> Response:
    lang = web.lang(request)
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        found: Lookup | None = _sources(request).lookup(conn, ref, lang)
    display = ref.key if ref.kind == "platform" else request.url.path.lstrip("/")
    if found is None:
        return _error(request, 404, display, None)
    base = _base(request)
    links = build_linkset(base, ref, found, lang)
    linkset_href = trace_page_url(base, ref) + "?linkType=linkset"
    # Pages and redirects count scans and show live counters: never served from a cache.
    headers = {"Link": links.link_header(linkset_href), "Vary": "Accept, Accept-Language", "Cache-Control": "no-store"}
    link_type = request.query_params.get("linkType")
    if (link_type and link_type in WHOLE_SET) or (not link_type and _wants_json(request)):
        return Response(orjson.dumps(links.as_json()), media_type=LINKSET_TYPE, headers=headers)
    if link_type:
        if request.method == "GET":
            _count(request, ref, "redirect")
        target = links.target(normalize_link_type(link_type))
        return RedirectResponse(target.href, status_code=307, headers=headers)
    scans = _count(request, ref, "page") if request.method == "GET" else None
    trace = TracePage(
        code=ref,
        display_code=display,
        status=found.status,
        product=found.product,
        lot=found.lot or ref.lot,
        serial=found.serial or ref.serial,
        steps=found.steps,
        scan_count=scans.count if scans else 0,
        first_scan_us=scans.first_at if scans else None,
        flag=scans.flag if scans else None,
        checkpoint=found.checkpoint,
    )
    response = _html(
        request,
        "trace.html",
        200,
        page=trace,
        fmt_time=lambda us, offset: page_mod.format_time(us, offset, lang),
        region=lambda code: page_mod.region_label(code, lang),
        step_title=lambda s: page_mod.step_title(s, lang),
        step_disposition=lambda s: page_mod.step_disposition(s, lang),
        is_alarming=page_mod.is_alarming,
        epcis_href=links.links["https://gs1.org/voc/epcis"][0].href,
        linkset_href=linkset_href,
    )
    response.headers.update(headers)
    return response


def _digital_link(request: Request) -> Response:
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        link = parse_dl_request(_base(request), path, query)
    except MalformedCode as exc:
        return _error(request, 400, exc.code, exc.reason)
    return _answer(request, digital_link_ref(link))


# HEAD answers like GET (headers only) but is left out of the OpenAPI description: one operation per path.
for _ai in PRIMARY_KEY_AIS:
    for _method in ("GET", "HEAD"):
        router.add_api_route(
            f"/{_ai}/{{rest:path}}",
            _digital_link,
            methods=[_method],
            include_in_schema=_ai == "01" and _method == "GET",
            name=f"resolve_{_ai}_{_method.lower()}",
            summary="Resolve a GS1 Digital Link: trace page, linkset or redirect" if _ai == "01" else None,
            response_class=HTMLResponse,
        )


@router.head("/t/{code}", response_class=HTMLResponse, include_in_schema=False)
@router.get("/t/{code}", response_class=HTMLResponse, summary="Resolve a trace code")
def resolve_platform_code(code: str, request: Request) -> Response:
    try:
        ref = check_platform_code(code)
    except MalformedCode as exc:
        return _error(request, 400, exc.code, exc.reason)
    return _answer(request, ref)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, code: str | None = None) -> Response:
    """A box to type or paste a code; it is sent to the resolver's path for that code."""
    if code is None or not code.strip():
        return _html(request, "home.html", 200, code="", reason=None)
    text = code.strip()
    parsed = parse_code(text)
    lang_q = "?lang=en" if web.lang(request) == "en" and request.query_params.get("lang") == "en" else ""
    if parsed.ok and parsed.scheme == "zhuisu" and parsed.canonical:
        return RedirectResponse(f"/t/{quote(parsed.canonical, safe='')}{lang_q}", status_code=303)
    if parsed.ok and parsed.canonical and parsed.canonical.startswith("https://id.gs1.org/"):
        return RedirectResponse(parsed.canonical[len("https://id.gs1.org") :] + lang_q, status_code=303)
    return _html(request, "home.html", 400, code=text, reason=parsed.error or "unknown code")
