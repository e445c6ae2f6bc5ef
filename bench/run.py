"""Measure todo-app: image sizes, deployment times, traffic during rollouts, backend load.

``make bench`` runs this. Every measurement is bounded in time, and one that fails is recorded
with its error instead of stopping the others; the benchmark reports, it never fails the build.
Results go to ``bench/results.json`` (written after every measurement) and ``bench/results.md``.

It first deploys the checkout as it is (``make deploy``; changed=0 when it already runs), then
redeploys the release several times on the current cluster (never touching the cluster
itself): the release and its namespace are removed before the hand-typed deployment and the
warm ``make deploy``, so the database starts empty. ``--cold`` also removes the app images
(Docker and the cluster's containerd) and measures a deploy that rebuilds them.

    python bench/run.py [--cold] [--skip-naive] [--only sizes,load] [--budget-seconds 1800]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RAW = BENCH / "raw"
RESULTS_JSON = BENCH / "results.json"
RESULTS_MD = BENCH / "results.md"
CACHE_BIN = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "todo-app" / "bin"

NAMESPACE = "todo-app"
RELEASE = "todo-app"
BASE_URL = "http://127.0.0.1:30000"
CONTAINERD = "/run/todo-local/containerd/containerd.sock"
SECRET_NAME = "todo-app-secrets"  # noqa: S105 -- the name of the Secret, not a value
TRAFFIC_RATE = 20
LOAD_SECONDS = 10
FAILED_TASK = re.compile(r"^(fatal|failed): \[|^\[ERROR\]|^ERROR!")
MEASUREMENTS = (
    "cluster",
    "sizes",
    "by_hand",
    "warm",
    "idempotent",
    "noop",
    "plan",
    "upgrade",
    "rollback",
    "change",
    "dev_change",
    "broken_upgrade",
    "load",
    "cold",
)
NOOP_RUNS = 3
NOOP_TARGET_S = 10
# The inner loop (issue 11): each figure is the median of CHANGE_RUNS, the playbook's and the
# hand-typed runs interleaved in one bench run.
CHANGE_RUNS = 3
CHANGE_RATIO_TARGET = 1.2
DEV_TARGET_S = 20
BROKEN_TARGET_S = 60

Json = dict[str, Any]


class Bench:
    """Runs the measurements in order, records each (or its error) and keeps the time budget."""

    def __init__(self, budget_seconds: float, selected: set[str]) -> None:
        self.started = time.monotonic()
        self.budget = budget_seconds
        self.selected = selected
        self.results: Json = {
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "host": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "measurements": {},
        }
        self.context: Json = {}

    def measure(self, name: str, function: Callable[[], Json], *, always: bool = False) -> None:
        if name not in self.selected and not always:
            return
        elapsed = time.monotonic() - self.started
        if elapsed > self.budget:
            self.record(name, {"ok": False, "skipped": f"time budget of {self.budget:.0f} s used up"})
            return
        log(f"--- {name}")
        began = time.monotonic()
        try:
            outcome = {"ok": True, **function()}
        except Exception as error:  # a benchmark reports its failures, it never stops on one
            outcome = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            log(f"    {name} failed: {outcome['error']}")
        outcome["measured_in_s"] = round(time.monotonic() - began, 1)
        self.record(name, outcome)

    def record(self, name: str, outcome: Json) -> None:
        self.results["measurements"][name] = outcome
        self.results["total_s"] = round(time.monotonic() - self.started, 1)
        RESULTS_JSON.write_text(json.dumps(self.results, indent=2) + "\n", encoding="utf-8")


def log(message: str) -> None:
    print(message, flush=True)


def env() -> dict[str, str]:
    path = f"{ROOT / '.venv' / 'bin'}:{CACHE_BIN}:{os.environ.get('PATH', '')}"
    return dict(os.environ, PATH=path, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")


def run(
    argv: list[str], timeout: float, *, stdin: str | bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(
        argv, cwd=ROOT, env=env(), input=data, capture_output=True, timeout=timeout, check=False
    )
    result = subprocess.CompletedProcess(
        argv, done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    )
    if check and result.returncode != 0:
        raise RuntimeError(failure(argv, result))
    return result


def failure(argv: list[str], result: subprocess.CompletedProcess[str]) -> str:
    """Why a command failed: the failed Ansible tasks when there are some, else its last lines.

    The whole output is kept in bench/raw/ and named in the message.
    """
    output = result.stdout + result.stderr
    RAW.mkdir(parents=True, exist_ok=True)
    log_file = RAW / f"failed-{Path(argv[0]).name}-{time.strftime('%H%M%S')}.log"
    log_file.write_text(output, encoding="utf-8")
    lines = output.strip().splitlines()
    task, why = "", []
    for index, line in enumerate(lines):
        if line.startswith("TASK ["):
            task = line.rstrip(" *")
        elif FAILED_TASK.match(line) and "...ignoring" not in " ".join(lines[index + 1 : index + 3]):
            why.append(f"{task} {line.strip()[:300]}".strip())
    summary = " | ".join(why[-3:] or lines[-15:])
    return f"{' '.join(argv[:4])} exited {result.returncode}: {summary} (full output: {log_file})"


def timed(argv: list[str], timeout: float) -> tuple[float, str]:
    began = time.monotonic()
    done = run(argv, timeout)
    return round(time.monotonic() - began, 1), done.stdout


def playbook(name: str, *extra: str, timeout: float = 900) -> Json:
    """Run a playbook; return its time, the recap's changed count and the readiness time."""
    took, out = timed(["ansible-playbook", name, *extra], timeout)
    return {"seconds": took, **playbook_facts(out)}


