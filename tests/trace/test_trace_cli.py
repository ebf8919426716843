"""``zhuisu trace``, ``zhuisu recall impact`` and ``zhuisu bench`` on both stores."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import orjson
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from trace_networks import lgtin, meat_network, sgtin

from zhuisu.cli import app
from zhuisu.codes.epc import canonical_id
from zhuisu.epcis.capture import capture_events
from zhuisu.store.db import open_store

runner = CliRunner()


def test_trace_and_recall_commands(db_url: str, tmp_path: Path) -> None:
    engine = open_store(db_url)
    assert capture_events(engine, meat_network()).success
    engine.dispose()
    r = runner.invoke(app, ["trace", lgtin("200003", "K1"), "--direction", "backward", "--json", "--db", db_url])
    assert r.exit_code == 0, r.output
    body = orjson.loads(r.stdout)
    assert canonical_id(lgtin("200001", "PA")) in {o["id"] for o in body["objects"]}
    r = runner.invoke(app, ["trace", lgtin("200003", "K1"), "--direction", "up", "--db", db_url])
    assert r.exit_code != 0 and "--direction" in r.stderr
    r = runner.invoke(app, ["trace", sgtin("999999", 1), "--db", db_url])
    assert r.exit_code != 0 and "Nothing is recorded" in r.stderr
    out = tmp_path / "impact.csv"
    r = runner.invoke(app, ["recall", "impact", lgtin("200001", "PA"), "--csv", str(out), "--json", "--db", db_url])
    assert r.exit_code == 0, r.output
    parties = orjson.loads(r.stdout)["parties"]
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert {row[0] for row in rows[1:]} == {p["party"] for p in parties}


def test_bench_generate_and_trace(db_url: str) -> None:
    r = runner.invoke(app, ["bench", "generate", "--events", "600", "--db", db_url])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["bench", "trace", "--db", db_url, "--samples", "5", "--json"])
    assert r.exit_code == 0, r.output
    figures = orjson.loads(r.stdout)
    assert figures["events"] == 600
    assert figures["item_chain_ms"]["n"] == 5
