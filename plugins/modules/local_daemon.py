#!/usr/bin/python
"""Supervise a long-running process with a pidfile and a log file."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: local_daemon
short_description: Start or stop a background process supervised by a pidfile
description:
  - Starts a command in its own session, detached from Ansible, with its output
    appended to a log file and its PID recorded in a pidfile.
  - Meant for hosts without a service manager (containers, CI machines, minimal VMs),
    where dockerd, containerd, etcd and the Kubernetes components are started by hand.
  - A pidfile whose process is gone, or belongs to another program, is stale; it is
    removed together with O(stale_paths) before the command is started again.
  - The command line and environment are recorded next to the pidfile; a running
    process started with different ones is restarted.
version_added: "0.1.0"
author:
  - todo-app developers
options:
  name:
    description: A short name for the process, used in messages.
    type: str
    required: true
  command:
    description: The program and its arguments. Required when O(state=started).
    type: list
    elements: str
  state:
    description: Whether the process should be running.
    type: str
    choices: [started, stopped]
    default: started
  pidfile:
    description: Where the PID of the process is kept.
    type: path
    required: true
  log_file:
    description: File the process's standard output and error are appended to. Required when O(state=started).
    type: path
  environment:
    description: Extra environment variables for the process.
    type: dict
    default: {}
  chdir:
    description: Working directory of the process.
    type: path
    default: /
  stale_paths:
    description:
      - Files (sockets, foreign pidfiles) left behind by a process that did not exit
        cleanly. They are removed before starting, but only when the process is not running.
    type: list
    elements: path
    default: []
  startup_seconds:
    description:
      - How long to watch a freshly started process. If it exits within that time the
        task fails and shows the end of its log.
    type: float
    default: 1.0
  stop_timeout:
    description: Seconds to wait after SIGTERM before sending SIGKILL to the process group.
    type: float
    default: 20.0
notes:
  - Supports check mode.
"""

EXAMPLES = r"""
- name: Start etcd
  local_daemon:
    name: etcd
    command: [etcd, --data-dir, /var/lib/todo-local/etcd]
    pidfile: /var/lib/todo-local/run/etcd.pid
    log_file: /var/lib/todo-local/logs/etcd.log

- name: Stop etcd
  local_daemon:
    name: etcd
    state: stopped
    pidfile: /var/lib/todo-local/run/etcd.pid
"""

RETURN = r"""
pid:
  description: PID of the running process; null when stopped.
  returned: always
  type: int
  sample: 4242
action:
  description: What was done.
  returned: always
  type: str
  sample: started
  choices: [none, started, restarted, stopped]
stale_removed:
  description: Stale files that were removed before starting.
  returned: always
  type: list
  elements: str
  sample: [/var/run/docker.pid]
"""

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule


def read_pid(pidfile: Path) -> int | None:
    """Return the PID recorded in ``pidfile``, or None when absent or garbled."""
    try:
        text = pidfile.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def process_cmdline(pid: int, proc_root: Path = Path("/proc")) -> list[str] | None:
    """Return the command line of ``pid``, or None when no such live process exists."""
    try:
        raw = (proc_root / str(pid) / "cmdline").read_bytes()
        status = (proc_root / str(pid) / "status").read_text(encoding="utf-8")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    if "\nState:\tZ" in status:
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def is_our_process(cmdline: list[str] | None, program: str) -> bool:
    """True when ``cmdline`` runs ``program`` (compared by file name)."""
    if not cmdline:
        return False
    return os.path.basename(cmdline[0]) == os.path.basename(program)


