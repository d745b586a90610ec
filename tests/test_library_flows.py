"""The built-in library's RFC 3665 and 4xx flows (sipfsm/sim/library/rfc3665-*.yaml and
4xx-*.yaml), run through the simulator.

What is checked: every one of these scenarios passes (its own expectations, no invariant
broken, no step refused) under both engines, for each transport and profile it lists, and
both engines give the same trace; and each flow's key messages, read from the `SimResult`
directly: RFC 3665 §3.1 (F1-F6) and §3.7 (a re-INVITE in the confirmed dialog, answered
and ACKed, then BYE); 481 to a BYE for an unknown dialog and to a CANCEL that matches no
transaction; 200 to a CANCEL that crosses the final response, with no effect; 200 to a
CANCEL during ringing, then 487 to the INVITE and its ACK; 486, 480 (with Retry-After),
405 (Allow), 415 (Accept), 420 (Unsupported) and 423 (Min-Expires), each rejection
carrying the header fields the 4xx catalogue requires; Timer B firing at 64*T1 and the TU
seeing 408 when nobody answers; Timer G backing off (0.5, 1, 2, 4, 4 ... s) until Timer H
when the ACK is lost; and an INVITE retransmission after the 2xx, absorbed by the Accepted
state under RFC 6026 and handed to the UA core (which recognises it) under RFC 3261.

Expected values come from the RFC text (T1 = 0.5 s and T2 = 4 s, RFC 3261 §17.1.1.1 and
Table 4, are the scenarios' defaults; each test checks the scenario still uses them).
"""

from __future__ import annotations

import itertools

import pytest

from sipfsm.sim.recorder import WireMessage
from sipfsm.sim.run import SimResult, simulate
from sipfsm.sim.scenario import load
from sipfsm.sim.trace import TraceRecord
from sipfsm.values.catalogue import missing_headers
from sipfsm.values.message import Request, Response

#: RFC 3261 §17.1.1.1 and Table 4: the defaults every scenario here runs with.
T1 = 0.5
T2 = 4.0

MINE = (
    "rfc3665-3.7",
    "4xx-481-bye-unknown-dialog",
    "4xx-481-cancel-no-transaction",
    "4xx-cancel-after-final-response",
    "4xx-487-cancel-during-ringing",
    "4xx-480-retry-after",
    "4xx-405-allow",
    "4xx-415-accept",
    "4xx-420-unsupported",
    "4xx-423-min-expires",
    "4xx-408-no-answer-timer-b",
    "4xx-lost-ack-timer-g-h",
    "4xx-6026-accepted-absorbs-retransmission",
    "4xx-3261-retransmission-after-2xx",
)
#: the flows through proxies (RFC 3261 §16)
PROXIED = ("rfc3665-3.8", "rfc3665-3.9", "rfc3665-3.10", "rfc3665-3.11")
FLOWS = ("rfc3665-3.1", "4xx-486-busy", *MINE, *PROXIED)
ENGINES = ("table", "transitions")


def _combos() -> list[tuple[str, str, str]]:
    """(scenario, transport, profile) for every transport and profile a scenario lists."""
    out: list[tuple[str, str, str]] = []
    for name in FLOWS:
        sc = load(name)
        out.extend((name, t, p) for t in sc.transports for p in sc.profiles)
    return out


COMBOS = _combos()


def run(name: str, transport: str | None = None, profile: str | None = None) -> SimResult:
    sc = load(name)
    assert (sc.t1, sc.t2) == (T1, T2)
    r = simulate(name, transport=transport, profile=profile)
    assert r.passed, (
        [(e.text, e.detail) for e in r.expectations if not e.passed],
        r.violations,
        r.errors,
    )
    return r


def transports(name: str) -> tuple[str, ...]:
    return load(name).transports


def summaries(r: SimResult, *, retransmissions: bool = False) -> list[tuple[str, str, str]]:
    """(src, dst, message) of every message put on the wire, in order."""
    return [
        (w.src, w.dst, w.message.summary())
        for w in r.wire
        if retransmissions or not w.retransmission
    ]


def sent(r: SimResult, src: str, summary: str) -> list[WireMessage]:
    """Every copy of the message ``summary`` that ``src`` put on the wire."""
    return [w for w in r.wire if w.src == src and w.message.summary() == summary]


