# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record each failed task and its result as one JSON line, for tests/run_suite.py to explain."""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
---
name: failed_tasks
type: aggregate
short_description: Records each failed task and its result as a JSON line
description:
  - Appends one JSON object per failed or unreachable task to the file named by E(TODO_FAILED_TASKS)
    (nothing without it) with C(host), C(task) (its name, role first), C(path) (file:line),
    C(status) (failed or unreachable) and C(result), shown as the default callback shows it, so a
    C(no_log) result stays censored.
  - A failure the task ignores (C(ignore_errors)) is left out; one a block rescues is kept.
  - Each failure is written when it happens, so a run that is killed keeps what failed before.
  - C(tests/run_suite.py) enables it for every step and explains a failed step with it.
requirements:
  - enable in the configuration (ANSIBLE_CALLBACKS_ENABLED=failed_tasks)
"""


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "failed_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result: Any, status: str) -> None:
        target = os.environ.get("TODO_FAILED_TASKS")
        if not target:
            return
        entry = {
            "host": result.host.get_name(),
            "task": result.task.get_name(),
            "path": result.task.get_path(),
            "status": status,
            "result": json.loads(self._dump_results(result.result, indent=0)),
        }
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        if not ignore_errors:
            self._record(result, "failed")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result, "unreachable")
