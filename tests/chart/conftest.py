"""Fixtures for the todo-app Helm chart tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from chart_helpers import CASES, HELM, JWT, Case, Manifest, render


@pytest.fixture(scope="session")
def helm() -> str:
    if not Path(HELM).exists():
        pytest.fail(f"helm not found at {HELM}; set HELM or build it (see helm/todo-app/README.md)")
    return HELM


@pytest.fixture(scope="session")
def default_docs(helm: str) -> list[Manifest]:
    return render("--set", JWT)


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request: pytest.FixtureRequest, helm: str) -> Case:
    assert isinstance(request.param, Case)
    return request.param
