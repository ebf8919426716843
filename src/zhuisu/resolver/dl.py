"""What a request to the resolver names: a GS1 Digital Link (``/01/{gtin}/10/{lot}…``) or a platform trace
code (``/t/{code}``), checked strictly before anything is looked up.

A Digital Link path is checked by :func:`zhuisu.codes.digital_link.parse_digital_link`, the same strict
parser the rest of the platform uses, on the URI the request spells (the resolver's own host and path);
the reason it gives for refusing is what the 400 page shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from zhuisu.codes.ai import dl_primary_keys
from zhuisu.codes.digital_link import DigitalLink, parse_digital_link
from zhuisu.codes.errors import IdentifierError

__all__ = [
    "PRIMARY_KEY_AIS",
    "SERIAL_AIS",
    "CodeRef",
    "MalformedCode",
    "check_platform_code_shape",
    "digital_link_ref",
    "parse_dl_request",
    "platform_code_ref",
]

# Every AI that may start a Digital Link path (GTIN, SSCC, GLN, GRAI, GIAI, …), from the GS1 syntax dictionary.
PRIMARY_KEY_AIS: tuple[str, ...] = tuple(sorted(dl_primary_keys(), key=lambda ai: (len(ai), ai)))

# AIs that make a Digital Link name one physical item (一物一码), not a product class or a lot: a serial
# number (21), a third-party serial (235), an SSCC (00: one logistic unit), a GIAI (8004: one asset).
SERIAL_AIS = frozenset({"21", "235", "00", "8004"})

# Platform trace codes: letters (upper case), digits, and '-'; the issuing module's check decides the rest.
_PLATFORM_CODE_RE = re.compile(r"[0-9A-Z][0-9A-Z\-]{3,63}")


class MalformedCode(ValueError):
    """The code in the request is not well-formed; ``reason`` says why (shown on the 400 page)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CodeRef:
    """A checked code: its kind, the text scans are counted under, and the parsed Digital Link if any."""

    kind: Literal["dl", "platform"]
    key: str  # canonical DL (https://id.gs1.org/…, no data attributes) or the platform code itself
    serialized: bool  # names one physical item (serial, SSCC, GIAI …) rather than a product class or lot
    link: DigitalLink | None = None

    @property
    def gtin(self) -> str | None:
        if self.link is not None and self.link.key[0] == "01":
            return self.link.key[1]
        return None

    def qualifier(self, ai: str) -> str | None:
        if self.link is None:
            return None
        return next((v for a, v in self.link.qualifiers if a == ai), None)

    @property
    def lot(self) -> str | None:
        return self.qualifier("10")

    @property
    def serial(self) -> str | None:
        return self.qualifier("21")


def _reason(uri: str, exc: IdentifierError) -> str:
    text = str(exc)
    prefix = f"GS1 Digital Link {uri!r}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def parse_dl_request(base: str, path: str, query: str = "") -> DigitalLink:
    """Parse the Digital Link a request spells: ``base`` (``https://host``) + ``path`` (``/01/…``) + query.

    Raises :class:`MalformedCode` with the parser's reason. The resolver's own query parameters
    (``linkType``, ``lang``, ``region``) are not AIs, so the parser keeps them aside as other parameters.
    """
    uri = base.rstrip("/") + path + (f"?{query}" if query else "")
    try:
        return parse_digital_link(uri)
    except IdentifierError as exc:
        raise MalformedCode(path.lstrip("/"), _reason(uri, exc)) from exc


def digital_link_ref(link: DigitalLink) -> CodeRef:
    ais = {ai for ai, _ in link.path_ais}
    return CodeRef(kind="dl", key=link.canonical(), serialized=bool(ais & SERIAL_AIS), link=link)


def platform_code_ref(code: str, *, serialized: bool) -> CodeRef:
    return CodeRef(kind="platform", key=code, serialized=serialized)


def check_platform_code_shape(code: str) -> None:
    """The characters a platform code may have; raises :class:`MalformedCode` otherwise."""
    if not code:
        raise MalformedCode(code, "the code is empty")
    if _PLATFORM_CODE_RE.fullmatch(code) is None:
        bad = next((ch for ch in code if not (ch.isascii() and (ch.isdigit() or ch.isupper() or ch == "-"))), None)
        if bad is not None:
            raise MalformedCode(code, f"character {bad!r} cannot appear in a trace code")
        raise MalformedCode(code, f"a trace code has 4 to 64 characters, this one has {len(code)}")
