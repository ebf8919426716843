"""The registry's value objects (frozen dataclasses) and its controlled vocabularies.

``Party``, ``Location`` and ``Product`` are the contract other areas read through ``zhuisu.store.registry``
(``get_party``, ``get_location``, ``get_product`` …); the ``*Detail`` objects add what only the owner, a
regulator or an administrator may see (licences, contact, the masked identity number, status history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PartyKind = Literal["enterprise", "person"]
Granularity = Literal["lot", "serial"]

PARTY_KINDS: tuple[str, ...] = ("enterprise", "person")
GRANULARITIES: tuple[str, ...] = ("lot", "serial")

# 主体备案 status; a party starts "pending" (admins may register it "approved" at once).
STATUSES: dict[str, str] = {
    "pending": "待审核",
    "approved": "已备案",
    "suspended": "暂停",
    "revoked": "注销",
}
# Allowed status changes (from → to). Revoked is final: the party code is never reused.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"approved", "revoked"}),
    "approved": frozenset({"suspended", "revoked"}),
    "suspended": frozenset({"approved", "revoked"}),
    "revoked": frozenset(),
}

# Party types (主体类型). The policy names the nodes of each chain: 养殖/种植 → 屠宰/加工 → 批发 → 市场/零售,
# with logistics, medical institutions and pharmacies for drugs, maintainers for elevators, filling stations
# for gas cylinders.
PARTY_TYPES: dict[str, tuple[str, str]] = {
    "producer": ("生产企业", "producer / manufacturer"),
    "farm": ("种植养殖场", "farm"),
    "cooperative": ("农民专业合作社", "farmers' cooperative"),
    "farmer": ("农户", "farmer"),
    "slaughterhouse": ("屠宰企业", "slaughterhouse"),
    "processor": ("加工企业", "processor"),
    "wholesaler": ("批发企业", "wholesaler / distributor"),
    "market": ("批发市场/农贸市场", "market"),
    "stall_holder": ("场内经营户", "stall holder"),
    "retailer": ("零售企业/超市", "retailer / supermarket"),
    "caterer": ("餐饮单位/团体消费单位", "caterer / institutional canteen"),
    "logistics": ("物流企业", "logistics"),
    "importer": ("进口企业", "importer"),
    "exporter": ("出口企业", "exporter"),
    "medical_institution": ("医疗机构", "medical institution"),
    "pharmacy": ("药品零售企业", "pharmacy"),
    "elevator_maintainer": ("电梯维保单位", "elevator maintainer"),
    "elevator_user": ("电梯使用单位", "elevator user"),
    "gas_filling_station": ("气瓶充装单位", "gas filling station"),
    "dangerous_goods_operator": ("危险品生产经营单位", "dangerous goods operator"),
    "input_dealer": ("农资经营单位", "agricultural input dealer"),
}

# Sectors (行业). A sector's trace profile (what events and data it needs) is data other areas key by these
# names; the catalog names the sector of each category.
SECTORS: dict[str, tuple[str, str]] = {
    "meat": ("肉类", "meat"),
    "vegetable": ("蔬菜", "vegetables"),
    "fruit": ("水果", "fruit"),
    "aquatic": ("水产品", "aquatic products"),
    "grain_oil": ("粮油", "grain and edible oil"),
    "tea": ("茶叶", "tea"),
    "livestock": ("畜禽（活体）", "live livestock and poultry"),
    "dairy": ("生鲜乳", "raw milk"),
    "edible_agri": ("其他食用农产品", "other edible agricultural products"),
    "food": ("食品", "food"),
    "infant_formula": ("婴幼儿配方食品", "infant formula"),
    "liquor": ("酒类", "alcoholic drinks"),
    "health_food": ("保健食品", "health food"),
    "drug": ("药品", "drugs"),
    "medical_device": ("医疗器械", "medical devices"),
    "tcm": ("中药材", "Chinese medicinal materials"),
    "pesticide": ("农药", "pesticides"),
    "veterinary_drug": ("兽药", "veterinary drugs"),
    "fertilizer": ("化肥", "fertilisers"),
    "seed": ("种子", "seeds"),
    "feed": ("饲料", "animal feed"),
    "special_equipment": ("特种设备", "special equipment"),
    "dangerous_goods": ("危险品", "dangerous goods"),
    "rare_earth": ("稀土产品", "rare earth products"),
    "cosmetics": ("化妆品", "cosmetics"),
    "auto_parts": ("汽车零配件", "auto parts"),
    "consumer_goods": ("消费品", "consumer goods (maternal and infant goods, building materials, appliances)"),
}

# Licences and approvals (许可证/批准文号), by kind.
LICENCE_KINDS: dict[str, tuple[str, str]] = {
    "business_licence": ("营业执照", "business licence"),
    "food_production": ("食品生产许可证", "food production licence"),
    "food_business": ("食品经营许可证", "food business licence"),
    "drug_production": ("药品生产许可证", "drug production licence"),
    "drug_business": ("药品经营许可证", "drug business licence"),
    "medical_institution": ("医疗机构执业许可证", "medical institution practising licence"),
    "slaughter": ("生猪定点屠宰证", "designated slaughter certificate"),
    "animal_epidemic": ("动物防疫条件合格证", "animal epidemic prevention certificate"),
    "pesticide_business": ("农药经营许可证", "pesticide business licence"),
    "pesticide_production": ("农药生产许可证", "pesticide production licence"),
    "vet_drug_production": ("兽药生产许可证", "veterinary drug production licence"),
    "vet_drug_business": ("兽药经营许可证", "veterinary drug business licence"),
    "seed_production": ("种子生产经营许可证", "seed production and business licence"),
    "liquor_circulation": ("酒类流通备案登记", "liquor circulation registration"),
    "special_equipment": ("特种设备生产/充装许可证", "special equipment licence"),
    "dangerous_chemicals": ("危险化学品经营许可证", "dangerous chemicals business licence"),
    "other": ("其他许可", "other"),
}


@dataclass(frozen=True, slots=True)
class Party:
    """A registered party (主体): an enterprise or a natural person, with its platform party code (主体码)."""

    party_code: str
    kind: str  # "enterprise" | "person"
    uscc: str | None
    name: str
    types: tuple[str, ...]
    sectors: tuple[str, ...]
    region: str  # GB/T 2260
    address: str | None
    status: str
    gln: str | None = None  # the party's own GLN (AI 417), 13 digits


@dataclass(frozen=True, slots=True)
class Licence:
    """A licence or approval number with its validity (ISO dates, inclusive; ``valid_to`` None = open)."""

    kind: str
    number: str
    issuer: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    at: int  # microseconds since the epoch, UTC
    from_status: str | None
    to_status: str
    reason: str | None
    actor: str


@dataclass(frozen=True, slots=True)
class PartyDetail:
    """A party with what only its owner, its regulators and administrators see."""

    party: Party
    licences: tuple[Licence, ...] = ()
    contact_name: str | None = None
    contact_phone: str | None = None
    id_masked: str | None = None  # natural persons: masked identity number
    history: tuple[StatusChange, ...] = ()
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class Location:
    """A place of a party: ``code`` is its GLN's canonical Digital Link (``https://id.gs1.org/414/<gln>``,
    with ``/254/<ext>`` for a sub-location) or a platform location code (``urn:zhuisu:loc:<party>.<n>``)."""

    code: str
    party_code: str
    gln: str | None
    name: str
    region: str
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    gln_extension: str | None = None


@dataclass(frozen=True, slots=True)
class Product:
    """A registered product (品种备案): ``product_id`` is its GTIN-14 or a platform product code
    (``urn:zhuisu:class:<party>.<n>``)."""

    product_id: str
    party_code: str
    gtin: str | None
    name: str
    spec: str | None
    sector: str
    category: str | None
    shelf_life_days: int | None
    approval_no: str | None
    granularity: str  # "lot" | "serial"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One category of a catalog version: what must (key) or should (encouraged) be traced, how finely, and
    with which sector profile."""

    category: str
    name_zh: str
    name_en: str
    sector: str
    granularity: str
    profile: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogVersion:
    """A whole catalog as published on one date (a version replaces the previous one of the same catalog
    and scope from ``effective_from`` on, or ends at ``effective_to`` when given)."""

    catalog: str  # "key" | "encouraged"
    scope: str  # "" for the national catalog, else a GB/T 2260 region code (local catalog)
    version: str
    effective_from: str  # ISO date
    effective_to: str | None = None  # ISO date, exclusive; None = until replaced
    title: str = ""
    source: str | None = None
    entries: tuple[CatalogEntry, ...] = field(default_factory=tuple)
