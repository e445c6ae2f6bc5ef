"""containerd_images: which images are missing, and which references pruning removes."""

from __future__ import annotations

from .conftest import load_module

_MODULE = load_module("containerd_images")
Row = _MODULE.Row
containerd_name = _MODULE.containerd_name
docker_name = _MODULE.docker_name
missing = _MODULE.missing
parse_list = _MODULE.parse_list
stale = _MODULE.stale

LISTING = """REF TYPE DIGEST SIZE PLATFORMS LABELS
docker.io/todo-app/backend:new application/vnd.docker.distribution.manifest.v2+json sha256:aaa 60.0 MiB linux/amd64 io.cri-containerd.image=managed
docker.io/todo-app/backend:old application/vnd.docker.distribution.manifest.v2+json sha256:bbb 60.0 MiB linux/amd64 io.cri-containerd.image=managed
docker.io/todo-app/backend:same-content-as-old application/vnd.docker.distribution.manifest.v2+json sha256:ccc 1 MiB linux/amd64 -
docker.io/todo-app/frontend:older application/vnd.docker.distribution.manifest.v2+json sha256:ccc 1 MiB linux/amd64 -
docker.io/todo-app/postgres:15 application/vnd.docker.distribution.manifest.v2+json sha256:ddd 90 MiB linux/amd64 -
sha256:id-new application/vnd.docker.distribution.manifest.v2+json sha256:aaa 60.0 MiB linux/amd64 -
sha256:id-old application/vnd.docker.distribution.manifest.v2+json sha256:bbb 60.0 MiB linux/amd64 -
sha256:id-shared application/vnd.docker.distribution.manifest.v2+json sha256:ccc 1 MiB linux/amd64 -
"""


def test_names_are_compared_as_docker_spells_them() -> None:
    assert docker_name("docker.io/library/busybox:1") == "busybox:1"
    assert docker_name("docker.io/todo-app/backend:x") == "todo-app/backend:x"
    assert containerd_name("todo-app/backend:x") == "docker.io/todo-app/backend:x"
    assert containerd_name("busybox:1") == "docker.io/library/busybox:1"
    assert containerd_name("localhost:5000/app:1") == "localhost:5000/app:1"


def test_listing_is_parsed_after_its_header() -> None:
    rows = parse_list(LISTING)
    assert rows[0] == Row("docker.io/todo-app/backend:new", "sha256:aaa")
    assert len(rows) == 8
    assert parse_list("REF TYPE DIGEST SIZE PLATFORMS LABELS\n") == []


def test_missing_lists_only_absent_images_once() -> None:
    rows = parse_list(LISTING)
    names = ["todo-app/backend:new", "docker.io/todo-app/backend:gone", "todo-app/backend:gone"]
    assert missing(rows, names) == ["docker.io/todo-app/backend:gone"]
    assert missing(rows, ["todo-app/postgres:15"]) == []


def test_prune_removes_unkept_tags_and_their_orphaned_id_reference() -> None:
    rows = parse_list(LISTING)
    removed = stale(
        rows,
        ["todo-app/backend"],
        keep=["todo-app/backend:new", "docker.io/todo-app/backend:same-content-as-old"],
    )
    assert removed == ["docker.io/todo-app/backend:old", "sha256:id-old"]


def test_prune_keeps_an_id_reference_another_name_still_uses() -> None:
    rows = parse_list(LISTING)
    removed = stale(rows, ["todo-app/backend"], keep=["todo-app/backend:new"])
    # frontend:older shares sha256:ccc, so its ID reference stays.
    assert removed == [
        "docker.io/todo-app/backend:old",
        "docker.io/todo-app/backend:same-content-as-old",
        "sha256:id-old",
    ]


def test_prune_never_touches_other_repositories() -> None:
    rows = parse_list(LISTING)
    removed = stale(rows, ["todo-app/backend", "todo-app/frontend"], keep=["todo-app/backend:new"])
    assert "docker.io/todo-app/postgres:15" not in removed
    assert "sha256:id-shared" in removed
    assert "sha256:id-new" not in removed


def test_a_registry_pull_names_the_registry_and_plain_http_only_when_asked() -> None:
    pull_args = _MODULE.pull_args
    assert pull_args("127.0.0.1:5001/todo-app/backend:x", plain_http=True) == [
        "images",
        "pull",
        "--plain-http",
        "127.0.0.1:5001/todo-app/backend:x",
    ]
    assert pull_args("todo-app/backend:x", plain_http=False) == [
        "images",
        "pull",
        "docker.io/todo-app/backend:x",
    ]


def test_prune_of_registry_names_keeps_the_kept_tag_under_that_name() -> None:
    rows = parse_list(
        "REF TYPE DIGEST SIZE PLATFORMS LABELS\n"
        "127.0.0.1:5001/todo-app/backend:new t sha256:aaa 1 linux/amd64 -\n"
        "127.0.0.1:5001/todo-app/backend:old t sha256:bbb 1 linux/amd64 -\n"
        "docker.io/todo-app/backend:new t sha256:aaa 1 linux/amd64 -\n"
    )
    removed = stale(
        rows,
        ["todo-app/backend", "127.0.0.1:5001/todo-app/backend"],
        keep=["todo-app/backend:new", "127.0.0.1:5001/todo-app/backend:new"],
    )
    assert removed == ["127.0.0.1:5001/todo-app/backend:old"]
    assert missing(rows, ["127.0.0.1:5001/todo-app/backend:new", "127.0.0.1:5001/todo-app/backend:gone"]) == [
        "127.0.0.1:5001/todo-app/backend:gone"
    ]
