#!/usr/bin/python
# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Measure a local Docker image and enforce size budgets."""

from __future__ import annotations

import re
import traceback
from typing import Any

DOCUMENTATION = r"""
---
module: docker_image_size
short_description: Measure a local Docker image and enforce size budgets
description:
  - Inspects an image in the local Docker engine (it never pulls) and returns its total size,
    its number of filesystem layers and the largest layers with the Dockerfile instruction that
    created them.
  - With O(base_image), also measures how many bytes the image adds over its base image, and
    marks which layers come from the base.
  - With O(max_size_mb) and/or O(max_added_mb), fails when the image is over budget. The failure
    message says what was expected, what was found, which layers are the largest and what to do;
    the full breakdown is returned with the failure too.
  - All sizes are in decimal megabytes (1 MB = 1,000,000 bytes), the unit C(docker images)
    reports. There is no MiB mode.
  - This is an information module; it never changes anything and always returns C(changed=false).
author:
  - todo-app developers
extends_documentation_fragment:
  - community.docker.docker.api_documentation
  - community.docker.attributes
  - community.docker.attributes.info_module
  - community.docker.attributes.idempotent_not_modify_state
options:
  name:
    description:
      - The image to measure, as C(name:tag), C(name@digest) or image ID.
      - A name without a tag means C(name:latest), as with the Docker CLI.
    type: str
    required: true
  base_image:
    description:
      - The image that O(name) is built on (its C(FROM)), as C(name:tag) or image ID.
      - When set, RV(image.added_bytes) is the image size minus the base image size, and layers
        whose history matches the base image's history are marked RV(image.layers[].from_base).
      - If the image's filesystem layers do not start with the base's layers, the module warns
        that O(name) does not look like it is built on O(base_image).
    type: str
  max_size_mb:
    description:
      - Budget for the total image size, in decimal MB. The module fails when the image is larger.
    type: float
  max_added_mb:
    description:
      - Budget for the bytes the image adds over O(base_image), in decimal MB. The module fails
        when the image adds more.
      - Requires O(base_image).
    type: float
  top_layers:
    description:
      - How many of the largest layers to return in RV(image.layers) and in RV(report).
      - Use V(0) to return every layer that holds data.
    type: int
    default: 10
requirements:
  - "Docker API >= 1.25"
notes:
  - Layer sizes come from the image history (C(docker history)); metadata-only instructions such as
    C(ENV) or C(CMD) have no size and are left out of RV(image.layers).
seealso:
  - module: community.docker.docker_image_info
"""

EXAMPLES = r"""
---
- name: Measure the backend image
  docker_image_size:
    name: todo-app/backend:{{ app_version }}
  register: backend_size

- name: Show the size report
  ansible.builtin.debug:
    var: backend_size.report

- name: Enforce size budgets for the backend image
  docker_image_size:
    name: todo-app/backend:{{ app_version }}
    base_image: todo-app/python-base:3.11-bookworm
    max_size_mb: 500
    max_added_mb: 60
    top_layers: 5

- name: Measure an image on a remote engine
  docker_image_size:
    name: todo-app/frontend:latest
    docker_host: tcp://build-host.example.com:2376
    tls: true
"""

