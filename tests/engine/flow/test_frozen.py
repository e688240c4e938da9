"""engine/flow/frozen.py: the faster `__init__` behaves exactly like the dataclass's own."""
from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field

import pytest

from engine.flow.frozen import fast_init
from engine.flow.state import Step, Token


def pair(slots: bool):
    """The same frozen dataclass twice: as `dataclass` makes it, and with `fast_init`."""
    def make():
        @dataclass(frozen=True, slots=slots)
        class Item:
            name: str
            count: int = 0
            tags: list[str] = field(default_factory=list)
            note: str = field(default="", kw_only=True)
            hidden: int = field(default=9, init=False)
        return Item
    return make(), fast_init(make())


@pytest.mark.parametrize("slots", [True, False])
def test_same_signature_defaults_and_factories(slots):
    plain, fast = pair(slots)
    assert str(inspect.signature(fast)) == str(inspect.signature(plain))
    a, b = fast("x"), fast("x")
    assert dataclasses.astuple(a) == dataclasses.astuple(plain("x"))
    assert (a.name, a.count, a.tags, a.note, a.hidden) == ("x", 0, [], "", 9)
    assert a.tags is not b.tags                                  # a fresh list per instance
    c = fast("y", 2, ["t"], note="n")
    assert (c.name, c.count, c.tags, c.note) == ("y", 2, ["t"], "n")
    assert repr(c).endswith("Item(name='y', count=2, tags=['t'], note='n', hidden=9)")


@pytest.mark.parametrize("slots", [True, False])
def test_frozen_replace_and_errors_unchanged(slots):
    plain, fast = pair(slots)
    item = fast("x", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.name = "y"   # type: ignore[misc]
    assert dataclasses.replace(item, count=5).count == 5
    assert dataclasses.replace(item, count=5).name == "x"
    for cls in (plain, fast):
        with pytest.raises(TypeError):
            cls()                                                    # a required argument is missing
        with pytest.raises(TypeError):
            cls("x", 1, [], "positional note")                      # keyword-only stays keyword-only
        with pytest.raises(TypeError):
            cls("x", hidden=3)                                       # init=False is not a parameter


def test_engine_values_hash_and_compare_by_value():
    step = Step("all", ("ann", "bob"))
    assert Token("t", "n", step=step) == Token("t", "n", (), step)
    assert hash(Token("t", "n")) == hash(Token(id="t", node="n"))
    assert Token.__init__.__qualname__ == "Token.__init__"


def test_only_a_dataclass_can_be_given_one():
    class NotData:
        pass
    with pytest.raises(TypeError, match="above @dataclass"):
        fast_init(NotData)


def test_post_init_and_init_vars_are_refused():
    @dataclass(frozen=True)
    class Checked:
        n: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True)
    class Seeded:
        n: int
        seed: dataclasses.InitVar[int] = 0

    for cls in (Checked, Seeded):
        with pytest.raises(TypeError, match="__post_init__ or InitVar"):
            fast_init(cls)
