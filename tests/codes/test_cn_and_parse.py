"""Chinese codes (real codes from public registries), parse_code dispatch, and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


def test_ma_fields() -> None:
    got = parse_code("MA.156.M0.100350.01004YA10017.SLMSAGAAAC.M210628.LAY21062803.E220628.V220627.C3")
    assert got.ok and got.scheme == "ma", got.error
    assert got.fields == {
        "country": "156",
        "sector": "M0",
        "organisation": "100350",
        "class": "01004YA10017",
        "production_information": "SLMSAGAAAC.M210628.LAY21062803.E220628.V220627.C3",
    }
    assert not parse_code("MA.156.100052").ok  # no sector part


def test_eighteen_digits_name_the_closer_reading() -> None:
    # USCC check character right, organisation code wrong: the USCC error, not an SSCC one.
    got = parse_code("121000009999999996")
    assert (got.scheme, got.ok) == ("uscc", False) and "organisation code" in (got.error or "")
    # Neither check character holds: both readings are named.
    got = parse_code("106141412345678909")
    assert (got.scheme, got.ok) == ("sscc", False)
    assert "SSCC" in (got.error or "") and "统一社会信用代码" in (got.error or "")


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
    | st.from_regex(r"[\]\(\^0-9]{0,3}[0-9A-Za-z().^:/%]{0,40}")
)
def test_parse_code_never_raises(text: str) -> None:
    got = parse_code(text)
    assert got.ok == (got.error is None)


def test_cli_one_code_and_stdin() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["parse", "urn:epc:id:sgtin:0614141.107346.2017"])
    assert r.exit_code == 0, r.output
    one = json.loads(r.output)
    assert set(one) == {"input", "ok", "scheme", "fields", "ai", "canonical", "error"}
    assert one["canonical"] == "https://id.gs1.org/01/10614141073464/21/2017"
    assert one["ai"] == {"01": "10614141073464", "21": "2017"}
    r = runner.invoke(app, ["parse"], input="9144030071526726XG\n\nnot-a-code\r\n(01)09520123456788(10)AB\n")
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.output.splitlines()]
    assert [(x["input"], x["ok"], x["scheme"]) for x in lines] == [
        ("9144030071526726XG", True, "uscc"),
        ("not-a-code", False, "unknown"),
        ("(01)09520123456788(10)AB", True, "gs1-element-string"),
    ]
    assert lines[1]["error"] and lines[2]["canonical"] == "https://id.gs1.org/01/09520123456788/10/AB"


def test_cli_bad_code_is_json_not_a_traceback() -> None:
    r = CliRunner().invoke(app, ["parse", "https://id.gs1.org/01/09520123456789"])
    assert r.exit_code == 0 and r.exception is None
    got = json.loads(r.output)
    assert got["ok"] is False and "check digit" in got["error"]
