"""Pass rate per conformance-vector file of the zhuisu.codes tests, printed at the end of the run.

A vector test tags itself with the ``vector`` fixture (tests/codes/conftest.py), which puts the file name in
``item.user_properties``; pytest copies those onto each test report and pytest-xdist forwards reports, with
them, from the workers to the controlling process. There ``pytest_runtest_logreport`` records the outcome of
each tagged case and ``pytest_terminal_summary`` prints the table, so the counts are complete whether the
tests ran in one process or in many.

The controlling process must have this plugin registered. tests/codes/conftest.py registers it, which covers
``pytest tests/codes`` and any run without xdist; a plain ``pytest -n 2`` loads that conftest in the workers
only (pytest loads ``tests/conftest.py`` and ``tests/test*/conftest.py`` up front, then sub-folder conftests
while collecting, which xdist does in the workers), so for that run ``tests/conftest.py`` needs
``pytest_plugins = ["codes.vector_summary"]``. Registering twice is harmless: one module object, one table.
"""

from __future__ import annotations

from typing import Any

import pytest

PLUGIN_NAME = "codes.vector_summary"

# (nodeid, phase) → (vector file, outcome); keyed so that a report seen twice is counted once.
_OUTCOMES: dict[tuple[str, str], tuple[str, str]] = {}
_printed = False


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    files = [value for key, value in report.user_properties if key == "vector_file"]
    if not files or report.when != "call":
        return  # the tag is set inside the test body, so only the call phase carries it
    outcome: str = report.outcome  # passed, failed or skipped
    if hasattr(report, "wasxfail"):
        outcome = "xfailed" if report.skipped else "xpassed"
    _OUTCOMES[(report.nodeid, report.when)] = (str(files[0]), outcome)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    global _printed
    if _printed or not _OUTCOMES:
        return
    _printed = True
    counts: dict[str, dict[str, int]] = {}
    for name, outcome in _OUTCOMES.values():
        bucket = counts.setdefault(name, {"passed": 0, "failed": 0, "xfailed": 0, "xpassed": 0, "skipped": 0})
        bucket[outcome] += 1
    terminalreporter.section("zhuisu.codes conformance vectors: pass rate per file")
    for name in sorted(counts):
        r = counts[name]
        total = sum(r.values())
        rate = 100.0 * r["passed"] / total if total else 0.0
        line = f"{name}: {r['passed']}/{total} passed ({rate:.1f}%), {r['failed']} failed"
        if r["xfailed"]:
            line += f", {r['xfailed']} known disagreements (xfail, reasons in the tests)"
        if r["xpassed"]:
            line += f", {r['xpassed']} unexpectedly passing xfails"
        if r["skipped"]:
            line += f", {r['skipped']} skipped (no input or no counterpart; reasons in the tests)"
        terminalreporter.write_line(line)
