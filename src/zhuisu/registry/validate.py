"""Validation of registry input: pure functions that return the cleaned record and every problem found,
each naming its field (``/uscc``, ``/licences/0/valid_to`` …) and the reason.

Checks that need the database (duplicates, unknown parties or catalog categories) are made by
``zhuisu.store.registry`` in the writing transaction and reported the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from zhuisu.codes.cn import _regions, parse_uscc
from zhuisu.codes.errors import IdentifierError
from zhuisu.codes.gs1 import GS1KeyError, gtin_info, validate_key
from zhuisu.epcis.problems import Problem
from zhuisu.registry.errors import RegistryError
from zhuisu.registry.model import GRANULARITIES, LICENCE_KINDS, PARTY_KINDS, PARTY_TYPES, SECTORS

__all__ = [
    "RegistryError",
    "current_region_name",
    "validate_location",
    "validate_party",
    "validate_product",
]

# GS1 AI 254 (GLN extension component): up to 20 characters of GS1 AI encodable character set 82.
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
# Approval / registration numbers by sector (formats as printed on labels and in the regulators' databases):
# 国药准字H20003263 (H chemical, Z Chinese medicine, S biological, J imported-packed, B supplementary, F excipient);
# 农药登记证号 PD20080001 / WP… (public health) / LS… (temporary); 兽药字(2018)150012345 or 兽药生字… ,
# imported (2019)外兽药证字12号.
_APPROVAL = {
    "drug": (re.compile(r"^国药准字[HZSJBF]\d{8}$"), "a drug approval number such as 国药准字H20003263"),
    "pesticide": (re.compile(r"^(PD|WP|LS)\d{8}$"), "a pesticide registration number such as PD20080001"),
    "veterinary_drug": (
        re.compile(r"^(兽药[生添]?字[（(]\d{4}[)）]\d{5,12}|[（(]\d{4}[)）]外兽药证字\d{1,4}号)$"),
        "a veterinary drug approval number such as 兽药字(2018)150012345",
    ),
}
_WITHDRAWN = re.compile(r"^\[\d*-\d{4}\]")

Data = dict[str, Any]


def current_region_name(code: str) -> str | None:
    """Name of a GB/T 2260 code still in use (withdrawn codes such as 110103 崇文区 [-2010] give None)."""
    if len(code) != 6 or not code.isdigit():
        return None
    name = _regions().get(code)
    if name is None:
        return None
    last = name.split(",")[-1]
    if _WITHDRAWN.match(last):
        return None
    return re.sub(r"^\[[^\]]*\]", "", last)


class _Checker:
    def __init__(self, data: Any, partial: bool) -> None:
        self.problems: list[Problem] = []
        self.partial = partial
        self.data: Data = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            self.fail("", "expected a JSON object")
        self.out: Data = {}
        self.read: set[str] = set()  # the fields the checks looked at: any other one is unknown
        self._refuse_nul(self.data, "")

    def _refuse_nul(self, value: Any, path: str) -> None:
        # No registry text holds a NUL character (and PostgreSQL text cannot store one), wherever it is nested.
        if isinstance(value, str):
            if "\x00" in value:
                self.fail(path.lstrip("/"), "must not contain a NUL character")
        elif isinstance(value, dict):
            for key, item in value.items():
                self._refuse_nul(item, f"{path}/{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._refuse_nul(item, f"{path}/{i}")

    def fail(self, field: str, message: str) -> None:
        self.problems.append(Problem(None, "/" + field if field else "", message))

    def present(self, field: str) -> bool:
        self.read.add(field)
        return field in self.data and self.data[field] is not None

    def get(self, field: str) -> Any:
        self.read.add(field)
        return self.data.get(field)

    def text(self, field: str, *, required: bool, max_len: int = 200) -> str | None:
        if not self.present(field):
            if required and not self.partial:
                self.fail(field, "is required")
            return None
        value = self.data[field]
        if not isinstance(value, str):
            self.fail(field, "must be a string")
            return None
        value = value.strip()
        if not value:
            if required:
                self.fail(field, "must not be empty")
            return None
        if len(value) > max_len:
            self.fail(field, f"is longer than {max_len} characters")
            return None
        if "\x00" in value:  # reported by _refuse_nul
            return None
        self.out[field] = value
        return value

    def words(self, field: str, vocabulary: dict[str, tuple[str, str]], *, required: bool) -> tuple[str, ...] | None:
        if not self.present(field):
            if required and not self.partial:
                self.fail(field, "is required (a list of: " + ", ".join(vocabulary) + ")")
            return None
        value = self.data[field]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(field, "must be a list of strings")
            return None
        unknown = [v for v in value if v not in vocabulary]
        if unknown:
            self.fail(field, f"unknown value(s) {', '.join(map(repr, unknown))}; known: " + ", ".join(vocabulary))
            return None
        if required and not value:
            self.fail(field, "must name at least one value")
            return None
        words = tuple(dict.fromkeys(value))
        self.out[field] = words
        return words

    def choice(self, field: str, choices: tuple[str, ...] | dict[str, Any], *, required: bool) -> str | None:
        value = self.text(field, required=required, max_len=64)
        if value is not None and value not in choices:
            self.fail(field, f"{value!r} is not one of: " + ", ".join(choices))
            self.out.pop(field, None)
            return None
        return value

    def region(self, field: str = "region", *, required: bool = True) -> str | None:
        value = self.text(field, required=required, max_len=6)
        if value is None:
            return None
        if len(value) != 6 or not value.isdigit():
            self.fail(field, f"{value!r} is not a GB/T 2260 region code (6 digits)")
        elif current_region_name(value) is None:
            known = _regions().get(value)
            why = f"was withdrawn ({known})" if known else "is not in the GB/T 2260 list"
            self.fail(field, f"region {value} {why}")
        else:
            return value
        self.out.pop(field, None)
        return None

    def gln(self, field: str) -> str | None:
        value = self.text(field, required=False, max_len=13)
        if value is None:
            return None
        try:
            validate_key("GLN", value)
        except GS1KeyError as exc:
            self.fail(field, str(exc))
            self.out.pop(field, None)
            return None
        return value

    def number(self, field: str, *, lo: float, hi: float, integer: bool = False) -> float | None:
        if not self.present(field):
            return None
        value = self.data[field]
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            self.fail(field, "must be an integer" if integer else "must be a number")
            return None
        if not lo <= value <= hi:
            self.fail(field, f"must be between {lo:g} and {hi:g}")
            return None
        self.out[field] = value
        return value

    def date(self, field: str, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(field, "must be an ISO date (YYYY-MM-DD)")
            return None
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            self.fail(field, f"{value!r} is not an ISO date (YYYY-MM-DD)")
            return None

    def result(self) -> Data:
        for field in self.data:
            if field not in self.read:  # a misspelt field would otherwise be dropped without a word
                known = ", ".join(sorted(self.read))
                self.fail(field, f"is not a field of this record (known fields: {known})")
        if self.problems:
            raise RegistryError(self.problems)
        return self.out


def validate_party(data: Any, *, partial: bool = False) -> Data:
    """Check a party record (create, or with ``partial`` an update of the given fields); returns the
    cleaned fields or raises ``RegistryError`` with every problem.

    Enterprises need ``uscc``, ``name``, ``types``, ``region`` and ``address``; natural persons ``name``,
    ``types``, ``region`` and ``id_number`` (a resident identity card number, GB 11643 check digit).
    """
    c = _Checker(data, partial)
    kind = "enterprise"
    if not partial:
        kind = c.choice("kind", PARTY_KINDS, required=False) or "enterprise"
        c.out["kind"] = kind
    elif c.present("kind"):
        c.fail("kind", "cannot be changed")
    c.text("name", required=True)
    if c.present("uscc") and partial:
        c.fail("uscc", "cannot be changed (register the new entity)")
    elif not partial:
        uscc = c.text("uscc", required=kind == "enterprise", max_len=18)
        if uscc is not None:
            try:
                c.out["uscc"] = parse_uscc(uscc).value
            except IdentifierError as exc:
                c.fail("uscc", str(exc))
    c.words("types", PARTY_TYPES, required=True)
    c.words("sectors", SECTORS, required=False)
    if partial and c.present("region"):
        c.fail("region", "cannot be changed (it is part of the party code); update the address")
    elif not partial:
        c.region()
    c.text("address", required=kind == "enterprise", max_len=500)
    c.gln("gln")
    c.text("contact_name", required=False, max_len=100)
    phone = c.text("contact_phone", required=False, max_len=20)
    if phone is not None and not _PHONE.match(phone):
        c.fail("contact_phone", f"{phone!r} is not a telephone number")
    if c.present("id_number") and partial:
        c.fail("id_number", "cannot be changed")
    elif not partial:
        number = c.text("id_number", required=kind == "person", max_len=18)
        if number is not None:
            if kind != "person":
                c.fail("id_number", "only natural persons register an identity number")
            else:
                try:
                    c.out["id_number"] = ric.validate(number.upper())
                except ValidationError as exc:
                    c.fail("id_number", f"not a valid resident identity number: {exc}")
                    c.out.pop("id_number", None)
    if c.present("licences"):
        licences = c.data["licences"]
        if not isinstance(licences, list):
            c.fail("licences", "must be a list")
        else:
            cleaned = []
            for i, lic in enumerate(licences):
                base = f"licences/{i}"
                if not isinstance(lic, dict):
                    c.fail(base, "must be an object with kind, number, issuer, valid_from, valid_to")
                    continue
                lkind, number = lic.get("kind"), lic.get("number")
                if lkind not in LICENCE_KINDS:
                    c.fail(f"{base}/kind", f"{lkind!r} is not one of: " + ", ".join(LICENCE_KINDS))
                if not isinstance(number, str) or not number.strip() or len(number) > 100:
                    c.fail(f"{base}/number", "is required (the licence or approval number, at most 100 characters)")
                issuer = lic.get("issuer")
                if issuer is not None and not isinstance(issuer, str):
                    c.fail(f"{base}/issuer", "must be a string")
                start = c.date(f"{base}/valid_from", lic.get("valid_from"))
                end = c.date(f"{base}/valid_to", lic.get("valid_to"))
                if start and end and end < start:
                    c.fail(f"{base}/valid_to", f"{end} is before valid_from {start}")
                cleaned.append(
                    {
                        "kind": lkind,
                        "number": number.strip() if isinstance(number, str) else number,
                        "issuer": issuer,
                        "valid_from": start,
                        "valid_to": end,
                    }
                )
            c.out["licences"] = cleaned
    if c.present("status"):
        c.choice("status", ("pending", "approved"), required=False)
    return c.result()


def validate_location(data: Any, *, partial: bool = False) -> Data:
    """Check a location: ``party_code``, ``name``, ``region`` required; ``gln`` (+ ``gln_extension``, AI 254),
    ``address``, ``lat``, ``lon`` optional."""
    c = _Checker(data, partial)
    if not partial:
        c.text("party_code", required=True, max_len=40)
    c.text("name", required=True)
    if partial and (c.present("gln") or c.present("gln_extension")):
        c.fail("gln" if c.present("gln") else "gln_extension", "cannot be changed (it is the location's identifier)")
    elif not partial:
        gln = c.gln("gln")
        ext = c.text("gln_extension", required=False, max_len=20)
        if ext is not None:
            if not c.present("gln"):
                c.fail("gln_extension", "needs a gln")
            elif not _CSET82.match(ext):
                c.fail("gln_extension", f"{ext!r} is not 1-20 characters of the GS1 character set 82")
        del gln
    c.region(required=not partial)
    c.text("address", required=False, max_len=500)
    c.number("lat", lo=-90, hi=90)
    c.number("lon", lo=-180, hi=180)
    if c.present("lat") != c.present("lon"):
        c.fail("lon" if c.present("lat") else "lat", "coordinates need both lat and lon")
    return c.result()


def validate_product(data: Any, *, partial: bool = False) -> Data:
    """Check a product: ``party_code``, ``name``, ``sector`` required; ``gtin`` (8/12/13/14 digits, stored as
    GTIN-14), ``spec``, ``category`` (a catalog category, checked by the store), ``shelf_life_days``,
    ``approval_no`` (required, in its format, for drugs, pesticides and veterinary drugs) and
    ``granularity`` (lot or serial) optional."""
    c = _Checker(data, partial)
    if not partial:
        c.text("party_code", required=True, max_len=40)
    c.text("name", required=True)
    if partial and c.present("gtin"):
        c.fail("gtin", "cannot be changed (it is the product's identifier)")
    elif not partial:
        gtin = c.text("gtin", required=False, max_len=14)
        if gtin is not None:
            try:
                c.out["gtin"] = gtin_info(gtin).gtin14
            except GS1KeyError as exc:
                c.fail("gtin", str(exc))
    c.text("spec", required=False, max_len=200)
    sector = c.choice("sector", SECTORS, required=True)
    c.text("category", required=False, max_len=64)
    c.number("shelf_life_days", lo=0, hi=36500, integer=True)
    approval = c.text("approval_no", required=False, max_len=100)
    if sector in _APPROVAL:
        pattern, example = _APPROVAL[sector]
        if approval is None and not partial:
            c.fail("approval_no", f"is required for sector {sector} ({example})")
        elif approval is not None and not pattern.match(approval):
            c.fail("approval_no", f"{approval!r} is not {example}")
    c.choice("granularity", GRANULARITIES, required=False)
    return c.result()


def validate_catalog_version(data: Any) -> Data:
    """Check a catalog version to publish: ``catalog`` (key|encouraged), ``scope`` ('' national or a region
    code), ``version``, ``effective_from`` (ISO date), optional ``effective_to``, ``title``, ``source`` and
    ``entries`` (each ``category``, ``name_zh``, ``name_en``, ``sector``, ``granularity``, ``profile``)."""
    from zhuisu.registry.catalog import CATALOGS

    c = _Checker(data, False)
    c.choice("catalog", tuple(CATALOGS), required=True)
    scope = c.get("scope") or ""
    if scope:
        c.region("scope")
    c.out.setdefault("scope", "")
    c.text("version", required=True, max_len=64)
    start = c.date("effective_from", c.get("effective_from")) if c.present("effective_from") else None
    if start is None and not c.present("effective_from"):
        c.fail("effective_from", "is required (ISO date)")
    end = c.date("effective_to", c.get("effective_to"))
    if start and end and end <= start:
        c.fail("effective_to", f"{end} is not after effective_from {start}")
    c.out["effective_from"], c.out["effective_to"] = start, end
    c.text("title", required=False, max_len=500)
    c.text("source", required=False, max_len=1000)
    entries = c.get("entries")
    if not isinstance(entries, list) or not entries:
        c.fail("entries", "is required (a non-empty list of categories)")
        entries = []
    seen: set[str] = set()
    cleaned = []
    for i, e in enumerate(entries):
        base = f"entries/{i}"
        if not isinstance(e, dict):
            c.fail(base, "must be an object")
            continue
        for key in ("category", "name_zh", "name_en"):
            if not isinstance(e.get(key), str) or not e[key].strip() or len(e[key]) > 200:
                c.fail(f"{base}/{key}", "is required (a string of at most 200 characters)")
        if e.get("sector") not in SECTORS:
            c.fail(f"{base}/sector", f"{e.get('sector')!r} is not one of: " + ", ".join(SECTORS))
        if e.get("granularity") not in GRANULARITIES:
            c.fail(f"{base}/granularity", "must be lot or serial")
        if isinstance(e.get("category"), str):
            if e["category"] in seen:
                c.fail(f"{base}/category", f"{e['category']!r} is listed twice")
            seen.add(e["category"])
        cleaned.append(dict(e, profile=e.get("profile") or e.get("sector")))
    c.out["entries"] = cleaned
    return c.result()
