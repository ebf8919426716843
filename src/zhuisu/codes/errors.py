"""The one error type of ``zhuisu.codes``."""

from __future__ import annotations

__all__ = ["IdentifierError"]


class IdentifierError(ValueError):
    """An identifier is malformed; the message names the identifier and the reason."""
