"""EPCIS 2.0 XML ⇄ internal JSON-LD event form, streaming (XML 编解码, 流式).

Reading uses ``lxml.etree.iterparse`` and clears every event once converted, so memory does not grow
with the number of events; writing uses ``lxml.etree.xmlfile`` and serialises one event at a time.

Mapping (XML binding of EPCIS 2.0 ⇄ JSON-LD binding), as in the GS1 example pairs and OpenEPCIS:

* CBV URNs (``urn:epcglobal:cbv:bizstep:shipping``) and CBV web URIs ⇄ bare words (``shipping``) for
  bizStep, disposition, persistentDisposition, error reason and bizTransaction/source/destination type;
  sensor ``type``/``exception`` ``gs1:Temperature`` ⇄ ``Temperature``; ``component`` ``cbv:Comp-x`` ⇄ ``x``.
  Only words of the GS1/CBV lists become bare words: ``gs1:MT-Temperature`` ⇄ ``https://gs1.org/voc/MT-Temperature``
  (the IRI it names), ``cbv:Comp-w`` ⇄ ``https://ref.gs1.org/cbv/Comp-w``. ``uom`` is a UN/CEFACT code on both sides.
* Quantities and numeric sensor attributes become JSON numbers (``int`` when written as an integer),
  ``booleanValue`` a JSON boolean; times and every other value are kept as the strings given.
* User extension elements (any namespace) ⇄ ``prefix:localName`` keys; nested elements become objects,
  repeated elements lists, text stays a string (``xsi:type`` is not used to guess types; typed JSON
  values are written with an ``xsi:type`` so the XML says what they were). Attributes of extension
  elements become ``"@name"`` / ``"@prefix:name"`` keys and the element's text then goes to ``"value"``
  (OpenEPCIS' convention for unqualified attributes; OpenEPCIS writes qualified attributes without
  ``@``, which collides with child elements, so we keep the ``@``). Mixed content is refused.
* ``<extension>``/``<baseExtension>`` wrappers are flattened, as JSON-LD has no wrappers (user extensions are
  top-level ``prefix:name`` members): namespaced elements inside an event's wrapper (the 2.0 XSD's ##other)
  become event members, exactly like those written after it; likewise inside the ``<extension>`` of readPoint,
  bizLocation, ilmd, errorDeclaration, sensorElement and master data. A name found inside and outside a
  wrapper becomes a list in document order, as any repeated element. Standard fields inside them (EPCIS 1.x
  placement) are lifted to the event. Only unqualified elements that are no standard field (the XSD's
  ##local: future standard fields, which have no JSON-LD form) stay under an ``"extension"`` /
  ``"baseExtension"`` object. Written back, user elements go after the standard fields, outside any
  wrapper (valid for the 2.0 XSD): the wrapper is not preserved, the fields and values are.
* Namespaced elements directly in the document root or ``<QueryResults>`` are document-level members
  (``prefix:localName`` keys of the header, written back after ``<EPCISBody>``); ``<x:ignoreFields>`` of
  the event hash vectors becomes the list of field names JSON has (``["ex:a", "ex:b"]``).
* Namespaces of the EPCIS JSON-LD context (gs1, cbv, cbvmda …) use the standard prefix; every other
  namespace used by an event is listed in the event's own ``"@context"``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO, Final

from lxml import etree

from zhuisu.epcis import cbv
from zhuisu.epcis import xmlmap as M
from zhuisu.epcis.problems import EPCISError, Problem

__all__ = ["event_to_xml_bytes", "iter_xml_document", "parse_xml_events", "write_xml_document"]

Json = dict[str, Any]
_MISSING: Final = object()

# --- tag tables -------------------------------------------------------------------------------------

_ALL_STD_NAMES: Final = frozenset(
    {name for order in M.EVENT_ORDER.values() for name in order}
    | {
        "epc",
        "quantityElement",
        "epcClass",
        "quantity",
        "uom",
        "id",
        "bizTransaction",
        "source",
        "destination",
        "sensorElement",
        "sensorMetadata",
        "sensorReport",
        "set",
        "unset",
        "declarationTime",
        "reason",
        "correctiveEventIDs",
        "correctiveEventID",
        "EPCISHeader",
        "EPCISBody",
        "EventList",
        "EPCISMasterData",
        "VocabularyList",
        "Vocabulary",
        "VocabularyElementList",
        "VocabularyElement",
        "attribute",
        "children",
        "queryName",
        "subscriptionID",
        "resultsBody",
        "QueryResults",
        *M.EVENT_TYPES,
    }
)


def _std_local_table() -> dict[str, str]:
    table = {name: name for name in _ALL_STD_NAMES}
    for ns in (*M.EPCIS_FIELD_NAMESPACES, M.QUERY_NS, M.QUERY_NS_1, M.MASTERDATA_NS, M.MASTERDATA_NS_1):
        table.update({f"{{{ns}}}{name}": name for name in _ALL_STD_NAMES})
    return table


# Unqualified standard element names, and the same names qualified with an EPCIS namespace, → name.
_STD_LOCAL: Final = _std_local_table()

_ROOTS: Final = {
    f"{{{M.EPCIS_NS}}}EPCISDocument": "EPCISDocument",
    f"{{{M.EPCIS_NS_1}}}EPCISDocument": "EPCISDocument",
    f"{{{M.QUERY_NS}}}EPCISQueryDocument": "EPCISQueryDocument",
    f"{{{M.QUERY_NS_1}}}EPCISQueryDocument": "EPCISQueryDocument",
    f"{{{M.MASTERDATA_NS}}}EPCISMasterDataDocument": "EPCISMasterDataDocument",
    f"{{{M.MASTERDATA_NS_1}}}EPCISMasterDataDocument": "EPCISMasterDataDocument",
}
# iterparse reports only these tags to Python; everything else is built by libxml2 without a callback.
_FILTER: Final = [
    "{*}EPCISDocument",
    "{*}EPCISQueryDocument",
    "{*}EPCISMasterDataDocument",
    "{*}EPCISCaptureJob",
    "{*}EPCISHeader",
    "{*}EventList",
    "{*}QueryResults",
    "{*}queryName",
    "{*}subscriptionID",
    "{*}VocabularyList",
    *(f"{{*}}{t}" for t in M.EVENT_TYPES),
]
_XSI_TYPE: Final = f"{{{M.XSI_NS}}}type"
_sub: Final = etree.SubElement
_NCNAME: Final = re.compile(r"[^\W\d][\w.\-]*")
_LXML_POS: Final = re.compile(r",? *\(?line \d+,? column \d+\)?\s*$")


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _put(d: Json, key: str, value: Any) -> None:
    """Add a value; a repeated key turns into a list (repeated XML elements)."""
    old = d.get(key, _MISSING)
    if old is _MISSING:
        d[key] = value
    elif type(old) is list:
        old.append(value)
    else:
        d[key] = [old, value]


class _FieldError(Exception):
    """A problem inside one event, before we know the event's index."""

    def __init__(self, path: str, message: str, line: int | None):
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line


def _fail(path: str, message: str, el: Any) -> _FieldError:
    return _FieldError(path, message, getattr(el, "sourceline", None))


def _with_line(message: str, line: int | None) -> str:
    return f"{message} (line {line})" if line else message


def _text(el: Any) -> str:
    return (el.text or "").strip()


# =====================================================================================================
# Reading
# =====================================================================================================


