from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.security import (
    InvalidTokenError,
    create_access_token,
    decode_access_token,
    hash_password,
    verify_password,
)

SECRET = "s" * 40


def test_passwords_are_hashed_with_argon2id() -> None:
    hashed = hash_password("hunter2hunter2")
    assert hashed.startswith("$argon2id$")
    assert verify_password("hunter2hunter2", hashed)
    assert not verify_password("wrong-password", hashed)


def test_unknown_user_never_verifies() -> None:
    assert not verify_password("not-a-real-password", None)


def test_token_round_trip() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    token = create_access_token("42", SECRET, timedelta(minutes=5))
    claims = decode_access_token(token, SECRET)
    assert claims.subject == "42"
    assert (
        before + timedelta(minutes=5)
        <= claims.expires_at
        <= datetime.now(UTC) + timedelta(minutes=5)
    )


def test_every_token_has_its_own_jti() -> None:
    # Logout revokes one token by its jti; two logins must never share one.
    jtis = {
        decode_access_token(create_access_token("42", SECRET, timedelta(minutes=5)), SECRET).jti
        for _ in range(20)
    }
    assert len(jtis) == 20


def test_expired_token_is_rejected() -> None:
    token = create_access_token("42", SECRET, timedelta(seconds=-1))
    with pytest.raises(InvalidTokenError, match="expired"):
        decode_access_token(token, SECRET)


def test_token_signed_with_another_secret_is_rejected() -> None:
    token = create_access_token("42", "o" * 40, timedelta(minutes=5))
    with pytest.raises(InvalidTokenError):
        decode_access_token(token, SECRET)
