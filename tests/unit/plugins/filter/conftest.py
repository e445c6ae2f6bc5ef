"""Load the filter plugins as Python modules, by path, as Ansible's loader does."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"


def load_filter(name: str) -> ModuleType:
    """plugins/filter/<name>.py as a Python module."""
    spec = importlib.util.spec_from_file_location(f"todo_filter_{name}", PLUGINS / "filter" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
