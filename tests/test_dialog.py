"""The dialog layer (sipfsm/machines/dialog/): the RFC 5407 §2 DSM for both roles, the in-dialog
answers of RFC 3261 §12-15, RFC 3262 §3 and RFC 3311 §5, RFC 5057's failure effects and
the dialog set (forking, RFC 5407 Appendix E).

Each test drives the real machine (the table engine) with events and compares states and
actions by value. The expected values are written from the RFC text; the names and tags
are those of the RFC 5407 §3 examples.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from conftest import make_request
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sipfsm.decl.instance import Instance
from sipfsm.decl.language import PROFILES
from sipfsm.decl.timers import Timing
from sipfsm.elements.dialogs import END_FORK, DialogSet
from sipfsm.engine.reference import TransitionsMachine
from sipfsm.engine.runtime import TableMachine
from sipfsm.machines import dialog
from sipfsm.machines.dialog import (
    FAILURE_EFFECTS,
    DialogInstance,
    declare,
    effect_of,
    glare_seconds,
)
from sipfsm.values.errors import LocalProtocolError, ProtocolError, RemoteProtocolError, UnknownName
from sipfsm.values.events import (
    Event,
    MessageSent,
    ReportOutcome,
    RequestReceived,
    Respond,
    ResponseReceived,
    StartTimer,
    StopTimer,
    TimerFired,
    ToTU,
    TransactionEnded,
    describe,
)
from sipfsm.values.message import Request, Response, response_to

CALL_ID = "3848276298220188511@atlanta.example.com"
ALICE = "9fxced76sl"  # the caller's tag (RFC 5407 §3.1.4)
BOB = "8321234356"  # the callee's tag
CAROL = "314159"  # a second fork's tag
OFFER = "v=0 o=alice"
ANSWER = "v=0 o=bob"

# -- messages ---------------------------------------------------------------------------------


def initial_invite(body: str = OFFER, cseq: int = 1) -> Request:
    return make_request(
        "INVITE",
        uri="sip:bob@biloxi.example.com",
        call_id=CALL_ID,
        cseq=cseq,
        from_tag=ALICE,
        branch="z9hG4bK74bf9",
        body=body,
    )


INVITE = initial_invite()


def from_alice(
    method: str,
    cseq: int,
    body: str = "",
    to_tag: str = BOB,
    headers: tuple[tuple[str, str], ...] = (),
) -> Request:
    """A request Alice (the caller) sends within the dialog."""
    return make_request(
        method,
        uri="sip:bob@client.biloxi.example.com",
        call_id=CALL_ID,
        cseq=cseq,
        from_tag=ALICE,
        to_tag=to_tag,
        branch=f"z9hG4bKa{method}{cseq}",
        sent_by="client.atlanta.example.com",
        headers=headers,
        body=body,
    )


def from_bob(
    method: str, cseq: int, body: str = "", headers: tuple[tuple[str, str], ...] = ()
) -> Request:
    """A request Bob (the callee) sends within the dialog."""
    return make_request(
        method,
        uri="sip:alice@client.atlanta.example.com",
        call_id=CALL_ID,
        cseq=cseq,
        from_tag=BOB,
        to_tag=ALICE,
        branch=f"z9hG4bKb{method}{cseq}",
        sent_by="client.biloxi.example.com",
        headers=headers,
        body=body,
    )


def answer(
    request: Request,
    status: int,
    body: str = "",
    tag: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    """The response to ``request``; responses to the initial INVITE carry Bob's tag."""
    to_tag = tag if tag is not None else (request.to_tag or BOB)
    return response_to(request, status, to_tag=to_tag, body=body, headers=headers)


def ack_for(cseq: int = 1, body: str = "", to_tag: str = BOB) -> Request:
    return from_alice("ACK", cseq, body, to_tag)


# -- a driver ---------------------------------------------------------------------------------


class Dialog:
    """One engine and one dialog instance: ``d(event)`` returns the actions."""

    def __init__(
        self,
        profile: str = "rfc6026",
        seed: int = 0,
        call_id_owner: bool | None = None,
        kind: str = "table",
    ) -> None:
        decl = declare(profile)
        timing = Timing()
        self.engine: Any = (
            TableMachine(decl, timing, factory=DialogInstance)
            if kind == "table"
            else TransitionsMachine(decl, timing, factory=DialogInstance)
        )
        self.inst = DialogInstance(seed=seed, call_id_owner=call_id_owner)

    def start(self, event: Event) -> list[Any]:
        return list(self.engine.start(self.inst, event))

    def __call__(self, event: Event) -> list[Any]:
        return list(self.engine.handle(self.inst, event))

    def feed(self, events: Sequence[Event]) -> list[Any]:
        out: list[Any] = []
        for event in events:
            out.extend(self(event))
        return out

    @property
    def state(self) -> str:
        return str(self.inst.state)


#: The events that bring each role's dialog into each leaf state (RFC 5407 §2 Figures 1-2).
CALLER_PATH: dict[str, tuple[Event, ...]] = {
    "preparative": (),
    "early": (ResponseReceived(answer(INVITE, 180)),),
    "moratorium": (
        ResponseReceived(answer(INVITE, 180)),
        ResponseReceived(answer(INVITE, 200, ANSWER)),
    ),
    "established": (ResponseReceived(answer(INVITE, 200, ANSWER)), MessageSent(ack_for())),
    "mortal": (
        ResponseReceived(answer(INVITE, 200, ANSWER)),
        MessageSent(ack_for()),
        MessageSent(from_alice("BYE", 2)),
    ),
    "morgue": (ResponseReceived(answer(INVITE, 486)),),
}
CALLEE_PATH: dict[str, tuple[Event, ...]] = {
    "preparative": (),
    "early": (MessageSent(answer(INVITE, 180)),),
    "moratorium": (MessageSent(answer(INVITE, 180)), MessageSent(answer(INVITE, 200, ANSWER))),
    "established": (MessageSent(answer(INVITE, 200, ANSWER)), RequestReceived(ack_for())),
    "mortal": (
        MessageSent(answer(INVITE, 200, ANSWER)),
        RequestReceived(ack_for()),
        RequestReceived(from_alice("BYE", 2)),
    ),
    "morgue": (MessageSent(answer(INVITE, 486)),),
}
LEAVES = ("preparative", "early", "moratorium", "established", "mortal", "morgue")
ROLES = ("caller", "callee")


def at(
    role: str,
    state: str,
    profile: str = "rfc6026",
    seed: int = 0,
    invite: Request = INVITE,
    kind: str = "table",
    call_id_owner: bool | None = None,
) -> Dialog:
    """A dialog of ``role`` that has just reached ``state`` by its path above."""
    d = Dialog(profile, seed, call_id_owner, kind)
    if role == "caller":
        d.start(MessageSent(invite))
        path = CALLER_PATH[state]
    else:
        d.start(RequestReceived(invite))
        path = CALLEE_PATH[state]
    d.feed(path)
    assert d.state == state, (role, state, d.state)
    return d


def responds(actions: Sequence[Any]) -> list[tuple[str, int, int]]:
    """The answers decided, as (method, CSeq, status)."""
    return [(a.request.method, a.request.cseq, a.status) for a in actions if isinstance(a, Respond)]


# -- the declaration --------------------------------------------------------------------------


def test_declare_gives_the_rfc5407_states_with_their_parents() -> None:
    decl = declare()
    assert decl.id == "dialog"
    assert [(s.name, s.parent) for s in decl.states] == [
        ("preparative", None),
        ("early", None),
        ("confirmed", None),
        ("moratorium", "confirmed"),
        ("established", "confirmed"),
        ("terminated", None),
        ("mortal", "terminated"),
        ("morgue", "terminated"),
    ]
    assert decl.initial == "preparative"
    assert decl.state("preparative").initial
    assert decl.terminal_states == ("morgue",)
    assert [s.name for s in decl.leaf_states] == list(LEAVES)


