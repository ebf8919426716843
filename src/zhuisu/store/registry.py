"""Registry tables and SQL: parties (主体), their licences and status history, locations, products, catalog
versions and entries, and the counters behind platform codes.

Lists of words (types, sectors) are stored space-separated with a space before and after
(``" meat drug "``) so a sector filter is one ``LIKE '% meat %'``. Dates (licence validity, catalog
effective dates) are ISO ``YYYY-MM-DD`` strings, which compare as dates; times are microseconds since the
epoch, UTC. Every change goes through a function here that also writes its audit entry, in the caller's
transaction (open it with ``zhuisu.store.db.writing`` / ``for_writing(conn).begin()``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    false,
    insert,
    or_,
    select,
    text,
    update,
)

from zhuisu.access.principal import Principal
from zhuisu.codes.epc import canonical_id
from zhuisu.epcis.problems import Problem
from zhuisu.registry import access, identifiers
from zhuisu.registry.catalog import entries_in_force, find_entry, region_prefix
from zhuisu.registry.errors import RegistryError
from zhuisu.registry.identifiers import IdentityProtector
from zhuisu.registry.model import (
    TRANSITIONS,
    CatalogEntry,
    CatalogVersion,
    Licence,
    Location,
    Party,
    PartyDetail,
    Product,
    StatusChange,
)
from zhuisu.registry.validate import validate_location, validate_party, validate_product
from zhuisu.store import audit
from zhuisu.store.db import json_unnest
from zhuisu.store.schema import BigId, metadata

registry_party = Table(
    "registry_party",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("party_code", String(16), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("uscc", String(18), nullable=True, unique=True),
    Column("name", Text, nullable=False),
    Column("types", Text, nullable=False),
    Column("sectors", Text, nullable=False),
    Column("region", String(6), nullable=False),
    Column("address", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("gln", String(13), nullable=True, unique=True),
    Column("contact_name", Text, nullable=True),
    Column("contact_phone", Text, nullable=True),
    Column("id_cipher", Text, nullable=True),
    Column("id_hash", String(64), nullable=True, unique=True),
    Column("id_masked", String(32), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_registry_party_region", "region"),
    Index("ix_registry_party_status", "status"),
)

registry_licence = Table(
    "registry_licence",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("party_code", String(16), ForeignKey("registry_party.party_code"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("number", Text, nullable=False),
    Column("issuer", Text, nullable=True),
    Column("valid_from", String(10), nullable=True),
    Column("valid_to", String(10), nullable=True),
    Index("ix_registry_licence_party", "party_code"),
)

registry_status_change = Table(
    "registry_status_change",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("party_code", String(16), ForeignKey("registry_party.party_code"), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("actor", Text, nullable=False),
    Index("ix_registry_status_change_party", "party_code", "at"),
)

registry_counter = Table(
    "registry_counter",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

registry_location = Table(
    "registry_location",
    metadata,
    Column("code", String(200), primary_key=True),
    Column("party_code", String(16), ForeignKey("registry_party.party_code"), nullable=False),
    Column("gln", String(13), nullable=True),
    Column("gln_extension", String(20), nullable=True),
    Column("name", Text, nullable=False),
    Column("region", String(6), nullable=False),
    Column("address", Text, nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_registry_location_party", "party_code"),
    Index("ix_registry_location_gln", "gln"),
)

registry_product = Table(
    "registry_product",
    metadata,
    Column("product_id", String(200), primary_key=True),
    Column("party_code", String(16), ForeignKey("registry_party.party_code"), nullable=False),
    Column("gtin", String(14), nullable=True, unique=True),
    Column("name", Text, nullable=False),
    Column("spec", Text, nullable=True),
    Column("sector", String(32), nullable=False),
    Column("category", String(64), nullable=True),
    Column("shelf_life_days", Integer, nullable=True),
    Column("approval_no", Text, nullable=True),
    Column("granularity", String(8), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_registry_product_party", "party_code"),
    Index("ix_registry_product_category", "category"),
)

registry_catalog_version = Table(
    "registry_catalog_version",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("catalog", String(16), nullable=False),
    Column("scope", String(6), nullable=False),  # '' national, else GB/T 2260 code
    Column("version", String(64), nullable=False),
    Column("effective_from", String(10), nullable=False),
    Column("effective_to", String(10), nullable=True),
    Column("title", Text, nullable=False),
    Column("source", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("catalog", "scope", "version", name="ux_registry_catalog_version"),
)

registry_catalog_entry = Table(
    "registry_catalog_entry",
    metadata,
    Column("version_id", BigInteger, ForeignKey("registry_catalog_version.id"), nullable=False),
    Column("category", String(64), nullable=False),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("sector", String(32), nullable=False),
    Column("granularity", String(8), nullable=False),
    Column("profile", String(64), nullable=False),
    Column("note", Text, nullable=True),
    UniqueConstraint("version_id", "category", name="ux_registry_catalog_entry"),
    Index("ix_registry_catalog_entry_category", "category"),
)

TABLES = (
    registry_party,
    registry_licence,
    registry_status_change,
    registry_counter,
    registry_location,
    registry_product,
    registry_catalog_version,
    registry_catalog_entry,
)

_CHUNK = 1000  # identifiers per IN (...) list
_Record = TypeVar("_Record", "Location", "Product")


def _now() -> int:
    return time.time_ns() // 1000


def _words(values: Iterable[str]) -> str:
    return " " + " ".join(values) + " " if values else " "


def _unwords(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ---------------------------------------------------------------------------------------------- reading


def _party(row: Row[Any]) -> Party:
    m = row._mapping
    return Party(
        party_code=m["party_code"],
        kind=m["kind"],
        uscc=m["uscc"],
        name=m["name"],
        types=_unwords(m["types"]),
        sectors=_unwords(m["sectors"]),
        region=m["region"],
        address=m["address"],
        status=m["status"],
        gln=m["gln"],
    )


def _from_row(cls: type[_Record], row: Row[Any]) -> _Record:
    """A model record whose fields are columns of the same names (locations, products)."""
    m = row._mapping
    return cls(**{f.name: m[f.name] for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


def _location(row: Row[Any]) -> Location:
    return _from_row(Location, row)


def _product(row: Row[Any]) -> Product:
    return _from_row(Product, row)


def get_party(conn: Connection, party_code: str) -> Party | None:
    row = conn.execute(select(registry_party).where(registry_party.c.party_code == party_code)).first()
    return _party(row) if row is not None else None


def get_party_by_uscc(conn: Connection, uscc: str) -> Party | None:
    row = conn.execute(select(registry_party).where(registry_party.c.uscc == uscc.upper())).first()
    return _party(row) if row is not None else None


def get_party_detail(conn: Connection, party_code: str) -> PartyDetail | None:
    row = conn.execute(select(registry_party).where(registry_party.c.party_code == party_code)).first()
    if row is None:
        return None
    m = row._mapping
    licences = tuple(
        Licence(kind=r.kind, number=r.number, issuer=r.issuer, valid_from=r.valid_from, valid_to=r.valid_to)
        for r in conn.execute(
            select(registry_licence).where(registry_licence.c.party_code == party_code).order_by(registry_licence.c.id)
        )
    )
    history = tuple(
        StatusChange(at=r.at, from_status=r.from_status, to_status=r.to_status, reason=r.reason, actor=r.actor)
        for r in conn.execute(
            select(registry_status_change)
            .where(registry_status_change.c.party_code == party_code)
            .order_by(registry_status_change.c.id)
        )
    )
    return PartyDetail(
        party=_party(row),
        licences=licences,
        contact_name=m["contact_name"],
        contact_phone=m["contact_phone"],
        id_masked=m["id_masked"],
        history=history,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def get_location(conn: Connection, code: str) -> Location | None:
    row = conn.execute(select(registry_location).where(registry_location.c.code == code)).first()
    if row is None and not code.startswith(identifiers.LOCATION_PREFIX):
        try:
            canonical = canonical_id(code)
        except ValueError:
            return None
        if canonical != code:
            row = conn.execute(select(registry_location).where(registry_location.c.code == canonical)).first()
    return _location(row) if row is not None else None


def get_product(conn: Connection, product_id: str) -> Product | None:
    row = conn.execute(select(registry_product).where(registry_product.c.product_id == product_id)).first()
    return _product(row) if row is not None else None


def find_product_by_gtin(conn: Connection, gtin14: str) -> Product | None:
    row = conn.execute(select(registry_product).where(registry_product.c.gtin == gtin14)).first()
    return _product(row) if row is not None else None


_GLN_414 = "https://id.gs1.org/414/"
_GLN_417 = "https://id.gs1.org/417/"


def parties_for_identifiers(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """Party code owning each known identifier (canonical form, see ``zhuisu.codes.epc.canonical_id``).

    Locations by their code (an SGLN Digital Link, with or without ``/254/<ext>``, or a platform location
    code); an SGLN with an extension that is not registered falls back to the location of its bare GLN;
    ``https://id.gs1.org/417/<gln>`` (a party GLN) to the party registered with that GLN. Unknown
    identifiers are left out. At most three queries, each with the identifiers as one array parameter
    (capture asks once per batch of a thousand events: no statement with thousands of parameters to build).
    """
    wanted = list(dict.fromkeys(ids))
    out = dict(_code_owners(conn, "registry_location", "code", wanted))
    bare: dict[str, list[str]] = {}  # bare 414 GLN DL → ids with an extension that were not found
    pglns: dict[str, list[str]] = {}
    for ident in wanted:
        if ident in out:
            continue
        if ident.startswith(_GLN_414) and "/254/" in ident:
            bare.setdefault(ident.split("/254/", 1)[0], []).append(ident)
        elif ident.startswith(_GLN_417):
            pglns.setdefault(ident[len(_GLN_417) :], []).append(ident)
    for code, party in _code_owners(conn, "registry_location", "code", list(bare)):
        for ident in bare[code]:
            out[ident] = party
    for gln, party in _code_owners(conn, "registry_party", "gln", list(pglns)):
        for ident in pglns[gln]:
            out[ident] = party
    return out


def _code_owners(conn: Connection, table: str, column: str, values: list[str]) -> list[tuple[str, str]]:
    """(value, party_code) of the rows of ``table`` whose ``column`` is one of ``values`` (one JSON parameter)."""
    if not values:
        return []
    unnest = json_unnest(conn.dialect.name, ":values")
    rows = conn.execute(
        text(f"SELECT {column}, party_code FROM {table} WHERE {column} IN ({unnest})"),
        {"values": orjson.dumps(values).decode()},
    )
    return [(value, party) for value, party in rows]


def _visibility(principal: Principal) -> Any:
    """SQL condition: parties ``principal`` may see (public fields at least)."""
    p = registry_party.c
    approved = p.status == "approved"
    if principal.is_admin:
        return None
    if principal.role == "enterprise":
        return or_(approved, p.party_code.in_(sorted(principal.parties)))
    if principal.role == "regulator":
        regions = or_(false(), *(p.region.like(prefix + "%") for prefix in principal.regions))
        cond = regions
        if principal.sectors:
            cond = and_(regions, or_(*(p.sectors.like(f"% {s} %") for s in sorted(principal.sectors))))
        return or_(approved, cond)
    return approved


def list_parties(
    conn: Connection,
    principal: Principal,
    *,
    region: str | None = None,
    sector: str | None = None,
    type_: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    after: str | None = None,
    limit: int = 30,
) -> list[Party]:
    """Parties visible to ``principal``, filtered, in party-code order, ``limit`` after party code ``after``."""
    p = registry_party.c
    stmt = select(registry_party)
    vis = _visibility(principal)
    if vis is not None:
        stmt = stmt.where(vis)
    if region:
        stmt = stmt.where(p.region.like(region_prefix(region) + "%"))
    if sector:
        stmt = stmt.where(p.sectors.like(f"% {sector} %"))
    if type_:
        stmt = stmt.where(p.types.like(f"% {type_} %"))
    if status:
        stmt = stmt.where(p.status == status)
    if kind:
        stmt = stmt.where(p.kind == kind)
    if q:
        stmt = stmt.where(or_(p.name.contains(q, autoescape=True), p.uscc == q.upper(), p.party_code == q.upper()))
    if after:
        stmt = stmt.where(p.party_code > after)
    return [_party(r) for r in conn.execute(stmt.order_by(p.party_code).limit(limit))]


def _visible_owner_join(table: Table, principal: Principal) -> Any:
    stmt = select(table).join(registry_party, registry_party.c.party_code == table.c.party_code)
    vis = _visibility(principal)
    return stmt.where(vis) if vis is not None else stmt


def list_locations(
    conn: Connection,
    principal: Principal,
    *,
    party_code: str | None = None,
    region: str | None = None,
    after: str | None = None,
    limit: int = 30,
) -> list[Location]:
    loc = registry_location.c
    stmt = _visible_owner_join(registry_location, principal)
    if party_code:
        stmt = stmt.where(loc.party_code == party_code)
    if region:
        stmt = stmt.where(loc.region.like(region_prefix(region) + "%"))
    if after:
        stmt = stmt.where(loc.code > after)
    return [_location(r) for r in conn.execute(stmt.order_by(loc.code).limit(limit))]


def list_products(
    conn: Connection,
    principal: Principal,
    *,
    party_code: str | None = None,
    sector: str | None = None,
    category: str | None = None,
    q: str | None = None,
    after: str | None = None,
    limit: int = 30,
) -> list[Product]:
    pr = registry_product.c
    stmt = _visible_owner_join(registry_product, principal)
    if party_code:
        stmt = stmt.where(pr.party_code == party_code)
    if sector:
        stmt = stmt.where(pr.sector == sector)
    if category:
        stmt = stmt.where(pr.category == category)
    if q:
        stmt = stmt.where(or_(pr.name.contains(q, autoescape=True), pr.gtin == q, pr.approval_no == q))
    if after:
        stmt = stmt.where(pr.product_id > after)
    return [_product(r) for r in conn.execute(stmt.order_by(pr.product_id).limit(limit))]


# ---------------------------------------------------------------------------------------------- writing


def _next(conn: Connection, name: str) -> int:
    """The next value of counter ``name`` (from 1), under the counter row's lock (concurrent writers wait)."""
    from sqlalchemy.dialects import postgresql, sqlite

    first = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(first(registry_counter).values(name=name, value=0).on_conflict_do_nothing())
    value = conn.execute(
        update(registry_counter)
        .where(registry_counter.c.name == name)
        .values(value=registry_counter.c.value + 1)
        .returning(registry_counter.c.value)
    ).scalar_one()
    return int(value)


