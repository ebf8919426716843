"""EPCIS 2.0 JSON-LD documents: streaming reader and writer helpers.

Capture documents may hold a million events, so the reader never loads a whole document: it reads
the header (``@context``, ``type``, ``schemaVersion`` …) first and then yields events one at a time
(parsed by orjson a block at a time; anything unusual is read by ijson's C backend, see ``iter_events``).
Each event gets the document's namespace prefixes as its own ``@context``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

import ijson
import orjson

from zhuisu.epcis.problems import EPCISError, Problem

DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument")
EVENT_PREFIX = {
    "EPCISDocument": "epcisBody.eventList.item",
    "EPCISQueryDocument": "epcisBody.queryResults.resultsBody.eventList.item",
}
HEADER_KEYS = ("@context", "type", "schemaVersion", "creationDate", "id", "epcisHeader", "instanceIdentifier")


def context_prefixes(context: Any) -> dict[str, str]:
    """The namespace prefixes a JSON-LD ``@context`` declares (URL entries name standard contexts)."""
    prefixes: dict[str, str] = {}
    entries = context if isinstance(context, list) else [context]
    for entry in entries:
        if isinstance(entry, dict):
            prefixes.update({k: v for k, v in entry.items() if isinstance(v, str) and not k.startswith("@")})
    return prefixes


def attach_context(event: dict[str, Any], prefixes: Mapping[str, str]) -> dict[str, Any]:
    """Give an event the document prefixes it does not declare itself (design.md: self-describing events)."""
    if not prefixes:
        return event
    own = event.get("@context")
    if own is None:
        event["@context"] = [dict(prefixes)]
        return event
    own_list = own if isinstance(own, list) else [own]
    declared = context_prefixes(own_list)
    missing = {k: v for k, v in prefixes.items() if k not in declared}
    if missing:
        event["@context"] = [*own_list, missing]
    return event


def _json_error(exc: Exception, where: str) -> EPCISError:
    return EPCISError([Problem(None, where, f"the document is not well-formed JSON: {exc}")])


def read_header(stream: IO[bytes], *, whole: bool = False) -> dict[str, Any]:
    """Top-level members of a JSON EPCIS document other than ``epcisBody``, read without the events.

    Usually the header precedes the body and reading stops there once ``@context`` and ``type`` are known;
    ``whole`` reads on to the end (without building the events) for members that follow the body.
    """
    header: dict[str, Any] = {}
    builder: Any = None
    depth_key = ""
    try:
        for prefix, event, value in ijson.parse(stream):
            if builder is not None:
                builder.event(event, value)
                if prefix == depth_key and event in ("end_map", "end_array"):
                    header[depth_key] = builder.value
                    builder = None
                continue
            if prefix == "" and event == "map_key":
                continue
            if prefix == "" or "." in prefix:
                if prefix == "" and event not in ("start_map", "end_map"):
                    raise EPCISError([Problem(None, "/", "an EPCIS document must be a JSON object")])
                if prefix.startswith("epcisBody.") and "@context" in header and "type" in header and not whole:
                    break
                continue
            if prefix == "epcisBody":
                header.setdefault("epcisBody", True)
                if "@context" in header and "type" in header and event in ("start_map", "start_array") and not whole:
                    break
                continue
            if event in ("start_map", "start_array"):
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth_key = prefix
            else:
                header[prefix] = value
    except ijson.JSONError as exc:
        raise _json_error(exc, "/") from None
    return header


def iter_events_ijson(stream: IO[bytes], document_type: str, prefixes: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Events of a JSON EPCIS document in order, each with the document prefixes attached, read by ijson.

    The reference ``iter_events`` must agree with, and what it hands over to for anything unusual.
    """
    item_prefix = EVENT_PREFIX[document_type]
    index = -1
    try:
        for index, event in enumerate(ijson.items(stream, item_prefix, use_float=True)):
            if not isinstance(event, dict):
                raise EPCISError([Problem(index, f"/{item_prefix.replace('.', '/')[:-5]}/{index}", "not an object")])
            yield attach_context(event, prefixes)
    except ijson.JSONError as exc:
        raise _json_error(exc, f"after event {index}") from None


# ---------------------------------------------------------------------------------------------------------------
# The event reader (iter_events): the event list is read in blocks and each block's complete events are
# parsed by ONE orjson call; whatever this reader does not fully understand hands over to the ijson reader above.


