"""Tables and small value mappings for the EPCIS 2.0 XML binding (XML 绑定映射表).

Used by :mod:`zhuisu.epcis.xml`. Everything here is computed once at import: namespaces, the XSD
sequence of each event type, the CBV vocabulary used by each field, and number/boolean lexical forms.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Final

from zhuisu.epcis import cbv

# --- namespaces -------------------------------------------------------------------------------------

EPCIS_NS: Final = "urn:epcglobal:epcis:xsd:2"
EPCIS_NS_1: Final = "urn:epcglobal:epcis:xsd:1"
QUERY_NS: Final = "urn:epcglobal:epcis-query:xsd:2"
QUERY_NS_1: Final = "urn:epcglobal:epcis-query:xsd:1"
MASTERDATA_NS: Final = "urn:epcglobal:epcis-masterdata:xsd:2"
MASTERDATA_NS_1: Final = "urn:epcglobal:epcis-masterdata:xsd:1"
EPCGLOBAL_NS: Final = "urn:epcglobal:xsd:1"
SBDH_NS: Final = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS: Final = "http://www.w3.org/2001/XMLSchema"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
# The XML namespace of CBV master data / ILMD attribute elements, without a trailing colon: CBV (§8, master
# data attributes) names the attribute ``urn:epcglobal:cbv:mda:lotNumber`` and writes it in XML as
# ``<cbvmda:lotNumber xmlns:cbvmda="urn:epcglobal:cbv:mda">``; the EPCIS 2.0 JSON-LD context has
# ``"cbvmda": "urn:epcglobal:cbv:mda:"`` (with the colon) for the same attribute IRI. GS1's own example pair
# (XML/WithSensorData/SensorDataExamples.xml event 11 ⇄ JSON/WithSensorData/SensorDataExample12.jsonld)
# writes the one as the other, so both namespaces read as the JSON-LD prefix ``cbvmda`` and XML output uses
# the namespace without the colon. (The event hash reference implementation hashes the raw XML namespace
# instead, so its XML and JSON vectors of that event differ: see tests/epcis/test_hash.py.)
CBVMDA_XML_NS: Final = "urn:epcglobal:cbv:mda"

# Namespaces of the EPCIS XML machinery itself: never copied into a JSON-LD @context.
OWN_NAMESPACES: Final = frozenset(
    {
        EPCIS_NS,
        EPCIS_NS_1,
        QUERY_NS,
        QUERY_NS_1,
        MASTERDATA_NS,
        MASTERDATA_NS_1,
        EPCGLOBAL_NS,
        XSI_NS,
        XSD_NS,
        XML_NS,
    }
)
# Namespaces whose standard field elements we accept qualified as well (some producers write
# <epcis:eventTime> although the XSD has elementFormDefault="unqualified").
EPCIS_FIELD_NAMESPACES: Final = (EPCIS_NS, EPCIS_NS_1)

# Prefixes defined by the EPCIS 2.0 JSON-LD context (epcis-context.jsonld). Extension keys in these
# namespaces use the standard prefix and need no per-event @context entry.
STD_PREFIX_BY_NS: Final[dict[str, str]] = {
    "https://gs1.org/voc/": "gs1",
    "https://ref.gs1.org/cbv/": "cbv",
    CBVMDA_XML_NS: "cbvmda",
    CBVMDA_XML_NS + ":": "cbvmda",
    "https://ref.gs1.org/epcis/": "epcis",
    "http://purl.org/dc/terms/": "dcterms",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs",
    "http://www.w3.org/2002/07/owl#": "owl",
    "http://www.w3.org/2001/XMLSchema#": "xsd",
    XML_NS: "xml",
}
# Namespace written to XML for a standard prefix (cbvmda: the CBV XML namespace, without the colon
# the JSON-LD context uses for attribute IRIs).
STD_NS_BY_PREFIX: Final[dict[str, str]] = {
    "gs1": "https://gs1.org/voc/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": CBVMDA_XML_NS,
    "epcis": "https://ref.gs1.org/epcis/",
    "dcterms": "http://purl.org/dc/terms/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "xml": XML_NS,
}
# Prefixes that a user namespace may not take in JSON-LD (the EPCIS context is @protected).
RESERVED_PREFIXES: Final = frozenset({*STD_NS_BY_PREFIX, "xmlns", "sbdh"})

# --- event structure (XSD sequences of EPCglobal-epcis-2_0.xsd) -------------------------------------

EVENT_TYPES: Final = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")

_COMMON: Final = (
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "eventID",
    "errorDeclaration",
    "certificationInfo",
    "baseExtension",
)
_WHY_TAIL: Final = ("sourceList", "destinationList", "sensorElementList", "persistentDisposition")

# JSON keys of each event type in the order of the XML Schema sequence. "extension"/"baseExtension" hold
# only what an <extension>/<baseExtension> wrapper had that is neither a standard field nor a namespaced
# user element (unqualified elements, which no JSON-LD member can carry; validation refuses them); user
# extension elements (the XSD's ##other wildcard) follow.
EVENT_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "ObjectEvent": (
        *_COMMON,
        "epcList",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "quantityList",
        *_WHY_TAIL,
        "ilmd",
        "extension",
    ),
    "AggregationEvent": (
        *_COMMON,
        "parentID",
        "childEPCs",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "childQuantityList",
        *_WHY_TAIL,
        "extension",
    ),
    "TransactionEvent": (
        *_COMMON,
        "bizTransactionList",
        "parentID",
        "epcList",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "quantityList",
        *_WHY_TAIL,
        "extension",
    ),
    "TransformationEvent": (
        *_COMMON,
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        *_WHY_TAIL,
        "ilmd",
        "extension",
    ),
    "AssociationEvent": (
        *_COMMON,
        "parentID",
        "childEPCs",
        "childQuantityList",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        *_WHY_TAIL,
        "extension",
    ),
}
EVENT_FIELDS: Final[dict[str, frozenset[str]]] = {t: frozenset(o) for t, o in EVENT_ORDER.items()}

TEXT_FIELDS: Final = frozenset(
    {
        "eventTime",
        "recordTime",
        "eventTimeZoneOffset",
        "eventID",
        "certificationInfo",
        "action",
        "parentID",
        "transformationID",
    }
)
EPC_LIST_FIELDS: Final = frozenset({"epcList", "childEPCs", "inputEPCList", "outputEPCList"})
QUANTITY_LIST_FIELDS: Final = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
LOCATION_FIELDS: Final = frozenset({"readPoint", "bizLocation"})

# --- sensor data ------------------------------------------------------------------------------------

SENSOR_NUMBER_ATTRS: Final = frozenset({"value", "minValue", "maxValue", "sDev", "meanValue", "percRank", "percValue"})
# Attribute order of SensorReportType / SensorMetadataType in the XSD, plus the JSON schema's sensorReport
# bizRules (allowed in XML through anyAttribute). Attributes are unordered in XML; a fixed order keeps our
# output stable and readable.
SENSOR_REPORT_ATTRS: Final = (
    "type",
    "exception",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "uom",
    "minValue",
    "maxValue",
    "sDev",
    "chemicalSubstance",
    "microorganism",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "time",
    "meanValue",
    "percRank",
    "percValue",
    "dataProcessingMethod",
    "bizRules",
    "coordinateReferenceSystem",
)
SENSOR_METADATA_ATTRS: Final = (
    "time",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "startTime",
    "endTime",
    "bizRules",
    "dataProcessingMethod",
)

_GS1_CURIE: Final = "gs1:"
_CBV_COMP_CURIE: Final = "cbv:Comp-"


_CBV_MEMO: dict[tuple[str, str], str] = {}


def cbv_to_json(value: str, vocab: cbv.Vocabulary) -> str:
    """A CBV term as XML writes it (URN, web URI or ``cbv:BizStep-x`` CURIE) → the bare word."""
    key = (vocab.name, value)
    word = _CBV_MEMO.get(key)
    if word is None:
        word = value
        if value.startswith("cbv:"):
            word = vocab.to_word(cbv.CBV_WEB + value[4:])
        if word not in vocab.words:
            word = vocab.to_word(value)
        if len(_CBV_MEMO) > 4096:  # a bound, not an LRU: the vocabularies are small, URIs are not
            _CBV_MEMO.clear()
        _CBV_MEMO[key] = word
    return word


def _is_local_word(value: str) -> bool:
    return bool(value) and ":" not in value and "/" not in value


_CBV_COMP_WEB: Final = cbv.CBV_WEB + "Comp-"


def gs1_term_to_json(value: str, vocab: cbv.Vocabulary) -> str:
    """``gs1:Temperature`` (XML) → ``Temperature``; ``gs1:X`` for an X the vocabulary lacks → the full URI.

    The JSON-LD context gives sensor ``type``/``exception`` the gs1 vocabulary, so a bare word and the
    ``gs1:`` CURIE name the same IRI; the GS1 example pairs use the CURIE in XML and the word in JSON. Only
    words of ``vocab`` become bare words: a bare word outside the list means nothing in the JSON form (the
    schema lists the words), so ``gs1:MT-Temperature`` becomes ``https://gs1.org/voc/MT-Temperature``, the
    IRI it names, and validation can tell the user that this IRI is no term of the vocabulary. Known full
    URIs → the word; anything else is kept as given.
    """
    if value.startswith(_GS1_CURIE):
        local = value[4:]
        if _is_local_word(local):
            return local if local in vocab.words else cbv.GS1_VOC + local
    return vocab.to_word(value)


def gs1_term_to_xml(value: str) -> str:
    """``Temperature`` → ``gs1:Temperature``; ``https://gs1.org/voc/X`` → ``gs1:X``; other URIs unchanged."""
    if _is_local_word(value):
        return _GS1_CURIE + value
    if value.startswith(cbv.GS1_VOC) and _is_local_word(value[len(cbv.GS1_VOC) :]):
        return _GS1_CURIE + value[len(cbv.GS1_VOC) :]
    return value


