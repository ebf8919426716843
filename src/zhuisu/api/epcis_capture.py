"""EPCIS 2.0 REST binding, capture side: ``/epcis/capture`` (jobs) and ``POST /epcis/events``.

Access: capturing needs credentials (401 without) with the ``epcis:capture`` scope (403 without: regulators).
Every capture is for a party, which the events become the owner's of: an enterprise user's own party; a
platform client's authorising party (``X-Zhuisu-Party``, or the only one that authorised it); an
administrator's ``X-Zhuisu-Party`` if sent, else none (platform data). Events captured for a party must not
claim another party's registered locations or transfers between others (``zhuisu.access.policy``): such a
document is refused with 403 naming each event index and field, and nothing is stored. Documents captured
before the answer are checked before the job exists; larger ones by the job, before it stores anything.
Jobs are listed and shown only to administrators and to the party they capture for (404 to others).
"""

from __future__ import annotations

import functools
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from lxml import etree
from sqlalchemy import Connection, Engine
from starlette.responses import Response

from zhuisu.access import policy
from zhuisu.access.principal import Principal
from zhuisu.api.auth import principal, remote, require
from zhuisu.api.problems import ProblemError, problem_body
from zhuisu.config import Settings
from zhuisu.epcis import capture, jsonld
from zhuisu.epcis.problems import EPCISError, Problem
from zhuisu.store import jobs
from zhuisu.store import registry as registry_store

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


def _problem_doc(p: Problem, status: int = 400) -> dict[str, Any]:
    pointer = (
        p.path
        if p.index is None or p.path.startswith("/epcisBody")
        else (f"/epcisBody/eventList/{p.index}{p.path if p.path != '/' else ''}")
    )
    return problem_body(status, str(p), instance=f"#{pointer}", eventIndex=p.index, pointer=pointer)


PARTY_HEADER = "x-zhuisu-party"


def capture_party(request: Request, who: Principal) -> str | None:
    """The party a capture by ``who`` is for (see the module docstring); 401/403/400 when there is none."""
    require(who, "epcis:capture")
    asked = (request.headers.get(PARTY_HEADER) or "").strip() or None
    if who.is_admin:
        return asked
    if asked is not None:
        if asked not in who.parties:
            raise ProblemError(403, f"{PARTY_HEADER}: these credentials cannot capture for party {asked}")
        return asked
    if len(who.parties) == 1:
        return next(iter(who.parties))
    if not who.parties:
        raise ProblemError(403, "no party has authorised these credentials to capture for it")
    raise ProblemError(400, f"these credentials act for several parties: name one in the {PARTY_HEADER} header")


def _lookup(engine: Engine) -> Any:
    def lookup(ids: set[str]) -> dict[str, str]:
        with engine.connect() as conn:
            return registry_store.parties_for_identifiers(conn, ids)

    return lookup


def ownership_problems(engine: Engine, path: Path, kind: Literal["json", "xml"], party: str) -> list[Problem]:
    """What events of a spooled document claim that ``party`` may not (streamed; see ``policy``)."""
    with open(path, "rb") as stream:
        try:
            _header, events = capture.open_document(stream, kind)
            return policy.document_capture_problems(events, party, _lookup(engine))
        except EPCISError:
            return []  # an unreadable document is the capture's to report, with its own problems


def _forbidden(problems: list[Problem]) -> ProblemError:
    detail = str(problems[0]) + (f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else "")
    return ProblemError(403, detail, problems=problems)


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
    engine: Engine,
    capture_id: str,
    path: Path,
    kind: Literal["json", "xml"],
    behaviour: capture.ErrorBehaviour,
    *,
    party: str | None = None,
    actor: Principal | None = None,
    remote_addr: str | None = None,
    checked: bool = False,
) -> None:
    """Capture a spooled document for ``party`` and record the outcome on its job (and in the audit log, as
    ``actor``); the spool file goes afterwards. Unless ``checked``, what the events claim is checked first."""
    try:
        if party is not None and not checked:
            refused = ownership_problems(engine, path, kind, party)
            if refused:
                _fail_job(engine, capture_id, [_problem_doc(p, 403) for p in refused], actor, remote_addr)
                return
        result = capture.capture_file(
            engine,
            path,
            kind,
            behaviour=behaviour,
            capture_id=capture_id,
            party=party,
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
            actor=actor,
            remote=remote_addr,
        )
    except Exception:
        log.exception("capture job %s failed", capture_id)
        detail = "the capture job failed inside the server; nothing was stored"
        _fail_job(engine, capture_id, [problem_body(500, detail)], actor)
    finally:
        path.unlink(missing_ok=True)


