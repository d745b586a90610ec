"""The UA core as one sans-IO element (`sipfsm.elements.endpoint.Endpoint`), driven here
through an `ActionLog` host: messages and timers in, actions out, time an input. Each test
is named after the rule of RFC 3261 it checks; the last ones hold the two engines to the
same actions (the Hypothesis lockstep of tests/test_reference.py, one level up)."""

from __future__ import annotations

from collections.abc import Hashable

import pytest
from conftest import make_request
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.decl.timers import Timing
from sipfsm.elements.endpoint import Endpoint, Machines, TransactionUser, Tx
from sipfsm.elements.host import ActionLog, CancelTimer, Count, EndpointAction, Send, SetTimer
from sipfsm.values.errors import LocalProtocolError
from sipfsm.values.message import MAGIC_COOKIE, Request, Response, cancel_for, response_to

ALICE = "alice"


def invite(cseq: int = 1, branch: str = "a1", to_tag: str = "", method: str = "INVITE") -> Request:
    return make_request(
        method,
        uri="sip:bob@bob.example.com",
        call_id="c1@alice",
        cseq=cseq,
        from_tag="alice-tag",
        to_tag=to_tag,
        branch=MAGIC_COOKIE + branch,
        sent_by="alice.example.com",
    )


class Answering(TransactionUser):
    """A TU that answers every request with ``code`` at once (or nothing: ``None``)."""

    def __init__(self, code: int | None = 200) -> None:
        super().__init__()
        self.code = code
        self.told: list[str] = []

    def request(self, endpoint: Endpoint, tx: Tx, request: Request, answered: bool) -> None:
        self.told.append(request.method)
        if self.code is not None and not answered and request.method != "ACK":
            endpoint.respond(tx, self.code)

    def ack(self, endpoint: Endpoint, ack: Request) -> None:
        self.told.append("ACK")


def uas(code: int | None = 200, profile: str = "rfc6026", engine: str = "table") -> tuple[
    Endpoint, ActionLog, Answering
]:
    tu = Answering(code)
    endpoint = Endpoint("bob", Machines(profile, Timing(), engine), tu)
    log = ActionLog()
    endpoint.start(log)
    return endpoint, log, tu


def sent(actions: list[EndpointAction]) -> list[str]:
    out = []
    for a in actions:
        if isinstance(a, Send):
            m = a.message
            text = f"{m.status} {m.cseq_method}" if isinstance(m, Response) else m.method
            out.append(text + (" (again)" if a.retransmission else ""))
    return out


def timers(actions: list[EndpointAction]) -> dict[Hashable, float]:
    return {a.key: a.seconds for a in actions if isinstance(a, SetTimer)}


def test_an_endpoint_does_no_io_and_says_what_to_do_as_values() -> None:
    endpoint, log, tu = uas()
    endpoint.receive(invite(), ALICE)
    actions = log.take()
    assert sent(actions) == ["200 INVITE"]
    assert all(isinstance(a, Send | SetTimer | CancelTimer | Count) or a.kind for a in actions)
    assert tu.told == ["INVITE"]
    assert log.take() == []  # nothing happens until something is given to it


def test_the_uas_core_retransmits_its_2xx_until_the_ack_rfc3261_13_3_1_4() -> None:
    endpoint, log, _ = uas()
    endpoint.receive(invite(), ALICE)
    first = log.take()
    ok = next(a.message for a in first if isinstance(a, Send))
    key = ("2xx", (ok.call_id, ok.cseq, ok.to_tag))
    assert timers(first)[key] == 0.5  # T1
    log.time = 0.5
    endpoint.timer(key)
    again = log.take()
    assert sent(again) == ["200 INVITE (again)"]
    assert timers(again)[key] == 1.0  # doubled (RFC 6026 §8.1: whatever the transport)
    ack = make_request("ACK", call_id=ok.call_id, cseq=1, from_tag="alice-tag", to_tag=ok.to_tag,
                  branch=MAGIC_COOKIE + "ack1", sent_by="alice.example.com")  # fmt: skip
    log.time = 0.7
    endpoint.receive(ack, ALICE)
    assert CancelTimer(key) in log.take()


