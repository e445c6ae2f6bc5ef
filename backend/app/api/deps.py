"""Request dependencies, exposed as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

import anyio
from fastapi import Depends, HTTPException, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from app import crud
from app.core.config import Settings
from app.core.security import InvalidTokenError, TokenClaims, decode_access_token
from app.core.throttling import AuthThrottle
from app.models import MAX_DB_INT, User

# A row id in a path: out of the id column's range is a 422 rather than a database error.
ResourceId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]

# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in a
# worker thread, and on one CPU each such hop costs about as much as the work it wraps.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_read_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.read_engine
    return engine


async def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> AsyncIterator[Session]:
    # Opening a session does no I/O (it connects on first use). Closing it gives the
    # connection back to the pool, a ROLLBACK round trip, so that runs in a worker thread:
    # shielded, so a client that disconnects cannot leak the connection, and outside the
    # shared thread limit, as FastAPI does for a plain generator dependency's exit.
    session = Session(engine)
    try:
        yield session
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))


async def get_auth_throttle(request: Request) -> AuthThrottle:
    throttle: AuthThrottle = request.app.state.auth_throttle
    return throttle


async def get_client_address(request: Request) -> str:
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


async def get_token_claims(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenClaims:
    """The bearer token's claims, once its signature and expiry are checked; get_current_user
    checks its revocation, and TokenClaimsDep below gives the claims only after that."""
    if credentials is None:
        raise _unauthorized("Not authenticated")
    try:
        return decode_access_token(credentials.credentials, settings.JWT_SECRET)
    except InvalidTokenError as exc:
        raise _unauthorized(str(exc)) from exc


_SignedClaimsDep = Annotated[TokenClaims, Depends(get_token_claims)]


def get_current_user(session: SessionDep, claims: _SignedClaimsDep) -> User:
    """The token's user, read together with the token's revocation in one query.

    Both are checked in the database on every request, so a logout on one replica holds
    on all, and a deleted user's tokens stop working at once.
    """
    subject = claims.subject
    user = (
        crud.get_user_unless_revoked(session, int(subject), claims.jti)
        if subject.isdigit()
        else None
    )
    if user is None:
        # The rare path pays a second query to say why, as it did before the two merged.
        raise _refusal(revoked=crud.is_token_revoked(session, claims.jti))
    return user


def _refusal(*, revoked: bool) -> HTTPException:
    return _unauthorized("Token has been revoked" if revoked else "Could not validate credentials")


CurrentUser = Annotated[User, Depends(get_current_user)]


# Routes that check the token's user and revocation in their own query, to spend one
# worker-thread hop where CurrentUser and the route take two, take these two instead, call
# token_refusal when that query finds nothing, and are added with
# route_class_override=TokenCheckedInRoute.
SignedClaimsDep = _SignedClaimsDep
ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]


def token_user_id(claims: TokenClaims) -> int | None:
    """The id the token names, or None when its subject cannot be a user's id."""
    return int(claims.subject) if claims.subject.isdigit() else None


def token_refusal(connection: Connection, claims: TokenClaims) -> HTTPException:
    """The 401 for a signed token whose user is gone or which is revoked."""
    return _refusal(revoked=crud.is_token_revoked_on(connection, claims.jti))


def _check_token(engine: Engine, claims: TokenClaims) -> None:
    with engine.connect() as connection:
        user_id = token_user_id(claims)
        if user_id is None or not crud.user_exists_unless_revoked(connection, user_id, claims.jti):
            raise token_refusal(connection, claims)


class TokenCheckedInRoute(APIRoute):
    """A route that checks its token inside its own query still answers 401 before 422.

    FastAPI checks parameters after dependencies, so a route on CurrentUser refuses a
    revoked token even when the parameters are invalid too. A route that checks the token
    itself never runs with invalid parameters, so the token is checked here instead.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                # The signature, expiry and jti were checked before the parameters.
                credentials = await _bearer(request)
                claims = await get_token_claims(await get_settings(request), credentials)
                engine = await get_read_engine(request)
                await anyio.to_thread.run_sync(_check_token, engine, claims)
                raise

        return checked


async def get_valid_claims(claims: _SignedClaimsDep, _user: CurrentUser) -> TokenClaims:
    """The claims of a token that is signed, unexpired, not revoked and whose user exists
    (FastAPI resolves each dependency once per request, so this adds no query)."""
    return claims


TokenClaimsDep = Annotated[TokenClaims, Depends(get_valid_claims)]
