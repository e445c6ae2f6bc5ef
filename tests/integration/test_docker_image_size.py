"""Integration tests for docker_image_size against the real Docker engine.

Builds two throwaway images FROM scratch with files of known size, runs the module through a
real ``ansible`` ad-hoc invocation (JSON callback) and removes the images afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MODULES_DIR = REPO / "plugins" / "modules"
MODULE_UTILS_DIR = REPO / "plugins" / "module_utils"
BIN_DIR = Path(sys.executable).parent

BASE_PAYLOAD = 3_000_000  # one COPY layer in the base image
BIG_PAYLOAD = 2_000_000  # first COPY layer added by the app image
SMALL_PAYLOAD = 10_000  # second COPY layer added by the app image
# Layer sizes are the sum of the file sizes; leave room for directory entries on other drivers.
SLACK = 64 * 1024


def _tool(name: str) -> str:
    """The tool next to the running Python (the project venv), else the one on PATH."""
    candidate = BIN_DIR / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (looked in {BIN_DIR} and on PATH)")
    return found


def _docker_socket() -> Path | None:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        return Path(host[len("unix://") :])
    return None


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True, timeout=300)


@dataclass(frozen=True)
class Images:
    base: str
    app: str
    app_id: str
    missing: str


@pytest.fixture(scope="session")
def docker_engine() -> None:
    socket = _docker_socket()
    if socket is not None and not socket.exists():
        pytest.skip(f"Docker socket {socket} is absent: these tests need a running Docker engine")
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed: it is needed to build test images")
    info = _docker("info", "--format", "{{.ServerVersion}}", check=False)
    if info.returncode != 0:
        pytest.skip(f"the Docker engine does not answer: {info.stderr.strip()}")


@pytest.fixture(scope="session")
def images(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Images]:
    """A base image (FROM scratch + 3 MB file) and an app image on it (+ 2 MB + 10 kB files)."""
    uid = uuid.uuid4().hex[:12]
    base_tag = f"todo-app-test/docker-image-size-base:{uid}"
    app_tag = f"todo-app-test/docker-image-size-app:{uid}"
    context = tmp_path_factory.mktemp("docker_image_size_ctx")
    (context / "payload.bin").write_bytes(os.urandom(BASE_PAYLOAD))
    (context / "big.bin").write_bytes(os.urandom(BIG_PAYLOAD))
    (context / "small.bin").write_bytes(os.urandom(SMALL_PAYLOAD))
    (context / "Dockerfile.base").write_text("FROM scratch\nCOPY payload.bin /payload.bin\n")
    (context / "Dockerfile.app").write_text(
        f"FROM {base_tag}\nCOPY big.bin /data/big.bin\nENV TODO_APP_TEST=1\nCOPY small.bin /data/small.bin\n"
    )
    built: list[str] = []
    try:
        for tag, dockerfile in (
            (base_tag, "Dockerfile.base"),
            (app_tag, "Dockerfile.app"),
        ):
            result = _docker(
                "build",
                "-q",
                "-f",
                str(context / dockerfile),
                "-t",
                tag,
                str(context),
                check=False,
            )
            if result.returncode != 0:
                pytest.fail(f"docker build of {tag} failed: {result.stderr.strip()}")
            built.append(tag)
        app_id = _docker("image", "inspect", "--format", "{{.Id}}", app_tag).stdout.strip()
        yield Images(
            base=base_tag,
            app=app_tag,
            app_id=app_id,
            missing=f"todo-app-test/docker-image-size-missing:{uid}",
        )
    finally:
        for tag in reversed(built):  # the app image first: it depends on the base
            _docker("image", "rm", "--force", tag, check=False)
        leftovers = _docker("image", "ls", "--quiet", "--filter", f"reference=*/*:{uid}")
        assert leftovers.stdout.strip() == "", f"test images left behind: {leftovers.stdout}"


@dataclass
class Run:
    rc: int
    result: dict[str, Any]
    stderr: str


def run_module(args: dict[str, Any], *extra: str, tmp_dir: Path) -> Run:
    """Run the module with a real ``ansible localhost -m docker_image_size`` and parse the JSON."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ANSIBLE_")  # no project ansible.cfg or callbacks
    }
    env.update(
        {
            "ANSIBLE_LIBRARY": str(MODULES_DIR),
            "ANSIBLE_MODULE_UTILS": str(MODULE_UTILS_DIR),
            "ANSIBLE_STDOUT_CALLBACK": "json",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_HOME": str(tmp_dir / "ansible-home"),
        }
    )
    command = [
        _tool("ansible"),
        "localhost",
        "-m",
        "docker_image_size",
        "-a",
        json.dumps(args),
        *extra,
    ]
    proc = subprocess.run(
        command,
        check=False,
        cwd=tmp_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        output = json.loads(proc.stdout)
        result = output["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(
            f"no JSON result from {command}: {exc}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        ) from exc
    return Run(proc.returncode, result, proc.stderr)


@pytest.fixture
def run(tmp_path: Path) -> Any:
    def _run(args: dict[str, Any], *extra: str) -> Run:
        return run_module(args, *extra, tmp_dir=tmp_path)

    return _run


def test_measures_a_single_layer_image(images: Images, run: Any) -> None:
    outcome = run({"name": images.base})
    assert outcome.rc == 0, outcome.result.get("msg")
    result = outcome.result
    assert result["changed"] is False
    assert result.get("failed", False) is False
    image = result["image"]
    assert BASE_PAYLOAD <= image["size_bytes"] <= BASE_PAYLOAD + SLACK
    assert image["size_mb"] == pytest.approx(3.0, abs=0.1)
    assert image["layer_count"] == 1
    (layer,) = image["layers"]
    assert layer["created_by"].startswith("COPY ")
    assert "/payload.bin" in layer["created_by"]
    assert "#(nop)" not in layer["created_by"]
    assert result["budgets"] == {}
    assert result["report"][0].startswith(f"{images.base}: 3.0 MB total, 1 layer")


def test_breaks_down_layers_over_base(images: Images, run: Any) -> None:
    outcome = run({"name": images.app, "base_image": images.base})
    assert outcome.rc == 0, outcome.result.get("msg")
    image = outcome.result["image"]
    total = BASE_PAYLOAD + BIG_PAYLOAD + SMALL_PAYLOAD
    assert total <= image["size_bytes"] <= total + SLACK
    assert image["layer_count"] == 3  # ENV adds history, not a filesystem layer
    sizes = [layer["size_bytes"] for layer in image["layers"]]
    assert sizes == sorted(sizes, reverse=True)
    assert len(sizes) == 3
    base_layer, big_layer, small_layer = image["layers"]
    assert base_layer["from_base"] is True and "/payload.bin" in base_layer["created_by"]
    assert big_layer["from_base"] is False and "/data/big.bin" in big_layer["created_by"]
    assert big_layer["created_by"].startswith("COPY ")
    assert small_layer["from_base"] is False and "/data/small.bin" in small_layer["created_by"]
    assert BIG_PAYLOAD <= big_layer["size_bytes"] <= BIG_PAYLOAD + SLACK
    assert image["base"]["name"] == images.base
    assert image["base"]["is_ancestor"] is True
    assert image["base"]["layer_count"] == 1
    added = BIG_PAYLOAD + SMALL_PAYLOAD
    assert added <= image["added_bytes"] <= added + SLACK
    assert image["added_bytes"] == image["size_bytes"] - image["base"]["size_bytes"]
    report = outcome.result["report"]
    assert f"2.0 MB over base {images.base}" in report[0]
    assert "[base]" in report[1] and "/data/big.bin" in report[2]


def test_under_budget_by_image_id(images: Images, run: Any) -> None:
    outcome = run(
        {
            "name": images.app_id,
            "base_image": images.base,
            "max_size_mb": 6,
            "max_added_mb": 2.5,
            "top_layers": 1,
        }
    )
    assert outcome.rc == 0, outcome.result.get("msg")
    budgets = outcome.result["budgets"]
    assert budgets["max_size_mb"]["ok"] is True
    assert budgets["max_size_mb"]["budget_bytes"] == 6_000_000
    assert budgets["max_added_mb"]["ok"] is True
    assert len(outcome.result["image"]["layers"]) == 1
    assert "(budget 6 MB, ok)" in outcome.result["report"][0]
    assert "(budget 2.5 MB, ok)" in outcome.result["report"][0]


def test_check_mode_measures_too(images: Images, run: Any) -> None:
    outcome = run({"name": images.app, "max_size_mb": 6}, "--check")
    assert outcome.rc == 0, outcome.result.get("msg")
    assert outcome.result["changed"] is False
    assert outcome.result["image"]["layer_count"] == 3


def test_over_total_budget_fails(images: Images, run: Any) -> None:
    outcome = run({"name": images.app, "max_size_mb": 4})
    assert outcome.rc != 0
    result = outcome.result
    assert result["failed"] is True
    assert result["changed"] is False
    msg = result["msg"]
    assert f"Image {images.app} is over its size budget" in msg
    assert "expected a total size of at most 4 MB (max_size_mb), found 5.0 MB" in msg
    assert "/payload.bin" in msg and "/data/big.bin" in msg  # largest layers are named
    assert "raise the budget" in msg
    assert result["budgets"]["max_size_mb"]["ok"] is False
    assert result["image"]["layers"]  # the breakdown comes with the failure
    assert "OVER by 1.0 MB" in result["report"][0]


def test_over_added_budget_fails(images: Images, run: Any) -> None:
    outcome = run(
        {
            "name": images.app,
            "base_image": images.base,
            "max_size_mb": 10,
            "max_added_mb": 1,
        }
    )
    assert outcome.rc != 0
    msg = outcome.result["msg"]
    assert f"expected at most 1 MB added over base {images.base} (max_added_mb)" in msg
    assert "found 2.0 MB" in msg
    assert "/data/big.bin" in msg
    assert "/payload.bin" not in msg  # the base layer is not blamed
    assert outcome.result["budgets"]["max_size_mb"]["ok"] is True


def test_image_not_found(images: Images, run: Any) -> None:
    outcome = run({"name": images.missing})
    assert outcome.rc != 0
    msg = outcome.result["msg"]
    assert f"Image {images.missing} (name) was not found" in msg
    assert f"docker build -t {images.missing} ." in msg


def test_base_image_not_found(images: Images, run: Any) -> None:
    outcome = run({"name": images.app, "base_image": images.missing})
    assert outcome.rc != 0
    assert f"Image {images.missing} (base_image) was not found" in outcome.result["msg"]


def test_max_added_requires_base_image(images: Images, run: Any) -> None:
    outcome = run({"name": images.app, "max_added_mb": 1})
    assert outcome.rc != 0
    assert "base_image" in outcome.result["msg"]


def test_ansible_doc_parses_the_documentation() -> None:
    proc = subprocess.run(
        [_tool("ansible-doc"), "-M", str(MODULES_DIR), "docker_image_size"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "docker_image_size" in proc.stdout
    assert "max_added_mb" in proc.stdout and "RETURN VALUES" in proc.stdout
