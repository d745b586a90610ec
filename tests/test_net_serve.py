"""sipfsm serve (sipfsm.net.serve): the model's UA and proxy on the wire. Through the
model's proxy to the model's UA, the probe cases give what RFC 3261 and RFC 6026 say a
stateful proxy lets through."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sipfsm.net.cases import ProbeOptions, Verdict
from sipfsm.net.host import NetError, NetHost
from sipfsm.net.probe import run_probes
from sipfsm.net.serve import ALLOWED, ServeOptions, serve

T1 = 0.2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"role": "b2bua"}, "role must be"),
        ({"answer": 180}, "final response code"),
        ({"ring": -1}, "--ring must be"),
        ({"role": "proxy"}, "needs --forward-to"),
    ],
)
def test_what_serve_cannot_run_is_a_clear_error(options: dict[str, Any], message: str) -> None:
    with pytest.raises(NetError, match=message):
        ServeOptions(**options)


def test_the_ua_allows_the_methods_its_allow_header_lists_rfc3261_8_2_1() -> None:
    assert {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS"} <= ALLOWED
    assert "FOOBAR" not in ALLOWED


async def _through_proxy(ids: tuple[str, ...]) -> tuple[dict[str, Verdict], NetHost, NetHost]:
    started: asyncio.Queue[NetHost] = asyncio.Queue()
    stop = asyncio.Event()
    ua_task = asyncio.ensure_future(serve(
        ServeOptions(local=("127.0.0.1", 0), ring=0.5, t1=T1), 60, None, started.put_nowait,
        stop))
    ua = await asyncio.wait_for(started.get(), 10)
    proxy_task = asyncio.ensure_future(serve(
        ServeOptions(role="proxy", local=("127.0.0.1", 0), forward_to=ua.local, t1=T1), 60,
        None, started.put_nowait, stop))
    proxy = await asyncio.wait_for(started.get(), 10)
    try:
        options = ProbeOptions(proxy.local, t1=T1, t2=8 * T1, jobs=6, patience=1.5, ring=1.0)
        verdicts = await run_probes(options, ids)
    finally:
        stop.set()
        await ua_task
        await proxy_task
    return {v.probe.id: v for v in verdicts}, ua, proxy


def test_through_the_models_proxy_the_uas_answers_come_back_rfc3261_16() -> None:
    ids = ("options", "invite-trying", "ack-absorbed", "bye-unknown-dialog", "cancel-487",
           "unknown-method", "unsupported-require", "lower-cseq")
    got, ua, proxy = asyncio.run(_through_proxy(ids))
    assert {k: v.outcome for k, v in got.items()} == dict.fromkeys(ids, "pass"), {
        k: v.reason for k, v in got.items()}
    # the proxy's 100 Trying comes first (§16.2), the CANCEL is answered hop by hop (§16.10)
    assert "100 Trying" in got["invite-trying"].reason
    assert not proxy.stats.bad and not ua.stats.bad


def test_a_cancel_matching_nothing_goes_on_statelessly_its_answer_dropped_rfc6026_8_2() -> None:
    # §16.10: no response context, so the CANCEL is forwarded statelessly; the UA's 481
    # then matches no client transaction, and RFC 6026 §8.2 says such a response MUST NOT
    # be forwarded: through a stateful proxy the case cannot see an answer. A CANCEL after
    # the final response still finds the context, kept until its transactions end (§16.7
    # step 9): the proxy answers it 200 itself (§16.10)
    got, _, _ = asyncio.run(_through_proxy(("cancel-unknown", "cancel-after-final")))
    assert {k: v.outcome for k, v in got.items()} == {
        "cancel-unknown": "inconclusive", "cancel-after-final": "pass"}


def test_a_2xx_retransmitted_by_the_ua_is_forwarded_by_the_proxy_rfc6026_8_4() -> None:
    got, _, _ = asyncio.run(_through_proxy(("final-retransmitted",)))
    assert got["final-retransmitted"].outcome == "pass", got["final-retransmitted"].reason