def playbook_facts(out: str) -> Json:
    changed = re.findall(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)", out)
    ready = re.findall(r"Ready in ([0-9.]+) s", out)
    facts: Json = {"changed": int(changed[-1]) if changed else None}
    if ready:
        facts["install_to_ready_s"] = float(ready[-1])
    return facts


# --- the app ------------------------------------------------------------------------------


def http_json(method: str, path: str, body: Json | None = None, headers: dict[str, str] | None = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", 30000, timeout=15)
    try:
        payload = json.dumps(body) if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status}: {data[:200]!r}")
        cookie = response.getheader("Set-Cookie") or ""
        return {"json": json.loads(data) if data else None, "cookie": cookie}
    finally:
        connection.close()


def bench_user(tasks: int = 0) -> str:
    """Register a throwaway user, give it ``tasks`` tasks and return its session token."""
    email = f"bench-{int(time.time())}-{secrets.token_hex(3)}@example.com"
    password = secrets.token_urlsafe(18)
    http_json("POST", "/api/auth/register", {"email": email, "password": password})
    login = http_json("POST", "/api/auth/login", {"email": email, "password": password})
    match = re.search(r"todo_session=([^;]+)", login["cookie"])
    if not match:
        raise RuntimeError("the login set no todo_session cookie")
    token = match.group(1)
    for n in range(tasks):
        body = {"title": f"bench task {n}", "priority": "medium", "tags": ["bench"]}
        http_json("POST", "/api/tasks", body, {"Cookie": f"todo_session={token}"})
    return token


