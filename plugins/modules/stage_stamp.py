#!/usr/bin/python
# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Answer, in one cheap call, whether a pipeline stage is still as its last full run left it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.file_digest import file_record, json_digest, tree_digest

DOCUMENTATION = r"""
---
module: stage_stamp
short_description: Check or record that a pipeline stage is as its last full run left it
description:
  - A stage (the toolchain, the local cluster) records a stamp after a full run, made of a fingerprint
    of its inputs (variables and the directories of its code and templates) and the sha256 of
    the files it produced.
  - With O(state=check) the module answers RV(current) true only when the fingerprint is the
    recorded one, every recorded file still has its recorded digest, every process in
    O(pidfiles) is alive and every probe in O(probes) succeeds. Otherwise RV(reasons) says what
    differs, and the stage does its full work.
  - A file's digest is reused while its size, mtime, ctime and inode are those recorded (as git's
    index does); any write changes its ctime, and then the file is read and hashed again.
  - The stamp is a cache of what a full run verified, not managed state, so the module always
    returns C(changed=false).
author:
  - todo-app developers
options:
  path:
    description: The stamp file (JSON). Its directory is created when the stamp is recorded.
    type: path
    required: true
  state:
    description:
      - V(check) compares, V(present) records the stamp after a full run, V(absent) removes it
        (the next run then does the full work).
    type: str
    choices: [check, present, absent]
    default: check
  inputs:
    description: Any value the stage's result depends on (its variables); compared by digest.
    type: raw
    default: {}
  trees:
    description: Directories whose whole content is an input (the role's tasks and templates).
    type: list
    elements: path
    default: []
  files:
    description: Files the stage produced or relies on, each checked against its recorded sha256.
    type: list
    elements: path
    default: []
  pidfiles:
    description: Pidfiles whose process must be running. Checked, never recorded.
    type: list
    elements: path
    default: []
  probes:
    description:
      - Commands that must exit 0 and print what O(probes[].stdout_regex) matches.
      - Checked, never recorded.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: What the probe proves, used in RV(reasons).
        type: str
        required: true
      argv:
        description: The command.
        type: list
        elements: str
        required: true
      stdout_regex:
        description:
          - Regular expressions searched in the command's output (multi-line mode); each must be found.
        type: list
        elements: str
        default: []
      timeout:
        description: Seconds before the probe counts as failed.
        type: float
        default: 10
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - In check mode O(state=present) and O(state=absent) write nothing.
"""

EXAMPLES = r"""
- name: Ask whether the toolchain is as the last run left it
  stage_stamp:
    path: ~/.cache/todo-app/state/toolchain.json
    inputs: {helm: v3.19.0}
    trees: ["{{ role_path }}"]
    files: [~/.cache/todo-app/bin/helm]
    probes:
      - {name: the Docker engine answers, argv: [docker, version]}
  register: __toolchain_stamp

- name: Record the toolchain's stamp
  stage_stamp:
    path: ~/.cache/todo-app/state/toolchain.json
    state: present
    inputs: {helm: v3.19.0}
    trees: ["{{ role_path }}"]
    files: [~/.cache/todo-app/bin/helm]
"""

RETURN = r"""
current:
  description: Whether the stage is as recorded (O(state=check) only; false otherwise).
  returned: always
  type: bool
  sample: true
reasons:
  description: What differs from the record, one sentence each; empty when RV(current).
  returned: always
  type: list
  elements: str
  sample: ["/root/.cache/todo-app/bin/helm changed since it was recorded"]
fingerprint:
  description: The digest of O(inputs) and O(trees).
  returned: always
  type: str
  sample: 3f1a...
files:
  description: The sha256 of each file in O(files), as checked or recorded.
  returned: always
  type: dict
  sample: {/root/.cache/todo-app/bin/helm: 9a8b...}
"""


def fingerprint(inputs: Any, trees: list[str]) -> str:
    # The trees' contents, not their paths: a second clone of the same files matches.
    return str(json_digest({"inputs": inputs, "trees": [tree_digest(Path(tree)) for tree in trees]}))


