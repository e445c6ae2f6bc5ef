"""stage_stamp: a stage counts as current only when inputs, files, processes and probes all agree."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import load_module

_MODULE = load_module("stage_stamp")
check = _MODULE.check
record = _MODULE.record


@pytest.fixture
def stage(tmp_path: Path) -> dict[str, Any]:
    tool = tmp_path / "bin" / "tool"
    tool.parent.mkdir()
    tool.write_bytes(b"v1 binary")
    tree = tmp_path / "role"
    (tree / "tasks").mkdir(parents=True)
    (tree / "tasks" / "main.yml").write_text("- name: one\n")
    pidfile = tmp_path / "self.pid"
    pidfile.write_text(f"{os.getpid()}\n")
    return {
        "path": str(tmp_path / "state" / "stage.json"),
        "inputs": {"version": "v1"},
        "trees": [str(tree)],
        "files": [str(tool)],
        "pidfiles": [str(pidfile)],
        "probes": [{"name": "true answers", "argv": ["true"], "stdout_regex": [], "timeout": 5}],
    }


def recorded(stage: dict[str, Any]) -> dict[str, Any]:
    record(stage, write=True)
    return stage


def test_no_stamp_is_not_current(stage: dict[str, Any]) -> None:
    result = check(stage)
    assert not result["current"]
    assert "no stamp" in result["reasons"][0]


def test_recorded_stage_is_current(stage: dict[str, Any]) -> None:
    result = check(recorded(stage))
    assert result["current"], result["reasons"]
    assert result["reasons"] == []


def test_check_mode_record_writes_nothing(stage: dict[str, Any]) -> None:
    record(stage, write=False)
    assert not Path(stage["path"]).exists()


def test_changed_input_is_not_current(stage: dict[str, Any]) -> None:
    recorded(stage)
    result = check({**stage, "inputs": {"version": "v2"}})
    assert not result["current"]
    assert "inputs" in result["reasons"][0]


def test_changed_role_file_is_not_current(stage: dict[str, Any]) -> None:
    recorded(stage)
    (Path(stage["trees"][0]) / "tasks" / "main.yml").write_text("- name: two\n")
    assert not check(stage)["current"]


def test_replaced_binary_is_not_current(stage: dict[str, Any]) -> None:
    recorded(stage)
    Path(stage["files"][0]).write_bytes(b"v2 binary")
    result = check(stage)
    assert not result["current"]
    assert result["reasons"] == [f"{stage['files'][0]} changed since it was recorded"]


def test_same_size_edit_with_the_old_mtime_is_still_seen(stage: dict[str, Any]) -> None:
    recorded(stage)
    tool = Path(stage["files"][0])
    before = tool.stat()
    tool.write_bytes(b"v9 binary")  # same length
    os.utime(tool, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not check(stage)["current"]


def test_touched_file_with_the_same_content_is_current(stage: dict[str, Any]) -> None:
    recorded(stage)
    tool = Path(stage["files"][0])
    tool.write_bytes(tool.read_bytes())
    assert check(stage)["current"]


def test_missing_file_is_not_current(stage: dict[str, Any]) -> None:
    recorded(stage)
    Path(stage["files"][0]).unlink()
    assert check(stage)["reasons"] == [f"{stage['files'][0]} is missing"]


def test_dead_process_is_not_current(stage: dict[str, Any], tmp_path: Path) -> None:
    recorded(stage)
    Path(stage["pidfiles"][0]).write_text("999999999\n")
    result = check(stage)
    assert not result["current"]
    assert "is not running" in result["reasons"][0]


def test_failing_probe_is_not_current(stage: dict[str, Any]) -> None:
    recorded(stage)
    result = check({**stage, "probes": [{"name": "the API answers", "argv": ["false"], "stdout_regex": []}]})
    assert not result["current"]
    assert result["reasons"][0].startswith("the API answers: no")


def test_probe_output_must_match_every_pattern(stage: dict[str, Any]) -> None:
    recorded(stage)
    probe = {
        "name": "the node is Ready",
        "argv": ["printf", "a=1\\nb=0\\n"],
        "stdout_regex": ["^a=1$", "^b=[1-9]"],
    }
    assert not check({**stage, "probes": [probe]})["current"]
    assert check({**stage, "probes": [{**probe, "stdout_regex": ["^a=1$", "^b=0$"]}]})["current"]


def test_probes_are_not_asked_when_something_else_differs(stage: dict[str, Any], tmp_path: Path) -> None:
    recorded(stage)
    marker = tmp_path / "asked"
    probe = {"name": "slow question", "argv": ["touch", str(marker)], "stdout_regex": []}
    check({**stage, "inputs": {"version": "v2"}, "probes": [probe]})
    assert not marker.exists()
    check({**stage, "probes": [probe]})
    assert marker.exists()


def test_the_same_files_in_another_clone_match(stage: dict[str, Any], tmp_path: Path) -> None:
    recorded(stage)
    clone = tmp_path / "clone" / "role"
    shutil.copytree(stage["trees"][0], clone)
    assert check({**stage, "trees": [str(clone)]})["current"]