class _Fallback(Exception):
    """The fast reader met something it does not fully understand: the ijson reader takes over."""


_READ_SIZE = 1 << 18  # bytes read at a time
_MAX_BUFFER = 1 << 26  # an event (or a header) larger than this is left to ijson, which streams it
_LIST_START = re.compile(rb'"eventList"[ \t\n\r]*:[ \t\n\r]*\[')
_NON_WS = re.compile(rb"[^ \t\n\r]")
_STRUCTURAL = re.compile(rb"[{}\[\]]")
# a string (possibly cut off by the end of the buffer) or a bracket, for the exact walk
_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[{}\[\]]', re.S)
_ESCAPE = re.compile(rb"\\.", re.S)
_DIGIT_RUNS = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_LONG_RUN = b"0" * 19  # integers with >= 19 digits may be out of yajl's range (|n| <= 2**63 - 1)
_OPEN, _CLOSE_MAP, _CLOSE_LIST, _COMMA = 0x7B, 0x7D, 0x5D, 0x2C


def _prev_non_ws(buf: bytes, i: int) -> int:
    """Index of the last byte before ``i`` that is not JSON whitespace (-1 if none)."""
    i -= 1
    while i >= 0 and buf[i] in b" \t\n\r":
        i -= 1
    return i


def _guess_cut(buf: bytes, start: int, window: int) -> int:
    """Index of the ``}`` ending the last complete element of ``buf[start:]`` (which starts at an element), or -1.

    A guess from the end of the buffer (brackets inside strings are not told apart), checked by the parse: the
    outermost bracket left open at the end is taken to be the partial last event's ``{``, preceded by ``},``.
    """
    end = len(buf)
    while True:
        lo = max(start, end - window)
        bal = 0
        opener = -1
        for m in reversed(list(_STRUCTURAL.finditer(buf, lo))):
            i = m.start()
            c = buf[i]
            if c in (_CLOSE_MAP, _CLOSE_LIST):
                bal += 1
            elif bal:
                bal -= 1
            else:
                opener = i
        if opener > start:
            j = _prev_non_ws(buf, opener)
            if j > start and buf[j] == _COMMA:
                k = _prev_non_ws(buf, j)
                if k >= start and buf[k] == _CLOSE_MAP:
                    return k
        if lo == start:
            return -1
        window *= 4


def _walk_cut(buf: bytes, start: int) -> int:
    """Index of the bracket ending the last complete element of ``buf[start:]`` (exact for valid JSON), or -1."""
    depth = 0
    last = -1
    for m in _TOKEN.finditer(buf, start):
        c = buf[m.start()]
        if c == 0x22:
            continue
        if c in (_OPEN, 0x5B):
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            last = m.start()
        elif depth < 0:  # the end of the event list
            break
    return last


def _fits_yajl(data: bytes, start: int, end: int) -> bool:
    """Whether the digits ``data[start:end]`` outside strings are an integer ijson reads (|n| <= 2**63 - 1)."""
    sign = data[start - 1 : start]
    before = data[start - 2 : start - 1] if sign == b"-" else sign
    if before in (b".", b"e", b"E", b"+", b"-") or data[end : end + 1] in (b".", b"e", b"E"):
        return False  # a float's digits: left to ijson, to be safe
    return int(data[start:end]) <= 2**63 - 1


def _parse_elements(buf: bytes, start: int, cut: int) -> list[Any] | None:
    """The elements of ``buf[start:cut + 1]`` (a run of complete list elements), or None if it is not one."""
    data = b"".join((b"[", memoryview(buf)[start : cut + 1], b"]"))
    runs = data.translate(_DIGIT_RUNS)
    if _LONG_RUN in runs:
        # orjson reads integers up to 2**64 - 1 and larger ones as floats, where ijson fails: leave any long digit
        # run outside strings to ijson (inside strings, the quotes before it are odd in number).
        plain = _ESCAPE.sub(b"__", data) if b"\\" in data else data
        quotes = 0
        last = 0
        i = runs.find(_LONG_RUN)
        while i >= 0:
            quotes += plain.count(b'"', last, i)
            last = i
            end = runs.find(b" ", i)
            if end < 0:
                end = len(runs)
            if quotes % 2 == 0 and not _fits_yajl(data, i, end):
                raise _Fallback
            i = runs.find(_LONG_RUN, end)
    try:
        elements: list[Any] = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return elements


