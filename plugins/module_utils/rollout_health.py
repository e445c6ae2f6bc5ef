# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads a rollout's objects, as the API server returns them, for the states no wait will cure.

Skaffold's status check gives up on a deployment at the first of these instead of waiting out
its deadline; so does rollout_wait. Everything here works on plain dicts, so it is tested
without a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# A container waiting for one of these reasons stays so: the image is not in the node (and
# the pull policy forbids pulling), cannot be pulled, or the container cannot be created
# from its spec (a missing Secret key, a bad command).
FATAL_WAITING_REASONS = frozenset(
    {
        "ErrImageNeverPull",
        "InvalidImageName",
        "ErrImagePull",
        "ImagePullBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)

Obj = Mapping[str, Any]


def _get(obj: Obj | None, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(obj, Mapping) or key not in obj or obj[key] is None:
            return default
        obj = obj[key]
    return obj


def _owner(obj: Obj) -> tuple[str, str] | None:
    for ref in _get(obj, "metadata", "ownerReferences", default=[]):
        if ref.get("controller"):
            return ref.get("kind", ""), ref.get("name", "")
    return None


def current_pod_names(
    deployments: Iterable[Obj], statefulsets: Iterable[Obj], replicasets: Iterable[Obj], pods: Iterable[Obj]
) -> set[str]:
    """The pods of each workload's newest revision: the ones a rollout is waiting for.

    A Deployment's newest ReplicaSet carries the Deployment's revision annotation; a
    StatefulSet's newest pods carry its updateRevision. Pods of older revisions, which a
    rollout replaces, are left out: an old pod's crash must not fail the rollout that fixes it.
    """
    revision_key = "deployment.kubernetes.io/revision"
    newest_rs = set()
    deployment_revision = {
        _get(d, "metadata", "name"): _get(d, "metadata", "annotations", revision_key) for d in deployments
    }
    for rs in replicasets:
        owner = _owner(rs)
        if (
            owner
            and owner[0] == "Deployment"
            and owner[1] in deployment_revision
            and _get(rs, "metadata", "annotations", revision_key) == deployment_revision[owner[1]]
        ):
            newest_rs.add(_get(rs, "metadata", "name"))
    update_revision = {_get(s, "metadata", "name"): _get(s, "status", "updateRevision") for s in statefulsets}
    names = set()
    for pod in pods:
        owner = _owner(pod)
        if owner is None:
            continue
        kind, name = owner
        if kind == "ReplicaSet" and name in newest_rs:
            names.add(_get(pod, "metadata", "name"))
        elif kind == "StatefulSet" and name in update_revision:
            revision = _get(pod, "metadata", "labels", "controller-revision-hash")
            if update_revision[name] is None or revision == update_revision[name]:
                names.add(_get(pod, "metadata", "name"))
    return names


def _termination(status: Obj) -> Obj | None:
    """The container's own failed run: the current one when it ended, else the last one."""
    for state in (_get(status, "state", "terminated"), _get(status, "lastState", "terminated")):
        if isinstance(state, Mapping) and state.get("exitCode", 0) != 0:
            return state
    return None


def pod_failures(pod: Obj, crash_limit: int) -> list[dict[str, Any]]:
    """Each container of the pod (init containers first) that will not start, and why.

    A container crashed ``crash_limit`` times (``restartCount``) with a non-zero exit is
    hopeless; so is one waiting for a reason in FATAL_WAITING_REASONS.
    """
    failures = []
    statuses = [("init container", s) for s in _get(pod, "status", "initContainerStatuses", default=[])]
    statuses += [("container", s) for s in _get(pod, "status", "containerStatuses", default=[])]
    for role, status in statuses:
        waiting = _get(status, "state", "waiting", default={})
        reason = waiting.get("reason", "")
        restarts = int(status.get("restartCount") or 0)
        ended = _termination(status)
        if reason in FATAL_WAITING_REASONS:
            detail = waiting.get("message", "")
        elif ended is not None and restarts >= crash_limit:
            reason = reason or ended.get("reason") or "Error"
            detail = f"exit code {ended.get('exitCode')}, restarted {restarts} times"
            if ended.get("message"):
                detail += f": {ended['message'].strip()}"
        else:
            continue
        failures.append(
            {
                "pod": _get(pod, "metadata", "name"),
                "container": status.get("name", ""),
                "role": role,
                "reason": reason,
                "message": " ".join(str(detail).split())[:400],
            }
        )
    return failures


def deployment_stalled(deployment: Obj) -> str | None:
    """Why the Deployment controller itself gave up (its progress deadline passed), or None."""
    for condition in _get(deployment, "status", "conditions", default=[]):
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return str(condition.get("message") or "progress deadline exceeded")
    return None


def describe(failure: Obj) -> str:
    """One line a user can act on."""
    message = f": {failure['message']}" if failure.get("message") else ""
    return f"pod {failure['pod']}, {failure['role']} {failure['container']}: {failure['reason']}{message}"
