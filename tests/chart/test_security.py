"""Hardened defaults on every pod, and a clean checkov scan of every rendering."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chart_helpers import (
    CASES,
    CHECKOV_CONFIG,
    JWT,
    Case,
    Manifest,
    one,
    pod_specs,
    render,
    template_text,
)

EXPECTED_UIDS = {"backend": 10001, "frontend": 10002, "database": 999, "test": 10001}

# Findings accepted for one resource each, with the reason given next to it in the template
# (`checkov.io/skipN` annotations). Chart-wide skips live in helm/.checkov.yaml.
ACCEPTED_SKIPS = {
    ("CKV_K8S_35", "Deployment.todo-app.todo-app-backend"),
    ("CKV_K8S_35", "StatefulSet.todo-app.todo-app-postgresql"),
    ("CKV_K8S_40", "StatefulSet.todo-app.todo-app-postgresql"),
    ("CKV_K8S_8", "Pod.todo-app.todo-app-test-connection"),
    ("CKV_K8S_9", "Pod.todo-app.todo-app-test-connection"),
}


def component_of(docs: list[Manifest], ref: str) -> str:
    kind, name = ref.split("/", 1)
    doc = one(docs, kind, name)
    labels = doc["spec"]["template"]["metadata"]["labels"] if kind != "Pod" else doc["metadata"]["labels"]
    return str(labels["app.kubernetes.io/component"])


def test_every_pod_is_hardened(case: Case) -> None:
    docs = render(*case.args())
    specs = pod_specs(docs)
    assert len(specs) >= 3
    for ref, spec in specs:
        uid = EXPECTED_UIDS[component_of(docs, ref)]
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True, ref
        assert (pod_sc["runAsUser"], pod_sc["runAsGroup"], pod_sc["fsGroup"]) == (
            uid,
            uid,
            uid,
        ), ref
        assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}, ref
        assert spec["automountServiceAccountToken"] is False, ref
        assert spec["serviceAccountName"] == "todo-app", ref
        for c in spec["containers"] + spec.get("initContainers", []):
            where = f"{ref} container {c['name']}"
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert "privileged" not in sc or sc["privileged"] is False, where
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][bound]), where
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{where}: read-only root needs a writable /tmp"


def test_writable_paths_are_emptydirs_where_the_apps_need_them(
    default_docs: list[Manifest],
) -> None:
    frontend = one(default_docs, "Deployment", "todo-app-frontend")["spec"]["template"]["spec"]
    assert {m["mountPath"] for m in frontend["containers"][0]["volumeMounts"]} == {
        "/tmp",
        "/app/.next/cache",
    }
    assert all("emptyDir" in v for v in frontend["volumes"])
    database = one(default_docs, "StatefulSet", "todo-app-postgresql")["spec"]["template"]["spec"]
    assert {v["name"] for v in database["volumes"] if "emptyDir" in v} == {"run", "tmp", "roles-tmp"}


def test_service_account_does_not_mount_a_token(default_docs: list[Manifest]) -> None:
    account = one(default_docs, "ServiceAccount", "todo-app")
    assert account["automountServiceAccountToken"] is False


def test_service_account_creation_can_be_turned_off() -> None:
    docs = render("--set", JWT, "--set", "serviceAccount.create=false")
    assert not [d for d in docs if d["kind"] == "ServiceAccount"]
    assert {spec["serviceAccountName"] for _, spec in pod_specs(docs)} == {"default"}


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory: pytest.TempPathFactory, helm: str) -> dict[str, Any]:
    """One checkov run over every case, plus a deliberately weakened rendering."""
    directory = tmp_path_factory.mktemp("rendered")
    for case in CASES:
        (directory / f"{case.name}.yaml").write_text(template_text(*case.args()))
    (directory / "weakened.yaml").write_text(
        template_text(
            "--set",
            JWT,
            "--set",
            "frontend.containerSecurityContext.readOnlyRootFilesystem=false",
            release="weakened",
        )
    )
    checkov = Path(sys.executable).with_name("checkov")
    result = subprocess.run(
        [
            str(checkov),
            "--config-file",
            str(CHECKOV_CONFIG),
            "-d",
            str(directory),
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    (kubernetes,) = [r for r in reports if r["check_type"] == "kubernetes"]
    return dict(kubernetes["results"])


def findings(results: list[dict[str, Any]], weakened: bool) -> set[tuple[str, str, str]]:
    return {
        (f["check_id"], f["resource"], f["file_path"])
        for f in results
        if (Path(f["file_path"]).name == "weakened.yaml") is weakened
    }


def test_checkov_finds_nothing_in_any_rendering(checkov_report: dict[str, Any]) -> None:
    assert checkov_report["passed_checks"], "checkov ran no checks"
    assert findings(checkov_report["failed_checks"], weakened=False) == set()


def test_checkov_skips_only_the_accepted_findings(
    checkov_report: dict[str, Any],
) -> None:
    skipped = {(c, r) for c, r, _ in findings(checkov_report["skipped_checks"], weakened=False)}
    assert skipped == ACCEPTED_SKIPS


def test_checkov_flags_a_weakened_rendering(checkov_report: dict[str, Any]) -> None:
    """Proves the scan is live: a writable root filesystem is reported."""
    failed = findings(checkov_report["failed_checks"], weakened=True)
    assert ("CKV_K8S_22", "Deployment.todo-app.weakened-todo-app-frontend") in {(c, r) for c, r, _ in failed}
