"""The proxy element (sipfsm/elements/proxy.py), sans-IO: a UAC's requests and a UAS's
responses given to a `Proxy` on an `ActionLog`, what it sends read back (RFC 3261 §16)."""

from __future__ import annotations

from collections.abc import Hashable

from conftest import make_request
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.decl.timers import Timing
from sipfsm.elements.endpoint import Machines
from sipfsm.elements.host import ActionLog, Send
from sipfsm.elements.proxy import Proxy, address_of
from sipfsm.values.message import Request, Response, cancel_for, response_to

AOR = "sip:bob@biloxi.example.com"
INVITE = make_request("INVITE", uri=AOR, call_id="c1", from_tag="a", branch="z9hG4bKalice1",
                 sent_by="alice.example.com", headers=(("Max-Forwards", "70"),))


def _proxy(profile: str = "rfc6026", **kw: object) -> tuple[Proxy, _Clock]:
    machines = Machines(profile, Timing())
    location = {AOR: (("sip:bob@bob.example.com", 1.0), ("sip:bob@carol.example.com", 0.5))}
    proxy = Proxy("proxy", machines, location, **kw)  # type: ignore[arg-type]
    log = _Clock()
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


def test_a_2xx_retransmission_from_an_accepted_branch_is_forwarded_rfc6026_8_4(
) -> None:
    # RFC 6026: the INVITE client transaction stays in Accepted and passes every 2xx up
    # (§8.4); the proxy forwards "any 2xx response" (RFC 3261 §16.7 step 5) through its
    # server transaction, in Accepted too, so a UAC whose first 2xx was lost gets one
    proxy, log = _proxy("rfc6026", parallel=False)
    proxy.receive(INVITE, "alice")
    [_, to_bob] = _sends(log)
    assert isinstance(to_bob.message, Request)
    ok = response_to(to_bob.message, 200, to_tag="b")
    proxy.receive(ok, "bob")
    assert ("alice", "200") in [(s.dst, _what(s.message)) for s in _sends(log)]
    proxy.receive(ok, "bob")
    assert [(s.dst, _what(s.message), s.machine) for s in _sends(log)] == [
        ("alice", "200", "ist")]


def _failed_call(log: _Clock, proxy: Proxy) -> None:
    """Alice's INVITE, forked in sequence: Bob and Carol answer 486 (both ACKed, the 486
    forwarded upstream): every branch is done and the final response was sent."""
    proxy.receive(INVITE, "alice")
    [_, to_bob] = _sends(log)
    assert isinstance(to_bob.message, Request)
    proxy.receive(response_to(to_bob.message, 486, to_tag="b"), "bob")
    [_ack, to_carol] = _sends(log)
    assert isinstance(to_carol.message, Request)
    proxy.receive(response_to(to_carol.message, 486, to_tag="c"), "carol")
    assert ("alice", "486") in [(s.dst, _what(s.message)) for s in _sends(log)]


def test_the_response_context_is_kept_until_its_transactions_end_rfc3261_16_7_step_9(
) -> None:
    # §16.7 step 9: "The proxy MUST maintain the response context until all of its
    # associated transactions have been terminated, even after forwarding a final
    # response"; a CANCEL then finds it and gets 200 at once (§16.10), nothing is forwarded
    proxy, log = _proxy(parallel=False)
    _failed_call(log, proxy)
    assert proxy.live_transactions() and proxy.contexts
    proxy.receive(cancel_for(INVITE), "alice")
    assert [(s.dst, _what(s.message), s.machine) for s in _sends(log)] == [
        ("alice", "200", "nist")]
    _run_timers(proxy, log)
    assert proxy.live_transactions() == [] and not proxy.contexts


def test_a_cancel_finds_the_context_after_its_server_transaction_ended_rfc3261_16_10() -> None:
    # Alice's ACK of the 486 is lost: Timer H ends the INVITE server transaction, while the
    # branches' client transactions wait for Timer D. The context is still there (§16.7
    # step 9): a late CANCEL gets its 200 from the proxy, and is not forwarded
    proxy, log = _proxy(parallel=False)
    _failed_call(log, proxy)
    [h] = [k for k in log.due if isinstance(k, tuple) and k[1].startswith("ist") and k[2] == "H"]
    log.time = log.due.pop(h)
    proxy.timer(h)
    assert proxy.contexts and not [t for t in proxy.txs if t.startswith("ist")]
    proxy.receive(cancel_for(INVITE), "alice")
    assert [(s.dst, _what(s.message), s.machine) for s in _sends(log)] == [
        ("alice", "200", "nist")]


