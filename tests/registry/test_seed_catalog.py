"""The shipped catalog against the policy documents it was built from (tests/data/registry/policy)."""

from __future__ import annotations

import re
from pathlib import Path

from zhuisu.registry.catalog import CATALOGS, seed_versions
from zhuisu.registry.model import GRANULARITIES, SECTORS
from zhuisu.registry.validate import current_region_name

POLICY = Path(__file__).parents[1] / "data" / "registry" / "policy"
TEXT = "".join(re.sub(r"\s+", "", p.read_text("utf-8")) for p in sorted(POLICY.glob("*.txt")))

# Products the policy documents name as things to trace (read from the texts; each is checked to occur).
NAMED_IN_POLICY = [
    "蔬菜", "水果", "食用菌", "禽蛋", "茶叶", "家畜", "家禽", "中药材", "水产品", "生鲜乳", "虾蟹类", "苹果",
    "婴幼儿配方食品", "肉制品", "乳制品", "食用植物油", "白酒", "葡萄酒", "食品添加剂", "保健品",
    "原料药", "中药饮片", "植入类高风险医疗器械",
    "种子", "农药", "肥料", "兽药", "饲料",
    "电梯", "气瓶", "民用爆炸物品", "烟花爆竹", "易制爆危险化学品", "剧毒化学品", "稀土产品",
    "妇幼用品", "建材", "家电", "汽车零配件", "地方特色产品",
]  # fmt: skip


def core(name: str) -> str:
    return name.split("（")[0]


def test_every_seed_entry_is_named_in_a_policy_document() -> None:
    for v in seed_versions():
        for e in v.entries:
            assert core(e.name_zh) in TEXT, (v.version, e.category, e.name_zh)


def test_every_product_the_policy_names_is_in_the_seed_catalog() -> None:
    names = {core(e.name_zh) for v in seed_versions() for e in v.entries}
    for product in NAMED_IN_POLICY:
        assert product in TEXT, product  # the list above is read from the documents, not invented
        assert product in names or any(product in n for n in names), product


def test_seed_versions_are_well_formed() -> None:
    seen = set()
    for v in seed_versions():
        assert v.catalog in CATALOGS
        assert v.scope == "" or current_region_name(v.scope) is not None
        assert (v.catalog, v.scope, v.version) not in seen
        seen.add((v.catalog, v.scope, v.version))
        cats = [e.category for e in v.entries]
        assert len(cats) == len(set(cats))
        for e in v.entries:
            assert e.sector in SECTORS and e.granularity in GRANULARITIES
    # The same category keeps its sector in every catalog it appears in (products check against it).
    sectors: dict[str, set[str]] = {}
    for v in seed_versions():
        for e in v.entries:
            sectors.setdefault(e.category, set()).add(e.sector)
    assert all(len(s) == 1 for s in sectors.values()), sectors
