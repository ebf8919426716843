"""``zhuisu`` command line: serve, database, EPCIS tools, demo data; sub-apps per area."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
import typer
from rich.console import Console

from zhuisu.access import cli as access_cli
from zhuisu.cli_support import DbOption
from zhuisu.cli_support import fail as _fail
from zhuisu.cli_support import open_engine as _engine
from zhuisu.codes import cli as codes_cli
from zhuisu.config import DEFAULT_DB
from zhuisu.ledger import cli as ledger_cli
from zhuisu.registry import cli as registry_cli
from zhuisu.trace import cli as trace_cli

app = typer.Typer(
    name="zhuisu",
    help="zhuisu 追溯 — traceability platform (GS1 EPCIS 2.0 repository, trace codes, ledger).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema: upgrade, show the version.", no_args_is_help=True)
epcis_app = typer.Typer(help="EPCIS documents: event hashes, validation, local capture.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo data set.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(epcis_app, name="epcis")
app.add_typer(demo_app, name="demo")

err = Console(stderr=True)


@app.command()
def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the platform's HTTP server (upgrades the database schema first)."""
    import uvicorn

    from zhuisu.api.app import create_app
    from zhuisu.config import Settings

    os.environ["ZHUISU_DB"] = db
    engine = _engine(db)
    application = create_app(Settings(db_url=db), engine)
    base = f"http://{host}:{port}"
    err.print(f"zhuisu serving {db}")
    for label, path in (
        ("trace a code", "/"),
        ("sign in", "/login"),
        ("EPCIS 2.0 REST", "/epcis/events"),
        ("capture", "/epcis/capture"),
        ("registry", "/api/parties"),
        ("OpenAPI", "/openapi.json"),
        ("ledger checkpoint", "/api/ledger/checkpoint"),
    ):
        err.print(f"  {label:<18} {base}{path}")
    uvicorn.run(application, host=host, port=port, log_level="info")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = DEFAULT_DB) -> None:
    """Create or upgrade the schema to the newest version."""
    from zhuisu.store.db import current_revision

    engine = _engine(db)
    typer.echo(f"schema at revision {current_revision(engine)}")


@db_app.command("current")
def db_current(db: DbOption = DEFAULT_DB) -> None:
    """Show the schema revision of a database (without changing it)."""
    from zhuisu.store.db import current_revision, head_revision, make_engine

    rev = current_revision(make_engine(db))
    typer.echo(f"{rev or '(empty)'} (newest: {head_revision()})")


def _kind_of(path: Path) -> Literal["json", "xml"]:
    """XML or JSON-LD, by the first character of the document (the suffix may lie)."""
    with open(path, "rb") as fh:
        head = fh.read(256).lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    return "xml" if head.startswith(b"<") else "json"


def _document_events(path: Path) -> Any:
    from zhuisu.epcis.capture import open_document

    stream = open(path, "rb")  # noqa: SIM115 - handed to the caller, who closes it
    try:
        return stream, open_document(stream, _kind_of(path))
    except Exception:
        stream.close()
        raise


@epcis_app.command("hash")
def epcis_hash(
    files: Annotated[list[Path], typer.Argument(help="EPCIS documents (JSON-LD or XML).")],
) -> None:
    """Print the CBV 2.0 event hash (ni:///sha-256;…?ver=CBV2.0) of every event, in document order."""
    from zhuisu.epcis.hash import event_hash
    from zhuisu.epcis.problems import EPCISError

    status = 0
    for path in files:
        try:
            stream, (_header, events) = _document_events(path)
            with stream:
                for event in events:
                    typer.echo(event_hash(event))
        except OSError as exc:
            err.print(f"{path}: cannot read: {exc.strerror}")
            status = 1
        except EPCISError as exc:
            for p in exc.problems:
                err.print(f"{path}: {p}", highlight=False)
            status = 1
    raise typer.Exit(status)


