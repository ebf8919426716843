"""Rows in PostgreSQL's COPY text format, made ahead of time by the thread that reads a capture.

psycopg formats rows itself while a ``COPY`` is open; capture instead formats a batch before it reaches the
writing thread, so that thread only sends bytes and the database's work overlaps the formatting of the next
batch. Index rows are keyed by the event's ``seq``, which only the insert of the event gives: they are made
with ``SEQ`` (a NUL byte, which no text PostgreSQL stores can hold) where the seq goes, and ``with_seq`` puts it
in.

Format (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format"): columns separated by tabs, rows
ended by a newline, NULL as ``\\N``, backslash, tab, newline and carriage return escaped with a backslash.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

SEQ = "\x00"
_SEQ_BYTES = SEQ.encode()
NUL_MESSAGE = "contains the NUL character (U+0000), which cannot be stored"


def field(value: object) -> str:
    """One column's text. A string holding a NUL character raises ValueError: PostgreSQL cannot store it."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        if SEQ in value:
            raise ValueError(NUL_MESSAGE)
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return repr(value) if isinstance(value, float) else str(value)


def row(values: Iterable[object]) -> str:
    """One row, newline included."""
    return "\t".join([field(v) for v in values]) + "\n"


def keyed_rows(rows: Iterable[Iterable[object]]) -> bytes:
    """Rows whose first column is the seq to come (``SEQ``), as UTF-8."""
    return "".join([SEQ + "\t" + row(r) for r in rows]).encode()


def with_seq(data: bytes, seq: int) -> bytes:
    """``keyed_rows`` data with its seq put in."""
    return data.replace(_SEQ_BYTES, str(seq).encode()) if data else data
