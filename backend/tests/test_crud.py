from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from app import crud
from app.models import RevokedToken


def revoked_jtis(session: Session) -> set[str]:
    return set(session.exec(select(col(RevokedToken.jti))).all())


def test_revoking_a_token_twice_is_not_an_error(db_session: Session) -> None:
    # Two logouts racing with the same token: the loser finds the row already there.
    expires_at = datetime.now(UTC) + timedelta(hours=1)
    crud.revoke_token(db_session, "same-jti", expires_at)
    with Session(db_session.get_bind()) as other_request:
        crud.revoke_token(other_request, "same-jti", expires_at)
    assert crud.is_token_revoked(db_session, "same-jti")
    assert not crud.is_token_revoked(db_session, "other-jti")


def test_purge_removes_only_expired_revocations_and_at_most_the_limit(
    db_session: Session,
) -> None:
    now = datetime.now(UTC)
    for index in range(3):
        crud.revoke_token(db_session, f"expired-{index}", now - timedelta(minutes=index + 1))
    crud.revoke_token(db_session, "valid", now + timedelta(minutes=1))

    assert crud.purge_expired_revocations(db_session, now, limit=2) == 2
    remaining = revoked_jtis(db_session)
    assert "valid" in remaining
    assert len(remaining) == 2  # one expired row left for the next purge

    assert crud.purge_expired_revocations(db_session, now) == 1
    assert revoked_jtis(db_session) == {"valid"}
    assert crud.purge_expired_revocations(db_session, now) == 0
