"""Running a scenario: `simulate` for one seeded run, `run_many` for N of them.

A run is a pure function of the scenario, the options and the seed: the same inputs give
the same records, byte for byte, with either engine (``table`` or ``transitions``).
`SimResult` holds the trace (`TraceRecord` values; empty when ``record=False``), every
message put on the wire, each element's final state, the invariant violations, the
expectations with their verdicts and the script steps the model refused;
`SimResult.to_json` is the ``sipfsm simulate --json`` document and
`SimResult.write_trace` the JSONL trace.

Recording is on by default. With ``record=False`` (benchmarks, `run_many`) no trace
record, message summary or wire text is built; violations, expectations and the message
log are kept either way.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sipfsm.errors import UnknownName
from sipfsm.message import Message, Request
from sipfsm.model import ENGINES, timing_for
from sipfsm.sim.element import Context, Element, Recorder, RunError
from sipfsm.sim.engine import EventLoop
from sipfsm.sim.invariants import Invariants, Violation
from sipfsm.sim.network import Network, WireMessage
from sipfsm.sim.scenario import (
    ElementSpec,
    Expectation,
    LibraryEntry,
    Scenario,
    ScenarioError,
    Step,
    library,
    load,
)
from sipfsm.sim.trace import TraceRecord
from sipfsm.sim.ua import Machines, UserAgent

__all__ = [
    "ELEMENTS",
    "ExpectationResult",
    "LibraryEntry",
    "RunSummary",
    "ScenarioError",
    "SimResult",
    "library",
    "load",
    "run_many",
    "simulate",
]


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    text: str
    passed: bool
    where: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "passed": self.passed}


def _message_json(w: WireMessage) -> dict[str, Any]:
    m = w.message
    is_request = isinstance(m, Request)
    return {
        "t": round(w.t, 6),
        "src": w.src,
        "dst": w.dst,
        "kind": "request" if is_request else "response",
        "method": m.cseq_method,
        "status": None if is_request else m.status,  # type: ignore[union-attr]
        "lost": w.lost,
    }


@dataclass(slots=True)
class SimResult:
    """The outcome of one run (see the module docstring)."""

    scenario: str
    title: str
    seed: int
    transport: str
    profile: str
    engine: str
    elements: tuple[str, ...]
    records: list[TraceRecord]
    wire: list[WireMessage]
    final_states: dict[str, dict[str, Any]]
    violations: list[Violation]
    expectations: list[ExpectationResult]
    errors: list[RunError]
    end_time: float
    expected_rules: frozenset[str] = field(default_factory=frozenset)

    @property
    def unexpected_violations(self) -> list[Violation]:
        return [v for v in self.violations if v.rule not in self.expected_rules]

    @property
    def passed(self) -> bool:
        """Every expectation holds, no invariant was broken (other than one the scenario
        expects) and the model refused no step."""
        return (
            all(e.passed for e in self.expectations)
            and not self.unexpected_violations
            and not self.errors
        )

    def messages(self) -> list[dict[str, Any]]:
        return [_message_json(w) for w in self.wire]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document of ``sipfsm simulate``."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "passed": self.passed,
            "transport": self.transport,
            "profile": self.profile,
            "engine": self.engine,
            "messages": self.messages(),
            "final_states": self.final_states,
            "violations": [v.to_json() for v in self.violations],
            "expectations": [e.to_json() for e in self.expectations],
            "errors": [e.to_json() for e in self.errors],
        }

    def trace_lines(self) -> Iterator[str]:
        for record in self.records:
            yield record.to_line()

    def write_trace(self, path: str | Path) -> Path:
        """Write the JSONL trace (one record per line, UTF-8) to ``path``; returns it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as out:
            for line in self.trace_lines():
                out.write(line + "\n")
        return path

    def outcome(self) -> str:
        """A short signature of how the run ended: each element's dialog state."""
        states = " ".join(f"{n}:{self.final_states[n]['dialog']}" for n in self.elements)
        return f"{'passed' if self.passed else 'failed'} {states}"


def _user_agent(
    spec: ElementSpec,
    steps: tuple[Step, ...],
    machines: Machines,
    seed: int,
    index: int,
    errors: list[RunError],
) -> Element:
    return UserAgent(spec, steps, machines, seed=seed, index=index, errors=errors)


