from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from app.core.logging import JsonFormatter
from tests.utils.users import AuthHeaders


def test_each_request_is_logged_without_headers_or_bodies(
    client: TestClient, alice: AuthHeaders, caplog: pytest.LogCaptureFixture
) -> None:
    token = alice["Authorization"].removeprefix("Bearer ")
    with caplog.at_level(logging.INFO, logger="app.request"):
        client.post("/api/tasks?x=1", json={"title": "secret title"}, headers=alice)
    [record] = [r for r in caplog.records if r.name == "app.request"]
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert {k: entry[k] for k in ("method", "path", "status")} == {
        "method": "POST",
        "path": "/api/tasks",
        "status": 201,
    }
    assert isinstance(entry["duration_ms"], float)
    assert token not in line
    assert "secret title" not in line


def test_openapi_lists_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/auth/login", "/api/tasks", "/api/chat", "/healthz", "/readyz"} <= set(paths)