def test_declare_creations_are_the_initial_invite_sent_or_received_rfc5407_2() -> None:
    decl = declare()
    trigs = [decl.trigger(r.trigger) for r in decl.creations]
    assert [(t.kind, t.method, t.status) for t in trigs] == [
        ("message_sent", "INVITE", None),
        ("request_received", "INVITE", None),
    ]
    assert all(r.dest == "preparative" and r.rfc.startswith("RFC 5407 §2") for r in decl.creations)


def test_declare_validates_the_profile_and_caches() -> None:
    assert declare("rfc6026") is declare("rfc6026")
    assert declare() is declare("rfc6026")
    with pytest.raises(
        UnknownName, match="unknown profile 'rfc2543'; valid choices: rfc6026, rfc3261"
    ):
        declare("rfc2543")


def test_every_row_and_outcome_cites_an_rfc() -> None:
    for profile in PROFILES:
        decl = declare(profile)
        for row in (*decl.creations, *decl.transitions):
            assert row.rfc.startswith("RFC "), row
            for g in row.guards:
                assert g.rfc.startswith("RFC "), g
        for state in decl.states:
            assert state.rfc.startswith("RFC "), state
            for oc in state.outcomes:
                assert oc.rfc.startswith("RFC "), oc
                assert oc.trigger is not None and decl.trigger(oc.trigger)


def test_every_leaf_state_declares_481_and_487_to_cancel_forbidden() -> None:
    decl = declare()
    for leaf in LEAVES:
        codes = {(oc.code, oc.direction, oc.forbidden) for oc in decl.outcomes(leaf)}
        assert (487, "send", True) in codes, leaf
        assert any(code == 481 for code, _, _ in codes), leaf
    for leaf in ("early", "moratorium", "established"):
        arising = {(oc.code, oc.direction) for oc in decl.outcomes(leaf)}
        assert {
            (491, "send"),
            (491, "receive"),
            (500, "send"),
            (408, "receive"),
            (481, "receive"),
        } <= arising


def test_profiles_differ_only_in_the_callees_unacknowledged_2xx_rfc3261_13_3_1_4() -> None:
    only_6026 = set(declare("rfc6026").transitions) - set(declare("rfc3261").transitions)
    only_3261 = set(declare("rfc3261").transitions) - set(declare("rfc6026").transitions)
    assert [(r.source, r.trigger, r.rfc) for r in only_6026] == [
        ("moratorium", "transaction_ended", "RFC 3261 §13.3.1.4")
    ]
    assert [(r.source, r.trigger, r.rfc) for r in only_3261] == [
        ("moratorium", "transaction_ended", "RFC 3261 §17.2.1")
    ]


