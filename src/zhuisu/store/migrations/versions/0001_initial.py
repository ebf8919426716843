"""Initial schema: events and their indexes, capture jobs, named queries.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "epcis_event",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("event_hash", sa.Text, nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("event_time", sa.BigInteger, nullable=False),
        sa.Column("event_tz", sa.String(6), nullable=True),
        sa.Column("record_time", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(8), nullable=True),
        sa.Column("biz_step", sa.Text, nullable=True),
        sa.Column("disposition", sa.Text, nullable=True),
        sa.Column("read_point", sa.Text, nullable=True),
        sa.Column("biz_location", sa.Text, nullable=True),
        sa.Column("transformation_id", sa.Text, nullable=True),
        sa.Column("error_declared", sa.Boolean, nullable=False),
        sa.Column("capture_id", sa.String(64), nullable=True),
        sa.Column("source_platform", sa.Text, nullable=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    # An event is stored once; its error declaration (same eventID and hash, with errorDeclaration) once more.
    op.create_index("ux_epcis_event_hash", "epcis_event", ["event_hash", "error_declared"], unique=True)
    op.create_index("ux_epcis_event_id", "epcis_event", ["event_id", "error_declared"], unique=True)
    for col in ("event_time", "record_time", "biz_step", "biz_location", "read_point", "transformation_id"):
        op.create_index(f"ix_epcis_event_{col}", "epcis_event", [col])

    op.create_table(
        "event_identifier",
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("quantity", sa.Float, nullable=True),
        sa.Column("uom", sa.String(16), nullable=True),
    )
    op.create_index("ix_event_identifier_id", "event_identifier", ["id", "role", "seq"])

    op.create_table(
        "event_link",
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_index("ix_event_link_value", "event_link", ["kind", "type", "value"])

    op.create_table(
        "event_field",
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("scope", sa.String(12), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("text_value", sa.Text, nullable=True),
        sa.Column("num_value", sa.Float, nullable=True),
        sa.Column("time_value", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_event_field_name", "event_field", ["scope", "name", "text_value"])
    op.create_index("ix_event_field_num", "event_field", ["scope", "name", "num_value"])

    op.create_table(
        "capture_job",
        sa.Column("capture_id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.BigInteger, nullable=True),
        sa.Column("running", sa.Boolean, nullable=False),
        sa.Column("success", sa.Boolean, nullable=True),
        sa.Column("error_behaviour", sa.String(16), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("stored_count", sa.Integer, nullable=False),
        sa.Column("duplicate_count", sa.Integer, nullable=False),
        sa.Column("errors", sa.Text, nullable=True),
    )
    op.create_index("ix_capture_job_created_at", "capture_job", ["created_at"])

    op.create_table(
        "named_query",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "named_query",
        "capture_job",
        "event_field",
        "event_link",
        "event_identifier",
        "epcis_event",
    ):
        op.drop_table(table)
