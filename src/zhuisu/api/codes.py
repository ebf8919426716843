"""Issuing trace codes and printing their labels, at /api/codes.

Only an administrator or the enterprise owning the product (``Principal.parties``) issues codes and prints them;
anonymous callers get 401, everyone else 403 (issuing for a product not theirs) or 404 (a batch or code not
theirs — its existence is not revealed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from starlette.responses import Response, StreamingResponse

from zhuisu.access.principal import Principal
from zhuisu.api.auth import principal as current_principal
from zhuisu.api.auth import require
from zhuisu.api.problems import ProblemError
from zhuisu.codes import labels
from zhuisu.codes.issue import IssueBatch, IssuedCode, IssueError, may_issue
from zhuisu.config import Settings
from zhuisu.epcis.problems import Problem
from zhuisu.store import codes as store
from zhuisu.store.registry import get_product

router = APIRouter(prefix="/api/codes", tags=["codes"])

API_MAX_COUNT = 1_000_000  # most codes one HTTP request issues (the CLI goes to store.MAX_COUNT)
MAX_PAGE = 10_000
MAX_LABELS = 2_000  # labels in one PDF request; print larger batches in slices (offset, limit)


class BatchRequest(BaseModel):
    """POST /api/codes/batches body."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=200)
    kind: Literal["serial", "lot"]
    count: int = Field(ge=1, le=API_MAX_COUNT)
    lot: str | None = Field(default=None, max_length=20)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _problem(status: int, field: str, message: str) -> ProblemError:
    return ProblemError(
        status, f"{field}: {message}" if field else message, problems=[Problem(None, f"/{field}", message)]
    )


def _require_signed_in(who: Principal, scope: str = "registry:read") -> None:
    """401 for the public; 403 for credentials without ``scope`` (issuing is a registry write, reading a read)."""
    if who.is_public:
        raise ProblemError(401, "sign in to issue or print trace codes", headers={"WWW-Authenticate": "Bearer"})
    require(who, scope)


def _batch_document(batch: IssueBatch) -> dict[str, Any]:
    base = f"/api/codes/batches/{batch.batch_id}"
    return {**batch.as_dict(), "links": {"self": base, "codes": f"{base}/codes", "labels": f"{base}/labels.pdf"}}


def _own_batch(request: Request, who: Principal, batch_id: int) -> IssueBatch:
    _require_signed_in(who)
    batch = None
    if 0 < batch_id < 2**63:  # a larger number names no batch (and is beyond the database's BIGINT)
        with _engine(request).connect() as conn:
            batch = store.get_batch(conn, batch_id)
    if batch is None or not may_issue(who, batch.party_code):
        raise _problem(404, "batch_id", f"no code batch {batch_id} of yours")
    return batch


@router.post("/batches", status_code=201)
def create_batch(body: BatchRequest, request: Request, who: Principal = Depends(current_principal)) -> Response:
    """Issue ``count`` new codes (serial: 一物一码, lot: 一批一码) of a registered product."""
    _require_signed_in(who, "registry:write")
    engine = _engine(request)
    product = None
    if "\x00" not in body.product_id:  # no product id has one (and PostgreSQL text cannot hold it)
        with engine.connect() as conn:
            product = get_product(conn, body.product_id)
    if product is None:
        raise _problem(404, "product_id", f"no registered product {body.product_id!r}")
    if not may_issue(who, product.party_code):
        raise _problem(403, "product_id", "only the enterprise owning the product or an administrator issues its codes")
    try:
        batch = store.issue_codes(
            engine,
            who,
            product,
            body.kind,
            body.count,
            body.lot,
            resolver_base=_settings(request).resolver_base,
            remote=request.client.host if request.client else None,
        )
    except IssueError as exc:
        raise _problem(400, exc.field, exc.message) from exc
    except store.CodeConflict as exc:
        raise _problem(409, exc.field, exc.message) from exc
    doc = _batch_document(batch)
    return Response(
        orjson.dumps(doc),
        status_code=201,
        media_type="application/json",
        headers={"Location": doc["links"]["self"]},
    )


@router.get("/batches/{batch_id}")
def read_batch(batch_id: int, request: Request, who: Principal = Depends(current_principal)) -> Response:
    return Response(orjson.dumps(_batch_document(_own_batch(request, who, batch_id))), media_type="application/json")


