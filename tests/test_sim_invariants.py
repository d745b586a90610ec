"""The invariants checked in every run (sipfsm.sim.invariants).

What is checked, feeding the books the messages of RFC 5407 §3.3.1 directly: a second,
different final response from one server transaction is a violation, a retransmitted one
(or a 2xx sent again) is not (RFC 3261 §17.2.1, §13.3.1.4); a 487 to a CANCEL is
(§21.4.25); a 491 is a violation unless the sender has a re-INVITE/UPDATE pending or an
offer in a 2xx awaiting the ACK, and its retransmissions are judged with it (§14.2, RFC
3311 §5.2); a message from a terminated transaction is (§17); a transaction alive at the
end is a leak. In runs: a never-answered request leaks, a scenario may expect a violation
(and then passes), and the record of a violation names the rule and its section.
"""

from __future__ import annotations

from conftest import make_request

from sipfsm.sim.engine import EventLoop
from sipfsm.sim.invariants import INVARIANTS, Invariants
from sipfsm.sim.recorder import Recorder
from sipfsm.sim.run import simulate
from sipfsm.sim.scenario import parse
from sipfsm.values.frozen import replace
from sipfsm.values.message import response_to

CALL = "3848276298220188511@atlanta.example.com"
INVITE = make_request(
    "INVITE",
    call_id=CALL,
    from_tag="9fxced76sl",
    branch="z9hG4bK74bf9",
    sent_by="alice",
    body="v=0",
)
REINVITE_A = make_request(
    "INVITE",
    call_id=CALL,
    cseq=2,
    from_tag="9fxced76sl",
    to_tag="832",
    branch="z9hG4bK74bf91",
    sent_by="alice",
    body="v=0",
)
REINVITE_B = make_request(
    "INVITE",
    call_id=CALL,
    cseq=1,
    from_tag="832",
    to_tag="9fxced76sl",
    branch="z9hG4bKnashd7",
    sent_by="bob",
)


def books() -> Invariants:
    return Invariants(Recorder(EventLoop()))


def rules(inv: Invariants) -> list[str]:
    return [v.rule for v in inv.violations]


def test_one_final_response_per_server_transaction_rfc3261_17_2_1() -> None:
    inv = books()
    busy = response_to(INVITE, 486, to_tag="832")
    inv.on_send("bob", "alice", busy, tx="ist-1")
    inv.on_send("bob", "alice", busy, tx="ist-1")  # a retransmission (Timer G)
    assert rules(inv) == []
    inv.on_send("bob", "alice", response_to(INVITE, 603, to_tag="832"), tx="ist-1")
    assert rules(inv) == ["one-final-response"]
    assert "603 Decline (INVITE) sent to alice after 486 Busy Here" in inv.violations[0].text


def test_a_2xx_sent_again_is_a_retransmission_not_a_second_final_rfc3261_13_3_1_4() -> None:
    inv = books()
    ok = response_to(INVITE, 200, to_tag="832", body="v=0")
    inv.on_send("bob", "alice", ok, tx="ist-1")
    inv.on_send("bob", "alice", replace(ok), tx="ist-1")  # equal, rebuilt by the UAS core
    assert rules(inv) == []


def test_another_transaction_for_the_same_request_is_judged_on_its_own() -> None:
    """Under the original RFC 3261 the INVITE server transaction ends with the 2xx; a
    retransmitted request makes a new one, whose answer is its own first final."""
    inv = books()
    inv.on_send("bob", "alice", response_to(REINVITE_A, 200, body="v=0"), tx="ist-2")
    inv.on_send("bob", "alice", response_to(REINVITE_A, 500), tx="ist-3")
    assert rules(inv) == []


def test_never_487_to_a_cancel_rfc3261_21_4_25() -> None:
    inv = books()
    cancel = replace(INVITE, method="CANCEL", body="")
    inv.on_send("bob", "alice", response_to(cancel, 200), tx="nist-2")
    assert rules(inv) == []
    inv.on_send("bob", "alice", response_to(cancel, 487), tx="nist-3")
    assert rules(inv) == ["no-487-to-cancel"]
    assert inv.violations[0].rfc == "RFC 3261 §21.4.25"


def test_491_while_our_reinvite_is_pending_is_fine_rfc3261_14_2() -> None:
    inv = books()
    inv.on_send("alice", "bob", REINVITE_A, tx="ict-2")  # alice's re-INVITE is pending
    inv.on_send("alice", "bob", response_to(REINVITE_B, 491), tx="ist-3")
    assert rules(inv) == []


