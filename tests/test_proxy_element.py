"""The proxy element (sipfsm/elements/proxy.py), sans-IO: a UAC's requests and a UAS's
responses given to a `Proxy` on an `ActionLog`, what it sends read back (RFC 3261 §16)."""

from __future__ import annotations

from conftest import make_request

from sipfsm.decl.timers import Timing
from sipfsm.elements.endpoint import Machines
from sipfsm.elements.host import ActionLog, Send
from sipfsm.elements.proxy import Proxy, address_of
from sipfsm.values.message import Request, Response, cancel_for, response_to

AOR = "sip:bob@biloxi.example.com"
INVITE = make_request("INVITE", uri=AOR, call_id="c1", from_tag="a", branch="z9hG4bKalice1",
                 sent_by="alice.example.com", headers=(("Max-Forwards", "70"),))


def _proxy(profile: str = "rfc6026", **kw: object) -> tuple[Proxy, ActionLog]:
    machines = Machines(profile, Timing())
    location = {AOR: (("sip:bob@bob.example.com", 1.0), ("sip:bob@carol.example.com", 0.5))}
    proxy = Proxy("proxy", machines, location, **kw)  # type: ignore[arg-type]
    log = ActionLog()
    proxy.start(log)
    return proxy, log


def _sends(log: ActionLog) -> list[Send]:
    return [a for a in log.take() if isinstance(a, Send)]


def test_address_of_names_the_element_of_a_uri_or_sent_by() -> None:
    assert address_of("sip:bob@bob.example.com") == "bob"
    assert address_of("<sip:proxy.example.com;lr>") == "proxy"
    assert address_of("alice.example.com") == "alice"


def test_an_invite_is_answered_100_and_forked_to_every_contact_rfc3261_16_6() -> None:
    proxy, log = _proxy()
    proxy.receive(INVITE, "alice")
    sends = _sends(log)
    assert [(s.dst, _what(s.message)) for s in sends] == [
        ("alice", "100"), ("bob", "INVITE"), ("carol", "INVITE")]
    out = sends[1].message
    assert isinstance(out, Request)
    assert out.uri == "sip:bob@bob.example.com" and out.header("Max-Forwards") == "69"
    assert out.vias == ((INVITE.sent_by, INVITE.branch),)


def test_sequential_forking_tries_the_lower_q_after_the_higher_fails_rfc3261_16_6() -> None:
    proxy, log = _proxy(parallel=False)
    proxy.receive(INVITE, "alice")
    [_, to_bob] = _sends(log)
    assert to_bob.dst == "bob"
    assert isinstance(to_bob.message, Request)
    proxy.receive(response_to(to_bob.message, 486, to_tag="b"), "bob")
    sends = _sends(log)
    assert [(s.dst, _what(s.message)) for s in sends] == [("bob", "ACK"), ("carol", "INVITE")]


def test_a_486_is_acked_hop_by_hop_and_forwarded_upstream_rfc3665_3_9() -> None:
    proxy, log = _proxy(parallel=False)
    proxy.receive(make_request("INVITE", uri="sip:dave@dave.example.com", call_id="c2",
                          from_tag="a", branch="z9hG4bKalice2", sent_by="alice.example.com"),
                  "alice")
    [_, out] = _sends(log)
    assert isinstance(out.message, Request)
    proxy.receive(response_to(out.message, 486, to_tag="d"), "dave")
    sends = _sends(log)
    assert [(s.dst, _what(s.message)) for s in sends] == [("dave", "ACK"), ("alice", "486")]
    up = sends[1].message
    assert isinstance(up, Response) and up.vias == () and up.branch == "z9hG4bKalice2"