def _list_context(head: bytes, item_prefix: str) -> list[tuple[bool, str | None]] | None:
    """The containers open at the ``[`` that ends ``head``, checked with ijson to be the event list's start.

    Each is (is_object, current key). None if that ``[`` opens an array elsewhere; raises _Fallback unless it opens
    an array, the first at the events' path, and nothing before it is an event.
    """
    stack: list[tuple[bool, str | None]] = []
    last: tuple[str, str] | None = None
    try:
        for prefix, event, value in ijson.parse(io.BytesIO(head)):
            if prefix == item_prefix:
                last = None
                break
            if event == "start_map":
                stack.append((True, None))
            elif event == "start_array":
                stack.append((False, None))
            elif event in ("end_map", "end_array"):
                stack.pop()
            elif event == "map_key":
                stack[-1] = (True, value)
            last = (prefix, event)
        else:
            last = None  # ijson must stop at the premature end of ``head``
    except ijson.JSONError as exc:
        if "premature EOF" not in str(exc):
            last = None
    except Exception:  # e.g. invalid UTF-8 in a key
        last = None
    if last is None or last[1] != "start_array" or not stack or stack[-1][0]:
        raise _Fallback
    return stack if last[0] == item_prefix[: -len(".item")] else None


class _Prepended:
    """A readable stream: ``head``, then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size < 0:
            size = len(self._head)
        head, self._head = self._head[:size], self._head[size:]
        return head


def _check_tail(stack: list[tuple[bool, str | None]], tail: bytes, stream: IO[bytes], item_prefix: str) -> None:
    """Raise _Fallback unless the document after the event list (``tail`` + the rest of ``stream``) is valid
    and holds no further events: ijson reads it after an opening that leaves it in the same state."""
    try:
        opening = b"".join(b"{" + orjson.dumps(key) + b":" if is_map else b"[" for is_map, key in stack[:-1])
        events = ijson.parse(_Prepended(opening + b"[]" + tail, stream))
        more = any(prefix == item_prefix for prefix, _event, _value in events)
    except Exception:
        more = True
    if more:
        raise _Fallback


def _event_lists(stream: IO[bytes], document_type: str) -> Iterator[list[Any]]:
    """The elements of the document's event list, a block at a time; raises _Fallback when unsure."""
    item_prefix = EVENT_PREFIX[document_type]
    buf = b""
    eof = False

    def more(keep: bytes) -> bytes:
        nonlocal eof
        if len(keep) > _MAX_BUFFER:
            raise _Fallback
        chunk = stream.read(_READ_SIZE)
        if not chunk:
            eof = True
        return keep + chunk

    search_from = 0
    while True:
        found = _LIST_START.search(buf, search_from)
        if found is None:
            if eof:
                raise _Fallback
            buf = more(buf)
            continue
        stack = _list_context(buf[: found.end()], item_prefix)
        if stack is not None:
            break
        search_from = found.end()  # an "eventList" elsewhere (say in the header): the next one
    closers = b"".join(rb"[ \t\n\r]*" + (rb"\}" if is_map else rb"\]") for is_map, _key in reversed(stack[:-1]))
    list_end = re.compile(rb"\]" + closers + rb"[ \t\n\r]*\Z")

    pos = found.end()
    first = True  # nothing read from the list yet
    after_element = False  # a separator (',' or ']') comes next
    window = 2048
    size = count = 0
    while True:
        ws = _NON_WS.search(buf, pos)
        if ws is None:
            if eof:
                raise _Fallback
            buf, pos = more(buf[pos:]), 0
            continue
        p = ws.start()
        c = buf[p]
        if after_element:
            if c == _COMMA:
                pos = p + 1
                after_element = False
                continue
            if c != _CLOSE_LIST:
                raise _Fallback
            break
        if c == _CLOSE_LIST:
            if not first:  # a comma before the end of the list
                raise _Fallback
            break
        cut = _guess_cut(buf, p, window)
        if cut < 0 and eof and (end := list_end.search(buf, max(p, len(buf) - 1024))) is not None:
            cut = _prev_non_ws(buf, end.start())
            if cut < p or buf[cut] != _CLOSE_MAP:
                cut = -1
        elements = _parse_elements(buf, p, cut) if cut >= 0 else None
        if elements is None:
            if cut < 0 and not eof:
                buf, pos = more(buf[pos:]), 0
                continue
            cut = _walk_cut(buf, p)
            elements = _parse_elements(buf, p, cut) if cut >= 0 else None
            if elements is None:
                if cut < 0 and not eof:
                    buf, pos = more(buf[pos:]), 0
                    continue
                raise _Fallback
        yield elements
        size += cut + 1 - p
        count += len(elements)
        window = max(2048, 3 * size // count)
        pos = cut + 1
        first = False
        after_element = True

    tail = buf[p + 1 :]
    while not eof and len(tail) < _READ_SIZE:
        tail = more(tail)
    if not (eof and list_end.match(b"]" + tail)):
        _check_tail(stack, tail, stream, item_prefix)


def iter_events(stream: IO[bytes], document_type: str, prefixes: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Events of a JSON EPCIS document in order, each with the document prefixes attached.

    Contract: exactly what ``iter_events_ijson`` yields and raises (the stream is read from its current position
    and must be seekable back to it): the same dicts (same keys in the same order, same values and value types,
    prefixes attached the same way), in the same number and order, then the same EPCISError and problems (or the
    same other exception).

    How: the event list is read 256 KiB at a time, and the complete events of each block are parsed by one orjson
    call, about twice as cheap per event as ijson. Where the event list starts is found by a byte search and
    checked by ijson on the header; where a block's last complete event ends is guessed from the end of the block
    and checked by the parse itself (elements that parse as a JSON array are exactly the list's next elements).
    Whatever this reader does not fully understand — malformed JSON, an element that is not an object, an integer
    beyond ±(2**63 - 1) or a float with a run of 19 or more digits (ijson's limits differ from orjson's), lone
    surrogate escapes, whitespace other than space/tab/CR/LF, an event list not found as expected, or more events
    after it — makes it read the document again from the start with ``iter_events_ijson``, skipping the events already
    yielded: such a document costs ijson's time (and then some), and every error is ijson's own.
    """
    start = stream.tell()
    yielded = 0
    try:
        for elements in _event_lists(stream, document_type):
            for event in elements:
                if type(event) is not dict:
                    raise _Fallback
                yield attach_context(event, prefixes)
                yielded += 1
        return
    except _Fallback:
        pass
    stream.seek(start)
    for index, event in enumerate(iter_events_ijson(stream, document_type, prefixes)):
        if index >= yielded:
            yield event


def _checked_header(stream: IO[bytes]) -> dict[str, Any]:
    header = read_header(stream)
    doc_type = header.get("type")
    problems = []
    if doc_type not in DOCUMENT_TYPES:
        problems.append(Problem(None, "/type", f"type must be EPCISDocument or EPCISQueryDocument, not {doc_type!r}"))
    if "schemaVersion" not in header:
        problems.append(Problem(None, "/schemaVersion", 'schemaVersion is required ("2.0")'))
    elif str(header["schemaVersion"]) not in ("2.0", "2.0.0", "2"):
        problems.append(Problem(None, "/schemaVersion", f"schemaVersion {header['schemaVersion']!r} is not 2.0"))
    if "@context" not in header:
        problems.append(Problem(None, "/@context", "@context is required in a JSON-LD EPCIS document"))
    if "creationDate" not in header:
        problems.append(Problem(None, "/creationDate", "creationDate is required"))
    if "epcisBody" not in header:
        problems.append(Problem(None, "/epcisBody", "epcisBody is required"))
    if problems:
        raise EPCISError(problems)
    stream.seek(0)
    return header


def open_document(stream: IO[bytes]) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """Header and event iterator of a seekable JSON EPCIS document (EPCISDocument or EPCISQueryDocument)."""
    header = _checked_header(stream)
    return header, iter_events(stream, str(header["type"]), context_prefixes(header["@context"]))


def parse_event(data: bytes) -> dict[str, Any]:
    """One bare event (``POST /epcis/events``) from JSON bytes."""
    try:
        event = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _json_error(exc, "/") from None
    if not isinstance(event, dict):
        raise EPCISError([Problem(0, "/", "an EPCIS event must be a JSON object")])
    return event
