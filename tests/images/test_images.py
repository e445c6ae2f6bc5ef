"""The production images: built by the images role, non-root, healthy, serving, within budget."""

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
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "todo-app"

# name: (uid, container port, health path, budget in MB, extra docker run arguments)
IMAGES: dict[str, tuple[int, int, str, int, list[str]]] = {
    "backend": (
        10001,
        8000,
        "/healthz",
        500,
        ["-e", "JWT_SECRET=" + "k" * 40, "-e", "DATABASE_URL=sqlite:////tmp/todo.db"],
    ),
    "frontend": (10002, 3000, "/api/health", 300, ["--tmpfs", "/app/.next/cache:uid=10002,gid=10002"]),
}


# How each image reports the UID it runs as (the frontend runtime has no `id`).
UID_PROBES = {
    "backend": ["id", "-u"],
    "frontend": ["node", "-e", "console.log(process.getuid())"],
}


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=600)


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("images") / "refs.json"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{CACHE / 'bin'}:{env['PATH']}"
    result = subprocess.run(
        [
            str(ROOT / ".venv/bin/ansible-playbook"),
            str(Path(__file__).parent / "files/build.yml"),
            "-e",
            f"images_refs_file={out}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    refs: dict[str, str] = json.loads(out.read_text())
    return refs


def inspect(ref: str) -> Any:
    return json.loads(docker("image", "inspect", ref).stdout)[0]


@pytest.mark.parametrize("name", IMAGES)
def test_image_runs_as_its_fixed_non_root_user(refs: dict[str, str], name: str) -> None:
    uid = IMAGES[name][0]
    assert inspect(refs[name])["Config"]["User"].split(":")[0] == str(uid)
    probe = UID_PROBES[name]
    whoami = docker("run", "--rm", "--entrypoint", probe[0], refs[name], *probe[1:])
    assert whoami.stdout.strip() == str(uid)


def test_frontend_runs_on_a_runtime_without_shell_npm_or_package_manager(refs: dict[str, str]) -> None:
    runtime = refs["frontend_base"]
    # The frontend is built on the runtime image: its layers start with the runtime's.
    frontend_layers = inspect(refs["frontend"])["RootFS"]["Layers"]
    runtime_layers = inspect(runtime)["RootFS"]["Layers"]
    assert frontend_layers[: len(runtime_layers)] == runtime_layers
    for tool in ("/bin/sh", "/usr/bin/apt-get", "/usr/local/bin/npm", "/usr/bin/dpkg"):
        ran = docker("run", "--rm", "--entrypoint", tool, refs["frontend"], "--version", check=False)
        assert ran.returncode != 0, f"{tool} is in the frontend image"
        assert "no such file or directory" in ran.stderr.lower(), ran.stderr
    # What remains is enough for the server: the CA bundle node is told to trust exists, and
    # glibc resolves a host name (the backend's Service name is resolved the same way).
    script = (
        "require('node:fs').accessSync(process.env.NODE_EXTRA_CA_CERTS);"
        "require('node:dns').lookup('localhost', (e, a) => { if (e) throw e; console.log('ok', a) })"
    )
    ran = docker("run", "--rm", "--entrypoint", "node", refs["frontend"], "-e", script)
    assert ran.stdout.startswith("ok "), ran.stdout + ran.stderr


@pytest.mark.parametrize("name", IMAGES)
def test_image_declares_port_and_healthcheck(refs: dict[str, str], name: str) -> None:
    config = inspect(refs[name])["Config"]
    assert f"{IMAGES[name][1]}/tcp" in config["ExposedPorts"]
    assert config["Healthcheck"]["Test"][0] in ("CMD", "CMD-SHELL")
    assert IMAGES[name][2] in " ".join(config["Healthcheck"]["Test"])


@pytest.mark.parametrize("name", IMAGES)
def test_image_is_within_budget(refs: dict[str, str], name: str) -> None:
    size_mb = inspect(refs[name])["Size"] / 1_000_000
    assert size_mb < IMAGES[name][3], f"{refs[name]} is {size_mb:.1f} MB"


@pytest.fixture(params=list(IMAGES))
def container(request: pytest.FixtureRequest, refs: dict[str, str]) -> Iterator[tuple[str, str, int]]:
    name: str = request.param
    _uid, port, _path, _budget, extra = IMAGES[name]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        host_port = probe.getsockname()[1]
    cid = f"todo-image-test-{uuid.uuid4().hex[:8]}"
    docker(
        "run",
        "-d",
        "--name",
        cid,
        "--read-only",
        "--tmpfs",
        "/tmp",
        "-p",
        f"127.0.0.1:{host_port}:{port}",
        *extra,
        refs[name],
    )
    yield name, cid, host_port
    docker("rm", "-f", cid, check=False)


def test_server_answers_becomes_healthy_and_stops_on_sigterm(container: tuple[str, str, int]) -> None:
    name, cid, host_port = container
    url = f"http://127.0.0.1:{host_port}{IMAGES[name][2]}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                assert response.status == 200
                break
        except OSError:
            logs = docker("logs", cid, check=False).stdout
            assert time.monotonic() < deadline, f"{name} never answered on {url}:\n{logs}"
            time.sleep(1)
    started = time.monotonic()
    docker("stop", "--time", "20", cid)
    assert time.monotonic() - started < 15, f"{name} did not stop promptly on SIGTERM"
    state = json.loads(docker("inspect", cid).stdout)[0]["State"]
    assert state["ExitCode"] in (0, 143), state
