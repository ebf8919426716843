from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from zhuisu.registry.catalog import entries_in_force, find_entry, region_prefix, scope_covers, version_in_force
from zhuisu.registry.model import CatalogEntry, CatalogVersion


def entry(category: str, granularity: str = "lot") -> CatalogEntry:
    return CatalogEntry(category, category, category, "food", granularity, "food")


def version(
    v: str, start: str, cats: list[str], scope: str = "", catalog: str = "key", end: str | None = None
) -> CatalogVersion:
    return CatalogVersion(catalog, scope, v, start, end, entries=tuple(entry(c) for c in cats))


V1 = version("v1", "2016-01-01", ["meat", "vegetable"])
V2 = version("v2", "2019-07-01", ["meat", "drug"])  # vegetable dropped, drug added
V3 = version("v3", "2022-01-01", ["meat", "drug", "vegetable"], end="2024-01-01")
LOCAL = version("l1", "2018-02-14", ["wine"], scope="370200")
ENC = version("e1", "2016-01-01", ["auto_parts"], catalog="encouraged")
ALL = [V1, V2, V3, LOCAL, ENC]


def on(cat: str, day: str, region: str | None = None, catalog: str = "key") -> str | None:
    hit = find_entry(ALL, catalog, cat, day, region)
    return hit[0].version if hit else None


def test_membership_follows_the_version_in_force() -> None:
    assert on("vegetable", "2015-12-31") is None  # before any version
    assert on("vegetable", "2016-01-01") == "v1"  # first day in force
    assert on("vegetable", "2019-06-30") == "v1"  # last day of v1
    assert on("vegetable", "2019-07-01") is None  # v2 dropped it
    assert on("drug", "2019-06-30") is None
    assert on("drug", "2019-07-01") == "v2"
    assert on("vegetable", "2022-01-01") == "v3"  # back again
    assert on("meat", "2023-12-31") == "v3"
    assert on("meat", "2024-01-01") is None  # v3 ended with nothing after it


def test_local_catalogs_extend_the_national_one_inside_their_region() -> None:
    assert on("wine", "2019-01-01", "370211") == "l1"  # 青岛 黄岛区 inside 370200
    assert on("wine", "2019-01-01", "370102") is None  # 济南: not covered
    assert on("wine", "2019-01-01") is None  # the national question
    assert on("wine", "2018-02-13", "370211") is None
    assert on("meat", "2019-01-01", "370211") == "v1"
    assert on("auto_parts", "2019-01-01") is None  # only encouraged
    assert on("auto_parts", "2019-01-01", catalog="encouraged") == "e1"
    cats = {e.category for _, e in entries_in_force(ALL, "key", "2019-08-01", "370211")}
    assert cats == {"meat", "drug", "wine"}


def test_region_prefix_and_scope() -> None:
    assert region_prefix("370000") == "37"
    assert region_prefix("370200") == "3702"
    assert region_prefix("370211") == "370211"
    assert scope_covers("", None) and scope_covers("370000", "370211") and not scope_covers("370200", "371302")


days = st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)


@given(starts=st.lists(days, min_size=1, max_size=6, unique=True), day=days)
def test_version_in_force_is_the_latest_started(starts: list[str], day: str) -> None:
    versions = [version(f"v{i}", s, ["x"]) for i, s in enumerate(starts)]
    started = sorted((s, i) for i, s in enumerate(starts) if s <= day)
    expected = f"v{started[-1][1]}" if started else None
    got = version_in_force(versions, day)
    assert (got.version if got else None) == expected
