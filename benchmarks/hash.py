"""Benchmark: CBV 2.0 event hash ID, zhuisu.epcis.hash against the reference implementation.

Generates realistic events (the five event types, EPC URNs and Digital Links, CBV words, business
transactions, sources/destinations, sensor readings, ILMD and user extensions), hashes them with
``zhuisu.epcis.hash`` and, on a subset, with ``epcis_event_hash_generator`` (dev dependency), and
prints events/s for both and the ratio. zhuisu is timed with its memo tables cold (every identifier new,
the figure that counts) and warm, best of ``--repeat`` runs, and also (CPU time, cold) on the realistic
capture mix of benchmarks/capture.py; the reference is timed twice: as it hashes
a JSON-LD document (its JSON-LD reading included, documents of ``--batch`` events) and its pre-hash step
alone on events it has already read. The generated events are moved out of the garbage collector's
reach (``gc.freeze``) so that neither side pays for rescanning them.

    .venv/bin/python benchmarks/hash.py [--events 20000] [--reference-events 2000] [--json]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import logging
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from zhuisu.codes.epc import forget_simple_urns
from zhuisu.epcis import hash as eh
from zhuisu.epcis import jsonld

EPCIS_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
PREFIXES = {"ex": "https://ns.example.com/epcis/", "zs": "https://zhuisu.example.cn/ext/"}

BIZ_STEPS = ["shipping", "receiving", "commissioning", "packing", "unpacking", "storing", "inspecting", "loading"]
DISPOSITIONS = ["in_transit", "in_progress", "active", "sellable_accessible", "container_closed"]
SENSOR_TYPES = [("Temperature", "CEL"), ("RelativeHumidity", "P1"), ("Illuminance", "LUX"), ("Speed", "KMH")]


class EventFactory:
    """Realistic events from a food / pharma supply chain, deterministic for a seed."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.companies = [str(self.r.randrange(10**6, 10**7)) for _ in range(40)]
        self.serial = self.r.randrange(10**6)

    def _cp_item(self) -> tuple[str, str]:
        cp = self.r.choice(self.companies)
        return cp, f"{self.r.randrange(10**5):06d}"

    def sgtin(self) -> str:
        self.serial += 1
        cp, item = self._cp_item()
        if self.r.random() < 0.2:
            gtin = "0" + cp + item[1:]
            return f"https://id.gs1.org/01/{gtin}{_cd(gtin)}/21/{self.serial}"
        return f"urn:epc:id:sgtin:{cp}.{item}.{self.serial}"

    def sscc(self) -> str:
        self.serial += 1
        return f"urn:epc:id:sscc:{self.r.choice(self.companies)}.{self.serial:010d}"

    def sgln(self) -> str:
        return f"urn:epc:id:sgln:{self.r.choice(self.companies[:10])}.{self.r.randrange(10):05d}.0"

    def lgtin(self) -> str:
        cp, item = self._cp_item()
        return f"urn:epc:class:lgtin:{cp}.{item}.L{self.r.randrange(1000)}"

    def time(self) -> str:
        day = self.r.randrange(1, 28)
        ms = self.r.randrange(1000)
        zone = self.r.choice(["+08:00", "+01:00", "Z", "-05:00"])
        h, m, s = self.r.randrange(24), self.r.randrange(60), self.r.randrange(60)
        return f"2024-05-{day:02d}T{h:02d}:{m:02d}:{s:02d}.{ms:03d}{zone}"

    def common(self, etype: str) -> dict[str, Any]:
        ev: dict[str, Any] = {"type": etype, "eventTime": self.time(), "eventTimeZoneOffset": "+08:00"}
        ev["recordTime"] = self.time()
        return ev

    def tail(self, ev: dict[str, Any], *, biz_tx: float = 0.4) -> dict[str, Any]:
        ev["bizStep"] = self.r.choice(BIZ_STEPS)
        if self.r.random() < 0.7:
            ev["disposition"] = self.r.choice(DISPOSITIONS)
        ev["readPoint"] = {"id": self.sgln()}
        if self.r.random() < 0.6:
            ev["bizLocation"] = {"id": self.sgln()}
        if self.r.random() < biz_tx:
            ev["bizTransactionList"] = [
                {"type": t, "bizTransaction": f"urn:epcglobal:cbv:bt:{self.r.choice(self.companies)}000000:{n}"}
                for t, n in (("po", self.r.randrange(10**6)), ("desadv", self.r.randrange(10**6)))[
                    : self.r.randrange(1, 3)
                ]
            ]
        if self.r.random() < 0.3:
            ev["sourceList"] = [
                {"type": "owning_party", "source": f"urn:epc:id:pgln:{self.r.choice(self.companies)}.00000"}
            ]
            ev["destinationList"] = [{"type": "location", "destination": self.sgln()}]
        if self.r.random() < 0.2:
            ev["zs:batchNote"] = f"line {self.r.randrange(20)}"
            ev["ex:operator"] = {"ex:id": str(self.r.randrange(10**4)), "ex:shift": self.r.choice("ABC")}
            ev["@context"] = [{"zs": PREFIXES["zs"]}, {"ex": PREFIXES["ex"]}]
        return ev

    def object_event(self) -> dict[str, Any]:
        ev = self.common("ObjectEvent")
        ev["epcList"] = [self.sgtin() for _ in range(self.r.randrange(1, 11))]
        ev["action"] = self.r.choice(["OBSERVE", "OBSERVE", "ADD"])
        return self.tail(ev)

    def sensor_event(self) -> dict[str, Any]:
        ev = self.common("ObjectEvent")
        ev["epcList"] = [self.sscc()]
        ev["action"] = "OBSERVE"
        reports = []
        for t, uom in self.r.sample(SENSOR_TYPES, self.r.randrange(1, 4)):
            reports.append({"type": t, "value": round(self.r.uniform(-20, 40), 1), "uom": uom})
        ev["sensorElementList"] = [
            {
                "sensorMetadata": {
                    "time": self.time(),
                    "deviceID": f"urn:epc:id:giai:{self.companies[0]}.D{self.r.randrange(99)}",
                },
                "sensorReport": reports,
            }
        ]
        return self.tail(ev, biz_tx=0.0)

    def aggregation_event(self) -> dict[str, Any]:
        ev = self.common("AggregationEvent")
        ev["parentID"] = self.sscc()
        ev["childEPCs"] = [self.sgtin() for _ in range(self.r.randrange(4, 21))]
        ev["action"] = self.r.choice(["ADD", "DELETE"])
        return self.tail(ev, biz_tx=0.2)

    def transaction_event(self) -> dict[str, Any]:
        ev = self.common("TransactionEvent")
        ev["epcList"] = [self.sscc() for _ in range(self.r.randrange(1, 4))]
        ev["action"] = "ADD"
        return self.tail(ev, biz_tx=1.0)

    def transformation_event(self) -> dict[str, Any]:
        ev = self.common("TransformationEvent")
        ev["inputQuantityList"] = [
            {"epcClass": self.lgtin(), "quantity": round(self.r.uniform(1, 500), 2), "uom": "KGM"}
            for _ in range(self.r.randrange(1, 4))
        ]
        ev["outputQuantityList"] = [{"epcClass": self.lgtin(), "quantity": self.r.randrange(1, 1000)}]
        ev["ilmd"] = {"cbvmda:bestBeforeDate": "2025-06-30", "cbvmda:lotNumber": f"L{self.r.randrange(1000)}"}
        return self.tail(ev, biz_tx=0.1)

    def association_event(self) -> dict[str, Any]:
        ev = self.common("AssociationEvent")
        ev["parentID"] = f"urn:epc:id:grai:{self.companies[1]}.{self.r.randrange(10**5):05d}.{self.r.randrange(10**4)}"
        ev["childEPCs"] = [f"urn:epc:id:giai:{self.companies[2]}.S{self.r.randrange(10**5)}"]
        ev["action"] = "ADD"
        return self.tail(ev, biz_tx=0.0)

    def events(self, n: int) -> list[dict[str, Any]]:
        makers: Sequence[tuple[float, Callable[[], dict[str, Any]]]] = (
            (0.45, self.object_event),
            (0.10, self.sensor_event),
            (0.15, self.aggregation_event),
            (0.10, self.transaction_event),
            (0.12, self.transformation_event),
            (0.08, self.association_event),
        )
        out = []
        for _ in range(n):
            x, acc = self.r.random(), 0.0
            for p, make in makers:
                acc += p
                if x < acc:
                    out.append(make())
                    break
            else:
                out.append(self.object_event())
        return out


