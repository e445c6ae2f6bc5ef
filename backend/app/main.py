"""Application factory. `uvicorn app.main:app` serves the module-level instance."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.agent import ChatLimiter
from app.api.errors import (
    CONTENT_TOO_LARGE,
    SERVICE_UNAVAILABLE,
    throttled_handler,
    undecodable_body_handler,
    validation_error_handler,
)
from app.api.routes import auth, chat, health, tasks
from app.core.body_limit import BodySizeLimitMiddleware
from app.core.config import Settings
from app.core.db import build_engine, read_only
from app.core.logging import RequestLogMiddleware, configure_logging
from app.core.throttling import AuthThrottle, Throttled
from app.migrate import head_revisions, upgrade

logger = logging.getLogger("app")


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("database unavailable", extra={"error_type": type(exc).__name__})
    return JSONResponse(
        {"detail": "The database is unavailable, try again shortly."},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.LOG_LEVEL)
    engine = build_engine(settings)
    http_client = httpx.Client(timeout=settings.OPENAI_TIMEOUT_SECONDS)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations_on_startup:
            # Production runs migrations in a separate Job, never in the web process.
            upgrade(settings.sqlalchemy_database_uri)
        logger.info("started", extra={"environment": settings.ENVIRONMENT})
        yield
        http_client.close()
        engine.dispose()

    # BodySizeLimitMiddleware refuses a large body before routing, so any operation may answer 413.
    app = FastAPI(
        title="todo-app API", version="0.1.0", lifespan=lifespan, responses=CONTENT_TOO_LARGE
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.read_engine = read_only(engine)
    app.state.http_client = http_client
    app.state.migration_heads = head_revisions()
    app.state.auth_throttle = AuthThrottle(settings)
    app.state.chat_limiter = ChatLimiter.from_settings(settings)

    for exc_type in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(exc_type, _database_unavailable)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, undecodable_body_handler)
    app.add_exception_handler(Throttled, throttled_handler)
    # Added last runs first: the request log also records the 413s.
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.MAX_BODY_BYTES)
    app.add_middleware(RequestLogMiddleware)
    # Outermost, so everything after it (limits, logs) sees the client a trusted proxy named.
    # The server's own copy of this middleware is off (the image runs uvicorn with
    # --no-proxy-headers): it would trust 127.0.0.1, i.e. a port-forward into the pod.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    # Any route touching the database answers 503 when it is down.
    api = APIRouter(prefix="/api", responses=SERVICE_UNAVAILABLE)
    for module in (auth, tasks, chat):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    return app


app = create_app()
