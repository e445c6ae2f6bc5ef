"""Unit tests for plugins/modules/docker_image_size.py (no Docker engine needed)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.community.docker.plugins.module_utils import common_api
from ansible_collections.community.docker.plugins.module_utils._api.errors import (
    APIError,
    NotFound,
)

MODULE_PATH = Path(__file__).resolve().parents[4] / "plugins/modules/docker_image_size.py"


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docker_image_size", MODULE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


dis = _load_module()

MB = 1_000_000
BASE = "todo-app/python-base:3.11-bookworm"
IMAGE = "todo-app/backend:abc123"
NOP = "/bin/sh -c #(nop) "

# The engine answers newest entry first, like GET /images/{name}/history.
BASE_HISTORY: list[dict[str, Any]] = [
    {
        "Id": "sha256:base",
        "Created": 200,
        "CreatedBy": NOP + ' CMD ["python3"]',
        "Size": 0,
        "Comment": "",
    },
    {
        "Id": "<missing>",
        "Created": 100,
        "CreatedBy": "",
        "Size": 170 * MB,
        "Comment": "Imported from -",
    },
]
BASE_INSPECT: dict[str, Any] = {
    "Id": "sha256:base",
    "Size": 170 * MB,
    "RootFS": {"Type": "layers", "Layers": ["sha256:l0"]},
}
IMAGE_HISTORY: list[dict[str, Any]] = [
    {
        "Id": "sha256:image",
        "Created": 305,
        "CreatedBy": NOP + ' CMD ["uvicorn", "app.main:app"]',
        "Size": 0,
    },
    {
        "Id": "sha256:i4",
        "Created": 304,
        "CreatedBy": NOP + "COPY dir:" + "a" * 64 + " in /app ",
        "Size": 1_200_000,
    },
    {
        "Id": "sha256:i3",
        "Created": 303,
        "CreatedBy": "|1 UV_VERSION=0.5 /bin/sh -c uv sync --frozen --no-dev",
        "Size": 21_300_000,
    },
    {
        "Id": "sha256:i2",
        "Created": 302,
        "CreatedBy": "/bin/sh -c pip install uv",
        "Size": 18_700_000,
    },
    {
        "Id": "sha256:i1",
        "Created": 301,
        "CreatedBy": NOP + "WORKDIR /app",
        "Size": 0,
    },
    *BASE_HISTORY,
]
IMAGE_SIZE = 170 * MB + 1_200_000 + 21_300_000 + 18_700_000  # 211.2 MB
IMAGE_INSPECT: dict[str, Any] = {
    "Id": "sha256:image",
    "Size": IMAGE_SIZE,
    "RootFS": {
        "Type": "layers",
        "Layers": ["sha256:l0", "sha256:l1", "sha256:l2", "sha256:l3", "sha256:l4"],
    },
}


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("size_bytes", "expected"),
    [
        (0, 0.0),
        (1, 0.0),
        (4_999, 0.0),
        (5_001, 0.01),
        (500_000, 0.5),
        (1_000_000, 1.0),
        (1_048_576, 1.05),  # 1 MiB is not 1 MB: decimal units, as docker images shows
        (182_449_000, 182.45),
        (-41_200_000, -41.2),
    ],
)
def test_bytes_to_mb(size_bytes: int, expected: float) -> None:
    assert dis.bytes_to_mb(size_bytes) == expected


@pytest.mark.parametrize(
    ("size_mb", "expected"),
    [(0, 0), (0.1, 100_000), (2.5, 2_500_000), (500, 500_000_000), (0.0000004, 0)],
)
def test_mb_to_bytes(size_mb: float, expected: int) -> None:
    assert dis.mb_to_bytes(size_mb) == expected
    assert isinstance(dis.mb_to_bytes(size_mb), int)


@pytest.mark.parametrize(
    ("size_bytes", "expected"),
    [
        (0, "0 MB"),
        (1_000, "0.001 MB"),
        (99_000, "0.099 MB"),
        (100_000, "0.1 MB"),
        (3_000_000, "3.0 MB"),
        (182_400_000, "182.4 MB"),
        (182_449_999, "182.4 MB"),
        (-1_000, "-0.001 MB"),
        (1, "<0.001 MB"),
        (499, "<0.001 MB"),
        (500, "0.001 MB"),
        (-499, ">-0.001 MB"),
        (-41_200_000, "-41.2 MB"),
    ],
)
def test_format_mb(size_bytes: int, expected: str) -> None:
    assert dis.format_mb(size_bytes) == expected


@pytest.mark.parametrize(
    ("budget", "expected"),
    [(500, "500 MB"), (500.0, "500 MB"), (0.5, "0.5 MB"), (60, "60 MB")],
)
def test_format_budget(budget: float, expected: str) -> None:
    assert dis.format_budget(budget) == expected


# --------------------------------------------------------------------------- history


@pytest.mark.parametrize(
    ("created_by", "expected"),
    [
        (
            NOP + "COPY file:" + "f" * 64 + " in /a.bin ",
            "COPY file:ffffffffffff in /a.bin",
        ),
        (NOP + " ENV X=1", "ENV X=1"),
        (NOP + "WORKDIR /app", "WORKDIR /app"),
        (
            "/bin/sh -c apt-get update &&     apt-get clean",
            "RUN apt-get update && apt-get clean",
        ),
        ("|2 A=1 B=two /bin/sh -c make install", "RUN make install"),
        ("RUN /bin/sh -c uv sync --frozen # buildkit", "RUN uv sync --frozen"),
        ("RUN |1 UV=0.5 /bin/sh -c uv sync # buildkit", "RUN uv sync"),
        ("COPY /src /app # buildkit", "COPY /src /app"),
        (
            NOP + "COPY --chown=10002:10002dir:" + "0" * 64 + " in ./ ",
            "COPY --chown=10002:10002 dir:000000000000 in ./",
        ),
        (NOP + "ADD multi:" + "b" * 64 + " in / ", "ADD multi:bbbbbbbbbbbb in /"),
        ("COPY file:abc in /short-hash-kept", "COPY file:abc in /short-hash-kept"),
        ("WORKDIR /app", "WORKDIR /app"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_created_by(created_by: str | None, expected: str) -> None:
    assert dis.clean_created_by(created_by) == expected


def test_parse_history_is_oldest_first_and_normalised() -> None:
    entries = dis.parse_history(BASE_HISTORY)
    assert [e["index"] for e in entries] == [0, 1]
    imported, cmd = entries
    assert imported["id"] is None  # "<missing>"
    assert imported["instruction"] == "Imported from -"  # no CreatedBy: the comment
    assert imported["size_bytes"] == 170 * MB
    assert cmd["id"] == "sha256:base"
    assert cmd["instruction"] == 'CMD ["python3"]'
    assert cmd["size_bytes"] == 0


def test_parse_history_tolerates_missing_fields() -> None:
    (entry,) = dis.parse_history([{"Size": None}])
    assert entry == {
        "index": 0,
        "id": None,
        "created": None,
        "created_by": "",
        "instruction": "",
        "comment": "",
        "size_bytes": 0,
    }
    assert dis.parse_history([]) == []


def test_shared_history_count() -> None:
    image = dis.parse_history(IMAGE_HISTORY)
    base = dis.parse_history(BASE_HISTORY)
    assert dis.shared_history_count(image, base) == 2
    assert dis.shared_history_count(base, image) == 0  # base longer than image
    assert dis.shared_history_count(image, []) == 0
    other = dis.parse_history([{**BASE_HISTORY[0], "Created": 999}, BASE_HISTORY[1]])
    assert dis.shared_history_count(image, other) == 0  # partial match is no match


def test_is_layer_prefix() -> None:
    assert dis.is_layer_prefix(["a", "b", "c"], ["a", "b"])
    assert dis.is_layer_prefix(["a"], [])
    assert not dis.is_layer_prefix(["a", "b"], ["b"])
    assert not dis.is_layer_prefix(["a"], ["a", "b"])
    assert dis.rootfs_layers({}) == []
    assert dis.rootfs_layers({"RootFS": {"Layers": None}}) == []


# --------------------------------------------------------------------------- layers


def test_sort_layers_largest_first_without_empty_layers() -> None:
    entries = dis.parse_history(IMAGE_HISTORY)
    ordered = dis.sort_layers(entries, top=10)
    assert [e["size_bytes"] for e in ordered] == [
        170 * MB,
        21_300_000,
        18_700_000,
        1_200_000,
    ]
    assert [e["instruction"] for e in ordered][1:] == [
        "RUN uv sync --frozen --no-dev",
        "RUN pip install uv",
        "COPY dir:aaaaaaaaaaaa in /app",
    ]


def test_sort_layers_top_and_ties() -> None:
    entries = dis.parse_history(IMAGE_HISTORY)
    assert len(dis.sort_layers(entries, top=2)) == 2
    assert len(dis.sort_layers(entries, top=0)) == 4  # 0 = every layer with data
    tied = dis.parse_history([{"Size": 5, "Id": "new"}, {"Size": 5, "Id": "old"}])
    assert [e["id"] for e in dis.sort_layers(tied)] == ["old", "new"]


def test_compute_added_bytes() -> None:
    assert dis.compute_added_bytes(IMAGE_SIZE, 170 * MB) == 41_200_000
    assert dis.compute_added_bytes(5, 5) == 0
    assert dis.compute_added_bytes(5, 8) == -3


# --------------------------------------------------------------------------- budgets


def test_evaluate_budget_under_equal_over() -> None:
    under = dis.evaluate_budget(182_400_000, 500)
    assert under == {
        "budget_mb": 500.0,
        "budget_bytes": 500_000_000,
        "measured_bytes": 182_400_000,
        "measured_mb": 182.4,
        "over_bytes": 0,
        "ok": True,
    }
    assert dis.evaluate_budget(100_000, 0.1)["ok"]  # equal is within budget
    over = dis.evaluate_budget(100_001, 0.1)
    assert not over["ok"] and over["over_bytes"] == 1
    assert not dis.evaluate_budget(1, 0)["ok"]
    assert dis.evaluate_budget(-5, 0)["ok"]  # smaller than the base


def test_evaluate_budgets_only_set_ones() -> None:
    assert dis.evaluate_budgets(10) == {}
    assert dis.budgets_ok({})
    budgets = dis.evaluate_budgets(IMAGE_SIZE, 500, 41_200_000, 30)
    assert set(budgets) == {"max_size_mb", "max_added_mb"}
    assert budgets["max_size_mb"]["ok"]
    assert not budgets["max_added_mb"]["ok"]
    assert budgets["max_added_mb"]["over_bytes"] == 11_200_000
    assert not dis.budgets_ok(budgets)
    assert set(dis.evaluate_budgets(IMAGE_SIZE, None, 41_200_000, None)) == set()
    with pytest.raises(ValueError, match="base image"):
        dis.evaluate_budgets(IMAGE_SIZE, max_added_mb=30)


# --------------------------------------------------------------------------- measure


def _measure(top: int = 10, with_base: bool = True) -> tuple[dict[str, Any], list[str]]:
    result: tuple[dict[str, Any], list[str]]
    if not with_base:
        result = dis.measure_image(IMAGE, IMAGE_INSPECT, IMAGE_HISTORY, top=top)
        return result
    result = dis.measure_image(
        IMAGE,
        IMAGE_INSPECT,
        IMAGE_HISTORY,
        top=top,
        base_name=BASE,
        base_inspect=BASE_INSPECT,
        base_history=BASE_HISTORY,
    )
    return result


def test_measure_image_without_base() -> None:
    info, warnings = _measure(with_base=False)
    assert warnings == []
    assert info["name"] == IMAGE
    assert info["id"] == "sha256:image"
    assert info["size_bytes"] == IMAGE_SIZE
    assert info["size_mb"] == 211.2
    assert info["layer_count"] == 5
    assert "base" not in info and "added_bytes" not in info
    assert info["layers"][0] == {
        "size_bytes": 170 * MB,
        "size_mb": 170.0,
        "created_by": "Imported from -",
        "id": None,
    }


def test_measure_image_with_base() -> None:
    info, warnings = _measure(top=3)
    assert warnings == []
    assert info["added_bytes"] == 41_200_000
    assert info["added_mb"] == 41.2
    assert info["base"] == {
        "name": BASE,
        "id": "sha256:base",
        "size_bytes": 170 * MB,
        "size_mb": 170.0,
        "layer_count": 1,
        "is_ancestor": True,
    }
    assert [(layer["size_mb"], layer["from_base"]) for layer in info["layers"]] == [
        (170.0, True),
        (21.3, False),
        (18.7, False),
    ]


def test_measure_image_warns_when_not_built_on_base() -> None:
    other_base = {**BASE_INSPECT, "RootFS": {"Layers": ["sha256:other"]}}
    info, warnings = dis.measure_image(
        IMAGE, IMAGE_INSPECT, IMAGE_HISTORY, base_name="x:1", base_inspect=other_base
    )
    assert info["base"]["is_ancestor"] is False
    assert not any(layer["from_base"] for layer in info["layers"])
    assert len(warnings) == 1 and "does not look like it is built on x:1" in warnings[0]


# --------------------------------------------------------------------------- report


def test_format_report_matches_the_documented_shape() -> None:
    info, _ = _measure(top=3)
    budgets = dis.evaluate_budgets(info["size_bytes"], 500, info["added_bytes"], 60)
    report = dis.format_report(info, budgets)
    assert report[0] == (
        f"{IMAGE}: 211.2 MB total (budget 500 MB, ok), 5 layers, 41.2 MB over base {BASE} (budget 60 MB, ok)"
    )
    assert report[1:] == [
        "   170.0 MB  [base] Imported from -",
        "    21.3 MB  RUN uv sync --frozen --no-dev",
        "    18.7 MB  RUN pip install uv",
    ]


def test_format_report_over_budget_and_singular_layer() -> None:
    info = {
        "name": "x:1",
        "size_bytes": 3_000_000,
        "layer_count": 1,
        "layers": [{"size_bytes": 3_000_000, "created_by": "COPY a /a"}],
    }
    report = dis.format_report(info, dis.evaluate_budgets(3_000_000, 2.5))
    assert report == [
        "x:1: 3.0 MB total (budget 2.5 MB, OVER by 0.5 MB), 1 layer",
        "     3.0 MB  COPY a /a",
    ]
    assert dis.format_report(info, {})[0] == "x:1: 3.0 MB total, 1 layer"


def test_format_layer_line_shortens_long_instructions() -> None:
    layer = {"size_bytes": 1, "created_by": "RUN " + "x" * 300}
    line = dis.format_layer_line(layer)
    assert line.endswith("…")
    assert len(line.split("  ", 2)[-1].strip()) <= dis.REPORT_INSTRUCTION_WIDTH
    empty = dis.format_layer_line({"size_bytes": 1, "created_by": ""})
    assert empty.endswith("(no instruction recorded)")


def test_format_failure_total_budget() -> None:
    info, _ = _measure()
    budgets = dis.evaluate_budgets(info["size_bytes"], 200)
    msg = dis.format_failure(info, budgets)
    assert "expected a total size of at most 200 MB (max_size_mb), found 211.2 MB" in msg
    assert "(11.2 MB over)" in msg
    assert "Largest layers: 170.0 MB Imported from -; 21.3 MB RUN uv sync" in msg
    assert "multi-stage build" in msg and "raise the budget" in msg


def test_format_failure_added_budget_lists_only_added_layers() -> None:
    info, _ = _measure()
    budgets = dis.evaluate_budgets(info["size_bytes"], 500, info["added_bytes"], 30)
    msg = dis.format_failure(info, budgets)
    assert f"expected at most 30 MB added over base {BASE} (max_added_mb)" in msg
    assert "found 41.2 MB (11.2 MB over)" in msg
    assert "total size" not in msg  # the total budget is fine
    assert "Largest layers: 21.3 MB RUN uv sync --frozen --no-dev; 18.7 MB" in msg
    assert "Imported from -" not in msg  # the base's layer is not to blame


# --------------------------------------------------------------------------- docs


def test_docs_are_yaml_and_match_the_argument_spec() -> None:
    doc = yaml.safe_load(dis.DOCUMENTATION)
    assert doc["module"] == "docker_image_size"
    assert doc["author"] == ["todo-app developers"]
    assert set(doc["options"]) == set(dis.ARGUMENT_SPEC)
    for option, spec in dis.ARGUMENT_SPEC.items():
        assert doc["options"][option]["type"] == spec["type"], option
        assert doc["options"][option].get("default") == spec.get("default"), option
        assert bool(doc["options"][option].get("required")) == bool(spec.get("required"))
    assert isinstance(yaml.safe_load(dis.EXAMPLES), list)
    returned = yaml.safe_load(dis.RETURN)
    assert set(returned) == {"image", "budgets", "report"}

    def leaves(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
        for key, value in node.items():
            if "contains" in value:
                yield from leaves(value["contains"], f"{path}{key}.")
            else:
                yield f"{path}{key}", value

    for path, value in leaves(returned):
        for field in ("description", "type", "returned", "sample"):
            assert field in value, f"RETURN {path} lacks {field}"


# --------------------------------------------------------------------------- main()


class AnsibleExitJson(Exception):
    """Raised instead of exiting by the patched AnsibleModule.exit_json."""


class AnsibleFailJson(Exception):
    """Raised instead of exiting by the patched AnsibleModule.fail_json."""


def _exit_json(self: Any, **kwargs: Any) -> None:
    raise AnsibleExitJson(kwargs)


def _fail_json(self: Any, msg: str, **kwargs: Any) -> None:
    kwargs["msg"] = msg
    kwargs.setdefault("failed", True)
    raise AnsibleFailJson(kwargs)


IMAGES: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    IMAGE: (IMAGE_INSPECT, IMAGE_HISTORY),
    BASE: (BASE_INSPECT, BASE_HISTORY),
}


@pytest.fixture
def engine() -> Iterator[mock.MagicMock]:
    """The real AnsibleDockerClient (argument parsing included) without a daemon connection."""

    def get_json(self: Any, pathfmt: str, name: str) -> Any:
        if name not in IMAGES:
            raise NotFound(f"No such image: {name}")
        inspect, history = IMAGES[name]
        return history if pathfmt.endswith("/history") else inspect

    with (
        mock.patch.object(common_api.AnsibleDockerClientBase, "__init__", lambda self, **kw: None),
        mock.patch.object(
            common_api.AnsibleDockerClient,
            "get_json",
            autospec=True,
            side_effect=get_json,
        ) as patched,
        mock.patch.object(basic.AnsibleModule, "exit_json", _exit_json),
        mock.patch.object(basic.AnsibleModule, "fail_json", _fail_json),
    ):
        yield patched


def _run(args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    with (
        patch_module_args(args),
        pytest.raises((AnsibleExitJson, AnsibleFailJson)) as info,
    ):
        dis.main()
    outcome = "exit" if isinstance(info.value, AnsibleExitJson) else "fail"
    return outcome, info.value.args[0]


def test_main_measures_within_budget(engine: mock.MagicMock) -> None:
    outcome, result = _run(
        {
            "name": IMAGE,
            "base_image": BASE,
            "max_size_mb": 500,
            "max_added_mb": 60,
            "top_layers": 2,
        }
    )
    assert outcome == "exit"
    assert result["changed"] is False
    assert result["image"]["size_bytes"] == IMAGE_SIZE
    assert result["image"]["added_bytes"] == 41_200_000
    assert len(result["image"]["layers"]) == 2
    assert result["budgets"]["max_size_mb"]["ok"] and result["budgets"]["max_added_mb"]["ok"]
    assert result["report"][0].endswith(f"41.2 MB over base {BASE} (budget 60 MB, ok)")
    called = [call.args[1:] for call in engine.call_args_list]
    assert called == [
        ("/images/{0}/json", IMAGE),
        ("/images/{0}/history", IMAGE),
        ("/images/{0}/json", BASE),
        ("/images/{0}/history", BASE),
    ]


def test_main_check_mode_is_the_same(engine: mock.MagicMock) -> None:
    outcome, result = _run({"name": IMAGE, "_ansible_check_mode": True})
    assert outcome == "exit"
    assert result["changed"] is False
    assert result["budgets"] == {}
    assert result["report"][0] == f"{IMAGE}: 211.2 MB total, 5 layers"


def test_main_fails_over_budget_with_breakdown(engine: mock.MagicMock) -> None:
    outcome, result = _run({"name": IMAGE, "base_image": BASE, "max_added_mb": 30})
    assert outcome == "fail"
    assert result["changed"] is False
    assert result["msg"].startswith(f"Image {IMAGE} is over its size budget:")
    assert "expected at most 30 MB added over base" in result["msg"]
    assert "found 41.2 MB" in result["msg"]
    assert "RUN uv sync --frozen --no-dev" in result["msg"]
    assert result["budgets"]["max_added_mb"]["ok"] is False
    assert result["image"]["layers"]  # the breakdown comes with the failure
    assert "OVER by 11.2 MB" in result["report"][0]


def test_main_image_not_found(engine: mock.MagicMock) -> None:
    outcome, result = _run({"name": "todo-app/nope:1"})
    assert outcome == "fail"
    assert "Image todo-app/nope:1 (name) was not found" in result["msg"]
    assert "docker build -t todo-app/nope:1 ." in result["msg"]
    assert "does not pull" in result["msg"]


def test_main_base_image_not_found(engine: mock.MagicMock) -> None:
    outcome, result = _run({"name": IMAGE, "base_image": "todo-app/nope:base"})
    assert outcome == "fail"
    assert "Image todo-app/nope:base (base_image) was not found" in result["msg"]


def test_main_max_added_needs_base_image(engine: mock.MagicMock) -> None:
    outcome, result = _run({"name": IMAGE, "max_added_mb": 10})
    assert outcome == "fail"
    assert "max_added_mb" in result["msg"] and "base_image" in result["msg"]
    engine.assert_not_called()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"max_size_mb": -1}, "max_size_mb must be 0 or more"),
        ({"top_layers": -2}, "top_layers must be 0 (all layers) or more, found -2"),
    ],
)
def test_main_rejects_negative_values(engine: mock.MagicMock, args: dict[str, Any], needle: str) -> None:
    outcome, result = _run({"name": IMAGE, **args})
    assert outcome == "fail"
    assert needle in result["msg"]


def test_main_reports_engine_errors(engine: mock.MagicMock) -> None:
    engine.side_effect = APIError("500 Server Error: boom")
    outcome, result = _run({"name": IMAGE})
    assert outcome == "fail"
    assert "An unexpected Docker error occurred" in result["msg"]
    assert "boom" in result["msg"]