def test_a_cancel_after_every_transaction_of_the_context_ended_is_forwarded_statelessly_rfc3261_16_10(  # noqa: E501
) -> None:
    # §16.10: "If a response context is not found" the CANCEL is forwarded statelessly
    proxy, log = _proxy(parallel=False)
    _failed_call(log, proxy)
    _run_timers(proxy, log)  # Timers H (no ACK from alice) and D end every transaction
    proxy.receive(cancel_for(INVITE), "alice")
    [send] = _sends(log)
    assert (_what(send.message), send.machine) == ("CANCEL", "stateless")


class _Clock(ActionLog):
    """An `ActionLog` that also keeps the timers set and not cancelled, with their time."""

    def __init__(self) -> None:
        super().__init__()
        self.due: dict[Hashable, float] = {}

    def set_timer(self, key: Hashable, seconds: float) -> None:
        super().set_timer(key, seconds)
        self.due[key] = self.time + seconds

    def cancel_timer(self, key: Hashable) -> None:
        super().cancel_timer(key)
        self.due.pop(key, None)


def _run_timers(proxy: Proxy, log: _Clock) -> None:
    """Fire the proxy's timers in time order until none is left (what it sends is dropped)."""
    while log.due:
        key = min(log.due, key=lambda k: log.due[k])
        log.time = log.due.pop(key)
        proxy.timer(key)
    log.take()


def _what(message: Request | Response) -> str:
    return message.method if isinstance(message, Request) else str(message.status)


# -- routing (RFC 3261 §16.4, §16.5, §16.6 steps 4, 6, 7, §16.12) --------------------------------


def _router(name: str, **kw: object) -> tuple[Proxy, ActionLog]:
    proxy = Proxy(name, Machines("rfc6026", Timing()), {}, **kw)  # type: ignore[arg-type]
    log = ActionLog()
    proxy.start(log)
    return proxy, log


def _forward(proxy: Proxy, log: ActionLog, request: Request, src: str) -> Send:
    """What ``proxy`` sends on when given ``request`` (its 100 Trying aside)."""
    proxy.receive(request, src)
    [out] = [s for s in _sends(log) if isinstance(s.message, Request)]
    return out


def _shape(send: Send) -> tuple[str, str, tuple[str, ...]]:
    from sipfsm.values.routing import values

    message = send.message
    assert isinstance(message, Request)
    return send.dst, message.uri, values(message.headers, "Route")


def _bye(uri: str, route: str, sent_by: str = "u2.domain.com", cseq: int = 1) -> Request:
    return make_request("BYE", uri=uri, call_id="c9", cseq=cseq, from_tag="callee",
                        to_tag="caller", branch=f"z9hG4bKbye{cseq}", sent_by=sent_by,
                        headers=(("Route", route),) if route else ())


def test_the_basic_trapezoid_bye_follows_the_route_set_rfc3261_16_12_1_1() -> None:
    p1, log1 = _router("p1", record_route=True)
    p2, log2 = _router("p2", record_route=True)
    bye = _bye("sip:callee@u2.domain.com", "<sip:p1.example.com;lr>,<sip:p2.domain.com;lr>",
               sent_by="u1.example.com")
    # "P1 ... does see that it is the first value in the Route header field, so it removes
    # that value, and forwards the request to P2"
    out1 = _forward(p1, log1, bye, "u1")
    assert _shape(out1) == ("p2", "sip:callee@u2.domain.com", ("<sip:p2.domain.com;lr>",))
    # "It does see itself in the first Route header field value, so it removes it and
    # forwards the following to u2.domain.com based on a DNS lookup against the Request-URI"
    assert isinstance(out1.message, Request)
    out2 = _forward(p2, log2, out1.message, "p1")
    assert _shape(out2) == ("u2", "sip:callee@u2.domain.com", ())


