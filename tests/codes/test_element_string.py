"""GS1 element strings and scan data against the GS1 Syntax Engine vectors; biip literal cases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zhuisu.codes.ai import AIValueError, get_ai, match_ai_prefix
from zhuisu.codes.digital_link import DigitalLink, parse_digital_link
from zhuisu.codes.element_string import parse_element_string, parse_scan_data
from zhuisu.codes.errors import IdentifierError
from zhuisu.codes.gs1 import GS1KeyError, company_prefix_length, gs1_check_digit, gtin_info, validate_key

DATA = Path(__file__).resolve().parent.parent / "data" / "codes"


def _jsonl(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# The extractor recorded the C variable name where a GS1 test builds its input at run time (the 90-character
# and 64-AI limit cases): there is no input to run. Their limits are the engine's buffer sizes (MAX_AIS …),
# not GS1 rules, and our parser has no such fixed buffers.
_NO_INPUT = (
    "no input in the vector: the GS1 test builds this value in a C buffer (inbuf/buf) at run time and the "
    "extractor recorded the variable name; the limit it probes is the engine's buffer size, not a GS1 rule"
)

PARSE = [c for c in _jsonl("gs1-syntax-engine/test_parseAIdata.jsonl") if not c.get("state")]


@pytest.mark.parametrize("case", PARSE, ids=[c["source"] for c in PARSE])
def test_engine_parse_bracketed(vector: Callable[[str], None], case: dict[str, Any]) -> None:
    vector("gs1-syntax-engine/test_parseAIdata.jsonl")
    args = case["args"]
    if args["bracketed_ai_data"] in ("inbuf", "buf"):
        pytest.skip(_NO_INPUT)
    # parseAIdata checks syntax and AI content, not the pairing rules (those are validateAIs).
    if args["should_succeed"]:
        got = parse_element_string(args["bracketed_ai_data"], check_ai_pairings=False).unbracketed()
        assert got == args["expected_ai_element_string"]
    else:
        with pytest.raises(IdentifierError):
            parse_element_string(args["bracketed_ai_data"], check_ai_pairings=False)


PROCESS = [c for c in _jsonl("gs1-syntax-engine/test_processAIdata.jsonl") if not c.get("state")]


@pytest.mark.parametrize("case", PROCESS, ids=[c["source"] for c in PROCESS])
def test_engine_process_fnc1(vector: Callable[[str], None], case: dict[str, Any]) -> None:
    vector("gs1-syntax-engine/test_processAIdata.jsonl")
    args = case["args"]
    data = args["ai_element_string"]
    if data in ("inbuf", "buf"):
        pytest.skip(_NO_INPUT)
    if data and not data.startswith("^"):
        # processAIdata takes only FNC1-led data and refuses this one for the missing leading FNC1. Our parser
        # deliberately also reads AI data without it (what a scanner sends once the symbology identifier is
        # stripped): a different input contract, not a disagreement about content. Assert our contract: the
        # same AIs as the FNC1-led form.
        assert not args["should_succeed"]
        ours = parse_element_string(data, check_ai_pairings=False)
        assert ours.ais == parse_element_string("^" + data, check_ai_pairings=False).ais
        return
    if args["should_succeed"]:
        parse_element_string(data, check_ai_pairings=False)
    else:
        with pytest.raises(IdentifierError):
            parse_element_string(data, check_ai_pairings=False)


SCAN = [c for c in _jsonl("gs1-syntax-engine/test_testProcessScanData.jsonl") if not c.get("state")]


def _engine_data_str(plain: str) -> str:
    # The engine escapes a leading "^" (and a leading "\\^") of plain data so it is not read as FNC1.
    return "\\" + plain if plain.startswith(("^", "\\^")) else plain


@pytest.mark.parametrize("case", SCAN, ids=[c["source"] for c in SCAN])
def test_engine_scan_data(vector: Callable[[str], None], case: dict[str, Any]) -> None:
    vector("gs1-syntax-engine/test_testProcessScanData.jsonl")
    args = case["args"]
    if not args["should_succeed"]:
        with pytest.raises(IdentifierError):
            parse_scan_data(args["scan_data"])
        return
    scan = parse_scan_data(args["scan_data"])
    if scan.plain is not None and scan.element_string is not None:
        got = scan.plain + "|" + scan.element_string.unbracketed()
    elif scan.element_string is not None:
        got = scan.element_string.unbracketed()
    else:
        got = _engine_data_str(scan.plain or "")
    assert got == args["expected_data_str"]


LINTER_TABLE = _jsonl("gs1-syntax-engine/test_ai_linters_table.jsonl")


@pytest.mark.parametrize("case", LINTER_TABLE, ids=[c["source"] for c in LINTER_TABLE])
def test_engine_linters_through_ais(vector: Callable[[str], None], case: dict[str, Any]) -> None:
    """Each linter error raised through a real AI, as the engine's test_ai_linters does."""
    vector("gs1-syntax-engine/test_ai_linters_table.jsonl")
    expected = case["expected_linter_result"].removeprefix("GS1_LINTER_")
    if expected == "OK":
        parse_element_string(case["bracketed_ai_data"], check_ai_pairings=False)
        return
    with pytest.raises(IdentifierError) as exc:
        parse_element_string(case["bracketed_ai_data"], check_ai_pairings=False)
    cause = exc.value.__cause__
    assert isinstance(cause, AIValueError), exc.value
    assert cause.code == expected


