"""teardown_plan: what `make teardown` deletes and what it keeps, decided before anything goes;
teardown_metadata: the part of an object's metadata that decision needs."""

from __future__ import annotations

from typing import Any

DOCUMENTATION = """
name: teardown_plan
short_description: What a teardown deletes and keeps
description:
  - Given what exists in the release's namespace, lists what the teardown deletes and what it
    keeps. The database's data (its volume claims) and the Secret holding the password that data
    was initialised with are kept unless delete_data is true; they can only be kept together,
    in their namespace, so the namespace then stays too.
  - Deleting the cluster deletes every volume in it, so it requires delete_data.
positional: existing
options:
  existing:
    description: >-
      What exists, as read from the cluster: namespace (bool), release (bool), and the metadata
      of the namespace's volume_claims and secrets (lists of dicts with name and annotations).
      Objects of the release without the helm.sh/resource-policy=keep annotation go with the
      release; the others stay until their namespace goes.
    type: dict
    required: true
  release:
    description: Name of the Helm release.
    type: str
    required: true
  namespace:
    description: Namespace of the release.
    type: str
    required: true
  delete_data:
    description: Delete the namespace with the database's volume and password too.
    type: bool
    default: false
  delete_cluster:
    description: Delete the cluster afterwards (requires delete_data).
    type: bool
    default: false
"""

RETURN = """
_value:
  description: >-
    delete and keep (lists of "Kind name" lines), delete_namespace (bool), report (the lines to
    print before acting) and error (a message when the request cannot be carried out, else empty).
  type: dict
"""


KEPT_ANNOTATIONS = ("meta.helm.sh/release-name", "helm.sh/resource-policy")


def outlives_release(metadata: dict[str, Any], release: str) -> bool:
    """Whether `helm uninstall` leaves the object: not the release's, or kept by policy."""
    annotations = metadata.get("annotations") or {}
    owned = annotations.get("meta.helm.sh/release-name") == release
    return not owned or annotations.get("helm.sh/resource-policy") == "keep"


def _survivors(objects: list[dict[str, Any]] | None, release: str) -> list[str]:
    return sorted(meta["name"] for meta in objects or [] if outlives_release(meta, release))


def teardown_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """An object's name and the annotations that decide whether `helm uninstall` removes it;
    nothing else (a Secret's last-applied annotation would hold its data)."""
    annotations = metadata.get("annotations") or {}
    return {
        "name": metadata["name"],
        "annotations": {key: annotations[key] for key in KEPT_ANNOTATIONS if key in annotations},
    }


def _done(delete: list[str], keep: list[str], delete_namespace: bool) -> dict[str, Any]:
    plan: dict[str, Any] = {"delete": delete, "keep": keep, "delete_namespace": delete_namespace, "error": ""}
    plan["report"] = report(plan)
    return plan


def teardown_plan(
    existing: dict[str, Any],
    release: str,
    namespace: str,
    delete_data: bool = False,
    delete_cluster: bool = False,
) -> dict[str, Any]:
    claims = _survivors(existing.get("volume_claims"), release)
    secrets = _survivors(existing.get("secrets"), release)
    delete: list[str] = []
    keep: list[str] = []
    if delete_cluster and not delete_data:
        return {
            "delete": [],
            "keep": [],
            "delete_namespace": False,
            "report": [],
            "error": (
                "Deleting the cluster deletes every volume in it, the database's data included "
                f"({', '.join(claims) or 'no volume claim found now'}). Add DATA=1 "
                "(teardown_delete_data=true) to delete the data with the cluster, or run "
                "`make teardown` alone to keep it. Nothing has been changed."
            ),
        }
    if existing.get("release"):
        delete.append(f"Helm release {release} (its Deployments, Services, ConfigMap, NetworkPolicies)")
    if not existing.get("namespace"):
        return _done(delete, keep, delete_namespace=False)
    data = [f"PersistentVolumeClaim {namespace}/{name} (data)" for name in claims]
    data += [f"Secret {namespace}/{name}" for name in secrets]
    if delete_data:
        delete.append(f"Namespace {namespace}, and with it everything it holds:")
        delete.extend(f"  {line}" for line in data)
    else:
        keep.append(f"Namespace {namespace} (it holds what is kept)")
        keep.extend(data)
    return _done(delete, keep, delete_namespace=bool(delete_data))


def report(plan: dict[str, Any]) -> list[str]:
    """What the teardown prints before it acts: what goes, then what stays and how to drop it."""
    lines = ["Deleting:", *(f"  {line}" for line in plan["delete"] or ["nothing"])]
    if plan["keep"]:
        lines += [
            "Keeping, so that the next deploy finds the data and its password "
            "(make teardown DATA=1 deletes them):",
            *(f"  {line}" for line in plan["keep"]),
        ]
    return lines


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"teardown_plan": teardown_plan, "teardown_metadata": teardown_metadata}
