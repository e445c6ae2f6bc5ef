"""Helpers for the deployment tests: run ansible-playbook from the repository root, read the
release, and talk to the app through its NodePort like a browser."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bounded_run import run_bounded

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
CACHE_BIN = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "todo-app" / "bin"
NAMESPACE = "todo-app"
RELEASE = "todo-app"
BASE_URL = "http://127.0.0.1:30000"
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
    proc = run_bounded(
        command,
        cwd=REPO,
        env=ansible_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
    )
    return Run(proc.returncode, proc.stdout)


def vault_values() -> dict[str, str]:
    """The decrypted secret values, to look for them in outputs (never printed)."""
    proc = subprocess.run(
        [
            str(REPO / ".venv/bin/ansible-vault"),
            "view",
            str(REPO / "inventory/local/group_vars/all/vault.yml"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=ansible_env(),
        check=True,
    )
    values: dict[str, Any] = yaml.safe_load(proc.stdout)
    return {key: str(value) for key, value in values.items() if value}


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


@dataclass
class Deployments:
    """What the session has deployed so far: the full run, once."""

    full: Run | None = None

    def in_full(self) -> Run:
        """site.yml with the user flow and helm test run even when the release was already there
        (smoke_full), once per session: the suite starts from a release proven to serve."""
        if self.full is None:
            run = run_playbook("site.yml", "-e", "smoke_full=true", timeout=3600)
            assert run.returncode == 0, run.output[-6000:]
            self.full = run
        return self.full


@pytest.fixture(scope="session")
def deployments() -> Deployments:
    return Deployments()


@pytest.fixture(scope="session")
def deployed_in_full(deployments: Deployments) -> Run:
    return deployments.in_full()


@pytest.fixture(scope="module")
def deployed(deployments: Deployments) -> Run:
    """The release as site.yml leaves it, at the start of each test module: the first module
    gets the session's full run; each later one a plain site.yml, which repairs whatever drift
    the module before left (its no-op path proves each stage) and checks readiness and health."""
    if deployments.full is None:
        return deployments.in_full()
    run = run_playbook("site.yml", timeout=3600)
    assert run.returncode == 0, run.output[-6000:]
    return run


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CACHE_BIN / "helm"), *args, "--namespace", NAMESPACE],
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=False,
    )


def release_status() -> dict[str, Any]:
    status = helm("status", RELEASE, "--output=json")
    assert status.returncode == 0, status.stderr
    result: dict[str, Any] = json.loads(status.stdout)
    return result


def revision() -> int:
    number: int = release_status()["version"]
    return number


def image_tag(component: str) -> str:
    values = helm("get", "values", RELEASE, "--output=json")
    assert values.returncode == 0, values.stderr
    tag: str = json.loads(values.stdout)[component]["image"]["tag"]
    return tag


def http_get(path: str, timeout: float = 5) -> http.client.HTTPResponse:
    response: http.client.HTTPResponse = urllib.request.urlopen(BASE_URL + path, timeout=timeout)  # noqa: S310
    response.read()
    return response


def changed_source(destination: Path) -> Path:
    """A copy of the sources whose backend differs by one line (the checkout stays untouched)."""
    ignore = shutil.ignore_patterns("node_modules", ".next", ".venv", "*_cache", "__pycache__")
    for component in ("backend", "frontend"):
        shutil.copytree(REPO / component, destination / component, ignore=ignore, symlinks=True)
    marker = destination / "backend/app/__init__.py"
    marker.write_text(marker.read_text() + f"# upgrade test {time.time_ns()}\n")
    return destination


class AppUser:
    """A throwaway account that talks to the app through the NodePort, like a browser."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310
            BASE_URL + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
        )
        with self.opener.open(request, timeout=15) as response:
            return json.loads(response.read() or b"null")

    @classmethod
    def register(cls) -> AppUser:
        user = cls()
        credentials = {"email": f"deploy-test-{time.time_ns()}@example.com", "password": "Pw-" + "x" * 20}
        user._call("POST", "/api/auth/register", credentials)
        user._call("POST", "/api/auth/login", credentials)
        return user

    def create_task(self, title: str) -> int:
        task_id: int = self._call("POST", "/api/tasks", {"title": title})["id"]
        return task_id

    def task_ids(self) -> list[int]:
        return [task["id"] for task in self._call("GET", "/api/tasks")["items"]]
