"""Issuing throughput: N codes of one product in one batch (one transaction), on SQLite and PostgreSQL.

Creates a fresh database (a temporary SQLite file / a fresh PostgreSQL schema), registers a party and a product
(no GTIN: platform codes with the ISO 7064 check character; ``--gtin`` for GS1 Digital Links), issues N codes
with ``zhuisu.store.codes.issue_codes`` and prints codes/s; then checks that the table holds N distinct codes.

    .venv/bin/python benchmarks/issue.py [--count 1000000] [--store sqlite|postgresql|both] [--gtin] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from fresh import fresh_database  # benchmarks/fresh.py (this folder is on sys.path)
from sqlalchemy import func, select

from zhuisu.access.principal import SYSTEM
from zhuisu.store import codes as store
from zhuisu.store.db import open_store, writing
from zhuisu.store.registry import create_party, create_product


def _run(url: str, count: int, gtin: bool) -> dict[str, object]:
    engine = open_store(url)
    try:
        with writing(engine) as conn:
            party = create_party(
                conn,
                SYSTEM,
                {
                    "kind": "enterprise",
                    "name": "基准测试企业",
                    "uscc": "9144030071526726XG",
                    "types": ["producer"],
                    "sectors": ["food"],
                    "region": "371302",
                    "address": "山东省临沂市",
                    "status": "approved",
                },
            )
            data: dict[str, object] = {"party_code": party.party_code, "name": "基准产品", "sector": "food"}
            if gtin:
                data["gtin"] = "06922222000016"
            product = create_product(conn, SYSTEM, data)
        t0 = time.perf_counter()
        batch = store.issue_codes(engine, SYSTEM, product, "serial", count, resolver_base="https://trace.example.cn")
        seconds = time.perf_counter() - t0
        with engine.connect() as conn:
            distinct = conn.execute(select(func.count(func.distinct(store.issued_code.c.canonical)))).scalar_one()
        assert distinct == count == batch.count, (distinct, count)
        return {"codes": count, "seconds": round(seconds, 2), "codes_per_s": round(count / seconds)}
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--gtin", action="store_true", help="a product with a GTIN (GS1 Digital Link codes)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results: dict[str, dict[str, object]] = {}
    for kind in ("sqlite", "postgresql") if args.store == "both" else (args.store,):
        with fresh_database(kind) as (url, _file):
            results[kind] = _run(url, args.count, args.gtin)
    if args.json:
        sys.stdout.write(json.dumps(results) + "\n")
        return
    kind = "GS1 Digital Link" if args.gtin else "platform"
    for name, r in results.items():
        print(f"{name:10s} {r['codes']:>10,} {kind} codes in {r['seconds']:>6} s = {r['codes_per_s']:>9,} codes/s")


if __name__ == "__main__":
    main()
