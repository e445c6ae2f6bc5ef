#!/usr/bin/python
# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The content-addressed reference of every image to build, and which are already in Docker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.build_context import digest_context

DOCUMENTATION = r"""
---
module: image_refs
short_description: Name every image to build by a digest of its inputs, and find the ones already built
description:
  - For each build, in order, digests the build context as the engine sees it (C(.dockerignore)
    honoured, see M(build_context_digest)) together with the base image's ID and the build
    arguments, and names the image C(repository:tag_prefix + digest).
  - A build may run on the image of an earlier one (O(builds[].runtime)); that image's reference is
    passed as the C(RUNTIME_IMAGE) build argument, so a change to it changes the later image too.
  - Asks the Docker engine which of these references it already has, so that only the missing ones
    are built. One call instead of three tasks per image.
  - This is an information module; it never changes anything and always returns C(changed=false).
author:
  - todo-app developers
options:
  builds:
    description: The images, in build order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: A short name (backend, frontend).
        type: str
        required: true
      repository:
        description: The repository the image is tagged in.
        type: str
        required: true
      context:
        description: The build context directory.
        type: path
        required: true
      dockerfile:
        description: The Dockerfile, relative to O(builds[].context).
        type: str
        default: Dockerfile
      base:
        description: The base image, passed as the C(BASE_IMAGE) build argument.
        type: str
        required: true
      runtime:
        description: The name of an earlier build whose image is passed as C(RUNTIME_IMAGE).
        type: str
      tag_prefix:
        description: Put in front of the digest in the tag.
        type: str
        default: ""
      args:
        description: Further build arguments.
        type: dict
        default: {}
  length:
    description: Hex characters of the digest in the tag.
    type: int
    default: 12
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - Needs the C(docker) command on PATH. A base image that is not in Docker yet (it is built first)
    counts as C(unbuilt-base), so its images are reported missing.
"""

EXAMPLES = r"""
- name: Name the images and find the ones already built
  image_refs:
    builds:
      - name: backend
        repository: todo-app/backend
        context: backend
        base: todo-app/python-base:3.11-bookworm
  register: refs
"""

RETURN = r"""
images:
  description: Each build by name, in build order.
  returned: always
  type: dict
  sample:
    backend:
      ref: todo-app/backend:3f1a2b3c4d5e
      base: todo-app/python-base:3.11-bookworm
      args: {BASE_IMAGE: todo-app/python-base:3.11-bookworm}
      exists: true
missing:
  description: The names of the builds whose reference Docker does not have, in build order.
  returned: always
  type: list
  elements: str
  sample: [frontend]
"""

UNBUILT_BASE = "unbuilt-base"


def build_args(build: dict[str, Any], images: dict[str, Any]) -> dict[str, str]:
    args = {"BASE_IMAGE": build["base"]}
    if build.get("runtime"):
        args["RUNTIME_IMAGE"] = images[build["runtime"]]["ref"]
    args.update({key: str(value) for key, value in build.get("args", {}).items()})
    return args


def extra_inputs(base_id: str, args: dict[str, str]) -> list[str]:
    """What build_context_digest's ``extra`` got in the images role: the base ID, then key=value
    of each build argument sorted by key (so tags stay what they were)."""
    return [base_id, *(f"{key}={value}" for key, value in sorted(args.items()))]


def plan(builds: list[dict[str, Any]], image_id: Any, exists: Any, length: int) -> dict[str, Any]:
    images: dict[str, Any] = {}
    for build in builds:
        if build.get("runtime") and build["runtime"] not in images:
            raise ValueError(
                f"build {build['name']} runs on {build['runtime']}, which must come earlier in builds."
            )
        args = build_args(build, images)
        digest = digest_context(
            Path(build["context"]),
            build.get("dockerfile") or "Dockerfile",
            extra_inputs(image_id(build["base"]) or UNBUILT_BASE, args),
        )["sha256"][:length]
        ref = f"{build['repository']}:{build.get('tag_prefix') or ''}{digest}"
        images[build["name"]] = {
            "ref": ref,
            "base": args.get("RUNTIME_IMAGE", build["base"]),
            "args": args,
            "exists": bool(exists(ref)),
        }
    return {"images": images, "missing": [name for name, image in images.items() if not image["exists"]]}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "builds": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "repository": {"type": "str", "required": True},
                    "context": {"type": "path", "required": True},
                    "dockerfile": {"type": "str", "default": "Dockerfile"},
                    "base": {"type": "str", "required": True},
                    "runtime": {"type": "str"},
                    "tag_prefix": {"type": "str", "default": ""},
                    "args": {"type": "dict", "default": {}},
                },
            },
            "length": {"type": "int", "default": 12},
        },
        supports_check_mode=True,
    )
    docker = module.get_bin_path("docker", required=True)

    def image_id(name: str) -> str | None:
        rc, out, _ = module.run_command([docker, "image", "inspect", "--format", "{{.Id}}", name])
        return str(out).strip() if rc == 0 else None

    for build in module.params["builds"]:
        if not (Path(build["context"]) / build["dockerfile"]).is_file():
            module.fail_json(
                msg=f"{build['name']}: no {build['dockerfile']} in the build context {build['context']}."
            )
    try:
        result = plan(module.params["builds"], image_id, image_id, module.params["length"])
    except (ValueError, OSError) as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
