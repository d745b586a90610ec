"""The user agent (sipfsm.sim.ua): the UA core duties RFC 3261 gives it, on top of the
declared machines it is built from.

What is checked, each in a small scenario and by the messages on the wire: the UAC core
ACKs every 2xx with the INVITE's CSeq number, a new branch and an answer when the 2xx
carried the offer, and sends that same ACK for each retransmitted 2xx (§13.2.2.4); the UAS
core retransmits a 2xx at T1, 2*T1 ... capped at T2, over UDP and TCP alike, until the ACK
or 64*T1, and then ends the session with a BYE (§13.3.1.4, RFC 6026 §8.1); a CANCEL waits
for a provisional response (§9.1), gets 200 and makes the INVITE end with 487 whose ACK
belongs to the INVITE (§9.2, §17.1.1.3), and has no effect after the final response; a
response matching no transaction goes to the core under RFC 3261 and is dropped under RFC
6026 (§18.1.2, RFC 6026 §8.9); an INVITE retransmission after the 2xx is absorbed by
Accepted (RFC 6026) or recognised by the dialog (RFC 5407 §3.1.1); requests for unknown
dialogs and transactions get 481 (§15.1.2, §9.2, §12.2.2); a 4xx carries the header fields
the catalogue requires; the callee's BYE before the ACK is refused as a script error with
the step's place (§15), but a BYE the dialog advises is held until the ACK; an early
dialog the callee must end is ended with a final response to the INVITE (§15); Timer B
tells the TU (§17.1.1.2); the §14.1 retry can be switched off.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from conftest import make_request

from sipfsm.decl.timers import Timing
from sipfsm.sim.element import Context
from sipfsm.sim.engine import EventLoop
from sipfsm.sim.invariants import Invariants
from sipfsm.sim.network import Network
from sipfsm.sim.recorder import Recorder, WireMessage
from sipfsm.sim.run import SimResult, simulate
from sipfsm.sim.scenario import ElementSpec, NetworkSpec, parse
from sipfsm.sim.ua import Machines, UserAgent
from sipfsm.values.message import Request, Response, response_to


def run(text: str, **options: object) -> SimResult:
    header = "name: t\ntitle: t\nelements: {alice: {}, bob: {}}\n"
    return simulate(parse(header + text, "t.yaml"), **options)  # type: ignore[arg-type]


def wire(r: SimResult, what: str) -> list[WireMessage]:
    """The messages on the wire whose summary starts with ``what``."""
    return [w for w in r.wire if w.message.summary().startswith(what)]


def times(r: SimResult, what: str) -> list[float]:
    return [round(w.t, 6) for w in wire(r, what)]


CALL = """\
network: {default: {delay: 0.05}}
script:
  alice:
    - {at: 0, send: INVITE}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 200}
"""
NO_ACK = CALL.replace(
    "network: {default: {delay: 0.05}}",
    "network:\n  default: {delay: 0.05, drop: [{match: {request: ACK}, every: true}]}\n"
    "  drops_on_tcp: true",
)


def test_the_uac_core_acks_a_2xx_with_the_invites_cseq_and_a_new_branch_rfc3261_13_2_2_4() -> None:
    r = run(CALL)
    (invite,) = [w.message for w in wire(r, "INVITE")]
    (ok,) = [w.message for w in wire(r, "200 OK (INVITE)")]
    (ack,) = [w.message for w in wire(r, "ACK")]
    assert isinstance(ack, Request) and isinstance(ok, Response)
    assert (ack.cseq, ack.call_id, ack.from_tag, ack.to_tag) == (
        invite.cseq,
        invite.call_id,
        invite.from_tag,
        ok.to_tag,
    )
    assert ack.branch != invite.branch  # not part of the INVITE's transaction
    assert ok.body and not invite.body  # the offer is in the 2xx ...
    assert ack.body  # ... so the ACK MUST carry the answer
    assert r.passed or not r.expectations


def test_each_retransmitted_2xx_gets_the_same_ack_again_rfc3261_13_2_2_4() -> None:
    r = run(NO_ACK, transport="udp")
    acks = wire(r, "ACK")
    oks = wire(r, "200 OK (INVITE)")
    assert len(acks) == len(oks) > 5
    assert all(a.message == acks[0].message for a in acks)
    assert [a.retransmission for a in acks] == [False] + [True] * (len(acks) - 1)


def test_the_uas_core_retransmits_the_2xx_t1_doubling_to_t2_until_64_t1_rfc3261_13_3_1_4() -> None:
    for transport in ("udp", "tcp"):  # "independent of whatever transport" (RFC 6026 §8.1)
        for profile in ("rfc6026", "rfc3261"):
            r = run(NO_ACK, transport=transport, profile=profile)
            sent = times(r, "200 OK (INVITE)")
            t0 = sent[0]
            gaps = [round(b - a, 6) for a, b in itertools.pairwise(sent)]
            assert gaps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0], (transport, profile)
            # no ACK after 64*T1: the session SHOULD be terminated with a BYE
            (bye,) = wire(r, "BYE")
            assert (bye.src, round(bye.t - t0, 6)) == ("bob", 32.0)
            assert r.violations == [] and r.errors == []


def test_the_ack_stops_the_2xx_retransmissions_rfc3261_13_3_1_4() -> None:
    r = run(CALL.replace("delay: 0.05", "delay: 0.3"))
    assert times(r, "200 OK (INVITE)") == [0.3, 0.8]  # the ACK is back at 0.9
    assert [w.retransmission for w in wire(r, "ACK")] == [False, True]
    assert wire(r, "BYE") == []


CANCEL = """\
network: {default: {delay: 0.05}}
script:
  alice:
    - {at: 0, send: INVITE, offer: true}
    - {at: WHEN, send: CANCEL}
  bob:
    - {on: {request: INVITE, in_dialog: false}, after: 1, respond: 180}
    - {on: {request: INVITE, in_dialog: false}, after: 2, respond: 200}
