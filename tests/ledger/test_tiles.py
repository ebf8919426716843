"""Tile storage layout: incremental extension and proofs from tiles equal the in-memory tree."""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping

import pytest

from zhuisu.ledger import merkle, tiles
from zhuisu.ledger.merkle import MemoryTree
from zhuisu.ledger.tiles import TILE_WIDTH, TileError, TileKey, TileReader


def _build(hashes: list[bytes], rng: random.Random) -> dict[TileKey, bytes]:
    store: dict[TileKey, bytes] = {}
    size = 0
    while size < len(hashes):
        k = min(len(hashes) - size, rng.choice([1, 2, 7, 255, 256, 257, 1000, 5000]))
        edge = {key: store[key] for key, _ in tiles.edge_tiles(size)}
        store.update(tiles.extend(size, edge, hashes[size : size + k]))
        size += k
    return store


def test_tiles_match_tree_levels() -> None:
    rng = random.Random(1)
    n = TILE_WIDTH**2 + 3 * TILE_WIDTH + 5  # three tile levels, partial at each
    hashes = [rng.randbytes(32) for _ in range(n)]
    store = _build(hashes, rng)
    tree = MemoryTree(hashes)
    for (level, index), data in store.items():
        row = tree.levels[level * 8]
        assert data == b"".join(row[index * TILE_WIDTH : (index + 1) * TILE_WIDTH])
    assert set(store) == {(0, i) for i in range(n // 256 + 1)} | {(1, i) for i in range(2)} | {(2, 0)}
    assert tiles.edge_tiles(n) == [((0, n // 256), 5), ((1, 1), 3), ((2, 0), 1)]


def test_proofs_from_tiles_equal_memory_proofs() -> None:
    rng = random.Random(2)
    n = TILE_WIDTH**2 + 700
    hashes = [rng.randbytes(32) for _ in range(n)]
    store = _build(hashes, rng)
    fetched: list[int] = []

    def fetch(keys: Collection[TileKey]) -> Mapping[TileKey, bytes]:
        fetched.append(len(keys))
        return {k: store[k] for k in keys if k in store}

    reader = TileReader(fetch)
    tree = MemoryTree(hashes)
    for size in [1, 2, 255, 256, 257, 65535, 65536, 65537, n, *rng.sample(range(1, n), 20)]:
        assert merkle.root_hash(reader, size) == tree.root(size)
        for index in {0, size - 1, rng.randrange(size)}:
            assert merkle.inclusion_proof(reader, index, size) == merkle.inclusion_proof(tree, index, size)
        first = rng.randrange(1, size + 1)
        assert merkle.consistency_proof(reader, first, size) == merkle.consistency_proof(tree, first, size)
    # one fetch per proof, touching O(log n) tiles
    assert max(fetched) <= 2 * 3


def test_missing_or_short_tiles_are_reported() -> None:
    h = [bytes([i]) * 32 for i in range(3)]
    with pytest.raises(TileError, match="should hold 3 hashes"):
        tiles.extend(3, {}, h)
    with pytest.raises(TileError, match="should hold 3 hashes"):
        tiles.extend(3, {(0, 0): b"".join(h[:2])}, h)
    reader = TileReader(lambda keys: {(0, 0): b"".join(h[:2])})
    with pytest.raises(TileError, match="too short"):
        merkle.root_hash(reader, 3)
