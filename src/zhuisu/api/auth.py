"""Authentication at the HTTP edge: ``Authorization: Bearer KEY`` or a session cookie → ``Principal``.

SKELETON — the access helper replaces this; ``principal`` is the dependency every router uses
(``Depends(principal)``), and tests override it with ``app.dependency_overrides[principal]``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from zhuisu.access.principal import SYSTEM, Principal

router = APIRouter()


def principal(request: Request) -> Principal:
    """The principal behind this request (PUBLIC when it carries no credentials)."""
    return SYSTEM
