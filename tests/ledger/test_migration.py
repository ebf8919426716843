"""Migration 0002: events stored before the ledger existed are logged on upgrade, in seq order."""

from __future__ import annotations

from ledger_support import make_event
from sqlalchemy import inspect

from zhuisu.epcis.hash import event_hash_bytes
from zhuisu.epcis.index import index_event
from zhuisu.ledger import merkle, service
from zhuisu.store import events as event_store
from zhuisu.store import ledger
from zhuisu.store.db import make_engine, upgrade


def test_upgrade_logs_existing_events_and_downgrade_drops_tables(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from zhuisu.store.db import MIGRATIONS

    engine = make_engine(db_url)
    upgrade(engine, "0001")
    events = [make_event(i) for i in range(300)]
    with engine.begin() as conn:
        rows = []
        for e in events:
            digest = event_hash_bytes(e)
            rows.append(index_event(e, event_hash=service.hash_uri(digest), record_time=1, hash_bytes=digest))
        event_store.write_batch(conn, rows)
    upgrade(engine)
    with engine.begin() as conn:
        assert ledger.current_size(conn) == 300
        expected = merkle.root_of([merkle.leaf_hash(event_hash_bytes(e)) for e in events])
        assert ledger.root_at(conn, 300) == expected
        assert ledger.inclusion_proof(conn, service.hash_uri(event_hash_bytes(events[7]))).leaf_index == 7
        assert ledger.audit(conn, None).ok
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    command.downgrade(cfg, "0001")
    assert not {t for t in inspect(engine).get_table_names() if t.startswith("ledger_")}
    engine.dispose()
