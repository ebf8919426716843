"""Lineage: the graph of identified objects derived from events as they are captured.

Builds the lineage of the events already stored (in seq order), so older databases upgrade.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lineage_node",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ident", sa.Text, nullable=False),
    )
    op.create_index("ux_lineage_node_ident", "lineage_node", ["ident"], unique=True)
    op.create_table(
        "lineage_edge",
        sa.Column("src", sa.BigInteger, nullable=False),
        sa.Column("dst", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("t", sa.BigInteger, nullable=False),
        sa.Column("qty", sa.Float, nullable=True),
        sa.Column("uom", sa.String(16), nullable=True),
    )
    op.create_index("ix_lineage_edge_src", "lineage_edge", ["src", "kind", "dst", "t", "seq"])
    op.create_index("ix_lineage_edge_dst", "lineage_edge", ["dst", "kind", "src", "t", "seq"])
    op.create_index("ix_lineage_edge_seq", "lineage_edge", ["seq"])
    op.create_table("lineage_retracted", sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False))

    from zhuisu.store.lineage import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("lineage_retracted")
    op.drop_table("lineage_edge")
    op.drop_table("lineage_node")
