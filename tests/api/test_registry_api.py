"""Registry API as each role (dependency overrides), RFC 7807 errors naming fields, nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from registry.helpers import enterprise, make_gln, make_gtin13, person
from zhuisu.access.principal import PUBLIC, SYSTEM, Principal
from zhuisu.api import auth
from zhuisu.api.app import create_app
from zhuisu.config import Settings
from zhuisu.registry.identifiers import party_code_problem
from zhuisu.store import registry as store
from zhuisu.store.audit import audit_log

REGULATOR = Principal(role="regulator", subject="reg:linyi", regions=("3713",), name="临沂")
MEAT_REGULATOR = Principal(role="regulator", subject="reg:linyi-meat", regions=("3713",), sectors=frozenset({"meat"}))
OUTSIDER = Principal(role="regulator", subject="reg:jinan", regions=("3701",))


class Api:
    """One app, one client; ``as_(principal)`` picks who the next requests come from."""

    def __init__(self, app: FastAPI, client: TestClient) -> None:
        self.app, self.client = app, client

    def as_(self, who: Principal) -> TestClient:
        self.app.dependency_overrides[auth.principal] = lambda: who
        return self.client


@pytest.fixture
def api(engine: Engine, settings: Settings) -> Iterator[Api]:
    app = create_app(settings, engine)
    with TestClient(app) as client:
        yield Api(app, client)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (*store.TABLES, audit_log)
        }


def register(api: Api, data: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    r = api.as_(SYSTEM).post("/api/parties", json=data)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    if status:
        r = api.as_(SYSTEM).post(f"/api/parties/{body['party_code']}/status", json={"status": status})
        assert r.status_code == 200, r.text
        body = r.json()
    return body


def enterprise_user(party_code: str) -> Principal:
    return Principal(role="enterprise", subject=f"user:{party_code}", parties=frozenset({party_code}))


def assert_problem(r: Any, status: int, pointer: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert pointer in [e["pointer"] for e in body.get("errors", [])], body
    assert pointer.lstrip("/") in body["detail"]
    return body


def test_admin_registers_an_enterprise_with_licences(api: Api, engine: Engine) -> None:
    lic = {
        "kind": "slaughter",
        "number": "A13713020001",
        "issuer": "临沂市农业农村局",
        "valid_from": "2024-01-01",
        "valid_to": "2027-12-31",
    }
    r = api.as_(SYSTEM).post("/api/parties", json=enterprise(1, types=["slaughterhouse"], licences=[lic]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert party_code_problem(body["party_code"]) is None
    assert r.headers["location"] == f"/api/parties/{body['party_code']}"
    assert body["licences"] == [lic] and body["status"] == "pending" and body["region_name"] == "兰山区"
    assert [h["to_status"] for h in body["history"]] == ["pending"]
    with engine.connect() as conn:
        actions = [(a.action, a.target_id) for a in conn.execute(select(audit_log))]
    assert actions == [("party.create", body["party_code"])]


BAD_PARTY_INPUT = [
    ({"uscc": "91371302MA0000010X"}, "/uscc"),  # wrong check characters
    ({"uscc": "12345"}, "/uscc"),
    ({"region": "379999"}, "/region"),
    ({"name": None}, "/name"),
    ({"address": ""}, "/address"),
    ({"types": []}, "/types"),
    ({"gln": "6901234567890"}, "/gln"),
    ({"adress": "测试路1号"}, "/adress"),  # a misspelt field is refused, not dropped
]


def test_bad_party_input_is_a_problem_naming_the_field(api: Api, engine: Engine) -> None:
    before = counts(engine)
    for change, pointer in BAD_PARTY_INPUT:
        r = api.as_(SYSTEM).post("/api/parties", json=enterprise(1) | change)
        assert_problem(r, 400, pointer)
    r = api.as_(SYSTEM).post("/api/parties", content=b"[1]", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    r = api.as_(SYSTEM).post("/api/parties", json=enterprise(1) | {"contact_mobile": "13800000000"})
    assert "contact_mobile" in r.json()["detail"] and "contact_phone" in r.json()["detail"]  # says what is known
    assert counts(engine) == before


def test_duplicate_uscc_is_a_conflict_and_writes_nothing(api: Api, engine: Engine) -> None:
    register(api, enterprise(1))
    before = counts(engine)
    r = api.as_(SYSTEM).post(
        "/api/parties", json=enterprise(1, name="同码不同名", licences=[{"kind": "other", "number": "x"}])
    )
    assert_problem(r, 409, "/uscc")
    assert counts(engine) == before


def test_public_reads_only_public_fields_of_approved_parties_and_cannot_write(api: Api, engine: Engine) -> None:
    approved = register(api, enterprise(1, licences=[{"kind": "other", "number": "L-1"}]), "approved")
    pending = register(api, enterprise(2))
    farmer_data = person(1, address="某村3组")
    farmer = register(api, farmer_data, "approved")
    public = api.as_(PUBLIC)
    listed = [p["party_code"] for p in public.get("/api/parties").json()["items"]]
    assert sorted(listed) == sorted([approved["party_code"], farmer["party_code"]])
    body = public.get(f"/api/parties/{approved['party_code']}").json()
    assert body["uscc"] == approved["uscc"] and "licences" not in body and "history" not in body
    fbody = public.get(f"/api/parties/{farmer['party_code']}")
    text = fbody.text
    assert "address" not in fbody.json() and "id_number_masked" not in fbody.json()
    assert farmer_data["id_number"] not in text and "某村" not in text
    assert public.get(f"/api/parties/{pending['party_code']}").status_code == 404
    assert public.get("/api/parties/N37130200009999").status_code == 404  # same answer as for a hidden one
    before = counts(engine)
    assert public.post("/api/parties", json=enterprise(3)).status_code == 401
    assert public.patch(f"/api/parties/{approved['party_code']}", json={"name": "x"}).status_code == 401
    assert public.post(f"/api/parties/{pending['party_code']}/status", json={"status": "approved"}).status_code == 401
    assert (
        public.post(
            "/api/locations", json={"party_code": approved["party_code"], "name": "x", "region": "371302"}
        ).status_code
        == 401
    )
    assert counts(engine) == before


def test_identity_number_is_shown_masked_only(api: Api) -> None:
    data = person(1)
    r = api.as_(SYSTEM).post("/api/parties", json=data)
    assert data["id_number"] not in r.text
    number = data["id_number"]
    assert r.json()["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]


def test_enterprise_user_works_on_its_own_records_only(api: Api, engine: Engine) -> None:
    own = register(api, enterprise(1))
    other_pending = register(api, enterprise(2))
    other_approved = register(api, enterprise(3), "approved")
    me = api.as_(enterprise_user(own["party_code"]))
    assert me.get(f"/api/parties/{own['party_code']}").json()["history"]  # full view of itself, though pending
    assert me.get(f"/api/parties/{other_pending['party_code']}").status_code == 404
    assert "licences" not in me.get(f"/api/parties/{other_approved['party_code']}").json()
    r = me.patch(f"/api/parties/{own['party_code']}", json={"name": "新名字", "contact_phone": "0539-1234567"})
    assert r.status_code == 200 and r.json()["name"] == "新名字"
    gln = make_gln(21)
    r = me.post(
        "/api/locations", json={"party_code": own["party_code"], "name": "厂区", "region": "371302", "gln": gln}
    )
    assert r.status_code == 201 and r.json()["code"] == f"https://id.gs1.org/414/{gln}"
    r = me.post(
        "/api/products", json={"party_code": own["party_code"], "name": "白条猪", "sector": "meat", "category": "meat"}
    )
    assert r.status_code == 201
    before = counts(engine)
    assert me.patch(f"/api/parties/{other_approved['party_code']}", json={"name": "x"}).status_code == 403
    assert me.patch(f"/api/parties/{other_pending['party_code']}", json={"name": "x"}).status_code == 404
    assert me.post(f"/api/parties/{own['party_code']}/status", json={"status": "approved"}).status_code == 403
    assert me.post("/api/parties", json=enterprise(4)).status_code == 403
    r = me.post("/api/locations", json={"party_code": other_approved["party_code"], "name": "x", "region": "371302"})
    assert r.status_code == 403
    r = me.post("/api/products", json={"party_code": other_pending["party_code"], "name": "x", "sector": "meat"})
    assert r.status_code == 404
    assert me.patch(f"/api/parties/{own['party_code']}", json={"status": "approved"}).status_code == 400
    assert counts(engine) == before
    # Its location by any spelling of its identifier; the path carries the Digital Link as it is.
    assert me.get(f"/api/locations/https://id.gs1.org/414/{gln}").json()["name"] == "厂区"


def test_regulator_jurisdiction(api: Api, engine: Engine) -> None:
    inside = register(api, enterprise(1))
    vegetables = register(api, enterprise(2, sectors=["vegetable"]))
    outside = register(api, enterprise(3, region="370102"))
    outside_approved = register(api, enterprise(4, region="370102"), "approved")
    reg = api.as_(REGULATOR)
    listed = {p["party_code"] for p in reg.get("/api/parties").json()["items"]}
    assert listed == {inside["party_code"], vegetables["party_code"], outside_approved["party_code"]}
    assert reg.get(f"/api/parties/{outside['party_code']}").status_code == 404
    r = reg.post(f"/api/parties/{inside['party_code']}/status", json={"status": "approved", "reason": "材料齐全"})
    assert r.status_code == 200 and r.json()["history"][-1]["reason"] == "材料齐全"
    before = counts(engine)
    assert (
        reg.post(f"/api/parties/{outside_approved['party_code']}/status", json={"status": "revoked"}).status_code == 403
    )
    r = reg.post(f"/api/parties/{inside['party_code']}/status", json={"status": "pending"})
    assert_problem(r, 409, "/status")
    assert reg.post("/api/parties", json=enterprise(5, region="370102")).status_code == 403
    assert counts(engine) == before
    assert reg.post("/api/parties", json=enterprise(6)).status_code == 201
    meat = api.as_(MEAT_REGULATOR)
    assert meat.get(f"/api/parties/{vegetables['party_code']}").status_code == 404
    assert meat.get(f"/api/parties/{inside['party_code']}").status_code == 200
    assert api.as_(OUTSIDER).get(f"/api/parties/{inside['party_code']}").json().get("licences") is None


def test_lists_page_with_next_page_tokens_and_filters(api: Api) -> None:
    made = {
        register(api, enterprise(i, region="371302" if i % 2 else "371311"), "approved")["party_code"]
        for i in range(1, 8)
    }
    seen: list[str] = []
    url = "/api/parties?perPage=3"
    client = api.as_(PUBLIC)
    pages = 0
    while True:
        r = client.get(url)
        body = r.json()
        seen += [p["party_code"] for p in body["items"]]
        pages += 1
        if "nextPageToken" not in body:
            assert "link" not in r.headers
            break
        assert len(body["items"]) == 3
        url = r.headers["link"].split(">")[0].lstrip("<")
    assert pages == 3 and len(seen) == len(set(seen)) and set(seen) == made
    assert seen == sorted(seen)
    in_371311 = client.get("/api/parties?region=371311").json()["items"]
    assert {p["region"] for p in in_371311} == {"371311"} and len(in_371311) == 3
    r = client.get("/api/parties?perPage=0")
    assert r.status_code == 400 and "perPage" in r.json()["detail"]
    assert client.get("/api/parties?nextPageToken=%%%").status_code == 400


def test_catalog_answers_effective_date_questions_across_versions(api: Api) -> None:
    admin = api.as_(SYSTEM)
    entry = {"category": "cheese", "name_zh": "奶酪", "name_en": "cheese", "sector": "food", "granularity": "lot"}
    r = admin.post(
        "/api/catalogs/versions",
        json={"catalog": "key", "version": "t1", "effective_from": "2030-01-01", "entries": [entry]},
    )
    assert r.status_code == 201, r.text
    other = dict(entry, category="butter", name_zh="黄油", name_en="butter")
    r = admin.post(
        "/api/catalogs/versions",
        json={"catalog": "key", "version": "t2", "effective_from": "2031-01-01", "entries": [other]},
    )
    assert r.status_code == 201
    assert (
        admin.post(
            "/api/catalogs/versions",
            json={"catalog": "key", "version": "t2", "effective_from": "2031-01-01", "entries": [other]},
        ).status_code
        == 409
    )
    public = api.as_(PUBLIC)

    def check(category: str, on: str) -> Any:
        body = public.get(f"/api/catalogs/check?category={category}&on={on}").json()
        return body["version"]["version"] if body["on_catalog"] else None

    assert check("cheese", "2029-12-31") is None
    assert check("cheese", "2030-06-01") == "t1"
    assert check("cheese", "2031-01-01") is None
    assert check("butter", "2031-01-01") == "t2"
    assert check("meat", "2020-01-01") == "2015"  # the seed catalog
    in_force = public.get("/api/catalogs?on=2030-06-01").json()["items"]
    assert [i["entry"]["category"] for i in in_force] == ["cheese"]
    r = public.get("/api/catalogs/check?category=meat&on=2020-02-30")
    assert r.status_code == 400 and "/on" in r.json()["detail"]
    assert public.post("/api/catalogs/versions", json={}).status_code == 401
    local = {"catalog": "key", "scope": "370100", "version": "x", "effective_from": "2030-01-01", "entries": [entry]}
    assert api.as_(REGULATOR).post("/api/catalogs/versions", json=local).status_code == 403
    assert api.as_(REGULATOR).post("/api/catalogs/versions", json=local | {"scope": "371300"}).status_code == 201
    r = admin.post(
        "/api/catalogs/versions", json={"catalog": "key", "version": "bad", "entries": [dict(entry, sector="x")]}
    )
    assert_problem(r, 400, "/entries/0/sector")


def test_product_on_catalog_by_its_owners_region(api: Api) -> None:
    qingdao = register(api, enterprise(1, region="370211", types=["producer"], sectors=["liquor"]), "approved")
    r = api.as_(SYSTEM).post(
        "/api/products",
        json={
            "party_code": qingdao["party_code"],
            "name": "干红",
            "sector": "liquor",
            "category": "wine",
            "gtin": make_gtin13(8),
        },
    )
    assert r.status_code == 201, r.text
    body = api.as_(PUBLIC).get(f"/api/catalogs/check?product=0{make_gtin13(8)}&on=2019-01-01").json()
    assert body["on_catalog"] and body["version"]["scope"] == "370200"
    body = api.as_(PUBLIC).get(f"/api/catalogs/check?product=0{make_gtin13(8)}&on=2018-01-01").json()
    assert not body["on_catalog"]  # 青政办发〔2018〕5号 took effect 2018-02-14


def test_masterdata_is_a_valid_epcis_document(api: Api) -> None:
    firm = register(api, enterprise(1), "approved")
    farmer = register(api, person(1), "approved")
    admin = api.as_(SYSTEM)
    gln = make_gln(31)
    assert (
        admin.post(
            "/api/locations",
            json={
                "party_code": firm["party_code"],
                "name": "屠宰车间",
                "region": "371302",
                "gln": gln,
                "address": "兰山区1号",
                "lat": 35.1,
                "lon": 118.3,
            },
        ).status_code
        == 201
    )
    assert (
        admin.post(
            "/api/locations",
            json={"party_code": farmer["party_code"], "name": "菜地", "region": "371302", "address": "某村3组"},
        ).status_code
        == 201
    )
    assert (
        admin.post(
            "/api/products",
            json={
                "party_code": firm["party_code"],
                "name": "白条猪",
                "sector": "meat",
                "category": "meat",
                "gtin": make_gtin13(9),
                "spec": "约80kg/片",
            },
        ).status_code
        == 201
    )
    r = api.as_(PUBLIC).get("/api/masterdata")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    doc = r.json()
    schema = json.loads(resources.files("zhuisu.epcis").joinpath("data/epcis-json-schema.json").read_text("utf-8"))
    jsonschema.validate(doc, schema)
    vocab = {v["type"]: v["vocabularyElementList"] for v in doc["epcisHeader"]["epcisMasterData"]["vocabularyList"]}
    assert set(vocab) == {
        "urn:epcglobal:epcis:vtype:BusinessLocation",
        "urn:epcglobal:epcis:vtype:ReadPoint",
        "urn:epcglobal:epcis:vtype:EPCClass",
    }
    locs = {
        e["id"]: {a["id"]: a["attribute"] for a in e["attributes"]}
        for e in vocab["urn:epcglobal:epcis:vtype:BusinessLocation"]
    }
    firm_loc = locs[f"https://id.gs1.org/414/{gln}"]
    assert (
        firm_loc["urn:epcglobal:cbv:mda#name"] == "屠宰车间"
        and firm_loc["urn:epcglobal:cbv:mda#streetAddressOne"] == "兰山区1号"
    )
    farm_loc = locs[f"urn:zhuisu:loc:{farmer['party_code']}.1"]
    assert "urn:epcglobal:cbv:mda#streetAddressOne" not in farm_loc  # a natural person's place: no address
    classes = {
        e["id"]: {a["id"]: a["attribute"] for a in e["attributes"]} for e in vocab["urn:epcglobal:epcis:vtype:EPCClass"]
    }
    pork = classes[f"https://id.gs1.org/01/0{make_gtin13(9)}"]
    assert pork["urn:epcglobal:cbv:mda#descriptionShort"] == "白条猪" and pork["urn:zhuisu:mda#category"] == "meat"
    assert pork["urn:epcglobal:cbv:mda#manufacturerOfTradeItemPartyName"] == firm["name"]
    # The owner sees its own place's address.
    own = api.as_(enterprise_user(farmer["party_code"])).get("/api/masterdata?vtype=location").json()
    (only,) = own["epcisHeader"]["epcisMasterData"]["vocabularyList"][:1]
    own_attrs = {
        a["id"]
        for e in only["vocabularyElementList"]
        if e["id"].endswith(".1") and farmer["party_code"] in e["id"]
        for a in e["attributes"]
    }
    assert "urn:epcglobal:cbv:mda#streetAddressOne" in own_attrs
