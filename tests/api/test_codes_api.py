"""POST /api/codes/batches and friends: issuing and printing through HTTP, with the access rules."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import quote

import pypdfium2 as pdfium
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from zhuisu.access.principal import SYSTEM, Principal
from zhuisu.api import auth
from zhuisu.api.app import create_app
from zhuisu.codes.gs1 import gs1_check_digit
from zhuisu.config import Settings
from zhuisu.registry.model import Product
from zhuisu.store.db import writing
from zhuisu.store.registry import create_party, create_product

BASE = "https://trace.example.cn"
GTIN = "0692222200001" + str(gs1_check_digit("0692222200001"))
Setup = tuple[TestClient, dict[str, Principal], Product, Product]


def _setup(engine: Engine) -> tuple[Product, Product, str]:
    with writing(engine) as conn:
        party = create_party(
            conn,
            SYSTEM,
            {
                "kind": "enterprise",
                "name": "临沂金锣肉制品有限公司",
                "uscc": "9144030071526726XG",
                "types": ["slaughterhouse"],
                "sectors": ["meat"],
                "region": "371302",
                "address": "山东省临沂市兰山区",
                "status": "approved",
            },
        )
        pork = create_product(
            conn, SYSTEM, {"party_code": party.party_code, "name": "冷鲜猪肉 五花肉", "sector": "meat", "spec": "500克"}
        )
        ham = create_product(
            conn, SYSTEM, {"party_code": party.party_code, "name": "火腿肠", "sector": "food", "gtin": GTIN}
        )
    return pork, ham, party.party_code


@pytest.fixture
def app_setup(engine: Engine, settings: Settings) -> Iterator[Setup]:
    pork, ham, party = _setup(engine)
    app = create_app(replace(settings, resolver_base=BASE), engine)
    who: dict[str, Principal] = {"p": SYSTEM}
    app.dependency_overrides[auth.principal] = lambda: who["p"]
    owner = Principal(role="enterprise", subject="u-owner", parties=frozenset({party}))
    who["owner"] = owner
    who["other"] = Principal(role="enterprise", subject="u-other", parties=frozenset({"N3713020000999A"}))
    who["regulator"] = Principal(role="regulator", subject="r1", regions=("37",))
    who["public"] = Principal(role="public", subject="public")
    with TestClient(app) as client:
        yield client, who, pork, ham


def _act(who: dict[str, Principal], name: str) -> None:
    who["p"] = who[name]


def test_owner_issues_reads_lists_and_prints(
    app_setup: Setup,
) -> None:
    client, who, pork, _ = app_setup
    _act(who, "owner")
    r = client.post("/api/codes/batches", json={"product_id": pork.product_id, "kind": "serial", "count": 25})
    assert r.status_code == 201, r.text
    batch = r.json()
    assert r.headers["location"] == f"/api/codes/batches/{batch['batch_id']}"
    assert batch["count"] == 25 and batch["kind"] == "serial" and batch["issued_by"] == "u-owner"
    assert batch["resolver_base"] == BASE
    assert client.get(r.headers["location"]).json() == batch

    page = client.get(f"/api/codes/batches/{batch['batch_id']}/codes", params={"limit": 10}).json()
    assert len(page["codes"]) == 10 and page["next"].endswith("offset=10&limit=10")
    rest = (
        client.get(page["next"]).json()["codes"]
        + client.get(f"/api/codes/batches/{batch['batch_id']}/codes", params={"offset": 20, "limit": 10}).json()[
            "codes"
        ]
    )
    codes = [c["code"] for c in page["codes"] + rest]
    assert len(codes) == 25 == len(set(codes))
    assert all(c.startswith(f"{BASE}/t/") for c in codes)

    r = client.get(f"/api/codes/batches/{batch['batch_id']}/codes", headers={"Accept": "text/csv"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["code"] for row in rows] == codes

    r = client.get(f"/api/codes/batches/{batch['batch_id']}/labels.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = pdfium.PdfDocument(r.content)
    decoded = []
    for i in range(len(pdf)):
        decoded += [b.text for b in zxingcpp.read_barcodes(pdf[i].render(scale=200 / 72, grayscale=True).to_pil())]
    assert sorted(decoded) == sorted(codes)
    assert "冷鲜猪肉 五花肉 500克" in pdf[0].get_textpage().get_text_range()

    one = codes[3]
    for suffix in ("label.png", "datamatrix.png"):
        r = client.get(f"/api/codes/{quote(one, safe='')}/{suffix}")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
        assert [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(r.content)))] == [one]
    short = one.rsplit("/", 1)[1]
    r = client.get(f"/api/codes/{short}/label.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml") and "<svg" in r.text


def test_gs1_codes_and_gs1_datamatrix(app_setup: Setup) -> None:
    client, _, _, ham = app_setup
    r = client.post(
        "/api/codes/batches", json={"product_id": ham.product_id, "kind": "serial", "count": 3, "lot": "B1"}
    )
    assert r.status_code == 201, r.text
    codes = client.get(f"/api/codes/batches/{r.json()['batch_id']}/codes").json()["codes"]
    c = codes[0]
    assert c["code"] == f"{BASE}/01/{GTIN}/21/{c['serial']}" and c["lot"] == "B1"
    r = client.get(f"/api/codes/{quote(c['code'], safe='')}/datamatrix.png")
    (read,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.content)))
    assert read.symbology_identifier == "]d2" and read.text == c["human_readable"] == f"(01){GTIN}(21){c['serial']}"
    r = client.get(f"/api/codes/batches/{codes[0]['batch_id']}/labels.pdf", params={"symbology": "datamatrix"})
    page = pdfium.PdfDocument(r.content)[0].render(scale=200 / 72, grayscale=True).to_pil()
    assert sorted(b.text for b in zxingcpp.read_barcodes(page)) == sorted(x["human_readable"] for x in codes)


def test_access_rules(app_setup: Setup) -> None:
    client, who, pork, _ = app_setup
    body = {"product_id": pork.product_id, "kind": "lot", "count": 1}
    batch = client.post("/api/codes/batches", json=body).json()  # as admin
    code = client.get(f"/api/codes/batches/{batch['batch_id']}/codes").json()["codes"][0]["code"]
    urls = [
        f"/api/codes/batches/{batch['batch_id']}",
        f"/api/codes/batches/{batch['batch_id']}/codes",
        f"/api/codes/batches/{batch['batch_id']}/labels.pdf",
        f"/api/codes/{quote(code, safe='')}/label.png",
    ]
    _act(who, "public")
    r = client.post("/api/codes/batches", json=body)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert all(client.get(u).status_code == 401 for u in urls)
    for name in ("other", "regulator"):
        _act(who, name)
        r = client.post("/api/codes/batches", json=body)
        assert r.status_code == 403 and r.json()["errors"][0]["pointer"] == "/product_id"
        assert [client.get(u).status_code for u in urls] == [404] * 4
    _act(who, "owner")
    assert [client.get(u).status_code for u in urls] == [200] * 4


def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
    app_setup: Setup,
) -> None:
    client, _, pork, ham = app_setup
    cases = [
        ({"product_id": pork.product_id, "kind": "serial", "count": 0}, 400, "count"),
        ({"product_id": pork.product_id, "kind": "item", "count": 1}, 400, "kind"),
        ({"product_id": pork.product_id, "kind": "serial", "count": 1, "extra": 1}, 400, "extra"),
        ({"product_id": ham.product_id, "kind": "lot", "count": 2, "lot": "L1"}, 400, "count"),
        ({"product_id": ham.product_id, "kind": "lot", "count": 1, "lot": "批号"}, 400, "lot"),
        ({"product_id": "urn:zhuisu:class:nobody.1", "kind": "serial", "count": 1}, 404, "product_id"),
    ]
    for body, status, field in cases:
        r = client.post("/api/codes/batches", json=body)
        assert r.status_code == status, (body, r.text)
        problem = r.json()
        assert problem["status"] == status and field in problem["detail"]
    first = client.post(
        "/api/codes/batches", json={"product_id": ham.product_id, "kind": "lot", "count": 1, "lot": "L9"}
    )
    assert first.status_code == 201
    again = client.post(
        "/api/codes/batches", json={"product_id": ham.product_id, "kind": "lot", "count": 1, "lot": "L9"}
    )
    assert again.status_code == 409 and again.json()["errors"][0]["pointer"] == "/lot"
    assert client.get(f"/api/codes/batches/{first.json()['batch_id'] + 1}").status_code == 404
    assert client.get("/api/codes/NOT-ACODE/label.png").status_code == 404
