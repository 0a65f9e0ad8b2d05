"""outbox: a delivery may carry a binary file (an XLSX, a PNG chart) rather than CSV text

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable, no default) on both dialects: no batch copy of the table.
    # LargeBinary is BLOB on SQLite and BYTEA on PostgreSQL.
    op.add_column("delivery", sa.Column("document_bytes", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("document_bytes")
