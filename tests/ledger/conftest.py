from __future__ import annotations

from pathlib import Path

import pytest

from zhuisu.ledger.keys import load_or_create_signer
from zhuisu.ledger.note import Signer


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return load_or_create_signer(tmp_path / "ledger.key", origin="zhuisu.test/ledger")
