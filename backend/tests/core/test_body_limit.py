from __future__ import annotations

import json
from collections.abc import Iterator

import anyio
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message

from app.core.config import Settings
from app.main import create_app

CHUNK = b"x" * 64 * 1024


def drive(
    app: ASGIApp, path: str, chunks: Iterator[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, str], int]:
    """Send a body chunk by chunk, as a server does for chunked transfer encoding.

    Returns the status, the JSON answer and how many chunks the app pulled.
    """
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


def test_declared_content_length_over_the_limit_is_413_without_reading(
    settings: Settings,
) -> None:
    app = create_app(settings)
    status, answer, pulled = drive(
        app,
        "/api/auth/register",
        iter([CHUNK] * 10),
        [(b"content-type", b"application/json"), (b"content-length", b"209715200")],
    )
    assert (status, pulled) == (413, 0)
    assert f"larger than the {settings.MAX_BODY_BYTES} bytes" in answer["detail"]


def test_chunked_body_is_cut_off_once_it_passes_the_limit(settings: Settings) -> None:
    app = create_app(settings)
    chunks = 3 * settings.MAX_BODY_BYTES // len(CHUNK)
    status, answer, pulled = drive(
        app, "/api/auth/register", iter([CHUNK] * chunks), [(b"content-type", b"application/json")]
    )
    assert status == 413
    assert "send less data per request" in answer["detail"]
    assert pulled == settings.MAX_BODY_BYTES // len(CHUNK) + 1


def test_understated_content_length_does_not_get_past_the_limit(settings: Settings) -> None:
    app = create_app(settings)
    status, _answer, pulled = drive(
        app,
        "/api/tasks",
        iter([CHUNK] * 40),
        [(b"content-type", b"application/json"), (b"content-length", b"10")],
    )
    assert status == 413
    assert pulled < 40


def test_bodies_within_the_limit_are_served(client: TestClient) -> None:
    password = "p" * 100
    response = client.post(
        "/api/auth/register", json={"email": "big@example.com", "password": password}
    )
    assert response.status_code == 201


def test_an_oversized_register_body_answers_413_json(client: TestClient) -> None:
    response = client.post(
        "/api/auth/register",
        content=b'{"email": "a@example.com", "password": "' + b"p" * (2 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert "send less data per request" in response.json()["detail"]
