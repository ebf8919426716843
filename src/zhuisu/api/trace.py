"""Trace HTTP API: backward / forward trace, product chain, and recall impact (with CSV / Excel export).

- ``GET /api/trace/{identifier}?direction=backward|forward|both`` (identifier URL-encoded: EPC URN,
  Digital Link, LGTIN, platform code) → ``zhuisu.trace.model.TraceResult`` as JSON;
- ``GET /api/chain/{identifier}`` → ``Chain`` JSON (the public trace page renders it);
- ``POST /api/recall/impact`` with ``{"identifiers": [...]}`` → ``RecallImpact`` JSON, or CSV / Excel with
  ``?format=csv|xlsx`` or an ``Accept`` of ``text/csv`` or the Excel media type. Not for the public.

Every answer is filtered for the calling principal (see ``zhuisu.trace.engine``).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Engine
from starlette.responses import Response

from zhuisu import trace as trace_engine
from zhuisu.access.principal import Principal
from zhuisu.api.auth import principal as current_principal
from zhuisu.api.auth import require
from zhuisu.api.problems import ProblemError
from zhuisu.epcis.problems import Problem
from zhuisu.trace.export import recall_csv, recall_xlsx

router = APIRouter(tags=["trace"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IDENTIFIERS = 1000


def _engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


def _reader(who: Principal) -> None:
    """The public reads its public view; a signed-in principal needs ``epcis:read`` (a key narrowed to, say,
    ``registry:read`` traces nothing), as on the EPCIS interface."""
    if not who.is_public:
        require(who, "epcis:read")


def _identifier(identifier: str) -> str:
    text = identifier.strip()
    if not text or len(text) > 2000:
        raise ProblemError(
            400,
            "identifier: give one identifier (EPC URN, Digital Link or trace code), at most 2000 characters",
            problems=[Problem(None, "/identifier", "empty or too long")],
        )
    return text


@router.get("/api/trace/{identifier:path}")
def get_trace(
    identifier: str,
    request: Request,
    direction: str = Query("both"),
    who: Principal = Depends(current_principal),
) -> Response:
    """来源可查、去向可追: backward, forward or both from one identifier."""
    _reader(who)
    if direction not in ("backward", "forward", "both"):
        raise ProblemError(
            400,
            f"direction: must be backward, forward or both, not {direction!r}",
            problems=[Problem(None, "/direction", "must be backward, forward or both")],
        )
    ident = _identifier(identifier)
    with _engine(request).connect() as conn:
        result = trace_engine.trace(conn, ident, direction, who)  # type: ignore[arg-type]
    if not result.found:
        raise ProblemError(404, f"identifier: nothing is recorded for {result.identifier}")
    return _json(result.to_dict())


@router.get("/api/chain/{identifier:path}")
def get_chain(identifier: str, request: Request, who: Principal = Depends(current_principal)) -> Response:
    """追溯链条: the ordered steps of one product's life."""
    _reader(who)
    ident = _identifier(identifier)
    with _engine(request).connect() as conn:
        result = trace_engine.chain(conn, ident, who)
    if not result.found:
        raise ProblemError(404, f"identifier: nothing is recorded for {result.identifier}")
    return _json(result.to_dict())


def _format(request: Request, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in ("json", "csv", "xlsx"):
            raise ProblemError(
                400, f"format: must be json, csv or xlsx, not {fmt!r}", problems=[Problem(None, "/format", "unknown")]
            )
        return fmt
    accept = request.headers.get("accept", "")
    if "text/csv" in accept:
        return "csv"
    if XLSX in accept:
        return "xlsx"
    return "json"


@router.post("/api/recall/impact")
async def post_recall_impact(
    request: Request,
    format: str | None = Query(None),
    who: Principal = Depends(current_principal),
) -> Response:
    """销售范围及影响评估 of a set of lots or serials: JSON, CSV or Excel."""
    if who.is_public:
        raise ProblemError(
            401,
            "recall impact assessment needs an enterprise, regulator or administrator account",
            headers={"WWW-Authenticate": "Bearer"},
        )
    _reader(who)
    fmt = _format(request, format)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ProblemError(400, f"body: not JSON ({exc})", problems=[Problem(None, "/", "not JSON")]) from None
    ids = body.get("identifiers") if isinstance(body, dict) else None
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, str) and i.strip() and "\x00" not in i for i in ids)
    ):
        raise ProblemError(
            400,
            "identifiers: give a non-empty list of identifier strings",
            problems=[Problem(None, "/identifiers", "must be a non-empty list of strings")],
        )
    if len(ids) > MAX_IDENTIFIERS:
        raise ProblemError(
            400,
            f"identifiers: at most {MAX_IDENTIFIERS} per request",
            problems=[Problem(None, "/identifiers", "too many")],
        )
    from fastapi.concurrency import run_in_threadpool

    def compute() -> Any:
        with _engine(request).connect() as conn:
            return trace_engine.recall_impact(conn, ids, who)

    impact = await run_in_threadpool(compute)
    if fmt == "csv":
        return Response(
            "\ufeff" + recall_csv(impact),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="recall-impact.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            recall_xlsx(impact),
            media_type=XLSX,
            headers={"Content-Disposition": 'attachment; filename="recall-impact.xlsx"'},
        )
    return _json(impact.to_dict())
