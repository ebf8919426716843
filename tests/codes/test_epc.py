"""canonical_id, EPC URN ⇄ Digital Link, EPC patterns."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zhuisu.codes.digital_link import parse_digital_link
from zhuisu.codes.epc import (
    IdentifierError,
    canonical_id,
    epc_pattern_like,
    epc_pattern_prefix,
    parse_epc_uri,
    to_digital_link,
    to_epc_urn,
)
from zhuisu.codes.gs1 import gs1_check_digit

DATA = Path(__file__).resolve().parent.parent / "data" / "codes"
IDENTIFIERS: list[dict[str, str]] = json.loads((DATA / "epcis_identifiers.json").read_text("utf-8"))


def _like_to_regex(like: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in like), re.S)


# --- every EPC identifier that occurs in the GS1 / openepcis EPCIS examples ---------------------------


@pytest.mark.parametrize("item", IDENTIFIERS, ids=[i["uri"] for i in IDENTIFIERS])
def test_epcis_identifier_round_trip(vector: Callable[[str], None], item: dict[str, str]) -> None:
    """URN → canonical DL → URN (same company-prefix split) → canonical DL is stable, per scheme."""
    vector("epcis_identifiers.json")
    urn = item["uri"]
    scheme = urn.split(":")[3]
    if scheme in ("gid", "usdod", "adi", "bic", "imovn"):
        assert canonical_id(urn) == urn  # not a GS1 key
        return
    canonical = canonical_id(urn)
    assert canonical.startswith("https://id.gs1.org/")
    # The canonical DL parses strictly and is its own canonical form.
    dl = parse_digital_link(canonical)
    assert dl.canonical() == canonical
    assert canonical_id(canonical) == canonical
    cp = parse_epc_uri(urn).company_prefix
    back = to_epc_urn(canonical, gcp_length=len(cp))
    assert canonical_id(back) == canonical
    assert to_epc_urn(urn) == back  # URN normalisation = re-encoding of the parsed key


def _identifiers(doc: Any) -> list[str]:
    """Identifier strings of an EPCIS JSON-LD document, in document order."""
    out: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in ("@context", "eventID", "sensorReport", "ilmd", "errorDeclaration", "certificationInfo"):
                continue
            if key in ("epcList", "childEPCs", "inputEPCList", "outputEPCList") and isinstance(value, list):
                out.extend(value)
            elif key in ("parentID", "epcClass") and isinstance(value, str):
                out.append(value)
            elif key in ("readPoint", "bizLocation") and isinstance(value, dict) and "id" in value:
                out.append(value["id"])
            else:
                out.extend(_identifiers(value))
    elif isinstance(doc, list):
        for item in doc:
            out.extend(_identifiers(item))
    return out


# The GS1 EPCIS repository renders these examples twice, with EPC URNs and with Digital Links. In four
# places the two renderings use different GTINs, so they are not equivalences: urn:epc:id:sgtin:
# 0614141.107346.* is GTIN 10614141073464, while the DL version has GTIN 70614141123451 (which would
# be sgtin 0614141.712345.*); and 9.6.2's LGTIN 4012345.012345.998877 (GTIN 04012345123456) appears
# as GTIN 70614141123451 in the DL version. We assert these differ, and that everything else matches.
_GS1_EXAMPLE_MISMATCHES = {
    ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/70614141123451/21/2017"),
    ("urn:epc:id:sgtin:0614141.107346.2018", "https://id.gs1.org/01/70614141123451/21/2018"),
    ("urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/70614141123451/10/998877"),
}

PAIRS = [
    ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.1-ObjectEventWithDigitalLink.jsonld"),
    ("Example_9.6.2-ObjectEvent.jsonld", "Example_9.6.2-ObjectEventWithDigitalLink.jsonld"),
    ("Example_9.6.3-AggregationEvent.jsonld", "Example_9.6.3-AggregationEventWithDigitalLink.jsonld"),
    ("Example_9.6.4-TransformationEvent.jsonld", "Example_9.6.4-TransformationEventWithDigitalLink.jsonld"),
]


@pytest.mark.parametrize(("urn_file", "dl_file"), PAIRS)
def test_gs1_example_pairs_urn_equals_digital_link(vector: Callable[[str], None], urn_file: str, dl_file: str) -> None:
    vector("epcis/Example_9.6.x pairs")
    a = _identifiers(json.loads((DATA / "epcis" / urn_file).read_text("utf-8")))
    b = _identifiers(json.loads((DATA / "epcis" / dl_file).read_text("utf-8")))
    assert len(a) == len(b) and a
    compared = 0
    for x, y in zip(a, b, strict=True):
        if (x, y) in _GS1_EXAMPLE_MISMATCHES:
            assert canonical_id(x) != canonical_id(y)
            continue
        assert canonical_id(x) == canonical_id(y), (x, y)
        if x != y:
            compared += 1
    # 9.6.1 and 9.6.2 differ only in the mismatched identifiers; 9.6.3/9.6.4 carry real equivalences.
    if urn_file.startswith(("Example_9.6.3", "Example_9.6.4")):
        assert compared >= 2


# --- one example per scheme, both directions ------------------------------------------------------

SCHEMES = [
    ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"),
    ("urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877"),
    ("urn:epc:idpat:sgtin:4012345.098765.*", "https://id.gs1.org/01/04012345987652"),
    ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
    ("urn:epc:id:sgln:0614141.12345.0", "https://id.gs1.org/414/0614141123452"),
    ("urn:epc:id:sgln:0614141.12345.400", "https://id.gs1.org/414/0614141123452/254/400"),
    ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
    ("urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400"),
    ("urn:epc:id:gsrn:0614141.1234567890", "https://id.gs1.org/8018/061414112345678902"),
    ("urn:epc:id:gsrnp:0614141.1234567890", "https://id.gs1.org/8017/061414112345678902"),
    ("urn:epc:id:gdti:0614141.12345.006847", "https://id.gs1.org/253/0614141123452006847"),
    ("urn:epc:id:cpi:0614141.123ABC.123456789", "https://id.gs1.org/8010/0614141123ABC/8011/123456789"),
    ("urn:epc:id:sgcn:4012345.67890.04711", "https://id.gs1.org/255/401234567890104711"),
    ("urn:epc:id:ginc:0614141.xyz47%2F11", "https://id.gs1.org/401/0614141xyz47%2F11"),
    ("urn:epc:id:gsin:0614141.123456789", "https://id.gs1.org/402/06141411234567890"),
    ("urn:epc:id:itip:4012345.012345.01.02.987", "https://id.gs1.org/8006/040123451234560102/21/987"),
    (
        "urn:epc:id:upui:1234567.089456.51qIgY)%3C%26Jp3*j7'SDB",
        "https://id.gs1.org/01/01234567894560/235/51qIgY%29%3C%26Jp3%2Aj7%27SDB",
    ),
    ("urn:epc:id:pgln:1234567.89012", "https://id.gs1.org/417/1234567890128"),
]


@pytest.mark.parametrize(("urn", "dl"), SCHEMES)
def test_scheme_equivalence(urn: str, dl: str) -> None:
    # The expected DLs carry check digits computed independently here, not by the code under test.
    key = dl.split("/")[4]
    if key.isdigit() and dl.split("/")[3] in ("01", "00", "414", "417", "8018", "8017", "402"):
        assert gs1_check_digit(key[:-1]) == int(key[-1])
    assert canonical_id(urn) == dl
    assert to_digital_link(urn) == dl
    cp = parse_epc_uri(urn).company_prefix
    assert to_epc_urn(dl, gcp_length=len(cp)) == to_epc_urn(urn)
    assert canonical_id(to_epc_urn(dl, gcp_length=len(cp))) == dl
    # Any domain, any stem: the same key gives the same canonical id.
    other = dl.replace("https://id.gs1.org", "https://example.com/some/stem")
    assert canonical_id(other) == dl


def test_sgln_extension_zero_means_no_extension() -> None:
    assert canonical_id("urn:epc:id:sgln:0614141.12345.0") == canonical_id("https://id.gs1.org/414/0614141123452")
    assert to_epc_urn("https://id.gs1.org/414/0614141123452", gcp_length=7) == "urn:epc:id:sgln:0614141.12345.0"
    # "00" is a real extension, not the "no extension" marker.
    assert canonical_id("urn:epc:id:sgln:0614141.12345.00").endswith("/254/00")


def test_twelve_digit_company_prefix_empty_reference() -> None:
    assert canonical_id("urn:epc:id:sgln:061414112345..0") == "https://id.gs1.org/414/0614141123452"
    assert to_epc_urn("https://id.gs1.org/414/0614141123452", gcp_length=12) == "urn:epc:id:sgln:061414112345..0"


def test_escaped_serials() -> None:
    # TDS: "/" in a serial is %2F in the URN; the DL percent-encodes everything but unreserved characters.
    assert (
        canonical_id("urn:epc:id:sgtin:0614141.112345.A%2FB!(c)")
        == "https://id.gs1.org/01/10614141123459/21/A%2FB%21%28c%29"
    )
    assert (
        canonical_id("https://example.com/01/10614141123459/21/A%2fB!(c)")
        == "https://id.gs1.org/01/10614141123459/21/A%2FB%21%28c%29"
    )
    assert to_epc_urn("https://id.gs1.org/01/10614141123459/21/A%2FB%21%28c%29", gcp_length=7) == (
        "urn:epc:id:sgtin:0614141.112345.A%2FB!(c)"
    )


NON_GS1 = [
    "https://example.org/x",
    "https://example.org/blog/2023/01/post",
    "urn:uuid:6f1c2b1e-1111-2222-3333-444455556666",
    "urn:epcglobal:cbv:bizstep:shipping",
    "ni:///sha-256;abc?ver=CBV2.0",
    "https://zhuisu.example/trace/abc",
    "urn:epc:id:gid:95100000.12345.400",
    "urn:epc:id:usdod:CAGEY.5678",
    "urn:epc:idpat:sgtin:0614141.*.*",
    "",
]


@pytest.mark.parametrize("uri", NON_GS1)
def test_non_gs1_unchanged(uri: str) -> None:
    assert canonical_id(uri) == uri
    assert to_epc_urn(uri) == uri


MALFORMED = {
    "urn:epc:id:sgtin:0614141.107346": "parts",
    "urn:epc:id:sgtin:0614141.107346.1.2": "too long",  # the serial "1.2" is legal; see below
    "urn:epc:id:sgtin:06141x1.107346.1": "digits",
    "urn:epc:id:sgtin:0614141.10734.1": "13 digits",
    "urn:epc:id:sgtin:06141.1073464.1": "6 to 12",
    "urn:epc:id:sgtin:0614141.107346.a/b": "not allowed",
    "urn:epc:id:sgtin:0614141.107346.": "empty",
    "urn:epc:id:sgtin:0614141.107346.ABCDEFGHIJKLMNOPQRSTU": "too long",
    "urn:epc:id:sscc:0614141.123456789": "17 digits",
    "urn:epc:id:sgln:0614141.12345": "parts",
    "urn:epc:id:grai:0614141.12345.": "empty",
    "urn:epc:id:sgcn:4012345.67890.A1": "digits",
    "urn:epc:id:cpi:0614141.123abc.1": "CSET 39",
    "urn:epc:id:foo:0614141.1": "not a GS1 key",
    "urn:epc:class:foo:1.2.3": "lgtin",
    "urn:epc:idpat:sgtin:0614141.*.1": "followed",
    "https://id.gs1.org/01/10614141073465/21/2017": "check digit",
    "https://example.com/01/1061414107346/21/2017": "zero-suppressed",
    "https://id.gs1.org/01/10614141073464/99/x": "qualifier",
    "https://id.gs1.org/01/10614141073464/21/a/10/b": "order",
    "HtTps://id.gs1.org/01/10614141073464": "lower case",
}


@pytest.mark.parametrize(("uri", "reason"), MALFORMED.items())
def test_malformed_refused_with_reason(uri: str, reason: str) -> None:
    if uri == "urn:epc:id:sgtin:0614141.107346.1.2":
        # Dots are legal inside the last component (TDS): this one is fine.
        assert canonical_id(uri) == "https://id.gs1.org/01/10614141073464/21/1.2"
        return
    if uri.startswith("HtTps"):
        # Mixed case scheme: not recognised as a DL by canonical_id's cheap test, but parse refuses.
        with pytest.raises(IdentifierError, match=reason):
            parse_digital_link(uri)
        return
    with pytest.raises(IdentifierError, match=reason):
        if uri.startswith("urn:epc:idpat:"):
            epc_pattern_like(uri)
        else:
            canonical_id(uri)


def test_company_prefix_length_from_gs1_table() -> None:
    # 0614141 is GS1 US's long-standing example prefix (7 digits) in the GCP length table.
    assert to_epc_urn("https://id.gs1.org/01/10614141073464/21/2017") == "urn:epc:id:sgtin:0614141.107346.2017"
    # Restricted-circulation prefix 2xx has no company prefix: refused, never guessed.
    with pytest.raises(IdentifierError, match="company prefix length unknown"):
        to_epc_urn("https://id.gs1.org/414/2000000000008")


# --- patterns ---------------------------------------------------------------------------------------

PATTERN_CASES = [
    # pattern, an id that matches, an id that does not
    (
        "urn:epc:idpat:sgtin:0614141.112345.*",
        "urn:epc:id:sgtin:0614141.112345.400",
        "urn:epc:id:sgtin:0614141.112346.400",
    ),
    ("urn:epc:idpat:sgtin:0614141.*.*", "urn:epc:id:sgtin:0614141.712345.x", "urn:epc:id:sgtin:0614142.712345.x"),
    ("urn:epc:idpat:sgtin:*.*.*", "urn:epc:id:sgtin:0614141.712345.x", "urn:epc:class:lgtin:0614141.712345.x"),
    ("urn:epc:idpat:sscc:0614141.*", "urn:epc:id:sscc:0614141.1234567890", "urn:epc:id:sscc:0614142.1234567890"),
    ("urn:epc:idpat:sgln:0614141.12345.*", "urn:epc:id:sgln:0614141.12345.7", "urn:epc:id:sgln:0614141.12346.7"),
    ("urn:epc:idpat:sgln:0614141.12345.*", "urn:epc:id:sgln:0614141.12345.0", "urn:epc:id:sgln:0614141.12346.0"),
    ("urn:epc:idpat:grai:4012345.66666.*", "urn:epc:id:grai:4012345.66666.1", "urn:epc:idpat:grai:4012345.66666.*"),
    ("urn:epc:idpat:gdti:4012345.55555.*", "urn:epc:id:gdti:4012345.55555.12", "urn:epc:id:gdti:4012345.55556.12"),
    ("urn:epc:idpat:giai:4000001.*", "urn:epc:id:giai:4000001.111", "urn:epc:id:giai:4000002.111"),
    ("urn:epc:idpat:cpi:4012345.ABC.*", "urn:epc:id:cpi:4012345.ABC.123", "urn:epc:id:cpi:4012345.ABD.123"),
    (
        "urn:epc:idpat:itip:4012345.012345.01.02.*",
        "urn:epc:id:itip:4012345.012345.01.02.9",
        "urn:epc:id:itip:4012345.012345.01.03.9",
    ),
    ("urn:epc:idpat:sgcn:4012345.99999.*", "urn:epc:id:sgcn:4012345.99999.44", "urn:epc:id:sgcn:4012345.99998.44"),
]


@pytest.mark.parametrize(("pattern", "hit", "miss"), PATTERN_CASES)
def test_pattern_like_and_prefix(pattern: str, hit: str, miss: str) -> None:
    likes = epc_pattern_like(pattern)
    assert likes
    regexes = [_like_to_regex(x) for x in likes]
    assert any(r.fullmatch(canonical_id(hit)) for r in regexes)
    assert not any(r.fullmatch(canonical_id(miss)) for r in regexes)
    prefix = epc_pattern_prefix(pattern)
    if prefix is not None:
        assert canonical_id(hit).startswith(prefix)
        assert not canonical_id(miss).startswith(prefix)


def test_pattern_prefix_when_expressible() -> None:
    assert epc_pattern_prefix("urn:epc:idpat:sgtin:0614141.112345.*") == "https://id.gs1.org/01/10614141123459/21/"
    # Company prefix only: the GTIN's indicator digit comes first, so no prefix; LIKE does it.
    assert epc_pattern_prefix("urn:epc:idpat:sgtin:0614141.*.*") is None
    assert epc_pattern_like("urn:epc:idpat:sgtin:0614141.*.*") == ["https://id.gs1.org/01/_0614141______/21/%"]
    assert epc_pattern_prefix("urn:epc:id:sgtin:0614141.112345.1") is None
    assert epc_pattern_like("https://example.org/x") is None


# --- speed ------------------------------------------------------------------------------------------


def test_cache_is_bounded_and_errors_are_not_cached() -> None:
    assert canonical_id.cache_info().maxsize == 65536
    for _ in range(2):
        with pytest.raises(IdentifierError, match="check digit"):
            canonical_id("https://id.gs1.org/01/10614141073465/21/2017")
