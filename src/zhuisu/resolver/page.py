"""The public trace page (公开追溯页) as plain values: what a consumer sees behind a code.

The page is built from neutral values (:class:`StepView`, :class:`ProductView` …) that the store adapter
(:mod:`zhuisu.resolver.sources`) fills from the registry, the issued codes, the trace chain and the ledger,
so the page's rules (what is shown, in which language, which warnings) are testable without a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from zhuisu.codes.cn import region_name
from zhuisu.resolver.dl import CodeRef
from zhuisu.resolver.scans import PROVINCE_CAPITALS, Flag
from zhuisu.resolver.vocab import Lang, biz_step_label, disposition_label, is_alarming

__all__ = [
    "CodeStatus",
    "PartyView",
    "ProductView",
    "StepView",
    "TracePage",
    "format_time",
    "region_label",
]

_BRACKETS = re.compile(r"\s*\[[^\]]*\]")
# GB/T 2260 placeholder levels of municipalities and county-level groupings, not place names.
_PLACEHOLDER_NAMES = frozenset(
    {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "省直辖县级行政单位", "自治区直辖县级行政单位"}
)

# valid: issued by the platform or seen in recorded events; unrecorded: the product is known but this
# serial / lot never was (a genuine pack always has a record: suspicious); void: revoked or destroyed.
CodeStatus = Literal["valid", "unrecorded", "void"]


@dataclass(frozen=True, slots=True)
class PartyView:
    code: str
    name: str
    region: str | None = None


@dataclass(frozen=True, slots=True)
class ProductView:
    product_id: str
    name: str
    gtin: str | None = None
    spec: str | None = None
    sector: str | None = None
    approval_no: str | None = None
    shelf_life_days: int | None = None
    producer: PartyView | None = None


@dataclass(frozen=True, slots=True)
class Measurement:
    kind: str  # e.g. Temperature
    value: str  # as recorded, with its unit
    time: str | None = None
    alarming: bool = False


@dataclass(frozen=True, slots=True)
class StepView:
    """One step of the product's life: who, what, where, when, why, and what backs it."""

    when_us: int  # µs since the epoch, UTC
    offset: str | None  # the event's own offset, "+08:00"
    biz_step: str | None
    disposition: str | None = None
    who: PartyView | None = None
    where: str | None = None  # place name (or its identifier when not registered)
    what: str | None = None  # e.g. "批次 L2311 · 120 kg"
    source: str | None = None  # where it came from (the sending party or place)
    destination: str | None = None  # where it went
    certificates: tuple[str, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    documents: tuple[str, ...] = ()
    event_id: str | None = None
    evidence: str | None = None  # e.g. "日志位置 12 / 树 40"


@dataclass(frozen=True, slots=True)
class TracePage:
    """Everything the template shows; labels resolved for one language."""

    code: CodeRef
    display_code: str
    status: CodeStatus
    product: ProductView | None
    lot: str | None
    serial: str | None
    steps: tuple[StepView, ...] = ()
    scan_count: int = 0
    first_scan_us: int | None = None
    flag: Flag | None = None
    checkpoint: str | None = None  # origin + tree size of the signed checkpoint that covers the events
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def alarming(self) -> bool:
        return self.status != "valid" or self.flag is not None or any(is_alarming(s.disposition) for s in self.steps)


def format_time(us: int | None, offset: str | None, lang: Lang) -> str:
    """A time in its own offset: ``2026-11-20 08:30 (UTC+08:00)``; UTC when the offset is unknown."""
    if us is None:
        return ""
    tz = UTC
    if offset and len(offset) == 6 and offset[0] in "+-":
        try:
            sign = 1 if offset[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        except ValueError:
            tz = UTC
    dt = datetime.fromtimestamp(us / 1_000_000, tz)
    label = "UTC" + (offset if offset and tz is not UTC and offset not in ("+00:00", "-00:00") else "")
    return f"{dt:%Y-%m-%d %H:%M} ({label})"


def region_label(code: str | None, lang: Lang) -> str:
    """Province-level name of a GB/T 2260 code (its capital city's province), or the code."""
    if not code:
        return ""
    full = code.ljust(6, "0")
    parts: list[str] = []
    for candidate in dict.fromkeys((full[:2] + "0000", full[:4] + "00", full)):
        name = region_name(candidate)
        name = _BRACKETS.sub("", name or "").strip()
        if name and name not in _PLACEHOLDER_NAMES and name not in parts:
            parts.append(name)
    if not parts:
        capital = PROVINCE_CAPITALS.get(code[:2])
        return capital[0] if capital else code
    name = "".join(parts)
    return f"{name} ({code})" if lang == "en" else name


def step_title(step: StepView, lang: Lang) -> str:
    return biz_step_label(step.biz_step, lang) or ("Recorded event" if lang == "en" else "记录事件")


def step_disposition(step: StepView, lang: Lang) -> str:
    return disposition_label(step.disposition, lang)