def test_a_strict_router_is_traversed_as_the_rfc_shows_rfc3261_16_12_1_2() -> None:
    proxies = {n: _router(n, record_route=True, strict=n == "p3") for n in ("p1", "p2", "p3",
                                                                           "p4")}
    route = ("<sip:p4.example.com;lr>, <sip:p3.example.com>, <sip:p2.example.com;lr>, "
             "<sip:p1.example.com;lr>")
    message = _bye("sip:caller@u1.example.com", route)
    src = "u2"
    expected = [
        # P4: its Route removed, the next without lr: reformatted for the strict router
        ("p3", "sip:p3.example.com",
         ("<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>", "<sip:caller@u1.example.com>")),
        # "P3 is a strict router, so it forwards the following to P2"
        ("p2", "sip:p2.example.com;lr", ("<sip:p1.example.com;lr>",
                                         "<sip:caller@u1.example.com>")),
        # "P2 sees the request-URI is a value it placed into a Record-Route header field"
        ("p1", "sip:caller@u1.example.com", ("<sip:p1.example.com;lr>",)),
        # "P1 notices itself in the topmost Route header field value, so it removes it"
        ("u1", "sip:caller@u1.example.com", ()),
    ]
    for name, shape in zip(("p4", "p3", "p2", "p1"), expected, strict=True):
        proxy, log = proxies[name]
        out = _forward(proxy, log, message, src)
        assert _shape(out) == shape, name
        assert isinstance(out.message, Request)
        message, src = out.message, name


def test_each_record_route_goes_before_the_others_a_strict_one_without_lr_rfc3261_16_6_step_4(
) -> None:
    invite = make_request("INVITE", uri="sip:bob@bob.example.com", call_id="c8", from_tag="a",
                          branch="z9hG4bKa8", sent_by="alice.example.com",
                          headers=(("Record-Route", "<sip:p1.example.com;lr>"),))
    from sipfsm.values.routing import values

    for strict, mine in ((False, "<sip:p2.example.com;lr>"), (True, "<sip:p2.example.com>")):
        proxy, log = _router("p2", record_route=True, strict=strict)
        out = _forward(proxy, log, invite, "p1")
        assert values(out.message.headers, "Record-Route") == (mine, "<sip:p1.example.com;lr>")


def test_a_request_in_a_dialog_is_not_given_to_the_location_service_rfc3261_16_5() -> None:
    # the remote target is a contact: forwarded as it is named, not forked to the AOR's
    proxy, log = _proxy()
    bye = _bye(AOR, "<sip:proxy.example.com;lr>")
    assert _shape(_forward(proxy, log, bye, "alice")) == ("biloxi", AOR, ())
    # outside a dialog the same Request-URI is an address-of-record (§16.5)
    proxy.receive(INVITE, "alice")
    assert [s.dst for s in _sends(log)] == ["alice", "bob", "carol"]


def test_the_next_hop_of_local_policy_is_not_used_for_a_routed_request_rfc3261_16_6_step_6(
) -> None:
    p1, log = _router("p1", record_route=True, outbound="p2")
    # Bob's BYE reached P1 by its Route: delivered by the Request-URI, not sent back to P2
    bye = _bye("sip:alice@alice.example.com", "<sip:p1.example.com;lr>")
    assert _shape(_forward(p1, log, bye, "p2")) == ("alice", "sip:alice@alice.example.com", ())
    # a request with a Route to another proxy goes there
    bye2 = _bye("sip:bob@bob.example.com", "<sip:p1.example.com;lr>, <sip:p3.example.com;lr>",
                cseq=2)
    assert _forward(p1, log, bye2, "alice").dst == "p3"
    # the initial INVITE (outside a dialog, no Route) still goes to the outbound next hop
    invite = make_request("INVITE", uri="sip:bob@bob.example.com", call_id="c7", from_tag="a",
                          branch="z9hG4bKa7", sent_by="alice.example.com")
    assert _forward(p1, log, invite, "alice").dst == "p2"