class Clock:
    """Runs an endpoint's timers in time order on its `ActionLog` (the host's part)."""

    def __init__(self, endpoint: Endpoint, log: ActionLog) -> None:
        self.endpoint = endpoint
        self.log = log
        self.due: dict[Hashable, float] = {}
        self.actions: list[EndpointAction] = []

    def take(self) -> list[EndpointAction]:
        actions = self.log.take()
        for a in actions:
            if isinstance(a, SetTimer):
                self.due[a.key] = self.log.time + a.seconds
            elif isinstance(a, CancelTimer):
                self.due.pop(a.key, None)
        self.actions.extend(actions)
        return actions

    def run_until(self, end: float) -> None:
        self.take()
        while self.due:
            key = min(self.due, key=lambda k: (self.due[k], repr(k)))
            if self.due[key] > end:
                break
            self.log.time = self.due.pop(key)
            self.endpoint.timer(key)
            self.take()


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_a_2xx_never_acked_ends_the_session_with_a_bye_rfc3261_13_3_1_4(profile: str) -> None:
    endpoint, log, _ = uas(profile=profile)
    clock = Clock(endpoint, log)
    endpoint.receive(invite(), ALICE)
    clock.run_until(31.9)
    assert "BYE" not in sent(clock.actions)
    clock.run_until(40.0)
    assert sent(clock.actions).count("BYE") == 1  # 64*T1 after the first 2xx
    assert sent(clock.actions).count("200 INVITE (again)") >= 7  # T1, 2T1 ... up to T2


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_a_2xx_to_a_re_invite_never_acked_ends_the_dialog_with_a_bye_rfc3261_14_2(
    profile: str,
) -> None:
    endpoint, log, _ = uas(profile=profile)
    clock = Clock(endpoint, log)
    endpoint.receive(invite(), ALICE)
    ok = next(a.message for a in clock.take() if isinstance(a, Send))
    ack = make_request("ACK", call_id=ok.call_id, cseq=1, from_tag="alice-tag", to_tag=ok.to_tag,
                  branch=MAGIC_COOKIE + "ack1", sent_by="alice.example.com")  # fmt: skip
    endpoint.receive(ack, ALICE)
    log.time = 1.0
    endpoint.receive(invite(cseq=2, branch="a2", to_tag=ok.to_tag), ALICE)  # the re-INVITE
    clock.run_until(32.9)
    assert "BYE" not in sent(clock.actions)
    clock.run_until(40.0)
    # "If a UAS generates a 2xx response and never receives an ACK, it SHOULD generate a
    # BYE to terminate the dialog": 64*T1 after the 2xx to the re-INVITE
    assert sent(clock.actions).count("BYE") == 1


def test_a_bye_for_no_dialog_gets_481_from_the_core_rfc3261_12_2_2() -> None:
    endpoint, log, tu = uas()
    endpoint.receive(invite(method="BYE", to_tag="nobody", branch="b1", cseq=2), ALICE)
    assert sent(log.take()) == ["481 BYE"]
    assert tu.told == ["BYE"]  # the TU hears of it, already answered


def test_a_cancel_gets_200_and_its_invite_487_rfc3261_9_2() -> None:
    endpoint, log, _ = uas(code=None)  # a TU that lets it ring
    request = invite()
    endpoint.receive(request, ALICE)
    log.take()
    endpoint.receive(cancel_for(request), ALICE)
    assert sent(log.take()) == ["200 CANCEL", "487 INVITE"]


def test_a_cancel_matching_no_transaction_gets_481_rfc3261_9_2() -> None:
    endpoint, log, _ = uas()
    endpoint.receive(cancel_for(invite(branch="never-sent")), ALICE)
    assert sent(log.take()) == ["481 CANCEL"]


# -- the two engines, in lockstep ---------------------------------------------------------------

#: What can reach a UAS: the INVITE (again), its CANCEL, an ACK for the 2xx, a BYE, and any
#: of its timers firing.
STEPS = st.lists(
    st.sampled_from(["invite", "cancel", "ack", "bye", "timer", "later"]), max_size=12
)


