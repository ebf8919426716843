"""Tables (SQLAlchemy Core). Migrations in ``migrations/versions`` create and change them.

Events are stored whole (``epcis_event.body``, the JSON-LD event form) and indexed in narrow side
tables keyed by the event's local sequence number ``seq`` (the sync cursor): identifiers by role,
business transactions / sources / destinations, and ILMD / extension fields. Every table is keyed by
``seq`` or by its own id, with no cross-table assumption a distributed PostgreSQL would break.
Times are integer microseconds since the Unix epoch (UTC), comparable on every backend.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeEngine

metadata = MetaData()


def bytewise(t: String) -> TypeEngine[str]:
    """A text type PostgreSQL compares byte by byte (``COLLATE "C"``, migration 0011), as SQLite does: for the
    indexed identifiers, hashes and field values of events (cheaper index upkeep, locale-proof prefix ranges)."""
    return t.with_variant(type(t)(t.length, collation="C"), "postgresql")


# SQLite only aliases ROWID (and so autoincrements) for INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

epcis_event = Table(
    "epcis_event",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("event_id", bytewise(Text()), nullable=False),
    Column("event_hash", bytewise(Text()), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("event_time", BigInteger, nullable=False),
    Column("event_tz", String(6), nullable=True),
    Column("record_time", BigInteger, nullable=False),
    Column("action", String(8), nullable=True),
    Column("biz_step", bytewise(Text()), nullable=True),
    Column("disposition", Text, nullable=True),
    Column("read_point", bytewise(Text()), nullable=True),
    Column("biz_location", bytewise(Text()), nullable=True),
    Column("transformation_id", bytewise(Text()), nullable=True),
    Column("error_declared", Boolean, nullable=False, default=False),
    Column("capture_id", String(64), nullable=True),
    Column("source_platform", Text, nullable=True),
    Column("body", Text, nullable=False),
    # An event is stored once; its error declaration (same eventID and hash, with errorDeclaration) once more.
    Index("ux_epcis_event_hash", "event_hash", "error_declared", unique=True),
    Index("ux_epcis_event_id", "event_id", "error_declared", unique=True),
    Index("ix_epcis_event_event_time", "event_time"),
    Index("ix_epcis_event_record_time", "record_time"),
    Index("ix_epcis_event_biz_step", "biz_step"),
    Index("ix_epcis_event_biz_location", "biz_location"),
    Index("ix_epcis_event_read_point", "read_point"),
    # Partial (migration 0009): most events have no transformationID, and a query compares it with a value.
    Index(
        "ix_epcis_event_transformation_id",
        "transformation_id",
        sqlite_where=text("transformation_id IS NOT NULL"),
        postgresql_where=text("transformation_id IS NOT NULL"),
    ),
)

# role: epc (epcList, childEPCs), parent, input, output (EPC lists);
#       class, inclass, outclass (quantityList/childQuantityList, input/outputQuantityList).
event_identifier = Table(
    "event_identifier",
    metadata,
    Column("seq", BigInteger, nullable=False),
    Column("role", bytewise(String(8)), nullable=False),
    Column("id", bytewise(Text()), nullable=False),
    Column("quantity", Float, nullable=True),
    Column("uom", String(16), nullable=True),
    Index("ix_event_identifier_id", "id", "role", "seq"),
)

# kind: bizTransaction, source, destination; type: CBV word, URI, or '' when untyped.
event_link = Table(
    "event_link",
    metadata,
    Column("seq", BigInteger, nullable=False),
    Column("kind", bytewise(String(16)), nullable=False),
    Column("type", bytewise(Text()), nullable=False),
    Column("value", bytewise(Text()), nullable=False),
    Index("ix_event_link_value", "kind", "type", "value"),
)

# scope: ilmd, ext (top-level fields), inner_ilmd, inner_ext (nested fields at any depth).
# name: the expanded field name, namespace IRI + local name ("http://ns.example.com/epcis/myField").
event_field = Table(
    "event_field",
    metadata,
    Column("seq", BigInteger, nullable=False),
    Column("scope", bytewise(String(12)), nullable=False),
    Column("name", bytewise(Text()), nullable=False),
    Column("text_value", bytewise(Text()), nullable=True),
    Column("num_value", Float, nullable=True),
    Column("time_value", BigInteger, nullable=True),
    Index("ix_event_field_name", "scope", "name", "text_value"),
    Index("ix_event_field_num", "scope", "name", "num_value"),
)

capture_job = Table(
    "capture_job",
    metadata,
    Column("capture_id", String(64), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Column("running", Boolean, nullable=False),
    Column("success", Boolean, nullable=True),
    Column("error_behaviour", String(16), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("event_count", Integer, nullable=False, default=0),
    Column("stored_count", Integer, nullable=False, default=0),
    Column("duplicate_count", Integer, nullable=False, default=0),
    Column("errors", Text, nullable=True),
    Column("party", String(64), nullable=True),  # the party code the job captures for (access, migration 0003)
    Column("actor", Text, nullable=True),  # who sent it: principal subject (access, migration 0003)
    Index("ix_capture_job_created_at", "created_at"),
)

named_query = Table(
    "named_query",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("query", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Whose query it is: "party:<party code>" (an enterprise's users share them) or "user:<subject>".
    Column("owner", Text, nullable=True),
    Index("ix_named_query_owner", "owner", "name"),
)