def response(r: SimResult, status: int) -> Response:
    """The first response with ``status`` on the wire."""
    found = next(w.message for w in r.wire if getattr(w.message, "status", 0) == status)
    assert isinstance(found, Response)
    return found


def responses(r: SimResult, src: str, status: int | tuple[int, int], method: str) -> list[Response]:
    """The responses (first copies only) ``src`` sent with ``status`` (a code or an
    inclusive range) to ``method``."""
    low, high = (status, status) if isinstance(status, int) else status
    return [
        w.message
        for w in r.wire
        if w.src == src
        and not w.retransmission
        and isinstance(w.message, Response)
        and low <= w.message.status <= high
        and w.message.cseq_method == method
    ]


def request(r: SimResult, src: str, method: str) -> Request:
    """The first ``method`` request ``src`` put on the wire."""
    found = next(
        w.message
        for w in r.wire
        if w.src == src and isinstance(w.message, Request) and w.message.method == method
    )
    assert isinstance(found, Request)
    return found


def states(r: SimResult, element: str, tx: str) -> list[tuple[str, str, str]]:
    """(before, after, event) of every step of transaction ``tx`` at ``element``."""
    return [
        (x.state_before, x.state_after, x.text)
        for x in r.records
        if x.kind == "state" and x.element == element and x.tx == tx
    ]


def outcomes(r: SimResult, element: str) -> list[TraceRecord]:
    return [x for x in r.records if x.kind == "outcome" and x.element == element]


def server_transactions(r: SimResult, element: str) -> set[str]:
    return {
        x.tx
        for x in r.records
        if x.kind == "state" and x.element == element and x.tx.startswith(("ist", "nist"))
    }


def dialogs(r: SimResult, element: str) -> dict[str, str]:
    found: dict[str, str] = r.final_states[element]["dialogs"]
    return found


# -- every flow passes under both engines ------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "transport", "profile"), COMBOS)
def test_library_flow_passes_under_each_engine_transport_and_profile(
    name: str, transport: str, profile: str, engine: str
) -> None:
    r = simulate(name, transport=transport, profile=profile, engine=engine)
    assert r.passed, (
        [(e.text, e.detail) for e in r.expectations if not e.passed],
        r.violations,
        r.errors,
    )
    assert r.violations == [] and r.errors == []
    assert all(e.passed for e in r.expectations)
    assert "no invariant violated" in [e.text for e in r.expectations]


@pytest.mark.parametrize("loss", [None, 0.3])
@pytest.mark.parametrize(("name", "transport", "profile"), COMBOS)
def test_library_flow_gives_the_same_trace_with_both_engines(
    name: str, transport: str, profile: str, loss: float | None
) -> None:
    """Also with messages lost at random (UDP), where the flows take other paths."""
    table = simulate(name, transport=transport, profile=profile, seed=3, loss=loss)
    other = simulate(
        name, transport=transport, profile=profile, seed=3, loss=loss, engine="transitions"
    )
    assert list(table.trace_lines()) == list(other.trace_lines())
    assert table.violations == other.violations == []
    assert table.errors == other.errors == []


#: the flows whose dialogs follow a route set through record-routing proxies (RFC 3261
#: §12.2.1.1, §16.12); under loss they meet what proxies do not yet handle under loss (a
#: 2xx retransmission, a non-INVITE whose branch timed out), so only the engines' agreement
#: is asked of them there
ROUTED = ("rfc3665-3.2", "rfc3261-16.12.1.2")
ROUTED_COMBOS = [
    (name, t, p) for name in ROUTED for t in load(name).transports for p in load(name).profiles
]


@pytest.mark.parametrize(("name", "transport", "profile"), ROUTED_COMBOS)
def test_dialog_requests_follow_the_route_set_under_both_engines_rfc3261_12_2_1_1(
    name: str, transport: str, profile: str
) -> None:
    for engine in ENGINES:
        r = simulate(name, transport=transport, profile=profile, engine=engine)
        assert r.passed, ([e.text for e in r.expectations if not e.passed], r.violations)
        assert r.violations == [] and r.errors == []
    lossy = [
        simulate(name, transport=transport, profile=profile, seed=3, loss=0.3, engine=engine)
        for engine in ENGINES
    ]
    assert list(lossy[0].trace_lines()) == list(lossy[1].trace_lines())


