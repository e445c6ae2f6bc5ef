"""run_bounded: a command past its time limit is ended with everything it started."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.bounded_run import run_bounded


def test_a_command_past_its_limit_is_killed_with_the_processes_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    # The grandchild sleeps on after its parent is killed, as an ansible-playbook worker's Go build did.
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    with pytest.raises(subprocess.TimeoutExpired):
        run_bounded(["bash", "-c", script], timeout=2, stdout=subprocess.PIPE)
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(grandchild, 9)
    pytest.fail(f"process {grandchild}, started by the command, outlived its time limit")


def test_a_command_within_its_limit_returns_its_output_and_status() -> None:
    result = run_bounded(
        ["sh", "-c", "echo out; echo err >&2; exit 3"],
        timeout=10,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
