"""Load the custom modules the way Ansible ships them: their module_utils importable as
ansible.module_utils.<name>, so a module needs no import fallback of its own."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


for _util in sorted((PLUGINS / "module_utils").glob("*.py")):
    _load(f"ansible.module_utils.{_util.stem}", _util)


def load_module(name: str) -> ModuleType:
    """plugins/modules/<name>.py as a Python module."""
    return _load(name, PLUGINS / "modules" / f"{name}.py")
