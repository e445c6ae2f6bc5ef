"""The chart as a plain `helm install` user gets it, on the real local cluster: default values,
overriding only what this machine needs (the required JWT secret, and the images that are
already loaded into the node, which nothing may pull). Every pod gets Ready, the app answers on
the default NodePort, `helm test` passes, an upgrade keeps the generated database password, and
`helm uninstall` plus deleting the namespace leave nothing behind.

The default NodePort 30000 is cluster-wide and the Ansible release `todo-app` in the namespace
`todo-app` holds it, so the test uninstalls that release first. The test session owns the
cluster (hold /tmp/todo-cluster.lock); its data volume and Secrets stay in `todo-app`, and
test_site.py, which runs after this file, redeploys the release with site.yml in its fixture.
Run on its own, this file leaves the cluster without that release: `make deploy` restores it.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import CACHE_BIN, REPO, Run, ansible_env

pytestmark = pytest.mark.cluster

CONTEXT = "todo-local"
CHART = REPO / "helm" / "todo-app"
NAMESPACE = "todo-app-chart-test"
RELEASE = "todo-app"
ANSIBLE_NAMESPACE, ANSIBLE_RELEASE = "todo-app", "todo-app"
NODE_PORT_URL = "http://127.0.0.1:30000"
DB_SECRET = "todo-app-postgresql"
COMPONENTS = {"backend", "frontend", "database"}


def _run(tool: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    context = "--kube-context" if tool == "helm" else "--context"
    return subprocess.run(
        [str(CACHE_BIN / tool), f"{context}={CONTEXT}", *args],
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=False,
        timeout=timeout,
    )


def _helm(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return _run("helm", *args, timeout=timeout)


def _kubectl(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return _run("kubectl", *args, timeout=timeout)


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str


def _node_images() -> dict[str, Image]:
    """The todo-app images the node holds, from the kubelet's report (newest name per repository)."""
    node = _json(_kubectl("get", "nodes", "-o", "json"))["items"][0]
    found: dict[str, Image] = {}
    for image in node["status"].get("images", []):
        for name in image.get("names", []):
            match = re.fullmatch(r"(?:docker\.io/)?(todo-app/(backend|frontend|postgres)):([^@]+)", name)
            if match:
                found.setdefault(match[2], Image(match[1], match[3]))
    return found


def _loaded_images() -> dict[str, Image]:
    """Images known to be in the node: those the Ansible release runs, else the kubelet's list."""
    values = _helm("get", "values", ANSIBLE_RELEASE, "--namespace", ANSIBLE_NAMESPACE, "--output=json")
    if values.returncode == 0:
        release = json.loads(values.stdout)
        return {
            component: Image(release[key]["image"]["repository"], str(release[key]["image"]["tag"]))
            for component, key in (
                ("backend", "backend"),
                ("frontend", "frontend"),
                ("postgres", "postgresql"),
            )
        }
    images = _node_images()
    missing = {"backend", "frontend", "postgres"} - set(images)
    assert not missing, f"no todo-app/{', '.join(sorted(missing))} image in the node: run `make deploy` first"
    return images


def _install_args(images: dict[str, Image]) -> list[str]:
    """What this machine needs over the defaults: the required secret and loaded local images."""
    sets = {
        "secrets.jwtSecret": secrets.token_hex(32),
        "backend.image.repository": images["backend"].repository,
        "backend.image.tag": images["backend"].tag,
        "backend.image.pullPolicy": "Never",
        "frontend.image.repository": images["frontend"].repository,
        "frontend.image.tag": images["frontend"].tag,
        "frontend.image.pullPolicy": "Never",
        "postgresql.image.repository": images["postgres"].repository,
        "postgresql.image.tag": images["postgres"].tag,
        "postgresql.image.pullPolicy": "Never",
    }
    args: list[str] = []
    for key, value in sets.items():
        args += ["--set-string", f"{key}={value}"]
    return args


def _delete_namespace() -> None:
    deleted = _kubectl(
        "delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", "--timeout=240s"
    )
    assert deleted.returncode == 0, deleted.stderr


def _db_password() -> str:
    secret = _json(_kubectl("get", "secret", DB_SECRET, "--namespace", NAMESPACE, "-o", "json"))
    return base64.b64decode(secret["data"]["postgres-password"]).decode()


