"""The graph of each machine (sipfsm.render.graph): a node per declared state, an edge per row,
attributes read from the declaration and the transport's timer values.

`hostile_decl` builds a small nested machine by hand whose every name, label and guard
text carries quotes, angle brackets, ampersands, newlines, braces and backslashes; the
render and export tests import it to check that nothing breaks the DOT, SVG or SCXML.
"""

from __future__ import annotations

from typing import Any

import pytest

from sipfsm.decl.language import (
    PROFILES,
    TRANSPORTS,
    ActionDecl,
    Guard,
    MachineDecl,
    Outcome,
    StateDecl,
    TimerDecl,
    Transition,
    Trigger,
)
from sipfsm.decl.timers import TIMERS
from sipfsm.engine import model
from sipfsm.render import graph as sg

TRANSACTIONS = ("ict", "nict", "ist", "nist")
MACHINES = sg.available_machines()
DIALOG_MISSING = "dialog" not in MACHINES
skip_no_dialog = pytest.mark.skipif(
    DIALOG_MISSING, reason="sipfsm/machines/dialog/ is not there yet (written by another helper)"
)

# -- a machine built by hand, with hostile names ---------------------------------------------

NASTY = '"q" <b>&amp; {x} \\ \n \x01 \x7f'
IDLE = 'idle "quoted" <tag> & {brace} \\'
PARENT = "{parent}\nline two"
CHILD = "<child> & 'one'"
OTHER = 'back\\slash\\" </state> \x01'
END = "end ]]> <!-- -->"
ORPHAN = "orphan <never reached>"
TIMER = 'Z"&<'


def _status(event: Any) -> int:
    return int(event.message.status)


HOSTILE_GUARD = Guard(
    'g"1 <x>',
    'status == 100 & "quoted" <x> {y} \\',
    "RFC 0000 §1",
    lambda _ctx, ev: _status(ev) == 100,
)
HOSTILE_NOT = Guard(
    "g&2\n", "status != 100 </cond>", "RFC 0000 §2", lambda _ctx, ev: _status(ev) != 100
)


def hostile_decl(with_orphan: bool = False, timer: str = TIMER) -> MachineDecl:
    """A nested machine whose names, labels and guard texts are all hostile. ``timer`` is its
    retransmission timer (the runtime runs only the timers of `sipfsm.decl.timers.TIMERS`, so
    the lockstep test of sipfsm.render.export passes ``"E"``)."""
    states = [
        StateDecl(
            IDLE,
            "the start " + NASTY,
            "RFC 0000 §0",
            timers=(timer, "B"),
            outcomes=(Outcome(481, "send", "when " + NASTY, 'RFC <0> §"1"', "rcv<1>\n"),),
        ),
        StateDecl(
            PARENT,
            "a parent " + NASTY,
            "RFC 0000 §3",
            outcomes=(Outcome(487, "receive", "when <x>", "RFC 0000 §4", "cancel{}"),),
        ),
        StateDecl(CHILD, "a child", "RFC 0000 §5", parent=PARENT, timers=("B",)),
        StateDecl(OTHER, "another child", "RFC 0000 §6", parent=PARENT),
        StateDecl(
            END,
            "the end",
            "RFC 0000 §7",
            terminal=True,
            on_enter=(ActionDecl("to_tu", 'done "<now>" & \\'),),
        ),
    ]
    if with_orphan:
        states.append(StateDecl(ORPHAN, "planted: no row enters it", "RFC 0000 §8"))
    triggers = (
        Trigger('new "x"', "tu_request", 'Create <it> & "go"'),
        Trigger("rcv<1>\n", "response_received", '1xx "prov"\n{}', status=(100, 199)),
        Trigger("rcv_final", "response_received", "200-699 <final> &", status=(200, 699)),
        Trigger("cancel{}", "tu_cancel", "CANCEL \\ from TU"),
        Trigger("timer Z", "timer", 'Timer "Z" fires', timer=timer),
        Trigger("timer_b", "timer", "Timer B fires", timer="B"),
    )
    timers = (
        TIMERS.get(
            timer, TimerDecl(timer, "T1", None, 'retransmit <"Z">', "RFC 0000 §9", cap="T2")
        ),
        TIMERS["B"],
    )
    rows = [
        Transition(
            IDLE,
            "timer Z",
            IDLE,
            (ActionDecl("send_request"), ActionDecl("backoff_timer", timer)),
            "RFC 0000 §10",
            note='self "loop" <z>',
        ),
        Transition(
            IDLE,
            "rcv<1>\n",
            CHILD,
            (ActionDecl("to_tu", "response"),),
            "RFC 0000 §11",
            guards=(HOSTILE_GUARD,),
        ),
        Transition(
            IDLE,
            "rcv<1>\n",
            PARENT,
            (ActionDecl("to_tu", '"<resp>"'),),
            "RFC 0000 §12",
            guards=(HOSTILE_NOT,),
        ),
        Transition(IDLE, "timer_b", END, (ActionDecl("to_tu", "timeout"),), "RFC 0000 §13"),
        Transition(
            PARENT,
            "cancel{}",
            END,
            (ActionDecl("to_tu", "cancelled & <gone>"),),
            "RFC 0000 §14",
            note="a row of the parent: every child has it",
        ),
        Transition(PARENT, "rcv<1>\n", OTHER, (), "RFC 0000 §15"),
        Transition(CHILD, "rcv<1>\n", CHILD, (ActionDecl("to_tu", "response"),), "RFC 0000 §16"),
        Transition(CHILD, "rcv_final", OTHER, (), "RFC 0000 §17"),
        Transition(CHILD, "timer_b", END, (), "RFC 0000 §18"),
        Transition(OTHER, "rcv_final", END, (ActionDecl("to_tu", "response"),), "RFC 0000 §19"),
    ]
    return MachineDecl(
        id='hostile "<m>"',
        title='a <hostile> & "quoted" machine\n{}',
        rfc="RFC 0000 §0 \\",
        profile="rfc6026",
        figure="",
        states=tuple(states),
        triggers=triggers,
        timers=timers,
        creations=(Transition("", 'new "x"', IDLE, (ActionDecl("send_request"),), "RFC 0000 §0"),),
        transitions=tuple(rows),
    )