def _conflict(field: str, message: str) -> RegistryError:
    return RegistryError([Problem(None, "/" + field, message)], status=409)


def default_protector(conn: Connection) -> IdentityProtector:
    """Identity protection keyed by ``ZHUISU_SECRET_KEY`` or, unset, the database URL."""
    return IdentityProtector.from_settings(None, conn.engine.url.render_as_string(hide_password=False))


def create_party(
    conn: Connection,
    principal: Principal,
    data: dict[str, Any],
    *,
    protector: IdentityProtector | None = None,
    remote: str | None = None,
) -> Party:
    """Register a party (inside the caller's write transaction); raises ``RegistryError`` naming fields.

    Administrators and regulators (inside their jurisdiction) register parties; a new party is ``pending``
    unless ``status: approved`` is given. The party code is issued here (see ``zhuisu.registry.identifiers``).
    """
    access.require_writer(principal)
    if not (principal.is_admin or principal.role == "regulator"):
        raise access.refuse("register parties (ask a regulator or administrator)")
    clean = validate_party(data)
    if not access.in_jurisdiction(principal, clean["region"], clean.get("sectors", ())):
        raise access.refuse(f"register parties in region {clean['region']} or these sectors")
    p = registry_party.c
    if clean.get("uscc") and conn.execute(select(p.party_code).where(p.uscc == clean["uscc"])).first():
        raise _conflict("uscc", f"统一社会信用代码 {clean['uscc']} is already registered")
    if clean.get("gln") and conn.execute(select(p.party_code).where(p.gln == clean["gln"])).first():
        raise _conflict("gln", f"GLN {clean['gln']} is already registered to another party")
    cipher = digest = masked = None
    if clean.get("id_number"):
        protector = protector or default_protector(conn)
        cipher, digest, masked = protector.protect(clean["id_number"])
        if conn.execute(select(p.party_code).where(p.id_hash == digest)).first():
            raise _conflict("id_number", "this identity number is already registered")
    letter = identifiers.party_letter(clean["kind"], clean["types"])
    seq = _next(conn, f"party:{letter}{clean['region']}")
    code = identifiers.make_party_code(letter, clean["region"], seq)
    status = clean.get("status", "pending")
    now = _now()
    conn.execute(
        insert(registry_party).values(
            party_code=code,
            kind=clean["kind"],
            uscc=clean.get("uscc"),
            name=clean["name"],
            types=_words(clean["types"]),
            sectors=_words(clean.get("sectors", ())),
            region=clean["region"],
            address=clean.get("address"),
            status=status,
            gln=clean.get("gln"),
            contact_name=clean.get("contact_name"),
            contact_phone=clean.get("contact_phone"),
            id_cipher=cipher,
            id_hash=digest,
            id_masked=masked,
            created_at=now,
            updated_at=now,
        )
    )
    _write_licences(conn, code, clean.get("licences", ()))
    conn.execute(
        insert(registry_status_change).values(
            party_code=code, at=now, from_status=None, to_status=status, reason="registered", actor=principal.subject
        )
    )
    detail = {k: v for k, v in clean.items() if k not in ("id_number", "licences")}
    detail["licences"] = len(clean.get("licences", ()))
    audit.record(
        conn, principal, "party.create", target_type="party", target_id=code, detail=_jsonable(detail), remote=remote
    )
    party = get_party(conn, code)
    assert party is not None
    return party


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _write_licences(conn: Connection, code: str, licences: Iterable[dict[str, Any]]) -> None:
    rows = [dict(lic, party_code=code) for lic in licences]
    if rows:
        conn.execute(insert(registry_licence), rows)


