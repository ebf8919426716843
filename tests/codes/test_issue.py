"""Issuing the platform's own codes: formats, check character, unguessable serials, uniqueness in the store."""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from stdnum.iso7064 import mod_37_36

from zhuisu.access.principal import SYSTEM, Principal
from zhuisu.codes.digital_link import parse_digital_link
from zhuisu.codes.epc import canonical_id, to_epc_urn
from zhuisu.codes.gs1 import gs1_check_digit
from zhuisu.codes.issue import (
    ALPHABET,
    IssueError,
    canonical_code,
    check_character,
    draw_random_parts,
    generate_codes,
    guess_probability,
    may_issue,
    parse_platform_code,
)
from zhuisu.codes.parse import parse_code
from zhuisu.store import codes as store
from zhuisu.store.audit import audit_log
from zhuisu.store.db import make_engine

BASE = "https://trace.example.cn"
PARTY = "N3713020000001X"
ISO36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _gtin14(payload13: str) -> str:
    return payload13 + str(gs1_check_digit(payload13))


@dataclass(frozen=True)
class Prod:
    product_id: str
    party_code: str
    gtin: str | None
    name: str


PLAIN = Prod(f"urn:zhuisu:class:{PARTY}.1", PARTY, None, "临沂黑猪肉")
GTIN = _gtin14("0692222200001")
DRUG = Prod(GTIN, PARTY, GTIN, "阿莫西林胶囊")


# --- check character ----------------------------------------------------------------------------------------


@given(st.text(alphabet=ISO36, min_size=1, max_size=60))
def test_check_character_is_iso7064_mod_37_36(body: str) -> None:
    assert check_character(body) == mod_37_36.calc_check_digit(body)


def test_platform_codes_carry_party_kind_random_part_and_a_valid_check() -> None:
    for kind, letter in (("serial", "S"), ("lot", "L")):
        codes = generate_codes(PLAIN, kind, 200, resolver_base=BASE + "/")
        for c in codes:
            short = c.canonical
            assert c.code == f"{BASE}/t/{short}"
            party, rest = short.rsplit("-", 1)
            assert party == PARTY and rest[0] == letter and len(rest) == 14
            assert all(ch in ALPHABET for ch in rest[1:13])
            assert mod_37_36.is_valid(party + rest)
            assert c.human_readable == short
            assert (c.serial if kind == "serial" else c.lot) == rest[1:13]


def test_any_single_substitution_or_adjacent_transposition_is_refused() -> None:
    code = generate_codes(PLAIN, "serial", 1, resolver_base=BASE)[0].canonical
    positions = [i for i, ch in enumerate(code) if ch != "-"]
    for i in positions:
        for ch in ISO36:
            if ch == code[i]:
                continue
            typo = code[:i] + ch + code[i + 1 :]
            parsed = parse_code(typo)
            # A look-alike typed in the random part (I→1, L→1, O→0) may read as the true code: that is the point.
            if parsed.ok:
                assert parsed.canonical == code and ch in "ILO"
            else:
                assert parsed.error, typo
    for a, b in itertools.pairwise(positions):
        if b != a + 1 or code[a] == code[b]:
            continue
        swapped = code[:a] + code[b] + code[a] + code[b + 1 :]
        assert not parse_code(swapped).ok, swapped


def test_platform_codes_parse_as_zhuisu_bare_lowercase_and_as_resolver_url() -> None:
    c = generate_codes(PLAIN, "lot", 1, resolver_base="http://127.0.0.1:8000")[0]
    for text in (c.code, c.canonical, c.canonical.lower(), f" {c.canonical} "):
        parsed = parse_code(text)
        assert parsed.ok and parsed.scheme == "zhuisu", parsed
        assert parsed.canonical == c.canonical
        assert parsed.fields == {"party_code": PARTY, "kind": "lot"}
    wrong = c.canonical[:-1] + ("0" if c.canonical[-1] != "0" else "1")
    bad = parse_code(wrong)
    assert not bad.ok and bad.scheme == "zhuisu" and "check character" in (bad.error or "")
    assert parse_platform_code(c.canonical).random_part == c.lot


# --- GS1 Digital Link codes ----------------------------------------------------------------------------------