def fingerprint(command: list[str], environment: dict[str, str], chdir: str) -> str:
    """A stable digest of what the process was started with."""
    payload = json.dumps({"command": command, "environment": environment, "chdir": chdir}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def running_pid(pidfile: Path, program: str | None) -> int | None:
    """The PID from ``pidfile`` when that process is alive and runs ``program``."""
    pid = read_pid(pidfile)
    if pid is None:
        return None
    cmdline = process_cmdline(pid)
    if cmdline is None:
        return None
    if program is not None and not is_our_process(cmdline, program):
        return None
    return pid


def log_tail(log_file: Path, lines: int = 25) -> str:
    try:
        content = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(content[-lines:])


def stop(pid: int, timeout: float) -> None:
    """SIGTERM the process group of ``pid``, then SIGKILL it after ``timeout`` seconds."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process_cmdline(pid) is None:
                return
            time.sleep(0.1)


def start(command: list[str], environment: dict[str, str], chdir: str, log_file: Path) -> int:
    """Start ``command`` detached in its own session and return its PID."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(environment)
    with open(log_file, "ab", buffering=0) as log, open(os.devnull, "rb") as devnull:
        process = subprocess.Popen(
            command,
            stdin=devnull,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=chdir,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    return process.pid


def remove_stale(paths: list[str]) -> list[str]:
    removed = []
    for item in paths:
        path = Path(item)
        if path.exists() or path.is_symlink():
            path.unlink()
            removed.append(item)
    return removed


def ensure_started(module: AnsibleModule, pidfile: Path) -> dict[str, Any]:
    params = module.params
    command: list[str] = params["command"]
    environment = {str(k): str(v) for k, v in params["environment"].items()}
    digest = fingerprint(command, environment, params["chdir"])
    digest_file = pidfile.with_name(pidfile.name + ".fingerprint")
    log_file = Path(params["log_file"])

    pid = running_pid(pidfile, command[0])
    action = "started"
    if pid is not None:
        if recorded_fingerprint(digest_file)[0] == digest:
            return {"changed": False, "pid": pid, "action": "none", "stale_removed": []}
        action = "restarted"
    if module.check_mode:
        return {"changed": True, "pid": pid, "action": action, "stale_removed": []}

    if pid is not None:
        stop(pid, params["stop_timeout"])
    stale = remove_stale([str(pidfile), *params["stale_paths"]])
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    new_pid = start(command, environment, params["chdir"], log_file)
    pidfile.write_text(f"{new_pid}\n", encoding="ascii")
    digest_file.write_text(f"{digest} {command[0]}", encoding="utf-8")

    deadline = time.monotonic() + params["startup_seconds"]
    while time.monotonic() < deadline:
        try:
            finished, _status = os.waitpid(new_pid, os.WNOHANG)
        except ChildProcessError:
            finished = new_pid
        if finished == new_pid:
            pidfile.unlink(missing_ok=True)
            module.fail_json(
                msg=(
                    f"{params['name']} exited right after it was started; "
                    f"the end of {log_file} says:\n{log_tail(log_file)}"
                ),
                log_file=str(log_file),
            )
        time.sleep(0.1)
    return {"changed": True, "pid": new_pid, "action": action, "stale_removed": stale}


def recorded_fingerprint(digest_file: Path) -> tuple[str, str | None]:
    """The digest and program recorded when the process was started."""
    try:
        digest, _, program = digest_file.read_text(encoding="utf-8").partition(" ")
    except FileNotFoundError:
        return "", None
    return digest, program or None


def ensure_stopped(module: AnsibleModule, pidfile: Path) -> dict[str, Any]:
    digest_file = pidfile.with_name(pidfile.name + ".fingerprint")
    pid = running_pid(pidfile, recorded_fingerprint(digest_file)[1])
    if pid is None:
        stale = [] if module.check_mode else remove_stale([str(pidfile)])
        return {"changed": False, "pid": None, "action": "none", "stale_removed": stale}
    if not module.check_mode:
        stop(pid, module.params["stop_timeout"])
        if process_cmdline(pid) is not None:
            module.fail_json(msg=f"{module.params['name']} (PID {pid}) did not exit after SIGKILL")
        remove_stale([str(pidfile), str(digest_file)])
    return {"changed": True, "pid": None, "action": "stopped", "stale_removed": []}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "command": {"type": "list", "elements": "str"},
            "state": {"type": "str", "choices": ["started", "stopped"], "default": "started"},
            "pidfile": {"type": "path", "required": True},
            "log_file": {"type": "path"},
            "environment": {"type": "dict", "default": {}},
            "chdir": {"type": "path", "default": "/"},
            "stale_paths": {"type": "list", "elements": "path", "default": []},
            "startup_seconds": {"type": "float", "default": 1.0},
            "stop_timeout": {"type": "float", "default": 20.0},
        },
        required_if=[("state", "started", ("command", "log_file"))],
        supports_check_mode=True,
    )
    pidfile = Path(module.params["pidfile"])
    if module.params["state"] == "started":
        module.exit_json(**ensure_started(module, pidfile))
    module.exit_json(**ensure_stopped(module, pidfile))


if __name__ == "__main__":
    main()
