"""The state data's copy is json.loads(json.dumps(data)), or the deep copy when JSON cannot
hold it, for every kind of value a step keeps (and a few it never should)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from storage.fsm import _copy

KEPT: list[dict[Any, Any]] = [
    {},
    {
        "draft": {
            "grid_id": 3,
            "category": "消防通道堵塞",
            "description": '楼道\n堆放 "杂物"',
            "photos": ["AgAD1", "AgAD2"],
            "lat": 23.123456789012,
            "lon": -113.2,
            "address": None,
            "severity": "一般",
            "patrol_id": None,
        },
        "editing": False,
        "albums": ["13", "14"],
    },
    {"n": 10**30, "f": 1e-300, "t": True, "nested": [[], [{}], [1, [2, [3]]]], "e": "\u2028😀"},
    {1: "int key", 2.5: "float key", None: "null key", False: "bool key"},
    {"t": (1, 2), "inf": float("inf"), "minus": float("-inf")},
]


@pytest.mark.parametrize("data", KEPT)
def test_the_copy_is_the_json_round_trip(data: dict[Any, Any]) -> None:
    copied = _copy(data)
    assert repr(copied) == repr(json.loads(json.dumps(data)))
    assert json.dumps(copied) == json.dumps(json.loads(json.dumps(data)))


def test_nan_comes_back_a_nan() -> None:
    copied = _copy({"x": float("nan")})
    assert json.dumps(copied) == json.dumps(json.loads(json.dumps({"x": float("nan")})))


def test_what_json_cannot_hold_is_deep_copied() -> None:
    odd = {"s": {1, 2}, "list": [object]}
    copied = _copy(odd)
    assert copied == odd and copied["s"] is not odd["s"]
    loop: dict[str, Any] = {}
    loop["self"] = loop
    again = _copy(loop)  # as copy.deepcopy(dict(loop)): a new dict holding a copy of the loop
    assert again is not loop and again["self"] is not loop
    assert again["self"]["self"] is again["self"]


@pytest.mark.parametrize("data", KEPT)
def test_without_jsons_c_speed_ups_the_copy_is_the_same(
    data: dict[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_c = _copy(data)
    monkeypatch.setattr("storage.fsm._C_ENCODER", None)
    assert repr(_copy(data)) == repr(with_c)
