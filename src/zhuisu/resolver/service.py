"""Resolving a checked code: what it names, whether it is known, and the links a GS1 resolver offers.

The look-ups go through :class:`Sources` (the store adapter in :mod:`zhuisu.resolver.sources`, or fakes in
tests), so the rules here — unknown codes are 404, the linkset's links, platform code checks — need no
database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from sqlalchemy import Connection

from zhuisu.codes.parse import parse_code
from zhuisu.resolver.dl import CodeRef, MalformedCode, check_platform_code_shape, platform_code_ref
from zhuisu.resolver.linkset import GS1_VOC, Link, LinkSet
from zhuisu.resolver.page import CodeStatus, ProductView, StepView
from zhuisu.resolver.vocab import Lang

__all__ = ["Lookup", "Sources", "build_linkset", "check_platform_code", "trace_page_url"]


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the platform knows about a code."""

    identifier: str  # what events name: canonical DL (or EPC identifier) the chain is asked for
    status: CodeStatus
    product: ProductView | None
    steps: tuple[StepView, ...] = ()
    checkpoint: str | None = None  # "origin · tree size N" of the signed checkpoint covering the steps
    lot: str | None = None
    serial: str | None = None


class Sources(Protocol):
    """The store look-ups the resolver needs."""

    def lookup(self, conn: Connection, ref: CodeRef, lang: Lang) -> Lookup | None:
        """What is known about ``ref``; None when the platform knows nothing of it (404)."""
        ...


def check_platform_code(code: str) -> CodeRef:
    """A platform trace code checked by the codes module (shape and ISO 7064 check character)."""
    check_platform_code_shape(code.upper())
    parsed = parse_code(code)
    if not parsed.ok or parsed.scheme != "zhuisu":
        reason = parsed.error or "not a platform trace code"
        if parsed.scheme != "zhuisu" and parsed.ok:
            reason = f"this is a {parsed.scheme} code, not a platform trace code"
        raise MalformedCode(code, reason)
    canonical = parsed.canonical or code
    kind = parsed.fields.get("kind", "")
    return platform_code_ref(canonical, serialized=kind.lower() in ("serial", "item", "s"))


def trace_page_url(base: str, ref: CodeRef) -> str:
    """The public trace page of a code on this resolver."""
    base = base.rstrip("/")
    if ref.kind == "platform":
        return f"{base}/t/{quote(ref.key, safe='')}"
    assert ref.link is not None
    return base + ref.key[len("https://id.gs1.org") :]


def build_linkset(base: str, ref: CodeRef, found: Lookup, lang: Lang) -> LinkSet:
    """gs1:defaultLink and gs1:traceability → trace page; gs1:pip → its product part; gs1:epcis → events."""
    page = trace_page_url(base, ref)
    zh = lang != "en"
    name = found.product.name if found.product else ref.key
    match = "MATCH_anyEPC" if ref.serialized else "MATCH_anyEPCClass"
    epcis = f"{base.rstrip('/')}/epcis/events?{match}={quote(found.identifier, safe='')}"
    links = {
        GS1_VOC + "defaultLink": [Link(page, f"{name} 追溯信息" if zh else f"{name}: trace")],
        GS1_VOC + "traceability": [Link(page, "追溯信息（生产、流通各环节）" if zh else "Traceability: every step")],
        GS1_VOC + "pip": [Link(page + "#product", "产品信息" if zh else "Product information")],
        GS1_VOC + "epcis": [
            Link(epcis, "EPCIS 事件查询" if zh else "EPCIS events query", type="application/ld+json", hreflang=())
        ],
    }
    return LinkSet(anchor=page, links=links, item_description=name)