def component_to_json(value: str) -> str:
    """``cbv:Comp-latitude`` (XML) → ``latitude``; ``cbv:Comp-X`` for an unknown X → the full URI.

    As :func:`gs1_term_to_json`: only CBV component words become bare words; known web URIs → the word;
    anything else (``example:x``) is kept as given.
    """
    if value.startswith(_CBV_COMP_CURIE):
        local = value[9:]
        if _is_local_word(local):
            return local if local in cbv.COMPONENT.words else _CBV_COMP_WEB + local
    return cbv.COMPONENT.to_word(value)


def component_to_xml(value: str) -> str:
    """``latitude`` → ``cbv:Comp-latitude``; ``https://ref.gs1.org/cbv/Comp-X`` → ``cbv:Comp-X``; others unchanged."""
    if _is_local_word(value):
        return _CBV_COMP_CURIE + value
    if value.startswith(_CBV_COMP_WEB) and _is_local_word(value[len(_CBV_COMP_WEB) :]):
        return _CBV_COMP_CURIE + value[len(_CBV_COMP_WEB) :]
    return value


# --- numbers and booleans ---------------------------------------------------------------------------

_INT_RE: Final = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DOUBLE_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN")


def parse_number(text: str, *, decimal_only: bool = False) -> int | float:
    """xsd:decimal / xsd:double lexical form → ``int`` when written as an integer, else ``float``.

    Raises ``ValueError`` with a readable message. ``int``/``float`` alone would accept ``1_000`` and
    ``nan``; the XSD lexical space does not.
    """
    s = text.strip()
    if _INT_RE.fullmatch(s):
        return int(s)
    if (_DECIMAL_RE if decimal_only else _DOUBLE_RE).fullmatch(s):
        return float(s)
    kind = "decimal number" if decimal_only else "number"
    raise ValueError(f"{s!r} is not a {kind}")


def format_number(value: object, *, decimal_only: bool = False) -> str:
    """JSON number → XML lexical form (xsd:decimal when ``decimal_only``, else xsd:double)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        if decimal_only:
            raise ValueError(f"{value!r} is not a decimal number")
        return "NaN" if math.isnan(value) else ("INF" if value > 0 else "-INF")
    text = repr(value)
    if decimal_only and ("e" in text or "E" in text):
        text = format(Decimal(text), "f")
    return text


def parse_boolean(text: str) -> bool:
    s = text.strip()
    if s in ("true", "1"):
        return True
    if s in ("false", "0"):
        return False
    raise ValueError(f"{s!r} is not a boolean (true/false)")
