"""Registry records as EPCIS 2.0 master data: an ``EPCISDocument`` whose header carries
``epcisMasterData.vocabularyList`` (empty event list), the JSON form of the EPCIS 2.0 standard.

- Locations are elements of both ``urn:epcglobal:epcis:vtype:BusinessLocation`` and
  ``urn:epcglobal:epcis:vtype:ReadPoint`` (a registered place serves as either), with the CBV master-data
  attributes ``urn:epcglobal:cbv:mda#name``, ``#streetAddressOne``, ``#state`` (region name),
  ``#countryCode`` (CN), ``#latitude``, ``#longitude``.
- Products are elements of ``urn:epcglobal:epcis:vtype:EPCClass``, identified by the GTIN's Digital Link
  (``https://id.gs1.org/01/<gtin14>``) or the platform product code, with ``#descriptionShort``,
  ``#netContentDescription`` (specification), ``#manufacturerOfTradeItemPartyName`` and
  ``#regulatedProductName`` (drugs, pesticides, veterinary drugs).
- What CBV has no attribute for goes under ``urn:zhuisu:mda#``: ``partyCode``, ``regionCode``, ``sector``,
  ``category``, ``granularity``, ``shelfLifeDays``, ``approvalNumber``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from zhuisu.registry.model import Location, Product
from zhuisu.registry.validate import current_region_name

CBV_MDA = "urn:epcglobal:cbv:mda#"
ZHUISU_MDA = "urn:zhuisu:mda#"
VTYPE_BUSINESS_LOCATION = "urn:epcglobal:epcis:vtype:BusinessLocation"
VTYPE_READ_POINT = "urn:epcglobal:epcis:vtype:ReadPoint"
VTYPE_EPC_CLASS = "urn:epcglobal:epcis:vtype:EPCClass"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
_REGULATED = frozenset({"drug", "pesticide", "veterinary_drug"})


def _attrs(pairs: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": key, "attribute": value} for key, value in pairs if value is not None]


def location_element(loc: Location, *, public: bool = False) -> dict[str, Any]:
    """One vocabulary element; ``public`` leaves out the address and coordinates (natural persons' places)."""
    pairs: list[tuple[str, Any]] = [
        (CBV_MDA + "name", loc.name),
        (CBV_MDA + "streetAddressOne", None if public else loc.address),
        (CBV_MDA + "state", current_region_name(loc.region)),
        (CBV_MDA + "countryCode", "CN"),
        (CBV_MDA + "latitude", None if public or loc.lat is None else f"{loc.lat:.6f}"),
        (CBV_MDA + "longitude", None if public or loc.lon is None else f"{loc.lon:.6f}"),
        (ZHUISU_MDA + "partyCode", loc.party_code),
        (ZHUISU_MDA + "regionCode", loc.region),
    ]
    return {"id": loc.code, "attributes": _attrs(pairs)}


def product_class_id(product: Product) -> str:
    """The EPC class identifier: the GTIN's Digital Link, else the platform product code."""
    return f"https://id.gs1.org/01/{product.gtin}" if product.gtin else product.product_id


def product_element(product: Product, owner_name: str | None = None) -> dict[str, Any]:
    pairs: list[tuple[str, Any]] = [
        (CBV_MDA + "descriptionShort", product.name),
        (CBV_MDA + "regulatedProductName", product.name if product.sector in _REGULATED else None),
        (CBV_MDA + "netContentDescription", product.spec),
        (CBV_MDA + "manufacturerOfTradeItemPartyName", owner_name),
        (ZHUISU_MDA + "partyCode", product.party_code),
        (ZHUISU_MDA + "sector", product.sector),
        (ZHUISU_MDA + "category", product.category),
        (ZHUISU_MDA + "granularity", product.granularity),
        (ZHUISU_MDA + "shelfLifeDays", product.shelf_life_days),
        (ZHUISU_MDA + "approvalNumber", product.approval_no),
    ]
    return {"id": product_class_id(product), "attributes": _attrs(pairs)}


def masterdata_document(
    locations: Iterable[tuple[Location, bool]],
    products: Iterable[Product],
    owner_names: Mapping[str, str] | None = None,
    *,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """An EPCISDocument carrying the master data; ``locations`` pairs each location with ``public``."""
    owner_names = owner_names or {}
    loc_elements = [location_element(loc, public=public) for loc, public in locations]
    vocabularies: list[dict[str, Any]] = []
    if loc_elements:
        vocabularies.append({"type": VTYPE_BUSINESS_LOCATION, "vocabularyElementList": loc_elements})
        vocabularies.append({"type": VTYPE_READ_POINT, "vocabularyElementList": loc_elements})
    classes = [product_element(p, owner_names.get(p.party_code)) for p in products]
    if classes:
        vocabularies.append({"type": VTYPE_EPC_CLASS, "vocabularyElementList": classes})
    created = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created,
        "epcisHeader": {"epcisMasterData": {"vocabularyList": vocabularies}},
        "epcisBody": {"eventList": []},
    }