def wait_healthy(timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            http_json("GET", "/api/ready")
            return
        except (OSError, RuntimeError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def under_traffic(name: str, action: Callable[[], Json]) -> Json:
    """Run ``action`` while bench/traffic.py sends steady requests; add what the traffic saw."""
    RAW.mkdir(parents=True, exist_ok=True)
    token = bench_user(tasks=3)
    cookie = RAW / "cookie"
    cookie.write_text(f"todo_session={token}\n", encoding="utf-8")
    cookie.chmod(0o600)
    stop, out = RAW / f"traffic-{name}.stop", RAW / f"traffic-{name}.json"
    stop.unlink(missing_ok=True)
    out.unlink(missing_ok=True)
    argv = [sys.executable, str(BENCH / "traffic.py"), "--rate", str(TRAFFIC_RATE), "--path", "/api/ready"]
    argv += [
        "--path",
        "/api/tasks",
        "--cookie-file",
        str(cookie),
        "--stop-file",
        str(stop),
        "--out",
        str(out),
    ]
    argv += ["--max-seconds", "900"]
    with subprocess.Popen(argv, cwd=ROOT) as traffic:
        try:
            time.sleep(2)
            outcome = action()
        finally:
            stop.touch()
            traffic.wait(timeout=60)
    seen = json.loads(out.read_text(encoding="utf-8"))
    outcome["traffic"] = {
        key: seen[key] for key in ("rate_per_s", "duration_s", "sent", "failed", "latency_ms")
    }
    outcome["traffic"]["first_failures"] = seen["failures"][:5]
    return outcome


# --- images -------------------------------------------------------------------------------


def inspect(ref: str) -> Json:
    data: list[Json] = json.loads(run(["docker", "image", "inspect", ref], 60).stdout)
    return data[0]


def deployed_images() -> dict[str, str]:
    values = json.loads(run(["helm", "get", "values", RELEASE, "-n", NAMESPACE, "-o", "json"], 60).stdout)
    images = {}
    for component in ("backend", "frontend"):
        image = values[component]["image"]
        images[component] = f"{image['repository']}:{image['tag']}"
    if values.get("postgresql", {}).get("enabled", True):
        image = values["postgresql"]["image"]
        images["postgres"] = f"{image['repository']}:{image['tag']}"
    return images


def base_of(image: Json) -> str:
    """The candidate base whose layers the image starts with."""
    defaults = yaml.safe_load((ROOT / "roles/images/defaults/main.yml").read_text(encoding="utf-8"))
    candidates = [
        defaults[key]
        for key in (
            "images_python_base_upstream",
            "images_python_base_local",
            "images_node_base_upstream",
            "images_node_base_local",
        )
    ]
    # The frontend runs on a node-runtime image, tagged by its content like the app images.
    runtime_repository = defaults["images_node_runtime_repository"]
    listed = run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", runtime_repository], 60)
    candidates += [line for line in listed.stdout.split() if not line.endswith(":<none>")]
    layers = image["RootFS"]["Layers"]
    for candidate in candidates:
        try:
            base_layers = inspect(candidate)["RootFS"]["Layers"]
        except RuntimeError:
            continue
        if layers[: len(base_layers)] == base_layers:
            return str(candidate)
    raise RuntimeError(f"none of {candidates} is the base of {image['RepoTags']}")


def built_from(base: str) -> str:
    """The image the build stages run on: a node-runtime names the base it took node from."""
    labels = inspect(base)["Config"].get("Labels") or {}
    return str(labels.get("org.opencontainers.image.base.name") or base)


def sizes(skip_naive: bool) -> Json:
    budgets = yaml.safe_load((ROOT / "roles/image_size/defaults/main.yml").read_text(encoding="utf-8"))
    images = deployed_images()
    out: Json = {}
    for component in ("backend", "frontend"):
        ref = images[component]
        image = inspect(ref)
        base = base_of(image)
        base_size = int(inspect(base)["Size"])
        entry: Json = {
            "image": ref,
            "base": base,
            "bytes": int(image["Size"]),
            "app_bytes": int(image["Size"]) - base_size,
            "base_bytes": base_size,
            "layers": len(image["RootFS"]["Layers"]),
            "budget_bytes": int(budgets[f"image_size_{component}_budget_mb"] * 1_000_000),
            "app_budget_bytes": int(budgets[f"image_size_{component}_added_budget_mb"] * 1_000_000),
        }
        # The naive image is built where npm is: on the base the runtime took node from.
        build_base = built_from(base)
        if build_base != base:
            entry["build_base"] = build_base
        if not skip_naive:
            build_base_size = int(inspect(build_base)["Size"])
            entry["naive"] = naive(component, build_base, build_base_size)
        out[component] = entry
    return out


def naive(component: str, base: str, base_size: int) -> Json:
    tag = f"todo-app-bench/{component}-naive:latest"
    try:
        took, _ = timed(
            [
                "docker",
                "build",
                "--quiet",
                "--file",
                str(BENCH / "naive" / f"{component}.Dockerfile"),
                "--build-arg",
                f"BASE_IMAGE={base}",
                "--tag",
                tag,
                str(ROOT / component),
            ],
            900,
        )
        size = int(inspect(tag)["Size"])
    except Exception as error:  # the real image's figures still count
        return {"error": f"{type(error).__name__}: {error}"}
    return {"image": tag, "bytes": size, "app_bytes": size - base_size, "build_s": took}


# --- deployments --------------------------------------------------------------------------


def capture_release() -> Json:
    """What the hand-typed deployment needs to reproduce the release exactly."""
    values = json.loads(run(["helm", "get", "values", RELEASE, "-n", NAMESPACE, "-o", "json"], 60).stdout)
    secret = json.loads(
        run(["kubectl", "get", "secret", SECRET_NAME, "-n", NAMESPACE, "-o", "json"], 60).stdout
    )
    namespace = json.loads(run(["kubectl", "get", "namespace", NAMESPACE, "-o", "json"], 60).stdout)
    images = deployed_images()
    return {
        "values": values,
        "secret_data": secret["data"],
        "namespace_labels": namespace["metadata"].get("labels", {}),
        "images": images,
        "bases": {name: base_of(inspect(ref)) for name, ref in images.items()},
    }


def teardown() -> float:
    # The namespace and the database volume too, so each deploy after it starts empty.
    took, _ = timed(["ansible-playbook", "playbooks/teardown.yml", "-e", "teardown_delete_data=true"], 600)
    return took


def by_hand(captured: Json) -> Json:
    """docker build, docker save | ctr import, the namespace and Secret, helm upgrade --install --wait."""
    teardown()
    contexts = {
        "backend": (ROOT / "backend", []),
        "frontend": (ROOT / "frontend", []),
        "postgres": (ROOT / "roles/images/files/postgres", ["--build-arg", "PG_MAJOR=15"]),
    }
    steps: Json = {}
    began = time.monotonic()
    for name, ref in captured["images"].items():
        context, args = contexts[name]
        base = captured["bases"][name]
        build_base = built_from(base)
        if build_base != base:  # the frontend: its runtime first, then the app on it
            runtime = ["docker", "build", "--quiet", "--build-arg", f"BASE_IMAGE={build_base}"]
            runtime += ["--tag", base, str(context / "runtime")]
            steps[f"build_{name}_runtime_s"], _ = timed(runtime, 900)
            args = [*args, "--build-arg", f"RUNTIME_IMAGE={base}"]
        build = ["docker", "build", "--quiet", "--build-arg", f"BASE_IMAGE={build_base}", *args]
        steps[f"build_{name}_s"], _ = timed([*build, "--tag", ref, str(context)], 900)
        load = f"docker save {ref} | ctr --address {CONTAINERD} -n k8s.io images import -"
        steps[f"load_{name}_s"], _ = timed(["bash", "-o", "pipefail", "-c", load], 600)
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE, "labels": captured["namespace_labels"]},
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": NAMESPACE},
        "data": captured["secret_data"],
    }
    run(["kubectl", "apply", "-f", "-"], 60, stdin=json.dumps(namespace))
    run(["kubectl", "apply", "-f", "-"], 60, stdin=json.dumps(secret))
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=RAW, delete=False) as values:
        json.dump(captured["values"], values)
    try:
        helm = ["helm", "upgrade", "--install", RELEASE, str(ROOT / "helm/todo-app"), "-n", NAMESPACE]
        steps["helm_install_to_ready_s"], _ = timed([*helm, "-f", values.name, "--wait", "--timeout=5m"], 400)
    finally:
        Path(values.name).unlink()
    total = round(time.monotonic() - began, 1)
    return {"seconds": total, "steps": steps}


