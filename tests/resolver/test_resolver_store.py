"""Scan counters and flags in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func, inspect, select

from zhuisu.resolver.scans import HOUR_US, ScanRules
from zhuisu.store.db import current_revision, head_revision, upgrade, writing
from zhuisu.store.resolver import code_scan, flagged_codes, record_scan, scan_summary

CODE = "https://id.gs1.org/01/09506000134352/21/X9"


def test_scans_are_counted_with_first_and_last_time_and_region(engine: Engine) -> None:
    with engine.connect() as conn:
        assert scan_summary(conn, CODE).count == 0
    for i, region in enumerate(["110106", None, "110108"]):
        with writing(engine) as conn:
            s = record_scan(conn, CODE, serialized=True, at=1_000 + i, region=region)
        assert s.count == i + 1
    with engine.connect() as conn:
        s = scan_summary(conn, CODE)
        rows = conn.execute(select(code_scan.c.region).where(code_scan.c.code == CODE).order_by(code_scan.c.id)).all()
    assert (s.count, s.first_at, s.last_at, s.last_region, s.flag) == (3, 1_000, 1_002, "110108", None)
    assert [r[0] for r in rows] == ["110106", None, "110108"]


def test_a_flag_is_raised_once_and_kept(engine: Engine) -> None:
    rules = ScanRules(max_item_scans=2)
    flags = []
    for i in range(4):
        with writing(engine) as conn:
            flags.append(record_scan(conn, CODE, serialized=True, at=10 + i, region=None, rules=rules).flag)
    assert flags[:2] == [None, None]
    assert flags[2] is not None and flags[2].reason == "too_many_scans" and flags[2].count == 3
    assert flags[3] == flags[2]  # the first flag stays
    with engine.connect() as conn:
        assert scan_summary(conn, CODE).flag == flags[2]
        assert [s.code for s in flagged_codes(conn)] == [CODE]


def test_far_apart_flag_is_stored_with_its_figures(engine: Engine) -> None:
    with writing(engine) as conn:
        record_scan(conn, CODE, serialized=True, at=HOUR_US, region="110106")
    with writing(engine) as conn:
        s = record_scan(conn, CODE, serialized=True, at=HOUR_US + 60_000_000, region="440106")
    assert s.flag is not None and s.flag.reason == "far_apart"
    with engine.connect() as conn:
        kept = scan_summary(conn, CODE).flag
    assert (
        kept == s.flag and kept is not None and (kept.region_a, kept.region_b, kept.minutes) == ("110106", "440106", 1)
    )


def test_concurrent_scans_are_all_counted(engine: Engine) -> None:
    def scan(i: int) -> None:
        with writing(engine) as conn:
            record_scan(conn, CODE, serialized=False, at=100 + i, region=None)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(scan, range(24)))
    with engine.connect() as conn:
        assert scan_summary(conn, CODE).count == 24
        assert conn.execute(select(func.count()).select_from(code_scan)).scalar_one() == 24


def test_migration_downgrade_drops_the_tables_and_upgrade_restores_them(engine: Engine) -> None:
    from alembic import command

    from zhuisu.store.db import _alembic_config

    command.downgrade(_alembic_config(engine), "0006")
    assert {"code_scan", "code_scan_stat"}.isdisjoint(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert {"code_scan", "code_scan_stat"} <= set(inspect(engine).get_table_names())
