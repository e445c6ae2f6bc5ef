from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import Settings
from app.core.db import POOL_SIZE, build_engine


def test_failed_statements_do_not_carry_their_parameters(settings: Settings) -> None:
    # The error's text is what a logged traceback shows; it must not quote users' data.
    engine = build_engine(settings)
    try:
        with engine.connect() as connection, pytest.raises(SQLAlchemyError) as caught:
            connection.execute(
                text("SELECT no_such_column FROM users WHERE email = :email"),
                {"email": "secret-value@example.com"},
            )
    finally:
        engine.dispose()
    message = str(caught.value)
    assert "no_such_column" in message
    assert "secret-value" not in message
    assert "parameters hidden" in message.lower()


def test_the_pool_keeps_the_connections_it_opens_through_bursts(
    settings: Settings, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has no connections to keep: a file opens in microseconds")
    # A burst as wide as the pool, twice: the second finds every connection open.
    engine = build_engine(settings)
    opened: list[object] = []
    event.listen(engine, "connect", lambda connection, _record: opened.append(connection))
    try:
        for _ in range(2):
            connections = [engine.connect() for _ in range(POOL_SIZE)]
            for connection in connections:
                connection.execute(text("SELECT 1"))
            for connection in connections:
                connection.close()
    finally:
        engine.dispose()
    assert len(opened) == POOL_SIZE