@pytest.fixture(scope="module")
def install(deployed: Run) -> Iterator[subprocess.CompletedProcess[str]]:
    # site.yml (the `deployed` fixture) builds the images and loads them into the node first:
    # on a fresh cluster nothing else has.
    images = _loaded_images()
    # The Ansible release holds the default NodePort 30000, which is cluster-wide: uninstall it
    # (its volume and Secrets stay; test_site.py's fixture redeploys it with site.yml).
    if _helm("status", ANSIBLE_RELEASE, "--namespace", ANSIBLE_NAMESPACE).returncode == 0:
        removed = _helm(
            "uninstall", ANSIBLE_RELEASE, "--namespace", ANSIBLE_NAMESPACE, "--wait", "--timeout=5m"
        )
        assert removed.returncode == 0, removed.stderr
    _helm("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout=5m")
    _delete_namespace()  # whatever an interrupted earlier run left

    started = time.monotonic()
    installed = _helm(
        "install",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--create-namespace",
        *_install_args(images),
        "--wait",
        "--timeout=8m",
        timeout=600,
    )
    print(f"helm install --wait took {time.monotonic() - started:.0f} s")
    try:
        yield installed
    finally:
        _helm("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout=5m")
        _delete_namespace()


def test_install_with_default_values_gets_every_pod_ready(install: subprocess.CompletedProcess[str]) -> None:
    assert install.returncode == 0, install.stderr + install.stdout
    assert "STATUS: deployed" in install.stdout
    pods = _json(_kubectl("get", "pods", "--namespace", NAMESPACE, "-o", "json"))["items"]
    serving = [pod for pod in pods if pod["status"].get("phase") != "Succeeded"]
    not_ready = [
        pod["metadata"]["name"]
        for pod in serving
        if not any(
            c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", [])
        )
    ]
    assert not not_ready, f"pods not Ready: {not_ready}"
    components = {pod["metadata"]["labels"].get("app.kubernetes.io/component") for pod in serving}
    assert components == COMPONENTS


def test_the_app_answers_on_the_default_node_port(install: subprocess.CompletedProcess[str]) -> None:
    assert install.returncode == 0
    assert "http://127.0.0.1:30000" in install.stdout, "the install notes give the local URL"
    for path in ("/api/health", "/api/ready"):
        with urllib.request.urlopen(NODE_PORT_URL + path, timeout=10) as response:  # noqa: S310
            assert response.status == 200, path


def test_helm_test_passes(install: subprocess.CompletedProcess[str]) -> None:
    assert install.returncode == 0
    tested = _helm("test", RELEASE, "--namespace", NAMESPACE, "--timeout=3m")
    assert tested.returncode == 0, tested.stderr + tested.stdout
    assert re.search(r"(?m)^TEST SUITE:\s+todo-app-test-connection$", tested.stdout)
    assert re.search(r"(?m)^Phase:\s+Succeeded$", tested.stdout)
    # hook-succeeded: a passing test pod is removed.
    pods = _json(
        _kubectl(
            "get", "pods", "--namespace", NAMESPACE, "-l", "app.kubernetes.io/component=test", "-o", "json"
        )
    )
    assert pods["items"] == []


def test_an_upgrade_keeps_the_generated_database_password(install: subprocess.CompletedProcess[str]) -> None:
    assert install.returncode == 0
    password = _db_password()
    assert re.fullmatch(r"[A-Za-z0-9]{32}", password)
    upgraded = _helm(
        "upgrade", RELEASE, str(CHART), "--namespace", NAMESPACE, "--reuse-values", "--wait", "--timeout=5m"
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert _db_password() == password
    with urllib.request.urlopen(NODE_PORT_URL + "/api/ready", timeout=10) as response:  # noqa: S310
        assert response.status == 200


def test_uninstall_and_namespace_deletion_leave_nothing(install: subprocess.CompletedProcess[str]) -> None:
    assert install.returncode == 0
    removed = _helm("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout=5m")
    assert removed.returncode == 0, removed.stderr
    assert _helm("status", RELEASE, "--namespace", NAMESPACE).returncode != 0
    # By design the database's Secret and volume claim outlive the release ...
    left = _json(_kubectl("get", "secrets,persistentvolumeclaims", "--namespace", NAMESPACE, "-o", "json"))
    assert {(item["kind"], item["metadata"]["name"]) for item in left["items"]} >= {
        ("Secret", DB_SECRET),
        ("PersistentVolumeClaim", "data-todo-app-postgresql-0"),
    }
    gone = _kubectl("wait", "--for=delete", "pods", "--all", "--namespace", NAMESPACE, "--timeout=120s")
    assert gone.returncode == 0, gone.stderr
    # ... until the namespace goes, and the volume with it.
    _delete_namespace()
    assert _kubectl("get", "namespace", NAMESPACE).returncode != 0
    deadline = time.monotonic() + 120
    while (volumes := _namespace_volumes()) and time.monotonic() < deadline:
        time.sleep(3)
    assert not volumes, f"persistent volumes of {NAMESPACE} left behind: {volumes}"


def _namespace_volumes() -> list[str]:
    volumes = _json(_kubectl("get", "persistentvolumes", "-o", "json"))["items"]
    return [
        pv["metadata"]["name"]
        for pv in volumes
        if pv["spec"].get("claimRef", {}).get("namespace") == NAMESPACE
    ]
