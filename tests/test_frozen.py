"""fast_init (sipfsm.frozen): the same construction as the dataclass's own __init__."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.events import StartTimer, ToTU
from sipfsm.frozen import fast_init
from sipfsm.message import Request, Response


@dataclass(frozen=True, slots=True)
class Plain:
    a: int
    b: str = "x"
    c: tuple[int, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class Fast:
    a: int
    b: str = "x"
    c: tuple[int, ...] = ()


@given(a=st.integers(), b=st.text(max_size=5), c=st.tuples(st.integers()))
def test_fast_init_sets_every_field_as_the_dataclass_init_does(
    a: int, b: str, c: tuple[int]
) -> None:
    for args, kwargs in (((a,), {}), ((a, b), {}), ((a,), {"c": c}), ((), {"a": a, "b": b})):
        plain, fast = Plain(*args, **kwargs), Fast(*args, **kwargs)
        assert dataclasses.astuple(plain) == dataclasses.astuple(fast)
    assert Fast(a, b, c) == Fast(a, b, c) and hash(Fast(a, b, c)) == hash(Fast(a, b, c))


def test_a_fast_built_message_is_still_frozen_comparable_and_picklable() -> None:
    request = Request("INVITE", "sip:bob@example.com", "c1", 1, "ft", "", "z9hG4bK1")
    assert request == dataclasses.replace(request)
    assert pickle.loads(pickle.dumps(request)) == request
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.method = "BYE"  # type: ignore[misc]
    assert repr(ToTU("response")) == "ToTU(what='response', message=None)"
    assert StartTimer("A", 0.5) == StartTimer(name="A", seconds=0.5)
    with pytest.raises(TypeError):
        Response()  # type: ignore[call-arg]  # a required field stays required


def test_fast_init_refuses_what_it_cannot_build_exactly() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class Post:
        a: int

        def __post_init__(self) -> None:
            pass

    for cls in (NoSlots, Factory, Post, int):
        with pytest.raises(TypeError):
            fast_init(cls)
