from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app


@pytest.fixture(scope="module")
def operations() -> dict[tuple[str, str], dict[str, Any]]:
    settings = Settings(_env_file=None, DATABASE_URL="sqlite://", JWT_SECRET="x" * 40)
    document = create_app(settings).openapi()
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def declared(operation: dict[str, Any]) -> set[str]:
    return set(operation["responses"])


PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/api/chat/status")}
PUBLIC |= {("POST", "/api/auth/register"), ("POST", "/api/auth/login")}
JSON_TYPE = {"content-type": "application/json"}


def test_every_authenticated_operation_declares_401(
    operations: dict[tuple[str, str], dict[str, Any]],
) -> None:
    missing = [
        key
        for key, operation in operations.items()
        if key not in PUBLIC and key[1].startswith("/api/") and "401" not in declared(operation)
    ]
    assert missing == []


def test_operations_open_to_anyone_declare_no_401(
    operations: dict[tuple[str, str], dict[str, Any]],
) -> None:
    # They take no token, so never answer 401; login's 401 is for wrong credentials.
    declaring = [
        key for key in PUBLIC - {("POST", "/api/auth/login")} if "401" in declared(operations[key])
    ]
    assert declaring == []


def test_every_operation_declares_413(
    operations: dict[tuple[str, str], dict[str, Any]],
) -> None:
    # The body limit answers before routing, whatever the operation does with a body.
    missing = [key for key, operation in operations.items() if "413" not in declared(operation)]
    assert missing == []


def test_a_body_over_the_limit_is_413_on_an_operation_without_one(client: TestClient) -> None:
    response = client.request(
        "GET", "/api/tasks", content=b"x" * (1024 * 1024 + 1), headers=JSON_TYPE
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("key", "statuses"),
    [
        (("POST", "/api/auth/register"), {"201", "409", "413", "422", "429", "503"}),
        (("POST", "/api/auth/login"), {"200", "401", "413", "422", "429", "503"}),
        (("GET", "/api/tasks/{task_id}"), {"200", "401", "404", "422"}),
        (("PATCH", "/api/tasks/{task_id}"), {"200", "401", "404", "413", "422"}),
        (("DELETE", "/api/tasks/{task_id}"), {"204", "401", "404", "422"}),
        (("POST", "/api/tasks/{task_id}/toggle"), {"200", "401", "404", "422"}),
    ],
)
def test_operations_declare_the_answers_they_give(
    operations: dict[tuple[str, str], dict[str, Any]], key: tuple[str, str], statuses: set[str]
) -> None:
    assert statuses <= declared(operations[key])


def test_rate_limited_answers_document_retry_after_as_always_sent(
    operations: dict[tuple[str, str], dict[str, Any]],
) -> None:
    limited = [op["responses"]["429"] for op in operations.values() if "429" in declared(op)]
    assert limited
    for answer in limited:
        assert answer["headers"]["Retry-After"].get("required") is True


def test_a_body_that_is_not_utf8_is_422_like_other_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/api/auth/login", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "json_invalid"
    assert "not valid UTF-8" in error["msg"]


def test_readiness_declares_the_503_it_answers_until_ready(
    operations: dict[tuple[str, str], dict[str, Any]],
) -> None:
    answers = operations[("GET", "/readyz")]["responses"]
    assert {"200", "503"} <= set(answers)
    schema = answers["503"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/NotReady"}
