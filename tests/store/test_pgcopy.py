"""Rows formatted ahead of time in COPY's text format read back as the values they were made from."""

from __future__ import annotations

import math

import pytest

from zhuisu.store import pgcopy

VALUES: list[tuple[object, ...]] = [
    ("plain", 1.5, True, 42),
    ("back\\slash\ttab\nnewline\rreturn", -0.0, False, -7),
    ("\\N", float("inf"), None, 0),  # the text backslash-N is not NULL
    (None, float("-inf"), True, 2**62),
    ("ünïcödé 追溯 \\t", float("nan"), False, None),
    ("", 1e-300, None, None),
]


def test_a_nul_character_cannot_be_formatted() -> None:
    with pytest.raises(ValueError, match="NUL"):
        pgcopy.row(["a\x00b"])


def test_the_seq_goes_in_front_of_every_keyed_row() -> None:
    data = pgcopy.keyed_rows([("a", 1), ("b\\", None)])
    assert pgcopy.with_seq(data, 12) == b"12\ta\t1\n12\tb\\\\\t\\N\n"
    assert pgcopy.with_seq(b"", 12) == b""


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_postgresql_reads_the_rows_back_unchanged(db_url: str) -> None:
    import psycopg

    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE TEMP TABLE copied (k int, t text, f float8, b boolean, i bigint)")
        with conn.cursor().copy("COPY copied (k, t, f, b, i) FROM STDIN") as copy:
            copy.write(b"".join(pgcopy.with_seq(pgcopy.keyed_rows([row]), k) for k, row in enumerate(VALUES)))
        back = conn.execute("SELECT t, f, b, i FROM copied ORDER BY k").fetchall()
    for got, want in zip(back, VALUES, strict=True):
        assert got[0] == want[0] and got[2:] == want[2:]
        f = want[1]
        assert isinstance(f, float) and (math.isnan(got[1]) if math.isnan(f) else got[1] == f)
        assert math.copysign(1, got[1]) == math.copysign(1, f)  # -0.0 stays negative