class _Reader:
    """State of one document being read: namespace → prefix choices and the current event's context."""

    def __init__(self) -> None:
        self._key_cache: dict[str, tuple[str, str | None, str | None]] = {}
        self._prefix_by_ns: dict[str, str] = {M.SBDH_NS: "sbdh"}
        self._ns_by_prefix: dict[str, str] = {"sbdh": M.SBDH_NS}
        self.used: dict[str, str] = {}  # non-standard prefix → namespace used by the current event
        self.path_prefix = ""

    # --- namespaces ---------------------------------------------------------------------------------

    def register(self, ns: str, prefix: str | None) -> str:
        """Prefix for a user namespace: the document's own prefix unless it is taken or reserved."""
        known = self._prefix_by_ns.get(ns)
        if known is not None:
            return known
        base = prefix or "ns"
        sep = "_" if base[-1].isdigit() else ""
        candidate, n = base, 1
        while candidate in self._ns_by_prefix or candidate in M.RESERVED_PREFIXES:
            candidate, n = f"{base}{sep}{n}", n + 1
        self._prefix_by_ns[ns] = candidate
        self._ns_by_prefix[candidate] = ns
        return candidate

    def _new_key(self, tag: str, prefix: str | None) -> tuple[str, str | None, str | None]:
        if tag[0] != "{":
            hit: tuple[str, str | None, str | None] = (tag, None, None)
        else:
            ns, local = tag[1:].split("}", 1)
            std = M.STD_PREFIX_BY_NS.get(ns)
            if std is not None:
                hit = (f"{std}:{local}", None, None)
            else:
                p = self.register(ns, prefix)
                hit = (f"{p}:{local}", p, ns)
        self._key_cache[tag] = hit
        return hit

    def key(self, tag: str, prefix: str | None) -> str:
        hit = self._key_cache.get(tag) or self._new_key(tag, prefix)
        if hit[1] is not None:
            self.used[hit[1]] = hit[2]  # type: ignore[assignment]
        return hit[0]

    def attr_key(self, name: str, el: Any) -> str:
        """Key of a qualified attribute; the prefix is looked up only the first time."""
        hit = self._key_cache.get(name)
        if hit is None:
            ns = name[1 : name.index("}")]
            prefix = next((p for p, u in el.nsmap.items() if u == ns and p), None)
            hit = self._new_key(name, prefix)
        if hit[1] is not None:
            self.used[hit[1]] = hit[2]  # type: ignore[assignment]
        return hit[0]

    # --- generic extension content ------------------------------------------------------------------

    def ext_value(self, el: Any, path: str) -> Any:
        """Extension element → string (text) or object (children and/or attributes)."""
        attrib = el.attrib
        if len(el):
            d: Json = {}
            if attrib:
                self._ext_attrs(el, d)
            text = el.text
            if text and not text.isspace():
                raise _fail(path, f"mixed content (text and elements) in <{_local(el.tag)}> is not supported", el)
            for c in el:
                tag = c.tag
                if not isinstance(tag, str):
                    continue
                tail = c.tail
                if tail and not tail.isspace():
                    raise _fail(path, f"mixed content (text and elements) in <{_local(el.tag)}> is not supported", c)
                k = self.key(tag, c.prefix)
                _put(d, k, self.ext_value(c, f"{path}/{k}"))
            return d
        text = el.text or ""
        if attrib:
            d = {}
            self._ext_attrs(el, d)
            if d:
                if text:
                    d["value"] = text
                return d
        return text

    def _ext_attrs(self, el: Any, d: Json) -> None:
        for name, value in el.attrib.items():
            if name[0] == "{":
                if name.startswith("{" + M.XSI_NS):
                    continue  # schema typing hints, not data (OpenEPCIS drops them too)
                d["@" + self.attr_key(name, el)] = value
            else:
                d["@" + name] = value

    def ext_children(self, el: Any, path: str) -> Json:
        d: Json = {}
        for c in el:
            tag = c.tag
            if isinstance(tag, str):
                k = self.key(tag, c.prefix)
                _put(d, k, self.ext_value(c, f"{path}/{k}"))
        return d

    # --- events -------------------------------------------------------------------------------------

    def event(self, el: Any, index: int) -> Json:
        etype = _STD_LOCAL[el.tag]
        fields = M.EVENT_FIELDS[etype]
        self.used = {}
        ev: Json = {"type": etype}
        try:
            self._fields(el, ev, fields, etype)
        except _FieldError as e:
            path = f"{self.path_prefix}/{index}{e.path}" if self.path_prefix else e.path
            raise EPCISError([Problem(index, path, _with_line(e.message, e.line))]) from None
        if self.used:
            ev["@context"] = [{p: ns} for p, ns in self.used.items()]
        return ev

    def _fields(self, el: Any, ev: Json, fields: frozenset[str], etype: str) -> None:
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = _STD_LOCAL.get(tag)
            if name is not None and name in fields:
                if name == "extension" or name == "baseExtension":
                    extra = self._wrapper(c, ev, fields, f"/{name}")
                    if extra:
                        _put(ev, name, extra)
                    continue
                value = _READERS[name](self, c, f"/{name}")
                if name in ev:
                    if name != "certificationInfo":
                        raise _fail(f"/{name}", f"<{name}> appears more than once in {etype}", c)
                    _put(ev, name, value)
                else:
                    ev[name] = value
            elif tag[0] == "{" and name is None:
                k = self.key(tag, c.prefix)
                _put(ev, k, self.ext_value(c, f"/{k}"))
            else:
                raise _fail("", f"unknown element <{_local(tag)}> in {etype}", c)

    def _wrapper(self, el: Any, ev: Json, fields: frozenset[str], path: str) -> Json:
        """An event's <extension>/<baseExtension>, flattened into the event (JSON-LD has no wrapper).

        Namespaced user elements (the XSD's ##other) become event members exactly as if written outside
        the wrapper; a name found inside and outside becomes a list, in document order (as any repeated
        element). EPCIS 1.x standard fields are lifted to the event. What is left (unqualified elements
        that are no field of this event, wrapper attributes) is returned, to be kept under the wrapper's
        name: it has no JSON-LD form, and validation says so.
        """
        extra: Json = {}
        if el.attrib:
            self._ext_attrs(el, extra)
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = _STD_LOCAL.get(tag)
            if name is None and tag[0] == "{":
                k = self.key(tag, c.prefix)
                _put(ev, k, self.ext_value(c, f"/{k}"))
            elif name == "extension" or name == "baseExtension":
                nested = self._wrapper(c, ev, fields, f"{path}/extension")
                if nested:
                    _put(extra, "extension", nested)
            elif name is not None and name in fields and name not in ev:
                ev[name] = _READERS[name](self, c, f"/{name}")
            else:
                k = self.key(tag, c.prefix)
                _put(extra, k, self.ext_value(c, f"{path}/{k}"))
        return extra

    def unwrap(self, el: Any, target: Json, path: str) -> None:
        """An <extension> inside readPoint, bizLocation, ilmd, errorDeclaration, sensorElement or master data.

        As for events: namespaced elements become members of the enclosing object (``target``), next to
        those written outside the wrapper; unqualified ones (the XSD's ##local, future standard fields
        without a JSON-LD form) and wrapper attributes stay under ``"extension"``.
        """
        extra: Json = {}
        if el.attrib:
            self._ext_attrs(el, extra)
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            k = self.key(tag, c.prefix)
            if tag[0] == "{" and _STD_LOCAL.get(tag) is None:
                _put(target, k, self.ext_value(c, f"{path}/{k}"))
            else:
                _put(extra, k, self.ext_value(c, f"{path}/extension/{k}"))
        if extra:
            _put(target, "extension", extra)

    # --- standard fields ----------------------------------------------------------------------------

    def r_text(self, el: Any, path: str) -> str:
        return _text(el)

    def r_biz_step(self, el: Any, path: str) -> str:
        return M.cbv_to_json(_text(el), cbv.BIZ_STEP)

    def r_disposition(self, el: Any, path: str) -> str:
        return M.cbv_to_json(_text(el), cbv.DISPOSITION)

    def _items(self, el: Any, child: str, path: str) -> Iterator[tuple[int, Any]]:
        i = 0
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            if _STD_LOCAL.get(tag) != child:
                raise _fail(path, f"unexpected <{_local(tag)}> in <{_local(el.tag)}> (expected <{child}>)", c)
            yield i, c
            i += 1

    def r_epc_list(self, el: Any, path: str) -> list[str]:
        return [_text(c) for _, c in self._items(el, "epc", path)]

    def r_quantity_list(self, el: Any, path: str) -> list[Json]:
        out = []
        for i, qe in self._items(el, "quantityElement", path):
            q: Json = {}
            for c in qe:
                tag = c.tag
                if not isinstance(tag, str):
                    continue
                name = _STD_LOCAL.get(tag)
                if name == "epcClass" or name == "uom":
                    q[name] = _text(c)
                elif name == "quantity":
                    text = _text(c)
                    if text:  # <quantity xsi:nil="true"/> means no quantity
                        try:
                            q["quantity"] = M.parse_number(text, decimal_only=True)
                        except ValueError as e:
                            raise _fail(f"{path}/{i}/quantity", f"quantity: {e}", c) from None
                else:
                    raise _fail(f"{path}/{i}", f"unexpected <{_local(tag)}> in <quantityElement>", c)
            out.append(q)
        return out

    def r_location(self, el: Any, path: str) -> Json:
        loc: Json = {}
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = _STD_LOCAL.get(tag)
            if name == "id":
                loc["id"] = _text(c)
            elif name == "extension":
                self.unwrap(c, loc, path)
            else:
                k = self.key(tag, c.prefix)
                _put(loc, k, self.ext_value(c, f"{path}/{k}"))
        return loc

    def r_biz_transactions(self, el: Any, path: str) -> list[Json]:
        out = []
        for _, c in self._items(el, "bizTransaction", path):
            bt: Json = {}
            t = c.get("type")
            if t is not None:
                bt["type"] = M.cbv_to_json(t.strip(), cbv.BIZ_TRANSACTION_TYPE)
            bt["bizTransaction"] = _text(c)
            out.append(bt)
        return out

    def _source_dest(self, el: Any, path: str, child: str) -> list[Json]:
        out = []
        for _, c in self._items(el, child, path):
            sd: Json = {}
            t = c.get("type")
            if t is not None:
                sd["type"] = M.cbv_to_json(t.strip(), cbv.SOURCE_DEST_TYPE)
            sd[child] = _text(c)
            out.append(sd)
        return out

    def r_sources(self, el: Any, path: str) -> list[Json]:
        return self._source_dest(el, path, "source")

    def r_destinations(self, el: Any, path: str) -> list[Json]:
        return self._source_dest(el, path, "destination")

    def r_persistent_disposition(self, el: Any, path: str) -> Json:
        pd: Json = {}
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = _STD_LOCAL.get(tag)
            if name != "set" and name != "unset":
                raise _fail(path, f"unexpected <{_local(tag)}> in <persistentDisposition>", c)
            pd.setdefault(name, []).append(M.cbv_to_json(_text(c), cbv.DISPOSITION))
        return pd

    def r_ilmd(self, el: Any, path: str) -> Json:
        d: Json = {}
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            if _STD_LOCAL.get(tag) == "extension":
                self.unwrap(c, d, path)
            else:
                k = self.key(tag, c.prefix)
                _put(d, k, self.ext_value(c, f"{path}/{k}"))
        return d

    def r_error_declaration(self, el: Any, path: str) -> Json:
        ed: Json = {}
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = _STD_LOCAL.get(tag)
            if name == "declarationTime":
                ed["declarationTime"] = _text(c)
            elif name == "reason":
                ed["reason"] = M.cbv_to_json(_text(c), cbv.ERROR_REASON)
            elif name == "correctiveEventIDs":
                ed["correctiveEventIDs"] = [
                    _text(x) for _, x in self._items(c, "correctiveEventID", f"{path}/correctiveEventIDs")
                ]
            elif name == "extension":
                self.unwrap(c, ed, path)
            else:
                k = self.key(tag, c.prefix)
                _put(ed, k, self.ext_value(c, f"{path}/{k}"))
        return ed

    def r_sensor_elements(self, el: Any, path: str) -> list[Json]:
        out: list[Json] = []
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = _STD_LOCAL.get(tag)
            if name != "sensorElement":
                # SensorElementListExtensionType has no JSON-LD counterpart (a JSON array has no slot).
                raise _fail(path, f"<{_local(tag)}> in <sensorElementList> is not supported", c)
            out.append(self._sensor_element(c, f"{path}/{len(out)}"))
        return out

    def _sensor_element(self, el: Any, path: str) -> Json:
        se: Json = {}
        reports: list[Json] = []
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = _STD_LOCAL.get(tag)
            if name == "sensorMetadata":
                se["sensorMetadata"] = self._sensor_attrs(c, f"{path}/sensorMetadata", report=False)
            elif name == "sensorReport":
                reports.append(self._sensor_attrs(c, f"{path}/sensorReport/{len(reports)}", report=True))
            elif name == "extension":
                self.unwrap(c, se, path)
            else:
                k = self.key(tag, c.prefix)
                _put(se, k, self.ext_value(c, f"{path}/{k}"))
        se["sensorReport"] = reports
        return se

    def _sensor_attrs(self, el: Any, path: str, *, report: bool) -> Json:
        d: Json = {}
        for name, value in el.attrib.items():
            if name[0] == "{":
                if not name.startswith("{" + M.XSI_NS):
                    d[self.attr_key(name, el)] = value
                continue
            if report:
                try:
                    if name in M.SENSOR_NUMBER_ATTRS:
                        d[name] = M.parse_number(value)
                        continue
                    if name == "booleanValue":
                        d[name] = M.parse_boolean(value)
                        continue
                except ValueError as e:
                    raise _fail(f"{path}/{name}", f"{name}: {e}", el) from None
                if name == "type":
                    d[name] = M.gs1_term_to_json(value.strip(), cbv.MEASUREMENT_TYPE)
                    continue
                if name == "exception":
                    d[name] = M.gs1_term_to_json(value.strip(), cbv.SENSOR_ALERT_TYPE)
                    continue
                if name == "component":
                    d[name] = M.component_to_json(value.strip())
                    continue
            d[name] = value
        return d

    # --- header -------------------------------------------------------------------------------------

    def header(self, el: Any, out: Json) -> None:
        """<EPCISHeader> → ``out["epcisHeader"]`` (+ sender/receiver/instanceIdentifier from the SBDH)."""
        self.used = {}
        hd: Json = {}
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = _STD_LOCAL.get(tag)
            if name == "extension":
                for cc in c:
                    if _STD_LOCAL.get(cc.tag) == "EPCISMasterData":
                        self._master_data(cc, hd)
                    elif isinstance(cc.tag, str):
                        ext = hd.setdefault("extension", {})
                        k = self.key(cc.tag, cc.prefix)
                        _put(ext, k, self.ext_value(cc, f"/epcisHeader/extension/{k}"))
            elif name == "EPCISMasterData":
                self._master_data(c, hd)
            else:
                k = self.key(tag, c.prefix)
                _put(hd, k, self.ext_value(c, f"/epcisHeader/{k}"))
                if tag == f"{{{M.SBDH_NS}}}StandardBusinessDocumentHeader":
                    self._sbdh_summary(c, out)
        if hd:
            out["epcisHeader"] = hd
        self.merge_context(out)

    def document_members(self, root: Any, header: Json, event_list: Any = None) -> None:
        """Namespaced elements directly in the document root or in <QueryResults> → ``prefix:local`` header members.

        These are the XSD's ##other wildcard of EPCISDocument/EPCISQueryDocument/QueryResults (document-level
        user extensions, top-level ``prefix:name`` members of a JSON-LD document). ``<x:ignoreFields>`` (a
        repository convention of the event hash vectors, naming fields the hash leaves out) becomes a list of
        ``prefix:local`` names, as in JSON: its child elements' names, or the names its text lists. Called when
        ``event_list`` starts (members written before it, as the hash vectors do) and at the end of the
        document (after it, where the XSD puts them); read elements are removed from the tree.
        """
        self.used = {}
        # While the event list is being read, only what precedes it is complete: iterparse may already
        # have built part of what follows, so that waits for the end of the document.
        path = list(event_list.iterancestors()) if event_list is not None else []
        levels = [root]
        for body in root:
            if _STD_LOCAL.get(body.tag) == "EPCISBody":
                levels += [q for q in body if _STD_LOCAL.get(q.tag) == "QueryResults"]
        for parent in levels:
            found = []
            for c in parent:
                if any(c is a for a in path):
                    break
                tag = c.tag
                if (
                    isinstance(tag, str)
                    and tag[0] == "{"
                    and _STD_LOCAL.get(tag) is None
                    and tag[1 : tag.index("}")] not in M.OWN_NAMESPACES
                ):
                    found.append(c)
            for c in found:
                k = self.key(c.tag, c.prefix)
                if k.endswith(":ignoreFields"):
                    names = [self.key(f.tag, f.prefix) for f in c if isinstance(f.tag, str)] or (c.text or "").split()
                    old = header.get(k)
                    header[k] = [*old, *names] if type(old) is list else names
                else:
                    _put(header, k, self.ext_value(c, f"/{k}"))
                parent.remove(c)
        if self.used:
            self.merge_context(header)

    def merge_context(self, header: Json) -> None:
        """Add the prefixes used by header content to the document's @context."""
        ctx = header.setdefault("@context", [])
        for p, ns in self.used.items():
            if {p: ns} not in ctx:
                ctx.append({p: ns})

    def _sbdh_summary(self, el: Any, out: Json) -> None:
        def first_text(parent: Any, *names: str) -> str | None:
            node = parent
            for n in names:
                node = node.find(f"{{{M.SBDH_NS}}}{n}")
                if node is None:
                    return None
            return _text(node)

        for key, names in (
            ("sender", ("Sender", "Identifier")),
            ("receiver", ("Receiver", "Identifier")),
            ("instanceIdentifier", ("DocumentIdentification", "InstanceIdentifier")),
        ):
            value = first_text(el, *names)
            if value is not None:
                out[key] = value

    def _master_data(self, el: Any, hd: Json) -> None:
        for c in el:
            if _STD_LOCAL.get(c.tag) == "VocabularyList":
                hd["epcisMasterData"] = {"vocabularyList": self.vocabulary_list(c, "/epcisHeader/epcisMasterData")}

    def vocabulary_list(self, el: Any, path: str) -> list[Json]:
        out: list[Json] = []
        for i, v in self._items(el, "Vocabulary", f"{path}/vocabularyList"):
            vpath = f"{path}/vocabularyList/{i}"
            voc: Json = {"type": (v.get("type") or "").strip()}
            for c in v:
                tag = c.tag
                if not isinstance(tag, str):
                    continue
                if _STD_LOCAL.get(tag) == "VocabularyElementList":
                    voc["vocabularyElementList"] = [
                        self._vocabulary_element(ve, f"{vpath}/vocabularyElementList/{j}")
                        for j, ve in self._items(c, "VocabularyElement", vpath)
                    ]
                elif _STD_LOCAL.get(tag) == "extension":
                    self.unwrap(c, voc, vpath)
                else:
                    k = self.key(tag, c.prefix)
                    _put(voc, k, self.ext_value(c, f"{vpath}/{k}"))
            out.append(voc)
        return out

    def _vocabulary_element(self, el: Any, path: str) -> Json:
        ve: Json = {"id": (el.get("id") or "").strip()}
        attributes: list[Json] = []
        for c in el:
            tag = c.tag
            if not isinstance(tag, str):
                continue
            name = _STD_LOCAL.get(tag)
            if name == "attribute":
                a: Json = {"id": (c.get("id") or "").strip()}
                if len(c):
                    a["attribute"] = self.ext_children(c, f"{path}/attributes/{len(attributes)}/attribute")
                else:
                    a["attribute"] = c.text or ""
                attributes.append(a)
            elif name == "children":
                ve["children"] = [_text(x) for _, x in self._items(c, "id", f"{path}/children")]
            elif name == "extension":
                self.unwrap(c, ve, path)
            else:
                k = self.key(tag, c.prefix)
                _put(ve, k, self.ext_value(c, f"{path}/{k}"))
        if attributes:
            ve["attributes"] = attributes
        return ve


