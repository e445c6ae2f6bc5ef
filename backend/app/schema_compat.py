"""Which code heads the database's schema serves, so readiness survives upgrades and rollbacks.

Expand/contract: a revision file may declare `compatible_with = "<older revision>"`, the
oldest code head its schema still serves. Every migration run rewrites the `schema_compat`
table for the revision it leaves the database at; code that has never seen that revision
reads the table to decide whether it may serve.

Its own module (not app.migrate) because env.py imports it while `python -m app.migrate`
runs as __main__: defining the table twice on one MetaData would fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlmodel import SQLModel

# Rows (revision, serves): the schema at `revision` serves code whose head is `serves`.
# Created by revision 0003; rewritten, for the current revision only, by every run.
schema_compat = sa.Table(
    "schema_compat",
    SQLModel.metadata,
    sa.Column("revision", sa.String(32), primary_key=True),
    sa.Column("serves", sa.String(32), primary_key=True),
)


def served_heads(scripts: ScriptDirectory, revision: str) -> list[str]:
    """The code heads the schema at `revision` serves: itself and, if it declares
    `compatible_with`, every revision back to that one."""
    script = scripts.get_revision(revision)
    oldest = getattr(script.module, "compatible_with", None) if script else None
    served = [revision]
    if oldest is None:
        return served
    while script is not None and script.revision != oldest:
        down = script.down_revision
        if not isinstance(down, str):
            raise ValueError(
                f"revision {revision} declares compatible_with = {oldest!r}, which is not "
                "one of its ancestors on a straight line; name an older revision of its branch"
            )
        served.append(down)
        script = scripts.get_revision(down)
    return served


def record_compatibility(connection: Connection, scripts: ScriptDirectory) -> None:
    """Rewrite `schema_compat` for the current revision (env.py calls this after every
    run, in the migration's transaction). Below revision 0003 there is no table."""
    if not inspect(connection).has_table(schema_compat.name):
        return
    current = MigrationContext.configure(connection).get_current_heads()
    connection.execute(schema_compat.delete())
    rows = [{"revision": r, "serves": s} for r in current for s in served_heads(scripts, r)]
    if rows:
        connection.execute(schema_compat.insert(), rows)


@dataclass(frozen=True)
class SchemaState:
    ready: bool
    current: list[str]
    head: list[str]
    reason: str | None = None
    # Set when ready through a newer revision that declares it still serves this code.
    served_by: list[str] = field(default_factory=list)


def schema_readiness(connection: Connection, code_heads: set[str], known: set[str]) -> SchemaState:
    """Whether this code (its migration heads `code_heads`, all its revisions `known`) may
    serve the database as it is: at exactly these heads, or at a newer revision whose
    `schema_compat` rows say it serves them. Decided from the database alone, since the
    newer revision may be unknown here."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    at, head = sorted(current), sorted(code_heads)
    if current == code_heads:
        return SchemaState(ready=True, current=at, head=head)
    if current and inspect(connection).has_table(schema_compat.name):
        served = {
            str(row.serves)
            for row in connection.execute(
                sa.select(schema_compat.c.serves).where(schema_compat.c.revision.in_(current))
            )
        }
        if code_heads <= served:
            return SchemaState(ready=True, current=at, head=head, served_by=at)
    here, there = ", ".join(sorted(code_heads)), ", ".join(sorted(current))
    if current and not current <= known:
        reason = (
            f"database schema is at revision {there}, newer than this code's {here}, and "
            f"does not declare that it still serves {here}; deploy the code for {there}, "
            f"or downgrade the database to {here} with that newer code"
        )
    else:
        reason = (
            f"database schema is behind this code (at {there or 'no revision'}, code needs "
            f"{here}); run `python -m app.migrate`"
        )
    return SchemaState(ready=False, current=at, head=head, reason=reason)
