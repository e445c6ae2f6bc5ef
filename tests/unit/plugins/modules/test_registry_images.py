"""registry_images: which tags pruning removes from a registry, and the HTTP calls that do it,
against a registry stub on loopback that speaks distribution's API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from ansible.module_utils.testing import patch_module_args

from .conftest import load_module

_MODULE = load_module("registry_images")
bare_name = _MODULE.bare_name
stale_digests = _MODULE.stale_digests


def test_a_name_loses_only_its_own_registry_host() -> None:
    assert bare_name("127.0.0.1:5001/todo-app/backend:a", "127.0.0.1:5001") == "todo-app/backend:a"
    assert bare_name("todo-app/backend:a", "127.0.0.1:5001") == "todo-app/backend:a"
    assert bare_name("other:5000/todo-app/backend:a", "127.0.0.1:5001") == "other:5000/todo-app/backend:a"


def test_unkept_tags_lose_their_manifest() -> None:
    digests = {"app:new": "sha256:n", "app:old": "sha256:o", "app:older": "sha256:p"}
    assert stale_digests(digests, {"app:new"}) == (["app:old", "app:older"], ["app@sha256:o", "app@sha256:p"])


def test_a_manifest_a_kept_tag_shares_is_never_deleted_only_the_stale_tag() -> None:
    digests = {"app:new": "sha256:n", "app:alias": "sha256:n", "app:old": "sha256:o", "other:x": "sha256:n"}
    removed, targets = stale_digests(digests, {"app:new"})
    # other:x shares the digest but not the repository: its manifest is its own.
    assert removed == ["app:alias", "app:old", "other:x"]
    assert targets == ["app:alias", "app@sha256:o", "other@sha256:n"]


def test_two_unkept_tags_of_one_manifest_delete_it_once() -> None:
    assert stale_digests({"app:a": "sha256:x", "app:b": "sha256:x"}, set())[1] == ["app@sha256:x"]


class _Stub(BaseHTTPRequestHandler):
    tags: ClassVar[dict[str, dict[str, str]]] = {}
    deleted: ClassVar[list[str]] = []

    def log_message(self, *args: Any) -> None:
        return

    def _send(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        repo = self.path.removeprefix("/v2/").removesuffix("/tags/list")
        if repo not in self.tags:
            self._send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
            return
        self._send(200, json.dumps({"name": repo, "tags": sorted(self.tags[repo])}).encode())

    def do_HEAD(self) -> None:
        repo, tag = self.path.removeprefix("/v2/").split("/manifests/")
        assert "application/vnd.docker.distribution.manifest.v2+json" in self.headers["Accept"]
        self._send(200, headers={"Docker-Content-Digest": self.tags[repo][tag]})

    def do_DELETE(self) -> None:
        repo, reference = self.path.removeprefix("/v2/").split("/manifests/")
        if reference.startswith("sha256:"):
            self.deleted.append(f"{repo}@{reference}")
            self.tags[repo] = {tag: d for tag, d in self.tags[repo].items() if d != reference}
        else:
            self.deleted.append(f"{repo}:{reference}")
            del self.tags[repo][reference]
        self._send(202)


@pytest.fixture
def registry() -> Iterator[str]:
    _Stub.tags = {
        "todo-app/backend": {"new": "sha256:n", "alias": "sha256:n", "old": "sha256:o"},
        "todo-app/postgres": {"15": "sha256:p"},
    }
    _Stub.deleted = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _run(capsys: pytest.CaptureFixture[str], args: dict[str, Any]) -> dict[str, Any]:
    with patch_module_args(args), pytest.raises(SystemExit):
        _MODULE.main()
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_main_deletes_the_stale_manifests_of_the_given_repositories_only(
    registry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    host = registry.removeprefix("http://")
    result = _run(
        capsys,
        {
            "url": registry,
            "repositories": ["todo-app/backend", "todo-app/frontend"],
            "keep": [f"{host}/todo-app/backend:new"],
        },
    )
    assert result["changed"] is True
    assert result["removed"] == ["todo-app/backend:alias", "todo-app/backend:old"]
    assert result["tags"] == ["todo-app/backend:alias", "todo-app/backend:new", "todo-app/backend:old"]
    assert _Stub.deleted == ["todo-app/backend:alias", "todo-app/backend@sha256:o"]
    assert _Stub.tags["todo-app/backend"] == {"new": "sha256:n"}
    assert _Stub.tags["todo-app/postgres"] == {"15": "sha256:p"}
    again = _run(
        capsys, {"url": registry, "repositories": ["todo-app/backend"], "keep": ["todo-app/backend:new"]}
    )
    assert again["changed"] is False and again["removed"] == []


def test_main_in_check_mode_deletes_nothing(registry: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = _run(
        capsys,
        {"url": registry, "repositories": ["todo-app/backend"], "keep": [], "_ansible_check_mode": True},
    )
    assert result["changed"] is True
    assert result["removed"] == ["todo-app/backend:alias", "todo-app/backend:new", "todo-app/backend:old"]
    assert _Stub.deleted == []


def test_main_says_when_the_registry_does_not_answer(capsys: pytest.CaptureFixture[str]) -> None:
    result = _run(capsys, {"url": "http://127.0.0.1:9", "repositories": ["todo-app/backend"], "timeout": 2})
    assert result["failed"] is True
    assert "Is the registry running?" in result["msg"]
