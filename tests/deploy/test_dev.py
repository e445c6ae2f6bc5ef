"""`make dev` (scripts/dev.py) against the running cluster: a saved change is rolled out and
served; a change that fails is reported, nothing of it is released, and the watch goes on.
(A rollout whose pods crash is undone by the release role: tests/deploy/test_site.py.)"""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO, Run, ansible_env, changed_source, http_get, image_tag

pytestmark = pytest.mark.cluster

# The target for a saved backend change until the new pod serves is 20 s; the test
# only bounds it loosely, so a loaded CI machine does not fail it (bench measures it).
SERVED_WITHIN_S = 120


class Dev:
    """scripts/dev.py in the background, its output read line by line."""

    def __init__(self, source: Path, changes: int) -> None:
        argv = [sys.executable, "scripts/dev.py", "--project-dir", str(source)]
        argv += ["--max-changes", str(changes), "--no-logs"]
        self.process = subprocess.Popen(
            argv, cwd=REPO, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip())

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.process.poll() is None or not self.lines.empty(), "\n".join(self.seen[-40:])
                continue
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(
            f"no line matching {pattern!r} within {timeout} s:\n" + "\n".join(self.seen[-40:])
        )


@pytest.fixture
def dev_source(tmp_path: Path) -> Iterator[Path]:
    yield changed_source(tmp_path / "src")


def test_a_saved_change_is_served_and_a_failing_one_is_reported_while_the_watch_goes_on(
    deployed: Run, dev_source: Path
) -> None:
    dev = Dev(dev_source, changes=3)
    try:
        dev.wait_for(r"watching .*Ctrl-C stops", timeout=900)
        first_tag = image_tag("backend")

        (dev_source / "backend/app/dev_change.py").write_text('"""A change make dev rolls out."""\n')
        served = dev.wait_for(
            r"backend: new pod serving ([0-9.]+) s after the save", timeout=SERVED_WITHIN_S + 60
        )
        assert float(served[1]) < SERVED_WITHIN_S
        changed_tag = image_tag("backend")
        assert changed_tag != first_tag, "the saved change did not reach the release"
        assert http_get("/api/ready").status == 200

        # A change that cannot be built (the image build imports the app): reported, nothing
        # released, the release still serves, and the watch goes on to the next save.
        main = dev_source / "backend/app/main.py"
        good = main.read_text()
        main.write_text(good + "\nraise SystemExit('broken on purpose by test_dev')\n")
        dev.wait_for(
            r"backend: failed before anything was released after [0-9.]+ s \(see above\); still watching", 600
        )
        assert "broken on purpose by test_dev" in "\n".join(dev.seen)
        assert image_tag("backend") == changed_tag, "a change that failed to build reached the release"
        assert http_get("/api/ready").status == 200

        main.write_text(good + "\n# fixed by test_dev\n")  # new content: a new image to roll out
        dev.wait_for(r"backend: new pod serving ([0-9.]+) s after the save", timeout=SERVED_WITHIN_S + 60)
        assert http_get("/api/ready").status == 200
        assert dev.process.wait(timeout=60) == 0
    finally:
        if dev.process.poll() is None:
            dev.process.kill()
            dev.process.wait()
