"""``zhuisu apikey …`` and ``zhuisu user …``: credentials from the command line (acting as the platform itself).

``zhuisu apikey create --role admin`` prints only the new key on stdout (it is shown once), so a script can
capture it: ``KEY=$(zhuisu apikey create --role admin)``. Everything done here is audited as ``system``.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from zhuisu.cli_support import DbOption
from zhuisu.cli_support import fail as _fail
from zhuisu.cli_support import open_engine as _engine
from zhuisu.config import DEFAULT_DB

apikey_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
user_app = typer.Typer(help="Web users: create, list, set a password, disable, enable.", no_args_is_help=True)

err = Console(stderr=True)
RoleOption = Annotated[str, typer.Option("--role", help="admin, regulator, enterprise or client.")]
PartyOption = Annotated[
    list[str] | None, typer.Option("--party", help="Party code (主体码) it acts for; repeat for a client.")
]
RegionOption = Annotated[
    list[str] | None, typer.Option("--region", help="Regulator jurisdiction: GB/T 2260 prefix ('' nationwide).")
]
SectorOption = Annotated[list[str] | None, typer.Option("--sector", help="Regulator sectors (none: all).")]


def _role(role: str) -> Any:
    if role not in ("admin", "regulator", "enterprise", "client"):
        _fail(f"--role must be admin, regulator, enterprise or client, not {role!r}")
    return role


def _echo_json(value: Any) -> None:
    typer.echo(orjson.dumps(value).decode())


@apikey_app.command("create")
def apikey_create(
    role: RoleOption,
    party: PartyOption = None,
    region: RegionOption = None,
    sector: SectorOption = None,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="Narrow the key to these scopes.")] = None,
    name: Annotated[str, typer.Option("--name", help="What the key is for (a client's name for client keys).")] = "",
    expires_days: Annotated[int | None, typer.Option("--expires-days", min=1, help="Expire after N days.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Issue an API key and print it (only the key, on stdout): it is shown this once."""
    from zhuisu.access import policy, service
    from zhuisu.access.principal import SYSTEM
    from zhuisu.store.access import now_micros

    engine = _engine(db)
    expires = now_micros() + expires_days * 86_400_000_000 if expires_days else None
    try:
        new = service.create_key(
            engine,
            SYSTEM,
            role=_role(role),
            name=name,
            parties=party or (),
            regions=region or (),
            sectors=sector or (),
            scopes=scope or (),
            expires_at=expires,
        )
    except policy.ScopeError as exc:
        _fail(str(exc))
    typer.echo(new.key)
    err.print(f"API key {new.row.id} ({new.row.role}) created; it is not shown again.", highlight=False)


@apikey_app.command("list")
def apikey_list(db: DbOption = DEFAULT_DB) -> None:
    """One JSON object per key (never the key itself: its first characters as ``prefix``)."""
    from zhuisu.store import access as store

    engine = _engine(db)
    after = None
    with engine.connect() as conn:
        while rows := store.list_keys(conn, after=after, limit=500):
            for row in rows:
                _echo_json(row.public())
            after = rows[-1].id


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `zhuisu apikey list`).")], db: DbOption = DEFAULT_DB
) -> None:
    """Revoke a key at once and for good."""
    from zhuisu.access import service
    from zhuisu.access.principal import SYSTEM

    if not 0 < key_id < 2**63 or not service.revoke_key(_engine(db), SYSTEM, key_id):
        _fail(f"there is no API key {key_id}")
    err.print(f"API key {key_id} revoked.", highlight=False)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    env = os.environ.get("ZHUISU_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        _fail("give the password with --password-stdin or ZHUISU_PASSWORD (no terminal to ask on)")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        _fail("the two passwords differ")
    return first


StdinOption = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")]


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Log-in name.")],
    role: RoleOption,
    party: PartyOption = None,
    region: RegionOption = None,
    sector: SectorOption = None,
    display_name: Annotated[str, typer.Option("--display-name", help="Name shown on pages.")] = "",
    password_stdin: StdinOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Create a web user (password from --password-stdin, ZHUISU_PASSWORD, or asked twice)."""
    from zhuisu.access import passwords, policy, service
    from zhuisu.access.principal import SYSTEM

    engine = _engine(db)
    password = _read_password(password_stdin)
    try:
        user = service.create_user(
            engine,
            SYSTEM,
            username=username,
            password=password,
            role=_role(role),
            display_name=display_name,
            parties=party or (),
            regions=region or (),
            sectors=sector or (),
        )
    except (policy.ScopeError, passwords.PasswordPolicyError, ValueError) as exc:
        _fail(str(exc))
    _echo_json(user.public())


@user_app.command("list")
def user_list(db: DbOption = DEFAULT_DB) -> None:
    """One JSON object per user."""
    from zhuisu.store import access as store

    engine = _engine(db)
    after = None
    with engine.connect() as conn:
        while rows := store.list_users(conn, after=after, limit=500):
            for row in rows:
                _echo_json(row.public())
            after = rows[-1].id


def _user_id(engine: Any, username: str) -> int:
    from zhuisu.store import access as store

    with engine.connect() as conn:
        user = store.get_user_by_name(conn, username)
    if user is None:
        _fail(f"there is no user {username!r}")
        raise AssertionError  # _fail exits
    return user.id


@user_app.command("passwd")
def user_passwd(
    username: Annotated[str, typer.Argument(help="Log-in name.")],
    password_stdin: StdinOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Set a user's password (ends its sessions)."""
    from zhuisu.access import passwords, service
    from zhuisu.access.principal import SYSTEM

    engine = _engine(db)
    user_id = _user_id(engine, username)
    try:
        service.update_user(engine, SYSTEM, user_id, password=_read_password(password_stdin))
    except passwords.PasswordPolicyError as exc:
        _fail(str(exc))
    err.print(f"password of {username} changed.", highlight=False)


def _set_active(username: str, active: bool, db: str) -> None:
    from zhuisu.access import service
    from zhuisu.access.principal import SYSTEM

    engine = _engine(db)
    service.update_user(engine, SYSTEM, _user_id(engine, username), active=active)
    err.print(f"{username} {'enabled' if active else 'disabled'}.", highlight=False)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="Log-in name.")], db: DbOption = DEFAULT_DB) -> None:
    """Disable a user (it can no longer log in; its sessions end)."""
    _set_active(username, False, db)


@user_app.command("enable")
def user_enable(username: Annotated[str, typer.Argument(help="Log-in name.")], db: DbOption = DEFAULT_DB) -> None:
    """Enable a disabled user again."""
    _set_active(username, True, db)


def register(app: typer.Typer) -> None:
    """Add this area's commands and command groups to the top-level ``zhuisu`` app."""
    app.add_typer(apikey_app, name="apikey")
    app.add_typer(user_app, name="user")
