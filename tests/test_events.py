"""Events in and actions out (sipfsm/values/events.py): small frozen slotted values, compared by
value (STYLE.md rule 5), and `describe`, the text errors use to name an event."""

from __future__ import annotations

import pickle
import typing

import pytest
from conftest import BYE, INVITE, reply

from sipfsm.engine import native
from sipfsm.values import events
from sipfsm.values.events import (
    EVENT_TYPES,
    Event,
    MessageSent,
    ReportOutcome,
    RequestReceived,
    Respond,
    ResponseReceived,
    SendMessage,
    StartTimer,
    StopTimer,
    TimerFired,
    ToTU,
    TransactionEnded,
    TransportError,
    TUCancel,
    TURequest,
    TUResponse,
    describe,
    message_of,
)
from sipfsm.values.frozen import Frozen, replace

EVENTS = [
    RequestReceived(INVITE),
    ResponseReceived(reply(INVITE, 180)),
    TURequest(BYE),
    TUResponse(reply(BYE, 200)),
    TUCancel(),
    TimerFired("A"),
    TransportError("ICMP port unreachable"),
    MessageSent(BYE),
    TransactionEnded("INVITE", 1, "client"),
]
ACTIONS = [
    SendMessage(INVITE),
    StartTimer("G", 0.5),
    StopTimer("G"),
    ToTU("response", reply(INVITE, 200)),
    ToTU("timeout"),
    ReportOutcome(487, "send", "when a CANCEL matched this INVITE", "RFC 3261 §9.2"),
    Respond(BYE, 481, (("Reason", "x"),), "RFC 3261 §15.1.2"),
]


@pytest.mark.parametrize("value", EVENTS + ACTIONS, ids=lambda v: type(v).__name__)
def test_events_and_actions_are_frozen_slotted_values_style_rule_5(value: Frozen) -> None:
    assert isinstance(value, Frozen)
    assert not hasattr(value, "__dict__")
    names = type(value).__slots__
    assert value.values() == tuple(getattr(value, name) for name in names)
    if names and native.compiled():  # the pure source leaves it to the type checker (Final)
        with pytest.raises(AttributeError):
            setattr(value, names[0], None)


@pytest.mark.parametrize("value", EVENTS + ACTIONS, ids=lambda v: type(v).__name__)
def test_events_and_actions_compare_hash_and_pickle_by_value(value: Frozen) -> None:
    copy = replace(value)
    assert copy == value and hash(copy) == hash(value)
    assert copy is not value
    assert pickle.loads(pickle.dumps(value)) == value


def test_different_values_are_not_equal() -> None:
    assert StartTimer("A", 0.5) != StartTimer("A", 1.0)
    start_and_stop: list[object] = [StartTimer("A", 0.5), StopTimer("A")]
    assert start_and_stop[0] != start_and_stop[1]
    assert TimerFired("A") != TimerFired("B")
    assert ToTU("response") != ToTU("request")
    assert TransportError() == TransportError("")
    assert TUCancel() == TUCancel()


def test_to_tu_message_defaults_to_none() -> None:
    assert ToTU("timeout").message is None


def test_respond_defaults() -> None:
    assert Respond(BYE, 481) == Respond(BYE, 481, (), "")


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (RequestReceived(INVITE), "RequestReceived(INVITE)"),
        (TURequest(BYE), "TURequest(BYE)"),
        (ResponseReceived(reply(INVITE, 180)), "ResponseReceived(180 INVITE)"),
        (TUResponse(reply(BYE, 200)), "TUResponse(200 BYE)"),
        (MessageSent(BYE), "MessageSent(BYE (CSeq 986760))"),
        (MessageSent(reply(BYE, 200)), "MessageSent(200 OK (BYE))"),
        (TimerFired("Trying"), "TimerFired(Trying)"),
        (TransactionEnded("INVITE", 1, "server"), "TransactionEnded(server INVITE)"),
        (TUCancel(), "TUCancel"),
        (TransportError("reset"), "TransportError"),
    ],
)
def test_describe_names_the_event_kind_and_its_message(event: events.Event, text: str) -> None:
    assert describe(event) == text


def test_every_exported_name_exists() -> None:
    for name in events.__all__:
        assert hasattr(events, name), name


def test_timer_fired_is_one_shared_value_per_timer_name() -> None:
    from sipfsm.values.events import TimerFired, timer_fired

    assert timer_fired("A") is timer_fired("A")
    assert timer_fired("A") == TimerFired("A") != timer_fired("B")


@pytest.mark.parametrize("event", EVENTS, ids=lambda v: type(v).__name__)
def test_message_of_is_the_message_an_event_carries_or_none(event: object) -> None:
    assert message_of(event) is getattr(event, "message", None)


def test_message_of_anything_else_is_none() -> None:
    assert message_of(SendMessage(INVITE)) is None  # an action, not an event
    assert message_of(None) is None


def test_event_types_are_the_classes_of_event() -> None:
    assert set(EVENT_TYPES) == set(typing.get_args(Event))
    assert {type(e) for e in EVENTS} <= set(EVENT_TYPES)