def test_no_request_of_a_record_routed_dialog_bypasses_a_proxy_rfc3261_16_6_step_4() -> None:
    r = simulate("rfc3261-16.12.1.2")
    uas = {"alice", "bob"}
    in_dialog = [w for w in r.wire if isinstance(w.message, Request) and w.message.to_tag]
    assert {w.message.method for w in in_dialog} == {"ACK", "BYE"}
    # every hop of every request in the dialog has a proxy at one end at least
    assert all(not {w.src, w.dst} <= uas for w in in_dialog)
    # and each of the four proxies saw the ACK and the BYE
    for proxy in ("p1", "p2", "p3", "p4"):
        assert {w.message.method for w in in_dialog if w.dst == proxy} == {"ACK", "BYE"}


def test_every_library_flow_lists_udp_and_only_the_timer_flows_leave_out_tcp() -> None:
    udp_only = {
        name
        for name in FLOWS
        if transports(name) == ("udp",)  # Timers A/G retransmissions exist only on UDP
    }
    assert udp_only == {
        "4xx-lost-ack-timer-g-h",
        "4xx-6026-accepted-absorbs-retransmission",
        "4xx-3261-retransmission-after-2xx",
        "rfc3665-3.10",  # the INVITE retransmitted to a silent UA (RFC 3665 §3.10)
    }
    assert all("udp" in transports(name) for name in FLOWS)


# -- RFC 3665 -------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", transports("rfc3665-3.1"))
def test_rfc3665_3_1_is_f1_to_f6_and_the_ua_core_acks_the_2xx_rfc3261_13_2_2_4(
    transport: str,
) -> None:
    r = run("rfc3665-3.1", transport)
    assert summaries(r) == [
        ("alice", "bob", "INVITE (CSeq 1)"),  # F1
        ("bob", "alice", "180 Ringing (INVITE)"),  # F2
        ("bob", "alice", "200 OK (INVITE)"),  # F3
        ("alice", "bob", "ACK (CSeq 1)"),  # F4
        ("bob", "alice", "BYE (CSeq 1)"),  # F5
        ("alice", "bob", "200 OK (BYE)"),  # F6
    ]
    invite, ack = request(r, "alice", "INVITE"), request(r, "alice", "ACK")
    assert ack.branch != invite.branch  # the ACK of a 2xx is its own transaction (§17.1.1.3)
    assert dialogs(r, "alice") == dialogs(r, "bob") == {"dialog-1": "morgue"}


@pytest.mark.parametrize("transport", transports("rfc3665-3.7"))
def test_rfc3665_3_7_reinvite_in_the_confirmed_dialog_is_answered_and_acked_rfc3261_14_1(
    transport: str,
) -> None:
    r = run("rfc3665-3.7", transport)
    assert summaries(r) == [
        ("alice", "bob", "INVITE (CSeq 1)"),  # F1
        ("bob", "alice", "180 Ringing (INVITE)"),  # F4/F5
        ("bob", "alice", "200 OK (INVITE)"),  # F6/F7
        ("alice", "bob", "ACK (CSeq 1)"),  # F8
        ("bob", "alice", "INVITE (CSeq 1)"),  # F9: Bob's first request in the dialog
        ("alice", "bob", "200 OK (INVITE)"),  # F10
        ("bob", "alice", "ACK (CSeq 1)"),  # F11
        ("alice", "bob", "BYE (CSeq 2)"),  # F12
        ("bob", "alice", "200 OK (BYE)"),  # F13
    ]
    initial, reinvite = request(r, "alice", "INVITE"), request(r, "bob", "INVITE")
    ok_initial = responses(r, "bob", 200, "INVITE")[0]
    ok_reinvite = responses(r, "alice", 200, "INVITE")[0]
    # F9 is in the dialog: the tags swapped, the same Call-ID, a new Contact and a new offer
    assert reinvite.call_id == initial.call_id
    assert (reinvite.from_tag, reinvite.to_tag) == (ok_initial.to_tag, initial.from_tag)
    assert reinvite.header("Contact") == "<sip:bob@client.chicago.example.com>"
    assert reinvite.body and initial.body and ok_initial.body
    assert ok_reinvite.body  # F10 carries Alice's answer (RFC 3261 §14.2)
    # F11 is Bob's UA core's ACK of the 2xx: a new branch, the re-INVITE's CSeq (§13.2.2.4)
    ack = request(r, "bob", "ACK")
    assert (ack.cseq, ack.to_tag) == (reinvite.cseq, reinvite.to_tag)
    assert ack.branch != reinvite.branch
    assert not any(getattr(w.message, "status", 0) >= 300 for w in r.wire)
    assert dialogs(r, "alice") == dialogs(r, "bob") == {"dialog-1": "morgue"}


