"""The resolver's rules without a database: Digital Link paths, linksets, scan rules, page words."""

from __future__ import annotations

import math

import pytest
from stdnum import ean

from zhuisu.codes.digital_link import parse_digital_link
from zhuisu.codes.issue import platform_code
from zhuisu.epcis import cbv
from zhuisu.resolver.dl import MalformedCode, check_platform_code_shape, digital_link_ref, parse_dl_request
from zhuisu.resolver.linkset import GS1_VOC, LINKSET_TYPE, Link, LinkSet, normalize_link_type
from zhuisu.resolver.page import format_time, region_label
from zhuisu.resolver.scans import (
    HOUR_US,
    PROVINCE_CAPITALS,
    ScanRules,
    ScanState,
    assess,
    distance_km,
    normalize_region,
)
from zhuisu.resolver.service import Lookup, build_linkset, check_platform_code
from zhuisu.resolver.vocab import BIZ_STEP_WORDS, DISPOSITION_WORDS, biz_step_label, disposition_label

GTIN = "0950600013435" + ean.calc_check_digit("0950600013435")
BASE = "https://trace.example.cn"


# -- Digital Link paths ----------------------------------------------------------------------------------------


def test_a_dl_path_parses_to_the_same_identifiers_as_the_uri() -> None:
    link = parse_dl_request(BASE, f"/01/{GTIN}/10/ABC%2F1/21/X9", "lang=en&region=110106")
    assert link.key == ("01", GTIN)
    assert link.qualifiers == (("10", "ABC/1"), ("21", "X9"))
    assert dict(link.other_params) == {"lang": "en", "region": "110106"}
    assert link.canonical() == parse_digital_link(f"{BASE}/01/{GTIN}/10/ABC%2F1/21/X9").canonical()


@pytest.mark.parametrize(
    ("path", "why"),
    [
        (f"/01/{GTIN[:-1]}0" if GTIN[-1] != "0" else f"/01/{GTIN[:-1]}1", "check digit"),
        (f"/01/{GTIN}/21/X/10/L", "not valid key qualifiers"),
        ("/01/9506000134352", "14 digits"),
        (f"/01/{GTIN}/10/L/23/X", "unknown AI"),
        ("/01/", "must not end with"),
    ],
)
def test_malformed_paths_say_what_is_wrong(path: str, why: str) -> None:
    with pytest.raises(MalformedCode) as info:
        parse_dl_request(BASE, path)
    assert why in info.value.reason
    assert not info.value.reason.startswith("GS1 Digital Link")  # the parser's prefix is stripped


def test_serial_and_sscc_codes_are_items_lots_and_products_are_not() -> None:
    serial = digital_link_ref(parse_dl_request(BASE, f"/01/{GTIN}/21/X9"))
    lot = digital_link_ref(parse_dl_request(BASE, f"/01/{GTIN}/10/L1"))
    product = digital_link_ref(parse_dl_request(BASE, f"/01/{GTIN}"))
    sscc = digital_link_ref(parse_dl_request(BASE, "/00/106141412345678908"))
    assert (serial.serialized, lot.serialized, product.serialized, sscc.serialized) == (True, False, False, True)
    assert serial.key == f"https://id.gs1.org/01/{GTIN}/21/X9"
    assert (lot.lot, serial.serial, product.gtin) == ("L1", "X9", GTIN)


def test_platform_codes_are_checked_by_their_check_character() -> None:
    good = platform_code("N37130200000011", "serial", "7K9F2M4X8A1Z")
    ref = check_platform_code(good)
    assert ref.kind == "platform" and ref.key == good and ref.serialized
    lot = platform_code("N37130200000011", "lot", "7K9F2M4X8A1Z")
    assert not check_platform_code(lot).serialized
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(MalformedCode):
        check_platform_code(wrong)
    with pytest.raises(MalformedCode, match="character"):
        check_platform_code_shape("ABC<script>")


# -- linksets --------------------------------------------------------------------------------------------------


def _linkset() -> LinkSet:
    ref = digital_link_ref(parse_dl_request(BASE, f"/01/{GTIN}/21/X9"))
    return build_linkset(BASE, ref, Lookup(identifier=ref.key, status="valid", product=None), "zh")


def test_linkset_names_trace_page_product_and_epcis_query() -> None:
    body = _linkset().as_json()
    (entry,) = body["linkset"]
    page = f"{BASE}/01/{GTIN}/21/X9"
    assert entry["anchor"] == page
    assert entry[GS1_VOC + "defaultLink"][0]["href"] == page
    assert entry[GS1_VOC + "traceability"][0]["href"] == page
    assert entry[GS1_VOC + "pip"][0]["href"].startswith(page)
    epcis = entry[GS1_VOC + "epcis"][0]["href"]
    assert epcis.startswith(f"{BASE}/epcis/events?MATCH_anyEPC=") and GTIN in epcis
    for rel, links in entry.items():
        if rel.startswith(GS1_VOC):
            assert all({"href", "title", "type"} <= set(link) for link in links)


def test_link_type_redirect_target_falls_back_to_the_default_link() -> None:
    ls = _linkset()
    assert ls.target("gs1:epcis").href == ls.links[GS1_VOC + "epcis"][0].href
    assert ls.target("https://gs1.org/voc/pip").href.endswith("#product")
    assert ls.target("gs1:recipeInfo") == ls.default
    assert normalize_link_type("http://gs1.org/voc/pip") == GS1_VOC + "pip"


def test_link_header_is_latin1_and_names_the_linkset() -> None:
    header = _linkset().link_header(f"{BASE}/x?linkType=linkset")
    header.encode("latin-1")  # Chinese titles go as RFC 8187 ext-values
    assert f'rel="linkset"; type="{LINKSET_TYPE}"' in header
    assert 'rel="https://gs1.org/voc/epcis"' in header


