"""Accounts: register, log in, log out, who am I."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy.exc import IntegrityError

from app import crud
from app.api.deps import (
    AuthThrottleDep,
    ClientAddress,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TokenClaimsDep,
)
from app.api.errors import (
    CONFLICT,
    TOO_MANY_REQUESTS,
    UNAUTHORIZED,
)
from app.core.security import create_access_token, verify_password
from app.models import Token, UserCreate, UserLogin, UserPublic, utcnow

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    response_model=UserPublic,
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT, **TOO_MANY_REQUESTS},
)
def register(
    session: SessionDep, throttle: AuthThrottleDep, client: ClientAddress, user_in: UserCreate
) -> UserPublic:
    throttle.check_register(client)
    if crud.get_user_by_email(session, user_in.email) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "An account with this email already exists")
    try:
        with throttle.hashing_slot():
            user = crud.create_user(session, user_in)
    except IntegrityError as exc:  # lost a race with a concurrent registration
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, "An account with this email already exists"
        ) from exc
    return UserPublic.model_validate(user)


@router.post(
    "/login",
    response_model=Token,
    responses={**UNAUTHORIZED, **TOO_MANY_REQUESTS},
)
def login(
    session: SessionDep,
    settings: SettingsDep,
    throttle: AuthThrottleDep,
    client: ClientAddress,
    credentials: UserLogin,
) -> Token:
    throttle.check_login(client, credentials.email)
    user = crud.get_user_by_email(session, credentials.email)
    with throttle.hashing_slot():
        valid = verify_password(credentials.password, user.hashed_password if user else None)
    if not valid:
        throttle.record_failed_login(credentials.email)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Incorrect email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    assert user is not None and user.id is not None
    expires = timedelta(minutes=settings.JWT_EXPIRE_MINUTES)
    return Token(
        access_token=create_access_token(str(user.id), settings.JWT_SECRET, expires),
        expires_in=int(expires.total_seconds()),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=UNAUTHORIZED)
def logout(session: SessionDep, claims: TokenClaimsDep) -> Response:
    """Revoke the presented token; the user's other sessions stay valid."""
    crud.revoke_token(session, claims.jti, claims.expires_at)
    # No scheduler needed: each logout adds one row and removes up to a batch of expired
    # ones, so expired rows cannot pile up.
    crud.purge_expired_revocations(session, now=utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserPublic, responses=UNAUTHORIZED)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
