"""Request dependencies, exposed as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from app import crud
from app.core.config import Settings
from app.core.security import InvalidTokenError, TokenClaims, decode_access_token
from app.core.throttling import AuthThrottle
from app.models import MAX_DB_INT, User

# A row id in a path: out of the id column's range is a 422 rather than a database error.
ResourceId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def get_auth_throttle(request: Request) -> AuthThrottle:
    throttle: AuthThrottle = request.app.state.auth_throttle
    return throttle


def get_client_address(request: Request) -> str:
    """The client's address: the peer that connected, or, when that peer is one of
    TRUSTED_PROXIES, the address its X-Forwarded-For names (ProxyHeadersMiddleware)."""
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
AuthThrottleDep = Annotated[AuthThrottle, Depends(get_auth_throttle)]
ClientAddress = Annotated[str, Depends(get_client_address)]

_bearer = HTTPBearer(auto_error=False)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def get_token_claims(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenClaims:
    """The bearer token's claims, once its signature, expiry and revocation are checked."""
    if credentials is None:
        raise _unauthorized("Not authenticated")
    try:
        claims = decode_access_token(credentials.credentials, settings.JWT_SECRET)
    except InvalidTokenError as exc:
        raise _unauthorized(str(exc)) from exc
    # Checked in the database on every request, so a logout on one replica holds on all.
    if crud.is_token_revoked(session, claims.jti):
        raise _unauthorized("Token has been revoked")
    return claims


TokenClaimsDep = Annotated[TokenClaims, Depends(get_token_claims)]


def get_current_user(session: SessionDep, claims: TokenClaimsDep) -> User:
    subject = claims.subject
    user = session.get(User, int(subject)) if subject.isdigit() else None
    if user is None:
        raise _unauthorized("Could not validate credentials")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
