"""Fuzz every operation of the backend's OpenAPI document over HTTP: against the backend and
through the frontend's proxy. Each answer must be no 5xx and one the document declares, with
the declared content type, schema and headers.

Schemathesis generates valid and invalid requests (its examples, coverage and fuzzing
phases, FUZZ_MAX_EXAMPLES random examples each, the same ones every run). Each operation logs
in on its own, so fuzzing logout revokes only that operation's session.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, settings
from schemathesis.generation.case import Case

from fuzz.targets import (
    BACKEND,
    CHECKS,
    PROXY,
    REQUEST_TIMEOUT,
    SCHEMA,
    SESSION_COOKIE,
    Target,
)

FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_MAX_EXAMPLES", "20")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _any_of(paths: Iterable[str]) -> str:
    return "^(?:" + "|".join(re.escape(path) for path in sorted(paths)) + ")$"


_PROXY_OWN = _any_of(path for _method, path in PROXY.own_routes)
_PROXY_UNSERVED = _any_of(path for path, served in PROXY.paths.items() if served is None)


@pytest.fixture
def backend_token(account: str) -> str:
    return BACKEND.login(account)


@pytest.fixture
def proxy_token(account: str) -> str:
    return PROXY.login(account)


def send(case: Case[Any], target: Target, token: str | None) -> requests.Response:
    """The case's request to `target`, at the path where the target serves the operation.

    Schemathesis puts a bearer token in every case of an operation that needs one, and leaves
    it out of the negative cases about it: the session (token or cookie) goes exactly with it.
    """
    carries_token = "Authorization" in (case.headers or {})
    headers = target.headers(token if carries_token else None)
    kwargs = case.as_transport_kwargs(base_url=target.base_url, headers=headers)
    if case.operation.path in target.paths:
        assert not case.path_parameters, "a moved path keeps no parameters"
        kwargs["url"] = target.url(case.operation.path)
    return requests.request(**kwargs, timeout=REQUEST_TIMEOUT, allow_redirects=False)


def check(case: Case[Any], target: Target, response: requests.Response) -> None:
    # The base URL makes a failure's "Reproduce with" curl command name the target.
    case.validate_response(response, checks=CHECKS, transport_kwargs={"base_url": target.base_url})


@SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_backend_answers_as_documented(case: Case[Any], backend_token: str) -> None:
    check(case, BACKEND, send(case, BACKEND, backend_token))


# Through the proxy: every operation it relays, at the path it serves it (PROXY.paths).
@SCHEMA.exclude(path_regex=_PROXY_UNSERVED).exclude(path_regex=_PROXY_OWN).parametrize()
@FUZZ_SETTINGS
def test_proxy_answers_as_documented(case: Case[Any], proxy_token: str) -> None:
    check(case, PROXY, send(case, PROXY, proxy_token))


# The proxy's own login and logout (PROXY.own_routes): what they refuse is the backend's
# answer, relayed with the declared status and schema; what they accept answers {"ok": true}
# and sets (login) or clears (logout) the session cookie instead of the backend's token or 204.
@SCHEMA.include(path_regex=_PROXY_OWN).parametrize()
@FUZZ_SETTINGS
def test_proxy_session_routes_answer_as_documented(case: Case[Any], proxy_token: str) -> None:
    response = send(case, PROXY, proxy_token)
    if response.status_code != 200:
        check(case, PROXY, response)
        return
    assert response.json() == {"ok": True}, response.text
    cookie = response.headers.get("set-cookie", "")
    assert cookie.startswith(f"{SESSION_COOKIE}="), f"no session cookie set or cleared: {cookie!r}"
    if case.operation.path.endswith("/logout"):
        assert "Max-Age=0" in cookie, f"logout did not clear the session cookie: {cookie!r}"
    else:
        assert "HttpOnly" in cookie, f"the session cookie is readable by scripts: {cookie!r}"
