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
    env["TODO_VAULT_FILE"] = str(tmp_path / "vault.yml")
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


def encrypt_vault(path: Path, password: str) -> None:
    from ansible.parsing.vault import VaultLib, VaultSecret

    vaultlib = VaultLib([("todo", VaultSecret(password.encode()))])
    path.write_bytes(vaultlib.encrypt(b"vault_jwt_secret: x\n", vault_id="todo"))


def test_a_password_that_does_not_open_the_vault_is_refused_saying_where_it_came_from(
    tmp_path: Path,
) -> None:
    env = clean_env(tmp_path) | {"TODO_VAULT_PASSWORD": "wrong-marker"}
    encrypt_vault(Path(env["TODO_VAULT_FILE"]), "the-team-password")
    result = client("--vault-id", "todo", env=env)
    assert result.returncode == 1 and result.stdout == ""
    assert "from TODO_VAULT_PASSWORD does not open" in result.stderr
    assert "vault.yml" in result.stderr and "teammate" in result.stderr
    assert "wrong-marker" not in result.stderr

    secret = tmp_path / "vault-password"
    secret.write_text("wrong-in-file\n")
    secret.chmod(0o600)
    env.pop("TODO_VAULT_PASSWORD")
    result = client(env=env)
    assert result.returncode == 1 and f"in {secret} does not open" in result.stderr


def test_the_password_that_opens_the_vault_is_handed_over(tmp_path: Path) -> None:
    env = clean_env(tmp_path) | {"TODO_VAULT_PASSWORD": "the-team-password"}
    encrypt_vault(Path(env["TODO_VAULT_FILE"]), "the-team-password")
    result = client(env=env)
    assert result.returncode == 0 and result.stdout == "the-team-password\n", result.stderr