ElementFactory = Callable[
    [ElementSpec, tuple[Step, ...], Machines, int, int, list[RunError]], Element
]

#: How each ``role`` of a scenario's elements is built. A stateful proxy (RFC 3261 §16)
#: is one more entry (and one more role in `sipfsm.sim.scenario`); the engine, network
#: and run do not change.
ELEMENTS: dict[str, ElementFactory] = {"ua": _user_agent}


@lru_cache(maxsize=32)
def _machines(
    profile: str, transport: str, t1: float, t2: float, t4: float, engine: str
) -> Machines:
    return Machines(profile, timing_for(transport, t1, t2, t4), engine)


def _resolve(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load(scenario)


def simulate(
    scenario: Scenario | str | Path,
    *,
    seed: int = 0,
    loss: float | None = None,
    transport: str | None = None,
    profile: str | None = None,
    engine: str = "table",
    record: bool = True,
    max_events: int = 10_000_000,
) -> SimResult:
    """Run ``scenario`` (a `Scenario`, a built-in name or a file) once.

    ``transport`` and ``profile`` default to the scenario's first transport and its
    profile, and must be among those it lists (where it makes sense); ``loss`` replaces
    every link's loss probability (UDP only: TCP loses nothing); ``engine`` is ``table`` or
    ``transitions``. Bad options raise `ScenarioError` or `UnknownName`; a run that
    schedules more than ``max_events`` events raises `RunawayError`."""
    sc = _resolve(scenario)
    transport = transport or sc.transports[0]
    if transport not in ("udp", "tcp"):
        raise UnknownName("transport", transport, ("udp", "tcp"))
    if transport not in sc.transports:
        raise sc.error(
            "transports", f"the scenario does not run over {transport}", ", ".join(sc.transports)
        )
    profile = profile or sc.profile
    if profile not in ("rfc6026", "rfc3261"):
        raise UnknownName("profile", profile, ("rfc6026", "rfc3261"))
    if profile not in sc.profiles:
        raise sc.error(
            "profiles", f"the scenario does not apply to profile {profile}", ", ".join(sc.profiles)
        )
    if engine not in ENGINES:
        raise UnknownName("engine", engine, ENGINES)
    if loss is not None and (isinstance(loss, bool) or not 0.0 <= loss <= 1.0):
        raise ScenarioError(
            sc.source, None, "--loss", f"{loss!r} is not a probability", "a number from 0 to 1"
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScenarioError(sc.source, None, "--seed", f"{seed!r} is not a whole number")
    machines = _machines(profile, transport, sc.t1, sc.t2, sc.t4, engine)
    loop = EventLoop(seed)
    recorder = Recorder(loop, record)
    invariants = Invariants(recorder)
    errors: list[RunError] = []
    names = sc.element_names
    agents: dict[str, Element] = {
        spec.name: ELEMENTS[spec.role](spec, sc.steps_of(spec.name), machines, seed, i, errors)
        for i, spec in enumerate(sc.elements)
    }
    contexts: dict[str, Context] = {}

    def deliver(dst: str, message: Message, src: str) -> None:
        agents[dst].receive(contexts[dst], message, src)

    network = Network(
        sc.network,
        names,
        loop,
        recorder,
        invariants,
        deliver,
        transport=transport,
        seed=seed,
        loss=loss,
    )
    for name, agent in agents.items():
        contexts[name] = Context(agent, loop, network, recorder, invariants)
    for name, agent in agents.items():
        agent.start(contexts[name])
    loop.run(until=sc.duration, limit=max_events)
    for name, agent in agents.items():
        invariants.leaked(name, agent.live_transactions())
    final = {name: agent.final_state() for name, agent in agents.items()}
    expectations = [_check(e, network.log, final, invariants.violations) for e in sc.expect]
    return SimResult(
        scenario=sc.name,
        title=sc.title,
        seed=seed,
        transport=transport,
        profile=profile,
        engine=engine,
        elements=names,
        records=recorder.records,
        wire=network.log,
        final_states=final,
        violations=invariants.violations,
        expectations=expectations,
        errors=errors,
        end_time=loop.now,
        expected_rules=frozenset(e.rule for e in sc.expect if e.kind == "violation"),
    )


def _check(
    e: Expectation,
    wire: list[WireMessage],
    final: dict[str, dict[str, Any]],
    violations: list[Violation],
) -> ExpectationResult:
    if e.kind in ("seen", "not_seen"):
        assert e.pattern is not None
        p = e.pattern
        n = sum(
            1 for w in wire if p.matches_wire(w.message, w.src, w.dst, w.lost, w.retransmission)
        )
        if e.kind == "not_seen":
            ok = n == 0
        elif e.count is not None:
            ok = n == e.count
        else:
            ok = n >= (e.at_least or 1)
        return ExpectationResult(e.text, ok, e.where, f"seen {n} time(s)")
    if e.kind == "end_state":
        states = list(final[e.element].get("dialogs", {}).values())
        ok = (
            not states
            if e.dialog == "none"
            else bool(states) and all(s == e.dialog for s in states)
        )
        return ExpectationResult(e.text, ok, e.where, "dialogs: " + (", ".join(states) or "none"))
    if e.kind == "no_violations":
        return ExpectationResult(e.text, not violations, e.where, f"{len(violations)} violation(s)")
    if e.kind == "violation":
        ok = any(v.rule == e.rule for v in violations)
        return ExpectationResult(e.text, ok, e.where)
    # order: the first message matching each pattern, in this order
    firsts = []
    for p in e.patterns:
        first = next(
            (
                i
                for i, w in enumerate(wire)
                if p.matches_wire(w.message, w.src, w.dst, w.lost, w.retransmission)
            ),
            None,
        )
        firsts.append(first)
    ok = all(f is not None for f in firsts) and all(
        a is not None and b is not None and a < b for a, b in itertools.pairwise(firsts)
    )
    return ExpectationResult(e.text, ok, e.where)


# -- many runs ------------------------------------------------------------------------------


@dataclass(slots=True)
class RunSummary:
    """N seeded runs of one scenario (``--runs N``)."""

    scenario: str
    runs: int
    seed: int
    transport: str
    profile: str
    engine: str
    loss: float | None
    passed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    responses: Counter[str] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)
    expectations: dict[str, list[int]] = field(default_factory=dict)
    failed_seeds: list[int] = field(default_factory=list)
    errors: int = 0

    @property
    def failed(self) -> int:
        return self.runs - self.passed

    def add(self, result: SimResult) -> None:
        if result.passed:
            self.passed += 1
        else:
            self.failed_seeds.append(result.seed)
        self.outcomes[result.outcome()] += 1
        self.responses.update(
            {str(s) for w in result.wire if (s := getattr(w.message, "status", 0)) >= 300}
        )
        self.violations.update(v.rule for v in result.violations)
        self.errors += len(result.errors)
        for e in result.expectations:
            counts = self.expectations.setdefault(e.text, [0, 0])
            counts[0 if e.passed else 1] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "runs": self.runs,
            "seed": self.seed,
            "transport": self.transport,
            "profile": self.profile,
            "engine": self.engine,
            "loss": self.loss,
            "passed": self.passed,
            "failed": self.failed,
            "outcomes": dict(sorted(self.outcomes.items())),
            "responses": dict(sorted(self.responses.items())),
            "violations": dict(sorted(self.violations.items())),
            "errors": self.errors,
            "expectations": [
                {"text": t, "passed": c[0], "failed": c[1]} for t, c in self.expectations.items()
            ],
            "failed_seeds": self.failed_seeds,
        }


def run_many(
    scenario: Scenario | str | Path,
    runs: int,
    *,
    seed: int = 0,
    loss: float | None = None,
    transport: str | None = None,
    profile: str | None = None,
    engine: str = "table",
) -> RunSummary:
    """Run ``scenario`` with seeds ``seed``, ``seed + 1`` ... (``runs`` of them, without
    recording a trace) and count how they ended: runs passed and failed, outcomes (each
    element's final dialog state), the 3xx-6xx status codes seen (in how many runs),
    violations by invariant, and each expectation's passes and failures."""
    sc = _resolve(scenario)
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ScenarioError(
            sc.source, None, "--runs", f"{runs!r} is not a number of runs", "a whole number >= 1"
        )
    summary: RunSummary | None = None
    for i in range(runs):
        result = simulate(
            sc,
            seed=seed + i,
            loss=loss,
            transport=transport,
            profile=profile,
            engine=engine,
            record=False,
        )
        if summary is None:
            summary = RunSummary(
                sc.name, runs, seed, result.transport, result.profile, engine, loss
            )
        summary.add(result)
    assert summary is not None
    return summary
