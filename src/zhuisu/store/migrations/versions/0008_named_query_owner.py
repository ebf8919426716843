"""Named queries belong to whoever made them: an enterprise (shared by its users and keys) or one principal.

Queries stored before this revision get no owner, and so are seen and managed by administrators only.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("named_query") as batch:
        batch.add_column(sa.Column("owner", sa.Text, nullable=True))
    op.create_index("ix_named_query_owner", "named_query", ["owner", "name"])


def downgrade() -> None:
    op.drop_index("ix_named_query_owner", "named_query")
    with op.batch_alter_table("named_query") as batch:
        batch.drop_column("owner")
