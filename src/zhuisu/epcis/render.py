"""Query results as documents (查询结果文档): EPCISQueryDocument in JSON-LD or XML.

Stored events are self-describing (each carries the ``@context`` prefixes it uses); a result document
declares them once: the standard EPCIS context first, then one object with every prefix, and the
events lose their own ``@context``. Two events that bind one prefix to different namespaces cannot
share it, so the later one keeps that binding in its own ``@context`` (JSON-LD scoping makes it right).

``GS1-EPC-Format`` is applied here: identifiers are rewritten to GS1 Digital Link or EPC URN form, or
left as captured.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from zhuisu.epcis.index import STANDARD_PREFIXES

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_STANDARD_CONTEXT_URLS = frozenset(
    {
        EPCIS_CONTEXT,
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)
EPC_FORMATS = ("No_Preference", "Always_GS1_Digital_Link", "Always_EPC_URN", "Never_Translates")
CBV_XML_FORMATS = ("No_Preference", "Always_Web_URI", "Always_URN", "Never_Translates")
# What the XML codec writes, whatever was asked: CBV URNs (the XML binding's own form).
CBV_XML_WRITTEN = "Always_URN"
EpcFormat = Literal["No_Preference", "Always_GS1_Digital_Link", "Always_EPC_URN", "Never_Translates"]

_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_LINK_LISTS = (("sourceList", "source"), ("destinationList", "destination"), ("bizTransactionList", "bizTransaction"))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- GS1-EPC-Format ------------------------------------------------------------------------------------


def identifier_converter(epc_format: str) -> Callable[[str], str] | None:
    """The identifier rewrite ``GS1-EPC-Format`` asks for, or None to keep identifiers as captured."""
    if epc_format == "Always_GS1_Digital_Link":
        from zhuisu.codes.epc import to_digital_link

        convert = to_digital_link
    elif epc_format == "Always_EPC_URN":
        from zhuisu.codes.epc import to_epc_urn

        convert = to_epc_urn
    else:
        return None

    def safe(value: str) -> str:
        # An identifier with no form of the other kind (unknown company-prefix length, a non-GS1 URI)
        # stays as captured rather than failing the whole answer.
        try:
            return convert(value)
        except ValueError:
            return value

    return safe


def convert_identifiers(event: dict[str, Any], convert: Callable[[str], str]) -> dict[str, Any]:
    """Rewrite every identifier field of ``event`` in place with ``convert``; returns the event."""
    for key in _EPC_LISTS:
        values = event.get(key)
        if isinstance(values, list):
            event[key] = [convert(v) if isinstance(v, str) else v for v in values]
    if isinstance(event.get("parentID"), str):
        event["parentID"] = convert(event["parentID"])
    for key in _QUANTITY_LISTS:
        for q in event.get(key) or ():
            if isinstance(q, dict) and isinstance(q.get("epcClass"), str):
                q["epcClass"] = convert(q["epcClass"])
    for key in ("readPoint", "bizLocation"):
        place = event.get(key)
        if isinstance(place, dict) and isinstance(place.get("id"), str):
            place["id"] = convert(place["id"])
    for key, member in _LINK_LISTS:
        for link in event.get(key) or ():
            if isinstance(link, dict) and isinstance(link.get(member), str):
                link[member] = convert(link[member])
    for element in event.get("sensorElementList") or ():
        if not isinstance(element, dict):
            continue
        meta = element.get("sensorMetadata")
        parts = [meta] if isinstance(meta, dict) else []
        parts.extend(r for r in element.get("sensorReport") or () if isinstance(r, dict))
        for part in parts:
            if isinstance(part.get("deviceID"), str):
                part["deviceID"] = convert(part["deviceID"])
    return event


def apply_epc_format(events: Iterable[dict[str, Any]], epc_format: str) -> list[dict[str, Any]]:
    """Events with identifiers in the form ``GS1-EPC-Format`` asks for (in place)."""
    out = list(events)
    convert = identifier_converter(epc_format)
    if convert is not None:
        for event in out:
            convert_identifiers(event, convert)
    return out


# --- JSON-LD -------------------------------------------------------------------------------------------


def merge_contexts(events: Iterable[dict[str, Any]]) -> list[Any]:
    """The document ``@context`` for ``events``, taking each event's own ``@context`` out of it (in place)."""
    urls: list[str] = []
    prefixes: dict[str, str] = {}
    for event in events:
        ctx = event.pop("@context", None)
        if ctx is None:
            continue
        kept: dict[str, Any] = {}
        kept_urls: list[Any] = []
        for entry in ctx if isinstance(ctx, list) else [ctx]:
            if isinstance(entry, str):
                if entry not in _STANDARD_CONTEXT_URLS and entry not in urls:
                    urls.append(entry)
            elif isinstance(entry, dict):
                for key, value in entry.items():
                    if STANDARD_PREFIXES.get(key) == value:
                        continue
                    bound = prefixes.setdefault(key, value)
                    if bound != value:
                        kept[key] = value
            else:
                kept_urls.append(entry)
        if kept or kept_urls:
            event["@context"] = [*kept_urls, *([kept] if kept else [])]
    context: list[Any] = [EPCIS_CONTEXT, *urls]
    if prefixes:
        context.append(prefixes)
    return context


def query_document(
    events: list[dict[str, Any]],
    *,
    query_name: str = "SimpleEventQuery",
    subscription_id: str | None = None,
    creation_date: str | None = None,
) -> dict[str, Any]:
    """An EPCISQueryDocument (JSON-LD) holding ``events`` (their ``@context`` is moved to the document)."""
    context = merge_contexts(events)
    results: dict[str, Any] = {}
    if subscription_id is not None:
        results["subscriptionID"] = subscription_id
    results["queryName"] = query_name
    results["resultsBody"] = {"eventList": events}
    return {
        "@context": context,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": creation_date or now_iso(),
        "epcisBody": {"queryResults": results},
    }


def render_json(
    events: list[dict[str, Any]],
    *,
    query_name: str = "SimpleEventQuery",
    subscription_id: str | None = None,
    epc_format: str = "No_Preference",
) -> bytes:
    """A JSON-LD EPCISQueryDocument as bytes."""
    doc = query_document(apply_epc_format(events, epc_format), query_name=query_name, subscription_id=subscription_id)
    return orjson.dumps(doc)


def collection(members: list[str], prefixes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A discovery list (``{"type": "Collection", "member": […]}``) of the REST binding."""
    context: list[Any] = [EPCIS_CONTEXT]
    if prefixes:
        context.append(dict(prefixes))
    return {"@context": context if len(context) > 1 else EPCIS_CONTEXT, "type": "Collection", "member": members}


# --- XML -----------------------------------------------------------------------------------------------


def render_xml(
    events: list[dict[str, Any]],
    *,
    query_name: str = "SimpleEventQuery",
    subscription_id: str | None = None,
    epc_format: str = "No_Preference",
) -> bytes:
    """An XML EPCISQueryDocument as bytes, written by the XML codec (``zhuisu.epcis.xml``).

    The codec writes CBV values as URNs (``GS1-CBV-XML-Format: Always_URN``); events keep their own
    ``@context`` here, the codec declares the XML namespaces from it.
    """
    from zhuisu.epcis import xml

    out = io.BytesIO()
    xml.write_xml_document(
        apply_epc_format(events, epc_format),
        out,
        document_type="EPCISQueryDocument",
        query_name=query_name,
        subscription_id=subscription_id,
    )
    return out.getvalue()