def run(engine: str, profile: str, code: int | None, steps: list[str]) -> list[EndpointAction]:
    endpoint, log, _ = uas(code, profile, engine)
    request = invite()
    running: dict[Hashable, float] = {}
    out: list[EndpointAction] = []
    to_tag = ""
    for step in steps:
        if step == "invite":
            endpoint.receive(request, ALICE)
        elif step == "cancel":
            endpoint.receive(cancel_for(request), ALICE)
        elif step == "ack":
            endpoint.receive(
                make_request("ACK", call_id=request.call_id, cseq=1, from_tag="alice-tag",
                        to_tag=to_tag, branch=MAGIC_COOKIE + "ack", sent_by="alice.example.com"),
                ALICE,
            )  # fmt: skip
        elif step == "bye":
            endpoint.receive(invite(method="BYE", cseq=2, to_tag=to_tag, branch="bye"), ALICE)
        elif step == "timer" and running:
            key = min(running, key=lambda k: (running[k], repr(k)))
            log.time = running.pop(key)
            endpoint.timer(key)
        elif step == "later":
            log.time += 1.0
        actions = log.take()
        for a in actions:
            if isinstance(a, SetTimer):
                running[a.key] = log.time + a.seconds
            elif isinstance(a, CancelTimer):
                running.pop(a.key, None)
            elif isinstance(a, Send) and isinstance(a.message, Response) and a.message.to_tag:
                to_tag = a.message.to_tag
        out.extend(actions)
    return out


@settings(max_examples=60, deadline=None)
@given(
    steps=STEPS,
    profile=st.sampled_from(["rfc6026", "rfc3261"]),
    code=st.sampled_from([None, 180, 200, 486]),
)
def test_both_engines_drive_an_endpoint_to_the_same_actions(
    steps: list[str], profile: str, code: int | None
) -> None:
    assert run("table", profile, code, steps) == run("transitions", profile, code, steps)


def test_an_invite_while_our_own_has_no_dialog_yet_is_refused_not_a_second_call_rfc3261_14_1(
) -> None:
    endpoint = Endpoint("alice", Machines("rfc6026", Timing(), "table"), TransactionUser())
    log = ActionLog()
    endpoint.start(log)
    endpoint.send_request("INVITE", "bob", body=True)  # every response to it is lost
    log.take()
    with pytest.raises(LocalProtocolError, match=r"still in progress with no dialog yet"):
        endpoint.send_request("INVITE", "bob", body=True)  # meant as a re-INVITE
    assert sent(log.take()) == []
    endpoint.send_request("INVITE", "bob", body=True, new_call=True)  # a second call, asked for
    [second] = [a.message for a in log.take() if isinstance(a, Send)]
    assert (second.method, second.cseq, second.to_tag) == ("INVITE", 1, "")


# -- forking: RFC 3261 §13.2.2.4 under both profiles ---------------------------------------------


def forked_call(profile: str) -> tuple[Endpoint, ActionLog, Clock, Request]:
    """A UAC whose INVITE forked to two UASs (To tags b1 and b2), both ringing."""
    endpoint = Endpoint("alice", Machines(profile, Timing(), "table"), TransactionUser())
    log = ActionLog()
    endpoint.start(log)
    clock = Clock(endpoint, log)
    endpoint.send_request("INVITE", "bob", body=True)
    request = next(a.message for a in clock.take() if isinstance(a, Send))
    assert isinstance(request, Request)
    for t, tag in ((0.1, "b1"), (0.2, "b2")):
        log.time = t
        endpoint.receive(response_to(request, 180, to_tag=tag), "proxy")
        clock.take()
    return endpoint, log, clock, request


def dialogs_by_tag(endpoint: Endpoint) -> dict[str, str]:
    (call,) = endpoint.call_list
    return {tag: inst.state for tag, inst in call.dset.dialogs.items()}


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_a_late_2xx_from_another_fork_is_acked_then_ended_with_bye_rfc3261_13_2_2_4(
    profile: str,
) -> None:
    endpoint, log, clock, invite_sent = forked_call(profile)
    for t, tag in ((0.3, "b1"), (5.0, "b2")):  # the second 2xx 5 s later: still within 64*T1
        clock.run_until(t)
        log.time = t
        endpoint.receive(response_to(invite_sent, 200, to_tag=tag), "proxy")
        clock.take()
    first_sends = [
        (a.message.method, a.message.to_tag)
        for a in clock.actions
        if isinstance(a, Send) and isinstance(a.message, Request) and not a.retransmission
    ]
    assert first_sends == [("INVITE", ""), ("ACK", "b1"), ("ACK", "b2"), ("BYE", "b2")]
    assert dialogs_by_tag(endpoint) == {"b1": "established", "b2": "mortal"}


