"""Sanity of the declarations (sipfsm/decl/language.py, sipfsm/machines/transaction.py),
for every transaction machine in both profiles: the tables are complete, consistent and cite
the RFC.

The graph checks use networkx: every state is reachable from the initial state, and every
non-terminal state can reach a terminal one (no transaction lives forever by construction).
"""

from __future__ import annotations

import re
from collections import defaultdict

import networkx as nx
import pytest

from sipfsm.decl.language import (
    ALL_PROFILES,
    ONLY_3261,
    ONLY_6026,
    PROFILES,
    ActionDecl,
    Guard,
    MachineDecl,
    Outcome,
    StateDecl,
    Transition,
    select_profile,
)
from sipfsm.decl.timers import TIMERS
from sipfsm.engine import model
from sipfsm.machines import transaction
from sipfsm.machines.transaction import TRANSACTION_MACHINES, declare
from sipfsm.values.errors import UnknownName

CASES = [(m, p) for m in TRANSACTION_MACHINES for p in PROFILES]
IDS = [f"{m}-{p}" for m, p in CASES]
RFC_CITE = re.compile(r"^RFC \d+ §[\d.]+$")

RAW_TRIGGERS = {
    "ict": transaction.ICT_TRIGGERS,
    "nict": transaction.NICT_TRIGGERS,
    "ist": transaction.IST_TRIGGERS,
    "nist": transaction.NIST_TRIGGERS,
}

parametrize_cases = pytest.mark.parametrize(("machine", "profile"), CASES, ids=IDS)


def graph(decl: MachineDecl) -> nx.DiGraph:  # type: ignore[type-arg]
    g: nx.DiGraph = nx.DiGraph()  # type: ignore[type-arg]
    g.add_nodes_from(decl.state_names)
    for row in decl.transitions:
        g.add_edge(row.source, row.dest)
    return g


def timer_trigger(decl: MachineDecl, timer: str) -> str:
    found = [t.name for t in decl.triggers if t.kind == "timer" and t.timer == timer]
    assert len(found) == 1, f"{decl.id}: timer {timer} has triggers {found}"
    return found[0]


# -- timers --------------------------------------------------------------------------------


