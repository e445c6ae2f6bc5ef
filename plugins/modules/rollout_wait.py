#!/usr/bin/python
# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for a namespace's workloads to be Ready, and give up at once on a hopeless rollout."""

from __future__ import annotations

import re
import time
from typing import Any

from ansible.module_utils.rollout_health import (
    current_pod_names,
    deployment_stalled,
    describe,
    pod_failures,
)
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.waiter import (
    deployment_ready,
    pod_ready,
    statefulset_ready,
)

DOCUMENTATION = r"""
---
module: rollout_wait
short_description: Wait until a namespace's Deployments, StatefulSets and pods are Ready, failing fast
description:
  - Reads the Deployments, StatefulSets, ReplicaSets and pods of O(namespace) (those matching
    O(label_selectors)) once per O(poll_interval) and returns when every workload is rolled out
    (the readiness checks of M(kubernetes.core.k8s)'s C(wait), observedGeneration included) and
    every pod is Ready.
  - Gives up before O(timeout) when a pod of a workload's newest revision cannot start, as
    Skaffold's status check does, for example when its image is not in the node
    (C(ErrImageNeverPull)) or cannot be pulled, its container cannot be created, or a container
    (a migration init container too) crashed O(crash_limit) times; or when a Deployment passed
    its progress deadline. Pods of older revisions never fail the wait.
  - Reports no change; it only reads.
author:
  - todo-app developers
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  namespace:
    description: The namespace whose workloads are waited for.
    type: str
    required: true
  label_selectors:
    description: Only objects matching all of these label selectors (C(key=value)) count.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - How long to wait at most, as seconds or a Go duration (C(5m0s), C(90s)).
    type: str
    default: 5m0s
  crash_limit:
    description:
      - A container that exited non-zero and was restarted this many times is taken as never
        going to start. C(1) gives up at the first restart after a crash.
    type: int
    default: 2
  poll_interval:
    description: Seconds between reads.
    type: float
    default: 1.0
  fail_fast:
    description: Give up at the first hopeless state. With V(false), wait out O(timeout).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Wait for the release's pods, giving up at the first pod that cannot start
  rollout_wait:
    namespace: todo-app
    label_selectors: [app.kubernetes.io/instance=todo-app]
    timeout: 5m0s
"""

