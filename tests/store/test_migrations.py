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