@epcis_app.command("validate")
def epcis_validate(
    files: Annotated[list[Path], typer.Argument(help="EPCIS documents (JSON-LD or XML).")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per problem.")] = False,
) -> None:
    """Exit 0 when every document is valid; otherwise print each problem with its location."""
    from zhuisu.epcis.problems import EPCISError, Problem
    from zhuisu.epcis.validate import validate_event

    bad = 0
    for path in files:
        problems: list[Problem] = []
        try:
            if _kind_of(path) == "xml":
                from zhuisu.epcis.validate import validate_xml_stream

                with open(path, "rb") as fh:
                    problems.extend(validate_xml_stream(fh))
            if not problems:
                stream, (_header, events) = _document_events(path)
                with stream:
                    for i, event in enumerate(events):
                        problems.extend(validate_event(event, i))
        except OSError as exc:
            problems.append(Problem(None, "", f"cannot read: {exc.strerror}"))
        except EPCISError as exc:
            problems.extend(exc.problems)
        for p in problems:
            if json_out:
                typer.echo(orjson.dumps({"file": str(path), **p.as_dict()}).decode())
            else:
                typer.echo(f"{path}: {p}")
        bad += bool(problems)
        if not problems and not json_out:
            typer.echo(f"{path}: valid")
    raise typer.Exit(1 if bad else 0)


@epcis_app.command("capture")
def epcis_capture(
    files: Annotated[list[Path], typer.Argument(help="EPCIS documents (JSON-LD or XML).")],
    db: DbOption = DEFAULT_DB,
    proceed: Annotated[bool, typer.Option(help="Store the good events even if some are bad.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable result.")] = False,
) -> None:
    """Capture documents straight into a database (same validation and rules as POST /epcis/capture)."""
    from rich.progress import Progress

    from zhuisu.epcis.capture import capture_file

    engine = _engine(db)
    status = 0
    with Progress(console=err, transient=True, disable=json_out) as progress:
        for path in files:
            if not path.is_file():
                err.print(f"{path}: cannot read: no such file")
                status = 1
                continue
            kind = _kind_of(path)
            task = progress.add_task(f"capturing {path.name}", total=None)
            result = capture_file(
                engine,
                path,
                kind,
                behaviour="proceed" if proceed else "rollback",
                progress=lambda n, task=task: progress.update(task, completed=n),  # type: ignore[misc]
            )
            progress.remove_task(task)
            summary = {
                "file": str(path),
                "events": result.event_count,
                "stored": result.stored,
                "duplicates": result.duplicates,
                "success": result.success,
                "errors": [str(p) for p in result.problems],
            }
            if json_out:
                typer.echo(orjson.dumps(summary).decode())
            else:
                typer.echo(
                    f"{path}: {result.event_count} events, {result.stored} stored, {result.duplicates} already stored"
                    + (
                        ""
                        if result.success
                        else f", {result.problem_count} problem(s); nothing stored"
                        if not proceed
                        else ""
                    )
                )
                for p in result.problems:
                    typer.echo(f"  {p}")
            status |= 0 if result.success else 1
    raise typer.Exit(status)


@demo_app.command("load")
def demo_load(
    db: DbOption = "sqlite:///./zhuisu-demo.db",
    fresh: Annotated[bool, typer.Option(help="Start from an empty database (SQLite files only).")] = False,
) -> None:
    """Load the demo data set: registered parties and products, issued codes, a pork chain and a drug chain."""
    from zhuisu import demo
    from zhuisu.config import Settings

    if fresh:
        demo.remove_sqlite_file(db)
    engine = _engine(db)
    base = Settings().resolver_base
    result = demo.load(engine, resolver_base=base)
    if not result.success:
        _fail("the demo events were refused: " + "; ".join(p.message for p in result.problems[:3]))
    typer.echo(f"demo data: {result.event_count} events, {result.stored} stored, {result.duplicates} already there")
    for line in demo.describe(engine, base):
        typer.echo(f"  {line}")
    for line in demo.ensure_accounts(engine):
        typer.echo(f"  {line}")


# Each area keeps its commands in its own module (zhuisu/<area>/cli.py).
app.add_typer(codes_cli.app, name="codes", help="Identify and check codes: GS1, EPC, Chinese trace codes.")
app.add_typer(ledger_cli.app, name="ledger", help="The tamper-evident ledger: verify, audit.")
access_cli.register(app)
registry_cli.register(app)
trace_cli.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