"""


def test_a_cancel_waits_for_a_provisional_response_rfc3261_9_1() -> None:
    r = run(CANCEL.replace("WHEN", "0.1"))
    # the 100 Trying goes out 200 ms after the INVITE arrived and reaches alice at 0.3
    assert times(r, "100 Trying") == [0.25]
    assert times(r, "CANCEL") == [0.3]


def test_a_cancel_during_ringing_gets_200_and_the_invite_487_acked_rfc3261_9_2() -> None:
    r = run(CANCEL.replace("WHEN", "1.5"))
    assert [(w.src, w.message.summary()) for w in r.wire if w.t >= 1.5] == [
        ("alice", "CANCEL (CSeq 1)"),
        ("bob", "200 OK (CANCEL)"),
        ("bob", "487 Request Terminated (INVITE)"),
        ("alice", "ACK (CSeq 1)"),
    ]
    (invite,) = [w.message for w in wire(r, "INVITE")]
    (ack,) = [w.message for w in wire(r, "ACK")]
    assert ack.branch == invite.branch  # the ACK of a 3xx-6xx is the INVITE's (§17.1.1.3)
    assert r.final_states["bob"]["dialog"] == "morgue"
    assert r.violations == [] and r.errors == []


def test_a_cancel_crossing_the_final_response_has_no_effect_rfc3261_9_2() -> None:
    r = run(CANCEL.replace("WHEN", "2.06").replace("delay: 0.05", "delay: 0.1"))
    assert [w.message.summary() for w in r.wire if w.src == "bob" and w.t > 2] == [
        "200 OK (INVITE)",
        "200 OK (CANCEL)",
    ]
    assert wire(r, "487") == []
    assert r.final_states["alice"]["dialog"] == "established"


def ua(profile: str) -> tuple[UserAgent, Context, Recorder]:
    """One UA with a real context, to hand it messages directly."""
    loop = EventLoop()
    recorder = Recorder(loop)
    inv = Invariants(recorder)
    agent = UserAgent(ElementSpec("alice"), (), Machines(profile, Timing(), "table"))
    net = Network(NetworkSpec(), ("alice", "bob"), loop, recorder, inv, lambda *a: None)
    ctx = Context(agent, loop, net, recorder, inv)
    agent.start(ctx)
    return agent, ctx, recorder


def test_a_stray_response_is_dropped_under_rfc6026_and_goes_to_the_core_under_rfc3261() -> None:
    stray = response_to(make_request("BYE", from_tag="x", branch="z9hG4bKnone"), 200)
    agent, ctx, rec = ua("rfc6026")
    agent.receive(ctx, stray, "bob")
    (record,) = rec.records
    assert (record.kind, record.rfc) == ("discard", "RFC 6026 §8.9")
    agent, ctx, rec = ua("rfc3261")
    agent.receive(ctx, stray, "bob")
    (record,) = rec.records
    assert (record.kind, record.rfc) == ("discard", "RFC 3261 §18.1.2")
    assert "matches no transaction and no dialog" in record.text


RETX = """\
transports: [udp]
network:
  default: {delay: 0.3}
  links: [{from: bob, to: alice, delay: 0.3, drop: [{match: {status: 200}, nth: 1}]}]
script:
  alice:
    - {at: 0, send: INVITE, offer: true}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 200}
