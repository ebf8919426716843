from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from zhuisu.access import service
from zhuisu.access.principal import SYSTEM
from zhuisu.api.app import create_app
from zhuisu.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_url="unused://", spool_dir=str(tmp_path / "spool"), ledger_key=str(tmp_path / "ledger.key"))


@pytest.fixture
def admin_key(engine: Engine) -> str:
    """A platform administrator's API key, issued in the fresh database."""
    return service.create_key(engine, SYSTEM, role="admin", name="tests").key


@pytest.fixture
def client(engine: Engine, settings: Settings, admin_key: str) -> Iterator[TestClient]:
    """A client of a fresh platform, authenticated as administrator (``Authorization: Bearer``)."""
    with TestClient(create_app(settings, engine), headers={"Authorization": f"Bearer {admin_key}"}) as c:
        yield c
