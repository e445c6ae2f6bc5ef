"""The assistant: an OpenAI Chat Completions tool-calling loop over the caller's tasks.

The server keeps no state between requests; the conversation comes from the database
and the tools act through `crud`, scoped to one owner. No database connection is held
while the model thinks: each tool call opens its own short session.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from sqlmodel import Session

from app import crud
from app.core.config import Settings
from app.core.throttling import Throttled
from app.models import (
    MAX_DB_INT,
    Priority,
    Task,
    TaskCreate,
    TaskUpdate,
    ToolCallRecord,
    check_storable_text,
)

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are the assistant of a todo app. You manage the user's tasks with the tools "
    "provided: add, list, complete, update and delete tasks. When the user refers to a "
    "task by name, pass its title; use list_tasks first if you are unsure which task is "
    "meant. Answer briefly. Today's date is {today}."
)

# A chat completion is a few kilobytes; more means something is wrong upstream.
MAX_REPLY_BYTES = 1_000_000

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

# --- Text the database and a UTF-8 response can carry -------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(value: Any) -> Any:
    """`value` with NUL and lone surrogates replaced by U+FFFD, in every nested string.

    Applied to whatever the model sends, so a bad reply cannot break storing or answering.
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value.replace("\x00", "\ufffd"))
    if isinstance(value, list):
        return [clean(item) for item in value]
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items()}
    return value


# --- Tool arguments --------------------------------------------------------------

# Checked here, so a bad value becomes an error the model reads instead of a database error.
StorableText = Annotated[str, AfterValidator(check_storable_text)]
ShortText = Annotated[str, Field(max_length=200), AfterValidator(check_storable_text)]
TaskId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]


class _Arguments(BaseModel):
    # Unknown keys (an `owner_id`, say) are dropped, never passed on.
    model_config = ConfigDict(extra="ignore")


class TaskRefArguments(_Arguments):
    task_id: TaskId | None = None
    title: ShortText | None = None


class _TaskFieldArguments(_Arguments):
    description: StorableText | None = None
    priority: Priority | None = None
    tags: list[ShortText] | None = None
    due_date: ShortText | None = None


class AddTaskArguments(_TaskFieldArguments):
    title: StorableText


class ListTasksArguments(_Arguments):
    status: Literal["all", "active", "completed"] = "all"
    q: ShortText | None = None
    priority: Priority | None = None
    tag: ShortText | None = None


class UpdateTaskArguments(TaskRefArguments, _TaskFieldArguments):
    new_title: StorableText | None = None
    completed: bool | None = None


TOOL_ARGUMENTS: dict[str, type[_Arguments]] = {
    "add_task": AddTaskArguments,
    "list_tasks": ListTasksArguments,
    "complete_task": TaskRefArguments,
    "delete_task": TaskRefArguments,
    "update_task": UpdateTaskArguments,
}


def _validation_messages(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
        for err in exc.errors()
    )