def _cd(digits: str) -> str:
    odd = sum(map(int, digits[-1::-2]))
    even = sum(map(int, digits[-2::-2]))
    return str(-(3 * odd + even) % 10)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def time_ours(events: list[dict[str, Any]], progress: Progress | None, repeat: int) -> tuple[float, float]:
    """(best seconds with cold memo tables, best seconds with warm ones) over ``repeat`` runs."""
    cold = warm = float("inf")
    task = progress.add_task("zhuisu", total=2 * repeat * len(events)) if progress else None
    for _ in range(repeat):
        for tables_cold in (True, False):
            if tables_cold:  # identifiers, words and times seen for the first time
                eh._CANON_MEMO.clear()
                eh._TIME_MEMO.clear()
                forget_simple_urns()  # (the hash reuses these Digital Links)
            t0 = time.perf_counter()
            for chunk in _chunks(events, 5000):
                for ev in chunk:
                    eh.event_hash_bytes(ev)
                if progress and task is not None:
                    progress.advance(task, len(chunk))
            dt = time.perf_counter() - t0
            if tables_cold:
                cold = min(cold, dt)
            else:
                warm = min(warm, dt)
    return cold, warm


def capture_mix(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """The events of benchmarks/capture.py's document as capture hands them over (parsed, prefixes attached)."""
    from capture import CONTEXT, _event  # benchmarks/capture.py

    rnd = random.Random(seed)
    prefixes = jsonld.context_prefixes(CONTEXT)
    return [jsonld.attach_context(json.loads(json.dumps(_event(i, rnd))), prefixes) for i in range(n)]


def time_capture_mix(events: list[dict[str, Any]], repeat: int) -> float:
    """Best CPU seconds (``time.process_time``) to hash ``events`` with cold memo tables."""
    best = float("inf")
    for _ in range(repeat):
        eh._CANON_MEMO.clear()
        eh._TIME_MEMO.clear()
        forget_simple_urns()
        t0 = time.process_time()
        for ev in events:
            eh.event_hash_bytes(ev)
        best = min(best, time.process_time() - t0)
    return best


def reference_document(events: list[dict[str, Any]]) -> dict[str, Any]:
    evs = [{k: v for k, v in e.items() if k != "@context"} for e in events]
    return {
        # cbvmda again: the reference expands only prefixes the document declares itself
        "@context": [EPCIS_CONTEXT_URL, {**PREFIXES, "cbvmda": "urn:epcglobal:cbv:mda:"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-06-01T00:00:00Z",
        "epcisBody": {"eventList": evs},
    }


def time_reference(
    events: list[dict[str, Any]], batch: int, progress: Progress | None
) -> tuple[float, float, list[str]]:
    """(seconds for document → hashes, seconds for the pre-hash step alone, pre-hash strings)."""
    from epcis_event_hash_generator import hash_generator, json_to_py

    logging.disable(logging.CRITICAL)
    docs = [reference_document(c) for c in _chunks(events, batch)]
    task = progress.add_task("reference", total=len(events)) if progress else None
    full = core = 0.0
    prehashes: list[str] = []
    for doc in docs:
        doc = copy.deepcopy(doc)
        json_to_py._namespaces.clear()
        t0 = time.perf_counter()
        read = json_to_py.event_list_from_epcis_document_json(doc)
        t1 = time.perf_counter()
        pre = hash_generator.derive_prehashes_from_events(read)
        hash_generator.calculate_hashes_from_pre_hashes(pre)
        t2 = time.perf_counter()
        full += t2 - t0
        core += t2 - t1
        prehashes.extend(pre)
        if progress and task is not None:
            progress.advance(task, len(doc["epcisBody"]["eventList"]))
    logging.disable(logging.NOTSET)
    return full, core, prehashes


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000, help="events to hash with zhuisu (default 20000)")
    ap.add_argument("--reference-events", type=int, default=2_000, help="subset for the reference (default 2000)")
    ap.add_argument("--batch", type=int, default=100, help="events per document given to the reference")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--repeat", type=int, default=3, help="runs of zhuisu; the best one counts")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    console = Console(stderr=True)
    events = EventFactory(args.seed).events(args.events)
    mix = capture_mix(args.events)
    subset = events[: min(args.reference_events, len(events))]
    # the generated events are not garbage: keep the collector from rescanning them while timing
    gc.collect()
    gc.freeze()
    show = not args.json and console.is_terminal
    with Progress(console=console, transient=True, disable=not show) as progress:
        ours_s, ours_warm_s = time_ours(events, progress, args.repeat)
        mix_s = time_capture_mix(mix, args.repeat)
        ref_full_s, ref_core_s, ref_pre = time_reference(subset, args.batch, progress)
    ours_pre = [eh.prehash_string(e) for e in subset]
    agree = sum(a == b for a, b in zip(ours_pre, ref_pre, strict=False)) if len(ref_pre) == len(ours_pre) else None

    ours_rate = len(events) / ours_s
    ref_full_rate = len(subset) / ref_full_s
    ref_core_rate = len(subset) / ref_core_s
    figures = {
        "events": len(events),
        "zhuisu_events_per_s": round(ours_rate),
        "zhuisu_us_per_event": round(ours_s / len(events) * 1e6, 2),
        "reference_events": len(subset),
        "reference_events_per_s": round(ref_full_rate),
        "reference_prehash_only_events_per_s": round(ref_core_rate),
        "ratio": round(ours_rate / ref_full_rate, 1),
        "ratio_prehash_only": round(ours_rate / ref_core_rate, 1),
        "zhuisu_warm_events_per_s": round(len(events) / ours_warm_s),
        "zhuisu_warm_us_per_event": round(ours_warm_s / len(events) * 1e6, 2),
        "reference_agreement": f"{agree}/{len(subset)}" if agree is not None else "reference dropped events",
        "capture_mix_events": len(mix),
        "capture_mix_cpu_us_per_event": round(mix_s / len(mix) * 1e6, 2),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    table = Table(title="CBV 2.0 event hash ID")
    table.add_column("implementation")
    table.add_column("events", justify="right")
    table.add_column("events/s", justify="right")
    table.add_column("µs/event", justify="right")
    table.add_row("zhuisu.epcis.hash", str(len(events)), f"{ours_rate:,.0f}", f"{ours_s / len(events) * 1e6:.1f}")
    table.add_row(
        "zhuisu.epcis.hash, identifiers seen before",
        str(len(events)),
        f"{len(events) / ours_warm_s:,.0f}",
        f"{ours_warm_s / len(events) * 1e6:.1f}",
    )
    table.add_row(
        "zhuisu.epcis.hash, capture mix (benchmarks/capture.py), CPU",
        str(len(mix)),
        f"{len(mix) / mix_s:,.0f}",
        f"{mix_s / len(mix) * 1e6:.1f}",
    )
    table.add_row(
        "reference (JSON-LD document)",
        str(len(subset)),
        f"{ref_full_rate:,.0f}",
        f"{ref_full_s / len(subset) * 1e6:.1f}",
    )
    table.add_row(
        "reference (pre-hash step only)",
        str(len(subset)),
        f"{ref_core_rate:,.0f}",
        f"{ref_core_s / len(subset) * 1e6:.1f}",
    )
    out = Console()
    out.print(table)
    out.print(
        f"ratio: {figures['ratio']}× (whole reference), {figures['ratio_prehash_only']}× (its pre-hash step alone); "
        f"same pre-hash strings on the subset: {figures['reference_agreement']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
