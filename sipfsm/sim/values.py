"""The values the simulator's compiled modules hand out, defined where they stay plain
Python classes.

The event loop, the network, the elements, the invariants and the runs themselves
(`sipfsm.sim.engine`, `network`, `element`, `invariants`, `run`) are compiled by mypyc in
the compiled build (`sipfsm.engine.native`). A class defined in a compiled module becomes a native
class, whose dataclasses cannot be unpickled. The values here leave a run -- a `RunError`,
a `InvariantViolation`, and what a run hands back: its `SimResult` with its `ExpectationResult`
list, and the `RunSummary` of many runs -- and results are sent between processes by
sweeps, so they are defined in this module, which is never compiled. Each is imported
from, and documented with, the module that makes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sipfsm.values.message import Request

if TYPE_CHECKING:
    from sipfsm.sim.recorder import WireMessage
    from sipfsm.sim.trace import TraceRecord

__all__ = [
    "ExpectationResult",
    "InvariantViolation",
    "RunError",
    "RunSummary",
    "SimResult",
]


@dataclass(frozen=True, slots=True)
class RunError:
    """Something a run could not do: a step of the script the model refused (a
    `LocalProtocolError`; ``where`` is the step's place in the scenario), or an action of
    the UA core the model refused (``where`` is ``UA core``; that is a bug)."""

    t: float
    element: str
    where: str  # "script.alice[2] (line 14)" or "UA core"
    text: str

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True, slots=True)
class InvariantViolation:
    """A run broke an invariant (`sipfsm.sim.invariants.INVARIANTS`): when, where, which
    rule, what happened, and the rule's section."""

    t: float
    element: str
    rule: str
    text: str
    rfc: str

    def to_json(self) -> dict[str, Any]:
        return _json(self)


def _json(value: RunError | InvariantViolation) -> dict[str, Any]:
    """A value's fields by name, in order, its time rounded to the microsecond."""
    out = {f.name: getattr(value, f.name) for f in fields(value)}
    out["t"] = round(value.t, 6)
    return out


# -- what a run hands back (sipfsm.sim.run) -----------------------------------------------


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
    violations: list[InvariantViolation]
    expectations: list[ExpectationResult]
    errors: list[RunError]
    end_time: float
    expected_rules: frozenset[str] = field(default_factory=frozenset)
    #: how often each outcome happened, recorded or not: ``"receive 408"``, ``"send 481"``
    #: (direction and code of a declared outcome, transactions' and dialogs'), ``"retry
    #: after 491"`` (RFC 3261 §14.1) -- what a sweep counts without recording a trace
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def unexpected_violations(self) -> list[InvariantViolation]:
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
