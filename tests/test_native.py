"""The compiled capture modules (zhuisu._native): used when built from the present source, never otherwise."""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys

import pytest

from zhuisu import _native

BUILT = bool(_native.read_manifest())
needs_build = pytest.mark.skipif(
    not BUILT, reason="the modules were not compiled on this machine (tools/build_native.py found no C compiler)"
)


@needs_build
def test_the_suite_runs_the_compiled_modules() -> None:
    # make test compiles them first: every test of hashing, validating and indexing tests the code that ships
    assert _native.stale_modules() == [], "sources changed since they were compiled: run `make native`"
    assert _native.status() == dict.fromkeys(_native.MODULES, True)


@needs_build
def test_a_module_whose_source_changed_since_it_was_compiled_is_stale() -> None:
    manifest = _native.read_manifest()
    assert _native.stale_modules(manifest=manifest) == []
    edited = {**manifest, "zhuisu.epcis.hash": "0" * 64}
    assert _native.stale_modules(manifest=edited) == ["zhuisu.epcis.hash"]
    assert _native.stale_modules(manifest={}) == list(_native.MODULES)


def test_one_stale_module_sends_the_whole_compiled_group_to_source() -> None:
    built = ["zhuisu.epcis.hash", "zhuisu.epcis.index"]
    assert _native.routed(built, ["zhuisu.epcis.index"], off=False) == built
    assert _native.routed(built, [], off=True) == built
    assert _native.routed(built, [], off=False) == []


def test_a_stale_module_is_imported_from_its_source() -> None:
    spec = _native._SourceFinder(["zhuisu.epcis.hash"]).find_spec("zhuisu.epcis.hash", None)
    assert spec is not None and spec.origin == str(_native.source_path("zhuisu.epcis.hash"))
    assert spec.origin.endswith(os.path.join("zhuisu", "epcis", "hash.py"))
    assert _native._SourceFinder(["zhuisu.epcis.hash"]).find_spec("zhuisu.epcis.index", None) is None


def _status_in_subprocess(**env: str) -> dict[str, bool]:
    code = "import json; from zhuisu import _native; print(json.dumps(_native.status()))"
    out = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout))


def test_zhuisu_native_0_runs_every_module_interpreted() -> None:
    assert _status_in_subprocess(ZHUISU_NATIVE="0") == dict.fromkeys(_native.MODULES, False)


@needs_build
def test_the_interpreted_and_the_compiled_modules_agree() -> None:
    # the same documents validated and hashed both ways: the conformance tests run compiled, this runs the source
    code = (
        "import json, sys, pathlib; from zhuisu.epcis import capture, hash, validate; out = [];\n"
        "for path in sorted(pathlib.Path(sys.argv[1]).rglob('*.json*')):\n"
        "    try:\n"
        "        _h, events = capture.open_document(open(path, 'rb'), 'json'); events = list(events)\n"
        "    except Exception as exc:\n"
        "        out.append([path.name, type(exc).__name__]); continue\n"
        "    for e in events:\n"
        "        problems = validate.validate_event(e)\n"
        "        out.append([path.name, [p.message for p in problems] or hash.event_hash(e)])\n"
        "print(json.dumps(out))"
    )
    data = os.path.join(os.path.dirname(__file__), "data", "epcis")

    def run(native: str) -> list[object]:
        out = subprocess.run(
            [sys.executable, "-c", code, data],
            env={**os.environ, "ZHUISU_NATIVE": native},
            check=True,
            capture_output=True,
            text=True,
        )
        return list(json.loads(out.stdout))

    compiled, interpreted = run("1"), run("0")
    assert len(compiled) > 100
    assert compiled == interpreted


def test_extension_files_map_to_module_names() -> None:
    # what guard() and make native look for: every extension module in the package, listed or left over
    pkg = _native.PACKAGE_DIR
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    assert _native._module_of(pkg / "epcis" / f"capture{suffix}") == "zhuisu.epcis.capture"
    assert _native._module_of(pkg / "store" / "events.so") == "zhuisu.store.events"
    assert _native._module_of(pkg / "epcis" / "capture.py") is None
    if BUILT:
        assert _native.compiled_modules() == sorted(_native.MODULES)