def test_every_state_is_reachable_and_every_state_reaches_morgue() -> None:
    decl = declare()
    edges: dict[str, set[str]] = {s: set() for s in LEAVES}
    for leaf in LEAVES:
        for row in decl.transitions_from(leaf):
            dest = leaf if row.internal else row.dest
            assert dest in LEAVES, row  # only leaves are ever current
            edges[leaf].add(dest)

    def reach(start: str) -> set[str]:
        seen, todo = {start}, deque([start])
        while todo:
            for nxt in edges[todo.popleft()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert reach("preparative") == set(LEAVES)
    for leaf in LEAVES:
        assert "morgue" in reach(leaf), leaf


# -- RFC 5407 Figure 1: the caller ------------------------------------------------------------


def test_caller_preparative_1xx_with_to_tag_enters_early_rfc5407_fig1() -> None:
    d = at("caller", "preparative")
    assert d(ResponseReceived(answer(INVITE, 180))) == []
    assert d.state == "early"
    assert d.inst.remote_tag == BOB


@pytest.mark.parametrize(
    "response",
    [answer(INVITE, 100, tag=""), answer(INVITE, 100), answer(INVITE, 183, tag="")],
    ids=["100", "100-tag", "183-no-tag"],
)
def test_caller_preparative_100_or_untagged_1xx_creates_no_dialog_rfc3261_12_1(
    response: Response,
) -> None:
    d = at("caller", "preparative")
    assert d(ResponseReceived(response)) == []
    assert d.state == "preparative"


@pytest.mark.parametrize("start", ["preparative", "early"])
def test_caller_2xx_enters_moratorium_and_the_tu_acks_it_rfc5407_fig1(start: str) -> None:
    d = at("caller", start)
    ok = answer(INVITE, 200, ANSWER)
    assert d(ResponseReceived(ok)) == [ToTU("send_ack", ok)]
    assert d.state == "moratorium"


@pytest.mark.parametrize("start", ["preparative", "early"])
@pytest.mark.parametrize("status", [302, 404, 486, 487, 503, 603])
def test_caller_3xx_6xx_enters_morgue_rfc5407_fig1(start: str, status: int) -> None:
    d = at("caller", start)
    actions = d(ResponseReceived(answer(INVITE, status)))
    assert d.state == "morgue"
    assert ToTU("terminated") in actions


def test_caller_early_more_1xx_stay_early_rfc3261_13_2_2_1() -> None:
    d = at("caller", "early")
    assert d(ResponseReceived(answer(INVITE, 183))) == []
    assert d.state == "early"


def test_caller_may_send_bye_on_an_early_dialog_rfc5407_fig1() -> None:
    d = at("caller", "early")
    assert d(MessageSent(from_alice("BYE", 2))) == []
    assert d.state == "mortal"


def test_caller_ack_sent_enters_established_rfc5407_fig1() -> None:
    d = at("caller", "moratorium")
    assert d(MessageSent(ack_for())) == []
    assert d.state == "established"


@pytest.mark.parametrize("start", ["moratorium", "established"])
def test_caller_2xx_retransmission_is_acked_again_rfc3261_13_2_2_4(start: str) -> None:
    d = at("caller", start)
    ok = answer(INVITE, 200, ANSWER)
    assert d(ResponseReceived(ok)) == [ToTU("send_ack", ok)]
    assert d.state == start
    assert d(MessageSent(ack_for())) == []
    assert d.state == "established"


@pytest.mark.parametrize("start", ["moratorium", "established"])
def test_caller_bye_sent_in_confirmed_enters_mortal_rfc5407_fig1(start: str) -> None:
    d = at("caller", start)
    assert d(MessageSent(from_alice("BYE", 2))) == []
    assert d.state == "mortal"


def test_caller_receiving_bye_on_an_early_dialog_is_a_protocol_error_rfc3261_15() -> None:
    d = at("caller", "early")
    with pytest.raises(
        RemoteProtocolError,
        match=r"dialog \(rfc6026\) in state 'early' "
        r"cannot handle RequestReceived\(BYE\): guard failed: \[callee\]",
    ):
        d(RequestReceived(from_bob("BYE", 1)))
    assert d.state == "early"


# -- RFC 5407 Figure 2: the callee ------------------------------------------------------------


def test_callee_1xx_with_to_tag_sent_enters_early_rfc5407_fig2() -> None:
    d = at("callee", "preparative")
    assert d(MessageSent(answer(INVITE, 100, tag=""))) == []
    assert d.state == "preparative"
    assert d(MessageSent(answer(INVITE, 180))) == []
    assert d.state == "early"
    assert d.inst.local_tag == BOB


@pytest.mark.parametrize("start", ["preparative", "early"])
def test_callee_2xx_sent_enters_moratorium_rfc5407_fig2(start: str) -> None:
    d = at("callee", start)
    assert d(MessageSent(answer(INVITE, 200, ANSWER))) == []
    assert d.state == "moratorium"


@pytest.mark.parametrize("start", ["preparative", "early"])
def test_callee_3xx_6xx_sent_enters_morgue_rfc5407_fig2(start: str) -> None:
    d = at("callee", start)
    assert d(MessageSent(answer(INVITE, 480))) == [ToTU("terminated")]
    assert d.state == "morgue"


def test_callee_2xx_retransmission_in_moratorium_stays_rfc5407_fig2() -> None:
    d = at("callee", "moratorium")
    assert d(MessageSent(answer(INVITE, 200, ANSWER))) == []
    assert d.state == "moratorium"


def test_callee_ack_received_enters_established_rfc5407_fig2() -> None:
    d = at("callee", "moratorium")
    assert d(RequestReceived(ack_for())) == []
    assert d.state == "established"
    assert d(RequestReceived(ack_for())) == []  # a retransmitted ACK is absorbed
    assert d.state == "established"


def test_callee_early_bye_gets_200_and_the_invite_487_rfc5407_fig2() -> None:
    d = at("callee", "early")
    bye = from_alice("BYE", 2)
    actions = d(RequestReceived(bye))
    assert actions == [  # 200 (BYE) first, as RFC 5407 Appendix A draws it (F10, F12)
        Respond(bye, 200, rfc="RFC 3261 §15.1.2"),
        Respond(INVITE, 487, rfc="RFC 3261 §15.1.2"),
    ]
    assert d.state == "mortal"


@pytest.mark.parametrize("start", ["moratorium", "established"])
def test_callee_bye_received_in_confirmed_gets_200_and_enters_mortal_rfc5407_fig2(
    start: str,
) -> None:
    d = at("callee", start)
    bye = from_alice("BYE", 2)
    assert d(RequestReceived(bye)) == [Respond(bye, 200, rfc="RFC 3261 §15.1.2")]
    assert d.state == "mortal"


def test_callee_must_not_send_bye_on_an_early_dialog_rfc3261_15() -> None:
    d = at("callee", "early")
    with pytest.raises(
        LocalProtocolError,
        match=r"dialog \(rfc6026\) in state 'early' cannot "
        r"handle MessageSent\(BYE \(CSeq 1\)\): guard failed: \[caller\]",
    ):
        d(MessageSent(from_bob("BYE", 1)))


def test_callee_may_not_send_bye_before_the_ack_rfc3261_15() -> None:
    d = at("callee", "moratorium")
    with pytest.raises(
        LocalProtocolError,
        match=r"\[caller, or ACK received, or INVITE "
        r"server transaction ended\] \(RFC 3261 §15\)",
    ):
        d(MessageSent(from_bob("BYE", 1)))
    assert d.state == "moratorium"


def test_callee_whose_2xx_is_never_acked_is_told_to_send_bye_rfc3261_13_3_1_4() -> None:
    d = at("callee", "moratorium", "rfc6026")
    assert d(TransactionEnded("INVITE", 1, "server")) == [ToTU("send_bye", None)]
    assert d.state == "moratorium"
    assert d(MessageSent(from_bob("BYE", 1))) == []
    assert d.state == "mortal"


def test_callee_under_rfc3261_ist_ends_with_the_2xx_so_bye_is_allowed_rfc3261_17_2_1() -> None:
    d = at("callee", "moratorium", "rfc3261")
    assert d(TransactionEnded("INVITE", 1, "server")) == []
    assert d(MessageSent(from_bob("BYE", 1))) == []
    assert d.state == "mortal"


def test_callee_absorbs_a_retransmitted_initial_invite_rfc5407_3_1_1() -> None:
    d = at("callee", "moratorium", "rfc3261")
    assert d(RequestReceived(INVITE)) == []
    assert d.state == "moratorium"
    assert d(RequestReceived(ack_for())) == []
    assert d.state == "established"


def test_an_invite_with_a_to_tag_creates_no_dialog_rfc3261_12_1() -> None:
    d = Dialog()
    with pytest.raises(
        RemoteProtocolError,
        match=r"dialog \(rfc6026\) in state '\(new\)' "
        r"cannot handle RequestReceived\(INVITE\): guard failed: \[no To tag",
    ):
        d.start(RequestReceived(from_alice("INVITE", 2)))
    with pytest.raises(LocalProtocolError, match="no To tag"):
        Dialog().start(MessageSent(from_alice("INVITE", 2)))


# -- Mortal and Morgue (RFC 5407 §2, §3.2) ----------------------------------------------------


def test_mortal_still_acks_a_2xx_rfc5407_3_2_3() -> None:
    d = at("callee", "established")
    reinvite = from_bob("INVITE", 1)
    d(MessageSent(reinvite))
    bye = from_bob("BYE", 2)
    d(MessageSent(bye))
    assert d.state == "mortal"
    ok = answer(reinvite, 200, OFFER)
    assert d(ResponseReceived(ok)) == [ToTU("send_ack", ok)]
    assert d(MessageSent(from_bob("ACK", 1))) == []
    assert d.state == "mortal"


@pytest.mark.parametrize("role", ROLES)
def test_mortal_accepts_the_ack_of_the_initial_2xx_rfc5407_3_2_4(role: str) -> None:
    d = at(role, "moratorium")
    if role == "caller":  # Bob's BYE crosses Alice's ACK (RFC 5407 §3.2.4)
        d(RequestReceived(from_bob("BYE", 1)))
        ack: Event = MessageSent(ack_for(body=ANSWER))
    else:  # Alice's BYE overtakes her ACK (RFC 5407 §3.1.6, F7)
        d(RequestReceived(from_alice("BYE", 2)))
        ack = RequestReceived(ack_for(body=ANSWER))
    assert d.state == "mortal"
    assert d(ack) == []
    assert d.state == "mortal"


def test_mortal_answers_bye_glare_with_200_rfc5407_3_2_1() -> None:
    d = at("caller", "mortal")
    bye = from_bob("BYE", 1)
    assert d(RequestReceived(bye)) == [Respond(bye, 200, rfc="RFC 5407 §3.2.1")]
    assert d.state == "mortal"


@pytest.mark.parametrize(
    ("method", "rfc"),
    [
        ("INVITE", "RFC 5407 §3.2.2"),
        ("UPDATE", "RFC 5407 §3.2.2"),
        ("PRACK", "RFC 5407 §3.2.2"),
        ("REFER", "RFC 5407 §3.3.3"),
        ("INFO", "RFC 5407 §3.3.3"),
        ("OPTIONS", "RFC 5407 §3.3.3"),
    ],
)
def test_mortal_answers_every_other_request_481_rfc5407_3_2_2_and_3_3_3(
    method: str,
    rfc: str,
) -> None:
    d = at("caller", "mortal")
    req = from_bob(method, 1, body=OFFER if method == "INVITE" else "")
    assert d(RequestReceived(req)) == [Respond(req, 481, rfc=rfc)]
    assert d.state == "mortal"


def test_mortal_enters_morgue_when_the_bye_transaction_ends_rfc5407_2() -> None:
    d = at("caller", "mortal")
    d(ResponseReceived(answer(from_alice("BYE", 2), 200)))
    assert d(TransactionEnded("INVITE", 1, "client")) == []  # Timer M of the initial INVITE
    assert d.state == "mortal"
    assert d(TransactionEnded("BYE", 2, "client")) == [ToTU("terminated")]
    assert d.state == "morgue"


def test_mortal_waits_for_an_invite_transaction_that_may_need_an_ack_rfc5407_appendix_d() -> None:
    d = at("caller", "early")
    d(MessageSent(from_alice("BYE", 2)))
    d(ResponseReceived(answer(from_alice("BYE", 2), 200)))
    assert d(TransactionEnded("BYE", 2, "client")) == []
    assert d.state == "mortal"  # the INVITE client transaction is still alive
    ok = answer(INVITE, 200, ANSWER)
    assert d(ResponseReceived(ok)) == [ToTU("send_ack", ok)]
    assert d(TransactionEnded("INVITE", 1, "client")) == [ToTU("terminated")]
    assert d.state == "morgue"


def test_mortal_does_not_send_new_requests_rfc5407_2() -> None:
    d = at("caller", "mortal")
    with pytest.raises(LocalProtocolError, match="no transition for send_update"):
        d(MessageSent(from_alice("UPDATE", 3)))
    assert d(MessageSent(from_alice("BYE", 3))) == []  # BYE with credentials (Appendix D)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "rfc"),
    [
        ("INVITE", "RFC 3261 §12.2.2"),
        ("UPDATE", "RFC 3261 §12.2.2"),
        ("INFO", "RFC 3261 §12.2.2"),
        ("PRACK", "RFC 3262 §3"),
        ("BYE", "RFC 3261 §15.1.2"),
    ],
)
@pytest.mark.parametrize("state", ["preparative", "morgue"])
def test_no_dialog_yet_or_any_more_answers_481_rfc3261_12_2_2(
    role: str,
    method: str,
    rfc: str,
    state: str,
) -> None:
    d = at(role, state)
    req = from_bob(method, 5) if role == "caller" else from_alice(method, 5)
    assert d(RequestReceived(req)) == [Respond(req, 481, rfc=rfc)]
    assert d.state == state


