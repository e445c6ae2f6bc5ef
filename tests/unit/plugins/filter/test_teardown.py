"""teardown_plan keeps the database's data unless told, and never deletes the cluster under it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PLUGIN = Path(__file__).resolve().parents[4] / "plugins" / "filter" / "teardown.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("teardown_filter", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


teardown = _load()
RELEASE, NAMESPACE = "todo-app", "todo-app"


def meta(name: str, **annotations: str) -> dict[str, Any]:
    return {"name": name, "annotations": annotations}


OWNED = {"meta.helm.sh/release-name": RELEASE}
EXISTING: dict[str, Any] = {
    "namespace": True,
    "release": True,
    # The StatefulSet's claim is not the release's: helm uninstall leaves it.
    "volume_claims": [meta("data-todo-app-postgresql-0")],
    "secrets": [
        meta("todo-app-secrets"),  # applied by the secrets role, holds the database password
        meta("todo-app-postgresql", **OWNED, **{"helm.sh/resource-policy": "keep"}),
        meta("todo-app", **OWNED),  # the chart's own Secret goes with the release
    ],
}


def plan(existing: dict[str, Any] = EXISTING, **kwargs: bool) -> dict[str, Any]:
    result: dict[str, Any] = teardown.teardown_plan(existing, RELEASE, NAMESPACE, **kwargs)
    return result


def test_by_default_the_release_goes_and_the_data_and_its_password_stay() -> None:
    result = plan()
    assert result["error"] == ""
    assert result["delete_namespace"] is False
    assert result["delete"] == [
        "Helm release todo-app (its Deployments, Services, ConfigMap, NetworkPolicies)"
    ]
    assert result["keep"] == [
        "Namespace todo-app (it holds what is kept)",
        "PersistentVolumeClaim todo-app/data-todo-app-postgresql-0 (data)",
        "Secret todo-app/todo-app-postgresql",
        "Secret todo-app/todo-app-secrets",
    ]


def test_delete_data_deletes_the_namespace_and_names_what_goes_with_it() -> None:
    result = plan(delete_data=True)
    assert result["delete_namespace"] is True
    assert result["keep"] == []
    assert result["delete"][1:] == [
        "Namespace todo-app, and with it everything it holds:",
        "  PersistentVolumeClaim todo-app/data-todo-app-postgresql-0 (data)",
        "  Secret todo-app/todo-app-postgresql",
        "  Secret todo-app/todo-app-secrets",
    ]


@pytest.mark.parametrize("existing", [EXISTING, {}])
def test_deleting_the_cluster_without_delete_data_is_refused(existing: dict[str, Any]) -> None:
    result = plan(existing, delete_cluster=True)
    assert result["delete"] == [] and result["delete_namespace"] is False
    assert "Deleting the cluster deletes every volume in it" in result["error"]
    assert "Add DATA=1 (teardown_delete_data=true)" in result["error"]
    assert "Nothing has been changed." in result["error"]
    assert ("data-todo-app-postgresql-0" in result["error"]) == bool(existing)


def test_deleting_the_cluster_with_its_data_is_planned() -> None:
    result = plan(delete_cluster=True, delete_data=True)
    assert result["error"] == ""
    assert result["delete_namespace"] is True


def test_nothing_there_means_nothing_to_delete() -> None:
    assert plan({"namespace": False, "release": False}) == {
        "delete": [],
        "keep": [],
        "delete_namespace": False,
        "report": ["Deleting:", "  nothing"],
        "error": "",
    }


def test_the_report_says_what_goes_then_what_stays_and_how_to_drop_it() -> None:
    assert plan()["report"] == [
        "Deleting:",
        "  Helm release todo-app (its Deployments, Services, ConfigMap, NetworkPolicies)",
        "Keeping, so that the next deploy finds the data and its password (make teardown DATA=1 deletes them):",
        "  Namespace todo-app (it holds what is kept)",
        "  PersistentVolumeClaim todo-app/data-todo-app-postgresql-0 (data)",
        "  Secret todo-app/todo-app-postgresql",
        "  Secret todo-app/todo-app-secrets",
    ]
    assert plan(delete_data=True)["report"][-1] == "    Secret todo-app/todo-app-secrets"


def test_a_namespace_without_the_release_still_keeps_its_data() -> None:
    result = plan({**EXISTING, "release": False})
    assert result["delete"] == []
    assert "PersistentVolumeClaim todo-app/data-todo-app-postgresql-0 (data)" in result["keep"]


def test_metadata_is_cut_to_the_name_and_the_deciding_annotations() -> None:
    secret_meta = {
        "name": "todo-app-secrets",
        "namespace": NAMESPACE,
        "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": '{"data": {"JWT_SECRET": "c2VjcmV0"}}',
            **OWNED,
        },
        "labels": {"app.kubernetes.io/part-of": "todo-app"},
    }
    assert teardown.teardown_metadata(secret_meta) == {"name": "todo-app-secrets", "annotations": OWNED}
    assert teardown.teardown_metadata({"name": "x"}) == {"name": "x", "annotations": {}}


def test_the_filters_are_registered() -> None:
    assert set(teardown.FilterModule().filters()) == {"teardown_plan", "teardown_metadata"}
