"""Fuzz every operation of the OpenAPI document against the app in process (no network).

Schemathesis generates valid and invalid requests from the document the API serves; each
answer must be no 5xx and must be one the document declares, with the declared schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from tests.conftest import make_settings
from tests.utils.users import AuthHeaders, register_and_login

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def fuzz_app(database_url: str) -> Iterator[FastAPI]:
    # Loose rate limits, so the fuzzer reaches validation instead of a wall of 429s
    # (tests/api/routes/test_auth.py proves the limits themselves).
    app = create_app(
        make_settings(
            database_url,
            LOGIN_RATE_LIMIT_PER_CLIENT="10000/minute",
            LOGIN_RATE_LIMIT_PER_ACCOUNT="10000/minute",
            REGISTER_RATE_LIMIT_PER_CLIENT="10000/minute",
        )
    )
    with TestClient(app):
        yield app


@pytest.fixture
def fuzz_auth(fuzz_app: FastAPI) -> AuthHeaders:
    with TestClient(fuzz_app) as client:
        return register_and_login(client, "fuzz@example.com")


# The document is the same for every app; requests go to the test's own app (`app=`).
# Without OPENAI_API_KEY (as in tests) the assistant answers 503 by design;
# tests/api/routes/test_chat.py covers it against the stub model.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(make_settings("sqlite://"))
).exclude(path="/api/chat", method="POST")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(
    case: Case[Any], fuzz_app: FastAPI, fuzz_auth: AuthHeaders
) -> None:
    case.call_and_validate(app=fuzz_app, headers=fuzz_auth, checks=CHECKS)