def upgrade_sources() -> Path:
    """A copy of the sources with one file added to the backend's app/: a changed backend image."""
    target = RAW / "upgrade-src"
    shutil.rmtree(target, ignore_errors=True)
    ignore = shutil.ignore_patterns("node_modules", ".next", ".venv", "__pycache__", ".*_cache")
    for component in ("backend", "frontend"):
        shutil.copytree(ROOT / component, target / component, ignore=ignore, symlinks=True)
    marker = target / "backend/app/BENCH_UPGRADE"
    marker.write_text(f"bench upgrade {dt.datetime.now(dt.UTC).isoformat()}\n", encoding="utf-8")
    return target


def change_sources(target: Path) -> Path:
    """A copy of the sources to edit (the clone stays as it is): backend/ and frontend/."""
    if not target.exists():
        ignore = shutil.ignore_patterns("node_modules", ".next", ".venv", "__pycache__", ".*_cache")
        for component in ("backend", "frontend"):
            shutil.copytree(ROOT / component, target / component, ignore=ignore, symlinks=True)
    return target


def edit_backend(source: Path, label: str) -> None:
    """The one-file change a developer makes: a module of the backend's app/ edited."""
    marker = source / "backend/app/bench_change.py"
    marker.write_text(f'"""Bench change {label} at {time.time()}."""\n', encoding="utf-8")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def by_hand_change(source: Path, base: str, tag: str) -> Json:
    """The same change typed by hand: docker build, docker save | ctr import, helm upgrade --wait, curl."""
    steps: Json = {}
    began = time.monotonic()
    ref = f"todo-app/backend:{tag}"
    build = ["docker", "build", "--quiet", "--build-arg", f"BASE_IMAGE={base}", "--tag", ref]
    steps["build_s"], _ = timed([*build, str(source / "backend")], 900)
    load = f"docker save {ref} | ctr --address {CONTAINERD} -n k8s.io images import -"
    steps["load_s"], _ = timed(["bash", "-o", "pipefail", "-c", load], 600)
    helm = ["helm", "upgrade", RELEASE, str(ROOT / "helm/todo-app"), "-n", NAMESPACE, "--reuse-values"]
    steps["helm_upgrade_wait_s"], _ = timed(
        [*helm, f"--set=backend.image.tag={tag}", "--wait", "--timeout=5m"], 400
    )
    wait_healthy(30)
    return {"seconds": round(time.monotonic() - began, 1), "steps": steps}


def inner_loop_change() -> Json:
    """A one-file backend change through `make upgrade`, and typed by hand, CHANGE_RUNS times each.

    Then `make rollback` against `helm rollback --wait` typed by hand, likewise interleaved.
    """
    source = change_sources(RAW / "change-src")
    base = base_of(inspect(deployed_images()["backend"]))
    upgrades, hands, rollbacks, hand_rollbacks = [], [], [], []
    for n in range(CHANGE_RUNS):
        edit_backend(source, f"make-{n}")
        args = f"ANSIBLE_ARGS=-e images_project_dir={source}"
        took, out = timed(["make", "upgrade", args], 900)
        upgrades.append({"seconds": took, **playbook_facts(out)})
        edit_backend(source, f"hand-{n}")
        hands.append(by_hand_change(source, base, f"bench-hand-{int(time.time())}-{n}"))
        took, out = timed(["make", "rollback"], 600)
        rollbacks.append({"seconds": took, **playbook_facts(out)})
        began = time.monotonic()
        run(["helm", "rollback", RELEASE, "-n", NAMESPACE, "--wait", "--timeout=5m"], 400)
        wait_healthy(30)
        hand_rollbacks.append({"seconds": round(time.monotonic() - began, 1)})
    # Leave the release on the clone's own sources.
    timed(["make", "upgrade"], 900)
    result: Json = {}
    for name, runs in (
        ("make_upgrade", upgrades),
        ("by_hand", hands),
        ("make_rollback", rollbacks),
        ("helm_rollback_by_hand", hand_rollbacks),
    ):
        result[name] = {"seconds": median([r["seconds"] for r in runs]), "runs": runs}
    result["upgrade_ratio"] = round(result["make_upgrade"]["seconds"] / result["by_hand"]["seconds"], 2)
    result["rollback_ratio"] = round(
        result["make_rollback"]["seconds"] / result["helm_rollback_by_hand"]["seconds"], 2
    )
    result["target_ratio"] = CHANGE_RATIO_TARGET
    return result


