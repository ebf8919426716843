"""Compile the capture's per-event modules with mypyc (``make native``); see ``zhuisu._native``.

Does nothing when the compiled modules were built from the present sources. Without a C compiler (or when mypyc
fails) it says so and leaves the modules interpreted: zhuisu works the same, only slower; ``--strict`` makes that
an error instead.

    .venv/bin/python tools/build_native.py [--strict] [--force] [--clean]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
BUILD = ROOT / "build" / "native"
sys.path.insert(0, str(SRC))

from zhuisu import _native  # noqa: E402  (from this checkout's src, whatever is installed)

GROUP = "zhuisu_native"  # the shared library every compiled module links to: src/zhuisu_native__mypyc.*.so


def _compiled_files() -> list[Path]:
    # every extension module in the package (also of modules no longer listed), and the group's shared library
    found = [p for m in _native.compiled_modules() if (p := _native.compiled_path(m))]
    found += sorted(SRC.glob(f"{GROUP}__mypyc*"))
    return found


def clean() -> None:
    for path in _compiled_files():
        path.unlink()
    _native.MANIFEST.unlink(missing_ok=True)
    shutil.rmtree(BUILD, ignore_errors=True)


def up_to_date() -> bool:
    built = _native.read_manifest()
    return (
        all(_native.compiled_path(m) and built.get(m) == _native.source_digest(m) for m in _native.MODULES)
        and set(_native.compiled_modules()) == set(_native.MODULES)
        and built.get("python") == sys.implementation.cache_tag
    )


def build() -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    digests = {m: _native.source_digest(m) for m in _native.MODULES}  # what is compiled: read before compiling
    clean()
    paths = [str(_native.source_path(m).relative_to(SRC)) for m in _native.MODULES]
    os.chdir(SRC)  # module names come from paths relative to here; no pyproject here for setuptools to read
    extensions = mypycify(
        ["--config-file", str(ROOT / "pyproject.toml"), *paths],
        opt_level="3",
        group_name=GROUP,
        target_dir=str(BUILD / "c"),
    )
    setup(
        name="zhuisu-native",
        ext_modules=extensions,
        script_args=[
            *("--quiet", "build_ext", "--inplace"),
            *("--build-temp", str(BUILD / "tmp"), "--build-lib", str(BUILD / "lib")),
        ],
    )
    _native.MANIFEST.write_text(
        json.dumps({"python": sys.implementation.cache_tag, "modules": digests}, indent=2) + "\n", encoding="utf-8"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strict", action="store_true", help="fail when the modules cannot be compiled")
    ap.add_argument("--force", action="store_true", help="compile even when up to date")
    ap.add_argument("--clean", action="store_true", help="remove the compiled modules and stop")
    args = ap.parse_args()
    if args.clean:
        clean()
        print("native: compiled modules removed; zhuisu runs interpreted")
        return 0
    if not args.force and up_to_date():
        print("native: compiled modules are up to date")
        return 0
    started = time.monotonic()
    print(f"native: compiling {len(_native.MODULES)} modules with mypyc (about a minute) …", flush=True)
    try:
        build()
    except (Exception, SystemExit) as exc:  # no compiler, a mypyc error: zhuisu still runs, interpreted
        clean()
        print(f"native: could not compile ({exc.__class__.__name__}: {exc}); zhuisu runs interpreted", file=sys.stderr)
        return 1 if args.strict else 0
    print(f"native: compiled in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
