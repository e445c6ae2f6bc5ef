"""Schema compatibility: the code heads the current schema serves, for readiness.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:00:00

Each revision may set `compatible_with` to the oldest code head its schema still serves
(an expand step: added tables, nullable columns). Leave it out when the revision removes
or changes what older code uses (a contract step). See app/migrate.py.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Only adds a table that code at 0002 never reads.
compatible_with: str | None = "0002"


def upgrade() -> None:
    op.create_table(
        "schema_compat",
        sa.Column("revision", sa.String(length=32), primary_key=True),
        sa.Column("serves", sa.String(length=32), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("schema_compat")