RETURN = r"""
ready:
  description: Whether every workload and pod was Ready.
  returned: always
  type: bool
  sample: true
elapsed:
  description: Seconds from the start of the wait to its end.
  returned: always
  type: float
  sample: 12.4
workloads:
  description: Each Deployment and StatefulSet, and whether it is rolled out.
  returned: always
  type: list
  elements: dict
  sample: [{kind: Deployment, name: todo-app-backend, ready: true, replicas: 2}]
pods:
  description: The pods counted (neither terminating nor finished), and whether each is Ready.
  returned: always
  type: list
  elements: dict
  sample: [{name: todo-app-backend-7c9d-x2x4k, ready: true}]
not_ready:
  description: Names of the workloads and pods that were not Ready at the end.
  returned: always
  type: list
  elements: str
  sample: [todo-app-backend-7c9d-x2x4k]
failures:
  description: The hopeless states found, one per container, or a stalled Deployment.
  returned: always
  type: list
  elements: dict
  sample:
    - pod: todo-app-backend-7c9d-x2x4k
      container: migrate
      role: init container
      reason: CrashLoopBackOff
      message: exit code 1, restarted 2 times
"""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_timeout(value: str) -> float:
    """Seconds in ``value``: a number of seconds or a Go duration such as ``5m0s``."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"timeout {value!r} is neither seconds nor a Go duration such as 5m0s or 90s")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def snapshot(client: Any, namespace: str, selector: str) -> dict[str, list[Any]]:
    """One read of each kind the wait looks at."""
    kinds = {
        "deployments": ("Deployment", "apps/v1"),
        "statefulsets": ("StatefulSet", "apps/v1"),
        "replicasets": ("ReplicaSet", "apps/v1"),
        "pods": ("Pod", "v1"),
    }
    found = {}
    for key, (kind, api_version) in kinds.items():
        resource = client.resource(kind, api_version)
        params: dict[str, Any] = {"namespace": namespace}
        if selector and key != "replicasets":
            params["label_selector"] = selector
        found[key] = list(client.get(resource, **params).items)
    return found


def assess(found: dict[str, list[Any]], crash_limit: int) -> dict[str, Any]:
    """Whether the snapshot is rolled out and Ready, what is not, and what never will be."""
    workloads = [
        {
            "kind": "Deployment",
            "name": d.metadata.name,
            "ready": deployment_ready(d),
            "replicas": d.spec.replicas,
        }
        for d in found["deployments"]
    ] + [
        {
            "kind": "StatefulSet",
            "name": s.metadata.name,
            "ready": statefulset_ready(s),
            "replicas": s.spec.replicas,
        }
        for s in found["statefulsets"]
    ]
    live = [
        p
        for p in found["pods"]
        if not p.metadata.deletionTimestamp and p.status.phase not in ("Succeeded", "Failed")
    ]
    pods = [{"name": p.metadata.name, "ready": pod_ready(p)} for p in live]
    as_dicts = {key: [item.to_dict() for item in items] for key, items in found.items()}
    current = current_pod_names(
        as_dicts["deployments"], as_dicts["statefulsets"], as_dicts["replicasets"], as_dicts["pods"]
    )
    failures = []
    for pod in as_dicts["pods"]:
        if pod["metadata"]["name"] in current and not pod["metadata"].get("deletionTimestamp"):
            failures += pod_failures(pod, crash_limit)
    for deployment in as_dicts["deployments"]:
        stalled = deployment_stalled(deployment)
        if stalled:
            failures.append(
                {
                    "pod": "",
                    "container": "",
                    "role": "Deployment",
                    "reason": "ProgressDeadlineExceeded",
                    "message": f"{deployment['metadata']['name']}: {stalled}",
                }
            )
    not_ready = [w["name"] for w in workloads if not w["ready"]] + [p["name"] for p in pods if not p["ready"]]
    return {
        "ready": bool(workloads) and not not_ready,
        "workloads": workloads,
        "pods": pods,
        "not_ready": not_ready,
        "failures": failures,
    }


def main() -> None:
    argument_spec = dict(
        AUTH_ARG_SPEC,
        namespace=dict(type="str", required=True),
        label_selectors=dict(type="list", elements="str", default=[]),
        timeout=dict(type="str", default="5m0s"),
        crash_limit=dict(type="int", default=2),
        poll_interval=dict(type="float", default=1.0),
        fail_fast=dict(type="bool", default=True),
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        timeout = parse_timeout(params["timeout"])
    except ValueError as error:
        module.fail_json(msg=str(error))
    if params["crash_limit"] < 1:
        module.fail_json(msg=f"crash_limit must be 1 or more, not {params['crash_limit']}.")
    client = get_api_client(module)
    selector = ",".join(params["label_selectors"])
    started = time.monotonic()
    while True:
        try:
            state = assess(snapshot(client, params["namespace"], selector), params["crash_limit"])
        except Exception as error:  # the API server's own errors, as kubernetes.core reports them
            module.fail_from_exception(error)
        state["elapsed"] = round(time.monotonic() - started, 1)
        where = f"namespace {params['namespace']}" + (f" ({selector})" if selector else "")
        if state["ready"]:
            module.exit_json(changed=False, **state)
        if not state["workloads"]:
            module.fail_json(msg=f"Nothing to wait for: no Deployment or StatefulSet in {where}.", **state)
        if state["failures"] and params["fail_fast"]:
            module.fail_json(
                msg=f"The rollout in {where} cannot become Ready, giving up after {state['elapsed']} s: "
                + "; ".join(describe(f) for f in state["failures"]),
                **state,
            )
        if state["elapsed"] >= timeout:
            module.fail_json(
                msg=f"Not Ready after {params['timeout']} in {where}: {', '.join(state['not_ready'])}.",
                **state,
            )
        time.sleep(params["poll_interval"])


if __name__ == "__main__":
    main()
