"""Catalogs of products to trace: the national key catalog (重点追溯产品目录), the encouraged catalog
(鼓励追溯产品目录) and local catalogs that extend them, versioned by effective date.

A catalog version is a whole list as published; it is in force from its ``effective_from`` date until the
next version of the same catalog and scope takes effect (or until its own ``effective_to``, exclusive).
So "was category X on the key catalog on date D" is: take the version in force on D for the national scope
and for every local scope containing the region asked about, and look for X in their entries. A local
catalog (scope = a GB/T 2260 code) applies to every region inside it ("370200" 青岛市 covers "370211").

The seed data (``data/catalog.json``) is loaded by migration 0004 into every database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

from zhuisu.registry.model import CatalogEntry, CatalogVersion

CATALOGS: dict[str, tuple[str, str]] = {
    "key": ("重点追溯产品目录", "key traceability catalog"),
    "encouraged": ("鼓励追溯产品目录", "encouraged traceability catalog"),
}


def region_prefix(code: str) -> str:
    """The prefix a GB/T 2260 code stands for: 370000 → 37, 370200 → 3702, 370211 → 370211, '' → ''."""
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return "" if code in ("", "00") else code


def scope_covers(scope: str, region: str | None) -> bool:
    """Does a catalog scope ('' national, else a region code) apply to ``region``?"""
    if scope == "":
        return True
    return region is not None and region.startswith(region_prefix(scope))


def version_in_force(versions: Iterable[CatalogVersion], on: str) -> CatalogVersion | None:
    """Of the versions of ONE catalog and scope, the one in force on ISO date ``on``."""
    best: CatalogVersion | None = None
    for v in versions:
        if v.effective_from <= on and (best is None or v.effective_from > best.effective_from):
            best = v
    if best is not None and best.effective_to is not None and on >= best.effective_to:
        return None
    return best


def entries_in_force(
    versions: Iterable[CatalogVersion], catalog: str, on: str, region: str | None = None
) -> list[tuple[CatalogVersion, CatalogEntry]]:
    """Every entry of ``catalog`` in force on ``on`` for ``region`` (national plus covering local versions);
    with no region, the national catalog only."""
    by_scope: dict[str, list[CatalogVersion]] = {}
    for v in versions:
        if v.catalog == catalog and scope_covers(v.scope, region):
            by_scope.setdefault(v.scope, []).append(v)
    out: list[tuple[CatalogVersion, CatalogEntry]] = []
    for scope in sorted(by_scope, key=len):
        current = version_in_force(by_scope[scope], on)
        if current is not None:
            out.extend((current, e) for e in current.entries)
    return out


def find_entry(
    versions: Iterable[CatalogVersion], catalog: str, category: str, on: str, region: str | None = None
) -> tuple[CatalogVersion, CatalogEntry] | None:
    """The entry for ``category`` in force on ``on`` (the most local one when several list it), or None."""
    found = None
    for v, e in entries_in_force(versions, catalog, on, region):
        if e.category == category:
            found = (v, e)  # later = more local
    return found


def parse_versions(doc: dict[str, Any]) -> list[CatalogVersion]:
    """Catalog versions from the seed file's JSON form."""
    out = []
    for v in doc["versions"]:
        entries = tuple(
            CatalogEntry(
                category=e["category"],
                name_zh=e["name_zh"],
                name_en=e["name_en"],
                sector=e["sector"],
                granularity=e["granularity"],
                profile=e.get("profile", e["sector"]),
                note=e.get("note"),
            )
            for e in v["entries"]
        )
        out.append(
            CatalogVersion(
                catalog=v["catalog"],
                scope=v.get("scope", ""),
                version=v["version"],
                effective_from=v["effective_from"],
                effective_to=v.get("effective_to"),
                title=v.get("title", ""),
                source=v.get("source"),
                entries=entries,
            )
        )
    return out


def seed_versions() -> list[CatalogVersion]:
    """The catalog versions shipped with zhuisu (``zhuisu/registry/data/catalog.json``)."""
    text = resources.files("zhuisu.registry").joinpath("data/catalog.json").read_text("utf-8")
    return parse_versions(json.loads(text))
