"""Checks on a built image; skipped unless TODO_TEST_IMAGE names one (e.g. todo-app/backend:dev)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.request
from typing import Any

import pytest

IMAGE = os.environ.get("TODO_TEST_IMAGE", "")
SIZE_BUDGET_BYTES = 500 * 1024 * 1024

pytestmark = pytest.mark.skipif(not IMAGE, reason="set TODO_TEST_IMAGE=<tag> to test an image")


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


@pytest.fixture(scope="module")
def inspected() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(docker("image", "inspect", IMAGE))[0]
    return result


def test_runs_as_fixed_non_root_user(inspected: dict[str, Any]) -> None:
    assert inspected["Config"]["User"] in ("appuser", "10001", "10001:10001")
    assert docker("run", "--rm", "--entrypoint", "id", IMAGE, "-u").strip() == "10001"


def test_declares_a_healthcheck(inspected: dict[str, Any]) -> None:
    assert "/healthz" in " ".join(inspected["Config"]["Healthcheck"]["Test"])


def test_fits_the_size_budget(inspected: dict[str, Any]) -> None:
    assert inspected["Size"] <= SIZE_BUDGET_BYTES


def test_serves_healthz_with_a_read_only_root_filesystem() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    container = docker(
        "run", "-d", "--rm", "--read-only", "--tmpfs", "/tmp",
        "-e", f"JWT_SECRET={secrets.token_hex(32)}",
        "-e", "SQLITE_PATH=/tmp/todo.db",
        "-p", f"127.0.0.1:{port}:8000", IMAGE,
    ).strip()  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert json.load(r) == {"status": "ok"}
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        subprocess.run(["docker", "stop", "-t", "20", container], capture_output=True, check=False)
