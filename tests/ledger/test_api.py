"""The ledger API and the `zhuisu ledger` commands, against a real database and a real key file."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from ledger_support import capture, make_event, rehash_body
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from zhuisu.api import ledger as ledger_api
from zhuisu.api import problems
from zhuisu.ledger import cli, service
from zhuisu.ledger.checkpoint import open_checkpoint
from zhuisu.ledger.keys import KEY_ENV
from zhuisu.ledger.note import Signer, Verifier


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys" / "ledger.key"
    monkeypatch.setenv(KEY_ENV, str(path))
    return path


@pytest.fixture
def client(engine: Engine, key_file: Path) -> Iterator[TestClient]:
    app = FastAPI()
    problems.install(app)
    app.state.engine = engine
    app.include_router(ledger_api.router)
    with TestClient(app) as c:
        yield c


def test_key_created_on_first_use_and_checkpoint_verifies(client: TestClient, key_file: Path) -> None:
    assert not key_file.exists()
    vkey = client.get("/api/ledger/key")
    assert vkey.status_code == 200 and vkey.headers["content-type"].startswith("text/plain")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    verifier = Verifier.from_key(vkey.text)
    empty = client.get("/api/ledger/checkpoint")
    assert open_checkpoint(empty.text, [verifier]).size == 0


def test_inclusion_and_consistency(client: TestClient, engine: Engine) -> None:
    events = [make_event(i) for i in range(20)]
    capture(engine, events[:7])
    verifier = Verifier.from_key(client.get("/api/ledger/key").text)
    cp7 = client.get("/api/ledger/checkpoint").text
    capture(engine, events[7:])
    cp20 = client.get("/api/ledger/checkpoint").text
    assert open_checkpoint(cp20, [verifier]).size == 20
    assert client.get("/api/ledger/checkpoint", params={"tree_size": 7}).text == cp7

    answer = client.get("/api/ledger/inclusion", params={"event_id": events[3]["eventID"], "event": "true"}).json()
    assert (answer["leaf_index"], answer["tree_size"], answer["checkpoint"]) == (3, 20, cp20)
    assert len(answer["audit_path"]) == 5
    service.check_inclusion(answer["event"], answer, answer["checkpoint"], [verifier], rehash_body)

    old = client.get("/api/ledger/inclusion", params={"event_id": events[3]["eventID"], "tree_size": 7}).json()
    assert old["checkpoint"] == cp7 and "event" not in old
    service.check_inclusion(None, old, cp7, [verifier], rehash_body)

    proof = client.get("/api/ledger/consistency", params={"first": 7, "second": 20}).json()
    assert (proof["first"], proof["second"]) == (7, 20)
    service.check_consistency(cp7, cp20, [bytes.fromhex(h) for h in proof["proof"]], [verifier])


@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        ("/api/ledger/inclusion", {"event_id": "urn:uuid:nope"}, 404, "no event with eventID 'urn:uuid:nope'"),
        ("/api/ledger/inclusion", {}, 400, "event_id"),
        ("/api/ledger/inclusion", {"event_id": "E0", "tree_size": 9}, 400, "tree_size 9 is larger than the log"),
        ("/api/ledger/consistency", {"first": 0, "second": 2}, 400, "first=0: must be at least 1"),
        ("/api/ledger/consistency", {"first": 2, "second": 1}, 400, "second=1 is smaller than first=2"),
        ("/api/ledger/consistency", {"first": 1, "second": "x"}, 400, "second"),
        ("/api/ledger/checkpoint", {"tree_size": 2}, 404, "tree_size 2: no checkpoint was signed"),
    ],
)
def test_errors_are_problem_documents(
    client: TestClient, engine: Engine, path: str, params: dict[str, object], status: int, detail: str
) -> None:
    capture(engine, [make_event(0, eventID="E0"), make_event(1)])
    response = client.get(path, params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]


def _cli_against(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_client", lambda: client)


def test_cli_verify(client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _cli_against(client, monkeypatch)
    events = [make_event(i) for i in range(5)]
    capture(engine, events)
    vkey = client.get("/api/ledger/key").text.strip()
    runner = CliRunner()
    url = str(client.base_url)
    ok = runner.invoke(cli.app, ["verify", "--url", url, "--event", events[4]["eventID"], "--key", vkey, "--json"])
    assert ok.exit_code == 0, ok.output
    result = json.loads(ok.stdout)
    assert (result["ok"], result["leaf_index"], result["tree_size"], result["key_from_server"]) == (True, 4, 5, False)

    # a copy of the event held elsewhere, changed: its hash is not the logged one
    copy = tmp_path / "event.json"
    copy.write_text(json.dumps(dict(events[4], bizStep="receiving")))
    bad = runner.invoke(
        cli.app, ["verify", "--url", url, "--event", events[4]["eventID"], "--key", vkey, "--event-file", str(copy)]
    )
    assert bad.exit_code == 1 and "but the log holds" in bad.output

    # a key that is not the log's: the checkpoint signature is not accepted
    other = Signer.generate("zhuisu.test/ledger").verifier.vkey
    forged = runner.invoke(cli.app, ["verify", "--url", url, "--event", events[0]["eventID"], "--key", other])
    assert forged.exit_code == 1 and "no verifiable signatures" in forged.output

    # the database changed behind the platform's back: the served event no longer matches its leaf
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE epcis_event SET body = replace(body, 'shipping', 'receiving') "
                "WHERE seq = (SELECT seq FROM ledger_leaf WHERE leaf_index = 1)"
            )
        )
    tampered = runner.invoke(cli.app, ["verify", "--url", url, "--event", events[1]["eventID"], "--key", vkey])
    assert tampered.exit_code == 1 and "but the log holds" in tampered.output

    unknown = runner.invoke(cli.app, ["verify", "--url", url, "--event", "urn:uuid:x", "--key", vkey])
    assert unknown.exit_code == 2 and "HTTP 404" in unknown.output


def test_cli_consistency(client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _cli_against(client, monkeypatch)
    capture(engine, [make_event(i) for i in range(3)])
    seen = tmp_path / "seen.checkpoint"
    seen.write_text(client.get("/api/ledger/checkpoint").text)
    capture(engine, [make_event(i) for i in range(3, 11)])
    runner = CliRunner()
    url = str(client.base_url)
    result = runner.invoke(cli.app, ["consistency", "--url", url, "--old", str(seen), "--save", str(seen), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"ok": True, "first": 3, "second": 11}
    assert "\n11\n" in seen.read_text()


def test_cli_audit(engine: Engine, db_url: str, key_file: Path, signer: Signer) -> None:
    from zhuisu.store import ledger

    events = [make_event(i) for i in range(4)]
    capture(engine, events)
    with engine.begin() as conn:
        ledger.latest_checkpoint(conn, signer)
    runner = CliRunner()
    args = ["audit", "--db", db_url, "--verifier", signer.verifier.vkey, "--json"]
    clean = runner.invoke(cli.app, args)
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["ok"] is True
    with engine.begin() as conn:
        seq = conn.execute(text("SELECT seq FROM ledger_leaf WHERE leaf_index = 2")).scalar()
        conn.execute(text("DELETE FROM epcis_event WHERE seq = :s"), {"s": seq})
    dirty = runner.invoke(cli.app, args)
    assert dirty.exit_code == 1
    report = json.loads(dirty.stdout)
    assert [(f["kind"], f["leaf_index"], f["seq"]) for f in report["findings"]] == [("event-deleted", 2, seq)]
    table = runner.invoke(cli.app, args[:-1])
    assert table.exit_code == 1 and "event-deleted" in table.output
    # without any key the signatures cannot be checked: said so, roots still are
    nokey = runner.invoke(cli.app, ["audit", "--db", db_url, "--json"])
    assert nokey.exit_code == 1 and "checkpoint signatures are not checked" in nokey.stderr


def test_end_to_end_through_the_platform_app(
    engine: Engine, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Capture over the EPCIS REST binding, then verify from outside with `zhuisu ledger verify`."""
    import time

    import orjson

    from zhuisu.api.app import create_app
    from zhuisu.config import Settings

    settings = Settings(db_url="unused://", spool_dir=str(tmp_path / "spool"), origin="zhuisu.test/e2e")
    doc = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-22T08:00:00Z",
        "epcisBody": {
            "eventList": [make_event(i, eventID=f"urn:uuid:00000000-0000-4000-8000-00000000000{i}") for i in range(3)]
        },
    }
    from zhuisu.access import service
    from zhuisu.access.principal import SYSTEM

    admin = {"Authorization": f"Bearer {service.create_key(engine, SYSTEM, role='admin').key}"}
    with TestClient(create_app(settings, engine), headers=admin) as app_client:
        r = app_client.post(
            "/epcis/capture", content=orjson.dumps(doc), headers={"Content-Type": "application/ld+json"}
        )
        assert r.status_code == 202, r.text
        for _ in range(200):
            if not app_client.get(r.headers["Location"]).json()["running"]:
                break
            time.sleep(0.05)
        vkey = app_client.get("/api/ledger/key").text.strip()
        assert vkey.startswith("zhuisu.test/e2e+")
        _cli_against(app_client, monkeypatch)
        result = CliRunner().invoke(
            cli.app,
            [
                "verify",
                "--url",
                str(app_client.base_url),
                "--event",
                "urn:uuid:00000000-0000-4000-8000-000000000002",
                "--key",
                vkey,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "leaf 2 of 3" in result.output
