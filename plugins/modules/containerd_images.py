#!/usr/bin/python
# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deliver images into a containerd (from Docker or a registry), and prune the ones nothing needs."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: containerd_images
short_description: Import or pull images into a containerd, or prune the tags of given repositories
description:
  - Lists the images of one containerd namespace once (C(ctr images list)) and compares.
  - With O(state=present), every image of O(names) that containerd lacks is streamed from the
    Docker engine (C(docker save)) into containerd (C(ctr images import)), without a shell; with
    O(source=registry) it is pulled from the registry its name starts with (C(ctr images pull)),
    which fetches only the layers containerd does not hold yet.
  - With O(state=pruned), every tag of O(repositories) that is not in O(keep) is removed, together
    with the C(sha256:) image-ID reference the CRI adds to each image when no remaining name
    shares its content digest (that reference alone would keep the content alive).
  - Names are compared as Docker spells them (C(todo-app/backend:abc)); containerd's
    C(docker.io/) and C(docker.io/library/) prefixes are added and stripped here.
author:
  - todo-app developers
options:
  address:
    description: The containerd socket.
    type: path
    required: true
  namespace:
    description: The containerd namespace (the CRI's is C(k8s.io)).
    type: str
    default: k8s.io
  state:
    description: V(present) imports O(names); V(pruned) removes the unused tags of O(repositories).
    type: str
    choices: [present, pruned]
    default: present
  source:
    description: Where O(state=present) takes a missing image from, V(docker) (the Docker engine) or
      V(registry) (the registry named in the image's reference).
    type: str
    choices: [docker, registry]
    default: docker
  plain_http:
    description: Pull over plain HTTP (a registry on loopback). Only with O(source=registry).
    type: bool
    default: false
  names:
    description: Images (repository:tag) that must be in containerd. Required with O(state=present).
    type: list
    elements: str
    default: []
  repositories:
    description: Repositories whose tags are pruned. Required with O(state=pruned).
    type: list
    elements: str
    default: []
  keep:
    description: Images never pruned (with or without C(docker.io/)).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - Needs the C(ctr) and C(docker) commands on PATH.
"""

EXAMPLES = r"""
- name: Import the app images into the local cluster's containerd
  containerd_images:
    address: /run/todo-local/containerd/containerd.sock
    names: [todo-app/backend:abc123, todo-app/frontend:def456]

- name: Pull the missing app images from the local registry
  containerd_images:
    address: /run/todo-local/containerd/containerd.sock
    names: [127.0.0.1:5001/todo-app/backend:abc123]
    source: registry
    plain_http: true

- name: Remove the app image tags nothing uses
  containerd_images:
    address: /run/todo-local/containerd/containerd.sock
    state: pruned
    repositories: [todo-app/backend, todo-app/frontend]
    keep: [todo-app/backend:abc123, todo-app/frontend:def456]
"""

RETURN = r"""
imported:
  description: The images imported or pulled (O(state=present)), as given.
  returned: always
  type: list
  elements: str
  sample: [todo-app/backend:abc123]
removed:
  description: The containerd references removed (O(state=pruned)).
  returned: always
  type: list
  elements: str
  sample: [docker.io/todo-app/backend:old, sha256:4f3c...]
images:
  description: Every reference containerd held before the change, as Docker spells it.
  returned: always
  type: list
  elements: str
  sample: [todo-app/backend:abc123]
"""


@dataclass(frozen=True)
class Row:
    ref: str
    digest: str


def docker_name(ref: str) -> str:
    """containerd's name of an image, as Docker spells it."""
    return re.sub(r"^docker\.io/(library/)?", "", ref)


def containerd_name(name: str) -> str:
    name = docker_name(name)
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." in first or ":" in first or first == "localhost":
        return name
    return f"docker.io/{name}"


def parse_list(output: str) -> list[Row]:
    """Rows of `ctr images list`: REF TYPE DIGEST SIZE PLATFORMS LABELS, after a header."""
    rows = []
    for line in output.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3:
            rows.append(Row(ref=fields[0], digest=fields[2]))
    return rows


def missing(rows: list[Row], names: list[str]) -> list[str]:
    seen = {docker_name(row.ref) for row in rows}
    result = []
    for name in names:
        if docker_name(name) not in seen:
            seen.add(docker_name(name))
            result.append(name)
    return result


def stale(rows: list[Row], repositories: list[str], keep: list[str]) -> list[str]:
    """The references to remove: tags of ``repositories`` not kept, then each sha256: ID reference
    whose digest only those tags shared."""
    repos = {docker_name(repo) for repo in repositories}
    kept = {docker_name(name) for name in keep}
    named = [row for row in rows if not row.ref.startswith("sha256:")]
    gone = [
        row
        for row in named
        if docker_name(row.ref).rsplit(":", 1)[0] in repos
        and ":" in docker_name(row.ref)
        and docker_name(row.ref) not in kept
    ]
    gone_refs = {row.ref for row in gone}
    live_digests = {row.digest for row in named if row.ref not in gone_refs}
    gone_digests = {row.digest for row in gone}
    orphans = [
        row.ref
        for row in rows
        if row.ref.startswith("sha256:") and row.digest in gone_digests and row.digest not in live_digests
    ]
    return sorted(gone_refs) + sorted(orphans)


class Ctr:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.base = [
            module.get_bin_path("ctr", required=True),
            f"--address={module.params['address']}",
            f"--namespace={module.params['namespace']}",
        ]

    def run(self, *args: str) -> str:
        rc, out, err = self.module.run_command([*self.base, *args])
        if rc != 0:
            self.module.fail_json(
                msg=f"ctr {' '.join(args)} failed (exit {rc}): {err.strip()}", rc=rc, stderr=err
            )
        return str(out)

    def import_from_docker(self, name: str) -> None:
        docker = self.module.get_bin_path("docker", required=True)
        save = subprocess.Popen([docker, "save", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        load = subprocess.run(
            [*self.base, "images", "import", "-"],
            stdin=save.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        assert save.stdout is not None
        save.stdout.close()
        save_err = save.stderr.read().decode() if save.stderr else ""
        if save.wait() != 0:
            self.module.fail_json(
                msg=f"docker save {name} failed: {save_err.strip()}. Is the image in the Docker engine?"
            )
        if load.returncode != 0:
            self.module.fail_json(msg=f"ctr images import of {name} failed: {load.stderr.strip()}")


def pull_args(name: str, plain_http: bool) -> list[str]:
    """The ctr arguments that pull ``name`` from its registry."""
    return ["images", "pull", *(["--plain-http"] if plain_http else []), containerd_name(name)]


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "address": {"type": "path", "required": True},
            "namespace": {"type": "str", "default": "k8s.io"},
            "state": {"type": "str", "choices": ["present", "pruned"], "default": "present"},
            "source": {"type": "str", "choices": ["docker", "registry"], "default": "docker"},
            "plain_http": {"type": "bool", "default": False},
            "names": {"type": "list", "elements": "str", "default": []},
            "repositories": {"type": "list", "elements": "str", "default": []},
            "keep": {"type": "list", "elements": "str", "default": []},
        },
        required_if=[("state", "present", ["names"]), ("state", "pruned", ["repositories"])],
        supports_check_mode=True,
    )
    ctr = Ctr(module)
    rows = parse_list(ctr.run("images", "list"))
    result: dict[str, Any] = {
        "imported": [],
        "removed": [],
        "images": sorted({docker_name(row.ref) for row in rows if not row.ref.startswith("sha256:")}),
    }
    if module.params["state"] == "present":
        result["imported"] = missing(rows, module.params["names"])
        if not module.check_mode:
            for name in result["imported"]:
                if module.params["source"] == "registry":
                    ctr.run(*pull_args(name, module.params["plain_http"]))
                else:
                    ctr.import_from_docker(name)
            still = missing(parse_list(ctr.run("images", "list")), result["imported"])
            if still:
                origin = "their registry" if module.params["source"] == "registry" else "Docker"
                module.fail_json(
                    msg=f"containerd still lacks {', '.join(still)} after taking them from {origin}.",
                    **result,
                )
    else:
        result["removed"] = stale(rows, module.params["repositories"], module.params["keep"])
        if result["removed"] and not module.check_mode:
            ctr.run("images", "rm", *result["removed"])
    module.exit_json(changed=bool(result["imported"] or result["removed"]), **result)


if __name__ == "__main__":
    main()
