"""The resolver over HTTP, on both stores: trace pages, linksets, redirects, error pages, scan flags."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from resolver_support import CERTIFICATE, HTML, PORK_GTIN, World, build_world, capture_chain, path_of, text_of
from sqlalchemy import Engine

from zhuisu.codes.issue import platform_code
from zhuisu.resolver.linkset import GS1_VOC, LINKSET_TYPE
from zhuisu.resolver.scans import ScanRules
from zhuisu.resolver.vocab import BIZ_STEP_WORDS


@pytest.fixture
def world(engine: Engine, client: TestClient) -> World:
    w = build_world(engine)
    capture_chain(engine, w, w.pork_codes[0].canonical)
    return w


def test_a_serial_code_opens_its_trace_page_with_the_whole_chain(client: TestClient, world: World) -> None:
    code = world.pork_codes[0]
    r = client.get(path_of(code.code), headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"  # it counts scans: never from a cache
    text = text_of(r.text)
    assert world.pork.name in text and world.farm.name in text
    assert code.lot is not None and code.lot in text and code.serial is not None and code.serial in text
    assert "追溯码有效" in text
    steps = [BIZ_STEP_WORDS[w][0] for w in ("commissioning", "inspecting", "shipping", "receiving")]
    positions = [text.find(f" {s} ") for s in steps]
    assert all(p > 0 for p in positions), (steps, text)
    assert positions == sorted(positions)  # in the order they happened
    assert "共 4 个环节" in text
    assert world.market.name in text  # the receiving party
    assert "3.5°C" in text  # the inspection's temperature
    assert f"证明 {CERTIFICATE}" in text  # and its certificate
    assert "2026-11-02 06:00 (UTC+08:00)" in text  # the shipping time in its own offset
    assert text.count("记录已存证") == 4 and "签名检查点" in text
    assert "这是此码的首次查询" in text
    again = text_of(client.get(path_of(code.code), headers=HTML).text)
    assert "第 2 次查询" in again


def test_the_page_speaks_english_on_request(client: TestClient, world: World) -> None:
    text = text_of(client.get(path_of(world.pork_codes[0].code) + "?lang=en", headers=HTML).text)
    for word in ("Commissioning", "Inspecting", "Shipping", "Receiving", "Producer", "Valid code"):
        assert word in text
    assert "赋码" not in text


def test_linkset_by_accept_header_and_by_link_type_all(client: TestClient, world: World) -> None:
    path = path_of(world.pork_codes[0].code)
    for r in (
        client.get(path, headers={"Accept": LINKSET_TYPE}),
        client.get(path, headers={"Accept": "application/json"}),
        client.get(path + "?linkType=all", headers=HTML),
    ):
        assert r.status_code == 200 and r.headers["content-type"] == LINKSET_TYPE
        (entry,) = r.json()["linkset"]
        assert entry["anchor"] == "http://testserver" + path
        assert {GS1_VOC + t for t in ("defaultLink", "traceability", "pip", "epcis")} <= set(entry)
        assert entry["itemDescription"] == world.pork.name
        assert 'rel="linkset"' in r.headers["link"]
    # linksets are for machines: not counted as scans
    assert "这是此码的首次查询" in text_of(client.get(path, headers=HTML).text)


def test_a_link_type_redirects_to_that_link(client: TestClient, world: World) -> None:
    path = path_of(world.pork_codes[0].code)
    r = client.get(path + "?linkType=gs1:epcis", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"].startswith("http://testserver/epcis/events?MATCH_anyEPC=")
    assert PORK_GTIN in r.headers["location"]
    r = client.get(path + "?linkType=gs1:somethingElse", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "http://testserver" + path  # the default link


def test_a_platform_code_opens_its_page(client: TestClient, world: World) -> None:
    code = world.egg_codes[0]
    assert code.code.endswith("/t/" + code.canonical)
    r = client.get(path_of(code.code), headers=HTML)
    assert r.status_code == 200
    text = text_of(r.text)
    assert world.eggs.name in text and code.canonical in text and world.farm.name in text


def test_malformed_codes_answer_400_pages_saying_why(client: TestClient, world: World) -> None:
    bad_gtin = PORK_GTIN[:-1] + str((int(PORK_GTIN[-1]) + 1) % 10)
    r = client.get(f"/01/{bad_gtin}/21/ABC", headers=HTML)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    text = text_of(r.text)
    assert "追溯码格式有误" in text and "check digit" in text and "Traceback" not in text
    en = text_of(client.get(f"/01/{bad_gtin}/21/ABC?lang=en", headers=HTML).text)
    assert "This code is malformed" in en
    good = world.egg_codes[0].canonical
    typo = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = client.get("/t/" + typo, headers=HTML)
    assert r.status_code == 400 and "追溯码格式有误" in text_of(r.text)
    assert client.get("/01/%FF%FE", headers=HTML).status_code == 400
    # a client that asked for JSON gets a problem document
    r = client.get(f"/01/{bad_gtin}", headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert "check digit" in r.json()["detail"]


def test_unknown_codes_answer_404_pages(client: TestClient, world: World) -> None:
    r = client.get("/01/09506000134352/21/X1", headers=HTML)
    assert r.status_code == 404 and "未找到此追溯码" in text_of(r.text)
    assert "Code not found" in text_of(client.get("/01/09506000134352?lang=en", headers=HTML).text)
    never_issued = platform_code(world.farm.party_code, "serial", "7K9F2M4X8A1Z")
    r = client.get("/t/" + never_issued, headers=HTML)
    assert r.status_code == 404 and "12315" in text_of(r.text)
    assert client.get("/t/" + never_issued, headers={"Accept": "application/json"}).status_code == 404


def test_a_serial_never_issued_for_a_registered_product_is_warned(client: TestClient, world: World) -> None:
    r = client.get(f"/01/{PORK_GTIN}/21/NEVERISSUED1", headers=HTML)
    assert r.status_code == 200
    text = text_of(r.text)
    assert world.pork.name in text and "此码未在平台登记" in text


def test_an_item_code_scanned_too_often_is_flagged(client: TestClient, world: World) -> None:
    client.app.state.scan_rules = ScanRules(max_item_scans=2)  # type: ignore[attr-defined]
    path = path_of(world.pork_codes[1].code)
    texts = [text_of(client.get(path, headers=HTML).text) for _ in range(3)]
    assert all("可能被复制" not in t for t in texts[:2])
    assert "已被查询 3 次" in texts[2] and "可能被复制" in texts[2]
    # a lot-level product code is never flagged by count
    lot_path = f"/01/{PORK_GTIN}/10/L2311"
    lots = [text_of(client.get(lot_path, headers=HTML).text) for _ in range(4)]
    assert "可能被复制" not in lots[-1]


def test_an_item_code_scanned_in_far_apart_provinces_is_flagged(client: TestClient, world: World) -> None:
    path = path_of(world.egg_codes[1].code)
    assert "可能被复制" not in text_of(client.get(path + "?region=110106", headers=HTML).text)
    text = text_of(client.get(path, headers={**HTML, "X-Zhuisu-Region": "650102"}).text)
    assert "可能被复制" in text and "北京市" in text and "新疆" in text


def test_home_page_sends_a_typed_code_to_its_page(client: TestClient, world: World) -> None:
    r = client.get("/", headers=HTML)
    assert r.status_code == 200 and 'name="code"' in r.text
    code = world.pork_codes[0]
    r = client.get("/", params={"code": code.human_readable}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == path_of(code.code)
    r = client.get("/", params={"code": world.egg_codes[0].canonical.lower()}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/t/" + world.egg_codes[0].canonical
    r = client.get("/", params={"code": "hello"}, headers=HTML)
    assert r.status_code == 400 and "无法识别这个码" in text_of(r.text)


def test_head_requests_are_answered_and_not_counted(client: TestClient, world: World) -> None:
    path = path_of(world.pork_codes[0].code)
    assert client.head(path, headers=HTML).status_code == 200
    assert "这是此码的首次查询" in text_of(client.get(path, headers=HTML).text)
