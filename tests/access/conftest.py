"""Fixtures of the access tests: a platform with three enterprises in two regions, their locations, keys for
every role, and events captured through the API by their owners."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from access_support import World, build_world
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from zhuisu.api.app import create_app
from zhuisu.config import Settings


@pytest.fixture
def real_kdf() -> None:
    """Ask for this to keep the production argon2id parameters in a test."""


@pytest.fixture(autouse=True)
def fast_kdf(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2id parameters (t=1, 8 MiB) for the tests of log-in logic: the production ones cost about a
    second of CPU per hash on a loaded test machine. ``test_passwords_are_argon2id…`` checks the real ones."""
    if "real_kdf" in request.fixturenames:
        return
    from argon2 import PasswordHasher

    from zhuisu.access import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY", cheap.hash("no such user"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_url="unused://", spool_dir=str(tmp_path / "spool"), ledger_key=str(tmp_path / "ledger.key"))


@pytest.fixture
def app_client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """A client without credentials (each request sends its own)."""
    with TestClient(create_app(settings, engine)) as c:
        yield c


@pytest.fixture
def world(engine: Engine, app_client: TestClient) -> World:
    return build_world(engine, app_client)
