"""Preflight refuses bad input with a message that says what to do, and never shows a secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import CACHE_BIN, Run, extra_vars

GOOD_JWT = "g" * 40


def _run_step(
    playbook: Callable[..., Run],
    write_play: Callable[..., Path],
    role: str,
    tasks_from: str,
    variables: dict[str, Any],
) -> Run:
    play = write_play(
        [
            {
                "name": "Run one preflight step",
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [{"ansible.builtin.include_role": {"name": role, "tasks_from": tasks_from}}],
            }
        ]
    )
    return playbook(play, *extra_vars(variables), "-vvv", timeout=120)


@pytest.mark.parametrize(
    ("jwt", "expected"),
    [
        ("short-secret", "is 12 characters long"),
        ("", "is missing"),
        ("at least 32 characters, generated", "is a placeholder"),
    ],
)
def test_an_unsound_jwt_secret_is_refused_naming_the_vault_key(
    playbook: Callable[..., Run], write_play: Callable[..., Path], jwt: str, expected: str
) -> None:
    run = _run_step(playbook, write_play, "preflight", "secrets.yml", {"preflight_jwt_secret": jwt})
    assert run.returncode != 0
    assert expected in run.output
    assert "vault_jwt_secret" in run.output
    assert "make vault-edit" in run.output
    if jwt:
        assert f'"{jwt}"' not in run.output and f"'{jwt}'" not in run.output


def test_a_database_url_that_is_not_postgresql_is_refused_without_showing_it(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    url = "mysql://root:hunter2-marker@db/todo"
    run = _run_step(
        playbook,
        write_play,
        "preflight",
        "secrets.yml",
        {"preflight_jwt_secret": GOOD_JWT, "preflight_database_url": url},
    )
    assert run.returncode != 0
    assert "vault_database_url" in run.output
    assert "hunter2-marker" not in run.output


def test_sound_secrets_pass_and_their_values_stay_hidden_at_vvv(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    url = "postgresql://todo:pw-marker-123@db.example.com:5432/todo?sslmode=require"
    run = _run_step(
        playbook,
        write_play,
        "preflight",
        "secrets.yml",
        {"preflight_jwt_secret": GOOD_JWT, "preflight_database_url": url},
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "JWT secret present, 40 characters" in run.output
    assert "pw-marker-123" not in run.output
    assert GOOD_JWT not in run.output


@pytest.mark.skipif(not (CACHE_BIN / "helm").exists(), reason="helm is not installed")
def test_a_value_the_chart_schema_rejects_stops_the_run_with_the_schema_message(
    playbook: Callable[..., Run], write_play: Callable[..., Path]
) -> None:
    run = _run_step(
        playbook,
        write_play,
        "release",
        "validate.yml",
        {"release_values": {"frontend": {"service": {"type": "Bogus"}}}},
    )
    assert run.returncode != 0
    assert "rejects the values the release would use" in run.output
    assert "/frontend/service/type" in run.output
