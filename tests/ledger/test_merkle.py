"""RFC 6962 / 9162 reference vectors (tests/data/ledger, see SOURCE.md) and generated-proof round trips."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from zhuisu.ledger import merkle
from zhuisu.ledger.merkle import MemoryTree, ProofError

DATA = Path(__file__).parent.parent / "data" / "ledger"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def _h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


LEAVES = [bytes.fromhex(x) for x in _load("leaves.json")["leaves"]]
ROOTS = {r["tree_size"]: bytes.fromhex(r["root"]) for r in _load("roots.json")["roots"]}
REF = _load("reference_proofs.json")


def _case_id(case: dict[str, Any]) -> str:
    return str(case.get("desc", "")) + "|" + str(case.get("source", "")).rsplit(":", 1)[-1]


def test_hasher_known_answers() -> None:
    vectors = _load("hasher.json")
    assert merkle.EMPTY_ROOT.hex() == vectors["empty_root"][0]["hash"]
    for v in vectors["leaf"]:
        assert merkle.leaf_hash(bytes.fromhex(v["input"])).hex() == v["hash"]
    for v in vectors["node"]:
        assert merkle.node_hash(bytes.fromhex(v["left"]), bytes.fromhex(v["right"])).hex() == v["hash"]


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots(size: int) -> None:
    hashes = merkle.leaf_hashes(LEAVES[:size])
    assert merkle.root_of(hashes) == ROOTS[size]
    assert MemoryTree(hashes).root() == ROOTS[size]
    compact = merkle.CompactRange()
    for h in hashes:
        compact.append(h)
    assert compact.root() == ROOTS[size]


def test_node_hashes() -> None:
    tree = MemoryTree(merkle.leaf_hashes(LEAVES))
    node_hashes = _load("roots.json")["node_hashes"]
    for level, row in enumerate(node_hashes):
        assert [h.hex() for h in tree.levels[level]] == row


@pytest.mark.parametrize("case", REF["inclusion"], ids=lambda c: f"{c['leaf_index']}of{c['tree_size']}")
def test_generated_inclusion_matches_reference(case: dict[str, Any]) -> None:
    tree = MemoryTree(merkle.leaf_hashes(LEAVES))
    proof = merkle.inclusion_proof(tree, case["leaf_index"], case["tree_size"])
    assert [p.hex() for p in proof] == case["proof"]


@pytest.mark.parametrize("case", REF["consistency"], ids=lambda c: f"{c['size1']}to{c['size2']}")
def test_generated_consistency_matches_reference(case: dict[str, Any]) -> None:
    tree = MemoryTree(merkle.leaf_hashes(LEAVES))
    proof = merkle.consistency_proof(tree, case["size1"], case["size2"])
    assert [p.hex() for p in proof] == case["proof"]


@pytest.mark.parametrize("case", _load("inclusion.json")["cases"], ids=_case_id)
def test_valid_inclusion(case: dict[str, Any]) -> None:
    assert case["want_error"] is False
    leaf = bytes.fromhex(case["leaf_hash"])
    if "leaf_input" in case:
        assert merkle.leaf_hash(bytes.fromhex(case["leaf_input"])) == leaf
    merkle.verify_inclusion(case["leaf_index"], case["tree_size"], leaf, _h(case["proof"]), bytes.fromhex(case["root"]))


@pytest.mark.parametrize("case", _load("bad_inclusion.json")["cases"], ids=_case_id)
def test_bad_inclusion_refused(case: dict[str, Any]) -> None:
    assert case["want_error"] is True
    with pytest.raises(ProofError):
        merkle.verify_inclusion(
            case["leaf_index"],
            case["tree_size"],
            bytes.fromhex(case["leaf_hash"]),
            _h(case["proof"]),
            bytes.fromhex(case["root"]),
        )


@pytest.mark.parametrize("case", _load("consistency.json")["cases"], ids=_case_id)
def test_valid_consistency(case: dict[str, Any]) -> None:
    assert case["want_error"] is False
    merkle.verify_consistency(
        case["size1"],
        case["size2"],
        bytes.fromhex(case["root1"]),
        bytes.fromhex(case["root2"]),
        _h(case["proof"]),
    )


@pytest.mark.parametrize("case", _load("bad_consistency.json")["cases"], ids=_case_id)
def test_bad_consistency_refused(case: dict[str, Any]) -> None:
    assert case["want_error"] is True
    with pytest.raises(ProofError):
        merkle.verify_consistency(
            case["size1"],
            case["size2"],
            bytes.fromhex(case["root1"]),
            bytes.fromhex(case["root2"]),
            _h(case["proof"]),
        )


def test_first_size_zero_refused_even_for_empty_trees() -> None:
    # transparency-dev policy (see conformance README): 0 -> n and even 0 -> 0 are refused.
    with pytest.raises(ProofError, match="first tree size is 0"):
        merkle.verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])
    with pytest.raises(ProofError):
        merkle.consistency_plan(0, 5)


def test_generated_proofs_round_trip_on_every_small_tree() -> None:
    rng = random.Random(6962)
    hashes = [merkle.leaf_hash(rng.randbytes(32)) for _ in range(70)]
    tree = MemoryTree(hashes)
    roots = [merkle.root_of(hashes[:n]) for n in range(len(hashes) + 1)]
    for n in range(1, len(hashes) + 1):
        assert tree.root(n) == roots[n]
        for m in range(n):
            proof = merkle.inclusion_proof(tree, m, n)
            merkle.verify_inclusion(m, n, hashes[m], proof, roots[n])
            with pytest.raises(ProofError):
                merkle.verify_inclusion(m, n, hashes[(m + 1) % len(hashes)], proof, roots[n])
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(tree, m, n)
            merkle.verify_consistency(m, n, roots[m], roots[n], proof)
            if m < n:
                with pytest.raises(ProofError):
                    merkle.verify_consistency(m, n, roots[m - 1] if m > 1 else roots[n], roots[n], proof)


def test_proof_sizes_are_logarithmic() -> None:
    for n in (1, 2, 3, 1000, 1_000_000, 2**40 + 12345):
        bound = (n - 1).bit_length() if n > 1 else 0
        assert len(merkle.inclusion_plan(n - 1, n)) <= bound
        assert len(merkle.inclusion_plan(0, n)) <= bound
        if n > 1:
            assert len(merkle.consistency_plan(n // 2 + 1, n)) <= bound + 1
        # every proof element folds at most log n perfect nodes
        assert sum(len(e) for e in merkle.inclusion_plan(n // 3, n)) <= 2 * bound + 1


def test_range_nodes_refuses_unaligned_and_empty_ranges() -> None:
    assert merkle.range_nodes(8, 15) == [(2, 2), (1, 6), (0, 14)]
    with pytest.raises(ValueError, match="not aligned"):
        merkle.range_nodes(2, 6)
    with pytest.raises(ValueError, match="empty"):
        merkle.range_nodes(3, 3)


def test_inclusion_plan_refuses_index_outside_tree() -> None:
    with pytest.raises(ProofError, match="outside"):
        merkle.inclusion_plan(5, 5)


def test_perfect_root_of_packed_row_equals_list_form() -> None:
    rng = random.Random(8)
    for n in (1, 2, 4, 64, 256):
        row = [rng.randbytes(32) for _ in range(n)]
        assert merkle.perfect_root_bytes(b"".join(row)) == merkle.perfect_root(row) == merkle.root_of(row)
