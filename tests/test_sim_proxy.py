"""Proxies in the simulator (sipfsm/sim/proxy.py, the ``role: proxy`` grammar of
sipfsm/sim/scenario.py, the proxy invariants of sipfsm/sim/invariants.py).

What is checked: a proxy element's settings parse into its location service (q-values,
sequential forking, record-routing, a next-hop proxy); a UA with an outbound proxy sends
its out-of-dialog requests there with the callee's Request-URI and a Contact, and the
callee's dialog requests go straight to that Contact when no proxy record-routes (RFC 3261
§8.1.2, §12.1.1, §12.2.1.1); the invariants of a proxy: a proxy forwards a response only
if it came back on a branch it opened, to the next Via (§16.7 steps 1, 3), answers every
request but ACK with a final response (§16.7 step 9), and may forward several 2xx from
one server transaction (§16.7 step 5) but no other second final response.
"""

from __future__ import annotations

import pytest
from conftest import make_request
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.sim.engine import EventLoop
from sipfsm.sim.invariants import Invariants, InvariantViolation
from sipfsm.sim.proxy import location_of
from sipfsm.sim.recorder import Recorder
from sipfsm.sim.run import library, load, simulate
from sipfsm.sim.scenario import parse
from sipfsm.sim.values import SimResult
from sipfsm.values.message import Request, Response, pop_via, push_via, response_to

FLOW = """
name: proxied
title: t
elements:
  alice: {role: ua, outbound_proxy: p1}
  p1:
    role: proxy
    forking: sequential
    record_route: false
    location:
      bob: [{target: bob, q: 1.0}, {target: carol, q: 0.5}]
  bob: {role: ua}
  carol: {role: ua}
network:
  default: {delay: 0.05}
script:
  alice:
    - {at: 0, send: INVITE, to: bob, offer: true}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 486}
  carol:
    - {on: {request: INVITE, in_dialog: false}, after: 1, respond: 200}
    - {on: {request: ACK}, after: 1, send: BYE, to: alice}
expect:
  - {no_violations: true}
"""


def test_a_proxy_element_parses_into_its_location_service_rfc3261_16_5() -> None:
    sc = parse(FLOW)
    p1 = sc.element("p1")
    assert (p1.role, p1.sequential, p1.record_route) == ("proxy", True, False)
    assert location_of(p1) == {
        "sip:bob@bob.example.com": (
            ("sip:bob@bob.example.com", 1.0),
            ("sip:carol@carol.example.com", 0.5),
        )
    }
    assert sc.element("alice").outbound_proxy == "p1"


def test_sequential_forking_through_the_outbound_proxy_then_direct_rfc3261_16_6() -> None:
    r = simulate(parse(FLOW))
    assert r.passed, (r.violations, r.errors)
    hops = [(w.src, w.dst, getattr(w.message, "method", ""), getattr(w.message, "status", 0))
            for w in r.wire if not w.retransmission]
    invite = next(w.message for w in r.wire if w.src == "alice")
    assert isinstance(invite, Request)
    # §8.1.2: the outbound proxy gets the request; the Request-URI names the callee
    assert (invite.uri, invite.header("Contact")) == (
        "sip:bob@bob.example.com", "<sip:alice@alice.example.com>")
    # §16.6: the 0.5 target is tried only after the 1.0 one failed
    assert hops.index(("p1", "carol", "INVITE", 0)) > hops.index(
        ("bob", "p1", "INVITE", 486))
    # §12.2.1.1: without Record-Route, the ACK and BYE go to the remote target (Contact)
    assert ("alice", "carol", "ACK", 0) in hops
    bye = next(
        w.message for w in r.wire if w.src == "carol" and w.message.summary() == "BYE (CSeq 1)"
    )
    assert isinstance(bye, Request) and bye.uri == "sip:alice@alice.example.com"
    assert ("carol", "alice", "BYE", 0) in hops
    assert r.final_states["alice"]["dialogs"] == {"dialog-1": "morgue"}


INVITE = make_request("INVITE", uri="sip:bob@bob.example.com", call_id="c", from_tag="a",
                      branch="z9hG4bKa1", sent_by="alice.example.com")


def _books() -> Invariants:
    return Invariants(Recorder(EventLoop()), frozenset({"p1"}))


