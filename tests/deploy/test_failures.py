"""End to end on the real local cluster, when something goes wrong: a wrong vault password or an
engine that does not answer stop the run before anything changes, a killed Docker engine and an
upgrade interrupted while pending are repaired by the next run, and old image tags are pruned
while every image the release history names stays."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    CACHE_BIN,
    NAMESPACE,
    RELEASE,
    REPO,
    AppUser,
    Run,
    ansible_env,
    changed_source,
    extra_vars,
    http_get,
    image_tag,
    release_status,
    revision,
    run_playbook,
)

pytestmark = pytest.mark.cluster

REGISTRY = "127.0.0.1:5001"
CONTAINERD = "/run/todo-local/containerd/containerd.sock"
DOCKERD_PIDFILE = Path("/var/run/todo-app-dockerd.pid")
DOCKER_SOCKET = Path("/var/run/docker.sock")
APP_REPOSITORIES = ("todo-app/backend", "todo-app/frontend")


def _run(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), capture_output=True, text=True, cwd=REPO, env=ansible_env(**env), check=False
    )


def _pods() -> dict[str, tuple[str, int]]:
    """Every pod of the release by name: its UID and total restarts (a changed pod differs)."""
    pods = _run(str(CACHE_BIN / "kubectl"), "get", "pods", "--namespace", NAMESPACE, "--output=json")
    assert pods.returncode == 0, pods.stderr
    return {
        pod["metadata"]["name"]: (
            pod["metadata"]["uid"],
            sum(status["restartCount"] for status in pod["status"].get("containerStatuses", [])),
        )
        for pod in json.loads(pods.stdout)["items"]
    }


def _untouched() -> dict[str, Any]:
    """What a refused run must leave exactly as it was: the release revision and its pods."""
    return {"revision": revision(), "status": release_status()["info"]["status"], "pods": _pods()}


# Repositories pruning must leave alone: the database and the bases the app images stand on.
_NEVER_PRUNED = ("todo-app/postgres", "todo-app/python-base", "todo-app/node-base", "todo-app/node-runtime")


def _docker_images(*repositories: str) -> set[str]:
    """``repository:tag ID`` of every image of ``repositories`` in Docker."""
    found: set[str] = set()
    for repository in repositories:
        listed = _run("docker", "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", repository)
        assert listed.returncode == 0, listed.stderr
        found.update(listed.stdout.split())
    return found


def _in_docker(ref: str) -> bool:
    return _run("docker", "image", "inspect", ref).returncode == 0


def _in_containerd(ref: str) -> bool:
    """Whether containerd holds ``ref``: a name with a registry host as it is, else as Docker's."""
    name = ref if re.match(r"[^/]+[.:][^/]*/", ref) else f"docker.io/{ref}"
    listed = _run(
        "ctr", f"--address={CONTAINERD}", "--namespace=k8s.io", "images", "list", "--quiet", f"name=={name}"
    )
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.strip() == name


def _docker_answers() -> bool:
    return _run("docker", "version", "--format", "{{.Server.Version}}").returncode == 0


def _dockerd_pid() -> int:
    pid = int(DOCKERD_PIDFILE.read_text().strip())
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"dockerd"), (
        "not the project's dockerd"
    )
    return pid


def _live_in_group(pgid: int) -> list[int]:
    """PIDs of the live (not zombie) processes in process group ``pgid``."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            live.append(int(stat.parent.name))
    return live


def _pruned(output: str, verb: str = "Removed") -> tuple[list[str], list[str]]:
    """What the prune report says was removed from Docker and from the cluster's containerd."""
    report = re.search(
        f"{verb} from Docker: (.*?); from the local cluster's containerd: (.*?)\\. Kept: ", output
    )
    assert report, f"no prune report in:\n{output[-6000:]}"
    return report.group(1).split(", "), report.group(2).split(", ")


