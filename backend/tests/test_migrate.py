from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.migrate import current_revisions, downgrade, head_revisions, upgrade

BACKEND_DIR = Path(__file__).resolve().parents[1]
INITIAL_TABLES = {"users", "tasks", "conversations", "messages"}
APP_TABLES = {*INITIAL_TABLES, "revoked_tokens"}


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_and_downgrade_between_base_and_head(
    backend: str, create_empty_database: Callable[[str], str]
) -> None:
    url = create_empty_database(backend)
    upgrade(url)
    assert tables(url) == APP_TABLES
    engine = create_engine(url)
    assert current_revisions(engine) == head_revisions() == {"0002"}

    downgrade(url, "base")
    assert tables(url) == set()
    assert current_revisions(engine) == set()

    upgrade(url)
    assert tables(url) == APP_TABLES
    engine.dispose()


def test_revoked_tokens_migration_downgrades_one_step_and_keeps_other_data(
    backend: str, create_empty_database: Callable[[str], str]
) -> None:
    url = create_empty_database(backend)
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (email, hashed_password, created_at) "
                "VALUES ('kept@example.com', 'x', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text("INSERT INTO revoked_tokens (jti, expires_at) VALUES ('abc', CURRENT_TIMESTAMP)")
        )

    downgrade(url, "0001")
    assert tables(url) == INITIAL_TABLES
    assert current_revisions(engine) == {"0001"}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT email FROM users")).scalars().all() == [
            "kept@example.com"
        ]

    upgrade(url)
    assert tables(url) == APP_TABLES
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM revoked_tokens")).scalar() == 0
    engine.dispose()


def test_migrations_at_head_match_the_models(
    backend: str, create_empty_database: Callable[[str], str]
) -> None:
    url = create_empty_database(backend)
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def run_migrate(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": "a-long-enough-secret-for-the-migration-job",
    }
    return subprocess.run(
        [sys.executable, "-m", "app.migrate"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_entry_point_upgrades_to_head(tmp_sqlite_url: str) -> None:
    result = run_migrate(tmp_sqlite_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database is at head" in result.stdout
    assert tables(tmp_sqlite_url) == APP_TABLES
    # Idempotent: a second run (a re-run Job) succeeds without changes.
    assert run_migrate(tmp_sqlite_url).returncode == 0


def test_migrate_entry_point_fails_when_database_is_unreachable(tmp_path: Path) -> None:
    result = run_migrate(f"sqlite:///{tmp_path / 'missing-dir' / 'todo.db'}")
    assert result.returncode == 1
    assert "migration failed" in result.stdout


def test_migrate_entry_point_waits_for_a_database_that_comes_up_late(tmp_path: Path) -> None:
    database_dir = tmp_path / "not-yet"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database_dir / 'todo.db'}",
        "JWT_SECRET": "a-long-enough-secret-for-the-migration-job",
        "MIGRATE_WAIT_SECONDS": "60",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "app.migrate"],
        cwd=BACKEND_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        # Create the database only once the job reports waiting: a fixed sleep raced with
        # the interpreter's start-up on a loaded machine.
        before: list[str] = []
        for line in process.stdout:
            before.append(line)
            if "waiting for the database" in line:
                break
        assert process.poll() is None, "the migration gave up instead of waiting"
        database_dir.mkdir()
        rest, _ = process.communicate(timeout=60)
    output = "".join(before) + rest
    assert process.returncode == 0, output
    assert "waiting for the database" in output and "database is at head" in output
