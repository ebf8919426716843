"""The `zhuisu` command line: epcis hash/validate/capture, db, demo — as a user runs them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from zhuisu.cli import app
from zhuisu.store.db import make_engine
from zhuisu.store.schema import epcis_event

DATA = Path(__file__).parents[1] / "data" / "epcis"
EXAMPLES = DATA / "eventhash" / "examples"
runner = CliRunner()


def hashes_cases() -> list[Path]:
    """Vector documents whose .hashes file the hash works out without document-level options."""
    cases = []
    for hashes in sorted(EXAMPLES.glob("*.hashes")):
        doc = hashes.with_suffix(".jsonld")
        if doc.exists() and b"ignoreFields" not in doc.read_bytes():
            cases.append(doc)
    return cases


@pytest.mark.parametrize("doc", hashes_cases(), ids=lambda p: p.name)
def test_epcis_hash_prints_the_reference_hashes_in_document_order(doc: Path) -> None:
    result = runner.invoke(app, ["epcis", "hash", str(doc)])
    assert result.exit_code == 0, result.output
    expected = [line for line in doc.with_suffix(".hashes").read_text().splitlines() if line.strip()]
    assert result.stdout.splitlines() == expected


def test_epcis_hash_reads_xml_too() -> None:
    doc = next(p for p in sorted(EXAMPLES.glob("*.xml")) if p.with_suffix(".hashes").exists())
    result = runner.invoke(app, ["epcis", "hash", str(doc)])
    assert result.exit_code == 0, result.output
    assert all(line.startswith("ni:///sha-256;") and line.endswith("?ver=CBV2.0") for line in result.stdout.split())


def test_epcis_validate_exit_codes_and_located_problems(tmp_path: Path) -> None:
    good = DATA / "JSON" / "Example_9.6.1-ObjectEvent.jsonld"
    assert runner.invoke(app, ["epcis", "validate", str(good)]).exit_code == 0
    doc = orjson.loads(good.read_bytes())
    doc["epcisBody"]["eventList"][1]["bizStep"] = "recieving"
    bad = tmp_path / "bad.jsonld"
    bad.write_bytes(orjson.dumps(doc))
    result = runner.invoke(app, ["epcis", "validate", "--json", str(good), str(bad)])
    assert result.exit_code == 1
    [problem] = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert problem["file"] == str(bad) and problem["eventIndex"] == 1 and "bizStep" in problem["pointer"]
    assert "receiving" in problem["detail"]  # the nearest CBV word is suggested


def test_epcis_validate_reports_unreadable_input_in_a_sentence(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonld"
    broken.write_text('{"type": "EPCISDocument", "epcisBody": {"eventList": [')
    result = runner.invoke(app, ["epcis", "validate", str(broken), str(tmp_path / "missing.jsonld")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "cannot read" in result.output


def test_epcis_capture_stores_once_and_reports_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    doc = DATA / "JSON" / "Example_9.6.1-ObjectEvent.jsonld"
    first = runner.invoke(app, ["epcis", "capture", "--db", url, "--json", str(doc)])
    assert first.exit_code == 0, first.output
    assert orjson.loads(first.stdout)["stored"] == 2
    again = runner.invoke(app, ["epcis", "capture", "--db", url, "--json", str(doc)])
    assert orjson.loads(again.stdout) | {"file": ""} == {
        "file": "",
        "events": 2,
        "stored": 0,
        "duplicates": 2,
        "success": True,
        "errors": [],
    }
    with make_engine(url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(epcis_event)).scalar_one() == 2


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    assert "(empty)" in runner.invoke(app, ["db", "current", "--db", url]).stdout
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    current = runner.invoke(app, ["db", "current", "--db", url]).stdout
    assert "(empty)" not in current and current.split()[0] in current.split("newest: ")[1]


def test_unreachable_database_is_a_sentence_not_a_traceback() -> None:
    result = runner.invoke(app, ["db", "upgrade", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 1
    assert "cannot open the database" in result.output and "Traceback" not in result.output


def test_demo_load_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = runner.invoke(app, ["demo", "load", "--db", url])
    assert first.exit_code == 0, first.output
    assert "0 already there" in first.stdout
    again = runner.invoke(app, ["demo", "load", "--db", url])
    assert ", 0 stored" in again.stdout
