#!/usr/bin/env python3
"""What the next `make deploy` would do, changing nothing, with terraform's exit codes.

    scripts/plan.py [ansible-playbook arguments...]

Runs playbooks/plan.yml with the plan_summary callback and exits 0 when there is nothing to do,
2 when changes are pending, 1 when the plan could not be made. `make plan` runs it; GNU make
itself turns every non-zero exit into 2, so a pre-push hook calls this script directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXIT_NOTHING, EXIT_ERROR, EXIT_PENDING = 0, 1, 2


def main(argv: list[str]) -> int:
    playbook = Path(sys.executable).parent / "ansible-playbook"
    with tempfile.TemporaryDirectory(prefix="todo-plan-") as scratch:
        result = Path(scratch) / "result"
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks,plan_summary",
            "TODO_PLAN_RESULT": str(result),
        }
        done = subprocess.run([str(playbook), "playbooks/plan.yml", *argv], cwd=ROOT, env=env, check=False)
        verdict = result.read_text() if result.exists() else "failed"
    if done.returncode != 0 or verdict == "failed":
        return EXIT_ERROR
    return EXIT_PENDING if verdict == "pending" else EXIT_NOTHING


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