def test_morgue_acks_a_late_2xx_and_ignores_late_finals_rfc3261_13_2_2() -> None:
    d = at("caller", "morgue")
    ok = answer(INVITE, 200, tag=CAROL)
    assert d(ResponseReceived(ok)) == [ToTU("send_ack", ok)]
    assert d(ResponseReceived(answer(INVITE, 486))) == []
    assert d.state == "morgue"


def test_the_initial_invite_timing_out_ends_the_dialog_rfc3261_13_2_2() -> None:
    d = at("caller", "preparative")
    assert d(TransactionEnded("INVITE", 1, "client")) == [ToTU("terminated")]
    assert d.state == "morgue"


def test_an_early_dialog_ends_with_the_invite_transaction_rfc5407_appendix_e() -> None:
    d = at("caller", "early")
    assert d(TransactionEnded("INVITE", 1, "client")) == [ToTU("terminated")]
    assert d.state == "morgue"


# -- 487: pending requests when a BYE arrives (RFC 3261 §15.1.2) ------------------------------


def test_bye_gets_487_sent_to_every_pending_request_rfc3261_15_1_2() -> None:
    d = at("callee", "established")
    reinvite = from_alice("INVITE", 2, OFFER + "2")
    info = from_alice("INFO", 3)
    d.feed([RequestReceived(reinvite), RequestReceived(info)])
    bye = from_alice("BYE", 4)
    assert d(RequestReceived(bye)) == [
        Respond(bye, 200, rfc="RFC 3261 §15.1.2"),
        Respond(reinvite, 487, rfc="RFC 3261 §15.1.2"),
        Respond(info, 487, rfc="RFC 3261 §15.1.2"),
    ]
    assert d.state == "mortal"
    d(MessageSent(answer(reinvite, 487)))
    d(MessageSent(answer(info, 487)))
    assert d.inst.pending_server == {("BYE", 4): bye}


def test_a_cancel_is_never_pending_so_never_gets_487_rfc3261_21_4_25() -> None:
    d = at("callee", "early")
    cancel = make_request(
        "CANCEL", uri=INVITE.uri, call_id=CALL_ID, cseq=1, from_tag=ALICE, branch=INVITE.branch
    )
    assert d(RequestReceived(cancel)) == []
    assert d.state == "early"  # a CANCEL changes no dialog state (RFC 5407 Appendix C)
    bye = from_alice("BYE", 2)
    assert responds(d(RequestReceived(bye))) == [("BYE", 2, 200), ("INVITE", 1, 487)]


def test_sending_487_to_cancel_is_declared_forbidden_rfc3261_21_4_25() -> None:
    decl = declare()
    for leaf in LEAVES:
        forbidden = [oc for oc in decl.outcomes(leaf) if oc.forbidden]
        assert [(oc.code, oc.direction, oc.rfc) for oc in forbidden] == [
            (487, "send", "RFC 3261 §21.4.25")
        ]


def test_callee_cancelled_in_early_sends_487_and_enters_morgue_rfc5407_appendix_c() -> None:
    d = at("callee", "early")
    actions = d(MessageSent(answer(INVITE, 487)))
    assert d.state == "morgue"
    assert actions == [
        ToTU("terminated"),
        ReportOutcome(487, "send", _when("early", 487, "send_3xx_6xx_invite"), "RFC 3261 §9.2"),
    ]


# -- 491 and the glare timer (RFC 3261 §14.1, §14.2; RFC 3311 §5.2, §5.3) ---------------------


@pytest.mark.parametrize("role", ROLES)
def test_reinvite_received_while_our_invite_is_in_progress_gets_491_rfc3261_14_2(
    role: str,
) -> None:
    d = at(role, "established")
    if role == "caller":
        d(MessageSent(from_alice("INVITE", 2, OFFER + "2")))
        theirs = from_bob("INVITE", 1)  # without an offer: 491 all the same
    else:
        d(MessageSent(from_bob("INVITE", 1, ANSWER + "2")))
        theirs = from_alice("INVITE", 2)
    assert d(RequestReceived(theirs)) == [Respond(theirs, 491, rfc="RFC 3261 §14.2")]
    assert d.state == "established"


def test_update_with_offer_while_our_offer_is_pending_gets_491_rfc3311_5_2() -> None:
    d = at("caller", "established")
    d(MessageSent(from_alice("UPDATE", 2, OFFER + "2")))
    theirs = from_bob("UPDATE", 1, ANSWER + "2")
    assert d(RequestReceived(theirs)) == [Respond(theirs, 491, rfc="RFC 3311 §5.2")]


def test_reinvite_with_offer_while_our_update_offer_is_pending_gets_491_rfc5407_3_3_2() -> None:
    d = at("caller", "established")
    d(MessageSent(from_alice("UPDATE", 2, OFFER + "2")))
    theirs = from_bob("INVITE", 1, ANSWER + "2")
    assert d(RequestReceived(theirs)) == [Respond(theirs, 491, rfc="RFC 5407 §3.1.5")]


def test_update_without_offer_crossing_our_reinvite_succeeds_rfc5407_3_3_2() -> None:
    d = at("caller", "established")
    d(MessageSent(from_alice("INVITE", 2, OFFER + "2")))
    refresh = from_bob("UPDATE", 1)
    assert d(RequestReceived(refresh)) == []
    assert d.inst.pending_server == {("UPDATE", 1): refresh}


def test_reinvite_offer_while_our_2xx_offer_awaits_the_ack_gets_491_rfc5407_3_1_5() -> None:
    d = at("callee", "preparative", invite=initial_invite(body=""))
    d(MessageSent(answer(initial_invite(body=""), 200, ANSWER)))  # the offer is in the 200
    assert d.state == "moratorium"
    reinvite = from_alice("INVITE", 2, OFFER + "2")
    assert d(RequestReceived(reinvite)) == [Respond(reinvite, 491, rfc="RFC 5407 §3.1.5")]
    assert d(RequestReceived(ack_for(body=OFFER))) == []  # F7: the ACK with the answer
    assert d.state == "established"


def test_reinvite_in_moratorium_after_the_answer_is_accepted_rfc5407_3_1_4() -> None:
    d = at("callee", "moratorium")  # offer in the INVITE, answer in the 200
    reinvite = from_alice("INVITE", 2, OFFER + "2")
    assert d(RequestReceived(reinvite)) == []
    d(MessageSent(answer(reinvite, 200, ANSWER + "2")))
    assert d(RequestReceived(ack_for())) == []  # F7, the late ACK of the initial 2xx
    assert d.state == "established"
    assert d(RequestReceived(ack_for(2))) == []  # F9
    assert d.state == "established"


def _glare(
    role: str, seed: int, owner: bool | None = None, method: str = "INVITE"
) -> tuple[Dialog, list[Any]]:
    d = at(role, "established", seed=seed, call_id_owner=owner)
    ours = (
        from_alice(method, 2, OFFER + "2")
        if role == "caller"
        else from_bob(method, 1, ANSWER + "2")
    )
    d(MessageSent(ours))
    return d, d(ResponseReceived(answer(ours, 491)))


@pytest.mark.parametrize("method", ["INVITE", "UPDATE"])
def test_491_to_our_request_starts_the_glare_timer_and_its_firing_says_retry_rfc3261_14_1(
    method: str,
) -> None:
    d, actions = _glare("caller", seed=7, method=method)
    (start,) = _starts(actions)
    assert start.name == "Glare"
    ours = from_alice(method, 2, OFFER + "2")
    assert d(TimerFired("Glare")) == [ToTU("retry", ours)]
    assert d.state == "established"
    assert d(TimerFired("Glare")) == []  # fired once: a second firing is stale


