"""GS1 Application Identifiers (应用标识符): the dictionary and the content linters.

The AI table is read from GS1's Barcode Syntax Dictionary (``data/gs1-syntax-dictionary.txt``, Apache-2.0)
once, at first use; nothing is hand-typed. Each value is checked component by component against the
dictionary's format specification (character set, length) and the named linters (check digits, dates,
ISO codes …), with the GS1 linter error names (``GS1_LINTER_…`` without the prefix) as reasons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from zhuisu.codes import lint

__all__ = [
    "AIEntry",
    "AIValueError",
    "Component",
    "ai_table",
    "check_ai_value",
    "check_pairings",
    "dl_primary_keys",
    "get_ai",
    "lint_value",
    "match_ai_prefix",
]


class AIValueError(ValueError):
    """An AI value breaks the dictionary's rules.

    ``code`` is the GS1 linter error name (e.g. ``INCORRECT_CHECK_DIGIT``), ``position`` the 0-based
    offset of the offending data within the value.
    """

    def __init__(self, ai: str, code: str, message: str, position: int = 0) -> None:
        super().__init__(f"AI ({ai}): {message}")
        self.ai = ai
        self.code = code
        self.position = position


@dataclass(frozen=True, slots=True)
class Component:
    """One component of an AI's format: character set, length range, linters."""

    cset: str  # "N" digits, "X" CSET 82, "Y" CSET 39, "Z" base64url (CSET 64)
    min_len: int
    max_len: int
    optional: bool
    linters: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AIEntry:
    """One application identifier as the syntax dictionary defines it."""

    ai: str
    title: str
    fnc1_required: bool  # False for the predefined-length AIs (flag "*")
    dl_data_attribute: bool  # flag "?": allowed as a Digital Link data attribute
    components: tuple[Component, ...]
    req: tuple[tuple[tuple[str, ...], ...], ...]  # each "req=" key: alternatives of AND-groups
    ex: tuple[tuple[str, ...], ...]  # each "ex=" key: patterns
    dlpkey: tuple[tuple[str, ...], ...] | None  # qualifier sequences; None if not a DL primary key

    @property
    def min_length(self) -> int:
        return sum(c.min_len for c in self.components if not c.optional)

    @property
    def max_length(self) -> int:
        return sum(c.max_len for c in self.components)

    @property
    def fixed_length(self) -> bool:
        return self.min_length == self.max_length

    @property
    def numeric(self) -> bool:
        return all(c.cset == "N" for c in self.components)


_COMPONENT_RE = re.compile(r"^(\[)?([NXYZ])(\d+)?(?:\.\.(\d+))?(\])?((?:,[a-z0-9]+)*)$")
_COMPONENT_START_RE = re.compile(r"^\[?[NXYZ](?:\d|\.\.)")


def _parse_component(text: str) -> Component:
    m = _COMPONENT_RE.match(text)
    if not m:
        raise ValueError(f"syntax dictionary: bad component {text!r}")
    opt_open, cset, first, second, _opt_close, linters = m.groups()
    if second is not None:
        min_len, max_len = 1, int(second)
        if first is not None:
            min_len = int(first)
    else:
        if first is None:
            raise ValueError(f"syntax dictionary: component without length {text!r}")
        min_len = max_len = int(first)
    names = tuple(x for x in linters.split(",") if x)
    return Component(cset=cset, min_len=min_len, max_len=max_len, optional=bool(opt_open), linters=names)


def _expand_ais(spec: str) -> list[str]:
    if "-" not in spec:
        return [spec]
    lo, hi = spec.split("-")
    width = len(lo)
    return [str(n).zfill(width) for n in range(int(lo), int(hi) + 1)]


def _parse_line(line: str) -> list[AIEntry]:
    body, _, title = line.partition("#")
    tokens = body.split()
    if not tokens:
        return []
    ais = _expand_ais(tokens[0])
    i = 1
    flags = ""
    if i < len(tokens) and not _COMPONENT_START_RE.match(tokens[i]):
        flags = tokens[i]
        i += 1
    components: list[Component] = []
    while i < len(tokens) and _COMPONENT_START_RE.match(tokens[i]):
        components.append(_parse_component(tokens[i]))
        i += 1
    req: list[tuple[tuple[str, ...], ...]] = []
    ex: list[tuple[str, ...]] = []
    dlpkey: tuple[tuple[str, ...], ...] | None = None
    for attr in tokens[i:]:
        key, _, value = attr.partition("=")
        if key == "req":
            req.append(tuple(tuple(alt.split("+")) for alt in value.split(",")))
        elif key == "ex":
            ex.append(tuple(value.split(",")))
        elif key == "dlpkey":
            dlpkey = tuple(tuple(seq.split(",")) for seq in value.split("|")) if value else ((),)
    return [
        AIEntry(
            ai=ai,
            title=title.strip(),
            fnc1_required="*" not in flags,
            dl_data_attribute="?" in flags,
            components=tuple(components),
            req=tuple(req),
            ex=tuple(ex),
            dlpkey=dlpkey,
        )
        for ai in ais
    ]