def _csv_lines(engine: Engine, batch_id: int, offset: int, limit: int | None) -> Iterator[str]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["code", "human_readable", "canonical", "kind", "product_id", "party_code", "lot", "serial"])
    for n, c in enumerate(store.iter_batch_codes(engine, batch_id, offset=offset, limit=limit), 1):
        w.writerow(
            [c.code, c.human_readable, c.canonical, c.kind, c.product_id, c.party_code, c.lot or "", c.serial or ""]
        )
        if n % 1000 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


@router.get("/batches/{batch_id}/codes")
def batch_codes(
    batch_id: int,
    request: Request,
    offset: int = Query(0, ge=0),
    limit: int | None = Query(None, ge=1, le=MAX_PAGE),
    format: Literal["json", "csv"] | None = Query(None),
    who: Principal = Depends(current_principal),
) -> Response:
    """A page of the batch's codes (JSON), or all of them (or a slice) as CSV (``?format=csv`` or Accept: text/csv)."""
    batch = _own_batch(request, who, batch_id)
    engine = _engine(request)
    as_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    if as_csv:
        return StreamingResponse(
            _csv_lines(engine, batch_id, offset, limit),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="codes-{batch_id}.csv"'},
        )
    page = limit or 1000
    with engine.connect() as conn:
        items = store.list_batch_codes(conn, batch_id, offset=offset, limit=page)
    doc: dict[str, Any] = {
        "batch_id": batch_id,
        "count": batch.count,
        "offset": offset,
        "limit": page,
        "codes": [c.as_dict() for c in items],
    }
    if offset + len(items) < batch.count:
        doc["next"] = f"/api/codes/batches/{batch_id}/codes?offset={offset + page}&limit={page}"
    return Response(orjson.dumps(doc), media_type="application/json")


@router.get("/batches/{batch_id}/labels.pdf")
def batch_labels(
    batch_id: int,
    request: Request,
    offset: int = Query(0, ge=0),
    limit: int = Query(1000, ge=1, le=MAX_LABELS),
    symbology: Literal["qr", "datamatrix"] = Query("qr"),
    who: Principal = Depends(current_principal),
) -> Response:
    """A4 sheet of labels for the batch's codes ``offset`` … ``offset + limit`` (at most 2,000 per request)."""
    batch = _own_batch(request, who, batch_id)
    engine = _engine(request)
    with engine.connect() as conn:
        product = get_product(conn, batch.product_id)
    name = product.name if product is not None else ""
    if product is not None and product.spec:
        name = f"{name} {product.spec}"
    out = io.BytesIO()
    labels.labels_pdf(
        store.iter_batch_codes(engine, batch_id, offset=offset, limit=limit),
        out,
        product_name=name,
        title=f"追溯码 批次 {batch_id} · batch {batch_id}",
        symbology=symbology,
    )
    return Response(
        out.getvalue(),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="labels-{batch_id}-{offset}.pdf"'},
    )


def _own_code(request: Request, who: Principal, code: str) -> IssuedCode:
    _require_signed_in(who)
    with _engine(request).connect() as conn:
        issued = store.lookup_code(conn, code)
    if issued is None or not may_issue(who, issued.party_code):
        raise _problem(404, "code", f"{code!r} is not a code issued to you")
    return issued


_MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


def _image(kind: str, fmt: str, issued: IssuedCode) -> Response:
    if kind == "label":
        body: bytes | str = labels.qr_png(issued) if fmt == "png" else labels.qr_svg(issued)
    else:
        body = labels.datamatrix_png(issued) if fmt == "png" else labels.datamatrix_svg(issued)
    return Response(body, media_type=_MEDIA[fmt])


# The code may contain "/" (a URL, percent-encoded by the caller and decoded before routing): match the rest.
@router.get("/{code:path}/label.png")
def label_png(code: str, request: Request, who: Principal = Depends(current_principal)) -> Response:
    """The QR code of one issued code (its resolver URL), as PNG."""
    return _image("label", "png", _own_code(request, who, code))


@router.get("/{code:path}/label.svg")
def label_svg(code: str, request: Request, who: Principal = Depends(current_principal)) -> Response:
    return _image("label", "svg", _own_code(request, who, code))


@router.get("/{code:path}/datamatrix.png")
def datamatrix_png(code: str, request: Request, who: Principal = Depends(current_principal)) -> Response:
    """GS1 DataMatrix (element string) of a GS1 code; a plain DataMatrix of the URL for a platform code."""
    return _image("datamatrix", "png", _own_code(request, who, code))


@router.get("/{code:path}/datamatrix.svg")
def datamatrix_svg(code: str, request: Request, who: Principal = Depends(current_principal)) -> Response:
    return _image("datamatrix", "svg", _own_code(request, who, code))
