"""Test data builders: valid codes computed from their standards' check rules (not from zhuisu's code)."""

from __future__ import annotations

from typing import Any

from stdnum.cn import uscc

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def gb11714_check(code8: str) -> str:
    weights = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714-1997 §5
    c = 11 - sum(_ALNUM.index(ch) * w for ch, w in zip(code8, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def make_uscc(region: str = "371302", n: int = 1, org8: str | None = None) -> str:
    """A well-formed 统一社会信用代码 for an enterprise (91) registered in ``region`` (organisation code body
    ``org8``, by default one numbered ``n``)."""
    org8 = org8 or f"MA{n:06d}"
    body = "91" + region + org8 + gb11714_check(org8)
    return body + uscc.calc_check_digit(body)


def gs1_check(payload: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


def make_gln(n: int) -> str:
    body = f"690123{n:06d}"
    return body + gs1_check(body)


def make_gtin13(n: int) -> str:
    body = f"690123{n:06d}"
    return body + gs1_check(body)


def make_ric(region: str = "370102", birth: str = "19950615", seq: int = 123) -> str:
    body = f"{region}{birth}{seq:03d}"
    # GB 11643-1999: ISO 7064 MOD 11-2 with weights 2^(17-i) mod 11.
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    check = (12 - total % 11) % 11
    return body + ("X" if check == 10 else str(check))


def enterprise(n: int = 1, region: str = "371302", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "enterprise",
        "uscc": make_uscc(region, n),
        "name": f"临沂测试养殖场{n}",
        "types": ["farm"],
        "sectors": ["meat"],
        "region": region,
        "address": "山东省临沂市兰山区测试路1号",
    }
    data.update(extra)
    return data


def person(n: int = 1, region: str = "371302", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "person",
        "name": f"张{n}",
        "types": ["farmer"],
        "sectors": ["vegetable"],
        "region": region,
        "id_number": make_ric(region, seq=100 + n),
    }
    data.update(extra)
    return data
