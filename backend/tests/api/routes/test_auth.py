from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.api.routes import auth as auth_routes
from app.core.config import Settings
from app.core.security import ALGORITHM, create_access_token
from app.main import create_app
from app.models import RevokedToken
from tests.conftest import TEST_JWT_SECRET, ClientWith
from tests.utils.users import DEFAULT_PASSWORD, AuthHeaders, login, register_and_login


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


def test_validation_errors_name_the_field_without_echoing_the_input(client: TestClient) -> None:
    response = client.post(
        "/api/auth/register", json={"email": "not-an-email", "password": "hunter2"}
    )
    assert response.status_code == 422
    assert "hunter2" not in response.text
    assert "not-an-email" not in response.text
    errors = response.json()["detail"]
    assert {tuple(e["loc"]) for e in errors} == {("body", "email"), ("body", "password")}
    assert all(set(e) == {"type", "loc", "msg"} for e in errors), errors


def test_malformed_json_is_422_without_echoing_it(client: TestClient) -> None:
    response = client.post(
        "/api/auth/login",
        content=b'{"email": "a@example.com", "password": "hunter2-secret"',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "hunter2-secret" not in response.text
    assert response.json()["detail"][0]["msg"] == "JSON decode error"


@pytest.mark.parametrize("field", ["email", "password"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_nul_and_lone_surrogates_in_credentials_are_422(
    client: TestClient, field: str, bad: str
) -> None:
    body = {"email": "carol@example.com", "password": DEFAULT_PASSWORD}
    body[field] = "carol" + bad + ("@example.com" if field == "email" else "-password")
    for path in ("/api/auth/register", "/api/auth/login"):
        # json.dumps writes both as \u escapes, as a hostile client would send them.
        response = client.post(
            path, content=json.dumps(body), headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, (path, response.text)
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", field]
        assert "NUL" in error["msg"] or "surrogate" in error["msg"]


def _login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/auth/login", json={"email": email, "password": password}
    )
    return response


def _retry_after(response: httpx.Response) -> int:
    value = int(response.headers["retry-after"])
    assert 1 <= value <= 60
    return value


def test_login_attempts_per_client_are_429_with_retry_after(client_with: ClientWith) -> None:
    limited_client = client_with(LOGIN_RATE_LIMIT_PER_CLIENT="3/minute")
    for n in range(3):
        assert _login(limited_client, f"nobody{n}@example.com").status_code == 401
    response = _login(limited_client, "nobody9@example.com")
    assert response.status_code == 429
    wait = _retry_after(response)
    assert response.json() == {
        "detail": f"Too many login attempts from this client; wait {wait} s (Retry-After) "
        "and try again."
    }


def test_failed_logins_per_account_are_429_even_with_the_right_password(
    client_with: ClientWith,
) -> None:
    limited_client = client_with(LOGIN_RATE_LIMIT_PER_ACCOUNT="2/minute")
    register_and_login(limited_client, "dave@example.com")
    register_and_login(limited_client, "erin@example.com")
    for _ in range(2):
        assert _login(limited_client, "DAVE@example.com", "wrong-password").status_code == 401
    response = _login(limited_client, "dave@example.com")
    assert response.status_code == 429
    _retry_after(response)
    assert "failed logins for this account" in response.json()["detail"]
    # Another account, from the same client, is not held up.
    assert _login(limited_client, "erin@example.com").status_code == 200


def test_successful_logins_do_not_count_against_the_account(client_with: ClientWith) -> None:
    limited_client = client_with(LOGIN_RATE_LIMIT_PER_ACCOUNT="2/minute")
    register_and_login(limited_client, "dave@example.com")
    for _ in range(4):
        assert _login(limited_client, "dave@example.com").status_code == 200


def test_registrations_per_client_are_429(client_with: ClientWith) -> None:
    limited_client = client_with(REGISTER_RATE_LIMIT_PER_CLIENT="2/minute")
    for n in range(2):
        body = {"email": f"new{n}@example.com", "password": DEFAULT_PASSWORD}
        assert limited_client.post("/api/auth/register", json=body).status_code == 201
    body = {"email": "new9@example.com", "password": DEFAULT_PASSWORD}
    response = limited_client.post("/api/auth/register", json=body)
    assert response.status_code == 429
    _retry_after(response)
    assert "registrations from this client" in response.json()["detail"]


def test_password_hashing_beyond_the_concurrency_is_503_at_once(client_with: ClientWith) -> None:
    limited_client = client_with(PASSWORD_HASH_CONCURRENCY=1)
    register_and_login(limited_client, "dave@example.com")
    throttle = limited_client.app.state.auth_throttle  # type: ignore[attr-defined]
    body = {"email": "frank@example.com", "password": DEFAULT_PASSWORD}
    with throttle.hashing_slot():  # another request is hashing right now
        started = time.perf_counter()
        responses = [
            _login(limited_client, "dave@example.com"),
            limited_client.post("/api/auth/register", json=body),
        ]
        elapsed = time.perf_counter() - started
    for response in responses:
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert "busy checking other passwords" in response.json()["detail"]
    assert elapsed < 2
    # The slot is free again, and the refused attempts did not count as failed logins.
    assert _login(limited_client, "dave@example.com").status_code == 200
    assert limited_client.post("/api/auth/register", json=body).status_code == 201


def test_forty_concurrent_logins_hash_at_most_the_concurrency_at_once(
    client_with: ClientWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The load: 40 logins at once used to run 40 Argon2 hashes (64 MiB each) at once.
    limited_client = client_with(LOGIN_RATE_LIMIT_PER_CLIENT="100/minute")
    lock = threading.Lock()
    running = peak = 0

    def slow_verify(_password: str, _hashed: str | None) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.3)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(auth_routes, "verify_password", slow_verify)
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(
            pool.map(lambda n: _login(limited_client, f"u{n}@example.com").status_code, range(40))
        )
    assert 1 <= peak <= 4
    assert set(statuses) <= {401, 503}
    assert statuses.count(401) >= 1


# --- the client address behind the frontend proxy ---------------------------------------------

FRONTEND_POD = "10.244.0.7"


def _login_from(client: TestClient, forwarded_for: str) -> int:
    response: httpx.Response = client.post(
        "/api/auth/login",
        json={"email": "nobody@example.com", "password": DEFAULT_PASSWORD},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def test_two_clients_through_the_trusted_proxy_get_separate_login_limits(
    client_with: ClientWith,
) -> None:
    proxy = client_with(
        peer=FRONTEND_POD,
        TRUSTED_PROXIES="10.244.0.0/16",
        LOGIN_RATE_LIMIT_PER_CLIENT="2/minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="100/minute",
    )
    assert [_login_from(proxy, "198.51.100.1") for _ in range(3)] == [401, 401, 429]
    # Another browser behind the same frontend pod still has its own attempts.
    assert _login_from(proxy, "198.51.100.2") == 401


def test_forwarded_for_from_an_untrusted_peer_is_ignored(client_with: ClientWith) -> None:
    direct = client_with(
        peer="203.0.113.9",
        TRUSTED_PROXIES="10.244.0.0/16",
        LOGIN_RATE_LIMIT_PER_CLIENT="2/minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="100/minute",
    )
    # A new made-up address on every attempt does not buy new attempts.
    statuses = [_login_from(direct, f"198.51.100.{n}") for n in range(1, 4)]
    assert statuses == [401, 401, 429]


def test_forwarded_for_is_ignored_from_every_peer_by_default(client_with: ClientWith) -> None:
    # Not even loopback, where a `kubectl port-forward` into the pod arrives.
    local = client_with(
        peer="127.0.0.1",
        LOGIN_RATE_LIMIT_PER_CLIENT="2/minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="100/minute",
    )
    assert [_login_from(local, f"198.51.100.{n}") for n in range(1, 4)] == [401, 401, 429]


def test_a_client_cannot_pick_its_address_by_writing_ahead_of_the_proxy(
    client_with: ClientWith,
) -> None:
    """Each proxy appends the peer it saw: only the entries the trusted proxies added count."""
    proxy = client_with(
        peer=FRONTEND_POD,
        TRUSTED_PROXIES="10.244.0.0/16",
        LOGIN_RATE_LIMIT_PER_CLIENT="2/minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="100/minute",
    )
    statuses = [_login_from(proxy, f"192.0.2.{n}, 198.51.100.1") for n in range(1, 4)]
    assert statuses == [401, 401, 429]
