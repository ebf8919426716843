"""The one door in: every event — from the API, a file, another platform — is captured here.

Each event is validated, given its CBV 2.0 event hash (and the hash as eventID when it has none),
stamped with the record time, indexed and stored in batches inside ONE transaction per capture, then
appended to the ledger. ``rollback`` stores nothing if any event is bad; ``proceed`` stores the good
ones and reports the bad ones. Capturing the same event again stores nothing new (idempotent).
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, BinaryIO, Literal

from sqlalchemy import Engine

from zhuisu.epcis import hash as event_hashing
from zhuisu.epcis import jsonld
from zhuisu.epcis.index import IndexedEvent, index_event
from zhuisu.epcis.problems import EPCISError, Problem
from zhuisu.epcis.validate import validate_event
from zhuisu.store import events as event_store
from zhuisu.store.db import for_writing

ErrorBehaviour = Literal["rollback", "proceed"]
BATCH_SIZE = 1000
MAX_REPORTED_PROBLEMS = 1000

XML_TYPES = ("application/xml", "text/xml")
JSON_TYPES = ("application/json", "application/ld+json")


@dataclass(slots=True)
class CaptureResult:
    """The outcome of one capture: counts and every problem (up to a cap) with its event index."""

    event_count: int = 0
    stored: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    event_ids: list[str] = field(default_factory=list)  # of stored + duplicate events, when asked for
    rolled_back: bool = False

    @property
    def success(self) -> bool:
        return self.problem_count == 0

    def add_problems(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.problem_count += 1
            if len(self.problems) < MAX_REPORTED_PROBLEMS:
                self.problems.append(p)


def now_micros() -> int:
    return time.time_ns() // 1000


def iso_millis(micros: int) -> str:
    """``2026-11-22T20:37:27.123Z``: record times as the standard shows them."""
    dt = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def prepare_event(
    event: dict[str, Any], index: int | None, record_time: int, record_time_text: str
) -> IndexedEvent | list[Problem]:
    """Validate, hash and index one event; on failure the problems, naming ``index`` and the field."""
    problems = validate_event(event, index)
    if problems:
        return problems
    try:
        digest = event_hashing.event_hash_bytes(event)
    except (ValueError, KeyError, TypeError) as exc:
        return [Problem(index, "/", f"cannot compute the event hash: {exc}")]
    hash_uri = f"ni:///sha-256;{digest.hex()}?ver=CBV2.0"
    if not event.get("eventID"):
        event["eventID"] = hash_uri
    event["recordTime"] = record_time_text
    try:
        return index_event(event, event_hash=hash_uri, record_time=record_time, hash_bytes=digest)
    except (ValueError, KeyError, TypeError) as exc:  # validation should have caught it; say where anyway
        return [Problem(index, "/", f"cannot index the event: {exc}")]


def _prepare_chunk(
    start: int, chunk: list[dict[str, Any]], record_time: int, record_text: str
) -> list[IndexedEvent | list[Problem]]:
    return [prepare_event(e, start + k, record_time, record_text) for k, e in enumerate(chunk)]


CHUNK = 500
_pool: ProcessPoolExecutor | None = None
_pool_guard = threading.Lock()


def capture_workers() -> int:
    """Worker processes that validate and hash large captures (``ZHUISU_CAPTURE_WORKERS``, 0 = none)."""
    raw = os.environ.get("ZHUISU_CAPTURE_WORKERS")
    return int(raw) if raw and raw.isdigit() else (os.cpu_count() or 1)


def _worker_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_guard:
        if _pool is None:
            # spawn, not fork: the server process has threads, and a forked copy of their locks can hang.
            _pool = ProcessPoolExecutor(max_workers=capture_workers(), mp_context=get_context("spawn"))
        return _pool


def _prepared(
    events: Iterable[dict[str, Any]], record_time: int, record_text: str
) -> Iterator[tuple[int, IndexedEvent | list[Problem]]]:
    """(index, prepared event or problems) in document order.

    Small captures are prepared here; large ones in worker processes, a few chunks ahead of the writer,
    so the database writes of one chunk overlap the validation and hashing of the next ones (memory
    stays bounded: at most ``2 × workers`` chunks are in flight).
    """
    it = iter(events)
    first = list(itertools.islice(it, CHUNK))
    if len(first) < CHUNK or capture_workers() == 0:
        for k, event in enumerate(first):
            yield k, prepare_event(event, k, record_time, record_text)
        for k, event in enumerate(it, len(first)):
            yield k, prepare_event(event, k, record_time, record_text)
        return
    pool = _worker_pool()
    in_flight: deque[tuple[int, Future[list[IndexedEvent | list[Problem]]]]] = deque()
    start = 0
    chunk = first
    while chunk or in_flight:
        while chunk and len(in_flight) < 2 * capture_workers():
            in_flight.append((start, pool.submit(_prepare_chunk, start, chunk, record_time, record_text)))
            start += len(chunk)
            chunk = list(itertools.islice(it, CHUNK))
        chunk_start, future = in_flight.popleft()
        for k, item in enumerate(future.result(), chunk_start):
            yield k, item


_sqlite_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock | None:
    # SQLite allows one writer; captures in this process queue here instead of timing out on the file lock.
    if engine.dialect.name != "sqlite":
        return None
    with _locks_guard:
        return _sqlite_locks.setdefault(id(engine), threading.Lock())


def _append_to_ledger(conn: Any, capture_id: str, first_seq: int, last_seq: int) -> None:
    """Append this capture's stored events to the ledger, in seq order, just before commit.

    Once per capture rather than per batch: the ledger lock (a row lock on PostgreSQL) is then held
    only for the append itself, so concurrent captures neither queue behind a long one nor deadlock
    on each other's new events. The events are read back in chunks, so memory stays bounded.
    """
    from zhuisu.store import ledger

    for chunk in event_store.stored_hashes(conn, capture_id, first_seq, last_seq):
        ledger.append_leaves(conn, chunk)


def capture_events(
    engine: Engine,
    events: Iterable[dict[str, Any]],
    *,
    behaviour: ErrorBehaviour = "rollback",
    capture_id: str | None = None,
    source: str | None = None,
    collect_ids: bool = False,
    refused: Mapping[int, list[Problem]] | None = None,
) -> CaptureResult:
    """Capture events (internal JSON-LD form) in one transaction; see the module docstring.

    ``refused`` holds problems found before (XSD validation of an XML document), by event index: those
    events are reported with them and not stored.
    """
    result = CaptureResult()
    capture_id = capture_id or uuid.uuid4().hex
    record_time = now_micros()
    record_text = iso_millis(record_time)
    lock = _writer_lock(engine)
    if lock:
        lock.acquire()
    try:
        with engine.connect() as conn:
            trans = for_writing(conn).begin()
            try:
                batch: list[IndexedEvent] = []
                indexes: list[int] = []
                seq_range = [sys.maxsize, -1]  # first and last seq this capture stored

                def flush() -> None:
                    if not batch:
                        return
                    if result.problem_count and behaviour == "rollback":
                        batch.clear()  # doomed: keep validating to report every problem, store nothing
                        indexes.clear()
                        return
                    outcome = event_store.write_batch(conn, batch, capture_id=capture_id, source=source)
                    result.stored += len(outcome.stored)
                    result.duplicates += len(outcome.duplicates)
                    if collect_ids:
                        result.event_ids.extend(r.event_id for _, r in outcome.stored)
                        result.event_ids.extend(r.event_id for r in outcome.duplicates)
                    pos = {id(r): i for r, i in zip(batch, indexes, strict=True)}
                    result.add_problems(
                        Problem(
                            pos[id(row)],
                            "/eventID",
                            f"eventID {row.event_id!r} is already used by a different event ({taken})",
                        )
                        for row, taken in outcome.conflicts
                    )
                    if outcome.stored:
                        seq_range[0] = min(seq_range[0], outcome.stored[0][0])
                        seq_range[1] = max(seq_range[1], outcome.stored[-1][0])
                    batch.clear()
                    indexes.clear()

                for i, prepared in _prepared(events, record_time, record_text):
                    result.event_count += 1
                    if refused and i in refused:
                        result.add_problems(refused[i])
                        continue
                    if isinstance(prepared, list):
                        result.add_problems(prepared)
                        continue
                    batch.append(prepared)
                    indexes.append(i)
                    if len(batch) >= BATCH_SIZE:
                        flush()
                flush()
            except EPCISError as err:  # the document itself broke off (malformed JSON/XML mid-stream)
                result.add_problems(err.problems)
                trans.rollback()
                result.rolled_back = True
                result.stored = 0
                return result
            except BaseException:
                trans.rollback()
                raise
            if result.problem_count and behaviour == "rollback":
                trans.rollback()
                result.rolled_back = True
                result.stored = 0
                result.duplicates = 0
            else:
                if seq_range[1] >= 0:
                    _append_to_ledger(conn, capture_id, seq_range[0], seq_range[1])
                trans.commit()
    finally:
        if lock:
            lock.release()
    return result


def media_kind(media_type: str) -> Literal["json", "xml"] | None:
    """``json`` or ``xml`` for the content types the capture interface accepts, else None."""
    base = media_type.split(";")[0].strip().lower()
    if base in JSON_TYPES or base.endswith("+json"):
        return "json"
    if base in XML_TYPES or base.endswith("+xml"):
        return "xml"
    return None


def open_document(stream: BinaryIO, kind: Literal["json", "xml"]) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """Header and lazily read events of a capture document in either syntax."""
    if kind == "json":
        return jsonld.open_document(stream)
    from zhuisu.epcis import xml

    header, events = xml.iter_xml_document(stream)
    if header.get("type") not in jsonld.DOCUMENT_TYPES:
        raise EPCISError(
            [Problem(None, "/", f"expected an EPCISDocument or EPCISQueryDocument, found {header.get('type')!r}")]
        )
    return header, events


def capture_file(
    engine: Engine,
    path: str | Path,
    kind: Literal["json", "xml"],
    *,
    behaviour: ErrorBehaviour = "rollback",
    capture_id: str | None = None,
    source: str | None = None,
) -> CaptureResult:
    """Capture a whole document from a file, streaming (memory does not grow with its size).

    An XML document is first checked against the EPCIS 2.0 XSD (also streaming): problems outside any
    event refuse the whole document; problems of single events refuse those events (all of them under
    ``rollback``, only them under ``proceed``).
    """
    refused: dict[int, list[Problem]] = {}
    if kind == "xml":
        from zhuisu.epcis.validate import validate_xml_stream

        document_problems: list[Problem] = []
        for problem in itertools.islice(validate_xml_stream(path), MAX_REPORTED_PROBLEMS):
            if problem.index is None:
                document_problems.append(problem)
            else:
                refused.setdefault(problem.index, []).append(problem)
        if document_problems:
            result = CaptureResult()
            result.add_problems(document_problems)
            result.add_problems(p for ps in refused.values() for p in ps)
            return result
    with open(path, "rb") as stream:
        try:
            _header, events = open_document(stream, kind)
        except EPCISError as err:
            result = CaptureResult()
            result.add_problems(err.problems)
            return result
        return capture_events(
            engine, events, behaviour=behaviour, capture_id=capture_id, source=source, refused=refused
        )


# Every event has exactly one eventTime, so a document cannot hold more events than it has these.
_EVENT_TIME_MARKS = {"json": b'"eventTime"', "xml": b"<eventTime>"}


def count_events(path: str | Path, kind: Literal["json", "xml"], limit: int) -> int:
    """More than ``limit`` exactly when the document holds more than ``limit`` events (the capture limit).

    Not an exact count: a byte scan for eventTime gives an upper bound in a fraction of a parse; only when that bound is
    over the limit are the events counted one by one.
    """
    mark = _EVENT_TIME_MARKS[kind]
    bound = 0
    with open(path, "rb") as stream:
        tail = b""
        while chunk := stream.read(8 * 1024 * 1024):
            data = tail + chunk
            bound += data.count(mark)
            tail = data[-(len(mark) - 1) :]  # too short to hold a whole mark: none is counted twice
    if bound <= limit:
        return bound
    n = 0
    with open(path, "rb") as stream:
        _header, events = open_document(stream, kind)
        for _ in events:
            n += 1
            if n > limit:
                break
    return n


def event_problems_as_dicts(problems: Iterable[Problem]) -> list[Mapping[str, Any]]:
    return [p.as_dict() for p in problems]
