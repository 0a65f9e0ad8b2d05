"""The deployment's case rules (`Deployment.case_rules`): the one writer of that column.

The roster import (`services.roster.import_roster`) saves the scenario's ``cases:`` block
here after the rest of the file is applied; everything that needs the rules reads them with
`case_rules`.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_rules import CaseRules, from_stored, to_stored
from storage.models import Deployment


async def case_rules(session: AsyncSession) -> CaseRules:
    """The rules in force (their defaults before any import)."""
    d = await session.get(Deployment, 1)
    return from_stored(d.case_rules if d is not None else None)


async def save_case_rules(session: AsyncSession, rules: CaseRules) -> None:
    d = await session.get(Deployment, 1) or Deployment(id=1)
    d.case_rules = to_stored(rules)
    session.add(d)
