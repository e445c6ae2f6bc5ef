"""NOTES.txt tells how to reach the app for each way the frontend is exposed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from chart_helpers import CHART_DIR, JWT, KUBE_VERSION, run_helm

# `helm install --dry-run` needs a cluster; instead render NOTES.txt through `tpl` from a
# throwaway copy of the chart so it sees the same helpers and values.
NOTES_PROBE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: rendered-notes
data:
  notes: {{ tpl (.Files.Get "rendered-notes.txt") . | quote }}
"""


@pytest.fixture(scope="module")
def notes_chart(tmp_path_factory: pytest.TempPathFactory, helm: str) -> Path:
    chart = tmp_path_factory.mktemp("notes") / "todo-app"
    shutil.copytree(CHART_DIR, chart)
    shutil.copy(chart / "templates" / "NOTES.txt", chart / "rendered-notes.txt")
    (chart / "templates" / "zz-rendered-notes.yaml").write_text(NOTES_PROBE)
    return chart


def notes(chart: Path, *sets: str) -> str:
    args = [
        "template",
        "todo-app",
        str(chart),
        "--namespace",
        "todo-app",
        "--kube-version",
        KUBE_VERSION,
        "--show-only",
        "templates/zz-rendered-notes.yaml",
        "--set",
        JWT,
    ]
    for item in sets:
        args += ["--set", item]
    result = run_helm(args)
    assert result.returncode == 0, result.stderr
    return str(yaml.safe_load(result.stdout)["data"]["notes"])


def test_nodeport_notes_give_the_local_url(notes_chart: Path) -> None:
    text = notes(notes_chart)
    assert "http://127.0.0.1:30000" in text
    assert "port-forward" not in text
    assert "helm test todo-app -n todo-app" in text


def test_clusterip_notes_give_a_port_forward(notes_chart: Path) -> None:
    text = notes(notes_chart, "frontend.service.type=ClusterIP")
    assert "kubectl -n todo-app port-forward service/todo-app-frontend 3000:3000" in text
    assert "127.0.0.1:30000" not in text


def test_loadbalancer_notes_read_the_external_address(notes_chart: Path) -> None:
    text = notes(notes_chart, "frontend.service.type=LoadBalancer")
    assert ".status.loadBalancer.ingress[0].ip" in text


def test_ingress_notes_give_the_host(notes_chart: Path) -> None:
    text = notes(
        notes_chart,
        "ingress.enabled=true",
        "ingress.hosts[0].host=todo.example.com",
        "ingress.hosts[0].paths[0].path=/",
        "ingress.hosts[0].paths[0].pathType=Prefix",
        "ingress.tls[0].secretName=tls",
    )
    assert "https://todo.example.com/" in text


def test_embedded_database_notes_warn_about_kept_data(notes_chart: Path) -> None:
    assert "todo-app-postgresql" in notes(notes_chart)
    external = notes(notes_chart, "secrets.databaseUrl=postgresql://u:p@h/db")
    assert "todo-app-postgresql" not in external


def test_existing_database_secret_notes_name_it_instead(notes_chart: Path) -> None:
    text = notes(notes_chart, "postgresql.auth.existingSecret=todo-db")
    assert "key postgres-password of the Secret\ntodo-db" in text
    assert "the Secret todo-app-postgresql" not in text