# -- 481 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", transports("4xx-481-bye-unknown-dialog"))
def test_4xx_bye_for_an_unknown_dialog_gets_481_rfc3261_12_2_2(transport: str) -> None:
    r = run("4xx-481-bye-unknown-dialog", transport)
    assert summaries(r) == [
        ("alice", "bob", "BYE (CSeq 1)"),
        ("bob", "alice", "481 Call/Transaction Does Not Exist (BYE)"),
    ]
    bye = request(r, "alice", "BYE")
    assert bye.to_tag == "bob-tag99"
    assert response(r, 481).to_tag == "bob-tag99"  # the To of the request, as it came
    assert [(o.code, o.rfc) for o in outcomes(r, "bob")] == [(481, "RFC 3261 §15.1.2")]
    assert dialogs(r, "alice") == dialogs(r, "bob") == {}


@pytest.mark.parametrize("transport", transports("4xx-481-cancel-no-transaction"))
def test_4xx_cancel_matching_no_transaction_gets_481_rfc3261_9_2(transport: str) -> None:
    r = run("4xx-481-cancel-no-transaction", transport)
    assert summaries(r) == [
        ("alice", "bob", "CANCEL (CSeq 1)"),
        ("bob", "alice", "481 Call/Transaction Does Not Exist (CANCEL)"),
    ]
    assert [(o.code, o.rfc) for o in outcomes(r, "bob")] == [(481, "RFC 3261 §9.2")]
    assert server_transactions(r, "bob") == {"nist-1"}  # the CANCEL's own, nothing else
    assert dialogs(r, "alice") == dialogs(r, "bob") == {}


# -- CANCEL ---------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", transports("4xx-cancel-after-final-response"))
def test_4xx_cancel_after_the_final_response_gets_200_and_has_no_effect_rfc3261_9_2(
    transport: str,
) -> None:
    r = run("4xx-cancel-after-final-response", transport)
    assert summaries(r) == [
        ("alice", "bob", "INVITE (CSeq 1)"),
        ("bob", "alice", "100 Trying (INVITE)"),
        ("bob", "alice", "486 Busy Here (INVITE)"),
        ("alice", "bob", "CANCEL (CSeq 1)"),  # sent before the 486 arrived
        ("alice", "bob", "ACK (CSeq 1)"),
        ("bob", "alice", "200 OK (CANCEL)"),
    ]
    invite, cancel = request(r, "alice", "INVITE"), request(r, "alice", "CANCEL")
    assert (cancel.branch, cancel.call_id, cancel.cseq) == (
        invite.branch,
        invite.call_id,
        invite.cseq,
    )  # RFC 3261 §9.1: the CANCEL names the INVITE's transaction
    # the CANCEL matched a live INVITE transaction that already had its final response: 200,
    # and no second final response to the INVITE (no 487)
    finals = [m.summary() for m in responses(r, "bob", (200, 699), "INVITE")]
    assert finals == ["486 Busy Here (INVITE)"]
    assert states(r, "bob", "ist-1") == [
        ("", "proceeding", "RequestReceived(INVITE)"),
        ("proceeding", "proceeding", "TimerFired(Trying)"),
        ("proceeding", "completed", "TUResponse(486 INVITE)"),
        ("completed", "confirmed", "RequestReceived(ACK)"),
        ("confirmed", "terminated", "TimerFired(I)"),
    ]


@pytest.mark.parametrize("transport", transports("4xx-487-cancel-during-ringing"))
def test_4xx_cancel_during_ringing_gets_200_then_487_and_ack_rfc3261_9_2(transport: str) -> None:
    r = run("4xx-487-cancel-during-ringing", transport)
    assert summaries(r) == [
        ("alice", "bob", "INVITE (CSeq 1)"),
        ("bob", "alice", "180 Ringing (INVITE)"),
        ("alice", "bob", "CANCEL (CSeq 1)"),
        ("bob", "alice", "200 OK (CANCEL)"),
        ("bob", "alice", "487 Request Terminated (INVITE)"),
        ("alice", "bob", "ACK (CSeq 1)"),
    ]
    invite, cancel = request(r, "alice", "INVITE"), request(r, "alice", "CANCEL")
    ack = request(r, "alice", "ACK")
    assert cancel.branch == invite.branch  # §9.1
    assert ack.branch == invite.branch  # the ACK of a 487 is the INVITE's (§17.1.1.3)
    ringing, terminated = response(r, 180), response(r, 487)
    assert terminated.to_tag == ringing.to_tag == ack.to_tag  # one early dialog (§12.1.1)
    # the CANCEL waited 3 s after the 180 arrived, as scripted
    t_180 = next(x.t for x in r.records if x.kind == "deliver" and x.dst == "alice")
    assert sent(r, "alice", "CANCEL (CSeq 1)")[0].t == pytest.approx(t_180 + 3.0)
    assert [o.code for o in outcomes(r, "bob") if o.machine == "ist"] == [487]
    assert dialogs(r, "alice") == dialogs(r, "bob") == {"dialog-1": "morgue"}


