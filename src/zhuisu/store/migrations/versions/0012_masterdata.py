"""Master data captured with events (an EPCISDocument's ``epcisHeader.epcisMasterData.vocabularyList``), indexed
for the query parameters that read it: ``EQ_ATTR_<field>_<attribute>``, ``HASATTR_<field>`` and the descendants
``WD_readPoint`` / ``WD_bizLocation`` take in.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")  # compared byte by byte, as in 0011


def upgrade() -> None:
    op.create_table(
        "masterdata_attribute",
        sa.Column("vtype", _TEXT, nullable=False),
        sa.Column("element", _TEXT, nullable=False),
        sa.Column("attribute", _TEXT, nullable=False),
        sa.Column("value", _TEXT, nullable=True),
        sa.Column("party", sa.String(64), nullable=True),  # who said so (None: the platform itself)
    )
    op.create_index("ix_masterdata_attribute_element", "masterdata_attribute", ["element", "vtype"])
    op.create_index("ix_masterdata_attribute_value", "masterdata_attribute", ["attribute", "value", "vtype"])
    op.create_table(
        "masterdata_child",
        sa.Column("vtype", _TEXT, nullable=False),
        sa.Column("parent", _TEXT, nullable=False),
        sa.Column("child", _TEXT, nullable=False),
        sa.Column("party", sa.String(64), nullable=True),
    )
    op.create_index("ix_masterdata_child_parent", "masterdata_child", ["parent", "vtype"])


def downgrade() -> None:
    op.drop_table("masterdata_child")
    op.drop_table("masterdata_attribute")
