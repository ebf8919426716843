"""Scan counting and counterfeit flags (防伪预警).

Every time a person opens a code's trace page (or a ``linkType`` redirect), the scan is counted: how
often, when first and last, and in which region. Two rules flag a code as possibly copied (可能被复制):

- **too many scans** — a code that names one physical item (一物一码: a serial, an SSCC, a GIAI)
  scanned more than ``max_item_scans`` times (default 20). A genuine item is scanned by its buyer a
  few times; a label photocopied onto many fakes is scanned by every buyer of every fake. Lot codes
  (一批一码) and product codes are shared by many genuine packs and are never flagged by count.
- **far-apart regions** — an item code scanned in two provinces whose distance cannot be travelled in
  the time between the two scans. Distance is measured between the provinces' capitals, less
  ``province_slack_km`` (default 300 km) because a province is large and the two scans may have been
  near the common border; it is implausible when the rest would need more than ``max_speed_kmh``
  (default 800 km/h, an airliner's cruising speed). Scans in the same province never trip this rule.

Where a scan comes from: the platform does not geolocate IP addresses (it ships no GeoIP database).
The region is the GB/T 2260 code the scanning app sends as ``?region=`` or the ``X-Zhuisu-Region``
header a front proxy with its own GeoIP sets; a scan without a region is counted but takes no part in
the distance rule. A flag, once raised, stays on the code (a regulator clears it after checking).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "PROVINCE_CAPITALS",
    "Flag",
    "ScanRules",
    "ScanState",
    "assess",
    "distance_km",
    "normalize_region",
]

FlagReason = Literal["too_many_scans", "far_apart"]

# Capital of each province-level division (GB/T 2260 two-digit prefix): (name, latitude, longitude),
# degrees to two decimals — ample for a rule that already allows 300 km of slack.
PROVINCE_CAPITALS: dict[str, tuple[str, float, float]] = {
    "11": ("北京", 39.90, 116.41),
    "12": ("天津", 39.13, 117.20),
    "13": ("石家庄", 38.04, 114.51),
    "14": ("太原", 37.87, 112.55),
    "15": ("呼和浩特", 40.84, 111.75),
    "21": ("沈阳", 41.80, 123.43),
    "22": ("长春", 43.82, 125.32),
    "23": ("哈尔滨", 45.80, 126.53),
    "31": ("上海", 31.23, 121.47),
    "32": ("南京", 32.06, 118.80),
    "33": ("杭州", 30.27, 120.16),
    "34": ("合肥", 31.82, 117.23),
    "35": ("福州", 26.07, 119.30),
    "36": ("南昌", 28.68, 115.86),
    "37": ("济南", 36.65, 117.12),
    "41": ("郑州", 34.75, 113.63),
    "42": ("武汉", 30.59, 114.31),
    "43": ("长沙", 28.23, 112.94),
    "44": ("广州", 23.13, 113.26),
    "45": ("南宁", 22.82, 108.37),
    "46": ("海口", 20.04, 110.20),
    "50": ("重庆", 29.56, 106.55),
    "51": ("成都", 30.57, 104.07),
    "52": ("贵阳", 26.65, 106.63),
    "53": ("昆明", 25.04, 102.71),
    "54": ("拉萨", 29.65, 91.14),
    "61": ("西安", 34.34, 108.94),
    "62": ("兰州", 36.06, 103.83),
    "63": ("西宁", 36.62, 101.78),
    "64": ("银川", 38.49, 106.23),
    "65": ("乌鲁木齐", 43.83, 87.62),
    "71": ("台北", 25.03, 121.57),
    "81": ("香港", 22.32, 114.17),
    "82": ("澳门", 22.20, 113.54),
}

_REGION_RE = re.compile(r"[1-8][0-9](?:[0-9]{2}){0,2}")
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
HOUR_US = 3_600_000_000


@dataclass(frozen=True, slots=True)
class ScanRules:
    max_item_scans: int = 20
    max_speed_kmh: float = 800.0
    province_slack_km: float = 300.0


@dataclass(frozen=True, slots=True)
class Flag:
    """Why a code is suspected: the rule, and the figures a person can check."""

    reason: FlagReason
    at: int  # µs since the epoch, when raised
    count: int = 0  # too_many_scans: scans so far
    limit: int = 0
    region_a: str = ""  # far_apart: the earlier and the later scan's region
    region_b: str = ""
    km: int = 0
    minutes: int = 0


@dataclass(frozen=True, slots=True)
class ScanState:
    """What is known about a code's scans before the new one."""

    count: int = 0
    first_at: int | None = None
    last_at: int | None = None
    last_region: str | None = None
    last_region_at: int | None = None
    flag: Flag | None = None


def normalize_region(value: str | None) -> str | None:
    """A GB/T 2260 code (2, 4 or 6 digits, province first) as given, or None when absent or not one."""
    if not value:
        return None
    value = value.strip()
    if _REGION_RE.fullmatch(value) and value[:2] in PROVINCE_CAPITALS:
        return value
    return None


def distance_km(province_a: str, province_b: str) -> float:
    """Great-circle distance between two provinces' capitals (haversine on a sphere)."""
    _, lat1, lon1 = PROVINCE_CAPITALS[province_a]
    _, lat2, lon2 = PROVINCE_CAPITALS[province_b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def assess(state: ScanState, at: int, region: str | None, *, serialized: bool, rules: ScanRules) -> Flag | None:
    """The flag the new scan raises (None if none, or if the code is flagged already)."""
    if state.flag is not None or not serialized:
        return None
    count = state.count + 1
    if count > rules.max_item_scans:
        return Flag("too_many_scans", at, count=count, limit=rules.max_item_scans)
    if region and state.last_region and state.last_region_at is not None:
        a, b = state.last_region[:2], region[:2]
        if a != b:
            km = distance_km(a, b)
            hours = max(at - state.last_region_at, 0) / HOUR_US
            if km - rules.province_slack_km > rules.max_speed_kmh * hours:
                return Flag(
                    "far_apart",
                    at,
                    count=count,
                    region_a=state.last_region,
                    region_b=region,
                    km=round(km),
                    minutes=round(hours * 60),
                )
    return None
