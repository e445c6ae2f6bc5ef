"""The assistant: an OpenAI Chat Completions tool-calling loop over the caller's tasks.

The server keeps no state between requests; the conversation comes from the database
and the tools act through `crud`, scoped to one owner.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from pydantic import ValidationError
from sqlmodel import Session

from app import crud
from app.core.config import Settings
from app.models import Priority, Task, TaskCreate, TaskUpdate, ToolCallRecord

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are the assistant of a todo app. You manage the user's tasks with the tools "
    "provided: add, list, complete, update and delete tasks. When the user refers to a "
    "task by name, pass its title; use list_tasks first if you are unsure which task is "
    "meant. Answer briefly. Today's date is {today}."
)

_TASK_REF = {
    "task_id": {"type": "integer", "description": "The task's id, if known."},
    "title": {"type": "string", "description": "The task's title, if the id is unknown."},
}
_TASK_FIELDS = {
    "description": {"type": "string"},
    "priority": {"type": "string", "enum": [p.value for p in Priority]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "due_date": {"type": "string", "description": "ISO date, YYYY-MM-DD."},
}


def _function(name: str, description: str, properties: dict[str, Any], required: list[str]) -> Any:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


TOOLS = [
    _function(
        "add_task",
        "Create a task.",
        {"title": {"type": "string"}, **_TASK_FIELDS},
        ["title"],
    ),
    _function(
        "list_tasks",
        "List the user's tasks, optionally filtered.",
        {
            "status": {"type": "string", "enum": ["all", "active", "completed"]},
            "q": {"type": "string", "description": "Keyword in title or description."},
            "priority": {"type": "string", "enum": [p.value for p in Priority]},
            "tag": {"type": "string"},
        },
        [],
    ),
    _function("complete_task", "Mark a task as completed.", _TASK_REF, []),
    _function("delete_task", "Delete a task.", _TASK_REF, []),
    _function(
        "update_task",
        "Change a task. Identify it by task_id or title; put a new title in new_title.",
        {
            **_TASK_REF,
            "new_title": {"type": "string"},
            "completed": {"type": "boolean"},
            **_TASK_FIELDS,
        },
        [],
    ),
]


class AssistantUnavailableError(Exception):
    """The model provider could not be reached or answered with an error."""


@dataclass
class AgentResult:
    response: str
    tool_calls: list[ToolCallRecord] = field(default_factory=list)


def _summary(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "title": task.title,
        "completed": task.completed,
        "priority": str(task.priority),
        "tags": task.tags,
        "due_date": task.due_date.isoformat() if task.due_date else None,
    }


class ToolError(Exception):
    """A tool call the model can recover from; the message goes back to the model."""


class TaskTools:
    """The assistant's tools, bound to one user's tasks."""

    def __init__(self, session: Session, owner_id: int) -> None:
        self.session = session
        self.owner_id = owner_id

    def run(self, name: str, arguments: dict[str, Any]) -> Any:
        handler = getattr(self, f"tool_{name}", None)
        if handler is None:
            return {"error": f"Unknown tool {name!r}"}
        try:
            return handler(**arguments)
        except TypeError as exc:
            return {"error": f"Bad arguments for {name}: {exc}"}
        except ValidationError as exc:
            messages = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            return {"error": f"Invalid task: {messages}"}
        except ToolError as exc:
            return {"error": str(exc)}

    def _resolve(self, task_id: int | None, title: str | None) -> Task:
        if task_id is not None:
            task = crud.get_task(self.session, self.owner_id, int(task_id))
            if task is None:
                raise ToolError(f"No task with id {task_id}")
            return task
        if not title:
            raise ToolError("Give task_id or title")
        matches = crud.find_tasks_by_title(self.session, self.owner_id, title)
        if not matches:
            raise ToolError(f"No task titled {title!r}")
        if len(matches) > 1:
            raise ToolError(
                f"{len(matches)} tasks match {title!r}; use task_id: "
                + ", ".join(f"{t.id}={t.title!r}" for t in matches[:10])
            )
        return matches[0]

    def tool_add_task(self, title: str, **fields: Any) -> dict[str, Any]:
        task = crud.create_task(
            self.session, self.owner_id, TaskCreate.model_validate({"title": title, **fields})
        )
        return _summary(task)

    def tool_list_tasks(
        self,
        status: crud.Status = "all",
        q: str | None = None,
        priority: str | None = None,
        tag: str | None = None,
    ) -> dict[str, Any]:
        if status not in ("all", "active", "completed"):
            raise ToolError("status must be all, active or completed")
        tasks, total = crud.list_tasks(
            self.session,
            self.owner_id,
            status=status,
            q=q,
            priority=Priority(priority) if priority else None,
            tag=tag,
            sort="created",
            order="asc",
            limit=100,
        )
        return {"total": total, "tasks": [_summary(t) for t in tasks]}

    def tool_complete_task(
        self, task_id: int | None = None, title: str | None = None
    ) -> dict[str, Any]:
        task = self._resolve(task_id, title)
        return _summary(crud.update_task(self.session, task, TaskUpdate(completed=True)))

    def tool_delete_task(self, task_id: int | None = None, title: str | None = None) -> Any:
        task = self._resolve(task_id, title)
        summary = _summary(task)
        crud.delete_task(self.session, task)
        return {"deleted": summary}

    def tool_update_task(
        self,
        task_id: int | None = None,
        title: str | None = None,
        new_title: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        task = self._resolve(task_id, title)
        changes = {**fields, **({"title": new_title} if new_title else {})}
        return _summary(crud.update_task(self.session, task, TaskUpdate.model_validate(changes)))


def _parse_arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class Agent:
    def __init__(self, settings: Settings, client: httpx.Client) -> None:
        self.settings = settings
        self.client = client

    def _complete(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        url = self.settings.OPENAI_BASE_URL.rstrip("/") + "/chat/completions"
        try:
            response = self.client.post(
                url,
                headers={"Authorization": f"Bearer {self.settings.OPENAI_API_KEY}"},
                json={
                    "model": self.settings.OPENAI_MODEL,
                    "messages": messages,
                    "tools": TOOLS,
                    "tool_choice": "auto",
                },
            )
            response.raise_for_status()
            message: dict[str, Any] = response.json()["choices"][0]["message"]
        except httpx.HTTPStatusError as exc:
            raise AssistantUnavailableError(
                f"model provider answered HTTP {exc.response.status_code}"
            ) from exc
        except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
            raise AssistantUnavailableError(
                f"model provider request failed: {type(exc).__name__}"
            ) from exc
        return message

    def run(self, tools: TaskTools, history: list[dict[str, Any]]) -> AgentResult:
        """Call the model until it stops asking for tools, at most AGENT_MAX_ITERATIONS times."""
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT.format(today=date.today().isoformat())},
            *history,
        ]
        records: list[ToolCallRecord] = []
        for _ in range(self.settings.AGENT_MAX_ITERATIONS):
            message = self._complete(messages)
            calls = message.get("tool_calls") or []
            if not calls:
                return AgentResult(response=message.get("content") or "", tool_calls=records)
            messages.append(
                {"role": "assistant", "content": message.get("content"), "tool_calls": calls}
            )
            for call in calls:
                name = call["function"]["name"]
                arguments = _parse_arguments(call["function"].get("arguments"))
                result = tools.run(name, arguments)
                logger.info("assistant tool call", extra={"tool": name})
                records.append(ToolCallRecord(name=name, arguments=arguments, result=result))
                messages.append(
                    {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)}
                )
        return AgentResult(
            response=(
                "I stopped after "
                f"{self.settings.AGENT_MAX_ITERATIONS} steps without finishing; "
                "please try a simpler request."
            ),
            tool_calls=records,
        )