_READERS: Final[dict[str, Callable[[_Reader, Any, str], Any]]] = {
    **{name: _Reader.r_text for name in M.TEXT_FIELDS},
    **{name: _Reader.r_epc_list for name in M.EPC_LIST_FIELDS},
    **{name: _Reader.r_quantity_list for name in M.QUANTITY_LIST_FIELDS},
    **{name: _Reader.r_location for name in M.LOCATION_FIELDS},
    "bizStep": _Reader.r_biz_step,
    "disposition": _Reader.r_disposition,
    "bizTransactionList": _Reader.r_biz_transactions,
    "sourceList": _Reader.r_sources,
    "destinationList": _Reader.r_destinations,
    "sensorElementList": _Reader.r_sensor_elements,
    "persistentDisposition": _Reader.r_persistent_disposition,
    "ilmd": _Reader.r_ilmd,
    "errorDeclaration": _Reader.r_error_declaration,
}


def _document_error(index: int | None, path: str, message: str) -> EPCISError:
    return EPCISError([Problem(index, path, message)])


def _syntax_error(e: etree.XMLSyntaxError, index: int | None, path: str) -> EPCISError:
    msg = _LXML_POS.sub("", (e.msg or str(e)).strip()) or "not well-formed"
    line, col = e.position if e.position else (e.lineno, None)
    where = f"line {max(line or 1, 1)}" + (f", column {col}" if col else "")
    return _document_error(index, path, f"malformed XML at {where}: {msg}")


