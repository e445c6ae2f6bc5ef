"""Bad values fail rendering with a message that names the value to fix."""

from __future__ import annotations

import pytest
from chart_helpers import JWT, template_error, template_text


def test_missing_jwt_secret_names_both_ways_to_provide_it(helm: str) -> None:
    stderr = template_error()
    assert "secrets.jwtSecret is required" in stderr
    assert "existingSecret" in stderr


def test_short_jwt_secret_is_rejected(helm: str) -> None:
    stderr = template_error("--set", "secrets.jwtSecret=short")
    assert "secrets.jwtSecret is 5 characters long: use at least 32" in stderr


def test_secret_values_conflict_with_existing_secret(helm: str) -> None:
    stderr = template_error("--set", "existingSecret=todo-env", "--set", JWT)
    assert 'secrets.jwtSecret is set but existingSecret "todo-env" is used instead' in stderr


def test_no_database_at_all_is_rejected(helm: str) -> None:
    stderr = template_error("--set", JWT, "--set", "postgresql.enabled=false")
    assert "no database: set secrets.databaseUrl" in stderr


def test_existing_secret_alone_is_enough(helm: str) -> None:
    template_text("--set", "existingSecret=todo-env", "--set", "postgresql.enabled=false")


@pytest.mark.parametrize("component", ["backend", "frontend", "postgresql"])
def test_pull_policy_typo_lists_the_allowed_values(helm: str, component: str) -> None:
    stderr = template_error("--set", JWT, "--set", f"{component}.image.pullPolicy=IfNotPresnt")
    assert f"/{component}/image/pullPolicy" in stderr
    for allowed in ("Always", "IfNotPresent", "Never"):
        assert allowed in stderr


@pytest.mark.parametrize("component", ["backend", "frontend"])
def test_negative_replicas_are_rejected(helm: str, component: str) -> None:
    stderr = template_error("--set", JWT, "--set", f"{component}.replicaCount=-1")
    assert f"/{component}/replicaCount" in stderr
    assert "minimum" in stderr


def test_unknown_top_level_key_is_rejected(helm: str) -> None:
    stderr = template_error("--set", JWT, "--set", "secret.jwtSecret=" + "x" * 32)
    assert "additional properties 'secret' not allowed" in stderr


def test_unknown_nested_key_is_rejected(helm: str) -> None:
    stderr = template_error("--set", JWT, "--set", "backend.replicas=2")
    assert "additional properties 'replicas' not allowed" in stderr


@pytest.mark.parametrize("node_port", [29999, 32768])
def test_node_port_outside_the_node_port_range_is_rejected(helm: str, node_port: int) -> None:
    stderr = template_error("--set", JWT, "--set", f"frontend.service.nodePort={node_port}")
    assert "/frontend/service/nodePort" in stderr
    assert ("minimum: got 29,999, want 30,000" in stderr) or ("maximum: got 32,768, want 32,767" in stderr)


def test_unknown_service_type_is_rejected(helm: str) -> None:
    stderr = template_error("--set", JWT, "--set", "frontend.service.type=ExternalName")
    assert "/frontend/service/type" in stderr


@pytest.mark.parametrize("component", ["backend", "frontend"])
def test_latest_tag_is_rejected(helm: str, component: str) -> None:
    stderr = template_error("--set", JWT, "--set", f"{component}.image.tag=latest")
    assert f'{component}.image.tag must not be "latest"' in stderr


def test_autoscaling_bounds_must_be_ordered(helm: str) -> None:
    stderr = template_error(
        "--set",
        JWT,
        "--set",
        "backend.autoscaling.enabled=true",
        "--set",
        "backend.autoscaling.minReplicas=4",
        "--set",
        "backend.autoscaling.maxReplicas=3",
    )
    assert "backend.autoscaling.minReplicas (4) is greater than" in stderr


def test_all_problems_are_reported_together(helm: str) -> None:
    stderr = template_error("--set", "postgresql.enabled=false", "--set", "frontend.image.tag=latest")
    assert "secrets.jwtSecret is required" in stderr
    assert "no database" in stderr
    assert 'frontend.image.tag must not be "latest"' in stderr


def test_malformed_database_url_is_rejected_without_echoing_it(helm: str) -> None:
    stderr = template_error("--set", JWT, "--set", "secrets.databaseUrl=mysql://u:hunter2secret@h/db")
    assert "secrets.databaseUrl must be a PostgreSQL URL" in stderr
    assert "hunter2secret" not in stderr


def test_driver_qualified_database_url_is_accepted(helm: str) -> None:
    template_text("--set", JWT, "--set", "secrets.databaseUrl=postgresql+psycopg://u:p@h:5432/db")


@pytest.mark.parametrize(
    "no_embedded_db",
    ["postgresql.enabled=false", "secrets.databaseUrl=postgresql://u:p@h:5432/db"],
)
def test_database_secret_without_the_embedded_database_is_rejected(helm: str, no_embedded_db: str) -> None:
    stderr = template_error(
        "--set", JWT, "--set", no_embedded_db, "--set", "postgresql.auth.existingSecret=todo-db"
    )
    assert 'postgresql.auth.existingSecret "todo-db" is set but the embedded PostgreSQL is off' in stderr


def test_database_secret_key_typo_is_rejected(helm: str) -> None:
    stderr = template_error("--set", JWT, "--set", "postgresql.auth.secretKeys.passwordKey=pw")
    assert "additional properties 'passwordKey' not allowed" in stderr


@pytest.mark.parametrize(
    "value", ["postgresql.auth.secretKeys.adminPasswordKey=", "postgresql.auth.existingSecret=Not_A_Name"]
)
def test_malformed_database_secret_references_are_rejected(helm: str, value: str) -> None:
    stderr = template_error("--set", JWT, "--set", value)
    assert "/postgresql/auth/" in stderr
