"""``zhuisu codes`` with malformed input: one JSON answer per line or one plain sentence, never a traceback."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from zhuisu.cli import app


def test_parse_answers_a_non_utf8_line_and_goes_on() -> None:
    result = CliRunner().invoke(app, ["codes", "parse"], input=b"\xff\xfe\n(01)09506000134352\n")
    assert result.exit_code == 0, result.output
    first, second = (orjson.loads(line) for line in result.stdout.splitlines())
    assert first["ok"] is False and "UTF-8" in first["error"] and first["scheme"] == "unknown"
    # The next line is parsed as usual (GTIN 09506000134352 from GS1's own examples).
    assert second["ok"] is True and second["ai"] == {"01": "09506000134352"}


def test_labels_of_a_batch_id_beyond_the_database_is_one_sentence(db_url: str, tmp_path: Path) -> None:
    big = "9" * 30
    result = CliRunner().invoke(app, ["codes", "labels", big, "--pdf", f"{tmp_path}/x.pdf", "--db", db_url])
    assert result.exit_code == 1
    assert f"no code batch {big}" in result.output and "Traceback" not in result.output