def test_glare_retry_started_in_moratorium_survives_the_ack_rfc5407_3_1_5() -> None:
    # RFC 5407 §3.1.5: Alice's re-INVITE in Moratorium gets 491; her ACK then takes the
    # dialog to Established, and the §14.1 retry must still come (the state `confirmed`
    # keeps the Glare timer across its substates)
    d = at("caller", "moratorium", seed=3)
    ours = from_alice("INVITE", 2, OFFER + "2")
    d(MessageSent(ours))
    (start,) = _starts(d(ResponseReceived(answer(ours, 491))))
    assert d.state == "moratorium" and start.name == "Glare"
    assert not any(isinstance(a, StopTimer) for a in d(MessageSent(ack_for())))
    assert d.state == "established" and "Glare" in d.inst.timers
    assert d(TimerFired("Glare")) == [ToTU("retry", ours)]


def test_glare_retry_started_on_an_early_dialog_survives_its_confirmation_rfc3261_14_1() -> None:
    # RFC 3311 §5.3: Alice's UPDATE on the early dialog gets 491; the 2xx to the INVITE then
    # confirms the dialog (Early -> Moratorium, where the RFCs are silent): the retry still
    # comes, as Early and Confirmed keep the Glare timer (the dialog's rulings)
    d = at("caller", "early", seed=5)
    ours = from_alice("UPDATE", 2, OFFER + "2")
    d(MessageSent(ours))
    (start,) = _starts(d(ResponseReceived(answer(ours, 491))))
    assert d.state == "early" and start.name == "Glare"
    ok = answer(INVITE, 200, ANSWER)
    assert d(ResponseReceived(ok)) == [ToTU("send_ack", ok)]  # no StopTimer
    assert d.state == "moratorium" and "Glare" in d.inst.timers
    assert d(TimerFired("Glare")) == [ToTU("retry", ours)]


def test_glare_timer_is_stopped_when_the_call_is_hung_up_rfc3261_14_1() -> None:
    d, _ = _glare("caller", seed=1)
    assert d(MessageSent(from_alice("BYE", 3))) == [StopTimer("Glare")]
    assert d(TimerFired("Glare")) == []


def _starts(actions: Sequence[Any]) -> list[StartTimer]:
    return [a for a in actions if isinstance(a, StartTimer)]


def _in_steps(seconds: float, low: int, high: int) -> bool:
    steps = round(seconds * 100)
    return low <= steps <= high and steps / 100 == seconds


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_glare_timer_is_2_1_to_4_s_in_10_ms_steps_for_the_call_id_owner_rfc3261_14_1(
    seed: int,
) -> None:
    _, actions = _glare("caller", seed)  # the caller generated the Call-ID
    (start,) = _starts(actions)
    assert _in_steps(start.seconds, 210, 400)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_glare_timer_is_0_to_2_s_in_10_ms_steps_for_the_other_ua_rfc3261_14_1(
    seed: int,
) -> None:
    _, actions = _glare("callee", seed)
    (start,) = _starts(actions)
    assert _in_steps(start.seconds, 0, 200)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), owner=st.booleans())
def test_glare_timer_follows_an_explicit_call_id_owner_flag_rfc3261_14_1(
    seed: int,
    owner: bool,
) -> None:
    _, actions = _glare("callee", seed, owner=owner)
    (start,) = _starts(actions)
    assert _in_steps(start.seconds, *((210, 400) if owner else (0, 200)))


def test_glare_timer_is_deterministic_for_a_seed_rfc3261_14_1() -> None:
    first = [_glare("caller", seed=42)[1] for _ in range(3)]
    assert first[0] == first[1] == first[2]
    assert {repr(_glare("caller", seed=s)[1]) for s in range(30)} != {repr(first[0])}


@pytest.mark.parametrize("owner", [True, False])
def test_glare_timer_draws_what_a_generator_seeded_at_creation_draws_rfc3261_14_1(
    owner: bool,
) -> None:
    """The instance's generator is made from its seed on first use (building one per
    dialog is costly): the glare timer still gets the numbers a `random.Random(seed)`
    made with the dialog would give, and a dialog that never draws has none."""
    import random

    d = at("caller", "established", seed=1234, call_id_owner=owner)
    assert d.inst._rng is None  # nothing drawn yet, nothing built
    ours = from_alice("INVITE", 2, OFFER + "2")
    d(MessageSent(ours))
    (start,) = _starts(d(ResponseReceived(answer(ours, 491))))
    expected = random.Random(1234)
    assert start.seconds == glare_seconds(expected, owner)
    assert d.inst.rng == expected  # and the generator is where that one draw left it


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**64))
def test_retry_after_of_a_500_is_the_seeded_generators_first_draw_rfc3261_14_2(
    seed: int,
) -> None:
    import random

    d = at("callee", "early", seed=seed)  # the initial INVITE is still unanswered
    (action,) = d(RequestReceived(from_alice("INVITE", 2, OFFER + "2")))
    assert _retry_after(action) == random.Random(seed).randint(0, 10)


def test_glare_seconds_covers_both_ranges_in_10_ms_units() -> None:
    import random

    rng = random.Random(3)
    owner = {round(glare_seconds(rng, True) * 100) for _ in range(5000)}
    other = {round(glare_seconds(rng, False) * 100) for _ in range(5000)}
    assert min(owner) == 210 and max(owner) == 400
    assert min(other) == 0 and max(other) == 200


# -- 500 (RFC 3261 §12.2.2, §14.2; RFC 3311 §5.2) ---------------------------------------------


def _retry_after(action: Any) -> int:
    assert isinstance(action, Respond) and action.status == 500
    ((name, value),) = action.headers
    assert name == "Retry-After"
    return int(value)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_invite_while_an_earlier_invite_is_unanswered_gets_500_retry_after_0_10_rfc3261_14_2(
    seed: int,
) -> None:
    d = at("callee", "early", seed=seed)  # the initial INVITE is still unanswered
    second = from_alice("INVITE", 2, OFFER + "2")
    (action,) = d(RequestReceived(second))
    assert action.request == second and action.rfc == "RFC 3261 §14.2"
    assert 0 <= _retry_after(action) <= 10


def test_retry_after_is_deterministic_for_a_seed_rfc3261_14_2() -> None:
    def draw(seed: int) -> list[Any]:
        return at("callee", "early", seed=seed)(RequestReceived(from_alice("INVITE", 2)))

    assert all(draw(seed) == draw(seed) for seed in range(20))
    assert len({_retry_after(draw(seed)[0]) for seed in range(40)}) > 1


def test_update_while_an_earlier_update_is_unanswered_gets_500_retry_after_rfc3311_5_2() -> None:
    d = at("caller", "established")
    d(RequestReceived(from_bob("UPDATE", 1)))
    (action,) = d(RequestReceived(from_bob("UPDATE", 2)))
    assert action.rfc == "RFC 3311 §5.2" and 0 <= _retry_after(action) <= 10


def test_update_with_offer_while_the_peers_offer_is_unanswered_gets_500_rfc3311_5_2() -> None:
    d = at("caller", "established")
    d(RequestReceived(from_bob("INVITE", 1, ANSWER + "2")))  # their offer, not answered yet
    update = from_bob("UPDATE", 2, ANSWER + "3")
    (action,) = d(RequestReceived(update))
    assert action.request == update and 0 <= _retry_after(action) <= 10


@pytest.mark.parametrize("method", ["INVITE", "UPDATE", "PRACK", "INFO", "BYE"])
def test_request_with_a_lower_cseq_gets_500_rfc3261_12_2_2(method: str) -> None:
    d = at("callee", "established")
    d(RequestReceived(from_alice("INFO", 5)))
    old = from_alice(method, 4)
    assert d(RequestReceived(old)) == [Respond(old, 500, rfc="RFC 3261 §12.2.2")]
    assert d.inst.remote_cseq == 5
    assert d.state == "established"


