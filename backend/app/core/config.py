"""Application settings: the one place where configuration is read and checked."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any, Literal

from limits import parse_many
from pydantic import Field, field_validator, model_validator
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
    # Chat limits. Each turn holds a worker thread until it ends, so the per-pod cap keeps
    # the server's thread pool (40) free for other requests; beyond a cap chats get 429.
    CHAT_MAX_CONCURRENT_PER_USER: int = Field(default=2, ge=1, le=100)
    CHAT_MAX_CONCURRENT_PER_POD: int = Field(default=10, ge=1, le=35)
    # What of the stored conversation is sent to the model each turn (newest first).
    CHAT_HISTORY_MAX_MESSAGES: int = Field(default=20, ge=1, le=1000)
    CHAT_HISTORY_MAX_CHARS: int = Field(default=16_000, ge=1, le=1_000_000)
    # Below the frontend proxy's 60 s (UPSTREAM_TIMEOUT_MS), so the user sees our answer.
    CHAT_TURN_DEADLINE_SECONDS: float = Field(default=45.0, gt=0, le=600)
    CHAT_MODEL_CALL_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0, le=600)

    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # How long `python -m app.migrate` waits for the database to accept connections
    # (an init container may start before the database's Service resolves).
    MIGRATE_WAIT_SECONDS: int = Field(default=0, ge=0, le=3600)

    # Limits against hostile or runaway clients; README lists each with the status it gives.
    # Request bodies larger than this answer 413 before they are read whole.
    MAX_BODY_BYTES: int = Field(default=1024 * 1024, ge=1024)
    # Rate limits in `limits` notation ("30/minute", "100 per hour"), kept per process.
    LOGIN_RATE_LIMIT_PER_CLIENT: str = "30/minute"
    # Counts failed logins only, so a user who types the password right is never held up.
    LOGIN_RATE_LIMIT_PER_ACCOUNT: str = "5/minute"
    REGISTER_RATE_LIMIT_PER_CLIENT: str = "10/minute"
    # Argon2 needs 64 MiB per hash: this many at once, the rest answer 503 at once.
    PASSWORD_HASH_CONCURRENCY: int = Field(default=4, ge=1, le=64)
    # The peers whose X-Forwarded-For is believed (the frontend's pods): IP addresses and
    # networks, comma-separated. Empty, the default, believes none: the client is the peer
    # that connected, so a header any client can write never picks its rate-limit bucket.
    TRUSTED_PROXIES: str = ""

    @field_validator(
        "LOGIN_RATE_LIMIT_PER_CLIENT",
        "LOGIN_RATE_LIMIT_PER_ACCOUNT",
        "REGISTER_RATE_LIMIT_PER_CLIENT",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        try:
            items = parse_many(value)
        except ValueError:
            items = []
        if len(items) != 1 or items[0].amount < 1:
            raise ValueError(
                f"{value!r} is not one rate limit; write it as COUNT/PERIOD with COUNT >= 1, "
                "e.g. '30/minute' or '5 per 15 minutes'"
            )
        return value

    @field_validator("TRUSTED_PROXIES")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry == "*":
                raise ValueError(
                    "TRUSTED_PROXIES must not be '*': trusting every peer lets any client "
                    "choose the address it is rate-limited as; list the proxies' addresses "
                    "or networks, e.g. '10.244.0.0/16'"
                )
            try:
                if "/" in entry:
                    ipaddress.ip_network(entry)
                else:
                    ipaddress.ip_address(entry)
            except ValueError as exc:
                raise ValueError(
                    f"{entry!r} in TRUSTED_PROXIES is not an IP address or network ({exc}); "
                    "list addresses or CIDRs separated by commas, e.g. '10.244.0.0/16,10.0.0.5'"
                ) from None
        return ",".join(entries)

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
    def trusted_proxies(self) -> list[str]:
        return self.TRUSTED_PROXIES.split(",") if self.TRUSTED_PROXIES else []

    @property
    def assistant_enabled(self) -> bool:
        return bool(self.OPENAI_API_KEY)
