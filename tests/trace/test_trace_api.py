"""HTTP: trace, chain and recall impact (JSON, CSV, Excel), with access rules and problem documents."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent))

from trace_networks import drug_network, lgtin, meat_network, pgln, sgtin

import zhuisu.api.auth
from zhuisu.access.principal import PUBLIC, SYSTEM, Principal
from zhuisu.api.app import create_app
from zhuisu.codes.epc import canonical_id, to_digital_link
from zhuisu.config import Settings
from zhuisu.epcis.capture import capture_events


def _client(engine: Engine, settings: Settings, who: Principal) -> TestClient:
    app = create_app(settings, engine)
    app.dependency_overrides[zhuisu.api.auth.principal] = lambda: who
    return TestClient(app)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_url="unused://", spool_dir=str(tmp_path / "spool"), ledger_key=str(tmp_path / "ledger.key"))


@pytest.fixture
def filled(engine: Engine) -> Engine:
    result = capture_events(engine, [*drug_network(), *meat_network()])
    assert result.success, result.problems
    return engine


@pytest.fixture
def admin(filled: Engine, settings: Settings) -> Iterator[TestClient]:
    with _client(filled, settings, SYSTEM) as c:
        yield c


def test_trace_by_urn_or_url_encoded_digital_link(admin: TestClient) -> None:
    urn = sgtin("107346", 1)
    a = admin.get(f"/api/trace/{quote(urn, safe='')}", params={"direction": "backward"})
    b = admin.get(f"/api/trace/{quote(to_digital_link(urn), safe='')}", params={"direction": "backward"})
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    body = a.json()
    assert body["identifier"] == canonical_id(urn)
    assert canonical_id(lgtin("107346", "L1")) in {o["id"] for o in body["objects"] if o["relation"] == "lot"}
    assert any(s["biz_step"] == "commissioning" for s in body["origins"])


def test_forward_trace_names_the_holder(admin: TestClient) -> None:
    body = admin.get(f"/api/trace/{quote(sgtin('107346', 2), safe='')}?direction=forward").json()
    (holder,) = [h for h in body["holders"] if h["id"] == canonical_id(sgtin("107346", 2))]
    assert holder["in_custody"] and holder["parties"] == [canonical_id(pgln(2))]  # received by the distributor


def test_problems(admin: TestClient) -> None:
    r = admin.get("/api/trace/urn:epc:id:sgtin:0614141.107346.1?direction=sideways")
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert "direction" in r.json()["detail"]
    r = admin.get(f"/api/trace/{quote(sgtin('107346', 12345), safe='')}")
    assert r.status_code == 404 and "nothing is recorded" in r.json()["detail"]
    r = admin.post("/api/recall/impact", json={"identifiers": []})
    assert r.status_code == 400 and "identifiers" in r.json()["detail"]
    r = admin.post("/api/recall/impact?format=pdf", json={"identifiers": ["x"]})
    assert r.status_code == 400 and "format" in r.json()["detail"]


def test_chain_for_the_public_page(filled: Engine, settings: Settings) -> None:
    with _client(filled, settings, PUBLIC) as c:
        r = c.get(f"/api/chain/{quote(lgtin('200003', 'K1'), safe='')}")
        assert r.status_code == 200
        steps = r.json()["steps"]
        assert [s["time"] for s in steps] == sorted(s["time"] for s in steps)
        assert any(s["sensors"] and s["sensors"][0]["type"] == "Temperature" for s in steps)
        assert all(q["quantity"] is None for s in steps for q in s["objects"] + s["outputs"])
        r = c.post("/api/recall/impact", json={"identifiers": [lgtin("200001", "PA")]})
        assert r.status_code == 401


def test_recall_impact_json_csv_and_excel(admin: TestClient) -> None:
    from openpyxl import load_workbook

    ids = {"identifiers": [lgtin("200001", "PA")]}
    data = admin.post("/api/recall/impact", json=ids).json()
    plant = canonical_id(pgln(12))
    (row,) = [p for p in data["parties"] if p["party"] == plant]
    r = admin.post("/api/recall/impact?format=csv", json=ids)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert len(table) == 1 + len(data["parties"])
    (csv_row,) = [t for t in table if t[0] == plant]
    assert csv_row[4] == f"{row['shipped']['KGM']:g} KGM"
    r = admin.post(
        "/api/recall/impact",
        json=ids,
        headers={"Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    sheet = wb["主体 parties"]
    assert next(c.value for c in sheet[1]) == "party 主体"
    assert {str(c.value) for c in sheet["A"][1:]} == {p["party"] for p in data["parties"]}
    assert wb["对象 objects"].max_row == 1 + len(data["objects"])