# -- 481 to PRACK (RFC 3262 §3) ---------------------------------------------------------------


def test_prack_matching_no_unacknowledged_reliable_1xx_gets_481_rfc3262_3() -> None:
    d = at("callee", "preparative")
    d(MessageSent(answer(INVITE, 180, ANSWER, headers=(("Require", "100rel"), ("RSeq", "776656")))))
    assert d.inst.unacked_provisionals == {(776656, 1, "INVITE")}
    wrong = from_alice("PRACK", 2, headers=(("RAck", "776655 1 INVITE"),))
    assert d(RequestReceived(wrong)) == [Respond(wrong, 481, rfc="RFC 3262 §3")]
    right = from_alice("PRACK", 3, headers=(("RAck", "776656 1 INVITE"),))
    assert d(RequestReceived(right)) == []
    assert d.inst.unacked_provisionals == set()
    again = from_alice("PRACK", 4, headers=(("RAck", "776656 1 INVITE"),))
    assert d(RequestReceived(again)) == [Respond(again, 481, rfc="RFC 3262 §3")]


# -- ending the dialog after a failed mid-dialog request (RFC 3261 §12.2.1.2, RFC 5057) ------


@pytest.mark.parametrize("status", [481, 408, 404, 410, 416, 482, 483, 484, 485, 502, 604])
@pytest.mark.parametrize("method", ["INVITE", "UPDATE", "INFO"])
def test_failure_that_ends_the_invite_usage_tells_the_tu_to_send_bye_rfc3261_12_2_1_2(
    status: int,
    method: str,
) -> None:
    d = at("caller", "established")
    ours = from_alice(method, 2)
    d(MessageSent(ours))
    failure = answer(ours, status)
    actions = d(ResponseReceived(failure))
    assert ToTU("send_bye", failure) in actions
    assert d.state == "established"  # the BYE, when sent, moves it (RFC 3261 §12.2.1.2)
    d(MessageSent(from_alice("BYE", 3)))
    assert d.state == "mortal"


@pytest.mark.parametrize(
    "status", [400, 403, 486, 487, 488, 491, 493, 500, 503, 504, 600, 603, 302, 599, 699]
)
def test_transaction_only_failures_leave_the_dialog_alone_rfc5057_5_1(status: int) -> None:
    d = at("caller", "established")
    ours = from_alice("INFO", 2)
    d(MessageSent(ours))
    actions = d(ResponseReceived(answer(ours, status)))
    assert [a for a in actions if not isinstance(a, ReportOutcome)] == []
    assert d.state == "established"
    assert d.inst.pending_client == {}


@pytest.mark.parametrize(("method", "ends"), [("INFO", False), ("INVITE", True), ("BYE", True)])
def test_405_and_501_end_the_usage_only_for_a_method_it_needs_rfc5057_note_3(
    method: str,
    ends: bool,
) -> None:
    for status in (405, 501):
        assert effect_of(status, method).ends_invite_usage is ends


def test_481_to_a_cancel_does_not_end_the_dialog_rfc5057_note_8() -> None:
    d = at("caller", "early")
    cancel = make_request(
        "CANCEL", uri=INVITE.uri, call_id=CALL_ID, cseq=1, from_tag=ALICE, branch=INVITE.branch
    )
    assert d(MessageSent(cancel)) == []
    actions = d(ResponseReceived(response_to(cancel, 481)))
    assert [a for a in actions if not isinstance(a, ReportOutcome)] == []
    assert d.state == "early"


def test_timeout_of_a_mid_dialog_request_tells_the_tu_to_send_bye_rfc3261_12_2_1_2() -> None:
    d = at("callee", "established")
    ours = from_bob("UPDATE", 1, ANSWER + "2")
    d(MessageSent(ours))
    assert d(TransactionEnded("UPDATE", 1, "client")) == [ToTU("send_bye", ours)]
    assert d.inst.pending_client == {} and d.inst.local_offer is None


def test_timeout_of_an_answered_request_is_no_timeout_rfc3261_12_2_1_2() -> None:
    d = at("callee", "established")
    ours = from_bob("UPDATE", 1)
    d.feed([MessageSent(ours), ResponseReceived(answer(ours, 200))])
    assert d(TransactionEnded("UPDATE", 1, "client")) == []


def test_options_timeout_affects_no_usage_rfc5057_5_2() -> None:
    d = at("caller", "established")
    d(MessageSent(from_alice("OPTIONS", 2)))
    assert d(TransactionEnded("OPTIONS", 2, "client")) == []


def test_callee_of_an_early_dialog_is_told_to_reject_the_invite_not_send_bye_rfc3261_15() -> None:
    d = at("callee", "early")
    ours = from_bob("UPDATE", 1, ANSWER + "2")
    d(MessageSent(ours))
    failure = answer(ours, 481)
    assert d(ResponseReceived(failure)) == [
        ToTU("reject_invite", failure),
        ReportOutcome(481, "receive", _when("early", 481, "rcv_final"), "RFC 3261 §12.2.1.2"),
    ]


def _when(state: str, code: int, trigger: str) -> str:
    for oc in declare().outcomes(state):
        if oc.code == code and oc.trigger == trigger and not oc.forbidden:
            return oc.when
    raise AssertionError((state, code, trigger))


def test_caller_early_dialog_failure_tells_the_tu_to_send_bye_rfc5407_fig1() -> None:
    d = at("caller", "early")
    ours = from_alice("PRACK", 2)
    d(MessageSent(ours))
    failure = answer(ours, 481)
    assert ToTU("send_bye", failure) in d(ResponseReceived(failure))


# -- RFC 5057 §5.1 Table 1 --------------------------------------------------------------------

#: Table 1 of RFC 5057, column by column, typed from the RFC text.
TABLE_1: dict[str, tuple[int, ...]] = {
    "transaction": (
        400,
        401,
        402,
        403,
        406,
        407,
        412,
        413,
        414,
        415,
        417,
        420,
        421,
        422,
        423,
        428,
        429,
        436,
        437,
        438,
        486,
        487,
        488,
        491,
        493,
        494,
        500,
        503,
        504,
        505,
        513,
        580,
        600,
        603,
        606,
    ),
    "usage": (405, 480, 481, 489, 501),
    "dialog": (404, 410, 416, 482, 483, 484, 485, 502, 604),
}


@pytest.mark.parametrize(("scope", "code"), [(s, c) for s, codes in TABLE_1.items() for c in codes])
def test_effect_of_follows_rfc5057_table_1(scope: str, code: int) -> None:
    method = "SUBSCRIBE" if code == 489 else "INVITE"  # 489 is a subscription failure
    assert effect_of(code, method).scope == scope


def test_effect_of_408_and_timeouts_end_the_usage_rfc5057_note_4_and_5_2() -> None:
    assert effect_of(408, "UPDATE").scope == "usage"
    assert effect_of(None, "UPDATE").scope == "usage"
    assert effect_of(None, "UPDATE").rfc == "RFC 5057 §5.2"
    assert effect_of(408, "UPDATE").ends_invite_usage


def test_effect_of_unknown_codes_fall_back_to_their_class_rfc5057_table_1() -> None:
    assert (
        effect_of(499, "INVITE").scope,
        effect_of(599, "INVITE").scope,
        effect_of(699, "INVITE").scope,
    ) == ("transaction",) * 3


def test_effect_of_a_request_of_no_usage_is_at_most_transaction_or_dialog_rfc5057_5_3() -> None:
    assert effect_of(481, "OPTIONS").scope == "transaction"
    assert effect_of(None, "MESSAGE").scope == "transaction"
    assert effect_of(404, "OPTIONS").scope == "dialog"
    assert effect_of(481, "REFER").usage == "subscription"
    assert not effect_of(481, "REFER").ends_invite_usage


def test_effect_of_rejects_bad_input_with_a_clear_error() -> None:
    with pytest.raises(UnknownName, match="unknown status code of dialog 99"):
        effect_of(99, "INVITE")
    with pytest.raises(UnknownName, match="unknown method"):
        effect_of(481, "")


