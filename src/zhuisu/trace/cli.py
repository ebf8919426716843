"""``zhuisu trace``, ``zhuisu recall impact`` and ``zhuisu bench generate|trace``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from zhuisu.cli_support import DbOption
from zhuisu.cli_support import fail as _fail
from zhuisu.cli_support import open_engine as _engine
from zhuisu.config import DEFAULT_DB

err = Console(stderr=True)
out = Console()
recall_app = typer.Typer(help="Recalls: impact assessment (销售范围及影响评估).", no_args_is_help=True)
bench_app = typer.Typer(help="Trace benchmarks: build a realistic network, measure latencies.", no_args_is_help=True)


def trace_command(
    identifier: Annotated[str, typer.Argument(help="EPC URN, Digital Link, LGTIN or trace code.")],
    direction: Annotated[str, typer.Option(help="backward, forward or both.")] = "both",
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Trace one identifier backward (来源可查), forward (去向可追) or both."""
    from zhuisu.access.principal import SYSTEM
    from zhuisu.trace import trace

    if direction not in ("backward", "forward", "both"):
        _fail(f"--direction must be backward, forward or both, not {direction!r}.")
    engine = _engine(db)
    with engine.connect() as conn:
        result = trace(conn, identifier, direction, SYSTEM)  # type: ignore[arg-type]
    if not result.found:
        _fail(f"Nothing is recorded for {result.identifier}.")
    if as_json:
        print(result.to_json())
        return
    out.print(f"[bold]{result.identifier}[/bold] — {direction}", highlight=False)
    for o in result.objects:
        if o.relation != "self":
            out.print(f"  {o.relation:<8} {o.direction:<8} {o.id}", highlight=False)
    for s in result.steps:
        place = s.biz_location or s.read_point
        where = place.id if place else ""
        via = f" (via {s.via})" if s.via else ""
        out.print(f"  {s.time}  {s.biz_step or s.event_type:<16} {where} {' '.join(s.parties)}{via}", highlight=False)
    for h in result.holders:
        state = "in custody" if h.in_custody else (h.disposition or "gone")
        loc = h.location.id if h.location else ""
        out.print(f"  now: {h.id} — {state} at {loc} {' '.join(h.parties)}", highlight=False)


@recall_app.command("impact")
def recall_impact_command(
    identifiers: Annotated[list[str], typer.Argument(help="Lots or serials to recall.")],
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the per-party table as CSV.")] = None,
    xlsx_file: Annotated[Path | None, typer.Option("--xlsx", help="Write an Excel workbook.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Everything downstream of the given lots or serials, who holds it and where it went."""
    from zhuisu.access.principal import SYSTEM
    from zhuisu.trace import recall_impact
    from zhuisu.trace.export import recall_csv, recall_xlsx

    engine = _engine(db)
    with engine.connect() as conn:
        impact = recall_impact(conn, identifiers, SYSTEM)
    try:
        if csv_file:
            csv_file.write_text("\ufeff" + recall_csv(impact), encoding="utf-8")
        if xlsx_file:
            xlsx_file.write_bytes(recall_xlsx(impact))
    except OSError as exc:
        _fail(f"Cannot write the export: {exc.strerror or exc}.")
    if as_json:
        print(impact.to_json())
        return
    out.print(
        f"{len(impact.objects)} affected objects, {len(impact.lots)} lots, {len(impact.parties)} parties, "
        f"regions: {' '.join(impact.regions) or '-'}",
        highlight=False,
    )
    for p in impact.parties:
        amounts = "  ".join(
            f"{label} {', '.join(f'{v:g} {u}' for u, v in d.items())}"
            for label, d in (("shipped", p.shipped), ("received", p.received), ("sold", p.sold), ("held", p.in_custody))
            if d
        )
        out.print(f"  {p.party} {p.name or ''}  {amounts}", highlight=False)


@bench_app.command("generate")
def bench_generate(
    events: Annotated[int, typer.Option("--events", min=1, help="How many events to generate and capture.")],
    db: DbOption = DEFAULT_DB,
    chunk: Annotated[int, typer.Option(help="Events per capture document (one transaction each).")] = 50_000,
) -> None:
    """Build a realistic multi-sector network (meat, vegetables, drugs) through the real capture path."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from zhuisu.trace.bench import generate

    engine = _engine(db)
    t0 = time.perf_counter()
    with Progress(
        TextColumn("capturing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
    ) as progress:
        task = progress.add_task("capture", total=events)
        try:
            stored = generate(engine, events, chunk=chunk, progress=lambda k: progress.advance(task, k))
        except ValueError as exc:
            _fail(str(exc))
    took = time.perf_counter() - t0
    err.print(f"stored {stored:,} events in {took:.1f} s ({stored / took:,.0f} events/s)", highlight=False)


@bench_app.command("trace")
def bench_trace(
    db: DbOption = DEFAULT_DB,
    samples: Annotated[int, typer.Option("--samples", min=1, help="Random identifiers to chain.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Latency percentiles: full chain of random items and lots; recall impact of the big lot."""
    from zhuisu.trace.bench import latencies

    engine = _engine(db)
    figures = latencies(engine, samples)
    if as_json:
        print(orjson.dumps(figures).decode())
        return
    out.print(f"events: {figures['events']:,}", highlight=False)
    for label, key in (
        ("item chain (backward + forward)", "item_chain_ms"),
        ("  the same, CPU time of this process", "item_chain_cpu_ms"),
        ("recall impact (big lot)", "recall_ms"),
        ("  the same, CPU time of this process", "recall_cpu_ms"),
    ):
        f = figures.get(key)
        if f:
            out.print(
                f"{label}: n={f['n']} p50 {f['p50']:.2f} ms  p90 {f['p90']:.2f} ms  p99 {f['p99']:.2f} ms  "
                f"max {f['max']:.2f} ms",
                highlight=False,
            )
    if "recall_objects" in figures:
        out.print(f"recall impact reached {figures['recall_objects']:,} objects", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands and command groups to the top-level ``zhuisu`` app."""
    app.command("trace")(trace_command)
    app.add_typer(recall_app, name="recall")
    app.add_typer(bench_app, name="bench")
