"""RFC 6962 / RFC 9162 Merkle tree math (默克尔树): hashing, proof generation and verification.

Nodes are named ``(level, index)``: level 0 holds leaf hashes, node ``(h, i)`` is the root of the
perfect subtree over leaves ``[i * 2**h, (i + 1) * 2**h)``. Proof generation works against any
:class:`NodeReader` that can return perfect-subtree hashes, so storage decides how nodes are kept
(tiles, rows, memory); every proof needs only O(log n) nodes, fetched in one call.

Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) with the policy of
transparency-dev/merkle: a leaf index must be below the tree size, hashes must be 32 bytes, and a
consistency proof from an empty tree (first size 0) is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeID = tuple[int, int]
"""``(level, index)`` of a perfect subtree."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A proof that does not verify, or a request for a proof that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 ‖ data)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def leaf_hashes(inputs: Iterable[bytes]) -> list[bytes]:
    """Leaf hashes of many leaf inputs (hot path of appends)."""
    sha = _sha256
    return [sha(b"\x00" + d).digest() for d in inputs]


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (n >= 2): the RFC's k."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree given its bottom row (length a power of two)."""
    row = list(hashes)
    sha = _sha256
    while len(row) > 1:
        row = [sha(b"\x01" + row[i] + row[i + 1]).digest() for i in range(0, len(row), 2)]
    return row[0]


def perfect_root_bytes(row: bytes) -> bytes:
    """:func:`perfect_root` of a row given as concatenated 32-byte hashes (tiles are stored so)."""
    sha = _sha256
    while len(row) > HASH_SIZE:
        row = b"".join([sha(b"\x01" + row[i : i + 64]).digest() for i in range(0, len(row), 64)])
    return row


def root_of(hashes: Sequence[bytes]) -> bytes:
    """RFC 6962 MTH over a row of leaf hashes (or of equal-height subtree roots)."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    # Fold the perfect pieces of the row right to left, as the recursive definition does.
    nodes = range_nodes(0, n)
    roots: list[bytes] = []
    for level, index in nodes:
        start = index << level
        roots.append(perfect_root(hashes[start : start + (1 << level)]))
    return fold(roots)


def fold(hashes: Sequence[bytes]) -> bytes:
    """Hash a left-to-right list of decreasing perfect subtrees into one root (right to left)."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(b"\x01" + h + acc).digest()
    return acc


def range_nodes(begin: int, end: int) -> list[NodeID]:
    """Perfect subtrees whose fold gives MTH(D[begin:end]), left to right.

    ``begin`` must be aligned to the largest power of two <= end - begin (true for every range
    that appears in RFC 6962 proofs), so the pieces are decreasing powers of two.
    """
    nodes: list[NodeID] = []
    size = end - begin
    if size <= 0:
        raise ValueError(f"empty range [{begin}, {end})")
    level = size.bit_length() - 1
    if begin & ((1 << level) - 1):
        raise ValueError(f"range [{begin}, {end}) is not aligned")
    while size:
        if size >> level & 1:
            nodes.append((level, begin >> level))
            begin += 1 << level
            size -= 1 << level
        level -= 1
    return nodes


class NodeReader(Protocol):
    """Source of perfect-subtree hashes for a tree of at least the requested size."""

    def get_nodes(self, ids: Sequence[NodeID]) -> Sequence[bytes]:
        """Hashes of the given nodes, in the same order."""
        ...


class MemoryTree:
    """A whole tree in memory: a row of hashes per level (tests, audits and small logs)."""

    def __init__(self, leaf_hashes_: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in leaf_hashes_:
            self.append(h)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf_hash_: bytes) -> None:
        """Append one leaf hash, completing interior nodes as they become perfect."""
        levels = self.levels
        levels[0].append(leaf_hash_)
        level = 0
        while len(levels[level]) % 2 == 0:
            row = levels[level]
            parent = _sha256(b"\x01" + row[-2] + row[-1]).digest()
            if level + 1 == len(levels):
                levels.append([])
            levels[level + 1].append(parent)
            level += 1

    def get_nodes(self, ids: Sequence[NodeID]) -> list[bytes]:
        return [self.levels[level][index] for level, index in ids]

    def root(self, size: int | None = None) -> bytes:
        return root_hash(self, self.size if size is None else size)


