from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from zhuisu.api.app import create_app
from zhuisu.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        db_url="unused://",
        spool_dir=str(tmp_path / "spool"),
        ledger_key=str(tmp_path / "ledger.key"),
        resolver_base="http://testserver",
    )


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as c:
        yield c