# -- one node per state, one edge per row ------------------------------------------------


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_graph_has_a_node_per_declared_state_and_an_edge_per_row(
    machine: str, profile: str, transport: str
) -> None:
    decl = model.declare(machine, profile)
    g = sg.build(machine, profile, transport)
    assert sg.states(g) == list(decl.state_names)
    assert set(g.nodes) == {sg.START, *decl.state_names}
    rows = [*decl.creations, *decl.transitions]
    assert [attrs["row"] for _u, _v, _k, attrs in sg.edges(g)] == rows
    assert g.number_of_edges() == len(rows)
    for u, v, _k, attrs in sg.edges(g):
        assert (u, v) == (attrs["row"].source, attrs["row"].dest)


def test_creation_rows_are_edges_from_the_start_pseudo_node() -> None:
    g = sg.build("ict")
    (start_edge,) = [(v, a["trigger"]) for u, v, _k, a in sg.edges(g) if u == sg.START]
    assert start_edge == ("calling", "tu_request")
    assert g.nodes[sg.START]["kind"] == "start"


def test_graph_nodes_carry_initial_terminal_parent_and_outcomes() -> None:
    g = sg.build("ist")
    assert g.nodes["proceeding"]["initial"] is True
    assert g.nodes["completed"]["initial"] is False
    assert g.nodes["terminated"]["terminal"] is True
    assert g.nodes["proceeding"]["parent"] is None
    codes = {o.code for o in g.nodes["proceeding"]["outcomes"]}
    assert {481, 487, 491} <= codes
    rfcs = {(o.code, o.rfc) for o in g.nodes["proceeding"]["outcomes"]}
    assert (487, "RFC 3261 §9.2") in rfcs


def test_state_timers_carry_their_durations_on_the_transport_rfc3261_table_4() -> None:
    udp = sg.build("ict", "rfc6026", "udp")
    tcp = sg.build("ict", "rfc6026", "tcp")
    assert udp.nodes["calling"]["timers"] == (("A", 0.5), ("B", 32.0))
    assert tcp.nodes["calling"]["timers"] == (("B", 32.0),)
    assert tcp.nodes["calling"]["stopped_timers"] == ("A",)
    assert udp.nodes["completed"]["timers"] == (("D", 32.0),)
    assert tcp.nodes["completed"]["timers"] == (("D", 0.0),)
    assert udp.graph["timers"]["A"] == 0.5
    assert tcp.graph["timers"]["A"] is None


def _edge(g: Any, source: str, trigger: str, dest: str) -> dict[str, Any]:
    (found,) = [a for u, v, _k, a in sg.edges(g) if (u, a["trigger"], v) == (source, trigger, dest)]
    return found


