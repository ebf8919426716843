"""The acting principal: who sends a request, in which role, for which parties, regions and sectors.

Every edge (HTTP, CLI, web) turns its credentials into a ``Principal`` and hands it to the domain and
store calls that must respect access rules. Party ids are platform party codes (主体码, see
``zhuisu.registry``); regions are GB/T 2260 code prefixes ("37" = Shandong, "3713" = Linyi).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["admin", "regulator", "enterprise", "client", "public"]
ROLES: tuple[Role, ...] = ("admin", "regulator", "enterprise", "client", "public")


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated (or anonymous, ``role="public"``) actor."""

    role: Role
    subject: str  # user id, "key:<api key id>", or "public"
    parties: frozenset[str] = field(default_factory=frozenset)  # party codes it acts for (enterprise: one)
    regions: tuple[str, ...] = ()  # regulator jurisdiction: GB/T 2260 prefixes
    sectors: frozenset[str] = field(default_factory=frozenset)  # regulator sectors
    scopes: frozenset[str] = field(default_factory=frozenset)  # API key scopes; empty = all of the role
    name: str = ""  # for audit logs and pages

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_public(self) -> bool:
        return self.role == "public"


PUBLIC = Principal(role="public", subject="public")
SYSTEM = Principal(role="admin", subject="system", name="system")  # the platform itself (CLI, demo loader)
