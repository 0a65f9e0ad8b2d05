"""roster: people listed by an imported file, and the place of those listed without a tg_id

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both dialects, not a batch copy: on SQLite a batch
    # would recreate `person` (a column default that is an expression forces the copy), and
    # dropping the table every case and membership points at is refused by its foreign keys.
    op.add_column(
        "person", sa.Column("listed", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "person", sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
    )
    op.create_index(op.f("ix_person_place"), "person", ["place"], unique=True)
    _mark_listed_people()


def _mark_listed_people() -> None:
    """Until now only imports, invites and an admin's /role gave memberships, and only the
    last two leave a trace (the audit log): everyone else holding a role came from a file.
    Places are not guessed here: the next import finds those people by grid, role and
    name (``domain.scenario_diff.settle_places``) and records their places."""
    bind = op.get_bind()
    joined: set[int] = set()
    rows = bind.execute(
        sa.text(
            "SELECT action, actor_tg_id, target FROM audit_log "
            "WHERE action IN ('invite_redeemed', 'role_grant')"
        )
    )
    for action, actor, target in rows:
        if action == "invite_redeemed" and actor is not None:
            joined.add(int(actor))
        elif action == "role_grant":
            tg, _, _ = str(target).partition("@")
            if tg.isdigit():
                joined.add(int(tg))
    holders = bind.execute(
        sa.text(
            "SELECT DISTINCT person.id, person.tg_id FROM person "
            "JOIN membership ON membership.person_id = person.id "
            "WHERE person.tg_id IS NOT NULL"
        )
    )
    ids = [int(pid) for pid, tg in holders if int(tg) not in joined]
    person = sa.table("person", sa.column("id", sa.Integer), sa.column("listed", sa.Boolean))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        bind.execute(sa.update(person).where(person.c.id.in_(chunk)).values(listed=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), not a batch copy, for the same reason.
    op.drop_index(op.f("ix_person_place"), table_name="person")
    op.drop_column("person", "place")
    op.drop_column("person", "listed")
