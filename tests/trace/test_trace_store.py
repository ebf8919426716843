"""The lineage kept by the real capture path, on both stores, against independent computations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

sys.path.insert(0, str(Path(__file__).parent))

import trace_reference as reference
from trace_networks import drug_network, event, lgtin, meat_network, pgln, sgtin, sscc

from zhuisu.access.principal import PUBLIC, SYSTEM, Principal
from zhuisu.codes.epc import canonical_id, to_digital_link
from zhuisu.epcis.capture import capture_events, prepare_event
from zhuisu.store import events as event_store
from zhuisu.store import lineage
from zhuisu.store.db import upgrade, writing
from zhuisu.trace import chain, recall_impact, trace


def _capture(engine: Engine, events: list[dict[str, Any]], party: str | None = None) -> list[dict[str, Any]]:
    """Capture copies (capture fills in eventIDs); return the events as stored, for the references."""
    copies = [dict(e) for e in events]
    result = capture_events(engine, copies, party=party)
    assert result.success, result.problems
    return copies


def _edges(engine: Engine) -> set[tuple[Any, ...]]:
    e = lineage.lineage_edge.c
    with engine.connect() as conn:
        return set(conn.execute(select(e.src, e.dst, e.kind, e.seq, e.t, e.qty, e.uom)).all())


def test_urn_and_digital_link_find_the_same_item(engine: Engine) -> None:
    _capture(engine, drug_network())
    urn = sgtin("107346", 2)
    with engine.connect() as conn:
        a = trace(conn, urn, "both", SYSTEM)
        b = trace(conn, to_digital_link(urn), "both", SYSTEM)
    assert a.found and a.identifier == b.identifier == canonical_id(urn)
    assert [s.event_id for s in a.steps] == [s.event_id for s in b.steps]
    assert {o.id for o in a.objects} == {o.id for o in b.objects}


def test_chain_is_in_time_order_with_containers_steps(engine: Engine) -> None:
    stored = _capture(engine, drug_network())
    item = sgtin("107346", 1)
    with engine.connect() as conn:
        got = chain(conn, item, SYSTEM)
    _objs, _carriers, expected = reference.trace_events(reference.facts(stored), canonical_id(item), "both")
    assert {s.event_id for s in got.steps} == expected
    times = [s.time_micros for s in got.steps]
    assert times == sorted(times)
    assert any(s.via == canonical_id(sscc(2)) for s in got.steps)  # the pallet's shipping is the item's too
    assert all(s.time.endswith("+08:00") for s in got.steps)
    receive = next(e for e in stored if e.get("bizStep") == "receiving")
    (by_object,) = [h for h in got.handoffs if h.receiving_event_id == receive["eventID"]]
    assert by_object.matched_by == "object" and by_object.to_parties == [canonical_id(pgln(2))]


def _qty_sum(events: list[dict[str, Any]], step: str, party_key: str, party: str, objects: set[str]) -> float:
    total = 0.0
    for ev in events:
        if ev.get("bizStep") != step:
            continue
        parties = [x.get("source") or x.get("destination") for x in ev.get(party_key) or ()]
        if pgln_dl(party) not in {canonical_id(p) for p in parties}:
            continue
        total += sum(q["quantity"] for q in ev.get("quantityList") or () if canonical_id(q["epcClass"]) in objects)
    return total


def pgln_dl(p: str) -> str:
    return canonical_id(p)


def test_recall_impact_quantities_match_the_raw_events(engine: Engine) -> None:
    stored = _capture(engine, meat_network())
    start = canonical_id(lgtin("200001", "PA"))
    affected, _carriers, _events = reference.trace_events(reference.facts(stored), start, "forward")
    with engine.connect() as conn:
        impact = recall_impact(conn, [lgtin("200001", "PA")], SYSTEM)
    assert {o.id for o in impact.objects} == affected
    by_party = {p.party: p for p in impact.parties}
    plant, market = canonical_id(pgln(12)), canonical_id(pgln(13))
    shipped = _qty_sum(stored, "shipping", "sourceList", pgln(12), affected)
    received = _qty_sum(stored, "receiving", "destinationList", pgln(13), affected)
    assert shipped > 0 and received > 0
    assert by_party[plant].shipped == {"KGM": shipped}
    assert by_party[market].received == {"KGM": received}
    sold = sum(
        q["quantity"]
        for ev in stored
        if ev.get("disposition") == "retail_sold"
        for q in ev.get("quantityList") or ()
        if canonical_id(q["epcClass"]) in affected
    )
    assert by_party[market].sold == {"KGM": sold}
    assert by_party[market].in_custody == {"KGM": received - sold}
    assert canonical_id(lgtin("200001", "PB")) not in {o.id for o in impact.objects}  # an input beside, not after


def test_recall_of_a_serial_lot_counts_items_inside_containers(engine: Engine) -> None:
    stored = _capture(engine, drug_network())
    lot = canonical_id(lgtin("107346", "L1"))
    facts = reference.facts(stored)
    affected, _c, _e = reference.trace_events(facts, lot, "forward")
    with engine.connect() as conn:
        impact = recall_impact(conn, [lot], SYSTEM)
    # serials of the lot inside the pallet when it was shipped, from the replayed intervals
    ship = next(e for e in stored if e.get("bizStep") == "shipping" and e.get("epcList") == [sscc(2)])
    t = reference.micros(ship["eventTime"])
    cases = {c for p, c, s, e in facts.intervals if p == canonical_id(sscc(2)) and s <= t <= e}
    inside = {c for p, c, s, e in facts.intervals if p in cases and s <= t <= e and c in affected}
    maker = canonical_id(pgln(1))
    assert {p.party: p.shipped for p in impact.parties}[maker] == {"EA": float(len(inside))}
    assert canonical_id(sgtin("107346", 99)) not in {o.id for o in impact.objects}  # the other lot


def test_error_declaration_retracts_its_event(engine: Engine) -> None:
    stored = _capture(engine, drug_network())
    pack = next(e for e in stored if e["type"] == "AggregationEvent" and e.get("parentID") == sscc(2))
    item = canonical_id(sgtin("107346", 1))
    with engine.connect() as conn:
        before = trace(conn, item, "forward", SYSTEM)
    assert canonical_id(sscc(2)) in {o.id for o in before.objects}
    declaration = dict(pack)
    declaration.pop("recordTime", None)
    declaration["errorDeclaration"] = {"declarationTime": "2026-03-02T00:00:00+08:00", "reason": "incorrect_data"}
    _capture(engine, [declaration])
    with engine.connect() as conn:
        after = trace(conn, item, "forward", SYSTEM)
    _o, _c, expected = reference.trace_events(reference.facts([*stored, declaration]), item, "forward")
    assert canonical_id(sscc(2)) not in {o.id for o in after.objects}
    assert {s.event_id for s in after.steps} == expected
    assert pack["eventID"] not in expected


def test_upgrade_builds_the_lineage_of_events_already_stored(db_url: str) -> None:
    from zhuisu.store.db import make_engine

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0004")
        rows = []
        for i, ev in enumerate([*drug_network(), *meat_network()]):
            row = prepare_event(dict(ev), i, 0, "2026-03-02T00:00:00.000Z")
            assert not isinstance(row, list)
            rows.append(row)
        with writing(engine) as conn:
            event_store.write_batch(conn, rows)
        upgrade(engine)
        migrated = _edges(engine)
        assert migrated
        with writing(engine) as conn:
            conn.execute(lineage.lineage_edge.delete())
            lineage.rebuild(conn)
        assert _edges(engine) == migrated
        other = make_engine(db_url.replace("zhuisu.db", "fresh.db")) if db_url.startswith("sqlite") else None
        if other is not None:  # the same events captured into a new database give the same edges
            upgrade(other)
            _capture(other, [*drug_network(), *meat_network()])
            assert _edges(other) == migrated
            other.dispose()
    finally:
        engine.dispose()


def test_public_sees_no_quantities_documents_or_customers(engine: Engine) -> None:
    _capture(engine, [*drug_network(), *meat_network()])
    with engine.connect() as conn:
        public = chain(conn, lgtin("200003", "K1"), PUBLIC)
        full = chain(conn, lgtin("200003", "K1"), SYSTEM)
        drug = chain(conn, sgtin("107346", 1), PUBLIC)
    assert [s.event_id for s in public.steps] == [s.event_id for s in full.steps]
    assert any(q.quantity for s in full.steps for q in s.objects + s.outputs)
    assert all(q.quantity is None for s in public.steps for q in s.objects + s.inputs + s.outputs)
    assert all(not s.biz_transactions for s in drug.steps)
    dispensing = [s for s in drug.steps if s.biz_step == "dispensing"]
    assert dispensing and all(not [d for d in s.destinations if d.type == "owning_party"] for s in dispensing)


def test_enterprise_sees_partners_steps_only_as_entitled(engine: Engine) -> None:
    from zhuisu.store import access as access_store

    events = drug_network()
    _capture(engine, events[:5], party="P0000001")  # the maker's events
    _capture(engine, events[5:], party="P0000002")  # the distributor's and hospital's
    who = Principal(role="enterprise", subject="u1", parties=frozenset({"P0000001"}))
    with engine.connect() as conn:
        mine = chain(conn, sgtin("107346", 1), who)
        everything = chain(conn, sgtin("107346", 1), SYSTEM)
        visible = access_store.visible_seqs(conn, who, [s.seq for s in everything.steps])
    assert {s.seq for s in mine.steps} == visible
    assert mine.hidden_steps == len(everything.steps) - len(visible) > 0


def test_recall_names_parties_and_regions_from_the_registry(engine: Engine) -> None:
    from zhuisu.store.registry import registry_location, registry_party

    stored = _capture(engine, meat_network())
    now = 1
    plant_gln = canonical_id(pgln(12)).rsplit("/", 1)[-1]
    market_loc = canonical_id("urn:epc:id:sgln:0614141.00013.0")
    with writing(engine) as conn:
        for code, name, region, gln in (
            ("P12", "临沂肉联厂", "371302", plant_gln),
            ("P13", "济南批发市场", "370102", None),
        ):
            conn.execute(
                registry_party.insert().values(
                    party_code=code,
                    kind="enterprise",
                    name=name,
                    types="",
                    sectors="meat",
                    region=region,
                    status="approved",
                    gln=gln,
                    created_at=now,
                    updated_at=now,
                )
            )
        conn.execute(
            registry_location.insert().values(
                code=market_loc,
                party_code="P13",
                name="济南批发市场一号库",
                region="370105",
                created_at=now,
                updated_at=now,
            )
        )
    with engine.connect() as conn:
        impact = recall_impact(conn, [lgtin("200001", "PA")], SYSTEM)
    by_party = {p.party: p for p in impact.parties}
    # a registered party is named by its party code (主体码), found through its GLN
    assert canonical_id(pgln(12)) not in by_party
    assert by_party["P12"].name == "临沂肉联厂"
    assert by_party["P12"].region == "371302"
    assert "P13" in by_party  # the market's sale at its registered location is the market's
    expected_regions = {"371302", "370105"} | ({"370102"} if "P13" in by_party else set())
    assert set(impact.regions) == expected_regions
    assert any(loc.name == "济南批发市场一号库" for loc in impact.locations)
    assert stored
    codes = [canonical_id(pgln(12)), "P13", market_loc, "P99", "urn:epc:id:sgln:0614141.00099.0"]
    expected = {
        canonical_id(pgln(12)): {"name": "临沂肉联厂", "party_code": "P12", "region": "371302"},
        "P13": {"name": "济南批发市场", "party_code": "P13", "region": "370102"},
        market_loc: {"name": "济南批发市场一号库", "party_code": "P13", "region": "370105"},
    }
    with engine.connect() as conn:
        assert lineage.registry_places(conn, codes) == expected  # a few codes: one statement
        padding = [f"X{i}" for i in range(lineage.CHUNK + 1)]
        assert lineage.registry_places(conn, [*codes, *padding]) == expected  # table by table, in chunks


def test_custody_handoffs_by_object_and_by_despatch_advice(engine: Engine) -> None:
    events = drug_network()
    ship = next(e for e in events if e.get("bizStep") == "shipping" and e.get("epcList") == [sscc(2)])
    desadv = ship["bizTransactionList"]
    # the distributor confirms the despatch advice at class level, naming no serial, case or pallet
    confirm = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": "2026-03-01T08:25:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "bizStep": "receiving",
        "bizTransactionList": desadv,
        "quantityList": [{"epcClass": "urn:epc:idpat:sgtin:0614141.107346.*", "quantity": 3}],
        "destinationList": [{"type": "owning_party", "destination": pgln(2)}],
    }
    stored = _capture(engine, [*events, confirm])
    item = canonical_id(sgtin("107346", 1))
    with engine.connect() as conn:
        answer = trace(conn, item, "forward", SYSTEM)
    _o, _c, by_objects = reference.trace_events(reference.facts(stored[:-1]), item, "forward")
    got = {s.event_id for s in answer.steps}
    assert got - by_objects == {stored[-1]["eventID"]}  # joined through the shared despatch advice only
    pallet_ship = next(h for h in answer.handoffs if h.shipping_event_id == stored[events.index(ship)]["eventID"])
    assert pallet_ship.matched_by == "bizTransaction"
    assert pallet_ship.receiving_event_id == stored[-1]["eventID"]
    to_hospital = [h for h in answer.handoffs if h.to_parties == [canonical_id(pgln(3))]]
    assert to_hospital == []  # the hospital's receiving was never recorded
    assert pallet_ship.from_parties == [canonical_id(pgln(1))]


def test_event_parties_read_like_the_access_store(engine: Engine) -> None:
    """The trace's own read of event_party (through the driver, arrays on PostgreSQL) answers as
    ``access.parties_of_events``, also for more events than one literal list holds."""
    from zhuisu.store import access as access_store

    events = drug_network()
    _capture(engine, events[:5], party="P0000001")
    _capture(engine, events[5:], party="P0000002")
    with engine.connect() as conn:
        seqs = [r[0] for r in conn.exec_driver_sql("SELECT seq FROM epcis_event").all()]
        expected = access_store.parties_of_events(conn, seqs)
        assert expected and lineage.event_parties(conn, seqs) == expected
        many = [*seqs, *range(10**9, 10**9 + 300)]  # over 200 values: an array on PostgreSQL
        assert lineage.event_parties(conn, many) == expected
        assert lineage.event_parties(conn, []) == {}


def test_events_by_biz_transaction_keeps_each_pair_apart(engine: Engine) -> None:
    """One look-up for all pairs: an event naming another pair's type with this pair's value is not matched."""

    def doc(minute: int, typ: str, value: str) -> dict[str, Any]:
        return event(
            "ObjectEvent",
            minute,
            action="OBSERVE",
            epcList=[sgtin("107346", 900 + minute)],
            bizStep="shipping",
            bizTransactionList=[{"type": typ, "bizTransaction": value}],
        )

    po, desadv = "po", "desadv"
    a, b = "urn:epcglobal:cbv:bt:0614141000005:A1", "urn:epcglobal:cbv:bt:0614141000005:B2"
    _capture(engine, [doc(1, po, a), doc(2, desadv, b), doc(3, po, b), doc(4, desadv, a)])
    with engine.connect() as conn:
        seqs: list[int] = [r[0] for r in conn.exec_driver_sql("SELECT seq FROM epcis_event").all()]
        stored = lineage.biz_transactions(conn, seqs)
        by_pair = {p: {s for s, ps in stored.items() if p in ps} for ps in stored.values() for p in ps}
        assert len(by_pair) == 4 and all(len(s) == 1 for s in by_pair.values())
        wanted = {p for p in by_pair if (p[1], "po" in p[0]) in ((a, True), (b, False))}
        assert len(wanted) == 2
        assert lineage.events_by_biz_transaction(conn, wanted) == {p: by_pair[p] for p in wanted}
        assert lineage.events_by_biz_transaction(conn, set()) == {}
