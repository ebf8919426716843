"""Chinese codes (real codes from public registries), parse_code dispatch, and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from zhuisu.codes.cli import app
from zhuisu.codes.cn import org_code_check, region_name
from zhuisu.codes.parse import parse_code

CODES: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "codes" / "cn-codes" / "codes.json").read_text("utf-8")
)
VALID = CODES["uscc_valid"] + CODES["uscc_valid_unattributed"]


@pytest.mark.parametrize("entry", VALID, ids=[e["code"] for e in VALID])
def test_real_uscc_accepted(vector: Callable[[str], None], entry: dict[str, Any]) -> None:
    vector("cn-codes/codes.json (valid USCC)")
    got = parse_code(entry["code"])
    assert got.ok and got.scheme == "uscc", got.error
    assert got.fields["organisation_code"] == entry["check"]["org_code"]


@pytest.mark.parametrize("entry", CODES["uscc_invalid"], ids=[e["code"] for e in CODES["uscc_invalid"]])
def test_invalid_uscc_refused(vector: Callable[[str], None], entry: dict[str, Any]) -> None:
    vector("cn-codes/codes.json (invalid USCC)")
    got = parse_code(entry["code"])
    assert not got.ok and got.error


def test_organisation_code_check_digit_is_checked() -> None:
    # Entries that pass the 18th-character check but carry a wrong GB 11714 digit must be refused.
    both = [e for e in CODES["uscc_invalid"] if e["check"].get("uscc_valid") and not e["check"].get("org_code_valid")]
    assert both
    for e in both:
        got = parse_code(e["code"])
        assert not got.ok and "organisation code" in (got.error or "")
    assert org_code_check("71526726") == "X"


@pytest.mark.parametrize("entry", CODES["region"], ids=[e["code"] for e in CODES["region"]])
def test_regions(entry: dict[str, Any]) -> None:
    assert (region_name(entry["code"]) is not None) == bool(entry["in_gbt2260_list"])


def test_national_region_allowed_only_in_uscc() -> None:
    assert parse_code("911000001000013428").ok  # Bank of China: region part 100000
    assert not parse_code("100000").ok


@pytest.mark.parametrize(
    ("text", "scheme", "ok"),
    [
        ("81000001000000000001", "cn-drug", True),
        ("71000001000000000001", "cn-drug", False),
        ("10929272000000000000000000000000", "cn-pesticide", True),
        ("30929272000000000000000000000000", "cn-pesticide", False),
        ("123456789012345678901234", "cn-vet-drug", True),
        ("MA.156.M0.100052/abc", "ma", True),
        ("88.118.8/ABC-123", "handle", True),
        ("品种名称：郑单958\n单元识别代码：123", "cn-seed", True),
        ("https://id.gs1.org/01/09520123456788/10/ABC", "gs1-digital-link", True),
        ("(01)09520123456788(17)201231(10)ABC", "gs1-element-string", True),
        ("09520123456788", "gtin", True),
        ("09520123456789", "gtin", False),
        ("106141412345678908", "sscc", True),
        ("urn:epc:id:sgtin:0614141.107346.2017", "epc-urn", True),
        ("hello", "unknown", False),
        ("https://example.org/x", "unknown", False),
    ],
)
def test_parse_code_dispatch(text: str, scheme: str, ok: bool) -> None:
    got = parse_code(text)
    assert (got.scheme, got.ok) == (scheme, ok), got.error
    d = got.as_dict()
    assert set(d) == {"input", "ok", "scheme", "fields", "ai", "canonical", "error"}
    assert (d["error"] is None) == ok


def test_cli_one_code_and_stdin() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["parse", "urn:epc:id:sgtin:0614141.107346.2017"])
    assert r.exit_code == 0
    assert json.loads(r.output)["canonical"] == "https://id.gs1.org/01/10614141073464/21/2017"
    r = runner.invoke(app, ["parse"], input="9144030071526726XG\nnot-a-code\n")
    lines = [json.loads(x) for x in r.output.splitlines()]
    assert [x["ok"] for x in lines] == [True, False]
    assert lines[1]["error"]
