"""``zhuisu codes`` — parse codes from the command line (one JSON object per code)."""

from __future__ import annotations

import sys

import orjson
import typer

from zhuisu.codes.parse import parse_code

app = typer.Typer(help="Understand identifiers: GS1 keys, Digital Links, EPC URNs, Chinese codes.")


@app.callback()
def _main() -> None:
    """Identifier tools."""


@app.command("parse")
def parse_cmd(
    code: str | None = typer.Argument(None, help="The code; omit to read one code per line from stdin"),
) -> None:
    """Parse CODE (or each stdin line) and print {"input", "ok", "scheme", "fields", "ai", "canonical", "error"}."""
    if code is not None:
        sys.stdout.write(orjson.dumps(parse_code(code).as_dict()).decode() + "\n")
        return
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        sys.stdout.write(orjson.dumps(parse_code(line).as_dict()).decode() + "\n")
