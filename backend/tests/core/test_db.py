from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import Settings
from app.core.db import build_engine


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
