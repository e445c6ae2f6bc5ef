"""image_load_ref_forms: every name an image goes by in Docker, containerd and a registry, so that
pruning keeps an image wherever any of its names is in use."""

from __future__ import annotations

import re
from typing import Any

DOCUMENTATION = """
name: image_load_ref_forms
short_description: Every name of the given images, with and without a registry in front
description:
  - For each reference, its bare name (no C(docker.io/) or C(docker.io/library/), no registry of
    O(registries) in front), and that name behind each registry of O(registries).
  - A tag pushed to the local registry is the same image as the Docker tag it was pushed from;
    pruning compares names exactly, so it is given both.
positional: registries
options:
  _input:
    description: References (repository:tag).
    type: list
    elements: str
    required: true
  registries:
    description: Registry hosts (host:port) the images are pushed to; empty entries are ignored.
    type: list
    elements: str
    required: true
"""

EXAMPLES = """
kept: >-
  {{ ['127.0.0.1:5001/todo-app/backend:abc', 'docker.io/todo-app/frontend:def']
     | image_load_ref_forms(['127.0.0.1:5001']) }}
# ['127.0.0.1:5001/todo-app/backend:abc', '127.0.0.1:5001/todo-app/frontend:def',
#  'todo-app/backend:abc', 'todo-app/frontend:def']
"""

RETURN = """
_value:
  description: Every form of every reference, unique and sorted.
  type: list
  elements: str
"""


def bare_ref(ref: str, registries: list[str]) -> str:
    """``ref`` as Docker spells it, without any registry of ``registries`` in front."""
    ref = re.sub(r"^docker\.io/(library/)?", "", ref)
    for registry in registries:
        if ref.startswith(f"{registry}/"):
            return ref[len(registry) + 1 :]
    return ref


def image_load_ref_forms(refs: list[str], registries: list[str]) -> list[str]:
    hosts = [registry.rstrip("/") for registry in registries if registry]
    bare = {bare_ref(ref, hosts) for ref in refs}
    return sorted(bare | {f"{host}/{ref}" for host in hosts for ref in bare})


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"image_load_ref_forms": image_load_ref_forms}
