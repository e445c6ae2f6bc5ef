"""The assistant endpoint and the conversation history a client resumes from.

A turn holds no database connection while the model thinks: the conversation is read in
one short session, each tool call runs in its own, and the answer is stored in a last one.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import crud
from app.agent import (
    Agent,
    AgentError,
    ChatLimiter,
    TaskTools,
    TurnDeadlineError,
    history_window,
)
from app.api.deps import CurrentUser, ResourceId, SessionDep, SettingsDep, get_engine
from app.api.errors import NOT_FOUND, TOO_MANY_REQUESTS, UNAUTHORIZED
from app.core.config import Settings
from app.models import (
    ChatRequest,
    ChatResponse,
    ChatStatus,
    Conversation,
    ConversationDetail,
    ConversationPublic,
    Message,
    MessagePublic,
    ToolCallRecord,
    utcnow,
)

router = APIRouter(prefix="/chat", tags=["chat"])

NOT_CONFIGURED = (
    "The AI assistant is not configured: set OPENAI_API_KEY (and optionally "
    "OPENAI_BASE_URL / OPENAI_MODEL) on the backend."
)


class ChatFailure(BaseModel):
    """A turn that ended without the model's answer. `tool_calls` are the actions it had
    already carried out; each was committed on its own, nothing else changed."""

    detail: str
    conversation_id: int
    tool_calls: list[ToolCallRecord]


def get_agent(request: Request, settings: SettingsDep) -> Agent:
    if not settings.assistant_enabled:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, NOT_CONFIGURED)
    client: httpx.Client = request.app.state.http_client
    return Agent(settings, client)


def get_chat_limiter(request: Request) -> ChatLimiter:
    limiter: ChatLimiter = request.app.state.chat_limiter
    return limiter


AgentDep = Annotated[Agent, Depends(get_agent)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ChatLimiterDep = Annotated[ChatLimiter, Depends(get_chat_limiter)]


# Needs no token, so unlike the other chat operations it declares no 401.
@router.get("/status", response_model=ChatStatus)
def chat_status(settings: SettingsDep) -> ChatStatus:
    return ChatStatus(enabled=settings.assistant_enabled)


def _begin_turn(
    engine: Engine, settings: Settings, owner_id: int, body: ChatRequest
) -> tuple[int, list[dict[str, Any]]]:
    """Store the user's message (kept even if the model fails, so a retry sees it) and
    return the conversation's id and the window of its history the model gets."""
    with Session(engine) as session:
        if body.conversation_id is None:
            conversation = Conversation(owner_id=owner_id, title=body.message.strip()[:80])
        else:
            found = crud.get_conversation(session, owner_id, body.conversation_id)
            if found is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "Conversation not found")
            conversation = found
        conversation.updated_at = utcnow()
        session.add(conversation)
        session.flush()
        assert conversation.id is not None
        conversation_id = conversation.id
        session.add(Message(conversation_id=conversation_id, role="user", content=body.message))
        session.commit()
        newest = session.exec(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(col(Message.id).desc())
            .limit(settings.CHAT_HISTORY_MAX_MESSAGES)
        ).all()
    history = [{"role": m.role, "content": m.content} for m in reversed(newest)]
    return conversation_id, history_window(history, settings.CHAT_HISTORY_MAX_CHARS)


def _store_answer(
    engine: Engine, conversation_id: int, content: str, records: list[ToolCallRecord]
) -> None:
    with Session(engine) as session:
        session.add(
            Message(
                conversation_id=conversation_id,
                role="assistant",
                content=content,
                tool_calls=[r.model_dump(mode="json") for r in records],
            )
        )
        conversation = session.get(Conversation, conversation_id)
        if conversation is not None:
            conversation.updated_at = utcnow()
            session.add(conversation)
        session.commit()


def _failure_detail(exc: AgentError) -> str:
    if isinstance(exc, TurnDeadlineError):
        what = f"The AI assistant did not finish in time: {exc.reason}."
    else:
        what = f"The AI assistant is unavailable: {exc.reason}."
    if not exc.done:
        return f"{what} Nothing was changed; try again."
    actions = ", ".join(
        f"{r.name} ({'failed' if isinstance(r.result, dict) and 'error' in r.result else 'done'})"
        for r in exc.done
    )
    return (
        f"{what} Before it stopped it had carried out: {actions}; nothing else was changed. "
        "Check your tasks before asking again."
    )


@router.post(
    "",
    response_model=ChatResponse,
    responses={
        **UNAUTHORIZED,
        **NOT_FOUND,
        **TOO_MANY_REQUESTS,
        status.HTTP_502_BAD_GATEWAY: {
            "model": ChatFailure,
            "description": "The model provider failed; lists the actions already done.",
        },
        status.HTTP_504_GATEWAY_TIMEOUT: {
            "model": ChatFailure,
            "description": (
                "The turn passed CHAT_TURN_DEADLINE_SECONDS or a model call passed "
                "CHAT_MODEL_CALL_TIMEOUT_SECONDS; lists the actions already done."
            ),
        },
    },
)
def chat(
    auth_session: SessionDep,
    user: CurrentUser,
    agent: AgentDep,
    engine: EngineDep,
    limiter: ChatLimiterDep,
    settings: SettingsDep,
    body: ChatRequest,
) -> ChatResponse | JSONResponse:
    deadline = time.monotonic() + settings.CHAT_TURN_DEADLINE_SECONDS
    assert user.id is not None
    owner_id = user.id
    # Authentication ran on the request's session; give its connection back now rather
    # than when the response is sent, or every slow turn would pin one.
    auth_session.close()
    release = limiter.acquire(owner_id)
    try:
        conversation_id, history = _begin_turn(engine, settings, owner_id, body)
        try:
            result = agent.run(TaskTools(engine, owner_id), history, deadline)
        except AgentError as exc:
            detail = _failure_detail(exc)
            if exc.done:
                # The actions happened: the conversation says so, for the user and the model.
                _store_answer(engine, conversation_id, detail, exc.done)
            failure = ChatFailure(
                detail=detail, conversation_id=conversation_id, tool_calls=exc.done
            )
            code = (
                status.HTTP_504_GATEWAY_TIMEOUT
                if isinstance(exc, TurnDeadlineError)
                else status.HTTP_502_BAD_GATEWAY
            )
            return JSONResponse(failure.model_dump(mode="json"), status_code=code)
        _store_answer(engine, conversation_id, result.response, result.tool_calls)
    finally:
        release()
    return ChatResponse(
        conversation_id=conversation_id, response=result.response, tool_calls=result.tool_calls
    )


@router.get("/conversations", response_model=list[ConversationPublic], responses=UNAUTHORIZED)
def list_conversations(session: SessionDep, user: CurrentUser) -> list[ConversationPublic]:
    assert user.id is not None
    return [ConversationPublic.model_validate(c) for c in crud.list_conversations(session, user.id)]


@router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationDetail,
    responses={**UNAUTHORIZED, **NOT_FOUND},
)
def read_conversation(
    session: SessionDep, user: CurrentUser, conversation_id: ResourceId
) -> ConversationDetail:
    assert user.id is not None
    conversation = crud.get_conversation(session, user.id, conversation_id)
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Conversation not found")
    messages = [
        MessagePublic.model_validate(m) for m in crud.get_messages(session, conversation_id)
    ]
    return ConversationDetail(
        **ConversationPublic.model_validate(conversation).model_dump(), messages=messages
    )
