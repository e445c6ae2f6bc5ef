"""values.yaml documents every key, and README.md's parameter table matches it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from chart_helpers import CHART_DIR
from values_doc import default_text, leaf_keys, lookup, params, readme_rows

VALUES_FILE = CHART_DIR / "values.yaml"
VALUES = yaml.safe_load(VALUES_FILE.read_text())
PARAMS = params(VALUES_FILE)
ROWS = readme_rows(CHART_DIR / "README.md")
SCHEMA = json.loads((CHART_DIR / "values.schema.json").read_text())


def test_values_have_params() -> None:
    assert len(PARAMS) > 40, "the @param parser found too few lines"


def test_every_values_key_is_documented() -> None:
    def documented(key: str) -> bool:
        parts = key.split(".")
        return any(".".join(parts[:n]) in PARAMS for n in range(len(parts), 0, -1))

    undocumented = [key for key in leaf_keys(VALUES) if not documented(key)]
    assert not undocumented, f"keys without a ## @param line: {undocumented}"


def test_every_param_names_a_values_key() -> None:
    missing = []
    for key in PARAMS:
        try:
            lookup(VALUES, key)
        except (KeyError, TypeError):
            missing.append(key)
    assert not missing, f"@param lines for keys not in values.yaml: {missing}"


def test_every_param_is_in_the_readme_table() -> None:
    assert sorted(set(PARAMS) - set(ROWS)) == []


def test_every_readme_row_is_a_param() -> None:
    assert sorted(set(ROWS) - set(PARAMS)) == []


@pytest.mark.parametrize("key", sorted(PARAMS))
def test_readme_row_matches_values(key: str) -> None:
    if key not in ROWS:
        pytest.fail(f"{key} missing from the README table")
    description, default = ROWS[key]
    assert description == PARAMS[key]
    assert default == default_text(lookup(VALUES, key))


def schema_node(key: str) -> dict[str, Any]:
    node: dict[str, Any] = SCHEMA
    for part in key.split("."):
        node = node["properties"][part]
        if "$ref" in node:
            node = SCHEMA["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


@pytest.mark.parametrize("key", sorted(PARAMS))
def test_every_param_is_in_the_schema(key: str) -> None:
    try:
        schema_node(key)
    except KeyError:
        pytest.fail(f"{key} is not declared in values.schema.json")


def test_the_parsers_see_a_broken_readme(tmp_path: Any) -> None:
    """Dropping a row or changing a default is noticed, so the checks above have teeth."""
    text = (CHART_DIR / "README.md").read_text()
    broken = tmp_path / "README.md"
    broken.write_text(
        text.replace("| `backend.replicaCount` |", "| `backend.replicas` |").replace(
            "| `30000` |", "| `30001` |"
        )
    )
    rows = readme_rows(broken)
    assert "backend.replicaCount" not in rows
    assert rows["frontend.service.nodePort"][1] != default_text(lookup(VALUES, "frontend.service.nodePort"))
