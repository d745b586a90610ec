"""Benchmark of the simulator: basic calls per second on one core (table engine against the
`transitions` engine), sweeps on one core and on all of them, and the peak memory of a
100,000-call run.

Run it with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/bench_sim.py
[--smoke] [--calls N] [--profile]``. A *basic call* is one run of the built-in scenario
``rfc3665-3.1`` (RFC 3665 §3.1: INVITE, 180, 200, ACK, then BYE and its 200, between two
user agents) over UDP with every message lost with probability 1%: its retransmission
timers, the lost messages they recover, and the 64*T1 waits of the transactions that end
it -- about 30 transitions of six machine instances (four transactions, a dialog on each
side), 6 messages and 8 timers.

* **calls/s, one core**: `sipfsm.sim.run.simulate` with ``record=False`` (no trace, as
  benchmarks, `run_many` and sweeps run it), seeds 0, 1, 2 ..., the best of a few rounds.
  First *every call simulated* (``reuse=False``): the table engine beside the
  `transitions` engine on the same seeds, and the ratio (both engines are first checked to
  put the same messages on the wire); with ``record=True`` (the trace `sipfsm simulate`
  writes), for information. Then the table engine *as simulate runs calls by default*
  (``reuse=True``): a run whose only randomness is its links' loss draws is kept, and a
  later run whose draws come out the same gets the kept result instead of being simulated
  again (the same result: tests/test_sim_run.py). Each round starts cold, from a fresh
  `Scenario` object. Goal: >= 20,000 calls/s on the table engine, judged with every call
  simulated; the goal line also gives the figure as simulate runs calls by default.
* **sweeps**: `sipfsm.sim.sweep.sweep` of the same call at 1% loss (4,000 calls), and over
  the loss range 0:0.3:0.05 (3,000 calls a point), each in this process (one worker) and
  in a pool of one process per core, and the speed-up.
* **memory**: ``--calls`` calls (100,000 by default) one after the other in this process,
  counted as `run_many` counts them; the peak resident set size of the process
  (``getrusage`` ``ru_maxrss``) before and after, with progress. Goal: under 1 GB.

When the calls/s goal is not met (or with ``--profile``), the table engine's calls are run
under cProfile and the most expensive functions, and the files they live in, are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

from common import best_of, goal_line, machine_line, rate

from sipfsm.sim.run import RunSummary, load, simulate
from sipfsm.sim.scenario import Scenario
from sipfsm.sim.sweep import sweep

SCENARIO = "rfc3665-3.1"
LOSS = 0.01
GOAL_CALLS = 20_000
GOAL_MEMORY_MB = 1000.0
ENGINES = ("table", "transitions")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="a tiny run that only checks the script works"
    )
    parser.add_argument(
        "--calls",
        type=int,
        default=None,
        help="calls of the memory run (default 100000; 500 with --smoke)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the table engine even if the goal is met"
    )
    args = parser.parse_args()
    if args.calls is not None and args.calls < 1:
        parser.error("--calls must be >= 1")
    return args


def calls(sc: Scenario, engine: str, n: int, *, record: bool = False, reuse: bool = False) -> int:
    """Run ``n`` basic calls (seeds 0 .. n-1); returns how many passed. Every call is
    simulated unless ``reuse`` (as `simulate` runs them by default: a run whose loss draws
    come out as a kept run's gets that run's result)."""
    passed = 0
    for seed in range(n):
        result = simulate(
            sc, seed=seed, loss=LOSS, transport="udp", engine=engine, record=record, reuse=reuse
        )
        passed += result.passed
    return passed


def same_wire(sc: Scenario, seeds: int) -> None:
    """Both engines put the same messages on the wire for the same seeds."""
    for seed in range(seeds):
        wires = [
            [
                (w.t, w.src, w.dst, w.message, w.lost)
                for w in simulate(
                    sc, seed=seed, loss=LOSS, transport="udp", engine=e, record=False
                ).wire
            ]
            for e in ENGINES
        ]
        if wires[0] != wires[1]:
            sys.exit(f"the engines differ on seed {seed}: not benchmarking")


def calls_per_second(sc: Scenario, smoke: bool) -> float:
    n = {"table": 50 if smoke else 3000, "transitions": 10 if smoke else 600}
    rounds = 1 if smoke else 3
    figures = {}
    for engine in ENGINES:

        def run(_: object, engine: str = engine) -> int:
            return calls(sc, engine, n[engine])

        figures[engine] = rate(n[engine], best_of(rounds, lambda: None, run))
    traced_n = n["table"] // 3
    traced = rate(
        traced_n, best_of(rounds, lambda: None, lambda _: calls(sc, "table", traced_n, record=True))
    )
    # each round from a fresh Scenario object, so that no run of an earlier round is kept
    reused_n = n["table"]
    reused = rate(
        reused_n,
        best_of(rounds, lambda: load(SCENARIO), lambda fresh: calls(fresh, "table", reused_n,
                                                                    reuse=True)),
    )  # fmt: skip
    table, reference = figures["table"], figures["transitions"]
    print(f"{'engine':<36} {'calls/s (one core)':>20}")
    print("every call simulated:")
    print(f"{'  table':<36} {table:>20,.0f}")
    print(f"{'  transitions (baseline)':<36} {reference:>20,.0f}")
    print(f"{'  ratio table / transitions':<36} {table / reference:>19.2f}x")
    print(f"{'  table, recording the trace':<36} {traced:>20,.0f}  (for information)")
    print(f"as simulate runs them (runs reused by their draws), {reused_n:,} seeds from cold:")
    print(f"{'  table':<36} {reused:>20,.0f}  ({reused / table:.1f}x every call simulated)")
    print(
        goal_line(
            f">= {GOAL_CALLS:,} basic calls/s on one core (table engine, every call simulated)",
            table >= GOAL_CALLS,
            f"{table:,.0f} calls/s, {100 * table / GOAL_CALLS:.0f}% of the goal; "
            f"as simulate runs them by default: {reused:,.0f} calls/s",
        )
    )
    return table


def sweeps(smoke: bool) -> None:
    cores = os.cpu_count() or 1
    runs = 40 if smoke else 4000
    per_point = 10 if smoke else 3000
    cases = [
        (f"sweep of {runs:,} calls at {LOSS:g} loss", [LOSS], runs),
        (
            f"sweep of loss 0:0.3:0.05, {per_point:,} calls a point ({7 * per_point:,} calls)",
            [round(0.05 * i, 2) for i in range(7)],
            per_point,
        ),
    ]
    for what, losses, n in cases:
        seconds = {}
        # the pool first: its workers are forked from this process, and would inherit what
        # a sweep run here keeps (the plans and the runs reused by their draws), warm
        for workers in sorted({1, cores}, reverse=True):
            start = time.perf_counter()
            result = sweep(SCENARIO, loss=losses, runs=n, workers=workers)
            seconds[workers] = time.perf_counter() - start
            assert all(point.runs == n for point in result.points)
        total = n * len(losses)
        one = rate(total, seconds[1])
        print(f"{what} (no trace; outcomes counted by the runs):")
        print(f"  1 worker: {one:,.0f} calls/s")
        if cores > 1:
            many = rate(total, seconds[cores])
            print(f"  {cores} workers: {many:,.0f} calls/s, speed-up {many / one:.2f}x")


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def memory(sc: Scenario, n: int) -> None:
    before = max_rss_mb()
    summary = RunSummary(sc.name, n, 0, "udp", sc.profile, "table", LOSS)
    start = time.perf_counter()
    step = max(1, n // 10)
    for seed in range(n):
        summary.add(simulate(sc, seed=seed, loss=LOSS, transport="udp", record=False))
        if (seed + 1) % step == 0 or seed + 1 == n:
            elapsed = time.perf_counter() - start
            print(
                f"  {seed + 1:>9,} calls  {elapsed:7.1f} s  peak RSS {max_rss_mb():7.1f} MB",
                flush=True,
            )
    seconds = time.perf_counter() - start
    after = max_rss_mb()
    print(
        f"{n:,}-call run: {rate(n, seconds):,.0f} calls/s, {summary.passed:,} passed, "
        f"peak RSS {before:.1f} MB before, {after:.1f} MB after "
        f"({after - before:+.1f} MB)"
    )
    print(
        goal_line(
            f"a {n:,}-call run stays under 1 GB",
            after < GOAL_MEMORY_MB,
            f"peak RSS {after:.1f} MB",
        )
    )


def profile(sc: Scenario, n: int) -> None:
    """cProfile ``n`` table-engine calls: the top functions, and the cost by file."""
    profiler = cProfile.Profile()
    profiler.runcall(calls, sc, "table", n)
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in raw.values())
    print(
        f"profile of {n:,} table-engine calls, every call simulated "
        f"({total:.2f} s of own time under cProfile):"
    )
    print(f"  {'own s':>7} {'share':>6} {'calls':>9}  function")
    top = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:15]
    root = str(Path(__file__).resolve().parent.parent) + os.sep
    for (file, line, func), (_, nc, tt, _, _) in top:
        where = file.replace(root, "")
        print(f"  {tt:7.3f} {100 * tt / total:5.1f}% {nc:9,}  {func} ({where}:{line})")
    by_file: dict[str, float] = defaultdict(float)
    for (file, _, _), (_, _, tt, _, _) in raw.items():
        name = file.replace(root, "") if file.startswith(root) else "(Python and libraries)"
        by_file[name] += tt
    print("  own time by file:")
    for name, tt in sorted(by_file.items(), key=lambda kv: kv[1], reverse=True)[:10]:
        print(f"  {tt:7.3f} {100 * tt / total:5.1f}%  {name}")


def main() -> None:
    args = arguments()
    print(machine_line())
    print(f"basic call: {SCENARIO} over UDP, loss {LOSS:g} per message")
    sc = load(SCENARIO)
    same_wire(sc, 5 if args.smoke else 30)
    table = calls_per_second(sc, args.smoke)
    sweeps(args.smoke)
    n = args.calls or (500 if args.smoke else 100_000)
    print(f"memory run of {n:,} calls (table engine, no trace):")
    memory(sc, n)
    if args.profile or table < GOAL_CALLS:
        profile(sc, 50 if args.smoke else 2000)


if __name__ == "__main__":
    main()
