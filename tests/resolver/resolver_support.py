"""A small world for resolver tests: two parties, two products, issued codes and a captured chain."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any

from sqlalchemy import Engine
from stdnum import ean

from registry.helpers import make_uscc
from zhuisu.access.principal import SYSTEM
from zhuisu.codes.issue import IssuedCode
from zhuisu.registry.model import Party, Product
from zhuisu.store import registry
from zhuisu.store.codes import issue_codes, list_batch_codes
from zhuisu.store.db import writing

# A GTIN-14 with its check digit computed by python-stdnum.
PORK_GTIN = "0692222200001" + ean.calc_check_digit("0692222200001")
FARM_GLN = "692222200010" + ean.calc_check_digit("692222200010")
CERTIFICATE = "https://cert.example.cn/quarantine/A3713-2026-0001"  # 动物检疫合格证明
MARKET_GLN = "692333300010" + ean.calc_check_digit("692333300010")


@dataclass
class World:
    farm: Party
    market: Party
    pork: Product  # has a GTIN: Digital Link codes
    eggs: Product  # no GTIN: platform codes
    pork_codes: list[IssuedCode]
    egg_codes: list[IssuedCode]


def build_world(engine: Engine, *, codes: int = 2) -> World:
    with writing(engine) as conn:
        farm = registry.create_party(
            conn,
            SYSTEM,
            {
                "name": "临沂沂蒙生态养殖场",
                "uscc": make_uscc("371302", org8="MA3C4F5G"),
                "types": ["farm"],
                "sectors": ["meat"],
                "region": "371302",
                "address": "山东省临沂市兰山区",
                "status": "approved",
                "gln": FARM_GLN,
            },
        )
        market = registry.create_party(
            conn,
            SYSTEM,
            {
                "name": "北京新发地农产品批发市场",
                "uscc": make_uscc("110106", org8="MA7D8E9F"),
                "types": ["market"],
                "sectors": ["meat"],
                "region": "110106",
                "address": "北京市丰台区",
                "status": "approved",
                "gln": MARKET_GLN,
            },
        )
        for party, name, gln, region in (
            (farm, "沂蒙养殖场一号圈舍", FARM_GLN, "371302"),
            (market, "新发地市场肉类交易区", MARKET_GLN, "110106"),
        ):
            registry.create_location(
                conn, SYSTEM, {"party_code": party.party_code, "name": name, "gln": gln, "region": region}
            )
        pork = registry.create_product(
            conn,
            SYSTEM,
            {
                "party_code": farm.party_code,
                "name": "沂蒙黑猪肉",
                "gtin": PORK_GTIN,
                "sector": "meat",
                "spec": "500 g",
                "granularity": "serial",
            },
        )
        eggs = registry.create_product(
            conn,
            SYSTEM,
            {"party_code": farm.party_code, "name": "沂蒙散养鸡蛋", "sector": "meat", "granularity": "serial"},
        )
    base = "http://testserver"
    b1 = issue_codes(engine, SYSTEM, pork, "serial", codes, lot="L2311", resolver_base=base)
    b2 = issue_codes(engine, SYSTEM, eggs, "serial", codes, lot="E01", resolver_base=base)
    with engine.connect() as conn:
        pork_codes = list_batch_codes(conn, b1.batch_id)
        egg_codes = list_batch_codes(conn, b2.batch_id)
    return World(farm, market, pork, eggs, pork_codes, egg_codes)


def chain_document(world: World, item: str, *, lot_class: str | None = None) -> dict[str, Any]:
    """An EPCIS document: commissioning at the farm, inspection, shipping to the market, receiving there."""
    farm_loc = f"https://id.gs1.org/414/{FARM_GLN}"
    market_loc = f"https://id.gs1.org/414/{MARKET_GLN}"
    farm_party = f"https://id.gs1.org/417/{FARM_GLN}"
    market_party = f"https://id.gs1.org/417/{MARKET_GLN}"

    def event(time: str, step: str, disp: str, loc: str, **extra: Any) -> dict[str, Any]:
        e: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventTime": time,
            "eventTimeZoneOffset": "+08:00",
            "epcList": [item],
            "action": "ADD" if step == "commissioning" else "OBSERVE",
            "bizStep": step,
            "disposition": disp,
            "readPoint": {"id": loc},
            "bizLocation": {"id": loc},
        }
        e.update(extra)
        return e

    events = [
        event("2026-11-01T08:00:00+08:00", "commissioning", "active", farm_loc),
        event(
            "2026-11-01T10:00:00+08:00",
            "inspecting",
            "conformant",
            farm_loc,
            sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 3.5, "uom": "CEL"}]}],
            certificationInfo=CERTIFICATE,
        ),
        event(
            "2026-11-02T06:00:00+08:00",
            "shipping",
            "in_transit",
            farm_loc,
            bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:zhuisu:doc:DESADV-77"}],
            sourceList=[{"type": "owning_party", "source": farm_party}],
            destinationList=[{"type": "owning_party", "destination": market_party}],
        ),
        event(
            "2026-11-02T18:30:00+08:00",
            "receiving",
            "in_progress",
            market_loc,
            sourceList=[{"type": "owning_party", "source": farm_party}],
            destinationList=[{"type": "owning_party", "destination": market_party}],
        ),
    ]
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-02T19:00:00+08:00",
        "epcisBody": {"eventList": events},
    }


def capture_chain(engine: Engine, world: World, item: str) -> None:
    """Capture the chain of ``item`` through the platform's capture path: the farm's events as the farm's,
    the receiving as the market's."""
    from zhuisu.epcis.capture import capture_events

    events = chain_document(world, item)["epcisBody"]["eventList"]
    for party, batch in ((world.farm, events[:3]), (world.market, events[3:])):
        result = capture_events(engine, batch, party=party.party_code)
        assert result.success and result.stored == len(batch), result.problems


HTML = {"Accept": "text/html,application/xhtml+xml"}


def text_of(html: str) -> str:
    """Visible text of a page, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)
