"""Database tables and API schemas, as Base/Create/Update/Public/table families."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from annotated_types import MaxLen
from pydantic import EmailStr, StringConstraints, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema
from sqlmodel import JSON, Column, Field, SQLModel

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
# Every id column is a PostgreSQL INTEGER; a larger id or offset is refused before any query.
MAX_DB_INT = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def check_storable_text(value: Any) -> Any:
    """Refuse text that PostgreSQL or UTF-8 cannot store, instead of failing in the database.

    JSON may spell both: "\\u0000" (NUL) and a lone "\\ud800" (half a surrogate pair).
    Non-strings pass through for the field's own type check.
    """
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters; remove them and resend")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            "must be valid Unicode: a lone surrogate (\\ud800-\\udfff) is not a character; "
            "send the full surrogate pair or the character itself"
        ) from exc
    return value


# --- Users -------------------------------------------------------------------


# The longest address email-validator accepts (RFC 5321's 256-octet path less its brackets); the
# column holds 255.
MAX_EMAIL_LENGTH = 254


class UserBase(SQLModel):
    email: EmailStr = Field(max_length=MAX_EMAIL_LENGTH)


class UserCreate(UserBase):
    password: str = Field(min_length=8, max_length=128)

    _text = field_validator("email", "password", mode="before")(check_storable_text)

    @field_validator("email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        return value.lower()


class UserLogin(SQLModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)

    _text = field_validator("email", "password", mode="before")(check_storable_text)

    @field_validator("email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        return value.lower()


class User(UserBase, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=255, sa_column_kwargs={"unique": True}, index=True)
    hashed_password: str = Field(max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
    )


class UserPublic(UserBase):
    id: int
    created_at: datetime

    _utc = field_validator("created_at")(_as_utc)


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class RevokedToken(SQLModel, table=True):
    """A logged-out access token, refused until it would have expired anyway.

    The row is only needed while the token could still be presented, so rows whose
    `expires_at` has passed are purged.
    """

    __tablename__ = "revoked_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)


# --- Tasks -------------------------------------------------------------------


class Priority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


def _clean_tags(value: list[str] | None) -> list[str] | None:
    # Runs after the field's max_length, so it never sees more than MAX_TAGS entries.
    if value is None:
        return None
    tags: list[str] = []
    for raw in value:
        check_storable_text(raw)
        tag = raw.strip()
        if not tag:
            raise ValueError("tags must not be empty")
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"each tag must be at most {MAX_TAG_LENGTH} characters")
        tags.append(tag)
    # dict keeps the first occurrence's order, in linear time.
    return list(dict.fromkeys(tags))


def _boolean_only(value: Any) -> Any:
    # pydantic would read 0, 1, "yes" or "false" as a boolean: the document says a boolean.
    if value is not None and not isinstance(value, bool):
        raise ValueError("completed must be true or false")
    return value


def _date_only(value: Any) -> Any:
    # Accept a full datetime (ISO string or object) and keep its calendar date. A number is no
    # date (pydantic would read 0 as 1970-01-01): the document says a string of format date.
    if isinstance(value, int | float):
        raise ValueError("due_date must be a date (YYYY-MM-DD), not a number")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    return value


class TaskBase(SQLModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    completed: bool = False
    priority: Priority = Priority.medium
    tags: list[str] = Field(
        default_factory=list, max_length=MAX_TAGS, sa_column=Column(JSON, nullable=False)
    )
    due_date: date | None = None


class TaskCreate(TaskBase):
    @field_validator("title")
    @classmethod
    def _strip_title(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("title must not be blank")
        return value

    _text = field_validator("title", "description", mode="before")(check_storable_text)
    _tags = field_validator("tags")(_clean_tags)
    _due = field_validator("due_date", mode="before")(_date_only)
    _completed = field_validator("completed", mode="before")(_boolean_only)


Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TaskUpdate(SQLModel):
    # Optional, but not nullable where _reject_null_for_required refuses null: the document
    # leaves null out of those fields (SkipJsonSchema), as validation does.
    title: Title | SkipJsonSchema[None] = None
    description: str | None = Field(default=None, max_length=5000)
    completed: bool | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None
    tags: Annotated[list[str], MaxLen(MAX_TAGS)] | SkipJsonSchema[None] = None
    due_date: date | None = None

    @field_validator("title")
    @classmethod
    def _strip_title(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("title must not be blank")
        return value

    _text = field_validator("title", "description", mode="before")(check_storable_text)
    _tags = field_validator("tags")(_clean_tags)
    _due = field_validator("due_date", mode="before")(_date_only)
    _completed = field_validator("completed", mode="before")(_boolean_only)

    @model_validator(mode="after")
    def _reject_null_for_required(self) -> TaskUpdate:
        # Omitting a field leaves it alone; sending null for a required one is an error.
        for name in ("title", "completed", "priority", "tags"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} must not be null")
        return self


class Task(TaskBase, table=True):
    __tablename__ = "tasks"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    priority: Priority = Field(default=Priority.medium, sa_type=sa.String(10))
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
    )
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
    )


class TaskPublic(TaskBase):
    id: int
    created_at: datetime
    updated_at: datetime

    _utc = field_validator("created_at", "updated_at")(_as_utc)


class TasksPublic(SQLModel):
    items: list[TaskPublic]
    total: int
    limit: int
    offset: int


# --- Assistant conversations ---------------------------------------------------


class ToolCallRecord(SQLModel):
    name: str
    arguments: dict[str, Any]
    result: Any


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
    )
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
    )


class ConversationPublic(SQLModel):
    id: int
    title: str
    created_at: datetime
    updated_at: datetime

    _utc = field_validator("created_at", "updated_at")(_as_utc)


class Message(SQLModel, table=True):
    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversations.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)
    content: str = Field(sa_type=sa.Text)
    tool_calls: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
    )


class MessagePublic(SQLModel):
    id: int
    role: str
    content: str
    tool_calls: list[ToolCallRecord]
    created_at: datetime

    _utc = field_validator("created_at")(_as_utc)


class ConversationDetail(ConversationPublic):
    messages: list[MessagePublic]


class ChatRequest(SQLModel):
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_DB_INT)
    message: str = Field(min_length=1, max_length=4000)

    _text = field_validator("message", mode="before")(check_storable_text)


class ChatResponse(SQLModel):
    conversation_id: int
    response: str
    tool_calls: list[ToolCallRecord]


class ChatStatus(SQLModel):
    enabled: bool
