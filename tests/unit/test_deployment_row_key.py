"""The unit of work's deployment row is looked up by its identity key, worked out once
(storage/deployment_row `_key`): the mapper's own key."""

from __future__ import annotations

from sqlalchemy.orm.util import identity_key

from storage.deployment_row import _key
from storage.models import Deployment


def test_the_kept_key_is_the_mappers() -> None:
    assert _key() == identity_key(Deployment, 1)
    assert _key() is _key()
