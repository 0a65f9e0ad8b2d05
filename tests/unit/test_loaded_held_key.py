"""`storage.loaded.held` spells a row's identity key itself, without asking the mapper: the
spelling must be the mapper's own, for each model it is used with."""

from __future__ import annotations

import pytest
from sqlalchemy.orm.util import identity_key

from storage.models import Deployment, Grid, Person


@pytest.mark.parametrize("model", [Deployment, Grid, Person])
def test_the_spelt_key_is_the_mappers(model: type) -> None:
    assert (model, (7,), None) == identity_key(model, 7)
