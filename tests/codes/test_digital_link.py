"""GS1 Digital Link parsing against the GS1 Syntax Engine and the GS1 simple DL parser test vectors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zhuisu.codes.digital_link import parse_digital_link
from zhuisu.codes.errors import IdentifierError

DATA = Path(__file__).resolve().parent.parent / "data" / "codes"


def _jsonl(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# The Syntax Engine's default options; a case whose "state" sets any of them differently tests a
# non-default mode and is run with that mode switched on where we offer it (see _options).
_DEFAULTS: dict[str, bool] = {
    "ctx->permitConvenienceAlphas": False,
    "gs1_encoder_setPermitZeroSuppressedGTINinDLuris": False,
    "gs1_encoder_setPermitUnknownAIs": False,
    "gs1_encoder_setValidationEnabled(gs1_encoder_vUNKNOWN_AI_NOT_DL_ATTR)": True,
}

ENGINE = [c for c in _jsonl("gs1-syntax-engine/test_parseDLuri.jsonl")]
ENGINE_DEFAULT = [c for c in ENGINE if all(_DEFAULTS.get(k) == v for k, v in (c.get("state") or {}).items())]
ENGINE_OTHER = [c for c in ENGINE if c not in ENGINE_DEFAULT]


def _engine_element_string(dl_uri: str, **options: bool) -> str:
    return parse_digital_link(dl_uri, **options).unbracketed()


@pytest.mark.parametrize("case", ENGINE_DEFAULT, ids=[c["source"] for c in ENGINE_DEFAULT])
def test_syntax_engine_default_options(vector: Callable[[str], None], case: dict[str, Any]) -> None:
    vector("gs1-syntax-engine/test_parseDLuri.jsonl (default options)")
    args = case["args"]
    if args["should_succeed"]:
        assert _engine_element_string(args["dl_uri"]) == args["expected_ai_element_string"]
    else:
        with pytest.raises(IdentifierError):
            parse_digital_link(args["dl_uri"])


def _options(state: dict[str, Any]) -> dict[str, bool] | None:
    """Our parse options for an engine state, or None if we do not offer that mode."""
    if state.get("ctx->permitConvenienceAlphas"):
        return None  # convenience alphas ("/gtin/…") were dropped from DL 1.2+; we do not offer them
    return {
        "permit_zero_suppressed_gtin": bool(state.get("gs1_encoder_setPermitZeroSuppressedGTINinDLuris")),
        "permit_unknown_ais": bool(state.get("gs1_encoder_setPermitUnknownAIs")),
        "permit_unknown_ai_attributes": state.get(
            "gs1_encoder_setValidationEnabled(gs1_encoder_vUNKNOWN_AI_NOT_DL_ATTR)", True
        )
        is False,
    }


@pytest.mark.parametrize("case", ENGINE_OTHER, ids=[c["source"] for c in ENGINE_OTHER])
def test_syntax_engine_other_options(vector: Callable[[str], None], case: dict[str, Any]) -> None:
    """Non-default engine modes we offer behave like the engine; modes we do not offer must refuse."""
    vector("gs1-syntax-engine/test_parseDLuri.jsonl (other options)")
    args = case["args"]
    options = _options(case["state"])
    if options is None:
        # Our parser has no such relaxation: every such URI must be refused by the standard rules,
        # unless it also parses under the standard rules to the same element string.
        try:
            got = _engine_element_string(args["dl_uri"])
        except IdentifierError:
            return
        assert args["should_succeed"] and got == args["expected_ai_element_string"]
        return
    if args["should_succeed"]:
        assert _engine_element_string(args["dl_uri"], **options) == args["expected_ai_element_string"]
    else:
        with pytest.raises(IdentifierError):
            parse_digital_link(args["dl_uri"], **options)


SIMPLE = _jsonl("gs1-digital-link-uri-simple-parser/test_parseDLuri.jsonl")

# The simple parser is deliberately lenient: it expands zero-suppressed GTINs and passes unknown AIs
# through. We run its cases with the matching relaxations switched on; what it accepts beyond the
# standard is refused in strict mode (asserted in test_strict_mode_refuses_simple_parser_leniency).
_SIMPLE_OPTIONS = {
    "permit_zero_suppressed_gtin": True,
    "permit_unknown_ais": True,
    "permit_unknown_ai_attributes": True,
}


@pytest.mark.parametrize("case", SIMPLE, ids=[c["source"] for c in SIMPLE])
def test_simple_parser(vector: Callable[[str], None], case: dict[str, Any]) -> None:
    vector("gs1-digital-link-uri-simple-parser/test_parseDLuri.jsonl")
    args = case["args"]
    if args["should_succeed"]:
        dl = parse_digital_link(args["dl_uri"], **_SIMPLE_OPTIONS)
        assert dict(dl.ais) == json.loads(args["expect_json_unsorted"])
        assert dl.element_string() == args["expect_bracketed_unsorted"]
    else:
        with pytest.raises(IdentifierError):
            parse_digital_link(args["dl_uri"], **_SIMPLE_OPTIONS)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("https://example.com/01/9520123456788", "zero-suppressed"),
        ("https://example.com/01/09520123456788/89/ABC123?99=XYZ", "unknown AI"),
        ("https://example.com/01/09520123456788?99=XYZ&89=ABC123", "unknown AI"),
    ],
)
def test_strict_mode_refuses_simple_parser_leniency(uri: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        parse_digital_link(uri)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("HtTp://a/01/09520123456788", "lower case or all upper case"),
        ("https://example.com/01/09520123456788?10=ABC123", "must be in the path"),
        ("https://id.gs1.org/01/09520123456788/10/ABC123?10=ABC123", "twice"),
        ("https://id.gs1.org/01/09520123456788/21/1/10/ABC123", "order"),
        ("https://id.gs1.org/01/09520123456788/99/ABC", "not valid key qualifiers"),
        ("https://id.gs1.org/01/09520123456789", "check digit"),
        ("https://id.gs1.org/01/09520123456788?17=200230", "day 30 does not exist"),
        ("https://id.gs1.org/01/09520123456788?17=201331", "month 13"),
        ("https://id.gs1.org/01/09520123456788?3103=000195&3102=001950", "may not be used together"),
        ("https://id.gs1.org/00/106141412345678908?30=5", "requires"),
    ],
)
def test_refusals_name_the_reason(uri: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        parse_digital_link(uri)


def test_canonical_form() -> None:
    dl = parse_digital_link("HTTPS://brand.example.com/some/stem/01/09520123456788/10/AB%2fC/21/x+y?17=201225&foo=1")
    assert dl.canonical() == "https://id.gs1.org/01/09520123456788/10/AB%2FC/21/x%2By"
    assert dl.canonical(with_attributes=True) == "https://id.gs1.org/01/09520123456788/10/AB%2FC/21/x%2By?17=201225"
    assert dl.stem == "HTTPS://brand.example.com/some/stem"
    assert dl.other_params == (("foo", "1"),)
