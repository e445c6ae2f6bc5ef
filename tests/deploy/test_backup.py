"""The embedded database on the real cluster: the backend's session is a least-privilege role,
and make backup -> a user deletes a task -> make restore brings the task back."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from .conftest import BASE_URL, CACHE_BIN, NAMESPACE, AppUser, Run, ansible_env, extra_vars, run_playbook

pytestmark = pytest.mark.cluster

PROBE = """
import json
from sqlalchemy import create_engine, text
from app.core.config import Settings
engine = create_engine(Settings().sqlalchemy_database_uri)
out = {}
with engine.connect() as connection:
    out["user"], out["superuser"] = connection.execute(
        text("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")).one()
    for name, statement in {"create_role": "CREATE ROLE deploy_test_intruder",
                            "drop_schema": "DROP SCHEMA public CASCADE",
                            "create_table": "CREATE TABLE deploy_test_intruder (id int)",
                            "drop_table": "DROP TABLE tasks"}.items():
        try:
            with connection.begin_nested():
                connection.execute(text(statement))
            out[name] = "allowed"
        except Exception as error:
            out[name] = type(getattr(error, "orig", error)).__name__
print(json.dumps(out))
"""


def _kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CACHE_BIN / "kubectl"), f"--namespace={NAMESPACE}", *args],
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=False,
        timeout=120,
    )


def test_the_backends_database_session_is_no_superuser_and_cannot_change_the_schema(deployed: Run) -> None:
    probe = _kubectl("exec", "deploy/todo-app-backend", "-c", "backend", "--", "python", "-c", PROBE)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["user"] == "todo_app"
    assert found["superuser"] is False
    for name in ("create_role", "drop_schema", "create_table", "drop_table"):
        assert found[name] == "InsufficientPrivilege", (name, found)


def test_a_backup_restored_brings_back_a_deleted_task(deployed: Run, tmp_path: Path) -> None:
    user = AppUser.register()
    task_id = user.create_task("kept by make backup")

    backup = run_playbook("playbooks/backup.yml", *extra_vars({"backup_dir": str(tmp_path)}), timeout=600)
    assert backup.returncode == 0, backup.output[-4000:]
    written = re.search(r"Wrote (\S+\.dump) \(\d+ bytes\)", backup.output)
    assert written, backup.output[-3000:]
    path = Path(written.group(1))
    assert path.parent == tmp_path and path.read_bytes()[:5] == b"PGDMP"
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    user._call("DELETE", f"/api/tasks/{task_id}")
    assert task_id not in user.task_ids()

    restored = run_playbook("playbooks/restore.yml", *extra_vars({"backup_file": str(path)}), timeout=900)
    assert restored.returncode == 0, restored.output[-4000:]
    assert task_id in user.task_ids(), "the restore did not bring the deleted task back"
    assert urllib.request.urlopen(BASE_URL + "/api/health", timeout=5).status == 200  # noqa: S310


@pytest.mark.parametrize(
    "content",
    [None, b"", b"not a dump at all", b"PGDMP" + b"\x00" * 64],
    ids=["missing", "empty", "garbled", "damaged"],
)
def test_restore_refuses_a_bad_file_before_changing_anything(
    deployed: Run, tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "backup.dump"
    if content is not None:
        path.write_bytes(content)
    pods_before = _kubectl("get", "pods", "-l", "app.kubernetes.io/component=backend", "-o", "name").stdout
    run = run_playbook("playbooks/restore.yml", *extra_vars({"backup_file": str(path)}), timeout=300)
    assert run.returncode != 0
    assert "Nothing was changed." in run.output
    assert (
        _kubectl("get", "pods", "-l", "app.kubernetes.io/component=backend", "-o", "name").stdout
        == pods_before
    )
