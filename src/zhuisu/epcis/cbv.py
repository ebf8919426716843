"""CBV 2.0 vocabularies: the bare words JSON-LD uses and the URIs behind them.

The word lists come from GS1's own JSON-LD contexts (``data/cbv-*.json``, copied from the GS1 EPCIS
repository), so they follow the standard rather than a hand-typed list. For each vocabulary this
module knows the bare word (``shipping``), the CBV 2.0 web URI (``https://ref.gs1.org/cbv/BizStep-shipping``)
and the EPCIS 1.x/XML URN (``urn:epcglobal:cbv:bizstep:shipping``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

CBV_WEB = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One CBV vocabulary: its words and both URI forms of each."""

    name: str
    words: frozenset[str]
    web_prefix: str  # e.g. https://ref.gs1.org/cbv/BizStep-
    urn_prefix: str | None  # e.g. urn:epcglobal:cbv:bizstep: (None where CBV defines no URN form)

    def is_word(self, value: str) -> bool:
        return value in self.words

    def to_word(self, value: str) -> str:
        """Bare word for any of the three forms of a CBV term; other URIs are returned unchanged."""
        if value in self.words:
            return value
        for prefix in (
            self.web_prefix,
            self.urn_prefix,
            "http://ref.gs1.org/cbv/" + self.web_prefix[len(CBV_WEB) :],
        ):
            if prefix and value.startswith(prefix) and value[len(prefix) :] in self.words:
                return value[len(prefix) :]
        return value

    def to_urn(self, value: str) -> str:
        """URN form (XML/EPCIS 1.x style) of a CBV term; other URIs are returned unchanged."""
        word = self.to_word(value)
        if word in self.words:
            return f"{self.urn_prefix}{word}" if self.urn_prefix else f"{self.web_prefix}{word}"
        return value

    def to_web_uri(self, value: str) -> str:
        """CBV 2.0 web URI of a CBV term; other URIs are returned unchanged."""
        word = self.to_word(value)
        return f"{self.web_prefix}{word}" if word in self.words else value


def _load_words(filename: str) -> frozenset[str]:
    text = resources.files("zhuisu.epcis").joinpath("data", filename).read_text(encoding="utf-8")
    ctx = json.loads(text)["@context"]
    return frozenset(k for k in ctx if not k.startswith("@") and k not in {"cbv", "gs1"})


BIZ_STEP = Vocabulary(
    "bizStep", _load_words("cbv-context-bizstep.jsonld"), CBV_WEB + "BizStep-", "urn:epcglobal:cbv:bizstep:"
)
DISPOSITION = Vocabulary(
    "disposition", _load_words("cbv-context-disposition.jsonld"), CBV_WEB + "Disp-", "urn:epcglobal:cbv:disp:"
)
BIZ_TRANSACTION_TYPE = Vocabulary(
    "bizTransaction type",
    _load_words("cbv-context-biztransaction-type.jsonld"),
    CBV_WEB + "BTT-",
    "urn:epcglobal:cbv:btt:",
)
SOURCE_DEST_TYPE = Vocabulary(
    "source/destination type",
    _load_words("cbv-context-sourcedest-type.jsonld"),
    CBV_WEB + "SDT-",
    "urn:epcglobal:cbv:sdt:",
)
ERROR_REASON = Vocabulary(
    "errorReason", _load_words("cbv-context-error-reason.jsonld"), CBV_WEB + "ER-", "urn:epcglobal:cbv:er:"
)
COMPONENT = Vocabulary("component", _load_words("cbv-context-component.jsonld"), CBV_WEB + "Comp-", None)
MEASUREMENT_TYPE = Vocabulary("measurement type", _load_words("gs1-context-measurement-type.jsonld"), GS1_VOC, None)
SENSOR_ALERT_TYPE = Vocabulary("sensor alert type", _load_words("gs1-context-sensor-alert-type.jsonld"), GS1_VOC, None)


def _standard_prefixes() -> Mapping[str, str]:
    """Prefix → namespace that the EPCIS 2.0 JSON-LD context itself declares (epcis, cbv, cbvmda, gs1 …)."""
    text = resources.files("zhuisu.epcis").joinpath("data", "epcis-context.jsonld").read_text(encoding="utf-8")
    ctx = json.loads(text)["@context"]
    return MappingProxyType(
        {k: v for k, v in ctx.items() if isinstance(v, str) and not k.startswith("@") and v.endswith(("/", "#", ":"))}
    )


# Any other prefix must be declared by the document or the event.
STANDARD_PREFIXES = _standard_prefixes()

EVENT_TYPES = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}
)
ACTIONS = frozenset({"ADD", "OBSERVE", "DELETE"})