def test_a_cancel_gets_200_and_is_sent_on_every_ringing_branch_rfc3261_16_10() -> None:
    proxy, log = _proxy()
    proxy.receive(INVITE, "alice")
    _, to_bob, to_carol = _sends(log)
    for send, tag in ((to_bob, "b"), (to_carol, "c")):
        assert isinstance(send.message, Request)
        proxy.receive(response_to(send.message, 180, to_tag=tag), send.dst)
    assert [_what(s.message) for s in _sends(log)] == ["180", "180"]
    proxy.receive(cancel_for(INVITE), "alice")
    sends = _sends(log)
    assert [(s.dst, _what(s.message)) for s in sends] == [
        ("alice", "200"), ("bob", "CANCEL"), ("carol", "CANCEL")]
    for send in (to_bob, to_carol):
        assert isinstance(send.message, Request)
        proxy.receive(response_to(send.message, 487, to_tag="x"), send.dst)
    assert [(s.dst, _what(s.message)) for s in _sends(log)] == [
        ("bob", "ACK"), ("carol", "ACK"), ("alice", "487")]


def test_a_cancel_matching_no_context_is_forwarded_statelessly_rfc3261_16_10() -> None:
    proxy, log = _proxy()
    proxy.receive(cancel_for(make_request("INVITE", uri="sip:eve@eve.example.com")), "alice")
    [send] = _sends(log)
    assert (send.dst, _what(send.message)) == ("eve", "CANCEL")


def test_a_stray_response_is_dropped_under_rfc6026_and_forwarded_under_rfc3261_rfc6026_7_3(
) -> None:
    stray = response_to(make_request("INVITE", branch="z9hG4bKx", sent_by="proxy.example.com",
                                vias=(("alice.example.com", "z9hG4bKa"),)), 200, to_tag="z")
    for profile, expected in (("rfc6026", []), ("rfc3261", [("alice", "200")])):
        proxy, log = _proxy(profile)
        proxy.receive(stray, "bob")
        assert [(s.dst, _what(s.message)) for s in _sends(log)] == expected


def test_every_2xx_of_two_forks_is_forwarded_rfc3261_16_7() -> None:
    proxy, log = _proxy()
    proxy.receive(INVITE, "alice")
    _, to_bob, to_carol = _sends(log)
    assert isinstance(to_bob.message, Request) and isinstance(to_carol.message, Request)
    proxy.receive(response_to(to_bob.message, 200, to_tag="b"), "bob")
    proxy.receive(response_to(to_carol.message, 200, to_tag="c"), "carol")
    got = [(s.dst, _what(s.message)) for s in _sends(log)]
    assert got.count(("alice", "200")) == 2


def test_a_2xx_retransmission_after_the_branch_ended_is_forwarded_statelessly_rfc3261_16_7(
) -> None:
    # RFC 3261: the INVITE client transaction ends with its 2xx (§17.1.1.2); a 2xx sent
    # again then matches no client transaction and is forwarded statelessly (§16.7)
    proxy, log = _proxy("rfc3261", parallel=False)
    proxy.receive(INVITE, "alice")
    [_, to_bob] = _sends(log)
    assert isinstance(to_bob.message, Request)
    ok = response_to(to_bob.message, 200, to_tag="b")
    proxy.receive(ok, "bob")
    assert ("alice", "200") in [(s.dst, _what(s.message)) for s in _sends(log)]
    proxy.receive(ok, "bob")
    assert [(s.dst, _what(s.message), s.machine) for s in _sends(log)] == [
        ("alice", "200", "stateless")]


def test_a_cancel_after_the_context_ended_is_forwarded_statelessly_rfc3261_16_10() -> None:
    # §16.10: "If a response context is not found" the CANCEL is forwarded statelessly; a
    # context ends with its final response, while its server transaction may live on
    proxy, log = _proxy(parallel=False)
    proxy.receive(INVITE, "alice")
    [_, to_bob] = _sends(log)
    assert isinstance(to_bob.message, Request)
    proxy.receive(response_to(to_bob.message, 486, to_tag="b"), "bob")
    [_ack, to_carol] = _sends(log)
    assert isinstance(to_carol.message, Request)
    proxy.receive(response_to(to_carol.message, 486, to_tag="c"), "carol")
    _sends(log)
    proxy.receive(cancel_for(INVITE), "alice")
    [send] = _sends(log)
    assert (_what(send.message), send.machine) == ("CANCEL", "stateless")


def _what(message: Request | Response) -> str:
    return message.method if isinstance(message, Request) else str(message.status)
