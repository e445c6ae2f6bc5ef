"""`make plan` (scripts/plan.py): what the next deploy would do, changing nothing, with exit
0 when there is nothing to do, 2 when changes are pending, 1 when no plan can be made, and no
secret value in its output at any verbosity."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import (
    REPO,
    Run,
    ansible_env,
    changed_source,
    extra_vars,
    image_tag,
    revision,
    run_playbook,
    vault_values,
)

pytestmark = pytest.mark.cluster


def plan(*args: str) -> Run:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts/plan.py"), *args],
        cwd=REPO,
        env=ansible_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
        check=False,
    )
    return Run(done.returncode, done.stdout)


def docker_tags(repository: str) -> set[str]:
    listed = subprocess.run(
        ["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", repository],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(listed.stdout.split())


@pytest.fixture(scope="module")
def settled(deployed: Run) -> None:
    """A deployment the next run would leave alone."""
    again = run_playbook("site.yml", timeout=1800)
    assert again.returncode == 0, again.output[-6000:]


def test_nothing_to_do_exits_0(settled: None) -> None:
    run = plan()
    assert run.returncode == 0, run.output[-4000:]
    assert "Nothing to do: the next `make deploy` would change nothing." in run.output
    assert run.recap()["failed"] == 0


def test_a_source_change_is_pending_with_exit_2_and_nothing_is_built(settled: None, tmp_path: Path) -> None:
    before = {"revision": revision(), "tag": image_tag("backend"), "tags": docker_tags("todo-app/backend")}
    run = plan(*extra_vars({"images_project_dir": str(changed_source(tmp_path / "src"))}))
    assert run.returncode == 2, run.output[-4000:]
    summary = run.output[run.output.index("PLAN *") :]
    assert "images: Build the image of backend" in summary
    assert "release: upgrade todo-app (helm-diff above)" in summary
    assert "image of frontend" not in summary, "an unchanged frontend was planned for a rebuild"
    # The image as the cluster pulls it: from the local cluster's registry (127.0.0.1:5001/...).
    assert re.search(r"\+\s+image: .{0,3}(127\.0\.0\.1:\d+/)?todo-app/backend:", run.output), (
        "the helm-diff shows no new backend image"
    )
    after = {"revision": revision(), "tag": image_tag("backend"), "tags": docker_tags("todo-app/backend")}
    assert after == before


def test_a_changed_secret_is_pending_and_never_shown_even_at_vvv(settled: None) -> None:
    new_secret = secrets.token_hex(24)
    run = plan("-vvv", *extra_vars({"secrets_jwt_secret": new_secret}))
    assert run.returncode == 2, run.output[-4000:]
    summary = run.output[run.output.index("PLAN *") :]
    assert "secrets: Apply the Secret todo-app-secrets" in summary
    assert new_secret not in run.output
    for value in vault_values().values():
        assert value not in run.output


def test_a_first_deploy_into_a_new_namespace_is_planned_without_creating_it(settled: None) -> None:
    run = plan("-e", "namespace_name=todo-plan-fresh")
    assert run.returncode == 2, run.output[-4000:]
    summary = run.output[run.output.index("PLAN *") :]
    assert "secrets: the Secret would be created in the new namespace todo-plan-fresh" in summary
    assert "release: install todo-app in todo-plan-fresh" in summary
    listed = subprocess.run(
        ["kubectl", "get", "namespace", "todo-plan-fresh"],
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=False,
    )
    assert listed.returncode != 0 and "NotFound" in listed.stderr
