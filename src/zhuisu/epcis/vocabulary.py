"""Master data (EPCIS vocabularies) sent with events, as rows the query parameters on master data read.

An EPCISDocument may carry ``epcisHeader.epcisMasterData.vocabularyList`` (the XML ``EPCISMasterData`` reads as
the same JSON-LD form): vocabularies of a type (``urn:epcglobal:epcis:vtype:BusinessLocation``, ``ReadPoint``,
``EPCClass``, ``BusinessStep`` …), each a list of elements with an ``id``, ``attributes`` (``{"id": <attribute
name>, "attribute": <value>}``) and ``children`` (ids of elements below it: a site's rooms, a class's variants).

Element ids are kept in the form events are indexed in (``zhuisu.epcis.index``: a location's SGLN URN as its
Digital Link, a bizStep as its CBV word), so a query compares them with the event's own fields. Attribute names
are full IRIs (a prefix the document or EPCIS declares, such as ``cbvmda:``, is expanded; CBV's ``mda#`` and
``mda:`` spellings are one); a text value is kept as it is, any other value as its JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from zhuisu.epcis.index import STANDARD_PREFIXES, canonical_biz_step, canonical_disposition, canonical_id
from zhuisu.epcis.problems import Problem

VTYPE = "urn:epcglobal:epcis:vtype:"
READ_POINT = VTYPE + "ReadPoint"
BUSINESS_LOCATION = VTYPE + "BusinessLocation"
EPC_CLASS = VTYPE + "EPCClass"
BUSINESS_STEP = VTYPE + "BusinessStep"
DISPOSITION = VTYPE + "Disposition"

# The event field a query names → the vocabularies its values are elements of. A place is a place: read points and
# business locations answer for each other (registries such as zhuisu's own publish a site as both).
FIELD_VTYPES: Mapping[str, tuple[str, ...]] = {
    "readPoint": (READ_POINT, BUSINESS_LOCATION),
    "bizLocation": (BUSINESS_LOCATION, READ_POINT),
    "bizStep": (BUSINESS_STEP,),
    "disposition": (DISPOSITION,),
    "epcClass": (EPC_CLASS,),
}


def _identifier(value: str) -> str:
    try:
        return canonical_id(value)
    except ValueError:  # not a well-formed GS1 key: kept as written, as the event's own field would be
        return value


def _word(to_word: Callable[[str], str]) -> Callable[[str], str]:
    def canonical(value: str) -> str:
        try:
            return to_word(value)
        except ValueError:
            return value

    return canonical


_ELEMENT_ID: Mapping[str, Callable[[str], str]] = {
    READ_POINT: _identifier,
    BUSINESS_LOCATION: _identifier,
    EPC_CLASS: _identifier,
    BUSINESS_STEP: _word(canonical_biz_step),
    DISPOSITION: _word(canonical_disposition),
}


def element_id(vtype: str, value: str) -> str:
    """``value`` in the form the events' field of this vocabulary is indexed in."""
    canonical = _ELEMENT_ID.get(vtype)
    return canonical(value.strip()) if canonical else value.strip()


# CBV's master-data attributes are written both ways: ``urn:epcglobal:cbv:mda#name`` (CBV 1.x, most XML) and
# ``urn:epcglobal:cbv:mda:name`` (the EPCIS 2.0 JSON-LD context's ``cbvmda:``). One attribute: kept in the second.
_CBV_MDA_HASH = "urn:epcglobal:cbv:mda#"
_CBV_MDA = "urn:epcglobal:cbv:mda:"


def expand_name(name: str, prefixes: Mapping[str, str]) -> str:
    """An attribute name as a full IRI: ``cbvmda:name`` and ``urn:epcglobal:cbv:mda#name`` →
    ``urn:epcglobal:cbv:mda:name``; ``ex:grade`` → the namespace the document or query declares for ``ex``."""
    prefix, sep, local = name.partition(":")
    if sep and not local.startswith("//"):
        namespace = prefixes.get(prefix) or STANDARD_PREFIXES.get(prefix)
        if namespace:
            name = namespace + local
    return _CBV_MDA + name[len(_CBV_MDA_HASH) :] if name.startswith(_CBV_MDA_HASH) else name


def attribute_text(value: Any) -> str | None:
    """How an attribute value is kept and compared: a text as it is, anything else as its JSON (sorted keys)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(slots=True)
class MasterData:
    """What a document's vocabularies say, element by element (an element given twice: the later one counts)."""

    attributes: dict[tuple[str, str], list[tuple[str, str | None]]] = field(default_factory=dict)
    children: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.attributes)


def header_master_data(header: Mapping[str, Any], prefixes: Mapping[str, str]) -> MasterData:
    """The master data of a document's header; malformed parts are problems naming their path."""
    out = MasterData()
    epcis_header = header.get("epcisHeader")
    if not isinstance(epcis_header, dict) or "epcisMasterData" not in epcis_header:
        return out
    base = "/epcisHeader/epcisMasterData"
    master = epcis_header["epcisMasterData"]
    vocabularies = master.get("vocabularyList") if isinstance(master, dict) else None
    if not isinstance(vocabularies, list):
        out.problems.append(Problem(None, base + "/vocabularyList", "vocabularyList must be a list of vocabularies"))
        return out
    for v, vocabulary in enumerate(vocabularies):
        path = f"{base}/vocabularyList/{v}"
        vtype = vocabulary.get("type") if isinstance(vocabulary, dict) else None
        elements = vocabulary.get("vocabularyElementList", []) if isinstance(vocabulary, dict) else None
        if not isinstance(vtype, str) or not vtype.strip():
            out.problems.append(Problem(None, path + "/type", "a vocabulary needs its type, a URI"))
            continue
        if not isinstance(elements, list):
            out.problems.append(Problem(None, path + "/vocabularyElementList", "must be a list of elements"))
            continue
        vtype = vtype.strip()
        for e, element in enumerate(elements):
            _element(out, vtype, element, f"{path}/vocabularyElementList/{e}", prefixes)
    return out


def _element(out: MasterData, vtype: str, element: Any, path: str, prefixes: Mapping[str, str]) -> None:
    ident = element.get("id") if isinstance(element, dict) else None
    if not isinstance(ident, str) or not ident.strip():
        out.problems.append(Problem(None, path + "/id", "a vocabulary element needs its id"))
        return
    attributes: list[tuple[str, str | None]] = []
    for a, attribute in enumerate(element.get("attributes") or []):
        name = attribute.get("id") if isinstance(attribute, dict) else None
        if not isinstance(name, str) or not name.strip():
            out.problems.append(Problem(None, f"{path}/attributes/{a}/id", "an attribute needs its id (its name)"))
            continue
        attributes.append((expand_name(name.strip(), prefixes), attribute_text(attribute.get("attribute"))))
    children: list[str] = []
    for c, child in enumerate(element.get("children") or []):
        if not isinstance(child, str) or not child.strip():
            out.problems.append(Problem(None, f"{path}/children/{c}", "a child is the id of another element"))
            continue
        children.append(element_id(vtype, child))
    key = (vtype, element_id(vtype, ident))
    out.attributes[key] = attributes
    out.children[key] = children
