from __future__ import annotations

from typing import Any

import pytest

from registry.helpers import enterprise, make_gln, make_gtin13, make_ric, make_uscc, person
from zhuisu.registry.errors import RegistryError
from zhuisu.registry.validate import (
    current_region_name,
    validate_catalog_version,
    validate_location,
    validate_party,
    validate_product,
)


def problems(fn: Any, data: Any, **kw: Any) -> dict[str, str]:
    with pytest.raises(RegistryError) as info:
        fn(data, **kw)
    return {p.path: p.message for p in info.value.problems}


def test_a_good_enterprise_is_cleaned() -> None:
    data = enterprise(uscc=make_uscc().lower(), gln=make_gln(1))
    out = validate_party(data)
    assert out["uscc"] == make_uscc()
    assert out["types"] == ("farm",) and out["kind"] == "enterprise"


def test_uscc_with_a_wrong_check_character_is_refused_with_the_reason() -> None:
    good = make_uscc()
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    found = problems(validate_party, enterprise(uscc=wrong))
    assert set(found) == {"/uscc"}
    assert "check" in found["/uscc"].lower()


def test_uscc_with_a_wrong_organisation_code_check_is_refused() -> None:
    from stdnum.cn import uscc

    good = make_uscc()
    org_check = good[16]
    other = "0" if org_check != "0" else "1"
    body = good[:16] + other
    bad = body + uscc.calc_check_digit(body)  # GB 32100 check right, GB 11714 check wrong
    found = problems(validate_party, enterprise(uscc=bad))
    assert "organisation code" in found["/uscc"]


def test_unknown_and_withdrawn_regions_are_refused() -> None:
    assert "not in the GB/T 2260 list" in problems(validate_party, enterprise(region="379999"))["/region"]
    # 110103 崇文区 was merged into 东城区 in 2010: python-stdnum's table marks it [-2010].
    assert "withdrawn" in problems(validate_party, enterprise(region="110103"))["/region"]
    assert "6 digits" in problems(validate_party, enterprise(region="37"))["/region"]
    assert current_region_name("110101") == "东城区"


def test_every_missing_required_field_is_named_at_once() -> None:
    found = problems(validate_party, {"kind": "enterprise"})
    assert {"/uscc", "/name", "/types", "/region", "/address"} <= set(found)
    assert all("required" in m for m in found.values())


def test_not_an_object() -> None:
    assert "" in problems(validate_party, ["x"])


def test_unknown_types_and_sectors_are_named() -> None:
    found = problems(validate_party, enterprise(types=["farm", "spaceport"], sectors=["meat", "gold"]))
    assert "'spaceport'" in found["/types"] and "'gold'" in found["/sectors"]


def test_licences_dates_are_checked() -> None:
    data = enterprise(
        licences=[
            {
                "kind": "food_business",
                "number": "JY13713020000001",
                "valid_from": "2024-01-01",
                "valid_to": "2029-01-01",
            },
            {"kind": "nope", "number": "", "valid_from": "2024-13-01", "valid_to": None},
            {"kind": "slaughter", "number": "A1", "valid_from": "2025-01-01", "valid_to": "2024-01-01"},
        ]
    )
    found = problems(validate_party, data)
    assert set(found) == {"/licences/1/kind", "/licences/1/number", "/licences/1/valid_from", "/licences/2/valid_to"}


def test_person_needs_a_valid_identity_number() -> None:
    assert validate_party(person())["id_number"] == make_ric("371302", seq=101)
    assert "required" in problems(validate_party, person(id_number=None))["/id_number"]
    bad = make_ric()[:-1] + ("0" if make_ric()[-1] != "0" else "1")
    assert "/id_number" in problems(validate_party, person(id_number=bad))
    # An enterprise does not register an identity number.
    assert "/id_number" in problems(validate_party, enterprise(id_number=make_ric()))


def test_person_needs_no_address_or_uscc() -> None:
    out = validate_party(person())
    assert "uscc" not in out and "address" not in out


def test_partial_update_refuses_identifier_changes() -> None:
    found = problems(validate_party, {"uscc": make_uscc(), "region": "370102", "kind": "person"}, partial=True)
    assert set(found) == {"/uscc", "/region", "/kind"}
    assert validate_party({"name": "新名字"}, partial=True) == {"name": "新名字"}


def test_gln_check_digit() -> None:
    gln = make_gln(7)
    assert validate_location({"party_code": "x", "name": "a", "region": "371302", "gln": gln})["gln"] == gln
    bad = gln[:-1] + str((int(gln[-1]) + 1) % 10)
    found = problems(validate_location, {"party_code": "x", "name": "a", "region": "371302", "gln": bad})
    assert "check digit" in found["/gln"]


def test_location_extension_and_coordinates() -> None:
    base = {"party_code": "x", "name": "a", "region": "371302"}
    assert "needs a gln" in problems(validate_location, dict(base, gln_extension="A1"))["/gln_extension"]
    assert "/gln_extension" in problems(validate_location, dict(base, gln=make_gln(1), gln_extension="a b"))
    assert "/lat" in problems(validate_location, dict(base, lat=91, lon=10))
    assert "both" in problems(validate_location, dict(base, lat=35.0))["/lon"]


def test_product_gtin_is_stored_as_gtin14() -> None:
    gtin = make_gtin13(5)
    out = validate_product({"party_code": "x", "name": "猪肉", "sector": "meat", "gtin": gtin})
    assert out["gtin"] == "0" + gtin
    bad = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    assert (
        "check digit"
        in problems(validate_product, {"party_code": "x", "name": "a", "sector": "meat", "gtin": bad})["/gtin"]
    )


@pytest.mark.parametrize(
    ("sector", "good", "bad"),
    [
        ("drug", "国药准字H20003263", "国药准字X2000326"),
        ("pesticide", "PD20080001", "PD2008"),
        ("veterinary_drug", "兽药字(2018)150012345", "兽药150012345"),
    ],
)
def test_approval_numbers_where_the_sector_has_them(sector: str, good: str, bad: str) -> None:
    base = {"party_code": "x", "name": "a", "sector": sector}
    assert validate_product(dict(base, approval_no=good))["approval_no"] == good
    assert "is not" in problems(validate_product, dict(base, approval_no=bad))["/approval_no"]
    assert "required" in problems(validate_product, base)["/approval_no"]


def test_catalog_version_input() -> None:
    entry = {"category": "x", "name_zh": "某", "name_en": "x", "sector": "meat", "granularity": "lot"}
    out = validate_catalog_version(
        {"catalog": "key", "version": "1", "effective_from": "2020-01-01", "entries": [entry]}
    )
    assert out["scope"] == "" and out["entries"][0]["profile"] == "meat"
    found = problems(
        validate_catalog_version,
        {
            "catalog": "must",
            "scope": "999999",
            "version": "1",
            "effective_from": "2020-01-01",
            "effective_to": "2019-01-01",
            "entries": [entry, dict(entry, granularity="box")],
        },
    )
    assert set(found) == {"/catalog", "/scope", "/effective_to", "/entries/1/granularity", "/entries/1/category"}
