"""Error answers: their handlers and their OpenAPI declarations, so the two stay in step."""

from __future__ import annotations

from typing import Any

from fastapi import Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from app.core.throttling import Throttled

# What FastAPI's `responses=` takes: status code -> OpenAPI response object.
Responses = dict[int | str, dict[str, Any]]


class ErrorMessage(BaseModel):
    detail: str


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"model": ErrorMessage, "description": description}
    if headers:
        answer["headers"] = headers
    return answer


def _retry_after(*, required: bool) -> dict[str, Any]:
    header = {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
        "required": required,
    }
    return {"Retry-After": header}


UNAUTHORIZED: Responses = {
    status.HTTP_401_UNAUTHORIZED: _error(
        "Missing, expired, revoked or invalid bearer token.",
        {"WWW-Authenticate": {"description": "Always `Bearer`.", "schema": {"type": "string"}}},
    )
}
NOT_FOUND: Responses = {
    status.HTTP_404_NOT_FOUND: _error("No such resource among the caller's own.")
}
CONFLICT: Responses = {
    status.HTTP_409_CONFLICT: _error("An account with this email already exists.")
}
CONTENT_TOO_LARGE: Responses = {
    status.HTTP_413_CONTENT_TOO_LARGE: _error("The request body is larger than MAX_BODY_BYTES.")
}
# Every 429 comes from Throttled, which always sets Retry-After; a 503 of the database has none.
TOO_MANY_REQUESTS: Responses = {
    status.HTTP_429_TOO_MANY_REQUESTS: _error(
        "A rate limit was reached.", _retry_after(required=True)
    )
}
SERVICE_UNAVAILABLE: Responses = {
    status.HTTP_503_SERVICE_UNAVAILABLE: _error(
        "The database is unavailable, or every password hashing slot is busy.",
        _retry_after(required=False),
    )
}


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """422 naming each bad field and why, without echoing what was sent.

    Pydantic's `input` (and `ctx`, which may quote it) would send passwords back and let
    one request make the answer as large as the body.
    """
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"type": error["type"], "loc": list(error["loc"]), "msg": error["msg"]}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def undecodable_body_handler(request: Request, exc: Exception) -> Response:
    """A body that is not UTF-8 is not JSON either: 422 like any other malformed JSON,
    instead of FastAPI's undocumented 400 "There was an error parsing the body"."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == status.HTTP_400_BAD_REQUEST and isinstance(
        exc.__cause__, UnicodeDecodeError
    ):
        error = {
            "type": "json_invalid",
            "loc": ["body"],
            "msg": "JSON decode error: the body is not valid UTF-8; send JSON encoded as UTF-8",
        }
        return JSONResponse({"detail": [error]}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return await http_exception_handler(request, exc)


async def throttled_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Throttled)
    return JSONResponse(
        {"detail": exc.detail},
        status_code=exc.status_code,
        headers={"Retry-After": str(exc.retry_after)},
    )
