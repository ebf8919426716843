"""The one door in: every event — from the API, a file, another platform — is captured here.

Each event is validated, given its CBV 2.0 event hash (and the hash as eventID when it has none),
stamped with the record time, indexed and stored in batches inside ONE transaction per capture, then
appended to the ledger. ``rollback`` stores nothing if any event is bad; ``proceed`` stores the good
ones and reports the bad ones. Capturing the same event again stores nothing new (idempotent).
Master data in the document's header (``epcisMasterData``) is stored in the same transaction
(``zhuisu.epcis.vocabulary``, ``zhuisu.store.vocabulary``).
"""

from __future__ import annotations

import gc
import heapq
import itertools
import marshal
import os
import queue
import struct
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import forkserver, get_context
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple

from sqlalchemy import Connection, Engine

from zhuisu.epcis import hash as event_hashing
from zhuisu.epcis import jsonld
from zhuisu.epcis.index import IndexedEvent, index_event, indexed_event_values
from zhuisu.epcis.problems import EPCISError, Problem
from zhuisu.epcis.validate import validate_event
from zhuisu.epcis.vocabulary import MasterData, header_master_data
from zhuisu.store import access as access_store
from zhuisu.store import events as event_store
from zhuisu.store import ledger
from zhuisu.store import lineage as lineage_store
from zhuisu.store import vocabulary as vocabulary_store
from zhuisu.store.db import for_writing

ErrorBehaviour = Literal["rollback", "proceed"]
BATCH_SIZE = 2000  # events per write: on PostgreSQL 1,000 cost 6 % more per event in statements and round trips
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

    def merge_written(self, written: CaptureResult) -> None:
        """Take in what writing found (counts, event IDs, conflicts), problems in event order."""
        self.stored += written.stored
        self.duplicates += written.duplicates
        self.event_ids.extend(written.event_ids)
        if written.problem_count:
            merged = heapq.merge(self.problems, written.problems, key=lambda p: -1 if p.index is None else p.index)
            self.problems = list(itertools.islice(merged, MAX_REPORTED_PROBLEMS))
            self.problem_count += written.problem_count


OnCommit = Callable[[Connection, CaptureResult], None]


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
        indexed = index_event(event, event_hash=hash_uri, record_time=record_time, hash_bytes=digest)
    except (ValueError, KeyError, TypeError) as exc:  # validation should have caught it; say where anyway
        return [Problem(index, "/", f"cannot index the event: {exc}")]
    if "\\u0000" in indexed.body:  # the body is JSON: a NUL character in any name or text shows as \u0000
        path = _nul_path(event, "")
        if path is not None:
            return [Problem(index, path or "/", "contains the NUL character (U+0000), which cannot be stored")]
    return indexed


