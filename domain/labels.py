"""How a person is named where someone picks them (the assignee of a case): grid, role and
the person's own name, each said once.

People the scenario file lists without a name are called ``{grid name}·{role label}{i}``
(domain/scenario.py). Set beside their grid and role, that name would say both again
("林和东第1片区·保安巡查员2·林和东第1片区·保安巡查员"); only the ordinal is news.
"""

from __future__ import annotations

from typing import Final

SEPARATOR: Final = " · "
_GENERATED_JOIN: Final = "·"
"""What joins the grid's name to the role in a generated name."""


def person_label(grid_name: str, role_label: str, name: str) -> str:
    """Grid · role · name ("林和东第1片区3号楼院 · 楼院长 · 王芳"); a generated name keeps
    only its ordinal ("林和东第1片区 · 保安巡查员2")."""
    own = name.strip()
    prefix = grid_name + _GENERATED_JOIN
    if own.startswith(prefix):
        own = own.removeprefix(prefix)
    if own.startswith(role_label) and own[len(role_label) :].isdigit():
        return SEPARATOR.join((grid_name, own))
    parts = [grid_name, role_label]
    if own and own not in (grid_name, role_label):
        parts.append(own)
    return SEPARATOR.join(parts)
