"""rollout_wait: when a rollout is Ready, and which states it gives up on at once."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kubernetes.dynamic.resource import ResourceInstance

from .conftest import load_module

_MODULE = load_module("rollout_wait")
health = __import__("ansible.module_utils.rollout_health", fromlist=["pod_failures"])

REVISION = "deployment.kubernetes.io/revision"


def _owned(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"kind": kind, "name": name, "controller": True}]


def deployment(revision: str = "2", replicas: int = 1, available: int = 1, total: int = 1) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": 4, "annotations": {REVISION: revision}},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": 4,
            "replicas": total,
            "availableReplicas": available,
            "updatedReplicas": available,
            "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}],
        },
    }


def replicaset(name: str, revision: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "annotations": {REVISION: revision},
            "ownerReferences": _owned("Deployment", "web"),
        }
    }


def statefulset(update: str = "db-2", current: str = "db-2", ready: int = 1) -> dict[str, Any]:
    return {
        "metadata": {"name": "db", "generation": 1},
        "spec": {"replicas": 1, "updateStrategy": {"type": "RollingUpdate"}},
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "readyReplicas": ready,
            "updatedReplicas": 1,
            "currentRevision": current,
            "updateRevision": update,
        },
    }


def pod(name: str, owner: tuple[str, str], ready: bool = True, **status: Any) -> dict[str, Any]:
    labels = {"controller-revision-hash": status.pop("revision")} if "revision" in status else {}
    container = {"name": "app", "ready": ready, "restartCount": 0, "state": {"running": {}}}
    return {
        "metadata": {"name": name, "labels": labels, "ownerReferences": _owned(*owner)},
        "status": {
            "phase": "Running",
            "containerStatuses": status.get("containers", [container]),
            "initContainerStatuses": status.get("init", []),
        },
    }


def crashed(name: str, restarts: int, reason: str = "CrashLoopBackOff", exit_code: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason, "message": "back-off 10s restarting failed container"}},
        "lastState": {
            "terminated": {"exitCode": exit_code, "reason": "Error", "message": "alembic: no such revision\n"}
        },
    }


def waiting(name: str, reason: str, message: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": reason, "message": message}},
    }


def snapshot(**kinds: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The shape snapshot() returns: the dynamic client's fields, not plain dicts."""
    lists = {
        "deployments": "DeploymentList",
        "statefulsets": "StatefulSetList",
        "replicasets": "ReplicaSetList",
        "pods": "PodList",
    }
    return {
        key: ResourceInstance(  # type: ignore[no-untyped-call]
            None, {"kind": kind, "apiVersion": "v1", "items": copy.deepcopy(kinds.get(key, []))}
        ).items
        for key, kind in lists.items()
    }


def test_only_pods_of_the_newest_revision_count() -> None:
    pods = [
        pod("web-new-1", ("ReplicaSet", "web-new")),
        pod("web-old-1", ("ReplicaSet", "web-old")),
        pod("db-0", ("StatefulSet", "db"), revision="db-2"),
        pod("db-1", ("StatefulSet", "db"), revision="db-1"),
        pod("test-pod", ("Job", "helm-test")),
    ]
    names = health.current_pod_names(
        [deployment()], [statefulset()], [replicaset("web-new", "2"), replicaset("web-old", "1")], pods
    )
    assert names == {"web-new-1", "db-0"}


@pytest.mark.parametrize(
    "reason",
    [
        "ErrImageNeverPull",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
    ],
)
def test_a_container_that_can_never_start_is_hopeless_at_once(reason: str) -> None:
    failures = health.pod_failures(
        pod(
            "web-1",
            ("ReplicaSet", "web"),
            containers=[waiting("app", reason, 'image "x:nope" is not present')],
        ),
        2,
    )
    assert [(f["container"], f["reason"]) for f in failures] == [("app", reason)]
    assert "x:nope" in health.describe(failures[0])


def test_a_crash_is_hopeless_only_at_the_crash_limit() -> None:
    below = pod("web-1", ("ReplicaSet", "web"), init=[crashed("migrate", restarts=1)])
    at = pod("web-1", ("ReplicaSet", "web"), init=[crashed("migrate", restarts=2)])
    assert health.pod_failures(below, 2) == []
    [failure] = health.pod_failures(at, 2)
    assert failure["role"] == "init container"
    assert failure["reason"] == "CrashLoopBackOff"
    assert "exit code 1, restarted 2 times: alembic: no such revision" in failure["message"]


