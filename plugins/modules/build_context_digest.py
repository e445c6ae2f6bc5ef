#!/usr/bin/python
# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Digest a Docker build context the way the engine sees it, for content-addressed tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOCUMENTATION = r"""
---
module: build_context_digest
short_description: Digest a Docker build context, honouring .dockerignore
description:
  - Walks a Docker build context directory, leaves out what its C(.dockerignore) excludes (with
    the engine's pattern rules, including C(**) and C(!) exceptions) and returns a digest of
    every remaining file's path, executable bit and content.
  - The Dockerfile and C(.dockerignore) are always part of the digest, because the engine always
    receives them and they decide what the image contains.
  - Use the digest as an image tag, so that a source change yields a new tag and an unchanged
    source maps to the image that was already built.
  - This is an information module; it never changes anything and always returns C(changed=false).
author:
  - todo-app developers
options:
  path:
    description:
      - The build context directory.
    type: path
    required: true
  dockerfile:
    description:
      - The Dockerfile, relative to O(path).
    type: str
    default: Dockerfile
  extra:
    description:
      - Further inputs the image depends on besides the context, mixed into the digest in order,
        for example the base image ID and the build arguments.
    type: list
    elements: str
    default: []
  length:
    description:
      - Number of hex characters of RV(digest), from 8 to 64.
    type: int
    default: 12
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - Symbolic links are digested as their target path, never followed, as the engine sends them.
  - Ownership and timestamps are left out, so a fresh clone digests like the original.
"""

EXAMPLES = r"""
---
- name: Digest the backend build context and the base it builds on
  build_context_digest:
    path: "{{ playbook_dir }}/backend"
    extra:
      - "{{ base_image_id }}"
  register: backend_context

- name: Build the backend image tagged by its content
  community.docker.docker_image:
    name: todo-app/backend
    tag: "{{ backend_context.digest }}"
    source: build
    build:
      path: "{{ playbook_dir }}/backend"
"""

RETURN = r"""
digest:
  description: The first O(length) hex characters of RV(sha256).
  returned: success
  type: str
  sample: 3f2a9c1b7d4e
sha256:
  description: The full SHA-256 of the context, as 64 hex characters.
  returned: success
  type: str
  sample: 3f2a9c1b7d4e0c6f2b1a8e9d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b
files:
  description: How many files (and symbolic links) went into the digest.
  returned: success
  type: int
  sample: 42
patterns:
  description: The .dockerignore patterns that were applied, in file order.
  returned: success
  type: list
  elements: str
  sample: [".venv", "**/__pycache__", "!app/keep.pyc"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.build_context import (  # re-exported: the unit tests call them here
    DOCKERIGNORE,
    Pattern,
    clean_pattern,
    context_digest,
    context_files,
    digest_context,
    file_entry,
    is_excluded,
    parse_dockerignore,
    translate,
)

__all__ = [
    "DOCKERIGNORE",
    "Pattern",
    "clean_pattern",
    "context_digest",
    "context_files",
    "digest_context",
    "file_entry",
    "is_excluded",
    "parse_dockerignore",
    "translate",
]

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "path": {"type": "path", "required": True},
    "dockerfile": {"type": "str", "default": "Dockerfile"},
    "extra": {"type": "list", "elements": "str", "default": []},
    "length": {"type": "int", "default": 12},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    root = Path(params["path"])
    length = params["length"]
    if not 8 <= length <= 64:
        module.fail_json(msg=f"length must be between 8 and 64 hex characters, found {length}.")
    if not root.is_dir():
        module.fail_json(msg=f"path must be a build context directory, found no directory at {root}.")
    if not (root / params["dockerfile"]).is_file():
        module.fail_json(msg=f"dockerfile {params['dockerfile']} was expected in {root}, found no such file.")
    try:
        result = digest_context(root, params["dockerfile"], params["extra"])
    except OSError as exc:
        module.fail_json(msg=f"Could not read the build context {root}: {exc}")
    module.exit_json(changed=False, digest=result["sha256"][:length], **result)


if __name__ == "__main__":
    main()