RETURN = r"""
image:
  description: Measurements of the image.
  returned: always
  type: dict
  contains:
    name:
      description: The image name as given in O(name).
      type: str
      returned: always
      sample: todo-app/backend:abc123
    id:
      description: The image ID.
      type: str
      returned: always
      sample: sha256:75ccd022f4533f4ed20015501b769f1f0745f95c3cc4918791e7dacc1f6a8756
    size_bytes:
      description: Total image size in bytes, as the engine reports it.
      type: int
      returned: always
      sample: 182400000
    size_mb:
      description: Total image size in decimal MB, rounded to 2 decimals.
      type: float
      returned: always
      sample: 182.4
    layer_count:
      description:
        - Number of filesystem layers (entries of the image's C(RootFS.Layers)).
        - Metadata-only instructions (C(ENV), C(CMD), C(LABEL), ...) do not create layers and are not counted.
      type: int
      returned: always
      sample: 12
    layers:
      description:
        - The largest layers that hold data, largest first, at most O(top_layers) of them.
      type: list
      elements: dict
      returned: always
      contains:
        size_bytes:
          description: Layer size in bytes.
          type: int
          returned: always
          sample: 21300000
        size_mb:
          description: Layer size in decimal MB, rounded to 2 decimals.
          type: float
          returned: always
          sample: 21.3
        created_by:
          description:
            - "The instruction that created the layer, as in a Dockerfile: the classic builder's
              shell prefix (C(/bin/sh -c) with its no-op marker) and BuildKit's C(# buildkit) suffix
              are removed, shell commands are shown as C(RUN ...) and C(file:<sha256>) sources are
              shortened to 12 hex characters."
            - For layers without a recorded instruction (imported images) the history comment,
              for example C(Imported from -).
          type: str
          sample: RUN uv sync --frozen --no-dev
          returned: always
        id:
          description: The history entry's image ID, or V(null) when the engine reports C(<missing>).
          type: str
          returned: always
          sample: sha256:54ec339a2d6034c64ba8fdb67f1a44fa2570b074d2eedff5e770c6ae5ef79690
        from_base:
          description: Whether the layer belongs to O(base_image).
          type: bool
          returned: when O(base_image) is set
          sample: false
    base:
      description: Measurements of the base image.
      type: dict
      returned: when O(base_image) is set
      contains:
        name:
          description: The base image name as given in O(base_image).
          type: str
          returned: always
          sample: todo-app/python-base:3.11-bookworm
        id:
          description: The base image ID.
          type: str
          returned: always
          sample: sha256:1c1f8e94a4be7439e581ec369170fb303157ce6b3244209c7ad07d89808f542f
        size_bytes:
          description: Base image size in bytes.
          type: int
          returned: always
          sample: 141200000
        size_mb:
          description: Base image size in decimal MB.
          type: float
          returned: always
          sample: 141.2
        layer_count:
          description: Number of filesystem layers of the base image.
          type: int
          returned: always
          sample: 1
        is_ancestor:
          description: Whether the image's filesystem layers start with all of the base image's layers.
          type: bool
          returned: always
          sample: true
    added_bytes:
      description: Image size minus base image size, in bytes (negative if the image is smaller).
      type: int
      returned: when O(base_image) is set
      sample: 41200000
    added_mb:
      description: RV(image.added_bytes) in decimal MB, rounded to 2 decimals.
      type: float
      returned: when O(base_image) is set
      sample: 41.2
budgets:
  description:
    - One verdict per budget that was set, keyed by option name. Empty when no budget was set.
  returned: always
  type: dict
  sample:
    max_size_mb:
      budget_mb: 500.0
      budget_bytes: 500000000
      measured_bytes: 182400000
      measured_mb: 182.4
      over_bytes: 0
      ok: true
  contains:
    max_size_mb:
      description: Verdict for O(max_size_mb).
      type: dict
      returned: when O(max_size_mb) is set
      contains:
        budget_mb:
          description: The budget as given, in decimal MB.
          type: float
          returned: always
          sample: 500.0
        budget_bytes:
          description: The budget in bytes.
          type: int
          returned: always
          sample: 500000000
        measured_bytes:
          description: The total image size, in bytes.
          type: int
          returned: always
          sample: 182400000
        measured_mb:
          description: The total image size, in decimal MB.
          type: float
          returned: always
          sample: 182.4
        over_bytes:
          description: How many bytes the measured value exceeds the budget by (0 when within budget).
          type: int
          returned: always
          sample: 0
        ok:
          description: Whether the measured value is within the budget (equal counts as within).
          type: bool
          returned: always
          sample: true
    max_added_mb:
      description: Verdict for O(max_added_mb).
      type: dict
      returned: when O(max_added_mb) is set
      contains:
        budget_mb:
          description: The budget as given, in decimal MB.
          type: float
          returned: always
          sample: 60.0
        budget_bytes:
          description: The budget in bytes.
          type: int
          returned: always
          sample: 60000000
        measured_bytes:
          description: The bytes added over the base image, in bytes.
          type: int
          returned: always
          sample: 41200000
        measured_mb:
          description: The bytes added over the base image, in decimal MB.
          type: float
          returned: always
          sample: 41.2
        over_bytes:
          description: How many bytes the measured value exceeds the budget by (0 when within budget).
          type: int
          returned: always
          sample: 0
        ok:
          description: Whether the measured value is within the budget (equal counts as within).
          type: bool
          returned: always
          sample: true
report:
  description:
    - Human-readable summary, one line per element.
    - The first line is the verdict, then one line per layer in RV(image.layers).
  returned: always
  type: list
  elements: str
  sample:
    - "todo-app/backend:abc123: 182.4 MB total (budget 500 MB, ok), 12 layers,
      41.2 MB over base todo-app/python-base:3.11-bookworm (budget 60 MB, ok)"
    - "  21.3 MB  RUN uv sync --frozen --no-dev"
    - "  14.0 MB  COPY /app /app"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.community.docker.plugins.module_utils._api.errors import (
    DockerException,
    NotFound,
)
from ansible_collections.community.docker.plugins.module_utils.common_api import (
    AnsibleDockerClient,
    RequestException,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "base_image": {"type": "str"},
    "max_size_mb": {"type": "float"},
    "max_added_mb": {"type": "float"},
    "top_layers": {"type": "int", "default": 10},
}
REQUIRED_BY = {"max_added_mb": "base_image"}

BYTES_PER_MB = 1_000_000
MISSING_ID = "<missing>"
REPORT_INSTRUCTION_WIDTH = 100

_NOP_PREFIX = "/bin/sh -c #(nop) "
_SHELL_PREFIX = "/bin/sh -c "
_BUILDKIT_SUFFIX = "# buildkit"
# Classic builder RUN with build args: "|2 A=1 B=2 /bin/sh -c make"
_ARGS_SHELL_RE = re.compile(r"^\|\d+ .*?/bin/sh -c ")
# BuildKit RUN: "RUN /bin/sh -c make # buildkit" or "RUN |1 A=1 /bin/sh -c make # buildkit"
_BUILDKIT_RUN_RE = re.compile(r"^RUN (?:\|\d+ .*?)?/bin/sh -c ")
# Classic builder COPY/ADD sources: "COPY file:<64 hex> in /app" -> "COPY file:<12 hex> in /app"
_SOURCE_HASH_RE = re.compile(r"(file|dir|multi):([0-9a-f]{12})[0-9a-f]{52}\b")
# The classic builder glues flags to the source: "COPY --chown=1:1dir:<hash> in ./"
_GLUED_SOURCE_RE = re.compile(r"(--\w+=\S+?)(file|dir|multi):(?=[0-9a-f]{64})")


# --------------------------------------------------------------------------- units


def bytes_to_mb(size_bytes: int, ndigits: int = 2) -> float:
    """Convert bytes to decimal MB (10^6 bytes), rounded to ``ndigits`` decimals."""
    return round(size_bytes / BYTES_PER_MB, ndigits)


def mb_to_bytes(size_mb: float) -> int:
    """Convert decimal MB to whole bytes (rounded, so 0.1 MB is exactly 100000 bytes)."""
    return round(size_mb * BYTES_PER_MB)


def format_mb(size_bytes: int) -> str:
    """Human-readable decimal MB: one decimal, three under 0.1 MB, "<0.001 MB" under 500 bytes."""
    if size_bytes == 0:
        return "0 MB"
    size_mb = size_bytes / BYTES_PER_MB
    if abs(size_mb) < 0.1:
        text = f"{size_mb:.3f}"
        if text in ("0.000", "-0.000"):
            return "<0.001 MB" if size_bytes > 0 else ">-0.001 MB"
        return f"{text} MB"
    return f"{size_mb:.1f} MB"


def format_budget(budget_mb: float) -> str:
    """A budget as the user wrote it: 500 -> "500 MB", 0.5 -> "0.5 MB"."""
    return f"{budget_mb:g} MB"


# --------------------------------------------------------------------------- history


def clean_created_by(created_by: str | None) -> str:
    """Turn a history ``CreatedBy`` into the Dockerfile-like instruction.

    Strips the classic builder's ``/bin/sh -c #(nop)`` prefix, rewrites shell commands as
    ``RUN ...``, drops BuildKit's ``# buildkit`` suffix, shortens the classic builder's
    ``file:<sha256>`` source hashes to 12 characters and collapses whitespace.
    """
    text = (created_by or "").strip()
    if text.endswith(_BUILDKIT_SUFFIX):
        text = text[: -len(_BUILDKIT_SUFFIX)].rstrip()
    if text.startswith(_NOP_PREFIX):
        text = text[len(_NOP_PREFIX) :]
    elif _BUILDKIT_RUN_RE.match(text):
        text = "RUN " + _BUILDKIT_RUN_RE.sub("", text, count=1)
    elif _ARGS_SHELL_RE.match(text):
        text = "RUN " + _ARGS_SHELL_RE.sub("", text, count=1)
    elif text.startswith(_SHELL_PREFIX):
        text = "RUN " + text[len(_SHELL_PREFIX) :]
    text = _GLUED_SOURCE_RE.sub(r"\1 \2:", text)
    text = _SOURCE_HASH_RE.sub(r"\1:\2", text)
    return " ".join(text.split())


def parse_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalise the engine's ``/images/{name}/history`` answer.

    The engine lists the newest entry first; the result is oldest first, each entry with
    ``index`` (0 = oldest), ``id`` (None for ``<missing>``), ``created``, ``created_by`` (raw),
    ``instruction`` (cleaned, falling back to the comment), ``comment`` and ``size_bytes``.
    """
    entries: list[dict[str, Any]] = []
    for index, item in enumerate(reversed(history or [])):
        raw = item.get("CreatedBy") or ""
        comment = (item.get("Comment") or "").strip()
        image_id = item.get("Id")
        entries.append(
            {
                "index": index,
                "id": None if not image_id or image_id == MISSING_ID else image_id,
                "created": item.get("Created"),
                "created_by": raw,
                "instruction": clean_created_by(raw) or comment,
                "comment": comment,
                "size_bytes": int(item.get("Size") or 0),
            }
        )
    return entries