# --- biip's literal test cases, mapped onto our API where the two overlap ----------------------------------

BIIP = _jsonl("biip/pytest_literal_cases.jsonl")

# biip test functions whose subject has no counterpart in zhuisu.codes: they test the library (which we use
# only for its GCP length table), so there is nothing of ours to run. (source prefix, function prefix) → why.
_BIIP_ONLY: dict[tuple[str, str], str] = {
    ("tests/rcn/", ""): "restricted circulation numbers (RCN: national variable weight/price rules): not decoded here",
    ("tests/upc/test_encode.py", ""): "UPC-E ⇄ UPC-A suppression/expansion: not offered (GTINs are 8/12/13/14 digits)",
    ("tests/test_symbology.py", ""): "biip's symbology-identifier object (len/str); ours is the SYMBOLOGIES table",
    ("tests/test_checksums.py", "test_gs1_price_weight"): "RCN price/weight check digit: not offered",
    ("tests/test_gs1_prefixes.py", "test_gs1_prefix"): "GS1 prefix → member organisation lookup: not offered",
    ("tests/test_gs1_prefixes.py", "test_invalid_gs1_prefix"): "GS1 prefix lookup: not offered",
    ("tests/test_gs1_prefixes.py", "test_gs1_8_prefix"): "GS1-8 prefix lookup: not offered",
    ("tests/test_gs1_prefixes.py", "test_invalid_gs1_8_prefix"): "GS1-8 prefix lookup: not offered",
    ("tests/test_sscc.py", "test_as_hri"): "SSCC human-readable grouping by company prefix: not offered",
}

# Known disagreements with biip (strict xfail: the day they agree, the entry must go).
_BIIP_DISAGREE: dict[str, str] = {
    "tests/test_gs1_messages.py:517": (
        "data titles: biip numbers AI (7230) 'CERT # 0' … (7239) 'CERT # 9' (GS1's web AI list), the GS1 Barcode "
        "Syntax Dictionary we ship names them 'CERT # 1' … 'CERT # 10', so title 'CERT # 1' finds (7230) here"
    ),
}

# biip's DL parse errors → the reason our refusal must name.
_BIIP_DL_ERRORS = {
    "Expected URI, got": "must start with http",
    "Expected URI scheme to be": "must start with http",
    "Expected a primary identifier in the path": "no GS1 primary key",
    "Expected even number of path segments": "must be AI/value pairs",
    "Expected one of": "not valid key qualifiers",
    "Did not expect a qualifier": "not valid key qualifiers",
}

# biip expands zero-suppressed GTINs in Digital Links ("deprecated GTIN length"). The DL standard, and our
# default, refuse them; the GS1 Syntax Engine's PermitZeroSuppressedGTINinDLuris option (ours:
# permit_zero_suppressed_gtin) accepts them. Such cases assert the default refusal, then biip's answer with it.
_LENIENT = {"permit_zero_suppressed_gtin": True}