def dev_change() -> Json:
    """`make dev` on a copy of the sources: a saved backend change until the new pod serves."""
    source = change_sources(RAW / "dev-src")
    argv = [sys.executable, "scripts/dev.py", "--project-dir", str(source)]
    argv += ["--max-changes", str(CHANGE_RUNS), "--no-logs"]
    lines: list[str] = []
    seconds: list[float] = []
    with subprocess.Popen(
        argv, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as dev:
        assert dev.stdout is not None
        deadline = time.monotonic() + 900
        for line in dev.stdout:
            lines.append(line.rstrip())
            if time.monotonic() > deadline:
                dev.kill()
                break
            failed = "still watching" in line
            if "watching" in line or "serving" in line:
                served = re.search(r"new pod serving ([0-9.]+) s after the save", line)
                if served:
                    seconds.append(float(served.group(1)))
                if failed:
                    seconds.append(float("inf"))
                if len(seconds) < CHANGE_RUNS and ("watching" in line or served):
                    time.sleep(1)
                    edit_backend(source, f"dev-{len(seconds)}")
        dev.wait(timeout=60)
    if len(seconds) < CHANGE_RUNS or float("inf") in seconds:
        raise RuntimeError("make dev did not roll every change out: " + " | ".join(lines[-15:]))
    timed(["make", "upgrade"], 900)  # back to the clone's own sources
    return {"seconds": median(seconds), "runs_s": seconds, "target_s": DEV_TARGET_S}


def broken_upgrade() -> Json:
    """`make upgrade` to an image tag that is not there: until the previous release serves again."""
    bad = json.dumps({"release_values": {"backend": {"image": {"tag": "bench-does-not-exist"}}}})
    began = time.monotonic()
    done = run(["make", "upgrade", f"ANSIBLE_ARGS=-e '{bad}'"], 900, check=False)
    wait_healthy(60)
    took = round(time.monotonic() - began, 1)
    if done.returncode == 0:
        raise RuntimeError("the broken upgrade succeeded")
    reason = re.search(r"cannot become Ready, giving up after ([0-9.]+) s", done.stdout)
    return {
        "seconds": took,
        "gave_up_after_s": float(reason.group(1)) if reason else None,
        "rolled_back": "The release was rolled back to revision" in done.stdout,
        "target_s": BROKEN_TARGET_S,
    }


def remove_app_images(images: dict[str, str]) -> Json:
    removed = []
    for ref in images.values():
        run(["docker", "image", "rm", "--force", ref], 120, check=False)
        ctr = ["ctr", "--address", CONTAINERD, "-n", "k8s.io", "images", "rm", f"docker.io/{ref}"]
        run(ctr, 120, check=False)
        removed.append(ref)
    return {"removed": removed}


# --- load ---------------------------------------------------------------------------------


def wrk(url: str, header: str) -> Json:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    argv = ["wrk", "-t2", "-c16", f"-d{LOAD_SECONDS}s", "--latency", "--timeout", "5s", "-H", header, url]
    out = run(argv, LOAD_SECONDS + 30).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> Json:
    def ms(value: str) -> float:
        number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
        return round(float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit], 2)

    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE))
    requests = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests_per_s": float(rps.group(1)) if rps else None,
        "requests": int(requests.group(1)) if requests else None,
        "p50_ms": ms(latency["50"]) if "50" in latency else None,
        "p99_ms": ms(latency["99"]) if "99" in latency else None,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(int(n) for n in socket.groups()) if socket else 0,
    }


