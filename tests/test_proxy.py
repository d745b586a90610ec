"""The stateful proxy's response context (sipfsm/machines/proxy.py), RFC 3261 §16.3-§16.10,
driven through both engines."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import make_request

from sipfsm import model
from sipfsm.decl.language import PROFILES
from sipfsm.machines.proxy import (
    PROFILE_DIFFERENCES,
    ProxyInstance,
    best_response,
    branch_prefix,
    forwarded,
)
from sipfsm.values.events import (
    Action,
    Event,
    RequestReceived,
    Respond,
    ResponseReceived,
    SendMessage,
    StartTimer,
    TimerFired,
    ToTU,
    TransactionEnded,
    TransportError,
)
from sipfsm.values.message import Request, Response, cancel_for, response_to

INVITE = make_request("INVITE", call_id="c1", from_tag="a", branch="z9hG4bKuac1",
                 headers=(("Max-Forwards", "70"),))
BOB = "sip:bob@192.0.2.4"
CAROL = "sip:carol@192.0.2.5"


class Context:
    """One response context run by one engine."""

    def __init__(self, kind: str, profile: str = "rfc6026", **config: Any) -> None:
        self.engine = model.engine("proxy", profile, kind=kind)
        self.inst = ProxyInstance(**config)
        self.actions: list[Action] = []

    def start(self, request: Request = INVITE) -> list[Action]:
        from sipfsm.engine.runtime import start_instance

        self.actions = start_instance(self.engine, self.inst, RequestReceived(request))
        return self.actions

    def __call__(self, event: Event) -> list[Action]:
        self.actions = self.engine.handle(self.inst, event)
        return self.actions

    def forwards(self, actions: list[Action] | None = None) -> list[Request]:
        found = self.actions if actions is None else actions
        return [a.message for a in found if isinstance(a, ToTU) and a.what == "forward"
                and isinstance(a.message, Request)]

    @property
    def state(self) -> str:
        return self.inst.state


def _answer(request: Request, status: int, tag: str = "b") -> ResponseReceived:
    return ResponseReceived(response_to(request, status, to_tag=tag))


def _sent(actions: list[Action]) -> list[Response]:
    return [a.message for a in actions if isinstance(a, SendMessage)
            and isinstance(a.message, Response)]


def _responded(actions: list[Action]) -> list[int]:
    return [a.status for a in actions if isinstance(a, Respond)]


ENGINES = pytest.mark.parametrize("kind", model.ENGINES)


# -- validation (§16.3) and targets (§16.5) --------------------------------------------------


@ENGINES
def test_a_request_with_max_forwards_zero_gets_483_rfc3261_16_3(kind: str) -> None:
    ctx = Context(kind)
    actions = ctx.start(make_request("INVITE", headers=(("Max-Forwards", "0"),)))
    assert _responded(actions) == [483]
    assert ctx.state == "rejected" and not ctx.forwards()


@ENGINES
def test_a_request_uri_scheme_not_understood_gets_416_rfc3261_16_3(kind: str) -> None:
    ctx = Context(kind)
    assert _responded(ctx.start(make_request("INVITE", uri="tel:+15551234"))) == [416]


@ENGINES
def test_an_unknown_proxy_require_option_gets_420_with_unsupported_rfc3261_16_3(kind: str) -> None:
    ctx = Context(kind, supported=frozenset({"sec-agree"}))
    actions = ctx.start(make_request("OPTIONS", headers=(("Proxy-Require", "foo, sec-agree"),)))
    [respond] = [a for a in actions if isinstance(a, Respond)]
    assert respond.status == 420 and respond.headers == (("Unsupported", "foo"),)


@ENGINES
def test_a_request_that_comes_back_unchanged_gets_482_rfc3261_16_3(kind: str) -> None:
    ctx = Context(kind)
    out = ctx.forwards(ctx.start())[0]
    looped = make_request("INVITE", uri=INVITE.uri, call_id="c1", from_tag="a",
                     branch="z9hG4bKother", sent_by="p2.example.com",
                     vias=((out.sent_by, out.branch), *out.vias))
    assert _responded(Context(kind).start(looped)) == [482]


@ENGINES
def test_a_request_that_spirals_with_a_new_request_uri_is_forwarded_rfc3261_16_3(kind: str) -> None:
    ctx = Context(kind)
    out = ctx.forwards(ctx.start())[0]
    spiral = make_request("INVITE", uri="sip:bob@biloxi.example.com;user=other", call_id="c1",
                     from_tag="a", branch="z9hG4bKother", sent_by="p2.example.com",
                     vias=((out.sent_by, out.branch), *out.vias))
    second = Context(kind)
    assert second.forwards(second.start(spiral))


@ENGINES
def test_an_empty_target_set_gets_480_rfc3261_16_5(kind: str) -> None:
    ctx = Context(kind, groups=())
    assert _responded(ctx.start()) == [480]


# -- forwarding (§16.6) --------------------------------------------------------------------


@ENGINES
def test_an_invite_is_forwarded_with_100_trying_and_timer_c_rfc3261_16_6(kind: str) -> None:
    ctx = Context(kind, record_route="sip:proxy.example.com")
    actions = ctx.start()
    assert _responded(actions) == [100]
    [out] = ctx.forwards()
    assert out.uri == BOB
    assert out.header("Max-Forwards") == "69"
    assert out.header("Record-Route") == "<sip:proxy.example.com;lr>"
    assert (out.sent_by, out.vias) == ("proxy.example.com", ((INVITE.sent_by, INVITE.branch),))
    assert out.branch.startswith(branch_prefix("proxy.example.com", INVITE))
    [timer] = [a for a in actions if isinstance(a, StartTimer)]
    assert timer.name == "C" and timer.seconds > 180  # larger than 3 minutes (step 11)


@ENGINES
def test_a_strict_router_s_record_route_has_no_lr_rfc3261_16_12_1_2(kind: str) -> None:
    # an RFC 2543 proxy (not loose): what a loose router must route around (§16.6 step 6)
    ctx = Context(kind, record_route="sip:p3.example.com", loose=False)
    ctx.start()
    [out] = ctx.forwards()
    assert out.header("Record-Route") == "<sip:p3.example.com>"


@ENGINES
def test_a_non_invite_gets_no_100_trying_and_no_timer_c_rfc3261_16_2(kind: str) -> None:
    ctx = Context(kind)
    actions = ctx.start(make_request("OPTIONS", headers=(("Max-Forwards", "10"),)))
    assert _responded(actions) == [] and len(ctx.forwards()) == 1
    assert not any(isinstance(a, StartTimer) for a in actions)


@ENGINES
def test_parallel_forking_forwards_to_every_target_of_the_group_rfc3261_16_6(kind: str) -> None:
    ctx = Context(kind, groups=((BOB, CAROL),))
    ctx.start()
    outs = ctx.forwards()
    assert [o.uri for o in outs] == [BOB, CAROL]
    assert len({o.branch for o in outs}) == 2


@ENGINES
def test_sequential_forking_tries_the_next_target_after_a_failure_rfc3261_16_6(kind: str) -> None:
    ctx = Context(kind, groups=((BOB,), (CAROL,)))
    [first] = ctx.forwards(ctx.start())
    actions = ctx(_answer(first, 480))
    assert [o.uri for o in ctx.forwards(actions)] == [CAROL] and not _sent(actions)
    [second] = ctx.forwards(actions)
    actions = ctx(_answer(second, 486, "c"))
    assert [r.status for r in _sent(actions)] == [480]  # the lowest class: the first
    assert ctx.state == "lingering"


# -- responses (§16.7) -----------------------------------------------------------------------


@ENGINES
def test_a_180_is_forwarded_without_the_proxys_via_and_resets_timer_c_rfc3261_16_7(
    kind: str,
) -> None:
    ctx = Context(kind)
    [out] = ctx.forwards(ctx.start())
    actions = ctx(_answer(out, 180))
    [up] = _sent(actions)
    assert (up.status, up.branch, up.vias) == (180, INVITE.branch, ())
    assert any(isinstance(a, StartTimer) and a.name == "C" for a in actions)


@ENGINES
def test_a_100_is_never_forwarded_rfc3261_16_7(kind: str) -> None:
    ctx = Context(kind)
    [out] = ctx.forwards(ctx.start())
    assert _sent(ctx(_answer(out, 100, ""))) == []


@ENGINES
def test_every_2xx_is_forwarded_and_the_other_branches_cancelled_rfc3261_16_7(kind: str) -> None:
    ctx = Context(kind, groups=((BOB, CAROL),))
    bob, carol = ctx.forwards(ctx.start())
    ctx(_answer(carol, 180, "c"))
    actions = ctx(_answer(bob, 200))
    assert [r.status for r in _sent(actions)] == [200]
    assert [a.message for a in actions if isinstance(a, ToTU) and a.what == "cancel"] == [carol]
    assert ctx.state == "completed"
    # the other fork answers 200 too before the CANCEL: forwarded as well (§16.7 step 5)
    actions = ctx(_answer(carol, 200, "c"))
    assert [r.status for r in _sent(actions)] == [200]
    assert ctx.state == "lingering"


def test_a_second_2xx_goes_statelessly_under_rfc3261_and_through_the_transaction_under_6026_rfc6026_8_3(  # noqa: E501
) -> None:
    for profile, kind in (("rfc6026", SendMessage), ("rfc3261", ToTU)):
        ctx = Context("table", profile, groups=((BOB, CAROL),))
        bob, carol = ctx.forwards(ctx.start())
        ctx(_answer(bob, 200))
        actions = ctx(_answer(carol, 200, "c"))
        passed = [
            a for a in actions if isinstance(a, SendMessage | ToTU) and a != ToTU("terminated")
        ]
        assert [type(a) for a in passed] == [kind]
    assert set(PROFILE_DIFFERENCES["2xx after the server transaction"]) == set(PROFILES)


@ENGINES
def test_the_best_final_is_sent_once_every_branch_answered_rfc3261_16_7(kind: str) -> None:
    ctx = Context(kind, groups=((BOB, CAROL),))
    bob, carol = ctx.forwards(ctx.start())
    assert _sent(ctx(_answer(bob, 486))) == []
    assert ctx.state == "proceeding"
    actions = ctx(_answer(carol, 404, "c"))
    assert [r.status for r in _sent(actions)] == [486]  # the lowest class: any of it (first)
    assert ctx.state == "lingering"


@ENGINES
def test_a_6xx_cancels_the_other_branches_and_is_forwarded_when_they_end_rfc3261_16_7(
    kind: str,
) -> None:
    ctx = Context(kind, groups=((BOB, CAROL),))
    bob, carol = ctx.forwards(ctx.start())
    ctx(_answer(carol, 180, "c"))
    actions = ctx(_answer(bob, 603))
    assert _sent(actions) == []
    assert [a.message for a in actions if isinstance(a, ToTU) and a.what == "cancel"] == [carol]
    actions = ctx(_answer(carol, 487, "c"))
    assert [r.status for r in _sent(actions)] == [603]


@ENGINES
def test_a_503_as_the_best_response_becomes_500_rfc3261_16_7(kind: str) -> None:
    ctx = Context(kind)
    [out] = ctx.forwards(ctx.start())
    actions = ctx(_answer(out, 503))
    assert _responded(actions) == [500] and _sent(actions) == []


def test_best_response_prefers_6xx_then_the_lowest_class_then_401_407_rfc3261_16_7() -> None:
    def r(code: int) -> Response:
        return response_to(INVITE, code)

    assert best_response([r(486), r(600), r(302)]).status == 600  # type: ignore[union-attr]
    assert best_response([r(503), r(404), r(407), r(501)]).status == 407  # type: ignore[union-attr]
    assert best_response([]) is None


# -- Timer C (§16.8), transport errors (§16.9), CANCEL (§16.10) ------------------------------


@ENGINES
def test_timer_c_cancels_a_ringing_branch_rfc3261_16_8(kind: str) -> None:
    ctx = Context(kind)
    [out] = ctx.forwards(ctx.start())
    ctx(_answer(out, 180))
    actions = ctx(TimerFired("C"))
    assert [a.message for a in actions if isinstance(a, ToTU) and a.what == "cancel"] == [out]
    assert [r.status for r in _sent(ctx(_answer(out, 487)))] == [487]


@ENGINES
def test_timer_c_on_a_branch_that_never_answered_sends_408_rfc3261_16_8(kind: str) -> None:
    ctx = Context(kind)
    ctx.start()
    actions = ctx(TimerFired("C"))
    assert [r.status for r in _sent(actions)] == [408]
    assert ctx.state == "lingering"


@ENGINES
def test_a_transport_error_counts_as_503_and_the_proxy_sends_500_rfc3261_16_9(kind: str) -> None:
    ctx = Context(kind)
    [out] = ctx.forwards(ctx.start())
    assert _responded(ctx(TransportError(out.branch))) == [500]


@ENGINES
def test_a_cancel_gets_200_and_cancels_every_pending_branch_rfc3261_16_10(kind: str) -> None:
    ctx = Context(kind, groups=((BOB, CAROL),))
    bob, carol = ctx.forwards(ctx.start())
    actions = ctx(RequestReceived(cancel_for(INVITE)))
    assert _responded(actions) == [200]
    assert [a.message for a in actions if isinstance(a, ToTU) and a.what == "cancel"] == [
        bob, carol
    ]
    ctx(_answer(bob, 487))
    assert [r.status for r in _sent(ctx(_answer(carol, 487, "c")))] == [487]


@ENGINES
def test_the_context_lingers_until_its_transactions_end_rfc3261_16_7_step_9(kind: str) -> None:
    # "The proxy MUST maintain the response context until all of its associated
    # transactions have been terminated, even after forwarding a final response"
    ctx = Context(kind)
    [out] = ctx.forwards(ctx.start())
    ok = _answer(out, 200)
    assert [r.status for r in _sent(ctx(ok))] == [200]
    assert ctx.state == "lingering"
    # a 2xx the client transaction passes up again (RFC 6026 §8.4) is forwarded (step 5)
    assert [r.status for r in _sent(ctx(ok))] == [200]
    # a CANCEL finds the context: 200 at once, nothing left to cancel (§16.10)
    actions = ctx(RequestReceived(cancel_for(INVITE)))
    assert _responded(actions) == [200]
    assert not [a for a in actions if isinstance(a, ToTU) and a.what == "cancel"]
    assert ctx(TransactionEnded("INVITE", 1, "server")) == [ToTU("terminated")]
    assert ctx.state == "terminated"


def test_both_engines_forward_the_same_copy_rfc3261_16_6() -> None:
    copies = []
    for kind in model.ENGINES:
        ctx = Context(kind)
        copies.append(ctx.forwards(ctx.start()))
    assert copies[0] == copies[1]
    expected = forwarded(ProxyInstance(), INVITE, BOB, copies[0][0].branch)
    assert copies[0] == [expected]