def update_party(
    conn: Connection, principal: Principal, party_code: str, data: dict[str, Any], *, remote: str | None = None
) -> Party:
    """Change a party's name, types, sectors, address, GLN, contact or licences (replaced as a whole)."""
    party = access.check_party_write(principal, get_party(conn, party_code), "change this party")
    if isinstance(data, dict) and "status" in data:
        raise RegistryError.one("status", "change the status through the status endpoint (approve, suspend, revoke)")
    clean = validate_party(data, partial=True)
    if (
        principal.role == "regulator"
        and "sectors" in clean
        and not access.in_jurisdiction(principal, party.region, clean["sectors"])
    ):
        raise access.refuse("move this party out of your sectors")
    p = registry_party.c
    if (
        clean.get("gln")
        and clean["gln"] != party.gln
        and conn.execute(select(p.party_code).where(p.gln == clean["gln"])).first()
    ):
        raise _conflict("gln", f"GLN {clean['gln']} is already registered to another party")
    values: dict[str, Any] = {}
    for key in ("name", "address", "gln", "contact_name", "contact_phone"):
        if key in clean:
            values[key] = clean[key]
    for key in ("types", "sectors"):
        if key in clean:
            values[key] = _words(clean[key])
    if "types" in clean and identifiers.party_letter(party.kind, clean["types"]) != party_code[0]:
        raise RegistryError.one("types", "would change the kind of party the party code stands for")
    values["updated_at"] = _now()
    conn.execute(update(registry_party).where(p.party_code == party_code).values(**values))
    if "licences" in clean:
        conn.execute(registry_licence.delete().where(registry_licence.c.party_code == party_code))
        _write_licences(conn, party_code, clean["licences"])
    audit.record(
        conn,
        principal,
        "party.update",
        target_type="party",
        target_id=party_code,
        detail=_jsonable({k: v for k, v in clean.items()}),
        remote=remote,
    )
    updated = get_party(conn, party_code)
    assert updated is not None
    return updated


