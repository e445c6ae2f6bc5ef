"""The error answers the API really gives (401, 404, 409, 413, 429) are the ones its OpenAPI
document declares, operation by operation, against the backend and through the proxy.

Random fuzzing rarely sends a body over the limit, another user's id or the eleventh
registration in a minute; these requests do, and each answer is checked like a fuzzed one
(declared status, schema and headers). A 429 must also say when to retry.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from fuzz.targets import (
    CHECKS,
    MAX_BODY_BYTES,
    TARGETS,
    Operation,
    Target,
    declared_statuses,
    new_client,
    new_email,
    operation_at,
    operations,
    requires_token,
)
from tests.utils.users import DEFAULT_PASSWORD

# The largest id the database holds (app.models.MAX_DB_INT): nobody's task or conversation.
NOBODYS_ID = 2**31 - 1
BODY_METHODS = {"POST", "PUT", "PATCH"}
# Each rate limit is reached within this many requests (the defaults are 5, 10 and 30).
LIMIT_ATTEMPTS = 60
# Its 401 is for wrong credentials in the body, not for a missing token.
CHECKS_CREDENTIALS = {"POST /api/auth/login"}


def relayed() -> list[Any]:
    """(target, operation) for each operation a target relays, with a readable id."""
    return [
        pytest.param(target, operation, id=f"{target.name}-{operation.label}")
        for target in TARGETS
        for operation in operations()
        if target.relays(operation)
    ]


def path_of(operation: Operation, ids: dict[str, int] | None = None) -> str:
    names = [parameter.name for parameter in operation.path_parameters]
    values = {name: (ids or {}).get(name, 1) for name in names}
    return operation.path.format(**values)


def check(operation: Operation, response: requests.Response) -> None:
    operation.Case().validate_response(response, checks=CHECKS)


def call(
    target: Target, operation: Operation, token: str | None = None, **kwargs: Any
) -> requests.Response:
    body: dict[str, Any] = {"json": {}} if operation.body else {}
    return target.request(
        operation.method.upper(),
        path_of(operation, kwargs.pop("ids", None)),
        token,
        **{**body, **kwargs},
    )


@pytest.mark.parametrize(("target", "operation"), relayed())
def test_without_a_token_401_is_answered_exactly_where_declared(
    target: Target, operation: Operation
) -> None:
    # An empty body: the token is checked before the parameters.
    response = call(target, operation)
    if requires_token(operation):
        assert response.status_code == 401, response.text
    else:
        assert response.status_code != 401, response.text
        assert operation.label in CHECKS_CREDENTIALS or "401" not in declared_statuses(operation), (
            f"{operation.label} declares 401, yet needs no token and answers "
            f"{response.status_code} without one"
        )
    check(operation, response)


@pytest.mark.parametrize(("target", "operation"), relayed())
def test_a_body_over_max_body_bytes_answers_413_where_declared(
    target: Target, operation: Operation
) -> None:
    body = b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = call(target, operation, data=body, headers={"Content-Type": "application/json"})
    # The backend refuses such a body on any request; the proxy reads (and forwards) the
    # bodies of POST, PUT and PATCH only.
    if not target.is_proxy or operation.method.upper() in BODY_METHODS:
        assert response.status_code == 413, response.text
    check(operation, response)


@pytest.fixture(scope="module")
def owner_resources(target: Target) -> dict[str, int]:
    """A task and a conversation of another account, created through `target`."""
    email = new_email("owner")
    target.register(email)
    token = target.login(email)
    task = target.request("POST", "/api/tasks", token, json={"title": "not yours"})
    assert task.status_code == 201, task.text
    chat = target.request("POST", "/api/chat", token, json={"message": "hello"})
    assert chat.status_code == 200, chat.text
    return {"task_id": task.json()["id"], "conversation_id": chat.json()["conversation_id"]}


def test_ids_of_nobody_and_of_another_user_answer_404(
    target: Target, owner_resources: dict[str, int], account: str
) -> None:
    token = target.login(account)
    with_ids = [op for op in operations() if op.path_parameters and target.relays(op)]
    assert with_ids, "no operation takes an id"
    nobodys = dict.fromkeys(owner_resources, NOBODYS_ID)
    for operation in with_ids:
        assert "404" in declared_statuses(operation), f"{operation.label} declares no 404"
        for whose, ids in (("nobody's", nobodys), ("another user's", owner_resources)):
            response = call(target, operation, token, ids=ids)
            assert response.status_code == 404, f"{operation.label}, {whose} id: {response.text}"
            check(operation, response)
    # The chat names its conversation in the body.
    conversation = owner_resources["conversation_id"]
    response = target.request(
        "POST", "/api/chat", token, json={"conversation_id": conversation, "message": "hi"}
    )
    assert response.status_code == 404, response.text
    check(operation_at("POST", "/api/chat"), response)


def test_registering_a_taken_email_answers_409(target: Target, account: str) -> None:
    response = target.request(
        "POST", "/api/auth/register", json={"email": account, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 409, response.text
    check(operation_at("POST", "/api/auth/register"), response)


def until_refused(send: Any, because: str) -> requests.Response:
    """Send until a 429 `because` of a limit comes back; each 429 must say when to retry."""
    for _ in range(LIMIT_ATTEMPTS):
        response: requests.Response = send()
        if response.status_code == 429:
            assert int(response.headers.get("Retry-After", "0")) >= 1, (
                f"a 429 without a Retry-After of at least 1 s: {dict(response.headers)}"
            )
            if because in response.json()["detail"]:
                return response
    raise AssertionError(f"no 429 for {because} within {LIMIT_ATTEMPTS} requests")


def test_registrations_from_one_client_reach_429(target: Target, account: str) -> None:
    register = operation_at("POST", "/api/auth/register")
    client = new_client()
    body = {"email": account, "password": DEFAULT_PASSWORD}

    def send() -> requests.Response:
        response = target.request(
            "POST", "/api/auth/register", json=body, headers={"X-Forwarded-For": client}
        )
        check(register, response)
        return response

    until_refused(send, "registrations from this client")


def test_failed_logins_reach_429_per_account_then_per_client(target: Target, account: str) -> None:
    login = operation_at("POST", "/api/auth/login")
    client = new_client()
    locked = new_email("locked")

    def attempt(email: str, password: str = "wrong password", **headers: str) -> requests.Response:
        response = target.request(
            "POST",
            "/api/auth/login",
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": client, **headers},
        )
        check(login, response)
        return response

    until_refused(lambda: attempt(locked), "failed logins for this account")
    # Each refused attempt still counts against the client, so the client's limit follows,
    # for any account.
    until_refused(lambda: attempt(locked), "login attempts from this client")
    assert attempt(account, DEFAULT_PASSWORD).status_code == 429
    # Another client with the right password is not held up by either.
    assert (
        target.request(
            "POST", "/api/auth/login", json={"email": account, "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )
