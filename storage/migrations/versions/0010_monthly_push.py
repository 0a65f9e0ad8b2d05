"""deployment: the monthly push's time (/schedule monthly)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Local time on the 1st of each month; empty: the push is off.
    op.add_column(
        "deployment",
        sa.Column(
            "monthly_time", sa.String(length=5), server_default=sa.text("'09:00'"), nullable=False
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("monthly_time")
