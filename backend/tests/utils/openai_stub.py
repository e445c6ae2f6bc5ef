"""A deterministic OpenAI-compatible Chat Completions server for tests and e2e runs.

    python backend/tests/utils/openai_stub.py --port 18090

serves POST /v1/chat/completions on 127.0.0.1. Standard library only, so any python3 runs it.
Rules, applied to the conversation's last message:

* a tool result            -> a plain sentence summarising it ("Added task “X”.")
* user: add task "X"       -> tool call add_task {"title": "X"}
* user: list my tasks      -> tool call list_tasks {}
* user: complete task "X"  -> tool call complete_task {"title": "X"} (or {"task_id": N})
* user: delete task "X"    -> tool call delete_task {"title": "X"} (or {"task_id": N})
* anything else            -> "You said: ..."

A request without an `Authorization: Bearer ...` header gets 401, like the real API.
Tests import it: `with running_stub() as stub: stub.base_url` (every request body is
kept in `stub.requests`). To keep model calls in flight, a test sets `stub.hold` to a
predicate on the request body: matching requests wait until `stub.release` is set (at the
latest when the stub stops); `stub.wait_held(n)` waits until n of them are waiting.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_QUOTES = "\"'“”‘’"  # noqa: RUF001  (typographic quotes are what users type)
_TITLE = rf"[{_QUOTES}]?(?P<title>.+?)[{_QUOTES}]?\s*[.!]?\s*$"
RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(rf"^\s*(?:please\s+)?add (?:a )?task (?:called |named )?{_TITLE}", re.I),
        "add_task",
    ),
    (re.compile(r"^\s*(?:please\s+)?(?:list|show)(?: my| all)? tasks\b", re.I), "list_tasks"),
    (re.compile(rf"^\s*(?:please\s+)?complete (?:task )?{_TITLE}", re.I), "complete_task"),
    (re.compile(rf"^\s*(?:please\s+)?delete (?:task )?{_TITLE}", re.I), "delete_task"),
]

_ids = itertools.count(1)


def _task_ref(title: str) -> dict[str, Any]:
    return {"task_id": int(title)} if title.isdigit() else {"title": title}


def plan_tool_call(text: str) -> tuple[str, dict[str, Any]] | None:
    """The tool call a user message asks for, or None."""
    for pattern, tool in RULES:
        match = pattern.search(text)
        if match is None:
            continue
        if tool == "list_tasks":
            return tool, {}
        title = match.group("title").strip()
        return tool, {"title": title} if tool == "add_task" else _task_ref(title)
    return None


def summarise_tool_result(tool: str, result: Any) -> str:
    if isinstance(result, dict) and "error" in result:
        return f"Sorry, that did not work: {result['error']}"
    if tool == "list_tasks":
        tasks = result.get("tasks", []) if isinstance(result, dict) else []
        if not tasks:
            return "You have no tasks."
        lines = [f"- {'[x]' if t['completed'] else '[ ]'} {t['title']}" for t in tasks]
        return f"You have {len(tasks)} task(s):\n" + "\n".join(lines)
    if tool == "delete_task":
        title = result.get("deleted", {}).get("title", "?")
        return f"Deleted task “{title}”."
    verbs = {"add_task": "Added", "complete_task": "Completed", "update_task": "Updated"}
    title = result.get("title", "?") if isinstance(result, dict) else "?"
    return f"{verbs.get(tool, 'Done with')} task “{title}”."


def _tool_name_for(messages: list[dict[str, Any]], tool_call_id: str | None) -> str:
    for message in reversed(messages):
        for call in message.get("tool_calls") or []:
            if call.get("id") == tool_call_id:
                return str(call["function"]["name"])
    return "unknown"


def reply(body: dict[str, Any]) -> dict[str, Any]:
    """The chat.completion object the stub answers a request body with."""
    messages: list[dict[str, Any]] = body.get("messages", [])
    last = messages[-1] if messages else {"role": "user", "content": ""}
    message: dict[str, Any] = {"role": "assistant", "content": None}
    finish_reason = "stop"
    if last.get("role") == "tool":
        # Summarise every tool result that follows the last assistant turn.
        results = []
        for m in reversed(messages):
            if m.get("role") != "tool":
                break
            results.append(m)
        texts = []
        for m in reversed(results):
            try:
                result = json.loads(m.get("content") or "null")
            except json.JSONDecodeError:
                result = m.get("content")
            texts.append(
                summarise_tool_result(_tool_name_for(messages, m.get("tool_call_id")), result)
            )
        message["content"] = " ".join(texts)
    else:
        text = str(last.get("content") or "")
        planned = plan_tool_call(text)
        if planned is None:
            message["content"] = f"You said: {text}"
        else:
            name, arguments = planned
            message["tool_calls"] = [
                {
                    "id": f"call_{next(_ids)}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(arguments)},
                }
            ]
            finish_reason = "tool_calls"
    return {
        "id": f"chatcmpl-stub-{next(_ids)}",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "stub"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.hold: Callable[[dict[str, Any]], bool] = lambda _body: False
        self.release = threading.Event()
        self.held = 0
        self._held_changed = threading.Condition()

    def wait_held(self, count: int, timeout: float = 10.0) -> bool:
        """Whether `count` requests are waiting for `release` within `timeout` seconds."""
        with self._held_changed:
            return self._held_changed.wait_for(lambda: self.held >= count, timeout)

    def _hold(self, body: dict[str, Any]) -> None:
        if self.release.is_set() or not self.hold(body):
            return
        with self._held_changed:
            self.held += 1
            self._held_changed.notify_all()
        self.release.wait(timeout=120)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: StubServer

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("", "/healthz"):
            self._send(200, {"status": "ok"})
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"unknown path {self.path}"}})
            return
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            self._send(401, {"error": {"message": "missing API key"}})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "invalid JSON"}})
            return
        self.server.requests.append(body)
        self.server._hold(body)
        # A held request's client may have given up waiting (a test of its deadline).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._send(200, reply(body))

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write("openai-stub: " + (format % args) + "\n")


@contextmanager
def running_stub(port: int = 0) -> Iterator[StubServer]:
    """Serve the stub in a background thread (port 0 picks a free port)."""
    server = StubServer(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=18090)
    args = parser.parse_args(argv)
    server = StubServer(args.port)
    sys.stderr.write(f"openai-stub: listening on {server.base_url}\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
