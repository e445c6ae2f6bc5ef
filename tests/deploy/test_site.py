"""What molecule/default cannot express: site.yml keeps secrets out of its output at -vvv, refuses
bad input before changing anything, and gives up on a hopeless upgrade at once and undoes it.
The end-to-end contract (deploy, a second run changing nothing, no secret in Helm, an upgrade
and a rollback under traffic) is molecule/default's."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from .conftest import (
    RELEASE,
    Run,
    extra_vars,
    helm,
    http_get,
    image_tag,
    revision,
    run_playbook,
    vault_values,
)

pytestmark = pytest.mark.cluster

# A rollout that can never get Ready is undone well before release_timeout (5 min): the whole
# make upgrade, rollback included, within this (issue 11: the previous release serving in 60 s).
FAIL_FAST_SECONDS = 90


def test_site_deploys_a_healthy_release_and_proves_it(deployed_in_full: Run) -> None:
    assert deployed_in_full.recap()["failed"] == 0
    assert "Ready in" in deployed_in_full.output
    assert "is listed" in deployed_in_full.output


def test_secret_values_are_not_in_the_output_even_at_vvv(deployed: Run) -> None:
    verbose = run_playbook("site.yml", "-vvv", timeout=3600)
    assert verbose.returncode == 0, verbose.output[-6000:]
    for secret in vault_values().values():
        assert secret not in verbose.output


def test_a_short_jwt_secret_fails_in_preflight_and_leaves_the_release_untouched(deployed: Run) -> None:
    before = revision()
    run = run_playbook("site.yml", *extra_vars({"secrets_jwt_secret": "short"}), timeout=1800)
    assert run.returncode != 0
    assert "is 5 characters long" in run.output
    assert "make vault-edit" in run.output
    assert "TASK [cluster" not in run.output
    assert revision() == before


def test_an_image_over_budget_fails_with_the_breakdown(deployed: Run) -> None:
    before = revision()
    run = run_playbook("site.yml", *extra_vars({"image_size_backend_budget_mb": 1}), timeout=1800)
    assert run.returncode != 0
    assert "budget 1 MB" in run.output
    assert "largest layers" in run.output.lower() or "MB  " in run.output
    assert "TASK [image_load" not in run.output
    assert "TASK [namespace" not in run.output
    assert revision() == before


def test_a_value_the_chart_rejects_fails_before_anything_changes(deployed: Run) -> None:
    before = revision()
    run = run_playbook(
        "site.yml",
        *extra_vars({"release_values": {"frontend": {"service": {"type": "Bogus"}}}}),
        timeout=1800,
    )
    assert run.returncode != 0
    assert "/frontend/service/type" in run.output
    assert "TASK [images" not in run.output
    assert revision() == before


def _broken_upgrade(values: dict[str, Any], within: float) -> Run:
    """make upgrade with ``values`` that never get Ready: undone within ``within`` seconds,
    the previous revision and image serving again."""
    before_revision, before_tag = revision(), image_tag("backend")
    started = time.monotonic()
    run = run_playbook("playbooks/upgrade.yml", *extra_vars({"release_values": values}), timeout=1800)
    elapsed = time.monotonic() - started
    assert run.returncode != 0
    assert "cannot become Ready, giving up after" in run.output
    assert f"The release was rolled back to revision {before_revision}" in run.output
    assert elapsed < within, f"the broken upgrade took {elapsed:.0f} s to be undone"
    status = json.loads(helm("status", RELEASE, "--output=json").stdout)
    assert status["info"]["status"] == "deployed"
    assert image_tag("backend") == before_tag
    assert http_get("/api/ready").status == 200
    return run


def test_an_upgrade_whose_pods_never_get_ready_is_explained_and_rolled_back(deployed: Run) -> None:
    # The default release_timeout (5 min): the missing image is given up on at first sight.
    run = _broken_upgrade({"backend": {"image": {"tag": "does-not-exist"}}}, FAIL_FAST_SECONDS)
    # The failing pod's events are printed before the rollback. The local cluster pulls from its
    # registry (IfNotPresent), which has no such tag.
    pull_error = re.search(r"ErrImagePull|ImagePullBackOff|ErrImageNeverPull", run.output)
    assert pull_error is not None
    assert pull_error.start() < run.output.index("rolling back to revision")


def test_an_upgrade_whose_migration_keeps_failing_is_given_up_on_and_rolled_back(deployed: Run) -> None:
    # A setting the backend refuses at start, which the chart's schema lets through (a network
    # written with host bits): the migration init container, the first to read the settings,
    # exits 1 each time, and the kubelet restarts it until release_crash_limit ends the wait.
    run = _broken_upgrade({"backend": {"trustedProxies": ["10.244.0.1/16"]}}, FAIL_FAST_SECONDS + 60)
    assert re.search(
        r"init container migrate: (CrashLoopBackOff|Error): exit code 1, restarted 2 times", run.output
    )
