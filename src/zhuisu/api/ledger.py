"""Ledger API (账本接口): signed checkpoints, the verifier key, inclusion and consistency proofs.

Checkpoints and the key are plain text in the C2SP formats, so standard transparency-log tooling
reads them as served; proofs are JSON with hashes in hex.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import Engine
from starlette.responses import JSONResponse, PlainTextResponse

from zhuisu.api.problems import ProblemError
from zhuisu.ledger import keys
from zhuisu.ledger.note import NoteError, Signer
from zhuisu.ledger.service import LedgerError, LedgerIntegrityError, UnknownEvent
from zhuisu.store import ledger as store
from zhuisu.store.db import writing

router = APIRouter(prefix="/api/ledger", tags=["ledger"])

_signer_lock = threading.Lock()
_TEXT = "text/plain; charset=utf-8"


def get_signer(state: Any) -> Signer:
    """The platform signer, from ``state.ledger_signer`` or the key file (created on first use)."""
    signer: Signer | None = getattr(state, "ledger_signer", None)
    if signer is not None:
        return signer
    with _signer_lock:
        signer = getattr(state, "ledger_signer", None)
        if signer is None:
            settings = getattr(state, "settings", None)
            origin = getattr(settings, "origin", None)
            try:
                signer = keys.load_or_create_signer(getattr(settings, "ledger_key", None), origin=origin)
            except (NoteError, keys.KeyFileError) as exc:
                raise ProblemError(500, f"the ledger signing key is not usable: {exc}") from exc
            state.ledger_signer = signer
    return signer


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _problem(exc: LedgerError) -> ProblemError:
    if isinstance(exc, UnknownEvent):
        return ProblemError(404, str(exc))
    if isinstance(exc, LedgerIntegrityError):
        return ProblemError(500, str(exc), title="Ledger integrity failure")
    return ProblemError(400, str(exc))


@router.get("/checkpoint", response_class=PlainTextResponse, summary="Latest signed checkpoint")
def checkpoint(
    request: Request,
    tree_size: Annotated[
        int | None, Query(ge=0, description="A checkpoint signed earlier at this size, instead of the latest.")
    ] = None,
) -> PlainTextResponse:
    """The log's latest checkpoint as a C2SP signed note (``tlog-checkpoint``)."""
    signer = get_signer(request.app.state)
    with writing(_engine(request)) as conn:
        if tree_size is None:
            try:
                signed = store.latest_checkpoint(conn, signer)
            except LedgerError as exc:
                raise _problem(exc) from exc
            return PlainTextResponse(signed, media_type=_TEXT, headers={"Cache-Control": "no-cache"})
        stored = store.checkpoint_at(conn, tree_size)
    if stored is None:
        raise ProblemError(404, f"tree_size {tree_size}: no checkpoint was signed at this size")
    return PlainTextResponse(stored, media_type=_TEXT, headers={"Cache-Control": "max-age=31536000, immutable"})


@router.get("/key", response_class=PlainTextResponse, summary="Note verifier key")
def key(request: Request) -> PlainTextResponse:
    """The verifier key (``name+keyid+base64``) that checks this log's checkpoints."""
    return PlainTextResponse(get_signer(request.app.state).verifier.vkey + "\n", media_type=_TEXT)


@router.get("/inclusion", summary="Inclusion proof of an event")
def inclusion(
    request: Request,
    event_id: Annotated[str, Query(min_length=1, description="The event's eventID.")],
    tree_size: Annotated[
        int | None, Query(ge=1, description="Prove against this tree size; default: the latest checkpoint.")
    ] = None,
    event: Annotated[bool, Query(description="Also return the stored event, to re-hash it.")] = False,
) -> JSONResponse:
    """Leaf index, tree size and audit path (hex) of the event, with the signed checkpoint of that size."""
    try:
        with writing(_engine(request)) as conn:
            if tree_size is None:
                evidence = store.event_evidence(conn, get_signer(request.app.state), event_id)
                body = evidence.as_json()
            else:
                proof = store.inclusion_proof(conn, event_id, tree_size)
                body = proof.as_json()
                body["checkpoint"] = store.checkpoint_at(conn, tree_size)
            if event:
                body["event"] = store.event_body(conn, event_id)
    except LedgerError as exc:
        raise _problem(exc) from exc
    return JSONResponse(body)


@router.get("/consistency", summary="Consistency proof between two tree sizes")
def consistency(
    request: Request,
    first: Annotated[int, Query(ge=0, description="The smaller tree size (at least 1).")],
    second: Annotated[int, Query(ge=0, description="The larger tree size.")],
) -> JSONResponse:
    """Proof (hex) that the tree of ``first`` leaves is a prefix of the tree of ``second`` leaves."""
    try:
        with _engine(request).connect() as conn:
            proof = store.consistency_proof(conn, first, second)
    except LedgerError as exc:
        raise _problem(exc) from exc
    return JSONResponse({"first": first, "second": second, "proof": [h.hex() for h in proof]})
