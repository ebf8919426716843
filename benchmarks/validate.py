"""Validation speed: µs per event of ``validate_event`` (CPU time) on the realistic capture mix of
benchmarks/capture.py with every identifier new (a cold ``canonical_id`` cache, as serial numbers are),
and on the conformance events replicated to 20,000.

With ``--xml N`` also streams a generated N-event XML document through ``validate_xml_stream`` and prints
events/s and the peak memory (it stays flat: try 1000000).

    .venv/bin/python benchmarks/validate.py [--events 20000] [--repeat 3] [--xml 1000000]
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import random
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zhuisu.codes.epc import canonical_id, forget_simple_urns
from zhuisu.epcis import jsonld
from zhuisu.epcis.validate import validate_event, validate_xml_stream

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "epcis"


def conformance_events() -> list[tuple[dict[str, Any], dict[str, str]]]:
    """Every valid conformance event, with the prefixes its document declares."""
    out = []
    files = [*(DATA / "JSON").rglob("*.jsonld"), *(DATA / "openepcis/2.0/EPCIS/JSON/Capture/Documents").glob("*.json")]
    for path in sorted(files):
        doc = json.loads(path.read_text(encoding="utf-8"))
        ctx = doc.get("@context")
        prefixes = {
            k: v
            for entry in (ctx if isinstance(ctx, list) else [ctx])
            if isinstance(entry, dict)
            for k, v in entry.items()
            if isinstance(v, str)
        }
        body = doc["epcisBody"]
        events = body["queryResults"]["resultsBody"]["eventList"] if "queryResults" in body else body["eventList"]
        out += [(e, prefixes) for e in events if not validate_event(e, context=prefixes)]
    return out


def capture_mix(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """The events of benchmarks/capture.py's document as capture hands them over (parsed, prefixes attached)."""
    from capture import CONTEXT, _event  # benchmarks/capture.py

    rnd = random.Random(seed)
    prefixes = jsonld.context_prefixes(CONTEXT)
    return [jsonld.attach_context(json.loads(json.dumps(_event(i, rnd))), prefixes) for i in range(n)]


def bench_capture_mix(n: int, repeat: int) -> None:
    events = capture_mix(n)
    gc.collect()
    gc.freeze()  # the events are not garbage: keep the collector from rescanning them while timing
    best = float("inf")
    for _ in range(repeat):
        canonical_id.cache_clear()  # every identifier new
        forget_simple_urns()
        cpu = time.process_time()
        for i, event in enumerate(events):
            validate_event(event, i)
        best = min(best, time.process_time() - cpu)
    gc.unfreeze()
    print(
        f"validate_event, capture mix (benchmarks/capture.py): {n} events, {best / n * 1e6:.1f} µs/event CPU "
        f"(best of {repeat}, identifiers new)"
    )


def bench_json(n: int) -> None:
    events = conformance_events()
    sample = (events * (n // len(events) + 1))[:n]
    simple = [(e, p) for e, p in events if e["type"] == "ObjectEvent" and len(json.dumps(e)) < 800]
    simple = (simple * (n // len(simple) + 1))[:n]
    for label, batch in (("conformance mix", sample), ("simple ObjectEvents", simple)):
        wall, cpu = time.perf_counter(), time.process_time()
        for i, (event, prefixes) in enumerate(batch):
            validate_event(event, i, context=prefixes)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"validate_event, {label}: {len(batch)} events, {cpu / len(batch) * 1e6:.1f} µs/event CPU "
            f"({wall / len(batch) * 1e6:.1f} µs wall), from {len(events)} distinct conformance events"
        )


_EVENT = """<ObjectEvent>
  <eventTime>2026-10-01T10:00:00.000+08:00</eventTime>
  <eventTimeZoneOffset>+08:00</eventTimeZoneOffset>
  <epcList><epc>urn:epc:id:sgtin:6912345.012345.{i}</epc></epcList>
  <action>OBSERVE</action>
  <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
  <readPoint><id>urn:epc:id:sgln:6912345.00001.0</id></readPoint>
</ObjectEvent>
"""


class _Generated(io.RawIOBase):
    """An N-event EPCISDocument produced as it is read, never whole in memory."""

    def __init__(self, n: int):
        self._parts = self._document(n)
        self._buffer = b""

    @staticmethod
    def _document(n: int) -> Iterator[bytes]:
        yield (
            b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" '
            b'creationDate="2026-10-01T10:00:00Z"><EPCISBody><EventList>\n'
        )
        for i in range(n):
            yield _EVENT.format(i=i).encode()
        yield b"</EventList></EPCISBody></epcis:EPCISDocument>\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self._buffer) < len(buffer):
            try:
                self._buffer += next(self._parts)
            except StopIteration:
                break
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def bench_xml(n: int) -> None:
    wall = time.perf_counter()
    problems = list(validate_xml_stream(io.BufferedReader(_Generated(n), buffer_size=1 << 16)))
    wall = time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"validate_xml_stream: {n} events in {wall:.1f} s ({n / wall:,.0f} events/s), {len(problems)} problems, "
        f"peak RSS {peak:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs on the capture mix; the best one counts")
    parser.add_argument("--xml", type=int, default=0, help="also stream a generated XML document of N events")
    args = parser.parse_args()
    bench_capture_mix(args.events, args.repeat)
    bench_json(args.events)
    if args.xml:
        bench_xml(args.xml)


if __name__ == "__main__":
    main()
