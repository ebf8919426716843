"""Who may do what, as plain rules: scopes of each role, what a party may claim when it captures, and what
of another party's event it may see.

Roles (``zhuisu.access.principal``):

- ``admin`` — platform administrator: everything.
- ``regulator`` — a department with a jurisdiction (GB/T 2260 region prefixes; ``""`` = nationwide, none =
  nothing, as in ``zhuisu.registry.access``) and sectors (none = every sector): reads, whole, the events and
  master data concerning parties inside it, and the audit log of those parties. Regulators do not capture.
- ``enterprise`` — a user acting for one party (主体): reads its own events whole and, redacted, the events of
  others that name it (its trading partners' shipments to it, receipts from it); captures only as itself.
- ``client`` — another platform or an enterprise system (API key): captures for, and reads like, the parties
  that authorised it (``client_authorisation``).
- ``public`` — no credentials: none of the EPCIS interface (401); the public trace page is its view.

Scopes narrow what a key may do within its role (a key with no scopes has all of its role's):
``epcis:read``, ``epcis:capture``, ``registry:read``, ``registry:write``, ``audit:read``, ``apikeys:manage``,
``users:manage``.

Trade secrets (商业秘密). A party that is *partner* but not *owner* of an event (it is named as a location,
source or destination, but the event was captured by someone else) sees the event without: the business
transactions (``bizTransactionList``: orders, invoices, hence prices and customers), the quantities and units
of every quantity list (volumes; the ``epcClass`` stays, so lots can still be traced), the sources and
destinations that name neither it nor the event's owner (the owner's other customers and suppliers), the
ILMD and every extension field (sector data, prices). Everything else — what, when, where, why (bizStep,
disposition), sensor readings — stays, so both sides of a hand-off can trace. A redacted event's eventID is
kept, but its content no longer matches its event hash: only the owner and regulators can verify it against
the ledger. Query filters on hidden fields (quantities, business transactions, sources/destinations,
ILMD/extension fields, ordering by an extension field) only match the viewer's own events, so a filter cannot
be used as an oracle on hidden values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from zhuisu.access.principal import Principal, Role
from zhuisu.epcis.index import STANDARD_KEYS
from zhuisu.epcis.problems import Problem

SCOPES: tuple[str, ...] = (
    "epcis:read",
    "epcis:capture",
    "registry:read",
    "registry:write",
    "audit:read",
    "apikeys:manage",
    "users:manage",
)

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    "admin": frozenset(SCOPES),
    "regulator": frozenset({"epcis:read", "registry:read", "registry:write", "audit:read"}),
    "enterprise": frozenset({"epcis:read", "epcis:capture", "registry:read", "registry:write", "apikeys:manage"}),
    "client": frozenset({"epcis:read", "epcis:capture", "registry:read"}),
    "public": frozenset(),
}


class ScopeError(ValueError):
    """Scopes a role cannot have, or a role/party combination that makes no sense."""


def effective_scopes(principal: Principal) -> frozenset[str]:
    """What ``principal`` may do: its role's scopes, narrowed by its key's scopes when it has any."""
    role = ROLE_SCOPES.get(principal.role, frozenset())
    return role & principal.scopes if principal.scopes else role


def allows(principal: Principal, scope: str) -> bool:
    return scope in effective_scopes(principal)


def check_grant(
    role: Role, *, parties: Iterable[str] = (), regions: Iterable[str] = (), scopes: Iterable[str] = ()
) -> None:
    """Refuse credentials that would make no sense: unknown scopes, scopes beyond the role, an enterprise
    without exactly one party, a region that is not a GB/T 2260 prefix."""
    if role not in ROLE_SCOPES or role == "public":
        raise ScopeError(f"role must be one of admin, regulator, enterprise, client, not {role!r}")
    for scope in scopes:
        if scope not in SCOPES:
            raise ScopeError(f"unknown scope {scope!r}; scopes are {', '.join(SCOPES)}")
        if scope not in ROLE_SCOPES[role]:
            raise ScopeError(f"the {role} role cannot have the scope {scope!r}")
    parties = list(parties)
    if role == "enterprise" and len(parties) != 1:
        raise ScopeError("an enterprise user or key acts for exactly one party (--party CODE)")
    if role in ("admin", "regulator") and parties:
        raise ScopeError(f"the {role} role does not act for parties")
    for region in regions:
        if region and not (region.isdigit() and 2 <= len(region) <= 6 and len(region) % 2 == 0):
            raise ScopeError(f"region {region!r} is not a GB/T 2260 code prefix (2, 4 or 6 digits; '' nationwide)")
    if role != "regulator" and list(regions):
        raise ScopeError("only regulators have a jurisdiction (--region)")


# --- capture: what an event claims --------------------------------------------------------------------


def _canonical(value: str) -> str:
    from zhuisu.codes.epc import canonical_id

    try:
        return canonical_id(value)
    except Exception:  # an identifier the codec cannot read is not a registered one
        return value


def claimed_locations(event: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(kind, field path, canonical id) of every place and party an event names: readPoint, bizLocation,
    sources and destinations (kind ``where``, ``source`` or ``destination``)."""
    for key in ("readPoint", "bizLocation"):
        value = event.get(key)
        if isinstance(value, Mapping) and isinstance(value.get("id"), str):
            yield "where", f"/{key}/id", _canonical(value["id"])
    for key, item_key, kind in (("sourceList", "source", "source"), ("destinationList", "destination", "destination")):
        items = event.get(key)
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, Mapping) and isinstance(item.get(item_key), str):
                    yield kind, f"/{key}/{i}/{item_key}", _canonical(item[item_key])


