"""Shared helpers of the model benchmarks (``benchmarks/bench_*.py``).

* `SCENARIOS`: realistic event sequences, one or two per machine, built from the message
  helpers of `sipfsm.values.message` (never from the tables under test): the creating event, then
  the events a transaction or dialog sees over UDP until it ends.
* `machine_line`: the machine a run happened on (CPUs, CPU model, Python, load), printed
  first by every benchmark so its figures are never read without it.
* `best_of`: the best of a few timed rounds, the usual defence against a shared machine.

A benchmark prints its figures next to a baseline measured in the same run, the ratio, and
one ``goal ...: met|NOT met`` line per goal; ``benchmarks/run.py`` collects those lines.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sipfsm.engine import native
from sipfsm.values.events import (
    Event,
    MessageSent,
    RequestReceived,
    ResponseReceived,
    TimerFired,
    TransactionEnded,
    TURequest,
    TUResponse,
)
from sipfsm.values.message import Request, ack_for_non_2xx, response_to

# -- the machine a run happened on -------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def load_average() -> str:
    try:
        one, five, _fifteen = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def machine_line() -> str:
    """``machine: 2 CPUs, AMD EPYC, Python 3.11.7, load average ...; sipfsm compiled ...``
    (which build ran: `sipfsm.engine.native`)."""
    return (
        f"machine: {os.cpu_count()} CPUs, {cpu_model()}, "
        f"{platform.python_implementation()} {platform.python_version()}, {load_average()}; "
        f"sipfsm {native.describe()}"
    )


# -- timing ------------------------------------------------------------------------------------


def best_of(rounds: int, prepare: Callable[[], Any], run: Callable[[Any], object]) -> float:
    """The shortest of ``rounds`` timings of ``run(prepare())`` in seconds. ``prepare`` is not
    timed; what ``run`` returns is kept until the clock has stopped (so freeing it is not
    timed either), and garbage is collected before each round."""
    return best_interleaved(rounds, {"": (prepare, run)})[""]


Contender = tuple[Callable[[], Any], Callable[[Any], object]]  # (prepare, run)


def best_interleaved(rounds: int, contenders: dict[str, Contender]) -> dict[str, float]:
    """`best_of` for several contenders, their rounds taken in turn (round 1 of each, then
    round 2 of each ...) so a change of load on a shared machine hits them alike."""
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, (prepare, run) in contenders.items():
            data = prepare()
            gc.collect()
            start = time.perf_counter()
            kept = run(data)
            best[name] = min(best[name], time.perf_counter() - start)
            del data, kept
    return best


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def goal_line(text: str, met: bool, detail: str) -> str:
    """``goal <text>: met (<detail>)`` -- the line `benchmarks/run.py` collects."""
    return f"goal {text}: {'met' if met else 'NOT met'} ({detail})"


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--smoke", action="store_true", help="a tiny run that only checks the script works"
    )
    return parser.parse_args()


# -- event sequences ----------------------------------------------------------------------------

UAS_TAG = "b7x1"


@dataclass(frozen=True)
class Scenario:
    """One realistic life of an instance: ``first`` creates it, ``rest`` is handled in order
    and ends it (every timer in ``rest`` is running when it fires: none is stale)."""

    name: str
    machine: str
    first: Event
    rest: tuple[Event, ...]
    end: str


def invite(n: int = 1) -> Request:
    """An initial INVITE after RFC 3261 §4's example (one Call-ID and branch per ``n``)."""
    return Request(
        "INVITE",
        uri="sip:bob@biloxi.example.com",
        call_id=f"a84b4c76e66710-{n}",
        cseq=314159,
        from_tag="1928301774",
        to_tag="",
        branch=f"z9hG4bK776asdhds{n}",
        sent_by="pc33.atlanta.example.com",
        headers=(("Max-Forwards", "70"),),
        body="v=0",
    )


def bye(n: int = 1) -> Request:
    return Request(
        "BYE",
        uri="sip:bob@192.0.2.4",
        call_id=f"a84b4c76e66710-{n}",
        cseq=314160,
        from_tag="1928301774",
        to_tag=UAS_TAG,
        branch=f"z9hG4bKnashds{n}",
        sent_by="pc33.atlanta.example.com",
    )


def _scenarios() -> tuple[Scenario, ...]:
    inv, by = invite(), bye()

    def answer(request: Request, status: int) -> ResponseReceived:
        return ResponseReceived(response_to(request, status, to_tag=UAS_TAG))

    def tu(request: Request, status: int) -> TUResponse:
        return TUResponse(response_to(request, status, to_tag=UAS_TAG))

    ack_486 = ack_for_non_2xx(inv, response_to(inv, 486, to_tag=UAS_TAG))
    ack_2xx = Request(
        "ACK", uri=inv.uri, call_id=inv.call_id, cseq=inv.cseq, from_tag=inv.from_tag,
        to_tag=UAS_TAG, branch="z9hG4bKack1", sent_by=inv.sent_by,
    )  # fmt: skip
    a, d, e, g, i, j, k, m = (TimerFired(n) for n in "ADEGIJKM")
    return (
        # RFC 3261 §17.1.1.2 / RFC 6026 §8.4: two retransmissions, ringing, answered
        Scenario("ict 2xx", "ict", TURequest(inv), (a, a, answer(inv, 180), answer(inv, 200), m),
                 "terminated"),
        # a busy callee: the 486 is ACKed, its retransmission ACKed again, Timer D ends it
        Scenario("ict 486", "ict", TURequest(inv),
                 (answer(inv, 180), answer(inv, 486), answer(inv, 486), d), "terminated"),
        # RFC 3261 §17.1.2.2: Timer E twice (once at T2 after the 100), 200, Timer K
        Scenario("nict", "nict", TURequest(by), (e, answer(by, 100), e, answer(by, 200), k),
                 "terminated"),
        # RFC 3261 §17.2.1 / RFC 6026 §8.5-8.7: 100 Trying, a retransmitted INVITE, 180, 200
        Scenario("ist 2xx", "ist", RequestReceived(inv),
                 (TimerFired("Trying"), RequestReceived(inv), tu(inv, 180), tu(inv, 200),
                  TimerFired("L")), "terminated"),
        # a 486 retransmitted on Timer G until the ACK, absorbed until Timer I
        Scenario("ist 486", "ist", RequestReceived(inv),
                 (tu(inv, 180), tu(inv, 486), g, RequestReceived(ack_486), i), "terminated"),
        # RFC 3261 §17.2.2: a retransmission absorbed in Trying, 200, one answered, Timer J
        Scenario("nist", "nist", RequestReceived(by),
                 (RequestReceived(by), tu(by, 200), RequestReceived(by), j), "terminated"),
        # RFC 5407 §2 Figure 1: the caller's dialog from its INVITE to Morgue
        Scenario("dialog", "dialog", MessageSent(inv),
                 (answer(inv, 180), answer(inv, 200), MessageSent(ack_2xx), MessageSent(by),
                  answer(by, 200), TransactionEnded("INVITE", inv.cseq, "client"),
                  TransactionEnded("BYE", by.cseq, "client")), "morgue"),
    )  # fmt: skip


SCENARIOS: tuple[Scenario, ...] = _scenarios()

#: The event that creates each machine, for the ``n``-th transaction (its own branch).
CREATORS: dict[str, Callable[[int], Event]] = {
    "ict": lambda n: TURequest(invite(n)),
    "nict": lambda n: TURequest(bye(n)),
    "ist": lambda n: RequestReceived(invite(n)),
    "nist": lambda n: RequestReceived(bye(n)),
    "dialog": lambda n: MessageSent(invite(n)),
}
