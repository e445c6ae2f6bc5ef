"""The teardown role without a cluster: it says what it would do, and refuses to delete the
cluster under the database's data before touching anything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import Run, extra_vars


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
