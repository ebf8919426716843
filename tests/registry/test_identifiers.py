from __future__ import annotations

import string

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from zhuisu.registry.identifiers import (
    IdentityProtector,
    make_party_code,
    mask_identity,
    party_code_problem,
    party_letter,
)


def mod37_36_check(body: str) -> str:
    """ISO 7064 hybrid MOD 37,36, written out from the standard's recurrence (independent of stdnum)."""
    alphabet = string.digits + string.ascii_uppercase
    p = 36
    for ch in body:
        s = (p + alphabet.index(ch)) % 36 or 36
        p = (2 * s) % 37
    return alphabet[(1 - p) % 36]  # the character that brings (p + check) mod 36 to 1


@given(
    letter=st.sampled_from("NOP"), region=st.from_regex(r"[1-6][0-9]{5}", fullmatch=True), seq=st.integers(1, 10**7 - 1)
)
def test_party_code_layout_and_check_character(letter: str, region: str, seq: int) -> None:
    code = make_party_code(letter, region, seq)
    assert len(code) == 15
    assert code[0] == letter and code[1:7] == region and int(code[7:14]) == seq
    assert code[-1] == mod37_36_check(code[:-1])
    assert party_code_problem(code) is None


def test_a_mistyped_party_code_is_caught() -> None:
    code = make_party_code("N", "371302", 42)
    for i in range(1, 14):
        for ch in "0123456789":
            if ch != code[i]:
                typo = code[:i] + ch + code[i + 1 :]
                assert party_code_problem(typo) is not None, typo
    swapped = code[:8] + code[9] + code[8] + code[10:]
    if swapped != code:
        assert party_code_problem(swapped) is not None


def test_party_code_rejects_bad_parts() -> None:
    with pytest.raises(ValueError):
        make_party_code("X", "371302", 1)
    with pytest.raises(ValueError):
        make_party_code("N", "37130", 1)
    with pytest.raises(ValueError):
        make_party_code("N", "371302", 0)
    assert party_code_problem("N371302") is not None


def test_party_letter_follows_the_three_kinds() -> None:
    assert party_letter("enterprise", ("farm",)) == "N"
    assert party_letter("enterprise", ("market",)) == "N"
    assert party_letter("person", ("farmer",)) == "P"
    assert party_letter("person", ("stall_holder",)) == "O"
    assert party_letter("enterprise", ("stall_holder", "retailer")) == "O"


def test_mask_keeps_four_at_each_end() -> None:
    number = "11010519491231002X"
    masked = mask_identity(number)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert set(masked[4:-4]) == {"*"} and len(masked) == len(number)


def test_identity_protection_round_trip_and_keyed_hash() -> None:
    a = IdentityProtector(b"secret one")
    b = IdentityProtector(b"secret two")
    number = "11010519491231002x"
    c1, h1, m1 = a.protect(number)
    c2, h2, _ = a.protect(number)
    assert c1 != c2  # a fresh nonce each time: equal numbers do not look equal in the table
    assert h1 == h2 == a.digest(number.upper())
    assert a.reveal(c1) == number.upper()
    assert number.upper() not in c1 and "1949" not in c1
    assert b.digest(number) != h1  # the hash depends on the secret
    with pytest.raises(InvalidTag):  # another key cannot decrypt (AES-GCM authentication fails)
        b.reveal(c1)
    assert m1 == mask_identity(number.upper())
