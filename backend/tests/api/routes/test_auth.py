from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.security import ALGORITHM, create_access_token
from app.main import create_app
from app.models import RevokedToken
from tests.conftest import TEST_JWT_SECRET
from tests.utils.users import DEFAULT_PASSWORD, AuthHeaders, login


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


def test_token_without_a_jti_is_refused(client: TestClient, alice: AuthHeaders) -> None:
    # Such a token could never be revoked, so it is not accepted at all.
    me = client.get("/api/auth/me", headers=alice).json()
    now = datetime.now(UTC)
    payload = {"sub": str(me["id"]), "iat": now, "exp": now + timedelta(minutes=5)}
    token = jwt.encode(payload, TEST_JWT_SECRET, algorithm=ALGORITHM)
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_logout_is_204_and_needs_a_token(client: TestClient, alice: AuthHeaders) -> None:
    assert client.post("/api/auth/logout", headers=alice).status_code == 204
    assert client.post("/api/auth/logout").status_code == 401


def test_logout_revokes_that_token_and_no_other_session(
    client: TestClient, alice: AuthHeaders
) -> None:
    other_session = login(client, "alice@example.com")
    assert client.get("/api/tasks", headers=alice).status_code == 200

    assert client.post("/api/auth/logout", headers=alice).status_code == 204

    for method, path in [("GET", "/api/tasks"), ("GET", "/api/auth/me")]:
        response = client.request(method, path, headers=alice)
        assert response.status_code == 401, path
        assert response.json() == {"detail": "Token has been revoked"}
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.post("/api/auth/logout", headers=alice).status_code == 401
    assert client.get("/api/tasks", headers=other_session).status_code == 200


def test_logout_on_one_replica_is_refused_by_another(
    client: TestClient, settings: Settings, alice: AuthHeaders
) -> None:
    # Revocations live in the shared database: no replica keeps them in memory.
    with TestClient(create_app(settings)) as other_replica:
        assert other_replica.get("/api/tasks", headers=alice).status_code == 200
        assert client.post("/api/auth/logout", headers=alice).status_code == 204
        assert other_replica.get("/api/tasks", headers=alice).status_code == 401


def test_logout_records_the_token_until_it_expires(
    client: TestClient, db_session: Session, alice: AuthHeaders
) -> None:
    before = datetime.now(UTC)
    assert client.post("/api/auth/logout", headers=alice).status_code == 204
    [row] = db_session.exec(select(RevokedToken)).all()
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    assert len(row.jti) == 32
    # The login fixture's token lives JWT_EXPIRE_MINUTES (a day by default).
    lifetime = expires_at - before
    assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(days=1)


def test_logout_purges_expired_revocations(
    client: TestClient, db_session: Session, alice: AuthHeaders
) -> None:
    now = datetime.now(UTC)
    db_session.add(RevokedToken(jti="expired", expires_at=now - timedelta(minutes=1)))
    db_session.add(RevokedToken(jti="still-valid", expires_at=now + timedelta(hours=1)))
    db_session.commit()

    assert client.post("/api/auth/logout", headers=alice).status_code == 204

    jtis = set(db_session.exec(select(col(RevokedToken.jti))).all())
    assert "expired" not in jtis
    assert "still-valid" in jtis
    assert len(jtis) == 2  # still-valid and the token just revoked
