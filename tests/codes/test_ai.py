"""GS1 syntax dictionary: linter unit tests (PASS/FAIL) and AI table behaviour."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zhuisu.codes import lint
from zhuisu.codes.ai import AIValueError, ai_table, check_ai_value, check_pairings, dl_primary_keys

DATA = Path(__file__).resolve().parent.parent / "data" / "codes" / "gs1-syntax-dictionary"


def _cases() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in ("UNIT_TEST_PASS.jsonl", "UNIT_TEST_FAIL.jsonl"):
        with (DATA / name).open(encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh if line.strip())
    return out


CASES = _cases()

# The extractor recorded the C variable name when a GS1 test builds its input in a buffer (``data``): those
# entries have no input to run. The same inputs, rebuilt from the C loops, are in test_gcppos_rebuilt below.
_NO_INPUT = (
    "no input in the vector: the GS1 unit test builds this value in a C buffer named `data` and the extractor "
    "recorded the variable name; the rebuilt cases are in test_gcppos_rebuilt"
)


def _known_disagreement(case: dict[str, Any]) -> str | None:
    """Why a vector cannot hold for us, or None. Each reason is a fact about the vector."""
    args = case["args"]
    if args.get("expected_error") in _MOCK_GCP_ERRORS and (_name(case), args["input"]) in _MOCK_GCP_INPUTS:
        return (
            "the GS1 unit test compiles in a mock GCP lookup (GS1_LINTER_CUSTOM_GCP_LOOKUP) that reports this "
            "prefix as unallocated, then the lookup as offline (same input, two expected errors); the GS1 default "
            "build, like us, checks the prefix's structure only and accepts it"
        )
    return None


def _name(case: dict[str, Any]) -> str:
    return str(case["args"]["linter"]).removeprefix("gs1_lint_")


_MOCK_GCP_ERRORS = ("GS1_LINTER_GCP_DATASOURCE_OFFLINE", "GS1_LINTER_INVALID_GCP_PREFIX")
# Inputs that a GS1 test expects to fail as GCP_DATASOURCE_OFFLINE: only a lookup mock can say "offline", and the
# same tests expect these very inputs to fail as INVALID_GCP_PREFIX under another mock state.
_MOCK_GCP_INPUTS = frozenset(
    (_name(c), c["args"]["input"])
    for c in CASES
    if c["macro"] == "UNIT_TEST_FAIL" and c["args"]["expected_error"] == "GS1_LINTER_GCP_DATASOURCE_OFFLINE"
)


def test_mock_gcp_inputs_are_state_dependent() -> None:
    """The reason given for the GCP-lookup xfails holds: for each such input the vectors demand two different
    errors (INVALID_GCP_PREFIX and GCP_DATASOURCE_OFFLINE), which no function of the input alone can give."""
    invalid = {
        (_name(c), c["args"]["input"])
        for c in CASES
        if c["macro"] == "UNIT_TEST_FAIL" and c["args"]["expected_error"] == "GS1_LINTER_INVALID_GCP_PREFIX"
    }
    assert _MOCK_GCP_INPUTS and _MOCK_GCP_INPUTS.issubset(invalid)


def _id(case: dict[str, Any]) -> str:
    args = case["args"]
    return f"{case['macro'][10:]}-{args['linter'][9:]}-{args['input'][:30]!r}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_linter_vectors(vector: Callable[[str], None], request: pytest.FixtureRequest, case: dict[str, Any]) -> None:
    vector(f"gs1-syntax-dictionary/{case['macro']}.jsonl")
    args = case["args"]
    name = _name(case)
    if args["input"] == "data" and name in ("gcppos1", "gcppos2"):
        pytest.skip(_NO_INPUT)
    reason = _known_disagreement(case)
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    result = lint.run(name, args["input"])
    if case["macro"] == "UNIT_TEST_PASS":
        assert result is None, result
    else:
        assert result is not None
        assert result.code == args["expected_error"].removeprefix("GS1_LINTER_")
        # The GS1 markup wraps the offending data in "*": its start is the position we report.
        assert result.position == args["expected_markup"].index("*"), (result, args["expected_markup"])


def _gcppos_rebuilt() -> list[tuple[str, str, str | None, int]]:
    """The inputs of lint_gcppos1.c / lint_gcppos2.c's unit tests, built as their C loops build them.

    (linter, input, expected error or None, expected error position); minimum GCP length 4.
    """
    out: list[tuple[str, str, str | None, int]] = []
    for name, lead in (("gcppos1", ""), ("gcppos2", "I")):
        digits = "".join(str(i % 10) for i in range(6))
        out.append((name, lead + digits[:5], None, 0))  # one more than the minimum length
        out.append((name, lead + digits[:4], None, 0))  # minimum length
        for n in range(3, -1, -1):  # too short: the prefix part is marked, or everything if it is empty
            out.append((name, lead + digits[:n], "TOO_SHORT_FOR_GCP", len(lead) if n else 0))
        if lead:
            out.append((name, "", "TOO_SHORT_FOR_GCP", 0))
        out.append((name, lead + digits[:4] + "A", None, 0))  # the minimum-length GCP is all digits
        for i in range(3, -1, -1):  # a letter inside the first four digits, from the right
            out.append((name, lead + digits[:i] + "A" * (5 - i), "INVALID_GCP_PREFIX", len(lead) + i))
    return out


@pytest.mark.parametrize(("name", "data", "code", "position"), _gcppos_rebuilt())
def test_gcppos_rebuilt(name: str, data: str, code: str | None, position: int) -> None:
    result = lint.run(name, data)
    if code is None:
        assert result is None, result
    else:
        assert result is not None and (result.code, result.position) == (code, position)


def test_every_linter_named_by_the_dictionary_exists() -> None:
    named = {lin for e in ai_table().values() for c in e.components for lin in c.linters}
    assert named <= set(lint.LINTERS)


def test_dictionary_table_is_read_not_typed() -> None:
    table = ai_table()
    assert len(table) > 500  # ranges such as 3100-3105 and 91-99 are expanded
    assert table["01"].fixed_length and not table["01"].fnc1_required
    assert table["10"].fnc1_required and table["10"].max_length == 20
    assert table["8003"].min_length == 14 and table["8003"].max_length == 30
    assert set(dl_primary_keys()) >= {"00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006"}
    assert table["01"].dlpkey == (("22", "10", "21"), ("235",))


@pytest.mark.parametrize(
    ("ai", "value", "code"),
    [
        ("01", "09520123456789", "INCORRECT_CHECK_DIGIT"),
        ("01", "0952012345678", "AI_DATA_TOO_SHORT"),
        ("10", "ABC DEF", "INVALID_CSET82_CHARACTER"),
        ("17", "200230", "ILLEGAL_DAY"),
        ("17", "200200", None),  # day 00 allowed for yymmd0
        ("7006", "200200", "ILLEGAL_DAY"),  # not for yymmdd
        ("422", "999", "NOT_ISO3166"),
        ("8003", "0061414100000", "AI_DATA_TOO_SHORT"),
        ("8003", "10614141000000", "NOT_ZERO"),
        ("8013", "1987654Ad4X4bL5ttr2310c2K", None),
        ("8013", "1987654Ad4X4bL5ttr2310c2X", "INCORRECT_CHECK_PAIR"),
        ("99", "x" * 91, "AI_DATA_TOO_LONG"),
        ("8006", "095201234567880102", None),
        ("8006", "095201234567880302", "PIECE_NUMBER_EXCEEDS_TOTAL"),
        ("8110", "0123456123456111101233210101", None),  # coupon with expiry 2021-01-01
        ("8110", "01234561234561111012335006064500607", "COUPON_EXPIRATION_BEFORE_START"),
        ("8112", "001234561234560123456", None),
        ("8112", "201234561234560123456", "COUPON_INVALID_FORMAT_CODE"),
    ],
)
def test_ai_values(ai: str, value: str, code: str | None) -> None:
    if code is None:
        check_ai_value(ai, value)
    else:
        with pytest.raises(AIValueError) as exc:
            check_ai_value(ai, value)
        assert exc.value.code == code
        assert f"AI ({ai})" in str(exc.value)


def test_pairings() -> None:
    assert check_pairings(["01", "21"]) == []
    assert any("requires" in p for p in check_pairings(["21"]))
    assert any("together" in p for p in check_pairings(["01", "02"]))
    assert check_pairings(["00", "02", "37"]) == []
    assert any("requires" in p for p in check_pairings(["3922"]))
    assert check_pairings(["01", "3103", "3922"]) == []  # 01+31nn