def test_a_response_of_no_branch_of_the_proxy_is_not_forwarded_rfc3261_16_7() -> None:
    inv = _books()
    inv.on_deliver("p1", INVITE)
    out = push_via(INVITE, "p1.example.com", "z9hG4bKp1")
    inv.on_send("p1", "bob", out)
    stray = response_to(push_via(INVITE, "p1.example.com", "z9hG4bKother"), 486, to_tag="b")
    inv.on_deliver("p1", stray)
    inv.on_send("p1", "alice", pop_via(stray))
    assert [v.rule for v in inv.violations] == ["response-without-branch"]
    inv = _books()
    inv.on_deliver("p1", INVITE)
    inv.on_send("p1", "bob", out)
    busy = response_to(out, 486, to_tag="b")
    inv.on_deliver("p1", busy)
    inv.on_send("p1", "carol", pop_via(busy))  # not the element of the next Via
    assert [v.rule for v in inv.violations] == ["response-without-branch"]


def test_a_proxy_answers_every_request_it_receives_rfc3261_16_7() -> None:
    inv = _books()
    inv.on_deliver("p1", INVITE)
    inv.on_send("p1", "alice", response_to(INVITE, 100))
    inv.unanswered()
    assert [v.rule for v in inv.violations] == ["proxy-final-response"]
    inv = _books()
    inv.on_deliver("p1", INVITE)
    inv.on_send("p1", "alice", response_to(INVITE, 480, to_tag="p"), tx="ist-1")
    inv.unanswered()
    assert inv.violations == []


def test_a_proxy_forwards_every_2xx_but_no_other_second_final_rfc3261_16_7() -> None:
    inv = _books()
    inv.on_send("p1", "alice", response_to(INVITE, 200, to_tag="b"), tx="ist-1")
    inv.on_send("p1", "alice", response_to(INVITE, 200, to_tag="c"), tx="ist-1")
    assert inv.violations == []
    inv.on_send("p1", "alice", response_to(INVITE, 486, to_tag="d"), tx="ist-1")
    assert [v.rule for v in inv.violations] == ["one-final-response"]



def test_a_proxy_routes_loosely_or_strictly_as_its_element_says_rfc3261_16_12_1_2() -> None:
    import pytest

    from sipfsm.decl.timers import Timing
    from sipfsm.elements.endpoint import Machines
    from sipfsm.sim.proxy import SimProxy
    from sipfsm.sim.scenario import ScenarioError

    strict = FLOW.replace("record_route: false", "record_route: true\n    routing: strict")
    spec = parse(strict).element("p1")
    assert (spec.record_route, spec.strict_routing) == (True, True)
    assert SimProxy(spec, Machines("rfc6026", Timing())).proxy.strict
    assert not parse(FLOW).element("p1").strict_routing  # loose by default (§16.6 step 4)
    with pytest.raises(ScenarioError, match=r"elements\.p1\.routing: .*loose, strict"):
        parse(FLOW.replace("record_route: false", "routing: sideways"), "bad.yaml")


def test_with_record_routing_the_dialog_requests_pass_the_proxy_rfc3261_16_6_step_4() -> None:
    r = simulate(parse(FLOW.replace("record_route: false", "record_route: true")))
    assert r.passed, (r.violations, r.errors)
    hops = [(w.src, w.dst, getattr(w.message, "method", "")) for w in r.wire
            if not w.retransmission and isinstance(w.message, Request)]
    # the ACK of Carol's 2xx and her BYE go through P1 (the route set, §12.2.1.1)
    assert ("alice", "p1", "ACK") in hops and ("p1", "carol", "ACK") in hops
    assert ("carol", "p1", "BYE") in hops and ("p1", "alice", "BYE") in hops
    assert ("alice", "carol", "ACK") not in hops and ("carol", "alice", "BYE") not in hops


# -- soundness under loss (RFC 3261 §16.7 step 9, RFC 6026 §8.4) --------------------------------

#: The library's flows with a proxy.
PROXY_FLOWS = tuple(
    entry.name for entry in library()
    if any(e.role == "proxy" for e in load(entry.name).elements)
)


def _unanswered_callee(v: InvariantViolation) -> bool:
    """Known, open, and no proxy's doing: every provisional of a callee is lost, so the
    branch's INVITE client transaction times out (Timer B) with none, and may not CANCEL
    (RFC 3261 §9.1: not before a provisional); the callee's INVITE server transaction stays
    in Proceeding, as RFC 3261 §17.2.1 lets it (no timer runs there)."""
    return (
        v.rule == "leaked-transaction"
        and not v.element.startswith("p")
        and v.text.startswith("ist-")
        and "(INVITE (CSeq 1)) in proceeding" in v.text
    )


