"""Benchmark network: a realistic multi-sector supply network as EPCIS events, and trace latency figures.

``events(n)`` yields about ``n`` events (internal JSON-LD form) in cycles of three sectors:

- meat (一批一码, lot level): farms commission pig lots, ship them to a slaughterhouse, which slaughters
  several farms' lots into a carcass lot (two events sharing a transformationID) and cuts it into product
  lots, ships parts to wholesale markets, which ship parts on to retailers, which sell in small amounts;
- vegetables (lot level): farm harvest lots shipped to a wholesale market, on to retailers, sold;
- drugs (一物一码, serial level): a maker commissions serials under a lot, packs them into cases and cases
  onto a pallet, ships the pallet to a distributor, which unpacks it and ships cases to hospitals, which
  unpack them and dispense serials; one big lot (``BIG_LOT``) of 10,000 serials is made once per run, for
  the recall-impact figure.

``latencies`` samples identifiers from a filled database and times chains and recall impacts.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from zhuisu.access.principal import SYSTEM

BIG_GCP = "6900009"
BIG_LOT_NUMBER = "BIGLOT1"
BIG_LOT = f"urn:epc:class:lgtin:{BIG_GCP}.012345.{BIG_LOT_NUMBER}"
BIG_SERIALS = 10_000
_BASE = 1_767_225_600  # 2026-01-01T00:00:00Z


def _t(seconds: float) -> str:
    s = int(seconds)
    tm = time.gmtime(_BASE + s)
    return time.strftime("%Y-%m-%dT%H:%M:%S", tm) + ".000+00:00"


def _pgln(gcp: str) -> str:
    return f"urn:epc:id:pgln:{gcp}.00000"


def _sgln(gcp: str) -> str:
    return f"urn:epc:id:sgln:{gcp}.00000.0"


def _ev(kind: str, at: float, gcp: str, step: str, disposition: str | None = None, **fields: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "type": kind,
        "eventTime": _t(at),
        "eventTimeZoneOffset": "+08:00",
        "bizStep": step,
        "readPoint": {"id": _sgln(gcp)},
        "bizLocation": {"id": _sgln(gcp)},
    }
    if disposition:
        ev["disposition"] = disposition
    ev.update(fields)
    return ev


def _ship(at: float, src: str, dst: str, doc: str, **objects: Any) -> list[dict[str, Any]]:
    """A shipping by ``src`` to ``dst`` and its receiving, matched by a despatch advice."""
    bt = [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{_gln13(src)}:{doc}"}]
    parties = {
        "sourceList": [{"type": "owning_party", "source": _pgln(src)}],
        "destinationList": [{"type": "owning_party", "destination": _pgln(dst)}],
    }
    return [
        _ev(
            "ObjectEvent",
            at,
            src,
            "shipping",
            "in_transit",
            action="OBSERVE",
            bizTransactionList=bt,
            **parties,
            **objects,
        ),
        _ev(
            "ObjectEvent",
            at + 3600 * 6,
            dst,
            "receiving",
            "in_progress",
            action="OBSERVE",
            bizTransactionList=bt,
            **parties,
            **objects,
        ),
    ]


def _gln13(gcp: str) -> str:
    body = gcp + "0" * (12 - len(gcp))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _q(cls: str, qty: float, uom: str) -> dict[str, Any]:
    return {"epcClass": cls, "quantity": qty, "uom": uom}


@dataclass
class Network:
    """Enterprises of the benchmark network (company prefixes) and counters."""

    rnd: random.Random
    makers: list[str] = field(default_factory=lambda: [f"69000{i:02d}" for i in range(1, 6)])
    distributors: list[str] = field(default_factory=lambda: [f"6910{i:03d}" for i in range(1, 21)])
    hospitals: list[str] = field(default_factory=lambda: [f"692{i:04d}" for i in range(1, 201)])
    farms: list[str] = field(default_factory=lambda: [f"693{i:04d}" for i in range(1, 1001)])
    slaughterhouses: list[str] = field(default_factory=lambda: [f"6940{i:03d}" for i in range(1, 21)])
    markets: list[str] = field(default_factory=lambda: [f"6960{i:03d}" for i in range(1, 31)])
    retailers: list[str] = field(default_factory=lambda: [f"697{i:04d}" for i in range(1, 1001)])
    sscc: int = 0

    def next_sscc(self, gcp: str) -> str:
        self.sscc += 1
        return f"urn:epc:id:sscc:{gcp}.{self.sscc:010d}"


def meat_cycle(net: Network, c: int, at: float) -> list[dict[str, Any]]:
    r = net.rnd
    house = r.choice(net.slaughterhouses)
    out: list[dict[str, Any]] = []
    pigs = []
    for k in range(r.randint(1, 3)):
        farm = r.choice(net.farms)
        lot = f"urn:epc:class:lgtin:{farm}.010001.P{c}x{k}"
        heads = r.randint(20, 80)
        pigs.append((lot, heads))
        out.append(
            _ev(
                "ObjectEvent",
                at,
                farm,
                "commissioning",
                "active",
                action="ADD",
                quantityList=[_q(lot, heads, "H87")],
                ilmd={"cbvmda:lotNumber": f"P{c}x{k}"},
            )
        )
        out += _ship(at + 86400, farm, house, f"M{c}x{k}", quantityList=[_q(lot, heads, "H87")])
    tid = f"urn:uuid:{c:08x}-0000-4000-8000-000000000001"
    carcass = f"urn:epc:class:lgtin:{house}.020001.C{c}"
    kg = sum(h for _l, h in pigs) * 80.0
    half = len(pigs) // 2 or 1
    for part, outputs in ((pigs[:half], []), (pigs[half:], [_q(carcass, kg, "KGM")])):
        if part or outputs:
            out.append(
                _ev(
                    "TransformationEvent",
                    at + 2 * 86400,
                    house,
                    "https://zhuisu.org/bizstep/slaughtering",
                    transformationID=tid,
                    inputQuantityList=[_q(lot, h, "H87") for lot, h in part],
                    outputQuantityList=outputs,
                )
            )
    cuts = [f"urn:epc:class:lgtin:{house}.03000{j}.K{c}" for j in range(1, 4)]
    out.append(
        _ev(
            "TransformationEvent",
            at + 2 * 86400 + 7200,
            house,
            "commissioning",
            inputQuantityList=[_q(carcass, kg, "KGM")],
            outputQuantityList=[_q(cut, kg / 3, "KGM") for cut in cuts],
            sensorElementList=[
                {"sensorReport": [{"type": "Temperature", "value": round(r.uniform(0, 4), 1), "uom": "CEL"}]}
            ],
        )
    )
    for j, cut in enumerate(cuts[:2]):
        market = r.choice(net.markets)
        sent = kg / 3 * 0.8
        out += _ship(at + 3 * 86400, house, market, f"C{c}x{j}", quantityList=[_q(cut, sent, "KGM")])
        retailer = r.choice(net.retailers)
        out += _ship(at + 4 * 86400, market, retailer, f"R{c}x{j}", quantityList=[_q(cut, sent / 4, "KGM")])
        out.append(
            _ev(
                "ObjectEvent",
                at + 5 * 86400,
                retailer,
                "retail_selling",
                "retail_sold",
                action="OBSERVE",
                quantityList=[_q(cut, round(sent / 40, 2), "KGM")],
            )
        )
    return out


def veg_cycle(net: Network, c: int, at: float) -> list[dict[str, Any]]:
    r = net.rnd
    farm, market, retailer = r.choice(net.farms), r.choice(net.markets), r.choice(net.retailers)
    lot = f"urn:epc:class:lgtin:{farm}.040001.V{c}"
    kg = float(r.randint(200, 2000))
    out = [
        _ev(
            "ObjectEvent",
            at,
            farm,
            "commissioning",
            "active",
            action="ADD",
            quantityList=[_q(lot, kg, "KGM")],
            ilmd={"cbvmda:lotNumber": f"V{c}"},
        )
    ]
    out += _ship(at + 3600 * 8, farm, market, f"V{c}", quantityList=[_q(lot, kg, "KGM")])
    out += _ship(at + 86400, market, retailer, f"W{c}", quantityList=[_q(lot, kg / 5, "KGM")])
    out.append(
        _ev(
            "ObjectEvent",
            at + 86400 * 2,
            retailer,
            "retail_selling",
            "retail_sold",
            action="OBSERVE",
            quantityList=[_q(lot, kg / 50, "KGM")],
        )
    )
    return out


def drug_cycle(
    net: Network,
    c: int,
    at: float,
    *,
    maker: str | None = None,
    lot_number: str | None = None,
    serials: int = 20,
    per_case: int = 10,
) -> list[dict[str, Any]]:
    r = net.rnd
    maker = maker or r.choice(net.makers)
    lot_number = lot_number or f"D{c}"
    item = "012345"
    ids = [f"urn:epc:id:sgtin:{maker}.{item}.{lot_number}S{k}" for k in range(serials)]
    out: list[dict[str, Any]] = []
    for start in range(0, serials, 100):
        out.append(
            _ev(
                "ObjectEvent",
                at,
                maker,
                "commissioning",
                "active",
                action="ADD",
                epcList=ids[start : start + 100],
                ilmd={"cbvmda:lotNumber": lot_number, "cbvmda:itemExpirationDate": "2028-12-31"},
            )
        )
    pallets: list[tuple[str, list[str]]] = []
    cases: list[str] = []
    for start in range(0, serials, per_case):
        case = net.next_sscc(maker)
        cases.append(case)
        out.append(
            _ev(
                "AggregationEvent",
                at + 600,
                maker,
                "packing",
                "in_progress",
                action="ADD",
                parentID=case,
                childEPCs=ids[start : start + per_case],
            )
        )
    for start in range(0, len(cases), 50):
        pallet = net.next_sscc(maker)
        pallets.append((pallet, cases[start : start + 50]))
        out.append(
            _ev(
                "AggregationEvent",
                at + 1200,
                maker,
                "packing",
                "in_progress",
                action="ADD",
                parentID=pallet,
                childEPCs=cases[start : start + 50],
            )
        )
    for pallet, its_cases in pallets:
        dist = r.choice(net.distributors)
        out += _ship(at + 86400, maker, dist, f"P{pallet[-10:]}", epcList=[pallet])
        out.append(
            _ev(
                "AggregationEvent",
                at + 86400 + 7 * 3600,
                dist,
                "unpacking",
                "in_progress",
                action="DELETE",
                parentID=pallet,
            )
        )
        for case in its_cases:
            hosp = r.choice(net.hospitals)
            out += _ship(at + 2 * 86400, dist, hosp, f"H{case[-10:]}", epcList=[case])
            out.append(
                _ev(
                    "AggregationEvent",
                    at + 2 * 86400 + 7 * 3600,
                    hosp,
                    "unpacking",
                    "in_progress",
                    action="DELETE",
                    parentID=case,
                )
            )
    for k in range(0, serials, 4):
        out.append(
            _ev(
                "ObjectEvent",
                at + 3 * 86400 + k,
                r.choice(net.hospitals),
                "dispensing",
                "dispensed",
                action="OBSERVE",
                epcList=[ids[k]],
            )
        )
    return out


def events(n: int, seed: int = 2026, big_lot: bool = True) -> Iterator[dict[str, Any]]:
    """About ``n`` events of the benchmark network (stops at ``n``)."""
    net = Network(random.Random(seed))
    made = 0
    c = 0
    if big_lot and n >= 100_000:
        for ev in drug_cycle(net, 0, 0.0, maker=BIG_GCP, lot_number=BIG_LOT_NUMBER, serials=BIG_SERIALS, per_case=100):
            yield ev
            made += 1
    while made < n:
        c += 1
        at = c * 60.0
        kind = c % 3
        batch = meat_cycle(net, c, at) if kind == 0 else veg_cycle(net, c, at) if kind == 1 else drug_cycle(net, c, at)
        for ev in batch:
            if made >= n:
                return
            yield ev
            made += 1


def generate(engine: Engine, n: int, *, chunk: int = 50_000, progress: Callable[[int], None] | None = None) -> int:
    """Capture ``n`` benchmark events through the real capture path, ``chunk`` events per capture.

    Each chunk is written as an EPCISDocument to a temporary file and captured as an uploaded document is
    (``capture_file``: worker processes validate and hash large documents while this process writes).
    """
    import tempfile
    from pathlib import Path

    stored = 0
    buf: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="zhuisu-bench-") as tmp:
        path = Path(tmp) / "chunk.jsonld"
        for ev in events(n):
            buf.append(ev)
            if len(buf) >= chunk:
                stored += _capture(engine, path, buf)
                if progress:
                    progress(len(buf))
                buf = []
        if buf:
            stored += _capture(engine, path, buf)
            if progress:
                progress(len(buf))
    from zhuisu.store import lineage as store

    # Fresh statistics (else PostgreSQL plans the first walks on empty-table guesses) and a fresh visibility map
    # (else its index-only scans visit the table): what autovacuum would bring a while after a bulk load.
    store.vacuum_analyze(engine)
    return stored


def _capture(engine: Engine, path: Any, buf: list[dict[str, Any]]) -> int:
    import orjson

    from zhuisu.epcis.capture import capture_file

    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T00:00:00Z",
        "epcisBody": {"eventList": buf},
    }
    path.write_bytes(orjson.dumps(document))
    result = capture_file(engine, path, "json", behaviour="proceed", source="zhuisu-bench")
    if result.problems:
        first = result.problems[0]
        raise ValueError(f"benchmark event {first.index} was refused: {first.path}: {first.message}")
    return int(result.stored)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 / p90 / p99 / max in milliseconds of samples in seconds."""
    ordered = sorted(samples)
    if not ordered:
        return {}

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000

    return {
        "n": len(ordered),
        "p50": pct(0.5),
        "p90": pct(0.9),
        "p99": pct(0.99),
        "max": ordered[-1] * 1000,
        "mean": statistics.fmean(ordered) * 1000,
    }


