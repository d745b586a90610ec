"""Monte-Carlo sweeps: N seeded simulations per parameter point, on all cores or on Dask.

``sweep("rfc3665-3.1", loss=parse_range("0:0.3:0.05"), runs=1000)`` runs the scenario 1000
times at each loss rate (and each T1 value, when ``t1`` is given too) and counts how the
runs ended (`OUTCOMES`). The work is cut into chunks of runs of one point; the chunks run
in a process pool (`concurrent.futures.ProcessPoolExecutor`, one process per core by
default), in this process (``workers=1``), or on a Dask cluster (``dask="tcp://host:port"``,
or ``dask="local"`` for a small in-process `distributed.LocalCluster`; the optional extra
``pip install sipfsm[dask]``).

Results do not depend on how the work was cut: run ``r`` of point ``p`` always has the seed
`run_seed` ``(seed, p, r)``, whatever the number of workers or the chunk size, and every
tally is a sum (the failed runs kept are the first ones by run index). So the same ``seed``
gives the same `SweepResult`, byte for byte in `SweepResult.to_json`, on one core, on all
of them or on a cluster.

A T1 sweep replaces the scenario's T1 (``timers.t1``; RFC 3261 §17.1.1.1: 500 ms by
default, and a larger value "MAY" be used on high-latency networks) and keeps its T2 and T4;
every timer derived from T1 (A, B, E, F, G, H, J, and the UA core's 2xx retransmission,
§13.3.1.4) follows. Bad input -- a range that is not one, an unknown scenario or option, an
unreachable Dask scheduler -- raises a `sipfsm.values.errors.SipFsmError` with a one-line message.
"""

from __future__ import annotations

import ctypes
import importlib
import itertools
import math
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sipfsm.sim.engine import RunawayError, derive_seed
from sipfsm.sim.limits import DEFAULT_LIMITS, POINTS, Limits
from sipfsm.sim.run import SimResult, simulate
from sipfsm.sim.scenario import MAX_SECONDS, Scenario, load
from sipfsm.values.errors import SipFsmError, printable, shown

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "DASK_CONNECT_TIMEOUT",
    "OUTCOMES",
    "PointResult",
    "RangeError",
    "SchedulerError",
    "SweepError",
    "SweepResult",
    "parse_range",
    "plot",
    "run_seed",
    "sweep",
    "table",
]

#: How long to wait for a Dask scheduler before giving up (seconds).
DASK_CONNECT_TIMEOUT = 5.0
#: How long to wait for a Dask scheduler to have a worker before giving up (seconds).
DASK_WORKER_TIMEOUT = 30.0
#: The most points a range may expand to by default (a typo such as ``0:1:1e-9`` is an
#: error): the ``points`` limit (`sipfsm.sim.limits`).
MAX_POINTS = POINTS
#: How long a worker process is given to stop when the sweep ends early (seconds), before
#: it is killed.
STOP_TIMEOUT = 2.0
#: How many failed runs (run index and seed) each point keeps, to reproduce them.
FAILED_KEPT = 10
#: The largest chunk of runs one task carries (a progress step of well under a second).
MAX_CHUNK = 250

#: What is counted at each point: (key, column title, definition). Each count is a number
#: of runs (a rate is the count over the point's runs); `PointResult.events` has the totals.
OUTCOMES: tuple[tuple[str, str, str], ...] = (
    (
        "completed",
        "completed",
        "the run did what the scenario expects: every expectation held, no invariant was "
        "broken (other than one the scenario expects) and the model refused no step",
    ),
    (
        "timeouts_408",
        "408 timeouts",
        "a transaction user was told of a 408: a client transaction's Timer B or F fired "
        "(RFC 3261 §8.1.3.1), an INVITE server transaction's Timer H fired (§17.2.1), or a "
        "408 response arrived -- the model's 'receive 408' outcomes",
    ),
    ("sent_481", "481 sent", "an element sent a 481 (Call/Transaction Does Not Exist, §21.4.19)"),
    ("sent_487", "487 sent", "an element sent a 487 (Request Terminated, §21.4.26)"),
    (
        "retries_491",
        "491 retries",
        "a UA sent a request again after a 491 (Request Pending) when its §14.1 timer fired",
    ),
    (
        "violations",
        "violations",
        "an invariant was broken (one the scenario does not expect): see sipfsm.sim.invariants",
    ),
)
_KEYS = tuple(key for key, _, _ in OUTCOMES)


