"""Access: the audit log; users, sessions, API keys, log-in failures, client authorisations; which parties
each stored event concerns; the party and actor of capture jobs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("parties", sa.Text, nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=True),
        sa.Column("target_id", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("remote", sa.Text, nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])

    op.create_table(
        "app_user",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("parties", sa.Text, nullable=False),
        sa.Column("regions", sa.Text, nullable=False),
        sa.Column("sectors", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("password_changed_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "user_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_seen_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("remote", sa.Text, nullable=True),
    )
    op.create_index("ix_user_session_user", "user_session", ["user_id"])
    op.create_table(
        "api_key",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("parties", sa.Text, nullable=False),
        sa.Column("regions", sa.Text, nullable=False),
        sa.Column("sectors", sa.Text, nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("client", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
        sa.Column("last_used_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "login_failure",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("first_at", sa.BigInteger, nullable=False),
        sa.Column("locked_until", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "client_authorisation",
        sa.Column("client", sa.String(128), primary_key=True),
        sa.Column("party", sa.String(64), primary_key=True),
        sa.Column("granted_at", sa.BigInteger, nullable=False),
        sa.Column("granted_by", sa.Text, nullable=False),
    )
    op.create_table(
        "event_party",
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("relation", sa.String(8), nullable=False),
    )
    op.create_index("ix_event_party_party", "event_party", ["party", "seq"])
    op.create_index("ix_event_party_seq", "event_party", ["seq"])
    with op.batch_alter_table("capture_job") as batch:
        batch.add_column(sa.Column("party", sa.String(64), nullable=True))
        batch.add_column(sa.Column("actor", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("capture_job") as batch:
        batch.drop_column("actor")
        batch.drop_column("party")
    for table in ("event_party", "client_authorisation", "login_failure", "api_key", "user_session", "app_user"):
        op.drop_table(table)
    op.drop_table("audit_log")