"""


def test_an_invite_retransmission_after_the_2xx_is_absorbed_by_accepted_rfc6026_8_7() -> None:
    r = run(RETX, profile="rfc6026")
    assert [w.retransmission for w in wire(r, "INVITE")] == [False, True]
    absorbed = [
        x
        for x in r.records
        if x.kind == "state"
        and x.machine == "ist"
        and x.text == "RequestReceived(INVITE)"
        and x.state_before == "accepted"
    ]
    assert [(x.state_after, x.actions) for x in absorbed] == [("accepted", ())]
    assert not any(x.kind == "discard" for x in r.records)
    assert r.passed or r.violations == []


def test_an_invite_retransmission_after_the_2xx_is_new_under_rfc3261_rfc5407_3_1_1() -> None:
    r = run(RETX, profile="rfc3261")
    (discard,) = [x for x in r.records if x.kind == "discard"]
    assert discard.element == "bob" and discard.rfc == "RFC 5407 §3.1.1"
    assert "initial INVITE again" in discard.text
    assert r.violations == [] and r.errors == []
    assert r.final_states["bob"]["dialog"] == "established"


UNKNOWN = """\
script:
  alice:
    - {at: 0, send: BYE, out_of_dialog: true, to_tag: gone}
    - {at: 1, send: CANCEL, out_of_dialog: true}
    - {at: 2, send: INVITE, out_of_dialog: true, to_tag: gone}
"""


def test_requests_for_unknown_dialogs_and_transactions_get_481() -> None:
    r = run(UNKNOWN)
    answers = [w.message.summary() for w in r.wire if w.src == "bob"]
    assert answers == [
        "481 Call/Transaction Does Not Exist (BYE)",  # RFC 3261 §15.1.2
        "481 Call/Transaction Does Not Exist (CANCEL)",  # §9.2
        "481 Call/Transaction Does Not Exist (INVITE)",  # §12.2.2
    ]
    assert r.violations == [] and r.errors == []


HEADERS = """\
script:
  alice:
    - {at: 0, send: OPTIONS}
    - {at: 1, send: MESSAGE, headers: {Require: foo}}
    - {at: 2, send: REGISTER}
    - {at: 3, send: INFO, out_of_dialog: true}
  bob:
    - {on: {request: OPTIONS}, respond: 405}
    - {on: {request: MESSAGE}, respond: 420}
    - {on: {request: REGISTER}, respond: 423}
    - {on: {request: INFO}, respond: 415, omit_required: true}
"""


def test_a_4xx_carries_the_header_fields_the_catalogue_requires() -> None:
    r = run(HEADERS)
    got = {w.message.cseq_method: dict(w.message.headers) for w in r.wire if w.src == "bob"}
    assert set(got["OPTIONS"]) == {"Allow"}
    assert got["MESSAGE"] == {"Unsupported": "foo"}  # the extension the request required
    assert set(got["REGISTER"]) == {"Min-Expires"}
    assert got["INFO"] == {}  # omit_required: for negative tests


def test_a_refused_step_is_an_error_with_its_place_and_the_run_goes_on_rfc3261_15() -> None:
    r = run("""\
network: {default: {delay: 0.5}}
script:
  alice:
    - {at: 0, send: INVITE}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 200}
    - {on: {request: INVITE, in_dialog: false}, after: 0.1, send: BYE}
    - {at: 30, send: OPTIONS}
""")
    (error,) = r.errors
    assert error.element == "bob" and error.where == "script.bob[1] (line 10)"
    assert "guard failed" in error.text and "RFC 3261 §15" in error.text
    assert not r.passed
    assert times(r, "OPTIONS")[0] == 30.0  # the run went on


def test_a_bye_the_dialog_advises_in_moratorium_is_held_until_the_ack_rfc3261_15() -> None:
    r = run("""\
transports: [udp]
network:
  default: {delay: 0.05}
  links: [{from: bob, to: alice, drop: [{match: {status: 200, method: INVITE}, nth: 1}]}]
script:
  alice:
    - {at: 0, send: INVITE}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 200}
    - {at: 0.2, send: UPDATE}
""")
    # alice, still without a dialog, answers the UPDATE 481; the usage is over for bob,
    # whose BYE must wait for the ACK of his (retransmitted) 2xx
    assert [w.message.summary() for w in r.wire if w.src == "alice"][:2] == [
        "INVITE (CSeq 1)",
        "481 Call/Transaction Does Not Exist (UPDATE)",
    ]
    notes = [x.text for x in r.records if x.kind == "tu" and x.element == "bob"]
    assert "UA core holds the BYE until the ACK" in notes
    (ack,) = [w for w in wire(r, "ACK") if not w.lost]
    (bye,) = wire(r, "BYE")
    assert round(bye.t, 6) == round(ack.t + 0.05, 6)  # as soon as the ACK arrived
    assert r.errors == [] and r.violations == []


def test_an_early_dialog_the_callee_must_end_ends_with_a_final_response_rfc3261_15() -> None:
    r = run("""\