def set_party_status(
    conn: Connection,
    principal: Principal,
    party_code: str,
    status: str,
    reason: str | None = None,
    *,
    remote: str | None = None,
) -> Party:
    """Approve, suspend, reinstate or revoke a party (administrators; regulators in their jurisdiction)."""
    access.require_writer(principal)
    party = get_party(conn, party_code)
    if party is None or not access.can_read(principal, party):
        raise RegistryError.one("party_code", "no such party", status=404)
    if not access.can_set_status(principal, party):
        raise access.refuse("change this party's status")
    if status not in TRANSITIONS:
        raise RegistryError.one("status", f"{status!r} is not one of: " + ", ".join(TRANSITIONS))
    if status not in TRANSITIONS[party.status]:
        raise _conflict("status", f"a {party.status} party cannot become {status}")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500 or "\x00" in reason):
        raise RegistryError.one("reason", "must be a string of at most 500 characters, without NUL")
    now = _now()
    conn.execute(
        update(registry_party).where(registry_party.c.party_code == party_code).values(status=status, updated_at=now)
    )
    conn.execute(
        insert(registry_status_change).values(
            party_code=party_code,
            at=now,
            from_status=party.status,
            to_status=status,
            reason=reason,
            actor=principal.subject,
        )
    )
    audit.record(
        conn,
        principal,
        "party.status",
        target_type="party",
        target_id=party_code,
        detail={"from": party.status, "to": status, "reason": reason},
        remote=remote,
    )
    updated = get_party(conn, party_code)
    assert updated is not None
    return updated