def load() -> Json:
    replicas = run(
        [
            "kubectl",
            "get",
            "deploy",
            "-n",
            NAMESPACE,
            "-l",
            "app.kubernetes.io/component=backend",
            "-o",
            "json",
        ],
        60,
    )
    backend = json.loads(replicas.stdout)["items"][0]
    token = bench_user(tasks=20)
    outcome: Json = {
        "backend_replicas": backend["spec"]["replicas"],
        "duration_s": LOAD_SECONDS,
        "tool": "wrk -t2 -c16 --latency",
        "through_nodeport": wrk(f"{BASE_URL}/api/tasks", f"Cookie: todo_session={token}"),
    }
    service = json.loads(
        run(
            [
                "kubectl",
                "get",
                "svc",
                "-n",
                NAMESPACE,
                "-l",
                "app.kubernetes.io/component=backend",
                "-o",
                "json",
            ],
            60,
        ).stdout
    )["items"][0]
    port = service["spec"]["ports"][0]["port"]
    forward = ["kubectl", "port-forward", "-n", NAMESPACE, "--address", "127.0.0.1"]
    with subprocess.Popen(
        [*forward, f"svc/{service['metadata']['name']}", f"18000:{port}"],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as tunnel:
        try:
            time.sleep(3)
            outcome["backend_port_forward"] = wrk(
                "http://127.0.0.1:18000/api/tasks", f"Authorization: Bearer {token}"
            )
            # The same tunnel and backend with no database or auth work: the ceiling.
            outcome["healthz"] = wrk("http://127.0.0.1:18000/healthz", f"Authorization: Bearer {token}")
        finally:
            tunnel.terminate()
    outcome["notes"] = (
        "through_nodeport: wrk -> NodePort 30000 -> the Next.js frontend proxy -> the backend; "
        "backend_port_forward: wrk -> kubectl port-forward -> the backend alone (the tunnel bounds it); "
        "healthz: the same path to /healthz."
    )
    return outcome


# --- report -------------------------------------------------------------------------------


def bar(value: float, scale: float, width: int = 30) -> str:
    cells = max(0, min(width, round(width * value / scale))) if scale > 0 else 0
    return "█" * cells + "░" * (width - cells)


def mb(value: float | None) -> str:
    return "—" if value is None else f"{value / 1_000_000:.0f} MB"


def duration(entry: Json | None, key: str = "seconds") -> str:
    if not entry or entry.get(key) is None:
        return "—" if not entry or entry.get("ok", True) else "error"
    return f"{entry[key]:.1f} s"


def inner_loop_markdown(m: Json) -> list[str]:
    """The inner loop: each playbook figure beside what it is held against, with the ratio."""
    change, dev, broken = m.get("change", {}), m.get("dev_change", {}), m.get("broken_upgrade", {})
    if not (change.get("ok") or dev.get("ok") or broken.get("ok")):
        return []
    lines = [
        "## The inner loop",
        "",
        f"Medians of {CHANGE_RUNS} runs each, interleaved in this run; a one-file change in `backend/app`.",
        "",
        "| what | time | compared with | time | ratio | target |",
        "|---|---:|---|---:|---:|---|",
    ]
    if change.get("ok"):
        up, hand = change["make_upgrade"], change["by_hand"]
        lines.append(
            f"| change → Ready through `make upgrade` | {up['seconds']:.1f} s "
            f"| by hand: docker build, ctr import, helm upgrade --wait, curl | {hand['seconds']:.1f} s "
            f"| {change['upgrade_ratio']:.2f}x | <= {change['target_ratio']}x |"
        )
        back, hand_back = change["make_rollback"], change["helm_rollback_by_hand"]
        lines.append(
            f"| `make rollback` | {back['seconds']:.1f} s | `helm rollback --wait` by hand "
            f"| {hand_back['seconds']:.1f} s | {change['rollback_ratio']:.2f}x "
            f"| <= {change['target_ratio']}x |"
        )
    if dev.get("ok"):
        lines.append(
            f"| save → new pod serving under `make dev` | {dev['seconds']:.1f} s | the target "
            f"| {dev['target_s']} s | {dev['seconds'] / dev['target_s']:.2f}x | runs {dev['runs_s']} s |"
        )
    if broken.get("ok"):
        lines.append(
            f"| broken upgrade (missing image) → previous release serving | {broken['seconds']:.1f} s "
            f"| the target | {broken['target_s']} s | {broken['seconds'] / broken['target_s']:.2f}x "
            f"| gave up after {broken['gave_up_after_s']} s of waiting; "
            f"rolled back: {broken['rolled_back']} |"
        )
    for name, entry in (("change", change), ("dev_change", dev), ("broken_upgrade", broken)):
        if entry and not entry.get("ok"):
            lines.append(
                f"| {name} | error | {(entry.get('error') or entry.get('skipped', ''))[:160]} | | | |"
            )
    if change.get("ok"):
        steps = [run["steps"] for run in change["by_hand"]["runs"]]
        lines += [
            "",
            "By hand, per step (median): "
            + ", ".join(
                f"{key.removesuffix('_s')} {median([step[key] for step in steps]):.1f} s" for key in steps[0]
            ),
        ]
    lines.append("")
    return lines


def markdown(results: Json) -> str:
    m = results["measurements"]
    lines = [
        "# todo-app benchmarks",
        "",
        f"Run {results['started_at']} on {results['host']['cpus']} CPUs in {results.get('total_s', 0):.0f} s "
        "(`make bench`; raw figures in `results.json`).",
        "",
    ]
    size = m.get("sizes", {})
    if size.get("ok"):
        lines += [
            "## Image sizes",
            "",
            "| image | runs on (size) | total | app only | budget | vs budget |",
            "|---|---|---:|---:|---:|---|",
        ]
        for component in ("backend", "frontend"):
            e = size[component]
            lines.append(
                f"| {component} `{e['image']}` | `{e['base']}` ({mb(e['base_bytes'])}) "
                f"| {mb(e['bytes'])} | {mb(e['app_bytes'])} "
                f"| {mb(e['budget_bytes'])} "
                f"| `{bar(e['bytes'], e['budget_bytes'])}` {100 * e['bytes'] / e['budget_bytes']:.0f}% |"
            )
        lines += [
            "",
            "Against a naive single-stage Dockerfile (`bench/naive/`) on the same build base, same run:",
            "",
        ]
        lines += ["| image | ours | naive | naive / ours | |", "|---|---:|---:|---:|---|"]
        for component in ("backend", "frontend"):
            e = size[component]
            nv = e.get("naive", {})
            if "bytes" in nv:
                lines.append(
                    f"| {component} | {mb(e['bytes'])} | {mb(nv['bytes'])} | {nv['bytes'] / e['bytes']:.1f}x "
                    f"| `{bar(e['bytes'], nv['bytes'])}` ours of naive |"
                )
            else:
                why = nv.get("error", "not built (--skip-naive)")
                lines.append(f"| {component} | {mb(e['bytes'])} | {why} | | |")
        lines.append("")
    elif size:
        lines += ["## Image sizes", "", f"Not measured: {size.get('error') or size.get('skipped')}", ""]

    rows = [
        ("warm `make deploy` (release absent, images built)", "warm", "seconds"),
        ("helm install → every pod Ready (in that deploy)", "warm", "install_to_ready_s"),
        ("idempotent re-run of site.yml", "idempotent", "seconds"),
        (f"no-op `make deploy` (median of {NOOP_RUNS})", "noop", "seconds"),
        (
            "the same, on the builtin linear strategy (ANSIBLE_STRATEGY=linear, no Mitogen)",
            "noop",
            "linear_seconds",
        ),
        ("`make plan` with nothing to do", "plan", "seconds"),
        ("upgrade (changed backend image)", "upgrade", "seconds"),
        ("rollback", "rollback", "seconds"),
        ("by hand: docker build, ctr import, helm --wait", "by_hand", "seconds"),
        ("cold `make deploy` (images and release removed)", "cold", "seconds"),
    ]
    if any(name in m for _, name, _ in rows):
        lines += ["## Times", "", "| what | time | notes |", "|---|---:|---|"]
    for label, name, key in rows:
        entry = m.get(name)
        if entry is None:
            continue
        note = ""
        if entry.get("changed") is not None and key == "seconds":
            note = f"changed={entry['changed']}"
        if name == "noop" and entry.get("ok") and key == "seconds":
            ratio = entry["seconds"] / entry["target_s"]
            note += f"; runs {entry['runs_s']} s; {ratio:.1f}x the {entry['target_s']} s target"
        if name == "noop" and entry.get("ok") and key == "linear_seconds" and entry.get(key):
            share = entry["seconds"] / entry[key]
            note = f"runs {entry['linear_runs_s']} s; the Mitogen run takes {share:.2f}x this"
        if name == "plan" and entry.get("ok"):
            note = f"exit {entry['exit_code']}"
        if not entry.get("ok"):
            note = entry.get("error") or entry.get("skipped", "")
        lines.append(f"| {label} | {duration(entry, key)} | {note[:160]} |")
    warm, hand = m.get("warm", {}), m.get("by_hand", {})
    if warm.get("seconds") and hand.get("seconds"):
        longest = max(warm["seconds"], hand["seconds"])
        lines += [
            "",
            f"Playbook / by hand: **{warm['seconds'] / hand['seconds']:.2f}x**",
            "",
            f"    make deploy  {bar(warm['seconds'], longest)} {warm['seconds']:.0f} s",
            f"    by hand      {bar(hand['seconds'], longest)} {hand['seconds']:.0f} s",
        ]
    lines.append("")

    lines += inner_loop_markdown(m)

    traffic_rows = [
        (name, m[name]["traffic"])
        for name in ("upgrade", "rollback", "broken_upgrade")
        if "traffic" in m.get(name, {})
    ]
    if traffic_rows:
        lines += ["## Requests during rollouts", "", "| rollout | rate | sent | failed | p50 | p99 |"]
        lines.append("|---|---:|---:|---:|---:|---:|")
        for name, t in traffic_rows:
            lat = t["latency_ms"]
            lines.append(
                f"| {name} | {t['rate_per_s']:.0f}/s | {t['sent']} | {t['failed']} "
                f"| {lat['p50']} ms | {lat['p99']} ms |"
            )
        lines.append("")

    ld = m.get("load", {})
    if ld.get("ok"):
        lines += [
            f"## Backend under load ({ld['backend_replicas']} replica, {ld['duration_s']} s, {ld['tool']})",
            "",
            "| path | requests/s | p50 | p99 | errors |",
            "|---|---:|---:|---:|---:|",
        ]
        for key in ("through_nodeport", "backend_port_forward", "healthz"):
            r = ld.get(key)
            if r:
                errors = r["non_2xx"] + r["socket_errors"]
                lines.append(
                    f"| {key} | {r['requests_per_s']} | {r['p50_ms']} ms | {r['p99_ms']} ms | {errors} |"
                )
        lines += ["", ld["notes"], ""]
    elif ld:
        lines += ["## Backend under load", "", f"Not measured: {ld.get('error') or ld.get('skipped')}", ""]

    cluster = m.get("cluster", {})
    if cluster.get("figures"):
        lines += ["## Cluster", "", "| figure | value |", "|---|---|"]
        lines += [
            f"| {key} | {json.dumps(value) if isinstance(value, dict | list) else value} |"
            for key, value in cluster["figures"].items()
        ]
        lines.append("")
    failed = [name for name, entry in m.items() if not entry.get("ok")]
    if failed:
        lines += ["## Not measured", ""]
        lines += [f"- {name}: {m[name].get('error') or m[name].get('skipped')}" for name in failed]
        lines.append("")
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cold", action="store_true", help="also remove the app images and time a cold deploy"
    )
    parser.add_argument("--skip-naive", action="store_true", help="do not build the naive images")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(MEASUREMENTS)}")
    parser.add_argument("--budget-seconds", type=float, default=1800, help="skip what would start after this")
    args = parser.parse_args(argv)
    selected = set(args.only.split(",")) if args.only else set(MEASUREMENTS)
    if not args.cold:
        selected.discard("cold")
    RAW.mkdir(parents=True, exist_ok=True)
    bench = Bench(args.budget_seconds, selected)
    m = bench.results["measurements"]

    def cluster() -> Json:
        path = BENCH / "cluster.json"
        return (
            {"figures": json.loads(path.read_text(encoding="utf-8"))} if path.exists() else {"figures": None}
        )

    def ensure_deployed() -> Json:
        """Deploy the checkout as it is, so sizes and the hand-typed deployment see its images.

        A release from an older checkout would otherwise be measured (and rebuilt by hand from
        this source on that release's bases); when nothing changed this is the idempotent run.
        """
        present = run(["helm", "status", RELEASE, "-n", NAMESPACE], 60, check=False).returncode == 0
        return {"deployed": "by make deploy", "release_was_present": present, **playbook_make_deploy()}

    def repair() -> Json:
        try:
            wait_healthy(30)
            return {"deployed": "already healthy"}
        except (RuntimeError, OSError, http.client.HTTPException):
            return {"deployed": "by make deploy", **playbook_make_deploy()}

    def playbook_make_deploy() -> Json:
        took, out = timed(["make", "deploy"], 1800)
        return {"seconds": took, **playbook_facts(out)}

    def warm() -> Json:
        teardown()
        return playbook_make_deploy()

    def idempotent() -> Json:
        return playbook("site.yml")

    def noop() -> Json:
        """`make deploy` with nothing changed, NOOP_RUNS times, each followed by the same run on
        Ansible's builtin linear strategy (no Mitogen): the medians, against the target and each other."""
        runs, linear = [], []
        for _ in range(NOOP_RUNS):
            runs.append(playbook_make_deploy())
            took, out = timed(["env", "ANSIBLE_STRATEGY=linear", "make", "deploy"], 1800)
            linear.append({"seconds": took, **playbook_facts(out)})
        times = sorted(entry["seconds"] for entry in runs)
        linear_times = sorted(entry["seconds"] for entry in linear)
        return {
            "seconds": median(times),
            "runs_s": times,
            "linear_seconds": median(linear_times),
            "linear_runs_s": linear_times,
            "changed": max(entry["changed"] or 0 for entry in runs + linear),
            "target_s": NOOP_TARGET_S,
        }

    def plan() -> Json:
        """`make plan` on the deployed checkout: its time and exit code (0: nothing to do)."""
        began = time.monotonic()
        done = run([sys.executable, "scripts/plan.py"], 600, check=False)
        return {"seconds": round(time.monotonic() - began, 1), "exit_code": done.returncode}

    def upgrade() -> Json:
        source = upgrade_sources()
        return under_traffic(
            "upgrade", lambda: playbook("playbooks/upgrade.yml", "-e", f"images_project_dir={source}")
        )

    def rollback() -> Json:
        return under_traffic("rollback", lambda: playbook("playbooks/rollback.yml"))

    def by_hand_measure() -> Json:
        return by_hand(bench.context["captured"])

    def capture() -> Json:
        bench.context["captured"] = capture_release()
        return {"images": bench.context["captured"]["images"]}

    def cold() -> Json:
        images = deployed_images()  # read from the release before teardown removes it
        teardown()
        removed = remove_app_images(images)
        return {**removed, **playbook_make_deploy()}

    bench.measure("cluster", cluster)
    bench.measure("initial_deploy", ensure_deployed, always=True)
    bench.measure("sizes", lambda: sizes(args.skip_naive))
    if "by_hand" in selected:
        bench.measure("capture", capture, always=True)
        if "captured" in bench.context:
            bench.measure("by_hand", by_hand_measure)
    bench.measure("warm", warm)
    bench.measure("idempotent", idempotent)
    bench.measure("noop", noop)
    bench.measure("plan", plan)
    bench.measure("upgrade", upgrade)
    bench.measure("rollback", rollback)
    bench.measure("change", inner_loop_change)
    bench.measure("dev_change", dev_change)
    bench.measure("broken_upgrade", lambda: under_traffic("broken_upgrade", broken_upgrade))
    bench.measure("load", load)
    bench.measure("cold", cold)
    if any(not entry.get("ok") for entry in m.values()):
        bench.measure("final_deploy", repair, always=True)
    bench.record("total", {"ok": True, "seconds": round(time.monotonic() - bench.started, 1)})
    RESULTS_MD.write_text(markdown(bench.results), encoding="utf-8")
    log(f"Wrote {RESULTS_JSON.relative_to(ROOT)} and {RESULTS_MD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
