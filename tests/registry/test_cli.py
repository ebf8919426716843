"""``zhuisu registry …`` as a user runs it (SQLite file; the store itself is tested on both databases)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from sqlalchemy import func, select
from typer.testing import CliRunner

from registry.helpers import enterprise, make_uscc
from zhuisu.cli import app
from zhuisu.registry.catalog import seed_versions
from zhuisu.store import registry as store
from zhuisu.store.db import make_engine

runner = CliRunner()


def test_seed_catalog_is_idempotent_and_catalog_lists_entries(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'z.db'}"
    r = runner.invoke(app, ["registry", "seed-catalog", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert orjson.loads(r.stdout) == {"versions": len(seed_versions()), "added": 0}  # the migration loaded it
    extra = {
        "versions": [
            {
                "catalog": "key",
                "version": "2040",
                "effective_from": "2040-01-01",
                "entries": [
                    {"category": "meat", "name_zh": "肉类", "name_en": "meat", "sector": "meat", "granularity": "lot"}
                ],
            }
        ]
    }
    f = tmp_path / "v.json"
    f.write_text(json.dumps(extra))
    r = runner.invoke(app, ["registry", "seed-catalog", "--db", db, "--file", str(f), "--json"])
    assert orjson.loads(r.stdout) == {"versions": 1, "added": 1}
    r = runner.invoke(app, ["registry", "catalog", "--db", db, "--on", "2040-01-02", "--json"])
    assert [e["category"] for e in orjson.loads(r.stdout)] == ["meat"]
    r = runner.invoke(app, ["registry", "catalog", "--db", db, "--on", "2020-01-01", "--region", "350102", "--json"])
    cats = {e["category"] for e in orjson.loads(r.stdout)}
    national = {e.category for v in seed_versions() if v.catalog == "key" and v.scope == "" for e in v.entries}
    fujian = {e.category for v in seed_versions() if v.scope == "350000" for e in v.entries}
    assert cats == national | fujian
    r = runner.invoke(app, ["registry", "catalog", "--db", db, "--on", "2020-13-01"])
    assert r.exit_code == 1 and "ISO date" in r.stderr


def test_add_is_all_or_nothing_and_names_the_field(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'z.db'}"
    f = tmp_path / "p.json"
    bad_uscc = make_uscc(n=2)[:-1] + ("0" if make_uscc(n=2)[-1] != "0" else "1")
    f.write_text(json.dumps([enterprise(1), enterprise(2, uscc=bad_uscc)], ensure_ascii=False))
    r = runner.invoke(app, ["registry", "add", "party", str(f), "--db", db])
    assert r.exit_code == 2 and "record 1" in r.stderr and "/uscc" in r.stderr
    engine = make_engine(db)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(store.registry_party)).scalar_one() == 0
    f.write_text(json.dumps([enterprise(1), enterprise(2)], ensure_ascii=False))
    r = runner.invoke(app, ["registry", "add", "party", str(f), "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    codes = [p["party_code"] for p in orjson.loads(r.stdout)]
    r = runner.invoke(app, ["registry", "status", codes[0], "approved", "--db", db, "--reason", "ok"])
    assert r.exit_code == 0 and "approved" in r.stdout
    r = runner.invoke(app, ["registry", "status", codes[0], "pending", "--db", db])
    assert r.exit_code == 2 and "cannot become pending" in r.stderr
    r = runner.invoke(app, ["registry", "parties", "--db", db, "--status", "approved", "--json"])
    assert [p["party_code"] for p in orjson.loads(r.stdout)] == codes[:1]
    engine.dispose()
