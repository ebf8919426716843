"""Compiled capture code (mypyc), used only while it was built from the source that is here now.

The modules in ``MODULES`` do the per-event work of a capture (validating, hashing, indexing events and their
identifiers). ``tools/build_native.py`` (``make native``, run by ``make test`` and ``make demo``) compiles them
with mypyc into extension modules beside their sources, as black and mypy ship themselves, and records the SHA-256
of each source it compiled in ``_native.json``. Python imports an extension module before a source file of the
same name, so a compiled module would outlive an edit of its source: ``guard()`` (run when ``zhuisu`` is imported)
sends the import of every compiled module to its source file when one of their sources no longer matches (they
are one compiled group and import each other natively, so the group runs whole or not at all), or when
``ZHUISU_NATIVE=0``. The compiled and the interpreted modules behave the same; the suite runs on the compiled ones.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

MODULES = (
    "zhuisu.codes.epc",
    "zhuisu.epcis.cbv",
    "zhuisu.epcis.hash",
    "zhuisu.epcis.index",
    "zhuisu.epcis.validate",
    "zhuisu.ledger.merkle",
    "zhuisu.store.pgcopy",
    "zhuisu.trace.rules",
)
PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST = PACKAGE_DIR / "_native.json"


def source_path(module: str) -> Path:
    return PACKAGE_DIR.parent.joinpath(*module.split(".")).with_suffix(".py")


def source_digest(module: str) -> str:
    return hashlib.sha256(source_path(module).read_bytes()).hexdigest()


def _module_of(path: Path) -> str | None:
    """``zhuisu.epcis.hash`` for ``…/zhuisu/epcis/hash.cpython-311-x86_64-linux-gnu.so`` (any extension suffix)."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:  # the most specific first
        if path.name.endswith(suffix):
            rel = path.relative_to(PACKAGE_DIR.parent)
            return ".".join((*rel.parts[:-1], path.name[: -len(suffix)]))
    return None


def compiled_modules() -> list[str]:
    """Every extension module inside the package: what ``make native`` compiled, also modules since taken off
    ``MODULES`` (their stale extension would otherwise shadow the source)."""
    found = {m for path in PACKAGE_DIR.rglob("*.so") if (m := _module_of(path))}
    found |= {m for path in PACKAGE_DIR.rglob("*.pyd") if (m := _module_of(path))}
    return sorted(found)


def compiled_path(module: str) -> Path | None:
    """The extension module built for ``module`` with this interpreter's suffix, if there is one."""
    base = source_path(module).with_suffix("")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = base.with_name(base.name + suffix)
        if candidate.exists():
            return candidate
    return None


def read_manifest(path: Path = MANIFEST) -> dict[str, str]:
    """module → SHA-256 of the source it was compiled from; empty when nothing was built (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    modules = data.get("modules") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in modules.items()} if isinstance(modules, dict) else {}


def stale_modules(modules: Sequence[str] | None = None, manifest: dict[str, str] | None = None) -> list[str]:
    """Modules with an extension module that was not built from their present source (by default: every
    extension module in the package)."""
    built = read_manifest() if manifest is None else manifest
    return [m for m in (compiled_modules() if modules is None else modules) if compiled_path(m) and _stale(m, built)]


def _stale(module: str, built: dict[str, str]) -> bool:
    try:
        return built.get(module) != source_digest(module)
    except OSError:  # the source is gone: the extension is a leftover
        return True


def disabled() -> bool:
    return os.environ.get("ZHUISU_NATIVE", "1").strip().lower() in ("0", "no", "false", "off")


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the listed modules' source files, ahead of the path finder (which would take the extension)."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = frozenset(modules)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


def routed(built: Sequence[str], stale: Sequence[str], off: bool) -> list[str]:
    """The compiled modules to import from source: all of them when one is stale or when turned off. (The
    compiled modules import each other without the import system, so a module cannot run from source alone.)"""
    return list(built) if off or stale else []


def guard() -> None:
    """Import the compiled modules from their sources when one of them is stale (with a warning) or when disabled."""
    if any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        return
    built = compiled_modules()
    if not built:
        return
    stale = [] if disabled() else stale_modules(built)
    modules = routed(built, stale, disabled())
    if not modules:
        return
    if stale:
        warnings.warn(
            f"zhuisu: the compiled {', '.join(stale)} predate their source; running the capture modules from "
            "source (`make native` compiles them again)",
            RuntimeWarning,
            stacklevel=2,
        )
    sys.meta_path.insert(0, _SourceFinder(modules))


def status() -> dict[str, bool]:
    """module → whether it runs compiled in this process (imports it)."""
    out: dict[str, bool] = {}
    for m in MODULES:
        module = importlib.import_module(m)
        out[m] = not str(getattr(module, "__file__", "")).endswith(".py")
    return out
