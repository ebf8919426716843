"""Capture throughput end to end over HTTP, on SQLite and PostgreSQL.

Writes an N-event EPCISDocument (a realistic mix of commissioning, aggregation, shipping/receiving,
transformation and sensor events), starts ``zhuisu serve`` on a fresh database, POSTs the document to
/epcis/capture, waits for the job and prints events/s and the server's peak memory (VmHWM).

    .venv/bin/python benchmarks/capture.py --events 100000 [--store sqlite|postgresql|both] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from fresh import fresh_database  # benchmarks/fresh.py (this folder is on sys.path)
from rich.progress import Progress

CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"zs": "https://zhuisu.org/ns/epcis/"},
]


def _event(i: int, rnd: random.Random) -> dict:
    day = 1 + i % 28
    hms = f"{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:{rnd.randrange(60):02d}"
    time_ = f"2026-10-{day:02d}T{hms}.{i % 1000:03d}+08:00"
    cp = f"69{rnd.randrange(10000, 99999)}"
    loc = {"id": f"urn:epc:id:sgln:{cp}.{rnd.randrange(10000, 99999)}.0"}
    kind = i % 10
    base = {"eventTime": time_, "eventTimeZoneOffset": "+08:00", "readPoint": loc, "bizLocation": loc}
    serials = [f"urn:epc:id:sgtin:{cp}.0{rnd.randrange(10000, 99999)}.{i}{k}" for k in range(rnd.randrange(1, 6))]
    lot = f"urn:epc:class:lgtin:{cp}.0{rnd.randrange(10000, 99999)}.L{i // 50}"
    if kind < 3:
        return {
            "type": "ObjectEvent",
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "epcList": serials,
            **base,
            "ilmd": {"zs:lot": f"L{i // 50}", "zs:origin": "山东临沂"},
        }
    if kind < 5:
        return {
            "type": "AggregationEvent",
            "action": "ADD",
            "bizStep": "packing",
            "disposition": "in_progress",
            "parentID": f"urn:epc:id:sscc:{cp}.{i:010d}",
            "childEPCs": serials,
            **base,
        }
    if kind < 8:
        step, disp = ("shipping", "in_transit") if kind < 7 else ("receiving", "in_progress")
        return {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "bizStep": step,
            "disposition": disp,
            "epcList": [f"urn:epc:id:sscc:{cp}.{i:010d}"],
            **base,
            "bizTransactionList": [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{cp}000001:{i}"}],
            "sourceList": [{"type": "owning_party", "source": f"urn:epc:id:pgln:{cp}.00001"}],
            "destinationList": [{"type": "owning_party", "destination": f"urn:epc:id:pgln:{cp}.00002"}],
        }
    if kind == 8:
        return {
            "type": "TransformationEvent",
            "bizStep": "commissioning",
            **base,
            "inputQuantityList": [{"epcClass": lot, "quantity": 40, "uom": "KGM"}],
            "outputQuantityList": [{"epcClass": lot + "X", "quantity": 38.5, "uom": "KGM"}],
            "transformationID": f"urn:uuid:{uuid.UUID(int=rnd.getrandbits(128))}",
        }
    return {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "bizStep": "sensor_reporting",
        "quantityList": [{"epcClass": lot, "quantity": 100, "uom": "KGM"}],
        **base,
        "sensorElementList": [
            {
                "sensorMetadata": {"time": time_},
                "sensorReport": [{"type": "Temperature", "value": round(rnd.uniform(0, 4), 2), "uom": "CEL"}],
            }
        ],
    }


def write_document(path: Path, n: int, seed: int = 7) -> int:
    """Stream an n-event JSON-LD EPCISDocument to ``path``; returns its size in bytes."""
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        head = {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-22T00:00:00Z",
        }
        out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "epcisBody": {"eventList": [')
        for i in range(n):
            if i:
                out.write(",")
            out.write(json.dumps(_event(i, rnd), ensure_ascii=False))
        out.write("]}}")
    return path.stat().st_size


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) of process ``root`` and its live descendants, with their reaped children (the
    capture workers, once the fork server has reaped them), from /proc."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        cpu[pid] = sum(int(v) for v in fields[11:15]) / tick  # utime, stime, cutime, cstime
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(cpu.get(pid, 0.0) for pid in tree)


def _named_cpu_s(name: str) -> float:
    """CPU seconds (user + system) of every live process called ``name`` (PostgreSQL's server processes)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, rest = (entry / "stat").read_text().rpartition(")")
        except OSError:
            continue
        if head.partition("(")[2] == name:
            total += sum(int(v) for v in rest.split()[11:13]) / tick
    return total


def _compiled(env: dict[str, str]) -> bool:
    """Whether the server ran the capture's modules compiled (``make native``; ``ZHUISU_NATIVE=0`` turns them off)."""
    code = "from zhuisu import _native; print(all(_native.status().values()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip() == "True"


def run(store: str, doc: Path, n: int, workdir: Path) -> dict:
    with fresh_database(store) as (url, _file):
        return _serve_and_capture(store, url, doc, n, workdir)


def _serve_and_capture(store: str, url: str, doc: Path, n: int, workdir: Path) -> dict:
    """Start ``zhuisu serve`` on ``url``, POST the document, wait for its capture job; the figures."""
    port = _free_port()
    env = {
        **os.environ,
        "ZHUISU_SPOOL_DIR": str(workdir / "spool"),
        "ZHUISU_LEDGER_KEY": str(workdir / "ledger.key"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "zhuisu.cli", "serve", "--db", url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        # The server has migrated the database by now: an administrator key captures for the platform itself.
        key = subprocess.run(
            [sys.executable, "-m", "zhuisu.cli", "apikey", "create", "--role", "admin", "--name", "bench", "--db", url],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        auth = {"Authorization": f"Bearer {key}"}
        cpu_before = _tree_cpu_s(server.pid)
        db_cpu_before = _named_cpu_s("postgres")
        started = time.perf_counter()
        with open(doc, "rb") as fh:
            r = httpx.post(
                base + "/epcis/capture",
                content=fh,
                headers={"Content-Type": "application/ld+json", **auth},
                timeout=3600,
            )
        r.raise_for_status()
        accepted = time.perf_counter() - started  # upload, spooling and the header / capture-limit checks
        location = r.headers["Location"]
        while True:
            poll = httpx.get(base + location, headers=auth, timeout=60)
            j = poll.json()
            if poll.status_code != 200 or "running" not in j:
                raise SystemExit(f"polling the capture job answered {poll.status_code}: {poll.text[:500]}")
            if not j["running"]:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        server_cpu = _tree_cpu_s(server.pid) - cpu_before
        db_cpu = _named_cpu_s("postgres") - db_cpu_before
        if not j["success"]:
            raise SystemExit(f"capture failed: {j['errors'][:3]}")
        return {
            "store": store,
            "events": n,
            "seconds": round(elapsed, 2),
            "accepted_after_s": round(accepted, 2),
            "events_per_s": round(n / elapsed),
            "stored": j["storedCount"],
            "server_peak_rss_mb": round(_peak_rss_mb(server.pid), 1),
            # zhuisu's own CPU per event (server, writer, capture workers), not the database server's
            "server_cpu_us_per_event": round(1e6 * server_cpu / n, 1),
            # PostgreSQL's server processes (its backend, WAL writer, checkpointer); SQLite runs inside zhuisu
            "database_cpu_us_per_event": round(1e6 * db_cpu / n, 1) if store == "postgresql" else None,
            "compiled": _compiled(env),
        }
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--json", action="store_true", help="print results as JSON lines")
    args = ap.parse_args()
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    results = []
    with tempfile.TemporaryDirectory(prefix="zhuisu-bench-") as tmp:
        workdir = Path(tmp)
        doc = workdir / "capture.jsonld"
        with Progress(transient=True, disable=args.json) as progress:
            progress.add_task(f"writing a {args.events}-event document", total=None)
            size = write_document(doc, args.events)
        for store in stores:
            with Progress(transient=True, disable=args.json) as progress:
                progress.add_task(f"capturing on {store}", total=None)
                res = run(store, doc, args.events, workdir / store) if (workdir / store).mkdir() is None else {}
            res["document_mb"] = round(size / 1e6, 1)
            results.append(res)
            if args.json:
                print(json.dumps(res))
            else:
                print(
                    f"{store:<11} {res['events']:>9,} events in {res['seconds']:>7.2f} s"
                    f" = {res['events_per_s']:>7,} events/s"
                    f"  (document {res['document_mb']} MB, accepted after {res['accepted_after_s']} s,"
                    f" server peak RSS {res['server_peak_rss_mb']} MB,"
                    f" zhuisu CPU {res['server_cpu_us_per_event']} µs/event,"
                    + (
                        f" PostgreSQL CPU {res['database_cpu_us_per_event']} µs/event,"
                        if res["database_cpu_us_per_event"] is not None
                        else ""
                    )
                    + f" {'compiled' if res['compiled'] else 'interpreted'})"
                )


if __name__ == "__main__":
    main()