def _biip_only(source: str, fn: str, a: dict[str, Any]) -> str | None:
    for (src, fn_prefix), why in _BIIP_ONLY.items():
        if source.startswith(src) and fn.startswith(fn_prefix):
            return why
    if fn == "test_as_uri" and a.get("domain"):
        return "re-rendering a Digital Link on another domain or path prefix: not offered (canonical form only)"
    return None


def _dl(value: str) -> DigitalLink:
    """biip's DL parse: our strict parse; where that refuses a zero-suppressed GTIN (only then), the lenient one."""
    try:
        return parse_digital_link(value)
    except IdentifierError as exc:
        if "zero-suppressed" not in str(exc):
            raise
    return parse_digital_link(value, **_LENIENT)


def _by_ai(ais: tuple[tuple[str, str], ...], ai: str) -> list[str]:
    return [v for a, v in ais if a.startswith(ai)]  # biip filters by AI prefix: "723" finds 7230…7239


def _by_title(ais: tuple[tuple[str, str], ...], title: str) -> list[str]:
    found = []
    for a, v in ais:
        entry = get_ai(a)
        if entry is not None and title in entry.title:  # biip: the string anywhere in the data title
            found.append(v)
    return found


def _ais(value: str) -> tuple[tuple[str, str], ...]:
    if "://" in value:
        return _dl(value).ais
    return parse_element_string(value, check_ai_pairings=False).ais  # biip has no AI pairing rules


