"""Analyses (sipfsm.render.analysis): reachability, timer-bounded cycles, where a code can arise,
and the profile diff."""

from __future__ import annotations

import pytest
from test_graph import MACHINES, ORPHAN, hostile_decl

from sipfsm.decl.language import (
    PROFILES,
    TRANSPORTS,
    ActionDecl,
    MachineDecl,
    StateDecl,
    Transition,
    Trigger,
)
from sipfsm.decl.timers import TIMERS
from sipfsm.render import analysis


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_state_of_the_real_machines_is_reachable_and_can_end(
    machine: str, profile: str, transport: str
) -> None:
    assert analysis.unreachable(machine, profile, transport) == ()
    assert analysis.cannot_reach_terminal(machine, profile, transport) == ()


def test_a_planted_unreachable_state_is_found() -> None:
    decl = hostile_decl(with_orphan=True)
    assert analysis.unreachable(decl) == (ORPHAN,)
    assert analysis.cannot_reach_terminal(decl) == (ORPHAN,)
    assert analysis.unreachable(hostile_decl()) == ()


def _loop(runs_in_b: tuple[str, ...]) -> MachineDecl:
    """a <-> b on messages; Timer F runs in a (and in b when ``runs_in_b``) and ends it."""
    triggers = (
        Trigger("tu_request", "tu_request", "Request from TU"),
        Trigger("rcv_1xx", "response_received", "1xx", status=(100, 199)),
        Trigger("rcv_final", "response_received", "200-699", status=(200, 699)),
        Trigger("timer_f", "timer", "Timer F fires", timer="F"),
    )
    rows = [
        Transition("a", "rcv_1xx", "b", rfc="test"),
        Transition("b", "rcv_final", "a", rfc="test"),
        Transition("a", "timer_f", "end", rfc="test"),
    ]
    if runs_in_b:
        rows.append(Transition("b", "timer_f", "end", rfc="test"))
    return MachineDecl(
        id="loop",
        title="loop",
        rfc="test",
        profile="rfc6026",
        figure="",
        states=(
            StateDecl("a", "", "", timers=("F",)),
            StateDecl("b", "", "", timers=runs_in_b),
            StateDecl("end", "", "", terminal=True),
        ),
        triggers=triggers,
        timers=(TIMERS["F"],),
        creations=(Transition("", "tu_request", "a", rfc="test"),),
        transitions=tuple(rows),
    )


def test_a_cycle_is_bounded_by_a_timer_that_runs_throughout_and_leads_out() -> None:
    (cycle,) = analysis.cycles(_loop(("F",)))
    assert cycle.states == ("a", "b")
    assert cycle.bounded_by == ("F",)


def test_a_cycle_through_a_state_without_the_timer_is_unbounded() -> None:
    # leaving b for a restarts F on every round: nothing ends the ping-pong
    (cycle,) = analysis.unbounded_cycles(_loop(()))
    assert cycle.states == ("a", "b")
    assert cycle.bounded_by == ()


def test_a_timer_that_resets_itself_on_the_loop_bounds_nothing() -> None:
    decl = _loop(("F",))
    rows = (
        *decl.transitions,
        Transition("b", "rcv_1xx", "b", (ActionDecl("restart_timer", "F", "64*T1"),), "test"),
    )
    restarted = MachineDecl(
        decl.id,
        decl.title,
        decl.rfc,
        decl.profile,
        decl.figure,
        decl.states,
        decl.triggers,
        decl.timers,
        decl.creations,
        rows,
    )
    by_states = {c.states: c for c in analysis.cycles(restarted)}
    assert by_states[("b",)].bounded_by == ()
    assert by_states[("a", "b")].bounded_by == ("F",)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ict_calling_loop_is_bounded_by_timer_b_rfc3261_17_1_1_2(transport: str) -> None:
    cycles = {c.states: c for c in analysis.cycles("ict", "rfc6026", transport)}
    assert cycles[("calling",)].bounded_by == ("B",)  # Timer A resets itself: no bound
    assert cycles[("completed",)].bounded_by == ("D",)
    assert cycles[("accepted",)].bounded_by == ("M",)


def test_ict_timer_a_loop_is_not_a_cycle_on_tcp_where_a_never_runs() -> None:
    udp = {c.states: c.triggers for c in analysis.cycles("ict", "rfc6026", "udp")}
    tcp = {c.states: c.triggers for c in analysis.cycles("ict", "rfc6026", "tcp")}
    assert "timer_a" in udp[("calling",)]
    assert "timer_a" not in tcp[("calling",)]