# -- errors -------------------------------------------------------------------------------


class SweepError(SipFsmError):
    """A sweep that cannot be run (see the subclasses)."""


class RangeError(SweepError, ValueError):
    """A parameter range that is not one: ``--loss 0:0.3:0.05``, ``0.1`` or ``0,0.1,0.2``."""


class SchedulerError(SweepError, ConnectionError):
    """The Dask scheduler cannot be reached, or the Dask extra is not installed."""


# -- ranges -------------------------------------------------------------------------------

_RANGE_FORMS = (
    "START:STOP:STEP (STEP > 0; STOP is included when it lands on a step), a number, "
    "or a comma list of these"
)


def _number(text: str, whole: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise RangeError(
            f"{whole!r} is not a range: {text.strip()!r} is not a number ({_RANGE_FORMS})"
        ) from None
    if not value.is_finite() or not math.isfinite(float(value)):
        raise RangeError(f"{whole!r} is not a range: {text.strip()!r} is not a finite number")
    return value


def parse_range(text: str, limits: Limits = DEFAULT_LIMITS) -> list[float]:
    """The values of a parameter range: ``"0:0.3:0.05"`` is 0, 0.05, ... 0.3 (the stop is
    included when it lands on a step; the arithmetic is decimal, so 0.15 is 0.15), ``"0.1"``
    one value, ``"0,0.1,0.25"`` the values listed (each item may itself be a range); at
    most ``limits.points`` of them. Anything else raises `RangeError`."""
    most = limits.points
    if not isinstance(text, str) or not text.strip():
        raise RangeError(f"{text!r} is not a range ({_RANGE_FORMS})")
    values: list[Decimal] = []
    for item in text.split(","):
        if not item.strip():
            raise RangeError(f"{text!r} is not a range: an empty item in the list")
        parts = item.split(":")
        if len(parts) == 1:
            values.append(_number(parts[0], text))
            continue
        if len(parts) != 3:
            what = "" if item.strip() == text.strip() else f": {item.strip()!r}"
            raise RangeError(f"{text!r} is not a range{what} ({_RANGE_FORMS})")
        start, stop, step = (_number(p, text) for p in parts)
        if step <= 0:
            raise RangeError(f"{text!r} is not a range: the step must be > 0, got {step}")
        if stop < start:
            raise RangeError(f"{text!r} is not a range: the stop {stop} is below the start {start}")
        count = int((stop - start) / step) + 1
        if len(values) + count > most:
            raise RangeError(f"{text!r} has more than {most:,} points ({limits.hint('points')})")
        values.extend(start + i * step for i in range(count))
    if len(values) > most:
        raise RangeError(f"{text!r} has more than {most:,} points ({limits.hint('points')})")
    return [float(v) for v in values]


def _check_values(values: Sequence[float], option: str, *, probability: bool) -> None:
    """Each value a finite number: a probability (0 to 1), else seconds (> 0, at most the
    scenario's `MAX_SECONDS`)."""
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise RangeError(f"{option}: {shown(v)} is not a finite number")
        if probability:
            if not 0.0 <= v <= 1.0:
                raise RangeError(f"{option}: {v:g} is not a probability (0 to 1)")
        elif not 0.0 < v <= MAX_SECONDS:
            raise RangeError(f"{option}: {v:g} must be > 0 and <= {MAX_SECONDS:g} seconds")


# -- seeds and tallies ---------------------------------------------------------------------

_SWEEP_STREAM = 0x5EE9  # keeps sweep seeds apart from the streams simulate derives


def run_seed(seed: int, point: int, run: int) -> int:
    """The seed of run ``run`` of point ``point``: a function of these three only."""
    return derive_seed(seed, _SWEEP_STREAM, point, run)


@dataclass(slots=True)
class _Tally:
    """The counts of some runs of one point (a chunk's, then the point's)."""

    runs: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_KEYS, 0))
    errors: int = 0  # runs that raised (a model or simulator error: see failed)
    events: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    failed: list[tuple[int, int, str]] = field(default_factory=list)  # (run, seed, why)

    def add(self, run: int, seed: int, result: SimResult) -> None:
        self.runs += 1
        events: Counter[str] = Counter()
        # (counted by the run whether it records a trace or not: SimResult.counts)
        if result.counts.get("receive 408"):
            events["408 timeout"] += result.counts["receive 408"]
        if result.counts.get("retry after 491"):
            events["491 retry"] += result.counts["retry after 491"]
        for w in result.wire:
            status = getattr(w.message, "status", 0)
            if status in (481, 487) and not w.retransmission:
                events[f"{status} sent"] += 1
        unexpected = result.unexpected_violations
        seen = {
            "completed": result.passed,
            "timeouts_408": events["408 timeout"] > 0,
            "sent_481": events["481 sent"] > 0,
            "sent_487": events["487 sent"] > 0,
            "retries_491": events["491 retry"] > 0,
            "violations": bool(unexpected),
        }
        for key, happened in seen.items():
            self.counts[key] += happened
        self.events.update(events)
        self.rules.update(v.rule for v in result.violations)
        if not result.passed:
            self._fail(run, seed, _why(result))

    def crashed(self, run: int, seed: int, error: SipFsmError) -> None:
        self.runs += 1
        self.errors += 1
        self._fail(run, seed, f"{type(error).__name__}: {error}")

    def _fail(self, run: int, seed: int, why: str) -> None:
        if len(self.failed) < FAILED_KEPT:
            self.failed.append((run, seed, why))

    def merge(self, other: _Tally) -> None:
        self.runs += other.runs
        for key in _KEYS:
            self.counts[key] += other.counts[key]
        self.errors += other.errors
        self.events.update(other.events)
        self.rules.update(other.rules)
        self.failed = sorted(self.failed + other.failed)[:FAILED_KEPT]


