"""Review mends of the access edge: narrowed keys cannot widen themselves, every read of events (trace, chain,
recall) needs ``epcis:read``, and malformed numbers or NUL characters in requests are clear problems (400/401/
404), never a 500, on both stores, writing nothing."""

from __future__ import annotations

from urllib.parse import quote

import orjson
from access_support import World, bearer, snapshot
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from zhuisu.access import service
from zhuisu.access.principal import SYSTEM
from zhuisu.cli import app as cli_app

PROBLEM = "application/problem+json"
BIG = "9" * 30  # beyond any database integer


def _is_problem(r: object, status: int) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith(PROBLEM)  # type: ignore[attr-defined]


def _scoped_key(w: World, party: str, *scopes: str) -> str:
    return service.create_key(w.engine, SYSTEM, role="enterprise", parties=[party], scopes=list(scopes)).key


# --- narrowed keys ---------------------------------------------------------------------------------------


def test_a_narrowed_key_cannot_issue_a_wider_key(world: World) -> None:
    w = world
    narrow = _scoped_key(w, w.party["A"], "apikeys:manage")
    before = snapshot(w.engine)
    body = {"role": "enterprise", "parties": [w.party["A"]]}  # no scopes: every scope of the role
    r = w.client.post("/api/apikeys", headers=bearer(narrow), json=body)
    _is_problem(r, 403)
    r = w.client.post("/api/apikeys", headers=bearer(narrow), json={**body, "scopes": ["epcis:capture"]})
    _is_problem(r, 403)
    assert snapshot(w.engine) == before
    # As narrow as itself is allowed, and the new key has only that scope.
    r = w.client.post("/api/apikeys", headers=bearer(narrow), json={**body, "scopes": ["apikeys:manage"]})
    assert r.status_code == 201, r.text
    assert r.json()["scopes"] == ["apikeys:manage"]
    # An unscoped enterprise key still issues unscoped keys for its party.
    r = w.client.post("/api/apikeys", headers=bearer(w.key["A"]), json=body)
    assert r.status_code == 201, r.text


def test_a_key_without_apikeys_manage_cannot_authorise_a_client(world: World) -> None:
    w = world
    reader = _scoped_key(w, w.party["A"], "epcis:read")
    before = snapshot(w.engine)
    r = w.client.put(f"/api/clients/evil/parties/{w.party['A']}", headers=bearer(reader))
    _is_problem(r, 403)
    r = w.client.delete(f"/api/clients/erp-x/parties/{w.party['A']}", headers=bearer(reader))
    _is_problem(r, 403)
    assert snapshot(w.engine) == before
    assert w.client.put(f"/api/clients/ok/parties/{w.party['A']}", headers=bearer(w.key["A"])).status_code == 204


def test_authorising_a_client_for_an_unregistered_party_is_404(world: World) -> None:
    before = snapshot(world.engine)
    r = world.client.put("/api/clients/erp-y/parties/NOSUCHPARTY", headers=bearer(world.key["admin"]))
    _is_problem(r, 404)
    assert snapshot(world.engine) == before


def test_trace_chain_and_recall_need_epcis_read(world: World) -> None:
    w = world
    registry_only = _scoped_key(w, w.party["A"], "registry:read")
    epc = quote(w.events["a_own"]["epcList"][0], safe="")
    for url in (f"/api/trace/{epc}", f"/api/chain/{epc}"):
        _is_problem(w.client.get(url, headers=bearer(registry_only)), 403)
        assert w.client.get(url, headers=bearer(w.key["A"])).status_code == 200
    r = w.client.post("/api/recall/impact", headers=bearer(registry_only), json={"identifiers": ["x"]})
    _is_problem(r, 403)
    # The public keeps its public view of the chain (the trace page).
    assert w.client.get(f"/api/chain/{epc}").status_code == 200


# --- malformed numbers ------------------------------------------------------------------------------------


MALFORMED_QUERIES = [
    "/api/apikeys?perPage=²",
    "/api/users?perPage=²",
    "/api/audit?perPage=²",
    "/api/parties?perPage=²",
    "/api/locations?perPage=²",
    "/api/products?perPage=²",
    "/epcis/events?perPage=²",
    "/api/apikeys?nextPageToken=²",
    f"/api/apikeys?nextPageToken={BIG}",
    f"/api/users?nextPageToken={BIG}",
    f"/api/audit?nextPageToken={BIG}",
    "/api/audit?since=²",
    f"/api/audit?since={BIG}",
    f"/epcis/capture?nextPageToken={BIG}",
]


def test_malformed_numbers_in_queries_are_400(world: World) -> None:
    for url in MALFORMED_QUERIES:
        _is_problem(world.get("admin", url), 400)


HUGE_IDS = [
    ("GET", f"/api/apikeys/{BIG}"),
    ("DELETE", f"/api/apikeys/{BIG}"),
    ("GET", f"/api/users/{BIG}"),
    ("PATCH", f"/api/users/{BIG}"),
    ("GET", f"/api/codes/batches/{BIG}"),
    ("GET", f"/api/codes/batches/{BIG}/codes"),
]


def test_ids_beyond_the_database_are_404(world: World) -> None:
    for method, url in HUGE_IDS:
        r = world.client.request(method, url, headers=bearer(world.key["admin"]), json={"active": False})
        _is_problem(r, 404)


# --- NUL characters ---------------------------------------------------------------------------------------


NUL_URLS = [
    ("GET", "/api/parties/a%00b", 400),
    ("GET", "/api/parties?q=a%00b", 400),
    ("GET", "/api/audit?actor=a%00b", 400),
    ("GET", "/api/trace/a%00b", 400),
    ("GET", "/api/chain/a%00b", 400),
    ("PUT", "/api/clients/a%00b/parties/a%00b", 400),
    ("DELETE", "/api/clients/a%00b/parties/a%00b", 400),
    ("GET", "/epcis/queries/a%00b", 404),
    ("DELETE", "/epcis/queries/a%00b", 404),
    ("GET", "/epcis/capture/a%00b", 404),
]


