"""Run a command under a time limit that also ends what it started.

``subprocess.run(timeout=...)`` kills only the process it started. ansible-playbook's workers
and what they run (a Go build, a kind create) then live on, orphaned, and race the next test's
run on the same files. Here the command gets a session of its own and the whole session is
killed when the limit passes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any


def run_bounded(argv: list[str], *, timeout: float, **popen: Any) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(argv, timeout=timeout, text=True, **popen)``, except that on timeout every
    process of the command's session is killed before TimeoutExpired is raised."""
    with subprocess.Popen(argv, text=True, start_new_session=True, **popen) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as expired:
            with contextlib.suppress(ProcessLookupError):  # the session ended on its own meanwhile
                os.killpg(process.pid, signal.SIGKILL)
            expired.output, expired.stderr = process.communicate()
            raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
