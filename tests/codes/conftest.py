"""zhuisu.codes tests: the ``vector`` tag and the per-vector-file pass-rate table (see vector_summary.py)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

_PLUGIN = "codes.vector_summary"


def _summary_plugin() -> ModuleType:
    """The one module object of vector_summary, whether ``pytest_plugins`` imported it first or not."""
    module = sys.modules.get(_PLUGIN)
    if module is None:
        spec = importlib.util.spec_from_file_location(_PLUGIN, Path(__file__).with_name("vector_summary.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_PLUGIN] = module
        spec.loader.exec_module(module)
    return module


def pytest_configure(config: pytest.Config) -> None:
    plugin = _summary_plugin()
    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, _PLUGIN)


@pytest.fixture
def vector(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``vector("<file>")`` tags the running test as one case of that vector file (for the summary)."""

    def tag(name: str) -> None:
        request.node.user_properties.append(("vector_file", name))

    return tag
