"""Frozen values (sipfsm.values.frozen): equality, hashing, repr, pickling and `replace` by the
fields a class lists in ``__slots__``, as a frozen dataclass would give them."""

from __future__ import annotations

import pickle

import pytest
from conftest import make_request, make_response
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.engine import native
from sipfsm.values.events import StartTimer, StopTimer, TimerFired, ToTU, TUCancel
from sipfsm.values.frozen import Frozen, replace

names = st.text(max_size=4)


@given(a=names, b=names, x=st.floats(allow_nan=False), y=st.floats(allow_nan=False))
def test_values_are_equal_and_hash_alike_exactly_when_their_fields_are(
    a: str, b: str, x: float, y: float
) -> None:
    assert (StartTimer(a, x) == StartTimer(b, y)) == ((a, x) == (b, y))
    if (a, x) == (b, y):
        assert hash(StartTimer(a, x)) == hash(StartTimer(b, y))


def test_values_of_different_classes_are_never_equal() -> None:
    assert StopTimer("A") != TimerFired("A")  # same fields, another class
    assert TUCancel() == TUCancel() and TUCancel() != object()
    assert StartTimer("A", 1.0).__eq__(3) is NotImplemented


def test_a_value_shows_pickles_and_replaces_by_its_fields() -> None:
    request = make_request("INVITE", "sip:bob@example.com", "c1", 1, "ft", "", "z9hG4bK1")
    assert request.values()[:3] == ("INVITE", "sip:bob@example.com", "c1")
    assert pickle.loads(pickle.dumps(request)) == request
    assert replace(request) == request and replace(request) is not request
    bye = replace(request, method="BYE", cseq=2)
    assert (bye.method, bye.cseq, bye.call_id) == ("BYE", 2, "c1")
    assert repr(ToTU("response")) == "ToTU(what='response', message=None)"
    assert StartTimer("A", 0.5) == StartTimer(name="A", seconds=0.5)
    assert not hasattr(request, "__dict__")


def test_replace_refuses_a_field_the_value_does_not_have() -> None:
    with pytest.raises(TypeError, match="Request has no field status"):
        replace(make_request("BYE"), status=200)


def test_a_required_field_stays_required() -> None:
    with pytest.raises(TypeError):
        make_response()  # type: ignore[call-arg]


def test_the_compiled_build_refuses_to_change_a_field() -> None:
    if not native.compiled():
        pytest.skip("the pure-Python source leaves this to the type checker (Final)")
    with pytest.raises(AttributeError):
        make_request("BYE").method = "INVITE"  # type: ignore[misc]
    assert isinstance(make_request("BYE"), Frozen)
