"""EPCIS 2.0 JSON-LD documents: streaming reader and writer helpers.

Capture documents may hold a million events, so the reader never loads a whole document: it reads
the header (``@context``, ``type``, ``schemaVersion`` …) first and then yields events one at a time
(ijson's C backend). Each event gets the document's namespace prefixes as its own ``@context``.
"""

from __future__ import annotations

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


def read_header(stream: IO[bytes]) -> dict[str, Any]:
    """Top-level members of a JSON EPCIS document other than ``epcisBody``, read without the events.

    Usually the header precedes the body and reading stops there; if some member follows the body, the
    rest of the document is scanned (without building the events) to find it.
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
                if prefix.startswith("epcisBody.") and "@context" in header and "type" in header:
                    break
                continue
            if prefix == "epcisBody":
                header.setdefault("epcisBody", True)
                if "@context" in header and "type" in header and event in ("start_map", "start_array"):
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


def iter_events(stream: IO[bytes], document_type: str, prefixes: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Events of a JSON EPCIS document in order, each with the document prefixes attached."""
    item_prefix = EVENT_PREFIX[document_type]
    index = -1
    try:
        for index, event in enumerate(ijson.items(stream, item_prefix, use_float=True)):
            if not isinstance(event, dict):
                raise EPCISError([Problem(index, f"/{item_prefix.replace('.', '/')[:-5]}/{index}", "not an object")])
            yield attach_context(event, prefixes)
    except ijson.JSONError as exc:
        raise _json_error(exc, f"after event {index}") from None


def open_document(stream: IO[bytes]) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """Header and event iterator of a seekable JSON EPCIS document (EPCISDocument or EPCISQueryDocument)."""
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
    return header, iter_events(stream, str(doc_type), context_prefixes(header["@context"]))


def parse_event(data: bytes) -> dict[str, Any]:
    """One bare event (``POST /epcis/events``) from JSON bytes."""
    try:
        event = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _json_error(exc, "/") from None
    if not isinstance(event, dict):
        raise EPCISError([Problem(0, "/", "an EPCIS event must be a JSON object")])
    return event
