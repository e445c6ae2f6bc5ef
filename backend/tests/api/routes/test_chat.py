from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import create_engine

from app.core.config import Settings
from app.main import create_app
from tests.conftest import make_settings
from tests.utils.openai_stub import StubServer, running_stub
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


# --- Turns that wait for the model (issue 15) ---------------------------------------


def slow_model_settings(database_url: str, model: StubServer, **overrides: Any) -> Settings:
    return make_settings(
        database_url, OPENAI_API_KEY="test-key", OPENAI_BASE_URL=model.base_url, **overrides
    )


def test_slow_chats_leave_the_pool_to_other_requests_and_readiness(database_url: str) -> None:
    pool_size, pool_timeout = 2, 3.0
    slow_chats = pool_size + 2
    with running_stub() as model:
        model.hold = lambda _body: True
        settings = slow_model_settings(
            database_url,
            model,
            CHAT_MAX_CONCURRENT_PER_USER=slow_chats,
            CHAT_MAX_CONCURRENT_PER_POD=slow_chats,
        )
        app = create_app(settings)
        app.state.engine.dispose()
        app.state.engine = create_engine(
            database_url,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout,
            connect_args={"check_same_thread": False} if database_url.startswith("sqlite") else {},
        )
        with TestClient(app) as client, ThreadPoolExecutor(slow_chats) as pool:
            alice = register_and_login(client, "alice@example.com")
            bob = register_and_login(client, "bob@example.com")
            chats = [
                pool.submit(client.post, "/api/chat", json={"message": f"hi {i}"}, headers=alice)
                for i in range(slow_chats)
            ]
            assert model.wait_held(pool_size)
            started = time.monotonic()
            tasks = client.get("/api/tasks", headers=bob)
            ready = client.get("/readyz")
            waited = time.monotonic() - started
            all_waiting = model.wait_held(slow_chats, timeout=pool_timeout + 2)
            model.release.set()
            answers = [chat.result(timeout=30) for chat in chats]
        app.state.engine.dispose()
    assert (tasks.status_code, ready.status_code) == (200, 200), (tasks.text, ready.text)
    assert waited < pool_timeout
    assert all_waiting, "chats beyond the pool size never reached the model"
    assert [a.status_code for a in answers] == [200] * slow_chats


def test_chats_beyond_the_user_and_pod_limits_are_429_with_retry_after(
    database_url: str,
) -> None:
    with running_stub() as model:
        model.hold = lambda _body: True
        settings = slow_model_settings(
            database_url,
            model,
            CHAT_MAX_CONCURRENT_PER_USER=1,
            CHAT_MAX_CONCURRENT_PER_POD=2,
            CHAT_TURN_DEADLINE_SECONDS=20,
        )
        with TestClient(create_app(settings)) as client, ThreadPoolExecutor(2) as pool:
            alice, bob, carol = (
                register_and_login(client, f"{name}@example.com")
                for name in ("alice", "bob", "carol")
            )
            first = pool.submit(client.post, "/api/chat", json={"message": "hi"}, headers=alice)
            assert model.wait_held(1)
            again = client.post("/api/chat", json={"message": "hi again"}, headers=alice)
            second = pool.submit(client.post, "/api/chat", json={"message": "hi"}, headers=bob)
            assert model.wait_held(2)
            busy = client.post("/api/chat", json={"message": "hi"}, headers=carol)
            model.release.set()
            assert [first.result(30).status_code, second.result(30).status_code] == [200, 200]
            # The slots are given back: everyone may chat again.
            assert chat(client, carol, "hello")["response"] == "You said: hello"
            assert chat(client, alice, "hello")["response"] == "You said: hello"
    assert again.status_code == busy.status_code == 429
    assert 1 <= int(again.headers["Retry-After"]) <= 20
    assert 1 <= int(busy.headers["Retry-After"]) <= 20
    assert again.json()["detail"].startswith("You already have 1 assistant requests in progress")
    assert busy.json()["detail"].startswith("The assistant is busy (2 requests in progress")


def test_only_the_recent_history_is_sent_to_the_model(
    database_url: str, openai_stub: StubServer
) -> None:
    settings = slow_model_settings(
        database_url, openai_stub, CHAT_HISTORY_MAX_MESSAGES=3, CHAT_HISTORY_MAX_CHARS=50
    )

    def sent() -> list[tuple[str, str]]:
        return [(m["role"], m["content"]) for m in openai_stub.requests[-1]["messages"][1:]]

    with TestClient(create_app(settings)) as client:
        alice = register_and_login(client, "alice@example.com")
        conversation_id = chat(client, alice, "one")["conversation_id"]
        chat(client, alice, "two", conversation_id)
        assert sent() == [("user", "one"), ("assistant", "You said: one"), ("user", "two")]
        chat(client, alice, "three", conversation_id)
        assert sent() == [("user", "two"), ("assistant", "You said: two"), ("user", "three")]
        # 45 + 15 characters are more than 50: only the newest message goes.
        chat(client, alice, "z" * 45, conversation_id)
        assert sent() == [("user", "z" * 45)]


