"""``zhuisu codes`` — parse codes (one JSON object per code), issue the platform's own codes, print labels."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from zhuisu.cli_support import DbOption
from zhuisu.cli_support import fail as _fail
from zhuisu.cli_support import open_engine as _engine
from zhuisu.codes.parse import ParsedCode, parse_code
from zhuisu.config import DEFAULT_DB

app = typer.Typer(help="Understand identifiers: GS1 keys, Digital Links, EPC URNs, Chinese codes.")


@app.callback()
def _main() -> None:
    """Identifier tools."""


@app.command("parse")
def parse_cmd(
    code: str | None = typer.Argument(None, help="The code; omit to read one code per line from stdin"),
) -> None:
    """Parse CODE (or each stdin line) and print {"input", "ok", "scheme", "fields", "ai", "canonical", "error"}."""
    if code is not None:
        sys.stdout.write(orjson.dumps(parse_code(code).as_dict()).decode() + "\n")
        return
    for raw in sys.stdin.buffer:
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            # One bad line is one answer, not the end of the run (and not a stack trace).
            shown = raw.decode("utf-8", "replace").rstrip("\r\n")
            bad = ParsedCode(shown, False, "unknown", error="the line is not UTF-8 text")
            sys.stdout.write(orjson.dumps(bad.as_dict()).decode() + "\n")
            continue
        if not line.strip():
            continue
        sys.stdout.write(orjson.dumps(parse_code(line).as_dict()).decode() + "\n")


# --- issuing and labels (zhuisu codes issue / zhuisu codes labels) -----------------------------------------

_err = Console(stderr=True)
PDF_MAX_LABELS = 20_000  # reportlab keeps a document's pages in memory until it is saved


@app.command("issue")
def issue_cmd(
    product: Annotated[str, typer.Option("--product", help="Product id (GTIN-14 or urn:zhuisu:class:…)")],
    kind: Annotated[str, typer.Option("--kind", help="serial (一物一码) or lot (一批一码)")],
    count: Annotated[int, typer.Option("--count", help="How many codes")] = 1,
    lot: Annotated[str | None, typer.Option("--lot", help="Lot number the codes belong to (AI 10)")] = None,
    db: DbOption = DEFAULT_DB,
    json_out: Annotated[bool, typer.Option("--json", help="Print the batch as one JSON object")] = False,
) -> None:
    """Issue COUNT new codes of a registered product, as the platform itself (the audit log says ``system``).

    Prints the codes one per line (the URL each label carries), or with --json the batch; a summary goes to stderr.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from zhuisu.access.principal import SYSTEM
    from zhuisu.codes.issue import IssueError
    from zhuisu.config import Settings
    from zhuisu.store import codes as store
    from zhuisu.store.registry import get_product

    engine = _engine(db)
    with engine.connect() as conn:
        found = get_product(conn, product)
    if found is None:
        _fail(f"no registered product {product!r}")
    columns = (TextColumn("issuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=_err, transient=True, disable=count < 100_000) as progress:
        task = progress.add_task("issue", total=count)
        try:
            batch = store.issue_codes(
                engine,
                SYSTEM,
                found,
                kind,
                count,
                lot,
                resolver_base=Settings().resolver_base,
                progress=lambda n: progress.advance(task, n),
            )
        except (IssueError, store.CodeConflict) as exc:
            _fail(exc.message)
    if json_out:
        sys.stdout.write(orjson.dumps(batch.as_dict()).decode() + "\n")
    else:
        out = sys.stdout
        for code in store.iter_batch_codes(engine, batch.batch_id):
            out.write(code.code + "\n")
    _err.print(
        f"issued {batch.count:,} {batch.kind} code(s) of {batch.product_id} in batch {batch.batch_id}", markup=False
    )


@app.command("labels")
def labels_cmd(
    batch_id: Annotated[int, typer.Argument(help="Batch id (from zhuisu codes issue)")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write an A4 PDF sheet of labels to FILE")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="Write one QR PNG per code into DIR")] = None,
    symbology: Annotated[str, typer.Option("--symbology", help="qr or datamatrix")] = "qr",
    offset: Annotated[int, typer.Option("--offset", help="Skip this many codes of the batch")] = 0,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many labels")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Print the labels of a batch: an A4 PDF sheet (--pdf FILE) or PNG images (--png DIR)."""
    from zhuisu.codes import labels
    from zhuisu.store import codes as store
    from zhuisu.store.registry import get_product

    if (pdf is None) == (png is None):
        _fail("give exactly one of --pdf FILE or --png DIR")
    if symbology not in ("qr", "datamatrix"):
        _fail(f"--symbology must be qr or datamatrix, not {symbology!r}")
    if not 0 < batch_id < 2**63:  # no batch has such an id (and it is beyond the database's BIGINT)
        _fail(f"no code batch {batch_id}")
    engine = _engine(db)
    with engine.connect() as conn:
        batch = store.get_batch(conn, batch_id)
        product = get_product(conn, batch.product_id) if batch is not None else None
    if batch is None:
        _fail(f"no code batch {batch_id}")
    codes = store.iter_batch_codes(engine, batch_id, offset=offset, limit=limit)
    if pdf is not None:
        wanted = max(0, batch.count - offset) if limit is None else min(limit, max(0, batch.count - offset))
        if wanted > PDF_MAX_LABELS:
            _fail(
                f"batch {batch_id} has {wanted:,} labels to print; one PDF holds at most {PDF_MAX_LABELS:,} "
                "(print it in parts with --offset and --limit)"
            )
        name = product.name if product is not None else ""
        if product is not None and product.spec:
            name = f"{name} {product.spec}"
        try:
            with pdf.open("wb") as f:
                n = labels.labels_pdf(
                    codes, f, product_name=name, title=f"追溯码 批次 {batch_id} · batch {batch_id}", symbology=symbology
                )
        except OSError as exc:
            _fail(f"cannot write {pdf}: {exc.strerror or exc}")
        _err.print(f"wrote {n:,} label(s) to {pdf}", markup=False)
        return
    assert png is not None
    try:
        png.mkdir(parents=True, exist_ok=True)
        n = 0
        for code in codes:
            image = labels.qr_png(code) if symbology == "qr" else labels.datamatrix_png(code)
            (png / f"{batch_id}-{n + offset:07d}.png").write_bytes(image)
            n += 1
    except OSError as exc:
        _fail(f"cannot write into {png}: {exc.strerror or exc}")
    _err.print(f"wrote {n:,} PNG label(s) to {png}", markup=False)