def _owner_for_write(conn: Connection, principal: Principal, party_code: str, what: str) -> Party:
    access.require_writer(principal)
    party = get_party(conn, party_code)
    if party is None or not access.can_read(principal, party):
        raise RegistryError.one("party_code", f"no party {party_code!r} is registered", status=404)
    if not access.can_update(principal, party):
        raise access.refuse(what)
    if party.status == "revoked":
        raise _conflict("party_code", f"party {party_code} is revoked")
    return party


def create_location(
    conn: Connection, principal: Principal, data: dict[str, Any], *, remote: str | None = None
) -> Location:
    """Register a location of a party (its own, for an enterprise user)."""
    access.require_writer(principal)
    clean = validate_location(data)
    _owner_for_write(conn, principal, clean["party_code"], "register locations for this party")
    if clean.get("gln"):
        code = f"{_GLN_414}{clean['gln']}"
        if clean.get("gln_extension"):
            code = canonical_id(f"{code}/254/{clean['gln_extension']}")
        if conn.execute(select(registry_location.c.party_code).where(registry_location.c.code == code)).first():
            raise _conflict("gln", f"location {code} is already registered")
    else:
        code = identifiers.location_code(clean["party_code"], _next(conn, f"location:{clean['party_code']}"))
    now = _now()
    conn.execute(
        insert(registry_location).values(
            code=code,
            party_code=clean["party_code"],
            gln=clean.get("gln"),
            gln_extension=clean.get("gln_extension"),
            name=clean["name"],
            region=clean["region"],
            address=clean.get("address"),
            lat=clean.get("lat"),
            lon=clean.get("lon"),
            created_at=now,
            updated_at=now,
        )
    )
    audit.record(
        conn, principal, "location.create", target_type="location", target_id=code, detail=clean, remote=remote
    )
    loc = get_location(conn, code)
    assert loc is not None
    return loc


