"""Sensor data and extension fields inside error declarations become queryable: their index rows (``event_field``,
scopes ``sensor``, ``s_el``, ``s_md``, ``s_rp``, ``err`` and their ``inner_`` forms) for the
events stored before.

New events get them at capture (``zhuisu.epcis.index.body_field_rows``); this writes the same rows for the events
already stored that have a sensorElementList or an errorDeclaration, read from their bodies a thousand at a time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The scopes this revision indexes (zhuisu.epcis.index: SENSOR_SCOPE, NESTED_SCOPES and their "inner_" forms),
# fixed here as they are at this revision.
_SCOPES = ("sensor", "s_el", "s_md", "s_rp", "err", "inner_s_el", "inner_s_md", "inner_s_rp", "inner_err")


def upgrade() -> None:
    from zhuisu.epcis.index import body_field_rows

    conn = op.get_bind()
    events = sa.table("epcis_event", sa.column("seq"), sa.column("body"))
    fields = sa.table(
        "event_field",
        *(sa.column(c) for c in ("seq", "scope", "name", "text_value", "num_value", "time_value")),
    )
    conn.execute(sa.delete(fields).where(fields.c.scope.in_(_SCOPES)))
    last = 0
    while True:
        batch = conn.execute(
            sa.select(events.c.seq, events.c.body)
            .where(
                events.c.seq > last,
                sa.or_(events.c.body.like('%"sensorElementList"%'), events.c.body.like('%"errorDeclaration"%')),
            )
            .order_by(events.c.seq)
            .limit(1000)
        ).all()
        if not batch:
            return
        rows = [
            {"seq": seq, "scope": r[0], "name": r[1], "text_value": r[2], "num_value": r[3], "time_value": r[4]}
            for seq, body in batch
            for r in body_field_rows(orjson.loads(body))
        ]
        if rows:
            conn.execute(sa.insert(fields), rows)
        last = batch[-1][0]


def downgrade() -> None:
    fields = sa.table("event_field", sa.column("scope"))
    op.get_bind().execute(sa.delete(fields).where(fields.c.scope.in_(_SCOPES)))