def capture_problems(
    index: int | None, event: Mapping[str, Any], party: str, owners: Mapping[str, str]
) -> list[Problem]:
    """Why ``party`` may not capture ``event`` (empty: it may). ``owners`` maps canonical ids to the party
    codes registered for them.

    Rules: the readPoint and bizLocation must not be another party's registered location (one records only
    what happens at one's own sites, or at unregistered ones); when the sources and destinations name
    registered parties or locations, ``party`` must be among them (one records only transfers one takes part
    in: a seller its shipment, a buyer its receipt — both name the same source and destination).
    """
    problems: list[Problem] = []
    transfer: list[tuple[str, str]] = []  # (path, owning party) of registered sources/destinations
    for kind, path, cid in claimed_locations(event):
        owner = owners.get(cid)
        if owner is None:
            continue
        if kind == "where":
            if owner != party:
                problems.append(
                    Problem(
                        index,
                        path,
                        f"{cid} is registered to party {owner}; party {party} captures only at "
                        "its own or unregistered locations",
                    )
                )
        else:
            transfer.append((path, owner))
    if transfer and party not in {owner for _, owner in transfer}:
        path, owner = transfer[0]
        problems.append(
            Problem(
                index,
                path,
                f"the transfer is between other parties ({owner}…); party {party} can only "
                "capture transfers it takes part in",
            )
        )
    return problems


def document_capture_problems(
    events: Iterable[Mapping[str, Any]],
    party: str,
    lookup: Callable[[set[str]], Mapping[str, str]],
    *,
    chunk: int = 1000,
    cap: int = 1000,
) -> list[Problem]:
    """``capture_problems`` for every event of a document (streamed; ``lookup`` asked once per ``chunk`` events
    for the registered owners of their identifiers), at most ``cap`` problems."""
    problems: list[Problem] = []
    batch: list[tuple[int, Mapping[str, Any], list[str]]] = []

    def check() -> None:
        wanted = {cid for _, _, ids in batch for cid in ids}
        owners = lookup(wanted) if wanted else {}
        if owners:
            for i, event, _ in batch:
                problems.extend(capture_problems(i, event, party, owners))
        batch.clear()

    for i, event in enumerate(events):
        ids = [cid for _, _, cid in claimed_locations(event)]
        if ids:
            batch.append((i, event, ids))
        if len(batch) >= chunk:
            check()
            if len(problems) >= cap:
                return problems[:cap]
    check()
    return problems[:cap]


# --- reading: what of an event a viewer sees ----------------------------------------------------------

_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def redact(
    event: dict[str, Any], viewer: Iterable[str], owner: str | None, owners: Mapping[str, str]
) -> dict[str, Any]:
    """``event`` as a partner (``viewer`` parties, not the owner) may see it; see the module docstring.

    ``owners`` maps canonical source/destination ids to their registered parties.
    """
    keep_parties = set(viewer) | ({owner} if owner else set())
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key in ("bizTransactionList", "ilmd"):
            continue
        if key not in STANDARD_KEYS:  # extension fields ("prefix:name")
            continue
        if key == "@context":
            continue
        if key in _QUANTITY_LISTS and isinstance(value, list):
            out[key] = [{"epcClass": q["epcClass"]} for q in value if isinstance(q, Mapping) and "epcClass" in q]
            continue
        if key in ("sourceList", "destinationList") and isinstance(value, list):
            item_key = "source" if key == "sourceList" else "destination"
            kept = [
                item
                for item in value
                if isinstance(item, Mapping)
                and isinstance(item.get(item_key), str)
                and owners.get(_canonical(item[item_key])) in keep_parties
            ]
            if kept:
                out[key] = kept
            continue
        out[key] = value
    return out


def hidden_values(event: Mapping[str, Any]) -> list[str]:
    """Source/destination values of an event (what ``redact`` needs looked up in the registry)."""
    return [cid for kind, _path, cid in claimed_locations(event) if kind != "where"]


def query_owner(principal: Principal) -> str:
    """Who owns the named queries ``principal`` creates: its party when it acts for exactly one (an enterprise's
    users and keys share their queries), else the principal itself."""
    if principal.role == "enterprise" and len(principal.parties) == 1:
        return "party:" + next(iter(principal.parties))
    return "user:" + principal.subject


def query_owners(principal: Principal) -> frozenset[str] | None:
    """Whose named queries ``principal`` may read and delete: None = all (administrators)."""
    if principal.is_admin:
        return None
    return frozenset({query_owner(principal)})