def test_early_dialogs_of_other_forks_live_64_t1_after_the_first_2xx_rfc3261_13_2_2_4() -> None:
    endpoint, log, clock, invite_sent = forked_call("rfc3261")
    log.time = 0.3
    endpoint.receive(response_to(invite_sent, 200, to_tag="b1"), "proxy")
    clock.run_until(32.2)  # the INVITE client transaction ended at once (RFC 3261 §17.1.1.2)
    assert dialogs_by_tag(endpoint) == {"b1": "established", "b2": "early"}
    clock.run_until(32.4)  # 64*T1 after the first 2xx: the INVITE transaction is completed
    assert dialogs_by_tag(endpoint) == {"b1": "established", "b2": "morgue"}


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_two_forks_answer_2xx_with_no_provisional_the_second_gets_a_bye_rfc3261_13_2_2_4(
    profile: str,
) -> None:
    endpoint = Endpoint("alice", Machines(profile, Timing(), "table"), TransactionUser())
    log = ActionLog()
    endpoint.start(log)
    clock = Clock(endpoint, log)
    endpoint.send_request("INVITE", "bob", body=True)
    invite_sent = next(a.message for a in clock.take() if isinstance(a, Send))
    assert isinstance(invite_sent, Request)
    for t, tag in ((0.3, "b1"), (0.4, "b2")):  # both 2xx first: no 1xx named a tag before
        clock.run_until(t)
        log.time = t
        endpoint.receive(response_to(invite_sent, 200, to_tag=tag), "proxy")
        clock.take()
    requests = [
        (a.message.method, a.message.to_tag)
        for a in clock.actions
        if isinstance(a, Send) and isinstance(a.message, Request) and not a.retransmission
    ]
    assert requests == [("INVITE", ""), ("ACK", "b1"), ("ACK", "b2"), ("BYE", "b2")]


# -- route sets (RFC 3261 §12.1.1, §12.1.2, §12.2.1.1, §13.2.2.4) --------------------------------

P1 = "<sip:p1.example.com;lr>"
P2 = "<sip:p2.example.com;lr>"
ALICE_CONTACT = ("Contact", "<sip:alice@alice.example.com>")


def routes_of(message: Request | Response) -> tuple[str, ...]:
    from sipfsm.values.routing import values

    return values(message.headers, "Route")


def uac_call(profile: str = "rfc6026") -> tuple[Endpoint, ActionLog, Request]:
    """Alice (outbound proxy p1) has sent an INVITE to Bob; the INVITE, as sent."""
    endpoint = Endpoint("alice", Machines(profile, Timing()), outbound_proxy="p1")
    log = ActionLog()
    endpoint.start(log)
    endpoint.send_request("INVITE", "bob", body=True)
    [sent_invite] = [a for a in log.take() if isinstance(a, Send)]
    assert sent_invite.dst == "p1" and isinstance(sent_invite.message, Request)
    return endpoint, log, sent_invite.message


def sends(log: ActionLog) -> list[Send]:
    return [a for a in log.take() if isinstance(a, Send)]


def answer(request: Request, status: int, *headers: tuple[str, str]) -> Response:
    contact = ("Contact", "<sip:bob@bob.example.com>")
    return response_to(request, status, to_tag="bob-tag", headers=(contact, *headers))


def test_the_ack_of_the_2xx_follows_the_record_route_reversed_rfc3261_12_1_2_13_2_2_4() -> None:
    endpoint, log, inv = uac_call()
    endpoint.receive(answer(inv, 200, ("Record-Route", f"{P2}, {P1}")), "p1")
    [ack] = [s for s in sends(log) if isinstance(s.message, Request)]
    assert isinstance(ack.message, Request) and ack.message.method == "ACK"
    # §16.12.1.1: the Request-URI is the remote target, the Route the route set, sent to P1
    assert ack.message.uri == "sip:bob@bob.example.com"
    assert routes_of(ack.message) == (P1, P2)
    assert ack.dst == "p1"


def test_the_2xx_recomputes_the_route_set_of_an_early_dialog_rfc3261_13_2_2_4() -> None:
    endpoint, log, inv = uac_call()
    endpoint.receive(answer(inv, 180, ("Record-Route", P1)), "p1")
    endpoint.receive(answer(inv, 200, ("Record-Route", P2), ("Record-Route", P1)), "p1")
    [ack] = [s for s in sends(log) if isinstance(s.message, Request)]
    assert isinstance(ack.message, Request) and routes_of(ack.message) == (P1, P2)