def test_a_model_call_past_its_timeout_is_504_without_changes(database_url: str) -> None:
    with running_stub() as model:
        model.hold = lambda _body: True
        settings = slow_model_settings(database_url, model, CHAT_MODEL_CALL_TIMEOUT_SECONDS=0.5)
        with TestClient(create_app(settings)) as client:
            alice = register_and_login(client, "alice@example.com")
            started = time.monotonic()
            response = client.post("/api/chat", json={"message": "add task Late"}, headers=alice)
            took = time.monotonic() - started
            assert task_titles(client, alice) == []
    assert response.status_code == 504
    assert took < 5
    body = response.json()
    assert body["detail"] == (
        "The AI assistant did not finish in time: the model did not answer within 0.5 s "
        "(CHAT_MODEL_CALL_TIMEOUT_SECONDS). Nothing was changed; try again."
    )
    assert body["tool_calls"] == []


def test_a_turn_past_its_deadline_reports_the_actions_already_done(database_url: str) -> None:
    with running_stub() as model:
        # The first call (asking for add_task) answers; the one after the tool result hangs.
        model.hold = lambda body: body["messages"][-1]["role"] == "tool"
        settings = slow_model_settings(database_url, model, CHAT_TURN_DEADLINE_SECONDS=1.5)
        with TestClient(create_app(settings)) as client:
            alice = register_and_login(client, "alice@example.com")
            started = time.monotonic()
            response = client.post(
                "/api/chat", json={"message": "add task Buy milk"}, headers=alice
            )
            took = time.monotonic() - started
            titles = task_titles(client, alice)
            body = response.json()
            detail = client.get(
                f"/api/chat/conversations/{body['conversation_id']}", headers=alice
            ).json()
    assert response.status_code == 504
    assert took < 4
    assert titles == ["Buy milk"]
    [call] = body["tool_calls"]
    assert (call["name"], call["result"]["title"]) == ("add_task", "Buy milk")
    assert body["detail"].startswith(
        "The AI assistant did not finish in time: the turn used up its 1.5 s "
        "(CHAT_TURN_DEADLINE_SECONDS). Before it stopped it had carried out: add_task (done); "
        "nothing else was changed."
    )
    # The conversation records what was done, for the user and for the model's next turn.
    assert [(m["role"], m["content"]) for m in detail["messages"]] == [
        ("user", "add task Buy milk"),
        ("assistant", body["detail"]),
    ]
    assert detail["messages"][1]["tool_calls"][0]["name"] == "add_task"


def test_an_out_of_range_task_id_from_the_model_is_a_tool_error(
    assistant_client: TestClient,
) -> None:
    alice = register_and_login(assistant_client, "alice@example.com")
    reply = chat(assistant_client, alice, f"complete task {2**70}")
    [call] = reply["tool_calls"]
    assert call["result"]["error"].startswith("Bad arguments for complete_task: task_id")
    assert reply["response"].startswith("Sorry, that did not work")


def _completion(message: dict[str, Any]) -> httpx.Response:
    # json.dumps escapes lone surrogates as \\udxxx, the way a provider's JSON would.
    return httpx.Response(200, content=json.dumps({"choices": [{"message": message}]}))


def test_unstorable_text_from_the_model_neither_fails_nor_is_stored(
    assistant_settings: Settings,
) -> None:
    def model(request: httpx.Request) -> httpx.Response:
        messages = json.loads(request.content)["messages"]
        if messages[-1]["role"] == "tool":
            return _completion({"content": "bad \ud800 and \x00 text"})
        arguments = '{"title": "a\\u0000b", "tags": ["\\ud800"]}'
        call = {
            "id": "c1",
            "type": "function",
            "function": {"name": "add_task", "arguments": arguments},
        }
        return _completion({"content": None, "tool_calls": [call]})

    app = create_app(assistant_settings)
    app.state.http_client = httpx.Client(transport=httpx.MockTransport(model))
    with TestClient(app) as client:
        alice = register_and_login(client, "alice@example.com")
        reply = chat(client, alice, "add it")
        stored = client.get(
            f"/api/chat/conversations/{reply['conversation_id']}", headers=alice
        ).json()
        assert task_titles(client, alice) == []
    assert reply["response"] == "bad \ufffd and \ufffd text"
    [call] = reply["tool_calls"]
    assert call["arguments"] == {"title": "a\ufffdb", "tags": ["\ufffd"]}
    assert call["result"]["error"].startswith("Bad arguments for add_task: ")
    assert "title: Value error, must not contain NUL" in call["result"]["error"]
    assert stored["messages"][1]["content"] == reply["response"]