def _history_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["created"], entry["created_by"], entry["size_bytes"])


def shared_history_count(image_entries: list[dict[str, Any]], base_entries: list[dict[str, Any]]) -> int:
    """How many of the image's oldest history entries are the base image's history.

    Returns ``len(base_entries)`` when the base's whole history is a prefix of the image's
    history, else 0 (a partial match means the image is not built on this base).
    """
    if not base_entries or len(base_entries) > len(image_entries):
        return 0
    for image_entry, base_entry in zip(image_entries, base_entries, strict=False):
        if _history_key(image_entry) != _history_key(base_entry):
            return 0
    return len(base_entries)


def rootfs_layers(inspect: dict[str, Any]) -> list[str]:
    """The diff IDs in the image's ``RootFS.Layers`` (oldest first)."""
    return list((inspect.get("RootFS") or {}).get("Layers") or [])


def is_layer_prefix(image_layers: list[str], base_layers: list[str]) -> bool:
    """Whether ``image_layers`` starts with all of ``base_layers`` (True for an empty base)."""
    return image_layers[: len(base_layers)] == base_layers


# --------------------------------------------------------------------------- layers


def layer_view(entry: dict[str, Any], with_base: bool = False) -> dict[str, Any]:
    """The public shape of one layer in the ``layers`` return value."""
    view: dict[str, Any] = {
        "size_bytes": entry["size_bytes"],
        "size_mb": bytes_to_mb(entry["size_bytes"]),
        "created_by": entry["instruction"],
        "id": entry["id"],
    }
    if with_base:
        view["from_base"] = bool(entry.get("from_base", False))
    return view