def _why(result: SimResult) -> str:
    """Why a run did not pass, in a few words: the first thing that went wrong."""
    unexpected = result.unexpected_violations
    if unexpected:
        return f"violation {unexpected[0].rule}: {unexpected[0].text}"
    if result.errors:
        return f"refused ({result.errors[0].where}): {result.errors[0].text}"
    failed = next((e.text for e in result.expectations if not e.passed), "")
    return f"expectation failed: {failed}"


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Runs ``start`` to ``stop - 1`` of one point: the unit of work sent to a worker."""

    scenario: Scenario
    point: int
    loss: float | None
    transport: str
    seed: int
    start: int
    stop: int
    limits: Limits = DEFAULT_LIMITS


#: How many distinct scenarios a thread keeps one object of (`_shared`).
_MAX_SHARED = 64
_per_thread = threading.local()


def _shared(sc: Scenario) -> Scenario:
    """This thread's one object for the scenario ``sc`` equals. A chunk sent to a worker
    arrives with a copy of its own, and what a run works out once per scenario and keeps --
    its plan, and the kept runs that runs with the same draws reuse (`sipfsm.sim.run`) --
    is kept per scenario object: without this, every chunk a worker ran started from
    nothing, and two workers were slower than one. (Per thread: a Dask worker may run
    chunks on several threads, and those caches are not shared between threads.)"""
    kept: dict[Scenario, Scenario] | None = getattr(_per_thread, "scenarios", None)
    if kept is None:
        kept = _per_thread.scenarios = {}
    found = kept.get(sc)
    if found is None:
        if len(kept) >= _MAX_SHARED:
            kept.clear()
        kept[sc] = found = sc
    return found


def _run_chunk(chunk: _Chunk) -> tuple[int, _Tally]:
    """Run a chunk (in a worker process, a Dask worker, or here) and tally it."""
    tally = _Tally()
    scenario = _shared(chunk.scenario)
    for run in range(chunk.start, chunk.stop):
        seed = run_seed(chunk.seed, chunk.point, run)
        try:
            result = simulate(
                scenario,
                seed=seed,
                loss=chunk.loss,
                transport=chunk.transport,
                record=False,  # the tally reads the wire and SimResult.counts, not the trace
                limits=chunk.limits,
            )
        except SipFsmError as exc:  # a run the model cannot finish: counted, never fatal
            tally.crashed(run, seed, exc)
            continue
        tally.add(run, seed, result)
    return chunk.point, tally


# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointResult:
    """The runs of one parameter point. ``loss`` is ``None`` when the scenario's own link
    loss was kept; ``t1`` is the T1 the runs used."""

    index: int
    loss: float | None
    t1: float
    runs: int
    counts: dict[str, int]
    errors: int
    events: dict[str, int]
    violation_rules: dict[str, int]
    failed: tuple[tuple[int, int, str], ...]

    def rate(self, key: str) -> float:
        """The share of this point's runs in which ``key`` (one of `OUTCOMES`) happened."""
        return self.counts[key] / self.runs if self.runs else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "t1": self.t1,
            "runs": self.runs,
            **self.counts,
            "errors": self.errors,
            "rates": {key: round(self.rate(key), 6) for key in _KEYS},
            "events": self.events,
            "violation_rules": self.violation_rules,
            "failed_runs": [{"run": r, "seed": s, "why": w} for r, s, w in self.failed],
        }


