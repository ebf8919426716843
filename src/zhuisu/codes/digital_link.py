"""GS1 Digital Link URIs (GS1 数字链接), parsed strictly per the GS1 Digital Link URI Syntax standard.

What the standard refuses, we refuse, with the reason: a mixed-case scheme, characters not allowed in a
URI, an unknown AI or an AI out of order in the path, key qualifiers given as query parameters,
duplicate AIs, zero-suppressed GTINs, AI values that break the syntax dictionary, invalid AI pairings.
The canonical form is ``https://id.gs1.org/<key AI>/<value>[/<qualifier AI>/<value>…]`` with the
qualifiers in the standard order and values percent-encoded except for RFC 3986 unreserved characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from zhuisu.codes.ai import AIEntry, AIValueError, ai_table, check_ai_value, check_pairings
from zhuisu.codes.errors import IdentifierError

__all__ = [
    "CANONICAL_STEM",
    "DigitalLink",
    "canonical_from_ais",
    "element_string_unbracketed",
    "escape_path_value",
    "looks_like_digital_link",
    "parse_digital_link",
]

CANONICAL_STEM = "https://id.gs1.org"

# RFC 3986: every character a URI may contain (anything else, e.g. "<", "{", "^", must be escaped).
_URI_CHARS_RE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_PCT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME_RE = re.compile(r"^(https?|HTTPS?)://", re.ASCII)
# Host: DNS name / IPv4 (any form a resolver accepts) or bracketed IPv6 without zone id; optional port.
_HOST_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9.])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{0,5})?")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_UNRESERVED_RE = re.compile(r"[A-Za-z0-9\-._~]*")
_KEY_VALUE_START_RE = re.compile(r"[0-9]{4}")
_AI_SHAPE_RE = re.compile(r"[0-9]{2,4}")  # what an AI not (yet) in the dictionary could look like


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """A parsed GS1 Digital Link URI."""

    uri: str
    stem: str  # scheme://host[/path prefix], as given
    key: tuple[str, str]  # (AI, value) of the primary key
    qualifiers: tuple[tuple[str, str], ...]  # in path order (= standard order)
    attributes: tuple[tuple[str, str], ...] = ()  # AI data attributes from the query string
    other_params: tuple[tuple[str, str], ...] = field(default=())  # non-AI query parameters

    @property
    def path_ais(self) -> tuple[tuple[str, str], ...]:
        return (self.key, *self.qualifiers)

    @property
    def ais(self) -> tuple[tuple[str, str], ...]:
        """All AIs: key, qualifiers, then data attributes in query order."""
        return (self.key, *self.qualifiers, *self.attributes)

    def canonical(self, *, with_attributes: bool = False) -> str:
        """The canonical URI on id.gs1.org; data attributes only when asked for."""
        uri = canonical_from_ais(self.key, self.qualifiers)
        if with_attributes and self.attributes:
            # Canonical order of data attributes: by AI (as GS1's reference toolkits write them).
            uri += "?" + "&".join(f"{ai}={escape_path_value(v)}" for ai, v in sorted(self.attributes))
        return uri

    def element_string(self) -> str:
        """Bracketed element string, AIs in URI order, e.g. ``(01)09520123456788(21)12345``."""
        return "".join(f"({ai}){value}" for ai, value in self.ais)

    def unbracketed(self) -> str:
        """Element string with ``^`` for FNC1 (leading, and after AIs that need a separator)."""
        return element_string_unbracketed(self.ais)


def escape_path_value(value: str) -> str:
    """Percent-encode ``value`` for a DL path segment: all but RFC 3986 unreserved characters."""
    if _UNRESERVED_RE.fullmatch(value):
        return value
    return "".join(ch if ch in _UNRESERVED else "".join(f"%{b:02X}" for b in ch.encode()) for ch in value)


def canonical_from_ais(key: tuple[str, str], qualifiers: tuple[tuple[str, str], ...] = ()) -> str:
    """Canonical DL URI for an already validated key and ordered qualifiers."""
    parts = [CANONICAL_STEM, key[0], escape_path_value(key[1])]
    for ai, value in qualifiers:
        parts.append(ai)
        parts.append(escape_path_value(value))
    return "/".join(parts)


def element_string_unbracketed(ais: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """``^``-separated element string (``^`` = FNC1), as the GS1 Syntax Engine writes it."""
    table = ai_table()
    out = ["^"]
    last = len(ais) - 1
    for i, (ai, value) in enumerate(ais):
        out.append(ai)
        out.append(value)
        entry = table.get(ai)
        if i < last and (entry is None or entry.fnc1_required):
            out.append("^")
    return "".join(out)


def looks_like_digital_link(uri: str) -> bool:
    """Heuristic for non-DL URIs: some path segment is a DL primary-key AI followed by a value that
    starts with 4 digits (every DL key value starts with its company prefix or an indicator digit)."""
    if not (uri.startswith(("http://", "https://", "HTTP://", "HTTPS://")) or uri[:8].lower().startswith("http")):
        return False
    rest = uri.split("://", 1)[-1]
    path = rest.split("?", 1)[0].split("#", 1)[0]
    segments = path.split("/")[1:]
    table = ai_table()
    for i in range(len(segments) - 1):
        entry = table.get(segments[i])
        if entry is not None and entry.dlpkey is not None and _KEY_VALUE_START_RE.match(segments[i + 1]):
            return True
    return False


def _fail(uri: str, reason: str) -> IdentifierError:
    return IdentifierError(f"GS1 Digital Link {uri!r}: {reason}")


def _decode(uri: str, raw: str, *, query: bool) -> str:
    if query:
        raw = raw.replace("+", " ")
    if "%" not in raw:
        return raw
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError as exc:
        raise _fail(uri, f"percent-encoding of {raw!r} is not UTF-8") from exc


def _qualifier_sequence(entry: AIEntry, qualifiers: list[str]) -> tuple[str, ...] | None:
    """The qualifier sequence of ``entry`` that ``qualifiers`` follow in order, if any."""
    assert entry.dlpkey is not None
    for seq in entry.dlpkey:
        pos = 0
        ok = True
        for q in qualifiers:
            try:
                idx = seq.index(q, pos)
            except ValueError:
                ok = False
                break
            pos = idx + 1
        if ok:
            return seq
    return None


def _could_be_in_path(entry: AIEntry, path_qualifiers: list[str], ai: str) -> bool:
    assert entry.dlpkey is not None
    wanted = {*path_qualifiers, ai}
    return any(wanted <= set(seq) for seq in entry.dlpkey)


_GTIN_AIS = frozenset({"01", "02", "03"})


def _check_value(uri: str, ai: str, value: str, permit_zero_suppressed_gtin: bool) -> str:
    if ai in _GTIN_AIS and len(value) in (8, 12, 13) and value.isdigit():
        if not permit_zero_suppressed_gtin:
            raise _fail(uri, f"AI ({ai}) GTIN {value!r} must be given as 14 digits (zero-suppressed GTINs are refused)")
        value = value.rjust(14, "0")
    try:
        check_ai_value(ai, value)
    except AIValueError as exc:
        raise _fail(uri, str(exc)) from exc
    return value


def parse_digital_link(
    uri: str,
    *,
    permit_zero_suppressed_gtin: bool = False,
    permit_unknown_ais: bool = False,
    permit_unknown_ai_attributes: bool = False,
    check_ai_pairings: bool = True,
) -> DigitalLink:
    """Parse a GS1 Digital Link URI; raises IdentifierError naming the reason.

    The keyword options relax the standard the way the GS1 Syntax Engine's options do (unknown AIs
    in the path; unknown AIs also as query data attributes); the defaults are the standard's rules.
    """
    if not isinstance(uri, str) or not uri:
        raise _fail(str(uri), "empty")
    m = _SCHEME_RE.match(uri)
    if m is None:
        if uri[:8].lower().startswith(("http://", "https://")):
            raise _fail(uri, "the scheme must be all lower case or all upper case (http, https)")
        raise _fail(uri, "must start with http:// or https://")
    if _URI_CHARS_RE.fullmatch(uri) is None:
        bad = next(ch for ch in uri if _URI_CHARS_RE.fullmatch(ch) is None)
        raise _fail(uri, f"character {bad!r} is not allowed in a URI")
    if _PCT_RE.search(uri):
        raise _fail(uri, "invalid percent-encoding")
    rest = uri[m.end() :]
    rest, _, _fragment = rest.partition("#")
    rest, has_query, query = rest.partition("?")
    host, slash, path = rest.partition("/")
    if not host or _HOST_RE.fullmatch(host) is None or "%" in host:
        raise _fail(uri, f"invalid or missing host {host!r}")
    if not slash or not path:
        raise _fail(uri, "no path: a primary key AI and its value are required")
    if path.endswith("/"):
        raise _fail(uri, "the path must not end with '/'")
    segments = path.split("/")
    table = ai_table()

    # The primary key is the rightmost key AI at a pair-aligned position; everything after it must be
    # (qualifier AI, value) pairs and everything before it is the stem.
    key_index = -1
    for i in range(len(segments) - 2, -1, -2):
        entry = table.get(segments[i])
        if entry is not None and entry.dlpkey is not None:
            key_index = i
            break
    if key_index < 0:
        for segment in segments[:-1]:
            entry = table.get(segment)
            if entry is not None and entry.dlpkey is not None:
                raise _fail(uri, f"the path from primary key AI ({segment}) on must be AI/value pairs")
        raise _fail(uri, "no GS1 primary key AI found in the path")
    key_entry = table[segments[key_index]]
    assert key_entry.dlpkey is not None
    # The path's AI structure first (known AIs, no repeats, qualifier order), then the values: a misplaced AI
    # is the more useful complaint than what its value looks like.
    raw_pairs = [(segments[i], segments[i + 1]) for i in range(key_index, len(segments), 2)]
    path_ais = [ai for ai, _ in raw_pairs]
    for ai_code in path_ais[1:]:
        if ai_code not in table and not (permit_unknown_ais and _AI_SHAPE_RE.fullmatch(ai_code)):
            raise _fail(uri, f"unknown AI ({ai_code}) in the path")
    if len(set(path_ais)) != len(path_ais):
        raise _fail(uri, "an AI appears twice in the path")
    qualifier_ais = [ai for ai in path_ais[1:] if ai in table]
    if qualifier_ais and _qualifier_sequence(key_entry, qualifier_ais) is None:
        allowed = " or ".join("/".join(seq) for seq in key_entry.dlpkey if seq) or "none"
        raise _fail(
            uri,
            f"AIs {', '.join(qualifier_ais)} are not valid key qualifiers of ({path_ais[0]}) in this order "
            f"(allowed: {allowed})",
        )
    pairs: list[tuple[str, str]] = []
    for ai_code, raw_value in raw_pairs:
        if not raw_value:
            raise _fail(uri, f"AI ({ai_code}) has an empty value")
        value = _decode(uri, raw_value, query=False)
        if ai_code not in table:  # an unknown AI that the options let through: no rules to check
            pairs.append((ai_code, value))
        else:
            pairs.append((ai_code, _check_value(uri, ai_code, value, permit_zero_suppressed_gtin)))
    key = pairs[0]

    attributes: list[tuple[str, str]] = []
    others: list[tuple[str, str]] = []
    seen = {ai for ai, _ in pairs}
    if has_query and query:
        for param in query.split("&"):
            if not param:
                continue
            name, eq, raw_value = param.partition("=")
            if not eq:
                continue  # a bare word: not an AI, ignored as the standard says
            if not (name.isascii() and name.isdigit()):
                others.append((name, _decode(uri, raw_value, query=True)))
                continue
            entry = table.get(name)
            if entry is None:
                if permit_unknown_ais and permit_unknown_ai_attributes and _AI_SHAPE_RE.fullmatch(name):
                    value = _decode(uri, raw_value, query=True)
                    if not value:
                        raise _fail(uri, f"AI ({name}) has an empty value")
                    attributes.append((name, value))
                    seen.add(name)
                    continue
                raise _fail(uri, f"unknown AI ({name}) in the query string")
            if name in seen:
                raise _fail(uri, f"AI ({name}) appears twice")
            if entry.dlpkey is not None and name == key[0]:
                raise _fail(uri, f"AI ({name}) appears twice")
            if _could_be_in_path(key_entry, qualifier_ais, name):
                raise _fail(uri, f"AI ({name}) is a key qualifier of ({key[0]}) and must be in the path")
            if not entry.dl_data_attribute:
                raise _fail(uri, f"AI ({name}) is not permitted as a Digital Link data attribute")
            value = _decode(uri, raw_value, query=True)
            if not value:
                raise _fail(uri, f"AI ({name}) has an empty value")
            attributes.append((name, _check_value(uri, name, value, permit_zero_suppressed_gtin)))
            seen.add(name)

    if check_ai_pairings:
        problems = check_pairings([ai for ai, _ in pairs] + [ai for ai, _ in attributes])
        if problems:
            raise _fail(uri, "; ".join(problems))

    stem = uri[: m.end()] + host + ("/" + "/".join(segments[:key_index]) if key_index else "")
    return DigitalLink(
        uri=uri,
        stem=stem,
        key=key,
        qualifiers=tuple(pairs[1:]),
        attributes=tuple(attributes),
        other_params=tuple(others),
    )