class AgentError(Exception):
    """A turn that ended without the model's answer. `done` lists the tool calls already
    made (each committed on its own), so the caller can say what did change."""

    def __init__(self, reason: str, done: Sequence[ToolCallRecord] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.done = list(done)


class AssistantUnavailableError(AgentError):
    """The model provider could not be reached or answered with an error."""


class TurnDeadlineError(AgentError):
    """The turn ran out of time: one model call or the whole turn took too long."""


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
    """The assistant's tools, bound to one user's tasks. Each call is one short transaction."""

    def __init__(self, engine: Engine, owner_id: int) -> None:
        self.engine = engine
        self.owner_id = owner_id

    def run(self, name: str, arguments: dict[str, Any] | None) -> Any:
        spec = TOOL_ARGUMENTS.get(name)
        if spec is None:
            return {"error": f"Unknown tool {name!r}; use one of {', '.join(TOOL_ARGUMENTS)}"}
        if arguments is None:
            return {"error": f"Bad arguments for {name}: send a JSON object"}
        try:
            validated = spec.model_validate(arguments)
        except ValidationError as exc:
            return {"error": f"Bad arguments for {name}: {_validation_messages(exc)}"}
        handler: Callable[[Session, Any], Any] = getattr(self, f"tool_{name}")
        with Session(self.engine) as session:
            try:
                return handler(session, validated)
            except ValidationError as exc:
                return {"error": f"Invalid task: {_validation_messages(exc)}"}
            except ToolError as exc:
                return {"error": str(exc)}
            except DataError as exc:
                # A value the arguments' validation let through; the transaction is void.
                session.rollback()
                logger.warning("assistant tool refused by the database", extra={"tool": name})
                return {"error": f"The database refused a value for {name}: {exc.orig}"}

    def _resolve(self, session: Session, ref: TaskRefArguments) -> Task:
        if ref.task_id is not None:
            task = crud.get_task(session, self.owner_id, ref.task_id)
            if task is None:
                raise ToolError(f"No task with id {ref.task_id}")
            return task
        if not ref.title:
            raise ToolError("Give task_id or title")
        matches = crud.find_tasks_by_title(session, self.owner_id, ref.title)
        if not matches:
            raise ToolError(f"No task titled {ref.title!r}")
        if len(matches) > 1:
            raise ToolError(
                f"{len(matches)} tasks match {ref.title!r}; use task_id: "
                + ", ".join(f"{t.id}={t.title!r}" for t in matches[:10])
            )
        return matches[0]

    def tool_add_task(self, session: Session, args: AddTaskArguments) -> dict[str, Any]:
        task = crud.create_task(
            session, self.owner_id, TaskCreate.model_validate(args.model_dump(exclude_unset=True))
        )
        return _summary(task)

    def tool_list_tasks(self, session: Session, args: ListTasksArguments) -> dict[str, Any]:
        tasks, total = crud.list_tasks(
            session,
            self.owner_id,
            status=args.status,
            q=args.q,
            priority=args.priority,
            tag=args.tag,
            sort="created",
            order="asc",
            limit=100,
        )
        return {"total": total, "tasks": [_summary(t) for t in tasks]}

    def tool_complete_task(self, session: Session, args: TaskRefArguments) -> dict[str, Any]:
        task = self._resolve(session, args)
        return _summary(crud.update_task(session, task, TaskUpdate(completed=True)))

    def tool_delete_task(self, session: Session, args: TaskRefArguments) -> Any:
        task = self._resolve(session, args)
        summary = _summary(task)
        crud.delete_task(session, task)
        return {"deleted": summary}

    def tool_update_task(self, session: Session, args: UpdateTaskArguments) -> dict[str, Any]:
        task = self._resolve(session, args)
        changes = args.model_dump(exclude_unset=True, exclude={"task_id", "title", "new_title"})
        if args.new_title:
            changes["title"] = args.new_title
        return _summary(crud.update_task(session, task, TaskUpdate.model_validate(changes)))


def parse_arguments(raw: Any) -> dict[str, Any] | None:
    """A tool call's arguments as a dict, or None when they are not a JSON object."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, str):
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError covers malformed JSON and integers beyond Python's digit limit.
        return None
    return parsed if isinstance(parsed, dict) else None


def history_window(history: Sequence[dict[str, Any]], max_chars: int) -> list[dict[str, Any]]:
    """The newest messages whose contents fit in `max_chars`; the newest is always kept."""
    kept: list[dict[str, Any]] = []
    used = 0
    for message in reversed(history):
        used += len(message["content"])
        if kept and used > max_chars:
            break
        kept.append(message)
    return kept[::-1]


# --- The model's reply -------------------------------------------------------------


class _Function(BaseModel):
    name: str
    arguments: Any = None


class _ToolCall(BaseModel):
    id: str
    function: _Function


class _ReplyMessage(BaseModel):
    content: str | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(BaseModel):
    message: _ReplyMessage


class _Reply(BaseModel):
    choices: list[_Choice] = Field(min_length=1)


class Agent:
    def __init__(self, settings: Settings, client: httpx.Client) -> None:
        self.settings = settings
        self.client = client

    def _complete(self, messages: list[dict[str, Any]], deadline: float) -> _ReplyMessage:
        turn_left = deadline - time.monotonic()
        call_limit = self.settings.CHAT_MODEL_CALL_TIMEOUT_SECONDS
        if turn_left <= 0:
            raise TurnDeadlineError(self._turn_over())
        timeout = min(call_limit, turn_left)
        call_deadline = time.monotonic() + timeout
        url = self.settings.OPENAI_BASE_URL.rstrip("/") + "/chat/completions"
        try:
            # Streamed so the clock is checked between chunks: httpx's timeouts bound each
            # socket read, not the whole answer.
            with self.client.stream(
                "POST",
                url,
                headers={"Authorization": f"Bearer {self.settings.OPENAI_API_KEY}"},
                json={
                    "model": self.settings.OPENAI_MODEL,
                    "messages": messages,
                    "tools": TOOLS,
                    "tool_choice": "auto",
                },
                timeout=timeout,
            ) as response:
                response.raise_for_status()
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if time.monotonic() > call_deadline:
                        raise httpx.ReadTimeout("deadline passed", request=response.request)
                    if len(body) > MAX_REPLY_BYTES:
                        raise AssistantUnavailableError(
                            f"model provider sent more than {MAX_REPLY_BYTES} bytes"
                        )
            return _Reply.model_validate(clean(json.loads(body))).choices[0].message
        except httpx.TimeoutException as exc:
            if timeout < call_limit:
                raise TurnDeadlineError(self._turn_over()) from exc
            raise TurnDeadlineError(
                f"the model did not answer within {call_limit:g} s "
                "(CHAT_MODEL_CALL_TIMEOUT_SECONDS)"
            ) from exc
        except httpx.HTTPStatusError as exc:
            raise AssistantUnavailableError(
                f"model provider answered HTTP {exc.response.status_code}"
            ) from exc
        except httpx.HTTPError as exc:
            raise AssistantUnavailableError(
                f"model provider request failed: {type(exc).__name__}"
            ) from exc
        except (ValueError, RecursionError) as exc:
            # ValidationError is a ValueError: a reply that is not a chat completion.
            raise AssistantUnavailableError(
                "model provider sent a reply that is not a chat completion"
            ) from exc

    def _turn_over(self) -> str:
        return (
            f"the turn used up its {self.settings.CHAT_TURN_DEADLINE_SECONDS:g} s "
            "(CHAT_TURN_DEADLINE_SECONDS)"
        )

    def run(self, tools: TaskTools, history: list[dict[str, Any]], deadline: float) -> AgentResult:
        """Call the model until it stops asking for tools, at most AGENT_MAX_ITERATIONS
        times and not past `deadline` (time.monotonic()). A tool call, once started, runs
        to its end; none starts after the deadline."""
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT.format(today=date.today().isoformat())},
            *history,
        ]
        records: list[ToolCallRecord] = []
        for _ in range(self.settings.AGENT_MAX_ITERATIONS):
            try:
                message = self._complete(messages, deadline)
            except AgentError as exc:
                exc.done = list(records)
                raise
            calls = message.tool_calls or []
            if not calls:
                return AgentResult(response=message.content or "", tool_calls=records)
            messages.append(
                {
                    "role": "assistant",
                    "content": message.content,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {
                                "name": call.function.name,
                                "arguments": call.function.arguments
                                if isinstance(call.function.arguments, str)
                                else json.dumps(call.function.arguments),
                            },
                        }
                        for call in calls
                    ],
                }
            )
            for call in calls:
                if time.monotonic() >= deadline:
                    raise TurnDeadlineError(self._turn_over(), records)
                name = call.function.name
                arguments = parse_arguments(call.function.arguments)
                result = clean(tools.run(name, arguments))
                logger.info("assistant tool call", extra={"tool": name})
                records.append(
                    ToolCallRecord(
                        name=name,
                        arguments=clean(arguments) if arguments is not None else {},
                        result=result,
                    )
                )
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
                )
        return AgentResult(
            response=(
                "I stopped after "
                f"{self.settings.AGENT_MAX_ITERATIONS} steps without finishing; "
                "please try a simpler request."
            ),
            tool_calls=records,
        )


# --- Concurrency limits ------------------------------------------------------------


class ChatLimiter:
    """Counts the turns in flight on this process, per user and in total.

    Refusals are 429 with Retry-After set to when the oldest turn in the way must have
    ended (its start plus CHAT_TURN_DEADLINE_SECONDS).
    """

    def __init__(self, per_user: int, per_pod: int, turn_seconds: float) -> None:
        self.per_user = per_user
        self.per_pod = per_pod
        self.turn_seconds = turn_seconds
        self._lock = threading.Lock()
        self._started: dict[int, list[float]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatLimiter:
        return cls(
            settings.CHAT_MAX_CONCURRENT_PER_USER,
            settings.CHAT_MAX_CONCURRENT_PER_POD,
            settings.CHAT_TURN_DEADLINE_SECONDS,
        )

    def _retry_after(self, starts: Sequence[float], now: float) -> int:
        return max(1, math.ceil(min(starts) + self.turn_seconds - now))

    def acquire(self, user_id: int) -> Callable[[], None]:
        """Take a slot or raise Throttled; call the returned function to give it back."""
        with self._lock:
            now = time.monotonic()
            mine = self._started.setdefault(user_id, [])
            everyone = [start for starts in self._started.values() for start in starts]
            if len(mine) >= self.per_user:
                seconds = self._retry_after(mine, now)
                raise Throttled(
                    429,
                    f"You already have {len(mine)} assistant requests in progress, the most "
                    f"allowed at once; wait for one to finish and retry in {seconds} s.",
                    seconds,
                )
            if len(everyone) >= self.per_pod:
                seconds = self._retry_after(everyone, now)
                if not mine:
                    del self._started[user_id]
                raise Throttled(
                    429,
                    f"The assistant is busy ({len(everyone)} requests in progress on this "
                    f"server); retry in {seconds} s.",
                    seconds,
                )
            mine.append(now)

        def release() -> None:
            with self._lock:
                mine.remove(now)
                if not mine:
                    self._started.pop(user_id, None)

        return release
