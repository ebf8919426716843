"""GS1 linksets (RFC 9264 ``application/linkset+json``) as a GS1-Conformant resolver answers them.

A linkset names, for one identifier (the ``anchor``), the resources the platform links it to, keyed by
GS1 Web Vocabulary link types: ``gs1:defaultLink`` and ``gs1:traceability`` (the public trace page),
``gs1:pip`` (the product information on that page), ``gs1:epcis`` (the EPCIS events query for the code).
``?linkType=all`` (or ``linkset``) asks for the whole set; any other ``linkType`` is answered with a
redirect to a link of that type, or to the default link when there is none (GS1-Conformant Resolver 1.x).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = [
    "GS1_VOC",
    "LINKSET_TYPE",
    "Link",
    "LinkSet",
    "normalize_link_type",
]

GS1_VOC = "https://gs1.org/voc/"
LINKSET_TYPE = "application/linkset+json"
DEFAULT_LINK = GS1_VOC + "defaultLink"
# linkType values that ask for the whole linkset rather than a redirect.
WHOLE_SET = frozenset({"all", "linkset"})


@dataclass(frozen=True, slots=True)
class Link:
    """One target link: where it goes, a title, its media type and languages."""

    href: str
    title: str
    type: str = "text/html"
    hreflang: tuple[str, ...] = ("zh", "en")

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"href": self.href, "title": self.title, "type": self.type}
        if self.hreflang:
            out["hreflang"] = list(self.hreflang)
        return out


def normalize_link_type(value: str) -> str:
    """``gs1:pip``, ``https://gs1.org/voc/pip`` and ``http://gs1.org/voc/pip`` all name the same type."""
    value = value.strip()
    if value.startswith("gs1:"):
        return GS1_VOC + value[4:]
    if value.startswith("http://gs1.org/voc/"):
        return GS1_VOC + value[len("http://gs1.org/voc/") :]
    return value


@dataclass(frozen=True, slots=True)
class LinkSet:
    """The links of one anchor, keyed by full link-type URI, in the order they were given."""

    anchor: str
    links: Mapping[str, Sequence[Link]]
    item_description: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if DEFAULT_LINK not in self.links or not self.links[DEFAULT_LINK]:
            raise ValueError("a GS1 linkset needs a gs1:defaultLink")

    @property
    def default(self) -> Link:
        return self.links[DEFAULT_LINK][0]

    def target(self, link_type: str) -> Link:
        """The link to redirect ``?linkType=…`` to: the first of that type, else the default link."""
        found = self.links.get(normalize_link_type(link_type))
        return found[0] if found else self.default

    def as_json(self) -> dict[str, Any]:
        """``{"linkset": [{"anchor": …, "<link type URI>": [{href, title, type, hreflang}, …]}]}``."""
        entry: dict[str, Any] = {"anchor": self.anchor}
        if self.item_description:
            entry["itemDescription"] = self.item_description
        entry.update(self.extra)
        for rel, links in self.links.items():
            entry[rel] = [link.as_json() for link in links]
        return {"linkset": [entry]}

    def link_header(self, linkset_href: str) -> str:
        """An HTTP ``Link`` header naming every link and the linkset itself (RFC 8288)."""
        parts = []
        for rel, links in self.links.items():
            for link in links:
                lang = "".join(f'; hreflang="{h}"' for h in link.hreflang)
                parts.append(
                    f'<{link.href}>; rel="{rel}"; type="{link.type}"; title*=UTF-8\'\'{_ext(link.title)}{lang}'
                )
        parts.append(f'<{linkset_href}>; rel="linkset"; type="{LINKSET_TYPE}"')
        return ", ".join(parts)


def _ext(text: str) -> str:
    """RFC 8187 ext-value encoding of a title (headers are Latin-1; titles are Chinese)."""
    return quote(text, safe="")