def test_edges_carry_trigger_label_guard_actions_and_rfc() -> None:
    g = sg.build("ict", "rfc6026", "udp")
    row = _edge(g, "calling", "timer_a", "calling")
    assert row["trigger_label"] == "Timer A fires"
    assert row["actions"] == ("send request", "reset Timer A (doubled)")
    assert row["rfc"] == "RFC 3261 §17.1.1.2"
    assert row["internal"] is True
    guarded = [
        a
        for u, v, _k, a in sg.edges(g)
        if (u, a["trigger"], v) == ("calling", "rcv_1xx", "proceeding")
    ]
    assert [a["guard"] for a in guarded] == ["CANCEL requested", "no CANCEL requested"]
    assert guarded[0]["guards"] == ("cancel_requested",)
    assert guarded[0]["note"] == "a CANCEL held back in Calling may now be sent"


def test_timer_a_reset_is_left_out_on_tcp_rfc3261_17_1_1_2() -> None:
    udp = _edge(sg.build("ict", "rfc6026", "udp"), "calling", "timer_a", "calling")
    tcp = _edge(sg.build("ict", "rfc6026", "tcp"), "calling", "timer_a", "calling")
    assert udp["actions"] == ("send request", "reset Timer A (doubled)")
    assert tcp["actions"] == ("send request",)
    assert udp["live"] is True
    assert tcp["live"] is False


def test_timer_g_and_e_resets_are_left_out_on_tcp_rfc3261_17_2_1_and_17_1_2_2() -> None:
    assert _edge(sg.build("ist", "rfc6026", "tcp"), "completed", "timer_g", "completed")[
        "actions"
    ] == ("resend last response",)
    assert _edge(sg.build("nict", "rfc6026", "tcp"), "proceeding", "timer_e", "proceeding")[
        "actions"
    ] == ("send request",)


def test_edge_outcomes_come_from_the_source_states_outcome_triggers() -> None:
    g = sg.build("ist")
    assert set(_edge(g, "proceeding", "tu_3xx_6xx", "completed")["outcomes"]) >= {487, 491, 481}
    assert _edge(g, "proceeding", "tu_1xx", "proceeding")["outcomes"] == ()
    nist = sg.build("nist")
    final = _edge(nist, "trying", "tu_final", "completed")
    assert set(final["outcomes"]) >= {481, 487, 491}
    assert 408 not in final["outcomes"]  # RFC 4320 §4.2: never a 408 to a non-INVITE
    assert set(final["forbidden"]) >= {408, 487}
    ict = sg.build("ict")
    assert 408 in _edge(ict, "calling", "timer_b", "terminated")["outcomes"]


def test_nist_figure_does_not_differ_by_transport_but_ict_does() -> None:
    assert not sg.differs_by_transport("nist", "rfc6026")
    assert sg.differs_by_transport("ict", "rfc6026")  # Timer A
    assert sg.differs_by_transport("nict", "rfc6026")  # Timer E
    assert sg.differs_by_transport("ist", "rfc3261")  # Timer G


def test_two_builds_give_equal_graphs() -> None:
    for machine in MACHINES:
        a, b = sg.build(machine), sg.build(machine)
        assert sg.signature(a) == sg.signature(b)
        assert list(a.nodes(data=True)) == list(b.nodes(data=True))


def test_bad_machine_profile_or_transport_is_a_clear_error() -> None:
    from sipfsm.values.errors import UnknownName

    with pytest.raises(UnknownName, match="valid choices: ict, nict"):
        sg.build("nope")
    with pytest.raises(UnknownName, match="profile"):
        sg.build("ict", "rfc9999")
    with pytest.raises(UnknownName, match="transport"):
        sg.build("ict", "rfc6026", "sctp")


def test_hostile_declaration_builds_a_graph_with_its_nesting() -> None:
    decl = hostile_decl()
    g = sg.from_decl(decl, "udp")
    assert sg.states(g) == list(decl.state_names)
    assert sg.children(g, PARENT) == [CHILD, OTHER]
    assert g.nodes[IDLE]["timers"] == ((TIMER, 0.5), ("B", 32.0))
    assert sg.from_decl(decl, "tcp").nodes[IDLE]["timers"] == (("B", 32.0),)
    assert g.number_of_edges() == len(decl.transitions) + 1


@skip_no_dialog
def test_dialog_graph_nests_its_states() -> None:
    g = sg.build("dialog")
    parents = {g.nodes[n]["parent"] for n in sg.states(g)} - {None}
    assert parents, "the dialog declares nested states (RFC 5407 §2)"
