import pytest
from sqlalchemy import Engine, inspect

from zhuisu.store.db import current_revision, head_revision, make_engine, upgrade


def test_fresh_database_upgrades_to_head_and_twice_is_harmless(db_url: str) -> None:
    engine: Engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    upgrade(engine)  # on every start: a no-op once up to date
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"epcis_event", "event_identifier", "event_link", "event_field", "capture_job"} <= tables
    engine.dispose()


def test_database_from_an_older_version_upgrades_in_place(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_postgresql_compares_the_indexed_texts_byte_by_byte_from_0011(db_url: str) -> None:
    """Migration 0011 gives the capture's indexed text columns COLLATE "C", and takes it back on downgrade; the
    events stored before are still found through the rebuilt indexes."""
    from alembic import command

    from zhuisu.epcis.capture import capture_events
    from zhuisu.epcis.query import parse_query_params
    from zhuisu.store import queries
    from zhuisu.store.db import _alembic_config

    def collations() -> dict[tuple[str, str], str | None]:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name IN ('event_identifier', 'lineage_node')"
            ).all()
        return {(t, c): coll for t, c, coll in rows}

    engine = make_engine(db_url)
    upgrade(engine, "0010")
    epc = "urn:epc:id:sgtin:0614141.107346.2017"
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-11-01T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": [epc],
    }
    assert capture_events(engine, [event]).stored == 1
    assert collations()[("event_identifier", "id")] is None  # the database's default
    upgrade(engine)
    assert collations()[("event_identifier", "id")] == "C"
    assert collations()[("lineage_node", "ident")] == "C"
    assert collations()[("event_identifier", "seq")] is None  # not a text
    with engine.connect() as conn:
        for pattern in (epc, "urn:epc:idpat:sgtin:0614141.107346.*"):
            found = queries.events_after(conn, 0, parse_query_params([("MATCH_epc", pattern)]), 10)
            assert len(found) == 1, pattern
    command.downgrade(_alembic_config(engine), "0010")
    assert collations()[("event_identifier", "id")] is None
    engine.dispose()
