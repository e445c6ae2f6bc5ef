"""The embedded database's roles: the migration connects as the schema's owner, the server as
an app role with rows only, and the database pod's `roles` container ensures both as the
superuser on every start."""

from __future__ import annotations

import base64
import subprocess
from typing import Any

import pytest
from chart_helpers import CHART_DIR, JWT_SECRET, Manifest, render

JWT = f"secrets.jwtSecret={JWT_SECRET}"
BACKEND, DB, ROLES = "todo-app-backend", "todo-app-postgresql", "todo-app-postgresql-roles"


def one(docs: list[Manifest], kind: str, name: str) -> Manifest:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container["env"]}


def roles_container(docs: list[Manifest]) -> dict[str, Any]:
    spec = one(docs, "StatefulSet", DB)["spec"]["template"]["spec"]
    (roles,) = [c for c in spec["containers"] if c["name"] == "roles"]
    found: dict[str, Any] = roles
    return found


@pytest.fixture(scope="module")
def docs() -> list[Manifest]:
    return render("--set", JWT)


def test_server_and_migration_connect_as_different_roles_none_the_superuser(docs: list[Manifest]) -> None:
    pod = one(docs, "Deployment", BACKEND)["spec"]["template"]["spec"]
    server, migrate = env_of(pod["containers"][0]), env_of(pod["initContainers"][0])
    assert server["DATABASE_URL"]["value"].startswith("postgresql://todo_app:$(DATABASE_PASSWORD)@")
    assert migrate["DATABASE_URL"]["value"].startswith("postgresql://todo_owner:$(DATABASE_PASSWORD)@")
    assert server["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": DB, "key": "app-password"}
    assert migrate["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": DB, "key": "owner-password"}
    for env in (server, migrate):
        assert "POSTGRES_PASSWORD" not in env, "the backend must not see the superuser's password"


def test_generated_secret_holds_three_different_passwords(docs: list[Manifest]) -> None:
    data = {k: base64.b64decode(v).decode() for k, v in one(docs, "Secret", DB)["data"].items()}
    assert set(data) == {"postgres-password", "owner-password", "app-password"}
    assert len(set(data.values())) == 3
    assert all(len(v) == 32 and v.isalnum() for v in data.values())


def test_roles_container_ensures_the_roles_as_the_superuser(docs: list[Manifest]) -> None:
    roles = roles_container(docs)
    env = env_of(roles)
    assert env["POSTGRES_USER"]["value"] == "todo"
    assert env["DATABASE_OWNER_USER"]["value"] == "todo_owner"
    assert env["DATABASE_APP_USER"]["value"] == "todo_app"
    refs = {
        name: env[name]["valueFrom"]["secretKeyRef"]
        for name in ("PGPASSWORD", "DATABASE_OWNER_PASSWORD", "DATABASE_APP_PASSWORD")
    }
    assert refs == {
        "PGPASSWORD": {"name": DB, "key": "postgres-password"},
        "DATABASE_OWNER_PASSWORD": {"name": DB, "key": "owner-password"},
        "DATABASE_APP_PASSWORD": {"name": DB, "key": "app-password"},
    }
    assert "bash /scripts/ensure-roles.sh" in roles["command"][-1]
    assert roles["readinessProbe"]["exec"]["command"] == ["test", "-f", "/tmp/roles-ready"]
    script = one(docs, "ConfigMap", ROLES)["data"]
    assert script["ensure-roles.sql"] == (CHART_DIR / "files/ensure-roles.sql").read_text()
    assert script["ensure-roles.sh"] == (CHART_DIR / "files/ensure-roles.sh").read_text()


def test_the_app_role_gets_rows_only_and_no_role_is_a_superuser(docs: list[Manifest]) -> None:
    sql = one(docs, "ConfigMap", ROLES)["data"]["ensure-roles.sql"]
    assert sql.count("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS") == 2
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', :'app'" in sql
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', :'owner', :'app'" in sql
    assert "ALTER SCHEMA public OWNER TO %I', :'owner'" in sql
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC" in sql
    assert "GRANT ALL" not in sql.upper()
    # A failing statement would otherwise copy the ALTER ROLE ... PASSWORD into the server log.
    assert "SET log_min_error_statement TO panic" in sql


def test_a_changed_role_restarts_the_database_pod_so_the_roles_are_ensured(docs: list[Manifest]) -> None:
    def checksum(rendered: list[Manifest]) -> str:
        value: str = one(rendered, "StatefulSet", DB)["spec"]["template"]["metadata"]["annotations"][
            "checksum/roles"
        ]
        return value

    assert checksum(render("--set", JWT)) == checksum(docs), "re-renders must be stable"
    assert checksum(render("--set", JWT, "--set", "postgresql.auth.appUsername=todo_web")) != checksum(docs)


def test_existing_database_secret_names_every_key_and_renders_no_password() -> None:
    rendered = render(
        "--set",
        JWT,
        "--set",
        "postgresql.auth.existingSecret=todo-db",
        "--set",
        "postgresql.auth.secretKeys.ownerPasswordKey=OWNER",
        "--set",
        "postgresql.auth.secretKeys.appPasswordKey=APP",
    )
    refs = {
        item["name"]: item["valueFrom"]["secretKeyRef"]
        for item in roles_container(rendered)["env"]
        if "valueFrom" in item
    }
    assert refs["DATABASE_OWNER_PASSWORD"] == {"name": "todo-db", "key": "OWNER"}
    assert refs["DATABASE_APP_PASSWORD"] == {"name": "todo-db", "key": "APP"}
    assert not [d for d in rendered if d["kind"] == "Secret" and d["metadata"]["name"] == DB]


@pytest.mark.parametrize(
    "args",
    [
        ("--set", "secrets.databaseUrl=postgresql://u:pw@db.example.com:5432/todo"),
        ("--set", "existingSecret=todo-env", "--set", "postgresql.enabled=false"),
    ],
    ids=["url", "existing-secret"],
)
def test_an_external_database_is_unaffected(args: tuple[str, ...]) -> None:
    rendered = render("--set", JWT, *args) if "existingSecret=todo-env" not in args else render(*args)
    assert not [
        d
        for d in rendered
        if d["kind"] in ("StatefulSet", "ConfigMap") and d["metadata"]["name"] in (DB, ROLES)
    ]
    pod = one(rendered, "Deployment", BACKEND)["spec"]["template"]["spec"]
    for container in (pod["containers"][0], pod["initContainers"][0]):
        env = env_of(container)
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"
        assert "DATABASE_PASSWORD" not in env


def test_the_three_roles_must_differ(helm: str) -> None:
    proc = subprocess.run(
        [
            helm,
            "template",
            "todo-app",
            str(CHART_DIR),
            "--set",
            JWT,
            "--set",
            "postgresql.auth.appUsername=todo_owner",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "must be three different roles" in proc.stderr