def test_491_with_nothing_pending_is_a_violation_and_retransmissions_are_not_rejudged() -> None:
    inv = books()
    inv.on_send("alice", "bob", REINVITE_A, tx="ict-2")
    inv.on_deliver("alice", response_to(REINVITE_A, 200, body="v=0"))  # answered: not pending
    refused = response_to(REINVITE_B, 491)
    inv.on_send("alice", "bob", refused, tx="ist-3")
    assert rules(inv) == ["491-without-pending"]
    inv.on_send("alice", "bob", refused, tx="ist-3")  # its retransmission: judged once
    assert rules(inv) == ["491-without-pending"]


def test_491_while_our_offer_in_a_2xx_awaits_the_ack_rfc5407_3_1_5() -> None:
    inv = books()
    no_offer = replace(INVITE, body="")
    inv.on_deliver("bob", no_offer)
    inv.on_send(
        "bob", "alice", response_to(no_offer, 200, to_tag="832", body="v=0"), tx="ist-1"
    )  # bob's offer is in the 2xx
    reinvite = replace(REINVITE_A, branch="z9hG4bKx")
    inv.on_send("bob", "alice", response_to(reinvite, 491), tx="ist-2")
    assert rules(inv) == []
    inv.on_deliver("bob", make_request("ACK", call_id=CALL, cseq=1, body="v=0"))  # the answer
    inv.on_send(
        "bob", "alice", response_to(replace(reinvite, cseq=3, branch="z9hG4bKy"), 491), tx="ist-3"
    )
    assert rules(inv) == ["491-without-pending"]


def test_the_ack_of_a_non_2xx_to_the_same_cseq_does_not_answer_the_offer_rfc3261_17_1_1_3() -> (
    None
):
    # under rfc3261 a duplicated re-INVITE reaching the callee after its 2xx is a new request
    # (RFC 6026 §3): its 500 is ACKed with the INVITE's branch, and that ACK carries no
    # answer to the offer in the 2xx, whose own ACK has a branch of its own (§13.2.2.4)
    inv = books()
    no_offer = replace(REINVITE_A, body="")
    inv.on_deliver("bob", no_offer)
    inv.on_send("bob", "alice", response_to(no_offer, 200, body="v=0"), tx="ist-2")
    inv.on_deliver("bob", no_offer)  # the duplicate, answered 500
    inv.on_send("bob", "alice", response_to(no_offer, 500), tx="ist-3")
    inv.on_deliver(
        "bob", make_request("ACK", call_id=CALL, cseq=2, branch=no_offer.branch, sent_by="alice")
    )
    update = make_request("UPDATE", call_id=CALL, cseq=3, branch="z9hG4bKu", body="v=0")
    inv.on_send("bob", "alice", response_to(update, 491), tx="nist-3")
    assert rules(inv) == []  # bob's offer is still unanswered: 491 (RFC 3311 §5.2)


def test_no_message_from_a_terminated_transaction_rfc3261_17() -> None:
    inv = books()
    inv.on_send("alice", "bob", INVITE, terminated=True, tx="ict-1")
    assert rules(inv) == ["send-after-terminated"]


def test_a_transaction_alive_at_the_end_is_a_leak() -> None:
    inv = books()
    inv.leaked("bob", ["ist-1 (INVITE (CSeq 1)) in proceeding"])
    assert rules(inv) == ["leaked-transaction"]
    assert (
        inv.violations[0].text == "ist-1 (INVITE (CSeq 1)) in proceeding had not ended "
        "when the run ended"
    )


def test_a_violation_is_recorded_with_its_rule_and_section() -> None:
    inv = books()
    inv.leaked("bob", ["nist-1"])
    (record,) = inv.recorder.records
    assert (record.kind, record.element, record.rfc) == (
        "violation",
        "bob",
        INVARIANTS["leaked-transaction"][0],
    )
    assert record.text.startswith("leaked-transaction: ")


NEVER = """\
name: never-answered
title: an INVITE nobody answers
transports: [udp]
elements: {alice: {}, bob: {}}
script:
  alice:
    - {at: 0, send: INVITE}
"""


def test_an_initial_invite_nobody_answers_leaks_both_transactions() -> None:
    r = simulate(parse(NEVER, "n.yaml"))
    leaks = sorted((v.element, v.text.split(" ")[0]) for v in r.violations)
    assert leaks == [("alice", "ict-1"), ("bob", "ist-1")]  # 100 Trying stopped Timer B
    assert not r.passed


def test_a_scenario_may_expect_a_violation_and_then_passes() -> None:
    r = simulate(parse(NEVER + "expect:\n  - {violation: leaked-transaction}\n", "n.yaml"))
    assert r.passed
    assert [(e.text, e.passed) for e in r.expectations] == [
        ("the invariant leaked-transaction is violated", True)
    ]
    r = simulate(parse(NEVER + "expect:\n  - {no_violations: true}\n", "n.yaml"))
    assert not r.passed
