"""Shared fixtures. Tests that touch the database run once per backend:
SQLite always, PostgreSQL when TEST_DATABASE_URL is set (scripts/test.sh does that)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

# Settings are read when app.main is imported; give it a valid production secret.
TEST_JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-production"
os.environ["JWT_SECRET"] = TEST_JWT_SECRET
for _name in ("ENVIRONMENT", "DATABASE_URL", "OPENAI_API_KEY", "RUN_MIGRATIONS_ON_STARTUP"):
    os.environ.pop(_name, None)

from app.core import security  # noqa: E402
from app.core.config import Settings, normalise_database_url  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from tests.utils.openai_stub import StubServer, running_stub  # noqa: E402
from tests.utils.users import AuthHeaders, register_and_login  # noqa: E402

TABLES = ("messages", "conversations", "tasks", "users", "revoked_tokens")


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_JWT_SECRET,
        "OPENAI_API_KEY": None,
        "RUN_MIGRATIONS_ON_STARTUP": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    # Production Argon2 cost dominates test time on a busy machine; same algorithm, less work.
    patch = pytest.MonkeyPatch()
    patch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set (run scripts/test.sh for PostgreSQL)")
    return normalise_database_url(url)


@pytest.fixture(scope="session")
def create_empty_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """Yield a factory: backend name -> URL of a new, empty database."""
    created: list[tuple[str, str]] = []

    def factory(backend: str) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("sqlite") / "todo.db"
            return f"sqlite:///{path}"
        admin_url = str(request.getfixturevalue("postgres_admin_url"))
        name = f"todo_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        created.append((admin_url, name))
        return admin_url.rsplit("/", 1)[0] + f"/{name}"

    yield factory

    for admin_url, name in created:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def migrated_database_url(backend: str, create_empty_database: Callable[[str], str]) -> str:
    url = create_empty_database(backend)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def cleanup_engine(migrated_database_url: str) -> Iterator[Engine]:
    engine = create_engine(migrated_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(migrated_database_url: str, cleanup_engine: Engine) -> str:
    """A migrated database with no rows: each test starts from scratch."""
    with cleanup_engine.begin() as connection:
        if cleanup_engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))
    return migrated_database_url


@pytest.fixture
def db_session(database_url: str) -> Iterator[Session]:
    """A session on the same (emptied) database as `client`, to arrange and inspect rows."""
    engine = create_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


ClientWith = Callable[..., TestClient]


@pytest.fixture
def client_with(database_url: str) -> Iterator[ClientWith]:
    """Factory: a client on the test database whose app has these settings (e.g. limits),
    connecting from the address `peer` (the TCP peer the server sees)."""
    with contextlib.ExitStack() as stack:

        def factory(*, peer: str = "testclient", **overrides: Any) -> TestClient:
            app = create_app(make_settings(database_url, **overrides))
            return stack.enter_context(TestClient(app, client=(peer, 50000)))

        yield factory


@pytest.fixture
def alice(client: TestClient) -> AuthHeaders:
    return register_and_login(client, "alice@example.com")


@pytest.fixture
def bob(client: TestClient) -> AuthHeaders:
    return register_and_login(client, "bob@example.com")


@pytest.fixture(scope="session")
def openai_stub() -> Iterator[StubServer]:
    with running_stub() as server:
        yield server


@pytest.fixture
def assistant_settings(database_url: str, openai_stub: StubServer) -> Settings:
    return make_settings(
        database_url, OPENAI_API_KEY="test-key", OPENAI_BASE_URL=openai_stub.base_url
    )


@pytest.fixture
def assistant_client(assistant_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(assistant_settings)) as test_client:
        yield test_client


@pytest.fixture
def tmp_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'todo.db'}"
