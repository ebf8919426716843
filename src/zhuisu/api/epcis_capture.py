"""EPCIS 2.0 REST binding, capture side: ``/epcis/capture`` (jobs) and ``POST /epcis/events``."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from lxml import etree
from sqlalchemy import Engine
from starlette.responses import Response

from zhuisu.api.problems import ProblemError, problem_body
from zhuisu.config import Settings
from zhuisu.epcis import capture, jsonld
from zhuisu.epcis.problems import EPCISError, Problem
from zhuisu.store import jobs

log = logging.getLogger("zhuisu.capture")
router = APIRouter(prefix="/epcis", tags=["EPCIS capture"])

# Documents up to this size are captured before the 202 answer (the job is finished when the client looks).
INLINE_CAPTURE_BYTES = 4 * 1024 * 1024


def _kind(request: Request) -> Literal["json", "xml"]:
    media_type = request.headers.get("content-type", "")
    kind = capture.media_kind(media_type)
    if kind is None:
        raise ProblemError(
            415,
            f"Content-Type {media_type or '(none)'!r} is not accepted: send application/ld+json, "
            "application/json or application/xml",
        )
    return kind


def _behaviour(request: Request) -> capture.ErrorBehaviour:
    value = request.headers.get("gs1-capture-error-behaviour", "rollback").strip().lower()
    if value not in ("rollback", "proceed"):
        raise ProblemError(400, f"header GS1-Capture-Error-Behaviour must be 'rollback' or 'proceed', not {value!r}")
    return value  # type: ignore[return-value]


def _too_large(settings: Settings, what: str) -> ProblemError:
    return ProblemError(
        413,
        what,
        headers={
            "GS1-EPCIS-Capture-Limit": str(settings.capture_limit),
            "GS1-EPCIS-Capture-File-Size-Limit": str(settings.capture_file_size_limit),
        },
    )


async def _spool(request: Request, settings: Settings, path: Path) -> int:
    """Write the request body to ``path`` without holding it in memory; 413 past the size limit."""
    limit = settings.capture_file_size_limit
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(settings, f"the document has {declared} bytes; this server accepts at most {limit}")
    size = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(settings, f"the document is larger than this server's limit of {limit} bytes")
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise ProblemError(400, "the request has no body: send an EPCISDocument")
    return size


def _problem_doc(p: Problem) -> dict[str, Any]:
    pointer = (
        p.path
        if p.index is None or p.path.startswith("/epcisBody")
        else (f"/epcisBody/eventList/{p.index}{p.path if p.path != '/' else ''}")
    )
    return problem_body(400, str(p), instance=f"#{pointer}", eventIndex=p.index, pointer=pointer)


def job_document(job: dict[str, Any]) -> dict[str, Any]:
    """A capture job as the REST binding's CaptureJob (plus counts)."""
    doc: dict[str, Any] = {
        "captureID": job["capture_id"],
        "createdAt": capture.iso_millis(job["created_at"]),
        "running": bool(job["running"]),
        "success": bool(job["success"]),
        "captureErrorBehaviour": job["error_behaviour"],
        "errors": job["errors"],
        "eventCount": job["event_count"],
        "storedCount": job["stored_count"],
        "duplicateCount": job["duplicate_count"],
    }
    if job["finished_at"]:
        doc["finishedAt"] = capture.iso_millis(job["finished_at"])
    return doc


