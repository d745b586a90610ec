"""`sipfsm probe TARGET`: sipfsm plays a peer against a real SIP stack (the target acting as
a UAS) and judges what the target does, case by case, each verdict with its RFC section --
as h2spec does for HTTP/2.

Each case is declared once, as data (`Probe`: its id, the RFC section, what is sent, what
passes, and the name of the procedure that plays it); `PROBES` is the list, and the list
in docs/live.md is made from it (`sipfsm.render.docs`). A procedure (`_PLAYS`) sends
requests built here and waits for the target's messages, each wait bounded; it ends with a
`Verdict`: ``pass``, ``fail`` (a MUST broken, naming the rule), ``warn`` (a SHOULD not
followed, or a MAY the case cannot tell from a fault), ``inconclusive`` (the target did
not do what the case needs, for example it never answered), or ``skipped`` (the case does
not apply to the transport).

Safety: the target is only ever the address the user gave; every case has its own socket
(its own port) and Call-ID, stops by itself within `Probe.budget` seconds (scaled by T1),
sends a bounded number of messages, and keeps at most `MAX_RECEIVED` of the target's.
What the target sends that is not SIP is counted against the case, never raised.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Awaitable, Callable
from typing import IO, Final

from sipfsm.net.cases import PROBES, Probe, ProbeOptions, Verdict
from sipfsm.net.codec import Address
from sipfsm.net.host import NetError
from sipfsm.net.peer import Done, Peer, is_final, is_response, summary
from sipfsm.values.message import Message, Response

__all__ = ["parse_target", "run_probe", "run_probes"]


_TARGET = re.compile(r"(?:sips?:)?(?:([^@]+)@)?(\[[0-9A-Fa-f:.]+\]|[^:;]+)(?::(\d+))?(?:;.*)?$")


def parse_target(text: str) -> tuple[str, Address]:
    """``sip:user@host:port`` or ``host:port`` -> (user, (host, port)); `NetError` if not."""
    m = _TARGET.match(text.strip())
    if m is None or not m.group(2):
        raise NetError(f"target {text!r} is not sip:user@host:port or host:port")
    port = int(m.group(3) or 5060)
    if not 0 < port < 65536:
        raise NetError(f"target {text!r}: port {port} is not in 1-65535")
    return m.group(1) or "service", (m.group(2).strip("[]"), port)


# -- the procedures ------------------------------------------------------------------------


async def _invite(p: Peer, cseq: int = 1) -> tuple[str, Response]:
    """Send an INVITE and wait for its final response (inconclusive without one)."""
    branch = p.branch()
    p.send(p.request("INVITE", cseq, branch=branch, body=True))
    got = await p.wait(is_final("INVITE", cseq), p.options.patience + p.options.ring)
    if got is None:
        raise Done("inconclusive", "no final response to the INVITE")
    assert isinstance(got[1], Response)
    return branch, got[1]


async def _hang_up(p: Peer, response: Response, cseq: int) -> None:
    """End what a case opened: BYE an answered call (and wait briefly for its answer)."""
    if 200 <= response.status < 300:
        p.send(p.request("BYE", cseq, branch=p.branch(), to_tag=response.to_tag))
        await p.wait(is_final("BYE", cseq), 2.0)


async def _options(p: Peer) -> tuple[str, str]:
    p.send(p.request("OPTIONS", 1, branch=p.branch()))
    got = await p.wait(is_final("OPTIONS"), p.options.patience)
    if got is None:
        return "inconclusive", "no final response to OPTIONS"
    status = status_of(got[1])
    if status in (405, 501):
        return "fail", (
            f"answered {status}: the UAS does not support OPTIONS, and all UAs MUST (§11)"
        )
    return "pass", f"answered {status} after {got[0] * 1000:.0f} ms"


def status_of(m: Message) -> int:
    return m.status if isinstance(m, Response) else 0


async def _trying(p: Peer) -> tuple[str, str]:
    branch = p.branch()
    p.send(p.request("INVITE", 1, branch=branch, body=True))
    sent_at = p.exchanges[-1].t
    got = await p.wait(is_response("INVITE"), p.options.patience)
    if got is None:
        return "inconclusive", (
            f"no response to the INVITE at all within {p.options.patience:g} s"
        )
    t, first = got
    delay = (t - sent_at) * 1000
    final = await p.wait(is_final("INVITE"), p.options.patience)
    await _clean_invite(p, branch, final[1] if final else None, 1)
    if delay <= 200:
        return "pass", f"first response {summary(first)} after {delay:.0f} ms"
    return "fail", (
        f"the first response ({summary(first)}) came {delay:.0f} ms after the INVITE: "
        "a server transaction MUST send 100 Trying when the TU will not answer within 200 ms"
    )


async def _clean_invite(p: Peer, branch: str, final: Message | None, cseq: int) -> None:
    if isinstance(final, Response):
        p.send(p.ack_for(branch, final, cseq))
        await _hang_up(p, final, cseq + 1)
    else:
        p.send(p.request("CANCEL", cseq, branch=branch))
        got = await p.wait(is_final("INVITE", cseq), 2.0)
        if got is not None and isinstance(got[1], Response):
            p.send(p.ack_for(branch, got[1], cseq))


async def _retransmitted(p: Peer) -> tuple[str, str]:
    o = p.options
    branch, final = await _invite(p)
    first = next(t for t, m in p.responses("INVITE", 1) if m.status == final.status)
    await p.settle(7.5 * o.t1 + 0.3)  # copies due at T1, 3*T1, 7*T1 (T2 = 8*T1)
    times = [t for t, m in p.responses("INVITE", 1) if m.status == final.status]
    p.send(p.ack_for(branch, final, 1))
    await _hang_up(p, final, 2)
    rule = "§13.3.1.4" if final.status < 300 else "§17.2.1 (Timer G)"
    if len(times) < 3:
        return "fail", (
            f"{final.status} sent {len(times)} time(s) in {7.5 * o.t1 + 0.3:.1f} s without an ACK: "
            f"{rule} retransmits it after T1, then at doubling intervals"
        )
    intervals = [b - a for a, b in itertools.pairwise(times)]
    for i, got in enumerate(intervals[:3]):
        want = min(o.t1 * 2**i, o.t2)
        if abs(got - want) > max(0.4 * want, 0.1):
            return "fail", (
                f"{final.status} copy {i + 2} came {got * 1000:.0f} ms after the previous one; "
                f"{rule} says {want * 1000:.0f} ms (T1 doubling up to T2)"
            )
    shown = ", ".join(f"{x * 1000:.0f}" for x in intervals[:3])
    return "pass", f"{final.status} repeated after {shown} ms (first at {first * 1000:.0f} ms)"


async def _ack_absorbed(p: Peer) -> tuple[str, str]:
    o = p.options
    branch, final = await _invite(p)
    ack = p.ack_for(branch, final, 1)
    p.send(ack)
    acked_at = p.now
    await p.settle(0.2)
    p.send(ack)
    await p.settle(0.2)
    p.send(ack)
    await p.settle(2 * o.t1 + 0.2)
    await _hang_up(p, final, 2)
    answered = [m for _, m in p.responses("ACK")]
    if answered:
        return "fail", f"the ACK was answered with {answered[0].status}: an ACK is never answered"
    late = [
        t for t, m in p.responses("INVITE", 1)
        if m.status == final.status and t > acked_at + o.t1 + 0.1
    ]
    if late:
        return "fail", (
            f"{final.status} sent again {(late[0] - acked_at) * 1000:.0f} ms after the ACK: "
            "the ACK ends its retransmission (§13.3.1.4, §17.2.1)"
        )
    return "pass", "the ACKs were absorbed: no response, no more copies of the final response"


async def _expect(p: Peer, method: str, wanted: tuple[int, ...], why: str,
                  header: tuple[str, str] | None = None,
                  otherwise: str = "fail") -> tuple[str, str]:
    got = await p.wait(is_final(method), p.options.patience)
    if got is None:
        return "inconclusive", f"no final response to {method}"
    response = got[1]
    assert isinstance(response, Response)
    if response.status not in wanted:
        return otherwise, f"answered {response.status} {response.reason}: {why}"
    if header is not None:
        name, needle = header
        value = response.header(name)
        if value is None or needle.lower() not in value.lower():
            return "fail", f"{response.status} without {name}: {needle} ({why})"
    return "pass", f"answered {response.status} {response.reason}"


async def _bye_unknown(p: Peer) -> tuple[str, str]:
    p.send(p.request("BYE", 1, branch=p.branch(), to_tag="x-sipfsm-unknown"))
    got = await p.wait(is_final("BYE"), p.options.patience)
    if got is None:
        return "inconclusive", "no final response to BYE"
    status = status_of(got[1])
    if status == 481:
        return "pass", "answered 481 Call/Transaction Does Not Exist"
    if status < 300:
        return "warn", (
            f"accepted with {status}: a UAS MAY accept a request for a dialog it does not know "
            "(to recover after a restart, §12.2.2), but a BYE for a dialog that never was is "
            "better refused with 481"
        )
    return "fail", f"refused with {status}: a UAS that rejects it MUST answer 481 (§12.2.2)"


async def _cancel_unknown(p: Peer) -> tuple[str, str]:
    p.send(p.request("CANCEL", 1, branch=p.branch(), cseq_method="CANCEL"))
    return await _expect(
        p, "CANCEL", (481,), "a CANCEL matching no transaction SHOULD get 481 (§9.2)",
        otherwise="warn",
    )


async def _cancel_487(p: Peer) -> tuple[str, str]:
    branch = p.branch()
    p.send(p.request("INVITE", 1, branch=branch, body=True))
    got = await p.wait(is_response("INVITE"), p.options.patience)
    if got is None:
        return "inconclusive", "no response to the INVITE"
    if status_of(got[1]) >= 200:
        final = got[1]
        assert isinstance(final, Response)
        p.send(p.ack_for(branch, final, 1))
        await _hang_up(p, final, 2)
        return "inconclusive", f"the target answered {final.status} at once: nothing to cancel"
    p.send(p.request("CANCEL", 1, branch=branch))
    cancel = await p.wait(is_final("CANCEL"), p.options.patience)
    final_got = await p.wait(is_final("INVITE"), p.options.patience)
    if final_got is not None:
        final = final_got[1]
        assert isinstance(final, Response)
        p.send(p.ack_for(branch, final, 1))
        await _hang_up(p, final, 2)
    if cancel is None:
        return "fail", "no response to the CANCEL (§9.2: the UAS answers a CANCEL that matched)"
    c = status_of(cancel[1])
    if c == 487:
        return "fail", (
            "487 to the CANCEL itself: 487 answers the INVITE, the CANCEL gets 200 (§9.2)"
        )
    if c != 200:
        return "fail", f"{c} to a CANCEL that matched a transaction in Proceeding: §9.2 says 200"
    if final_got is None:
        return "warn", (
            "200 to the CANCEL, but no final response to the INVITE within "
            f"{p.options.patience:g} s: the UAS SHOULD "
            "answer it 487 at once (§9.2)"
        )
    f = status_of(final_got[1])
    if f != 487:
        if f < 300:
            return "inconclusive", f"the INVITE was answered {f} before the CANCEL took effect"
        return "warn", f"{f} to the cancelled INVITE: the UAS SHOULD answer 487 (§9.2)"
    return "pass", "200 to the CANCEL, 487 to the INVITE"


async def _cancel_after_final(p: Peer) -> tuple[str, str]:
    branch, final = await _invite(p)
    p.send(p.ack_for(branch, final, 1))
    await p.settle(0.1)
    p.send(p.request("CANCEL", 1, branch=branch))
    got = await p.wait(is_final("CANCEL"), p.options.patience)
    await _hang_up(p, final, 2)
    late = [m for _, m in p.responses("INVITE", 1) if m.status == 487]
    if late:
        return "fail", (
            "487 to an INVITE already answered: a CANCEL after the final response has no "
            "effect on the responses to it (§9.2)"
        )
    if got is None:
        return "inconclusive", "no response to the CANCEL"
    c = status_of(got[1])
    if c in (200, 481):
        return "pass", f"{c} to the CANCEL, the call unchanged"
    return "warn", f"{c} to the CANCEL: §9.2 says 200 if it matched a transaction, else 481"


async def _unknown_method(p: Peer) -> tuple[str, str]:
    p.send(p.request("FOOBAR", 1, branch=p.branch()))
    got = await p.wait(is_final("FOOBAR"), p.options.patience)
    if got is None:
        return "inconclusive", "no final response to FOOBAR"
    r = got[1]
    assert isinstance(r, Response)
    if r.status == 501:
        return "pass", "501 (Not Implemented), as §21.5.2 allows for a method not recognised"
    if r.status != 405:
        return "warn", (
            f"answered {r.status} {r.reason}: a method the UAS does not support gets 405 "
            "(§8.2.1), or 501 if it does not recognise it (§21.5.2)"
        )
    if r.header("Allow") is None:
        return "fail", "405 without Allow: §8.2.1 and §21.4.6 require the list of methods"
    return "pass", f"405 with Allow: {r.header('Allow')}"


async def _unsupported_require(p: Peer) -> tuple[str, str]:
    p.send(p.request("OPTIONS", 1, branch=p.branch(), headers=("Require: x-sipfsm-unknown",)))
    got = await p.wait(is_final("OPTIONS"), p.options.patience)
    if got is not None and status_of(got[1]) in (405, 501):
        # §8.2: the method is inspected (§8.2.1) before the header fields (§8.2.2)
        return "inconclusive", (
            f"OPTIONS itself was refused ({status_of(got[1])}) before its Require was looked "
            "at: method inspection comes first (§8.2)"
        )
    return await _expect(
        p, "OPTIONS", (420,), "an unsupported Require gets 420 (§8.2.2.3)",
        ("Unsupported", "x-sipfsm-unknown"),
    )


async def _lower_cseq(p: Peer) -> tuple[str, str]:
    branch, final = await _invite(p, cseq=10)
    if final.status >= 300:
        p.send(p.ack_for(branch, final, 10))
        return "inconclusive", f"the INVITE was refused ({final.status}): no dialog to test in"
    p.send(p.ack_for(branch, final, 10))
    p.send(p.request("OPTIONS", 5, branch=p.branch(), to_tag=final.to_tag))
    verdict = await _expect(
        p, "OPTIONS", (500,), "a CSeq lower than the last one gets 500 (§12.2.2)"
    )
    await _hang_up(p, final, 11)
    return verdict


_PLAYS: Final[dict[str, Callable[[Peer], Awaitable[tuple[str, str]]]]] = {
    "options": _options,
    "trying": _trying,
    "retransmitted": _retransmitted,
    "ack_absorbed": _ack_absorbed,
    "bye_unknown": _bye_unknown,
    "cancel_unknown": _cancel_unknown,
    "cancel_487": _cancel_487,
    "cancel_after_final": _cancel_after_final,
    "unknown_method": _unknown_method,
    "unsupported_require": _unsupported_require,
    "lower_cseq": _lower_cseq,
}


async def run_probe(probe: Probe, options: ProbeOptions, log: IO[str] | None = None) -> Verdict:
    """Play one case; never raises for what the target does."""
    if options.transport not in probe.transports:
        return Verdict(probe, "skipped", f"applies to {', '.join(probe.transports)} only")
    peer = Peer(options, log)
    budget = probe.budget * options.t1 + 2 * options.patience + options.ring
    started = time.monotonic()
    try:
        await peer.open()
        outcome, reason = await asyncio.wait_for(_PLAYS[probe.play](peer), budget)
    except Done as done:
        outcome, reason = done.outcome, done.reason
    except TimeoutError:
        outcome, reason = "inconclusive", f"the case did not end within {budget:.1f} s"
    except (ConnectionError, OSError) as exc:
        outcome, reason = "inconclusive", f"the connection failed: {exc}"
    finally:
        await peer.close()
    if peer.garbage and outcome == "pass":
        reason += f" ({peer.garbage} message(s) that were not SIP or not of this call ignored)"
    return Verdict(probe, outcome, reason, peer.exchanges, time.monotonic() - started,
                   peer.garbage)


async def run_probes(
    options: ProbeOptions, ids: tuple[str, ...] = (), log: IO[str] | None = None
) -> list[Verdict]:
    """Play the cases ``ids`` (all when empty), ``options.jobs`` at a time, in the order
    of `PROBES`."""
    known = {p.id: p for p in PROBES}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise NetError(f"unknown case {', '.join(unknown)}; cases: {', '.join(known)}")
    chosen = [p for p in PROBES if not ids or p.id in ids]
    gate = asyncio.Semaphore(max(1, options.jobs))

    async def one(probe: Probe) -> Verdict:
        async with gate:
            return await run_probe(probe, options, log)

    return list(await asyncio.gather(*(one(p) for p in chosen)))
