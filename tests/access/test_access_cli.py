"""``zhuisu apikey`` and ``zhuisu user``: the key alone on stdout, plain one-sentence errors, revocation."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from zhuisu.access import keys, service
from zhuisu.cli import app
from zhuisu.store.db import open_store

runner = CliRunner()


def test_apikey_create_prints_only_a_working_key_then_revoke_stops_it(db_url: str) -> None:
    result = runner.invoke(app, ["apikey", "create", "--role", "admin", "--name", "ops", "--db", db_url])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert result.stdout == key + "\n" and keys.looks_like_key(key)
    engine = open_store(db_url)
    try:
        assert service.key_principal(engine, key).role == "admin"
        listed = runner.invoke(app, ["apikey", "list", "--db", db_url])
        assert key not in listed.stdout and key[:10] in listed.stdout and '"name":"ops"' in listed.stdout
        assert runner.invoke(app, ["apikey", "revoke", "1", "--db", db_url]).exit_code == 0
        with pytest.raises(service.AuthError, match="revoked"):
            service.key_principal(engine, key)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["apikey", "create", "--role", "enterprise"], "exactly one party"),
        (["apikey", "create", "--role", "enterprise", "--party", "NOSUCHPARTY"], "no registered party"),
        (["apikey", "create", "--role", "root"], "--role must be"),
        (["apikey", "create", "--role", "regulator", "--scope", "epcis:capture"], "cannot have the scope"),
        (["apikey", "revoke", "42"], "no API key 42"),
    ],
)
def test_cli_errors_are_one_sentence_on_stderr(db_url: str, args: list[str], words: str) -> None:
    result = runner.invoke(app, [*args, "--db", db_url])
    assert result.exit_code != 0 and result.stdout == ""
    assert words in result.stderr and "Traceback" not in result.stderr


def test_user_create_reads_the_password_from_stdin_and_can_log_in(db_url: str) -> None:
    args = ["user", "create", "wang", "--role", "regulator", "--region", "3713", "--db", db_url, "--password-stdin"]
    result = runner.invoke(app, args, input="a long enough pass phrase\n")
    assert result.exit_code == 0, result.output
    assert "pass phrase" not in result.stdout and '"regions":["3713"]' in result.stdout
    engine = open_store(db_url)
    try:
        assert service.login(engine, "wang", "a long enough pass phrase").user.regions == ("3713",)
        short = runner.invoke(
            app, ["user", "create", "li", "--role", "admin", "--db", db_url, "--password-stdin"], input="short\n"
        )
        assert short.exit_code != 0 and "at least" in short.stderr
    finally:
        engine.dispose()
