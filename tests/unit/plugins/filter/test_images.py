"""A failed pull of an upstream base defers the next pulls for a while, and only that base."""

from __future__ import annotations

from .conftest import load_filter

images = load_filter("images")
PYTHON, NODE = "python:3.13-slim-bookworm", "node:22-slim"


def test_a_recent_failure_defers_its_base_only() -> None:
    failures = {PYTHON: 1000, NODE: 100}
    assert images.pull_deferred(failures, now=1500, retry_seconds=3600) == [NODE, PYTHON]
    assert images.pull_deferred(failures, now=3750, retry_seconds=3600) == [PYTHON]
    assert images.pull_deferred(failures, now=4600, retry_seconds=3600) == []


def test_a_retry_interval_of_zero_defers_nothing() -> None:
    assert images.pull_deferred({PYTHON: 1000}, now=1000, retry_seconds=0) == []
    assert images.pull_deferred(None, now=1000, retry_seconds=3600) == []


def test_a_failed_pull_is_recorded_and_a_pull_that_worked_clears_it() -> None:
    results = [
        {"__base": PYTHON, "failed": True, "msg": "no registry"},
        {"__base": NODE, "image": {"Id": "sha256:1"}},
    ]
    record = images.pull_failures({NODE: 5, "other:1": 7}, results, now=1234.9, key="__base")
    assert record == {"other:1": 7, PYTHON: 1234}
