"""A report's buttons spell out their callback data as `ReportCb.pack()` gives it."""

from __future__ import annotations

import pytest

from bot.keyboards import BIGINT_MAX, BIGINT_MIN
from bot.render.report import ReportCb, ReportPress


@pytest.mark.parametrize("k", list(ReportPress))
@pytest.mark.parametrize("x", [0, 1, 7, 12345, 2**31, BIGINT_MAX, BIGINT_MIN, -1])
def test_spelt_out_data_is_what_pack_gives(k: ReportPress, x: int) -> None:
    assert ReportCb.packed(k=k, x=x) == ReportCb(k=k, x=x).pack()
    assert ReportCb.unpack(ReportCb.packed(k=k, x=x)) == ReportCb(k=k, x=x)


def test_what_the_model_refuses_still_goes_to_it() -> None:
    with pytest.raises(ValueError):
        ReportCb.packed(k=ReportPress.ADD_TO, x=BIGINT_MAX + 1)