def test_the_ack_of_a_2xx_is_routed_statelessly_by_its_route_rfc3261_16_11_16_12() -> None:
    p2, log = _router("p2", record_route=True)
    ack = make_request("ACK", uri="sip:bob@bob.example.com", call_id="c6", from_tag="a",
                       to_tag="b", branch="z9hG4bKack6", sent_by="p1.example.com",
                       headers=(("Route", "<sip:p2.example.com;lr>, <sip:p3.example.com>"),))
    p2.receive(ack, "p1")
    [out] = _sends(log)
    # its own Route removed (§16.4), reformatted for the strict P3 (§16.6 step 6)
    assert (_shape(out), out.machine) == (
        ("p3", "sip:p3.example.com", ("<sip:bob@bob.example.com>",)), "stateless")


def test_a_response_keeps_its_record_route_on_the_way_up_rfc3261_16_7_step_9() -> None:
    proxy, log = _router("p2", record_route=True)
    invite = make_request("INVITE", uri="sip:bob@bob.example.com", call_id="c5", from_tag="a",
                          branch="z9hG4bKa5", sent_by="p1.example.com",
                          headers=(("Record-Route", "<sip:p1.example.com;lr>"),),
                          vias=(("alice.example.com", "z9hG4bKa0"),))
    out = _forward(proxy, log, invite, "p1")
    assert isinstance(out.message, Request)
    rr = tuple(h for h in out.message.headers if h[0] == "Record-Route")
    ok = response_to(out.message, 200, to_tag="b", headers=(
        ("Contact", "<sip:bob@bob.example.com>"), *rr))
    proxy.receive(ok, "bob")
    [up] = [s for s in _sends(log) if isinstance(s.message, Response)]
    # the proxy rewrites no Record-Route (§16.7 step 8 is a MAY) and removes none (step 9)
    assert up.dst == "p1" and up.message.headers == ok.headers


_MACHINES = Machines("rfc6026", Timing())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=5), st.booleans())
def test_a_dialog_request_crosses_loose_and_strict_routers_to_its_target_rfc3261_16_12(
    strict: list[bool], from_callee: bool
) -> None:
    """Any mix of loose and strict record-routing proxies: a request built from the route
    set (§12.2.1.1) visits every proxy in route order and reaches the remote target with
    it as the Request-URI and no Route left (§16.4, §16.6 step 6, §16.12; RFC 2543 strict
    routers pop the first Route into the Request-URI)."""
    from sipfsm.values.routing import dialog_request, next_hop, uri_of, values

    names = [f"p{i + 1}" for i in range(len(strict))]
    proxies: dict[str, tuple[Proxy, ActionLog]] = {}
    for name, s in zip(names, strict, strict=True):
        proxy = Proxy(name, _MACHINES, {}, record_route=True, strict=s)
        log = ActionLog()
        proxy.start(log)
        proxies[name] = (proxy, log)
    # the Record-Route the INVITE collected, p1 (next to the caller) last (§16.6 step 4)
    record_route = [f"<sip:{n}.example.com{'' if s else ';lr'}>"
                    for n, s in zip(names, strict, strict=True)][::-1]
    # the callee's route set is it in order (§12.1.1), the caller's reversed (§12.1.2)
    routes = tuple(record_route if from_callee else record_route[::-1])
    target, ua = ("sip:alice@alice.example.com", "alice") if from_callee else (
        "sip:bob@bob.example.com", "bob")
    uri, route = dialog_request(target, routes)
    message = make_request("BYE", uri=uri, call_id="c4", from_tag="x", to_tag="y",
                           branch="z9hG4bKua4", sent_by="ua.example.com",
                           headers=(("Route", ", ".join(route)),) if route else ())
    dst = address_of(next_hop(uri, route, strict_first=bool(routes) and uri != target))
    visited = []
    src = "ua"
    while dst != ua:
        assert dst in proxies and len(visited) <= len(names), visited
        visited.append(dst)
        proxy, log = proxies[dst]
        out = _forward(proxy, log, message, src)
        assert isinstance(out.message, Request)
        message, src, dst = out.message, dst, out.dst
    assert visited == [address_of(uri_of(r)) for r in routes]
    assert message.uri == target and values(message.headers, "Route") == ()