def sort_layers(entries: list[dict[str, Any]], top: int = 10) -> list[dict[str, Any]]:
    """Entries that hold data, largest first (ties: oldest first), at most ``top`` (0 = all)."""
    data = [entry for entry in entries if entry["size_bytes"] > 0]
    data.sort(key=lambda entry: (-entry["size_bytes"], entry["index"]))
    if top > 0:
        return data[:top]
    return data


def compute_added_bytes(image_size: int, base_size: int) -> int:
    """Bytes the image adds over its base: a plain difference, negative if it is smaller."""
    return int(image_size) - int(base_size)


# --------------------------------------------------------------------------- measure


def measure_image(
    name: str,
    inspect: dict[str, Any],
    history: list[dict[str, Any]],
    top: int = 10,
    base_name: str | None = None,
    base_inspect: dict[str, Any] | None = None,
    base_history: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Build the ``image`` return value from inspect/history answers; also return warnings."""
    warnings: list[str] = []
    entries = parse_history(history)
    layers = rootfs_layers(inspect)
    size_bytes = int(inspect.get("Size") or 0)
    info: dict[str, Any] = {
        "name": name,
        "id": inspect.get("Id"),
        "size_bytes": size_bytes,
        "size_mb": bytes_to_mb(size_bytes),
        "layer_count": len(layers),
    }
    with_base = base_inspect is not None
    if base_inspect is not None:
        base_layers = rootfs_layers(base_inspect)
        base_size = int(base_inspect.get("Size") or 0)
        is_ancestor = is_layer_prefix(layers, base_layers)
        shared = 0
        if is_ancestor:
            shared = shared_history_count(entries, parse_history(base_history or []))
        else:
            warnings.append(
                f"Image {name} does not look like it is built on {base_name}: its filesystem "
                f"layers do not start with the {len(base_layers)} layer(s) of {base_name}. "
                "The added size is a plain size difference."
            )
        for entry in entries:
            entry["from_base"] = entry["index"] < shared
        added = compute_added_bytes(size_bytes, base_size)
        info["base"] = {
            "name": base_name,
            "id": base_inspect.get("Id"),
            "size_bytes": base_size,
            "size_mb": bytes_to_mb(base_size),
            "layer_count": len(base_layers),
            "is_ancestor": is_ancestor,
        }
        info["added_bytes"] = added
        info["added_mb"] = bytes_to_mb(added)
    info["layers"] = [layer_view(e, with_base) for e in sort_layers(entries, top)]
    return info, warnings


# --------------------------------------------------------------------------- budgets


def evaluate_budget(measured_bytes: int, budget_mb: float) -> dict[str, Any]:
    """One budget verdict; a measured value equal to the budget is within budget."""
    budget_bytes = mb_to_bytes(budget_mb)
    over = max(0, measured_bytes - budget_bytes)
    return {
        "budget_mb": float(budget_mb),
        "budget_bytes": budget_bytes,
        "measured_bytes": measured_bytes,
        "measured_mb": bytes_to_mb(measured_bytes),
        "over_bytes": over,
        "ok": over == 0,
    }


def evaluate_budgets(
    size_bytes: int,
    max_size_mb: float | None = None,
    added_bytes: int | None = None,
    max_added_mb: float | None = None,
) -> dict[str, dict[str, Any]]:
    """Verdicts for the budgets that are set, keyed by option name."""
    budgets: dict[str, dict[str, Any]] = {}
    if max_size_mb is not None:
        budgets["max_size_mb"] = evaluate_budget(size_bytes, max_size_mb)
    if max_added_mb is not None:
        if added_bytes is None:
            raise ValueError("max_added_mb needs the added bytes over a base image")
        budgets["max_added_mb"] = evaluate_budget(added_bytes, max_added_mb)
    return budgets


def budgets_ok(budgets: dict[str, dict[str, Any]]) -> bool:
    """True when every budget that was set is met (also when none was set)."""
    return all(budget["ok"] for budget in budgets.values())


# --------------------------------------------------------------------------- report


def _budget_note(budget: dict[str, Any] | None) -> str:
    if budget is None:
        return ""
    verdict = "ok" if budget["ok"] else f"OVER by {format_mb(budget['over_bytes'])}"
    return f" (budget {format_budget(budget['budget_mb'])}, {verdict})"


def _shorten(text: str, width: int = REPORT_INSTRUCTION_WIDTH) -> str:
    if len(text) <= width:
        return text
    return text[: width - 1].rstrip() + "…"


def format_layer_line(layer: dict[str, Any]) -> str:
    """``"  21.3 MB  RUN uv sync …"``, with ``[base]`` for layers of the base image."""
    marker = "[base] " if layer.get("from_base") else ""
    instruction = _shorten(layer["created_by"] or "(no instruction recorded)")
    return f"  {format_mb(layer['size_bytes']):>9}  {marker}{instruction}"


def format_report(info: dict[str, Any], budgets: dict[str, dict[str, Any]]) -> list[str]:
    """The verdict line followed by one line per returned layer."""
    count = info["layer_count"]
    line = (
        f"{info['name']}: {format_mb(info['size_bytes'])} total"
        f"{_budget_note(budgets.get('max_size_mb'))}, {count} layer{'' if count == 1 else 's'}"
    )
    if "base" in info:
        line += (
            f", {format_mb(info['added_bytes'])} over base {info['base']['name']}"
            f"{_budget_note(budgets.get('max_added_mb'))}"
        )
    return [line] + [format_layer_line(layer) for layer in info["layers"]]


def format_failure(info: dict[str, Any], budgets: dict[str, dict[str, Any]]) -> str:
    """The ``msg`` for an over-budget image: expected, found, largest layers, what to do."""
    problems: list[str] = []
    size_budget = budgets.get("max_size_mb")
    if size_budget is not None and not size_budget["ok"]:
        problems.append(
            f"expected a total size of at most {format_budget(size_budget['budget_mb'])} "
            f"(max_size_mb), found {format_mb(size_budget['measured_bytes'])} "
            f"({format_mb(size_budget['over_bytes'])} over)"
        )
    added_budget = budgets.get("max_added_mb")
    if added_budget is not None and not added_budget["ok"]:
        base_name = info.get("base", {}).get("name")
        problems.append(
            f"expected at most {format_budget(added_budget['budget_mb'])} added over base "
            f"{base_name} (max_added_mb), found {format_mb(added_budget['measured_bytes'])} "
            f"({format_mb(added_budget['over_bytes'])} over)"
        )
    layers = info["layers"]
    only_added = size_budget is None or size_budget["ok"]
    if only_added and "base" in info:
        # Only the added-bytes budget failed: the base's layers are not the culprit.
        layers = [layer for layer in layers if not layer.get("from_base")]
    if layers:
        listed = "; ".join(
            f"{format_mb(layer['size_bytes'])} {_shorten(layer['created_by'], 80)}" for layer in layers[:5]
        )
        largest = f" Largest layers: {listed}."
    else:
        largest = ""
    return (
        f"Image {info['name']} is over its size budget: {'; '.join(problems)}.{largest} "
        "To fix it, shrink the largest layers (clean package caches in the same RUN that "
        "creates them, use a multi-stage build, add a .dockerignore, use a slimmer base) or, "
        "if the growth is intended, raise the budget."
    )


# --------------------------------------------------------------------------- engine


def fetch_image(client: Any, name: str, option: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Inspect an image and read its history; fail clearly if it does not exist locally."""
    module: AnsibleModule = client.module
    try:
        inspect = client.get_json("/images/{0}/json", name)
        history = client.get_json("/images/{0}/history", name)
    except NotFound:
        module.fail_json(
            msg=(
                f"Image {name} ({option}) was not found in the Docker engine at "
                f"{module.params.get('docker_host')}: expected a local image with that "
                "name:tag or ID, found none. This module does not pull images; build it first "
                f"(for example: docker build -t {name} .) or check the name and tag "
                "(docker images)."
            ),
            changed=False,
        )
    return inspect, history or []


def _validate(params: dict[str, Any]) -> str | None:
    for option in ("max_size_mb", "max_added_mb"):
        value = params.get(option)
        if value is not None and value < 0:
            return f"{option} must be 0 or more (decimal MB), found {value}."
    if params["top_layers"] < 0:
        return f"top_layers must be 0 (all layers) or more, found {params['top_layers']}."
    return None


def run(client: Any) -> None:
    """Measure, evaluate and report; exits through the module."""
    module: AnsibleModule = client.module
    params = module.params
    problem = _validate(params)
    if problem:
        module.fail_json(msg=problem, changed=False)

    inspect, history = fetch_image(client, params["name"], "name")
    base_inspect = base_history = None
    if params.get("base_image"):
        base_inspect, base_history = fetch_image(client, params["base_image"], "base_image")

    info, warnings = measure_image(
        params["name"],
        inspect,
        history,
        top=params["top_layers"],
        base_name=params.get("base_image"),
        base_inspect=base_inspect,
        base_history=base_history,
    )
    for warning in warnings:
        module.warn(warning)
    budgets = evaluate_budgets(
        info["size_bytes"],
        params.get("max_size_mb"),
        info.get("added_bytes"),
        params.get("max_added_mb"),
    )
    result: dict[str, Any] = {
        "changed": False,
        "image": info,
        "budgets": budgets,
        "report": format_report(info, budgets),
    }
    if not budgets_ok(budgets):
        module.fail_json(msg=format_failure(info, budgets), **result)
    module.exit_json(**result)


def main() -> None:
    client = AnsibleDockerClient(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_by=REQUIRED_BY,
    )
    try:
        run(client)
    except DockerException as exc:
        client.fail(
            f"An unexpected Docker error occurred: {exc}",
            exception=traceback.format_exc(),
        )
    except RequestException as exc:
        client.fail(
            f"An unexpected requests error occurred when trying to talk to the Docker daemon: {exc}",
            exception=traceback.format_exc(),
        )


if __name__ == "__main__":
    main()
