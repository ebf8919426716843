"""Shared helpers for zhuisu.codes tests and a per-vector-file pass-rate summary.

Tests that run an external vector tag themselves with the ``vector`` fixture; at the end of the
run the terminal summary prints, per vector file, how many cases passed (expected failures, each with
its written reason, are counted separately). Under pytest-xdist the summary is printed only when this
conftest is loaded in the controlling process (e.g. ``pytest tests/codes``); the cases themselves run
and fail the same either way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

_RESULTS: dict[str, dict[str, int]] = defaultdict(lambda: {"passed": 0, "failed": 0, "xfailed": 0, "skipped": 0})


@pytest.fixture
def vector(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``vector("<file>")`` tags the running test as one case of that vector file (for the summary)."""

    def tag(name: str) -> None:
        request.node.user_properties.append(("vector_file", name))

    return tag


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    files = [v for k, v in report.user_properties if k == "vector_file"]
    if not files:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        bucket = _RESULTS[str(files[0])]
        if hasattr(report, "wasxfail"):
            bucket["xfailed"] += 1
        elif report.outcome in ("passed", "failed", "skipped"):
            bucket[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RESULTS:
        return
    terminalreporter.section("zhuisu.codes conformance vectors: pass rate per file")
    for name in sorted(_RESULTS):
        r = _RESULTS[name]
        total = sum(r.values())
        rate = 100.0 * r["passed"] / total if total else 0.0
        extra = f", {r['xfailed']} known disagreements (xfail, reasons in the tests)" if r["xfailed"] else ""
        extra += f", {r['skipped']} skipped" if r["skipped"] else ""
        terminalreporter.write_line(f"{name}: {r['passed']}/{total} passed ({rate:.1f}%), {r['failed']} failed{extra}")
