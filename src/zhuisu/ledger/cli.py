"""``zhuisu ledger …``: check a platform's ledger from outside, or audit a database directly."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from zhuisu.ledger import keys
from zhuisu.ledger.note import NoteError, Verifier
from zhuisu.ledger.service import (
    LedgerError,
    VerificationError,
    check_consistency,
    check_inclusion,
    hex_hashes,
)

app = typer.Typer(
    help="Tamper-evident ledger (责任可究): verify events against signed checkpoints, audit a database.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str, json_out: bool, code: int = 1, **extra: Any) -> typer.Exit:
    if json_out:
        sys.stdout.write(json.dumps({"ok": False, "error": message, **extra}, ensure_ascii=False) + "\n")
    else:
        err.print(f"[red]FAILED[/red] {message}", highlight=False)
    return typer.Exit(code)


def _client() -> httpx.Client:
    return httpx.Client(timeout=60, follow_redirects=True)


def _verifier(key: str | None, client: httpx.Client, base: str, json_out: bool) -> tuple[Verifier, bool]:
    """The trusted key: ``--key`` (a verifier key or a file holding one), else the server's own."""
    fetched = False
    if key is None:
        text = _get(client, f"{base}/api/ledger/key", json_out).text
        fetched = True
    else:
        path = Path(key)
        try:
            text = path.read_text(encoding="utf-8") if "+" not in key and path.exists() else key
        except OSError as exc:
            raise _fail(f"--key {key}: {exc.strerror}", json_out, 2) from exc
    try:
        return Verifier.from_key(text.strip()), fetched
    except NoteError as exc:
        raise _fail(f"verifier key: {exc}", json_out, 2) from exc


def _get(client: httpx.Client, url: str, json_out: bool, **params: Any) -> httpx.Response:
    try:
        response = client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {url}: {exc}", json_out, 2) from exc
    if response.status_code != 200:
        detail = response.text.strip()
        with contextlib.suppress(ValueError):
            detail = response.json().get("detail", detail)
        raise _fail(f"{url}: HTTP {response.status_code}: {detail}", json_out, 2)
    return response


def _get_json(client: httpx.Client, url: str, json_out: bool, **params: Any) -> dict[str, Any]:
    response = _get(client, url, json_out, **params)
    try:
        body = response.json()
    except ValueError as exc:
        raise _fail(f"{url}: the answer is not JSON", json_out) from exc
    if not isinstance(body, dict):
        raise _fail(f"{url}: the answer is not a JSON object", json_out)
    return body


def _rehash(event: Any) -> bytes:
    from zhuisu.epcis.hash import event_hash_bytes

    return event_hash_bytes(event)


