"""Builders for the access tests. Codes come from the registry tests' builders (valid by their standards'
check rules, not by zhuisu's code)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from registry.helpers import make_gln, make_uscc
from zhuisu.access import service
from zhuisu.access.principal import SYSTEM
from zhuisu.store import registry
from zhuisu.store.audit import audit_log
from zhuisu.store.db import writing
from zhuisu.store.schema import capture_job, epcis_event

LD = {"Content-Type": "application/ld+json"}


def sgln(gln: str) -> str:
    """A location's Digital Link (the form the registry keys locations by)."""
    return f"https://id.gs1.org/414/{gln}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def event(n: int, where: str, *, source: str | None = None, dest: str | None = None, **extra: Any) -> dict[str, Any]:
    """An ObjectEvent at ``where`` with a price-bearing order, a quantity, an ILMD-free extension field."""
    ev: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:6a3f0b8e-0000-4000-8000-{n:012d}",
        "eventTime": f"2026-11-0{1 + n % 9}T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": "shipping" if dest else "inspecting",
        "epcList": [f"urn:epc:id:sgtin:6901230.000001.{n}"],
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:6901230.000002.LOT1", "quantity": 100 + n, "uom": "KGM"}],
        "readPoint": {"id": where},
        "bizLocation": {"id": where},
        "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:6901230000001:PO-{n}"}],
        "example:price": "42.50",
        "@context": [{"example": "http://ns.example.com/epcis/"}],
    }
    if source:
        ev["sourceList"] = [{"type": "location", "source": source}]
    if dest:
        ev["destinationList"] = [{"type": "location", "destination": dest}]
    ev.update(extra)
    return ev


def document(*events: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-22T08:00:00Z",
            "epcisBody": {"eventList": [copy.deepcopy(e) for e in events]},
        }
    )


@dataclass
class World:
    """Parties A (临沂 farm), B (北京 market) and C (临沂, another buyer of A), their locations, keys and events."""

    engine: Engine
    client: TestClient
    party: dict[str, str] = field(default_factory=dict)  # "A" -> party code
    loc: dict[str, str] = field(default_factory=dict)  # "A" -> location DL
    key: dict[str, str] = field(default_factory=dict)  # role name -> API key
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> event as captured

    def get(self, who: str, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=bearer(self.key[who]), **kw)

    def post(self, who: str, url: str, content: bytes, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(url, content=content, headers={**bearer(self.key[who]), **LD, **(headers or {})})

    def event_ids(self, who: str, **params: Any) -> set[str]:
        r = self.get(who, "/epcis/events", params={"perPage": "1000", **params})
        assert r.status_code == 200, r.text
        return {e["eventID"] for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]}


def snapshot(engine: Engine) -> tuple[int, int, int]:
    """(events, capture jobs, audit entries): what a refused request must leave unchanged (apart from audit
    entries of the refusal itself, which refusals here do not write)."""
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(epcis_event)).scalar_one(),
            conn.execute(select(func.count()).select_from(capture_job)).scalar_one(),
            conn.execute(select(func.count()).select_from(audit_log)).scalar_one(),
        )


def build_world(engine: Engine, client: TestClient) -> World:
    w = World(engine, client)
    specs = {"A": ("371302", 1, ["farm"]), "B": ("110106", 2, ["wholesaler"]), "C": ("371302", 3, ["retailer"])}
    with writing(engine) as conn:
        for name, (region, n, types) in specs.items():
            party = registry.create_party(
                conn,
                SYSTEM,
                {
                    "kind": "enterprise",
                    "uscc": make_uscc(region, n),
                    "name": f"测试企业{name}",
                    "types": types,
                    "sectors": ["meat"],
                    "region": region,
                    "address": "测试路1号",
                    "status": "approved",
                },
            )
            w.party[name] = party.party_code
            gln = make_gln(n)
            registry.create_location(
                conn, SYSTEM, {"party_code": party.party_code, "name": f"{name} 厂区", "region": region, "gln": gln}
            )
            w.loc[name] = sgln(gln)
    w.key["admin"] = service.create_key(engine, SYSTEM, role="admin", name="admin").key
    for name in "ABC":
        w.key[name] = service.create_key(engine, SYSTEM, role="enterprise", parties=[w.party[name]]).key
    w.key["linyi"] = service.create_key(engine, SYSTEM, role="regulator", regions=["3713"], sectors=["meat"]).key
    w.key["beijing"] = service.create_key(engine, SYSTEM, role="regulator", regions=["11"]).key
    w.key["drugs"] = service.create_key(engine, SYSTEM, role="regulator", regions=[""], sectors=["drug"]).key
    w.key["erp"] = service.create_key(engine, SYSTEM, role="client", name="erp-x", parties=[w.party["A"]]).key

    chilled = [{"sensorReport": [{"type": "Temperature", "value": 2.5, "uom": "CEL"}]}]
    w.events["a_to_b"] = event(1, w.loc["A"], source=w.loc["A"], dest=w.loc["B"], sensorElementList=chilled)
    w.events["a_to_c"] = event(2, w.loc["A"], source=w.loc["A"], dest=w.loc["C"])
    w.events["a_own"] = event(3, w.loc["A"])
    w.events["b_receives"] = event(4, w.loc["B"], source=w.loc["A"], dest=w.loc["B"], bizStep="receiving")
    w.events["b_own"] = event(5, w.loc["B"])
    w.events["c_own"] = event(6, w.loc["C"])
    for who, names in (("A", ["a_to_b", "a_to_c", "a_own"]), ("B", ["b_receives", "b_own"]), ("C", ["c_own"])):
        r = w.post(who, "/epcis/capture", document(*(w.events[n] for n in names)))
        assert r.status_code == 202, r.text
        job = w.get(who, r.headers["Location"]).json()
        assert job["success"] and job["storedCount"] == len(names), job
    return w


def ids(w: World, *names: str) -> set[str]:
    return {w.events[n]["eventID"] for n in names}
