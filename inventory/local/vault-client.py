#!/usr/bin/env python3
"""Ansible vault password client for todo-app.

Prints the vault password for the requested identity (ansible passes
``--vault-id <name>``). The password comes from, in order:

1. the environment variable ``TODO_VAULT_PASSWORD``;
2. the file named by ``TODO_VAULT_PASSWORD_FILE``, default
   ``~/.config/todo-app/vault-password``, which must be readable by its owner only.

``vault-client.py --init`` creates that file with a random password when neither
exists (``make deploy`` runs it first); it never replaces an existing password.
The password is what a team shares, through its password manager.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path

DEFAULT_FILE = Path.home() / ".config" / "todo-app" / "vault-password"


def password_file() -> Path:
    return Path(os.environ.get("TODO_VAULT_PASSWORD_FILE", str(DEFAULT_FILE))).expanduser()


def read_password() -> str:
    from_env = os.environ.get("TODO_VAULT_PASSWORD")
    if from_env:
        return from_env
    path = password_file()
    if not path.is_file():
        raise LookupError(
            f"no vault password: set TODO_VAULT_PASSWORD or create {path} "
            "(`make vault-init` creates one; a teammate can give you theirs)"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PermissionError(f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise LookupError(f"{path} is empty; put the team's vault password in it")
    return secret


def init_password() -> str:
    """Create the password file when there is no password yet; say where it is."""
    if os.environ.get("TODO_VAULT_PASSWORD"):
        return "the vault password comes from TODO_VAULT_PASSWORD"
    path = password_file()
    if path.exists():
        return f"the vault password is kept in {path}"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    return (
        f"created a new vault password in {path} (mode 600). Share it with your team "
        "through a password manager; a teammate puts it in the same file or in "
        "TODO_VAULT_PASSWORD."
    )


def main() -> int:
    try:
        if "--init" in sys.argv[1:]:
            sys.stdout.write(init_password() + "\n")
            return 0
        sys.stdout.write(read_password() + "\n")
    except (LookupError, PermissionError) as exc:
        sys.stderr.write(f"todo-app vault client: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
