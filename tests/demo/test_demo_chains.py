"""Tried as a new user would: the demo's codes open trace pages whose chains are complete and correct.

The expected chain of each code is worked out here from the demo's own events, independently of the trace
engine: a drug box's life is every event naming the box plus every event of its case after the box was packed
into it; the pork lot's life is every event naming the lot or the pig lot it was made from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from zhuisu import demo
from zhuisu.access.principal import PUBLIC
from zhuisu.api.app import create_app
from zhuisu.codes.epc import canonical_id
from zhuisu.config import Settings
from zhuisu.epcis.hash import event_hash
from zhuisu.trace import chain

BASE = "http://testserver"


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    result = demo.load(engine, resolver_base=BASE)
    assert result.success and result.stored == result.event_count, result.problems
    return engine


def _ids(event: dict[str, Any], *keys: str) -> set[str]:
    found: set[str] = set()
    for key in keys:
        value = event.get(key)
        for item in value if isinstance(value, list) else [value] if value else []:
            found.add(canonical_id(item["epcClass"] if isinstance(item, dict) else item))
    return found


def _naming(events: list[dict[str, Any]], wanted: set[str]) -> Iterator[dict[str, Any]]:
    keys = ("epcList", "childEPCs", "parentID", "quantityList", "inputQuantityList", "outputQuantityList")
    return (e for e in events if _ids(e, *keys) & wanted)


def _expected_box_chain(events: list[dict[str, Any]], box: str) -> list[str]:
    packed = next(e for e in events if e["type"] == "AggregationEvent" and box in _ids(e, "childEPCs"))
    case = canonical_id(packed["parentID"])
    case_events = [e for e in _naming(events, {case}) if e["eventTime"] >= packed["eventTime"]]
    own = list(_naming(events, {box}))
    mine = {id(e) for e in own + case_events}
    return [event_hash(e) for e in events if id(e) in mine]


def _expected_lot_chain(events: list[dict[str, Any]], lot: str, sources: set[str]) -> list[str]:
    return [event_hash(e) for e in _naming(events, {lot} | sources)]


def _with_hash_ids(engine: Engine) -> list[dict[str, Any]]:
    events = demo.events(demo.drug_serials(engine))
    for e in events:  # what capture did: the stored event's recordTime is not part of the hash
        e.pop("eventID", None)
    return events


def test_drug_box_chain_is_complete_and_in_order(loaded: Engine) -> None:
    events = _with_hash_ids(loaded)
    serials = demo.drug_serials(loaded)
    assert len(serials) == 10
    box = canonical_id(f"https://id.gs1.org/01/0{demo.DRUG_GTIN}/21/{serials[0]}")
    expected = _expected_box_chain(events, box)
    with loaded.connect() as conn:
        got = chain(conn, box, PUBLIC)
    assert [s.event_id for s in got.steps] == expected
    assert [s.biz_step for s in got.steps][-1] == "dispensing"


def test_pork_lot_chain_reaches_back_to_the_farm(loaded: Engine) -> None:
    events = _with_hash_ids(loaded)
    lot = canonical_id(f"https://id.gs1.org/01/0{demo.PORK_GTIN}/10/{demo.PORK_LOT}")
    pigs = canonical_id(f"https://id.gs1.org/01/0{demo.PIG_GTIN}/10/{demo.PIG_LOT}")
    expected = _expected_lot_chain(events, lot, {pigs})
    with loaded.connect() as conn:
        got = chain(conn, lot, PUBLIC)
    assert [s.event_id for s in got.steps] == expected
    assert got.steps[0].biz_step == "commissioning"


def _visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_printed_addresses_open_pages_with_the_whole_chain(loaded: Engine, tmp_path: Any) -> None:
    settings = Settings(db_url="unused://", spool_dir=str(tmp_path / "spool"), ledger_key=str(tmp_path / "key"))
    lines = demo.describe(loaded, BASE)
    urls = [re.search(r"(http://\S+)", line).group(1) for line in lines]  # type: ignore[union-attr]
    with TestClient(create_app(settings, loaded)) as client:
        for url, producer in zip(urls, (demo.FARM[1], demo.PHARMA[1]), strict=True):
            page = client.get(url.removeprefix(BASE), headers={"Accept": "text/html"})
            assert page.status_code == 200, page.text[:300]
            text = _visible_text(page.text)
            assert producer in text
            with loaded.connect() as conn:
                steps = chain(conn, canonical_id("https://id.gs1.org" + url.removeprefix(BASE)), PUBLIC).steps
            assert text.count("Recorded in the signed ledger") + text.count("记录已存证") >= len(steps) > 0


def test_the_public_chain_names_no_trading_partners(loaded: Engine) -> None:
    """Who a party ships to is its secret: the public sees each step's own party, an administrator the partner."""
    from zhuisu.access.principal import SYSTEM

    lot = canonical_id(f"https://id.gs1.org/01/0{demo.PORK_GTIN}/10/{demo.PORK_LOT}")
    with loaded.connect() as conn:
        public = chain(conn, lot, PUBLIC).steps
        full = chain(conn, lot, SYSTEM).steps

    def named(step: Any) -> set[str]:
        return {p.party_code or p.id for p in step.sources + step.destinations} | set(step.parties)

    for step in public:
        own = set(step.owners) | {p.party_code for p in (step.read_point, step.biz_location) if p and p.party_code}
        assert named(step) <= own, (step.biz_step, named(step), own)
    shipments = [s for s in full if s.biz_step == "shipping"]
    assert shipments and all(named(s) - set(s.owners) for s in shipments)  # the full view does name the buyer
