"""Fixtures of the tests over HTTP (fuzz/targets.py describes the targets)."""

from __future__ import annotations

import pytest

from fuzz.targets import BACKEND, TARGETS, Target, new_email


@pytest.fixture(scope="module", params=TARGETS, ids=lambda target: target.name)
def target(request: pytest.FixtureRequest) -> Target:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def account() -> str:
    """One account for a module, registered on the backend; each test logs in on its own."""
    email = new_email("fuzz")
    BACKEND.register(email)
    return email
