"""Errors that explain themselves (sipfsm/values/errors.py, STYLE.md rule 3): each names the
machine, profile, state and event; local and remote errors are separate classes; an unknown
name lists the valid choices."""

from __future__ import annotations

import pytest
from conftest import BYE, at, from_tu, received

from sipfsm.values.errors import (
    SHOWN_CHARS,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    SipFsmError,
    UnknownName,
    printable,
    shown,
)
from sipfsm.values.events import TransportError


def test_error_hierarchy_keeps_local_and_remote_apart() -> None:
    assert issubclass(ProtocolError, SipFsmError)
    assert issubclass(LocalProtocolError, ProtocolError)
    assert issubclass(RemoteProtocolError, ProtocolError)
    assert not issubclass(LocalProtocolError, RemoteProtocolError)
    assert not issubclass(RemoteProtocolError, LocalProtocolError)
    assert issubclass(UnknownName, SipFsmError)
    assert issubclass(UnknownName, LookupError)


def test_protocol_error_message_names_machine_profile_state_event_and_reason() -> None:
    err = RemoteProtocolError(
        "ict", "rfc6026", "completed", "ResponseReceived(180 INVITE)", "no transition for rcv_1xx"
    )
    assert str(err) == (
        "ict (rfc6026) in state 'completed' cannot handle ResponseReceived(180 INVITE): "
        "no transition for rcv_1xx"
    )
    assert (err.machine, err.profile, err.state, err.event, err.reason) == (
        "ict",
        "rfc6026",
        "completed",
        "ResponseReceived(180 INVITE)",
        "no transition for rcv_1xx",
    )


def test_protocol_error_default_reason() -> None:
    err = LocalProtocolError("nist", "rfc3261", "trying", "TUCancel")
    assert err.reason == "no transition declared"
    assert str(err).endswith("cannot handle TUCancel: no transition declared")


def test_unknown_name_lists_the_choices() -> None:
    err = UnknownName("machine", "dialgo", ("ict", "nict", "ist", "nist", "dialog"))
    assert str(err) == "unknown machine 'dialgo'; valid choices: ict, nict, ist, nist, dialog"
    assert err.what == "machine"
    assert err.name == "dialgo"
    assert err.choices == ("ict", "nict", "ist", "nist", "dialog")


def test_unknown_name_says_where_and_accepts_any_iterable() -> None:
    err = UnknownName("state", "calling", iter(["trying", "completed"]), "nict")
    assert str(err) == "unknown state of nict 'calling'; valid choices: trying, completed"
    assert err.choices == ("trying", "completed")


def test_unknown_name_with_non_string_choices() -> None:
    err = UnknownName("code", 999, [100, 180])
    assert str(err) == "unknown code 999; valid choices: 100, 180"


def test_engine_raises_local_error_for_a_tu_mistake_rfc4320_4_2() -> None:
    d = at("nist", "trying")
    with pytest.raises(LocalProtocolError) as err:
        d(from_tu(BYE, 408))
    assert str(err.value) == (
        "nist (rfc6026) in state 'trying' cannot handle TUResponse(408 BYE): "
        "guard failed: [status != 408] (RFC 4320 §4.2)"
    )


def test_engine_raises_remote_error_for_a_peer_message_rfc3261_17_1_2_2() -> None:
    d = at("nict", "completed", "rfc3261")
    with pytest.raises(RemoteProtocolError) as err:
        d(TransportError())
    assert type(err.value) is RemoteProtocolError
    assert str(err.value) == (
        "nict (rfc3261) in state 'completed' cannot handle TransportError: "
        "no transition for transport_error"
    )


def test_engine_raises_local_error_for_a_tu_event_that_is_no_input() -> None:
    d = at("nict", "trying")
    with pytest.raises(LocalProtocolError) as err:
        d(from_tu(BYE, 200))
    assert str(err.value) == (
        "nict (rfc6026) in state 'trying' cannot handle TUResponse(200 BYE): not an input of nict"
    )


def test_errors_are_never_plain_tracebacks_for_events_to_a_terminated_transaction() -> None:
    d = at("ist", "terminated")
    with pytest.raises(ProtocolError, match="ist \\(rfc6026\\) in state 'terminated'"):
        d(received(BYE, 200))


def test_a_runaway_run_is_a_sipfsm_error_and_a_runtime_error_named_by_the_event_loop() -> None:
    from sipfsm.sim.engine import EventLoop
    from sipfsm.sim.engine import RunawayError as FromEngine
    from sipfsm.values.errors import RunawayError, SipFsmError

    assert FromEngine is RunawayError and issubclass(RunawayError, SipFsmError | RuntimeError)
    loop = EventLoop()

    def again() -> None:
        loop.schedule(1.0, again)

    loop.schedule(0.0, again)
    with pytest.raises(RunawayError, match="more than 5 events by virtual time 5 s"):
        loop.run(limit=5)


def test_printable_writes_control_characters_as_escapes_and_keeps_the_rest() -> None:
    assert printable("bob") == "bob"
    assert printable("RFC 3261 §9.2 — 取消") == "RFC 3261 §9.2 — 取消"
    assert printable("a\nb\r\x00\x1b[31m\u2028") == "a\\nb\\r\\x00\\x1b[31m\\u2028"


def test_shown_is_one_short_line_whatever_the_value() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert shown("a\nb") == "'a\\nb'"
    assert len(shown("x" * 10_000)) == SHOWN_CHARS and shown("x" * 10_000).endswith("...")
    assert shown(Hostile()) == "<Hostile object>"
    err = UnknownName("machine", "ict\n" * 1000, ("ict",))
    assert "\n" not in str(err) and len(str(err)) < 200
