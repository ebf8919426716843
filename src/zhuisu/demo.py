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
FARM = ("6901234", "临沂沂蒙生态养殖场", "371300")
SLAUGHTER = ("6901235", "临沂金锣肉联厂", "371300")
MARKET = ("6901236", "北京新发地农产品批发市场", "110106")
SHOP = ("6901237", "北京华联超市（丰台店）", "110106")
PHARMA = ("6922222", "江苏恒瑞制药有限公司", "320700")
DISTRIBUTOR = ("6922223", "国药控股北京有限公司", "110105")
HOSPITAL = ("6922224", "北京朝阳医院药房", "110105")

PORK_GTIN = _check("690123500001")  # 13 digits → GTIN-13 of chilled pork carcass halves
PIG_GTIN = _check("690123400001")
DRUG_GTIN = _check("692222200001")


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
    pigs = f"https://id.gs1.org/01/0{PIG_GTIN}/10/ZZ20261101"
    carcass = f"https://id.gs1.org/01/0{PORK_GTIN}/10/TZ20261105A"
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


def drug_chain() -> Iterator[dict[str, Any]]:
    company, item = PHARMA[0], DRUG_GTIN[7:12]
    boxes = [f"urn:epc:id:sgtin:{company}.0{item}.{serial}" for serial in range(100001, 100011)]
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
            "cbvmda:lotNumber": "HR261102",
            "cbvmda:itemExpirationDate": "2028-10-31",
            "zs:approvalNumber": "国药准字H20260001",
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
    dl_boxes = [f"https://id.gs1.org/01/0{DRUG_GTIN}/21/{serial}" for serial in range(100001, 100004)]
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


def events() -> list[dict[str, Any]]:
    return [*pork_chain(), *drug_chain()]


def load(engine: Engine) -> CaptureResult:
    """Capture the demo events (idempotent: loading twice stores them once)."""
    return capture_events(engine, events(), source="demo")


def describe() -> list[str]:
    return [
        f"pork lot  https://id.gs1.org/01/0{PORK_GTIN}/10/TZ20261105A  ({SLAUGHTER[1]} → {MARKET[1]} → {SHOP[1]})",
        f"drug box  https://id.gs1.org/01/0{DRUG_GTIN}/21/100001  ({PHARMA[1]} → {DISTRIBUTOR[1]} → {HOSPITAL[1]})",
    ]


def remove_sqlite_file(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