def test_failure_effects_are_frozen_rows_citing_rfc5057() -> None:
    assert all(r.rfc.startswith(("RFC 5057", "RFC 3261")) for r in FAILURE_EFFECTS)
    with pytest.raises(AttributeError):
        FAILURE_EFFECTS[0].scope = "dialog"  # type: ignore[misc]


# -- outcomes reported ------------------------------------------------------------------------


def test_sending_481_in_mortal_reports_its_rule_rfc5407_3_2_2() -> None:
    d = at("caller", "mortal")
    update = from_bob("UPDATE", 1)
    d(RequestReceived(update))
    assert d(MessageSent(answer(update, 481))) == [
        ReportOutcome(481, "send", _when("mortal", 481, "send_final"), "RFC 5407 §3.2.2")
    ]


def test_receiving_491_reports_the_glare_rule_rfc3261_14_1() -> None:
    _, actions = _glare("caller", 5)
    assert isinstance(actions[0], StartTimer)
    assert actions[1:] == [
        ReportOutcome(
            491, "receive", _when("established", 491, "rcv_3xx_6xx_invite"), "RFC 3261 §14.1"
        )
    ]


# -- every (state, trigger): a declared row or a clear error ----------------------------------

METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO", "REFER", "OPTIONS")


@st.composite
def event_for(draw: st.DrawFn, trigger: str) -> Event:
    trig = declare().trigger(trigger)
    if trig.kind == "timer":
        return TimerFired(trig.timer or "")
    if trig.kind == "transaction_ended":
        return TransactionEnded(
            draw(st.sampled_from(METHODS)),
            draw(st.integers(1, 4)),
            draw(st.sampled_from(("client", "server"))),
        )
    method = trig.method or draw(st.sampled_from(METHODS))
    cseq = draw(st.integers(1, 4))
    body = draw(st.sampled_from(("", OFFER)))
    headers = draw(st.sampled_from(((), (("RAck", "1 1 INVITE"),), (("RSeq", "1"),))))
    sender: Callable[..., Request] = from_alice if draw(st.booleans()) else from_bob
    req = sender(method, cseq, body, headers=headers)
    if draw(st.booleans()):
        req = make_request(method, call_id=CALL_ID, cseq=cseq, from_tag=req.from_tag, body=body)
    if trig.status is not None:
        message: Request | Response = answer(
            req, draw(st.integers(*trig.status)), body, headers=headers
        )
    else:
        message = req
    if trig.kind == "message_sent":
        return MessageSent(message)
    if isinstance(message, Response):
        return ResponseReceived(message)
    return RequestReceived(message)


@settings(max_examples=1500, deadline=None)
@given(
    data=st.data(),
    role=st.sampled_from(ROLES),
    state=st.sampled_from(LEAVES),
    trigger=st.sampled_from([t.name for t in declare().triggers]),
    profile=st.sampled_from(PROFILES),
)
def test_every_state_and_trigger_is_a_declared_row_or_a_protocol_error(
    data: st.DataObject,
    role: str,
    state: str,
    trigger: str,
    profile: str,
) -> None:
    d = at(role, state, profile)
    event = data.draw(event_for(trigger))
    assume(d.engine.classifier.classify(event) == trigger)  # a generic trigger's method
    if isinstance(event, TimerFired):
        d.inst.timers["Glare"] = 1.0  # running, so the firing is not stale
    table: TableMachine = d.engine
    rows = table.table.get((state, trigger), ())
    try:
        d(event)
    except ProtocolError as err:
        text = str(err)
        assert "dialog" in text and repr(state) in text and describe(event) in text
        assert d.state == state
        return
    assert d.state in {state if r.internal else r.dest for r in rows}


# -- the dialog set (RFC 5407 Appendix E; RFC 3261 §12.2.2, §13.2.2.4) ------------------------


def caller_set(seed: int = 0, engine: Any = None) -> DialogSet:
    s = DialogSet(engine, seed=seed)
    assert s.start(MessageSent(INVITE)) == []
    return s


def test_dialog_set_forks_a_new_dialog_per_new_to_tag_rfc5407_appendix_e() -> None:
    s = caller_set()
    assert s.handle(ResponseReceived(answer(INVITE, 100, tag=""))) == []
    s.handle(ResponseReceived(answer(INVITE, 180, tag=BOB)))
    s.handle(ResponseReceived(answer(INVITE, 180, tag=CAROL)))
    assert {t: d.state for t, d in s.dialogs.items()} == {BOB: "early", CAROL: "early"}
    ok = answer(INVITE, 200, ANSWER, tag=BOB)
    assert s.handle(ResponseReceived(ok)) == [(BOB, ToTU("send_ack", ok))]
    assert {t: d.state for t, d in s.dialogs.items()} == {BOB: "moratorium", CAROL: "early"}
    # 64*T1 later the INVITE transaction ends: Carol's early dialog ends (§13.2.2.4)
    assert s.handle(TransactionEnded("INVITE", 1, "client")) == [(CAROL, ToTU("terminated"))]
    assert {t: d.state for t, d in s.dialogs.items()} == {BOB: "moratorium", CAROL: "morgue"}


def test_dialog_set_second_2xx_with_a_new_tag_confirms_a_new_dialog_rfc5407_fig6() -> None:
    s = caller_set()
    s.handle(ResponseReceived(answer(INVITE, 200, ANSWER, tag=BOB)))
    s.handle(MessageSent(ack_for()))
    ok = answer(INVITE, 200, ANSWER, tag=CAROL)
    # ACKed, then ended: the UA keeps the first session (RFC 3261 §13.2.2.4)
    assert s.handle(ResponseReceived(ok)) == [(CAROL, ToTU("send_ack", ok)), (CAROL, END_FORK)]
    assert {t: d.state for t, d in s.dialogs.items()} == {BOB: "established", CAROL: "moratorium"}
    s.handle(MessageSent(ack_for(to_tag=CAROL)))
    s.handle(MessageSent(from_alice("BYE", 2, to_tag=CAROL)))
    assert s.dialog(CAROL).state == "mortal" and s.dialog(BOB).state == "established"


def test_dialog_set_non_2xx_final_ends_every_early_dialog_rfc3261_13_2_2_3() -> None:
    s = caller_set()
    s.handle(ResponseReceived(answer(INVITE, 180, tag=BOB)))
    s.handle(ResponseReceived(answer(INVITE, 183, tag=CAROL)))
    got = s.handle(ResponseReceived(answer(INVITE, 486, tag=CAROL)))
    assert sorted(got, key=repr) == sorted(
        [(BOB, ToTU("terminated")), (CAROL, ToTU("terminated"))], key=repr
    )
    assert {d.state for d in s.dialogs.values()} == {"morgue"}


def test_the_ack_of_a_non_2xx_from_a_fork_with_no_dialog_ends_nothing_more_rfc3261_17_1_1_3(
) -> None:
    # forking (RFC 3261 §16.7 step 6): Carol rang, the proxy forwards Bob's 603 (he sent no
    # provisional): the 603 ends Carol's early dialog (§13.2.2.3); its ACK, part of the INVITE
    # client transaction, names Bob's tag, which has no dialog, and is nothing to the set
    s = caller_set()
    s.handle(ResponseReceived(answer(INVITE, 180, tag=CAROL)))
    assert s.handle(ResponseReceived(answer(INVITE, 603, tag=BOB))) == [
        (CAROL, ToTU("terminated"))
    ]
    assert s.handle(MessageSent(ack_for(to_tag=BOB))) == []
    assert {t: d.state for t, d in s.dialogs.items()} == {CAROL: "morgue"}


