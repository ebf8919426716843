"""Master data (EPCIS vocabularies) captured with events: its tables, how a capture writes it, and the SQL
conditions of the query parameters that read it (``EQ_ATTR_``, ``HASATTR_``, ``WD_``).

What a party captures about an element replaces what that same party said of it before (its attributes and its
children), inside the capture's transaction: a capture that is rolled back leaves the master data as it was, and
no party can take back what another said. Queries read what every party said.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Connection, Index, Select, String, Table, Text, delete, insert, select

from zhuisu.epcis.vocabulary import FIELD_VTYPES, MasterData
from zhuisu.store.schema import bytewise, metadata

masterdata_attribute = Table(
    "masterdata_attribute",
    metadata,
    Column("vtype", bytewise(Text()), nullable=False),
    Column("element", bytewise(Text()), nullable=False),
    Column("attribute", bytewise(Text()), nullable=False),
    Column("value", bytewise(Text()), nullable=True),
    Column("party", String(64), nullable=True),  # who said so (None: the platform itself)
    Index("ix_masterdata_attribute_element", "element", "vtype"),
    Index("ix_masterdata_attribute_value", "attribute", "value", "vtype"),
)

masterdata_child = Table(
    "masterdata_child",
    metadata,
    Column("vtype", bytewise(Text()), nullable=False),
    Column("parent", bytewise(Text()), nullable=False),
    Column("child", bytewise(Text()), nullable=False),
    Column("party", String(64), nullable=True),
    Index("ix_masterdata_child_parent", "parent", "vtype"),
)

_CHUNK = 200  # elements per statement (under both stores' bound-parameter limits)


def record(conn: Connection, data: MasterData, party: str | None) -> int:
    """Replace what ``party`` said before of each element ``data`` describes; the number of elements."""
    by_vtype: dict[str, list[str]] = {}
    for vtype, element in data.attributes:
        by_vtype.setdefault(vtype, []).append(element)
    a, c = masterdata_attribute.c, masterdata_child.c
    mine_a, mine_c = a.party.is_not_distinct_from(party), c.party.is_not_distinct_from(party)
    for vtype, elements in by_vtype.items():
        for start in range(0, len(elements), _CHUNK):
            chunk = elements[start : start + _CHUNK]
            conn.execute(delete(masterdata_attribute).where(a.vtype == vtype, a.element.in_(chunk), mine_a))
            conn.execute(delete(masterdata_child).where(c.vtype == vtype, c.parent.in_(chunk), mine_c))
            attributes = [
                {"vtype": vtype, "element": element, "attribute": name, "value": value, "party": party}
                for element in chunk
                for name, value in data.attributes[(vtype, element)]
            ]
            children = [
                {"vtype": vtype, "parent": element, "child": child, "party": party}
                for element in chunk
                for child in dict.fromkeys(data.children.get((vtype, element), ()))
            ]
            if attributes:
                conn.execute(insert(masterdata_attribute), attributes)
            if children:
                conn.execute(insert(masterdata_child), children)
    return len(data.attributes)


def with_attribute(field: str, attributes: Sequence[str], values: Sequence[str] | None) -> Select[tuple[str]]:
    """SELECT of the elements of ``field``'s vocabularies having one of ``attributes`` (with one of ``values``,
    unless None): ``EQ_ATTR_`` and ``HASATTR_``."""
    a = masterdata_attribute.c
    conditions = [a.attribute.in_(attributes), a.vtype.in_(FIELD_VTYPES[field])]
    if values is not None:
        conditions.append(a.value.in_(values))
    return select(a.element).where(*conditions)


def below(field: str, ids: Sequence[str]) -> Select[tuple[str]]:
    """SELECT of the elements below ``ids`` in ``field``'s vocabularies, at any depth (``WD_``: with ``ids``)."""
    c = masterdata_child.c
    vtypes = FIELD_VTYPES[field]
    below = select(c.child.label("id")).where(c.parent.in_(ids), c.vtype.in_(vtypes)).cte("below", recursive=True)
    step = masterdata_child.alias("step")
    below = below.union(select(step.c.child).join(below, step.c.parent == below.c.id).where(step.c.vtype.in_(vtypes)))
    return select(below.c.id)
