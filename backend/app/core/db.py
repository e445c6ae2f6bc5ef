"""Engine construction. The engine lives on the application, not in a module global,
so tests can run several apps against different databases in one process."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import create_engine

from app.core.config import Settings

# Connections one process holds to PostgreSQL at most.
POOL_SIZE = 10


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores ON DELETE CASCADE unless asked per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def build_engine(settings: Settings) -> Engine:
    # hide_parameters: a failed statement's error (and so its logged traceback) shows the
    # SQL but never the values, which may be passwords' hashes, tokens or users' text.
    url = settings.sqlalchemy_database_uri
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        # Every connection the pool opens stays open (until pool_recycle): with overflow
        # connections, each burst past the pool's size opened and closed connections, a
        # TCP handshake, password exchange and server process each. The ceiling is the same.
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_timeout=10,
        # Serverless PostgreSQL (Neon) drops idle connections; recycle before it does.
        pool_recycle=300,
        # Fail fast so readiness probes and requests answer 503 instead of hanging.
        connect_args={"connect_timeout": 5},
        hide_parameters=True,
    )


def read_only(engine: Engine) -> Engine:
    """The same pool in autocommit, for requests that only read: a query is its own round
    trip, without the BEGIN before it and the ROLLBACK when the connection goes back.

    Nothing enforces read-only; routes that write use a Session on the engine itself.
    """
    return engine.execution_options(isolation_level="AUTOCOMMIT")
