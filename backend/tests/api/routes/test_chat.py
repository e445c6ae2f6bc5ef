from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from tests.conftest import make_settings
from tests.utils.openai_stub import StubServer
from tests.utils.users import AuthHeaders, register_and_login


def chat(
    client: TestClient, headers: AuthHeaders, message: str, conversation_id: int | None = None
) -> dict[str, Any]:
    response = client.post(
        "/api/chat", json={"message": message, "conversation_id": conversation_id}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def task_titles(client: TestClient, headers: AuthHeaders, **params: Any) -> list[str]:
    items = client.get("/api/tasks", params=params, headers=headers).json()["items"]
    return sorted(t["title"] for t in items)


def test_status_reports_whether_the_assistant_is_configured(
    client: TestClient, assistant_client: TestClient
) -> None:
    assert client.get("/api/chat/status").json() == {"enabled": False}
    assert assistant_client.get("/api/chat/status").json() == {"enabled": True}


def test_chat_without_api_key_is_503_with_explanation(
    client: TestClient, alice: AuthHeaders
) -> None:
    response = client.post("/api/chat", json={"message": "hi"}, headers=alice)
    assert response.status_code == 503
    assert response.json()["detail"].startswith(
        "The AI assistant is not configured: set OPENAI_API_KEY"
    )


def test_chat_requires_authentication(assistant_client: TestClient) -> None:
    assert assistant_client.post("/api/chat", json={"message": "hi"}).status_code == 401


def test_agent_manages_only_the_callers_tasks(assistant_client: TestClient) -> None:
    client = assistant_client
    alice = register_and_login(client, "alice@example.com")
    bob = register_and_login(client, "bob@example.com")
    client.post("/api/tasks", json={"title": "Buy milk"}, headers=bob)

    added = chat(client, alice, 'Add a task called "Buy milk"')
    assert added["response"] == "Added task “Buy milk”."
    [call] = added["tool_calls"]
    assert (call["name"], call["arguments"]) == ("add_task", {"title": "Buy milk"})
    assert call["result"]["title"] == "Buy milk"
    conversation_id = added["conversation_id"]

    chat(client, alice, "add task Walk the dog", conversation_id)
    listed = chat(client, alice, "list my tasks", conversation_id)
    assert listed["tool_calls"][0]["result"]["total"] == 2
    assert "Walk the dog" in listed["response"]

    completed = chat(client, alice, "complete Buy milk", conversation_id)
    assert completed["response"] == "Completed task “Buy milk”."
    assert task_titles(client, alice, status="completed") == ["Buy milk"]

    deleted = chat(client, alice, "delete task Walk the dog", conversation_id)
    assert deleted["response"] == "Deleted task “Walk the dog”."
    assert task_titles(client, alice) == ["Buy milk"]

    # Bob's task of the same name was neither completed nor deleted.
    bob_tasks = client.get("/api/tasks", headers=bob).json()["items"]
    assert [(t["title"], t["completed"]) for t in bob_tasks] == [("Buy milk", False)]


def test_tool_errors_are_reported_not_raised(assistant_client: TestClient) -> None:
    alice = register_and_login(assistant_client, "alice@example.com")
    reply = chat(assistant_client, alice, "complete Nonexistent")
    assert reply["tool_calls"][0]["result"] == {"error": "No task titled 'Nonexistent'"}
    assert reply["response"].startswith("Sorry")


def test_plain_messages_get_a_text_reply_without_tools(assistant_client: TestClient) -> None:
    alice = register_and_login(assistant_client, "alice@example.com")
    reply = chat(assistant_client, alice, "hello there")
    assert reply == {
        "conversation_id": reply["conversation_id"],
        "response": "You said: hello there",
        "tool_calls": [],
    }


def test_conversation_is_persisted_and_resumed_by_a_new_app_instance(
    assistant_settings: Settings, openai_stub: StubServer
) -> None:
    with TestClient(create_app(assistant_settings)) as first:
        alice = register_and_login(first, "alice@example.com")
        conversation_id = chat(first, alice, "add task Renew passport")["conversation_id"]

    # A fresh process: nothing in memory, everything comes from the database.
    with TestClient(create_app(assistant_settings)) as second:
        conversations = second.get("/api/chat/conversations", headers=alice).json()
        assert [(c["id"], c["title"]) for c in conversations] == [
            (conversation_id, "add task Renew passport")
        ]
        chat(second, alice, "hello again", conversation_id)
        sent = openai_stub.requests[-1]["messages"]
        assert [(m["role"], m["content"]) for m in sent[1:]] == [
            ("user", "add task Renew passport"),
            ("assistant", "Added task “Renew passport”."),
            ("user", "hello again"),
        ]
        detail = second.get(f"/api/chat/conversations/{conversation_id}", headers=alice).json()
    roles = [(m["role"], m["content"]) for m in detail["messages"]]
    assert roles == [
        ("user", "add task Renew passport"),
        ("assistant", "Added task “Renew passport”."),
        ("user", "hello again"),
        ("assistant", "You said: hello again"),
    ]
    assert detail["messages"][1]["tool_calls"][0]["name"] == "add_task"


def test_other_users_conversations_are_not_found(assistant_client: TestClient) -> None:
    alice = register_and_login(assistant_client, "alice@example.com")
    bob = register_and_login(assistant_client, "bob@example.com")
    conversation_id = chat(assistant_client, alice, "hello")["conversation_id"]
    url = f"/api/chat/conversations/{conversation_id}"
    assert assistant_client.get(url, headers=bob).status_code == 404
    assert assistant_client.get("/api/chat/conversations", headers=bob).json() == []
    response = assistant_client.post(
        "/api/chat", json={"message": "hi", "conversation_id": conversation_id}, headers=bob
    )
    assert response.status_code == 404


def test_unreachable_model_provider_is_502(database_url: str) -> None:
    settings = make_settings(
        database_url, OPENAI_API_KEY="test-key", OPENAI_BASE_URL="http://127.0.0.1:9/v1"
    )
    with TestClient(create_app(settings)) as client:
        alice = register_and_login(client, "alice@example.com")
        response = client.post("/api/chat", json={"message": "hi"}, headers=alice)
        assert response.status_code == 502
        assert response.json()["detail"].startswith("The AI assistant is unavailable")
        # The user's message is kept so the conversation shows what was asked.
        [conversation] = client.get("/api/chat/conversations", headers=alice).json()
        detail = client.get(f"/api/chat/conversations/{conversation['id']}", headers=alice).json()
        assert [m["role"] for m in detail["messages"]] == ["user"]


def test_agent_stops_after_the_iteration_limit(database_url: str, openai_stub: StubServer) -> None:
    settings = make_settings(
        database_url,
        OPENAI_API_KEY="test-key",
        OPENAI_BASE_URL=openai_stub.base_url,
        AGENT_MAX_ITERATIONS=1,
    )
    with TestClient(create_app(settings)) as client:
        alice = register_and_login(client, "alice@example.com")
        reply = chat(client, alice, "add task Only one step")
    assert reply["response"].startswith("I stopped after 1 steps")
    assert [c["name"] for c in reply["tool_calls"]] == ["add_task"]
