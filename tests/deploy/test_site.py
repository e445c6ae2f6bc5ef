"""End to end on the real local cluster: site.yml deploys, re-runs without change, keeps
secrets out of Helm and logs, and refuses bad input before changing anything."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import yaml

from .conftest import CACHE_BIN, REPO, Run, ansible_env, extra_vars, run_playbook

pytestmark = pytest.mark.cluster

NAMESPACE = "todo-app"
RELEASE = "todo-app"


def _helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CACHE_BIN / "helm"), *args, "--namespace", NAMESPACE],
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=False,
    )


def _revision() -> int:
    status = _helm("status", RELEASE, "--output=json")
    assert status.returncode == 0, status.stderr
    revision: int = json.loads(status.stdout)["version"]
    return revision


def _vault_values() -> dict[str, str]:
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


@pytest.fixture(scope="module")
def deployed() -> Run:
    run = run_playbook("site.yml", timeout=3600)
    assert run.returncode == 0, run.output[-6000:]
    return run


def test_site_deploys_a_healthy_release_and_proves_it(deployed: Run) -> None:
    assert deployed.recap()["failed"] == 0
    assert "Ready in" in deployed.output
    assert "is listed" in deployed.output


def test_a_second_run_changes_nothing(deployed: Run) -> None:
    again = run_playbook("site.yml", timeout=3600)
    assert again.returncode == 0, again.output[-6000:]
    assert again.recap()["changed"] == 0, again.output[-6000:]


def test_secret_values_are_not_in_the_helm_release(deployed: Run) -> None:
    values = _helm("get", "values", RELEASE, "--all", "--output=json")
    assert values.returncode == 0, values.stderr
    history = _helm("get", "all", RELEASE)
    for secret in _vault_values().values():
        assert secret not in values.stdout
        assert secret not in history.stdout
    assert json.loads(values.stdout)["existingSecret"] == "todo-app-secrets"


def test_secret_values_are_not_in_the_output_even_at_vvv(deployed: Run) -> None:
    verbose = run_playbook("site.yml", "-vvv", timeout=3600)
    assert verbose.returncode == 0, verbose.output[-6000:]
    for secret in _vault_values().values():
        assert secret not in verbose.output


def test_a_short_jwt_secret_fails_in_preflight_and_leaves_the_release_untouched(deployed: Run) -> None:
    before = _revision()
    run = run_playbook("site.yml", *extra_vars({"secrets_jwt_secret": "short"}), timeout=1800)
    assert run.returncode != 0
    assert "is 5 characters long" in run.output
    assert "make vault-edit" in run.output
    assert "TASK [cluster" not in run.output
    assert _revision() == before


def test_an_image_over_budget_fails_with_the_breakdown(deployed: Run) -> None:
    before = _revision()
    run = run_playbook("site.yml", *extra_vars({"image_size_backend_budget_mb": 1}), timeout=1800)
    assert run.returncode != 0
    assert "budget 1 MB" in run.output
    assert "largest layers" in run.output.lower() or "MB  " in run.output
    assert "TASK [release" not in run.output
    assert _revision() == before


def test_a_value_the_chart_rejects_fails_before_anything_changes(deployed: Run) -> None:
    before = _revision()
    run = run_playbook(
        "site.yml",
        *extra_vars({"release_values": {"frontend": {"service": {"type": "Bogus"}}}}),
        timeout=1800,
    )
    assert run.returncode != 0
    assert "/frontend/service/type" in run.output
    assert "TASK [images" not in run.output
    assert _revision() == before


def test_rollback_restores_the_previous_revision_and_serves(deployed: Run) -> None:
    upgrade = run_playbook(
        "playbooks/upgrade.yml",
        *extra_vars({"release_values": {"backend": {"replicaCount": 2}}}),
        timeout=1800,
    )
    assert upgrade.returncode == 0, upgrade.output[-6000:]
    upgraded = _revision()
    rollback = run_playbook("playbooks/rollback.yml", timeout=1800)
    assert rollback.returncode == 0, rollback.output[-6000:]
    assert _revision() == upgraded + 1
    values = json.loads(_helm("get", "values", RELEASE, "--output=json").stdout)
    assert values.get("backend", {}).get("replicaCount") != 2
