from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, create_engine

from app import crud
from app.agent import TOOL_ARGUMENTS, TOOLS, TaskTools, history_window, parse_arguments
from app.models import TaskCreate, UserCreate


@pytest.fixture
def tools(database_url: str) -> Iterator[TaskTools]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        owner = crud.create_user(session, UserCreate(email="a@example.com", password="p" * 10))
        other = crud.create_user(session, UserCreate(email="b@example.com", password="p" * 10))
        assert owner.id is not None and other.id is not None
        crud.create_task(session, other.id, TaskCreate(title="Report"))
        owner_id = owner.id
    yield TaskTools(engine, owner_id)
    engine.dispose()


def test_every_declared_tool_is_implemented(tools: TaskTools) -> None:
    for tool in TOOLS:
        assert hasattr(tools, f"tool_{tool['function']['name']}")


def test_update_task_by_title(tools: TaskTools) -> None:
    tools.run("add_task", {"title": "Report", "priority": "low"})
    result = tools.run(
        "update_task",
        {"title": "report", "new_title": "Final report", "priority": "high", "tags": ["work"]},
    )
    assert (result["title"], result["priority"], result["tags"]) == (
        "Final report",
        "high",
        ["work"],
    )


def test_ambiguous_title_asks_for_an_id(tools: TaskTools) -> None:
    first = tools.run("add_task", {"title": "Call Ann"})
    second = tools.run("add_task", {"title": "Call Bob"})
    result = tools.run("complete_task", {"title": "call"})
    assert result["error"].startswith("2 tasks match 'call'; use task_id")
    assert tools.run("complete_task", {"task_id": second["id"]})["completed"] is True
    assert tools.run("list_tasks", {"status": "active"})["tasks"][0]["id"] == first["id"]


def test_other_users_tasks_are_out_of_reach(tools: TaskTools) -> None:
    assert tools.run("delete_task", {"title": "Report"}) == {"error": "No task titled 'Report'"}
    assert tools.run("list_tasks", {}) == {"total": 0, "tasks": []}
    # A model cannot smuggle in another owner.
    tools.run("add_task", {"title": "Mine", "owner_id": tools.owner_id + 1})
    assert [t["title"] for t in tools.run("list_tasks", {})["tasks"]] == ["Mine"]


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("add_task", {"title": "x", "priority": "urgent"}, "Bad arguments for add_task: priority"),
        ("add_task", {"title": " "}, "Invalid task: title"),
        ("add_task", {}, "Bad arguments for add_task: title: Field required"),
        ("add_task", None, "Bad arguments for add_task: send a JSON object"),
        ("list_tasks", {"status": "someday"}, "Bad arguments for list_tasks: status"),
        ("complete_task", {}, "Give task_id or title"),
        ("complete_task", {"task_id": 999}, "No task with id 999"),
        ("drop_database", {}, "Unknown tool 'drop_database'"),
    ],
)
def test_bad_calls_return_errors_for_the_model(
    tools: TaskTools, name: str, arguments: dict[str, object] | None, error: str
) -> None:
    assert tools.run(name, arguments)["error"].startswith(error)


def test_each_tool_validates_exactly_the_arguments_it_declares() -> None:
    for tool in TOOLS:
        name = tool["function"]["name"]
        declared = set(tool["function"]["parameters"]["properties"])
        assert declared == set(TOOL_ARGUMENTS[name].model_fields), name


@pytest.mark.parametrize(
    ("name", "raw", "error"),
    [
        ("add_task", '{"title": "a\\u0000b"}', "title: Value error, must not contain NUL"),
        ("add_task", '{"title": "\\ud800"}', "title: Value error, must be valid Unicode"),
        ("add_task", '{"title": "x", "tags": ["ok", "\\u0000"]}', "tags.1: Value error"),
        ("update_task", '{"task_id": 1, "description": "\\u0000"}', "description: Value error"),
        ("list_tasks", '{"q": "\\u0000"}', "q: Value error"),
        ("complete_task", '{"task_id": 2147483648}', "task_id: Input should be less than"),
        ("delete_task", '{"task_id": 0}', "task_id: Input should be greater than"),
        ("complete_task", '{"task_id": 1' + "0" * 5000 + "}", "send a JSON object"),
        ("complete_task", "[1, 2]", "send a JSON object"),
    ],
)
def test_arguments_the_database_cannot_take_are_tool_errors(
    tools: TaskTools, name: str, raw: str, error: str
) -> None:
    result = tools.run(name, parse_arguments(raw))
    assert result["error"].startswith(f"Bad arguments for {name}: "), result
    assert error in result["error"]


def test_history_window_keeps_the_newest_messages_that_fit() -> None:
    history = [{"role": "user", "content": text} for text in ("aaaa", "bb", "cc", "dddddd")]
    assert history_window(history, 10) == history[1:]
    assert history_window(history, 3) == history[3:]
