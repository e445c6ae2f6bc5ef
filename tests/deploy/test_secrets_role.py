"""The secrets role on the real cluster: the embedded database's password is kept, adopted from
the Secret the chart generated, or generated - once - and never printed, even at -vvv.

Each test works in a scratch namespace of its own and leaves the release's namespace alone.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CACHE_BIN, Run, ansible_env, extra_vars

pytestmark = pytest.mark.cluster

CONTEXT = "todo-local"
NAMESPACE = "todo-app-secrets-test"
JWT = "jwt-secret-marker-" + "x" * 32
KEY = "postgres-password"


def _kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CACHE_BIN / "kubectl"), f"--context={CONTEXT}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=False,
        timeout=180,
    )


def _secret_data(name: str) -> dict[str, str]:
    got = _kubectl("-n", NAMESPACE, "get", "secret", name, "-o", "json")
    assert got.returncode == 0, got.stderr
    data: dict[str, str] = json.loads(got.stdout).get("data", {})
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def _create_generated_secret(name: str, password: str) -> None:
    """A stand-in for the Secret `<fullname>-postgresql` the chart generates."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "type": "Opaque",
        "stringData": {KEY: password},
    }
    applied = _kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    assert applied.returncode == 0, applied.stderr


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    _kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true")
    created = _kubectl("create", "namespace", NAMESPACE)
    assert created.returncode == 0, created.stderr
    yield NAMESPACE
    _kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true")


@pytest.fixture
def apply_role(
    namespace: str, playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> Callable[..., Run]:
    def apply(secret_name: str, *args: str, **variables: Any) -> Run:
        play = write_play(
            [
                {
                    "name": "Apply the Secret",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [{"ansible.builtin.include_role": {"name": "secrets"}}],
                }
            ]
        )
        run = playbook(
            play,
            *args,
            *extra_vars(
                {
                    "secrets_namespace": namespace,
                    "secrets_kube_context": CONTEXT,
                    "secrets_name": secret_name,
                    "secrets_jwt_secret": JWT,
                    "secrets_database_generated_secret": f"{secret_name}-postgresql",
                    **variables,
                }
            ),
            timeout=300,
        )
        assert run.returncode == 0, run.output[-4000:]
        return run

    return apply


def test_a_new_secret_gets_a_generated_password_once(apply_role: Callable[..., Run]) -> None:
    first = apply_role("fresh")
    password = _secret_data("fresh")[KEY]
    # Letters and digits only: DATABASE_URL carries the password unescaped.
    assert re.fullmatch(r"[A-Za-z0-9]{32}", password)
    assert "database password: generated" in first.output
    assert first.recap()["changed"] == 1

    again = apply_role("fresh", "-vvv")
    assert _secret_data("fresh")[KEY] == password
    assert "database password: kept" in again.output
    assert again.recap()["changed"] == 0, again.output[-4000:]
    for run in (first, again):
        assert password not in run.output


def test_the_owner_and_app_roles_get_their_own_passwords_generated_once(
    apply_role: Callable[..., Run],
) -> None:
    first = apply_role("roles")
    data = _secret_data("roles")
    passwords = [data[KEY], data["owner-password"], data["app-password"]]
    assert all(re.fullmatch(r"[A-Za-z0-9]{32}", p) for p in passwords)
    assert len(set(passwords)) == 3, "each role needs a password of its own"

    again = apply_role("roles", "-vvv")
    assert _secret_data("roles") == data
    assert again.recap()["changed"] == 0, again.output[-4000:]
    for run in (first, again):
        assert not [p for p in passwords if p in run.output]


def test_the_role_passwords_the_chart_generated_are_adopted(apply_role: Callable[..., Run]) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "roles-adopt-postgresql", "namespace": NAMESPACE},
        "type": "Opaque",
        "stringData": {KEY: "Superuser0", "owner-password": "Owner0", "app-password": "App0"},
    }
    assert _kubectl("apply", "-f", "-", stdin=json.dumps(manifest)).returncode == 0
    apply_role("roles-adopt")
    data = _secret_data("roles-adopt")
    assert (data[KEY], data["owner-password"], data["app-password"]) == ("Superuser0", "Owner0", "App0")


def test_the_password_the_chart_generated_is_adopted(apply_role: Callable[..., Run]) -> None:
    chart_password = "ChartGenerated" + "7" * 18
    _create_generated_secret("adopting-postgresql", chart_password)

    run = apply_role("adopting", "-vvv")
    data = _secret_data("adopting")
    # The chart's Secret here has no role passwords: those are generated (their own test above).
    assert {key: data[key] for key in ("JWT_SECRET", KEY)} == {"JWT_SECRET": JWT, KEY: chart_password}
    assert set(data) == {"JWT_SECRET", KEY, "owner-password", "app-password"}
    assert "database password: adopted from adopting-postgresql" in run.output
    assert chart_password not in run.output


def test_a_password_already_in_the_secret_wins(apply_role: Callable[..., Run]) -> None:
    apply_role("keeping")
    password = _secret_data("keeping")[KEY]
    _create_generated_secret("keeping-postgresql", "Different" + "1" * 23)

    run = apply_role("keeping")
    assert _secret_data("keeping")[KEY] == password
    assert "database password: kept" in run.output
    assert run.recap()["changed"] == 0


def test_an_external_database_gets_no_password_but_keeps_one(apply_role: Callable[..., Run]) -> None:
    external = {"secrets_database_url": "postgresql://user:db-password-marker@db.example.com/todo"}
    run = apply_role("external", **external)
    assert KEY not in _secret_data("external")
    assert "database password: none" in run.output

    # A password the embedded database was initialised with survives a switch to an external
    # database, so switching back finds it.
    apply_role("switching")
    password = _secret_data("switching")[KEY]
    apply_role("switching", **external)
    assert _secret_data("switching")[KEY] == password


def test_a_custom_password_key(apply_role: Callable[..., Run]) -> None:
    apply_role("custom-key", secrets_database_password_key="DB_PASSWORD")
    data = _secret_data("custom-key")
    assert set(data) == {"JWT_SECRET", "DB_PASSWORD", "owner-password", "app-password"}
    assert re.fullmatch(r"[A-Za-z0-9]{32}", data["DB_PASSWORD"])
