"""The demo data set: two short supply chains a new user can trace end to end.

- Pork (猪肉, 一批一码): a farm raises a batch of pigs, a slaughterhouse quarantines and slaughters them
  into carcass lots, ships a lot to a wholesale market, the market sells it on to a supermarket.
- Drugs (药品, 一物一码): a manufacturer commissions serialised boxes, packs them into a case (SSCC),
  ships it to a distributor, who ships it on to a hospital pharmacy that dispenses one box.

Identifiers use GS1 China's 690–699 prefix range with fictitious company numbers and correct check
digits; both EPC URNs and GS1 Digital Links appear, as they do in real feeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from stdnum import ean

from zhuisu.epcis.capture import CaptureResult, capture_events

NS = {"zs": "https://zhuisu.org/ns/epcis/"}


def _check(digits: str) -> str:
    return digits + ean.calc_check_digit(digits)


def gln(company: str, location: str) -> str:
    return _check(company + location)


def sgln_urn(company: str, location: str) -> str:
    return f"urn:epc:id:sgln:{company}.{location}.0"


# Fictitious parties (company prefix, name, region code GB/T 2260).
FARM = ("6901234", "临沂沂蒙生态养殖场", "371302")
SLAUGHTER = ("6901235", "临沂金锣肉联厂", "371302")
MARKET = ("6901236", "北京新发地农产品批发市场", "110106")
SHOP = ("6901237", "北京华联超市（丰台店）", "110106")
PHARMA = ("6922222", "江苏恒瑞制药有限公司", "320703")
DISTRIBUTOR = ("6922223", "国药控股北京有限公司", "110105")
HOSPITAL = ("6922224", "北京朝阳医院药房", "110105")

PIG_GTIN = _check("690123400001")  # 13 digits → GTIN-13 of live pigs
PORK_GTIN = _check("690123500001")  # chilled pork carcass halves
DRUG_GTIN = _check("692222200001")  # a boxed prescription drug
PIG_LOT = "ZZ20261101"
PORK_LOT = "TZ20261105A"
DRUG_LOT = "HR261102"


def uscc(region: str, org8: str) -> str:
    """A 统一社会信用代码 with both check characters computed (GB 11714 inside, GB 32100 outside)."""
    from stdnum.cn import uscc as stdnum_uscc

    from zhuisu.codes.cn import org_code_check

    body = "91" + region + org8 + org_code_check(org8)
    return body + stdnum_uscc.calc_check_digit(body)


# (party, organisation code body, types, sectors, address)
PARTIES: list[tuple[tuple[str, str, str], str, list[str], list[str], str]] = [
    (FARM, "MA3C4F5G", ["farm"], ["livestock"], "山东省临沂市兰山区白沙埠镇"),
    (SLAUGHTER, "MA3C4F6H", ["slaughterhouse", "processor"], ["livestock", "meat"], "山东省临沂市兰山区金锣科技园"),
    (MARKET, "MA7D8E9F", ["market"], ["meat", "vegetable", "fruit"], "北京市丰台区京开路1号"),
    (SHOP, "MA7D8E9G", ["retailer"], ["meat", "food"], "北京市丰台区丰台北路18号"),
    (PHARMA, "MA1B2C3D", ["producer"], ["drug"], "江苏省连云港市海州区昆仑山路7号"),
    (DISTRIBUTOR, "MA5E6F7G", ["wholesaler"], ["drug"], "北京市朝阳区东三环中路20号"),
    (HOSPITAL, "MA5E6F8H", ["medical_institution"], ["drug"], "北京市朝阳区工人体育场南路8号"),
]
LOCATIONS: dict[tuple[str, str, str], list[tuple[str, str]]] = {
    FARM: [("00001", "沂蒙生态养殖场一号圈舍")],
    SLAUGHTER: [("00001", "金锣肉联厂屠宰车间")],
    MARKET: [("00001", "新发地市场南门"), ("00102", "新发地市场肉类交易区B区")],
    SHOP: [("00001", "华联超市丰台店生鲜部")],
    PHARMA: [("00001", "恒瑞制药连云港生产基地")],
    DISTRIBUTOR: [("00001", "国药控股北京物流中心")],
    HOSPITAL: [("00001", "朝阳医院门诊药房")],
}
PRODUCTS: list[tuple[tuple[str, str, str], dict[str, Any]]] = [
    (FARM, {"name": "沂蒙黑猪（生猪）", "gtin": PIG_GTIN, "sector": "livestock", "category": "livestock"}),
    (
        SLAUGHTER,
        {
            "name": "冷鲜猪肉（白条）",
            "gtin": PORK_GTIN,
            "sector": "meat",
            "category": "meat",
            "spec": "二分体",
            "shelf_life_days": 5,
            "granularity": "lot",
        },
    ),
    (
        PHARMA,
        {
            "name": "注射用卡瑞利珠单抗",
            "gtin": DRUG_GTIN,
            "sector": "drug",
            "category": "drug",
            "spec": "200 mg/瓶",
            "shelf_life_days": 720,
            "approval_no": "国药准字S20190027",
            "granularity": "serial",
        },
    ),
]


def _event(kind: str, time: str, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind, "eventTime": time, "eventTimeZoneOffset": "+08:00"}
    event.update(fields)
    event["@context"] = [NS]
    return event


def _loc(party: tuple[str, str, str], location: str = "00001") -> dict[str, str]:
    return {"id": sgln_urn(party[0], location)}


def _party(party: tuple[str, str, str]) -> str:
    return f"https://id.gs1.org/417/{gln(party[0], '00000')}"


def pork_chain() -> Iterator[dict[str, Any]]:
    pigs = f"https://id.gs1.org/01/0{PIG_GTIN}/10/{PIG_LOT}"
    carcass = f"https://id.gs1.org/01/0{PORK_GTIN}/10/{PORK_LOT}"
    yield _event(
        "ObjectEvent",
        "2026-11-01T08:00:00+08:00",
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=[],
        quantityList=[{"epcClass": pigs, "quantity": 120, "uom": "H87"}],
        readPoint=_loc(FARM),
        bizLocation=_loc(FARM),
        ilmd={"zs:breed": "杜洛克", "zs:farmName": FARM[1], "zs:regionCode": FARM[2]},
    )
    yield _event(
        "ObjectEvent",
        "2026-11-04T07:30:00+08:00",
        action="OBSERVE",
        bizStep="inspecting",
        disposition="conformant",
        quantityList=[{"epcClass": pigs, "quantity": 40, "uom": "H87"}],
        readPoint=_loc(FARM),
        bizLocation=_loc(FARM),
        **{"zs:quarantineCertificate": "A37-2026-1104-0088", "zs:inspectionResult": "合格"},
    )
    yield _event(
        "ObjectEvent",
        "2026-11-04T09:00:00+08:00",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        quantityList=[{"epcClass": pigs, "quantity": 40, "uom": "H87"}],
        readPoint=_loc(FARM),
        bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:6901234000002:FH-1104"}],
        sourceList=[{"type": "owning_party", "source": _party(FARM)}],
        destinationList=[{"type": "owning_party", "destination": _party(SLAUGHTER)}],
    )
    yield _event(
        "ObjectEvent",
        "2026-11-04T14:00:00+08:00",
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        quantityList=[{"epcClass": pigs, "quantity": 40, "uom": "H87"}],
        readPoint=_loc(SLAUGHTER),
        bizLocation=_loc(SLAUGHTER),
        bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:6901234000002:FH-1104"}],
        sourceList=[{"type": "owning_party", "source": _party(FARM)}],
        destinationList=[{"type": "owning_party", "destination": _party(SLAUGHTER)}],
    )
    yield _event(
        "TransformationEvent",
        "2026-11-05T06:00:00+08:00",
        bizStep="killing",
        inputQuantityList=[{"epcClass": pigs, "quantity": 40, "uom": "H87"}],
        outputQuantityList=[{"epcClass": carcass, "quantity": 3600, "uom": "KGM"}],
        readPoint=_loc(SLAUGHTER),
        bizLocation=_loc(SLAUGHTER),
        ilmd={"zs:slaughterDate": "2026-11-05", "zs:meatInspectionCertificate": "B37-2026-1105-0123"},
    )
    yield _event(
        "ObjectEvent",
        "2026-11-05T10:00:00+08:00",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        quantityList=[{"epcClass": carcass, "quantity": 1800, "uom": "KGM"}],
        readPoint=_loc(SLAUGHTER),
        bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:6901235000001:JL-1105-07"}],
        sourceList=[{"type": "owning_party", "source": _party(SLAUGHTER)}],
        destinationList=[{"type": "owning_party", "destination": _party(MARKET)}],
        sensorElementList=[
            {
                "sensorMetadata": {"time": "2026-11-05T10:00:00+08:00"},
                "sensorReport": [{"type": "Temperature", "minValue": 0.5, "maxValue": 3.8, "uom": "CEL"}],
            }
        ],
    )
    yield _event(
        "ObjectEvent",
        "2026-11-05T22:10:00+08:00",
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        quantityList=[{"epcClass": carcass, "quantity": 1800, "uom": "KGM"}],
        readPoint=_loc(MARKET),
        bizLocation=_loc(MARKET, "00102"),
        bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:6901235000001:JL-1105-07"}],
        sourceList=[{"type": "owning_party", "source": _party(SLAUGHTER)}],
        destinationList=[{"type": "owning_party", "destination": _party(MARKET)}],
    )
    yield _event(
        "ObjectEvent",
        "2026-11-06T05:20:00+08:00",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        quantityList=[{"epcClass": carcass, "quantity": 300, "uom": "KGM"}],
        readPoint=_loc(MARKET, "00102"),
        sourceList=[{"type": "owning_party", "source": _party(MARKET)}],
        destinationList=[{"type": "owning_party", "destination": _party(SHOP)}],
        **{"zs:stallNumber": "B区-118"},
    )
    yield _event(
        "ObjectEvent",
        "2026-11-06T07:00:00+08:00",
        action="OBSERVE",
        bizStep="receiving",
        disposition="sellable_accessible",
        quantityList=[{"epcClass": carcass, "quantity": 300, "uom": "KGM"}],
        readPoint=_loc(SHOP),
        bizLocation=_loc(SHOP),
        sourceList=[{"type": "owning_party", "source": _party(MARKET)}],
        destinationList=[{"type": "owning_party", "destination": _party(SHOP)}],
    )


def drug_chain(serials: list[str]) -> Iterator[dict[str, Any]]:
    """The boxes carry the serial codes the platform issued (its manufacturer's line printed them)."""
    company, item = PHARMA[0], DRUG_GTIN[7:12]
    boxes = [f"urn:epc:id:sgtin:{company}.0{item}.{serial}" for serial in serials]
    case = f"urn:epc:id:sscc:{company}.0000000101"
    yield _event(
        "ObjectEvent",
        "2026-11-02T09:00:00+08:00",
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=boxes,
        readPoint=_loc(PHARMA),
        bizLocation=_loc(PHARMA),
        ilmd={
            "cbvmda:lotNumber": DRUG_LOT,
            "cbvmda:itemExpirationDate": "2028-10-31",
            "zs:approvalNumber": "国药准字S20190027",
        },
    )
    yield _event(
        "AggregationEvent",
        "2026-11-02T10:00:00+08:00",
        action="ADD",
        bizStep="packing",
        disposition="in_progress",
        parentID=case,
        childEPCs=boxes,
        readPoint=_loc(PHARMA),
        bizLocation=_loc(PHARMA),
    )
    yield _event(
        "ObjectEvent",
        "2026-11-03T08:00:00+08:00",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=[case],
        readPoint=_loc(PHARMA),
        sourceList=[{"type": "owning_party", "source": _party(PHARMA)}],
        destinationList=[{"type": "owning_party", "destination": _party(DISTRIBUTOR)}],
    )
    yield _event(
        "ObjectEvent",
        "2026-11-04T11:00:00+08:00",
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        epcList=[case],
        readPoint=_loc(DISTRIBUTOR),
        bizLocation=_loc(DISTRIBUTOR),
        sourceList=[{"type": "owning_party", "source": _party(PHARMA)}],
        destinationList=[{"type": "owning_party", "destination": _party(DISTRIBUTOR)}],
    )
    # The distributor's system sends Digital Links, not URNs: the platform indexes both as one.
    dl_boxes = [f"https://id.gs1.org/01/0{DRUG_GTIN}/21/{serial}" for serial in serials[:3]]
    yield _event(
        "ObjectEvent",
        "2026-11-06T09:30:00+08:00",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=dl_boxes,
        readPoint=_loc(DISTRIBUTOR),
        sourceList=[{"type": "owning_party", "source": _party(DISTRIBUTOR)}],
        destinationList=[{"type": "owning_party", "destination": _party(HOSPITAL)}],
    )
    yield _event(
        "ObjectEvent",
        "2026-11-06T15:00:00+08:00",
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        epcList=dl_boxes,
        readPoint=_loc(HOSPITAL),
        bizLocation=_loc(HOSPITAL),
        sourceList=[{"type": "owning_party", "source": _party(DISTRIBUTOR)}],
        destinationList=[{"type": "owning_party", "destination": _party(HOSPITAL)}],
    )
    yield _event(
        "ObjectEvent",
        "2026-11-08T10:12:00+08:00",
        action="DELETE",
        bizStep="dispensing",
        disposition="dispensed",
        epcList=[dl_boxes[0]],
        readPoint=_loc(HOSPITAL),
        bizLocation=_loc(HOSPITAL),
    )


def events(drug_serials: list[str]) -> list[dict[str, Any]]:
    return [*pork_chain(), *drug_chain(drug_serials)]


def _read_point_prefix(event: dict[str, Any]) -> str:
    return str(event["readPoint"]["id"]).split(":")[-1].split(".")[0]


# Who captures each event: the party whose company prefix its read point carries.
_BY_PREFIX = {p[0]: p for p in (FARM, SLAUGHTER, MARKET, SHOP, PHARMA, DISTRIBUTOR, HOSPITAL)}


def _register(conn: Any) -> dict[tuple[str, str, str], str]:
    """Register the demo parties, their locations and products; party codes by party."""
    from zhuisu.access.principal import SYSTEM
    from zhuisu.store import registry

    codes: dict[tuple[str, str, str], str] = {}
    for party, org, types, sectors, address in PARTIES:
        created = registry.create_party(
            conn,
            SYSTEM,
            {
                "name": party[1],
                "uscc": uscc(party[2], org),
                "types": types,
                "sectors": sectors,
                "region": party[2],
                "address": address,
                "gln": gln(party[0], "00000"),
                "status": "approved",
            },
        )
        codes[party] = created.party_code
        for location, name in LOCATIONS[party]:
            registry.create_location(
                conn,
                SYSTEM,
                {"party_code": created.party_code, "name": name, "gln": gln(party[0], location), "region": party[2]},
            )
    for party, data in PRODUCTS:
        registry.create_product(conn, SYSTEM, {"party_code": codes[party], **data})
    return codes


def load(engine: Engine, *, resolver_base: str | None = None) -> CaptureResult:
    """Register the demo parties and products, issue the drug boxes' serial codes, capture the events.

    Loading into a database that already holds the demo registers nothing new and stores no event twice.
    """
    from zhuisu.access.principal import SYSTEM
    from zhuisu.store import registry
    from zhuisu.store.codes import issue_codes
    from zhuisu.store.db import writing

    with engine.connect() as conn:
        known = registry.get_party_by_uscc(conn, uscc(FARM[2], PARTIES[0][1]))
    if known is None:
        with writing(engine) as conn:
            codes = _register(conn)
        with engine.connect() as conn:
            drug = registry.find_product_by_gtin(conn, "0" + DRUG_GTIN)
            pork = registry.find_product_by_gtin(conn, "0" + PORK_GTIN)
        assert drug is not None and pork is not None
        issue_codes(engine, SYSTEM, drug, "serial", 10, lot=DRUG_LOT, resolver_base=resolver_base)
        issue_codes(engine, SYSTEM, pork, "lot", 1, lot=PORK_LOT, resolver_base=resolver_base)
    with engine.connect() as conn:
        codes = {}
        for party, org, *_ in PARTIES:
            found = registry.get_party_by_uscc(conn, uscc(party[2], org))
            assert found is not None
            codes[party] = found.party_code
    total = CaptureResult()
    for event in events(drug_serials(engine)):
        owner = _BY_PREFIX[_read_point_prefix(event)]
        result = capture_events(engine, [event], source="demo", party=codes.get(owner))
        total.event_count += result.event_count
        total.stored += result.stored
        total.duplicates += result.duplicates
        total.add_problems(result.problems)
    return total


DEMO_PASSWORD = "zhuisu-demo-2026"  # printed by ``zhuisu demo load``: demo accounts only
# (user name, role, party whose user it is, regions, sectors, display name)
ACCOUNTS: list[tuple[str, str, tuple[str, str, str] | None, list[str], list[str], str]] = [
    ("admin", "admin", None, [], [], "平台管理员"),
    ("hengrui", "enterprise", PHARMA, [], [], "恒瑞制药 追溯专员"),
    ("xinfadi", "enterprise", MARKET, [], [], "新发地市场 管理处"),
    ("bj-regulator", "regulator", None, ["11"], ["drug", "meat"], "北京市市场监督管理局"),
]


def ensure_accounts(engine: Engine) -> list[str]:
    """Create the demo's sign-in accounts (once) and a new administrator API key; lines saying how to use them."""
    from zhuisu.access import service
    from zhuisu.access.principal import SYSTEM
    from zhuisu.store import access, registry

    lines = []
    for username, role, party, regions, sectors, display in ACCOUNTS:
        with engine.connect() as conn:
            exists = access.get_user_by_name(conn, username) is not None
            found = registry.get_party_by_uscc(conn, uscc(party[2], _org(party))) if party else None
        if not exists:
            service.create_user(
                engine,
                SYSTEM,
                username=username,
                password=DEMO_PASSWORD,
                role=role,  # type: ignore[arg-type]
                display_name=display,
                parties=[found.party_code] if found else [],
                regions=regions,
                sectors=sectors,
            )
        lines.append(f"sign in as {username:<13} password {DEMO_PASSWORD}  ({display})")
    key = service.create_key(engine, SYSTEM, role="admin", name="demo")
    lines.append(f"admin API key (shown once): {key.key}")
    return lines


def _org(party: tuple[str, str, str]) -> str:
    return next(org for p, org, *_ in PARTIES if p == party)


def drug_serials(engine: Engine) -> list[str]:
    """The serials issued for the demo drug's boxes, in issue order."""
    from zhuisu.store.codes import list_product_codes

    with engine.connect() as conn:
        return [c.serial for c in list_product_codes(conn, "0" + DRUG_GTIN) if c.serial]


def describe(engine: Engine, resolver_base: str = "http://127.0.0.1:8000") -> list[str]:
    """Where a new user starts: the trace pages of a pork lot and of a dispensed drug box."""
    base = resolver_base.rstrip("/")
    box = drug_serials(engine)[0]
    return [
        f"pork lot  {base}/01/0{PORK_GTIN}/10/{PORK_LOT}  ({FARM[1]} → {SLAUGHTER[1]} → {MARKET[1]} → {SHOP[1]})",
        f"drug box  {base}/01/0{DRUG_GTIN}/21/{box}  ({PHARMA[1]} → {DISTRIBUTOR[1]} → {HOSPITAL[1]})",
    ]


def remove_sqlite_file(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
