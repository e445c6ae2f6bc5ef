#!/usr/bin/python
# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prune the tags of given repositories from an OCI registry (distribution's HTTP API)."""

from __future__ import annotations

import json
from typing import Any
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

DOCUMENTATION = r"""
---
module: registry_images
short_description: Remove the tags of given repositories that nothing keeps from an OCI registry
description:
  - Lists the tags of each repository of O(repositories) (C(GET /v2/<name>/tags/list)), asks the
    manifest digest of each (C(HEAD /v2/<name>/manifests/<tag>)), and deletes the manifest of every
    tag not in O(keep) (C(DELETE /v2/<name>/manifests/<digest>)).
  - A manifest that a kept tag also points to is never deleted (a DELETE by digest removes every
    tag of that manifest); such a stale tag is deleted by its name instead
    (C(DELETE /v2/<name>/manifests/<tag>), which distribution v3 supports).
  - The registry must allow deletes (distribution's C(storage.delete.enabled)). Deleting a manifest
    frees no disk by itself; the layers stay until the registry's C(garbage-collect) runs.
author:
  - todo-app developers
options:
  url:
    description: The registry's base URL, e.g. C(http://127.0.0.1:5001).
    type: str
    required: true
  repositories:
    description: Repositories whose tags are pruned, without the registry host (C(todo-app/backend)).
    type: list
    elements: str
    required: true
  keep:
    description:
      - Images never pruned, as C(repository:tag), with or without the registry host in front.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for each request.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Remove the app image tags nothing uses from the local registry
  registry_images:
    url: http://127.0.0.1:5001
    repositories: [todo-app/backend, todo-app/frontend]
    keep: [127.0.0.1:5001/todo-app/backend:abc123, todo-app/frontend:def456]
"""

RETURN = r"""
removed:
  description: The tags whose manifests were deleted (or would be, in check mode), as repository:tag.
  returned: always
  type: list
  elements: str
  sample: [todo-app/backend:old]
tags:
  description: Every tag of O(repositories) the registry held before the change, as repository:tag.
  returned: always
  type: list
  elements: str
  sample: [todo-app/backend:abc123, todo-app/backend:old]
"""

# What a HEAD of a manifest accepts, so the registry answers with the digest of the manifest as
# it was pushed (Docker's schema 2, OCI) rather than converting it.
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


def bare_name(ref: str, host: str) -> str:
    """``ref`` without ``host/`` in front (the registry's own name for the image)."""
    prefix = f"{host}/"
    return ref[len(prefix) :] if ref.startswith(prefix) else ref


def stale_digests(digests: dict[str, str], keep: set[str]) -> tuple[list[str], list[str]]:
    """From ``{repository:tag: manifest digest}``, the unkept tags to remove and what to DELETE:
    ``repository@digest`` for a manifest no kept tag of the same repository shares, else the tag
    itself as ``repository:tag`` (deleting that manifest would take the kept tag with it)."""
    kept = {f"{ref.rsplit(':', 1)[0]}@{digest}" for ref, digest in digests.items() if ref in keep}
    removed = sorted(ref for ref in digests if ref not in keep)
    manifests = {ref: f"{ref.rsplit(':', 1)[0]}@{digests[ref]}" for ref in removed}
    return removed, sorted({ref if manifests[ref] in kept else manifests[ref] for ref in removed})


class Registry:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.url = module.params["url"].rstrip("/")
        self.timeout = module.params["timeout"]

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
        try:
            return open_url(f"{self.url}{path}", method=method, headers=headers or {}, timeout=self.timeout)
        except HTTPError as error:
            if error.code == 404:
                return None
            hint = " Is storage.delete.enabled on in the registry?" if error.code == 405 else ""
            self.module.fail_json(
                msg=f"{method} {self.url}{path} answered {error.code} {error.reason}.{hint}"
            )
        except (URLError, OSError) as error:
            self.module.fail_json(msg=f"{method} {self.url}{path} failed: {error}. Is the registry running?")

    def tags(self, repository: str) -> list[str]:
        response = self.request("GET", f"/v2/{repository}/tags/list")
        if response is None:
            return []
        return list(json.loads(response.read()).get("tags") or [])

    def digest(self, repository: str, tag: str) -> str | None:
        response = self.request("HEAD", f"/v2/{repository}/manifests/{tag}", {"Accept": MANIFEST_TYPES})
        if response is None:
            return None
        digest = response.headers.get("Docker-Content-Digest")
        if not digest:
            self.module.fail_json(msg=f"{self.url} gave no Docker-Content-Digest for {repository}:{tag}.")
        return str(digest)

    def delete(self, target: str) -> None:
        """DELETE ``repository@digest`` (the manifest) or ``repository:tag`` (that tag only)."""
        repository, reference = target.split("@", 1) if "@" in target else target.rsplit(":", 1)
        self.request("DELETE", f"/v2/{repository}/manifests/{reference}")


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "repositories": {"type": "list", "elements": "str", "required": True},
            "keep": {"type": "list", "elements": "str", "default": []},
            "timeout": {"type": "float", "default": 10},
        },
        supports_check_mode=True,
    )
    registry = Registry(module)
    host = registry.url.split("://", 1)[-1]
    keep = {bare_name(ref, host) for ref in module.params["keep"]}
    digests: dict[str, str] = {}
    for repository in module.params["repositories"]:
        for tag in registry.tags(repository):
            digest = registry.digest(repository, tag)
            if digest is not None:
                digests[f"{repository}:{tag}"] = digest
    removed, targets = stale_digests(digests, keep)
    if not module.check_mode:
        for target in targets:
            registry.delete(target)
    module.exit_json(changed=bool(removed), removed=removed, tags=sorted(digests))


if __name__ == "__main__":
    main()
