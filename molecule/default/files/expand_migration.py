#!/usr/bin/env python3
"""Add an expand migration after the head of a copy of the backend's Alembic revisions.

    expand_migration.py BACKEND_DIR

The scenario's upgrade builds from that copy, so the upgraded release migrates the database
past the revision the previous release knows, the way a real release that adds a column
does: the new column is nullable and the revision declares `compatible_with` the old head,
so the old pods keep serving while the new ones roll out, and a rollback to the previous
release must start on the newer schema. Prints {"revision": ..., "head": ...} as JSON.

The head is read from the revision files themselves (no Alembic on the controller needed):
the one revision that no other names as its down_revision.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

REVISION = "molecule_expand"
TEMPLATE = '''"""Molecule's expand step: a nullable column older code never reads."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{head}"
branch_labels = None
depends_on = None
compatible_with = "{head}"


def upgrade() -> None:
    op.add_column("tasks", sa.Column("molecule_estimate", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("molecule_estimate")
'''


def assigned(path: Path, name: str) -> object:
    """The literal value assigned to `name` at the top of a revision file (None if absent)."""
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == name:
            return ast.literal_eval(value)
    return None


def head(versions: Path) -> str:
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        if (revision := assigned(path, "revision")) is None:
            continue
        revisions.add(str(revision))
        down = assigned(path, "down_revision")
        downs.update(map(str, down if isinstance(down, (list, tuple)) else [down] if down else []))
    heads = sorted(revisions - downs)
    if len(heads) != 1:
        raise SystemExit(f"{versions}: expected one head revision, found {heads or 'none'}")
    return heads[0]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        raise SystemExit(__doc__)
    versions = Path(argv[1]) / "app" / "alembic" / "versions"
    current = head(versions)
    if current == REVISION:
        raise SystemExit(f"{versions} already ends with {REVISION}: copy the sources afresh")
    (versions / f"{REVISION}.py").write_text(TEMPLATE.format(revision=REVISION, head=current))
    print(json.dumps({"revision": REVISION, "head": current}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
