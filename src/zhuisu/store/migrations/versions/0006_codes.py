"""Trace codes the platform issues (一物一码 / 一批一码).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "code_batch",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("party_code", sa.Text, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("lot", sa.Text, nullable=True),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("issued_by", sa.Text, nullable=False),
        sa.Column("resolver_base", sa.Text, nullable=False),
    )
    op.create_index("ix_code_batch_product", "code_batch", ["product_id"])
    op.create_index("ix_code_batch_party", "code_batch", ["party_code"])
    op.create_table(
        "issued_code",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("canonical", sa.Text, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("party_code", sa.Text, nullable=False),
        sa.Column("lot", sa.Text, nullable=True),
        sa.Column("serial", sa.Text, nullable=True),
        sa.Column("batch_id", sa.BigInteger, nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ux_issued_code_canonical", "issued_code", ["canonical"], unique=True)
    op.create_index("ix_issued_code_batch", "issued_code", ["batch_id", "id"])
    op.create_index("ix_issued_code_product", "issued_code", ["product_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_issued_code_product", table_name="issued_code")
    op.drop_index("ix_issued_code_batch", table_name="issued_code")
    op.drop_index("ux_issued_code_canonical", table_name="issued_code")
    op.drop_table("issued_code")
    op.drop_index("ix_code_batch_party", table_name="code_batch")
    op.drop_index("ix_code_batch_product", table_name="code_batch")
    op.drop_table("code_batch")
