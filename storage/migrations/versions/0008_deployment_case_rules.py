"""deployment: the case rules of the scenario file (reopen window, 督办 stage limits)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default on both dialects: no batch copy. The empty
    # mapping means "the documented defaults" (domain/case_rules.py).
    op.add_column(
        "deployment",
        sa.Column("case_rules", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("case_rules")
