"""case_counter: the codes a local day has issued, so a report does not scan the day's codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 12:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The codes the application issues: "H" + yymmdd + "-" + a sequence of 3 or more digits.
ISSUED = re.compile(r"H(\d{6})-(\d+)")


def upgrade() -> None:
    counter = op.create_table(
        "case_counter",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    # Each day continues from its highest code, so the next report neither clashes nor
    # leaves a gap. Parsed here rather than in SQL: a code of another shape is skipped
    # on both dialects instead of failing a cast on PostgreSQL.
    codes = op.get_bind().execute(sa.text("SELECT code FROM \"case\" WHERE code LIKE 'H%'"))
    highest: dict[str, int] = {}
    for (code,) in codes:
        found = ISSUED.fullmatch(code)
        if found is not None:
            day, issued = found.group(1), int(found.group(2))
            highest[day] = max(highest.get(day, 0), issued)
    if highest:
        op.bulk_insert(counter, [{"day": d, "issued": n} for d, n in sorted(highest.items())])


def downgrade() -> None:
    op.drop_table("case_counter")
