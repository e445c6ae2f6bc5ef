"""Account helpers for tests."""

from __future__ import annotations

from fastapi.testclient import TestClient

AuthHeaders = dict[str, str]
DEFAULT_PASSWORD = "correct horse battery staple"


def register_and_login(
    client: TestClient, email: str, password: str = DEFAULT_PASSWORD
) -> AuthHeaders:
    response = client.post("/api/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return login(client, email, password)


def login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> AuthHeaders:
    """Log in once more: every call is a new session with its own token."""
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