def _drop_done(el: Any, index: int, path: str) -> None:
    """Free a converted event and everything before it; refuse non-event siblings on the way."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is None:
        return
    while el.getprevious() is not None:
        first = parent[0]
        _check_event_list_child(first, index, path)
        del parent[0]


def _check_event_list_child(el: Any, index: int, path: str) -> None:
    tag = el.tag
    if not isinstance(tag, str):
        return
    if _STD_LOCAL.get(tag) in M.EVENT_FIELDS or _STD_LOCAL.get(tag) == "extension":
        return
    where = f" in namespace {tag[1:].split('}')[0]}" if tag[0] == "{" and _local(tag) in M.EVENT_FIELDS else ""
    raise _document_error(index, path, _with_line(f"unknown event element <{_local(tag)}>{where}", el.sourceline))


def _read(source: Any) -> Iterator[Json]:
    """Yield the header first, then each event; see :func:`iter_xml_document`."""
    st = _Reader()
    it = etree.iterparse(
        source,
        events=("start", "end"),
        tag=_FILTER,
        remove_comments=True,
        remove_pis=True,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
    )
    header: Json = {}
    header_sent = False
    root: Any = None
    kind = ""
    index = 0
    try:
        for action, el in it:
            if root is None:
                if el.getparent() is not None:
                    top = el.getroottree().getroot()
                    raise _document_error(None, "", f"<{_local(top.tag)}> is not an EPCIS document or event")
                root = el
                kind = _start_root(el, st, header)
                if kind == "event":
                    header_sent = True
                    yield header
                continue
            tag = el.tag
            name = _STD_LOCAL.get(tag)
            if action == "start":
                if name == "EventList" and not header_sent:
                    st.document_members(root, header, el)
                    header_sent = True
                    yield header
                continue
            parent = el.getparent()
            if name in M.EVENT_FIELDS:
                pname = _STD_LOCAL.get(parent.tag) if parent is not None else None
                if (
                    parent is None
                    or pname == "EventList"
                    or (pname == "extension" and _STD_LOCAL.get(parent.getparent().tag) == "EventList")
                ):
                    event = st.event(el, index)
                    _drop_done(el, index, st.path_prefix)
                    index += 1
                    yield event
            elif parent is not None and _local(tag) in M.EVENT_FIELDS:
                if _STD_LOCAL.get(parent.tag) == "EventList":  # an event type in a foreign namespace
                    _check_event_list_child(el, index, st.path_prefix)
            elif name == "EPCISHeader" and parent is root:
                st.header(el, header)
                el.clear()
            elif (name == "queryName" or name == "subscriptionID") and _STD_LOCAL.get(parent.tag) == "QueryResults":
                header[name] = _text(el)
            elif name == "VocabularyList" and _STD_LOCAL.get(parent.tag) in ("EPCISBody", "resultsBody"):
                st.used = {}
                header["vocabularyList"] = st.vocabulary_list(el, "")
                st.merge_context(header)
                el.clear()
            elif name == "EventList":
                for c in el:
                    _check_event_list_child(c, index, st.path_prefix)
            elif el is root:
                st.document_members(root, header)  # those after the body (where the XSD has them)
                if not header_sent:
                    header_sent = True
                    yield header
    except etree.XMLSyntaxError as e:
        raise _syntax_error(e, index if header_sent else None, st.path_prefix if header_sent else "") from None
    except _FieldError as e:  # header / master data problems
        raise _document_error(None, e.path, _with_line(e.message, e.line)) from None
    if root is None:
        top = getattr(it, "root", None)
        what = f"<{_local(top.tag)}>" if top is not None else "the document"
        raise _document_error(None, "", f"{what} is not an EPCIS document or event")
    if not header_sent:
        yield header


def _start_root(el: Any, st: _Reader, header: Json) -> str:
    tag = el.tag
    kind = _ROOTS.get(tag)
    if kind is None:
        local = _local(tag)
        if _STD_LOCAL.get(tag) in M.EVENT_FIELDS:
            kind = "event"
        elif local == "EPCISCaptureJob":
            raise _document_error(None, "", "<EPCISCaptureJob> is a capture job status, not an EPCIS document")
        else:
            ns = tag[1:].split("}")[0] if tag[0] == "{" else "no namespace"
            raise _document_error(
                None, "", f"<{local}> in {ns} is not an EPCIS document (expected namespace {M.EPCIS_NS})"
            )
    ctx: list[Json] = []
    for p, ns in el.nsmap.items():
        if p and ns not in M.OWN_NAMESPACES and ns not in M.STD_PREFIX_BY_NS:
            ctx.append({st.register(ns, p): ns})
    if kind == "event":
        header["type"] = _STD_LOCAL[tag]
        st.path_prefix = ""
    else:
        header["type"] = kind
        st.path_prefix = (
            "/epcisBody/queryResults/resultsBody/eventList" if kind == "EPCISQueryDocument" else "/epcisBody/eventList"
        )
    for attr in ("schemaVersion", "creationDate"):
        value = el.get(attr)
        if value is not None:
            header[attr] = value.strip()
    header["@context"] = ctx
    return kind


def iter_xml_document(source: str | os.PathLike[str] | BinaryIO) -> tuple[Json, Iterator[Json]]:
    """Read an EPCISDocument / EPCISQueryDocument (or one bare event element) as a stream.

    Returns ``(header, events)``. ``header`` is read eagerly (everything before the event list):
    ``type``, ``schemaVersion``, ``creationDate``, ``@context`` (prefix maps of the root's ``xmlns``
    declarations that are not EPCIS's own), ``epcisHeader`` (JSON-LD form: ``epcisMasterData`` with its
    ``vocabularyList``, the SBDH as ``sbdh:StandardBusinessDocumentHeader``), ``sender``/``receiver``/
    ``instanceIdentifier`` taken from the SBDH, ``queryName``/``subscriptionID`` for query documents;
    a body-level ``VocabularyList`` (master data documents, master data query results) is put in
    ``header["vocabularyList"]`` once the iterator is exhausted. Namespaced elements of the root or of
    ``<QueryResults>`` become ``prefix:localName`` members (``<x:ignoreFields>`` a list of field names, as
    ``prehash_string(..., ignore_fields=...)`` takes): those before the event list at once, those after it
    (where the XSD puts them) once the iterator is exhausted. For a bare event ``type`` is the event
    type. ``events`` yields events in internal JSON-LD form, lazily, each with its own ``@context``.

    Raises :class:`EPCISError` (with the line number in the message) for malformed XML, unknown event
    elements and structure the mapping cannot represent, either here or while iterating.
    """
    gen = _read(source)
    header = next(gen)
    return header, gen


def parse_xml_events(data: bytes) -> list[Json]:
    """All events of an XML document or of one bare event element (``<ObjectEvent>…``)."""
    _, events = iter_xml_document(io.BytesIO(data))
    return list(events)


# =====================================================================================================
# Writing
# =====================================================================================================


def _context_map(ctx: Any) -> dict[str, str]:
    """Simple ``{"prefix": "namespace"}`` entries of a JSON-LD @context (URLs and term definitions skipped)."""
    out: dict[str, str] = {}
    items = ctx if isinstance(ctx, list) else [ctx]
    for item in items:
        if isinstance(item, dict):
            for p, ns in item.items():
                if isinstance(ns, str) and isinstance(p, str) and not p.startswith("@") and ":" not in p:
                    out[p] = ns
    return out


def _nsmap_of(ctx: dict[str, str]) -> dict[str | None, str]:
    # "xml"/"xmlns" are bound by XML itself and may not be declared.
    return {p: ns for p, ns in ctx.items() if _NCNAME.fullmatch(p) and ns and p not in ("xml", "xmlns")}


class _Writer:
    """Builds one event element at a time; keeps a per-context cache of key → tag."""

    def __init__(self, doc_context: dict[str, str] | None = None, cbv_format: str = "No_Preference") -> None:
        self.doc_ctx = doc_context or {}
        # GS1-CBV-XML-Format header of the REST binding: URNs unless web URIs are asked for.
        self.cbv_web = cbv_format == "Always_Web_URI"
        self.ctx: dict[str, str] = {}
        self._raw_ctx: Any = _MISSING
        self.scope: dict[str | None, str] = {}
        self._tags: dict[str, tuple[str, dict[str | None, str] | None]] = {}

    def _set_context(self, ctx: dict[str, str]) -> None:
        if ctx != self.ctx:
            self.ctx = ctx
            self.scope = _nsmap_of(ctx)
            self._tags = {}

    def tag(self, key: str, path: str) -> tuple[str, dict[str | None, str] | None]:
        """Clark tag for a JSON key and the xmlns declaration it needs (if not in the event's scope)."""
        cached = self._tags.get(key)
        if cached is not None:
            return cached
        hit: tuple[str, dict[str | None, str] | None]
        p, sep, local = key.partition(":")
        if not sep:
            hit = (key, None)
        else:
            ns = self.ctx.get(p) or self.doc_ctx.get(p) or M.STD_NS_BY_PREFIX.get(p)
            if ns is None and p == "sbdh":
                ns = M.SBDH_NS
            if ns is not None:
                decl: dict[str | None, str] | None = (
                    None if self.scope.get(p) == ns or not _NCNAME.fullmatch(p) else {p: ns}
                )
                hit = (f"{{{ns}}}{local}", decl)
            elif local.startswith("//") or p in ("urn", "http", "https"):
                cut = max(key.rfind("#"), key.rfind("/"), key.rfind(":")) + 1
                hit = (f"{{{key[:cut]}}}{key[cut:]}", None)
            else:
                raise _FieldError(path, f"prefix {p!r} of {key!r} is not defined in the @context", None)
        self._tags[key] = hit
        return hit

    def cbv_out(self, vocab: cbv.Vocabulary, value: str) -> str:
        return vocab.to_web_uri(value) if self.cbv_web else vocab.to_urn(value)

    # --- generic content ----------------------------------------------------------------------------

    def ext(self, parent: Any, key: str, value: Any, path: str) -> None:
        if value is None:
            return
        tag, decl = self.tag(key, path)
        if type(value) is list:
            for i, item in enumerate(value):
                if type(item) is list:
                    raise _FieldError(f"{path}/{i}", "a list inside a list has no XML form", None)
                if item is not None:
                    self._one(parent, tag, decl, item, f"{path}/{i}")
        else:
            self._one(parent, tag, decl, value, path)

    def _one(self, parent: Any, tag: str, decl: dict[str | None, str] | None, value: Any, path: str) -> None:
        text: str | None = None
        xsd_type: str | None = None
        if isinstance(value, str):
            text = value
        elif isinstance(value, bool):
            text, xsd_type = ("true" if value else "false"), "xsd:boolean"
        elif isinstance(value, int | float):
            text = M.format_number(value)
            xsd_type = "xsd:integer" if isinstance(value, int) else "xsd:double"
        elif not isinstance(value, dict):
            raise _FieldError(path, f"value of type {type(value).__name__} has no XML form", None)
        if xsd_type is not None:
            # The xsi:type value is a QName: declare the xsd prefix right here so it means XML Schema.
            decl = {**(decl or {}), "xsi": M.XSI_NS, "xsd": M.XSD_NS}
        try:
            el = _sub(parent, tag, nsmap=decl) if decl else _sub(parent, tag)
        except ValueError as e:
            raise _FieldError(path, f"{_local(tag)!r} cannot be an XML element name ({e})", None) from None
        if xsd_type is not None:
            el.set(_XSI_TYPE, xsd_type)
        if text is not None:
            el.text = text
        else:
            self._object(el, value, path)

    def _object(self, el: Any, value: Json, path: str) -> None:
        attrs_only = True
        for k in value:
            if k[:1] != "@" and k != "value":
                attrs_only = False
                break
        has_attr = any(k[:1] == "@" for k in value)
        for k, v in value.items():
            if k[:1] == "@":
                self._attr(el, k[1:], v, f"{path}/{k}")
            elif k == "value" and has_attr and attrs_only and isinstance(v, str):
                el.text = v
            else:
                self.ext(el, k, v, f"{path}/{k}")

    def _attr(self, el: Any, key: str, value: Any, path: str) -> None:
        if value is None:
            return
        text = value if isinstance(value, str) else self._scalar(value, path)
        name = key
        if ":" in key:
            name = self.tag(key, path)[0]
        try:
            el.set(name, text)
        except ValueError as e:
            raise _FieldError(path, f"{key!r} cannot be an XML attribute name ({e})", None) from None

    @staticmethod
    def _scalar(value: Any, path: str) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return M.format_number(value)
        raise _FieldError(path, f"value of type {type(value).__name__} cannot be an XML attribute", None)

    def children(self, parent: Any, obj: Any, path: str, skip: frozenset[str] = frozenset()) -> None:
        """Extension members of an object: ``extension`` first (XSD order), then the others."""
        if not isinstance(obj, dict):
            raise _FieldError(path, "must be an object", None)
        ext = obj.get("extension")
        if ext is not None:
            self._wrapper(parent, ext, f"{path}/extension")
        for k, v in obj.items():
            if k not in skip and k != "extension":
                self.ext(parent, k, v, f"{path}/{k}")

    def _wrapper(self, parent: Any, value: Any, path: str, name: str = "extension") -> None:
        """What the reader kept under ``"extension"`` (unqualified elements, ``@`` wrapper attributes)."""
        for item in value if type(value) is list else [value]:
            if item is None:
                continue
            if not isinstance(item, dict):
                raise _FieldError(path, f"{name} must be an object", None)
            el = _sub(parent, name)
            for k, v in item.items():
                if k[:1] == "@":
                    self._attr(el, k[1:], v, f"{path}/{k}")
            self.children(el, item, path, skip=frozenset(k for k in item if k[:1] == "@"))

    # --- events -------------------------------------------------------------------------------------

    def event(self, ev: Any, index: int) -> Any:
        try:
            return self._event(ev)
        except _FieldError as e:
            raise EPCISError([Problem(index, e.path, e.message)]) from None

    def _event(self, ev: Any) -> Any:
        if not isinstance(ev, dict):
            raise _FieldError("", "an event must be a JSON object", None)
        etype = ev.get("type")
        if not isinstance(etype, str) or etype not in M.EVENT_ORDER:
            raise _FieldError("/type", f"unknown event type {etype!r}", None)
        order = M.EVENT_ORDER[etype]
        ctx = ev.get("@context")
        if ctx != self._raw_ctx:  # events of one document usually share their @context
            self._raw_ctx = ctx
            self._set_context(_context_map(ctx) if ctx is not None else {})
        el = etree.Element(etype, nsmap=self.scope or None)
        for name in order:
            value = ev.get(name)
            if value is not None:
                _WRITERS[name](self, el, name, value)
        fields = M.EVENT_FIELDS[etype]
        for k, v in ev.items():
            if k in fields or k == "type" or k == "@context":
                continue
            if ":" not in k:
                raise _FieldError(f"/{k}", f"{k!r} is not a field of {etype} (extension keys need a prefix)", None)
            self.ext(el, k, v, f"/{k}")
        return el

    def w_text(self, parent: Any, name: str, value: Any) -> None:
        if type(value) is str:
            _sub(parent, name).text = value
            return
        for i, v in enumerate(value if type(value) is list and name == "certificationInfo" else [value]):
            if not isinstance(v, str):
                raise _FieldError(f"/{name}" + (f"/{i}" if type(value) is list else ""), "must be a string", None)
            _sub(parent, name).text = v

    def _vocab(self, parent: Any, name: str, value: Any, vocab: cbv.Vocabulary) -> None:
        if not isinstance(value, str):
            raise _FieldError(f"/{name}", "must be a string", None)
        _sub(parent, name).text = self.cbv_out(vocab, value)

    def w_biz_step(self, parent: Any, name: str, value: Any) -> None:
        self._vocab(parent, name, value, cbv.BIZ_STEP)

    def w_disposition(self, parent: Any, name: str, value: Any) -> None:
        self._vocab(parent, name, value, cbv.DISPOSITION)

    @staticmethod
    def _list(value: Any, path: str) -> list[Any]:
        if type(value) is not list:
            raise _FieldError(path, "must be a list", None)
        return value

    def w_epc_list(self, parent: Any, name: str, value: Any) -> None:
        el = _sub(parent, name)
        for i, epc in enumerate(self._list(value, f"/{name}")):
            if not isinstance(epc, str):
                raise _FieldError(f"/{name}/{i}", "must be a string", None)
            _sub(el, "epc").text = epc

    def w_quantity_list(self, parent: Any, name: str, value: Any) -> None:
        el = _sub(parent, name)
        for i, q in enumerate(self._list(value, f"/{name}")):
            if not isinstance(q, dict):
                raise _FieldError(f"/{name}/{i}", "must be an object", None)
            qe = _sub(el, "quantityElement")
            _sub(qe, "epcClass").text = str(q.get("epcClass", ""))
            if q.get("quantity") is not None:
                try:
                    _sub(qe, "quantity").text = M.format_number(q["quantity"], decimal_only=True)
                except ValueError as e:
                    raise _FieldError(f"/{name}/{i}/quantity", f"quantity: {e}", None) from None
            if q.get("uom") is not None:
                _sub(qe, "uom").text = str(q["uom"])

    def w_location(self, parent: Any, name: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise _FieldError(f"/{name}", "must be an object", None)
        el = _sub(parent, name)
        _sub(el, "id").text = str(value.get("id", ""))
        self.children(el, value, f"/{name}", skip=_ID_ONLY)

    def w_biz_transactions(self, parent: Any, name: str, value: Any) -> None:
        el = _sub(parent, name)
        for i, bt in enumerate(self._list(value, f"/{name}")):
            if not isinstance(bt, dict):
                raise _FieldError(f"/{name}/{i}", "must be an object", None)
            c = _sub(el, "bizTransaction")
            t = bt.get("type")
            if t is not None:
                c.set("type", self.cbv_out(cbv.BIZ_TRANSACTION_TYPE, str(t)))
            c.text = str(bt.get("bizTransaction", ""))

    def _source_dest(self, parent: Any, name: str, value: Any, child: str) -> None:
        el = _sub(parent, name)
        for i, sd in enumerate(self._list(value, f"/{name}")):
            if not isinstance(sd, dict):
                raise _FieldError(f"/{name}/{i}", "must be an object", None)
            c = _sub(el, child)
            t = sd.get("type")
            if t is not None:
                c.set("type", self.cbv_out(cbv.SOURCE_DEST_TYPE, str(t)))
            c.text = str(sd.get(child, ""))

    def w_sources(self, parent: Any, name: str, value: Any) -> None:
        self._source_dest(parent, name, value, "source")

    def w_destinations(self, parent: Any, name: str, value: Any) -> None:
        self._source_dest(parent, name, value, "destination")

    def w_persistent_disposition(self, parent: Any, name: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise _FieldError(f"/{name}", "must be an object", None)
        el = _sub(parent, name)
        for which in ("unset", "set"):
            for i, d in enumerate(self._list(value.get(which, []), f"/{name}/{which}")):
                if not isinstance(d, str):
                    raise _FieldError(f"/{name}/{which}/{i}", "must be a string", None)
                _sub(el, which).text = self.cbv_out(cbv.DISPOSITION, d)

    def w_ilmd(self, parent: Any, name: str, value: Any) -> None:
        el = _sub(parent, name)
        self.children(el, value, f"/{name}")

    def w_error_declaration(self, parent: Any, name: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise _FieldError(f"/{name}", "must be an object", None)
        el = _sub(parent, name)
        if value.get("declarationTime") is not None:
            _sub(el, "declarationTime").text = str(value["declarationTime"])
        if value.get("reason") is not None:
            _sub(el, "reason").text = self.cbv_out(cbv.ERROR_REASON, str(value["reason"]))
        ids = value.get("correctiveEventIDs")
        if ids is not None:
            c = _sub(el, "correctiveEventIDs")
            for i, eid in enumerate(self._list(ids, f"/{name}/correctiveEventIDs")):
                if not isinstance(eid, str):
                    raise _FieldError(f"/{name}/correctiveEventIDs/{i}", "must be a string", None)
                _sub(c, "correctiveEventID").text = eid
        self.children(el, value, f"/{name}", skip=_ERROR_DECLARATION_KEYS)

    def w_sensor_elements(self, parent: Any, name: str, value: Any) -> None:
        el = _sub(parent, name)
        for i, se in enumerate(self._list(value, f"/{name}")):
            path = f"/{name}/{i}"
            if not isinstance(se, dict):
                raise _FieldError(path, "must be an object", None)
            sel = _sub(el, "sensorElement")
            meta = se.get("sensorMetadata")
            if meta is not None:
                self._sensor_attrs(_sub(sel, "sensorMetadata"), meta, f"{path}/sensorMetadata", False)
            for j, rep in enumerate(self._list(se.get("sensorReport", []), f"{path}/sensorReport")):
                self._sensor_attrs(_sub(sel, "sensorReport"), rep, f"{path}/sensorReport/{j}", True)
            self.children(sel, se, path, skip=_SENSOR_ELEMENT_KEYS)

    def _sensor_attrs(self, el: Any, value: Any, path: str, report: bool) -> None:
        if not isinstance(value, dict):
            raise _FieldError(path, "must be an object", None)
        order = M.SENSOR_REPORT_ATTRS if report else M.SENSOR_METADATA_ATTRS
        for name in order:
            v = value.get(name)
            if v is None:
                continue
            if report and isinstance(v, str):
                if name == "type" or name == "exception":
                    v = M.gs1_term_to_xml(v)
                elif name == "component":
                    v = M.component_to_xml(v)
            self._attr(el, name, v, f"{path}/{name}")
        for k, v in value.items():
            if k not in order:
                self._attr(el, k, v, f"{path}/{k}")

    def w_wrapper(self, parent: Any, name: str, value: Any) -> None:
        self._wrapper(parent, value, f"/{name}", name)

    # --- header -------------------------------------------------------------------------------------

    def header(self, header: Json, creation_date: str) -> Any | None:
        """<EPCISHeader> from the JSON ``epcisHeader`` (SBDH, master data, ``extension``) or sender/receiver."""
        hd = header.get("epcisHeader")
        if hd is not None and not isinstance(hd, dict):
            raise _FieldError("/epcisHeader", "must be an object", None)
        hd = hd or {}
        self._set_context({})
        self._raw_ctx = _MISSING
        sbdh_key = None
        for k in hd:
            if k.endswith(":StandardBusinessDocumentHeader"):
                sbdh_key = k
            elif k not in ("epcisMasterData", "extension"):
                # EPCISHeaderType has no wildcard: nothing else has a place in XML.
                raise _FieldError(f"/epcisHeader/{k}", f"{k!r} has no place in an XML EPCISHeader", None)
        sender, receiver, instance = (header.get(k) for k in ("sender", "receiver", "instanceIdentifier"))
        master, extension = hd.get("epcisMasterData"), hd.get("extension")
        if sbdh_key is None and master is None and extension is None and (sender, receiver, instance) == (None,) * 3:
            return None
        el = etree.Element("EPCISHeader")
        if sbdh_key is not None:
            self.ext(el, sbdh_key, hd[sbdh_key], f"/epcisHeader/{sbdh_key}")
        elif (sender, receiver, instance) != (None,) * 3:
            el.append(_synthetic_sbdh(sender, receiver, instance, creation_date))
        if master is not None or extension is not None:
            ext = _sub(el, "extension")
            if master is not None:
                vl = master.get("vocabularyList", []) if isinstance(master, dict) else []
                self.vocabulary_list(_sub(ext, "EPCISMasterData"), vl, "/epcisHeader/epcisMasterData/vocabularyList")
            if extension is not None:
                if not isinstance(extension, dict):
                    raise _FieldError("/epcisHeader/extension", "must be an object", None)
                for k, v in extension.items():
                    self.ext(ext, k, v, f"/epcisHeader/extension/{k}")
        return el

    def document_members(self, header: Json) -> list[Any]:
        """``prefix:local`` members of the header → elements for the document's ##other wildcard (after the body)."""
        holder = etree.Element("members")
        for k, v in header.items():
            if ":" not in k or k[0] == "@":
                continue
            if k.endswith(":ignoreFields") and type(v) is list:
                tag, decl = self.tag(k, f"/{k}")
                el = _sub(holder, tag, nsmap=decl) if decl else _sub(holder, tag)
                for i, field in enumerate(v):
                    if not isinstance(field, str):
                        raise _FieldError(f"/{k}/{i}", "must be a field name (prefix:localName)", None)
                    ftag, fdecl = self.tag(field, f"/{k}/{i}")
                    _sub(el, ftag, nsmap=fdecl) if fdecl else _sub(el, ftag)
            else:
                self.ext(holder, k, v, f"/{k}")
        return list(holder)

    def vocabulary_list(self, parent: Any, value: Any, path: str) -> None:
        vl = _sub(parent, "VocabularyList")
        for i, voc in enumerate(self._list(value, path)):
            if not isinstance(voc, dict):
                raise _FieldError(f"{path}/{i}", "must be an object", None)
            v = _sub(vl, "Vocabulary", type=str(voc.get("type", "")))
            elements = voc.get("vocabularyElementList")
            if elements is not None:
                vel = _sub(v, "VocabularyElementList")
                for j, ve in enumerate(self._list(elements, f"{path}/{i}/vocabularyElementList")):
                    self._vocabulary_element(vel, ve, f"{path}/{i}/vocabularyElementList/{j}")
            self.children(v, voc, f"{path}/{i}", skip=_VOCABULARY_KEYS)

    def _vocabulary_element(self, parent: Any, ve: Any, path: str) -> None:
        if not isinstance(ve, dict):
            raise _FieldError(path, "must be an object", None)
        el = _sub(parent, "VocabularyElement", id=str(ve.get("id", "")))
        for k, a in enumerate(self._list(ve.get("attributes", []), f"{path}/attributes")):
            if not isinstance(a, dict):
                raise _FieldError(f"{path}/attributes/{k}", "must be an object", None)
            ael = _sub(el, "attribute", id=str(a.get("id", "")))
            value = a.get("attribute")
            if isinstance(value, dict):
                self.children(ael, value, f"{path}/attributes/{k}/attribute")
            elif value is not None:
                ael.text = value if isinstance(value, str) else self._scalar(value, f"{path}/attributes/{k}")
        children = ve.get("children")
        if children is not None:
            cel = _sub(el, "children")
            for child in self._list(children, f"{path}/children"):
                _sub(cel, "id").text = str(child)
        self.children(el, ve, path, skip=_VOCABULARY_ELEMENT_KEYS)


_ID_ONLY: Final = frozenset({"id"})
_ERROR_DECLARATION_KEYS: Final = frozenset({"declarationTime", "reason", "correctiveEventIDs"})
_SENSOR_ELEMENT_KEYS: Final = frozenset({"sensorMetadata", "sensorReport"})
_VOCABULARY_KEYS: Final = frozenset({"type", "vocabularyElementList"})
_VOCABULARY_ELEMENT_KEYS: Final = frozenset({"id", "attributes", "children"})

_WRITERS: Final[dict[str, Callable[[_Writer, Any, str, Any], None]]] = {
    **{name: _Writer.w_text for name in M.TEXT_FIELDS},
    **{name: _Writer.w_epc_list for name in M.EPC_LIST_FIELDS},
    **{name: _Writer.w_quantity_list for name in M.QUANTITY_LIST_FIELDS},
    **{name: _Writer.w_location for name in M.LOCATION_FIELDS},
    "bizStep": _Writer.w_biz_step,
    "disposition": _Writer.w_disposition,
    "bizTransactionList": _Writer.w_biz_transactions,
    "sourceList": _Writer.w_sources,
    "destinationList": _Writer.w_destinations,
    "sensorElementList": _Writer.w_sensor_elements,
    "persistentDisposition": _Writer.w_persistent_disposition,
    "ilmd": _Writer.w_ilmd,
    "errorDeclaration": _Writer.w_error_declaration,
    "extension": _Writer.w_wrapper,
    "baseExtension": _Writer.w_wrapper,
}


def _synthetic_sbdh(sender: Any, receiver: Any, instance: Any, creation_date: str) -> Any:
    """A minimal SBDH carrying the JSON document's sender/receiver/instanceIdentifier."""
    s = f"{{{M.SBDH_NS}}}"
    sbdh = etree.Element(s + "StandardBusinessDocumentHeader", nsmap={"sbdh": M.SBDH_NS})
    _sub(sbdh, s + "HeaderVersion").text = "1.0"
    for tag, value in (("Sender", sender), ("Receiver", receiver)):
        if value is not None:
            _sub(_sub(sbdh, s + tag), s + "Identifier").text = str(value)
    di = _sub(sbdh, s + "DocumentIdentification")
    for tag, text in (
        ("Standard", "EPCglobal"),
        ("TypeVersion", "2.0"),
        ("InstanceIdentifier", None if instance is None else str(instance)),
        ("Type", "Events"),
        ("CreationDateAndTime", creation_date),
    ):
        if text is not None:
            _sub(di, s + tag).text = text
    return sbdh


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_xml_document(
    events: Iterable[Json],
    out: BinaryIO,
    *,
    document_type: str = "EPCISDocument",
    schema_version: str = "2.0",
    creation_date: str | None = None,
    query_name: str | None = None,
    subscription_id: str | None = None,
    header: Json | None = None,
    cbv_format: str = "No_Preference",
) -> None:
    """Stream an EPCISDocument or an EPCISQueryDocument (queryResults/resultsBody/EventList) to ``out``.

    ``header`` takes the form :func:`iter_xml_document` returns (``@context``, ``epcisHeader`` with
    master data and/or the SBDH, ``sender``/``receiver``/``instanceIdentifier``, ``creationDate``,
    ``queryName``/``subscriptionID``, ``prefix:localName`` document members, written after ``<EPCISBody>``).
    Events are converted one at a time; an event that cannot be
    written raises :class:`EPCISError` naming its index and field. ``cbv_format`` is the value of the
    ``GS1-CBV-XML-Format`` header: CBV terms are written as URNs unless it is ``Always_Web_URI``.
    """
    if document_type not in ("EPCISDocument", "EPCISQueryDocument"):
        raise ValueError(f"document_type must be EPCISDocument or EPCISQueryDocument, not {document_type!r}")
    header = header or {}
    query = document_type == "EPCISQueryDocument"
    creation = creation_date or header.get("creationDate") or _now()
    doc_ctx = _context_map(header.get("@context", []))
    writer = _Writer(doc_ctx, cbv_format)
    try:
        header_el = writer.header(header, str(creation))
        members = writer.document_members(header)
    except _FieldError as e:
        raise EPCISError([Problem(None, e.path, e.message)]) from None
    root_ns = M.QUERY_NS if query else M.EPCIS_NS
    nsmap: dict[str | None, str] = {"epcisq" if query else "epcis": root_ns}
    for p, ns in _nsmap_of(doc_ctx).items():
        nsmap.setdefault(p, ns)
    attrib = {"schemaVersion": schema_version, "creationDate": str(creation)}
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{root_ns}}}{document_type}", attrib, nsmap=nsmap):
            if header_el is not None:
                xf.write(header_el)
            with xf.element("EPCISBody"):
                if query:
                    with xf.element(f"{{{M.QUERY_NS}}}QueryResults"):
                        name = query_name or header.get("queryName") or "SimpleEventQuery"
                        xf.write(_leaf("queryName", str(name)))
                        sub = subscription_id or header.get("subscriptionID")
                        if sub:
                            xf.write(_leaf("subscriptionID", str(sub)))
                        with xf.element("resultsBody"), xf.element("EventList"):
                            _write_events(xf, writer, events)
                else:
                    with xf.element("EventList"):
                        _write_events(xf, writer, events)
            for member in members:
                xf.write(member)


def _leaf(tag: str, text: str) -> Any:
    el = etree.Element(tag)
    el.text = text
    return el


def _write_events(xf: Any, writer: _Writer, events: Iterable[Json]) -> None:
    for index, ev in enumerate(events):
        xf.write(writer.event(ev, index))


def event_to_xml_bytes(event: Json) -> bytes:
    """One event as a bare XML element (``<ObjectEvent>…</ObjectEvent>``), UTF-8, no declaration."""
    el = _Writer().event(event, 0)
    return bytes(etree.tostring(el, encoding="UTF-8", xml_declaration=False))
