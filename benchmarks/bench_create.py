"""Benchmark of creating transactions: time per transaction as the number of live ones grows,
and memory per live transaction, against a naive `transitions` baseline.

Run it with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/bench_create.py
[--smoke]``. For each machine (rfc6026, UDP), the creating events (a distinct request per
transaction, its own Call-ID and branch: `common.CREATORS`) are built first and not timed,
then ``engine.create(event)`` is called for each and the instance kept alive in a list:

* **time per transaction** at n = 10,000 and n = 100,000 live transactions (the best of a
  few rounds, the rounds of both sizes taken in turn); ``ratio`` is the rate at 100,000 over
  the rate at 10,000, which must stay >= 0.8: the time per transaction must not grow with
  the number alive. It is measured with CPython's cycle collector paused for the timed loop
  (the goal line), and with it running as in a host (``gc on``, printed beside it): the
  collector runs a full collection, which scans every live object of the process, each
  time the tracked objects grow by 25%, so a loop of 10,000 creations can finish under
  that threshold while one of 100,000 crosses it and pays for scanning everything alive --
  a cost CPython amortises over a long run, which a finite window cannot show;
* **memory per live transaction**: what `tracemalloc` sees allocated and still held after
  creating n transactions, divided by n. ``model`` counts what the engine allocates (the
  instance, its timers); ``+request`` also counts the request it was created with (the
  instance keeps it to retransmit it; a host holds it anyway). Goal: ``+request`` <= 1 KB.
* **baseline**: the naive way, one `transitions.Machine` per transaction (states and
  transitions from the same declaration, the transaction as its model), for a small n:
  ``naive us`` and ``naive B`` per transaction, and how many times ours (``x time`` against
  the time at 10,000, ``x mem`` against ``+request``, which the naive way does not even
  hold).

The dialog is shown for information: it is not a transaction, and it holds more (its
bookkeeping and a seeded random generator for the glare timer of RFC 3261 §14.1).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from common import (
    CREATORS,
    Contender,
    arguments,
    best_interleaved,
    best_of,
    goal_line,
    machine_line,
)
from transitions import Machine

from sipfsm.engine.model import MACHINES, declare, engine
from sipfsm.engine.runtime import Engine
from sipfsm.values.events import Event

TRANSACTION_MACHINES = ("ict", "nict", "ist", "nist")
KB = 1024


def events_for(machine: str, count: int) -> list[Event]:
    make = CREATORS[machine]
    return [make(n) for n in range(count)]


def creating(eng: Engine, events: list[Event], collector: bool) -> Contender:
    """Create a transaction per event, all kept alive until the clock has stopped; with
    CPython's cycle collector running (as in a host), or paused for the timed loop."""

    def run(_: object) -> list[Any]:
        create = eng.create
        if collector:
            return [create(event)[0] for event in events]
        gc.disable()
        try:
            return [create(event)[0] for event in events]
        finally:
            gc.enable()

    return (lambda: None), run


class Bare:
    """The bare baseline: what a transaction must at least hold -- its state, its timers,
    its request -- in an object of fixed fields, with no model behind it."""

    __slots__ = ("request", "state", "timers")

    def __init__(self, request: object) -> None:
        self.state = "calling"
        self.timers = {"A": 0.5, "B": 32.0}
        self.request = request


def bare_ratio(events: list[Event], sizes: tuple[int, int], rounds: int) -> float:
    """The rate ratio (n = sizes[1] over n = sizes[0]) of creating bare objects, one per
    event and all kept alive, with the cycle collector running: how much of the slowdown
    with the collector running is the interpreter's, whatever it creates."""

    def contender(n: int) -> Contender:
        chosen = events[:n]
        return (lambda: None), (lambda _: [Bare(getattr(e, "message", e)) for e in chosen])

    best = best_interleaved(rounds, {str(n): contender(n) for n in sizes})
    return (best[str(sizes[0])] / sizes[0]) / (best[str(sizes[1])] / sizes[1])


def times_per_transaction(
    eng: Engine, machine: str, sizes: tuple[int, ...], rounds: int
) -> dict[tuple[int, bool], float]:
    """Seconds per ``create`` at each size, collector on and paused, all rounds in turn."""
    events = events_for(machine, max(sizes))
    contenders = {
        f"{n} {collector}": creating(eng, events[:n], collector)
        for n in sizes
        for collector in (True, False)
    }
    best = best_interleaved(rounds, contenders)
    return {(n, c): best[f"{n} {c}"] / n for n in sizes for c in (True, False)}


