"""The teardown role without a cluster: it says what it would do, and refuses to delete the
cluster under the database's data before touching anything."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import CACHE_BIN, NAMESPACE, RELEASE, AppUser, Run, ansible_env, extra_vars, helm, run_playbook

# The embedded database's volume claim (the StatefulSet's volumeClaimTemplate "data").
DATA_CLAIM = "data-todo-app-postgresql-0"


def _teardown(
    playbook: Callable[..., Run], write_play: Callable[..., Path], variables: dict[str, Any]
) -> Run:
    play = write_play(
        [
            {
                "name": "Tear down",
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [{"ansible.builtin.include_role": {"name": "teardown"}}],
            }
        ]
    )
    run: Run = playbook(play, *extra_vars({"teardown_cluster_reachable": False, **variables}), timeout=120)
    return run


def test_deleting_the_cluster_without_its_data_is_refused_before_anything_changes(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    run = _teardown(playbook, write_play, {"teardown_cluster": True})
    assert run.returncode != 0
    assert "Deleting the cluster deletes every volume in it" in run.output
    assert "Add DATA=1 (teardown_delete_data=true)" in run.output
    assert run.recap()["changed"] == 0


def test_an_unreachable_cluster_has_nothing_to_remove(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    run = _teardown(playbook, write_play, {"teardown_cluster": True, "teardown_delete_data": True})
    assert run.returncode == 0, run.output[-3000:]
    assert "The cluster does not answer: nothing in it to remove." in run.output
    assert run.recap()["changed"] == 0


def _pvc() -> dict[str, Any]:
    got = subprocess.run(
        [str(CACHE_BIN / "kubectl"), "get", "pvc", DATA_CLAIM, f"--namespace={NAMESPACE}", "--output=json"],
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=False,
    )
    assert got.returncode == 0, got.stderr
    claim: dict[str, Any] = json.loads(got.stdout)
    return claim


@pytest.mark.cluster
def test_teardown_keeps_the_database_and_the_next_deploy_serves_the_same_data(deployed: Run) -> None:
    user = AppUser.register()
    task_id = user.create_task("kept through make teardown")
    claim = _pvc()

    down = run_playbook("playbooks/teardown.yml", timeout=900)
    assert down.returncode == 0, down.output[-4000:]
    assert DATA_CLAIM in down.output and "Keeping" in down.output
    assert helm("status", RELEASE).returncode != 0, "the release is still installed"
    kept = _pvc()
    assert kept["metadata"]["uid"] == claim["metadata"]["uid"], "the data volume claim was recreated"
    assert kept["status"]["phase"] == "Bound"

    up = run_playbook("site.yml", timeout=3600)
    assert up.returncode == 0, up.output[-6000:]
    assert task_id in user.task_ids(), "the task did not survive teardown and redeploy"
    assert _pvc()["metadata"]["uid"] == claim["metadata"]["uid"]
