"""image_refs: the same tags the per-image digest gave, a runtime's change reaching the image on it,
and only the missing images reported for building."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import load_module

image_refs = load_module("image_refs")
build_context_digest = load_module("build_context_digest")


@pytest.fixture
def contexts(tmp_path: Path) -> dict[str, Path]:
    found = {}
    for name in ("runtime", "app"):
        context = tmp_path / name
        context.mkdir()
        (context / "Dockerfile").write_text(f"FROM scratch\nCOPY {name}.txt /\n")
        (context / f"{name}.txt").write_text(f"{name} v1\n")
        found[name] = context
    return found


def builds(contexts: dict[str, Path]) -> list[dict[str, Any]]:
    return [
        {
            "name": "runtime",
            "repository": "todo/runtime",
            "context": str(contexts["runtime"]),
            "base": "base:1",
            "args": {},
        },
        {
            "name": "app",
            "repository": "todo/app",
            "context": str(contexts["app"]),
            "base": "base:1",
            "runtime": "runtime",
            "tag_prefix": "15-",
            "args": {"PG_MAJOR": "15"},
        },
    ]


def ids(name: str) -> str | None:
    return {"base:1": "sha256:base"}.get(name)


def test_tags_are_those_the_per_image_digest_gave(contexts: dict[str, Path]) -> None:
    result = image_refs.plan(builds(contexts), ids, lambda ref: False, 12)
    runtime_ref = result["images"]["runtime"]["ref"]
    expected = build_context_digest.digest_context(
        contexts["app"],
        "Dockerfile",
        ["sha256:base", "BASE_IMAGE=base:1", "PG_MAJOR=15", f"RUNTIME_IMAGE={runtime_ref}"],
    )["sha256"][:12]
    assert result["images"]["app"]["ref"] == f"todo/app:15-{expected}"
    assert result["images"]["app"]["base"] == runtime_ref
    assert result["images"]["app"]["args"]["RUNTIME_IMAGE"] == runtime_ref


def test_a_runtime_change_changes_the_image_built_on_it(contexts: dict[str, Path]) -> None:
    before = image_refs.plan(builds(contexts), ids, lambda ref: False, 12)["images"]
    (contexts["runtime"] / "runtime.txt").write_text("runtime v2\n")
    after = image_refs.plan(builds(contexts), ids, lambda ref: False, 12)["images"]
    assert after["runtime"]["ref"] != before["runtime"]["ref"]
    assert after["app"]["ref"] != before["app"]["ref"]


def test_only_missing_images_are_to_be_built(contexts: dict[str, Path]) -> None:
    first = image_refs.plan(builds(contexts), ids, lambda ref: False, 12)
    assert first["missing"] == ["runtime", "app"]
    present = {first["images"]["runtime"]["ref"]}
    again = image_refs.plan(builds(contexts), ids, lambda ref: ref in present, 12)
    assert again["missing"] == ["app"]
    assert again["images"]["runtime"]["exists"] is True


def test_a_missing_base_names_the_images_as_unbuilt(contexts: dict[str, Path]) -> None:
    result = image_refs.plan(builds(contexts), lambda name: None, lambda ref: True, 12)
    with_base = image_refs.plan(builds(contexts), ids, lambda ref: True, 12)
    assert result["images"]["runtime"]["ref"] != with_base["images"]["runtime"]["ref"]


def test_a_runtime_must_be_built_first(contexts: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="must come earlier"):
        image_refs.plan(list(reversed(builds(contexts))), ids, lambda ref: False, 12)
