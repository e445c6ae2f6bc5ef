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

Before handing the password over, the client checks with ansible-core's vault code that it
opens the vault file (``TODO_VAULT_FILE``, default ``group_vars/all/vault.yml`` next to the
client). ansible-core would only say "Decryption failed (no vault secrets were found that
could decrypt)" at the first task, naming neither the file nor where the password came from.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path

DEFAULT_FILE = Path.home() / ".config" / "todo-app" / "vault-password"
DEFAULT_VAULT_FILE = Path(__file__).resolve().parent / "group_vars" / "all" / "vault.yml"
TEAM_HINT = "a teammate can give you the password (the team shares it through its password manager)"


def password_file() -> Path:
    return Path(os.environ.get("TODO_VAULT_PASSWORD_FILE", str(DEFAULT_FILE))).expanduser()


def vault_file() -> Path:
    return Path(os.environ.get("TODO_VAULT_FILE", str(DEFAULT_VAULT_FILE))).expanduser()


def read_password() -> tuple[str, str]:
    """The password and where it came from (for messages, never the value)."""
    from_env = os.environ.get("TODO_VAULT_PASSWORD")
    if from_env:
        return from_env, "TODO_VAULT_PASSWORD"
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
    return secret, str(path)


def opens_vault(password: str, vaulttext: str) -> bool | None:
    """Whether ``password`` opens ``vaulttext``, by ansible-core's own vault code.

    None when it cannot tell: the text is not vault-encrypted, or this interpreter has no
    ansible (then ansible-playbook reports the failure itself).
    """
    try:
        from ansible.errors import AnsibleError
        from ansible.parsing.vault import VaultLib, VaultSecret, is_encrypted
    except ImportError:
        return None
    if not is_encrypted(vaulttext):
        return None
    try:
        VaultLib([("todo", VaultSecret(password.encode("utf-8")))]).decrypt(vaulttext)
    except AnsibleError:
        return False
    return True


def check_password(password: str, source: str) -> None:
    """Refuse a password that does not open the project's vault, saying where it came from."""
    vault = vault_file()
    try:
        vaulttext = vault.read_text(encoding="utf-8")
    except FileNotFoundError:
        return  # nothing encrypted yet: `make vault-init` is about to create it
    # ansible strips only the line ending the client prints, so compare exactly that.
    if opens_vault(password.strip("\r\n"), vaulttext) is not False:
        return
    if source == "TODO_VAULT_PASSWORD":
        fix = (
            "Set TODO_VAULT_PASSWORD to the team's vault password, or unset it to use "
            f"the one in {password_file()}"
        )
    else:
        fix = f"Put the team's vault password in {source} (mode 600) or in TODO_VAULT_PASSWORD"
    raise PermissionError(
        f"the vault password {'from' if source == 'TODO_VAULT_PASSWORD' else 'in'} {source} "
        f"does not open {display_path(vault)}. {fix}; {TEAM_HINT}. Nothing has been changed."
    )


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (as the Makefile runs)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
        password, source = read_password()
        check_password(password, source)
        sys.stdout.write(password + "\n")
    except (LookupError, PermissionError) as exc:
        sys.stderr.write(f"todo-app vault client: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