def latencies(engine: Engine, samples: int = 200, recall_samples: int = 5, seed: int = 7) -> dict[str, Any]:
    """Time full chains (backward + forward) of random items and lots, and the big lot's recall impact."""
    from zhuisu.store import lineage as store
    from zhuisu.trace.engine import chain, recall_impact

    rnd = random.Random(seed)
    with engine.connect() as conn:
        ids = store.sample_nodes(conn, samples, rnd)
        items: list[float] = []
        cpu: list[float] = []
        steps = 0
        for ident in ids:
            t0, c0 = time.perf_counter(), time.process_time()
            ch = chain(conn, ident, SYSTEM)
            items.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            steps += len(ch.steps)
        out: dict[str, Any] = {
            "events": store.event_count(conn),
            "item_chain_ms": percentiles(items),
            "mean_steps": steps / max(1, len(ids)),
            "item_chain_cpu_ms": percentiles(cpu),
        }
        big = []
        big_cpu = []
        affected = 0
        if store.node_ids(conn, [store_canonical(BIG_LOT)]):
            for _ in range(recall_samples):
                t0, c0 = time.perf_counter(), time.process_time()
                impact = recall_impact(conn, [BIG_LOT], SYSTEM)
                big.append(time.perf_counter() - t0)
                big_cpu.append(time.process_time() - c0)
                affected = len(impact.objects)
            out["recall_ms"] = percentiles(big)
            out["recall_cpu_ms"] = percentiles(big_cpu)
            out["recall_objects"] = affected
    return out


def store_canonical(identifier: str) -> str:
    from zhuisu.codes.epc import canonical_id

    return canonical_id(identifier)
