"""Database migrations: `python -m app.migrate` upgrades to head (a Kubernetes Job runs this).

Exits 0 on success and 1 on failure, logging why.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from app.core.config import Settings
from app.core.db import build_engine
from app.core.logging import configure_logging

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"

logger = logging.getLogger("app.migrate")


def alembic_config(database_url: str) -> Config:
    """An Alembic config independent of the working directory and of alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    # Passed as an attribute, not an ini option, so '%' in passwords needs no escaping.
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revisions() -> set[str]:
    return set(ScriptDirectory(str(ALEMBIC_DIR)).get_heads())


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
        upgrade(settings.sqlalchemy_database_uri)
    except Exception as exc:
        logger.exception("migration failed", extra={"error_type": type(exc).__name__})
        return 1
    logger.info("database is at head", extra={"revisions": sorted(head_revisions())})
    return 0


if __name__ == "__main__":
    sys.exit(main())
