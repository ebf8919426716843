"""Small hand-made supply networks (EPCIS JSON-LD events) shared by the trace tests."""

from __future__ import annotations

from typing import Any

GCP = "0614141"


def sgtin(item: str, serial: int) -> str:
    return f"urn:epc:id:sgtin:{GCP}.{item}.{serial}"


def lgtin(item: str, lot: str) -> str:
    return f"urn:epc:class:lgtin:{GCP}.{item}.{lot}"


def sscc(n: int) -> str:
    return f"urn:epc:id:sscc:{GCP}.{n:010d}"


def pgln(n: int) -> str:
    return f"urn:epc:id:pgln:{GCP}.{n:05d}"


def sgln(n: int) -> str:
    return f"urn:epc:id:sgln:{GCP}.{n:05d}.0"


def at(minute: int) -> str:
    return f"2026-03-01T{8 + minute // 60:02d}:{minute % 60:02d}:00+08:00"


def event(kind: str, minute: int, **fields: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {"type": kind, "eventTime": at(minute), "eventTimeZoneOffset": "+08:00"}
    ev.update(fields)
    return ev


def drug_network() -> list[dict[str, Any]]:
    """Serials of lot L1 commissioned, packed in a case, the case on a pallet, shipped maker → distributor,
    received, unpacked, one serial dispensed at a hospital; a second lot L2 never mixed in."""
    s = [sgtin("107346", i) for i in range(1, 5)]
    other = sgtin("107346", 99)
    case, pallet = sscc(1), sscc(2)
    maker, dist, hosp = pgln(1), pgln(2), pgln(3)
    return [
        event(
            "ObjectEvent",
            0,
            action="ADD",
            epcList=s,
            bizStep="commissioning",
            disposition="active",
            bizLocation={"id": sgln(1)},
            ilmd={"cbvmda:lotNumber": "L1"},
        ),
        event(
            "ObjectEvent",
            1,
            action="ADD",
            epcList=[other],
            bizStep="commissioning",
            disposition="active",
            bizLocation={"id": sgln(1)},
            ilmd={"cbvmda:lotNumber": "L2"},
        ),
        event("AggregationEvent", 2, action="ADD", parentID=case, childEPCs=s[:3], bizStep="packing"),
        event("AggregationEvent", 3, action="ADD", parentID=pallet, childEPCs=[case], bizStep="packing"),
        event(
            "ObjectEvent",
            10,
            action="OBSERVE",
            epcList=[pallet],
            bizStep="shipping",
            disposition="in_transit",
            readPoint={"id": sgln(1)},
            sourceList=[{"type": "owning_party", "source": maker}],
            destinationList=[{"type": "owning_party", "destination": dist}],
            bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:D1"}],
        ),
        event(
            "ObjectEvent",
            20,
            action="OBSERVE",
            epcList=[pallet],
            bizStep="receiving",
            disposition="in_progress",
            bizLocation={"id": sgln(2)},
            destinationList=[{"type": "owning_party", "destination": dist}],
        ),
        event("AggregationEvent", 21, action="DELETE", parentID=pallet, childEPCs=[case], bizStep="unpacking"),
        event("AggregationEvent", 22, action="DELETE", parentID=case, bizStep="unpacking"),
        event(
            "ObjectEvent",
            30,
            action="OBSERVE",
            epcList=[s[0]],
            bizStep="shipping",
            disposition="in_transit",
            sourceList=[{"type": "owning_party", "source": dist}],
            destinationList=[{"type": "owning_party", "destination": hosp}],
        ),
        event(
            "ObjectEvent",
            40,
            action="OBSERVE",
            epcList=[s[0]],
            bizStep="dispensing",
            disposition="dispensed",
            bizLocation={"id": sgln(3)},
        ),
    ]


def meat_network() -> list[dict[str, Any]]:
    """Lot-level: two pig lots slaughtered into one carcass lot (two events sharing a transformationID),
    cut into two product lots, one shipped to a market and part of it sold."""
    pigs_a, pigs_b = lgtin("200001", "PA"), lgtin("200001", "PB")
    carcass = lgtin("200002", "C1")
    cut1, cut2 = lgtin("200003", "K1"), lgtin("200004", "K2")
    farm, plant, market = pgln(11), pgln(12), pgln(13)
    return [
        event(
            "ObjectEvent",
            0,
            action="ADD",
            quantityList=[{"epcClass": pigs_a, "quantity": 10, "uom": "H87"}],
            bizStep="commissioning",
            bizLocation={"id": sgln(11)},
        ),
        event(
            "ObjectEvent",
            1,
            action="ADD",
            quantityList=[{"epcClass": pigs_b, "quantity": 5, "uom": "H87"}],
            bizStep="commissioning",
            bizLocation={"id": sgln(11)},
        ),
        event(
            "TransformationEvent",
            10,
            transformationID="urn:uuid:3f4c0d2e-0000-4000-8000-000000000001",
            inputQuantityList=[{"epcClass": pigs_a, "quantity": 10, "uom": "H87"}],
            bizStep="https://zhuisu.example/bizstep/slaughtering",
        ),
        event(
            "TransformationEvent",
            11,
            transformationID="urn:uuid:3f4c0d2e-0000-4000-8000-000000000001",
            inputQuantityList=[{"epcClass": pigs_b, "quantity": 5, "uom": "H87"}],
            outputQuantityList=[{"epcClass": carcass, "quantity": 1200, "uom": "KGM"}],
            bizStep="https://zhuisu.example/bizstep/slaughtering",
        ),
        event(
            "TransformationEvent",
            20,
            inputQuantityList=[{"epcClass": carcass, "quantity": 1200, "uom": "KGM"}],
            outputQuantityList=[
                {"epcClass": cut1, "quantity": 700, "uom": "KGM"},
                {"epcClass": cut2, "quantity": 500, "uom": "KGM"},
            ],
            bizStep="commissioning",
        ),
        event(
            "ObjectEvent",
            30,
            action="OBSERVE",
            quantityList=[{"epcClass": cut1, "quantity": 300, "uom": "KGM"}],
            bizStep="shipping",
            sourceList=[{"type": "owning_party", "source": plant}],
            destinationList=[{"type": "owning_party", "destination": market}],
        ),
        event(
            "ObjectEvent",
            40,
            action="OBSERVE",
            quantityList=[{"epcClass": cut1, "quantity": 300, "uom": "KGM"}],
            bizStep="receiving",
            destinationList=[{"type": "owning_party", "destination": market}],
            bizLocation={"id": sgln(13)},
        ),
        event(
            "ObjectEvent",
            50,
            action="OBSERVE",
            quantityList=[{"epcClass": cut1, "quantity": 20, "uom": "KGM"}],
            bizStep="retail_selling",
            disposition="retail_sold",
            bizLocation={"id": sgln(13)},
            sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 3.5, "uom": "CEL"}]}],
        ),
        # farm is the party of the commissioning; not otherwise named
        event(
            "ObjectEvent",
            2,
            action="OBSERVE",
            quantityList=[{"epcClass": pigs_a, "quantity": 10, "uom": "H87"}],
            bizStep="inspecting",
            sourceList=[{"type": "owning_party", "source": farm}],
        ),
    ]
