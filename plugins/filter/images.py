"""pull_deferred and pull_failures: auto mode remembers when an upstream base failed to pull, so
the runs that follow build on the local base without asking an unreachable registry again."""

from __future__ import annotations

from typing import Any

DOCUMENTATION = """
name: pull_deferred
short_description: The upstream bases not to pull yet, because their last pull failed recently
description:
  - Given when each upstream base last failed to pull, lists those whose failure is younger than
    retry_seconds. A retry_seconds of 0 (or less) defers nothing.
positional: failures
options:
  failures:
    description: The time of each base's last failed pull, {image: epoch seconds}.
    type: dict
    required: true
  now:
    description: The current time in epoch seconds.
    type: float
    required: true
  retry_seconds:
    description: How long a failure defers the next pull.
    type: int
    required: true
"""

RETURN = """
_value:
  description: The deferred images, sorted.
  type: list
  elements: str
"""


def pull_deferred(failures: dict[str, float] | None, now: float, retry_seconds: int) -> list[str]:
    if retry_seconds <= 0:
        return []
    return sorted(
        image for image, failed_at in (failures or {}).items() if now - float(failed_at) < retry_seconds
    )


def pull_failures(
    failures: dict[str, float] | None, results: list[dict[str, Any]], now: float, key: str
) -> dict[str, int]:
    """The record after a round of pulls: each pull in ``results`` (a looped docker_image's
    results, the image under ``key``) that returned no image failed now; one that did clears
    its image's failure; images not tried keep what was recorded."""
    record = {image: int(failed_at) for image, failed_at in (failures or {}).items()}
    for result in results:
        image = result[key]
        if result.get("image"):
            record.pop(image, None)
        else:
            record[image] = int(now)
    return dict(sorted(record.items()))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"pull_deferred": pull_deferred, "pull_failures": pull_failures}