def held(build: Callable[[], list[Any]]) -> tuple[list[Any], int]:
    """What ``build()`` returns, and the bytes `tracemalloc` sees it allocate and keep."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return kept, after - before


def memory_per_transaction(machine: str, count: int) -> tuple[float, float]:
    """Bytes per live transaction: the model's own, and with the request it was created
    with (built inside the measured window; the instance keeps it)."""
    eng = engine(machine)
    events = events_for(machine, count)
    slots: list[Any] = [None] * count  # the harness's list, allocated outside the window

    def model_only() -> list[Any]:
        for n, event in enumerate(events):
            slots[n] = eng.create(event)[0]
        return slots

    _kept, model_bytes = held(model_only)
    slots[:] = [None] * count
    events.clear()
    make = CREATORS[machine]

    def with_request() -> list[Any]:
        for n in range(count):
            slots[n] = eng.create(make(n))[0]
        return slots

    _kept, total_bytes = held(with_request)
    return model_bytes / count, total_bytes / count


class NaiveTransaction:
    """The naive way's model: `transitions` binds the state and trigger methods onto it."""


def naive_factory(machine: str) -> Callable[[], Any]:
    """One `transitions.Machine` per transaction, built from the declaration's states and
    rows (guards and effects left out: this only makes the baseline cheaper)."""
    decl = declare(machine)
    states = [s.name for s in decl.states]
    rows = [
        {"trigger": r.trigger, "source": r.source, "dest": None if r.internal else r.dest}
        for r in decl.transitions
    ]

    def create() -> Any:
        model = NaiveTransaction()
        Machine(model=model, states=states, transitions=rows, initial=decl.initial,
                auto_transitions=False)  # fmt: skip
        return model

    return create


def naive_figures(machine: str, count: int, rounds: int) -> tuple[float, float]:
    """Seconds and bytes per naive transaction (a machine each), ``count`` kept alive."""
    create = naive_factory(machine)

    def run(_: object) -> list[Any]:
        return [create() for _ in range(count)]

    seconds = best_of(rounds, lambda: None, run) / count
    _kept, size = held(lambda: [create() for _ in range(count)])
    return seconds, size / count


def main() -> None:
    args = arguments("Creating transactions: time and memory per live transaction.")
    small, large, naive_n, rounds = (200, 2_000, 50, 1) if args.smoke else (
        10_000, 100_000, 2_000, 5)  # fmt: skip
    print(machine_line())
    print(f"creating transactions: n = {small:,} and n = {large:,} live, best of {rounds} rounds;"
          f" baseline: one transitions.Machine per transaction, n = {naive_n:,}")  # fmt: skip
    small_head, large_head = f"us/tx n={small:,}", f"us/tx n={large:,}"
    print("us/tx and ratio: the cycle collector paused for the timed loop; gc on: running")
    print(f"{'machine':<8}{small_head:>15}{large_head:>16}{'ratio':>7}{'gc on':>7}{'model B':>9}"
          f"{'+request B':>12}{'naive us':>10}{'naive B':>9}{'x time':>8}{'x mem':>7}")  # fmt: skip
    worst_ratio, worst_gc_ratio, worst_bytes = float("inf"), float("inf"), 0.0
    for machine in (m for m in MACHINES if m in CREATORS):  # (not the proxy's context)
        eng = engine(machine)
        per = times_per_transaction(eng, machine, (small, large), rounds)
        per_small, per_large = per[small, False], per[large, False]
        ratio = per_small / per_large
        gc_ratio = per[small, True] / per[large, True]
        model_bytes, total_bytes = memory_per_transaction(machine, small)
        naive_seconds, naive_bytes = naive_figures(machine, naive_n, rounds)
        name = machine if machine in TRANSACTION_MACHINES else f"({machine})"
        print(
            f"{name:<8}{per_small * 1e6:>15.2f}{per_large * 1e6:>16.2f}{ratio:>7.2f}"
            f"{gc_ratio:>7.2f}{model_bytes:>9,.0f}{total_bytes:>12,.0f}"
            f"{naive_seconds * 1e6:>10.1f}{naive_bytes:>9,.0f}"
            f"{naive_seconds / per[small, True]:>7.0f}x{naive_bytes / total_bytes:>6.0f}x"
        )
        if machine in TRANSACTION_MACHINES:
            worst_ratio = min(worst_ratio, ratio)
            worst_gc_ratio = min(worst_gc_ratio, gc_ratio)
            worst_bytes = max(worst_bytes, total_bytes)
    print(goal_line(f"time per transaction does not grow from n={small:,} to n={large:,}",
                    worst_ratio >= 0.8, f"worst rate ratio {worst_ratio:.2f}, >= 0.8"))  # fmt: skip
    bare = bare_ratio(events_for("ict", large), (small, large), rounds)
    print(f"with the cycle collector running: worst rate ratio {worst_gc_ratio:.2f} (a full "
          "collection scans every live object whenever they grow by 25%: a short loop can fit "
          "under that threshold, a long one crosses it; docs/performance.md)")  # fmt: skip
    print(f"baseline with the collector running: a bare object per transaction (its state, "
          f"timers and request; no model) {bare:.2f}")  # fmt: skip
    print(goal_line("memory per live transaction <= 1 KB", worst_bytes <= KB,
                    f"worst {worst_bytes:,.0f} B with its request"))  # fmt: skip


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
