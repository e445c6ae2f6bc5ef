# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sum up what a check-mode run (make plan) would change, and say it in a file for the exit code."""

from __future__ import annotations

import os
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
---
name: plan_summary
type: notification
short_description: Lists the tasks that would change and records whether any would
description:
  - Collects every task that reports a change (in check mode, a change it would make) and, at the
    end of the run, prints them, one line each, as the role and task name; for a debug task its
    message, which the plan playbook writes without secrets.
  - Writes C(pending) or C(nothing to do) to the file named by E(TODO_PLAN_RESULT), so that
    C(make plan) can exit 2 when changes are pending and 0 when there are none.
  - Never prints a task's result otherwise, so C(no_log) and secret values stay out of the summary.
requirements:
  - enable in the configuration (ANSIBLE_CALLBACKS_ENABLED=plan_summary)
"""


DEBUG_ACTIONS = ("debug", "ansible.builtin.debug")


def describe(task_name: str, role: str | None, action: str, result: dict[str, Any]) -> str:
    """One line for a task that would change: a debug task's message (the plan's own summaries),
    else the role and task name. Other results are never read: they may hold secrets."""
    where = f"{role}: " if role else ""
    message = result.get("msg")
    if action in DEBUG_ACTIONS and isinstance(message, str) and message:
        return f"{where}{message}"
    return f"{where}{task_name}"


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "plan_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[str] = []

    def v2_runner_on_ok(self, result: Any) -> None:
        if not result._result.get("changed"):
            return
        task = result._task
        role = task._role.get_name() if task._role else None
        name = task.get_name()
        if role and name.startswith(f"{role} : "):
            name = name[len(role) + 3 :]
        line = describe(name, role, task.action, result._result)
        if line not in self.pending:
            self.pending.append(line)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        failed = any(stats.failures.values()) or any(stats.dark.values())
        self._display.banner("PLAN")
        if failed:
            self._display.display("The plan could not be made: a task failed (above). Nothing was changed.")
        elif self.pending:
            self._display.display(f"Pending ({len(self.pending)}): the next `make deploy` would")
            for line in self.pending:
                self._display.display(f"  - {line}")
        else:
            self._display.display("Nothing to do: the next `make deploy` would change nothing.")
        target = os.environ.get("TODO_PLAN_RESULT")
        if target:
            with open(target, "w", encoding="utf-8") as handle:
                handle.write("failed" if failed else "pending" if self.pending else "nothing to do")
