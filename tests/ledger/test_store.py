"""The ledger in the database (SQLite and PostgreSQL): appends, proofs, checkpoints and tamper audits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from ledger_support import capture, capture_real, make_event, rehash_body
from sqlalchemy import Engine, text

from zhuisu.epcis.hash import event_hash_bytes
from zhuisu.epcis.index import index_event
from zhuisu.ledger import audit as audit_kinds
from zhuisu.ledger import merkle, service
from zhuisu.ledger.checkpoint import Checkpoint
from zhuisu.ledger.note import Signer
from zhuisu.store import events as event_store
from zhuisu.store import ledger
from zhuisu.store.db import make_engine


def test_append_proofs_and_checkpoints(engine: Engine, signer: Signer) -> None:
    events = [make_event(i) for i in range(600)]
    assert capture(engine, events[:1]) == [0]
    assert capture(engine, events[1:300]) == list(range(1, 300))
    with engine.begin() as conn:
        cp300 = ledger.latest_checkpoint(conn, signer)
        assert ledger.latest_checkpoint(conn, signer) == cp300  # signed once per size
    capture(engine, events[300:])
    hashes = [merkle.leaf_hash(event_hash_bytes(e)) for e in events]
    tree = merkle.MemoryTree(hashes)
    with engine.begin() as conn:
        assert ledger.current_size(conn) == 600
        assert ledger.root_at(conn, 600) == tree.root()
        assert ledger.root_at(conn, 257) == tree.root(257)
        cp600 = ledger.latest_checkpoint(conn, signer)
        assert Checkpoint.parse_text(cp600[: cp600.index("\n\n") + 1]) == Checkpoint(
            "zhuisu.test/ledger", 600, tree.root()
        )
        for i in (0, 255, 256, 299, 599):
            eid = events[i]["eventID"]
            proof = ledger.inclusion_proof(conn, eid)
            assert (proof.leaf_index, proof.tree_size) == (i, 600)
            assert proof.seq == conn.execute(text(f"SELECT seq FROM ledger_leaf WHERE leaf_index = {i}")).scalar()
            assert list(proof.audit_path) == merkle.inclusion_proof(tree, i, 600)
            body = ledger.event_body(conn, eid)
            service.check_inclusion(body, proof.as_json(), cp600, [signer.verifier], rehash_body)
        old = ledger.inclusion_proof(conn, events[10]["eventID"], 300)
        service.check_inclusion(None, old.as_json(), cp300, [signer.verifier], rehash_body)
        evidence = ledger.event_evidence(conn, signer, events[42]["eventID"])
        assert evidence.checkpoint == cp600 and evidence.proof.leaf_index == 42
        growth = ledger.consistency_proof(conn, 300, 600)
        service.check_consistency(cp300, cp600, growth, [signer.verifier])
        with pytest.raises(service.VerificationError, match="consistency"):
            service.check_consistency(cp300, cp600, ledger.consistency_proof(conn, 299, 600), [signer.verifier])
        assert ledger.checkpoint_at(conn, 300) == cp300
        assert ledger.checkpoint_at(conn, 301) is None
        report = ledger.audit(conn, [signer.verifier])
    assert report.ok, report.findings
    assert (report.tree_size, report.leaves, report.events, report.checkpoints) == (600, 600, 600, 2)


def test_bad_requests_are_named(engine: Engine) -> None:
    events = [make_event(i) for i in range(3)]
    capture(engine, events)
    with engine.begin() as conn:
        with pytest.raises(service.UnknownEvent, match="no event with eventID 'nope'"):
            ledger.inclusion_proof(conn, "nope")
        with pytest.raises(service.LedgerError, match="larger than the log"):
            ledger.inclusion_proof(conn, events[0]["eventID"], 4)
        with pytest.raises(service.LedgerError, match="not inside a tree of size 2"):
            ledger.inclusion_proof(conn, events[2]["eventID"], 2)
        with pytest.raises(service.LedgerError, match="at least 1"):
            ledger.consistency_proof(conn, 0, 2)
        with pytest.raises(service.LedgerError, match="smaller"):
            ledger.consistency_proof(conn, 3, 2)
        with pytest.raises(service.LedgerError, match="larger than the log"):
            ledger.consistency_proof(conn, 1, 9)
        with pytest.raises(service.LedgerError, match="seq 7: event hash is 3 bytes"):
            ledger.append_leaves(conn, [(7, b"abc")])


def test_rolled_back_capture_leaves_no_trace(engine: Engine) -> None:
    capture(engine, [make_event(1)])
    with engine.connect() as conn:
        trans = conn.begin()
        ledger.append_leaves(conn, [(99, b"\x01" * 32)])
        trans.rollback()
    with engine.begin() as conn:
        assert ledger.current_size(conn) == 1
        assert ledger.audit(conn, []).kinds() == {}


def test_concurrent_appends_from_two_engines_stay_consistent(db_url: str) -> None:
    from zhuisu.store.db import upgrade

    engines = [make_engine(db_url), make_engine(db_url)]
    upgrade(engines[0])
    errors: list[BaseException] = []

    def worker(engine: Engine, base: int) -> None:
        try:
            for b in range(10):
                capture(engine, [make_event(base + b * 10 + j) for j in range(10)])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(e, n * 1000)) for n, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with engines[0].begin() as conn:
        assert ledger.current_size(conn) == 200
        report = ledger.audit(conn, [])
    assert report.ok, report.findings
    for e in engines:
        e.dispose()


# --- tampering with the database directly ---------------------------------------------------------


def _findings(engine: Engine, signer: Signer) -> list[tuple[str, int | None]]:
    with engine.begin() as conn:
        report = ledger.audit(conn, [signer.verifier], origin=signer.name)
    return sorted({(f.kind, f.leaf_index) for f in report.findings}, key=lambda x: (x[0], x[1] or -1))


@pytest.fixture
def logged(engine: Engine, signer: Signer) -> Iterator[tuple[Engine, list[dict[str, Any]]]]:
    events = [make_event(i) for i in range(12)]
    capture_real(engine, events[:6])
    capture_real(engine, events[6:])
    with engine.begin() as conn:
        ledger.latest_checkpoint(conn, signer)
    yield engine, events


def _seq(engine: Engine, event: dict[str, Any]) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(text("SELECT seq FROM epcis_event WHERE event_id = :e"), {"e": event["eventID"]}).scalar_one()
        )


def test_tamper_each_kind_is_named(logged: tuple[Engine, list[dict[str, Any]]], signer: Signer) -> None:
    """The four changes of the issue at once: each is found, named, and nothing else is reported."""
    engine, events = logged
    assert _findings(engine, signer) == []
    body = dict(events[2], bizStep="receiving")
    seq2, seq5 = _seq(engine, events[2]), _seq(engine, events[5])
    with engine.begin() as conn:
        # 1. a changed field in an event's body (leaf 2)
        conn.execute(text(f"UPDATE epcis_event SET body = :b WHERE seq = {seq2}"), {"b": orjson.dumps(body).decode()})
        # 2. a deleted event row (leaf 5)
        conn.execute(text(f"DELETE FROM epcis_event WHERE seq = {seq5}"))
        # 3. two leaves swapped in the log (leaves 7 and 9)
        conn.execute(text("UPDATE ledger_leaf SET leaf_index = -1 WHERE leaf_index = 7"))
        conn.execute(text("UPDATE ledger_leaf SET leaf_index = 7 WHERE leaf_index = 9"))
        conn.execute(text("UPDATE ledger_leaf SET leaf_index = 9 WHERE leaf_index = -1"))
        # 4. a leaf hash changed directly (leaf 10)
        conn.execute(text("UPDATE ledger_leaf SET event_hash = :h WHERE leaf_index = 10"), {"h": b"\x5a" * 32})
    with engine.begin() as conn:
        report = ledger.audit(conn, [signer.verifier], origin=signer.name)
    by_kind: dict[str, set[int | None]] = {}
    for f in report.findings:
        by_kind.setdefault(f.kind, set()).add(f.leaf_index)
    assert by_kind == {
        audit_kinds.EVENT_CHANGED: {2},
        audit_kinds.EVENT_FIELD_CHANGED: {2},  # its event_hash and biz_step columns no longer match the body
        audit_kinds.EVENT_DELETED: {5},
        audit_kinds.REORDERED: {7, 9},
        audit_kinds.LEAF_CHANGED: {10},
        audit_kinds.CHECKPOINT_MISMATCH: {None},  # the signed root at size 12 is no longer reproduced
    }
    changed = [f for f in report.findings if f.kind == audit_kinds.EVENT_CHANGED]
    assert changed[0].event_id == events[2]["eventID"] and changed[0].seq == seq2
    fields = sorted(f.detail.split()[1] for f in report.findings if f.kind == audit_kinds.EVENT_FIELD_CHANGED)
    assert fields == ["biz_step", "event_hash"]
    deleted = [f for f in report.findings if f.kind == audit_kinds.EVENT_DELETED]
    assert deleted[0].seq == seq5 and service.hash_uri(event_hash_bytes(events[5])) in deleted[0].detail
    mismatch = [f for f in report.findings if f.kind == audit_kinds.CHECKPOINT_MISMATCH]
    assert mismatch[0].tree_size == 12 and "tiles still give it" in mismatch[0].detail


AT_0 = "(SELECT seq FROM ledger_leaf WHERE leaf_index = 0)"
AT_4 = "(SELECT seq FROM ledger_leaf WHERE leaf_index = 4)"


def _swap_seq(conn: Any) -> None:
    seqs = dict(conn.execute(text("SELECT leaf_index, seq FROM ledger_leaf WHERE leaf_index IN (1, 3)")).all())
    conn.execute(text("UPDATE ledger_leaf SET seq = -1 WHERE leaf_index = 1"))
    conn.execute(text("UPDATE ledger_leaf SET seq = :s WHERE leaf_index = 3"), {"s": seqs[1]})
    conn.execute(text("UPDATE ledger_leaf SET seq = :s WHERE leaf_index = 1"), {"s": seqs[3]})


def _swap_hashes(conn: Any) -> None:
    rows = dict(conn.execute(text("SELECT leaf_index, event_hash FROM ledger_leaf WHERE leaf_index IN (1, 3)")).all())
    conn.execute(text("UPDATE ledger_leaf SET event_hash = :h WHERE leaf_index = 1"), {"h": rows[3]})
    conn.execute(text("UPDATE ledger_leaf SET event_hash = :h WHERE leaf_index = 3"), {"h": rows[1]})


def _insert_event(conn: Any) -> None:
    e = make_event(500)
    digest = event_hash_bytes(e)
    uri = service.hash_uri(digest)
    e["eventID"] = uri
    row = index_event(e, event_hash=uri, record_time=1, hash_bytes=digest)
    event_store.write_batch(conn, [row])


def _delete_last_leaf(conn: Any) -> None:
    conn.execute(text("DELETE FROM ledger_leaf WHERE leaf_index = 11"))


def _corrupt_tile(conn: Any) -> None:
    conn.execute(text("UPDATE ledger_tile SET hashes = :h WHERE level = 0"), {"h": b"\x00" * 32 * 12})


def _altered(i: int) -> dict[str, Any]:
    event = make_event(i, epcList=["urn:epc:id:sgtin:0614141.107346.999999"])
    event["eventID"] = service.hash_uri(event_hash_bytes(make_event(i)))  # keeps its original eventID
    event["recordTime"] = "2024-04-01T00:00:00.000Z"
    return event


Tamper = tuple[Callable[[Any], Any], list[tuple[str, int | None]]]

TAMPERS: dict[str, Tamper] = {
    # a field changed in a stored column only: queries would lie, the body and hash still match
    "column": (
        lambda conn: conn.execute(text(f"UPDATE epcis_event SET biz_step = 'receiving' WHERE seq = {AT_4}")),
        [(audit_kinds.EVENT_FIELD_CHANGED, 4)],
    ),
    # the body and its event_hash column changed together, consistently
    "body-and-hash": (
        lambda conn: conn.execute(
            text(f"UPDATE epcis_event SET body = :b, event_hash = :h WHERE seq = {AT_0}"),
            {"b": orjson.dumps(_altered(0)).decode(), "h": service.hash_uri(event_hash_bytes(_altered(0)))},
        ),
        [(audit_kinds.EVENT_CHANGED, 0)],
    ),
    "seq-swap": (_swap_seq, [(audit_kinds.REORDERED, 1), (audit_kinds.REORDERED, 3)]),
    "hash-swap": (
        _swap_hashes,
        [(audit_kinds.CHECKPOINT_MISMATCH, None), (audit_kinds.REORDERED, 1), (audit_kinds.REORDERED, 3)],
    ),
    "event-inserted": (_insert_event, [(audit_kinds.EVENT_NOT_LOGGED, None)]),
    "leaf-deleted": (
        _delete_last_leaf,
        [(audit_kinds.LEAF_DELETED, 11)],
    ),
    "tile-changed": (
        _corrupt_tile,
        [(audit_kinds.TILE_CHANGED, i) for i in range(12)],
    ),
    "size-changed": (
        lambda conn: conn.execute(text("UPDATE ledger_head SET tree_size = 11")),
        [(audit_kinds.SIZE_MISMATCH, None)],
    ),
    "checkpoint-forged": (
        lambda conn: conn.execute(text("UPDATE ledger_checkpoint SET note = replace(note, '\n12\n', '\n13\n')")),
        [(audit_kinds.CHECKPOINT_INVALID, None)],
    ),
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_more_tampering_is_named(name: str, logged: tuple[Engine, list[dict[str, Any]]], signer: Signer) -> None:
    engine, _ = logged
    change, expected = TAMPERS[name]
    with engine.begin() as conn:
        change(conn)
    assert _findings(engine, signer) == sorted(expected, key=lambda x: (x[0], x[1] or -1))


def test_no_checkpoint_is_signed_for_a_forked_tree(logged: tuple[Engine, list[dict[str, Any]]], signer: Signer) -> None:
    engine, _ = logged
    with engine.begin() as conn:  # rewrite history inside the signed range (size 12), in the tiles too
        tile = conn.execute(text("SELECT hashes FROM ledger_tile WHERE level = 0")).scalar_one()
        conn.execute(text("UPDATE ledger_tile SET hashes = :h"), {"h": b"\x00" * 32 + bytes(tile)[32:]})
    capture(engine, [make_event(100)])
    with (
        engine.begin() as conn,
        pytest.raises(service.LedgerIntegrityError, match="does not extend the checkpoint signed at size 12"),
    ):
        ledger.latest_checkpoint(conn, signer)
    with engine.begin() as conn:
        assert ledger.checkpoint_at(conn, 13) is None


def test_upper_tiles_are_checked_against_the_tiles_below(engine: Engine, signer: Signer) -> None:
    capture(engine, [make_event(i) for i in range(520)])  # two full level-0 tiles, a level-1 tile of 2
    with engine.begin() as conn:
        ledger.latest_checkpoint(conn, signer)
        assert ledger.audit(conn, [signer.verifier]).ok
        conn.execute(text("UPDATE ledger_tile SET hashes = :h WHERE level = 1"), {"h": b"\x11" * 64})
        report = ledger.audit(conn, [signer.verifier])
    assert [(f.kind, f.detail.split(" (")[0]) for f in report.findings] == [
        (audit_kinds.TILE_CHANGED, "tile 1/0 disagrees with the tiles below it")
    ]
    with engine.begin() as conn:  # and such a tree is not signed any further
        ledger.append_leaves(conn, [(10_000, b"\x22" * 32)])
        with pytest.raises(service.LedgerIntegrityError):
            ledger.latest_checkpoint(conn, signer)
