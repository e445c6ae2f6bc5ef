# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Digest a Docker build context the way the engine sees it (.dockerignore rules included)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
