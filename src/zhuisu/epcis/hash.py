"""CBV 2.0 event hash ID (事件哈希标识, GS1 CBV 2.0 §8.9): ``ni:///sha-256;<hex>?ver=CBV2.0``.

The hash is SHA-256 over a canonical *pre-hash string* built from one event in the platform's event
form (EPCIS 2.0 JSON-LD, see docs/design.md). The canonical form follows the published conformance
vectors of the CBV reference implementation (RalphTro/epcis-event-hash-generator), which are the
de-facto definition of the algorithm; where that implementation contradicts the CBV text or its own
documented rules, this module follows the text. Every such difference is listed in ``DEVIATIONS`` and
shown by a test in ``tests/epcis/test_hash.py``.

Canonical form, in short:

* ``eventType=<type>``, then in this order: eventTime, eventTimeZoneOffset, certificationInfo,
  parentID, epcList, inputEPCList, childEPCs, quantityList, childQuantityList, inputQuantityList,
  outputEPCList, outputQuantityList, action, transformationID, bizStep, disposition,
  persistentDisposition, readPoint, bizLocation, sensorElementList; then bizTransactionList,
  sourceList, destinationList, ilmd and the user extensions, all sorted together as strings (this is
  where the reference vectors put them, e.g. destinationList before sourceList).
* ``key=value`` pairs without separators; list members sorted; bizTransaction/source/destination
  entries as ``type=…`` followed by the value; user extensions inside readPoint, bizLocation,
  quantity elements and sensor elements follow that element's standard fields.
* Excluded: eventID, recordTime, errorDeclaration, rdfs:comment/comment, ``@context``.
* Values: trimmed; bare CBV words and ``urn:epcglobal:cbv:…`` URNs to CBV web URIs; ``gs1:``,
  ``cbv:``, ``epcis:`` CURIEs expanded; numbers without superfluous zeros (in any field, as the
  reference does: XML has no types); timestamps in UTC with milliseconds (``…T10:00:30.000Z``);
  EPC URNs, class and pattern URIs to constrained canonical GS1 Digital Link URIs; Digital Links on
  ``https://id.gs1.org`` without query string and at the finest identification level.
* Extension keys as ``{namespace}localName`` (prefixes from the event's own ``@context``, then the
  document context passed in, then the prefixes the EPCIS JSON-LD context defines).
* The ``ignore_fields`` argument drops further top-level fields, for documents whose header lists
  ``<prefix>:ignoreFields`` (a repository convention the reference vectors use).

Values go through memo tables (identifiers, words and times repeat across events), bounded in size.
The common shapes (text values, plain quantity elements and typed entries, the usual timestamp and EPC
URN forms) take shortcuts next to the general code; tests/epcis/test_hash_fast_paths.py checks that
both compute the same.

Identifier normalisation is done here (small and table-driven) rather than with
``zhuisu.codes.epc``: the hash needs the exact, slightly idiosyncratic canonical form of the CBV
algorithm (for instance a GRAI serial appended to AI 8003 without separator, or percent-escapes of an
EPC URN kept as they are), not a general-purpose converter. The one exception: the simple common EPC
URNs (SGTIN, LGTIN, SSCC, SGLN, PGLN without escapes), for which both give the same Digital Link, are
taken from ``zhuisu.codes.epc.simple_urn_id``, whose table validation has usually filled for the event.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from zhuisu.codes.epc import SIMPLE_URN_IDS, simple_urn_id
from zhuisu.epcis import cbv
from zhuisu.epcis.problems import EPCISError, Problem

__all__ = [
    "DEVIATIONS",
    "HASH_VERSION",
    "canonical_value",
    "event_hash",
    "event_hash_bytes",
    "hash_uri",
    "prehash_string",
]

HASH_VERSION = "CBV2.0"
_NI_PREFIX = "ni:///sha-256;"
_NI_SUFFIX = "?ver=" + HASH_VERSION

#: Where this module knowingly differs from the reference implementation, and why (the standard wins).
DEVIATIONS: dict[str, str] = {
    "timestamp-rounding": (
        "Milliseconds are rounded half up on the 4th fractional digit, as the reference documents "
        "('5-9 rounds up'); its code uses Python round(), which rounds ties to even (.0005 -> .000) and "
        "raises for fractions >= .9995, silently dropping the event."
    ),
    "timestamp-without-offset": (
        "A timestamp without UTC offset is taken as UTC; the reference converts it from the local time "
        "zone of the machine it runs on, so its hash depends on where it runs."
    ),
    "bare-word-heuristic": (
        "Bare CBV words are expanded only in the fields whose JSON-LD type is a CBV vocabulary (bizStep, "
        "disposition, persistentDisposition, bizTransaction/source/destination type, sensorReport type/"
        "exception/component); the reference rewrites any string anywhere in the document that happens "
        "to equal a vocabulary word used elsewhere (an extension value 'po' becomes the BTT-po URI)."
    ),
    "type-value-order": (
        "bizTransaction/source/destination entries always render type first (CBV: the type pair comes "
        "with the value before sorting); the reference follows the JSON key order of the input, so two "
        "serialisations of the same event hash differently, and it crashes on a bizTransaction without "
        "type."
    ),
    "boolean": (
        "JSON booleans render as the XML Schema lexical forms 'true'/'false' (what an XML rendering of "
        "the same event gives); the reference prints Python's 'True'/'False'."
    ),
    "null": "JSON null is an absent value; the reference prints Python's 'None'.",
    "nested-extension-namespace": (
        "User extensions inside readPoint, bizLocation, quantity and sensor elements are placed after "
        "the element's standard fields for any namespace; the reference recognises them only when the "
        "namespace URI ends with '/' and the element holds more than one field, otherwise it emits the "
        "enclosing top-level field a second time at the end of the string."
    ),
    "extension-list-names": (
        "User extension names ending in 'List' and nested non-namespaced keys named like EPCIS fields "
        "are kept as they are; the reference's JSON reader renames them (wasteList/wasteElement becomes "
        "wasteList/waste/wasteElement), so its JSON and XML hashes of the same event differ."
    ),
    "curie-values": (
        "Values written as gs1:, cbv: or epcis: CURIEs are expanded always (CBV: 'SHALL be expanded'), "
        "values with other prefixes never, as the reference's XML reader and its published vectors do "
        "(SensorDataExamples keeps type='example:someSensorProperty'). Its JSON reader instead expands "
        "exactly the prefixes the document itself declares, in any value (an extension text 'ex:A1' "
        "becomes a URI, 'gs1:Temperature' stays unless the document re-declares gs1)."
    ),
    "sensor-local-words": (
        "A sensor type/exception/component given as a plain word (no ':' or '/') is a term of the GS1 "
        "vocabulary (gs1:X, cbv:Comp-X), also when the word is not in the published list (MT-Temperature): "
        "that is how the XML codec reads 'gs1:X'. The reference expands only listed words."
    ),
    "stray-nested-fields": (
        "A plain field that is not part of an element's standard fields (bizRules on a sensorReport) is "
        "appended after that element's standard fields; the reference emits the enclosing top-level "
        "field a second time at the end of the string."
    ),
    "context-prefixes": (
        "Keys with a prefix the EPCIS JSON-LD context defines (cbvmda, gs1, cbv …) expand without being "
        "declared again, as JSON-LD expansion does; the reference expands only prefixes the document "
        "itself declares and hashes 'cbvmda:lotNumber' as it is written."
    ),
    "event-context": (
        "An event's own @context (how the platform stores events) declares prefixes; the reference "
        "reads only the document context and hashes an event-level @context as if it were data."
    ),
    "attribute-keys": (
        "XML attributes of extension elements, which the XML codec writes as '@name' keys (with the "
        "element text under 'value'), hash as the reference hashes the XML: name=text, then the "
        "attributes as children; the reference's JSON reader would treat '@ex:a' as an undeclared prefix."
    ),
    "numeric-precision": (
        "Numbers are canonicalised exactly: where the reference's float() conversion changes a value "
        "(more than 15 significant digits, integers beyond 2**53, overflow) the exact decimal is kept, "
        "otherwise the result equals the reference's. Only plain decimal syntax counts as a number "
        "(Python-only spellings such as '1_000', 'inf', 'nan' or non-ASCII digits are text); the "
        "reference crashes on 'inf'."
    ),
    "epc-cp12-patterns": (
        "GRAI/GDTI/SGCN pattern URIs and GRAI URIs with a 12-digit company prefix "
        "('urn:epc:id:grai:123456789012..5') are converted; the reference's patterns expect one dot too "
        "many and leave them unconverted."
    ),
    "digital-link-percent": (
        "Digital Link key qualifiers may contain percent-escapes (as the EPC URN route produces them); "
        "the reference then gives up normalising, keeping a custom domain and the query string, so the "
        "URN and the Digital Link form of one EPC hash differently."
    ),
}

_EXCLUDED = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "@context", "rdfs:comment", "comment"})
_NESTED_IGNORED = frozenset({"@context", "rdfs:comment", "comment", "#text"})

# Prefixes the EPCIS 2.0 JSON-LD context defines; an event's own @context and the document context win.
_DEFAULT_PREFIXES: dict[str, str] = dict(cbv.STANDARD_PREFIXES)


def _fail(path: str, message: str) -> EPCISError:
    return EPCISError([Problem(None, path, message)])


# --------------------------------------------------------------------------------------------------
# Value canonicalisation
# --------------------------------------------------------------------------------------------------

_CBV_URN_PREFIXES = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)

_NUM_START = frozenset("0123456789+-.")
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TWO_53 = float(2**53)


def _float_text(f: float) -> str:
    # the reference's rule: integral values without '.0', others as Python's shortest repr
    return str(int(f)) if f.is_integer() else repr(f)


def _decimal_text(d: Decimal) -> str:
    """Exact counterpart of ``_float_text`` for values a float cannot hold."""
    if d == d.to_integral_value():
        return str(int(d))
    d = d.normalize()
    sign, digits_t, _ = d.as_tuple()
    digits = "".join(map(str, digits_t))
    adjusted = d.adjusted()
    if -4 <= adjusted < 16:
        return format(d, "f")
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if adjusted < 0 else '+'}{abs(adjusted):02d}"


def _numeric(text: str) -> str | None:
    """Canonical form of a decimal number, or None when ``text`` is not one."""
    if _NUM_RE.fullmatch(text) is None:
        return None
    f = float(text)
    mantissa = text.split("e", 1)[0].split("E", 1)[0]
    significant = mantissa.lstrip("+-").replace(".", "").strip("0")
    if len(significant) <= 15 and abs(f) < _TWO_53 and (f != 0.0 or not significant):
        return _float_text(f)
    # float() may have changed the number: agree with it only where it did not
    exact = Decimal(text)
    if f not in (float("inf"), float("-inf")):
        candidate = _float_text(f)
        if Decimal(candidate) == exact:
            return candidate
    return _decimal_text(exact)


# ---- EPC URN -> Digital Link (tables follow TDS 2.x URN syntax and the reference's conversion) ----

# TDS URN characters: plain ones first (most serials have no escapes), then the allowed %-escapes
_SER = r"(?:[!')(*+,.0-9:;=A-Za-z_-]|%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa])"
_CPREF = r"(?:[0-9A-Z-]|%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa])"
# _SER for text without '%': only its first branch can match, so the same language and the same groups,
# and a character class is matched several times faster than an alternation
_SER_PLAIN = r"[!')(*+,.0-9:;=A-Za-z_-]"
_PCT = str.maketrans({"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"})


def _pct(s: str) -> str:
    """Percent-encode what GS1 Digital Link wants escaped (the reference's list)."""
    return s if s.isalnum() else s.translate(_PCT)


def _units(s: str) -> int:
    """Length counting a percent-escape as one character."""
    return len(s) - 2 * s.count("%")


def _cd(digits: str) -> str:
    """GS1 mod-10 check digit (weights 3, 1, 3 … from the right; byte sums run in C).

    The weighted sum is the digit sum plus twice the digits of weight 3; the ASCII offsets (48 per
    digit, 3 × 48 per digit of weight 3) come from a table by length.
    """
    b = digits.encode("ascii")
    n = len(b)
    return "0123456789"[(_CD_OFFSET[n] - sum(b) - 2 * sum(b[(n - 1) % 2 :: 2])) % 10]


_CD_OFFSET = [48 * (n + 2 * ((n + 1) // 2)) for n in range(64)]


def _gtin(cp: str, ref: str) -> str:
    raw = ref[0] + cp + ref[1:]
    return raw + _cd(raw)


_EpcBuilder = Callable[[tuple[str, ...]], "str | None"]


def _b_sgtin(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 13:
        return None
    return "01/" + _gtin(g[0], g[1]) + "/21/" + _pct(g[2])


def _b_sscc(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 17:
        return None
    raw = g[1][0] + g[0] + g[1][1:]
    return "00/" + raw + _cd(raw)


def _b_sgln(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 12:
        return None
    gln = g[0] + g[1]
    gln += _cd(gln)
    return "414/" + gln if g[2] == "0" else "414/" + gln + "/254/" + _pct(g[2])


def _b_grai(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 12:
        return None
    raw = "0" + g[0] + g[1]
    return "8003/" + raw + _cd(raw) + (_pct(g[2]) if len(g) > 2 else "")


def _b_giai(g: tuple[str, ...]) -> str | None:
    if _units(g[1]) > 30 - len(g[0]):
        return None
    return "8004/" + g[0] + _pct(g[1])


def _b_ginc(g: tuple[str, ...]) -> str | None:
    if _units(g[1]) > 30 - len(g[0]):
        return None
    return "401/" + g[0] + _pct(g[1])


def _digits_key(ai: str, total: int) -> _EpcBuilder:
    def build(g: tuple[str, ...]) -> str | None:
        if len(g[0]) + len(g[1]) != total:
            return None
        raw = g[0] + g[1]
        return ai + raw + _cd(raw)

    return build


def _b_gdti(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 12:
        return None
    raw = g[0] + g[1]
    return "253/" + raw + _cd(raw) + (_pct(g[2]) if len(g) > 2 else "")


def _b_sgcn(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 12:
        return None
    raw = g[0] + g[1]
    return "255/" + raw + _cd(raw) + (g[2] if len(g) > 2 else "")


def _b_cpi(g: tuple[str, ...]) -> str | None:
    if _units(g[1]) > 30 - len(g[0]):
        return None
    return "8010/" + _pct(g[0] + g[1]) + ("/8011/" + g[2] if len(g) > 2 else "")


def _b_itip(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 13:
        return None
    out = "8006/" + _gtin(g[0], g[1]) + g[2] + g[3]
    return out + "/21/" + _pct(g[4]) if len(g) > 4 else out


def _b_upui(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 13:
        return None
    return "01/" + _gtin(g[0], g[1]) + ("/235/" + _pct(g[2]) if len(g) > 2 else "")


def _b_lgtin(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 13:
        return None
    return "01/" + _gtin(g[0], g[1]) + "/10/" + _pct(g[2])


def _b_gtin_class(g: tuple[str, ...]) -> str | None:
    if len(g[0]) + len(g[1]) != 13:
        return None
    return "01/" + _gtin(g[0], g[1])


_CP = r"([0-9]{6,12})\."
# prefix -> (pattern, the same for text without '%', builder)
_EPC_TABLE: dict[str, tuple[re.Pattern[str], re.Pattern[str], _EpcBuilder]] = {
    prefix: (re.compile(pattern), re.compile(pattern.replace(_SER, _SER_PLAIN)), builder)
    for prefix, pattern, builder in (
        ("urn:epc:id:sgtin:", _CP + rf"([0-9]{{1,7}})\.({_SER}{{1,20}})", _b_sgtin),
        ("urn:epc:id:sscc:", _CP + r"([0-9]{5,11})", _b_sscc),
        ("urn:epc:id:sgln:", _CP + rf"([0-9]{{0,6}})\.({_SER}{{1,20}})", _b_sgln),
        ("urn:epc:id:grai:", _CP + rf"([0-9]{{0,6}})\.({_SER}{{1,16}})", _b_grai),
        ("urn:epc:id:giai:", _CP + rf"({_SER}{{1,24}})", _b_giai),
        ("urn:epc:id:gsrn:", _CP + r"([0-9]{5,11})", _digits_key("8018/", 17)),
        ("urn:epc:id:gsrnp:", _CP + r"([0-9]{5,11})", _digits_key("8017/", 17)),
        ("urn:epc:id:gdti:", _CP + rf"([0-9]{{0,6}})\.({_SER}{{0,19}})", _b_gdti),
        ("urn:epc:id:cpi:", _CP + rf"({_CPREF}{{1,24}})\.([0-9]{{1,12}})", _b_cpi),
        ("urn:epc:id:sgcn:", _CP + r"([0-9]{0,6})\.([0-9]{1,12})", _b_sgcn),
        ("urn:epc:id:ginc:", _CP + rf"({_SER}{{1,24}})", _b_ginc),
        ("urn:epc:id:gsin:", _CP + r"([0-9]{4,10})", _digits_key("402/", 16)),
        ("urn:epc:id:itip:", _CP + rf"([0-9]{{1,7}})\.([0-9]{{2}})\.([0-9]{{2}})\.({_SER}{{1,20}})", _b_itip),
        ("urn:epc:id:upui:", _CP + rf"([0-9]{{1,7}})\.({_SER}{{1,28}})", _b_upui),
        ("urn:epc:id:pgln:", _CP + r"([0-9]{0,6})", _digits_key("417/", 12)),
        ("urn:epc:class:lgtin:", _CP + rf"([0-9]{{1,7}})\.({_SER}{{1,20}})", _b_lgtin),
        ("urn:epc:idpat:sgtin:", _CP + r"([0-9]{1,7})\.\*", _b_gtin_class),
        ("urn:epc:idpat:grai:", _CP + r"([0-9]{0,6})\.\*", _b_grai),
        ("urn:epc:idpat:gdti:", _CP + r"([0-9]{0,6})\.\*", _b_gdti),
        ("urn:epc:idpat:sgcn:", _CP + r"([0-9]{0,6})\.\*", _b_sgcn),
        ("urn:epc:idpat:cpi:", _CP + rf"({_CPREF}{{1,24}})\.\*", _b_cpi),
        ("urn:epc:idpat:itip:", _CP + r"([0-9]{1,7})\.([0-9]{2})\.([0-9]{2})\.\*", _b_itip),
        ("urn:epc:idpat:upui:", _CP + r"([0-9]{1,7})\.\*", _b_gtin_class),
    )
}


# The commonest schemes, built directly: "https://id.gs1.org/" + what the table's builder gives, or None
# where it gives None (tests/epcis/test_hash_fast_paths.py compares them).
_CommonBuilder = Callable[[tuple[str, ...]], "str | None"]


def _c_gtin(qualifier: str) -> _CommonBuilder:
    def build(g: tuple[str, ...]) -> str | None:  # SGTIN, LGTIN: _b_sgtin, _b_lgtin
        cp, ref, tail = g
        if len(cp) + len(ref) != 13:
            return None
        raw = ref[0] + cp + ref[1:]
        b = raw.encode()  # _cd(raw), inline: 13 digits, 7 of weight 3 (from index 0)
        cd = "0123456789"[(1296 - sum(b) - 2 * sum(b[::2])) % 10]
        return f"https://id.gs1.org/01/{raw}{cd}{qualifier}{tail if tail.isalnum() else tail.translate(_PCT)}"

    return build


def _c_sscc(g: tuple[str, ...]) -> str | None:  # _b_sscc
    cp, ref = g
    if len(cp) + len(ref) != 17:
        return None
    raw = ref[0] + cp + ref[1:]
    return f"https://id.gs1.org/00/{raw}{_cd(raw)}"


def _c_sgln(g: tuple[str, ...]) -> str | None:  # _b_sgln
    cp, ref, ext = g
    if len(cp) + len(ref) != 12:
        return None
    gln = cp + ref
    if ext == "0":
        return f"https://id.gs1.org/414/{gln}{_cd(gln)}"
    return f"https://id.gs1.org/414/{gln}{_cd(gln)}/254/{ext if ext.isalnum() else ext.translate(_PCT)}"


def _c_pgln(g: tuple[str, ...]) -> str | None:  # _digits_key("417/", 12)
    cp, ref = g
    if len(cp) + len(ref) != 12:
        return None
    return f"https://id.gs1.org/417/{cp}{ref}{_cd(cp + ref)}"


_COMMON_BUILDERS: dict[str, _CommonBuilder] = {
    "urn:epc:id:sgtin:": _c_gtin("/21/"),
    "urn:epc:id:sscc:": _c_sscc,
    "urn:epc:id:sgln:": _c_sgln,
    "urn:epc:class:lgtin:": _c_gtin("/10/"),
    "urn:epc:id:pgln:": _c_pgln,
}


def _common_epc_table() -> tuple[re.Pattern[str], dict[int, tuple[tuple[int, ...], _CommonBuilder]]]:
    """The common schemes in one regex, each alternative a prefix and its table pattern for text without '%'.

    Each alternative is wrapped in a group, so the wrapper that matched (``lastindex``) names the scheme
    and its own groups follow it: what the table would match, one lookup sooner.
    """
    alternatives, builders, group = [], {}, 0
    for prefix, build in _COMMON_BUILDERS.items():
        plain = _EPC_TABLE[prefix][1]
        alternatives.append(f"({re.escape(prefix)}{plain.pattern})")
        builders[group + 1] = (tuple(range(group + 2, group + 2 + plain.groups)), build)
        group += 1 + plain.groups
    return re.compile("|".join(alternatives)), builders


_EPC_COMMON, _EPC_COMMON_BUILD = _common_epc_table()
_EPC_COMMON_MATCH = _EPC_COMMON.fullmatch


def _epc_urn(text: str) -> str | None:
    m = _EPC_COMMON.fullmatch(text)
    if m is not None:
        groups, build = _EPC_COMMON_BUILD[m.lastindex or 0]
        return build(m.group(*groups))
    return _epc_urn_table(text)


def _epc_urn_table(text: str) -> str | None:
    """Digital Link of an EPC URN through the table (any scheme, percent-escapes)."""
    colon = text.find(":", text.find(":", 8) + 1)  # end of 'urn:epc:<kind>:<scheme>'
    entry = _EPC_TABLE.get(text[: colon + 1])
    if entry is None:
        return None
    m = (entry[0] if "%" in text else entry[1]).fullmatch(text, colon + 1)
    if m is None:
        return None
    tail = entry[2](m.groups())
    return None if tail is None else "https://id.gs1.org/" + tail


# ---- Digital Link constraining (CBV rule 18: domain, no query string, finest granularity) ----

_DLC = r"(?:[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]|%[0-9A-Fa-f]{2})"
_DLCS = r"(?:[\x22\x27\x2D-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]|%[0-9A-Fa-f]{2})"  # with '/'
_DL_KEYS = (
    "01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|"
    "402|gsin|8003|grai|8004|giai"
)
_DL_GATE = re.compile(r"https?:(//[^/?#]*)?(([^?#]*)/(" + _DL_KEYS + r")/[0-9]{4}[^/]+|/[A-Za-z_-]{10}$)")
_DL_SHORT_NAMES = (
    ("/gtin/", "/01/"),
    ("/itip/", "/8006/"),
    ("/cpid/", "/8010/"),
    ("/gln/", "/414/"),
    ("/party/", "/417/"),
    ("/gsrnp/", "/8017/"),
    ("/gsrn/", "/8018/"),
    ("/gcn/", "/255/"),
    ("/sscc/", "/00/"),
    ("/gdti/", "/253/"),
    ("/ginc/", "/401/"),
    ("/gsin/", "/402/"),
    ("/grai/", "/8003/"),
    ("/giai/", "/8004/"),
    ("/cpv/", "/22/"),
    ("/lot/", "/10/"),
    ("/ser/", "/21/"),
)
_DL_ON_ID = re.compile(r"https://id.gs1.org/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/[0-9]{4}")
# the reference's priority order when it moves a Digital Link onto id.gs1.org
_DL_PRIMARY: tuple[str, ...] = (
    "/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/",
    "/417/", "/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/",
)  # fmt: skip
_DL_GTIN14 = re.compile(r"https://id.gs1.org/01/[0-9]{14}")
_DL_GTIN13 = re.compile(r"https://id.gs1.org/01/[0-9]{13}")
_DL_GTIN12 = re.compile(r"https://id.gs1.org/01/[0-9]{12}")
_DL_GTIN8 = re.compile(r"https://id.gs1.org/01/[0-9]{8}")
_DL_KEYPART = r"https://id.gs1.org/(?:8006/[0-9]{18}|01/[0-9]{14})"
_DL_CPV_LAST = re.compile(_DL_KEYPART + rf"/22/{_DLC}{{0,20}}$")
_DL_CPV_MID = re.compile(_DL_KEYPART + rf"/22/{_DLCS}{{0,20}}$")
_DL_LOT_AND_SERIAL = re.compile(_DL_KEYPART + rf"/10/{_DLC}{{0,20}}/21/{_DLC}{{0,20}}$")
_DL_FINAL = re.compile(
    "https://id.gs1.org/(?:"
    + "|".join(
        (
            r"00/[0-9]{18}",
            rf"01/[0-9]{{14}}(?:/21/{_DLC}{{0,20}}|/10/{_DLC}{{0,20}}|/235/{_DLC}{{0,28}})?",
            rf"253/[0-9]{{13}}{_DLC}{{0,17}}",
            r"255/[0-9]{13}[0-9]{0,12}",
            rf"401/{_DLC}{{0,30}}",
            r"402/[0-9]{17}",
            rf"414/[0-9]{{13}}(?:/254/{_DLC}{{0,20}})?",
            r"417/[0-9]{13}",
            rf"8003/[0-9]{{14}}{_DLC}{{0,16}}",
            rf"8004/{_DLC}{{0,30}}",
            rf"8006/[0-9]{{18}}(?:/21/{_DLC}{{0,20}}|/10/{_DLC}{{0,20}})?",
            r"8010/(?:[#\-/0-9A-Z]|%[0-9A-Fa-f]{2}){0,30}(?:/8011/[0-9]{0,12})?",
            r"8017/[0-9]{18}",
            r"8018/[0-9]{18}",
        )
    )
    + ")$"
)


def _digital_link(uri: str) -> str | None:
    """Constrained canonical GS1 Digital Link URI, or None when ``uri`` is not a (supported) one."""
    if "?" not in uri and _DL_FINAL.match(uri) is not None:
        return uri  # already canonical: the common case
    if "." not in uri or _DL_GATE.match(uri) is None:
        return None
    q = uri.find("?")
    if q >= 0:
        uri = uri[:q]
    for short, ai in _DL_SHORT_NAMES:
        if short in uri:
            uri = uri.replace(short, ai)
    if _DL_ON_ID.match(uri) is None:
        for key in _DL_PRIMARY:
            pos = uri.find(key)
            if pos != -1:
                uri = "https://id.gs1.org" + uri[pos:]
                break
    if _DL_GTIN14.match(uri) is None:
        if _DL_GTIN13.match(uri) is not None:
            uri = uri.replace("/01/", "/01/0")
        elif _DL_GTIN12.match(uri) is not None:
            uri = uri.replace("/01/", "/01/00")
        elif _DL_GTIN8.match(uri) is not None:
            uri = uri.replace("/01/", "/01/000000")
    cpv = uri.find("/22/")
    if cpv != -1:
        if _DL_CPV_LAST.match(uri) is not None:
            uri = uri[:cpv]
        elif _DL_CPV_MID.match(uri) is not None:
            rest = uri[cpv + 4 :]
            uri = uri[:cpv] + rest[rest.find("/") :]
    if _DL_LOT_AND_SERIAL.match(uri) is not None:
        lot = uri.find("/10/")
        rest = uri[lot + 4 :]
        uri = uri[:lot] + rest[rest.find("/") :]
    return uri if _DL_FINAL.match(uri) is not None else None


_STANDARD_CURIES = {
    "gs1:": "https://gs1.org/voc/",
    "cbv:": "https://ref.gs1.org/cbv/",
    "epcis:": "https://ref.gs1.org/epcis/",
}


def _canon_uncached(text: str) -> str:
    if text.startswith("urn:epc:"):  # the commonest values, and no CURIE or CBV URN: straight to the tables
        return _epc_urn(text) or text
    colon = text.find(":")
    if 2 < colon < 6:
        web = _STANDARD_CURIES.get(text[: colon + 1])
        if web is not None:
            text = web + text[colon + 1 :]
    if text.startswith("urn:epcglobal:cbv:"):
        for urn, web in _CBV_URN_PREFIXES:
            if text.startswith(urn):
                return web + text[len(urn) :]
        return text
    first = text[0]
    if first in _NUM_START:
        num = _numeric(text)
        if num is not None:
            return num
    elif first == "u":
        if text.startswith("urn:epc:"):
            return _epc_urn(text) or text
    elif first == "h" and text.startswith("http"):
        return _digital_link(text) or text
    return text


_CANON_MEMO: dict[str, str] = {}
_MEMO_LIMIT = 200_000
# Simple EPC URNs → Digital Link, filled by zhuisu.codes.epc (validation meets them first): the same
# Digital Link as the tables here give, without a second computation (see _canon_miss).
_SIMPLE_GET = SIMPLE_URN_IDS.get


def canonical_value(text: str) -> str:
    """Canonical form of one value (trimmed; '' stays ''): CBV web URI, number or Digital Link."""
    out = _CANON_MEMO.get(text)
    if out is None:
        _bound_memos()
        out = _canon_miss(text)
    return out


def _bound_memos() -> None:
    """Keep the memo tables bounded: emptied once full (checked before each event, not each value)."""
    if len(_CANON_MEMO) >= _MEMO_LIMIT:
        _CANON_MEMO.clear()
    if len(_TIME_MEMO) >= _MEMO_LIMIT:
        _TIME_MEMO.clear()
    if len(_NEXT_DATE) >= _MEMO_LIMIT:
        _NEXT_DATE.clear()


def _canon_miss(text: str) -> str:
    """``canonical_value`` of a text not in the memo table (callers look there first)."""
    simple = simple_urn_id(text)
    if simple is not None:  # a simple EPC URN, most likely met by validation already: the same Digital Link
        return simple
    stripped = text.strip()
    m = _EPC_COMMON_MATCH(stripped)
    if m is not None:  # what _canon_uncached does with it (an EPC URN), a few calls sooner
        groups, build = _EPC_COMMON_BUILD[m.lastindex or 0]
        out = _CANON_MEMO[text] = build(m.group(*groups)) or stripped
        return out
    out = _CANON_MEMO[text] = _canon_uncached(stripped) if stripped else ""
    return out


# ---- timestamps ----

_TS_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"\s*(?:([Zz])|([+-])([0-9]{2}):?([0-9]{2})?)?"
)
_TIME_MEMO: dict[str, str] = {}


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _timestamp(text: str) -> str:
    """UTC, millisecond precision, 'Z' (…T10:00:30.000Z); unparseable text is kept as it is."""
    out = _TIME_MEMO.get(text)
    if out is None:
        _bound_memos()
        out = _timestamp_miss(text)
    return out


def _timestamp_miss(text: str) -> str:
    """``_timestamp`` of a text not in the memo table (callers look there first)."""
    out = _TIME_MEMO[text] = _timestamp_uncached(text)
    return out


# The usual shape, 'YYYY-MM-DDTHH:MM:SS[.fff](Z|±hh:mm)' in ASCII digits: its parts through tables.
_TS_COMMON = re.compile(
    r"([0-9]{4}-([0-9]{2}-[0-9]{2}))T([0-9]{2}:[0-9]{2}):([0-9]{2})(?:\.([0-9]{3}))?(Z|[+-][0-9]{2}:[0-9]{2})"
).fullmatch
_MINUTE_OF_DAY = {f"{h:02d}:{m:02d}": h * 60 + m for h in range(24) for m in range(60)}
_HH_MM = [f"{n // 60:02d}:{n % 60:02d}" for n in range(1440)]
_MONTH_DAYS = frozenset(f"{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, _DAYS_IN_MONTH[m] + 1))
_ZONE_SHIFT: dict[str, int] = {"Z": 0}  # '±hh:mm' -> minutes; at most 2 × 100 × 100 entries


def _zone_shift(zone: str) -> int:
    shift = _ZONE_SHIFT.get(zone)
    if shift is None:
        shift = (int(zone[1:3]) * 60 + int(zone[4:6])) * (1 if zone[0] == "+" else -1)
        _ZONE_SHIFT[zone] = shift
    return shift


def _timestamp_uncached(text: str) -> str:
    m = _TS_COMMON(text)
    if m is not None:
        # what the general code below computes for this shape, when UTC is on the same day or the next or
        # previous one (dates through datetime, as below)
        day, month_day, hh_mm, ss, frac, zone = m.groups()
        minute = _MINUTE_OF_DAY.get(hh_mm)
        if minute is not None and ss < "60" and month_day in _MONTH_DAYS:
            shift = _ZONE_SHIFT.get(zone)
            minute -= _zone_shift(zone) if shift is None else shift
            date: str | None = day
            if minute < 0:
                date, minute = _next_date(day, -1), minute + 1440
            elif minute >= 1440:
                date, minute = _next_date(day, 1), minute - 1440
            if date is not None and 0 <= minute < 1440:
                return f"{date}T{_HH_MM[minute]}:{ss}.{frac or '000'}Z"
    return _timestamp_general(text)


_NEXT_DATE: dict[tuple[str, int], str | None] = {}


def _next_date(date: str, days: int) -> str | None:
    """'YYYY-MM-DD' moved by ``days`` (None where datetime cannot: year 0, beyond 9999)."""
    out = _NEXT_DATE.get((date, days), "")
    if out == "":
        try:
            out = (datetime.fromisoformat(date) + timedelta(days=days)).date().isoformat()
        except (ValueError, OverflowError):
            out = None
        _NEXT_DATE[(date, days)] = out
    return out


def _timestamp_general(text: str) -> str:
    m = _TS_RE.fullmatch(text)
    if m is None:
        return text
    y, mo, d, h, mi, s, frac, _z, sign, oh, om = m.groups()
    ms = 0
    if frac:
        ms = int(frac[:3].ljust(3, "0"))
        if len(frac) > 3 and frac[3] >= "5":
            ms += 1  # CBV example TimeStampRoundOff: .1415 -> .142, half up
    year, month, day, hour, minute, sec = int(y), int(mo), int(d), int(h), int(mi), int(s or 0)
    shift = (int(oh) * 60 + int(om or 0)) * (1 if sign == "+" else -1) if sign else 0
    minutes = hour * 60 + minute - shift
    if (
        ms < 1000
        and 0 <= minutes < 1440
        and 1 <= month <= 12
        and 1 <= day <= _DAYS_IN_MONTH[month]
        and hour < 24
        and minute < 60
        and sec < 60
    ):
        # the common case: the UTC time falls on the same day (Feb 29 goes the long way)
        return f"{y}-{mo}-{d}T{minutes // 60:02d}:{minutes % 60:02d}:{sec:02d}.{ms:03d}Z"
    try:
        dt = datetime(year, month, day, hour, minute, sec) - timedelta(minutes=shift, milliseconds=-ms)
    except (ValueError, OverflowError):
        return text  # not a date (Feb 30, 24:00, leap second): hashed as written, as the reference does
    return dt.isoformat(timespec="milliseconds") + "Z"


# --------------------------------------------------------------------------------------------------
# Event traversal
# --------------------------------------------------------------------------------------------------


def _text(value: Any, path: str) -> str:
    """A scalar as trimmed text ('' when absent)."""
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    raise _fail(path, f"expected a single value, got {type(value).__name__}")


def _context_maps(ctx: Any) -> list[Mapping[str, Any]]:
    if isinstance(ctx, Mapping):
        return [ctx]
    if isinstance(ctx, list):
        return [c for c in ctx if isinstance(c, Mapping)]
    return []  # a URL names a standard context: nothing for user prefixes


class _Namespaces:
    """Prefix resolution: nested and event @context (innermost first), document context, EPCIS defaults."""

    __slots__ = ("_doc", "_event", "_keys")

    def __init__(self, event_ctx: list[Mapping[str, Any]], doc_ctx: Mapping[str, str] | None):
        self._event = event_ctx
        self._doc = doc_ctx
        self._keys: dict[str, str] = {}

    def nested(self, ctx: Any) -> _Namespaces:
        """The scope of an object that carries its own ``@context``."""
        return _Namespaces(_context_maps(ctx) + self._event, self._doc)

    def _declared(self, prefix: str) -> str | None:
        for ctx in self._event:
            uri = ctx.get(prefix)
            if isinstance(uri, str):
                return uri
        if self._doc is not None:
            uri = self._doc.get(prefix)
            if isinstance(uri, str):
                return uri
        return None

    def key(self, key: str, path: str) -> str:
        """``prefix:local`` as ``{namespace}local``; keys without prefix and absolute IRIs are kept."""
        out = self._keys.get(key)
        if out is not None:
            return out
        colon = key.find(":")
        if colon <= 0 or "://" in key:
            out = key
        else:
            prefix = key[:colon]
            uri = self._declared(prefix) or _DEFAULT_PREFIXES.get(prefix)
            if uri is None:
                raise _fail(
                    path,
                    f"namespace prefix '{prefix}' of '{key}' is not declared in the event's @context "
                    "or the document context",
                )
            out = "{" + uri + "}" + key[colon + 1 :]
        if len(self._keys) >= _KEYS_LIMIT:  # (an event scope is shared by the events that follow)
            self._keys.clear()
        self._keys[key] = out
        return out


_KEYS_LIMIT = 4096


class _Kind:
    """How a field's value is canonicalised: a timestamp, a vocabulary term or any other value."""

    __slots__ = ("local", "plain", "prefix", "time", "words")

    def __init__(self, vocab: cbv.Vocabulary | None = None, *, time: bool = False, local: bool = False):
        self.time = time
        self.words = vocab.words if vocab is not None else frozenset()
        self.prefix = vocab.web_prefix if vocab is not None else ""
        # local: any word without ':' or '/' is a term of the vocabulary (sensor type, exception,
        # component: the XML codec's reading of 'gs1:X' / 'cbv:Comp-X')
        self.local = local
        self.plain = not time and not local  # a text value is rendered by _text_value


def _text_value(name: str, value: str, kind: _Kind) -> str:
    """``_Builder.value`` for a text value of a plain kind (no timestamp, no local vocabulary words)."""
    text = _CANON_MEMO.get(value) or _canon_miss(value)
    if not text:
        return ""
    return name + "=" + kind.prefix + text if text in kind.words else name + "=" + text


def _scalar(name: str, value: Any, kind: _Kind) -> str | None:
    """``_Builder.value`` for a text or a number (no path needed: nothing to refuse); None for the rest."""
    t = type(value)
    if t is str:
        if kind.plain:
            return _text_value(name, value, kind)
        text = value.strip()
    elif t is int or t is float:
        text = str(value)  # (what _text makes of a number)
    else:
        return None
    if not text:
        return ""
    if kind.time:
        return name + "=" + (_TIME_MEMO.get(text) or _timestamp_miss(text))
    if kind.prefix and (text in kind.words or (kind.local and ":" not in text and "/" not in text)):
        return name + "=" + kind.prefix + text
    return name + "=" + (_CANON_MEMO.get(text) or _canon_miss(text))


class _Shape:
    """The standard fields of a sub-object, in hash order, with their names and positions."""

    __slots__ = ("fields", "known", "position")

    def __init__(self, *spec: str | tuple[str, _Kind]):
        self.fields = tuple(item if isinstance(item, tuple) else (item, VALUE) for item in spec)
        self.known = frozenset(name for name, _ in self.fields)
        self.position = {name: i for i, (name, _) in enumerate(self.fields)}


VALUE = _Kind()
TIME = _Kind(time=True)


class _Builder:
    __slots__ = ("ns",)

    def __init__(self, ns: _Namespaces):
        self.ns = ns

    def scoped(self, obj: Mapping[str, Any]) -> _Builder:
        ctx = obj.get("@context")
        return self if ctx is None else _Builder(self.ns.nested(ctx))

    # -- single values --
    def value(self, name: str, value: Any, path: str, kind: _Kind) -> str:
        if type(value) is str and kind.plain:
            return _text_value(name, value, kind)  # (vocabulary words come out of canonical_value unchanged)
        text = _text(value, path)
        if not text:
            return ""
        if kind.time:
            return name + "=" + _timestamp(text)
        if kind.prefix and (text in kind.words or (kind.local and ":" not in text and "/" not in text)):
            return name + "=" + kind.prefix + text
        return name + "=" + canonical_value(text)

    def values(self, name: str, value: Any, path: str, kind: _Kind) -> str:
        """A field that may repeat (list): each occurrence rendered, sorted."""
        if type(value) is list:
            parts = [self.value(name, v, f"{path}/{i}", kind) for i, v in enumerate(value)]
            parts.sort()
            return "".join(parts)
        return self.value(name, value, path, kind)

    # -- structures --
    def epc_list(self, name: str, value: Any) -> str:
        memo, simple = _CANON_MEMO, _SIMPLE_GET
        parts = []
        for i, v in enumerate(value if type(value) is list else [value]):
            # (canonical_value trims, as _text would; simple EPC URNs as _canon_miss gives them)
            text = (
                (simple(v) or memo.get(v) or _canon_miss(v))
                if type(v) is str
                else canonical_value(_text(v, f"/{name}/{i}"))
            )
            if text:
                parts.append("epc=" + text)
        if len(parts) < 2:
            return name + parts[0] if parts else ""
        parts.sort()
        return name + "".join(parts)

    def obj(self, value: Any, path: str, shape: _Shape) -> str:
        """Standard fields of a sub-object in their order, then its other content (sorted)."""
        if type(value) is not dict and not isinstance(value, Mapping):
            raise _fail(path, f"expected an object, got {type(value).__name__}")
        b = self.scoped(value)
        fields = shape.fields
        out = []
        if type(value) is dict and len(fields) > 3:
            # (sensor metadata, reports) few of many fields present: visit those, in the fields' order
            position = shape.position
            present = [(position[k], k) for k in value if k in position]
            present.sort()
            for i, field in present:
                v = value[field]
                if v is not None:
                    kind = fields[i][1]
                    s = _scalar(field, v, kind)
                    out.append(b.values(field, v, f"{path}/{field}", kind) if s is None else s)
            if len(present) != len(value):  # some member is not a standard field
                out.append(b.extensions(value, path, shape.known))
            return "".join(out)
        for field, kind in fields:
            v = value.get(field)
            if v is not None:
                out.append(b.values(field, v, f"{path}/{field}", kind))
        if len(value) > len(fields) or any(k not in shape.known for k in value):
            out.append(b.extensions(value, path, shape.known))
        return "".join(out)

    def extensions(self, obj: Mapping[str, Any], path: str, known: frozenset[str]) -> str:
        """Everything but the standard fields: user extensions (and stray plain keys), sorted."""
        parts: list[str] = []
        self._members(obj, path, known, parts)
        parts.sort()
        return "".join(parts)

    def _members(self, obj: Mapping[str, Any], path: str, known: frozenset[str], out: list[str]) -> None:
        for k, v in obj.items():
            if k in known or k in _NESTED_IGNORED:
                continue
            if type(v) is str and type(k) is str:  # what generic() does with a text value
                name = self.ns._keys.get(k) or self.ns.key(k, f"{path}/{k}")
                text = v.strip()
                out.append(name + "=" + canonical_value(text) if text else name)
                continue
            kpath = f"{path}/{k}"
            if k in _WRAPPERS and isinstance(v, Mapping):
                # EPCIS 1.x <extension>/<baseExtension> wrappers carry no meaning of their own
                self.scoped(v)._members(v, kpath, known, out)
            else:
                self.generic(self.ns.key(k, kpath), v, kpath, out)

    def quantity_list(self, name: str, value: Any) -> str:
        items = value if isinstance(value, list) else [value]
        parts = []
        for i, q in enumerate(items):
            s = _plain_quantity(q) if type(q) is dict and q.keys() <= _QUANTITY_FIELDS.known else None
            if s is None:
                s = self.obj(q, f"/{name}/{i}", _QUANTITY_FIELDS)
            if s:
                parts.append("quantityElement" + s)
        if not parts:
            return ""
        parts.sort()
        return name + "".join(parts)

    def persistent_disposition(self, name: str, value: Any) -> str:
        s = self.obj(value, "/" + name, _PERSISTENT_FIELDS)
        return name + s if s else ""

    def location(self, name: str, value: Any) -> str:
        if type(value) is dict and len(value) == 1:
            text = value.get("id")
            if type(text) is str:  # the common case: just an id
                text = _SIMPLE_GET(text) or _CANON_MEMO.get(text) or _canon_miss(text)
                return name + "id=" + text if text else ""
        path = "/" + name
        if not isinstance(value, Mapping):
            return self.value(name, value, path, VALUE)
        s = self.obj(value, path, _LOCATION_FIELDS)
        return name + s if s else ""

    def sensor_elements(self, name: str, value: Any) -> str:
        path = "/" + name
        items = value if isinstance(value, list) else [value]
        elements = []
        for i, element in enumerate(items):
            epath = f"{path}/{i}"
            if not isinstance(element, Mapping):
                raise _fail(epath, f"expected an object, got {type(element).__name__}")
            b = self.scoped(element)
            out = []
            meta = element.get("sensorMetadata")
            if meta is not None:
                s = b.obj(meta, epath + "/sensorMetadata", _SENSOR_METADATA_FIELDS)
                if s:
                    out.append("sensorMetadata" + s)
            reports = element.get("sensorReport")
            if reports is not None:
                rparts = []
                for j, r in enumerate(reports if isinstance(reports, list) else [reports]):
                    s = b.obj(r, f"{epath}/sensorReport/{j}", _SENSOR_REPORT_FIELDS)
                    if s:
                        rparts.append("sensorReport" + s)
                rparts.sort()
                out.extend(rparts)
            if type(element) is not dict or not element.keys() <= _SENSOR_ELEMENT_FIELDS:
                out.append(b.extensions(element, epath, _SENSOR_ELEMENT_FIELDS))  # (nothing, for those two)
            s = "".join(out)
            if s:
                elements.append("sensorElement" + s)
        if not elements:
            return ""
        elements.sort()
        return name + "".join(elements)

    def typed_list(self, name: str, member: str, kind: _Kind, value: Any) -> str:
        items = value if isinstance(value, list) else [value]
        parts = []
        for i, entry in enumerate(items):
            if type(entry) is dict and len(entry) == 2:  # just type and value, as text: the common case
                t, v = entry.get("type"), entry.get(member)
                if type(t) is str and type(v) is str:
                    s = _text_value("type", t, kind) + _text_value(member, v, VALUE)
                    if s:
                        parts.append(s)
                    continue
            epath = f"/{name}/{i}"
            if not isinstance(entry, Mapping):
                raise _fail(epath, f"expected an object with '{member}' and 'type', got {type(entry).__name__}")
            b = self.scoped(entry)
            s = (
                b.value("type", entry.get("type"), epath + "/type", kind)
                + b.value(member, entry.get(member), f"{epath}/{member}", VALUE)
                + b.extensions(entry, epath, _TYPED_MEMBER_FIELDS[member])
            )
            if s:
                parts.append(s)
        if len(parts) < 2:
            return name + parts[0] if parts else ""
        parts.sort()
        return name + "".join(parts)

    def generic(self, name: str, value: Any, path: str, out: list[str]) -> None:
        """ILMD and user extension content: ``name=text`` then the children, sorted; text is literal.

        XML attributes of extension elements arrive as ``@name`` keys, with the element text then
        under ``value`` (the XML codec's convention); ``#text`` is accepted as the text too.
        """
        if value is None:
            return
        if isinstance(value, list):
            for i, v in enumerate(value):
                self.generic(name, v, f"{path}/{i}", out)
            return
        if isinstance(value, Mapping):
            b = self.scoped(value)
            attributes = any(k[:1] == "@" and k != "@context" for k in value)
            text_value = value.get("#text")
            if attributes and text_value is None:
                text_value = value.get("value")
            children: list[str] = []
            for k, v in value.items():
                if k in _NESTED_IGNORED or (attributes and k == "value"):
                    continue
                if k[:1] == "@":
                    kpath = f"{path}/{k}"
                    b.generic(b.ns.key(k[1:], kpath), v, kpath, children)
                    continue
                if type(v) is str:  # a text child: what the call below does with it
                    child = b.ns._keys.get(k) or b.ns.key(k, f"{path}/{k}")
                    text = v.strip()
                    children.append(child + "=" + canonical_value(text) if text else child)
                    continue
                kpath = f"{path}/{k}"
                if k in _WRAPPERS and isinstance(v, Mapping):
                    b.scoped(v)._members(v, kpath, frozenset(), children)
                else:
                    b.generic(b.ns.key(k, kpath), v, kpath, children)
            children.sort()
            text = _text(text_value, path)
            out.append((name + "=" + canonical_value(text) if text else name) + "".join(children))
            return
        text = _text(value, path)
        out.append(name + "=" + canonical_value(text) if text else name)


def _plain_quantity(q: dict[str, Any]) -> str | None:
    """``obj(q, …, _QUANTITY_FIELDS)`` for a quantity element of just those fields with text or number
    values (no other members, so no extensions and no @context); None for anything else."""
    out = ""
    for field in ("epcClass", "quantity", "uom"):
        v = q.get(field)
        if v is None:
            continue
        kind = type(v)
        if kind is str:
            out += _text_value(field, v, VALUE)
        elif kind is int or kind is float:
            out += field + "=" + canonical_value(str(v))  # (what _text makes of a number)
        else:
            return None
    return out


_VOCAB = {v.name: _Kind(v) for v in (cbv.BIZ_STEP, cbv.DISPOSITION, cbv.BIZ_TRANSACTION_TYPE)}
_DISPOSITION = _VOCAB[cbv.DISPOSITION.name]
_SOURCE_DEST_TYPE = _Kind(cbv.SOURCE_DEST_TYPE)
_QUANTITY_FIELDS = _Shape("epcClass", ("quantity", VALUE), ("uom", VALUE))
_PERSISTENT_FIELDS = _Shape(("set", _DISPOSITION), ("unset", _DISPOSITION))
_LOCATION_FIELDS = _Shape("id")
_SENSOR_METADATA_FIELDS = _Shape(
    ("time", TIME),
    ("startTime", TIME),
    ("endTime", TIME),
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
_SENSOR_REPORT_FIELDS = _Shape(
    ("type", _Kind(cbv.MEASUREMENT_TYPE, local=True)),
    ("exception", _Kind(cbv.SENSOR_ALERT_TYPE, local=True)),
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    ("time", TIME),
    "microorganism",
    "chemicalSubstance",
    ("value", VALUE),
    ("component", _Kind(cbv.COMPONENT, local=True)),
    ("stringValue", VALUE),
    ("booleanValue", VALUE),
    ("hexBinaryValue", VALUE),
    "uriValue",
    ("minValue", VALUE),
    ("maxValue", VALUE),
    ("meanValue", VALUE),
    ("sDev", VALUE),
    ("percRank", VALUE),
    ("percValue", VALUE),
    ("uom", VALUE),
    "coordinateReferenceSystem",
)
_SENSOR_ELEMENT_FIELDS = frozenset({"sensorMetadata", "sensorReport"})
_TYPED_MEMBER_FIELDS = {m: frozenset({m, "type"}) for m in ("bizTransaction", "source", "destination")}
_WRAPPERS = frozenset({"extension", "baseExtension"})
_NO_FIELDS: frozenset[str] = frozenset()

_Render = Callable[[_Builder, str, Any], str]  # (builder, field name, value); its path is "/" + name


def _simple(kind: _Kind, *, few: bool = False) -> _Render:
    """The renderer of a single-valued field; ``few``: its values are few (action, CBV words, time zone
    offsets), so whole renderings are kept, in a table of its own, bounded like the namespace tables."""
    if few:
        rendered: dict[str, str] = {}
        plain = _simple(kind)

        def render_word(b: _Builder, name: str, value: Any) -> str:
            if type(value) is str:
                out = rendered.get(value)
                if out is None:
                    out = plain(b, name, value)
                    if len(rendered) >= _KEYS_LIMIT:
                        rendered.clear()
                    rendered[value] = out
                return out
            return plain(b, name, value)

        return render_word
    if kind.time:

        def render_time(b: _Builder, name: str, value: Any) -> str:
            if type(value) is str:
                text = value.strip()
                return name + "=" + (_TIME_MEMO.get(text) or _timestamp_miss(text)) if text else ""
            return b.values(name, value, "/" + name, kind)

        return render_time

    prefix, words, memo, simple = kind.prefix, kind.words, _CANON_MEMO, _SIMPLE_GET

    def render(b: _Builder, name: str, value: Any) -> str:
        if type(value) is str:  # _text_value, inline (simple EPC URNs as _canon_miss gives them)
            text = simple(value) or memo.get(value) or _canon_miss(value)
            if not text:
                return ""
            return name + "=" + prefix + text if text in words else name + "=" + text
        return b.values(name, value, "/" + name, kind)

    return render


_ORDERED: tuple[tuple[str, _Render], ...] = (
    ("eventTime", _simple(TIME)),
    ("eventTimeZoneOffset", _simple(VALUE, few=True)),
    ("certificationInfo", _simple(VALUE)),
    ("parentID", _simple(VALUE)),
    ("epcList", _Builder.epc_list),
    ("inputEPCList", _Builder.epc_list),
    ("childEPCs", _Builder.epc_list),
    ("quantityList", _Builder.quantity_list),
    ("childQuantityList", _Builder.quantity_list),
    ("inputQuantityList", _Builder.quantity_list),
    ("outputEPCList", _Builder.epc_list),
    ("outputQuantityList", _Builder.quantity_list),
    ("action", _simple(VALUE, few=True)),
    ("transformationID", _simple(VALUE)),
    ("bizStep", _simple(_VOCAB[cbv.BIZ_STEP.name], few=True)),
    ("disposition", _simple(_DISPOSITION, few=True)),
    ("persistentDisposition", _Builder.persistent_disposition),
    ("readPoint", _Builder.location),
    ("bizLocation", _Builder.location),
    ("sensorElementList", _Builder.sensor_elements),
)
_BTT = _VOCAB[cbv.BIZ_TRANSACTION_TYPE.name]
_TAIL: dict[str, _Render] = {
    "bizTransactionList": lambda b, n, v: b.typed_list(n, "bizTransaction", _BTT, v),
    "sourceList": lambda b, n, v: b.typed_list(n, "source", _SOURCE_DEST_TYPE, v),
    "destinationList": lambda b, n, v: b.typed_list(n, "destination", _SOURCE_DEST_TYPE, v),
}
_SLOTS = {name: (i, render) for i, (name, render) in enumerate(_ORDERED)}
_SLOT_COUNT = len(_SLOTS)
# handled in order, or left out of the hash
_NOT_TAIL = frozenset(_SLOTS) | _EXCLUDED


# The @context of the last event (a copy) and its builder: events of one capture carry the same one.
_EVENT_SCOPE: tuple[list[Any], _Builder] | None = None


def _event_builder(ctx: Any, doc_ctx: Mapping[str, str] | None) -> _Builder:
    """The builder of an event's own @context, shared with the previous event when that had an equal one.

    The events of a capture carry the document's prefixes (docs/design.md), so their prefix resolution,
    and the keys resolved with it, is reused instead of rebuilt. Only lists of strings and of objects
    with string values are shared, from a copy, so no later change to an event can reach it.
    """
    global _EVENT_SCOPE
    if doc_ctx is None and ctx is None:
        return _NO_SCOPE
    if doc_ctx is None and type(ctx) is list:
        last = _EVENT_SCOPE
        if last is not None and last[0] == ctx:
            return last[1]
        if all(type(c) is str or (type(c) is dict and all(type(v) is str for v in c.values())) for c in ctx):
            kept = [dict(c) if type(c) is dict else c for c in ctx]
            b = _Builder(_Namespaces(_context_maps(kept), None))
            _EVENT_SCOPE = (kept, b)
            return b
    return _Builder(_Namespaces(_context_maps(ctx), doc_ctx))


_NO_SCOPE = _Builder(_Namespaces([], None))  # no @context at all: only the EPCIS prefixes


def _ignored_names(ns: _Namespaces, names: Iterable[str]) -> frozenset[str]:
    out = set()
    for name in names:
        out.add(name)
        with suppress(EPCISError):  # a prefix nobody declared cannot match a field of this event either
            out.add(ns.key(name, "/ignoreFields"))
    return frozenset(out)


def prehash_string(
    event: Mapping[str, Any],
    context: Mapping[str, str] | None = None,
    *,
    ignore_fields: Iterable[str] = (),
) -> str:
    """The canonical pre-hash string of one event (预哈希字符串).

    ``context`` maps namespace prefixes to URIs for prefixes the event's own ``@context`` does not
    declare (the document context). ``ignore_fields`` names further top-level fields to leave out
    (``prefix:local`` or ``{namespace}local``), as a document's ``ignoreFields`` header asks.
    Raises ``EPCISError`` naming the field when the event cannot be hashed.
    """
    if type(event) is not dict and not isinstance(event, Mapping):
        raise _fail("", f"an event must be an object, got {type(event).__name__}")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise _fail("/type", "the event type is missing")
    _bound_memos()  # (values below go into them unchecked: one event's worth at most)
    b = _event_builder(event.get("@context"), context)
    slots = [""] * _SLOT_COUNT
    tail: list[str] = []
    ignored = _ignored_names(b.ns, ignore_fields) if ignore_fields else None
    slot_of = _SLOTS.get
    for key, v in event.items():
        slot = slot_of(key)
        if slot is not None:
            if v is not None:
                slots[slot[0]] = slot[1](b, key, v)
            continue
        if v is None or key in _EXCLUDED:
            continue
        path = "/" + key
        if ignored is not None and (key in ignored or (":" in key and b.ns.key(key, path) in ignored)):
            continue
        tail_render = _TAIL.get(key)
        if tail_render is not None:
            s = tail_render(b, key, v)
            if s:
                tail.append(s)
        elif key == "ilmd":
            if type(v) is not dict and not isinstance(v, Mapping):
                raise _fail(path, f"expected an object, got {type(v).__name__}")
            s = b.scoped(v).extensions(v, path, _NO_FIELDS)
            if s:
                tail.append("ilmd" + s)
        elif key in _WRAPPERS and isinstance(v, Mapping):
            b.scoped(v)._members(v, path, _NOT_TAIL, tail)
        else:  # user extension (or a plain key no standard defines: kept, as the reference does)
            b.generic(b.ns.key(key, path), v, path, tail)
    tail.sort()
    return "eventType=" + event_type.strip() + "".join(slots) + "".join(tail)


def event_hash_bytes(
    event: Mapping[str, Any],
    context: Mapping[str, str] | None = None,
    *,
    ignore_fields: Iterable[str] = (),
) -> bytes:
    """The 32-byte SHA-256 digest of the pre-hash string (the ledger's Merkle leaf input)."""
    return hashlib.sha256(prehash_string(event, context, ignore_fields=ignore_fields).encode()).digest()


def hash_uri(digest: bytes) -> str:
    """``ni:///sha-256;<hex>?ver=CBV2.0`` (RFC 6920 named information) for a SHA-256 digest."""
    return _NI_PREFIX + digest.hex() + _NI_SUFFIX


def event_hash(
    event: Mapping[str, Any],
    context: Mapping[str, str] | None = None,
    *,
    ignore_fields: Iterable[str] = (),
) -> str:
    """The CBV 2.0 event hash ID of one event (事件哈希标识), ``ni:///sha-256;…?ver=CBV2.0``."""
    pre = prehash_string(event, context, ignore_fields=ignore_fields)
    return _NI_PREFIX + hashlib.sha256(pre.encode()).hexdigest() + _NI_SUFFIX
