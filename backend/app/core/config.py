"""Application settings: the one place where configuration is read and checked."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values people paste from examples; accepting them would make every token forgeable.
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "change-this", "secret", "jwt-secret", "test"}
)
MIN_PRODUCTION_SECRET_LENGTH = 32


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs (Neon, Heroku style) at the psycopg 3 driver.

    Query parameters such as ``sslmode=require`` are kept: libpq reads them.
    """
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        # Validation errors end up in logs; they must not echo secrets or database URLs.
        hide_input_in_errors=True,
    )

    # "production" unless told otherwise, so a forgotten variable fails closed.
    ENVIRONMENT: Literal["development", "production"] = "production"
    # Unset means a local SQLite file at SQLITE_PATH (development convenience).
    DATABASE_URL: str | None = None
    SQLITE_PATH: str = "./todo.db"
    RUN_MIGRATIONS_ON_STARTUP: bool | None = None

    JWT_SECRET: str
    JWT_EXPIRE_MINUTES: int = Field(default=60 * 24, ge=1)

    OPENAI_API_KEY: str | None = None
    OPENAI_BASE_URL: str = "https://api.openai.com/v1"
    OPENAI_MODEL: str = "gpt-4o-mini"
    OPENAI_TIMEOUT_SECONDS: float = Field(default=60.0, gt=0)
    AGENT_MAX_ITERATIONS: int = Field(default=8, ge=1, le=50)

    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # How long `python -m app.migrate` waits for the database to accept connections
    # (an init container may start before the database's Service resolves).
    MIGRATE_WAIT_SECONDS: int = Field(default=0, ge=0, le=3600)

    @model_validator(mode="before")
    @classmethod
    def _generate_development_secret(cls, data: Any) -> Any:
        # Development may run without a secret; tokens then die with the process.
        if (
            isinstance(data, dict)
            and data.get("ENVIRONMENT") == "development"
            and not data.get("JWT_SECRET")
        ):
            return {**data, "JWT_SECRET": secrets.token_urlsafe(32)}
        return data

    @model_validator(mode="after")
    def _check_production_secret(self) -> Settings:
        if self.ENVIRONMENT != "production":
            return self
        if self.JWT_SECRET.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "JWT_SECRET is a placeholder value; set a random secret of at least "
                f"{MIN_PRODUCTION_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)"
            )
        if len(self.JWT_SECRET) < MIN_PRODUCTION_SECRET_LENGTH:
            raise ValueError(
                f"JWT_SECRET must be at least {MIN_PRODUCTION_SECRET_LENGTH} characters in "
                f"production, got {len(self.JWT_SECRET)}"
            )
        return self

    @property
    def sqlalchemy_database_uri(self) -> str:
        if self.DATABASE_URL:
            return normalise_database_url(self.DATABASE_URL)
        return f"sqlite:///{self.SQLITE_PATH}"

    @property
    def run_migrations_on_startup(self) -> bool:
        if self.RUN_MIGRATIONS_ON_STARTUP is not None:
            return self.RUN_MIGRATIONS_ON_STARTUP
        return self.ENVIRONMENT == "development"

    @property
    def assistant_enabled(self) -> bool:
        return bool(self.OPENAI_API_KEY)
