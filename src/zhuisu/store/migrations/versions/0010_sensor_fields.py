"""Sensor data becomes queryable: index rows (``event_field``, scope ``sensor``) for events stored before.

New events get them at capture (``zhuisu.epcis.index.sensor_rows``); this writes the same rows for the events
already stored that have a sensorElementList, read from their bodies a thousand at a time.

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


def upgrade() -> None:
    from zhuisu.epcis.index import SENSOR_SCOPE, sensor_rows

    conn = op.get_bind()
    events = sa.table("epcis_event", sa.column("seq"), sa.column("body"))
    fields = sa.table(
        "event_field",
        *(sa.column(c) for c in ("seq", "scope", "name", "text_value", "num_value", "time_value")),
    )
    conn.execute(sa.delete(fields).where(fields.c.scope == SENSOR_SCOPE))
    last = 0
    while True:
        batch = conn.execute(
            sa.select(events.c.seq, events.c.body)
            .where(events.c.seq > last, events.c.body.like('%"sensorElementList"%'))
            .order_by(events.c.seq)
            .limit(1000)
        ).all()
        if not batch:
            return
        rows = [
            {"seq": seq, "scope": r[0], "name": r[1], "text_value": r[2], "num_value": r[3], "time_value": r[4]}
            for seq, body in batch
            for r in sensor_rows(orjson.loads(body).get("sensorElementList"))
        ]
        if rows:
            conn.execute(sa.insert(fields), rows)
        last = batch[-1][0]


def downgrade() -> None:
    op.execute("DELETE FROM event_field WHERE scope = 'sensor'")