def job_xml(doc: dict[str, Any]) -> bytes:
    ns = "urn:epcglobal:epcis:xsd:2"
    root = etree.Element(f"{{{ns}}}EPCISCaptureJob", nsmap={"epcis": ns})
    root.set("captureID", doc["captureID"])
    root.set("running", str(doc["running"]).lower())
    root.set("success", str(doc["success"]).lower())
    etree.SubElement(root, "captureErrorBehaviour").text = doc["captureErrorBehaviour"]
    etree.SubElement(root, "createdAt").text = doc["createdAt"]
    if "finishedAt" in doc:
        etree.SubElement(root, "finishedAt").text = doc["finishedAt"]
    if doc["errors"]:
        errors = etree.SubElement(root, "errors")
        for err in doc["errors"]:
            e = etree.SubElement(errors, "error")
            for key in ("type", "title", "status", "detail", "instance"):
                if key in err:
                    etree.SubElement(e, key).text = str(err[key])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _render_job(request: Request, doc: dict[str, Any], status: int = 200, **headers: str) -> Response:
    if "xml" in request.headers.get("accept", "") and "json" not in request.headers.get("accept", ""):
        return Response(job_xml(doc), status_code=status, media_type="application/xml", headers=headers)
    return Response(orjson.dumps(doc), status_code=status, media_type="application/json", headers=headers)


def run_job(
    engine: Engine, capture_id: str, path: Path, kind: Literal["json", "xml"], behaviour: capture.ErrorBehaviour
) -> None:
    """Capture a spooled document and record the outcome on its job; the spool file goes afterwards."""
    try:
        result = capture.capture_file(
            engine,
            path,
            kind,
            behaviour=behaviour,
            capture_id=capture_id,
        )
        jobs.finish(
            engine,
            capture_id,
            finished_at=capture.now_micros(),
            success=result.success,
            event_count=result.event_count,
            stored=result.stored,
            duplicates=result.duplicates,
            errors=[_problem_doc(p) for p in result.problems],
        )
    except Exception:
        log.exception("capture job %s failed", capture_id)
        _fail_job(engine, capture_id, "the capture job failed inside the server; nothing was stored")
    finally:
        path.unlink(missing_ok=True)


def _fail_job(engine: Engine, capture_id: str, detail: str) -> None:
    jobs.finish(
        engine,
        capture_id,
        finished_at=capture.now_micros(),
        success=False,
        event_count=0,
        stored=0,
        duplicates=0,
        errors=[problem_body(500, detail)],
    )


def _executor(app: FastAPI) -> ThreadPoolExecutor:
    if getattr(app.state, "capture_executor", None) is None:
        app.state.capture_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture")
    executor: ThreadPoolExecutor = app.state.capture_executor
    return executor


def resume_jobs(app: FastAPI) -> None:
    """After a restart: re-run jobs whose document is still spooled (capture is idempotent), fail the rest."""
    engine: Engine = app.state.engine
    spool = Path(app.state.settings.spool_dir)
    for job in jobs.running(engine):
        kind = capture.media_kind(job["media_type"]) or "json"
        path = spool / f"{job['capture_id']}.{kind}"
        if path.exists():
            _executor(app).submit(run_job, engine, job["capture_id"], path, kind, job["error_behaviour"])
        else:
            _fail_job(engine, job["capture_id"], "the server restarted and the capture document was lost; resend it")


def _option_headers(settings: Settings, allow: str) -> dict[str, str]:
    return {
        "Allow": allow,
        "GS1-EPCIS-Capture-Limit": str(settings.capture_limit),
        "GS1-EPCIS-Capture-File-Size-Limit": str(settings.capture_file_size_limit),
        "GS1-Capture-Error-Behaviour": "rollback, proceed",
        "Accept-Post": "application/ld+json, application/json, application/xml",
    }


@router.options("/capture", status_code=204)
def capture_options(request: Request) -> Response:
    return Response(status_code=204, headers=_option_headers(request.app.state.settings, "OPTIONS, GET, POST"))