def _pods_ready() -> list[str]:
    """Names of the release's pods that are not Ready (finished and terminating pods aside)."""
    pods = _run(str(CACHE_BIN / "kubectl"), "get", "pods", "--namespace", NAMESPACE, "--output=json")
    assert pods.returncode == 0, pods.stderr
    not_ready = []
    for pod in json.loads(pods.stdout)["items"]:
        if pod["metadata"].get("deletionTimestamp") or pod["status"].get("phase") == "Succeeded":
            continue
        ready = [c["status"] for c in pod["status"].get("conditions", []) if c["type"] == "Ready"]
        if ready != ["True"]:
            not_ready.append(pod["metadata"]["name"])
    return not_ready


def test_a_wrong_vault_password_stops_site_and_make_deploy_before_anything_changes(
    deployed: Run, tmp_path: Path
) -> None:
    before, images = _untouched(), _docker_images(*APP_REPOSITORIES)
    # A changed source: a run that got past the vault would build a new backend image.
    source = changed_source(tmp_path / "src")

    run = run_playbook(
        "site.yml", *extra_vars({"images_project_dir": str(source)}), TODO_VAULT_PASSWORD="wrong", timeout=600
    )
    assert run.returncode != 0
    wrong = (
        "the vault password from TODO_VAULT_PASSWORD does not open inventory/local/group_vars/all/vault.yml"
    )
    assert wrong in run.output, run.output[-3000:]
    assert "unset it to use the one in" in run.output and "vault-password" in run.output
    assert "teammate can give you the password" in run.output
    assert "TASK [" not in run.output

    make = _run("make", "deploy", TODO_VAULT_PASSWORD="wrong")
    output = make.stdout + make.stderr
    assert make.returncode != 0
    assert "does not open inventory/local/group_vars/all/vault.yml" in output, output[-3000:]
    assert "TASK [" not in output

    assert _untouched() == before
    assert _docker_images(*APP_REPOSITORIES) == images, "an image was built or removed"


def test_an_engine_docker_host_names_that_does_not_answer_stops_preflight_before_the_cluster(
    deployed: Run, tmp_path: Path
) -> None:
    # A socket file nobody listens on: an engine that died without cleaning up, not the project's.
    dead = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(dead))
    before, dockerd = _untouched(), _dockerd_pid()

    run = run_playbook("site.yml", DOCKER_HOST=f"unix://{dead}", timeout=900)
    assert run.returncode != 0
    assert f"The Docker engine at unix://{dead} does not answer" in run.output, run.output[-3000:]
    assert "DOCKER_HOST points to an engine todo-app does not manage" in run.output
    assert "unset DOCKER_HOST" in run.output
    assert "Start dockerd" not in run.output, "the toolchain tried to start an engine it does not manage"
    assert "TASK [cluster" not in run.output
    assert _untouched() == before
    assert _dockerd_pid() == dockerd and _docker_answers()


def test_a_killed_docker_engine_is_started_again_by_the_next_run(deployed: Run) -> None:
    before = _untouched()
    killed = _dockerd_pid()
    try:
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{killed}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _docker_answers()
        # What a crash leaves: the pidfiles and the socket of a process that is gone.
        assert DOCKERD_PIDFILE.exists() and DOCKER_SOCKET.exists()

        # The release does not change; the user flow still proves the app serves (smoke_full).
        run = run_playbook("site.yml", "-e", "smoke_full=true", timeout=3600)
        assert run.returncode == 0, run.output[-6000:]
        assert "TASK [toolchain : Start dockerd" in run.output
        start = run.output.index("TASK [toolchain : Start dockerd")
        assert run.output[start : start + 600].count("changed: [localhost]") == 1
        assert "Ready in" in run.output and "is listed" in run.output
    finally:
        if not _docker_answers():
            run_playbook("playbooks/toolchain.yml", timeout=1800)
    assert _docker_answers() and _dockerd_pid() != killed
    assert revision() == before["revision"], "the engine's restart alone must not roll the release"
    assert http_get("/api/ready").status == 200


