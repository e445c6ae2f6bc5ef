"""Queries shared by the HTTP routes and the assistant's tools.

Every function takes the owner's id: no code path reads or writes another user's rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, Literal, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.core.security import hash_password
from app.models import (
    Conversation,
    Message,
    Priority,
    RevokedToken,
    Task,
    TaskCreate,
    TaskUpdate,
    User,
    UserCreate,
    utcnow,
)

Status = Literal["all", "active", "completed"]
SortKey = Literal["created", "due", "priority", "title"]
Order = Literal["asc", "desc"]

# Expired revocations deleted per logout: each logout adds one row and can remove this many,
# so the table stays bounded without a logout ever paying for a large backlog at once.
REVOCATION_PURGE_BATCH = 100


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- Users -------------------------------------------------------------------


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.lower())).first()


def create_user(session: Session, user_in: UserCreate) -> User:
    user = User(email=user_in.email.lower(), hashed_password=hash_password(user_in.password))
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


# --- Revoked tokens ----------------------------------------------------------


def is_token_revoked(session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


def is_token_revoked_on(connection: Connection, jti: str) -> bool:
    """is_token_revoked, on a Core connection."""
    return connection.execute(_REVOKED_JTI, {"jti": jti}).first() is not None


# Built once: every authenticated request runs one of these, and building a statement costs
# as much as running it.
_REVOKED_JTI = sa.select(col(RevokedToken.jti)).where(col(RevokedToken.jti) == sa.bindparam("jti"))
_NOT_REVOKED = ~sa.exists().where(col(RevokedToken.jti) == sa.bindparam("jti"))
_UNREVOKED_USER = select(User).where(User.id == sa.bindparam("user_id"), _NOT_REVOKED)
_UNREVOKED_USER_ID = sa.select(col(User.id)).where(
    col(User.id) == sa.bindparam("user_id"), _NOT_REVOKED
)


def get_user_unless_revoked(session: Session, user_id: int, jti: str) -> User | None:
    """The user, or None when there is none or the token `jti` is revoked: one query, as
    every authenticated request asks both."""
    return session.exec(_UNREVOKED_USER, params={"user_id": user_id, "jti": jti}).first()


def user_exists_unless_revoked(connection: Connection, user_id: int, jti: str) -> bool:
    """get_user_unless_revoked for a caller that needs only the id: a Core row, no ORM."""
    params = {"user_id": user_id, "jti": jti}
    return connection.execute(_UNREVOKED_USER_ID, params).first() is not None


def revoke_token(session: Session, jti: str, expires_at: datetime) -> None:
    session.add(RevokedToken(jti=jti, expires_at=expires_at))
    try:
        session.commit()
    except IntegrityError:  # the same token was revoked by a concurrent logout
        session.rollback()


def purge_expired_revocations(
    session: Session, now: datetime, limit: int = REVOCATION_PURGE_BATCH
) -> int:
    """Delete up to `limit` revocations of tokens that have expired; return how many."""
    expired = (
        select(RevokedToken.jti)
        .where(RevokedToken.expires_at < now)
        .limit(limit)
        # Replicas purging at the same time take different rows instead of waiting.
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        sa.delete(RevokedToken).where(col(RevokedToken.jti).in_(expired.scalar_subquery()))
    )
    session.commit()
    # A DELETE always yields a CursorResult; Session.execute is typed for any statement.
    return int(cast(sa.CursorResult[Any], result).rowcount)


# --- Tasks -------------------------------------------------------------------


def create_task(session: Session, owner_id: int, task_in: TaskCreate) -> Task:
    task = Task.model_validate(task_in, update={"owner_id": owner_id})
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


def get_task(session: Session, owner_id: int, task_id: int) -> Task | None:
    return session.exec(select(Task).where(Task.id == task_id, Task.owner_id == owner_id)).first()


class _TaskPageStatements(NamedTuple):
    page: sa.Select[Task, int]
    matches: sa.Select[int]
    # The page of a token's user: no row when the user is gone or the token revoked.
    user_page: sa.Select[Task, int]


@cache
def _task_page_statements(
    status: Status,
    searched: bool,
    by_priority: bool,
    by_tag: bool,
    sort: SortKey,
    order: Order,
) -> _TaskPageStatements:
    """The statements of one shape of list query.

    Built once per shape (at most 192), with the values as bound parameters: building the
    statement cost as much as running it, and SQLAlchemy caches the compiled SQL by shape.
    """
    conditions: list[sa.ColumnElement[bool]] = []
    if searched:
        pattern = sa.bindparam("pattern", type_=sa.String)
        conditions.append(
            sa.or_(
                col(Task.title).ilike(pattern, escape="\\"),
                col(Task.description).ilike(pattern, escape="\\"),
            )
        )
    if status == "active":
        conditions.append(col(Task.completed).is_(False))
    elif status == "completed":
        conditions.append(col(Task.completed).is_(True))
    if by_priority:
        conditions.append(col(Task.priority) == sa.bindparam("priority"))
    if by_tag:
        # Tags are stored as a JSON array written by json.dumps, so each element
        # appears verbatim as its own JSON string; this works on SQLite and PostgreSQL.
        needle = sa.bindparam("tag_pattern", type_=sa.Text)
        conditions.append(sa.cast(col(Task.tags), sa.Text).like(needle, escape="\\"))

    sort_column: sa.ColumnElement[object]
    if sort == "due":
        sort_column = col(Task.due_date)  # type: ignore[assignment]
    elif sort == "priority":
        sort_column = sa.case(
            {Priority.low.value: 0, Priority.medium.value: 1, Priority.high.value: 2},
            value=col(Task.priority),
        )
    elif sort == "title":
        sort_column = func.lower(col(Task.title))
    else:
        sort_column = col(Task.created_at)  # type: ignore[assignment]
    direction = sort_column.asc() if order == "asc" else sort_column.desc()
    tiebreak = col(Task.id).asc() if order == "asc" else col(Task.id).desc()

    # The page and the number of matches in one query: the window counts the rows that
    # match before LIMIT/OFFSET take the page out of them.
    owned = col(Task.owner_id) == sa.bindparam("owner_id")
    page = (
        sa.select(Task, func.count().over().label("total"))
        .where(owned, *conditions)
        .order_by(direction.nulls_last(), tiebreak)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )
    count = sa.select(func.count()).select_from(Task).where(owned, *conditions)
    # The user's row joined to the matching tasks: with no match, one row of NULL task
    # columns says the user may read, so the check and the page are one query.
    user_page = (
        sa.select(Task, func.count(col(Task.id)).over().label("total"))
        .select_from(User)
        .outerjoin(Task, sa.and_(col(Task.owner_id) == col(User.id), *conditions))
        .where(col(User.id) == sa.bindparam("owner_id"), _NOT_REVOKED)
        .order_by(direction.nulls_last(), tiebreak)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )
    return _TaskPageStatements(page, count, user_page)


def _task_page_query(
    owner_id: int,
    *,
    q: str | None,
    status: Status,
    priority: Priority | None,
    tag: str | None,
    sort: SortKey,
    order: Order,
    limit: int,
    offset: int,
) -> tuple[_TaskPageStatements, dict[str, Any]]:
    statements = _task_page_statements(
        status, bool(q), priority is not None, bool(tag), sort, order
    )
    params: dict[str, Any] = {"owner_id": owner_id, "limit": limit, "offset": offset}
    if q:
        params["pattern"] = _like_pattern(q.strip())
    if priority is not None:
        params["priority"] = priority.value
    if tag:
        params["tag_pattern"] = _like_pattern(json.dumps(tag.strip()))
    return statements, params


def list_tasks(
    session: Session,
    owner_id: int,
    *,
    q: str | None = None,
    status: Status = "all",
    priority: Priority | None = None,
    tag: str | None = None,
    sort: SortKey = "created",
    order: Order = "desc",
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Task], int]:
    statements, params = _task_page_query(
        owner_id,
        q=q,
        status=status,
        priority=priority,
        tag=tag,
        sort=sort,
        order=order,
        limit=limit,
        offset=offset,
    )
    rows = session.execute(statements.page, params).all()
    if rows:
        return [task for task, _ in rows], rows[0][1]
    if offset == 0:
        return [], 0
    # A page past the end has no row to carry the count.
    return [], session.execute(statements.matches, params).scalar_one()


def list_task_rows_unless_revoked(
    connection: Connection,
    owner_id: int,
    jti: str,
    *,
    q: str | None = None,
    status: Status = "all",
    priority: Priority | None = None,
    tag: str | None = None,
    sort: SortKey = "created",
    order: Order = "desc",
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[RowMapping], int] | None:
    """list_tasks on a Core connection, each task as its row of columns (no ORM object),
    together with get_user_unless_revoked's check: None when the user is gone or the token
    `jti` revoked. One query, unless the page is past the end."""
    statements, params = _task_page_query(
        owner_id,
        q=q,
        status=status,
        priority=priority,
        tag=tag,
        sort=sort,
        order=order,
        limit=limit,
        offset=offset,
    )
    params["jti"] = jti
    rows = connection.execute(statements.user_page, params).mappings().all()
    if rows:
        total: int = rows[0]["total"]
        return ([], 0) if rows[0]["id"] is None else (rows, total)
    # No row at all: a page past the end, or a token that may not read.
    if not user_exists_unless_revoked(connection, owner_id, jti):
        return None
    return [], connection.execute(statements.matches, params).scalar_one()


def update_task(session: Session, task: Task, task_in: TaskUpdate) -> Task:
    task.sqlmodel_update(task_in.model_dump(exclude_unset=True))
    task.updated_at = utcnow()
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


def delete_task(session: Session, task: Task) -> None:
    session.delete(task)
    session.commit()


def find_tasks_by_title(session: Session, owner_id: int, title: str) -> Sequence[Task]:
    """Exact (case-insensitive) title matches, else substring matches."""
    wanted = title.strip().lower()
    exact = session.exec(
        select(Task).where(Task.owner_id == owner_id, func.lower(Task.title) == wanted)
    ).all()
    if exact:
        return exact
    return session.exec(
        select(Task)
        .where(Task.owner_id == owner_id, col(Task.title).ilike(_like_pattern(wanted), escape="\\"))
        .order_by(col(Task.id))
    ).all()


# --- Conversations -----------------------------------------------------------


def get_conversation(session: Session, owner_id: int, conversation_id: int) -> Conversation | None:
    return session.exec(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.owner_id == owner_id
        )
    ).first()


def list_conversations(session: Session, owner_id: int) -> Sequence[Conversation]:
    return session.exec(
        select(Conversation)
        .where(Conversation.owner_id == owner_id)
        .order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc())
    ).all()


def get_messages(session: Session, conversation_id: int) -> Sequence[Message]:
    return session.exec(
        select(Message).where(Message.conversation_id == conversation_id).order_by(col(Message.id))
    ).all()