def test_a_target_refresh_changes_the_remote_target_not_the_route_set_rfc3261_12_2() -> None:
    endpoint, log, inv = uac_call()
    endpoint.receive(answer(inv, 200, ("Record-Route", f"{P2}, {P1}")), "p1")
    log.take()
    endpoint.send_request("INVITE", "bob", body=True)  # a re-INVITE
    [reinvite] = sends(log)
    assert isinstance(reinvite.message, Request) and reinvite.message.to_tag == "bob-tag"
    assert (reinvite.dst, reinvite.message.uri, routes_of(reinvite.message)) == (
        "p1", "sip:bob@bob.example.com", (P1, P2))
    # its 2xx names a new contact and another Record-Route: only the target follows (§12.2)
    ok = response_to(reinvite.message, 200, to_tag="bob-tag", headers=(
        ("Contact", "<sip:bob@bob2.example.com>"), ("Record-Route", "<sip:p9.example.com;lr>")))
    endpoint.receive(ok, "p1")
    [ack] = [s for s in sends(log) if isinstance(s.message, Request)]
    assert isinstance(ack.message, Request)
    assert (ack.dst, ack.message.uri, routes_of(ack.message)) == (
        "p1", "sip:bob@bob2.example.com", (P1, P2))
    endpoint.send_request("BYE", "bob", body=False)
    [bye] = sends(log)
    assert isinstance(bye.message, Request)
    assert (bye.dst, bye.message.uri, routes_of(bye.message)) == (
        "p1", "sip:bob@bob2.example.com", (P1, P2))


def test_a_cancel_and_the_ack_of_a_non_2xx_go_where_their_invite_went_rfc3261_9_1_17_1_1_3(
) -> None:
    endpoint, log, inv = uac_call(profile="rfc3261")
    endpoint.receive(answer(inv, 200, ("Record-Route", f"{P2}, {P1}")), "p1")
    log.take()
    endpoint.send_request("INVITE", "bob", body=True)
    [reinvite] = sends(log)
    assert isinstance(reinvite.message, Request)
    endpoint.receive(response_to(reinvite.message, 180, to_tag="bob-tag"), "p1")
    endpoint.cancel("bob")
    [cancel] = sends(log)
    assert isinstance(cancel.message, Request) and cancel.message.method == "CANCEL"
    # the same Request-URI and Route as the re-INVITE, to the same place (§9.1)
    assert (cancel.dst, cancel.message.uri, routes_of(cancel.message)) == (
        reinvite.dst, reinvite.message.uri, routes_of(reinvite.message))
    endpoint.receive(response_to(reinvite.message, 487, to_tag="bob-tag"), "p1")
    [ack] = [s for s in sends(log) if isinstance(s.message, Request)]
    assert isinstance(ack.message, Request) and ack.message.method == "ACK"
    assert ack.message.branch == reinvite.message.branch  # the INVITE's transaction's ACK
    assert (ack.dst, ack.message.uri, routes_of(ack.message)) == (
        reinvite.dst, reinvite.message.uri, routes_of(reinvite.message))


def received_invite(*headers: tuple[str, str]) -> Request:
    return make_request(
        "INVITE", uri="sip:bob@bob.example.com", call_id="c1@alice", from_tag="alice-tag",
        branch=MAGIC_COOKIE + "p2x", sent_by="p2.example.com", headers=(ALICE_CONTACT, *headers),
        body="v=0", vias=(("p1.example.com", MAGIC_COOKIE + "p1x"),
                          ("alice.example.com", MAGIC_COOKIE + "a1")))


def established(src: str, *headers: tuple[str, str]) -> tuple[Endpoint, ActionLog, Response]:
    """Bob answered 200 to an INVITE with ``headers`` from ``src`` and got its ACK; his 200."""
    endpoint, log, _ = uas(200)
    endpoint.receive(received_invite(*headers), src)
    [ok] = [s.message for s in sends(log) if isinstance(s.message, Response)
            and s.message.status == 200]
    assert isinstance(ok, Response)
    endpoint.receive(make_request(
        "ACK", uri="sip:bob@bob.example.com", call_id="c1@alice", from_tag="alice-tag",
        to_tag=ok.to_tag, branch=MAGIC_COOKIE + "p2a", sent_by="p2.example.com"), src)
    log.take()
    return endpoint, log, ok