def test_a_linkset_without_default_link_is_refused() -> None:
    with pytest.raises(ValueError, match="defaultLink"):
        LinkSet("https://x/01/1", {GS1_VOC + "pip": [Link("https://x", "p")]})


# -- scan rules ------------------------------------------------------------------------------------------------


def test_distance_between_beijing_and_shanghai_matches_the_published_figure() -> None:
    # Great-circle distance Beijing–Shanghai is about 1,068 km (city centres); capitals to two decimals.
    assert distance_km("11", "31") == pytest.approx(1068, rel=0.02)
    assert distance_km("11", "11") == 0
    # symmetric, and the triangle inequality holds across the table
    assert distance_km("44", "65") == pytest.approx(distance_km("65", "44"))
    assert distance_km("44", "65") <= distance_km("44", "11") + distance_km("11", "65")


def test_every_province_code_is_a_gb_t_2260_province() -> None:
    from zhuisu.codes.cn import region_name

    for prefix, (capital, lat, lon) in PROVINCE_CAPITALS.items():
        assert region_name(prefix + "0000"), prefix
        assert 18 <= lat <= 54 and 73 <= lon <= 135, capital


def test_regions_are_normalised_or_dropped() -> None:
    assert normalize_region("110106") == "110106"
    assert normalize_region(" 37 ") == "37"
    assert normalize_region("99") is None  # no such province
    assert normalize_region("11a") is None
    assert normalize_region(None) is None


def test_an_item_code_is_flagged_after_too_many_scans_and_a_lot_code_never() -> None:
    rules = ScanRules(max_item_scans=3)
    state = ScanState(count=3, first_at=0, last_at=0)
    flag = assess(state, 10, None, serialized=True, rules=rules)
    assert flag is not None and flag.reason == "too_many_scans" and (flag.count, flag.limit) == (4, 3)
    assert assess(ScanState(count=2), 10, None, serialized=True, rules=rules) is None
    assert assess(ScanState(count=10_000), 10, None, serialized=False, rules=rules) is None
    assert assess(ScanState(count=3, flag=flag), 20, None, serialized=True, rules=rules) is None  # raised once


def test_far_apart_scans_are_flagged_when_the_trip_is_impossible() -> None:
    rules = ScanRules()
    t0 = 1_000 * HOUR_US
    state = ScanState(count=1, first_at=t0, last_at=t0, last_region="110106", last_region_at=t0)
    km = distance_km("11", "65")  # Beijing → Urumqi
    hours_needed = (km - rules.province_slack_km) / rules.max_speed_kmh
    soon = t0 + int(hours_needed * 0.9 * HOUR_US)
    later = t0 + int(hours_needed * 1.1 * HOUR_US)
    flag = assess(state, soon, "650102", serialized=True, rules=rules)
    assert flag is not None and flag.reason == "far_apart"
    assert (flag.region_a, flag.region_b, flag.km) == ("110106", "650102", round(km))
    assert assess(state, later, "650102", serialized=True, rules=rules) is None
    # neighbours (Beijing → Tianjin) within a minute: closer than the slack, never flagged
    assert assess(state, t0 + 60_000_000, "120101", serialized=True, rules=rules) is None
    # a scan without a region takes no part in the rule
    assert assess(state, soon, None, serialized=True, rules=rules) is None
    assert math.isfinite(hours_needed) and hours_needed > 0


# -- words and times -------------------------------------------------------------------------------------------


def test_every_cbv_business_step_and_disposition_has_chinese_and_english_words() -> None:
    assert set(BIZ_STEP_WORDS) == set(cbv.BIZ_STEP.words)
    assert set(DISPOSITION_WORDS) == set(cbv.DISPOSITION.words)
    assert biz_step_label("urn:epcglobal:cbv:bizstep:shipping", "zh") == "发货"
    assert biz_step_label("https://ref.gs1.org/cbv/BizStep-inspecting", "en") == "Inspecting"
    assert disposition_label("recalled", "zh") == "已召回"
    assert biz_step_label("https://example.com/steps/smoking", "zh") == "smoking"


def test_times_are_shown_in_the_events_own_offset() -> None:
    us = 1_700_000_000 * 1_000_000  # 2023-11-14T22:13:20Z
    assert format_time(us, "+08:00", "zh") == "2023-11-15 06:13 (UTC+08:00)"
    assert format_time(us, "-05:00", "en") == "2023-11-14 17:13 (UTC-05:00)"
    assert format_time(us, None, "zh") == "2023-11-14 22:13 (UTC)"


def test_region_names_come_from_gb_t_2260() -> None:
    assert region_label("371302", "zh") == "山东省临沂市兰山区"
    assert region_label("110106", "zh") == "北京市丰台区"  # no "市辖区" placeholder


def test_a_recalled_step_makes_the_page_alarming() -> None:
    from zhuisu.resolver.page import StepView, TracePage

    ref = digital_link_ref(parse_dl_request(BASE, f"/01/{GTIN}/10/L1"))
    ok = StepView(when_us=0, offset="+08:00", biz_step="shipping", disposition="in_transit")
    recalled = StepView(when_us=1, offset="+08:00", biz_step="holding", disposition="recalled")
    page = TracePage(code=ref, display_code="x", status="valid", product=None, lot="L1", serial=None, steps=(ok,))
    assert not page.alarming
    assert TracePage(ref, "x", "valid", None, "L1", None, steps=(ok, recalled)).alarming
    assert TracePage(ref, "x", "unrecorded", None, "L1", None).alarming