def test_dialog_set_answers_481_to_a_request_for_no_dialog_rfc3261_12_2_2() -> None:
    s = caller_set()
    s.handle(ResponseReceived(answer(INVITE, 200, tag=BOB)))
    stranger = make_request("INFO", call_id=CALL_ID, cseq=1, from_tag="nobody", to_tag=ALICE)
    assert s.handle(RequestReceived(stranger)) == [
        ("nobody", Respond(stranger, 481, rfc="RFC 3261 §12.2.2"))
    ]
    wrong_local = make_request("UPDATE", call_id=CALL_ID, cseq=1, from_tag=BOB, to_tag="other")
    assert s.handle(RequestReceived(wrong_local)) == [
        (BOB, Respond(wrong_local, 481, rfc="RFC 3261 §12.2.2"))
    ]


def test_dialog_set_answers_481_to_a_bye_for_no_dialog_and_absorbs_an_ack_rfc3261_15_1_2() -> None:
    s = caller_set()
    s.handle(ResponseReceived(answer(INVITE, 200, tag=BOB)))
    bye = make_request("BYE", call_id=CALL_ID, cseq=9, from_tag="nobody", to_tag=ALICE)
    assert s.handle(RequestReceived(bye)) == [("nobody", Respond(bye, 481, rfc="RFC 3261 §15.1.2"))]
    untagged = make_request("BYE", call_id=CALL_ID, cseq=9, from_tag=BOB)
    assert s.handle(RequestReceived(untagged)) == [
        (BOB, Respond(untagged, 481, rfc="RFC 3261 §15.1.2"))
    ]
    ack = make_request("ACK", call_id=CALL_ID, cseq=1, from_tag="nobody", to_tag=ALICE)
    assert s.handle(RequestReceived(ack)) == []


def test_dialog_set_routes_the_callees_dialog_and_learns_its_local_tag() -> None:
    s = DialogSet(seed=3)
    s.start(RequestReceived(INVITE))
    assert s.role == "callee" and s.local_tag == ""
    s.handle(MessageSent(answer(INVITE, 200, ANSWER)))
    assert s.local_tag == BOB
    s.handle(RequestReceived(ack_for()))
    bye = from_alice("BYE", 2)
    assert s.handle(RequestReceived(bye)) == [(ALICE, Respond(bye, 200, rfc="RFC 3261 §15.1.2"))]
    assert s.dialog(ALICE).state == "mortal"


def test_dialog_set_tracks_the_transactions_its_dialogs_took_rfc5407_appendix_c() -> None:
    s = DialogSet(seed=3)
    s.start(RequestReceived(INVITE))
    assert s.tracks("server", "INVITE", 1)  # the callee's INVITE server transaction
    assert not s.tracks("client", "INVITE", 1)
    s.handle(MessageSent(answer(INVITE, 200, ANSWER)))
    s.handle(RequestReceived(ack_for()))
    s.handle(RequestReceived(from_alice("BYE", 2)))
    assert s.tracks("server", "BYE", 2)
    assert not s.tracks("server", "CANCEL", 1)  # a CANCEL never is a dialog's


def test_dialog_set_glare_timer_is_routed_to_the_dialog_running_it() -> None:
    s = caller_set(seed=9)
    s.handle(ResponseReceived(answer(INVITE, 200, tag=BOB)))
    s.handle(MessageSent(ack_for()))
    ours = from_alice("INVITE", 2, OFFER)
    s.handle(MessageSent(ours))
    ((tag, start), _) = s.handle(ResponseReceived(answer(ours, 491)))
    assert tag == BOB and isinstance(start, StartTimer)
    assert s.handle(TimerFired("Glare")) == [(BOB, ToTU("retry", ours))]
    assert s.handle(TimerFired("Glare")) == []


def test_dialog_set_rejects_foreign_messages_with_a_clear_error() -> None:
    s = caller_set()
    with pytest.raises(RemoteProtocolError, match="dialog set"):
        s.handle(ResponseReceived(response_to(make_request("INVITE", call_id="other"), 200)))
    with pytest.raises(LocalProtocolError, match="no dialog with remote tag"):
        s.handle(MessageSent(from_alice("INFO", 2, to_tag="ghost")))
    with pytest.raises(UnknownName, match="unknown dialog"):
        s.dialog("ghost")


def test_dialog_set_runs_the_same_on_the_reference_engine() -> None:
    def run(engine: Any) -> list[Any]:
        s = caller_set(seed=4, engine=engine)
        out: list[Any] = []
        for event in (
            ResponseReceived(answer(INVITE, 180, tag=BOB)),
            ResponseReceived(answer(INVITE, 180, tag=CAROL)),
            ResponseReceived(answer(INVITE, 200, tag=CAROL)),
            MessageSent(ack_for(to_tag=CAROL)),
            TransactionEnded("INVITE", 1, "client"),
        ):
            out.extend(s.handle(event))
        out.append(sorted((t, d.state) for t, d in s.dialogs.items()))
        return out

    decl = declare()
    assert run(TableMachine(decl, factory=DialogInstance)) == run(
        TransitionsMachine(decl, factory=DialogInstance)
    )


def test_dialog_instance_fields_and_seeded_random_compare_by_value() -> None:
    a, b = DialogInstance(seed=1), DialogInstance(seed=1)
    assert a.rng == b.rng
    a.rng.random()
    assert a.rng != b.rng
    fields = dialog.DialogInstance.FIELDS  # every field, the runtime Instance's first
    assert fields[: len(Instance.FIELDS)] == Instance.FIELDS
    assert set(fields) >= {"role", "call_id", "local_tag", "remote_tag", "transactions"}
    assert {n: getattr(a, n) for n in fields} != {n: getattr(b, n) for n in fields}


def test_dialog_instances_of_both_engines_hold_the_same_random_state_after_a_draw() -> None:
    """The lockstep tests compare instances slot by slot: the seed, and the generator once
    a draw made it (by its state), so a draw taken by one engine only would show."""
    table, ref = at("callee", "early", seed=5), at("callee", "early", seed=5, kind="transitions")
    for d in (table, ref):
        (action,) = d(RequestReceived(from_alice("INVITE", 2, OFFER + "2")))
        _retry_after(action)  # a 500 with Retry-After: one draw
    names = ("seed", "_rng", "state", "pending_server", "transactions")
    assert [getattr(table.inst, n) for n in names] == [getattr(ref.inst, n) for n in names]
    assert table.inst._rng is not None and table.inst._rng == ref.inst._rng
    assert DialogInstance(seed=5)._rng != table.inst._rng  # None: not built, not equal


def test_dialog_set_refuses_what_is_no_input_of_a_dialog_with_a_clear_error() -> None:
    s = caller_set()
    with pytest.raises(RemoteProtocolError, match="not an input of a dialog"):
        s.handle(Respond(INVITE, 200))  # type: ignore[arg-type]
    with pytest.raises(RemoteProtocolError, match="not an input of a dialog"):
        s.handle(ResponseReceived)  # type: ignore[arg-type]


# -- which rule a reported outcome names (the rule about the request's method first) ----------


def reported(actions: Sequence[Any]) -> list[tuple[int, str, str]]:
    return [(a.code, a.direction, a.rfc) for a in actions if isinstance(a, ReportOutcome)]


@pytest.mark.parametrize(
    ("method", "rfc"), [("BYE", "RFC 3261 §15.1.2"), ("INFO", "RFC 3261 §12.2.2")]
)
def test_a_481_sent_from_morgue_names_the_rule_of_its_method_rfc3261_15_1_2_and_12_2_2(
    method: str, rfc: str
) -> None:
    d = at("caller", "morgue")
    req = from_bob(method, 5)
    d(RequestReceived(req))
    assert reported(d(MessageSent(answer(req, 481)))) == [(481, "send", rfc)]


def test_a_481_to_our_info_in_mortal_is_not_reported_as_the_rule_for_our_bye_rfc3261_15_1_1() -> (
    None
):
    d = at("caller", "mortal")
    bye_answer = d(ResponseReceived(answer(from_alice("BYE", 2), 481)))
    assert reported(bye_answer) == [(481, "receive", "RFC 3261 §15.1.1")]
    d = at("caller", "mortal")
    info = from_alice("INFO", 2)
    assert reported(d(ResponseReceived(answer(info, 481)))) == []
