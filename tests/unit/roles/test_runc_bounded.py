"""runc-bounded: runc gets no capability the host's bounding set lacks, and nothing else changes."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def load() -> ModuleType:
    path = ROOT / "roles/toolchain/files/runc-bounded"
    loader = importlib.machinery.SourceFileLoader("runc_bounded", str(path))
    spec = importlib.util.spec_from_loader("runc_bounded", loader)
    assert spec
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


wrapper = load()
# These VMs: every capability up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE (bit 24).
SHORT_STATUS = "Name:\trunc\nCapBnd:\t000001fffeffffff\n"
ALL = list(wrapper.CAPABILITY_NAMES)


def spec_with(caps: list[str]) -> dict[str, Any]:
    return {
        "process": {"capabilities": {kind: list(caps) for kind in ("bounding", "effective", "permitted")}},
        "root": {"path": "rootfs"},
    }


def test_the_bounding_set_is_read_from_the_status_line() -> None:
    allowed = wrapper.bounding_set(SHORT_STATUS)
    assert "CAP_SYS_RESOURCE" not in allowed
    assert "CAP_SYS_ADMIN" in allowed and "CAP_CHECKPOINT_RESTORE" in allowed


def test_create_drops_only_what_the_host_lacks_from_every_set(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(spec_with(ALL)))
    target = wrapper.spec_to_clamp(
        ["--root", "/run/runc", "--log", "x.log", "create", "--bundle", str(tmp_path), "id"]
    )
    assert target == (tmp_path / "config.json", ("process", "capabilities"))
    assert wrapper.clamp_file(*target, wrapper.bounding_set(SHORT_STATUS))
    caps = json.loads((tmp_path / "config.json").read_text())["process"]["capabilities"]
    for kind in ("bounding", "effective", "permitted"):
        assert caps[kind] == [name for name in ALL if name != "CAP_SYS_RESOURCE"]


def test_a_spec_within_the_bounding_set_is_left_byte_for_byte(tmp_path: Path) -> None:
    text = json.dumps(spec_with(["CAP_CHOWN", "CAP_NET_BIND_SERVICE"]), indent=1)
    (tmp_path / "config.json").write_text(text)
    assert not wrapper.clamp_file(
        tmp_path / "config.json", ("process", "capabilities"), wrapper.bounding_set(SHORT_STATUS)
    )
    assert (tmp_path / "config.json").read_text() == text


def test_exec_clamps_the_process_file(tmp_path: Path) -> None:
    process = tmp_path / "process.json"
    process.write_text(json.dumps({"args": ["sh"], "capabilities": {"effective": ALL}}))
    target = wrapper.spec_to_clamp(["--root", "/r", "exec", "--process", str(process), "--detach", "id"])
    assert target == (process, ("capabilities",))
    wrapper.clamp_file(*target, wrapper.bounding_set(SHORT_STATUS))
    assert "CAP_SYS_RESOURCE" not in json.loads(process.read_text())["capabilities"]["effective"]


def test_other_subcommands_are_passed_through() -> None:
    for argv in (
        ["--root", "/r", "state", "id"],
        ["delete", "--force", "id"],
        ["--version"],
        ["exec", "id", "true"],
    ):
        assert wrapper.spec_to_clamp(argv) is None
