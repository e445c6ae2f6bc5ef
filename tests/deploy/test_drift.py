"""Drift: a no-op run asks cheap questions, so each of these must still be noticed and repaired by
the next site.yml: a deleted Deployment or Secret, a stopped cluster component, an image removed
from the cluster's runtime, an edited values file, an edited vault."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import (
    CACHE_BIN,
    NAMESPACE,
    REPO,
    Run,
    ansible_env,
    http_get,
    image_tag,
    revision,
    run_playbook,
)

pytestmark = pytest.mark.cluster

CONTAINERD = "/run/todo-local/containerd/containerd.sock"
REGISTRY = "127.0.0.1:5001"
PIDS = Path("/var/lib/todo-local/run")
VAULT = REPO / "inventory/local/group_vars/all/vault.yml"


def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CACHE_BIN / "kubectl"), "--namespace", NAMESPACE, *args],
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=False,
    )


def site(*args: str) -> Run:
    run = run_playbook("site.yml", *args, timeout=1800)
    assert run.returncode == 0, run.output[-6000:]
    return run


def assert_serving() -> None:
    assert http_get("/api/ready").status == 200


@pytest.fixture(scope="module", autouse=True)
def quiet_release(deployed: Run) -> None:
    """Start from a release the next run leaves alone, so each test sees only its own drift."""
    assert site().recap()["changed"] == 0


def test_a_no_op_run_skips_the_full_stages_and_changes_nothing() -> None:
    run = site()
    assert run.recap()["changed"] == 0
    assert "Checking the toolchain in full" not in run.output
    assert "Bringing the local cluster up in full" not in run.output
    assert "every object is in the cluster" in run.output
    # helm-diff is not asked: the chart, values and revision are those the last run recorded.
    assert "the chart and values are those this revision was applied or verified with" in run.output
    assert "The release did not change in this run" in run.output


def test_a_deleted_deployment_is_recreated() -> None:
    before = revision()
    assert kubectl("delete", "deployment", "todo-app-frontend", "--wait=true").returncode == 0
    run = site()
    assert "recreate what was missing from the cluster" in run.output
    # The debug message shows kubectl's words JSON-escaped.
    assert re.search(r'deployments\.apps \\?"todo-app-frontend\\?" not found', run.output)
    assert kubectl("get", "deployment", "todo-app-frontend").returncode == 0
    assert revision() == before + 1
    assert_serving()
    assert site().recap()["changed"] == 0


def test_a_deleted_secret_is_applied_again() -> None:
    assert kubectl("delete", "secret", "todo-app-secrets").returncode == 0
    run = site()
    assert run.recap()["changed"] >= 1
    secret = kubectl("get", "secret", "todo-app-secrets", "--output=json")
    assert secret.returncode == 0, secret.stderr
    assert set(json.loads(secret.stdout)["data"]) == {
        "JWT_SECRET",
        "postgres-password",
        "owner-password",
        "app-password",
    }
    assert_serving()


def test_a_stopped_cluster_component_is_started_again() -> None:
    pidfile = PIDS / "kube-scheduler.pid"
    pid = int(pidfile.read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    for _ in range(50):
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    run = site()
    assert f"the process of {pidfile} is not running" in run.output
    restarted = int(pidfile.read_text().split()[0])
    assert restarted != pid and Path(f"/proc/{restarted}").exists()
    assert_serving()
    assert site().recap()["changed"] == 0


def test_an_image_removed_from_the_cluster_runtime_is_pulled_again_from_the_registry() -> None:
    # The local cluster gets its images through its own registry; image_load still checks that
    # containerd holds them, and has it pull a missing one back (a restarted pod then does not
    # depend on the registry).
    ref = f"{REGISTRY}/todo-app/backend:{image_tag('backend')}"
    ctr = ["ctr", f"--address={CONTAINERD}", "--namespace=k8s.io", "images"]
    assert subprocess.run([*ctr, "rm", ref], capture_output=True, check=False).returncode == 0
    run = site()
    assert run.recap()["changed"] >= 1
    assert re.search(
        r"TASK \[image_load : Pull the missing images from the local registry[^\n]*\n[^\n]*\nchanged:",
        run.output,
    )
    listed = subprocess.run(
        [*ctr, "list", "--quiet", f"name=={ref}"], capture_output=True, text=True, check=False
    )
    assert listed.stdout.strip() == ref
    assert site().recap()["changed"] == 0


def test_an_edited_values_file_is_rolled_out_and_so_is_its_revert(tmp_path: Path) -> None:
    values = tmp_path / "values.yml"
    values.write_text(
        yaml.safe_dump(
            {"release_values": {"serviceAccount": {"annotations": {"todo-app.dev/drift-test": "edited"}}}}
        )
    )
    before = revision()
    site("-e", f"@{values}")
    account = json.loads(kubectl("get", "serviceaccount", "todo-app", "--output=json").stdout)
    assert account["metadata"].get("annotations", {}).get("todo-app.dev/drift-test") == "edited"
    assert revision() == before + 1
    site()
    account = json.loads(kubectl("get", "serviceaccount", "todo-app", "--output=json").stdout)
    assert "todo-app.dev/drift-test" not in account["metadata"].get("annotations", {})
    assert revision() == before + 2


@pytest.fixture
def vault_restored() -> Iterator[bytes]:
    original = VAULT.read_bytes()
    yield original
    VAULT.write_bytes(original)


def _vault(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(REPO / ".venv/bin/ansible-vault"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=ansible_env(),
        check=True,
    )
    return done.stdout


def _secret_checksum() -> str:
    deployment = json.loads(kubectl("get", "deployment", "todo-app-backend", "--output=json").stdout)
    annotations: dict[str, Any] = deployment["spec"]["template"]["metadata"].get("annotations", {})
    return str(annotations.get("checksum/existing-secret", ""))


def test_an_edited_vault_reaches_the_secret_and_rolls_the_backend(vault_restored: bytes) -> None:
    values = yaml.safe_load(_vault("view", str(VAULT)))
    before = _secret_checksum()
    values["vault_jwt_secret"] = values["vault_jwt_secret"][::-1] + "-edited"
    VAULT.write_text(
        _vault("encrypt", "--encrypt-vault-id", "todo", "--output", "-", stdin=yaml.safe_dump(values))
    )
    site()
    edited = _secret_checksum()
    assert edited and edited != before, "the backend pods did not get the new secret's checksum"
    assert_serving()
    VAULT.write_bytes(vault_restored)
    site()
    assert _secret_checksum() == before
    assert_serving()