def parse_syntax_dictionary(text: str) -> dict[str, AIEntry]:
    """Parse the GS1 Barcode Syntax Dictionary text into entries keyed by AI."""
    table: dict[str, AIEntry] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for entry in _parse_line(line):
            table[entry.ai] = entry
    return table


@cache
def ai_table() -> dict[str, AIEntry]:
    """All AIs of the bundled syntax dictionary (parsed once)."""
    text = resources.files("zhuisu.codes").joinpath("data/gs1-syntax-dictionary.txt").read_text("utf-8")
    return parse_syntax_dictionary(text)


def get_ai(ai: str) -> AIEntry | None:
    """The dictionary entry for ``ai``, or None if unknown."""
    return ai_table().get(ai)


@cache
def dl_primary_keys() -> dict[str, AIEntry]:
    """AIs that are GS1 Digital Link primary keys."""
    return {ai: e for ai, e in ai_table().items() if e.dlpkey is not None}


@cache
def _ai_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(ai) for ai in ai_table()}))


def match_ai_prefix(data: str, pos: int = 0) -> AIEntry | None:
    """The AI whose code starts ``data[pos:]`` (AIs are a prefix code), or None."""
    table = ai_table()
    for n in _ai_lengths():
        entry = table.get(data[pos : pos + n])
        if entry is not None:
            return entry
    return None


# Whole-component character-set checks run in C (re); the slow finders only run to report a failure.
_CSET_RE = {
    "N": re.compile(r"[0-9]*"),
    "X": re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*"),
    "Y": re.compile(r"[#\-/0-9A-Z]*"),
    "Z": re.compile(r"[A-Za-z0-9\-_]*=*"),
}

_CSET_LINTER = {"N": "csetnumeric", "X": "cset82", "Y": "cset39", "Z": "cset64"}


def check_ai_value(ai: str, value: str) -> None:
    """Validate ``value`` for ``ai`` against the dictionary; raises AIValueError naming the reason."""
    entry = ai_table().get(ai)
    if entry is None:
        raise AIValueError(ai, "UNKNOWN_AI", "unknown application identifier")
    _check_entry(entry, value)


def _check_entry(entry: AIEntry, value: str) -> None:
    ai = entry.ai
    if not value:
        raise AIValueError(ai, "AI_DATA_EMPTY", "value is empty")
    pos = 0
    n = len(value)
    for comp in entry.components:
        if pos >= n:
            if comp.optional:
                break
            raise AIValueError(ai, "AI_DATA_TOO_SHORT", f"value {value!r} is too short", pos)
        if comp.min_len == comp.max_len:
            part = value[pos : pos + comp.max_len]
            if len(part) < comp.min_len:
                raise AIValueError(
                    ai, "AI_DATA_TOO_SHORT", f"value {value!r} is too short (component needs {comp.min_len})", pos
                )
        else:
            part = value[pos : pos + comp.max_len]
            if len(part) < comp.min_len:
                raise AIValueError(ai, "AI_DATA_TOO_SHORT", f"value {value!r} is too short", pos)
        if comp.cset == "Z" or _CSET_RE[comp.cset].fullmatch(part) is None:
            err = lint.run(_CSET_LINTER[comp.cset], part)
            if err is not None:
                raise AIValueError(
                    ai, err.code, f"{err.message} at position {pos + err.position + 1}", pos + err.position
                )
        for name in comp.linters:
            err = lint.run(name, part)
            if err is not None:
                raise AIValueError(ai, err.code, f"{err.message} in {value!r}", pos + err.position)
        pos += len(part)
    if pos < n:
        raise AIValueError(ai, "AI_DATA_TOO_LONG", f"value {value!r} is too long (max {entry.max_length})", pos)


def lint_value(linter: str, value: str) -> lint.LintError | None:
    """Run one named linter (``csum``, ``yymmd0`` …) on ``value``."""
    return lint.run(linter, value)


def _pattern_matches(pattern: str, ai: str) -> bool:
    # Patterns use "n" for any digit, e.g. "31nn", "394n".
    if len(pattern) != len(ai):
        return False
    return all(p == a or (p == "n" and a.isdigit()) for p, a in zip(pattern, ai, strict=True))


def check_pairings(ais: Iterable[str]) -> list[str]:
    """Mandatory-association (req) and invalid-pairing (ex) problems for a set of AIs, as messages."""
    present = list(dict.fromkeys(ais))
    problems: list[str] = []
    table = ai_table()
    for ai in present:
        entry = table.get(ai)
        if entry is None:
            continue
        for patterns in entry.ex:
            for other in present:
                if other != ai and any(_pattern_matches(p, other) for p in patterns):
                    problems.append(f"AI ({ai}) may not be used together with AI ({other})")
        for alternatives in entry.req:
            if not any(_group_present(group, present) for group in alternatives):
                wanted = " or ".join("+".join(f"({a})" for a in group) for group in alternatives)
                problems.append(f"AI ({ai}) requires {wanted}")
    return problems


def _group_present(group: Sequence[str], present: Sequence[str]) -> bool:
    return all(any(_pattern_matches(p, a) for a in present) for p in group)
