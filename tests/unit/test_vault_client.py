"""The vault password client: where the password comes from, and what it refuses."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "inventory" / "local" / "vault-client.py"


def client(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CLIENT), *args], env=env, capture_output=True, text=True, check=False
    )


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_VAULT")}
    env["TODO_VAULT_PASSWORD_FILE"] = str(tmp_path / "vault-password")
    return env


def test_environment_variable_wins(tmp_path: Path) -> None:
    env = clean_env(tmp_path) | {"TODO_VAULT_PASSWORD": "from-env"}
    (tmp_path / "vault-password").write_text("from-file\n")
    result = client("--vault-id", "todo", env=env)
    assert result.returncode == 0 and result.stdout == "from-env\n"


def test_missing_password_says_how_to_get_one(tmp_path: Path) -> None:
    result = client("--vault-id", "todo", env=clean_env(tmp_path))
    assert result.returncode == 1 and result.stdout == ""
    assert "TODO_VAULT_PASSWORD" in result.stderr and "make vault-init" in result.stderr


def test_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "vault-password"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    result = client(env=clean_env(tmp_path))
    assert result.returncode == 1 and "chmod 600" in result.stderr and "s3cret" not in result.stderr
    secret.chmod(0o600)
    assert client(env=clean_env(tmp_path)).stdout == "s3cret\n"


def test_init_creates_a_private_password_once(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    first = client("--init", env=env)
    secret = tmp_path / "vault-password"
    assert first.returncode == 0 and "created a new vault password" in first.stdout
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    password = secret.read_text()
    assert len(password.strip()) >= 32
    second = client("--init", env=env)
    assert second.returncode == 0 and "is kept in" in second.stdout
    assert secret.read_text() == password, "--init must never replace an existing password"
