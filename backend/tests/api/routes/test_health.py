from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient

from app.api.routes.health import NotReady
from app.main import create_app
from app.migrate import head_revisions, upgrade
from tests.conftest import make_settings
from tests.utils.tcp_proxy import TcpProxy
from tests.utils.users import register_and_login


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_healthz_needs_no_database() -> None:
    dead = make_settings(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    with TestClient(create_app(dead)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ok_when_database_is_migrated(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "revision": sorted(head_revisions())}


def test_readyz_and_api_answer_503_when_postgres_is_unreachable() -> None:
    dead = make_settings(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    with TestClient(create_app(dead)) as client:
        ready = client.get("/readyz")
        register = client.post(
            "/api/auth/register", json={"email": "a@example.com", "password": "p" * 10}
        )
    assert ready.status_code == 503
    assert ready.json()["reason"] == "database unreachable"
    assert register.status_code == 503
    assert register.json() == {"detail": "The database is unavailable, try again shortly."}


def test_readyz_503_until_migrations_reach_head(tmp_sqlite_url: str) -> None:
    with TestClient(create_app(make_settings(tmp_sqlite_url))) as client:
        pending = client.get("/readyz")
        assert pending.status_code == 503
        [head] = head_revisions()
        assert pending.json()["reason"] == (
            f"database schema is behind this code (at no revision, code needs {head}); "
            "run `python -m app.migrate`"
        )
        assert pending.json()["current"] == []
        NotReady.model_validate(pending.json(), strict=True)
        # The previous release's schema does not serve this code.
        upgrade(tmp_sqlite_url, "0002")
        behind = client.get("/readyz").json()
        assert (behind["current"], behind["reason"]) == (
            ["0002"],
            f"database schema is behind this code (at 0002, code needs {head}); "
            "run `python -m app.migrate`",
        )
        upgrade(tmp_sqlite_url)
        assert client.get("/readyz").status_code == 200


def test_sqlite_readiness_follows_the_database_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'not-yet' / 'todo.db'}"
    with TestClient(create_app(make_settings(url))) as client:
        assert client.get("/readyz").json()["reason"] == "database unreachable"
        (tmp_path / "not-yet").mkdir()
        upgrade(url)
        assert client.get("/readyz").status_code == 200


def test_postgres_outage_gives_503_and_recovers(
    create_empty_database: Callable[[str], str],
) -> None:
    """Cut the TCP path to a migrated PostgreSQL database, then restore it."""
    parts = urlsplit(create_empty_database("postgres"))
    assert parts.hostname is not None and parts.port is not None
    proxy = TcpProxy(parts.hostname, parts.port)
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
    url = urlunsplit(parts._replace(netloc=netloc))
    proxy.start()
    try:
        upgrade(url)
        with TestClient(create_app(make_settings(url))) as client:
            headers = register_and_login(client, "outage@example.com")
            assert client.get("/readyz").status_code == 200

            proxy.stop()
            down = client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["reason"] == "database unreachable"
            assert client.get("/api/tasks", headers=headers).status_code == 503

            proxy.start()
            assert client.get("/readyz").status_code == 200
            assert client.get("/api/tasks", headers=headers).status_code == 200
    finally:
        proxy.stop()


@pytest.mark.parametrize("path", ["/nope", "/api/nope"])
def test_unknown_routes_are_json_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
