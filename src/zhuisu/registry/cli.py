"""SKELETON: ``zhuisu`` commands of this area; its helper replaces this file (keep ``register``)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands and command groups to the top-level ``zhuisu`` app."""