def test_an_upgrade_killed_while_pending_is_recovered_by_the_next_run(deployed: Run, tmp_path: Path) -> None:
    user = AppUser.register()
    task_id = user.create_task("survives an interrupted upgrade")
    good_revision, good_tag = revision(), image_tag("backend")

    # An interrupted helm leaves the release pending-upgrade: here a `helm upgrade --wait` typed
    # by hand (the role's own helm applies without waiting) on pods that never get Ready.
    log = (tmp_path / "upgrade.log").open("w")
    upgrade = subprocess.Popen(
        [
            str(CACHE_BIN / "helm"),
            "upgrade",
            RELEASE,
            str(REPO / "helm/todo-app"),
            "--reuse-values",
            "--set=backend.image.tag=never-ready",
            "--wait",
            "--timeout=10m",
            f"--namespace={NAMESPACE}",
        ],
        cwd=REPO,
        env=ansible_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 900
        while release_status()["info"]["status"] != "pending-upgrade":
            assert upgrade.poll() is None, (tmp_path / "upgrade.log").read_text()[-4000:]
            assert time.monotonic() < deadline, "the upgrade never became pending"
            time.sleep(1)
    finally:
        # Kill helm, as a lost terminal or an OOM kill would.
        os.killpg(upgrade.pid, signal.SIGKILL)
        upgrade.wait()
        log.close()
    deadline = time.monotonic() + 20
    while _live_in_group(upgrade.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _live_in_group(upgrade.pid), "helm outlived the kill"
    assert release_status()["info"]["status"] == "pending-upgrade"
    assert release_status()["version"] == good_revision + 1

    run = run_playbook("site.yml", timeout=3600)
    assert run.returncode == 0, run.output[-6000:]
    assert f"is pending-upgrade at revision {good_revision + 1}" in run.output
    assert f"rolling back to revision {good_revision}" in run.output
    assert "Ready in" in run.output and "is listed" in run.output

    assert release_status()["info"]["status"] == "deployed"
    assert image_tag("backend") == good_tag
    assert _pods_ready() == []
    assert http_get("/api/ready").status == 200
    assert task_id in user.task_ids()


_PRUNE_PLAY = {
    "name": "Prune the app images",
    "hosts": "localhost",
    "gather_facts": False,
    "tasks": [{"ansible.builtin.include_role": {"name": "release", "tasks_from": "prune_images.yml"}}],
}


def test_old_image_tags_are_pruned_and_the_history_s_images_kept(
    deployed: Run, tmp_path: Path, write_play: Callable[[Sequence[dict[str, Any]]], Path]
) -> None:
    previous = {
        component: f"todo-app/{component}:{image_tag(component)}" for component in ("backend", "frontend")
    }
    stale = "todo-app/backend:stale-prune-test"
    # An old build no revision names: a tag in Docker, imported into the cluster like a delivered one.
    assert _run("docker", "tag", previous["backend"], stale).returncode == 0
    with subprocess.Popen(["docker", "save", stale], stdout=subprocess.PIPE) as save:
        imported = subprocess.run(
            ["ctr", f"--address={CONTAINERD}", "--namespace=k8s.io", "images", "import", "-"],
            stdin=save.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
    assert save.returncode == 0
    assert imported.returncode == 0, imported.stderr
    assert _in_docker(stale) and _in_containerd(stale)
    others = _docker_images(*_NEVER_PRUNED)

    # Check mode says what it would remove and removes nothing.
    check = run_playbook(write_play([_PRUNE_PLAY]), "--check", timeout=600)
    assert check.returncode == 0, check.output[-6000:]
    assert stale in _pruned(check.output, "Would remove")[0]
    assert _in_docker(stale) and _in_containerd(stale)

    source = changed_source(tmp_path / "src")
    upgrade = run_playbook(
        "playbooks/upgrade.yml", *extra_vars({"images_project_dir": str(source)}), timeout=3600
    )
    assert upgrade.returncode == 0, upgrade.output[-6000:]
    current = f"todo-app/backend:{image_tag('backend')}"
    assert current != previous["backend"]

    from_docker, from_containerd = _pruned(upgrade.output)
    assert stale in from_docker and f"docker.io/{stale}" in from_containerd
    assert not _in_docker(stale) and not _in_containerd(stale)
    # The revision before the upgrade (what a rollback returns to) still finds its images.
    for ref in (*previous.values(), current):
        assert _in_docker(ref), f"{ref} was pruned from Docker"
        # The local cluster pulls its images from its own registry, under that registry's name.
        assert _in_containerd(f"{REGISTRY}/{ref}"), f"{ref} was pruned from containerd"
    assert _docker_images(*_NEVER_PRUNED) == others