def test_nul_in_urls_is_a_problem_not_a_crash(world: World) -> None:
    before = snapshot(world.engine)
    for method, url, status in NUL_URLS:
        _is_problem(world.client.request(method, url, headers=bearer(world.key["admin"])), status)
    assert snapshot(world.engine) == before


NUL_BODIES: list[tuple[str, dict[str, object], str]] = [
    ("/api/apikeys", {"role": "admin", "name": "a\x00b"}, "/name"),
    ("/api/apikeys", {"role": "regulator", "sectors": ["a\x00b"]}, "/sectors"),
    ("/api/locations", {"party_code": "a\x00b", "name": "x", "region": "371302"}, "/party_code"),
    ("/api/products", {"party_code": "N1", "name": "a\x00b", "sector": "meat"}, "/name"),
    ("/api/recall/impact", {"identifiers": ["a\x00b"]}, "/identifiers"),
]


def test_nul_in_bodies_is_400_naming_the_field(world: World) -> None:
    before = snapshot(world.engine)
    headers = {**bearer(world.key["admin"]), "Content-Type": "application/json"}
    for url, body, pointer in NUL_BODIES:
        r = world.client.post(url, headers=headers, content=orjson.dumps(body))
        _is_problem(r, 400)
        assert pointer in r.text, (url, r.text)
    assert snapshot(world.engine) == before


def test_nul_in_registry_records_names_the_nested_field(world: World) -> None:
    w = world
    before = snapshot(w.engine)
    version = {
        "catalog": "key",
        "version": "nul-test",
        "effective_from": "2030-01-01",
        "entries": [{"category": "c1", "name_zh": "甲\x00", "name_en": "a", "sector": "meat", "granularity": "lot"}],
    }
    headers = {**bearer(w.key["admin"]), "Content-Type": "application/json"}
    r = w.client.post("/api/catalogs/versions", headers=headers, content=orjson.dumps(version))
    _is_problem(r, 400)
    assert "/entries/0/name_zh" in r.text
    r = w.client.post(
        f"/api/parties/{w.party['A']}/status",
        headers=headers,
        content=orjson.dumps({"status": "suspended", "reason": "a\x00b"}),
    )
    _is_problem(r, 400)
    assert snapshot(w.engine) == before


def test_log_in_with_a_nul_is_simply_wrong(world: World, app_client: TestClient) -> None:
    r = app_client.post("/api/login", content=orjson.dumps({"username": "a\x00b", "password": "x"}))
    _is_problem(r, 401)
    r = app_client.post(
        "/api/login",
        content=b"username=a%00b&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")


# --- the CLI ----------------------------------------------------------------------------------------------


def test_cli_revoke_of_an_id_beyond_the_database_is_one_sentence(db_url: str) -> None:
    result = CliRunner().invoke(cli_app, ["apikey", "revoke", BIG, "--db", db_url])
    assert result.exit_code == 1
    assert f"no API key {BIG}" in result.output and "Traceback" not in result.output


def test_issuing_codes_needs_registry_write(world: World) -> None:
    from sqlalchemy import func, select

    from zhuisu.store import registry
    from zhuisu.store.codes import code_batch
    from zhuisu.store.db import writing

    w = world
    with writing(w.engine) as conn:
        product = registry.create_product(
            conn, SYSTEM, {"party_code": w.party["A"], "name": "散养鸡蛋", "sector": "meat", "granularity": "serial"}
        )
    reader = _scoped_key(w, w.party["A"], "epcis:read", "registry:read")

    def batches() -> int:
        with w.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(code_batch)).scalar_one())

    before = (snapshot(w.engine), batches())
    body = {"product_id": product.product_id, "kind": "serial", "count": 3}
    _is_problem(w.client.post("/api/codes/batches", headers=bearer(reader), json=body), 403)
    assert (snapshot(w.engine), batches()) == before
    r = w.client.post("/api/codes/batches", headers=bearer(w.key["A"]), json=body)
    assert r.status_code == 201, r.text
    # Reading the batch back is a registry read: the narrowed key has it.
    assert w.client.get(r.headers["Location"], headers=bearer(reader)).status_code == 200


def test_named_queries_belong_to_their_party(world: World) -> None:
    w = world
    body = {"name": "a-recall-check", "query": {"EQ_bizStep": ["shipping"]}}
    r = w.client.post("/epcis/queries", headers=bearer(w.key["A"]), json=body)
    assert r.status_code == 201, r.text

    def names(who: str) -> list[str]:
        got = w.client.get("/epcis/queries", headers=bearer(w.key[who]))
        assert got.status_code == 200, got.text
        return [q["name"] for q in got.json()]

    assert names("A") == ["a-recall-check"]
    assert names("B") == [] and names("linyi") == []  # other parties and regulators do not see it
    assert names("admin") == ["a-recall-check"]
    for path in ("/epcis/queries/a-recall-check", "/epcis/queries/a-recall-check/events"):
        _is_problem(w.client.get(path, headers=bearer(w.key["B"])), 404)
    _is_problem(w.client.delete("/epcis/queries/a-recall-check", headers=bearer(w.key["B"])), 404)
    # Another key of the same enterprise shares its queries (and B's attempt above removed nothing).
    other = _scoped_key(w, w.party["A"], "epcis:read")
    assert w.client.get("/epcis/queries/a-recall-check", headers=bearer(other)).status_code == 200
    assert w.client.delete("/epcis/queries/a-recall-check", headers=bearer(other)).status_code == 204
    assert names("admin") == []