@app.command()
def verify(
    url: Annotated[str, typer.Option("--url", help="Base URL of the platform, e.g. https://trace.example.com")],
    event: Annotated[str, typer.Option("--event", help="The eventID to verify.")],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="Trusted verifier key (name+keyid+base64) or a file holding it. "
            "Without it the server's own key is used, which only proves the server is self-consistent.",
        ),
    ] = None,
    event_file: Annotated[
        Path | None,
        typer.Option("--event-file", help="Verify this copy of the event (JSON) instead of the server's copy."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Re-hash the event, check its inclusion proof against a checkpoint and the checkpoint's signature."""
    base = url.rstrip("/")
    with _client() as client:
        verifier, fetched = _verifier(key, client, base, json_out)
        answer = _get_json(
            client, f"{base}/api/ledger/inclusion", json_out, event_id=event, event="false" if event_file else "true"
        )
    if event_file is not None:
        try:
            content = orjson.loads(event_file.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise _fail(f"--event-file {event_file}: {exc}", json_out, 2) from exc
    else:
        content = answer.get("event")
    if not isinstance(content, dict):
        raise _fail("the event's content is missing: cannot re-hash it", json_out)
    signed = answer.get("checkpoint")
    if not isinstance(signed, str):
        raise _fail("the server sent no signed checkpoint with the proof", json_out)
    try:
        result = check_inclusion(content, answer, signed, [verifier], _rehash)
    except VerificationError as exc:
        raise _fail(str(exc), json_out, event_id=event) from exc
    summary = {
        "ok": True,
        "event_id": event,
        "event_hash": answer["event_hash"],
        "leaf_index": result.leaf_index,
        "tree_size": result.checkpoint.size,
        "root": result.checkpoint.root.hex(),
        "origin": result.checkpoint.origin,
        "key": verifier.vkey,
        "key_from_server": fetched,
    }
    if json_out:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    out.print(f"[green]OK[/green] event {event}", highlight=False)
    out.print(f"  event hash   {answer['event_hash']} (recomputed from the event's content)", highlight=False)
    out.print(f"  log position leaf {result.leaf_index} of {result.checkpoint.size}", highlight=False)
    out.print(f"  checkpoint   {result.checkpoint.origin}, root {result.checkpoint.root.hex()}", highlight=False)
    out.print(f"  signed by    {verifier.vkey}", highlight=False)
    if fetched:
        err.print("[yellow]note[/yellow]: the key came from the same server; pass --key to pin a trusted key.")


@app.command()
def consistency(
    url: Annotated[str, typer.Option("--url", help="Base URL of the platform.")],
    old: Annotated[Path, typer.Option("--old", help="A signed checkpoint seen earlier (file).")],
    key: Annotated[str | None, typer.Option("--key", help="Trusted verifier key or a file holding it.")] = None,
    save: Annotated[Path | None, typer.Option("--save", help="Write the newer checkpoint here when it checks.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check that the log only grew since a checkpoint seen earlier (no history rewritten)."""
    base = url.rstrip("/")
    try:
        old_note = old.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"--old {old}: {exc.strerror}", json_out, 2) from exc
    with _client() as client:
        verifier, _ = _verifier(key, client, base, json_out)
        new_note = _get(client, f"{base}/api/ledger/checkpoint", json_out).text
        try:
            from zhuisu.ledger.checkpoint import Checkpoint

            old_size = Checkpoint.parse_text(old_note[: old_note.rindex("\n\n") + 1]).size
            new_size = Checkpoint.parse_text(new_note[: new_note.rindex("\n\n") + 1]).size
        except ValueError as exc:
            raise _fail(f"malformed checkpoint: {exc}", json_out) from exc
        proof: list[bytes] = []
        if 0 < old_size < new_size:
            answer = _get_json(client, f"{base}/api/ledger/consistency", json_out, first=old_size, second=new_size)
    try:
        if 0 < old_size < new_size:
            proof = hex_hashes(answer.get("proof"), "proof")
        before, after = check_consistency(old_note, new_note, proof, [verifier])
    except VerificationError as exc:
        raise _fail(str(exc), json_out) from exc
    if save is not None:
        save.write_text(new_note, encoding="utf-8")
    if json_out:
        sys.stdout.write(json.dumps({"ok": True, "first": before.size, "second": after.size}) + "\n")
        return
    out.print(f"[green]OK[/green] the log grew from {before.size} to {after.size} leaves without rewriting history")


@app.command()
def audit(
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: $ZHUISU_DB or sqlite:///./zhuisu.db).")
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="Ledger key file (default: $ZHUISU_LEDGER_KEY or ./var/ledger.key).")
    ] = None,
    verifier_key: Annotated[
        str | None, typer.Option("--verifier", help="Check checkpoint signatures with this verifier key instead.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Re-hash stored events, recompute the tree and name every event or leaf that no longer matches."""
    from zhuisu.config import Settings
    from zhuisu.store import ledger as store
    from zhuisu.store.db import make_engine

    verifiers: list[Verifier] | None
    try:
        verifiers = [Verifier.from_key(verifier_key)] if verifier_key else [keys.load_signer(key).verifier]
    except FileNotFoundError:
        verifiers = None
        err.print(
            f"[yellow]warning[/yellow]: no ledger key at {keys.key_path(key)}: checkpoint signatures are not checked"
        )
    except (NoteError, keys.KeyFileError) as exc:
        raise _fail(str(exc), json_out, 2) from exc
    url = db or Settings().db_url
    engine = make_engine(url)
    try:
        if json_out or not err.is_terminal:
            report = store.audit_database(engine, verifiers)
        else:
            with Progress(
                TextColumn("auditing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
            ) as bar:
                task = bar.add_task("audit", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = store.audit_database(engine, verifiers, progress=progress)
    except SQLAlchemyError as exc:  # a database that cannot be read: say so without a stack trace
        first_line = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise _fail(f"cannot audit {url}: {first_line}", json_out, 2) from exc
    except LedgerError as exc:
        raise _fail(f"cannot audit {url}: {exc}", json_out, 2) from exc
    finally:
        engine.dispose()
    if json_out:
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
        raise typer.Exit(0 if report.ok else 1)
    out.print(
        f"tree size {report.tree_size}: {report.leaves} leaves, {report.events} events, "
        f"{report.checkpoints} signed checkpoints checked"
    )
    if report.ok:
        out.print("[green]OK[/green] every event matches its leaf and every checkpoint is reproduced")
        return
    table = Table("finding", "leaf", "seq", "eventID", "detail", title=f"{len(report.findings)} findings")
    for f in report.findings:
        table.add_row(
            f.kind,
            "" if f.leaf_index is None else str(f.leaf_index),
            "" if f.seq is None else str(f.seq),
            f.event_id or "",
            f.detail if f.tree_size is None else f"{f.detail} [size {f.tree_size}]",
        )
    out.print(table)
    raise typer.Exit(1)
