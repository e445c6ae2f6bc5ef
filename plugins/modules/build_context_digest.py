#!/usr/bin/python
# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Digest a Docker build context the way the engine sees it, for content-addressed tags."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
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

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "path": {"type": "path", "required": True},
    "dockerfile": {"type": "str", "default": "Dockerfile"},
    "extra": {"type": "list", "elements": "str", "default": []},
    "length": {"type": "int", "default": 12},
}

DOCKERIGNORE = ".dockerignore"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Pattern:
    """One .dockerignore line: its cleaned text, whether it re-includes, and its regex."""

    text: str
    exclusion: bool
    regex: re.Pattern[str]


def clean_pattern(line: str) -> str:
    """Normalise a pattern as the engine does: trim, drop a leading '/', clean '.' and '..'."""
    text = os.path.normpath(line.strip()).lstrip("/")
    return "" if text == "." else text


def translate(pattern: str) -> re.Pattern[str]:
    """Translate a Go filepath.Match pattern with '**' (moby/patternmatcher) into a regex."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    # "**/" matches zero or more leading directories.
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("^"):
                    body = "!" + body[1:]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    out.append("$")
    return re.compile("".join(out))


def parse_dockerignore(text: str) -> list[Pattern]:
    """Parse .dockerignore content: comments and blank lines are skipped, '!' re-includes."""
    patterns: list[Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = True
        if line.startswith("!"):
            exclusion = False
            line = line[1:]
        cleaned = clean_pattern(line)
        if not cleaned:
            continue
        patterns.append(Pattern(text=cleaned, exclusion=exclusion, regex=translate(cleaned)))
    return patterns


def _parents(relpath: str) -> list[str]:
    parts = relpath.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts))]


def is_excluded(relpath: str, patterns: Iterable[Pattern]) -> bool:
    """Whether the engine leaves ``relpath`` (slash-separated) out of the context.

    The last pattern that matches the path or one of its parent directories wins.
    """
    candidates = [relpath, *_parents(relpath)]
    excluded = False
    for pattern in patterns:
        if any(pattern.regex.match(candidate) for candidate in candidates):
            excluded = pattern.exclusion
    return excluded


def context_files(root: Path, patterns: list[Pattern], always: Iterable[str] = ()) -> list[str]:
    """Relative paths of the files and symlinks the engine would receive, sorted.

    Excluded directories are not descended into unless a '!' pattern could re-include
    something below them. Paths in ``always`` are included whenever they exist.
    """
    has_exceptions = any(not pattern.exclusion for pattern in patterns)
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        reldir = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if reldir == "." else reldir + "/"
        kept_dirs = []
        for name in sorted(dirnames):
            rel = prefix + name
            if os.path.islink(os.path.join(dirpath, name)):
                filenames.append(name)
            elif has_exceptions or not is_excluded(rel, patterns):
                kept_dirs.append(name)
        dirnames[:] = kept_dirs
        for name in filenames:
            rel = prefix + name
            if not is_excluded(rel, patterns):
                found.add(rel)
    for rel in always:
        if os.path.lexists(root / rel):
            found.add(Path(rel).as_posix())
    return sorted(found)


def file_entry(root: Path, relpath: str) -> bytes:
    """What one file contributes: its path, type, executable bit and content hash."""
    full = root / relpath
    info = full.lstat()
    if stat.S_ISLNK(info.st_mode):
        kind, content = "l", hashlib.sha256(os.readlink(full).encode()).hexdigest()
    else:
        kind = "x" if info.st_mode & 0o111 else "f"
        digest = hashlib.sha256()
        with full.open("rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
        content = digest.hexdigest()
    return f"{kind} {content} {relpath}\n".encode()


def context_digest(root: Path, files: Iterable[str], extra: Iterable[str] = ()) -> str:
    """SHA-256 over each file's entry, then each extra input, as 64 hex characters."""
    digest = hashlib.sha256()
    for relpath in files:
        digest.update(file_entry(root, relpath))
    for item in extra:
        digest.update(f"extra {item}\n".encode())
    return digest.hexdigest()


def digest_context(root: Path, dockerfile: str, extra: list[str]) -> dict[str, Any]:
    """Read .dockerignore, list the context and digest it."""
    ignore_file = root / DOCKERIGNORE
    text = ignore_file.read_text(encoding="utf-8") if ignore_file.is_file() else ""
    patterns = parse_dockerignore(text)
    files = context_files(root, patterns, always=(dockerfile, DOCKERIGNORE))
    sha = context_digest(root, files, extra)
    return {"sha256": sha, "files": len(files), "patterns": [_display(p) for p in patterns]}


def _display(pattern: Pattern) -> str:
    return pattern.text if pattern.exclusion else "!" + pattern.text


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
