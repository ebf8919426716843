"""Trace benchmarks: capture cost of keeping the lineage, and trace latencies on a generated network.

    .venv/bin/python benchmarks/trace.py overhead --events 50000 [--rounds 3] [--store sqlite|postgresql|both]
    .venv/bin/python benchmarks/trace.py latency --events 1000000 [--store sqlite|postgresql] [--samples 300]
    .venv/bin/python benchmarks/trace.py recall --db URL [--rounds 7] [--samples 300]

``overhead`` captures the same benchmark network (``zhuisu.trace.bench``: meat, vegetables and drugs with
aggregation and transformation) into fresh databases through ``capture_events``, alternately with the lineage
kept and with ``zhuisu.store.lineage.record`` switched off, and prints events/s of both and the slowdown.
Alternating rounds keep a busy machine from favouring one side. ``latency`` runs ``zhuisu bench generate``
and ``zhuisu bench trace`` (the same code) on a fresh database and prints their figures. ``recall`` times the
big lot's recall impact and item chains on a database filled before (``zhuisu bench generate``), in wall
and in CPU time of this process (``time.process_time``): on a shared machine the CPU figure is the one to
compare before and after a change (on PostgreSQL the server's time shows only in the wall figure).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from fresh import fresh_database  # benchmarks/fresh.py (this folder is on sys.path)


def overhead(store: str, n: int, rounds: int) -> dict[str, Any]:
    from zhuisu.store import lineage
    from zhuisu.store.db import open_store
    from zhuisu.trace.bench import events, generate

    list(events(1000))  # warm imports
    real = lineage.record
    rates: dict[str, list[float]] = {"with": [], "without": []}
    cpu: dict[str, list[float]] = {"with": [], "without": []}
    for r in range(rounds):
        for side in ("with", "without") if r % 2 == 0 else ("without", "with"):
            with fresh_database(store) as (url, _file):
                engine = open_store(url)
                lineage.record = real if side == "with" else (lambda conn, stored: None)  # type: ignore[assignment]
                try:
                    t0, c0 = time.perf_counter(), time.process_time()
                    stored = generate(engine, n)
                    rates[side].append(stored / (time.perf_counter() - t0))
                    cpu[side].append((time.process_time() - c0) / stored * 1e6)
                finally:
                    lineage.record = real  # type: ignore[assignment]
                    engine.dispose()
            print(
                f"  {store} round {r + 1} {side:>7} lineage: {rates[side][-1]:,.0f} events/s, "
                f"{cpu[side][-1]:.1f} µs CPU/event (this process)",
                file=sys.stderr,
            )
    w, wo = statistics.median(rates["with"]), statistics.median(rates["without"])
    return {
        "store": store,
        "events": n,
        "rounds": rounds,
        "with_lineage": w,
        "without_lineage": wo,
        "slowdown": 1 - w / wo,
    }


def latency(store: str, n: int, samples: int) -> dict[str, Any]:
    from zhuisu.store.db import open_store
    from zhuisu.trace.bench import generate, latencies

    with fresh_database(store) as (url, _file):
        engine = open_store(url)
        t0 = time.perf_counter()
        stored = generate(engine, n)
        took = time.perf_counter() - t0
        figures = latencies(engine, samples)
        figures.update(store=store, capture_seconds=took, capture_rate=stored / took)
        engine.dispose()
        return figures


def recall(url: str, rounds: int, samples: int) -> dict[str, Any]:
    from zhuisu.access.principal import SYSTEM
    from zhuisu.store.db import open_store
    from zhuisu.trace.bench import BIG_LOT, latencies, percentiles
    from zhuisu.trace.engine import recall_impact

    engine = open_store(url)
    try:
        figures = latencies(engine, samples, recall_samples=1)
        wall: list[float] = []
        cpu: list[float] = []
        with engine.connect() as conn:
            for _ in range(rounds):
                t0, c0 = time.perf_counter(), time.process_time()
                impact = recall_impact(conn, [BIG_LOT], SYSTEM)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        figures.update(recall_ms=percentiles(wall), recall_cpu_ms=percentiles(cpu), recall_objects=len(impact.objects))
        return figures
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["overhead", "latency", "recall"])
    parser.add_argument("--db", help="recall: the database URL of a filled benchmark database")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.mode == "recall":
        if not args.db:
            parser.error("recall needs --db URL (a database filled by `zhuisu bench generate`)")
        print(json.dumps(recall(args.db, args.rounds if args.rounds != 3 else 7, args.samples), indent=2))
        return
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    results = [
        overhead(s, args.events, args.rounds) if args.mode == "overhead" else latency(s, args.events, args.samples)
        for s in stores
    ]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        if args.mode == "overhead":
            print(
                f"{r['store']}: {r['events']:,} events, median of {r['rounds']}: with lineage "
                f"{r['with_lineage']:,.0f} events/s, without {r['without_lineage']:,.0f} events/s "
                f"(slowdown {r['slowdown']:.1%})"
            )
        else:
            print(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
