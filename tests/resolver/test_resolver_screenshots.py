"""The trace page and an error page in a real browser at phone size (Chromium, headless): the content a
person sees, no sideways scrolling. Screenshots go to /tmp/shots/ for a human to look at.

Runs on the SQLite store only: what is checked here is layout and rendering, which the store does not
change (the same pages are checked on both stores in test_api.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from resolver_support import World, build_world, capture_chain

from zhuisu.api.app import create_app
from zhuisu.config import Settings
from zhuisu.store.db import open_store

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    tmp = tmp_path_factory.mktemp("shots")
    engine = open_store(f"sqlite:///{tmp / 'zhuisu.db'}")
    world = build_world(engine)
    capture_chain(engine, world, world.pork_codes[0].code)
    settings = Settings(db_url="unused://", spool_dir=str(tmp / "spool"), ledger_key=str(tmp / "ledger.key"))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", world
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        try:
            yield b
        finally:
            b.close()


def _open(browser: object, url: str, shot: str, locale: str = "zh-CN") -> tuple[str, int, int]:
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, locale=locale)  # type: ignore[attr-defined]
    try:
        response = page.goto(url)
        assert response is not None
        status = response.status
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / shot), full_page=True)
        text = page.inner_text("body")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        return text, status, int(overflow)
    finally:
        page.close()


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_trace_page_on_a_phone(served: tuple[str, World], browser: object, lang: str) -> None:
    base, world = served
    code = world.pork_codes[0]
    text, status, overflow = _open(browser, f"{base}{_path(code.code)}?lang={lang}", f"trace-{lang}.png")
    assert status == 200 and overflow <= 0
    assert world.pork.name in text and world.farm.name in text and world.market.name in text
    if lang == "zh":
        for word in ("追溯码有效", "赋码/生产", "检验", "发货", "收货", "3.5°C", "记录已存证"):
            assert word in text
    else:
        for word in (
            "Valid code",
            "Commissioning",
            "Inspecting",
            "Shipping",
            "Receiving",
            "Recorded in the signed ledger",
        ):
            assert word in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_error_page_on_a_phone(served: tuple[str, World], browser: object, lang: str) -> None:
    base, world = served
    gtin = world.pork.gtin
    assert gtin is not None
    bad = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    text, status, overflow = _open(browser, f"{base}/01/{bad}/21/ABC?lang={lang}", f"error-{lang}.png")
    assert status == 400 and overflow <= 0
    assert ("追溯码格式有误" if lang == "zh" else "This code is malformed") in text
    assert "check digit" in text


def test_home_page_on_a_phone(served: tuple[str, World], browser: object) -> None:
    base, _ = served
    text, status, overflow = _open(browser, f"{base}/", "home-zh.png")  # a phone set to Chinese
    assert status == 200 and overflow <= 0 and "产品追溯查询" in text
    text, status, overflow = _open(browser, f"{base}/", "home-en.png", locale="en-GB")  # and to English
    assert status == 200 and overflow <= 0 and "Trace a product" in text