def _run_biip_case(source: str, fn: str, a: dict[str, Any]) -> None:
    if fn == "test_as_gtin_14":
        assert gtin_info(a["value"]).gtin14 == a["expected"]
    elif fn in ("test_as_gtin_13", "test_as_gtin_12", "test_as_gtin_8"):
        n = int(fn.rsplit("_", 1)[1])
        assert gtin_info(a["value"]).gtin14[14 - n :] == a["expected"]
    elif fn.endswith("_fails_for_too_long_values"):
        n = int(fn.split("_")[3])  # test_as_gtin_<n>_fails…: the GTIN-14 has significant digits before its last n
        assert gtin_info(a["value"]).gtin14[: 14 - n].strip("0") != ""
    elif fn.startswith("test_parse_gtin"):
        # test_parse_gtin_<n>[_…]: biip expects type GTIN-<n> however far the value is zero-padded.
        assert gtin_info(a["value"]).gtin_type == f"GTIN-{fn.split('_')[3]}"
    elif fn == "test_parse_nonnumeric_value":
        kind = {"tests/test_gln.py": "GLN", "tests/test_sscc.py": "SSCC"}.get(source.split(":")[0], "GTIN")
        with pytest.raises(GS1KeyError):
            validate_key(kind, a["value"])  # UPC-A is a GTIN-12
    elif fn == "test_gs1_standard_check_digit_with_nonnumeric_value":
        with pytest.raises(GS1KeyError):
            gs1_check_digit(a["value"])
    elif fn == "test_gs1_standard_check_digit":
        assert gs1_check_digit(a["value"]) == a["expected"]
    elif fn == "test_extract_unknown_gs1_ai":
        assert match_ai_prefix(a["unknown_ai"]) is None
        with pytest.raises(IdentifierError):
            parse_element_string(a["unknown_ai"], check_ai_pairings=False)
    elif fn in ("test_gs1_company_prefix", "test_invalid_gs1_company_prefix"):
        assert a.get("expected") is None  # the literal cases are the "no company prefix" ones
        assert company_prefix_length(a.get("value", a.get("bad_value", ""))) is None
    elif fn == "test_parse_error":
        reason = next(ours for theirs, ours in _BIIP_DL_ERRORS.items() if a["error"].lstrip("^").startswith(theirs))
        with pytest.raises(IdentifierError, match=reason):
            parse_digital_link(a["value"], **_LENIENT)  # biip accepts zero-suppressed GTINs: only the named fault
    elif fn in ("test_as_uri", "test_as_canonical_uri"):
        assert _dl(a["value"]).canonical(with_attributes="?" in a["expected"]) == a["expected"]
    elif fn == "test_as_gs1_message":
        assert _dl(a["value"]).element_string() == a["expected"]
    elif fn == "test_extract_fails_when_not_matching_pattern":
        with pytest.raises(IdentifierError):  # bad_value is AI + data, as biip's extract() takes it
            parse_element_string(a["bad_value"], check_ai_pairings=False)
    elif fn == "test_extract_fails_with_invalid_date":
        with pytest.raises(IdentifierError, match="does not exist"):
            parse_element_string(a["ai_code"] + a["bad_value"], check_ai_pairings=False)
    elif fn == "test_as_hri":
        assert parse_element_string(a["value"], check_ai_pairings=False).bracketed() == a["expected"]
    elif fn in ("test_parse_with_separator_char", "test_parse_ignores_redundant_separator_chars"):
        value = a["value"]
        for sep in a.get("separator_chars", []):
            value = value.replace(sep, "\x1d")  # biip's configurable separators; ours is GS (FNC1)
        assert parse_element_string(value, check_ai_pairings=False).bracketed() == a["expected_hri"]
    elif fn == "test_parse_fails_if_unparsed_data_left":
        with pytest.raises(IdentifierError):
            parse_element_string(a["value"], check_ai_pairings=False)
    elif fn == "test_parse_hri_fails_if_not_starting_with_parenthesis" and a["value"][:1].isdigit():
        # biip's parse_hri() reads only the bracketed form. Our parse_element_string() also reads unbracketed
        # AI data by design (scanner output without its symbology identifier): a different contract, so we
        # assert ours — the text is read as FNC1-form AI data, exactly like its "^"-led spelling.
        ours = parse_element_string(a["value"], check_ai_pairings=False)
        assert ours.unbracketed() == parse_element_string("^" + a["value"], check_ai_pairings=False).unbracketed()
    elif fn.startswith("test_parse_hri_fails"):
        with pytest.raises(IdentifierError):
            parse_element_string(a["value"], check_ai_pairings=False)
    elif fn == "test_as_gs1_digital_link_uri":
        assert parse_element_string(a["value"], check_ai_pairings=False).digital_link() == a["expected"]
    elif fn in ("test_filter_element_strings_by_ai", "test_get_element_strings_by_ai", "test_get_element_string_by_ai"):
        found = _by_ai(_ais(a["value"]), a["ai"])
        assert (found if fn.startswith("test_filter") else (found[0] if found else None)) == a["expected"]
    elif fn.startswith(("test_filter_element_strings_by_data_title", "test_get_element_string")):
        found = _by_title(_ais(a["value"]), a["data_title"])
        assert (found if fn.startswith("test_filter") else (found[0] if found else None)) == a["expected"]
    else:
        raise AssertionError(f"biip test function {fn} ({source}) has no mapping: add one or a written reason")


@pytest.mark.parametrize("case", BIIP, ids=[f"{c['source']}-{i}" for i, c in enumerate(BIIP)])
def test_biip_literal_cases(
    vector: Callable[[str], None], request: pytest.FixtureRequest, case: dict[str, Any]
) -> None:
    vector("biip/pytest_literal_cases.jsonl")
    source, fn, a = case["source"], case["function"], case["args"]
    why = _biip_only(source, fn, a)
    if why:
        pytest.skip(f"biip-only API ({fn}): {why}")
    disagreement = _BIIP_DISAGREE.get(source)
    if disagreement:
        request.applymarker(pytest.mark.xfail(reason=disagreement, strict=True))
    _run_biip_case(source, fn, a)


def test_zero_suppressed_gtin_refused_by_default() -> None:
    # What _dl() relies on: the default parse refuses biip's "deprecated GTIN length" and names it.
    with pytest.raises(IdentifierError, match="zero-suppressed"):
        parse_digital_link("https://example.com/01/614141123452")
    assert parse_digital_link("https://example.com/01/614141123452", **_LENIENT).key == ("01", "00614141123452")
