"""The check-in asks whether the unit of work holds the deployment's row by its identity key,
worked out once (services/patrol_checkin `_deployment_key`): the mapper's own key."""

from __future__ import annotations

from sqlalchemy.orm.util import identity_key

from services.patrol_checkin import _deployment_key
from storage.models import Deployment


def test_the_kept_key_is_the_mappers() -> None:
    assert _deployment_key() == identity_key(Deployment, 1)
    assert _deployment_key() is _deployment_key()
