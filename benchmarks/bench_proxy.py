"""Benchmark of the stateful proxy (RFC 3261 §16): a proxied call beside the direct call, and
memory per live proxied request beside memory per live request at a user agent.

Run it with ``make bench`` (all benchmarks), ``.venv/bin/python benchmarks/run.py proxy``
(this one alone) or ``.venv/bin/python benchmarks/bench_proxy.py [--smoke]``.

* **calls/s, one core**: the *direct call* is `bench_sim`'s basic call (``rfc3665-3.1``:
  INVITE, 180, 200, ACK, BYE, 200 between two user agents, UDP, 1% loss per message); the
  *proxied call* is the same call with Alice's INVITE sent to a stateful proxy that
  forwards it to Bob (``PROXIED``: Alice's outbound proxy, RFC 3261 §8.1.2; no
  record-routing, so the ACK and the BYE go end to end, §12.2.1.1). The proxy adds two
  transactions (its INVITE server and client transactions) and a response context to the
  six machine instances of the direct call, and every message of the INVITE transaction
  crosses two links. `sipfsm.sim.run.simulate` with ``record=False`` and every call
  simulated (``reuse=False``; a run with a proxy is never reused), seeds 0, 1, 2 ..., the
  best of a few rounds, both calls' rounds taken in turn. The baseline is the direct call,
  measured in the same run: the ratio is the proxied call's cost in direct calls.
* **memory per live INVITE**: ``n`` distinct INVITEs received and left unanswered, all
  alive at once; what `tracemalloc` sees allocated and still held, divided by ``n``,
  requests included (each is built inside the measured window). At a `Proxy`: its INVITE
  server transaction, response context and INVITE client transaction (the forwarded copy
  of the request), with their matching entries. At a user agent (an `Endpoint` whose TU
  does not answer): its INVITE server transaction and the callee's dialog. Each beside its
  baseline, measured in the same run: the bare transactions the element needs at least,
  made by the machines' engines directly (`bench_create`'s figure): an ``ist`` for the UA,
  an ``ist`` and an ``ict`` for the proxy.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Hashable
from typing import Any

from common import arguments, best_interleaved, goal_line, invite, machine_line, rate

from sipfsm.decl.timers import Timing
from sipfsm.elements.endpoint import Endpoint, Machines
from sipfsm.elements.host import Host
from sipfsm.elements.proxy import Proxy
from sipfsm.engine.model import engine
from sipfsm.sim.run import load, simulate
from sipfsm.sim.scenario import Scenario, parse
from sipfsm.values.events import RequestReceived, TURequest
from sipfsm.values.frozen import replace
from sipfsm.values.message import Message, push_via

DIRECT = "rfc3665-3.1"
LOSS = 0.01

#: rfc3665-3.1 through a stateful proxy (Alice's outbound proxy)
PROXIED = """
name: proxied-call
title: rfc3665-3.1 through a stateful proxy
elements:
  alice: {role: ua, outbound_proxy: p1}
  p1: {role: proxy}
  bob: {role: ua}
network:
  default: {delay: 0.05}
script:
  alice:
    - {at: 0, send: INVITE, to: bob, offer: true}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 180}
    - {on: {request: INVITE, in_dialog: false}, after: 2.0, respond: 200, answer: true}
    - {on: {dialog: established}, after: 5.0, send: BYE, to: alice}
expect:
  - {seen: {from: p1, to: bob, request: INVITE, retransmission: false, count: 1}}
  - {seen: {from: p1, to: alice, status: 200, method: INVITE, retransmission: false, count: 1}}
  - {seen: {from: alice, to: bob, request: ACK, retransmission: false, count: 1}}
  - {seen: {from: bob, to: alice, request: BYE, retransmission: false, count: 1}}
  - {end_state: {element: alice, dialog: morgue}}
  - {end_state: {element: bob, dialog: morgue}}
  - {no_violations: true}
