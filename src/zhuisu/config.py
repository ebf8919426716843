"""Settings, read once from the environment (``ZHUISU_*``) with sensible defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DB = "sqlite:///./zhuisu.db"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True, slots=True)
class Settings:
    """What the platform needs to know about where it runs."""

    db_url: str = field(default_factory=lambda: os.environ.get("ZHUISU_DB", DEFAULT_DB))
    # GS1-EPCIS-Capture-Limit: most events in one capture document.
    capture_limit: int = field(default_factory=lambda: _int("ZHUISU_CAPTURE_LIMIT", 1_000_000))
    # GS1-EPCIS-Capture-File-Size-Limit: most bytes in one capture document.
    capture_file_size_limit: int = field(
        default_factory=lambda: _int("ZHUISU_CAPTURE_FILE_SIZE_LIMIT", 2 * 1024 * 1024 * 1024)
    )
    # Where capture documents wait while their job runs (spooled, never held in memory).
    spool_dir: str = field(default_factory=lambda: os.environ.get("ZHUISU_SPOOL_DIR", "./var/spool"))
    # The ledger's Ed25519 signing key, kept outside the database (created on first start, mode 0600).
    ledger_key: str = field(default_factory=lambda: os.environ.get("ZHUISU_LEDGER_KEY", "./var/ledger.key"))
    # Name of this platform in ledger checkpoints and as the source of events it records.
    origin: str = field(default_factory=lambda: os.environ.get("ZHUISU_ORIGIN", "zhuisu.local/ledger"))
    # Signs query page tokens; processes serving one database need the same value. Unset: derived from
    # the database URL (every process sharing the database agrees; set it where URLs are not secret).
    secret_key: str | None = field(default_factory=lambda: os.environ.get("ZHUISU_SECRET_KEY") or None)
    # Largest page of query results.
    max_per_page: int = field(default_factory=lambda: _int("ZHUISU_MAX_PER_PAGE", 1000))
    default_per_page: int = field(default_factory=lambda: _int("ZHUISU_PER_PAGE", 30))
    # The platform's own resolver: stem of the GS1 Digital Links and platform-code URLs on issued labels.
    resolver_base: str = field(default_factory=lambda: os.environ.get("ZHUISU_RESOLVER_BASE", "http://127.0.0.1:8000"))
