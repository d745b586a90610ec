"""The compiled rows (`sipfsm.engine.codegen`) against `sipfsm.engine.runtime.apply_transition`.

The table engine runs each declared row as a function compiled from the declaration; the
interpreted `apply_transition` is the meaning it must keep. Here every row of every
transaction machine, profile and transport is run both ways from the same instance, with
any set of running timers (at any interval), and must give the same actions and leave the
instance the same. (The dialog's rows are compared through whole runs in
tests/test_reference.py, whose lockstep drives the two engines with random events.)
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from conftest import make_request
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.decl.instance import Instance
from sipfsm.decl.language import PROFILES, TRANSPORTS, MachineDecl, Transition, Trigger
from sipfsm.engine import codegen, generate, model
from sipfsm.engine.runtime import _STEPS_KEPT, TableMachine, apply_transition
from sipfsm.machines.transaction import TRANSACTION_MACHINES
from sipfsm.values.errors import RemoteProtocolError
from sipfsm.values.events import (
    Event,
    RequestReceived,
    ResponseReceived,
    SendMessage,
    StartTimer,
    TimerFired,
    TransportError,
    TUCancel,
    TURequest,
    TUResponse,
)
from sipfsm.values.message import Request, ack_for_non_2xx, response_to

INVITE = make_request("INVITE", call_id="c1", cseq=1, from_tag="f1", branch="z9hG4bKc1")
BYE = make_request("BYE", call_id="c1", cseq=2, from_tag="f1", to_tag="t1", branch="z9hG4bKc2")


def request_of(machine: str) -> Request:
    return INVITE if machine in ("ict", "ist") else BYE


def event_of(trig: Trigger, request: Request, status: int) -> Event:
    """A concrete event for ``trig`` (``status`` picked from its range)."""
    if trig.kind == "timer":
        return TimerFired(trig.timer or "")
    if trig.kind == "tu_cancel":
        return TUCancel()
    if trig.kind == "transport_error":
        return TransportError()
    if trig.kind in ("request_received", "tu_request"):
        cls = RequestReceived if trig.kind == "request_received" else TURequest
        method = trig.method or request.method
        return cls(request if method == request.method else make_request(method, call_id="c1"))
    lo, hi = trig.status or (100, 699)
    response = response_to(request, min(max(status, lo), hi), to_tag="t1")
    return ResponseReceived(response) if trig.kind == "response_received" else TUResponse(response)


def rows_by_state(decl: MachineDecl, machine: TableMachine) -> list[tuple[str, Transition]]:
    return [(state, row) for (state, _trig), rows in machine.table.items() for row in rows]


CASES = [
    pytest.param(m, p, t, id=f"{m}-{p}-{t}")
    for m in TRANSACTION_MACHINES
    for p in PROFILES
    for t in TRANSPORTS
]


@pytest.mark.parametrize(("machine", "profile", "transport"), CASES)
def test_a_compiled_row_does_what_apply_transition_does_from_any_timers(
    machine: str, profile: str, transport: str
) -> None:
    engine = model.engine(machine, profile, model.timing_for(transport))
    assert isinstance(engine, TableMachine)
    decl = engine.decl
    pairs = rows_by_state(decl, engine)
    names = sorted({t.name for t in decl.timers} | {"Cancel"})

    @settings(max_examples=150, deadline=None)
    @given(
        pick=st.sampled_from(pairs),
        timers=st.dictionaries(st.sampled_from(names), st.sampled_from((0.5, 1.0, 4.0, 32.0))),
        status=st.integers(100, 699),
        cancel=st.booleans(),
        answered=st.booleans(),
    )
    def check(
        pick: tuple[str, Transition],
        timers: dict[str, float],
        status: int,
        cancel: bool,
        answered: bool,
    ) -> None:
        state, row = pick
        request = request_of(machine)
        event = event_of(decl.trigger(row.trigger), request, status)
        if isinstance(event, TimerFired):
            timers = {**timers, event.name: timers.get(event.name, 0.5)}  # it was running
        ours = Instance(state)
        ours.timers = dict(timers)
        ours.request = request
        ours.cancel_requested = cancel
        ours.last_response = response_to(request, 180) if answered else None
        theirs = copy.copy(ours)
        theirs.timers = dict(timers)
        outcomes = engine._dispatch[(state, row.trigger)][1]
        got = engine.compiled(row, state).function(ours, event)
        if not row.internal:
            theirs.state = row.dest
        expected = apply_transition(decl, theirs, row, event, engine.timing, outcomes)
        assert got == expected
        assert fields(ours) == fields(theirs)

    check()


def fields(inst: Instance) -> dict[str, Any]:
    return {name: getattr(inst, name) for name in Instance.FIELDS}


@pytest.mark.parametrize("machine", TRANSACTION_MACHINES)
def test_every_creation_row_compiles_to_what_apply_transition_does_rfc3261_17(
    machine: str,
) -> None:
    for transport in TRANSPORTS:
        engine = model.engine(machine, timing=model.timing_for(transport))
        assert isinstance(engine, TableMachine)
        for row in engine.decl.creations:
            ours, theirs = Instance(row.dest), Instance(row.dest)
            ours.request = theirs.request = request_of(machine)
            event = event_of(engine.decl.trigger(row.trigger), request_of(machine), 100)
            got = engine.compiled(row).function(ours, event)
            expected = apply_transition(engine.decl, theirs, row, event, engine.timing)
            assert got == expected
            assert fields(ours) == fields(theirs)


def intervals(machine: str, first: Event, timer: str, times: int) -> list[float]:
    engine = model.engine(machine)
    inst, _ = engine.create(first)
    found: list[float] = []
    for _ in range(times):
        actions = engine.handle(inst, TimerFired(timer))
        found += [a.seconds for a in actions if isinstance(a, StartTimer) and a.name == timer]
    return found


def test_timer_a_doubles_without_a_cap_in_compiled_code_rfc3261_17_1_1_2() -> None:
    assert intervals("ict", TURequest(INVITE), "A", 5) == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_timer_e_doubles_up_to_t2_in_compiled_code_rfc3261_17_1_2_2() -> None:
    assert intervals("nict", TURequest(BYE), "E", 5) == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_timer_a_is_not_run_on_tcp_in_compiled_code_rfc3261_17_1_1_2() -> None:
    engine = model.engine("ict", timing=model.timing_for("tcp"))
    inst, actions = engine.create(TURequest(INVITE))
    assert "A" not in inst.timers
    assert [a.name for a in actions if isinstance(a, StartTimer)] == ["B"]


def test_the_source_of_a_row_names_the_machine_the_row_and_its_rfc_section() -> None:
    engine = model.engine("ict")
    assert isinstance(engine, TableMachine)
    text = engine.source("calling", "timer_a")
    assert text.startswith("def row_calling_timer_a(inst, event):")
    assert "ict (rfc6026): calling --timer_a" in text
    assert "RFC 3261 §17.1.1.2" in text


def test_the_source_of_an_undeclared_trigger_is_refused_with_the_choices() -> None:
    engine = model.engine("nist")
    assert isinstance(engine, TableMachine)
    with pytest.raises(LookupError, match=r"unknown trigger of state 'completed'.*rcv_request"):
        engine.source("completed", "timer_a")


def test_an_undeclared_event_is_still_refused_after_its_state_was_compiled_rfc3261_17_1_2_2() -> (
    None
):
    engine = model.engine("nict")
    first, _ = engine.create(TURequest(BYE))
    engine.handle(first, ResponseReceived(response_to(BYE, 200, to_tag="t1")))
    second, _ = engine.create(TURequest(BYE))
    engine.handle(second, ResponseReceived(response_to(BYE, 200, to_tag="t1")))
    with pytest.raises(RemoteProtocolError, match=r"nict.*completed.*RequestReceived"):
        engine.handle(second, RequestReceived(BYE))


def test_the_remembered_steps_stay_bounded_whatever_methods_arrive() -> None:
    """Methods come from the network: a flood of extension methods cannot grow the memo."""
    engine = model.engine("nist")
    assert isinstance(engine, TableMachine)
    inst, _ = engine.create(RequestReceived(BYE))
    for n in range(_STEPS_KEPT + 10):
        # (matching is the host's: the machine takes any request as a retransmission)
        assert engine.handle(inst, RequestReceived(make_request(f"X{n}", call_id="c1"))) == []
    assert inst.state == "trying"
    assert 0 < len(engine._steps) <= _STEPS_KEPT


def test_a_retransmitted_final_response_re_passes_the_same_ack_rfc3261_17_1_1_2() -> None:
    """ "Any retransmissions of the final response that are received while in the
    'Completed' state MUST cause the ACK to be re-passed to the transport layer"."""
    engine = model.engine("ict")
    inst, _ = engine.create(TURequest(INVITE))
    busy = ResponseReceived(response_to(INVITE, 486, to_tag="t1"))
    first = [a for a in engine.handle(inst, busy) if isinstance(a, SendMessage)]
    again = [a for a in engine.handle(inst, busy) if isinstance(a, SendMessage)]
    assert first == again == [SendMessage(ack_for_non_2xx(INVITE, busy.message))]
    assert first[0].message is again[0].message  # the same ACK, not a new one


def test_a_final_response_with_another_to_tag_gets_its_own_ack_rfc3261_17_1_1_3() -> None:
    engine = model.engine("ict")
    inst, _ = engine.create(TURequest(INVITE))
    engine.handle(inst, ResponseReceived(response_to(INVITE, 486, to_tag="t1")))
    other = ResponseReceived(response_to(INVITE, 603, to_tag="t2"))
    sent = [a.message for a in engine.handle(inst, other) if isinstance(a, SendMessage)]
    assert [m.to_tag for m in sent] == ["t2"]


# -- rows compiled ahead of time (sipfsm/engine/rows.py) --------------------------------------


def test_the_rows_compiled_ahead_of_time_are_current() -> None:
    # generated from the declarations; a change to either means `make rows`
    current = (Path(codegen.__file__).parent / "rows.py").read_text(encoding="utf-8")
    stale = "sipfsm/engine/rows.py is stale: run `make rows`"
    assert current == generate.ahead_of_time_source(), stale


def test_every_row_of_the_default_timings_is_taken_from_the_ahead_of_time_module() -> None:
    # (so the tests above, which run every row against apply_transition, run those rows)
    rows = generate.every_row()
    assert rows and all(body in codegen.ahead_of_time() for body in rows)
