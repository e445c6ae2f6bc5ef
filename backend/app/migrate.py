"""Database migrations: `python -m app.migrate` upgrades to head (a Kubernetes Job runs this).

Exits 0 on success and 1 on failure, logging why. On PostgreSQL every run holds an
advisory lock, so replicas that migrate at once take turns instead of racing.

Expand/contract: a revision file may declare `compatible_with = "<older revision>"`, the
oldest code head its schema still serves. Each migration run writes the served heads into
the `schema_compat` table, so code that has never seen the newer revision can tell from
the database alone whether it may serve (see app/schema_compat.py). The same table lets a
rolled-back release start: its upgrade to head finds the database at a newer revision that
still serves this code and leaves it there, instead of failing on a revision it cannot
locate.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.db import build_engine
from app.core.logging import configure_logging
from app.schema_compat import schema_readiness

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"

logger = logging.getLogger("app.migrate")

# pg_advisory_lock key shared by every migration run of this app: "todomigr" in ASCII.
MIGRATION_LOCK_KEY = 0x746F646F6D696772


def alembic_config(database_url: str) -> Config:
    """An Alembic config independent of the working directory and of alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    # Passed as an attribute, not an ini option, so '%' in passwords needs no escaping.
    config.attributes["database_url"] = database_url
    return config


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """Hold the PostgreSQL advisory lock MIGRATION_LOCK_KEY (no-op on SQLite).

    A session lock on a connection of its own: it ends with that connection, so a killed
    run never leaves it behind. Needs a direct connection, not a transaction pooler.
    """
    if not database_url.startswith("postgresql"):
        yield
        return
    engine = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            key = {"key": MIGRATION_LOCK_KEY}
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar():
                logger.info("waiting for another migration run to finish")
                connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
            yield
    finally:
        engine.dispose()


class NewerSchemaError(RuntimeError):
    """The database is at a revision this code does not know and that does not serve it."""


def newer_schema_serving(database_url: str, scripts: ScriptDirectory) -> list[str]:
    """The database's revisions when they are newer than every revision of `scripts` and
    declare (in `schema_compat`) that they still serve its heads: nothing to migrate then.
    Empty when the database is at or behind a known revision. Raises NewerSchemaError when
    it is ahead and does not serve this code."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            known = {script.revision for script in scripts.walk_revisions()}
            current = set(MigrationContext.configure(connection).get_current_heads())
            if current <= known:
                return []
            state = schema_readiness(connection, set(scripts.get_heads()), known)
    finally:
        engine.dispose()
    if not state.ready:
        raise NewerSchemaError(state.reason)
    return state.served_by


def upgrade(database_url: str, revision: str = "head", config: Config | None = None) -> list[str]:
    """Upgrade to `revision`. Only "head" accepts a database already past this code's
    revisions, and only when that newer schema still serves this code (a rollback after
    an expand step): the database is left as it is and its revisions are returned.
    Returns [] when this code's migrations ran."""
    config = config or alembic_config(database_url)
    with migration_lock(database_url):
        if revision == "head" and (
            newer := newer_schema_serving(database_url, ScriptDirectory.from_config(config))
        ):
            return newer
        command.upgrade(config, revision)
    return []


def downgrade(database_url: str, revision: str, config: Config | None = None) -> None:
    with migration_lock(database_url):
        command.downgrade(config or alembic_config(database_url), revision)


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(ALEMBIC_DIR))


def head_revisions() -> set[str]:
    return set(_scripts().get_heads())


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def wait_for_database(settings: Settings, pause: float = 1.0) -> None:
    """Retry until the database answers or MIGRATE_WAIT_SECONDS have passed."""
    engine = build_engine(settings)
    deadline = time.monotonic() + settings.MIGRATE_WAIT_SECONDS
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except OperationalError:
                if time.monotonic() >= deadline:
                    raise
                logger.info("waiting for the database")
                time.sleep(pause)
    finally:
        engine.dispose()


def main() -> int:
    try:
        settings = Settings()
    except Exception as exc:
        configure_logging("INFO")
        logger.error("invalid settings", extra={"error": str(exc)})
        return 1
    configure_logging(settings.LOG_LEVEL)
    try:
        wait_for_database(settings)
        newer = upgrade(settings.sqlalchemy_database_uri)
    except NewerSchemaError as exc:
        logger.error("migration refused", extra={"error": str(exc)})
        return 1
    except Exception as exc:
        logger.exception("migration failed", extra={"error_type": type(exc).__name__})
        return 1
    if newer:
        logger.info(
            "database is at a newer revision that still serves this code; nothing to migrate",
            extra={"revisions": newer, "head": sorted(head_revisions())},
        )
    else:
        logger.info("database is at head", extra={"revisions": sorted(head_revisions())})
    return 0


if __name__ == "__main__":
    sys.exit(main())
