"""The platform's ledger signing key (账本签名密钥): one Ed25519 key in a file outside the database.

The file holds the key in Go ``sumdb/note`` form (``PRIVATE+KEY+name+keyid+base64``), so the same
file works with standard transparency-log tooling. It is created on first use with mode 0600.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from zhuisu.ledger.note import NoteError, Signer

KEY_ENV = "ZHUISU_LEDGER_KEY"
ORIGIN_ENV = "ZHUISU_ORIGIN"  # the platform origin (zhuisu.config.Settings.origin)
DEFAULT_KEY_PATH = Path("var") / "ledger.key"


class KeyFileError(RuntimeError):
    """The key file exists but cannot be used."""


def key_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The key file: ``path`` if given, else ``$ZHUISU_LEDGER_KEY``, else ``./var/ledger.key``."""
    if path is not None:
        return Path(path)
    env = os.environ.get(KEY_ENV)
    return Path(env) if env else DEFAULT_KEY_PATH


def default_origin() -> str:
    """``$ZHUISU_LEDGER_ORIGIN``, else a new unique name (logs are told apart by origin)."""
    return os.environ.get(ORIGIN_ENV) or f"zhuisu.local/ledger/{secrets.token_hex(4)}"


def load_signer(path: str | os.PathLike[str] | None = None) -> Signer:
    """Read the key file; refuses a file that others can read."""
    p = key_path(path)
    try:
        mode = p.stat().st_mode
        text = p.read_text(encoding="ascii")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read ledger key file {p}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"ledger key file {p} is readable by others (mode {mode & 0o777:o}); chmod 600 it")
    try:
        return Signer.from_key(text)
    except NoteError as exc:
        raise KeyFileError(f"ledger key file {p} does not hold a note private key: {exc}") from exc


def load_or_create_signer(path: str | os.PathLike[str] | None = None, origin: str | None = None) -> Signer:
    """The ledger signer, creating the key file (0600) on first use.

    ``origin`` names a new key (default :func:`default_origin`); an existing key keeps its name.
    Creation is atomic: a fully written temporary file is hard-linked into place, so two processes
    starting together end up with the same key.
    """
    p = key_path(path)
    with contextlib.suppress(FileNotFoundError):
        return load_signer(p)
    signer = Signer.generate(origin or default_origin())
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(signer.skey + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, p)
        except FileExistsError:  # another process won the race: use its key
            return load_signer(p)
    finally:
        tmp.unlink(missing_ok=True)
    return signer
