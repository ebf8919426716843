"""Ledger: the append-only Merkle log of events (leaves, tiles, signed checkpoints).

Events stored before this revision are logged now, in ``seq`` order, from their stored event hash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_leaf",
        sa.Column("leaf_index", BigId, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("event_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_index("ux_ledger_leaf_seq", "ledger_leaf", ["seq"], unique=True)
    op.create_table(
        "ledger_tile",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("tile_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO ledger_head (id, tree_size) VALUES (1, 0)")
    _log_existing_events()


def _log_existing_events() -> None:
    # Imported here: only this data step needs the ledger code.
    from zhuisu.ledger.service import hash_bytes_from_uri
    from zhuisu.store.ledger import append_leaves

    conn = op.get_bind()
    last = -1
    while True:
        rows = conn.execute(
            sa.text("SELECT seq, event_hash FROM epcis_event WHERE seq > :last ORDER BY seq LIMIT 10000"),
            {"last": last},
        ).all()
        if not rows:
            return
        append_leaves(conn, [(int(seq), hash_bytes_from_uri(uri)) for seq, uri in rows])
        last = int(rows[-1][0])


def downgrade() -> None:
    for table in ("ledger_checkpoint", "ledger_tile", "ledger_leaf", "ledger_head"):
        op.drop_table(table)
