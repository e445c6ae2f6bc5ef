"""Read the `## @param` documentation of values.yaml and the README's parameter table."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

PARAM = re.compile(r"^\s*## @param (?P<key>\S+) (?P<description>.+?)\s*$")
ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| (?P<description>.*?) \| `(?P<default>.*)` \|$")


def params(values_yaml: Path) -> dict[str, str]:
    """key -> description of every `## @param` line."""
    found: dict[str, str] = {}
    for line in values_yaml.read_text().splitlines():
        match = PARAM.match(line)
        if match:
            assert match["key"] not in found, f"{match['key']} documented twice"
            found[match["key"]] = match["description"]
    return found


def readme_rows(readme: Path) -> dict[str, tuple[str, str]]:
    """key -> (description, default) of every parameter-table row."""
    rows: dict[str, tuple[str, str]] = {}
    for line in readme.read_text().splitlines():
        match = ROW.match(line)
        if match:
            assert match["key"] not in rows, f"{match['key']} listed twice in the README"
            rows[match["key"]] = (match["description"], match["default"])
    return rows


def lookup(values: dict[str, Any], key: str) -> Any:
    node: Any = values
    for part in key.split("."):
        node = node[part]
    return node


def leaf_keys(node: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every scalar, list or empty map in the values."""
    if isinstance(node, dict) and node:
        return [
            k
            for name, child in node.items()
            for k in leaf_keys(child, f"{prefix}.{name}" if prefix else name)
        ]
    return [prefix]


def default_text(value: Any) -> str:
    """How the README shows a default: JSON, except plain text for non-empty strings."""
    if isinstance(value, str) and value:
        return value
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"))
