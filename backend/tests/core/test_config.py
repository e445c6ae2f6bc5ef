from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.config import Settings, normalise_database_url

LONG_SECRET = "x" * 40


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize("placeholder", ["changeme", "CHANGEME", "secret", "changethis"])
def test_production_refuses_placeholder_jwt_secret(placeholder: str) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        settings(ENVIRONMENT="production", JWT_SECRET=placeholder)


def test_production_refuses_short_jwt_secret_without_echoing_it() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters") as excinfo:
        settings(ENVIRONMENT="production", JWT_SECRET="a-random-but-short-secret")
    assert "a-random-but-short-secret" not in str(excinfo.value)


def test_production_requires_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        settings(ENVIRONMENT="production")


def test_environment_defaults_to_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    assert settings(JWT_SECRET=LONG_SECRET).ENVIRONMENT == "production"


def test_development_accepts_placeholder_and_generates_missing_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings(ENVIRONMENT="development", JWT_SECRET="changeme").JWT_SECRET == "changeme"
    monkeypatch.delenv("JWT_SECRET", raising=False)
    generated = settings(ENVIRONMENT="development").JWT_SECRET
    assert len(generated) >= 32


def test_development_secret_comes_from_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    assert len(Settings(_env_file=None).JWT_SECRET) >= 32


def test_missing_database_url_means_local_sqlite() -> None:
    s = settings(JWT_SECRET=LONG_SECRET, SQLITE_PATH="/tmp/x.db")
    assert s.sqlalchemy_database_uri == "sqlite:////tmp/x.db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://u:p@ep-x.neon.tech/db?sslmode=require",
            "postgresql+psycopg://u:p@ep-x.neon.tech/db?sslmode=require",
        ),
        (
            "postgresql://u:p@host:5432/db?sslmode=require&channel_binding=require",
            "postgresql+psycopg://u:p@host:5432/db?sslmode=require&channel_binding=require",
        ),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///./todo.db", "sqlite:///./todo.db"),
    ],
)
def test_database_urls_are_normalised_to_psycopg3(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected
    assert settings(JWT_SECRET=LONG_SECRET, DATABASE_URL=url).sqlalchemy_database_uri == expected


def test_migrations_run_on_startup_only_in_development_by_default() -> None:
    assert settings(ENVIRONMENT="development").run_migrations_on_startup is True
    assert settings(JWT_SECRET=LONG_SECRET).run_migrations_on_startup is False
    explicit = settings(JWT_SECRET=LONG_SECRET, RUN_MIGRATIONS_ON_STARTUP=True)
    assert explicit.run_migrations_on_startup is True


def test_assistant_is_enabled_only_with_an_api_key() -> None:
    assert settings(JWT_SECRET=LONG_SECRET, OPENAI_API_KEY=None).assistant_enabled is False
    assert settings(JWT_SECRET=LONG_SECRET, OPENAI_API_KEY="sk-x").assistant_enabled is True


@pytest.mark.parametrize(
    "name",
    [
        "LOGIN_RATE_LIMIT_PER_CLIENT",
        "LOGIN_RATE_LIMIT_PER_ACCOUNT",
        "REGISTER_RATE_LIMIT_PER_CLIENT",
    ],
)
@pytest.mark.parametrize("value", ["lots", "0/minute", "5/minute;100/day"])
def test_rate_limits_must_be_one_count_per_period(name: str, value: str) -> None:
    with pytest.raises(ValidationError, match="COUNT/PERIOD"):
        settings(JWT_SECRET=LONG_SECRET, **{name: value})


LIMITS = (
    "MAX_BODY_BYTES",
    "LOGIN_RATE_LIMIT_PER_CLIENT",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT",
    "REGISTER_RATE_LIMIT_PER_CLIENT",
    "PASSWORD_HASH_CONCURRENCY",
)


@pytest.mark.parametrize("name", LIMITS)
def test_every_limit_is_documented_with_its_default(name: str) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith(f"| `{name}` |")]
    assert f"`{Settings.model_fields[name].default}`" in row


def test_trusted_proxies_default_to_none() -> None:
    assert settings(JWT_SECRET=LONG_SECRET).trusted_proxies == []


def test_trusted_proxies_are_addresses_and_networks() -> None:
    s = settings(JWT_SECRET=LONG_SECRET, TRUSTED_PROXIES=" 10.244.0.0/16, 10.0.0.5 ,fd00::/8,")
    assert s.trusted_proxies == ["10.244.0.0/16", "10.0.0.5", "fd00::/8"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*", "must not be '\\*': trusting every peer lets any client choose"),
        ("frontend", "'frontend' in TRUSTED_PROXIES is not an IP address or network"),
        ("10.244.0.1/16", "'10.244.0.1/16' in TRUSTED_PROXIES is not an IP address or network"),
        ("10.0.0.0/8,300.1.1.1", "'300.1.1.1' in TRUSTED_PROXIES"),
    ],
)
def test_trusted_proxies_refuse_what_is_not_an_address(value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(JWT_SECRET=LONG_SECRET, TRUSTED_PROXIES=value)
