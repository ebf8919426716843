"""The ASGI application: EPCIS 2.0 REST binding at /epcis, platform API at /api."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.responses import Response

from zhuisu import __version__, web
from zhuisu.api import auth, codes, epcis_capture, epcis_query, ledger, problems, registry, resolver, trace
from zhuisu.config import Settings
from zhuisu.epcis import capture
from zhuisu.store.db import open_store

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app. With no ``engine``, open (and migrate) the database named in ``settings``."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        Path(settings.spool_dir).mkdir(parents=True, exist_ok=True)
        ledger.get_signer(app.state)  # the signing key exists from the first start
        capture.warm_up()
        epcis_capture.resume_jobs(app)
        yield
        epcis_capture.shutdown(app)

    app = FastAPI(
        lifespan=lifespan,
        # FastAPI's documentation pages load their scripts from a CDN; the platform serves nothing from
        # outside, so it publishes the machine-readable description only.
        docs_url=None,
        redoc_url=None,
        title="zhuisu 追溯",
        version=__version__,
        description="Traceability platform: GS1 EPCIS 2.0 repository, trace codes, tamper-evident ledger.",
    )
    app.state.settings = settings
    app.state.engine = engine or open_store(settings.db_url)
    problems.install(app)

    @app.middleware("http")
    async def _no_nul(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # No identifier, name or filter of the platform API holds a NUL character, and PostgreSQL text cannot
        # hold one: refuse it before any look-up (the EPCIS interface and the resolver answer it themselves).
        if request.url.path.startswith("/api/") and (
            "\x00" in request.url.path or "%00" in request.url.query or "\x00" in request.url.query
        ):
            return problems.problem_response(
                400,
                "the URL contains a NUL character (%00), which no identifier or filter holds",
                instance=request.url.path,
            )
        return await call_next(request)

    @app.middleware("http")
    async def _epcis_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/epcis"):
            response.headers.setdefault("GS1-EPCIS-Version", EPCIS_VERSION)
            response.headers.setdefault("GS1-CBV-Version", CBV_VERSION)
            response.headers.setdefault("GS1-EPCIS-Min", EPCIS_VERSION)
            response.headers.setdefault("GS1-EPCIS-Max", EPCIS_VERSION)
            response.headers.setdefault("GS1-CBV-Min", CBV_VERSION)
            response.headers.setdefault("GS1-CBV-Max", CBV_VERSION)
            response.headers.setdefault("GS1-EPCIS-Capture-Limit", str(settings.capture_limit))
            response.headers.setdefault("GS1-EPCIS-Capture-File-Size-Limit", str(settings.capture_file_size_limit))
        return response

    app.include_router(epcis_capture.router)
    app.include_router(epcis_query.router)
    app.include_router(ledger.router)
    app.include_router(auth.router)
    app.include_router(registry.router)
    app.include_router(codes.router)
    app.include_router(trace.router)
    app.include_router(resolver.router)  # last: it answers GS1 Digital Link paths (/01/…) and /t/{code}
    app.mount("/static", StaticFiles(directory=str(web.STATIC_DIR)), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
