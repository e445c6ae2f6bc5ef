"""Render the todo-app chart with helm and pick manifests out of the result."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "helm" / "todo-app"
EXAMPLES_DIR = CHART_DIR / "examples"
CHECKOV_CONFIG = REPO_ROOT / "helm" / ".checkov.yaml"
HELM = os.environ.get("HELM", str(Path.home() / ".cache/todo-app/tools/helm-v3.19.0/helm"))
KUBE_VERSION = "1.33.0"
RELEASE = "todo-app"
NAMESPACE = "todo-app"
JWT_SECRET = "0123456789abcdef0123456789abcdef"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """A named set of values exercising one branch of the chart."""

    name: str
    set_values: tuple[str, ...] = ()
    values_files: tuple[Path, ...] = ()

    def args(self) -> list[str]:
        out: list[str] = []
        for path in self.values_files:
            out += ["--values", str(path)]
        for item in self.set_values:
            out += ["--set", item]
        return out


JWT = f"secrets.jwtSecret={JWT_SECRET}"
EXTERNAL_DB = "secrets.databaseUrl=postgresql://todo:pw@db.example.com:5432/todo?sslmode=require"

# Every branch the chart has; render, schema and security tests run over all of them.
CASES: tuple[Case, ...] = (
    Case("defaults-embedded-db", (JWT,)),
    Case("external-db", (JWT, EXTERNAL_DB)),
    Case("existing-secret-embedded-db", ("existingSecret=todo-env",)),
    Case(
        "existing-secret-external-db",
        ("existingSecret=todo-env", "postgresql.enabled=false"),
    ),
    Case("existing-db-secret", (JWT, "postgresql.auth.existingSecret=todo-db")),
    Case(
        "existing-secrets-only",
        (
            "existingSecret=todo-env",
            "postgresql.auth.existingSecret=todo-env",
            "postgresql.auth.secretKeys.adminPasswordKey=DB_PASSWORD",
        ),
    ),
    Case(
        "clusterip",
        (JWT, "frontend.service.type=ClusterIP", "frontend.service.nodePort=null"),
    ),
    Case("loadbalancer", (JWT, "frontend.service.type=LoadBalancer")),
    Case("replicas-2", (JWT, "backend.replicaCount=2", "frontend.replicaCount=2")),
    Case(
        "hpa",
        (JWT, "backend.autoscaling.enabled=true", "frontend.autoscaling.enabled=true"),
    ),
    Case("ingress", (JWT, "ingress.enabled=true", "ingress.className=nginx")),
    # Without network policies any pod could forge X-Forwarded-For, so no proxy is trusted.
    Case("networkpolicy-off", (JWT, "networkPolicy.enabled=false", "backend.trustedProxies=null")),
    Case("egress-open", (JWT, "networkPolicy.restrictEgress=false")),
    Case(
        "no-migrations-no-prestop",
        (
            JWT,
            "backend.migrations.enabled=false",
            "backend.lifecycle.preStopSleepSeconds=0",
        ),
    ),
    Case(
        "reference-quickstart",
        (
            EXTERNAL_DB,
            JWT,
            "secrets.openaiApiKey=sk-test",
            "backend.image.pullPolicy=Never",
            "frontend.image.pullPolicy=Never",
        ),
    ),
    # Each example values file; those naming an existingSecret need no secret values.
    *(
        Case(
            f"example-{path.stem}",
            () if "existingSecret" in path.read_text() else (JWT,),
            (path,),
        )
        for path in sorted(EXAMPLES_DIR.glob("*.yaml"))
    ),
)


def run_helm(args: Iterable[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HELM, *args], capture_output=True, text=True, check=False, timeout=120)


@cache
def _template(args: tuple[str, ...], release: str) -> tuple[int, str, str]:
    result = run_helm(
        [
            "template",
            release,
            str(CHART_DIR),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            KUBE_VERSION,
            *args,
        ]
    )
    return result.returncode, result.stdout, result.stderr


def template_text(*args: str, release: str = RELEASE) -> str:
    code, stdout, stderr = _template(tuple(args), release)
    assert code == 0, f"helm template {' '.join(args)} failed:\n{stderr}"
    return stdout


def template_error(*args: str) -> str:
    code, _, stderr = _template(tuple(args), RELEASE)
    assert code != 0, f"helm template {' '.join(args)} unexpectedly succeeded"
    return stderr


def render(*args: str, release: str = RELEASE) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(template_text(*args, release=release)) if doc]


def find(docs: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [doc for doc in docs if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)]


def one(docs: list[Manifest], kind: str, name: str) -> Manifest:
    matches = find(docs, kind, name)
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def pod_specs(docs: list[Manifest]) -> list[tuple[str, dict[str, Any]]]:
    """(kind/name, pod spec) of every workload and bare Pod in the rendering."""
    specs = []
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet"}:
            specs.append(
                (
                    f"{doc['kind']}/{doc['metadata']['name']}",
                    doc["spec"]["template"]["spec"],
                )
            )
        elif doc["kind"] == "Pod":
            specs.append((f"Pod/{doc['metadata']['name']}", doc["spec"]))
    return specs


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}
