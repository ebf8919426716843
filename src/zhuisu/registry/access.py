"""Who may read and change what in the registry (pure rules; the store and the API apply them).

- **admin**: everything.
- **regulator**: reads and changes parties whose region starts with one of ``principal.regions`` (GB/T 2260
  prefixes; ``""`` = nationwide; no regions = nothing) and, when ``principal.sectors`` is not empty, that
  share a sector with it; their locations and products likewise. Registers parties and approves, suspends
  or revokes them inside that jurisdiction; manages local catalogs whose scope lies inside its regions.
- **enterprise**: reads and updates its own party (``principal.parties``), its locations and products, and
  creates locations and products for itself only; it cannot change its status or register other parties.
- **public** and **client**: read catalogs and the public fields of approved parties, their locations and
  products (no identity numbers, licences, contacts, status history; for natural persons no address and no
  coordinates). Writing as public is refused with 401; writing without the right with 403; reading a
  record one may not see answers 404, exactly as for a record that does not exist.
"""

from __future__ import annotations

from zhuisu.access.principal import Principal
from zhuisu.registry.catalog import region_prefix
from zhuisu.registry.errors import RegistryError
from zhuisu.registry.model import Party


def in_jurisdiction(principal: Principal, region: str, sectors: tuple[str, ...] | None = None) -> bool:
    """Region (and, when given, sectors) inside a regulator's jurisdiction."""
    if principal.role != "regulator":
        return principal.is_admin
    if not any(region.startswith(p) for p in principal.regions):
        return False
    # With sectors named, a regulator of some sectors sees parties sharing one of them.
    return not principal.sectors or sectors is None or bool(set(sectors) & principal.sectors)


def full_view(principal: Principal, party: Party) -> bool:
    """May ``principal`` see everything about ``party`` (licences, contacts, masked id, history)?"""
    if principal.is_admin:
        return True
    if principal.role == "enterprise":
        return party.party_code in principal.parties
    if principal.role == "regulator":
        return in_jurisdiction(principal, party.region, party.sectors)
    return False


def can_read(principal: Principal, party: Party) -> bool:
    """May ``principal`` see this party at all (public fields at least)?"""
    return full_view(principal, party) or party.status == "approved"


def can_update(principal: Principal, party: Party) -> bool:
    return full_view(principal, party)


def can_set_status(principal: Principal, party: Party) -> bool:
    return principal.is_admin or (
        principal.role == "regulator" and in_jurisdiction(principal, party.region, party.sectors)
    )


def require_writer(principal: Principal) -> None:
    if principal.is_public:
        raise RegistryError.one("", "sign in to change the registry", status=401)


def refuse(what: str) -> RegistryError:
    return RegistryError.one("", f"not allowed to {what}", status=403)


def check_party_write(principal: Principal, party: Party | None, what: str) -> Party:
    """The party to change on behalf of ``principal``; 401/403/404 otherwise. 404 when it cannot even see it."""
    require_writer(principal)
    if party is None or not can_read(principal, party):
        raise RegistryError.one("party_code", "no such party", status=404)
    if not can_update(principal, party):
        raise refuse(what)
    return party


def can_manage_catalog(principal: Principal, scope: str) -> bool:
    """National catalogs: administrators; a local catalog: also regulators whose regions contain its scope."""
    if principal.is_admin:
        return True
    if principal.role != "regulator" or scope == "":
        return False
    prefix = region_prefix(scope)
    return any(prefix.startswith(p) for p in principal.regions)