def update_location(
    conn: Connection, principal: Principal, code: str, data: dict[str, Any], *, remote: str | None = None
) -> Location:
    loc = get_location(conn, code)
    access.require_writer(principal)
    if loc is None:
        raise RegistryError.one("code", "no such location", status=404)
    _owner_for_write(conn, principal, loc.party_code, "change this location")
    clean = validate_location(data, partial=True)
    values: dict[str, Any] = {k: clean[k] for k in ("name", "region", "address", "lat", "lon") if k in clean}
    values["updated_at"] = _now()
    conn.execute(update(registry_location).where(registry_location.c.code == loc.code).values(**values))
    audit.record(
        conn, principal, "location.update", target_type="location", target_id=loc.code, detail=clean, remote=remote
    )
    updated = get_location(conn, loc.code)
    assert updated is not None
    return updated


def _check_category(conn: Connection, clean: dict[str, Any], region: str) -> None:
    """A product's category must be in some catalog; its sector must match; serial categories need serial."""
    category = clean.get("category")
    if category is None:
        return
    row = conn.execute(
        select(registry_catalog_entry.c.sector, registry_catalog_entry.c.granularity)
        .where(registry_catalog_entry.c.category == category)
        .limit(1)
    ).first()
    if row is None:
        raise RegistryError.one("category", f"{category!r} is not a category of any catalog")
    sector, granularity = row
    if clean.get("sector") is not None and clean["sector"] != sector:
        raise RegistryError.one("sector", f"category {category} belongs to sector {sector}, not {clean['sector']}")
    if granularity == "serial" and clean.get("granularity") == "lot":
        raise RegistryError.one("granularity", f"category {category} must be traced by serial (一物一码)")
    clean.setdefault("granularity", granularity)


