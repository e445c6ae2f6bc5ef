"""Liveness and readiness probes, served at the root (not under /api)."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.migrate import known_revisions
from app.schema_compat import schema_readiness

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up. Touches no dependency, so a database outage never restarts pods."""
    return {"status": "ok"}


class Ready(BaseModel):
    status: Literal["ok"]
    revision: list[str]
    # Only when the schema is newer than this code and declares it still serves this code's head.
    serves: list[str] | None = None


class NotReady(BaseModel):
    status: Literal["unavailable"]
    reason: str
    # Only when the database answered: the schema's revisions and this code's head.
    current: list[str] | None = None
    head: list[str] | None = None


@router.get(
    "/readyz",
    responses={
        status.HTTP_200_OK: {"model": Ready},
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "model": NotReady,
            "description": "The database is unreachable, or its schema does not serve this code.",
        },
    },
)
def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and its schema serves this code: at the migrations'
    head, or at a newer revision that declares it still serves that head (expand/contract),
    so pods of the previous release stay Ready through an upgrade and after a rollback."""
    engine: Engine = request.app.state.engine
    heads: set[str] = request.app.state.migration_heads
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            schema = schema_readiness(connection, heads, known_revisions())
    except SQLAlchemyError as exc:
        logger.warning("readiness: database unreachable", extra={"error_type": type(exc).__name__})
        return JSONResponse(
            {"status": "unavailable", "reason": "database unreachable"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if not schema.ready:
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": schema.reason,
                "current": schema.current,
                "head": schema.head,
            },
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    answer: dict[str, object] = {"status": "ok", "revision": schema.current}
    if schema.served_by:
        answer["serves"] = schema.head
    return JSONResponse(answer)
