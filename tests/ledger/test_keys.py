"""The ledger key file: created once with 0600, reused, configurable by environment."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from zhuisu.ledger import keys


def test_created_once_with_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ledger.key"
    signer = keys.load_or_create_signer(path, origin="zhuisu.test/log")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("PRIVATE+KEY+zhuisu.test/log+")
    again = keys.load_or_create_signer(path, origin="ignored.for/existing")
    assert again.verifier == signer.verifier
    assert [p.name for p in path.parent.iterdir()] == ["ledger.key"]  # no temporary left behind


def test_path_and_origin_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.KEY_ENV, str(tmp_path / "k"))
    monkeypatch.setenv(keys.ORIGIN_ENV, "zhuisu.example/env")
    assert keys.key_path() == tmp_path / "k"
    signer = keys.load_or_create_signer()
    assert signer.name == "zhuisu.example/env"
    assert (tmp_path / "k").exists()
    monkeypatch.delenv(keys.KEY_ENV)
    assert keys.key_path() == Path("var/ledger.key")


def test_default_origin_is_unique(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keys.ORIGIN_ENV, raising=False)
    assert keys.default_origin() != keys.default_origin()


def test_readable_by_others_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    keys.load_or_create_signer(path, origin="zhuisu.test/log")
    os.chmod(path, 0o644)
    with pytest.raises(keys.KeyFileError, match="readable by others"):
        keys.load_or_create_signer(path)


def test_garbage_key_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    path.write_text("not a key\n")
    os.chmod(path, 0o600)
    with pytest.raises(keys.KeyFileError, match="does not hold"):
        keys.load_signer(path)