transports: [udp]
network:
  default: {delay: 0.05}
  links: [{from: bob, to: alice, drop: [{match: {status: 180}, every: true}]}]
script:
  alice:
    - {at: 0, send: INVITE}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 180}
    - {at: 1, send: UPDATE}
""")
    assert [w.message.summary() for w in r.wire if w.t >= 1] == [
        "UPDATE (CSeq 1)",
        "481 Call/Transaction Does Not Exist (UPDATE)",
        "480 Temporarily Unavailable (INVITE)",  # the element's reject_code
        "ACK (CSeq 1)",
    ]
    assert r.final_states == {
        name: {"dialog": "morgue", "dialogs": {"dialog-1": "morgue"}, "transactions": {}}
        for name in ("alice", "bob")
    }


def test_timer_b_tells_the_tu_of_the_timeout_rfc3261_17_1_1_2() -> None:
    r = run("""\
transports: [udp]
network: {default: {drop: [{match: {request: INVITE}, every: true}]}}
script:
  alice:
    - {at: 0, send: INVITE}
    - {on: {event: timeout, method: INVITE}, send: OPTIONS}
""")
    assert times(r, "INVITE") == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]  # Timer A
    assert times(r, "OPTIONS") == [32.0]  # Timer B = 64*T1
    assert r.final_states["alice"]["dialog"] == "morgue"


GLARE = """\
script:
  alice:
    - {at: 0, send: INVITE}
    - {at: 5, send: INVITE}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 200}
    - {at: 5, send: INVITE}
"""


def test_the_491_retry_rfc3261_14_1_can_be_switched_off() -> None:
    retried = run(GLARE)
    assert len(wire(retried, "INVITE")) == 5  # the call, two crossing, two retries
    quiet = simulate(
        parse(
            "name: t\ntitle: t\nelements: {alice: {retry_491: false}, "
            "bob: {retry_491: false}}\n" + GLARE,
            "t.yaml",
        )
    )
    assert len(wire(quiet, "INVITE")) == 3
    assert len(wire(quiet, "491")) == 2


def _wire_of(yaml_text: str, tmp_path: Path) -> list[Any]:
    from sipfsm.sim.run import simulate

    path = tmp_path / "flow.yaml"
    path.write_text(yaml_text)
    return [w.message for w in simulate(path).wire]


def test_a_405_allow_does_not_list_the_refused_method_rfc3261_8_2_1(tmp_path: Path) -> None:
    wire = _wire_of(
        "name: r405\ntitle: 405 to MESSAGE\nelements: {alice: {role: ua}, bob: {role: ua}}\n"
        "script:\n  alice: [{at: 0, send: MESSAGE, to: bob}]\n"
        "  bob: [{on: {request: MESSAGE}, respond: 405}]\n",
        tmp_path,
    )
    (reject,) = [m for m in wire if getattr(m, "status", 0) == 405]
    allow = [m.strip() for m in (reject.header("Allow") or "").split(",")]
    assert "MESSAGE" not in allow and "INVITE" in allow


def test_registrations_to_one_registrar_share_a_call_id_rfc3261_10_2(tmp_path: Path) -> None:
    wire = _wire_of(
        "name: reg\ntitle: REGISTER twice\nelements: {alice: {role: ua}, bob: {role: ua}}\n"
        "script:\n  alice:\n    - {at: 0, send: REGISTER, to: bob, headers: {Expires: '60'}}\n"
        "    - {on: {status: 423}, send: REGISTER, to: bob, headers: {Expires: '3600'}}\n"
        "  bob: [{on: {request: REGISTER}, respond: 423}]\n",
        tmp_path,
    )
    registers = [
        m for m in wire if getattr(m, "method", "") == "REGISTER" and not hasattr(m, "status")
    ]
    assert len({m.call_id for m in registers}) == 1
    assert [m.cseq for m in registers] == [1, 2]


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_the_responses_to_a_cancel_never_reach_the_dialog_rfc5407_appendix_c(
    transport: str, profile: str
) -> None:
    """ "CANCEL does not have any influence on the UAC's dialog state" -- not even a 481 to
    a late CANCEL with a To tag of its own."""
    for seed in range(30):
        result = simulate("rfc5407-c", seed=seed, transport=transport, profile=profile)
        discards = [r.text for r in result.records if r.kind == "discard" and "CANCEL" in r.text]
        assert discards == [], (seed, discards)
