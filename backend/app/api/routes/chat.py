"""The assistant endpoint and the conversation history a client resumes from."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, status

from app import crud
from app.agent import Agent, AssistantUnavailableError, TaskTools
from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.models import (
    ChatRequest,
    ChatResponse,
    ChatStatus,
    Conversation,
    ConversationDetail,
    ConversationPublic,
    Message,
    MessagePublic,
    utcnow,
)

router = APIRouter(prefix="/chat", tags=["chat"])

NOT_CONFIGURED = (
    "The AI assistant is not configured: set OPENAI_API_KEY (and optionally "
    "OPENAI_BASE_URL / OPENAI_MODEL) on the backend."
)


def get_agent(request: Request, settings: SettingsDep) -> Agent:
    if not settings.assistant_enabled:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, NOT_CONFIGURED)
    client: httpx.Client = request.app.state.http_client
    return Agent(settings, client)


AgentDep = Annotated[Agent, Depends(get_agent)]


@router.get("/status", response_model=ChatStatus)
def chat_status(settings: SettingsDep) -> ChatStatus:
    return ChatStatus(enabled=settings.assistant_enabled)


@router.post("", response_model=ChatResponse)
def chat(
    session: SessionDep, user: CurrentUser, agent: AgentDep, body: ChatRequest
) -> ChatResponse:
    assert user.id is not None
    if body.conversation_id is None:
        conversation = Conversation(owner_id=user.id, title=body.message.strip()[:80])
        session.add(conversation)
        session.flush()
    else:
        found = crud.get_conversation(session, user.id, body.conversation_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Conversation not found")
        conversation = found
    assert conversation.id is not None

    # The user's message is kept even if the model call fails, so a retry sees it.
    session.add(Message(conversation_id=conversation.id, role="user", content=body.message))
    conversation.updated_at = utcnow()
    session.add(conversation)
    session.commit()

    history: list[dict[str, Any]] = [
        {"role": m.role, "content": m.content} for m in crud.get_messages(session, conversation.id)
    ]
    try:
        result = agent.run(TaskTools(session, user.id), history)
    except AssistantUnavailableError as exc:
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY, f"The AI assistant is unavailable: {exc}"
        ) from exc

    session.add(
        Message(
            conversation_id=conversation.id,
            role="assistant",
            content=result.response,
            tool_calls=[r.model_dump(mode="json") for r in result.tool_calls],
        )
    )
    conversation.updated_at = utcnow()
    session.add(conversation)
    session.commit()
    return ChatResponse(
        conversation_id=conversation.id, response=result.response, tool_calls=result.tool_calls
    )


@router.get("/conversations", response_model=list[ConversationPublic])
def list_conversations(session: SessionDep, user: CurrentUser) -> list[ConversationPublic]:
    assert user.id is not None
    return [ConversationPublic.model_validate(c) for c in crud.list_conversations(session, user.id)]


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
def read_conversation(
    session: SessionDep, user: CurrentUser, conversation_id: int
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