def test_gtin_products_get_digital_links_on_the_resolver_with_random_serials() -> None:
    codes = generate_codes(DRUG, "serial", 100, resolver_base=BASE, lot="B2026")
    for c in codes:
        dl = parse_digital_link(c.code)
        assert dl.stem == BASE
        assert dict(dl.path_ais) == {"01": GTIN, "21": c.serial}
        assert c.serial is not None and len(c.serial) == 12
        assert c.canonical == canonical_id(c.code) == f"https://id.gs1.org/01/{GTIN}/21/{c.serial}"
        assert c.lot == "B2026"  # stored beside the code, not in it (an SGTIN is GTIN + serial)
        assert c.human_readable == f"(01){GTIN}(21){c.serial}"
        assert canonical_code(c.human_readable) == c.canonical
        assert canonical_code(to_epc_urn(c.code, gcp_length=7)) == c.canonical


def test_lot_codes_use_ai_10_given_or_drawn() -> None:
    given_lot = generate_codes(DRUG, "lot", 1, resolver_base=BASE, lot="2026/11-A")[0]
    assert dict(parse_digital_link(given_lot.code).path_ais) == {"01": GTIN, "10": "2026/11-A"}
    assert given_lot.code == f"{BASE}/01/{GTIN}/10/2026%2F11-A"
    drawn = generate_codes(DRUG, "lot", 3, resolver_base=BASE)
    assert len({c.lot for c in drawn}) == 3
    for c in drawn:
        assert c.code == f"{BASE}/01/{GTIN}/10/{c.lot}"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "item", "count": 1}, "kind"),
        ({"kind": "serial", "count": 0}, "count"),
        ({"kind": "lot", "count": 2, "lot": "A1"}, "count"),
        ({"kind": "lot", "count": 1, "lot": "中文批号"}, "lot"),
        ({"kind": "lot", "count": 1, "lot": "X" * 21}, "lot"),
    ],
)
def test_bad_requests_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(IssueError) as info:
        generate_codes(DRUG, resolver_base=BASE, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_party_code_that_cannot_prefix_a_code_is_refused() -> None:
    with pytest.raises(IssueError) as info:
        generate_codes(Prod("x", "n-1", None, "x"), "serial", 1, resolver_base=BASE)
    assert info.value.field == "product_id"


# --- unguessable ----------------------------------------------------------------------------------------------


def test_guessing_probability_is_far_below_the_eu_fmd_bound() -> None:
    assert guess_probability(1) == Fraction(1, 2**60)  # 12 characters × 5 bits
    assert guess_probability(10**9) < Fraction(1, 10_000)
    assert len(ALPHABET) == 32 and len(set(ALPHABET)) == 32


def test_random_parts_are_distinct_and_evenly_spread() -> None:
    parts = draw_random_parts(60_000)
    assert len(parts) == 60_000 and len(set(parts)) == 60_000
    counts = dict.fromkeys(ALPHABET, 0)
    for p in parts:
        for ch in p:
            counts[ch] += 1
    expected = 60_000 * 12 / 32
    chi2 = sum((n - expected) ** 2 / expected for n in counts.values())
    assert chi2 < 90  # 31 degrees of freedom: exceeded by chance with probability below 10^-6


def test_only_owner_enterprise_or_admin_may_issue() -> None:
    assert may_issue(SYSTEM, PARTY)
    assert may_issue(Principal(role="enterprise", subject="u1", parties=frozenset({PARTY})), PARTY)
    assert not may_issue(Principal(role="enterprise", subject="u2", parties=frozenset({"N3713020000002X"})), PARTY)
    assert not may_issue(Principal(role="regulator", subject="r", regions=("37",)), PARTY)
    assert not may_issue(Principal(role="public", subject="public"), PARTY)


# --- the store ------------------------------------------------------------------------------------------------


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(store.issued_code)).scalar_one())


