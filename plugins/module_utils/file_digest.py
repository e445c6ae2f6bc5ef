# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content digests of files and directory trees, with a stat cache so unchanged files are not read."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def stat_key(path: Path) -> list[int]:
    """What changes whenever a file is written, replaced or touched: like git's index, a file
    whose key is unchanged has the content it had when it was last digested. ctime cannot be
    set back by a user, so an edit that restores the mtime is still seen."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path, cached: dict[str, Any] | None = None) -> dict[str, Any]:
    """The digest of ``path`` (resolved through symlinks) and its stat key. ``cached`` is an
    earlier record of the same path: its digest is reused when the stat key is the same."""
    real = path.resolve(strict=True)
    key = stat_key(real)
    if cached and cached.get("stat") == key and cached.get("real") == str(real):
        return cached
    return {"real": str(real), "stat": key, "sha256": sha256_file(real)}


def tree_digest(root: Path) -> str:
    """One digest of every regular file under ``root``: relative path, mode bits and content."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not path.is_file():
                continue
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(oct(path.stat().st_mode & 0o111).encode() + b"\0")
            digest.update(sha256_file(path).encode() + b"\n")
    return digest.hexdigest()


def json_digest(value: Any) -> str:
    """A digest of any JSON-serialisable value, independent of dict key order."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
