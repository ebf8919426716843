"""What the trace engine answers: trace results, product chains and recall impacts (plain dataclasses).

Every answer has ``to_dict()`` (JSON-ready) and ``to_json()``; times are ISO 8601 with the event's own offset.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson


class _Json:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    def to_json(self) -> str:
        return orjson.dumps(self.to_dict()).decode()


@dataclass(slots=True)
class Quantity(_Json):
    """An object named by a step, with its quantity when the event gives one (class-level)."""

    id: str
    quantity: float | None = None
    uom: str | None = None


@dataclass(slots=True)
class Place(_Json):
    """A read point, business location, party, source or destination, with what the registry knows of it."""

    id: str
    type: str = ""  # source/destination type (owning_party, possessing_party, location) or "" for locations
    name: str | None = None
    party_code: str | None = None
    region: str | None = None


@dataclass(slots=True)
class Step(_Json):
    """One event in a product's life: who, what, where, when, why."""

    event_id: str
    seq: int
    event_type: str
    time: str  # ISO 8601 with the event's offset
    time_micros: int
    biz_step: str | None
    disposition: str | None
    action: str | None
    read_point: Place | None
    biz_location: Place | None
    parties: list[str] = field(default_factory=list)  # party codes (owner via event_party, plus named parties)
    parent: str | None = None
    objects: list[Quantity] = field(default_factory=list)
    inputs: list[Quantity] = field(default_factory=list)
    outputs: list[Quantity] = field(default_factory=list)
    sources: list[Place] = field(default_factory=list)
    destinations: list[Place] = field(default_factory=list)
    biz_transactions: list[dict[str, str]] = field(default_factory=list)  # documents: type, id
    certifications: list[Any] = field(default_factory=list)
    sensors: list[dict[str, Any]] = field(default_factory=list)  # one per reading: type, value, uom, time …
    ilmd: dict[str, Any] = field(default_factory=dict)
    owners: list[str] = field(default_factory=list)  # the parties it was captured for (event_party owner)
    via: str | None = None  # the container this step happened to, when not to the object itself


@dataclass(slots=True)
class Related(_Json):
    """An object a trace reached and how it relates to the identifier asked about."""

    id: str
    relation: str  # self, input, output, lot, member, content, carrier
    direction: str  # backward, forward, both


@dataclass(slots=True)
class Holder(_Json):
    """Where an object is now, by its latest visible step (its own or its container's)."""

    id: str
    event_id: str
    time: str
    biz_step: str | None
    disposition: str | None
    location: Place | None
    parties: list[str]
    in_custody: bool  # not sold, used, destroyed or in transit


@dataclass(slots=True)
class Handoff(_Json):
    """A custody hand-off: a shipping and the receiving that took the goods over."""

    shipping_event_id: str
    receiving_event_id: str
    from_parties: list[str]
    to_parties: list[str]
    matched_by: str  # bizTransaction (a shared despatch advice, order …) or object
    shipped_at: str
    received_at: str


@dataclass(slots=True)
class TraceResult(_Json):
    """Backward / forward / both answer for one identifier (canonical form)."""

    identifier: str
    direction: str
    found: bool
    objects: list[Related] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)
    locations: list[Place] = field(default_factory=list)
    origins: list[Step] = field(default_factory=list)  # backward: the earliest steps (commissioning, harvest…)
    holders: list[Holder] = field(default_factory=list)  # forward: where things are now
    handoffs: list[Handoff] = field(default_factory=list)  # custody: shipping → receiving
    hidden_steps: int = 0  # steps the principal may not see


@dataclass(slots=True)
class Chain(_Json):
    """追溯链条: the ordered steps of one product's life, backward to origin and forward to now."""

    identifier: str
    found: bool
    steps: list[Step] = field(default_factory=list)
    hidden_steps: int = 0
    handoffs: list[Handoff] = field(default_factory=list)


@dataclass(slots=True)
class PartyImpact(_Json):
    """Quantities per party in a recall, per unit of measure (serials: ``EA``): produced, shipped, received,
    sold/used, and still held (serials by their holder; lots: produced + received − shipped − sold)."""

    party: str
    name: str | None = None
    region: str | None = None
    produced: dict[str, float] = field(default_factory=dict)  # outputs of its transformations
    shipped: dict[str, float] = field(default_factory=dict)
    received: dict[str, float] = field(default_factory=dict)
    sold: dict[str, float] = field(default_factory=dict)
    in_custody: dict[str, float] = field(default_factory=dict)
    locations: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RecallImpact(_Json):
    """销售范围及影响评估: what a set of lots or serials reached downstream."""

    identifiers: list[str]
    objects: list[Related] = field(default_factory=list)
    lots: list[str] = field(default_factory=list)
    parties: list[PartyImpact] = field(default_factory=list)
    locations: list[Place] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    holders: list[Holder] = field(default_factory=list)
    event_count: int = 0
