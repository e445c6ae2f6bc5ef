"""Liveness and readiness probes, served at the root (not under /api)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.migrate import current_revisions

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up. Touches no dependency, so a database outage never restarts pods."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and its schema is at the migrations' head."""
    engine: Engine = request.app.state.engine
    heads: set[str] = request.app.state.migration_heads
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revisions(engine)
    except SQLAlchemyError as exc:
        logger.warning("readiness: database unreachable", extra={"error_type": type(exc).__name__})
        return JSONResponse(
            {"status": "unavailable", "reason": "database unreachable"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if current != heads:
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": "database schema is not at the latest migration",
                "current": sorted(current),
                "head": sorted(heads),
            },
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return JSONResponse({"status": "ok", "revision": sorted(current)})
