"""Helpers for the deployment tests: run ansible-playbook from the repository root."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
CACHE_BIN = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "todo-app" / "bin"
RECAP_RE = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
    re.M,
)


@dataclass
class Run:
    returncode: int
    output: str

    def recap(self, host: str = "localhost") -> dict[str, int]:
        """The PLAY RECAP counters of ``host`` (the last recap in the output)."""
        matches = [m for m in RECAP_RE.finditer(self.output) if m.group("host") == host]
        assert matches, f"no PLAY RECAP for {host} in:\n{self.output[-3000:]}"
        last = matches[-1]
        return {key: int(last.group(key)) for key in ("ok", "changed", "unreachable", "failed")}


def ansible_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(BIN_DIR), str(CACHE_BIN), env.get("PATH", "")])
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env.update(extra)
    return env


def run_playbook(playbook: str | Path, *args: str, timeout: int = 1800, **env: str) -> Run:
    command = [str(BIN_DIR / "ansible-playbook"), str(playbook), *args]
    proc = subprocess.run(
        command,
        cwd=REPO,
        env=ansible_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout)


def extra_vars(values: dict[str, Any]) -> list[str]:
    return ["-e", json.dumps(values)]


@pytest.fixture
def playbook() -> Callable[..., Run]:
    return run_playbook


@pytest.fixture
def write_play(tmp_path: Path) -> Callable[[Sequence[dict[str, Any]]], Path]:
    """Write a throwaway playbook (YAML is a superset of JSON) next to the roles path."""

    def write(plays: Sequence[dict[str, Any]]) -> Path:
        path = tmp_path / "play.yml"
        path.write_text(json.dumps(list(plays)))
        return path

    return write
