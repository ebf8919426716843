"""The store's side: which parties each captured event concerns, ``visible_seqs``, and the migration."""

from __future__ import annotations

from access_support import World, event, ids
from sqlalchemy import Engine, inspect, select

from zhuisu.access.principal import PUBLIC, Principal
from zhuisu.epcis.capture import capture_events
from zhuisu.store import access as store
from zhuisu.store.db import current_revision, make_engine, upgrade
from zhuisu.store.schema import epcis_event


def _seqs(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(select(epcis_event.c.event_id, epcis_event.c.seq))}


def test_event_parties_name_the_owner_and_every_registered_partner(world: World) -> None:
    w = world
    seqs = _seqs(w.engine)
    with w.engine.connect() as conn:
        parties = store.parties_of_events(conn, seqs.values())
    a, b, c = w.party["A"], w.party["B"], w.party["C"]
    assert parties[seqs[w.events["a_to_b"]["eventID"]]] == {a: "owner", b: "partner"}
    assert parties[seqs[w.events["a_to_c"]["eventID"]]] == {a: "owner", c: "partner"}
    assert parties[seqs[w.events["b_receives"]["eventID"]]] == {b: "owner", a: "partner"}
    assert parties[seqs[w.events["c_own"]["eventID"]]] == {c: "owner"}
    # Captured by the platform itself (no owner): only the registered parties it names.
    platform_event = event(40, w.loc["C"], source=w.loc["B"], dest=w.loc["C"])
    assert capture_events(w.engine, [platform_event]).stored == 1
    seq = _seqs(w.engine)[platform_event["eventID"]]
    with w.engine.connect() as conn:
        assert store.parties_of_events(conn, [seq]) == {seq: {b: "partner", c: "partner"}}


def test_visible_seqs_agrees_with_the_query_interface(world: World) -> None:
    w = world
    seqs = _seqs(w.engine)
    every = set(seqs.values())
    by_id = dict(seqs)
    principals = {
        "B": Principal(role="enterprise", subject="t", parties=frozenset({w.party["B"]})),
        "linyi": Principal(role="regulator", subject="t", regions=("3713",), sectors=frozenset({"meat"})),
        "beijing": Principal(role="regulator", subject="t", regions=("11",)),
    }
    with w.engine.connect() as conn:
        for name, who in principals.items():
            expected = {by_id[eid] for eid in w.event_ids(name)}
            assert store.visible_seqs(conn, who, every | {10**9}) == expected, name
        assert store.visible_seqs(conn, PUBLIC, every) == set()
        assert store.visible_seqs(conn, Principal(role="regulator", subject="t"), every) == set()  # no jurisdiction
        assert store.visible_seqs(conn, Principal(role="admin", subject="t"), every) == every
        owned = store.owned_seqs(conn, principals["B"], every)
    assert owned == {by_id[e] for e in ids(w, "b_receives", "b_own")}


def test_the_migration_upgrades_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0003")
    tables = set(inspect(engine).get_table_names())
    mine = {"audit_log", "app_user", "user_session", "api_key", "login_failure", "client_authorisation", "event_party"}
    assert mine <= tables
    assert {"party", "actor"} <= {c["name"] for c in inspect(engine).get_columns("capture_job")}
    from alembic import command
    from alembic.config import Config

    from zhuisu.store.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    command.downgrade(cfg, "0002")
    assert current_revision(engine) == "0002"
    assert not mine & set(inspect(engine).get_table_names())
    assert not {"party", "actor"} & {c["name"] for c in inspect(engine).get_columns("capture_job")}
    upgrade(engine)
    engine.dispose()
