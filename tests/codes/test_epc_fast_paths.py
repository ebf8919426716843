"""The fast paths of ``canonical_id`` agree with the full EPC URN and Digital Link parsers.

Whenever a fast path answers, the full parsers must give the same canonical identifier (and must not
refuse it); the fast paths must also answer for the common forms, or they would be dead weight.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from zhuisu.codes import epc
from zhuisu.codes.digital_link import parse_digital_link
from zhuisu.codes.errors import IdentifierError
from zhuisu.codes.gs1 import gs1_check_digit

_TOTAL = {"id:sgtin": 13, "class:lgtin": 13, "id:sscc": 17, "id:sgln": 12, "id:pgln": 12}


def _digits(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("0123456789") for _ in range(n))


def _urns(rnd: random.Random, n: int) -> Iterator[str]:
    odd_chars = "0123456789aZ.-_!'()*+,:;=%2F% /#é٣"
    for _ in range(n):
        scheme = rnd.choice([*_TOTAL, *_TOTAL, "id:grai", "id:giai", "idpat:sgtin", "id:sgtinx", "class:x"])
        cp = _digits(rnd, rnd.randint(5, 13))
        total = _TOTAL.get(scheme, 12)
        ref = _digits(rnd, max(0, rnd.choice([total, total, total, rnd.randint(0, 18)]) - len(cp)))
        odd = "".join(rnd.choice(odd_chars) for _ in range(rnd.randint(0, 21)))
        tail = rnd.choice([_digits(rnd, rnd.randint(1, 8)), "0", "00", "L1", "A-b_c.d", "*", "", "x" * 21, odd])
        parts = [cp, ref, tail][: rnd.choice([1, 2, 3, 3, 3])]
        yield f"urn:epc:{scheme}:" + ".".join(parts) + rnd.choice(["", "", "", "\n", ".1"])


def _digital_links(rnd: random.Random, n: int) -> Iterator[str]:
    for _ in range(n):
        ai, length = rnd.choice([("01", 14), ("00", 18), ("414", 13), ("417", 13), ("8003", 14)])
        key = _digits(rnd, rnd.choice([length - 1, length - 1, length - 2]))
        key += str(gs1_check_digit(key)) if rnd.random() < 0.8 else rnd.choice("0123456789")
        host = rnd.choice(
            ["https://id.gs1.org", "http://example.com", "https://a-b.example.org:8443", "https://-x.org"]
        )
        qualifier = rnd.choice(["", "/21/ABC-1", "/10/L.1", "/254/7", "/21/a%20b", "/22/X", "/21/" + "y" * 21])
        yield f"{host}/{ai}/{key}{qualifier}"


def _full(uri: str) -> str | None:
    """The canonical identifier through the full parsers; None when they refuse it."""
    try:
        if uri.startswith("urn:epc:"):
            return epc.parse_epc_uri(uri).canonical() if epc._gs1_epc_kind(uri) else uri
        return parse_digital_link(uri).canonical()
    except IdentifierError:
        return None


def test_fast_paths_agree_with_the_full_parsers() -> None:
    rnd = random.Random(41)
    answered = 0
    for uri in [*_urns(rnd, 30000), *_digital_links(rnd, 10000)]:
        fast = epc._fast(uri)
        if fast is not None:
            assert fast == _full(uri), uri
            answered += 1
    assert answered > 2500


def test_fast_paths_answer_the_common_forms() -> None:
    for uri in (
        "urn:epc:id:sgtin:0614141.107346.2017",
        "urn:epc:class:lgtin:4012345.012345.998877",
        "urn:epc:id:sscc:0614141.1234567890",
        "urn:epc:id:sgln:0614141.00001.0",
        "urn:epc:id:sgln:0614141.00001.17",
        "urn:epc:id:pgln:0614141.00001",
        "urn:epc:id:pgln:061414112345.",
        "https://id.gs1.org/01/10614141073464/21/2017",
    ):
        assert epc._fast(uri) is not None, uri
        assert epc._fast(uri) == _full(uri) == epc.canonical_id(uri), uri


def test_check_digit() -> None:
    rnd = random.Random(43)
    for n in range(1, 40):
        for _ in range(50):
            digits = _digits(rnd, n)
            assert epc._cd(digits) == str(gs1_check_digit(digits)), digits
