"""Fixtures for the acceptance tests of the local cluster (roles/cluster, provider local).

These tests drive the real thing: the cluster playbook, the host's network stack and the
Kubernetes API. They run as root on a machine where `make toolchain` has run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bounded_run import run_bounded

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "todo-app"
STATE_DIR = Path("/var/lib/todo-local")
RUN_DIR = Path("/run/todo-local")
CONTAINERD_SOCKET = RUN_DIR / "containerd" / "containerd.sock"
ADMIN_KUBECONFIG = STATE_DIR / "kubeconfig" / "admin.conf"
COMPONENTS = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "containerd",
]
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"


def tool_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{CACHE / 'bin'}:{env.get('PATH', '')}"
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env.update(extra)
    return env


def run(
    argv: list[str], *, check: bool = False, timeout: float = 1200, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = run_bounded(
        argv, cwd=ROOT, env=env or tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def playbook(path: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), path, *extra], env=env)


def recap(output: str) -> dict[str, int]:
    """The counters of the PLAY RECAP line for localhost."""
    match = re.search(r"localhost\s*:\s*(.*)", output.split("PLAY RECAP")[-1])
    assert match, f"no PLAY RECAP in the output:\n{output[-3000:]}"
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


def kubectl(*args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return run(["kubectl", f"--kubeconfig={ADMIN_KUBECONFIG}", *args], check=check, timeout=timeout)


def kubectl_json(*args: str) -> Any:
    return json.loads(kubectl(*args, "-o", "json").stdout)


@pytest.fixture(scope="session")
def cluster_up() -> subprocess.CompletedProcess[str]:
    """`make cluster` with the local provider; the tests below check what it produced."""
    result = playbook("playbooks/cluster.yml", "-e", "cluster_provider=local")
    assert result.returncode == 0, result.stdout[-6000:]
    return result


@pytest.fixture
def namespace(cluster_up: subprocess.CompletedProcess[str]) -> Iterator[str]:
    name = "cluster-acceptance"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=true", "--timeout=120s", check=False)