def create_product(
    conn: Connection, principal: Principal, data: dict[str, Any], *, remote: str | None = None
) -> Product:
    """Register a product (品种备案) of a party."""
    access.require_writer(principal)
    clean = validate_product(data)
    party = _owner_for_write(conn, principal, clean["party_code"], "register products for this party")
    _check_category(conn, clean, party.region)
    if clean.get("gtin"):
        if conn.execute(select(registry_product.c.product_id).where(registry_product.c.gtin == clean["gtin"])).first():
            raise _conflict("gtin", f"GTIN {clean['gtin']} is already registered")
        product_id = clean["gtin"]
    else:
        product_id = identifiers.product_code(clean["party_code"], _next(conn, f"product:{clean['party_code']}"))
    now = _now()
    conn.execute(
        insert(registry_product).values(
            product_id=product_id,
            party_code=clean["party_code"],
            gtin=clean.get("gtin"),
            name=clean["name"],
            spec=clean.get("spec"),
            sector=clean["sector"],
            category=clean.get("category"),
            shelf_life_days=clean.get("shelf_life_days"),
            approval_no=clean.get("approval_no"),
            granularity=clean.get("granularity", "lot"),
            created_at=now,
            updated_at=now,
        )
    )
    audit.record(
        conn, principal, "product.create", target_type="product", target_id=product_id, detail=clean, remote=remote
    )
    product = get_product(conn, product_id)
    assert product is not None
    return product


def update_product(
    conn: Connection, principal: Principal, product_id: str, data: dict[str, Any], *, remote: str | None = None
) -> Product:
    access.require_writer(principal)
    product = get_product(conn, product_id)
    if product is None:
        raise RegistryError.one("product_id", "no such product", status=404)
    party = _owner_for_write(conn, principal, product.party_code, "change this product")
    clean = validate_product(data, partial=True)
    merged = {"sector": clean.get("sector", product.sector), "category": clean.get("category", product.category)}
    if "granularity" in clean:
        merged["granularity"] = clean["granularity"]
    _check_category(conn, merged, party.region)
    values: dict[str, Any] = {
        k: clean[k]
        for k in ("name", "spec", "sector", "category", "shelf_life_days", "approval_no", "granularity")
        if k in clean
    }
    values["updated_at"] = _now()
    conn.execute(update(registry_product).where(registry_product.c.product_id == product_id).values(**values))
    audit.record(
        conn, principal, "product.update", target_type="product", target_id=product_id, detail=clean, remote=remote
    )
    updated = get_product(conn, product_id)
    assert updated is not None
    return updated