def test_the_uas_copies_the_record_route_and_keeps_it_in_order_rfc3261_12_1_1() -> None:
    rr = (("Record-Route", P2), ("Record-Route", P1))
    endpoint, log, ok = established("p2", *rr)
    # every Record-Route of the request, in order, as it was (§12.1.1)
    assert tuple(h for h in ok.headers if h[0] == "Record-Route") == rr
    endpoint.send_request("BYE", "alice", body=False)
    [bye] = sends(log)
    assert isinstance(bye.message, Request)
    assert (bye.dst, bye.message.uri, routes_of(bye.message)) == (
        "p2", "sip:alice@alice.example.com", (P2, P1))


def test_a_strict_first_route_becomes_the_request_uri_of_the_bye_rfc3261_12_2_1_1() -> None:
    endpoint, log, _ = established("p1", ("Record-Route", "<sip:p1.example.com>"))
    endpoint.send_request("BYE", "alice", body=False)
    [bye] = sends(log)
    assert isinstance(bye.message, Request)
    assert (bye.dst, bye.message.uri, routes_of(bye.message)) == (
        "p1", "sip:p1.example.com", ("<sip:alice@alice.example.com>",))


def test_requests_in_the_dialog_do_not_change_the_uas_route_set_rfc3261_12_2() -> None:
    endpoint, log, ok = established("p2", ("Record-Route", f"{P2}, {P1}"))
    reinvite = make_request(
        "INVITE", uri="sip:bob@bob.example.com", call_id="c1@alice", cseq=2,
        from_tag="alice-tag", to_tag=ok.to_tag, branch=MAGIC_COOKIE + "p2y",
        sent_by="p2.example.com",
        headers=(ALICE_CONTACT, ("Record-Route", "<sip:p9.example.com;lr>")), body="v=0")
    endpoint.receive(reinvite, "p2")
    endpoint.receive(make_request(
        "ACK", uri="sip:bob@bob.example.com", call_id="c1@alice", cseq=2, from_tag="alice-tag",
        to_tag=ok.to_tag, branch=MAGIC_COOKIE + "p2z", sent_by="p2.example.com"), "p2")
    log.take()
    endpoint.send_request("BYE", "alice", body=False)
    [bye] = sends(log)
    assert isinstance(bye.message, Request)
    assert (bye.dst, routes_of(bye.message)) == ("p2", (P2, P1))


def test_a_pre_existing_route_set_names_the_outbound_proxy_rfc3261_8_1_1_1_12_1_2(
) -> None:
    endpoint = Endpoint("alice", Machines("rfc6026", Timing()), outbound_proxy="p1",
                        outbound_route=True)
    log = ActionLog()
    endpoint.start(log)
    endpoint.send_request("INVITE", "bob", body=True)
    [inv] = sends(log)
    assert isinstance(inv.message, Request)
    # the Request-URI names the callee, the Route the outbound proxy, where it goes (§8.1.2)
    assert (inv.dst, inv.message.uri, routes_of(inv.message)) == (
        "p1", "sip:bob@bob.example.com", ("<sip:p1.example.com;lr>",))
    endpoint.cancel("bob")
    endpoint.receive(answer(inv.message, 180), "p1")
    [cancel] = sends(log)
    assert isinstance(cancel.message, Request)  # §9.1: the CANCEL keeps the INVITE's Route
    assert (cancel.dst, routes_of(cancel.message)) == ("p1", ("<sip:p1.example.com;lr>",))
    # a dialog made without Record-Route has an empty route set, which "overrides any
    # pre-existing route set" (§12.1.2): its ACK goes to the remote target, with no Route
    endpoint2 = Endpoint("alice", Machines("rfc6026", Timing()), outbound_proxy="p1",
                         outbound_route=True)
    endpoint2.start(log)
    endpoint2.send_request("INVITE", "bob", body=True)
    [inv2] = sends(log)
    assert isinstance(inv2.message, Request)
    endpoint2.receive(answer(inv2.message, 200), "p1")
    [ack] = [s for s in sends(log) if isinstance(s.message, Request)]
    assert isinstance(ack.message, Request)
    assert (ack.dst, routes_of(ack.message)) == ("bob", ())
