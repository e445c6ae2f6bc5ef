from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import app.models
import app.schema_compat  # noqa: F401  (registers schema_compat)
from app.main import create_app
from app.migrate import (
    ALEMBIC_DIR,
    MIGRATION_LOCK_KEY,
    alembic_config,
    current_revisions,
    downgrade,
    head_revisions,
    upgrade,
)
from tests.conftest import make_settings

BACKEND_DIR = Path(__file__).resolve().parents[1]
INITIAL_TABLES = {"users", "tasks", "conversations", "messages"}
APP_TABLES = {*INITIAL_TABLES, "revoked_tokens", "schema_compat"}


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
    assert current_revisions(engine) == head_revisions() == {"0003"}

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


def migrate_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment the migration Job gets: the database and a valid JWT secret."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": "a-long-enough-secret-for-the-migration-job",
        **extra,
    }


def run_migrate(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.migrate"],
        cwd=BACKEND_DIR,
        env=migrate_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_migrate(database_url: str, **extra: str) -> subprocess.Popen[str]:
    """`python -m app.migrate` started, its output (stderr too) read line by line."""
    return subprocess.Popen(
        [sys.executable, "-m", "app.migrate"],
        cwd=BACKEND_DIR,
        env=migrate_env(database_url, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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
    with start_migrate(
        f"sqlite:///{database_dir / 'todo.db'}", MIGRATE_WAIT_SECONDS="60"
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


# --- Expand/contract: readiness of code older than the database ------------------------

[CODE_HEAD] = head_revisions()


def config_with_newer_revision(url: str, directory: Path, compatible_with: str | None) -> Config:
    """Alembic config that also sees revision 9001 (after this code's head), which adds a
    nullable column: the newer release this code has never seen."""
    directory.mkdir()
    (directory / "9001_newer_release.py").write_text(
        textwrap.dedent(
            f"""
            import sqlalchemy as sa
            from alembic import op

            revision = "9001"
            down_revision = {CODE_HEAD!r}
            branch_labels = None
            depends_on = None
            compatible_with = {compatible_with!r}


            def upgrade():
                op.add_column("tasks", sa.Column("estimate", sa.Integer(), nullable=True))


            def downgrade():
                with op.batch_alter_table("tasks") as batch:
                    batch.drop_column("estimate")
            """
        )
    )
    config = alembic_config(url)
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join([str(ALEMBIC_DIR / "versions"), str(directory)])
    )
    return config


def test_code_stays_ready_on_a_newer_revision_that_serves_it(
    backend: str, create_empty_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = create_empty_database(backend)
    config = config_with_newer_revision(url, tmp_path / "versions", compatible_with=CODE_HEAD)
    upgrade(url, config=config)
    with TestClient(create_app(make_settings(url))) as client:
        ready = client.get("/readyz")
        # Still serving on the expanded schema.
        register = client.post(
            "/api/auth/register", json={"email": "old@example.com", "password": "p" * 10}
        )
        # Rolled back to this revision, the database serves this code at its own head.
        downgrade(url, CODE_HEAD, config=config)
        after_downgrade = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ok", "revision": ["9001"], "serves": [CODE_HEAD]},
    )
    assert register.status_code == 201
    assert after_downgrade.json() == {"status": "ok", "revision": [CODE_HEAD]}


def test_code_is_not_ready_on_a_newer_revision_that_does_not_serve_it(
    backend: str, create_empty_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = create_empty_database(backend)
    upgrade(url, config=config_with_newer_revision(url, tmp_path / "versions", None))
    with TestClient(create_app(make_settings(url))) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "reason": (
            f"database schema is at revision 9001, newer than this code's {CODE_HEAD}, and "
            f"does not declare that it still serves {CODE_HEAD}; deploy the code for 9001, "
            f"or downgrade the database to {CODE_HEAD} with that newer code"
        ),
        "current": ["9001"],
        "head": [CODE_HEAD],
    }


def test_a_rolled_back_release_leaves_a_newer_schema_that_serves_it(
    backend: str, create_empty_database: Callable[[str], str], tmp_path: Path
) -> None:
    """After an upgrade that added revision 9001 (an expand step), the previous release's
    migration (its init container runs `python -m app.migrate`) finds the database ahead of
    its head: it must start and leave the schema and its data as they are."""
    url = create_empty_database(backend)
    upgrade(url, config=config_with_newer_revision(url, tmp_path / "versions", CODE_HEAD))
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (email, hashed_password, created_at) "
                    "VALUES ('kept@example.com', 'x', CURRENT_TIMESTAMP)"
                )
            )
        result = run_migrate(url)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "still serves this code; nothing to migrate" in result.stdout
        assert current_revisions(engine) == {"9001"}
        assert "estimate" in {c["name"] for c in inspect(engine).get_columns("tasks")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT email FROM users")).scalars().all() == [
                "kept@example.com"
            ]
    finally:
        engine.dispose()
    # And it serves: readiness answers 200 through the newer revision.
    with TestClient(create_app(make_settings(url))) as client:
        assert client.get("/readyz").json()["serves"] == [CODE_HEAD]


def test_a_release_older_than_a_schema_that_does_not_serve_it_refuses_to_start(
    backend: str, create_empty_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = create_empty_database(backend)
    upgrade(url, config=config_with_newer_revision(url, tmp_path / "versions", None))
    result = run_migrate(url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "migration refused" in result.stdout
    assert (
        f"database schema is at revision 9001, newer than this code's {CODE_HEAD}, and does "
        f"not declare that it still serves {CODE_HEAD}"
    ) in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    engine = create_engine(url)
    try:
        assert current_revisions(engine) == {"9001"}
    finally:
        engine.dispose()


def test_a_compatible_with_that_is_no_ancestor_fails_the_migration(
    tmp_sqlite_url: str, tmp_path: Path
) -> None:
    config = config_with_newer_revision(tmp_sqlite_url, tmp_path / "versions", "nonexistent")
    with pytest.raises(ValueError, match="revision 9001 declares compatible_with = 'nonexistent'"):
        upgrade(tmp_sqlite_url, config=config)


# --- Concurrent migration runs (two replicas on a first install) ---------------------------


def test_a_migration_run_waits_for_the_advisory_lock(
    create_empty_database: Callable[[str], str],
) -> None:
    url = create_empty_database("postgres")
    holder = create_engine(url, isolation_level="AUTOCOMMIT")
    with holder.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        with start_migrate(url) as process:
            assert process.stdout is not None
            before = []
            for line in process.stdout:
                before.append(line)
                if "waiting for another migration run to finish" in line:
                    break
            still_waiting = process.poll() is None
            migrated_meanwhile = tables(url)
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            rest, _ = process.communicate(timeout=60)
    holder.dispose()
    assert still_waiting, "".join(before)
    assert migrated_meanwhile == set()
    assert process.returncode == 0, "".join(before) + rest
    assert tables(url) == APP_TABLES


def test_concurrent_first_installs_both_succeed(
    create_empty_database: Callable[[str], str],
) -> None:
    """Two replicas' first migrations at once: both queue on the lock (held here until both
    wait, so they overlap however the machine schedules them), then both succeed."""
    url = create_empty_database("postgres")
    holder = create_engine(url, isolation_level="AUTOCOMMIT")
    with holder.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        runs = [start_migrate(url) for _ in range(2)]
        before: list[list[str]] = []
        for run in runs:
            assert run.stdout is not None
            lines = []
            for line in run.stdout:
                lines.append(line)
                if "waiting for another migration run to finish" in line:
                    break
            before.append(lines)
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        outputs = [
            "".join(lines) + run.communicate(timeout=120)[0]
            for lines, run in zip(before, runs, strict=True)
        ]
    holder.dispose()
    assert [run.returncode for run in runs] == [0, 0], "\n".join(outputs)
    assert all("waiting for another migration run" in output for output in outputs)
    assert tables(url) == APP_TABLES
    engine = create_engine(url)
    assert current_revisions(engine) == head_revisions()
    engine.dispose()
