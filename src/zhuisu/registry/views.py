"""JSON views of registry records, for the API and ``--json`` CLI output.

``public`` views carry what anyone may read: no identity numbers, licences, contacts or status history,
and for natural persons no address and no coordinates of their places.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from zhuisu.registry.model import (
    PARTY_TYPES,
    SECTORS,
    STATUSES,
    CatalogEntry,
    CatalogVersion,
    Location,
    Party,
    PartyDetail,
    Product,
)
from zhuisu.registry.validate import current_region_name


def party_view(party: Party, detail: PartyDetail | None = None) -> dict[str, Any]:
    """Public fields of ``party``; with ``detail`` (only for those allowed), everything but the clear id."""
    out: dict[str, Any] = {
        "party_code": party.party_code,
        "kind": party.kind,
        "name": party.name,
        "types": list(party.types),
        "type_names": [PARTY_TYPES[t][0] for t in party.types if t in PARTY_TYPES],
        "sectors": list(party.sectors),
        "sector_names": [SECTORS[s][0] for s in party.sectors if s in SECTORS],
        "region": party.region,
        "region_name": current_region_name(party.region),
        "status": party.status,
        "status_name": STATUSES.get(party.status),
        "gln": party.gln,
    }
    if party.kind == "enterprise" or detail is not None:
        out["uscc"] = party.uscc
        out["address"] = party.address
    if detail is not None:
        out["licences"] = [asdict(lic) for lic in detail.licences]
        out["contact_name"] = detail.contact_name
        out["contact_phone"] = detail.contact_phone
        out["id_number_masked"] = detail.id_masked
        out["history"] = [asdict(h) for h in detail.history]
        out["created_at"] = detail.created_at
        out["updated_at"] = detail.updated_at
    return out


def location_view(loc: Location, *, public: bool = False) -> dict[str, Any]:
    out = asdict(loc)
    out["region_name"] = current_region_name(loc.region)
    if public:
        out.update(address=None, lat=None, lon=None)
    return out


def product_view(product: Product) -> dict[str, Any]:
    out = asdict(product)
    out["sector_name"] = SECTORS.get(product.sector, ("", ""))[0] or None
    return out


def entry_view(entry: CatalogEntry) -> dict[str, Any]:
    return asdict(entry)


def version_view(version: CatalogVersion, *, entries: bool = True) -> dict[str, Any]:
    out = {k: v for k, v in asdict(version).items() if k != "entries"}
    out["scope_name"] = current_region_name(version.scope) if version.scope else "全国 (national)"
    if entries:
        out["entries"] = [entry_view(e) for e in version.entries]
    else:
        out["entry_count"] = len(version.entries)
    return out