# -- rejections with the header fields the catalogue requires --------------------------------


REJECTIONS = {
    "4xx-486-busy": 486,
    "4xx-480-retry-after": 480,
    "4xx-405-allow": 405,
    "4xx-415-accept": 415,
    "4xx-420-unsupported": 420,
    "4xx-423-min-expires": 423,
}


@pytest.mark.parametrize(("name", "code"), sorted(REJECTIONS.items()))
def test_4xx_rejections_carry_the_header_fields_the_catalogue_requires_rfc3261_21_4(
    name: str, code: int
) -> None:
    for transport in transports(name):
        r = run(name, transport)
        rejections = [w.message for w in r.wire if getattr(w.message, "status", 0) >= 400]
        assert [m.summary().split(" ")[0] for m in rejections] == [str(code)]
        headers = [n for n, _ in rejections[0].headers]
        assert missing_headers(code, headers) == []


@pytest.mark.parametrize("transport", transports("4xx-486-busy"))
def test_4xx_486_busy_is_acked_by_the_invite_transaction_rfc3261_17_1_1_3(transport: str) -> None:
    r = run("4xx-486-busy", transport)
    assert summaries(r) == [
        ("alice", "bob", "INVITE (CSeq 1)"),
        ("bob", "alice", "100 Trying (INVITE)"),
        ("bob", "alice", "486 Busy Here (INVITE)"),
        ("alice", "bob", "ACK (CSeq 1)"),
    ]
    assert request(r, "alice", "ACK").branch == request(r, "alice", "INVITE").branch


@pytest.mark.parametrize("transport", transports("4xx-480-retry-after"))
def test_4xx_480_carries_retry_after_and_is_acked_rfc3261_21_4_18(transport: str) -> None:
    r = run("4xx-480-retry-after", transport)
    assert summaries(r) == [
        ("alice", "bob", "INVITE (CSeq 1)"),
        ("bob", "alice", "180 Ringing (INVITE)"),
        ("bob", "alice", "480 Temporarily Unavailable (INVITE)"),
        ("alice", "bob", "ACK (CSeq 1)"),
    ]
    assert response(r, 480).header("Retry-After") == "3600"
    assert request(r, "alice", "ACK").branch == request(r, "alice", "INVITE").branch
    assert dialogs(r, "alice") == dialogs(r, "bob") == {"dialog-1": "morgue"}


@pytest.mark.parametrize("transport", transports("4xx-405-allow"))
def test_4xx_405_carries_allow_without_the_refused_method_rfc3261_21_4_6(transport: str) -> None:
    r = run("4xx-405-allow", transport)
    assert summaries(r) == [
        ("alice", "bob", "REGISTER (CSeq 1)"),
        ("bob", "alice", "405 Method Not Allowed (REGISTER)"),
    ]
    allow = response(r, 405).header("Allow")
    assert allow is not None
    methods = [m.strip() for m in allow.split(",")]
    assert "INVITE" in methods and "REGISTER" not in methods
    assert dialogs(r, "alice") == dialogs(r, "bob") == {}


@pytest.mark.parametrize("transport", transports("4xx-415-accept"))
def test_4xx_415_carries_accept_and_is_acked_rfc3261_21_4_13(transport: str) -> None:
    r = run("4xx-415-accept", transport)
    assert summaries(r) == [
        ("alice", "bob", "INVITE (CSeq 1)"),
        ("bob", "alice", "415 Unsupported Media Type (INVITE)"),
        ("alice", "bob", "ACK (CSeq 1)"),
    ]
    invite = request(r, "alice", "INVITE")
    accept = response(r, 415).header("Accept")
    assert accept == "application/sdp"
    assert invite.header("Content-Type") not in (None, accept)
    assert dialogs(r, "alice") == dialogs(r, "bob") == {"dialog-1": "morgue"}


