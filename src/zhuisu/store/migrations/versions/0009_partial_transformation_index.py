"""The transformationID index holds only the events that have one (a partial index).

Most events (all but TransformationEvents, and those without an ID) have no transformationID: indexing their
NULLs cost every capture an index entry per event and answered no query (``EQ_transformationID`` compares with
a value, which both databases know implies ``IS NOT NULL``, so they use the partial index).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_HAS_ID = sa.text("transformation_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_epcis_event_transformation_id", "epcis_event")
    op.create_index(
        "ix_epcis_event_transformation_id",
        "epcis_event",
        ["transformation_id"],
        sqlite_where=_HAS_ID,
        postgresql_where=_HAS_ID,
    )


def downgrade() -> None:
    op.drop_index("ix_epcis_event_transformation_id", "epcis_event")
    op.create_index("ix_epcis_event_transformation_id", "epcis_event", ["transformation_id"])
