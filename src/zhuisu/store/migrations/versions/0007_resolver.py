"""Resolver: scans of codes and counterfeit flags.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "code_scan",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("scanned_at", sa.BigInteger, nullable=False),
        sa.Column("region", sa.String(6), nullable=True),
        sa.Column("via", sa.String(8), nullable=False),
    )
    op.create_index("ix_code_scan_code", "code_scan", ["code", "scanned_at"])
    op.create_index("ix_code_scan_scanned_at", "code_scan", ["scanned_at"])
    op.create_table(
        "code_scan_stat",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("serialized", sa.Boolean, nullable=False),
        sa.Column("scan_count", sa.BigInteger, nullable=False),
        sa.Column("first_scan_at", sa.BigInteger, nullable=False),
        sa.Column("last_scan_at", sa.BigInteger, nullable=False),
        sa.Column("last_region", sa.String(6), nullable=True),
        sa.Column("last_region_at", sa.BigInteger, nullable=True),
        sa.Column("flag_reason", sa.String(32), nullable=True),
        sa.Column("flag_at", sa.BigInteger, nullable=True),
        sa.Column("flag_detail", sa.Text, nullable=True),
    )
    op.create_index("ix_code_scan_stat_flag", "code_scan_stat", ["flag_reason"])


def downgrade() -> None:
    op.drop_index("ix_code_scan_stat_flag", table_name="code_scan_stat")
    op.drop_table("code_scan_stat")
    op.drop_index("ix_code_scan_scanned_at", table_name="code_scan")
    op.drop_index("ix_code_scan_code", table_name="code_scan")
    op.drop_table("code_scan")
