#!/usr/bin/env python3
"""`make dev`: watch the sources, roll every change out through the deployment's own roles.

    scripts/dev.py [--project-dir DIR] [--max-changes N] [--no-logs] [ansible-playbook arguments...]

Deploys once (site.yml, seconds when nothing changed), prints the URL, then watches backend/,
frontend/ and helm/todo-app with watchfiles. Each change (saves within DEBOUNCE_MS count as
one) runs playbooks/upgrade.yml, what `make upgrade` runs: the change is built, measured,
loaded, released and proven by the deployment's own roles, with smoke's quick checks
(health and readiness through the NodePort) rather than the whole user flow.
For each change it prints how long the save took to serve from a new pod. A rollout that
fails is undone by the release role (its pods' events and last log lines are shown) and the
watch goes on. Both apps' logs stream in between, one prefix per pod and container.
Ctrl-C stops watching and leaves the last good release running.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import watchfiles

ROOT = Path(__file__).resolve().parent.parent
# What the watch looks at, relative to the project directory (the chart is the clone's own).
WATCHED = ("backend", "frontend")
CHART = ROOT / "helm" / "todo-app"
# Saves closer together than this are one change (an editor writing several files).
DEBOUNCE_MS = 400
# Lines of a failed rollout's output shown: the events, the last log lines and the error.
FAILURE_TAIL_LINES = 80
# Paths no image is built from (see each .dockerignore) and editors' scratch files.
IGNORED_DIRS = {
    "node_modules",
    ".next",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "test-results",
    "playwright-report",
    "coverage",
}
IGNORED_SUFFIXES = (".swp", ".swx", "~", ".tmp", ".pyc")
NAMESPACE = "todo-app"
SELECTOR = "app.kubernetes.io/instance=todo-app"
READY_RE = re.compile(r"Ready in (?P<seconds>[0-9.]+) s")


class SourceFilter(watchfiles.DefaultFilter):
    """watchfiles' default filter, plus the build outputs and caches no image is built from."""

    def __init__(self) -> None:
        super().__init__(ignore_dirs=(*watchfiles.DefaultFilter.ignore_dirs, *IGNORED_DIRS))

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        return not path.endswith(IGNORED_SUFFIXES) and super().__call__(change, path)


def components(changed: Iterable[str], project: Path) -> list[str]:
    """Which of backend, frontend and chart the changed paths belong to."""
    found = set()
    for path in map(Path, changed):
        if path.is_relative_to(CHART):
            found.add("chart")
            continue
        for name in WATCHED:
            if path.is_relative_to(project / name):
                found.add(name)
    return sorted(found)


def say(message: str) -> None:
    print(f"\033[1m[dev {time.strftime('%H:%M:%S')}]\033[0m {message}", flush=True)


def ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    env["ANSIBLE_FORCE_COLOR"] = "0"
    return env


def playbook(name: str, args: Sequence[str]) -> tuple[int, str]:
    """Run a playbook of the clone, its output kept for the summary and shown on failure."""
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), name, *args]
    done = subprocess.run(argv, cwd=ROOT, env=ansible_env(), capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


class Logs:
    """kubectl logs --follow --prefix for the release's pods, restarted after each rollout."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def restart(self, since: str = "1s") -> None:
        self.stop()
        if not self.enabled:
            return
        argv = [
            "kubectl",
            "logs",
            f"--namespace={NAMESPACE}",
            f"--selector={SELECTOR}",
            "--all-containers",
            "--prefix",
            "--follow",
            f"--since={since}",
            "--max-log-requests=20",
            "--ignore-errors",
        ]
        with self._lock:
            self.process = subprocess.Popen(argv, env=ansible_env(), start_new_session=True)

    def stop(self) -> None:
        with self._lock:
            if self.process is not None and self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            self.process = None


def roll_out(project: Path, extra: Sequence[str], parts: list[str], saved_at: float) -> bool:
    vars_ = ["-e", f"images_project_dir={project}"]
    # The first deploy proved the toolchain and the preflight checks: each change skips them
    # (`--skip-tags setup`) and leaves pruning old images to the next deploy or upgrade.
    code, out = playbook(
        "playbooks/upgrade.yml",
        [*vars_, "--skip-tags=setup", "-e", "smoke_full=false", "-e", "release_prune_images=false", *extra],
    )
    took = time.monotonic() - saved_at
    if code == 0:
        ready = READY_RE.search(out)
        rollout = f", rollout {ready['seconds']} s" if ready else ""
        unchanged = "changed=0" in out.rsplit("PLAY RECAP", 1)[-1]
        verdict = (
            "nothing to roll out" if unchanged else f"new pod serving {took:.1f} s after the save{rollout}"
        )
        say(f"{', '.join(parts)}: {verdict}")
        return True
    print("\n".join(out.splitlines()[-FAILURE_TAIL_LINES:]), flush=True)
    undone = re.search(r"The release was (rolled back to revision \d+|uninstalled)", out)
    outcome = (
        f"the rollout failed and the release was {undone[1]}"
        if undone
        else "failed before anything was released"
    )
    say(f"{', '.join(parts)}: {outcome} after {took:.1f} s (see above); still watching")
    return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project-dir", type=Path, default=ROOT, help="where backend/ and frontend/ are")
    parser.add_argument("--max-changes", type=int, default=0, help="stop after this many rollouts (0: never)")
    parser.add_argument("--no-logs", action="store_true", help="do not stream the pods' logs")
    args, extra = parser.parse_known_args(argv)
    project = args.project_dir.resolve()
    missing = [name for name in WATCHED if not (project / name).is_dir()]
    if missing:
        parser.error(
            f"{project} has no {' or '.join(missing)} directory: give --project-dir a todo-app checkout"
        )

    say("deploying once (site.yml) before watching")
    code, out = playbook("site.yml", ["-e", f"images_project_dir={project}", *extra])
    if code != 0:
        print("\n".join(out.splitlines()[-FAILURE_TAIL_LINES:]), flush=True)
        say("the first deploy failed; fix it (make deploy shows the whole run) and start make dev again")
        return 1
    url = re.search(r"(http://127\.0\.0\.1:\d+)", out)
    say(
        f"serving at {url[1] if url else 'the NodePort (see make deploy)'}; watching {project} (Ctrl-C stops)"
    )

    logs = Logs(enabled=not args.no_logs)
    logs.restart(since="10s")
    stop = threading.Event()
    rollouts = 0
    try:
        paths = [project / name for name in WATCHED] + [CHART]
        for changes in watchfiles.watch(
            *paths, watch_filter=SourceFilter(), debounce=DEBOUNCE_MS, stop_event=stop
        ):
            saved_at = time.monotonic() - DEBOUNCE_MS / 1000
            parts = components((path for _, path in changes), project)
            say(
                f"changed: {', '.join(sorted({Path(p).name for _, p in changes}))[:200]} ({', '.join(parts)})"
            )
            roll_out(project, extra, parts, saved_at)
            logs.restart()
            rollouts += 1
            if args.max_changes and rollouts >= args.max_changes:
                break
    except KeyboardInterrupt:
        say("stopped watching; the last good release keeps running")
    finally:
        stop.set()
        logs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
