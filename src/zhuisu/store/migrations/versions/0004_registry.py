"""Registry: enterprises (parties), locations, products, catalogs; loads the seed catalog.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "registry_party",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("party_code", sa.String(16), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=True, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("types", sa.Text, nullable=False),
        sa.Column("sectors", sa.Text, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("address", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("gln", sa.String(13), nullable=True, unique=True),
        sa.Column("contact_name", sa.Text, nullable=True),
        sa.Column("contact_phone", sa.Text, nullable=True),
        sa.Column("id_cipher", sa.Text, nullable=True),
        sa.Column("id_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("id_masked", sa.String(32), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_registry_party_region", "registry_party", ["region"])
    op.create_index("ix_registry_party_status", "registry_party", ["status"])
    op.create_table(
        "registry_licence",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("party_code", sa.String(16), sa.ForeignKey("registry_party.party_code"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("issuer", sa.Text, nullable=True),
        sa.Column("valid_from", sa.String(10), nullable=True),
        sa.Column("valid_to", sa.String(10), nullable=True),
    )
    op.create_index("ix_registry_licence_party", "registry_licence", ["party_code"])
    op.create_table(
        "registry_status_change",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("party_code", sa.String(16), sa.ForeignKey("registry_party.party_code"), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("actor", sa.Text, nullable=False),
    )
    op.create_index("ix_registry_status_change_party", "registry_status_change", ["party_code", "at"])
    op.create_table(
        "registry_counter",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "registry_location",
        sa.Column("code", sa.String(200), primary_key=True),
        sa.Column("party_code", sa.String(16), sa.ForeignKey("registry_party.party_code"), nullable=False),
        sa.Column("gln", sa.String(13), nullable=True),
        sa.Column("gln_extension", sa.String(20), nullable=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("address", sa.Text, nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_registry_location_party", "registry_location", ["party_code"])
    op.create_index("ix_registry_location_gln", "registry_location", ["gln"])
    op.create_table(
        "registry_product",
        sa.Column("product_id", sa.String(200), primary_key=True),
        sa.Column("party_code", sa.String(16), sa.ForeignKey("registry_party.party_code"), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=True, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("spec", sa.Text, nullable=True),
        sa.Column("sector", sa.String(32), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("shelf_life_days", sa.Integer, nullable=True),
        sa.Column("approval_no", sa.Text, nullable=True),
        sa.Column("granularity", sa.String(8), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_registry_product_party", "registry_product", ["party_code"])
    op.create_index("ix_registry_product_category", "registry_product", ["category"])
    op.create_table(
        "registry_catalog_version",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("catalog", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(6), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("effective_from", sa.String(10), nullable=False),
        sa.Column("effective_to", sa.String(10), nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("catalog", "scope", "version", name="ux_registry_catalog_version"),
    )
    op.create_table(
        "registry_catalog_entry",
        sa.Column("version_id", sa.BigInteger, sa.ForeignKey("registry_catalog_version.id"), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("sector", sa.String(32), nullable=False),
        sa.Column("granularity", sa.String(8), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.UniqueConstraint("version_id", "category", name="ux_registry_catalog_entry"),
    )
    op.create_index("ix_registry_catalog_entry_category", "registry_catalog_entry", ["category"])

    # Every database starts with the shipped catalog (later seeds are added by `zhuisu registry seed-catalog`).
    from zhuisu.registry.catalog import seed_versions
    from zhuisu.store.registry import load_catalog_versions

    load_catalog_versions(op.get_bind(), seed_versions())


def downgrade() -> None:
    for table in (
        "registry_catalog_entry",
        "registry_catalog_version",
        "registry_product",
        "registry_location",
        "registry_counter",
        "registry_status_change",
        "registry_licence",
        "registry_party",
    ):
        op.drop_table(table)
