"""Every custom module's DOCUMENTATION says what its argument spec accepts, and its EXAMPLES
and RETURN are YAML (what ansible-test's validate-modules checks for a collection)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import yaml
from ansible.module_utils import basic

from .conftest import PLUGINS, load_module

MODULES = sorted(path.stem for path in (PLUGINS / "modules").glob("*.py"))


class _SpecCaptured(Exception):
    """Raised by the stand-in AnsibleModule once it has the argument spec."""


def argument_spec(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The argument spec the module's main() hands to AnsibleModule."""
    captured: dict[str, Any] = {}

    def capture(self: Any, argument_spec: dict[str, Any], **kwargs: Any) -> None:
        captured.update(argument_spec)
        raise _SpecCaptured

    monkeypatch.setattr(basic.AnsibleModule, "__init__", capture)
    module = load_module(name)
    with pytest.raises(_SpecCaptured):
        module.main()
    return captured


def documented_options(doc: dict[str, Any]) -> dict[str, Any]:
    """The module's options plus those of the documentation fragments it extends."""
    options = dict(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment") or []:
        # namespace.collection.fragment, optionally .variable (a class attribute, upper case)
        namespace, collection, fragment_name, *variable = fragment.split(".")
        source = importlib.import_module(
            f"ansible_collections.{namespace}.{collection}.plugins.doc_fragments.{fragment_name}"
        )
        text = getattr(source.ModuleDocFragment, (variable[0] if variable else "documentation").upper())
        options.update(yaml.safe_load(text).get("options") or {})
    return options


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_the_argument_spec(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_module(name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == name
    assert doc["short_description"] and doc["description"]
    options = documented_options(doc)
    spec = argument_spec(name, monkeypatch)
    assert set(options) == set(spec), f"{name}: documented {sorted(options)} but accepts {sorted(spec)}"
    for option, accepted in spec.items():
        documented = options[option]
        assert documented.get("type", "str") == accepted.get("type", "str"), f"{name}.{option} type"
        assert documented.get("default") == accepted.get("default"), f"{name}.{option} default"
        assert bool(documented.get("required")) == bool(accepted.get("required")), f"{name}.{option} required"
        assert documented.get("choices") == accepted.get("choices"), f"{name}.{option} choices"
        assert documented.get("elements") == accepted.get("elements"), f"{name}.{option} elements"
        assert documented.get("description"), f"{name}.{option} has no description"


@pytest.mark.parametrize("name", MODULES)
def test_examples_and_return_are_yaml_with_the_fields_ansible_doc_shows(name: str) -> None:
    module = load_module(name)
    assert isinstance(yaml.safe_load(module.EXAMPLES), list)
    returned = yaml.safe_load(module.RETURN) or {}
    for key, value in returned.items():
        for field in ("description", "returned", "type"):
            assert field in value, f"{name}: RETURN {key} lacks {field}"
