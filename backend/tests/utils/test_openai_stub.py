from __future__ import annotations

import json

import httpx
import pytest

from tests.utils.openai_stub import StubServer, plan_tool_call, reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Add a task called "Buy milk"', ("add_task", {"title": "Buy milk"})),
        ("add task named “Call mom”.", ("add_task", {"title": "Call mom"})),
        ("list my tasks", ("list_tasks", {})),
        ("List tasks please", ("list_tasks", {})),
        ("complete task 7", ("complete_task", {"task_id": 7})),
        ("complete Buy milk", ("complete_task", {"title": "Buy milk"})),
        ("delete task 'Old thing'", ("delete_task", {"title": "Old thing"})),
        ("what's the weather?", None),
    ],
)
def test_rules(text: str, expected: object) -> None:
    assert plan_tool_call(text) == expected


def test_tool_results_are_summarised() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "add task X"},
            {
                "role": "assistant",
                "tool_calls": [{"id": "c1", "function": {"name": "add_task", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"title": "X"})},
        ]
    }
    message = reply(body)["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "Added task “X”."}


def test_server_requires_a_bearer_key(openai_stub: StubServer) -> None:
    url = openai_stub.base_url + "/chat/completions"
    assert httpx.post(url, json={"messages": []}).status_code == 401
    response = httpx.post(
        url,
        json={"messages": [{"role": "user", "content": "list tasks"}]},
        headers={"Authorization": "Bearer test-key"},
    )
    assert response.json()["choices"][0]["finish_reason"] == "tool_calls"
