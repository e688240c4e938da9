"""A flow's saved state and its events' data are the same JSON with or without orjson: what
orjson refuses (an integer beyond 64 bits, a key that is not text) goes to the standard
encoder, and what it does not know (Decimal, a record, a set, an enum) goes through `plain`."""
import dataclasses
import enum
import json
from datetime import date, datetime, time, timezone
from decimal import Decimal

import pytest

from engine.flow import from_json
from runtime.flows import store


class Colour(str, enum.Enum):
    RED = "red"


class Sub(dict):
    pass


VALUES = [
    {"amount": Decimal("1.50"), "list": [1, 2.5, "中文", None, True], "at": datetime(2026, 3, 2, 9, 0, 0, 123),
     "day": date(2026, 1, 1), "colour": Colour.RED, "sub": Sub(x=1), "utc": datetime(2026, 1, 1, tzinfo=timezone.utc),
     "pair": (1, 2), "set": {3}, "big_float": 1e16, "time": time(9, 30)},
    {"big": 2**70},
    {1: "a key that is not text"},
]


def standard(value):
    return json.dumps(store.plain(value), ensure_ascii=False, separators=(",", ":"))


@pytest.mark.skipif(store.orjson is None, reason="orjson is not installed")
@pytest.mark.parametrize("value", VALUES)
def test_event_data_is_the_same_text_with_or_without_orjson(value):
    assert store.dumps(value) == standard(value)


@pytest.mark.skipif(store.orjson is None, reason="orjson is not installed")
def test_a_state_with_an_integer_beyond_64_bits_round_trips(monkeypatch):
    from tests.engine.flow.test_state_format import saved_instance
    state = saved_instance()
    text = store.encode_state(state)
    assert from_json(json.loads(text)) == state
    big = dataclasses.replace(state, form={**state.form, "huge": 2**70})
    assert from_json(json.loads(store.encode_state(big))).form["huge"] == 2**70
    monkeypatch.setattr(store, "orjson", None)
    assert json.loads(store.encode_state(state)) == json.loads(text)
