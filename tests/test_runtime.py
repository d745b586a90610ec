"""The sans-IO runtime (sipfsm/engine/runtime.py): classification, the table engine, timer
bookkeeping, stale timers and strictness, with Hypothesis over random event sequences.

Properties (STYLE.md rules 6, 7 and 9):

* an instance is only ever in a declared state;
* a `StartTimer` names a timer the state entered runs; a `StopTimer` names a running one;
* ``instance.timers`` equals the timers started and not yet stopped or fired;
* a `TimerFired` for a timer that is not running returns ``[]`` and changes nothing;
* every (state, event) is a declared transition or a `ProtocolError` naming machine,
  profile, state and event (local for TU input, remote for network input), and a rejected
  event changes nothing.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Sequence

import pytest
from conftest import (
    BYE,
    CANCEL,
    CREATE,
    FUZZ_EXAMPLES,
    INVITE,
    PATHS,
    PROFILES,
    TCP,
    UDP,
    Driver,
    ack_of,
    at,
    from_tu,
    hostile_calls,
    make_request,
    make_response,
    received,
    reply,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.decl.instance import HANDLERS, Instance
from sipfsm.decl.language import ActionDecl as DeclAction
from sipfsm.decl.language import Transition
from sipfsm.decl.timers import Timing
from sipfsm.engine import native
from sipfsm.engine.model import declare, engine
from sipfsm.engine.runtime import (
    LOCAL_EVENTS,
    Classifier,
    TableMachine,
    apply_transition,
    creation_row,
    handle_event,
    protocol_error,
    start_instance,
)
from sipfsm.machines.transaction import TRANSACTION_MACHINES
from sipfsm.values.errors import (
    ForeignInstance,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    SipFsmError,
    WrongType,
)
from sipfsm.values.events import (
    Event,
    MessageSent,
    RequestReceived,
    ResponseReceived,
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
)

TIMER_NAMES = ("A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "Trying", "Z")

#: Every kind of event a transaction may be handed, relevant to it or not.
EVENT_POOL: tuple[Event, ...] = (
    *(TimerFired(n) for n in TIMER_NAMES),
    *(received(INVITE, s) for s in (100, 180, 200, 202, 300, 408, 481, 486, 487, 491, 503, 699)),
    *(received(BYE, s) for s in (100, 180, 200, 404, 481, 408)),
    *(from_tu(INVITE, s) for s in (100, 180, 183, 200, 300, 408, 486, 487, 500, 699)),
    *(from_tu(BYE, s) for s in (100, 180, 200, 404, 408, 481, 487, 603)),
    RequestReceived(INVITE),
    RequestReceived(ack_of(486)),
    RequestReceived(BYE),
    RequestReceived(CANCEL),
    TURequest(INVITE),
    TURequest(BYE),
    TUCancel(),
    TransportError("connection reset"),
    MessageSent(BYE),
    TransactionEnded("INVITE", 1, "client"),
)

MACHINE_PROFILE_TIMING = [
    (m, p, t) for m in TRANSACTION_MACHINES for p in PROFILES for t in (UDP, TCP)
]
MPT_IDS = [f"{m}-{p}-{t.transport}" for m, p, t in MACHINE_PROFILE_TIMING]


def is_local(event: Event) -> bool:
    return isinstance(event, TURequest | TUResponse | TUCancel | MessageSent)


# -- one step, checked ----------------------------------------------------------------------


def checked_step(d: Driver, event: Event) -> None:
    """Feed one event and check every invariant of the module docstring."""
    decl = d.engine.decl
    before_state, before_timers = d.state, d.timers
    try:
        actions = d(event)
    except ProtocolError as err:
        assert isinstance(err, LocalProtocolError if is_local(event) else RemoteProtocolError)
        assert (err.machine, err.profile, err.state) == (decl.id, decl.profile, before_state)
        assert err.event == describe(event)
        text = str(err)
        for part in (decl.id, decl.profile, repr(before_state), describe(event)):
            assert part in text
        assert (d.state, d.timers) == (before_state, before_timers), "rejected event changed state"
        return
    if isinstance(event, TimerFired) and event.name not in before_timers:
        assert actions == [], "a stale timer produced actions"
        assert (d.state, d.timers) == (before_state, before_timers)
        return
    assert d.state in decl.state_names
    # the state's own timers, and one a row into it starts explicitly (RFC 3261 §9.1)
    runs = set(decl.state(d.state).timers) | {
        a.arg
        for r in decl.transitions
        if r.dest == d.state
        for a in r.actions
        if a.kind == "start_timer"
    }
    expected = dict(before_timers)
    if isinstance(event, TimerFired):
        del expected[event.name]
    for action in actions:
        if isinstance(action, StopTimer):
            assert action.name in expected, f"StopTimer({action.name}) of a timer not running"
            del expected[action.name]
        elif isinstance(action, StartTimer):
            assert action.name in runs, f"StartTimer({action.name}) in {d.state}"
            assert action.seconds >= 0
            expected[action.name] = action.seconds
    assert d.timers == expected
    assert set(d.timers) <= runs
    if decl.state(d.state).terminal:
        assert d.timers == {}


def run_checked(machine: str, profile: str, timing: Timing, events: Sequence[Event]) -> Driver:
    d = Driver(machine, profile, timing)
    actions = d.create(CREATE[machine])
    assert d.timers == {a.name: a.seconds for a in actions if isinstance(a, StartTimer)}
    for event in events:
        checked_step(d, event)
    return d


events_strategy = st.lists(st.sampled_from(EVENT_POOL), max_size=40)


@pytest.mark.parametrize(("machine", "profile", "timing"), MACHINE_PROFILE_TIMING, ids=MPT_IDS)
@settings(max_examples=150, deadline=None)
@given(events=events_strategy)
def test_random_event_sequences_keep_every_runtime_invariant(
    machine: str, profile: str, timing: Timing, events: list[Event]
) -> None:
    run_checked(machine, profile, timing, events)


#: Events each machine actually accepts somewhere, so random walks go deep.
RELEVANT: dict[str, tuple[Event, ...]] = {
    "ict": (
        *(TimerFired(n) for n in ("A", "B", "D", "M")),
        *(received(INVITE, s) for s in (100, 180, 200, 486, 487)),
        TUCancel(),
        TransportError(),
    ),
    "nict": (
        *(TimerFired(n) for n in ("E", "F", "K")),
        *(received(BYE, s) for s in (100, 200, 481)),
        TransportError(),
    ),
    "ist": (
        *(TimerFired(n) for n in ("Trying", "G", "H", "I", "L")),
        RequestReceived(INVITE),
        RequestReceived(ack_of(486)),
        *(from_tu(INVITE, s) for s in (180, 200, 486, 487)),
        TransportError(),
    ),
    "nist": (
        TimerFired("J"),
        RequestReceived(BYE),
        *(from_tu(BYE, s) for s in (100, 180, 200, 408, 487)),
        TransportError(),
    ),
}


@pytest.mark.parametrize(("machine", "profile", "timing"), MACHINE_PROFILE_TIMING, ids=MPT_IDS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_relevant_event_sequences_keep_every_runtime_invariant(
    machine: str, profile: str, timing: Timing, data: st.DataObject
) -> None:
    events = data.draw(st.lists(st.sampled_from(RELEVANT[machine]), max_size=40))
    run_checked(machine, profile, timing, events)


# -- stale timers (STYLE.md rule 7) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("machine", "state", "timer"),
    [
        ("ict", "proceeding", "A"),  # stopped by the 1xx
        ("ict", "proceeding", "B"),
        ("ict", "accepted", "D"),  # never ran on this path
        ("ict", "terminated", "M"),
        ("nict", "completed", "E"),  # stopped by the final response
        ("nict", "completed", "F"),
        ("ist", "confirmed", "G"),  # stopped by the ACK
        ("ist", "confirmed", "H"),
        ("ist", "accepted", "Trying"),  # stopped by the TU's 2xx
        ("nist", "terminated", "J"),  # fired already
    ],
)
def test_stale_timer_returns_nothing_and_changes_nothing_style_rule_7(
    machine: str, state: str, timer: str
) -> None:
    d = at(machine, state)
    before = (d.state, d.timers, d.inst.last_response, d.inst.cancel_requested)
    assert d(TimerFired(timer)) == []
    assert (d.state, d.timers, d.inst.last_response, d.inst.cancel_requested) == before


@pytest.mark.parametrize("timer", ["A", "E", "G"])
def test_timer_never_started_on_reliable_transport_is_stale_rfc3261_17(timer: str) -> None:
    machine, state = {"A": ("ict", "calling"), "E": ("nict", "trying"), "G": ("ist", "completed")}[
        timer
    ]
    d = at(machine, state, "rfc6026", TCP)
    before = (d.state, d.timers)
    assert d(TimerFired(timer)) == []
    assert (d.state, d.timers) == before


def test_timer_that_already_fired_is_stale_the_second_time_rfc3261_17_2_1() -> None:
    d = at("ist", "proceeding")
    assert len(d(TimerFired("Trying"))) == 1
    assert d(TimerFired("Trying")) == []


@pytest.mark.parametrize(("machine", "profile", "timing"), MACHINE_PROFILE_TIMING, ids=MPT_IDS)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_stale_timer_is_a_no_op_after_any_history_style_rule_7(
    machine: str, profile: str, timing: Timing, data: st.DataObject
) -> None:
    events = data.draw(st.lists(st.sampled_from(RELEVANT[machine]), max_size=25))
    d = Driver(machine, profile, timing)
    d.create(CREATE[machine])
    for event in events:
        with contextlib.suppress(ProtocolError):
            d(event)
        stale = [n for n in TIMER_NAMES if n not in d.inst.timers]
        name = data.draw(st.sampled_from(stale))
        before = (d.state, d.timers, d.inst.last_response, d.inst.cancel_requested)
        assert d(TimerFired(name)) == []
        assert (d.state, d.timers, d.inst.last_response, d.inst.cancel_requested) == before


# -- strictness: every state x every event (STYLE.md rule 9) ----------------------------------

STATES = [
    (m, p, s)
    for m in TRANSACTION_MACHINES
    for p in PROFILES
    for s in PATHS[m]
    if s in declare(m, p).state_names
]


@pytest.mark.parametrize(
    ("machine", "profile", "state"), STATES, ids=[f"{m}-{p}-{s}" for m, p, s in STATES]
)
def test_every_state_and_event_is_a_declared_transition_or_a_named_error(
    machine: str, profile: str, state: str
) -> None:
    for event in EVENT_POOL:
        d = at(machine, state, profile)
        checked_step(d, event)


def test_every_transaction_state_is_covered_by_the_strictness_test() -> None:
    for machine in TRANSACTION_MACHINES:
        for profile in PROFILES:
            assert set(declare(machine, profile).state_names) <= set(PATHS[machine])


def test_protocol_error_is_local_for_tu_input_and_remote_for_network_input() -> None:
    decl = declare("ict")
    for event in EVENT_POOL:
        err = protocol_error(decl, "calling", event)
        expected = LocalProtocolError if is_local(event) else RemoteProtocolError
        assert type(err) is expected
        assert (
            str(err) == f"ict (rfc6026) in state 'calling' cannot handle {describe(event)}: "
            "no transition declared"
        )
    assert set(LOCAL_EVENTS) == {TURequest, TUResponse, TUCancel, MessageSent}


def test_unknown_input_error_names_the_machine_as_the_reason() -> None:
    d = at("nist", "trying")
    with pytest.raises(RemoteProtocolError) as err:
        d(received(BYE, 200))
    assert err.value.reason == "not an input of nist"
    assert str(err.value) == (
        "nist (rfc6026) in state 'trying' cannot handle ResponseReceived(200 BYE): "
        "not an input of nist"
    )


def test_no_transition_error_names_the_trigger() -> None:
    d = at("ict", "completed", "rfc3261")
    with pytest.raises(RemoteProtocolError) as err:
        d(received(INVITE, 183))
    assert str(err.value) == (
        "ict (rfc3261) in state 'completed' cannot handle ResponseReceived(183 INVITE): "
        "no transition for rcv_1xx"
    )


def test_failed_guard_error_lists_guard_text_and_section_rfc4320_4_2() -> None:
    d = at("nist", "trying")
    with pytest.raises(LocalProtocolError) as err:
        d(from_tu(BYE, 408))
    assert err.value.reason == "guard failed: [status != 408] (RFC 4320 §4.2)"


def test_creation_with_the_wrong_event_names_the_creating_trigger() -> None:
    machine = engine("ist")
    with pytest.raises(RemoteProtocolError) as err:
        machine.create(RequestReceived(BYE))
    assert err.value.state == "(new)"
    assert "a ist is created by rcv_invite" in str(err.value)
    with pytest.raises(LocalProtocolError, match="created by tu_request"):
        engine("ict").create(TUCancel())


# -- the classifier -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("machine", "event", "trigger"),
    [
        ("ict", TURequest(INVITE), "tu_request"),
        ("ict", received(INVITE, 100), "rcv_1xx"),
        ("ict", received(INVITE, 199), "rcv_1xx"),
        ("ict", received(INVITE, 200), "rcv_2xx"),
        ("ict", received(INVITE, 299), "rcv_2xx"),
        ("ict", received(INVITE, 300), "rcv_3xx_6xx"),
        ("ict", received(INVITE, 699), "rcv_3xx_6xx"),
        ("ict", TUCancel(), "tu_cancel"),
        ("ict", TimerFired("A"), "timer_a"),
        ("ict", TimerFired("M"), "timer_m"),
        ("ict", TransportError(), "transport_error"),
        ("ict", TimerFired("G"), None),
        ("ict", RequestReceived(INVITE), None),
        ("nict", received(BYE, 100), "rcv_1xx"),
        ("nict", received(BYE, 200), "rcv_final"),
        ("nict", received(BYE, 699), "rcv_final"),
        ("ist", RequestReceived(INVITE), "rcv_invite"),
        ("ist", RequestReceived(ack_of(486)), "rcv_ack"),
        ("ist", RequestReceived(BYE), None),
        ("ist", from_tu(INVITE, 101), "tu_1xx"),
        ("ist", from_tu(INVITE, 200), "tu_2xx"),
        ("ist", from_tu(INVITE, 487), "tu_3xx_6xx"),
        ("ist", TimerFired("Trying"), "timer_trying"),
        ("nist", RequestReceived(BYE), "rcv_request"),
        ("nist", from_tu(BYE, 100), "tu_1xx"),
        ("nist", from_tu(BYE, 200), "tu_final"),
        ("nist", TimerFired("J"), "timer_j"),
        ("nist", MessageSent(BYE), None),
        ("nist", TransactionEnded("BYE", 1, "server"), None),
    ],
)
def test_classifier_maps_events_to_declared_triggers(
    machine: str, event: Event, trigger: str | None
) -> None:
    classifier = Classifier(declare(machine))
    assert classifier.classify(event) == trigger
    assert classifier.classify(event) == trigger  # memoised answer is the same


@pytest.mark.parametrize("status", [99, 700, 0])
def test_classifier_rejects_out_of_range_status(status: int) -> None:
    classifier = Classifier(declare("ict"))
    event = received(INVITE, 200)
    from sipfsm.values.frozen import replace

    odd = type(event)(replace(event.message, status=status))
    assert classifier.classify(odd) is None


@given(status=st.integers(100, 699))
def test_classifier_puts_every_ict_response_in_exactly_its_class_rfc3261_17_1_1_2(
    status: int,
) -> None:
    trig = Classifier(declare("ict")).classify(received(INVITE, status))
    expected = "rcv_1xx" if status < 200 else "rcv_2xx" if status < 300 else "rcv_3xx_6xx"
    assert trig == expected


# -- the table engine and apply_transition ---------------------------------------------------


def test_every_declared_action_kind_has_a_handler() -> None:
    kinds = set()
    for machine in TRANSACTION_MACHINES:
        for profile in PROFILES:
            decl = declare(machine, profile)
            for row in (*decl.creations, *decl.transitions):
                kinds |= {a.kind for a in row.actions}
            for state in decl.states:
                kinds |= {a.kind for a in state.on_enter}
    assert kinds <= set(HANDLERS)


def test_internal_transition_neither_stops_nor_starts_state_timers() -> None:
    decl = declare("nict")
    inst = Instance("trying")
    inst.request = BYE
    inst.timers = {"E": 0.5, "F": 32.0}
    row = Transition("trying", "transport_error", "trying", (DeclAction("to_tu", "x"),))
    assert apply_transition(decl, inst, row, TransportError(), UDP) == [ToTU("x")]
    assert inst.timers == {"E": 0.5, "F": 32.0}


def test_transition_keeps_timers_shared_by_source_and_dest_rfc3261_17_1_2_2() -> None:
    d = at("nict", "trying")
    d(TimerFired("E"))
    assert d(received(BYE, 180)) == [ToTU("response", received(BYE, 180).message)]
    assert d.timers == {"E": 1.0, "F": 32.0}


def test_fired_timer_is_not_stopped_explicitly() -> None:
    d = at("ict", "completed")
    actions = d(TimerFired("D"))
    assert StopTimer("D") not in actions


def test_creation_row_is_found_by_trigger() -> None:
    decl = declare("nist")
    row = creation_row(decl, Classifier(decl), RequestReceived(BYE), Instance())
    assert (row.source, row.dest) == ("", "trying")


def test_table_engine_precomputes_one_entry_per_declared_state_and_trigger() -> None:
    for machine in TRANSACTION_MACHINES:
        for profile in PROFILES:
            decl = declare(machine, profile)
            table = TableMachine(decl).table
            assert set(table) == {(r.source, r.trigger) for r in decl.transitions}
            for (state, trig), rows in table.items():
                assert rows == tuple(
                    r for r in decl.transitions if r.source == state and r.trigger == trig
                )


def test_instance_starts_empty_with_only_its_declared_fields() -> None:
    inst = Instance()
    assert {n: getattr(inst, n) for n in Instance.FIELDS} == {
        "ack": None,
        "cancel_requested": False,
        "last_response": None,
        "machine_id": "",
        "request": None,
        "sending": None,
        "state": "",
        "timers": {},
    }
    if native.compiled():  # a compiled class has room for its fields only
        with pytest.raises(AttributeError):
            inst.extra = 1  # type: ignore[attr-defined]
    assert repr(at("ict", "completed").inst) == "<Instance state='completed' timers={'D': 32.0}>"


def test_instances_of_one_engine_are_independent() -> None:
    machine = engine("ict")
    a, _ = machine.create(TURequest(INVITE))
    b, _ = machine.create(TURequest(make_request("INVITE", branch="z9hG4bK2")))
    machine.handle(a, received(INVITE, 180))
    assert (a.state, b.state) == ("proceeding", "calling")
    assert b.timers == {"A": 0.5, "B": 32.0}


# -- the two engines agree -------------------------------------------------------------------

HAS_REFERENCE = importlib.util.find_spec("sipfsm.engine.reference") is not None


@pytest.mark.skipif(not HAS_REFERENCE, reason="sipfsm.engine.reference is not there")
@pytest.mark.parametrize(("machine", "profile", "timing"), MACHINE_PROFILE_TIMING, ids=MPT_IDS)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_table_and_transitions_engines_agree_on_every_sequence(
    machine: str, profile: str, timing: Timing, data: st.DataObject
) -> None:
    pool = RELEVANT[machine] + EVENT_POOL[:20]
    events = data.draw(st.lists(st.sampled_from(pool), max_size=30))
    table = Driver(machine, profile, timing, "table")
    ref = Driver(machine, profile, timing, "transitions")
    assert table.create(CREATE[machine]) == ref.create(CREATE[machine])
    for event in events:
        outcome: list[object] = []
        for d in (table, ref):
            try:
                outcome.append(d(event))
            except ProtocolError as err:
                outcome.append((type(err), str(err)))
        assert outcome[0] == outcome[1]
        assert (table.state, table.timers) == (ref.state, ref.timers)


def test_handle_event_and_start_instance_feed_either_engine_alike() -> None:
    # the table engine is called directly, any other engine through its methods: the
    # same actions and states either way (RFC 3261 §17.1.1.2: INVITE, then 180 and 200)
    runs = []
    for kind in ("table", "transitions"):
        machine = engine("ict", kind=kind)
        inst = Instance()
        actions = [start_instance(machine, inst, TURequest(INVITE))]  # type: ignore[arg-type]
        for status in (180, 200):
            actions.append(handle_event(machine, inst, received(INVITE, status)))
        runs.append((inst.state, actions))
    assert runs[0] == runs[1]
    assert runs[0][0] == "accepted"
    with pytest.raises(ProtocolError, match="ict"):
        handle_event(engine("ict"), Instance(), received(INVITE, 200))


# -- hostile calls: the API refuses what it cannot use, naming it (docs/limits.md) -------------


@pytest.mark.parametrize("kind", ["table", "transitions"])
@pytest.mark.parametrize("junk", [None, "INVITE", 5, INVITE, Instance()], ids=repr)
def test_create_of_what_is_not_an_event_is_wrong_type_naming_it(kind: str, junk: object) -> None:
    with pytest.raises(TypeError, match=refused(kind, r"ict: the event: expected one of RequestR")):
        engine("ict", kind=kind).create(junk)  # type: ignore[arg-type]
    assert issubclass(WrongType, TypeError) and issubclass(WrongType, SipFsmError)


def refused(kind: str, pure: str) -> str:
    """What a refusal says: on the pure build (and the transitions engine) a `WrongType`
    matching ``pure``; the compiled table engine's methods are typed, so there the call
    itself is refused, a TypeError naming the type expected and the one it got."""
    if kind == "table" and native.compiled():
        return r"object expected; got "
    return pure


#: What `built` gives for a value the compiled build refused to build.
REFUSED = object()


def built(make: Callable[[], object]) -> object:
    """A hostile value, or `REFUSED`: the compiled build's classes check their fields' types
    as they are built, so there the value cannot even be made (a TypeError naming the type it
    expected, checked here); on the pure build it reaches the engine, which must refuse it."""
    try:
        return make()
    except TypeError as exc:
        assert native.compiled(), exc
        assert "expected" in str(exc)
        return REFUSED


@pytest.mark.parametrize("kind", ["table", "transitions"])
@pytest.mark.parametrize(
    ("make", "text"),
    [
        (
            lambda: TURequest(None),  # type: ignore[arg-type]
            r"TURequest.message: expected a Request, got None \(NoneType\)",
        ),
        (
            lambda: TURequest(reply(INVITE, 180)),  # type: ignore[arg-type]
            r"TURequest.message: expected a Request, got Response",
        ),
        (
            lambda: TURequest(make_request(None)),  # type: ignore[arg-type]
            r"Request.method: expected a text \(str\), got None",
        ),
        (
            lambda: TURequest(make_request("INVITE", cseq="1")),  # type: ignore[arg-type]
            r"Request.cseq: expected a whole number",
        ),
        (
            lambda: TimerFired(None),  # type: ignore[arg-type]
            r"TimerFired.name: expected a text \(str\), got None",
        ),
    ],
)
def test_create_of_an_event_carrying_the_wrong_type_names_the_field(
    kind: str, make: Callable[[], object], text: str
) -> None:
    event = built(make)
    if event is REFUSED:
        return
    with pytest.raises(WrongType, match=text):
        engine("ict", kind=kind).create(event)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["table", "transitions"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: None,
        lambda: "x",
        lambda: ResponseReceived(None),  # type: ignore[arg-type]
        lambda: ResponseReceived(INVITE),  # type: ignore[arg-type]
        lambda: ResponseReceived(make_response([], "x", "INVITE")),  # type: ignore[arg-type]
        lambda: ResponseReceived(make_response(180, "x", [])),  # type: ignore[arg-type]
        lambda: TimerFired([]),  # type: ignore[arg-type]
        lambda: TimerFired(7),  # type: ignore[arg-type]
        lambda: MessageSent("x"),  # type: ignore[arg-type]
    ],
)
def test_handle_of_a_wrong_event_is_wrong_type_and_changes_nothing(
    kind: str, make: Callable[[], object]
) -> None:
    event = built(make)
    if event is REFUSED:
        return
    d = at("ict", "calling", kind=kind)
    d(received(INVITE, 180))  # the step of a valid 180 is known: junk must not reuse it
    timers = d.timers
    with pytest.raises(TypeError, match=refused(kind, r"^ict: ")):
        d(event)  # type: ignore[arg-type]
    assert (d.state, d.timers) == ("proceeding", timers)


@pytest.mark.parametrize("kind", ["table", "transitions"])
@pytest.mark.parametrize("junk", [None, "proceeding", 1, object()], ids=repr)
def test_handle_of_what_is_not_an_instance_is_wrong_type(kind: str, junk: object) -> None:
    text = refused(kind, "ict: the instance: expected an instance of Instance")
    with pytest.raises(TypeError, match=text):
        engine("ict", kind=kind).handle(junk, received(INVITE, 180))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["table", "transitions"])
def test_an_engine_refuses_another_machines_instance_where_state_names_match(kind: str) -> None:
    # an IST instance in Proceeding: the ICT has a Proceeding too, and used to drive it
    ist = at("ist", "proceeding", kind=kind)
    with pytest.raises(ForeignInstance, match="belongs to the 'ist' machine, not to ict"):
        engine("ict", kind=kind).handle(ist.inst, received(INVITE, 180))
    assert (ist.state, ist.timers) == ("proceeding", at("ist", "proceeding").timers)
    with pytest.raises(ForeignInstance):
        engine("ict", kind=kind).start(ist.inst, TURequest(INVITE))
    assert ist.inst.machine_id == "ist"


@pytest.mark.parametrize("kind", ["table", "transitions"])
def test_an_instance_never_started_is_a_local_protocol_error(kind: str) -> None:
    inst = Instance("proceeding")  # built by hand, never started
    with pytest.raises(LocalProtocolError, match="the instance was never started"):
        engine("ict", kind=kind).handle(inst, received(INVITE, 180))
    assert inst.state == "proceeding"


@pytest.mark.parametrize("kind", ["table", "transitions"])
def test_start_takes_only_the_instances_its_factory_makes(kind: str) -> None:
    with pytest.raises(WrongType, match="dialog: the instance: expected an instance of Dialog"):
        engine("dialog", kind=kind).start(Instance(), TURequest(INVITE))


def test_create_and_start_mark_the_instance_with_its_machine() -> None:
    for kind in ("table", "transitions"):
        for machine, event in CREATE.items():
            inst, _ = engine(machine, kind=kind).create(event)
            assert inst.machine_id == machine


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(data=st.data())
def test_hostile_calls_of_the_table_engine_raise_only_documented_errors(
    data: st.DataObject,
) -> None:
    hostile_calls("table", data)
