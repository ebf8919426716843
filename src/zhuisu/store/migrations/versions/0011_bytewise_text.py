"""PostgreSQL compares the indexed texts of events and the lineage byte by byte (``COLLATE "C"``), as SQLite does.

Under the database's default collation every index comparison of an identifier, eventID, event hash or field
value went through the locale (``strcoll`` on copied strings); byte order is what these texts mean (URIs, codes,
hashes), costs less at every capture (4 µs of the database server's ~60 µs per event), and makes the prefix ranges
that ``MATCH_`` parameters use mean the same whatever locale the database was created with. For UTF-8 text byte
order is code point order, so on a ``C.UTF-8`` database nothing a query answers changes. SQLite compares bytes
already (BINARY): nothing to do there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The text columns of the capture's indexes, as at this revision (zhuisu.store.schema and zhuisu.store.lineage).
_COLUMNS = {
    "epcis_event": ("event_id", "event_hash", "biz_step", "biz_location", "read_point", "transformation_id"),
    "event_identifier": ("role", "id"),
    "event_link": ("kind", "type", "value"),
    "event_field": ("scope", "name", "text_value"),
    "lineage_node": ("ident",),
    "lineage_edge": ("kind",),
}


def _collate(collation: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, columns in _COLUMNS.items():
        types: dict[str, str] = dict(
            bind.exec_driver_sql(  # type: ignore[arg-type]
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = to_regclass(%(table)s) AND attnum > 0 AND NOT attisdropped",
                {"table": table},
            ).all()
        )
        changes = ", ".join(f'ALTER COLUMN {c} TYPE {types[c]} COLLATE "{collation}"' for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")  # one rewrite of each table's indexes


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