# ---------------------------------------------------------------------------------------------- catalogs


def load_catalog_versions(
    conn: Connection, versions: Sequence[CatalogVersion], *, principal: Principal | None = None
) -> int:
    """Insert catalog versions not stored yet (by catalog, scope, version); returns how many were added.
    With a principal, each added version is checked against its rights and audited."""
    v = registry_catalog_version.c
    added = 0
    for cv in versions:
        exists = conn.execute(
            select(v.id).where(v.catalog == cv.catalog, v.scope == cv.scope, v.version == cv.version)
        ).first()
        if exists:
            continue
        if principal is not None and not access.can_manage_catalog(principal, cv.scope):
            access.require_writer(principal)
            raise access.refuse(f"publish catalogs for scope {cv.scope or 'national'}")
        vid = conn.execute(
            insert(registry_catalog_version)
            .values(
                catalog=cv.catalog,
                scope=cv.scope,
                version=cv.version,
                effective_from=cv.effective_from,
                effective_to=cv.effective_to,
                title=cv.title,
                source=cv.source,
                created_at=_now(),
            )
            .returning(v.id)
        ).scalar_one()
        if cv.entries:
            conn.execute(
                insert(registry_catalog_entry),
                [
                    {
                        "version_id": vid,
                        "category": e.category,
                        "name_zh": e.name_zh,
                        "name_en": e.name_en,
                        "sector": e.sector,
                        "granularity": e.granularity,
                        "profile": e.profile,
                        "note": e.note,
                    }
                    for e in cv.entries
                ],
            )
        if principal is not None:
            audit.record(
                conn,
                principal,
                "catalog.publish",
                target_type="catalog",
                target_id=f"{cv.catalog}:{cv.scope or 'national'}:{cv.version}",
                detail={"effective_from": cv.effective_from, "entries": len(cv.entries)},
            )
        added += 1
    return added


def catalog_versions(conn: Connection, *, catalog: str | None = None, scope: str | None = None) -> list[CatalogVersion]:
    """Every stored catalog version (with its entries), oldest first."""
    v = registry_catalog_version.c
    stmt = select(registry_catalog_version)
    if catalog:
        stmt = stmt.where(v.catalog == catalog)
    if scope is not None:
        stmt = stmt.where(v.scope == scope)
    rows = conn.execute(stmt.order_by(v.effective_from, v.id)).all()
    if not rows:
        return []
    entries: dict[int, list[CatalogEntry]] = {}
    ids = [r.id for r in rows]
    for i in range(0, len(ids), _CHUNK):
        for e in conn.execute(
            select(registry_catalog_entry)
            .where(registry_catalog_entry.c.version_id.in_(ids[i : i + _CHUNK]))
            .order_by(registry_catalog_entry.c.category)
        ):
            entries.setdefault(e.version_id, []).append(
                CatalogEntry(
                    category=e.category,
                    name_zh=e.name_zh,
                    name_en=e.name_en,
                    sector=e.sector,
                    granularity=e.granularity,
                    profile=e.profile,
                    note=e.note,
                )
            )
    return [
        CatalogVersion(
            catalog=r.catalog,
            scope=r.scope,
            version=r.version,
            effective_from=r.effective_from,
            effective_to=r.effective_to,
            title=r.title,
            source=r.source,
            entries=tuple(entries.get(r.id, ())),
        )
        for r in rows
    ]


def catalog_entry_on(
    conn: Connection, category: str, on: str, *, catalog: str = "key", region: str | None = None
) -> tuple[CatalogVersion, CatalogEntry] | None:
    """Was ``category`` on ``catalog`` on ISO date ``on`` (national, plus local catalogs covering ``region``)?"""
    return find_entry(catalog_versions(conn, catalog=catalog), catalog, category, on, region)


def catalog_in_force(
    conn: Connection, on: str, *, catalog: str = "key", region: str | None = None
) -> list[tuple[CatalogVersion, CatalogEntry]]:
    return entries_in_force(catalog_versions(conn, catalog=catalog), catalog, on, region)
