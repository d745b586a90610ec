"""Running a scenario: `simulate` for one seeded run, `run_many` for N of them.

A run is a pure function of the scenario, the options and the seed: the same inputs give
the same records, byte for byte, with either engine (``table`` or ``transitions``).
`SimResult` holds the trace (`TraceRecord` values; empty when ``record=False``), every
message put on the wire, each element's final state, the invariant violations, the
expectations with their verdicts and the script steps the model refused;
`SimResult.to_json` is the ``sipfsm simulate --json`` document and
`SimResult.write_trace` the JSONL trace.

Recording is on by default. With ``record=False`` (benchmarks, `run_many`, sweeps) no
trace record, message summary or wire text is built; violations, expectations, the message
log and the outcome counts (`SimResult.counts`) are kept either way.

Runs are many and alike, so what a run reads of its scenario is worked out once per
`Scenario` object (`_Plan`): the element scripts, and the expectations compiled so that
the wire is read once per run and the verdicts of an outcome already seen are reused.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, cast

from sipfsm.engine.model import ENGINES, timing_for
from sipfsm.machines.dialog import random_sources as dialog_random_sources
from sipfsm.sim.element import Agent, Context, Element, RunError
from sipfsm.sim.engine import EventLoop, Stream
from sipfsm.sim.invariants import Invariants, InvariantViolation
from sipfsm.sim.limits import DEFAULT_LIMITS, Limits, hint
from sipfsm.sim.memo import ByIdentity
from sipfsm.sim.network import Network, link_stream, network_words
from sipfsm.sim.proxy import proxy_element
from sipfsm.sim.recorder import Recorder, WireMessage
from sipfsm.sim.scenario import (
    ElementSpec,
    LibraryEntry,
    MessagePattern,
    Scenario,
    ScenarioError,
    Step,
    library,
    load,
)
from sipfsm.sim.tu import message_key
from sipfsm.sim.ua import Machines, UserAgent
from sipfsm.sim.values import ExpectationResult, RunSummary, SimResult
from sipfsm.values.errors import RunawayError, UnknownName
from sipfsm.values.message import Message

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

#: How each ``role`` of a scenario's elements is built: a user agent, or a stateful proxy
#: (RFC 3261 §16, `sipfsm.sim.proxy`); the engine, network and run do not change.
ELEMENTS: dict[str, ElementFactory] = {"ua": _user_agent, "proxy": proxy_element}


@lru_cache(maxsize=32)
def _machines(
    profile: str, transport: str, t1: float, t2: float, t4: float, engine: str
) -> Machines:
    return Machines(profile, timing_for(transport, t1, t2, t4), engine)


def _resolve(scenario: Scenario | str | Path, limits: Limits = DEFAULT_LIMITS) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load(scenario, limits)


# -- what a run reads of its scenario, worked out once per Scenario object -------------------


def _wire_key(w: WireMessage) -> tuple[Any, ...]:
    """What a `MessagePattern` reads of a wire message (`MessagePattern.matches_wire`: the
    wire fields, and `sipfsm.sim.tu.message_key` of the message): what `_Plan.hits`
    remembers the patterns it matches by."""
    return (w.src, w.dst, w.lost, w.retransmission, message_key(w.message))


class _Plan:
    """The parts of a `Scenario` every run of it reads: element names and scripts, the
    rules the scenario expects broken, and its expectations compiled: every message
    pattern of a seen, not_seen or order expectation in one list, which of them each kind
    of wire message matches, and the verdicts of every outcome seen so far (expectation
    results are frozen, so runs share them). Built once per `Scenario` object (`_plan`)."""

    __slots__ = (
        "end_elements",
        "expected_rules",
        "hits",
        "names",
        "paths",
        "patterns",
        "proxies",
        "scenario",
        "steps",
        "verdicts",
        "wired",
    )

    def __init__(self, sc: Scenario) -> None:
        self.scenario = sc
        self.names = sc.element_names
        self.steps = {spec.name: sc.steps_of(spec.name) for spec in sc.elements}
        self.proxies = frozenset(spec.name for spec in sc.elements if spec.role == "proxy")
        self.expected_rules = frozenset(e.rule for e in sc.expect if e.kind == "violation")
        # every pattern of a seen, not_seen or order expectation, each with its own index
        self.patterns: list[MessagePattern] = []
        self.wired: list[tuple[int, ...]] = []  # per expectation: its patterns' indices
        for e in sc.expect:
            found: tuple[MessagePattern, ...] = ()
            if e.kind in ("seen", "not_seen"):
                assert e.pattern is not None
                found = (e.pattern,)
            elif e.kind == "order":
                found = e.patterns
            first = len(self.patterns)
            self.patterns.extend(found)
            self.wired.append(tuple(range(first, len(self.patterns))))
        #: the elements whose dialog states end_state expectations read
        self.end_elements = tuple(
            dict.fromkeys(e.element for e in sc.expect if e.kind == "end_state")
        )
        #: the fields of a wire message (`_wire_key`) -> the patterns it matches
        self.hits: dict[Any, tuple[int, ...]] = {}
        #: what decides the expectations (`_check`) -> their results
        self.verdicts: dict[Any, tuple[ExpectationResult, ...]] = {}
        #: the runs kept for reuse, by the options they ran with (`_Paths`)
        self.paths: dict[tuple[Any, ...], _Paths] = {}

    def match(self, key: Any, w: WireMessage) -> tuple[int, ...]:
        """The indices of the patterns ``w`` matches (``key``: its fields), remembered."""
        hits = tuple(
            i
            for i, p in enumerate(self.patterns)
            if p.matches_wire(w.message, w.src, w.dst, w.lost, w.retransmission)
        )
        if len(self.hits) >= _MAX_REMEMBERED:
            self.hits.clear()
        self.hits[key] = hits
        return hits

    def judge(
        self,
        key: Any,
        counts: list[int],
        firsts: list[int | None],
        final: dict[str, dict[str, Any]],
        violations: list[InvariantViolation],
    ) -> tuple[ExpectationResult, ...]:
        """The results of the expectations, remembered under ``key`` (what decides them)."""
        out = []
        for e, wired in zip(self.scenario.expect, self.wired, strict=True):
            kind = e.kind
            if kind in ("seen", "not_seen"):
                n = counts[wired[0]]
                if kind == "not_seen":
                    ok = n == 0
                elif e.count is not None:
                    ok = n == e.count
                else:
                    ok = n >= (e.at_least or 1)
                out.append(ExpectationResult(e.text, ok, e.where, f"seen {n} time(s)"))
            elif kind == "end_state":
                states = list(final[e.element].get("dialogs", {}).values())
                ok = (
                    not states
                    if e.dialog == "none"
                    else bool(states) and all(s == e.dialog for s in states)
                )
                detail = "dialogs: " + (", ".join(states) or "none")
                out.append(ExpectationResult(e.text, ok, e.where, detail))
            elif kind == "no_violations":
                detail = f"{len(violations)} violation(s)"
                out.append(ExpectationResult(e.text, not violations, e.where, detail))
            elif kind == "violation":
                ok = any(v.rule == e.rule for v in violations)
                out.append(ExpectationResult(e.text, ok, e.where))
            else:  # order: the first message matching each pattern, in this order
                order = [firsts[i] for i in wired]
                ok = all(f is not None for f in order) and all(
                    a is not None and b is not None and a < b for a, b in itertools.pairwise(order)
                )
                out.append(ExpectationResult(e.text, ok, e.where))
        found = tuple(out)
        if len(self.verdicts) >= _MAX_REMEMBERED:
            self.verdicts.clear()
        self.verdicts[key] = found
        return found


#: Bounds on what a plan remembers (kinds of wire message, outcomes), and on how many
#: scenarios' plans are kept.
_MAX_REMEMBERED: Final = 4096
_MAX_PLANS: Final = 64
_plans: Final[ByIdentity[Scenario, _Plan]] = ByIdentity(_Plan, _MAX_PLANS)


def _plan(sc: Scenario) -> _Plan:
    """The plan of ``sc``, by identity."""
    return _plans.get(sc)


# -- runs reused by their draws ----------------------------------------------------------------


class _Draw:
    """A point where the runs of a `_Paths` that got here draw a loss on a link: the link
    (its index and loss probability) and, for each outcome, what follows -- the next draw,
    or the result of the run."""

    __slots__ = ("index", "loss", "next")

    def __init__(self, index: int, loss: float) -> None:
        self.index = index
        self.loss = loss
        self.next: dict[bool, _Draw | SimResult] = {}


class _Paths:
    """The runs of one scenario and options whose only randomness was their links' loss
    draws. Such a run is a function of the outcomes of those draws (the machines, scripts
    and network are deterministic; names come from counters), so a run whose draws come
    out the same as a kept run's *is* that run, seed aside: `find` draws from the new
    seed's link generators along the kept paths (a trie of draws) and returns the result
    at the end of the path they follow, or ``None`` as soon as they leave every kept path
    (the run is then simulated, and kept). Bounded: at most `_MAX_PATHS` results per
    options; and when reuse rarely pays (high loss: most paths are new), it stops being
    tried."""

    __slots__ = ("active", "hits", "kept", "root", "tries")

    def __init__(self) -> None:
        self.root: _Draw | SimResult | None = None
        self.kept = 0
        self.tries = 0
        self.hits = 0
        self.active = True

    def find(self, seed: int) -> SimResult | None:
        node = self.root
        if node is None:
            return None
        self.tries += 1
        generators: dict[int, Stream] = {}
        key = network_words(seed)
        while type(node) is _Draw:
            rng = generators.get(node.index)
            if rng is None:
                rng = generators[node.index] = link_stream(key, node.index)
            node = node.next.get(rng.random() < node.loss)
            if node is None:
                if self.tries >= _REUSE_TRIAL and self.hits * 8 < self.tries:
                    self.active = False  # most runs take new paths: stop looking
                return None
        self.hits += 1
        return node  # type: ignore[return-value]

    def keep(self, decisions: list[tuple[int, float, bool]], result: SimResult) -> None:
        if self.kept >= _MAX_PATHS:
            return
        if not decisions:
            if self.root is None:
                self.root = result
                self.kept += 1
            return
        if self.root is None:
            self.root = _Draw(decisions[0][0], decisions[0][1])
        node = self.root
        for i, (index, loss, lost) in enumerate(decisions):
            if type(node) is not _Draw or node.index != index or node.loss != loss:
                self.active = False  # runs that diverge without a draw: never reuse
                return
            following = node.next.get(lost)
            if following is None:
                if i + 1 < len(decisions):
                    following = _Draw(decisions[i + 1][0], decisions[i + 1][1])
                else:
                    following = result
                    self.kept += 1
                node.next[lost] = following
            node = following
        if node is not result and type(node) is _Draw:
            self.active = False  # a kept path goes on where this one ended: never reuse


#: Results kept per scenario and options, and how many runs are tried before reuse that
#: rarely pays (fewer than one run in eight) is given up.
_MAX_PATHS: Final = 1024
_REUSE_TRIAL: Final = 256


def _reissue(kept: SimResult, seed: int) -> SimResult:
    """A kept result for another seed: its own lists and states, the seed its own. (The
    records, wire messages, violations and expectations in them are the kept run's
    objects: a finished run's are never changed.)"""
    final = {
        name: {
            key: dict(value)
            if isinstance(value, dict)
            else list(value)
            if isinstance(value, list)
            else value
            for key, value in states.items()
        }
        for name, states in kept.final_states.items()
    }
    return SimResult(
        kept.scenario,
        kept.title,
        seed,
        kept.transport,
        kept.profile,
        kept.engine,
        kept.elements,
        list(kept.records),
        list(kept.wire),
        final,
        list(kept.violations),
        list(kept.expectations),
        list(kept.errors),
        kept.end_time,
        kept.expected_rules,
        dict(kept.counts),
    )


# complex on purpose (C901): one check per option, then the run
def simulate(  # noqa: C901
    scenario: Scenario | str | Path,
    *,
    seed: int = 0,
    loss: float | None = None,
    transport: str | None = None,
    profile: str | None = None,
    engine: str = "table",
    record: bool = True,
    max_events: int | None = None,
    reuse: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> SimResult:
    """Run ``scenario`` (a `Scenario`, a built-in name or a file) once.

    ``transport`` and ``profile`` default to the scenario's first transport and its
    profile, and must be among those it lists (where it makes sense); ``loss`` replaces
    every link's loss probability (UDP only: TCP loses nothing); ``engine`` is ``table`` or
    ``transitions``. Bad options raise `ScenarioError` or `UnknownName`. The run is bounded
    by ``limits`` (`sipfsm.sim.limits`): more than ``limits.events`` events (or
    ``max_events``, when given: 0 stops at the first, after every check) or more than
    ``limits.in_flight`` messages on their way at once raise `RunawayError`, naming the
    limit and how to raise it.

    With ``reuse`` (the default), a run whose only randomness is its links' loss draws is
    kept, and a later run of the same scenario and options whose draws come out the same
    is not simulated again: it gets the kept result with its own seed (`_Paths`). The
    result is the same either way (tests/test_sim_run.py checks it over the library);
    ``reuse=False`` simulates every run."""
    if not isinstance(limits, Limits):
        raise ScenarioError("simulate", None, "limits", "expected a sipfsm.sim.limits.Limits")
    sc = _resolve(scenario, limits)
    events = limits.events if max_events is None else max_events
    if isinstance(events, bool) or not isinstance(events, int) or events < 0:
        raise ScenarioError(
            sc.source, None, "max_events", f"{events!r} is not a number of events",
            "a whole number >= 0",
        )
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
    plan = _plan(sc)
    paths: _Paths | None = None
    drawn = 0
    if reuse:
        options = (profile, transport, engine, loss, record, events, limits.in_flight)
        paths = plan.paths.get(options)
        if paths is None:
            paths = plan.paths[options] = _Paths()
        elif paths.active:
            found = paths.find(seed)
            if found is not None:
                return _reissue(found, seed)
        if not paths.active:
            paths = None
        drawn = dialog_random_sources()
    machines = _machines(profile, transport, sc.t1, sc.t2, sc.t4, engine)
    loop = EventLoop(seed)
    recorder = Recorder(loop, record, transport)
    invariants = Invariants(recorder, plan.proxies)
    errors: list[RunError] = []
    names = plan.names
    steps = plan.steps
    agents: dict[str, Element] = {
        spec.name: ELEMENTS[spec.role](spec, steps[spec.name], machines, seed, i, errors)
        for i, spec in enumerate(sc.elements)
    }
    contexts: dict[str, Context] = {}

    def deliver(dst: str, message: Message, src: str) -> None:
        agent = agents[dst]
        if isinstance(agent, Agent):  # a direct call in the compiled build (cast: mypy
            cast(Agent, agent).receive(contexts[dst], message, src)  # narrows to both types)
        else:
            agent.receive(contexts[dst], message, src)

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
        max_in_flight=limits.in_flight,
    )
    for name, agent in agents.items():
        contexts[name] = Context(agent, loop, network, recorder, invariants)
    try:
        for name, agent in agents.items():
            agent.start(contexts[name])
        loop.run(until=sc.duration, limit=events)
    except RunawayError as exc:
        loop.clear()
        _close(contexts, agents)
        value = events if exc.limit == "events" else limits.in_flight
        raise RunawayError(
            f"{sc.source} (seed {seed}): {exc} ({hint(exc.limit or 'events', value)})",
            exc.limit,
        ) from None
    final = {}
    for name, agent in agents.items():
        live = agent.live_transactions()
        if live:
            invariants.leaked(name, live)
        final[name] = agent.final_state()
    invariants.unanswered()
    violations = invariants.violations
    wire = network.log
    result = SimResult(  # positional, in the order of the fields (many runs, each one call)
        sc.name,
        sc.title,
        seed,
        transport,
        profile,
        engine,
        names,
        recorder.records,
        wire,
        final,
        violations,
        _check(plan, wire, final, violations),
        errors,
        loop.now,
        plan.expected_rules,
        recorder.counts,
    )
    if (
        paths is not None
        # (an element kind of ELEMENTS other than the UA may draw from sources this
        # cannot see: its runs are never kept)
        and all(type(agent) is UserAgent for agent in agents.values())
        and network.only_loss_draws()
        and not loop.drew_random
        and dialog_random_sources() == drawn
    ):
        paths.keep(network.decisions, _reissue(result, seed))
    _close(contexts, agents)
    return result


def _close(contexts: dict[str, Context], agents: dict[str, Element]) -> None:
    """Let go of what refers back (an element and its context; the network's delivery
    callback and the elements): a run's objects are then freed as it returns (or stops at
    a limit), not left to the cycle collector."""
    for context in contexts.values():
        context.close()
    agents.clear()
    contexts.clear()


def _check(
    plan: _Plan,
    wire: list[WireMessage],
    final: dict[str, dict[str, Any]],
    violations: list[InvariantViolation],
) -> list[ExpectationResult]:
    """Every expectation of the plan's scenario, against one run. The wire is read once:
    the patterns each message matches (`_Plan.match`) count towards seen and not_seen and
    mark the first match of each pattern of an order. What decides the results -- those
    counts and first matches, the dialog states end_state reads, the violations -- is the
    key of the verdicts already given (`_Plan.judge`)."""
    if not plan.scenario.expect:
        return []
    n = len(plan.patterns)
    counts = [0] * n
    firsts: list[int | None] = [None] * n
    if n:
        known = plan.hits
        for index, w in enumerate(wire):
            key = _wire_key(w)
            hits = known.get(key)
            if hits is None:
                hits = plan.match(key, w)
            for i in hits:
                if not counts[i]:
                    firsts[i] = index
                counts[i] += 1
    key = (
        tuple(counts),
        tuple(firsts),
        tuple([tuple(final[name].get("dialogs", {}).values()) for name in plan.end_elements]),
        tuple([v.rule for v in violations]) if violations else (),
    )
    found = plan.verdicts.get(key)
    if found is None:
        found = plan.judge(key, counts, firsts, final, violations)
    return list(found)


# -- many runs ------------------------------------------------------------------------------


def run_many(
    scenario: Scenario | str | Path,
    runs: int,
    *,
    seed: int = 0,
    loss: float | None = None,
    transport: str | None = None,
    profile: str | None = None,
    engine: str = "table",
    reuse: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> RunSummary:
    """Run ``scenario`` with seeds ``seed``, ``seed + 1`` ... (``runs`` of them, without
    recording a trace) and count how they ended: runs passed and failed, outcomes (each
    element's final dialog state), the 3xx-6xx status codes seen (in how many runs),
    violations by invariant, and each expectation's passes and failures. ``reuse`` as in
    `simulate` (``False``: every run simulated); every run within ``limits``, and no more
    than ``limits.runs`` of them. ``progress``, if given, is called with the number of runs
    done every `PROGRESS_EVERY` runs and at the end."""
    if not isinstance(limits, Limits):
        raise ScenarioError("run_many", None, "limits", "expected a sipfsm.sim.limits.Limits")
    sc = _resolve(scenario, limits)
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ScenarioError(
            sc.source, None, "--runs", f"{runs!r} is not a number of runs", "a whole number >= 1"
        )
    if runs > limits.runs:
        raise ScenarioError(
            sc.source,
            None,
            "--runs",
            f"{runs:,} runs are more than one command runs",
            limit=limits.hint("runs"),
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
            reuse=reuse,
            limits=limits,
        )
        if progress is not None and (i + 1) % PROGRESS_EVERY == 0:
            progress(i + 1)
        if summary is None:
            summary = RunSummary(
                sc.name, runs, seed, result.transport, result.profile, engine, loss
            )
        summary.add(result)
    assert summary is not None
    if progress is not None:
        progress(runs)
    return summary


#: How often `run_many` reports its progress (runs).
PROGRESS_EVERY: Final = 100
