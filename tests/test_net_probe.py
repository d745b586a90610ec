"""The live tester (sipfsm.net.probe): against sipfsm's own UA (the model on the wire) every
case passes; against stacks that break a rule, the case fails, warns or is inconclusive
with the rule's RFC section; a target that is silent, or answers garbage, gets a verdict,
never a traceback or a hang."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from sipfsm.net.cases import PROBES, ProbeOptions, Verdict
from sipfsm.net.host import NetError, NetHost
from sipfsm.net.probe import parse_target, run_probes
from sipfsm.net.serve import ServeOptions, serve
from sipfsm.values.message import Request, Response
from sipfsm.values.wire import parse

#: Small timers on both sides keep the cases short (T2 = 8 * T1, as RFC 3261's defaults).
T1 = 0.2
#: Waits for answers short too (a case's answer here comes in milliseconds).
FAST: dict[str, Any] = {"patience": 1.5, "ring": 1.0}


async def _against_serve(
    ids: tuple[str, ...], transport: str = "udp", **serve_options: Any
) -> tuple[list[Verdict], NetHost]:
    ready: asyncio.Queue[NetHost] = asyncio.Queue()
    stop = asyncio.Event()
    options = ServeOptions(local=("127.0.0.1", 0), transport=transport, t1=T1, **serve_options)
    task = asyncio.ensure_future(serve(options, 60, None, ready.put_nowait, stop))
    host = await asyncio.wait_for(ready.get(), 10)
    try:
        verdicts = await run_probes(
            ProbeOptions(host.local, transport=transport, t1=T1, t2=8 * T1, jobs=6, **FAST), ids
        )
    finally:
        stop.set()
        await task
    return verdicts, host


def outcomes(verdicts: list[Verdict]) -> dict[str, str]:
    return {v.probe.id: v.outcome for v in verdicts}


def test_every_case_passes_against_sipfsm_serve_over_udp() -> None:
    verdicts, host = asyncio.run(_against_serve((), ring=0.5))
    assert outcomes(verdicts) == {p.id: "pass" for p in PROBES}, [
        (v.probe.id, v.reason) for v in verdicts if v.outcome != "pass"
    ]
    assert not host.stats.bad and host.pending_timers == 0


def test_every_case_passes_against_sipfsm_serve_over_tcp_but_udp_only_ones() -> None:
    verdicts, _ = asyncio.run(_against_serve((), "tcp", ring=0.5))
    want = {p.id: "pass" if "tcp" in p.transports else "skipped" for p in PROBES}
    assert outcomes(verdicts) == want, [(v.probe.id, v.reason) for v in verdicts]


def test_a_ua_answering_at_once_leaves_nothing_to_cancel_inconclusive_rfc3261_9_2() -> None:
    verdicts, _ = asyncio.run(_against_serve(("cancel-487",)))
    (v,) = verdicts
    assert v.outcome == "inconclusive" and "at once" in v.reason


def test_a_busy_ua_gives_no_dialog_to_test_the_cseq_rule_in_rfc3261_12_2_2() -> None:
    verdicts, _ = asyncio.run(_against_serve(("lower-cseq", "final-retransmitted"), answer=486))
    got = {v.probe.id: v for v in verdicts}
    assert got["lower-cseq"].outcome == "inconclusive"
    # Timer G: the 486 is retransmitted on the same schedule (§17.2.1)
    assert got["final-retransmitted"].outcome == "pass", got["final-retransmitted"].reason


# -- stacks that break the rules: a scripted fake UAS --------------------------------------

Rule = Callable[[Request, bytes], list[bytes]]


def _answer(request: Request, raw: bytes, status: int, reason: str, to_tag: str = "f",
            method: str | None = None, extra: str = "") -> bytes:
    text = raw.decode()
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
    keep = [h for h in head if h.split(":", 1)[0].lower() in ("via", "from", "call-id")]
    to = next(h for h in head if h.lower().startswith("to:"))
    if ";tag=" not in to:
        to += f";tag={to_tag}"
    cseq = f"CSeq: {request.cseq} {method or request.method}"
    lines = [f"SIP/2.0 {status} {reason}", *keep, to, cseq]
    if extra:
        lines.append(extra)
    return ("\r\n".join([*lines, "Content-Length: 0"]) + "\r\n\r\n").encode()


async def _against_fake(rule: Rule, ids: tuple[str, ...]) -> list[Verdict]:
    loop = asyncio.get_running_loop()

    class Fake(asyncio.DatagramProtocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            message = parse(data)
            if isinstance(message, Request):
                for out in rule(message, data):
                    self.transport.sendto(out, addr)

    transport, _ = await loop.create_datagram_endpoint(Fake, local_addr=("127.0.0.1", 0))
    try:
        target = transport.get_extra_info("sockname")
        return await run_probes(ProbeOptions(target, t1=T1, t2=8 * T1, jobs=11, **FAST), ids)
    finally:
        transport.close()


def test_487_to_the_cancel_itself_fails_rfc3261_9_2() -> None:
    def rule(r: Request, raw: bytes) -> list[bytes]:
        if r.method == "INVITE":
            return [_answer(r, raw, 180, "Ringing")]
        if r.method == "CANCEL":
            return [_answer(r, raw, 487, "Request Terminated")]
        return []

    (v,) = asyncio.run(_against_fake(rule, ("cancel-487",)))
    assert v.outcome == "fail" and "487 to the CANCEL itself" in v.reason
    assert v.probe.rfc == "RFC 3261 §9.2"


def test_a_first_response_later_than_200_ms_fails_rfc3261_17_2_1() -> None:
    def rule(r: Request, raw: bytes) -> list[bytes]:
        return []

    async def slow() -> list[Verdict]:
        loop = asyncio.get_running_loop()

        class Slow(asyncio.DatagramProtocol):
            def connection_made(self, transport: Any) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: Any) -> None:
                m = parse(data)
                if isinstance(m, Request) and m.method == "INVITE":
                    out = _answer(m, data, 486, "Busy Here")
                    loop.call_later(0.5, self.transport.sendto, out, addr)

        transport, _ = await loop.create_datagram_endpoint(Slow, local_addr=("127.0.0.1", 0))
        try:
            target = transport.get_extra_info("sockname")
            return await run_probes(ProbeOptions(target, t1=T1, **FAST), ("invite-trying",))
        finally:
            transport.close()

    (v,) = asyncio.run(slow())
    assert v.outcome == "fail" and "MUST send 100 Trying" in v.reason


def test_a_bye_for_no_dialog_accepted_with_200_only_warns_rfc3261_12_2_2() -> None:
    def rule(r: Request, raw: bytes) -> list[bytes]:
        return [_answer(r, raw, 200, "OK")] if r.method == "BYE" else []

    (v,) = asyncio.run(_against_fake(rule, ("bye-unknown-dialog",)))
    assert v.outcome == "warn" and "MAY accept" in v.reason


def test_a_bye_for_no_dialog_refused_with_another_code_fails_rfc3261_12_2_2() -> None:
    def rule(r: Request, raw: bytes) -> list[bytes]:
        return [_answer(r, raw, 404, "Not Found")] if r.method == "BYE" else []

    (v,) = asyncio.run(_against_fake(rule, ("bye-unknown-dialog",)))
    assert v.outcome == "fail" and "MUST answer 481" in v.reason


def test_a_405_without_allow_fails_rfc3261_8_2_1() -> None:
    def rule(r: Request, raw: bytes) -> list[bytes]:
        return [_answer(r, raw, 405, "Method Not Allowed")]

    (v,) = asyncio.run(_against_fake(rule, ("unknown-method",)))
    assert v.outcome == "fail" and "without Allow" in v.reason


def test_a_420_without_unsupported_fails_rfc3261_8_2_2_3() -> None:
    def rule(r: Request, raw: bytes) -> list[bytes]:
        return [_answer(r, raw, 420, "Bad Extension")]

    (v,) = asyncio.run(_against_fake(rule, ("unsupported-require",)))
    assert v.outcome == "fail" and "without Unsupported" in v.reason


def test_an_answered_ack_fails() -> None:
    def rule(r: Request, raw: bytes) -> list[bytes]:
        if r.method == "INVITE":
            return [_answer(r, raw, 486, "Busy Here")]
        return [_answer(r, raw, 200, "OK")] if r.method == "ACK" else []

    (v,) = asyncio.run(_against_fake(rule, ("ack-absorbed",)))
    assert v.outcome == "fail" and "an ACK is never answered" in v.reason


def test_a_final_response_never_retransmitted_fails_rfc3261_17_2_1() -> None:
    def rule(r: Request, raw: bytes) -> list[bytes]:
        return [_answer(r, raw, 486, "Busy Here")] if r.method == "INVITE" else []

    (v,) = asyncio.run(_against_fake(rule, ("final-retransmitted",)))
    assert v.outcome == "fail" and "Timer G" in v.reason


def test_a_silent_target_makes_every_case_inconclusive_within_its_budget() -> None:
    verdicts = asyncio.run(_against_fake(lambda r, raw: [], tuple(p.id for p in PROBES)))
    assert {v.outcome for v in verdicts} == {"inconclusive"}
    bounds = [p.budget * T1 + 2 * FAST["patience"] + FAST["ring"] for p in PROBES]
    assert all(v.seconds <= b + 0.5 for v, b in zip(verdicts, bounds, strict=True))


def test_a_target_answering_garbage_gets_a_verdict_with_the_garbage_counted() -> None:
    (v,) = asyncio.run(_against_fake(lambda r, raw: [b"\x00\xffnot sip\r\n\r\n"], ("options",)))
    assert v.outcome == "inconclusive" and v.garbage >= 1
    assert any(e.summary.startswith("(not SIP") for e in v.exchanges)


def test_a_response_the_target_floods_is_kept_only_up_to_the_limit() -> None:
    from sipfsm.net.peer import MAX_RECEIVED

    def rule(r: Request, raw: bytes) -> list[bytes]:
        return [_answer(r, raw, 100, "Trying", to_tag="")] * (MAX_RECEIVED + 50) + [
            _answer(r, raw, 200, "OK")
        ]

    (v,) = asyncio.run(_against_fake(rule, ("options",)))
    received = [e for e in v.exchanges if not e.sent]
    assert len(received) <= MAX_RECEIVED


def test_a_closed_port_is_inconclusive_not_a_traceback() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    verdicts = asyncio.run(
        run_probes(ProbeOptions(("127.0.0.1", port), transport="tcp", t1=T1, **FAST), ("options",))
    )
    assert verdicts[0].outcome == "inconclusive" and "cannot reach" in verdicts[0].reason


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("sip:bob@127.0.0.1:5070", ("bob", ("127.0.0.1", 5070))),
        ("127.0.0.1", ("service", ("127.0.0.1", 5060))),
        ("sip:alice@[::1]:5062;transport=tcp", ("alice", ("::1", 5062))),
    ],
)
def test_a_target_is_sip_user_at_host_port(text: str, want: tuple[str, Any]) -> None:
    assert parse_target(text) == want


@pytest.mark.parametrize("text", ["", "sip:bob@host:0", "sip:bob@host:70000"])
def test_a_target_that_is_no_address_is_a_clear_error(text: str) -> None:
    with pytest.raises(NetError):
        parse_target(text)


def test_an_unknown_case_is_a_clear_error_listing_the_cases() -> None:
    with pytest.raises(NetError, match="unknown case nope; cases: options"):
        asyncio.run(run_probes(ProbeOptions(("127.0.0.1", 9)), ("nope",)))


def test_responses_are_parsed_as_responses() -> None:
    assert isinstance(parse(_answer(
        Request("OPTIONS", "sip:a@b", "c", 1, "t", "", "z9hG4bKa", "h"),
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:x@h>;tag=t"
        b"\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n", 200, "OK")), Response)


def test_a_ua_that_does_not_support_options_fails_rfc3261_11() -> None:
    def rule(r: Request, raw: bytes) -> list[bytes]:
        return [_answer(r, raw, 501, "Not Implemented")]

    got = {v.probe.id: v for v in asyncio.run(
        _against_fake(rule, ("options", "unsupported-require", "unknown-method")))}
    assert got["options"].outcome == "fail" and "all UAs MUST" in got["options"].reason
    # §8.2: the method is inspected before the Require header field: not a §8.2.2.3 failure
    assert got["unsupported-require"].outcome == "inconclusive"
    assert got["unknown-method"].outcome == "pass"  # 501: a method not recognised (§21.5.2)