class CompactRange:
    """Streaming root computation over leaf hashes in O(log n) memory (the right edge of the tree)."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []  # roots of the perfect subtrees, largest first

    def append(self, leaf_hash_: bytes) -> None:
        stack = self._stack
        stack.append(leaf_hash_)
        n = self.size
        while n & 1:
            right = stack.pop()
            stack[-1] = _sha256(b"\x01" + stack[-1] + right).digest()
            n >>= 1
        self.size += 1

    def root(self) -> bytes:
        return fold(self._stack) if self._stack else EMPTY_ROOT


def inclusion_plan(index: int, size: int) -> list[list[NodeID]]:
    """Nodes behind each element of PATH(index, D[0:size]) (RFC 6962 §2.1.1), bottom-up."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    elements: list[list[NodeID]] = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            elements.append(range_nodes(begin + k, end))
            end = begin + k
        else:
            level = k.bit_length() - 1
            elements.append([(level, begin >> level)])
            begin += k
    elements.reverse()
    return elements


def consistency_plan(size1: int, size2: int) -> list[list[NodeID]]:
    """Nodes behind each element of PROOF(size1, D[0:size2]) (RFC 6962 §2.1.2), bottom-up."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}: need 0 < first <= second")
    elements: list[list[NodeID]] = []
    begin, end = 0, size2
    whole = True  # the RFC's flag b: the old tree is still a whole subtree of the current one
    while size1 != end:
        k = _split(end - begin)
        if size1 - begin <= k:
            elements.append(range_nodes(begin + k, end))
            end = begin + k
        else:
            level = k.bit_length() - 1
            elements.append([(level, begin >> level)])
            begin += k
            whole = False
    if not whole:
        elements.append(range_nodes(begin, end))
    elements.reverse()
    return elements


def _resolve(reader: NodeReader, plan: list[list[NodeID]]) -> list[bytes]:
    wanted = [node for element in plan for node in element]
    got = reader.get_nodes(wanted)
    by_id = dict(zip(wanted, got, strict=True))
    return [fold([by_id[node] for node in element]) for element in plan]


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """Audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
    return _resolve(reader, inclusion_plan(index, size))


def consistency_proof(reader: NodeReader, size1: int, size2: int) -> list[bytes]:
    """Proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2`` leaves."""
    return _resolve(reader, consistency_plan(size1, size2))


def root_hash(reader: NodeReader, size: int) -> bytes:
    """MTH of the first ``size`` leaves."""
    if size == 0:
        return EMPTY_ROOT
    nodes = range_nodes(0, size)
    return fold(list(reader.get_nodes(nodes)))


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def root_from_inclusion_proof(index: int, size: int, leaf_hash_: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by an audit path (RFC 9162 §2.1.3.2 steps 1-4)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf_hash_, "leaf hash")
    fn, sn = index, size - 1
    r = leaf_hash_
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} elements, too many for this tree")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} elements, too few for this tree")
    return r


def verify_inclusion(index: int, size: int, leaf_hash_: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows the leaf at ``index`` in the tree ``root``."""
    if root_from_inclusion_proof(index, size, leaf_hash_, proof) != root:
        raise ProofError("inclusion proof does not lead to the given root hash")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows tree ``size1`` is a prefix of tree ``size2``."""
    if size2 < size1:
        raise ProofError(f"second tree size {size2} is smaller than the first {size1}")
    if size1 == 0:
        raise ProofError("first tree size is 0: an empty tree has no consistency proof")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if root1 != root2:
            raise ProofError("trees of equal size have different root hashes")
        return
    if not proof:
        raise ProofError("empty consistency proof between trees of different sizes")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # first size is a power of two: its root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof has {len(proof)} elements, too many for these trees")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof has {len(proof)} elements, too few for these trees")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the first root hash")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the second root hash")
