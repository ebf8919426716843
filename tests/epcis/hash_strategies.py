"""Hypothesis strategies for valid EPCIS 2.0 events in the platform's JSON-LD event form.

Used by the differential test against the CBV reference implementation. The strategies keep clear of
the reference's known defects (each is listed in ``zhuisu.epcis.hash.DEVIATIONS`` and has its own
test in ``test_hash.py``): no booleans or nulls, bizTransaction/source/destination always typed and
written type first, extension names that do not end in 'List', nested extensions only with a
namespace ending in '/' and next to a standard field, extension text that is never a CBV word,
timestamps whose rounding is not a tie, and identifiers in the syntax the reference recognises.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from zhuisu.epcis import cbv

EPCIS_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
STANDARD_PREFIXES = {"gs1": "https://gs1.org/voc/", "cbv": "https://ref.gs1.org/cbv/"}
USER_NAMESPACES = {
    "ex": "https://ns.example.com/epcis/",
    "acme": "http://acme.example.org/ns/",
    "zs": "https://zhuisu.example.cn/ext/",
}

_VOCABS = (
    cbv.BIZ_STEP,
    cbv.DISPOSITION,
    cbv.BIZ_TRANSACTION_TYPE,
    cbv.SOURCE_DEST_TYPE,
    cbv.ERROR_REASON,
    cbv.COMPONENT,
    cbv.MEASUREMENT_TYPE,
    cbv.SENSOR_ALERT_TYPE,
)


def _tails() -> frozenset[str]:
    # the reference replaces any string equal to what follows a '-' or '/' in a vocabulary URI
    out: set[str] = set()
    for vocab in _VOCABS:
        for word in vocab.words:
            uri = vocab.web_prefix + word
            out.update(uri[i + 1 :] for i, c in enumerate(uri) if c in "-/")
    return frozenset(out)


VOCAB_TAILS = _tails()


def _num(n: int) -> st.SearchStrategy[str]:
    # one draw per number (not one per digit) keeps generation fast
    return st.integers(0, 10**n - 1).map(lambda x: f"{x:0{n}d}") if n else st.just("")


# ---- identifiers ----

_SER_CHARS = string.ascii_letters + string.digits + "!')(*+,.:;=_-"
_SER_ESCAPES = ["%22", "%25", "%26", "%2F", "%3C", "%3E", "%3F"]
urn_serial = st.lists(
    st.one_of(st.sampled_from(_SER_CHARS), st.sampled_from(_SER_ESCAPES)), min_size=1, max_size=12
).map("".join)
# Digital Link qualifiers: characters the reference's final syntax check accepts
_DL_CHARS = string.ascii_letters + string.digits + "-._"
dl_serial = st.text(_DL_CHARS, min_size=1, max_size=12).filter(lambda s: s != "01")


@st.composite
def company_prefix(draw: st.DrawFn, max_len: int = 12) -> tuple[str, int]:
    n = draw(st.integers(6, max_len))
    return draw(_num(n)), n


@st.composite
def sgtin_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix())
    return f"urn:epc:id:sgtin:{cp}.{draw(_num(13 - n))}.{draw(urn_serial)}"


@st.composite
def sscc_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix())
    return f"urn:epc:id:sscc:{cp}.{draw(_num(17 - n))}"


@st.composite
def sgln_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix())
    ext = draw(st.one_of(st.just("0"), urn_serial))
    return f"urn:epc:id:sgln:{cp}.{draw(_num(12 - n))}.{ext}"


@st.composite
def pgln_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix())
    return f"urn:epc:id:pgln:{cp}.{draw(_num(12 - n))}"


@st.composite
def grai_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix(max_len=11))  # 12-digit prefixes: see DEVIATIONS['epc-cp12-patterns']
    return f"urn:epc:id:grai:{cp}.{draw(_num(12 - n))}.{draw(urn_serial)}"


@st.composite
def giai_urn(draw: st.DrawFn) -> str:
    cp, _ = draw(company_prefix())
    return f"urn:epc:id:giai:{cp}.{draw(urn_serial)}"


@st.composite
def gdti_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix(max_len=11))
    return f"urn:epc:id:gdti:{cp}.{draw(_num(12 - n))}.{draw(urn_serial)}"


@st.composite
def gsrn_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix())
    kind = draw(st.sampled_from(["gsrn", "gsrnp"]))
    return f"urn:epc:id:{kind}:{cp}.{draw(_num(17 - n))}"


@st.composite
def itip_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix())
    return f"urn:epc:id:itip:{cp}.{draw(_num(13 - n))}.{draw(_num(2))}.{draw(_num(2))}.{draw(urn_serial)}"


@st.composite
def upui_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix())
    return f"urn:epc:id:upui:{cp}.{draw(_num(13 - n))}.{draw(urn_serial)}"


@st.composite
def lgtin_urn(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix())
    return f"urn:epc:class:lgtin:{cp}.{draw(_num(13 - n))}.{draw(urn_serial)}"


@st.composite
def sgtin_pattern(draw: st.DrawFn) -> str:
    cp, n = draw(company_prefix())
    return f"urn:epc:idpat:sgtin:{cp}.{draw(_num(13 - n))}.*"


_DOMAINS = ["https://id.gs1.org", "https://id.example.com", "http://example.org/some/path", "https://dl.acme.cn"]


@st.composite
def dl_uri(draw: st.DrawFn, kind: str = "item") -> str:
    domain = draw(st.sampled_from(_DOMAINS))
    query = draw(st.sampled_from(["", "", "?linkType=all", "?17=251231"]))
    if kind == "class":
        gtin = draw(_num(14))
        lot = draw(st.one_of(st.just(""), dl_serial.map(lambda s: "/10/" + s)))
        return f"{domain}/01/{gtin}{lot}{query}"
    choice = draw(st.integers(0, 4))
    if choice == 0:
        gtin = draw(st.one_of(_num(14), _num(13)))
        short = draw(st.sampled_from(["01", "gtin"]))
        return f"{domain}/{short}/{gtin}/21/{draw(dl_serial)}{query}"
    if choice == 1:
        return f"{domain}/00/{draw(_num(18))}{query}"
    if choice == 2:
        return f"{domain}/01/{draw(_num(14))}/10/{draw(dl_serial)}/21/{draw(dl_serial)}{query}"
    if choice == 3:
        return f"{domain}/8004/{draw(_num(6))}{draw(dl_serial)}{query}"
    return f"{domain}/414/{draw(_num(13))}/254/{draw(dl_serial)}{query}"


epc = st.one_of(
    sgtin_urn(), sscc_urn(), grai_urn(), giai_urn(), gdti_urn(), gsrn_urn(), itip_urn(), upui_urn(), dl_uri()
)
epc_class = st.one_of(lgtin_urn(), sgtin_pattern(), dl_uri("class"))
location = st.one_of(sgln_urn(), dl_uri().map(lambda u: u))  # any id works; most are SGLNs in practice
party = st.one_of(pgln_urn(), sgln_urn())


# ---- plain values ----

_TEXT_CHARS = string.ascii_letters + string.digits + " -_.,/#()äöü追溯"
plain_text = (
    st.text(_TEXT_CHARS, min_size=1, max_size=16)
    .map(lambda s: "t" + s)  # never a number, never a CURIE with a known prefix
    .filter(lambda s: s.strip() not in VOCAB_TAILS and s.strip() != "" and ":" not in s)
)
# at most 15 significant digits and plain decimal syntax: see DEVIATIONS['numeric-precision']
number = st.one_of(
    st.integers(-(10**12), 10**12),
    st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False, allow_infinity=False).map(float),
)
number_text = st.one_of(
    number.map(str),
    st.decimals(min_value=0, max_value=10**5, places=4, allow_nan=False, allow_infinity=False).map(str),
)
extension_value: st.SearchStrategy[Any] = st.one_of(plain_text, number, number_text, epc, location)


@st.composite
def timestamp(draw: st.DrawFn) -> str:
    y, mo, d = draw(st.integers(2000, 2035)), draw(st.integers(1, 12)), draw(st.integers(1, 28))
    h, mi, s = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    frac = draw(st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=6)))
    # ties ('…xxx500') and fractions rounding up to a full second: DEVIATIONS['timestamp-rounding']
    if frac[3:6].ljust(3, "0") == "500" or frac.ljust(4, "0")[:4] >= "9995":
        frac = frac[:3]
    zone = draw(st.sampled_from(["Z", "+00:00", "+01:00", "+02:00", "-06:00", "+08:00", "+05:30", "-03:30", "+14:00"]))
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{'.' + frac if frac else ''}{zone}"


# ---- extensions ----

_LOCAL = st.text(string.ascii_letters, min_size=1, max_size=10).filter(
    lambda s: not s.endswith("List") and "action" not in s and "eventTime" not in s
)


@st.composite
def extension_key(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(sorted(USER_NAMESPACES))) + ":" + draw(_LOCAL)


def extension_content(depth: int = 2) -> st.SearchStrategy[Any]:
    leaf = extension_value
    if depth == 0:
        return leaf
    return st.one_of(
        leaf,
        st.lists(leaf, min_size=1, max_size=3),
        st.dictionaries(extension_key(), extension_content(depth - 1), min_size=1, max_size=3),
    )


extensions = st.dictionaries(extension_key(), extension_content(), max_size=3)


# ---- event parts ----

_MEASUREMENT = st.sampled_from(sorted(cbv.MEASUREMENT_TYPE.words))
_ALERT = st.sampled_from(sorted(cbv.SENSOR_ALERT_TYPE.words))
_COMPONENT = st.sampled_from(sorted(cbv.COMPONENT.words))
_DISPOSITION_WORDS = st.sampled_from(sorted(cbv.DISPOSITION.words))

bizstep = st.one_of(
    st.sampled_from(sorted(cbv.BIZ_STEP.words)),
    st.sampled_from(sorted(cbv.BIZ_STEP.words)).map(lambda w: "urn:epcglobal:cbv:bizstep:" + w),
    st.just("https://example.org/bizstep/exampling"),
)
disposition = st.one_of(
    _DISPOSITION_WORDS,
    _DISPOSITION_WORDS.map(lambda w: "urn:epcglobal:cbv:disp:" + w),
)


@st.composite
def quantity_element(draw: st.DrawFn) -> dict[str, Any]:
    q: dict[str, Any] = {"epcClass": draw(epc_class)}
    if draw(st.booleans()):
        q["quantity"] = draw(st.one_of(st.integers(0, 10**6), number.map(abs)))
        if draw(st.booleans()):
            q["uom"] = draw(st.sampled_from(["KGM", "LTR", "MTR", "H87", "CEL"]))
    return q


@st.composite
def place(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"id": draw(location)}
    out.update(draw(st.dictionaries(extension_key(), extension_value, max_size=2)))
    return out


@st.composite
def typed_entries(draw: st.DrawFn, member: str, vocab: cbv.Vocabulary, ids: st.SearchStrategy[str]) -> list[Any]:
    entries = []
    for _ in range(draw(st.integers(1, 3))):
        t = draw(st.one_of(st.sampled_from(sorted(vocab.words)), st.just("https://example.org/types/custom")))
        entries.append({"type": t, member: draw(ids)})  # type first: DEVIATIONS['type-value-order']
    return entries


biz_transaction_id = st.one_of(
    st.builds(lambda n, s: f"urn:epcglobal:cbv:bt:{n}:{s}", _num(13), st.text(string.digits, min_size=1, max_size=6)),
    st.just("http://transaction.acme.com/po/12345678"),
    gdti_urn(),
)


@st.composite
def sensor_report(draw: st.DrawFn) -> dict[str, Any]:
    r: dict[str, Any] = {}
    kind = draw(st.integers(0, 3))
    if kind == 0:
        r["type"] = draw(_MEASUREMENT)
    elif kind == 1:
        r["type"] = "gs1:" + draw(_MEASUREMENT)
    elif kind == 2:
        r["exception"] = draw(_ALERT)
    else:
        r["type"] = draw(_MEASUREMENT)
        r["component"] = draw(_COMPONENT)
    for field in ("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"):
        if _chance(draw, 4):
            r[field] = draw(number)
    if _chance(draw, 5):
        r["stringValue"] = draw(plain_text)
    if _chance(draw, 6):
        # no 'E': "1E24" reads as a number beyond float precision (DEVIATIONS['numeric-precision'])
        r["hexBinaryValue"] = draw(st.text("0123456789ABCDF", min_size=2, max_size=8))
    if _chance(draw, 6):
        r["uriValue"] = draw(st.sampled_from(["https://example.com/ErrorCode-A827", "urn:example:x"]))
    if _chance(draw, 6):
        r["time"] = draw(timestamp())
    if _chance(draw, 6):
        r["deviceID"] = draw(giai_urn())
    if _chance(draw, 7):
        r["microorganism"] = "https://www.ncbi.nlm.nih.gov/taxonomy/1126011"
    if _chance(draw, 7):
        r["coordinateReferenceSystem"] = "http://www.opengis.net/def/crs/EPSG/0/27700"
    if "value" in r or draw(st.booleans()):
        r["uom"] = draw(st.sampled_from(["CEL", "KGM", "A93", "LUX", "KMH", "DD"]))
    if _chance(draw, 5):
        r.update(draw(st.dictionaries(extension_key(), extension_value, min_size=1, max_size=2)))
    return r


@st.composite
def sensor_element(draw: st.DrawFn) -> dict[str, Any]:
    el: dict[str, Any] = {}
    if draw(st.booleans()):
        meta: dict[str, Any] = {}
        if draw(st.booleans()):
            meta["time"] = draw(timestamp())
        else:
            meta["startTime"], meta["endTime"] = draw(timestamp()), draw(timestamp())
        if draw(st.booleans()):
            meta["deviceID"] = draw(giai_urn())
        if _chance(draw, 4):
            meta["bizRules"] = "https://id.example.com/253/4012345000054987"
        if _chance(draw, 5):
            meta.update(draw(st.dictionaries(extension_key(), extension_value, min_size=1, max_size=2)))
        el["sensorMetadata"] = meta
    el["sensorReport"] = draw(st.lists(sensor_report(), min_size=1, max_size=4))
    if _chance(draw, 6):
        el.update(draw(st.dictionaries(extension_key(), extension_value, min_size=1, max_size=2)))
    return el


_ONE_IN = {n: st.integers(0, n - 1) for n in range(1, 8)}


def _chance(draw: st.DrawFn, n: int) -> bool:
    """True once in n draws (strategies are built once: building them per draw is slow)."""
    return draw(_ONE_IN[n]) == 0


def _maybe(draw: st.DrawFn, event: dict[str, Any], key: str, strategy: st.SearchStrategy[Any], p: int = 2) -> None:
    if _chance(draw, p):
        event[key] = draw(strategy)


EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")


@st.composite
def event(draw: st.DrawFn) -> dict[str, Any]:
    """One valid EPCIS 2.0 event (document-level prefixes: STANDARD_PREFIXES | USER_NAMESPACES)."""
    etype = draw(st.sampled_from(EVENT_TYPES))
    ev: dict[str, Any] = {"type": etype, "eventTime": draw(timestamp())}
    ev["eventTimeZoneOffset"] = draw(st.sampled_from(["+01:00", "+02:00", "-06:00", "+08:00", "+00:00"]))
    _maybe(draw, ev, "recordTime", timestamp())
    _maybe(draw, ev, "eventID", st.just("urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"), 3)
    _maybe(draw, ev, "certificationInfo", st.just("https://accreditation-council.example.org/certificate/ABC"), 4)
    epcs = st.lists(epc, min_size=1, max_size=6)
    quantities = st.lists(quantity_element(), min_size=1, max_size=3)
    if etype == "ObjectEvent":
        _maybe(draw, ev, "epcList", epcs)
        _maybe(draw, ev, "quantityList", quantities)
    elif etype in ("AggregationEvent", "AssociationEvent"):
        ev["parentID"] = draw(st.one_of(sscc_urn(), grai_urn()))
        _maybe(draw, ev, "childEPCs", epcs)
        _maybe(draw, ev, "childQuantityList", quantities)
    elif etype == "TransactionEvent":
        _maybe(draw, ev, "parentID", sscc_urn())
        _maybe(draw, ev, "epcList", epcs)
        _maybe(draw, ev, "quantityList", quantities)
    else:
        _maybe(draw, ev, "inputEPCList", epcs)
        _maybe(draw, ev, "inputQuantityList", quantities)
        _maybe(draw, ev, "outputEPCList", epcs)
        _maybe(draw, ev, "outputQuantityList", quantities)
        _maybe(draw, ev, "transformationID", st.one_of(gdti_urn(), st.just("urn:uuid:7d7b1e2e-0f0e")))
    if etype != "TransformationEvent":
        ev["action"] = draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"]))
    _maybe(draw, ev, "bizStep", bizstep, 1 if etype != "TransformationEvent" else 2)
    _maybe(draw, ev, "disposition", disposition)
    if _chance(draw, 5):
        words = st.lists(_DISPOSITION_WORDS, min_size=1, max_size=2, unique=True)
        ev["persistentDisposition"] = draw(st.fixed_dictionaries({}, optional={"set": words, "unset": words}))
        if not ev["persistentDisposition"]:
            del ev["persistentDisposition"]
    _maybe(draw, ev, "readPoint", place(), 1)
    _maybe(draw, ev, "bizLocation", place())
    trans = typed_entries("bizTransaction", cbv.BIZ_TRANSACTION_TYPE, biz_transaction_id)
    if etype == "TransactionEvent":
        ev["bizTransactionList"] = draw(trans)
    else:
        _maybe(draw, ev, "bizTransactionList", trans, 3)
    _maybe(draw, ev, "sourceList", typed_entries("source", cbv.SOURCE_DEST_TYPE, party), 3)
    _maybe(draw, ev, "destinationList", typed_entries("destination", cbv.SOURCE_DEST_TYPE, party), 3)
    _maybe(draw, ev, "sensorElementList", st.lists(sensor_element(), min_size=1, max_size=3), 3)
    if etype in ("ObjectEvent", "TransformationEvent") and _chance(draw, 3):
        ilmd = draw(st.dictionaries(extension_key(), extension_content(1), min_size=1, max_size=3))
        ilmd["cbvmda:bestBeforeDate"] = "2030-01-01"
        ev["ilmd"] = ilmd
    if _chance(draw, 6):
        ev["errorDeclaration"] = {"declarationTime": draw(timestamp()), "reason": "incorrect_data"}
    ev.update(draw(extensions))
    return ev


DOCUMENT_PREFIXES = {**STANDARD_PREFIXES, **USER_NAMESPACES, "cbvmda": "urn:epcglobal:cbv:mda:"}


def reference_document(events: list[dict[str, Any]]) -> dict[str, Any]:
    """An EPCISDocument the reference implementation can read (prefixes at document level)."""
    return {
        "@context": [EPCIS_CONTEXT_URL, dict(DOCUMENT_PREFIXES)],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-01-01T00:00:00.000Z",
        "epcisBody": {"eventList": events},
    }