def test_a_clean_exit_and_ordinary_waiting_are_not_failures() -> None:
    restarted_cleanly = crashed("app", restarts=5, exit_code=0)
    creating = waiting("app", "ContainerCreating")
    assert (
        health.pod_failures(pod("p", ("ReplicaSet", "web"), containers=[restarted_cleanly, creating]), 1)
        == []
    )


def test_a_deployment_past_its_progress_deadline_is_stalled() -> None:
    stalled = deployment()
    stalled["status"]["conditions"] = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "web timed out",
        }
    ]
    assert health.deployment_stalled(stalled) == "web timed out"
    assert health.deployment_stalled(deployment()) is None


def test_assess_is_ready_when_every_workload_and_pod_is() -> None:
    state = _MODULE.assess(
        snapshot(
            deployments=[deployment()],
            statefulsets=[statefulset()],
            replicasets=[replicaset("web-new", "2")],
            pods=[
                pod("web-new-1", ("ReplicaSet", "web-new")),
                pod("db-0", ("StatefulSet", "db"), revision="db-2"),
            ],
        ),
        crash_limit=2,
    )
    assert state["ready"] is True
    assert state["not_ready"] == [] and state["failures"] == []


def test_assess_waits_while_old_pods_remain_or_a_revision_is_not_rolled_out() -> None:
    rolling = _MODULE.assess(
        snapshot(
            deployments=[deployment(replicas=1, available=1, total=2)],
            statefulsets=[statefulset(update="db-3", current="db-2")],
            replicasets=[replicaset("web-new", "2")],
            pods=[pod("web-new-1", ("ReplicaSet", "web-new"))],
        ),
        crash_limit=2,
    )
    assert rolling["ready"] is False
    assert rolling["not_ready"] == ["web", "db"]


def test_assess_fails_on_the_new_revision_but_not_on_an_old_one() -> None:
    broken_new = pod(
        "web-new-1", ("ReplicaSet", "web-new"), ready=False, containers=[waiting("app", "ErrImageNeverPull")]
    )
    broken_old = pod(
        "web-old-1", ("ReplicaSet", "web-old"), ready=False, init=[crashed("migrate", restarts=9)]
    )
    found = snapshot(
        deployments=[deployment(available=0)],
        replicasets=[replicaset("web-new", "2"), replicaset("web-old", "1")],
        pods=[broken_new, broken_old],
    )
    state = _MODULE.assess(found, crash_limit=2)
    assert [f["pod"] for f in state["failures"]] == ["web-new-1"]
    assert state["ready"] is False


def test_nothing_found_is_not_ready() -> None:
    assert _MODULE.assess(snapshot(), crash_limit=2)["ready"] is False


def test_terminating_and_finished_pods_do_not_count() -> None:
    leaving = pod("web-old-1", ("ReplicaSet", "web-old"), ready=False)
    leaving["metadata"]["deletionTimestamp"] = "2026-12-02T00:00:00Z"
    finished = pod("test", ("Job", "t"), ready=False)
    finished["status"]["phase"] = "Succeeded"
    state = _MODULE.assess(
        snapshot(
            deployments=[deployment()],
            replicasets=[replicaset("web-new", "2")],
            pods=[pod("web-new-1", ("ReplicaSet", "web-new")), leaving, finished],
        ),
        crash_limit=2,
    )
    assert [p["name"] for p in state["pods"]] == ["web-new-1"]
    assert state["ready"] is True


@pytest.mark.parametrize(
    ("text", "seconds"), [("300", 300.0), ("5m0s", 300.0), ("90s", 90.0), ("1h", 3600.0), ("1m30s", 90.0)]
)
def test_timeouts_are_seconds_or_go_durations(text: str, seconds: float) -> None:
    assert _MODULE.parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["", "five minutes", "5x", "5m0", "-3"])
def test_a_bad_timeout_says_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="Go duration"):
        _MODULE.parse_timeout(text)