def load(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def check_files(files: list[str], recorded: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Fresh records of ``files`` and a reason for each one missing or not as recorded."""
    records: dict[str, Any] = {}
    reasons: list[str] = []
    for name in files:
        before = recorded.get(name)
        try:
            records[name] = file_record(Path(name), before)
        except OSError:
            reasons.append(f"{name} is missing")
            continue
        if before is None:
            if recorded:  # a stamp without this file (a stage that now relies on more)
                reasons.append(f"{name} was not recorded")
        elif records[name]["sha256"] != before.get("sha256"):
            reasons.append(f"{name} changed since it was recorded")
    return records, reasons


def pid_alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().split()[0])
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return False
    return state not in ("Z", "X")


def run_probe(probe: dict[str, Any]) -> str | None:
    """None when the probe passes, else why it failed."""
    try:
        done = subprocess.run(
            probe["argv"], capture_output=True, text=True, timeout=probe.get("timeout") or 10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{probe['name']}: no ({error})"
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or [f"exit {done.returncode}"]
        return f"{probe['name']}: no ({last[0][:200]})"
    if not all(re.search(pattern, done.stdout, re.MULTILINE) for pattern in probe.get("stdout_regex") or []):
        return f"{probe['name']}: no (printed {done.stdout.strip()[:200]!r})"
    return None


def check(params: dict[str, Any]) -> dict[str, Any]:
    path = Path(params["path"])
    current_print = fingerprint(params["inputs"], params["trees"])
    record = load(path)
    reasons: list[str] = []
    if record is None:
        reasons.append(f"no stamp at {path}: the stage has not completed a full run here")
        record = {}
    elif record.get("fingerprint") != current_print:
        reasons.append("the stage's inputs (variables or role files) changed since the last full run")
    files, file_reasons = check_files(params["files"], record.get("files", {}))
    reasons += file_reasons
    reasons += [
        f"the process of {pidfile} is not running"
        for pidfile in params["pidfiles"]
        if not pid_alive(Path(pidfile))
    ]
    # Probes are the slowest questions: ask them only when everything else matches.
    if not reasons:
        reasons += [reason for reason in map(run_probe, params["probes"]) if reason]
    return {
        "current": not reasons,
        "reasons": reasons,
        "fingerprint": current_print,
        "files": {name: entry["sha256"] for name, entry in files.items()},
    }


def record(params: dict[str, Any], write: bool) -> dict[str, Any]:
    path = Path(params["path"])
    current_print = fingerprint(params["inputs"], params["trees"])
    files = {name: file_record(Path(name)) for name in params["files"]}
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(path.name + ".tmp")
        scratch.write_text(
            json.dumps({"fingerprint": current_print, "files": files}, indent=1, sort_keys=True)
        )
        os.replace(scratch, path)
    return {
        "current": False,
        "reasons": [],
        "fingerprint": current_print,
        "files": {n: e["sha256"] for n, e in files.items()},
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["check", "present", "absent"], "default": "check"},
            "inputs": {"type": "raw", "default": {}},
            "trees": {"type": "list", "elements": "path", "default": []},
            "files": {"type": "list", "elements": "path", "default": []},
            "pidfiles": {"type": "list", "elements": "path", "default": []},
            "probes": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "argv": {"type": "list", "elements": "str", "required": True},
                    "stdout_regex": {"type": "list", "elements": "str", "default": []},
                    "timeout": {"type": "float", "default": 10},
                },
            },
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        if params["state"] == "check":
            result = check(params)
        elif params["state"] == "present":
            result = record(params, write=not module.check_mode)
        else:
            if not module.check_mode:
                Path(params["path"]).unlink(missing_ok=True)
            result = {"current": False, "reasons": [], "fingerprint": "", "files": {}}
    except OSError as error:
        module.fail_json(msg=f"Could not {params['state']} the stamp {params['path']}: {error}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
