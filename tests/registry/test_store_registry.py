"""Registry store on both databases: codes, duplicates, nothing half-written, identifiers → parties, catalogs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, func, inspect, select

from registry.helpers import enterprise, make_gln, make_gtin13, make_uscc, person
from zhuisu.access.principal import SYSTEM, Principal
from zhuisu.codes.epc import canonical_id
from zhuisu.registry.catalog import seed_versions
from zhuisu.registry.errors import RegistryError
from zhuisu.registry.identifiers import IdentityProtector, party_code_problem
from zhuisu.registry.model import CatalogEntry, CatalogVersion
from zhuisu.store import registry as store
from zhuisu.store.audit import audit_log
from zhuisu.store.db import writing

REG = Principal(role="regulator", subject="reg:linyi", regions=("3713",), name="临沂监管")


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (*store.TABLES, audit_log)
        }


def create(engine: Engine, fn: Any, data: dict[str, Any], who: Principal = SYSTEM) -> Any:
    with writing(engine) as conn:
        return fn(conn, who, data)


def test_migration_loads_the_seed_catalog(engine: Engine) -> None:
    with engine.connect() as conn:
        stored = store.catalog_versions(conn)
    assert sorted((v.catalog, v.scope, v.version, len(v.entries)) for v in stored) == sorted(
        (v.catalog, v.scope, v.version, len(v.entries)) for v in seed_versions()
    )


def test_party_codes_are_valid_sequential_and_distinct(engine: Engine) -> None:
    a = create(engine, store.create_party, enterprise(1))
    b = create(engine, store.create_party, enterprise(2))
    c = create(engine, store.create_party, person(1))
    d = create(engine, store.create_party, person(2, types=["stall_holder"]))
    e = create(engine, store.create_party, enterprise(3, region="370211"))
    codes = [p.party_code for p in (a, b, c, d, e)]
    assert all(party_code_problem(code) is None for code in codes)
    assert len(set(codes)) == 5
    assert [code[0] for code in codes] == ["N", "N", "P", "O", "N"]
    assert a.party_code[1:7] == "371302" and e.party_code[1:7] == "370211"
    assert int(b.party_code[7:14]) == int(a.party_code[7:14]) + 1
    assert int(e.party_code[7:14]) == 1  # its own region's counter
    assert a.status == "pending"
    with engine.connect() as conn:
        assert store.get_party(conn, a.party_code) == a
        assert store.get_party_by_uscc(conn, a.uscc or "") == a


def test_duplicate_uscc_is_refused_and_nothing_is_written(engine: Engine) -> None:
    create(engine, store.create_party, enterprise(1))
    before = counts(engine)
    with pytest.raises(RegistryError) as info:
        create(
            engine, store.create_party, enterprise(1, name="另一个名字", licences=[{"kind": "other", "number": "1"}])
        )
    assert info.value.status == 409 and info.value.problems[0].path == "/uscc"
    assert counts(engine) == before


def test_bad_input_writes_nothing(engine: Engine) -> None:
    before = counts(engine)
    with pytest.raises(RegistryError) as info:
        create(engine, store.create_party, enterprise(1, region="379999", uscc=make_uscc()[:-1] + "?"))
    assert {p.path for p in info.value.problems} == {"/region", "/uscc"}
    assert counts(engine) == before


def test_duplicate_identity_number_is_found_through_the_keyed_hash(engine: Engine) -> None:
    create(engine, store.create_party, person(1))
    with pytest.raises(RegistryError) as info:
        create(engine, store.create_party, person(1, name="别名"))
    assert info.value.problems[0].path == "/id_number" and info.value.status == 409


def test_identity_number_is_stored_protected_and_masked(engine: Engine) -> None:
    data = person(1)
    party = create(engine, store.create_party, data)
    with engine.connect() as conn:
        row = conn.execute(
            select(store.registry_party).where(store.registry_party.c.party_code == party.party_code)
        ).one()
        audit = " ".join(r.detail or "" for r in conn.execute(select(audit_log)))
        detail = store.get_party_detail(conn, party.party_code)
    number = data["id_number"]
    assert number not in " ".join(str(v) for v in row) and number not in audit
    assert detail is not None and detail.id_masked == number[:4] + "*" * 10 + number[-4:]
    protector = IdentityProtector.from_settings(None, engine.url.render_as_string(hide_password=False))
    assert protector.reveal(row.id_cipher) == number


def test_status_changes_and_their_history(engine: Engine) -> None:
    party = create(engine, store.create_party, enterprise(1))
    with writing(engine) as conn:
        store.set_party_status(conn, REG, party.party_code, "approved", "材料齐全")
        store.set_party_status(conn, REG, party.party_code, "suspended", "抽检不合格")
    with pytest.raises(RegistryError) as info, writing(engine) as conn:
        store.set_party_status(conn, REG, party.party_code, "pending")
    assert info.value.status == 409
    outsider = Principal(role="regulator", subject="reg:jinan", regions=("3701",))
    with pytest.raises(RegistryError) as info, writing(engine) as conn:
        store.set_party_status(conn, outsider, party.party_code, "approved")
    assert info.value.status == 404  # a suspended party outside its region is invisible to it
    with engine.connect() as conn:
        detail = store.get_party_detail(conn, party.party_code)
        actions = [r.action for r in conn.execute(select(audit_log).order_by(audit_log.c.id))]
    assert detail is not None and detail.party.status == "suspended"
    assert [(h.from_status, h.to_status) for h in detail.history] == [
        (None, "pending"),
        ("pending", "approved"),
        ("approved", "suspended"),
    ]
    assert actions == ["party.create", "party.status", "party.status"]


def test_locations_and_products(engine: Engine) -> None:
    party = create(engine, store.create_party, enterprise(1))
    gln = make_gln(11)
    loc = create(
        engine, store.create_location, {"party_code": party.party_code, "name": "圈舍", "region": "371302", "gln": gln}
    )
    assert loc.code == canonical_id("urn:epc:id:sgln:690123.000011.0") == f"https://id.gs1.org/414/{gln}"
    sub = create(
        engine,
        store.create_location,
        {"party_code": party.party_code, "name": "1号圈", "region": "371302", "gln": gln, "gln_extension": "A1"},
    )
    assert sub.code == f"https://id.gs1.org/414/{gln}/254/A1"
    plain = create(engine, store.create_location, {"party_code": party.party_code, "name": "棚", "region": "371302"})
    assert plain.code == f"urn:zhuisu:loc:{party.party_code}.1"
    with pytest.raises(RegistryError) as info:
        create(
            engine, store.create_location, {"party_code": party.party_code, "name": "x", "region": "371302", "gln": gln}
        )
    assert info.value.status == 409
    gtin = make_gtin13(3)
    product = create(
        engine,
        store.create_product,
        {"party_code": party.party_code, "name": "白条猪", "sector": "meat", "category": "meat", "gtin": gtin},
    )
    assert product.product_id == "0" + gtin and product.granularity == "lot"
    drug = create(
        engine,
        store.create_product,
        {
            "party_code": party.party_code,
            "name": "阿莫西林胶囊",
            "sector": "drug",
            "category": "drug",
            "approval_no": "国药准字H20003263",
        },
    )
    assert drug.product_id == f"urn:zhuisu:class:{party.party_code}.1" and drug.granularity == "serial"
    with engine.connect() as conn:
        assert store.find_product_by_gtin(conn, "0" + gtin) == product
        assert store.get_location(conn, "urn:epc:id:sgln:690123.000011.0") == loc  # any form → canonical
    for bad, field in (
        ({"category": "meat", "sector": "vegetable"}, "/sector"),
        ({"category": "unicorn", "sector": "meat"}, "/category"),
        (
            {"category": "drug", "sector": "drug", "approval_no": "国药准字H20003263", "granularity": "lot"},
            "/granularity",
        ),
        ({"category": "meat", "sector": "meat", "party_code": "N37130200000990"}, "/party_code"),
    ):
        data = {"party_code": party.party_code, "name": "x"} | bad
        with pytest.raises(RegistryError) as info:
            create(engine, store.create_product, data)
        assert info.value.problems[0].path == field


def test_parties_for_identifiers_in_a_batch(engine: Engine) -> None:
    a = create(engine, store.create_party, enterprise(1, gln=make_gln(900)))
    b = create(engine, store.create_party, enterprise(2))
    expected: dict[str, str] = {}
    with writing(engine) as conn:
        for i in range(600):
            owner = a if i % 2 else b
            data: dict[str, Any] = {"party_code": owner.party_code, "name": f"L{i}", "region": "371302"}
            if i % 3 == 0:
                data["gln"] = make_gln(i + 1)
            loc = store.create_location(conn, SYSTEM, data)
            expected[loc.code] = owner.party_code
    ids = list(expected)
    # An unregistered sub-location of a registered GLN belongs to the GLN's owner; the party's own GLN too.
    ext = f"https://id.gs1.org/414/{make_gln(1)}/254/dock"
    expected[ext] = b.party_code
    expected[f"https://id.gs1.org/417/{make_gln(900)}"] = a.party_code
    unknown = [f"https://id.gs1.org/414/{make_gln(5000 + i)}" for i in range(400)]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    asked = [*ids, ext, f"https://id.gs1.org/417/{make_gln(900)}", *unknown]
    event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.connect() as conn:
            got = store.parties_for_identifiers(conn, asked)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert got == expected
    # One query for all the identifiers (an array parameter), one for bare GLNs of sub-locations, one for party GLNs.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3


def test_migration_downgrade_drops_the_registry_tables(db_url: str) -> None:
    from alembic import command

    from zhuisu.store.db import _alembic_config, make_engine, upgrade

    eng = make_engine(db_url)
    try:
        upgrade(eng, "0004")
        assert {t.name for t in store.TABLES} <= set(inspect(eng).get_table_names())
        command.downgrade(_alembic_config(eng), "0003")
        assert not {t.name for t in store.TABLES} & set(inspect(eng).get_table_names())
        upgrade(eng, "0004")
        with eng.connect() as conn:
            assert len(store.catalog_versions(conn)) == len(seed_versions())
    finally:
        eng.dispose()


def test_catalog_effective_dates_across_stored_versions(engine: Engine) -> None:
    def v(version: str, start: str, cats: list[str], scope: str = "") -> CatalogVersion:
        return CatalogVersion(
            "key", scope, version, start, entries=tuple(CatalogEntry(c, c, c, "food", "lot", "food") for c in cats)
        )

    with writing(engine) as conn:
        added = store.load_catalog_versions(
            conn,
            [v("t1", "2030-01-01", ["cheese"]), v("t2", "2031-06-01", ["butter"]), v("t1", "2030-01-01", ["x"])],
            principal=SYSTEM,
        )
    assert added == 2
    with engine.connect() as conn:
        assert store.catalog_entry_on(conn, "cheese", "2029-12-31") is None
        hit = store.catalog_entry_on(conn, "cheese", "2030-01-01")
        assert hit is not None and hit[0].version == "t1"
        assert store.catalog_entry_on(conn, "cheese", "2031-06-01") is None  # t2 replaced the whole list
        hit = store.catalog_entry_on(conn, "butter", "2031-06-01")
        assert hit is not None and hit[0].version == "t2"
        # The seed versions answer as before their replacement: meat was key from 2015-12-30 to 2029-12-31.
        assert store.catalog_entry_on(conn, "meat", "2015-12-29") is None
        assert store.catalog_entry_on(conn, "meat", "2020-01-01") is not None
        assert store.catalog_entry_on(conn, "meat", "2030-01-01") is None


def test_regulator_publishes_local_catalogs_only_in_its_region(engine: Engine) -> None:
    local = CatalogVersion(
        "key",
        "371300",
        "ly1",
        "2025-01-01",
        entries=(CatalogEntry("garlic", "大蒜", "garlic", "vegetable", "lot", "vegetable"),),
    )
    elsewhere = CatalogVersion("key", "370100", "jn1", "2025-01-01", entries=local.entries)
    national = CatalogVersion("key", "", "n9", "2025-01-01", entries=local.entries)
    for bad in (elsewhere, national):
        with pytest.raises(RegistryError) as info, writing(engine) as conn:
            store.load_catalog_versions(conn, [bad], principal=REG)
        assert info.value.status == 403
    with writing(engine) as conn:
        assert store.load_catalog_versions(conn, [local], principal=REG) == 1
    with engine.connect() as conn:
        assert store.catalog_entry_on(conn, "garlic", "2025-02-01", region="371302") is not None
        assert store.catalog_entry_on(conn, "garlic", "2025-02-01", region="370102") is None
        assert store.catalog_entry_on(conn, "garlic", "2025-02-01") is None


def test_updates_change_only_what_is_allowed_and_are_audited(engine: Engine) -> None:
    party = create(engine, store.create_party, enterprise(1, status="approved"))
    other = create(engine, store.create_party, enterprise(2, status="approved"))
    me = Principal(role="enterprise", subject="u1", parties=frozenset({party.party_code}))
    loc = create(engine, store.create_location, {"party_code": party.party_code, "name": "A", "region": "371302"}, me)
    product = create(
        engine,
        store.create_product,
        {"party_code": party.party_code, "name": "猪肉", "sector": "meat", "category": "meat"},
        me,
    )
    with writing(engine) as conn:
        moved = store.update_location(conn, me, loc.code, {"name": "B", "lat": 35.05, "lon": 118.35})
        renamed = store.update_product(conn, me, product.product_id, {"name": "冷鲜猪肉", "shelf_life_days": 7})
        updated = store.update_party(conn, me, party.party_code, {"licences": [{"kind": "other", "number": "N-1"}]})
    assert (moved.name, moved.lat, moved.code) == ("B", 35.05, loc.code)
    assert (renamed.name, renamed.shelf_life_days, renamed.category) == ("冷鲜猪肉", 7, "meat")
    assert updated == party
    before = counts(engine)
    for call, status in (
        (lambda c: store.update_product(c, me, product.product_id, {"granularity": "lot", "category": "drug"}), 400),
        (lambda c: store.update_location(c, me, loc.code, {"gln": make_gln(1)}), 400),
        (lambda c: store.update_party(c, me, other.party_code, {"name": "x"}), 403),
        (lambda c: store.update_party(c, me, party.party_code, {"types": ["stall_holder"]}), 400),
        (
            lambda c: store.create_location(c, me, {"party_code": other.party_code, "name": "x", "region": "371302"}),
            403,
        ),
    ):
        with pytest.raises(RegistryError) as info, writing(engine) as conn:
            call(conn)
        assert info.value.status == status, info.value
    assert counts(engine) == before
    with engine.connect() as conn:
        detail = store.get_party_detail(conn, party.party_code)
        actions = [r.action for r in conn.execute(select(audit_log).order_by(audit_log.c.id))]
    assert detail is not None and [lic.number for lic in detail.licences] == ["N-1"]
    assert actions[-3:] == ["location.update", "product.update", "party.update"]