def test_server_transactions_wait_for_the_tu_without_a_timer_rfc3261_17_2() -> None:
    # RFC 3261 §17.2.1: an IST in Proceeding waits for the TU's final response (a proxy's
    # Timer C, §16.6, is outside the transaction); §17.2.2: so does a NIST in Trying and
    # Proceeding. The NICT has Timer F everywhere (§17.1.2.2).
    assert [c.states for c in analysis.unbounded_cycles("ist")] == [("proceeding",)]
    assert [c.states for c in analysis.unbounded_cycles("nist")] == [("trying",), ("proceeding",)]
    assert analysis.unbounded_cycles("nict") == ()
    ist = {c.states: c for c in analysis.cycles("ist")}
    assert ist[("completed",)].bounded_by == ("H",)
    assert ist[("confirmed",)].bounded_by == ("I",)


# -- where a code can arise ------------------------------------------------------------------


def test_where_481_can_arise_in_the_server_transactions() -> None:
    ist = analysis.where(481, "ist")
    assert [s.state for s in ist.states] == ["proceeding"]
    assert [(e.source, e.trigger, e.dest) for e in ist.edges] == [
        ("proceeding", "tu_3xx_6xx", "completed")
    ]
    nist = analysis.where(481, "nist", "rfc6026", "tcp")
    assert [s.state for s in nist.states] == ["trying", "proceeding"]
    assert [(e.source, e.dest) for e in nist.edges] == [
        ("trying", "completed"),
        ("proceeding", "completed"),
    ]
    rfcs = {o.rfc for s in nist.states for o in s.outcomes}
    assert {"RFC 3261 §15.1.2", "RFC 3261 §9.2"} <= rfcs
    assert "481 in nist (rfc6026, tcp):" in nist.as_text()


def test_where_408_lists_the_forbidden_nist_states_apart_rfc4320_4_2() -> None:
    sites = analysis.where(408, "nist")
    assert sites.states == () and sites.edges == ()
    assert [s.state for s in sites.forbidden] == ["trying", "proceeding"]
    assert "forbidden in trying: never send 408" in sites.as_text()


def test_where_everywhere_answers_where_can_481_happen() -> None:
    found = analysis.where_everywhere(481)
    assert set(found) == set(MACHINES)
    assert all(found[m].found for m in ("ict", "nict", "ist", "nist"))
    assert found["ict"].as_json()["states"][0]["outcomes"][0]["code"] == 481


def test_a_code_outside_100_699_is_a_clear_error() -> None:
    with pytest.raises(analysis.AnalysisError, match="not a SIP response code"):
        analysis.where(99, "ist")
    with pytest.raises(analysis.AnalysisError):
        analysis.where(True, "ist")


def test_analyze_reports_everything_as_text_and_json() -> None:
    report = analysis.analyze("ist", "rfc6026", "udp")
    text = report.as_text()
    assert "unreachable states: none" in text
    assert "proceeding -> proceeding" in text and "no timer bounds it" in text
    data = report.as_json()
    assert data["unbounded_cycles"] == [["proceeding"]]
    assert "481" in data["codes"]


# -- profile diff ----------------------------------------------------------------------------


def test_ict_diff_rfc3261_to_rfc6026_adds_accepted_and_moves_the_2xx_edges_rfc6026_8_4() -> None:
    d = analysis.diff("ict", "rfc3261", "rfc6026")
    assert d.states_added == ("accepted",)
    assert d.states_removed == ()
    assert ("calling", "rcv_2xx", "accepted", "") in d.edges_added
    assert ("proceeding", "rcv_2xx", "accepted", "") in d.edges_added
    assert ("accepted", "timer_m", "terminated", "") in d.edges_added
    assert set(d.edges_removed) == {
        ("calling", "rcv_2xx", "terminated", ""),
        ("proceeding", "rcv_2xx", "terminated", ""),
    }
    text = d.as_text()
    assert "+ state accepted" in text
    assert "- edge calling --rcv_2xx--> terminated" in text
    back = analysis.diff("ict", "rfc6026", "rfc3261")
    assert back.states_removed == ("accepted",)
    assert set(back.edges_added) == set(d.edges_removed)


def test_nist_diff_shows_the_rfc4320_guards() -> None:
    d = analysis.diff("nist", "rfc3261", "rfc6026")
    assert ("trying", "tu_1xx", "proceeding", "status == 100") in d.edges_added
    assert ("trying", "tu_1xx", "proceeding", "") in d.edges_removed
    assert d.as_json()["states_added"] == []


def test_a_machine_has_no_diff_with_itself() -> None:
    d = analysis.diff("nict", "rfc6026", "rfc6026")
    assert d.empty
    assert d.as_text().endswith("no difference")
