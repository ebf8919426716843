"""Ledger benchmark: append 1,000,000 leaves, then produce 10,000 inclusion proofs at that size.

Appends go through ``zhuisu.store.ledger.append_leaves`` in batches (one transaction per batch, as
capture does), proofs through the tile reader the API uses (one query each), on a fresh database.
Every 100th proof is verified against the root. Prints the figures (and JSON with ``--json``).

    .venv/bin/python benchmarks/ledger.py [--leaves 1000000] [--proofs 10000] [--batch 1000]
                                          [--store sqlite|postgresql|both] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import time
from typing import Any

from fresh import fresh_database  # benchmarks/fresh.py (this folder is on sys.path)
from sqlalchemy import func, select

from zhuisu.ledger import merkle
from zhuisu.ledger.tiles import TileReader
from zhuisu.store import ledger
from zhuisu.store.db import make_engine, upgrade


def run(store: str, leaves: int, proofs: int, batch: int) -> dict[str, Any]:
    with fresh_database(store) as (url, path):
        engine = make_engine(url)
        upgrade(engine)
        # Leaf inputs stand in for event hashes; seqs are what capture would pass.
        digests = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(leaves)]

        t0 = time.perf_counter()
        batch_times: list[float] = []
        for start in range(0, leaves, batch):
            b0 = time.perf_counter()
            with engine.begin() as conn:
                items = [(i + 1, digests[i]) for i in range(start, min(start + batch, leaves))]
                ledger.append_leaves(conn, items)
            batch_times.append(time.perf_counter() - b0)
        append_s = time.perf_counter() - t0

        with engine.begin() as conn:
            size = ledger.current_size(conn)
            assert size == leaves
            c0 = time.perf_counter()
            root = ledger.root_at(conn, size)
            root_ms = (time.perf_counter() - c0) * 1000
            tiles = conn.execute(select(func.count()).select_from(ledger.ledger_tile)).scalar()
        # Cross-check the stored tree against an independent in-memory computation.
        assert root == merkle.root_of(merkle.leaf_hashes(digests)), "stored tree disagrees with the leaves"

        rng = random.Random(9162)
        indexes = [rng.randrange(size) for _ in range(proofs)]
        latencies: list[float] = []
        with engine.connect() as conn:
            counted = TileReader(lambda keys: _count(ledger.fetch_tiles(conn, keys)))
            for n, index in enumerate(indexes):
                q0 = time.perf_counter()
                proof = merkle.inclusion_proof(counted, index, size)
                latencies.append(time.perf_counter() - q0)
                if n % 100 == 0:
                    merkle.verify_inclusion(index, size, merkle.leaf_hash(digests[index]), proof, root)
            proofs_s = sum(latencies)
            # the same through the event path's lookup: leaf row by seq, then the proof
            s0 = time.perf_counter()
            for index in indexes[:1000]:
                row = conn.execute(
                    select(ledger.ledger_leaf.c.leaf_index).where(ledger.ledger_leaf.c.seq == index + 1)
                ).scalar_one()
                merkle.inclusion_proof(ledger.tile_reader(conn), int(row), size)
            with_lookup_ms = (time.perf_counter() - s0) / 1000 * 1000
        engine.dispose()
        size_mb = None
        if path is not None:
            size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
        latencies.sort()
        return {
            "store": store,
            "leaves": leaves,
            "batch": batch,
            "append_seconds": round(append_s, 2),
            "append_leaves_per_s": round(leaves / append_s),
            "append_batch_ms_p50": round(statistics.median(batch_times) * 1000, 2),
            "append_batch_ms_max": round(max(batch_times) * 1000, 2),
            "tiles": tiles,
            "root_ms": round(root_ms, 2),
            "proofs": proofs,
            "proofs_seconds": round(proofs_s, 2),
            "proof_ms_p50": round(latencies[len(latencies) // 2] * 1000, 3),
            "proof_ms_p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 3),
            "proofs_per_s": round(proofs / sum(latencies)),
            "proof_with_seq_lookup_ms": round(with_lookup_ms, 3),
            "db_mb": round(size_mb, 1) if size_mb is not None else None,
        }


_fetched: list[int] = [0]


def _count(tiles: dict[tuple[int, int], bytes]) -> dict[tuple[int, int], bytes]:
    _fetched[0] += len(tiles)
    return tiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000, help="leaves per append transaction")
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    results = []
    for store in stores:
        _fetched[0] = 0
        r = run(store, args.leaves, args.proofs, args.batch)
        r["tiles_read_per_proof"] = round(_fetched[0] / args.proofs, 2)
        results.append(r)
        if not args.json:
            print(
                f"{store}: appended {r['leaves']:,} leaves in {r['append_seconds']} s "
                f"({r['append_leaves_per_s']:,} leaves/s, batches of {r['batch']}: "
                f"p50 {r['append_batch_ms_p50']} ms, max {r['append_batch_ms_max']} ms); "
                f"{r['tiles']:,} tile rows; root in {r['root_ms']} ms"
            )
            print(
                f"{store}: {r['proofs']:,} inclusion proofs at size {r['leaves']:,} in {r['proofs_seconds']} s "
                f"({r['proofs_per_s']:,}/s; p50 {r['proof_ms_p50']} ms, p99 {r['proof_ms_p99']} ms; "
                f"1 query and {r['tiles_read_per_proof']} tiles each; "
                f"with the seq lookup {r['proof_with_seq_lookup_ms']} ms)"
                + (f"; database {r['db_mb']} MB" if r["db_mb"] is not None else "")
            )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