@dataclass(frozen=True, slots=True)
class SweepResult:
    """Every point of a sweep, in order: T1 values outer, loss rates inner."""

    scenario: str
    title: str
    transport: str
    profile: str
    runs: int
    seed: int
    swept: tuple[str, ...]  # "loss" and/or "t1": the parameters given more than one value
    points: tuple[PointResult, ...]
    #: the worker processes (or Dask worker threads) that ran it: not part of the result,
    #: which is the same whatever ran it
    workers: int = field(default=1, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The ``sipfsm sweep --json`` document (identical for the same inputs, whatever
        ran it)."""
        return {
            "scenario": self.scenario,
            "title": self.title,
            "transport": self.transport,
            "profile": self.profile,
            "runs_per_point": self.runs,
            "seed": self.seed,
            "swept": list(self.swept),
            "outcomes": {key: text for key, _, text in OUTCOMES},
            "points": [p.to_json() for p in self.points],
        }

    def table_rows(self) -> list[dict[str, str]]:
        """One row per point, column title -> text: the parameters, the runs, and each
        outcome as the percentage of the runs in which it happened (the counts are in
        `to_json`)."""
        rows = []
        for p in self.points:
            row = {
                "loss": "(scenario)" if p.loss is None else f"{p.loss:g}",
                "T1 (s)": f"{p.t1:g}",
                "runs": str(p.runs),
            }
            for key, title, _ in OUTCOMES:
                row[title] = _percent(p.rate(key))
            if any(q.errors for q in self.points):
                row["errors"] = str(p.errors)
            rows.append(row)
        return rows


def _percent(rate: float) -> str:
    """``0%``, ``0.5%``, ``21%``, ``99.5%``, ``100%``: never rounds a rare event to 0."""
    if rate in (0.0, 1.0):
        return f"{100 * rate:.0f}%"
    return f"{100 * rate:.3g}%" if rate >= 0.001 else f"{100 * rate:.2g}%"


def table(result: SweepResult) -> Table:
    """The rows of `SweepResult.table_rows` as a `rich.table.Table` (for the CLI)."""
    from rich import box
    from rich.table import Table

    out = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title=f"{result.scenario}: {result.runs} runs per point over {result.transport}, "
        f"profile {result.profile}, seed {result.seed}",
        caption="% of the point's runs in which it happened (counts: --json)",
    )
    rows = result.table_rows()
    for name in rows[0] if rows else ():
        # one word a line: the table fits 80 columns
        out.add_column("\n".join(name.split()), justify="left" if name == "loss" else "right")
    for row in rows:
        out.add_row(*row.values())
    return out


# -- running ---------------------------------------------------------------------------------


def _chunks(
    configs: Sequence[tuple[Scenario, float | None]],
    transport: str,
    runs: int,
    seed: int,
    workers: int,
    limits: Limits = DEFAULT_LIMITS,
) -> list[_Chunk]:
    """Cut every point's runs into chunks: at least ~8 per worker (so the load evens out),
    at most `MAX_CHUNK` runs each. How the work is cut never changes the results."""
    total = len(configs) * runs
    size = max(1, min(MAX_CHUNK, math.ceil(total / (8 * workers))))
    return [
        _Chunk(sc, point, loss, transport, seed, start, min(start + size, runs), limits)
        for point, (sc, loss) in enumerate(configs)
        for start in range(0, runs, size)
    ]


def cores() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def worker_count(
    requested: int | None, force: bool, limits: Limits = DEFAULT_LIMITS
) -> int:
    """How many worker processes a sweep starts for ``requested`` (``None``: one per core):
    no more than the cores unless ``force``, and never more than ``limits.workers`` --
    forced past it is a `SweepError`. (The sweep then starts no more than it has chunks.)"""
    if requested is None:
        return min(cores(), limits.workers)
    if force:
        if requested > limits.workers:
            raise SweepError(
                f"--workers: {requested:,} worker processes are more than a sweep starts "
                f"({limits.hint('workers')})"
            )
        return requested
    return min(requested, cores(), limits.workers)


def _progress(enabled: bool, total: int, what: str) -> Any:
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    progress.add_task(what, total=total)
    return progress


def _advance(progress: Any, runs: int) -> None:
    if progress is not None:
        progress.advance(progress.task_ids[0], runs)


#: A runner runs chunks and yields ``None`` once it has started (its workers are up and
#: every task is submitted, so a progress bar's thread starts after any fork), then each
#: chunk's ``(point, tally)`` as it finishes.
Results = Generator[tuple[int, _Tally] | None, None, None]


def _run_here(chunks: Sequence[_Chunk]) -> Results:
    yield None
    for chunk in chunks:
        yield _run_chunk(chunk)


def _run_pool(chunks: Sequence[_Chunk], workers: int) -> Results:
    """Run the chunks in a pool of ``workers`` processes, a few per worker submitted at a
    time (`_WINDOW`). The workers never outlive the sweep: when it ends early -- an error, a
    stop signal, or the generator closed -- they are terminated (killed if they do not stop
    within `STOP_TIMEOUT`), not left to finish their chunks; and each worker dies with this
    process should it be killed outright (`_worker_start`).

    While the pool runs, a stop signal (SIGINT, SIGTERM, SIGHUP) is noted rather than
    raised wherever the main thread happens to be (`_noted_signals`): raised inside
    `concurrent.futures`' own locks, it could leave one held, and the command then hung on
    its way out. The loop looks at what was noted every `_POLL` seconds, stops the pool,
    and raises the signal again to its own handler."""
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_worker_start, initargs=(os.getpid(),)
    )
    done = False
    with _noted_signals() as noted:  # (the pool is stopped before a noted signal is raised)
        try:
            waiting = iter(chunks)
            pending: set[Future[tuple[int, _Tally]]] = {
                pool.submit(_run_chunk, c) for c in itertools.islice(waiting, _WINDOW * workers)
            }
            yield None
            while pending:
                finished, pending = wait(pending, timeout=_POLL, return_when=FIRST_COMPLETED)
                if noted:
                    break
                for chunk in itertools.islice(waiting, len(finished)):
                    pending.add(pool.submit(_run_chunk, chunk))
                for future in finished:
                    yield future.result()
            else:
                done = True
        except BrokenProcessPool as exc:
            raise SweepError(f"a worker process died during the sweep: {exc}") from None
        finally:
            if done:
                pool.shutdown(wait=True)
            else:
                _stop_pool(pool)
    if not done:  # a stop signal was noted, and its handler did not stop the sweep
        raise SweepError("the sweep was stopped by a signal")


#: Chunks submitted per worker at a time, and how often the pool's loop looks for a noted
#: stop signal (seconds).
_WINDOW = 4
_POLL = 0.2
_STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


@contextmanager
def _noted_signals() -> Iterator[list[int]]:
    """While the block runs (in the main thread), the stop signals a handler is set for are
    noted in the list it yields instead of handled; when the block ends their handlers are
    restored and the first noted signal is raised again, to be handled as it would have
    been (the command line's handler, Python's KeyboardInterrupt, or the default action)."""
    noted: list[int] = []
    kept: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in _STOP_SIGNALS:
            number = getattr(signal, name, None)
            if number is None or signal.getsignal(number) in (signal.SIG_IGN, None):
                continue
            kept[number] = signal.signal(number, lambda signum, frame: noted.append(signum))
    try:
        yield noted
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)
        if noted:
            signal.raise_signal(noted[0])


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what has not started, terminate every worker, wait for them
    (at most `STOP_TIMEOUT` in all) and kill any left."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        with suppress(Exception):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1.0)


#: Linux's prctl(2) option: the signal a process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _worker_start(parent: int) -> None:
    """How every worker process starts: Ctrl-C is its parent's to handle (a terminal sends
    SIGINT to the whole process group; the parent then stops the pool), SIGTERM does what
    it does by default (a handler inherited from the parent is dropped), and on Linux the
    worker is killed when its parent dies, however it dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with suppress(Exception):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _dask_client(address: str, stack: ExitStack) -> Any:
    dist = _distributed()
    client_class, cluster_class = dist.Client, dist.LocalCluster
    if address == "local":
        cluster = stack.enter_context(
            cluster_class(
                processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
            )
        )
        return stack.enter_context(client_class(cluster))
    if not isinstance(address, str):
        raise SchedulerError(f"--dask: {shown(address)} is not a scheduler address")
    try:
        client = client_class(address, timeout=DASK_CONNECT_TIMEOUT)
    except (ValueError, TypeError) as exc:
        raise SchedulerError(
            f"--dask: {address!r} is not a scheduler address (tcp://HOST:PORT, or local): "
            f"{_first_line(exc)}"
        ) from None
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address!r} within "
            f"{DASK_CONNECT_TIMEOUT:g} s: {_first_line(exc)}"
        ) from None
    except Exception as exc:  # a peer that answers but is not a scheduler: its bytes read as
        # a Dask frame may ask for exabytes (numpy's MemoryError), or for nothing sensible
        raise SchedulerError(
            f"--dask: {address!r} answers, but not as a Dask scheduler: "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from None
    client = stack.enter_context(client)
    try:
        client.wait_for_workers(1, timeout=DASK_WORKER_TIMEOUT)
    except Exception as exc:
        raise SchedulerError(
            f"the Dask scheduler at {address!r} has no worker after "
            f"{DASK_WORKER_TIMEOUT:g} s: start one (dask worker {address}): "
            f"{_first_line(exc)}"
        ) from None
    return client


def _distributed() -> Any:
    """The `distributed` module (untyped, hence `Any`), or a clear error without it."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise SchedulerError("--dask needs the Dask extra: pip install 'sipfsm[dask]'") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return printable(text.splitlines()[0])[:200] if text else type(exc).__name__


def _dask_width(client: Any) -> int:
    """How many tasks the cluster runs at once (its worker threads)."""
    try:
        return max(1, int(sum(client.nthreads().values())))
    except Exception:  # no worker yet, or an older scheduler
        return os.cpu_count() or 1


def _run_dask(client: Any, chunks: Sequence[_Chunk]) -> Results:
    as_completed = _distributed().as_completed
    futures = client.map(_run_chunk, list(chunks), pure=False)
    yield None
    try:
        for future in as_completed(futures):
            yield future.result()
    except SipFsmError:
        raise
    except Exception as exc:  # a lost scheduler or worker, a worker without sipfsm ...
        raise SchedulerError(
            f"the sweep failed on Dask: {type(exc).__name__}: {_first_line(exc)}"
        ) from None
    finally:
        client.cancel(futures)


def _configs(
    sc: Scenario, loss: list[float] | None, t1: list[float] | None
) -> list[tuple[Scenario, float | None]]:
    t1_scenarios = [sc] if t1 is None else [replace(sc, t1=float(v)) for v in t1]
    losses: list[float | None] = [None] if loss is None else [float(v) for v in loss]
    return [(s, x) for s in t1_scenarios for x in losses]


def _validate(sc: Scenario, loss: float | None, transport: str, limits: Limits) -> None:
    """Let `simulate` check the scenario's options (transport, profile) once, here, so a
    bad one is one clear error rather than one per run. ``max_events=0`` stops the run at
    its first event, after every check."""
    with suppress(RunawayError):
        simulate(
            sc, seed=0, loss=loss, transport=transport, record=False, max_events=0, limits=limits
        )


def sweep(
    scenario: str | Path | Scenario,
    *,
    loss: list[float] | None = None,
    transport: str | None = None,
    t1: list[float] | None = None,
    runs: int = 100,
    seed: int = 0,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool = False,
    force_workers: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> SweepResult:
    """Run ``runs`` seeded simulations of ``scenario`` (a built-in name, a file or a
    `Scenario`) at every point of ``loss`` x ``t1`` (either may be ``None``: the scenario's
    own value) and count their outcomes (`OUTCOMES`).

    ``transport`` defaults to the scenario's first. ``workers`` is the number of processes
    (default: one per core; 1 runs everything in this process): no more than the cores
    unless ``force_workers``, never more than ``limits.workers``, and no more than there
    are chunks of work (`worker_count`; `SweepResult.workers` says how many ran). ``dask``
    is a scheduler address or ``"local"``, which replaces the process pool. ``progress``
    shows a progress bar on stderr. Every run is bounded by ``limits`` (`sipfsm.sim.limits`),
    and the sweep by its ``runs`` (``runs`` times the points) and ``points`` limits. The
    result depends only on the scenario, the parameters and ``seed``."""
    if not isinstance(limits, Limits):
        raise SweepError(f"limits: expected a sipfsm.sim.limits.Limits, got {shown(limits)}")
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise SweepError(f"--runs: {runs!r} is not a number of runs (a whole number >= 1)")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SweepError(f"--seed: {seed!r} is not a whole number")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise SweepError(f"--workers: {workers!r} is not a number of workers (>= 1)")
    for option, values in (("--loss", loss), ("--t1", t1)):
        if values is not None and not isinstance(values, list | tuple):
            raise RangeError(f"{option}: expected a list of numbers, got {shown(values)}")
    if loss is not None:
        if not loss:
            raise RangeError("--loss: no value given")
        _check_values(loss, "--loss", probability=True)
    if t1 is not None:
        if not t1:
            raise RangeError("--t1: no value given")
        _check_values(t1, "--t1", probability=False)
    count = (len(loss) if loss is not None else 1) * (len(t1) if t1 is not None else 1)
    if count > limits.points:
        raise RangeError(
            f"--loss and --t1 make {count:,} points, more than a sweep runs "
            f"({limits.hint('points')})"
        )
    if count * runs > limits.runs:
        raise SweepError(
            f"--runs: {runs:,} runs at each of {count:,} points are {count * runs:,} runs, more "
            f"than one command runs ({limits.hint('runs')})"
        )
    width = worker_count(workers, force_workers, limits) if dask is None else 1
    sc = scenario if isinstance(scenario, Scenario) else load(scenario, limits)
    transport = transport or sc.transports[0]
    configs = _configs(sc, loss, t1)
    for t1_sc in {id(s): s for s, _ in configs}.values():
        _validate(t1_sc, configs[0][1], transport, limits)

    tallies = [_Tally() for _ in configs]
    total = len(configs) * runs
    with ExitStack() as stack:
        if dask is not None:
            client = _dask_client(dask, stack)
            width = _dask_width(client)
            chunks = _chunks(configs, transport, runs, seed, width, limits)
            results = _run_dask(client, chunks)
        else:
            chunks = _chunks(configs, transport, runs, seed, width, limits)
            width = min(width, len(chunks))
            results = _run_here(chunks) if width == 1 else _run_pool(chunks, width)
        stack.callback(results.close)  # stops the pool or the Dask tasks on an error
        next(results)  # started
        bar = stack.enter_context(_progress(progress, total, f"sweep {sc.name}"))
        for found in results:
            assert found is not None
            point, tally = found
            tallies[point].merge(tally)
            _advance(bar, tally.runs)

    swept = tuple(
        name
        for name, values in (("loss", loss), ("t1", t1))
        if values is not None and len(values) > 1
    )
    points = tuple(
        PointResult(
            index=i,
            loss=x,
            t1=s.t1,
            runs=tally.runs,
            counts=dict(tally.counts),
            errors=tally.errors,
            events=dict(sorted(tally.events.items())),
            violation_rules=dict(sorted(tally.rules.items())),
            failed=tuple(tally.failed),
        )
        for i, ((s, x), tally) in enumerate(zip(configs, tallies, strict=True))
    )
    return SweepResult(
        sc.name, sc.title, transport, sc.profile, runs, seed, swept, points, workers=width
    )


# -- the chart -------------------------------------------------------------------------------

PLOT_FORMATS = (".png", ".svg")


def check_plot_path(path: str | Path) -> Path:
    """Where a chart can go: ``.png`` or ``.svg``, in a folder that exists or can be made and
    is writable; else a `SweepError` (the command line checks before it sweeps)."""
    path = Path(path)
    if path.suffix.lower() not in PLOT_FORMATS:
        raise SweepError(f"--plot: {str(path)!r} must end in .png or .svg")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepError(f"--plot: cannot write {str(path)!r}: {_os_why(exc)}") from None
    if path.is_dir():
        raise SweepError(f"--plot: cannot write {str(path)!r}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise SweepError(f"--plot: cannot write {str(path)!r}: the folder is not writable")
    return path


def _os_why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def plot(result: SweepResult, path: str | Path) -> Path:
    """Draw each outcome's rate against the swept parameter (loss, else T1; one panel per
    T1 value when both are swept, a bar chart when nothing is) and write it to ``path``
    (``.png`` or ``.svg``). Uses matplotlib's Agg canvas directly (no pyplot, no global
    backend). Returns the path; a place it cannot be written is a `SweepError`."""
    path = check_plot_path(path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise SweepError("--plot needs matplotlib: pip install matplotlib") from None
    points = result.points
    by_t1: dict[float, list[PointResult]] = {}
    for p in points:
        by_t1.setdefault(p.t1, []).append(p)
    panels = (
        list(by_t1.items())
        if "loss" in result.swept and "t1" in result.swept
        else [(None, list(points))]
    )
    figure = Figure(figsize=(7.5, 3.6 * len(panels)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (t1_value, group) in zip(axes, panels, strict=True):
        if "loss" in result.swept:
            xs, xlabel = [p.loss or 0.0 for p in group], "loss probability (each message)"
        elif "t1" in result.swept:
            xs, xlabel = [p.t1 for p in group], "T1 (s)"
        else:
            xs, xlabel = [], ""
        if xs:
            for key, title, _ in OUTCOMES:
                ax.plot(xs, [100 * p.rate(key) for p in group], marker="o", label=title)
            ax.set_xlabel(xlabel)
        else:
            titles = [title for _, title, _ in OUTCOMES]
            ax.bar(titles, [100 * group[0].rate(key) for key in _KEYS])
            ax.tick_params(axis="x", labelrotation=20)
        ax.set_ylabel("runs (%)")
        ax.set_ylim(-2, 102)
        ax.grid(True, alpha=0.3)
        heading = f"{result.scenario} over {result.transport}, {result.runs} runs per point"
        if t1_value is not None:
            heading += f", T1 = {t1_value:g} s"
        ax.set_title(heading)
        if xs:
            ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    try:
        figure.savefig(path, dpi=120)
    except OSError as exc:
        raise SweepError(f"--plot: cannot write {str(path)!r}: {_os_why(exc)}") from None
    return path
