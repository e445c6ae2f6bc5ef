"""The release values rendered on the controller: images, existingSecret (the database password's
too), checksum, no secrets."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import CACHE_BIN, REPO, Run, extra_vars

JWT = "jwt-secret-marker-" + "x" * 32
DB_URL = "postgresql://user:db-password-marker@db.example.com/todo"
OPENAI = "sk-openai-marker"


def _render(
    playbook: Callable[..., Run], write_play: Callable[..., Path], variables: dict[str, Any]
) -> dict[str, Any]:
    play = write_play(
        [
            {
                "name": "Render the release values",
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {"ansible.builtin.include_role": {"name": "release", "tasks_from": "values.yml"}},
                    {"ansible.builtin.debug": {"msg": "VALUES={{ __release_values | to_json }}"}},
                ],
            }
        ]
    )
    run = playbook(play, *extra_vars(variables), timeout=120)
    assert run.returncode == 0, run.output[-3000:]
    line = next(line for line in run.output.splitlines() if "VALUES=" in line)
    payload = line.split("VALUES=", 1)[1].rstrip('"').encode().decode("unicode_escape")
    values: dict[str, Any] = json.loads(payload)
    return values


BASE_VARS: dict[str, Any] = {
    "images_backend_ref": "todo-app/backend:0123456789ab",
    "images_frontend_ref": "todo-app/frontend:ba9876543210",
    "images_postgres_ref": "todo-app/postgres:15-aaaabbbbcccc",
    "secrets_jwt_secret": JWT,
    "secrets_checksum": "c" * 64,
}


def test_images_are_split_into_repository_and_tag(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    values = _render(playbook, write_play, BASE_VARS)
    assert values["backend"]["image"] == {
        "repository": "todo-app/backend",
        "tag": "0123456789ab",
        "pullPolicy": "IfNotPresent",
    }
    assert values["frontend"]["image"]["tag"] == "ba9876543210"
    assert values["postgresql"]["image"] == {
        "repository": "todo-app/postgres",
        "tag": "15-aaaabbbbcccc",
        "pullPolicy": "IfNotPresent",
    }


def test_loaded_images_and_a_registry_with_a_port_keep_their_host(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    values = _render(
        playbook,
        write_play,
        {
            **BASE_VARS,
            "image_load_backend_image": "registry.local:5000/todo-app/backend:0123456789ab",
            "image_load_pull_policy": "Never",
        },
    )
    assert values["backend"]["image"] == {
        "repository": "registry.local:5000/todo-app/backend",
        "tag": "0123456789ab",
        "pullPolicy": "Never",
    }


def test_the_values_name_the_existing_secret_and_carry_no_secret(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    values = _render(
        playbook,
        write_play,
        {**BASE_VARS, "secrets_database_url": DB_URL, "secrets_openai_api_key": OPENAI},
    )
    assert values["existingSecret"] == "todo-app-secrets"
    text = json.dumps(values)
    for secret in (JWT, "db-password-marker", OPENAI):
        assert secret not in text
    assert "secrets" not in values


def test_the_secret_checksum_rolls_the_backend_pods(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    values = _render(playbook, write_play, BASE_VARS)
    assert values["backend"]["podAnnotations"] == {"checksum/existing-secret": "c" * 64}
    without = _render(playbook, write_play, {**BASE_VARS, "secrets_checksum": ""})
    assert "podAnnotations" not in without["backend"]


def test_an_external_database_turns_the_embedded_one_off(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    assert _render(playbook, write_play, BASE_VARS)["postgresql"]["enabled"] is True
    external = _render(playbook, write_play, {**BASE_VARS, "secrets_database_url": DB_URL})
    assert external["postgresql"]["enabled"] is False


def test_the_embedded_database_reads_its_password_from_the_existing_secret(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    values = _render(playbook, write_play, BASE_VARS)
    assert values["postgresql"]["auth"] == {
        "existingSecret": "todo-app-secrets",
        "secretKeys": {
            "adminPasswordKey": "postgres-password",
            "ownerPasswordKey": "owner-password",
            "appPasswordKey": "app-password",
        },
    }
    renamed = _render(
        playbook,
        write_play,
        {**BASE_VARS, "secrets_name": "other-secrets", "secrets_database_password_key": "DB_PASSWORD"},
    )
    assert renamed["existingSecret"] == "other-secrets"
    assert renamed["postgresql"]["auth"] == {
        "existingSecret": "other-secrets",
        "secretKeys": {
            "adminPasswordKey": "DB_PASSWORD",
            "ownerPasswordKey": "owner-password",
            "appPasswordKey": "app-password",
        },
    }


def test_an_external_database_names_no_database_secret(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    """The chart rejects postgresql.auth.existingSecret without its embedded database."""
    external = _render(playbook, write_play, {**BASE_VARS, "secrets_database_url": DB_URL})
    assert "auth" not in external["postgresql"]


def test_an_external_database_tells_the_chart_where_it_is_and_nothing_secret(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    """Its host and port (default 5432) become the backend's only database egress."""
    assert "networkPolicy" not in _render(playbook, write_play, BASE_VARS)
    external = _render(playbook, write_play, {**BASE_VARS, "secrets_database_url": DB_URL})
    assert external["networkPolicy"] == {"externalDatabase": {"host": "db.example.com", "port": 5432}}
    pooled = _render(
        playbook,
        write_play,
        {**BASE_VARS, "secrets_database_url": "postgresql://u:db-password-marker@Pool.Example.com:6543/todo"},
    )
    assert pooled["networkPolicy"]["externalDatabase"] == {"host": "pool.example.com", "port": 6543}
    assert "db-password-marker" not in json.dumps([external, pooled])


