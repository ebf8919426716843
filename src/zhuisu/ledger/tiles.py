"""Tile layout of the log's hashes (瓦片存储), after C2SP tlog-tiles: https://c2sp.org/tlog-tiles.

A tile at level L, index N holds up to 256 consecutive hashes of tree level 8·L (level 0: leaf
hashes), starting at hash N·256; entry j of level L+1 is the root of the full tile j of level L.
Storage keeps every tile, the right-most ones partial, so appending writes one leaf row plus about
1/256 of a tile per leaf, and any perfect node is one tile read plus at most 255 hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from zhuisu.ledger.merkle import HASH_SIZE, NodeID, perfect_root_bytes

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
TILE_BYTES = TILE_WIDTH * HASH_SIZE

TileKey = tuple[int, int]
"""``(level, index)`` of a tile."""


class TileError(RuntimeError):
    """Stored tiles that are missing or the wrong length for the tree size."""


def split_hashes(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def edge_tiles(size: int) -> list[tuple[TileKey, int]]:
    """The partial (right-most, not full) tile at each level of a tree of ``size`` leaves, with its width."""
    out: list[tuple[TileKey, int]] = []
    level, count = 0, size
    while count:
        width = count & (TILE_WIDTH - 1)
        if width:
            out.append(((level, count >> TILE_HEIGHT), width))
        level += 1
        count >>= TILE_HEIGHT
    return out


def extend(size: int, edge: Mapping[TileKey, bytes], new_leaf_hashes: Sequence[bytes]) -> dict[TileKey, bytes]:
    """Every tile that changes when ``new_leaf_hashes`` are appended to a tree of ``size`` leaves.

    ``edge`` holds the current partial tiles (see :func:`edge_tiles`). The result maps each new or
    grown tile to its full new content.
    """
    out: dict[TileKey, bytes] = {}
    level, count = 0, size
    new: Sequence[bytes] = new_leaf_hashes
    while new:
        index, width = count >> TILE_HEIGHT, count & (TILE_WIDTH - 1)
        row = b"".join(new)
        if width:
            old = edge.get((level, index))
            if old is None or len(old) != width * HASH_SIZE:
                got = "missing" if old is None else f"{len(old) // HASH_SIZE} hashes"
                raise TileError(f"tile {level}/{index} should hold {width} hashes for tree size {size}: {got}")
            row = old + row
        completed: list[bytes] = []
        for offset in range(0, len(row), TILE_BYTES):
            chunk = row[offset : offset + TILE_BYTES]
            out[(level, index + offset // TILE_BYTES)] = chunk
            if len(chunk) == TILE_BYTES:
                completed.append(perfect_root_bytes(chunk))
        new = completed
        level += 1
        count >>= TILE_HEIGHT
    return out


def _locate(node: NodeID) -> tuple[TileKey, int, int]:
    """Tile holding the bottom row of ``node``, and the offset and count of that row in it."""
    height, index = node
    level = height // TILE_HEIGHT
    sub = height - level * TILE_HEIGHT
    first = index << sub
    return (level, first >> TILE_HEIGHT), first & (TILE_WIDTH - 1), 1 << sub


def tiles_for(nodes: Iterable[NodeID]) -> set[TileKey]:
    return {_locate(n)[0] for n in nodes}


TileFetcher = Callable[[Collection[TileKey]], Mapping[TileKey, bytes]]


class TileReader:
    """A :class:`~zhuisu.ledger.merkle.NodeReader` over stored tiles: one fetch per proof."""

    def __init__(self, fetch: TileFetcher) -> None:
        self._fetch = fetch

    def get_nodes(self, ids: Sequence[NodeID]) -> list[bytes]:
        located = [_locate(n) for n in ids]
        tiles = self._fetch({key for key, _, _ in located})
        out: list[bytes] = []
        for (key, offset, count), node in zip(located, ids, strict=True):
            data = tiles.get(key)
            part = data[offset * HASH_SIZE : (offset + count) * HASH_SIZE] if data is not None else b""
            if len(part) != count * HASH_SIZE:
                raise TileError(f"tile {key[0]}/{key[1]} is too short for node {node[0]}/{node[1]}")
            out.append(part if count == 1 else perfect_root_bytes(part))
        return out