@router.post("/capture", status_code=202)
async def capture_document(request: Request) -> Response:
    """Accept an EPCISDocument (JSON-LD or XML) as a capture job; 202 with the job's Location."""
    settings: Settings = request.app.state.settings
    engine: Engine = request.app.state.engine
    kind = _kind(request)
    behaviour = _behaviour(request)
    capture_id = uuid.uuid4().hex
    path = Path(settings.spool_dir) / f"{capture_id}.{kind}"
    size = await _spool(request, settings, path)
    try:
        # Refuse before accepting: an unreadable header (400) or too many events (413); both are cheap checks.
        await run_in_threadpool(_check_header, path, kind)
        if await run_in_threadpool(capture.count_events, path, kind, settings.capture_limit) > settings.capture_limit:
            raise _too_large(
                settings, f"the document has more than {settings.capture_limit} events, this server's limit"
            )
    except EPCISError as err:
        path.unlink(missing_ok=True)
        raise ProblemError.from_epcis(err) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    created = capture.now_micros()
    await run_in_threadpool(
        jobs.create,
        engine,
        capture_id,
        behaviour=behaviour,
        media_type=request.headers.get("content-type", ""),
        created_at=created,
    )
    if size <= INLINE_CAPTURE_BYTES:
        await run_in_threadpool(run_job, engine, capture_id, path, kind, behaviour)
    else:
        _executor(request.app).submit(run_job, engine, capture_id, path, kind, behaviour)
    job = await run_in_threadpool(jobs.get, engine, capture_id)
    assert job is not None
    return _render_job(request, job_document(job), 202, Location=f"/epcis/capture/{capture_id}")


def _check_header(path: Path, kind: Literal["json", "xml"]) -> None:
    with open(path, "rb") as stream:
        capture.open_document(stream, kind)


@router.get("/capture")
def list_capture_jobs(request: Request, perPage: int = 30, nextPageToken: str | None = None) -> Response:
    settings: Settings = request.app.state.settings
    if perPage < 1 or perPage > settings.max_per_page:
        raise ProblemError(400, f"perPage must be between 1 and {settings.max_per_page}")
    before = None
    if nextPageToken is not None:
        if not nextPageToken.isdigit():
            raise ProblemError(400, "nextPageToken is not one this server issued")
        before = int(nextPageToken)
    found = jobs.list_jobs(request.app.state.engine, limit=perPage + 1, before=before)
    headers = {}
    if len(found) > perPage:
        found = found[:perPage]
        token = str(found[-1]["created_at"])
        headers["Link"] = f'</epcis/capture?perPage={perPage}&nextPageToken={token}>; rel="next"'
    body = orjson.dumps([job_document(j) for j in found])
    return Response(body, media_type="application/json", headers=headers)


@router.get("/capture/{capture_id}")
def get_capture_job(request: Request, capture_id: str) -> Response:
    job = jobs.get(request.app.state.engine, capture_id)
    if job is None:
        raise ProblemError(404, f"there is no capture job {capture_id!r}")
    return _render_job(request, job_document(job))


@router.post("/events", status_code=201)
async def capture_single_event(request: Request) -> Response:
    """Capture one event synchronously: 201 (new), 200 (the same event was already stored), 409 (eventID taken)."""
    settings: Settings = request.app.state.settings
    kind = _kind(request)
    body = await request.body()
    if len(body) > settings.capture_file_size_limit:
        raise _too_large(
            settings, f"the event is larger than this server's limit of {settings.capture_file_size_limit}"
        )
    if kind == "json":
        event = jsonld.parse_event(body)
    else:
        from zhuisu.epcis import xml
        from zhuisu.epcis.validate import validate_xml_bytes

        xsd_problems = validate_xml_bytes(body)
        if xsd_problems:
            raise ProblemError.from_epcis(EPCISError(xsd_problems))
        parsed = xml.parse_xml_events(body)
        if len(parsed) != 1:
            raise ProblemError(400, f"POST /epcis/events takes exactly one event, the body has {len(parsed)}")
        event = parsed[0]
    result = await run_in_threadpool(capture.capture_events, request.app.state.engine, [event], collect_ids=True)
    if not result.success:
        conflict = any(p.path == "/eventID" and "already used" in p.message for p in result.problems)
        raise ProblemError(409 if conflict else 400, str(result.problems[0]), problems=result.problems)
    event_id = result.event_ids[0]
    return Response(
        status_code=201 if result.stored else 200,
        headers={"Location": f"/epcis/events/{quote(event_id, safe='')}"},
    )


def shutdown(app: FastAPI) -> None:
    """Let running capture jobs finish before the process exits."""
    executor = getattr(app.state, "capture_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)
        app.state.capture_executor = None
