"""``zhuisu registry …``: the catalog, parties, locations and products from the command line.

Commands act as the platform itself (``SYSTEM``, an administrator) and write an audit entry for every
change. Errors are one sentence on stderr and exit code 1 (2 for a refused input).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from zhuisu.cli_support import DbOption
from zhuisu.cli_support import fail as _fail
from zhuisu.cli_support import open_engine as _engine
from zhuisu.config import DEFAULT_DB

registry_app = typer.Typer(help="Registry (备案): catalogs, parties, locations, products.", no_args_is_help=True)
err = Console(stderr=True)
out = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(app: typer.Typer) -> None:
    """Add this area's commands and command groups to the top-level ``zhuisu`` app."""
    app.add_typer(registry_app, name="registry")


def _print_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        _fail(f"cannot read {path}: {exc}")


@registry_app.command("seed-catalog")
def seed_catalog(
    db: DbOption = DEFAULT_DB,
    file: Annotated[
        Path | None, typer.Option("--file", help="A catalog JSON file (default: the shipped seed catalog).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add the catalog versions of the seed (or of FILE) that the database does not have yet."""
    from zhuisu.access.principal import SYSTEM
    from zhuisu.registry.catalog import parse_versions, seed_versions
    from zhuisu.registry.errors import RegistryError
    from zhuisu.registry.validate import validate_catalog_version
    from zhuisu.store.db import writing
    from zhuisu.store.registry import load_catalog_versions

    if file is None:
        versions = seed_versions()
    else:
        doc = _read_json(file)
        raw = doc.get("versions") if isinstance(doc, dict) else None
        if not isinstance(raw, list):
            _fail(f"{file}: expected an object with a 'versions' list")
            return
        try:
            versions = parse_versions({"versions": [validate_catalog_version(v) for v in raw]})
        except RegistryError as exc:
            _fail(f"{file}: {exc}", 2)
    engine = _engine(db)
    with writing(engine) as conn:
        added = load_catalog_versions(conn, versions, principal=SYSTEM)
    if as_json:
        _print_json({"versions": len(versions), "added": added})
    else:
        out.print(f"{added} of {len(versions)} catalog version(s) added")


@registry_app.command("catalog")
def catalog(
    db: DbOption = DEFAULT_DB,
    on: Annotated[str | None, typer.Option(help="ISO date (default: today).")] = None,
    which: Annotated[str, typer.Option("--catalog", help="key or encouraged.")] = "key",
    region: Annotated[str | None, typer.Option(help="GB/T 2260 code: add the local catalogs covering it.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The catalog entries in force on a date."""
    import datetime as dt

    from zhuisu.registry.catalog import CATALOGS
    from zhuisu.registry.views import entry_view
    from zhuisu.store.registry import catalog_in_force

    if which not in CATALOGS:
        _fail(f"--catalog must be one of: {', '.join(CATALOGS)}")
    try:
        day = dt.date.fromisoformat(on).isoformat() if on else dt.date.today().isoformat()
    except ValueError:
        _fail(f"--on {on!r} is not an ISO date (YYYY-MM-DD)")
        return
    with _engine(db).connect() as conn:
        found = catalog_in_force(conn, day, catalog=which, region=region)
    if as_json:
        _print_json([dict(entry_view(e), version=v.version, scope=v.scope) for v, e in found])
        return
    table = Table("category", "名称", "name", "sector", "granularity", "version", "scope")
    for v, e in found:
        table.add_row(e.category, e.name_zh, e.name_en, e.sector, e.granularity, v.version, v.scope or "national")
    out.print(table)


@registry_app.command("parties")
def parties(
    db: DbOption = DEFAULT_DB,
    region: Annotated[str | None, typer.Option(help="GB/T 2260 code or prefix.")] = None,
    status: Annotated[str | None, typer.Option(help="pending, approved, suspended or revoked.")] = None,
    sector: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """List registered parties."""
    from zhuisu.access.principal import SYSTEM
    from zhuisu.registry.views import party_view
    from zhuisu.store.registry import list_parties

    with _engine(db).connect() as conn:
        found = list_parties(conn, SYSTEM, region=region, status=status, sector=sector, limit=limit)
    if as_json:
        _print_json([party_view(p) for p in found])
        return
    table = Table("party code", "name", "types", "region", "status")
    for p in found:
        table.add_row(p.party_code, p.name, " ".join(p.types), p.region, p.status)
    out.print(table)


@registry_app.command("add")
def add(
    kind: Annotated[str, typer.Argument(help="party, location or product.")],
    file: Annotated[Path, typer.Argument(help="JSON file: one record, or a list of records.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Register parties, locations or products from a JSON file, all or none (one transaction)."""
    from dataclasses import asdict

    from zhuisu.access.principal import SYSTEM
    from zhuisu.registry.errors import RegistryError
    from zhuisu.store import registry as store
    from zhuisu.store.db import writing

    create: dict[str, Callable[..., Any]] = {
        "party": store.create_party,
        "location": store.create_location,
        "product": store.create_product,
    }
    if kind not in create:
        _fail("the kind must be party, location or product")
    data = _read_json(file)
    records = data if isinstance(data, list) else [data]
    made: list[dict[str, Any]] = []
    engine = _engine(db)
    try:
        with writing(engine) as conn:
            for record in records:
                made.append(asdict(create[kind](conn, SYSTEM, record)))
    except RegistryError as exc:
        where = "" if len(records) == 1 else f"record {len(made)}: "
        _fail(f"{file}: {where}{exc}; nothing was registered", 2)
    if as_json:
        _print_json(made)
    else:
        for m in made:
            out.print(m.get("party_code") if kind == "party" else m.get("code") or m.get("product_id"))


@registry_app.command("status")
def status(
    party_code: Annotated[str, typer.Argument()],
    new_status: Annotated[str, typer.Argument(metavar="STATUS", help="approved, suspended or revoked.")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the status history).")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Approve, suspend, reinstate or revoke a party."""
    from zhuisu.access.principal import SYSTEM
    from zhuisu.registry.errors import RegistryError
    from zhuisu.store.db import writing
    from zhuisu.store.registry import set_party_status

    try:
        with writing(_engine(db)) as conn:
            party = set_party_status(conn, SYSTEM, party_code, new_status, reason)
    except RegistryError as exc:
        _fail(str(exc), 2)
        return
    out.print(f"{party.party_code} {party.status}")
