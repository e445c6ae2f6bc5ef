"""Acceptance tests of the local cluster: up, usable, idempotent, safe, and gone without a trace.

The order matters and is the order of this file: the cluster is created, used, checked for
idempotence and refusals, killed the way CI kills it and brought back, then taken down and
searched for leftovers, and finally brought up again for the stages that follow, where a
second run must change nothing.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    ADMIN_KUBECONFIG,
    COMPONENTS,
    CONTAINERD_SOCKET,
    POD_CIDR,
    RUN_DIR,
    SERVICE_CIDR,
    STATE_DIR,
    kubectl,
    kubectl_json,
    playbook,
    recap,
    run,
    tool_env,
)

pytestmark = pytest.mark.cluster

FILES = Path(__file__).parent / "files"


def http_get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
        return str(response.read().decode())


def wait_for(predicate, timeout: float, message: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(message)


# --- up and usable -------------------------------------------------------------------


def test_one_node_is_ready_with_dns_and_storage(cluster_up: subprocess.CompletedProcess[str]) -> None:
    nodes = kubectl_json("get", "nodes")["items"]
    assert [node["metadata"]["name"] for node in nodes] == ["todo-local"]
    conditions = {c["type"]: c["status"] for c in nodes[0]["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    for namespace, label in (
        ("kube-system", "k8s-app=kube-dns"),
        ("local-path-storage", "app=local-path-provisioner"),
    ):
        pods = kubectl_json("get", "pods", "-n", namespace, "-l", label)["items"]
        assert pods, f"no {label} pod in {namespace}"
        assert all(pod["status"]["phase"] == "Running" for pod in pods)
    classes = kubectl_json("get", "storageclass")["items"]
    defaults = [
        sc["metadata"]["name"]
        for sc in classes
        if sc["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    ]
    assert defaults == ["local-path"]


def test_default_kubeconfig_points_at_the_cluster(cluster_up: subprocess.CompletedProcess[str]) -> None:
    kubeconfig = os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config")).split(":")[0]
    context = run(["kubectl", "--kubeconfig", kubeconfig, "config", "current-context"], check=True)
    assert context.stdout.strip() == "todo-local"
    nodes = run(["kubectl", "--kubeconfig", kubeconfig, "get", "nodes", "-o", "name"], check=True)
    assert nodes.stdout.strip() == "node/todo-local"


@pytest.fixture
def web_image(cluster_up: subprocess.CompletedProcess[str], tmp_path: Path) -> Iterator[str]:
    """A small HTTP server image built by the local Docker engine, never pushed anywhere."""
    marker = uuid.uuid4().hex
    (tmp_path / "index.html").write_text(f"hello from {marker}\n")
    (tmp_path / "Dockerfile").write_text("FROM todo-local/busybox:1.35\nCOPY index.html /www/index.html\n")
    image = f"todo-local/acceptance-web:{marker[:12]}"
    run(["docker", "build", "-q", "-t", image, str(tmp_path)], check=True)
    yield image
    run(["docker", "rmi", "-f", image])
    run(["ctr", f"--address={CONTAINERD_SOCKET}", "--namespace=k8s.io", "images", "rm", f"docker.io/{image}"])


def test_local_image_serves_through_dns_port_forward_and_nodeport(namespace: str, web_image: str) -> None:
    first = playbook(str(FILES / "load-image.yml"), "-e", f"load_image={web_image}")
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] == 1, "delivering a new image must report a change"
    again = playbook(str(FILES / "load-image.yml"), "-e", f"load_image={web_image}")
    assert recap(again.stdout)["changed"] == 0, "delivering an image that is already there must not"

    manifest = (FILES / "web.yaml").read_text().replace("IMAGE", web_image)
    subprocess.run(
        ["kubectl", f"--kubeconfig={ADMIN_KUBECONFIG}", "-n", namespace, "apply", "-f", "-"],
        input=manifest,
        text=True,
        check=True,
        capture_output=True,
        env=tool_env(),
    )
    kubectl("-n", namespace, "wait", "--for=condition=Available", "deployment/web", "--timeout=120s")
    # kube-proxy programs the Service a moment after the endpoints are ready; until then the
    # Service address is rejected. Wait for it from the host (the Service network is local).
    cluster_ip = kubectl_json("-n", namespace, "get", "service", "web")["spec"]["clusterIP"]

    def service_answers() -> bool:
        try:
            http_get(f"http://{cluster_ip}:8080/", timeout=2)
        except OSError:
            return False
        return True

    wait_for(service_answers, 60, f"Service web ({cluster_ip}) never answered from the host")

    # From another pod, the Service name resolves through CoreDNS and answers HTTP. (The
    # resolver is busybox's own nslookup: static glibc's getaddrinfo cannot load NSS.)
    script = (
        f"ip=$(nslookup web.{namespace}.svc.cluster.local | awk '/^Address: /{{a=$2}} END{{print a}}'); "
        'test -n "$ip" && printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 "$ip" 8080'
    )
    kubectl(
        "-n",
        namespace,
        "run",
        "client",
        "--image=todo-local/busybox:1.35",
        "--image-pull-policy=Never",
        "--restart=Never",
        "--command",
        "--",
        "sh",
        "-c",
        script,
    )
    phases: list[str] = []

    def finished() -> bool:
        phases.append(kubectl_json("-n", namespace, "get", "pod", "client")["status"].get("phase", ""))
        return phases[-1] in ("Succeeded", "Failed")

    wait_for(finished, 120, "the client pod never finished")
    response = kubectl("-n", namespace, "logs", "pod/client").stdout
    assert phases[-1] == "Succeeded", f"client pod {phases[-1]}: {response}"
    assert response.startswith("HTTP/1.") and "hello from " in response, response
    logs = response.replace("\r\n", "\n").split("\n\n", 1)[1]

    # kubectl port-forward reaches it through the API server and the kubelet.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        local_port = probe.getsockname()[1]
    forward = subprocess.Popen(
        [
            "kubectl",
            f"--kubeconfig={ADMIN_KUBECONFIG}",
            "-n",
            namespace,
            "port-forward",
            "svc/web",
            f"{local_port}:8080",
            "--address=127.0.0.1",
        ],
        env=tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body: list[str] = []

        def forwarded() -> bool:
            try:
                body.append(http_get(f"http://127.0.0.1:{local_port}/"))
            except OSError:
                return False
            return True

        wait_for(forwarded, 30, "port-forward never answered")
        assert body[-1] == logs
    finally:
        forward.terminate()
        forward.wait(10)

    # The NodePort answers on 127.0.0.1, and only there.
    node_port = kubectl_json("-n", namespace, "get", "service", "web-nodeport")["spec"]["ports"][0][
        "nodePort"
    ]
    assert 30000 <= node_port <= 32767
    assert http_get(f"http://127.0.0.1:{node_port}/") == logs
    node_ip = "172.31.254.1"
    with pytest.raises(OSError):
        http_get(f"http://{node_ip}:{node_port}/", timeout=3)


def test_pvc_binds_and_data_survives_pod_deletion(namespace: str) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}},
            },
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "keeper"},
                "spec": {
                    "serviceName": "keeper",
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": "keeper"}},
                    "template": {
                        "metadata": {"labels": {"app": "keeper"}},
                        "spec": {
                            "containers": [
                                {
                                    "name": "keeper",
                                    "image": "todo-local/busybox:1.35",
                                    "imagePullPolicy": "Never",
                                    "command": [
                                        "sh",
                                        "-c",
                                        "test -f /data/first || date +%s%N > /data/first; sleep 3600",
                                    ],
                                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                                }
                            ],
                            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
                        },
                    },
                },
            },
        ],
    }
    subprocess.run(
        ["kubectl", f"--kubeconfig={ADMIN_KUBECONFIG}", "-n", namespace, "apply", "-f", "-"],
        input=json.dumps(manifest),
        text=True,
        check=True,
        capture_output=True,
        env=tool_env(),
    )
    kubectl("-n", namespace, "wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "--timeout=120s")
    kubectl("-n", namespace, "wait", "--for=condition=Ready", "pod/keeper-0", "--timeout=120s")
    written = kubectl("-n", namespace, "exec", "keeper-0", "--", "cat", "/data/first").stdout
    kubectl("-n", namespace, "delete", "pod", "keeper-0", "--wait=true")
    kubectl("-n", namespace, "wait", "--for=condition=Ready", "pod/keeper-0", "--timeout=120s")
    assert kubectl("-n", namespace, "exec", "keeper-0", "--", "cat", "/data/first").stdout == written


def test_cluster_networks_never_leave_through_the_default_interface(
    cluster_up: subprocess.CompletedProcess[str],
) -> None:
    default_dev = json.loads(run(["ip", "-j", "route", "show", "default"], check=True).stdout)[0]["dev"]
    for address in ("10.96.123.45", "10.244.0.250"):
        route = json.loads(run(["ip", "-j", "route", "get", address]).stdout or "[{}]")[0]
        assert route.get("dev") != default_dev, f"{address} would leave through {default_dev}: {route}"
    routes = json.loads(run(["ip", "-j", "route", "show", "type", "blackhole"], check=True).stdout)
    assert {POD_CIDR, SERVICE_CIDR} <= {r["dst"] for r in routes}


# --- idempotent, and refusing bad input before changing anything ---------------------


def assert_another_run_changes_nothing() -> None:
    again = playbook("playbooks/cluster.yml", "-e", "cluster_provider=local")
    assert again.returncode == 0, again.stdout[-3000:]
    assert recap(again.stdout)["changed"] == 0, again.stdout[-6000:]


def test_second_run_changes_nothing(cluster_up: subprocess.CompletedProcess[str]) -> None:
    assert_another_run_changes_nothing()


def refusal(extra: list[str], env: dict[str, str] | None = None, book: str = "playbooks/cluster.yml") -> str:
    pids_before = {name: (STATE_DIR / "run" / f"{name}.pid").read_text() for name in COMPONENTS}
    result = playbook(book, *extra, env=env)
    assert result.returncode != 0, "the run should have been refused"
    pids_after = {name: (STATE_DIR / "run" / f"{name}.pid").read_text() for name in COMPONENTS}
    assert pids_after == pids_before, "a refused run must not restart any component"
    return result.stdout + result.stderr


def test_unknown_provider_is_refused(cluster_up: subprocess.CompletedProcess[str]) -> None:
    output = refusal(["-e", "cluster_provider=minikube-ish"])
    assert "cluster_provider" in output and "auto, existing, kind, local" in output


def kubeconfig_with_context(tmp_path: Path, name: str, server: str) -> Path:
    """A kubeconfig whose only, current context points at ``server``."""
    kubeconfig = tmp_path / "config"
    for args in (
        ["set-cluster", name, f"--server={server}"],
        ["set-context", name, f"--cluster={name}"],
        ["use-context", name],
    ):
        run(["kubectl", "config", *args, f"--kubeconfig={kubeconfig}"], check=True)
    return kubeconfig


def test_unreachable_existing_context_is_refused(
    cluster_up: subprocess.CompletedProcess[str], tmp_path: Path
) -> None:
    kubeconfig = kubeconfig_with_context(tmp_path, "dead", "https://127.0.0.1:1")
    output = refusal(["-e", "cluster_provider=existing", "-e", f"cluster_kubeconfig={kubeconfig}"])
    assert "does not answer" in output and "https://127.0.0.1:1" in output


def test_remote_context_needs_opt_in(cluster_up: subprocess.CompletedProcess[str], tmp_path: Path) -> None:
    # A documentation address (TEST-NET-3): it is never contacted, the refusal comes first.
    kubeconfig = kubeconfig_with_context(tmp_path, "prod", "https://203.0.113.10:6443")
    output = refusal(["-e", "cluster_provider=existing", "-e", f"cluster_kubeconfig={kubeconfig}"])
    assert "is not a local cluster" in output and "cluster_allow_remote=true" in output


def test_taken_api_port_is_refused(cluster_up: subprocess.CompletedProcess[str]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        output = refusal(["-e", "cluster_provider=local", "-e", f"cluster_local_apiserver_port={port}"])
    assert "taken by another program" in output and f":{port}" in output


def test_host_without_cgroups_is_refused(
    cluster_up: subprocess.CompletedProcess[str], tmp_path: Path
) -> None:
    output = refusal(["-e", "cluster_provider=local", "-e", f"cluster_local_cgroup_root={tmp_path}"])
    assert "No cgroup hierarchy" in output


def test_non_root_is_refused(cluster_up: subprocess.CompletedProcess[str]) -> None:
    # The play's tasks run as nobody (the venv's interpreter lives under /root, so the
    # system python3 runs the modules); Ansible itself stays root. nobody's login shell is
    # nologin, and Mitogen's su does not pass become_flags (`-s /bin/sh`), so this play runs
    # on the builtin linear strategy: the refusal under test is the role's either way.
    output = refusal(
        [
            "-e",
            "cluster_provider=local",
            "-e",
            "ansible_become=true",
            "-e",
            "ansible_become_method=su",
            "-e",
            "ansible_become_user=nobody",
            "-e",
            "ansible_become_flags='-s /bin/sh'",
            "-e",
            "ansible_python_interpreter=/usr/bin/python3",
        ],
        env=tool_env(ANSIBLE_STRATEGY="linear"),
        book=str(FILES / "cluster-role.yml"),
    )
    assert "need root" in output


def test_missing_go_proxy_and_binaries_is_refused(
    cluster_up: subprocess.CompletedProcess[str], tmp_path: Path
) -> None:
    env = tool_env(GOPROXY="off", GOMODCACHE=str(tmp_path / "gomod"), GOFLAGS="-mod=mod")
    output = refusal(["-e", f"toolchain_cache_dir={tmp_path / 'cache'}"], env=env)
    assert "binaries are not in" in output and "GOPROXY is now off" in output
    run(["chmod", "-R", "u+w", str(tmp_path)])


# --- killed the way CI kills it, then brought back ------------------------------------


def test_comes_back_after_every_process_is_killed(cluster_up: subprocess.CompletedProcess[str]) -> None:
    for name in COMPONENTS:
        pid = int((STATE_DIR / "run" / f"{name}.pid").read_text())
        run(["kill", "-9", str(pid)])
    run(["pkill", "-9", "-f", f"containerd-shim.*{CONTAINERD_SOCKET}"])
    time.sleep(2)
    back = playbook("playbooks/cluster.yml", "-e", "cluster_provider=local")
    assert back.returncode == 0, back.stdout[-6000:]
    kubectl("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s")
    kubectl(
        "-n", "local-path-storage", "rollout", "status", "deployment/local-path-provisioner", "--timeout=180s"
    )


# --- down, and nothing left behind ----------------------------------------------------


@pytest.fixture
def cluster_down(cluster_up: subprocess.CompletedProcess[str]) -> Iterator[subprocess.CompletedProcess[str]]:
    result = playbook("playbooks/cluster.yml", "-e", "cluster_state=absent", "-e", "cluster_provider=local")
    yield result
    again = playbook("playbooks/cluster.yml", "-e", "cluster_provider=local")
    assert again.returncode == 0, again.stdout[-6000:]


def test_cluster_down_leaves_nothing_behind(cluster_down: subprocess.CompletedProcess[str]) -> None:
    assert cluster_down.returncode == 0, cluster_down.stdout[-6000:]
    processes = run(["ps", "-eo", "args"], check=True).stdout.splitlines()
    ours = [
        line
        for line in processes
        if str(STATE_DIR) in line
        or str(RUN_DIR) in line
        or line.startswith(("etcd ", "kube-apiserver"))
        or "/kubernetes/v1." in line
    ]
    assert ours == [], f"processes left: {ours}"
    mounts = run(["findmnt", "--list", "--noheadings", "--output", "TARGET"], check=True).stdout.splitlines()
    assert [m for m in mounts if m.startswith((str(STATE_DIR), str(RUN_DIR)))] == []
    assert [m for m in mounts if m.startswith("/run/netns/cni-")] == []
    links = {link["ifname"] for link in json.loads(run(["ip", "-j", "link", "show"], check=True).stdout)}
    assert not links & {"cni0", "todo0"}
    routes = json.loads(run(["ip", "-j", "route", "show", "table", "all"], check=True).stdout)
    assert [r for r in routes if r.get("dst") in (POD_CIDR, SERVICE_CIDR)] == []
    for save in ("iptables-save", "ip6tables-save"):
        dump = run([save], check=True).stdout
        assert [line for line in dump.splitlines() if ("KUBE-" in line or "CNI-" in line)] == [], save
    assert not STATE_DIR.exists() and not RUN_DIR.exists()
    context = run(["kubectl", "config", "get-contexts", "-o", "name"], check=True).stdout.split()
    assert "todo-local" not in context

    again = playbook("playbooks/cluster.yml", "-e", "cluster_state=absent", "-e", "cluster_provider=local")
    assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, (
        "a second cluster-down must be a no-op"
    )


def test_second_run_on_a_fresh_cluster_changes_nothing(cluster_up: subprocess.CompletedProcess[str]) -> None:
    # The fixture of the test above created the cluster anew. The first server-side apply of
    # an object whose configuration sets nothing but its name left it without managed fields,
    # and the second then took the fields the API server had defaulted: changed=1 once.
    assert_another_run_changes_nothing()
