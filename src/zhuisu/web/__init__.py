"""Server-rendered pages (Jinja2): the public trace page, resolver errors, log-in. Chinese first, English via
``?lang=en`` or the browser's Accept-Language; every asset is served from ``/static`` (no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi.templating import Jinja2Templates
from starlette.requests import Request

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))

Lang = Literal["zh", "en"]


def lang(request: Request) -> Lang:
    """``?lang=en|zh`` wins; else the first of zh/en in Accept-Language; else Chinese."""
    asked = request.query_params.get("lang", "").lower()
    if asked in ("zh", "en"):
        return asked  # type: ignore[return-value]
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"
