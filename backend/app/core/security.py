"""Password hashing (Argon2id) and access tokens (JWT HS256)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
# The revoked_tokens.jti column is this wide; ours are 32 hex characters.
MAX_JTI_LENGTH = 64

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class InvalidTokenError(Exception):
    """The token is malformed, forged or expired."""


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    # Unique per token, so logout can revoke this token and no other session.
    jti: str
    expires_at: datetime


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    try:
        return _hasher.verify(hashed or _DUMMY_HASH, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def create_access_token(subject: str, secret: str, expires_delta: timedelta) -> str:
    now = datetime.now(UTC)
    payload = {"sub": subject, "jti": uuid.uuid4().hex, "iat": now, "exp": now + expires_delta}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> TokenClaims:
    """Return the token's claims or raise InvalidTokenError.

    A token without a jti (issued before revocation existed) is refused: it could not be
    revoked at logout.
    """
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "jti"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidTokenError("Token has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidTokenError("Could not validate credentials") from exc
    jti = payload["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise InvalidTokenError("Could not validate credentials")
    return TokenClaims(
        subject=str(payload["sub"]),
        jti=jti,
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
    )
