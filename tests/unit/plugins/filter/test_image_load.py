"""image_load_ref_forms: an image pushed to the local registry is kept under both of its names."""

from __future__ import annotations

from .conftest import load_filter

image_load_ref_forms = load_filter("image_load").image_load_ref_forms


def test_each_name_is_given_bare_and_behind_the_registry() -> None:
    assert image_load_ref_forms(
        ["127.0.0.1:5001/todo-app/backend:a", "docker.io/todo-app/frontend:b", "docker.io/library/busybox:1"],
        ["127.0.0.1:5001"],
    ) == [
        "127.0.0.1:5001/busybox:1",
        "127.0.0.1:5001/todo-app/backend:a",
        "127.0.0.1:5001/todo-app/frontend:b",
        "busybox:1",
        "todo-app/backend:a",
        "todo-app/frontend:b",
    ]


def test_without_a_registry_names_are_only_stripped_of_docker_io() -> None:
    assert image_load_ref_forms(["docker.io/todo-app/backend:a", "todo-app/backend:a"], []) == [
        "todo-app/backend:a"
    ]
    assert image_load_ref_forms(["todo-app/backend:a"], [""]) == ["todo-app/backend:a"]


def test_another_registry_is_part_of_the_name() -> None:
    assert image_load_ref_forms(["other:5000/app:a"], ["127.0.0.1:5001"]) == [
        "127.0.0.1:5001/other:5000/app:a",
        "other:5000/app:a",
    ]