def _fail_job(
    engine: Engine,
    capture_id: str,
    errors: list[dict[str, Any]],
    actor: Principal | None = None,
    remote: str | None = None,
) -> None:
    """Finish a capture job that stored nothing, with these problem documents."""
    jobs.finish(
        engine,
        capture_id,
        finished_at=capture.now_micros(),
        success=False,
        event_count=0,
        stored=0,
        duplicates=0,
        errors=errors,
        actor=actor,
        remote=remote,
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
        actor = jobs.actor_of(job)
        if path.exists():
            _executor(app).submit(
                run_job, engine, job["capture_id"], path, kind, job["error_behaviour"], party=job["party"], actor=actor
            )
        else:
            lost = problem_body(500, "the server restarted and the capture document was lost; resend it")
            _fail_job(engine, job["capture_id"], [lost], actor)


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
async def capture_document(request: Request, who: Principal = Depends(principal)) -> Response:
    """Accept an EPCISDocument (JSON-LD or XML) as a capture job; 202 with the job's Location."""
    settings: Settings = request.app.state.settings
    engine: Engine = request.app.state.engine
    party = capture_party(request, who)
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
        if party is not None and size <= INLINE_CAPTURE_BYTES:
            refused = await run_in_threadpool(ownership_problems, engine, path, kind, party)
            if refused:
                raise _forbidden(refused)
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
        party=party,
        actor=who,
    )
    work = functools.partial(
        run_job, engine, capture_id, path, kind, behaviour, party=party, actor=who, remote_addr=remote(request)
    )
    if size <= INLINE_CAPTURE_BYTES:
        await run_in_threadpool(work, checked=True)
    else:
        _executor(request.app).submit(work)
    job = await run_in_threadpool(jobs.get, engine, capture_id)
    assert job is not None
    return _render_job(request, job_document(job), 202, Location=f"/epcis/capture/{capture_id}")


def _check_header(path: Path, kind: Literal["json", "xml"]) -> None:
    with open(path, "rb") as stream:
        capture.open_document(stream, kind)


def _job_parties(who: Principal) -> frozenset[str] | None:
    """Whose jobs ``who`` may see: all (None) for administrators, else its parties' (401/403 as capture)."""
    require(who, "epcis:capture")
    return None if who.is_admin else who.parties


@router.get("/capture")
def list_capture_jobs(
    request: Request, perPage: int = 30, nextPageToken: str | None = None, who: Principal = Depends(principal)
) -> Response:
    parties = _job_parties(who)
    settings: Settings = request.app.state.settings
    if perPage < 1 or perPage > settings.max_per_page:
        raise ProblemError(400, f"perPage must be between 1 and {settings.max_per_page}")
    before = None
    if nextPageToken is not None:
        digits = nextPageToken.isascii() and nextPageToken.isdigit()
        if not digits or len(nextPageToken) > 19 or int(nextPageToken) >= 2**63:
            raise ProblemError(400, "nextPageToken is not one this server issued")
        before = int(nextPageToken)
    found = jobs.list_jobs(request.app.state.engine, limit=perPage + 1, before=before, parties=parties)
    headers = {}
    if len(found) > perPage:
        found = found[:perPage]
        token = str(found[-1]["created_at"])
        headers["Link"] = f'</epcis/capture?perPage={perPage}&nextPageToken={token}>; rel="next"'
    body = orjson.dumps([job_document(j) for j in found])
    return Response(body, media_type="application/json", headers=headers)


@router.get("/capture/{capture_id}")
def get_capture_job(request: Request, capture_id: str, who: Principal = Depends(principal)) -> Response:
    parties = _job_parties(who)
    # No capture id holds a NUL character (and PostgreSQL text cannot hold one).
    job = jobs.get(request.app.state.engine, capture_id) if "\x00" not in capture_id else None
    if job is None or (parties is not None and job["party"] not in parties):
        raise ProblemError(404, f"there is no capture job {capture_id!r}")
    return _render_job(request, job_document(job))


@router.post("/events", status_code=201)
async def capture_single_event(request: Request, who: Principal = Depends(principal)) -> Response:
    """Capture one event synchronously: 201 (new), 200 (the same event was already stored), 409 (eventID taken)."""
    settings: Settings = request.app.state.settings
    engine: Engine = request.app.state.engine
    party = capture_party(request, who)
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
    if party is not None:
        refused = await run_in_threadpool(policy.document_capture_problems, [event], party, _lookup(engine))
        if refused:
            raise _forbidden(refused)
    address = remote(request)

    def audit_stored(conn: Connection, outcome: capture.CaptureResult) -> None:
        _audit_single(conn, who, party, outcome, address)

    result = await run_in_threadpool(
        functools.partial(
            capture.capture_events, engine, [event], collect_ids=True, party=party, on_commit=audit_stored
        )
    )
    if result.rolled_back:  # nothing was committed: record the refused attempt on its own
        await run_in_threadpool(_audit_refused, engine, who, party, result, address)
    if not result.success:
        conflict = any(p.path == "/eventID" and "already used" in p.message for p in result.problems)
        raise ProblemError(409 if conflict else 400, str(result.problems[0]), problems=result.problems)
    event_id = result.event_ids[0]
    return Response(
        status_code=201 if result.stored else 200,
        headers={"Location": f"/epcis/events/{quote(event_id, safe='')}"},
    )


def _audit_refused(
    engine: Engine, who: Principal, party: str | None, result: capture.CaptureResult, remote_addr: str | None
) -> None:
    from zhuisu.store.db import writing

    with writing(engine) as conn:
        _audit_single(conn, who, party, result, remote_addr)


def _audit_single(
    conn: Connection, who: Principal, party: str | None, result: capture.CaptureResult, remote_addr: str | None
) -> None:
    """The ``epcis.capture`` entry of one ``POST /epcis/events``."""
    from zhuisu.store import audit

    audit.record(
        conn,
        who,
        "epcis.capture",
        target_type="event",
        target_id=result.event_ids[0] if result.event_ids else None,
        detail={
            "party": party,
            "success": result.success,
            "events": result.event_count,
            "stored": result.stored,
            "duplicates": result.duplicates,
            "errors": result.problem_count,
        },
        remote=remote_addr,
    )


def shutdown(app: FastAPI) -> None:
    """Let running capture jobs finish before the process exits."""
    executor = getattr(app.state, "capture_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)
        app.state.capture_executor = None