@pytest.mark.parametrize("transport", transports("4xx-420-unsupported"))
def test_4xx_420_lists_the_required_extension_in_unsupported_rfc3261_8_2_2_3(
    transport: str,
) -> None:
    r = run("4xx-420-unsupported", transport)
    assert summaries(r) == [
        ("alice", "bob", "INVITE (CSeq 1)"),
        ("bob", "alice", "420 Bad Extension (INVITE)"),
        ("alice", "bob", "ACK (CSeq 1)"),
    ]
    assert request(r, "alice", "INVITE").header("Require") == "100rel"
    assert response(r, 420).header("Unsupported") == "100rel"
    assert dialogs(r, "alice") == dialogs(r, "bob") == {"dialog-1": "morgue"}


@pytest.mark.parametrize("transport", transports("4xx-423-min-expires"))
def test_4xx_423_on_register_carries_min_expires_above_the_request_rfc3261_10_3(
    transport: str,
) -> None:
    r = run("4xx-423-min-expires", transport)
    assert summaries(r) == [
        ("alice", "bob", "REGISTER (CSeq 1)"),
        ("bob", "alice", "423 Interval Too Brief (REGISTER)"),
    ]
    asked = request(r, "alice", "REGISTER").header("Expires")
    minimum = response(r, 423).header("Min-Expires")
    assert asked is not None and minimum is not None
    assert int(minimum) > int(asked)
    assert dialogs(r, "alice") == dialogs(r, "bob") == {}


# -- timers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", transports("4xx-408-no-answer-timer-b"))
def test_4xx_no_answer_timer_b_fires_at_64_t1_and_the_tu_sees_408_rfc3261_17_1_1_2(
    transport: str,
) -> None:
    r = run("4xx-408-no-answer-timer-b", transport)
    invites = sent(r, "alice", "INVITE (CSeq 1)")
    assert all(w.lost for w in invites)
    assert all(w.src == "alice" for w in r.wire)  # nothing ever comes back
    if transport == "udp":  # Timer A: T1, doubling, while in Calling (§17.1.1.2)
        assert [w.t for w in invites] == pytest.approx([0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5])
    else:  # a reliable transport does not retransmit
        assert [w.t for w in invites] == [0]
    timer_b = 64 * T1
    assert timer_b == 32.0
    fired = [x for x in r.records if x.kind == "timer" and x.element == "alice"]
    assert [round(x.t, 6) for x in fired if x.timer == "B"] == [timer_b]
    assert ("calling", "terminated", "TimerFired(B)") in states(r, "alice", "ict-1")
    # the TU is told of the timeout and treats it as 408 (RFC 3261 §8.1.3.1)
    told = [
        (round(x.t, 6), x.text)
        for x in r.records
        if x.kind == "tu" and x.element == "alice" and "timeout" in x.text
    ]
    assert told == [(timer_b, "ict-1: timeout (INVITE)")]
    assert [(o.code, round(o.t, 6), o.rfc) for o in outcomes(r, "alice") if o.machine == "ict"] == [
        (408, timer_b, "RFC 3261 §8.1.3.1")
    ]
    assert not any(getattr(w.message, "status", 0) == 408 for w in r.wire)
    assert dialogs(r, "alice") == {"dialog-1": "morgue"}
    assert dialogs(r, "bob") == {}


