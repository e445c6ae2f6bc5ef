"""The running app that frontend/scripts/fuzz.sh starts, as the fuzz and probe tests reach it.

Two targets answer the backend's operations: the backend itself over HTTP (bearer token) and
the frontend's proxy in front of it (session cookie). Where the proxy legitimately differs
from the backend, `Target` says so in one place: which operations it serves and where, how a
caller authenticates, and the headers a same-origin browser sends.
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.utils.users import DEFAULT_PASSWORD

# Besides the answers themselves: schema-invalid requests are refused and undeclared methods get a
# 405 with Allow. Not positive_data_acceptance: the API refuses more than the document can say
# (NUL and lone surrogates in text, tags blank once trimmed, special-use email domains).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    unsupported_method,
]
Operation = APIOperation[Any, Any, Any, Any]
SESSION_COOKIE = "todo_session"  # frontend/lib/server/proxy.ts
REQUEST_TIMEOUT = 30


def _loopback_url(name: str) -> str:
    url = os.environ.get(name, "")
    if urlsplit(url).hostname != "127.0.0.1":
        raise pytest.UsageError(
            f"{name} must be an http://127.0.0.1:PORT URL (got {url!r}); "
            "frontend/scripts/fuzz.sh starts the app and sets it"
        )
    return url.rstrip("/")


BACKEND_URL = _loopback_url("FUZZ_BACKEND_URL")
FRONTEND_URL = _loopback_url("FUZZ_FRONTEND_URL")
# Both servers run with this MAX_BODY_BYTES, so a body one byte over it is cheap to send.
MAX_BODY_BYTES = int(os.environ.get("FUZZ_MAX_BODY_BYTES", str(1024 * 1024)))

# The document the backend serves is what both targets are held to.
SCHEMA = schemathesis.openapi.from_url(f"{BACKEND_URL}/openapi.json", timeout=REQUEST_TIMEOUT)

# Each request names its own client in X-Forwarded-For (198.18.0.0/15, the benchmarking
# range; a header only, traffic stays on 127.0.0.1). The backend believes it from 127.0.0.1,
# and fuzz.sh makes the frontend believe it too, as it would an ingress in front of it. So the
# per-client rate limits, at their defaults, hold back only the probes meant to reach them.
_clients = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def new_client() -> str:
    return next(_clients)


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    # The frontend: a session cookie instead of a bearer token, and same-origin checks.
    is_proxy: bool = False
    # Backend path -> where this target serves it; a path absent here is served as is.
    paths: dict[str, str | None] = field(default_factory=dict)
    # Operations this target answers with a contract of its own instead of relaying.
    own_routes: frozenset[tuple[str, str]] = frozenset()

    def url(self, path: str) -> str:
        served = self.paths.get(path, path)
        if served is None:
            raise ValueError(f"the {self.name} does not serve {path}")
        return self.base_url + served

    def serves(self, operation: Operation) -> bool:
        return self.paths.get(operation.path, operation.path) is not None

    def relays(self, operation: Operation) -> bool:
        """Served, and answered by the backend's contract (not a route of the target's own)."""
        own = (operation.method.upper(), operation.path) in self.own_routes
        return self.serves(operation) and not own

    def headers(self, token: str | None = None) -> dict[str, str]:
        """A browser's same-origin request from a client of its own, with the session if any."""
        headers = {"X-Forwarded-For": new_client()}
        if self.is_proxy:
            # The proxy refuses state changes a page of another site asks for (403): a
            # same-origin page sends its own origin.
            headers["Origin"] = self.base_url
            if token:
                headers["Cookie"] = f"{SESSION_COOKIE}={token}"
        elif token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def request(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = {**self.headers(token), **kwargs.pop("headers", {})}
        return requests.request(
            method, self.url(path), headers=headers, timeout=REQUEST_TIMEOUT, **kwargs
        )

    def register(self, email: str) -> None:
        response = self.request(
            "POST", "/api/auth/register", json={"email": email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 201, response.text

    def login(self, email: str) -> str:
        """A new session: a bearer token from the backend, the session cookie from the proxy."""
        response = self.request(
            "POST", "/api/auth/login", json={"email": email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200, response.text
        if self.is_proxy:
            token = response.cookies.get(SESSION_COOKIE)
            assert token, f"the proxy's login set no {SESSION_COOKIE} cookie: {response.headers}"
            return str(token)
        return str(response.json()["access_token"])


BACKEND = Target("backend", BACKEND_URL)
PROXY = Target(
    "proxy",
    FRONTEND_URL,
    is_proxy=True,
    paths={
        # frontend/app/api/ready relays the backend's readiness; /api/health is the frontend's
        # own liveness, which never asks the backend, so /healthz is not served.
        "/readyz": "/api/ready",
        "/healthz": None,
    },
    # frontend/app/api/auth: login keeps the token in an httpOnly cookie and answers
    # {"ok": true}; logout always drops the cookie and answers {"ok": true}, even without one.
    own_routes=frozenset({("POST", "/api/auth/login"), ("POST", "/api/auth/logout")}),
)
TARGETS = [BACKEND, PROXY]


def operations() -> list[Operation]:
    found = []
    for result in SCHEMA.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


def operation_at(method: str, path: str) -> Operation:
    found: Operation = SCHEMA[path][method]
    return found


def requires_token(operation: Operation) -> bool:
    definition = SCHEMA.raw_schema["paths"][operation.path][operation.method.lower()]
    return bool(definition.get("security"))


def declared_statuses(operation: Operation) -> set[str]:
    return set(operation.definition.raw["responses"])


def new_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@example.com"