def _nul_path(value: Any, path: str) -> str | None:
    """JSON Pointer of the first name or text inside ``value`` holding a NUL character, else None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        name = str(key).replace("~", "~0").replace("/", "~1").replace("\x00", "\\u0000")
        step = f"{path}/{name}"
        if isinstance(key, str) and "\x00" in key:
            return step
        found = _nul_path(item, step)
        if found is not None:
            return found
    return None


CHUNK = 500
# Documents larger than this are validated and hashed by worker processes.
PARALLEL_BYTES = 2 * 1024 * 1024
# forkserver, not fork: the server process has threads, and a forked copy of their locks can hang; the
# fork server preloads this module, so starting a worker costs milliseconds, not an interpreter start.
_mp = get_context("forkserver")
_mp.set_forkserver_preload(["zhuisu.epcis.capture"])


def warm_up() -> None:
    """Start the fork server now (it imports the capture code once), not on the first large capture."""
    if capture_workers():
        threading.Thread(target=forkserver.ensure_running, name="forkserver-warm-up", daemon=True).start()


def capture_workers() -> int:
    """Worker processes that validate and hash large captures (``ZHUISU_CAPTURE_WORKERS``, 0 = none).

    By default one core fewer than the machine has, at least one: the writer is the pipeline's one serial
    stage and must not wait for a core (on PostgreSQL its server backend works in turn with it). On two cores,
    one worker captured as fast as two on SQLite and 3-16 % faster on PostgreSQL.
    """
    raw = os.environ.get("ZHUISU_CAPTURE_WORKERS")
    return int(raw) if raw and raw.isdigit() else max(1, (os.cpu_count() or 2) - 1)


def _prepared(
    events: Iterable[dict[str, Any]], record_time: int, record_text: str
) -> Iterator[tuple[int, IndexedEvent | list[Problem]]]:
    """(index, prepared event or problems) in document order, prepared in this process."""
    for i, event in enumerate(events):
        yield i, prepare_event(event, i, record_time, record_text)


def _file_worker(
    path: str, kind: Literal["json", "xml"], worker: int, workers: int, record_time: int, record_text: str, out: Any
) -> None:
    """Read the whole document; prepare every ``workers``-th chunk of events, starting at chunk ``worker``."""
    gc.freeze()  # see freeze_long_lived
    try:
        with open(path, "rb") as stream:
            _header, events = open_document(stream, kind)
            chunk: list[tuple[int, IndexedEvent | list[Problem]]] = []
            for i, event in enumerate(events):
                if (i // CHUNK) % workers != worker:
                    continue
                chunk.append((i, prepare_event(event, i, record_time, record_text)))
                if len(chunk) == CHUNK:
                    out.put(("chunk", _pack(chunk)))
                    chunk = []
            if chunk:
                out.put(("chunk", _pack(chunk)))
        out.put(("end", None))
    except EPCISError as err:
        out.put(("error", err.problems))
    except BaseException as exc:  # reported to the writer, which fails the capture with it
        out.put(("crash", f"{exc.__class__.__name__}: {exc}"))


def _pack(chunk: list[tuple[int, IndexedEvent | list[Problem]]]) -> bytes:
    """A chunk of prepared events as marshal bytes of plain tuples (an event's field values, or its problems'):
    half the CPU of pickling the objects, on both sides of the queue."""
    return marshal.dumps(
        [
            (
                i,
                indexed_event_values(item)
                if isinstance(item, IndexedEvent)
                else [(p.index, p.path, p.message) for p in item],
            )
            for i, item in chunk
        ]
    )


def _unpack(data: bytes) -> list[tuple[int, IndexedEvent | list[Problem]]]:
    return [
        (i, IndexedEvent(*values) if type(values) is tuple else [Problem(*p) for p in values])
        for i, values in marshal.loads(data)
    ]


def _prepared_in_workers(
    path: str | Path, kind: Literal["json", "xml"], workers: int, record_time: int, record_text: str
) -> Iterator[tuple[int, IndexedEvent | list[Problem]]]:
    """(index, prepared event or problems) in document order, prepared by ``workers`` processes.

    Each worker reads the document itself (parsing is cheap next to validation and hashing, and so the
    events never cross a process boundary) and prepares its share of chunks, chunk c by worker c mod n;
    the writer takes the chunks back in turn, so the database writes overlap the preparing. Queues hold
    four chunks per worker: memory does not grow with the document.
    """
    queues = [_mp.Queue(maxsize=4) for _ in range(workers)]
    procs = [
        _mp.Process(
            target=_file_worker,
            args=(str(path), kind, k, workers, record_time, record_text, queues[k]),
            daemon=True,
        )
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        for c in itertools.count():
            k = c % workers
            while True:
                try:
                    what, payload = queues[k].get(timeout=5)
                    break
                except queue.Empty:
                    if not procs[k].is_alive():
                        raise RuntimeError(f"capture worker {k} stopped (exit code {procs[k].exitcode})") from None
            if what == "end":
                return
            if what == "error":
                raise EPCISError(payload)
            if what == "crash":
                raise RuntimeError(f"capture worker {k} failed: {payload}")
            yield from _unpack(payload)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=5)
        for q in queues:
            q.close()
            q.cancel_join_thread()


_frozen = threading.Event()


def freeze_long_lived() -> None:
    """Once per process: move what is alive now (imported modules, the app) out of the garbage collector's way.

    Capture allocates millions of short-lived objects; each time the cyclic collector makes a full pass it walks
    every object of every imported module again. Frozen objects are skipped: this saves a fifth of the CPU spent
    per event in the workers and a tenth in the writer. (Frozen objects are never collected; they are the ones
    that live as long as the process anyway.)
    """
    if not _frozen.is_set():
        _frozen.set()
        gc.collect()
        gc.freeze()


_sqlite_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock | None:
    # SQLite allows one writer; captures in this process queue here instead of timing out on the file lock.
    if engine.dialect.name != "sqlite":
        return None
    with _locks_guard:
        return _sqlite_locks.setdefault(id(engine), threading.Lock())


class _LeafSpool:
    """The (seq, event hash) of each event a capture stored, kept in a temporary file until the ledger takes them.

    On PostgreSQL the ledger is appended to once per capture, just before commit: the ledger lock (a row lock)
    is then held only for the append itself, so concurrent captures neither queue behind a long one nor
    deadlock on each other's new events. A file, not a list: memory does not grow with the document; and not
    read back from the event table, which cost ~4 % of a 100,000-event capture. (SQLite has one writer at a
    time anyway: there each batch is appended as it is written, see ``_store``.)
    """

    _ITEM = struct.Struct(">q32s")
    _CHUNK = 10_000

    def __init__(self) -> None:
        self._file: BinaryIO | None = None

    def add(self, stored: Iterable[tuple[int, IndexedEvent]]) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by append_to_ledger or close)
        pack = self._ITEM.pack
        self._file.write(b"".join(pack(seq, row.hash_bytes) for seq, row in stored))

    def append_to_ledger(self, conn: Connection) -> None:
        """Append the spooled events to the ledger, in the order they were stored (seq order)."""
        if self._file is None:
            return
        self._file.seek(0)
        size = self._ITEM.size
        while data := self._file.read(size * self._CHUNK):
            ledger.append_leaves(conn, list(self._ITEM.iter_unpack(data)))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def capture_events(
    engine: Engine,
    events: Iterable[dict[str, Any]],
    *,
    behaviour: ErrorBehaviour = "rollback",
    capture_id: str | None = None,
    source: str | None = None,
    collect_ids: bool = False,
    refused: Mapping[int, list[Problem]] | None = None,
    party: str | None = None,
    on_commit: OnCommit | None = None,
) -> CaptureResult:
    """Capture events (internal JSON-LD form) in one transaction; see the module docstring.

    ``party`` is the party code (主体码) the events are captured for: they become its events. ``on_commit`` is
    called with the connection and the result just before a capture that stores is committed, so what it
    writes (an audit entry) is committed with the events or not at all.

    ``refused`` holds problems found before (XSD validation of an XML document), by event index: those
    events are reported with them and not stored.
    """
    record_time = now_micros()
    record_text = iso_millis(record_time)
    return _store(
        engine,
        _prepared(events, record_time, record_text),
        behaviour=behaviour,
        capture_id=capture_id,
        source=source,
        collect_ids=collect_ids,
        refused=refused,
        party=party,
        on_commit=on_commit,
    )


def _store(
    engine: Engine,
    prepared: Iterator[tuple[int, IndexedEvent | list[Problem]]],
    *,
    behaviour: ErrorBehaviour,
    capture_id: str | None,
    source: str | None,
    collect_ids: bool = False,
    refused: Mapping[int, list[Problem]] | None = None,
    progress: Callable[[int], None] | None = None,
    party: str | None = None,
    on_commit: OnCommit | None = None,
    masterdata: MasterData | None = None,
) -> CaptureResult:
    """Write prepared events in batches inside one transaction, then append them to the ledger.

    Each batch's new events also update, in the same transaction, what is derived from them: the parties
    they concern (access) and the lineage graph. Batches are written by a thread of their own (see
    ``_BatchWriter``) while this one reads the next: the database's work overlaps the reading.

    ``progress`` is told the number of events read so far, after each batch.
    """
    result = CaptureResult()  # what reading found: event count, refused and invalid events
    written = CaptureResult()  # what writing found (the writer thread's own): stored, duplicates, conflicts
    capture_id = capture_id or uuid.uuid4().hex
    freeze_long_lived()
    lock = _writer_lock(engine)
    spool = _LeafSpool()  # PostgreSQL: the ledger takes the stored events at the end
    if lock:
        lock.acquire()
    try:
        with engine.connect() as conn:
            trans = for_writing(conn).begin()
            if masterdata:
                vocabulary_store.record(conn, masterdata, party)
            append_now = engine.dialect.name == "sqlite"

            def doomed() -> bool:  # reading goes on to report every problem, nothing is stored
                return bool(result.problem_count or written.problem_count) and behaviour == "rollback"

            def write(job: _Batch) -> None:
                if doomed():
                    return
                outcome = event_store.write_prepared(conn, job.prepared)
                written.stored += len(outcome.stored)
                if outcome.stored:
                    access_store.record_event_parties(conn, outcome.stored, party)
                    lineage_store.record(conn, outcome.stored)
                written.duplicates += len(outcome.duplicates)
                if collect_ids:
                    written.event_ids.extend(r.event_id for _, r in outcome.stored)
                    written.event_ids.extend(r.event_id for r in outcome.duplicates)
                if outcome.conflicts:
                    pos = {id(r): i for r, i in zip(job.rows, job.indexes, strict=True)}
                    written.add_problems(
                        Problem(
                            pos[id(row)],
                            "/eventID",
                            f"eventID {row.event_id!r} is already used by a different event ({taken})",
                        )
                        for row, taken in outcome.conflicts
                    )
                if outcome.stored and append_now:
                    ledger.append_leaves(conn, [(seq, row.hash_bytes) for seq, row in outcome.stored])
                elif outcome.stored:
                    spool.add(outcome.stored)
                if progress:
                    progress(job.read_so_far)

            def submit(batch: list[IndexedEvent], indexes: list[int]) -> None:
                # Prepared here, written by the writer's thread: formatting this batch overlaps writing the last.
                if not doomed():
                    prepared = event_store.prepare_batch(
                        engine.dialect.name, batch, capture_id=capture_id, source=source
                    )
                    writer.submit(_Batch(batch, prepared, indexes, result.event_count))

            in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
            writer = _BatchWriter(write, threaded=not in_memory)
            try:
                batch: list[IndexedEvent] = []
                indexes: list[int] = []
                for i, item in prepared:
                    result.event_count += 1
                    if refused and i in refused:
                        result.add_problems(refused[i])
                        continue
                    if isinstance(item, list):
                        result.add_problems(item)
                        continue
                    batch.append(item)
                    indexes.append(i)
                    if len(batch) >= BATCH_SIZE:
                        submit(batch, indexes)
                        batch, indexes = [], []
                if batch:
                    submit(batch, indexes)
                writer.finish()
            except EPCISError as err:  # the document itself broke off (malformed JSON/XML mid-stream)
                writer.abandon()
                result.add_problems(err.problems)
                trans.rollback()
                result.rolled_back = True
                return result
            except BaseException:
                writer.abandon()
                trans.rollback()
                raise
            result.merge_written(written)
            if result.problem_count and behaviour == "rollback":
                trans.rollback()
                result.rolled_back = True
                result.stored = 0
                result.duplicates = 0
            else:
                spool.append_to_ledger(conn)
                if on_commit:
                    on_commit(conn, result)
                trans.commit()
    finally:
        spool.close()
        if lock:
            lock.release()
    return result


class _Batch(NamedTuple):
    rows: list[IndexedEvent]
    prepared: event_store.PreparedBatch  # made from ``rows`` by the capturing thread
    indexes: list[int]  # of ``rows`` in the document
    read_so_far: int  # events read when the batch was submitted


class _BatchWriter:
    """Runs ``write(batch)`` for each submitted batch, in order, in a thread of its own.

    The database drivers release the GIL while a statement runs (SQLite's B-tree work, PostgreSQL's round trips),
    so the capturing thread meanwhile reads and prepares the next batch: waits for the worker processes, unpacks
    their events, formats the rows to send. At most two batches wait. The first exception the thread meets is raised
    again in the capturing thread (by ``submit`` or ``finish``); batches after it are not written. ``threaded=False``
    writes each batch at once, in the capturing thread (an in-memory SQLite database's connection belongs to the
    thread that opened it).
    """

    def __init__(self, write: Callable[[_Batch], None], *, threaded: bool) -> None:
        self._write = write
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True) if threaded else None
        if self._thread:
            self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None and not self._stop:
                try:
                    self._write(item)
                except BaseException as exc:  # handed to the capturing thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, batch: _Batch) -> None:
        if self._thread is None:
            self._write(batch)
            return
        while True:
            self._raise()
            try:
                self._queue.put(batch, timeout=0.1)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Wait until every batch is written."""
        if self._thread:
            self._queue.put(None)
            self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """Write nothing more; return once the thread no longer uses the connection."""
        self._stop = True
        if self._thread:
            self._queue.put(None)
            self._thread.join()


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
    progress: Callable[[int], None] | None = None,
    party: str | None = None,
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
            header, events = open_document(stream, kind)
        except EPCISError as err:
            result = CaptureResult()
            result.add_problems(err.problems)
            return result
        if kind == "json" and "epcisHeader" not in header and _holds(path, b'"epcisMasterData"'):
            stream.seek(0)  # a header after the body (JSON members are unordered): read the document through
            header = jsonld.read_header(stream, whole=True)
            stream.seek(0)  # where the event iterator starts reading
        masterdata = header_master_data(header, jsonld.context_prefixes(header.get("@context")))
        if masterdata.problems:  # like a malformed header: the whole document is refused
            result = CaptureResult()
            result.add_problems(masterdata.problems)
            return result
        record_time = now_micros()
        workers = capture_workers()
        if workers and os.path.getsize(path) > PARALLEL_BYTES:  # they read the document themselves
            prepared = _prepared_in_workers(path, kind, workers, record_time, iso_millis(record_time))
        else:
            prepared = _prepared(events, record_time, iso_millis(record_time))
        return _store(
            engine,
            prepared,
            behaviour=behaviour,
            capture_id=capture_id,
            source=source,
            refused=refused,
            progress=progress,
            party=party,
            masterdata=masterdata,
        )


def _holds(path: str | Path, mark: bytes) -> bool:
    """Whether the file holds ``mark`` anywhere (read a block at a time)."""
    with open(path, "rb") as stream:
        tail = b""
        while chunk := stream.read(8 * 1024 * 1024):
            if mark in tail + chunk[: len(mark)] or mark in chunk:
                return True
            tail = chunk[-(len(mark) - 1) :]
    return False


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