def test_4xx_lost_ack_timer_g_backs_off_to_t2_then_timer_h_ends_rfc3261_17_2_1() -> None:
    r = run("4xx-lost-ack-timer-g-h", "udp")
    copies = sent(r, "bob", "486 Busy Here (INVITE)")
    first = copies[0].t
    assert [w.retransmission for w in copies] == [False] + [True] * (len(copies) - 1)
    gaps = [b.t - a.t for a, b in itertools.pairwise(copies)]
    # T1, doubling up to T2, for as long as Timer H (64*T1) has not fired
    assert gaps == pytest.approx([0.5, 1, 2, 4, 4, 4, 4, 4, 4, 4])
    assert gaps[:4] == pytest.approx([T1, 2 * T1, 4 * T1, T2])
    timer_h = round(first + 64 * T1, 6)
    assert copies[-1].t < timer_h < copies[-1].t + T2
    steps = [x for x in r.records if x.kind == "state" and x.element == "bob" and x.tx == "ist-1"]
    ends = [(round(x.t, 6), x.state_before, x.text) for x in steps if x.state_after == "terminated"]
    assert ends == [(timer_h, "completed", "TimerFired(H)")]
    # Completed throughout: the ACK never came (no Confirmed), and H tells the TU
    assert all(after != "confirmed" for _, after, _ in states(r, "bob", "ist-1"))
    assert [(o.code, round(o.t, 6)) for o in outcomes(r, "bob")] == [(408, timer_h)]
    assert not any(w.src == "bob" and w.t > timer_h for w in r.wire)
    # Alice ACKs every copy again (§17.1.1.2); every ACK is lost
    acks = sent(r, "alice", "ACK (CSeq 1)")
    assert len(acks) == len(copies) == 11 and all(w.lost for w in acks)
    assert all(w.message.branch == request(r, "alice", "INVITE").branch for w in acks)


# -- RFC 6026 vs RFC 3261: an INVITE retransmission after the 2xx -----------------------------


def test_4xx_6026_accepted_absorbs_the_invite_retransmission_rfc6026_8_7() -> None:
    r = run("4xx-6026-accepted-absorbs-retransmission", "udp")
    assert r.profile == "rfc6026"
    retransmitted = [w for w in sent(r, "alice", "INVITE (CSeq 1)") if w.retransmission]
    assert [w.t for w in retransmitted] == pytest.approx([T1])  # Timer A, still Calling
    assert states(r, "bob", "ist-1") == [
        ("", "proceeding", "RequestReceived(INVITE)"),
        ("proceeding", "accepted", "TUResponse(200 INVITE)"),
        ("accepted", "accepted", "RequestReceived(INVITE)"),  # absorbed, nothing sent
        ("accepted", "terminated", "TimerFired(L)"),
    ]
    absorbed = next(
        x for x in r.records if x.tx == "ist-1" and x.state_before == x.state_after == "accepted"
    )
    assert absorbed.actions == ()
    assert server_transactions(r, "bob") == {"ist-1"}
    assert not any(x.kind == "discard" for x in r.records)
    assert dialogs(r, "alice") == dialogs(r, "bob") == {"dialog-1": "established"}


def test_4xx_3261_invite_retransmission_after_2xx_reaches_the_core_rfc3261_17_2_3() -> None:
    r = run("4xx-3261-retransmission-after-2xx", "udp")
    assert r.profile == "rfc3261"
    # the INVITE server transaction ended with the 2xx (RFC 3261 §17.2.1, Figure 7) ...
    assert states(r, "bob", "ist-1") == [
        ("", "proceeding", "RequestReceived(INVITE)"),
        ("proceeding", "terminated", "TUResponse(200 INVITE)"),
    ]
    # ... so the retransmission reaches the UA core, which recognises the initial INVITE
    # again (RFC 5407 §3.1.1) instead of starting a new transaction or call
    retransmitted = next(w for w in sent(r, "alice", "INVITE (CSeq 1)") if w.retransmission)
    discards = [x for x in r.records if x.kind == "discard" and x.element == "bob"]
    arrival = round(retransmitted.t + 0.05, 6)  # the link's delay
    assert [(round(x.t, 6), x.rfc) for x in discards] == [(arrival, "RFC 5407 §3.1.1")]
    assert server_transactions(r, "bob") == {"ist-1"}
    assert dialogs(r, "alice") == dialogs(r, "bob") == {"dialog-1": "established"}


def test_4xx_6026_and_3261_differ_inside_bob_not_on_the_wire_rfc6026_8_7() -> None:
    accepted = run("4xx-6026-accepted-absorbs-retransmission", "udp")
    original = run("4xx-3261-retransmission-after-2xx", "udp")
    assert (
        summaries(accepted, retransmissions=True)
        == summaries(original, retransmissions=True)
        == [
            ("alice", "bob", "INVITE (CSeq 1)"),
            ("bob", "alice", "200 OK (INVITE)"),  # lost
            ("alice", "bob", "INVITE (CSeq 1)"),  # Timer A
            ("bob", "alice", "200 OK (INVITE)"),  # the UA core's retransmission (§13.3.1.4)
            ("alice", "bob", "ACK (CSeq 1)"),
        ]
    )
    assert [w.lost for w in accepted.wire] == [False, True, False, False, False]