"""


def calls(sc: Scenario, n: int) -> int:
    """Run ``n`` calls (seeds 0 .. n-1), every one simulated; how many passed."""
    return sum(
        simulate(sc, seed=seed, loss=LOSS, transport="udp", record=False, reuse=False).passed
        for seed in range(n)
    )


def calls_per_second(smoke: bool) -> None:
    direct, proxied = load(DIRECT), parse(PROXIED, "bench_proxy.py:PROXIED")
    n, rounds = (30, 1) if smoke else (2000, 3)
    passed = {"direct": calls(direct, n), "proxied": calls(proxied, n)}  # also warms up
    best = best_interleaved(
        rounds,
        {
            "direct": ((lambda: None), lambda _: calls(direct, n)),
            "proxied": ((lambda: None), lambda _: calls(proxied, n)),
        },
    )
    per = {name: rate(n, seconds) for name, seconds in best.items()}
    print(f"calls/s on one core, {n:,} calls each (UDP, loss {LOSS:g}, every call simulated):")
    print(f"{'call':<44}{'calls/s':>10}{'passed':>9}")
    print(f"{'direct: alice -> bob (baseline)':<44}{per['direct']:>10,.0f}"
          f"{passed['direct']:>9,}")  # fmt: skip
    print(f"{'proxied: alice -> p1 -> bob':<44}{per['proxied']:>10,.0f}"
          f"{passed['proxied']:>9,}")  # fmt: skip
    print(f"a proxied call costs {per['direct'] / per['proxied']:.2f} direct calls")
    print(
        goal_line(
            "every proxied call passes (expectations and invariants)",
            passed["proxied"] == n,
            f"{passed['proxied']:,} of {n:,}",
        )
    )


class Quiet(Host):
    """A host that keeps nothing: no message, timer or record outlives the call."""

    @property
    def now(self) -> float:
        return 0.0

    @property
    def recording(self) -> bool:
        return False

    def send(self, dst: str, message: Message, retransmission: bool = False, machine: str = "",
             tx: str = "", terminated: bool = False) -> None:  # fmt: skip
        pass

    def set_timer(self, key: Hashable, seconds: float) -> None:
        pass

    def cancel_timer(self, key: Hashable) -> None:
        pass

    def record(self, kind: str, **fields: Any) -> None:
        pass

    def count(self, what: str) -> None:
        pass


def held(build: Callable[[], object]) -> int:
    """The bytes `tracemalloc` sees ``build()`` allocate and keep (kept until measured)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return after - before


def element_bytes(make: Callable[[], Any], n: int) -> float:
    """Bytes per live INVITE at an element ``make()`` builds (built outside the window)."""
    element = make()
    element.start(Quiet())

    def receive() -> object:
        for k in range(n):
            element.receive(invite(k), "alice")
        return element

    return held(receive) / n


def transactions_bytes(n: int, proxy: bool) -> float:
    """Bytes per INVITE of the bare transactions: an ``ist`` (and an ``ict`` for ``proxy``,
    with the forwarded copy of the request), made by the engines directly."""
    ist, ict = engine("ist"), engine("ict")
    slots: list[Any] = [None] * n

    def build() -> object:
        for k in range(n):
            request = invite(k)
            server = ist.create(RequestReceived(request))[0]
            if proxy:
                out = push_via(replace(request, uri="sip:bob@bob.example.com"),
                               "p1.example.com", f"z9hG4bKp1.{k}")  # fmt: skip
                slots[k] = (server, ict.create(TURequest(out))[0])
            else:
                slots[k] = server
        return slots

    return held(build) / n


def memory(smoke: bool) -> None:
    n = 200 if smoke else 10_000
    machines = Machines("rfc6026", Timing())
    ua = element_bytes(lambda: Endpoint("bob", machines), n)
    ua_base = transactions_bytes(n, proxy=False)
    proxied = element_bytes(lambda: Proxy("p1", machines), n)
    proxy_base = transactions_bytes(n, proxy=True)
    print(f"memory per live INVITE, n = {n:,} alive, requests included (rfc6026, UDP):")
    print(f"{'element':<40}{'B/INVITE':>10}{'baseline B':>12}{'x':>7}")
    print(f"{'UA (Endpoint, UAS; baseline: ist)':<40}{ua:>10,.0f}{ua_base:>12,.0f}"
          f"{ua / ua_base:>6.1f}x")  # fmt: skip
    print(f"{'proxy (Proxy; baseline: ist + ict)':<40}{proxied:>10,.0f}{proxy_base:>12,.0f}"
          f"{proxied / proxy_base:>6.1f}x")  # fmt: skip
    print(f"a proxied INVITE holds {proxied / ua:.2f}x what one at a UA holds")


def main() -> None:
    args = arguments("The stateful proxy: a proxied call, memory per proxied request.")
    print(machine_line())
    calls_per_second(args.smoke)
    memory(args.smoke)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