def _sound(name: str, seed: int, loss: float, profile: str = "rfc6026") -> SimResult:
    result = simulate(name, seed=seed, loss=loss, profile=profile, transport="udp",
                      record=False)
    broken = [v for v in result.violations if not _unanswered_callee(v)]
    assert broken == [], [(v.element, v.rule, v.text) for v in broken]
    assert result.errors == []
    return result


def _cancel_answered_by(proxy: str, result: SimResult) -> None:
    """``proxy`` answered the CANCEL it received with 200 itself (a response context
    matched, §16.10), and forwarded none statelessly."""
    sent = [w for w in result.wire if w.src == proxy]
    assert any(
        isinstance(w.message, Response) and w.message.method == "CANCEL"
        and w.message.status == 200 for w in sent
    )
    downstream = [w.message for w in sent if isinstance(w.message, Request)
                  and w.message.method == "CANCEL"]
    assert all(len(m.vias) == 0 for m in downstream)  # its own CANCELs only (§9.1)


def test_a_cancel_after_the_final_response_finds_the_kept_context_rfc3261_16_7_step_9() -> None:
    # rfc3665-3.8, seed 89, 20% loss: the 180 to Alice is lost, so both proxies' Timer C
    # fires; Proxy 2's context ends (Bob's 487) while Proxy 1's CANCEL is still being
    # retransmitted to it. The context is kept "until all of its associated transactions
    # have been terminated" (§16.7 step 9): the CANCEL finds it and gets 200 (§16.10). It
    # was forwarded statelessly to Bob, whose 481 Proxy 2 then dropped (RFC 6026 §7.3), and
    # Proxy 1's CANCEL never had a final response.
    _cancel_answered_by("p2", _sound("rfc3665-3.8", 89, 0.2))


def test_a_2xx_an_accepted_branch_passes_up_again_is_forwarded_rfc3261_16_7_step_5() -> None:
    # proxy-fork-two-2xx, seed 6, 20% loss, rfc6026: both 200s to Alice are lost; Bob and
    # Carol retransmit them, and the proxy's INVITE client transactions in Accepted pass them
    # up (RFC 6026 §8.4). "Any 2xx response" is forwarded (§16.7 step 5): the proxy dropped
    # them, and Alice's INVITE client transaction stayed in Proceeding for ever.
    result = _sound("proxy-fork-two-2xx", 6, 0.2)
    alice = result.final_states["alice"]
    assert alice["transactions"] == {} and alice["dialog"] == "established"


def test_a_cancel_found_after_the_server_transaction_ended_gets_200_rfc3261_16_10() -> None:
    # rfc3665-3.8, seed 696, 30% loss: Proxy 2's INVITE server transaction ended (Timer I)
    # while its branch's client transaction waited for Timer D; Proxy 1's CANCEL, lost until
    # then, found no server transaction and was forwarded statelessly, its 481 dropped (RFC
    # 6026 §7.3). The context is still there (§16.7 step 9): it answers the CANCEL 200.
    _cancel_answered_by("p2", _sound("rfc3665-3.8", 696, 0.3))


def test_a_stateless_forward_is_no_second_final_of_a_server_transaction_rfc3261_16_7() -> None:
    # rfc3665-3.10, seed 188, 30% loss, rfc3261: Proxy 1's own Timer B made it answer 408;
    # Proxy 2's 408, retransmitted later, matches no client transaction and is forwarded
    # statelessly (RFC 3261 §16.7 paragraph 1; RFC 6026 §7.3 drops it). No server transaction
    # sent it: the one-final-response invariant does not count it.
    _sound("rfc3665-3.10", 188, 0.3, "rfc3261")


@pytest.mark.xfail(
    strict=True,
    reason="known, open: every 180 of Bob's is lost, Proxy 2's branch times out (Timer B) "
    "with no provisional and may not CANCEL (RFC 3261 §9.1); Bob's INVITE server "
    "transaction stays in Proceeding, as RFC 3261 §17.2.1 lets it",
)
def test_a_callee_whose_every_provisional_was_lost_is_never_cancelled() -> None:
    result = simulate("rfc3665-3.8", seed=47, loss=0.3, record=False)
    assert result.violations == []


# derandomized and bounded: the same examples every run, so CI stays deterministic
@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    name=st.sampled_from(PROXY_FLOWS),
    seed=st.integers(0, 2**32),
    loss=st.floats(0.05, 0.3),
    profile=st.sampled_from(["rfc6026", "rfc3261"]),
)
def test_the_proxy_flows_under_loss_break_no_invariant_rfc3261_16_7(
    name: str, seed: int, loss: float, profile: str
) -> None:
    _sound(name, seed, loss, profile)