@parametrize_cases
def test_every_running_timer_has_a_transition_for_when_it_fires(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    for state in decl.states:
        for timer in state.timers:
            trig = timer_trigger(decl, timer)
            rows = [r for r in decl.transitions_from(state.name) if r.trigger == trig]
            assert rows, f"{machine} ({profile}): Timer {timer} runs in {state.name} but no row"


@parametrize_cases
def test_every_timer_trigger_is_for_a_timer_some_state_runs(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    running = {n for s in decl.states for n in s.timers} | row_started(decl)
    for trig in decl.triggers:
        if trig.kind == "timer":
            assert trig.timer in running
            for row in decl.transitions:
                if row.trigger == trig.name:
                    may_run = set(decl.state(row.source).timers) | row_started(decl, row.source)
                    assert trig.timer in may_run, (row.source, trig.name)


def row_started(decl: MachineDecl, state: str | None = None) -> set[str]:
    """Timers a row starts explicitly (RFC 3261 §9.1's Cancel timer), into ``state``."""
    return {
        a.arg
        for r in (*decl.creations, *decl.transitions)
        if state is None or r.dest == state
        for a in r.actions
        if a.kind == "start_timer"
    }


@parametrize_cases
def test_declared_timers_are_the_timers_the_states_run_rfc3261_table_4(
    machine: str, profile: str
) -> None:
    decl = declare(machine, profile)
    assert {t.name for t in decl.timers} == {
        n for s in decl.states for n in s.timers
    } | row_started(decl)
    for t in decl.timers:
        assert t is TIMERS[t.name]
        assert decl.timer(t.name) is t


@parametrize_cases
def test_terminal_states_run_no_timers(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    for name in decl.terminal_states:
        assert decl.state(name).timers == ()


# -- triggers and rows ---------------------------------------------------------------------


@pytest.mark.parametrize("machine", TRANSACTION_MACHINES)
def test_every_declared_trigger_is_used_by_some_row(machine: str) -> None:
    used: set[str] = set()
    for profile in PROFILES:
        decl = declare(machine, profile)
        used |= {r.trigger for r in (*decl.creations, *decl.transitions)}
        assert {t.name for t in decl.triggers} == {
            r.trigger for r in (*decl.creations, *decl.transitions)
        }
    assert {t.name for t in RAW_TRIGGERS[machine]} == used


@parametrize_cases
def test_every_row_uses_a_declared_trigger_and_declared_states(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    for row in decl.transitions:
        decl.trigger(row.trigger)
        decl.state(row.source)
        decl.state(row.dest)
    for row in decl.creations:
        assert row.source == ""
        decl.trigger(row.trigger)
        decl.state(row.dest)


@parametrize_cases
def test_no_duplicate_unguarded_rows_and_unguarded_row_comes_last(
    machine: str, profile: str
) -> None:
    decl = declare(machine, profile)
    groups: dict[tuple[str, str], list[Transition]] = defaultdict(list)
    for row in decl.transitions:
        groups[(row.source, row.trigger)].append(row)
    for key, rows in groups.items():
        unguarded = [i for i, r in enumerate(rows) if not r.guards]
        assert len(unguarded) <= 1, f"{machine} ({profile}) {key}: {len(unguarded)} unguarded"
        if unguarded:
            assert unguarded[0] == len(rows) - 1, f"{key}: a guarded row is unreachable"


@parametrize_cases
def test_exactly_one_initial_and_at_least_one_terminal_state(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    assert len(decl.creations) == 1
    assert decl.initial == decl.creation.dest
    assert decl.terminal_states == ("terminated",)
    assert len(set(decl.state_names)) == len(decl.states)


@parametrize_cases
def test_terminal_state_has_no_outgoing_rows_rfc3261_17_1_1_2(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    for name in decl.terminal_states:
        assert decl.transitions_from(name) == ()


@parametrize_cases
def test_every_row_and_state_exists_in_the_profile_it_is_declared_for(
    machine: str, profile: str
) -> None:
    decl = declare(machine, profile)
    assert decl.profile == profile
    for state in decl.states:
        assert profile in state.profiles
    for row in decl.transitions:
        assert profile in row.profiles


# -- graph (networkx) ----------------------------------------------------------------------


@parametrize_cases
def test_every_state_is_reachable_from_the_initial_state(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    g = graph(decl)
    reachable = nx.descendants(g, decl.initial) | {decl.initial}
    assert reachable == set(decl.state_names)


@parametrize_cases
def test_every_non_terminal_state_can_reach_a_terminal_state(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    g = graph(decl)
    for state in decl.state_names:
        if state in decl.terminal_states:
            continue
        assert any(nx.has_path(g, state, t) for t in decl.terminal_states), state


@parametrize_cases
def test_every_state_with_a_timer_reaches_terminated_by_timers_alone_rfc3261_17(
    machine: str, profile: str
) -> None:
    """Timers are what end a transaction that hears nothing more (RFC 3261 §17): from every
    state that runs a timer, except IST Proceeding (its only timer sends 100 Trying; the TU
    must answer, RFC 3261 §17.2.1), a chain of timer arrows alone reaches Terminated."""
    decl = declare(machine, profile)
    timer_triggers = {t.name for t in decl.triggers if t.kind == "timer"}
    g: nx.DiGraph = nx.DiGraph()  # type: ignore[type-arg]
    g.add_nodes_from(decl.state_names)
    for row in decl.transitions:
        if row.trigger in timer_triggers:
            g.add_edge(row.source, row.dest)
    for state in decl.states:
        if (machine, state.name) == ("ist", "proceeding"):
            continue
        if state.timers and not state.terminal:
            assert nx.has_path(g, state.name, "terminated"), state.name


# -- RFC citations ----------------------------------------------------------------------------


@parametrize_cases
def test_every_transition_and_outcome_cites_an_rfc_section(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    assert RFC_CITE.match(decl.rfc)
    for row in (*decl.creations, *decl.transitions):
        assert RFC_CITE.match(row.rfc), f"{row.source} --{row.trigger}--> {row.dest}: {row.rfc!r}"
        for guard in row.guards:
            assert RFC_CITE.match(guard.rfc), guard
    for state in decl.states:
        assert RFC_CITE.match(state.rfc), state.name
        for oc in state.outcomes:
            assert RFC_CITE.match(oc.rfc), oc


@parametrize_cases
def test_every_outcome_names_a_trigger_of_its_state(machine: str, profile: str) -> None:
    decl = declare(machine, profile)
    for state in decl.states:
        triggers = {r.trigger for r in decl.transitions_from(state.name)}
        for oc in state.outcomes:
            assert oc.trigger in triggers, (state.name, oc)
            assert 100 <= oc.code <= 699


def _forbidden_cases() -> list[object]:
    cases: list[object] = []
    for m, p in CASES:
        decl = declare(m, p)
        for state in decl.states:
            for oc in state.outcomes:
                if oc.forbidden:
                    case = (m, p, state.name, oc.code, oc.rfc)
                    marks: list[pytest.MarkDecorator] = []
                    cases.append(pytest.param(*case, marks=marks, id="-".join(map(str, case[:4]))))
    return cases


@pytest.mark.parametrize(("machine", "profile", "state", "code", "rfc"), _forbidden_cases())
def test_every_forbidden_outcome_is_enforced_by_a_guard_citing_the_same_rule(
    machine: str, profile: str, state: str, code: int, rfc: str
) -> None:
    decl = declare(machine, profile)
    oc = next(o for o in decl.outcomes(state) if o.forbidden and o.code == code and o.rfc == rfc)
    rows = [r for r in decl.transitions_from(state) if r.trigger == oc.trigger]
    assert rows
    for row in rows:
        assert rfc in {g.rfc for g in row.guards}, (state, row.trigger, row.rfc)


@pytest.mark.parametrize(
    "machine",
    TRANSACTION_MACHINES,
)
def test_rfc3261_profile_rows_cite_rfc3261_rfc3261_17(machine: str) -> None:
    decl = declare(machine, "rfc3261")
    later = [
        f"{r.source} --{r.trigger}--> {r.dest} ({r.rfc})"
        for r in decl.transitions
        if r.rfc.startswith(("RFC 6026", "RFC 4320"))
    ]
    assert later == []


@parametrize_cases
def test_rows_only_in_one_profile_are_where_the_profiles_differ(machine: str, profile: str) -> None:
    """A row kept for one profile only must have a counterpart (same source and trigger) in
    the other profile, or belong to a state only that profile has (RFC 6026 Accepted)."""
    decl = declare(machine, profile)
    other = declare(machine, "rfc3261" if profile == "rfc6026" else "rfc6026")
    other_keys = {(r.source, r.trigger) for r in other.transitions}
    for row in decl.transitions:
        if row.profiles == ALL_PROFILES:
            continue
        assert (row.source, row.trigger) in other_keys or row.source not in other.state_names, row


# -- the decl API ----------------------------------------------------------------------------


def test_transition_label_reads_event_guard_actions() -> None:
    row = Transition(
        "trying",
        "tu_final",
        "completed",
        (ActionDecl("send_response"), ActionDecl("start_timer", "J")),
        "RFC 3261 §17.2.2",
        guards=(Guard("g", "status != 408", "RFC 4320 §4.2", lambda c, e: True),),
    )
    assert row.label == "tu_final [status != 408] / send response, start Timer J"
    assert not row.internal
    assert Transition("a", "t", "a").internal
    assert Transition("a", "t", "a").label == "t"


@pytest.mark.parametrize(
    ("action", "label"),
    [
        (ActionDecl("send_ack"), "send ACK"),
        (ActionDecl("to_tu", "timeout"), "timeout to TU"),
        (ActionDecl("backoff_timer", "A"), "reset Timer A (doubled)"),
        (ActionDecl("restart_timer", "E", "T2"), "reset Timer E = T2"),
        (ActionDecl("unheard_of"), "unheard_of"),
    ],
)
def test_action_label(action: ActionDecl, label: str) -> None:
    assert action.label == label


def test_outcome_as_text_says_never_send_for_forbidden_send() -> None:
    oc = Outcome(408, "send", "ever", "RFC 4320 §4.2", "tu_final", forbidden=True)
    assert oc.as_text() == "never send 408 ever (RFC 4320 §4.2)"
    assert (
        Outcome(487, "receive", "x", "RFC 3261 §9.1").as_text() == "receive 487 x (RFC 3261 §9.1)"
    )


def test_guards_compare_without_their_check_function() -> None:
    assert Guard("g", "t", "RFC 1 §1", lambda c, e: True) == Guard(
        "g", "t", "RFC 1 §1", lambda c, e: False
    )


def test_select_profile_keeps_rows_of_that_profile() -> None:
    rows = (
        Transition("a", "t", "b", profiles=ONLY_6026),
        Transition("a", "t", "c", profiles=ONLY_3261),
        Transition("a", "u", "a"),
    )
    assert select_profile(rows, "rfc6026") == (rows[0], rows[2])
    assert select_profile(rows, "rfc3261") == (rows[1], rows[2])


def _nested() -> MachineDecl:
    return MachineDecl(
        id="toy",
        title="toy",
        rfc="RFC 1 §1",
        profile="rfc6026",
        figure="",
        states=(
            StateDecl("outer", "", "RFC 1 §1", outcomes=(Outcome(481, "send", "o", "RFC 1 §1"),)),
            StateDecl(
                "inner",
                "",
                "RFC 1 §1",
                parent="outer",
                outcomes=(Outcome(491, "send", "i", "RFC 1 §1"),),
            ),
            StateDecl("end", "", "RFC 1 §1", terminal=True),
        ),
        triggers=(),
        timers=(),
        creations=(Transition("", "go", "inner"),),
        transitions=(Transition("outer", "stop", "end"), Transition("inner", "x", "inner")),
    )


def test_nested_states_inherit_parent_rows_and_outcomes() -> None:
    decl = _nested()
    assert decl.ancestors("inner") == ("inner", "outer")
    assert [o.code for o in decl.outcomes("inner")] == [491, 481]
    assert {r.trigger for r in decl.transitions_from("inner")} == {"x", "stop"}
    assert [s.name for s in decl.leaf_states] == ["inner", "end"]
    assert decl.initial == "inner"
    assert decl.terminal_states == ("end",)


@pytest.mark.parametrize(
    ("lookup", "what"),
    [("state", "state"), ("trigger", "trigger"), ("timer", "timer")],
)
def test_unknown_state_trigger_timer_raise_unknown_name_listing_choices(
    lookup: str, what: str
) -> None:
    decl = declare("ict")
    with pytest.raises(UnknownName) as err:
        getattr(decl, lookup)("nope")
    assert err.value.what == what
    text = str(err.value)
    assert f"unknown {what} of ict 'nope'; valid choices: " in text
    choices = {
        "state": decl.state_names,
        "trigger": tuple(t.name for t in decl.triggers),
        "timer": tuple(t.name for t in decl.timers),
    }[lookup]
    assert err.value.choices == choices
    assert text.endswith(", ".join(choices))


def test_declare_is_cached_and_rejects_unknown_names() -> None:
    assert declare("ict") is declare("ict", "rfc6026")
    with pytest.raises(UnknownName, match="valid choices: ict, nict, ist, nist"):
        declare("dialog2")
    with pytest.raises(UnknownName, match="valid choices: rfc6026, rfc3261"):
        declare("ict", "rfc2543")


RULING_CITE = re.compile(r"^RFC \d+ (§[\d.]+|Appendix [A-Z])$")


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("machine", model.MACHINES)
def test_every_ruling_cites_the_rfcs_and_names_states_and_triggers_of_its_machine(
    machine: str, profile: str
) -> None:
    """A ruling (where the RFCs disagree or are silent) is about this machine: the rows it
    decides are (state, trigger) pairs of the declaration -- a declared row, or a pair left
    without one on purpose -- and its states are the declaration's."""
    decl = model.declare(machine, profile)
    triggers = {t.name for t in decl.triggers}
    for ruling in decl.rulings:
        assert ruling.topic and ruling.ruling, ruling
        assert ruling.rfcs and all(RULING_CITE.match(rfc) for rfc in ruling.rfcs), ruling.rfcs
        assert profile in ruling.profiles
        for state, trigger in ruling.rows:
            assert state in decl.state_names, (ruling.topic, state)
            assert trigger in triggers, (ruling.topic, trigger)
        assert set(ruling.states) <= set(decl.state_names), ruling.topic
        assert ruling.rows or ruling.states, ruling.topic
    assert len({r.topic for r in decl.rulings}) == len(decl.rulings)


def test_a_ruling_of_one_profile_is_left_out_of_the_other() -> None:
    topic = "Timer H in RFC 6026 Figure 7"
    assert topic in {r.topic for r in declare("ist", "rfc6026").rulings}
    assert topic not in {r.topic for r in declare("ist", "rfc3261").rulings}