def test_issue_stores_batch_codes_and_audit_entry(engine: Engine) -> None:
    batch = store.issue_codes(engine, SYSTEM, DRUG, "serial", 1234, lot="B1", resolver_base=BASE)
    assert batch.count == 1234 and batch.kind == "serial" and batch.product_id == GTIN
    codes = list(store.iter_batch_codes(engine, batch.batch_id))
    assert len(codes) == 1234 and len({c.code for c in codes}) == 1234
    with engine.connect() as conn:
        assert store.get_batch(conn, batch.batch_id) == batch
        assert store.count_batch_codes(conn, batch.batch_id) == 1234
        page = store.list_batch_codes(conn, batch.batch_id, offset=1000, limit=500)
        assert page == codes[1000:]
        assert store.list_product_codes(conn, GTIN, offset=1200, limit=50) == codes[1200:1250]
        assert store.list_product_codes(conn, GTIN, kind="lot") == []
        assert store.list_product_codes(conn, PLAIN.product_id) == []
        sample = codes[17]
        assert sample.batch_id == batch.batch_id and sample.issued_at == batch.issued_at and sample.lot == "B1"
        # Found by the URL, by its element string, by a DL on another domain, by its EPC URN.
        for text in (
            sample.code,
            sample.human_readable,
            sample.code.replace(BASE, "https://id.gs1.org"),
            to_epc_urn(sample.code, gcp_length=7),
        ):
            assert store.lookup_code(conn, text) == sample, text
        assert store.lookup_code(conn, f"{BASE}/01/{GTIN}/21/NEVERISSUED1") is None
        assert store.lookup_code(conn, "garbage") is None
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "codes.issue")).one()
        assert entry.target_id == str(batch.batch_id) and entry.actor == "system"
    assert list(store.iter_batch_codes(engine, batch.batch_id, offset=1230, limit=10)) == codes[1230:]


def test_collisions_with_issued_codes_are_drawn_again_also_after_a_restart(engine: Engine) -> None:
    first = store.issue_codes(engine, SYSTEM, PLAIN, "serial", 3, resolver_base=BASE)
    taken = [c.serial for c in store.iter_batch_codes(engine, first.batch_id)]
    assert all(taken)
    # A new engine (a restarted process) whose random source first repeats the issued parts.
    url = engine.url.render_as_string(hide_password=False)
    engine2 = make_engine(url)
    try:
        calls: list[int] = []

        def draw(n: int) -> list[str]:
            calls.append(n)
            return [str(t) for t in taken] + ["ZZZZZZZZZZZ1"] * (n - 3) if len(calls) == 1 else draw_random_parts(n)

        again = store.issue_codes(engine2, SYSTEM, PLAIN, "serial", 5, resolver_base=BASE, draw=draw)
        fresh = list(store.iter_batch_codes(engine2, again.batch_id))
    finally:
        engine2.dispose()
    assert len(fresh) == 5
    assert not {c.serial for c in fresh} & set(taken)
    assert sum(1 for c in fresh if c.serial == "ZZZZZZZZZZZ1") == 1  # a repeat inside the chunk is redrawn too
    assert calls[0] == 5 and len(calls) >= 2
    assert _count(engine) == 8


def test_a_given_lot_is_issued_once(engine: Engine) -> None:
    store.issue_codes(engine, SYSTEM, DRUG, "lot", 1, lot="L42", resolver_base=BASE)
    with pytest.raises(store.CodeConflict) as info:
        store.issue_codes(engine, SYSTEM, DRUG, "lot", 1, lot="L42", resolver_base="http://other.example")
    assert info.value.field == "lot"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(store.code_batch)).scalar_one() == 1  # nothing written
    assert _count(engine) == 1


def test_bad_request_writes_nothing(engine: Engine) -> None:
    with pytest.raises(IssueError):
        store.issue_codes(engine, SYSTEM, PLAIN, "serial", 0, resolver_base=BASE)
    assert _count(engine) == 0


def test_concurrent_issuers_never_duplicate(engine: Engine) -> None:
    # A deliberately tiny random space (6,000 values for 2,400 codes) makes collisions between concurrent
    # issuers certain; the unique index and the redraw must still give every code once.
    pool = draw_random_parts(6_000)
    errors: list[BaseException] = []
    batches: list[int] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            b = store.issue_codes(
                engine, SYSTEM, PLAIN, "serial", 600, resolver_base=BASE, draw=lambda n: rng.choices(pool, k=n)
            )
            batches.append(b.batch_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(batches) == 4
    with engine.connect() as conn:
        canon = list(conn.execute(select(store.issued_code.c.canonical)).scalars())
        for b in batches:
            assert store.count_batch_codes(conn, b) == 600
    assert len(canon) == 2400 and len(set(canon)) == 2400