def test_release_values_are_merged_over_the_rendered_ones(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    values = _render(
        playbook,
        write_play,
        {**BASE_VARS, "release_values": {"backend": {"replicaCount": 2, "image": {"pullPolicy": "Always"}}}},
    )
    assert values["backend"]["replicaCount"] == 2
    assert values["backend"]["image"]["pullPolicy"] == "Always"
    assert values["backend"]["image"]["tag"] == "0123456789ab"


def _helm_template(values: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    return subprocess.run(
        [
            str(CACHE_BIN / "helm"),
            "template",
            "todo-app",
            str(REPO / "helm/todo-app"),
            "-f",
            str(values_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(not (CACHE_BIN / "helm").exists(), reason="helm is not installed")
def test_the_chart_accepts_the_rendered_values(
    playbook: Callable[..., Run], write_play: Callable[..., Path], tmp_path: Path
) -> None:
    values = _render(playbook, write_play, BASE_VARS)
    rendered = _helm_template(values, tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert 'image: "todo-app/backend:0123456789ab"' in rendered.stdout
    assert "checksum/existing-secret" in rendered.stdout
    assert JWT not in rendered.stdout


@pytest.mark.skipif(not (CACHE_BIN / "helm").exists(), reason="helm is not installed")
@pytest.mark.parametrize("database", ["embedded", "external"])
def test_the_rendered_release_holds_no_secret_and_no_generated_password(
    playbook: Callable[..., Run], write_play: Callable[..., Path], tmp_path: Path, database: str
) -> None:
    """What Helm stores as the release's manifest: not one Secret, so no value of one."""
    variables = {**BASE_VARS, "secrets_openai_api_key": OPENAI}
    if database == "external":
        variables["secrets_database_url"] = DB_URL
    rendered = _helm_template(_render(playbook, write_play, variables), tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    docs = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    assert [doc["metadata"]["name"] for doc in docs if doc["kind"] == "Secret"] == []
    for secret in (JWT, "db-password-marker", OPENAI):
        assert secret not in rendered.stdout
    if database == "embedded":
        references = [
            item["valueFrom"]["secretKeyRef"]
            for doc in docs
            if doc["kind"] in {"Deployment", "StatefulSet"}
            for c in doc["spec"]["template"]["spec"]["containers"]
            for item in c.get("env", [])
            if "secretKeyRef" in item.get("valueFrom", {}) and "PASSWORD" in item["name"]
        ]
        # The database and its roles container read the superuser's; the roles container and
        # the backend the app role's; the roles container the owner's (so does the migration).
        assert sorted(ref["key"] for ref in references) == [
            "app-password",
            "app-password",
            "owner-password",
            "postgres-password",
            "postgres-password",
        ]
        assert {ref["name"] for ref in references} == {"todo-app-secrets"}
