from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from app.core.security import create_access_token
from tests.conftest import TEST_JWT_SECRET
from tests.utils.users import DEFAULT_PASSWORD, AuthHeaders


def test_register_returns_public_user_without_password(client: TestClient) -> None:
    response = client.post(
        "/api/auth/register", json={"email": "Carol@Example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "carol@example.com"
    assert set(body) == {"id", "email", "created_at"}


def test_register_twice_conflicts(client: TestClient, alice: AuthHeaders) -> None:
    response = client.post(
        "/api/auth/register", json={"email": "ALICE@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 409


def test_register_validates_email_and_password(client: TestClient) -> None:
    response = client.post("/api/auth/register", json={"email": "nope", "password": "short"})
    assert response.status_code == 422
    errors = {e["loc"][-1]: e["msg"] for e in response.json()["detail"]}
    assert "email" in errors
    assert "at least 8 characters" in errors["password"]


def test_login_returns_bearer_token(client: TestClient, alice: AuthHeaders) -> None:
    response = client.post(
        "/api/auth/login", json={"email": "alice@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 24 * 60 * 60
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["email"] == "alice@example.com"


def test_login_with_bad_password_or_unknown_email_is_401(
    client: TestClient, alice: AuthHeaders
) -> None:
    for email, password in [("alice@example.com", "wrong-password"), ("x@example.com", "pw")]:
        response = client.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 401
        assert response.json() == {"detail": "Incorrect email or password"}


def test_me_requires_a_token(client: TestClient) -> None:
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_expired_token_is_refused(client: TestClient, alice: AuthHeaders) -> None:
    me = client.get("/api/auth/me", headers=alice).json()
    token = create_access_token(str(me["id"]), TEST_JWT_SECRET, timedelta(seconds=-5))
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Token has expired"}


def test_forged_or_garbage_tokens_are_refused(client: TestClient, alice: AuthHeaders) -> None:
    forged = create_access_token("1", "another-secret-" * 4, timedelta(minutes=5))
    for token in (forged, "garbage"):
        response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_token_of_a_deleted_user_is_refused(client: TestClient) -> None:
    token = create_access_token("999999", TEST_JWT_SECRET, timedelta(minutes=5))
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_logout_is_204_and_needs_a_token(client: TestClient, alice: AuthHeaders) -> None:
    assert client.post("/api/auth/logout", headers=alice).status_code == 204
    assert client.post("/api/auth/logout").status_code == 401
