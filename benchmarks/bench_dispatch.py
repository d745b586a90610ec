"""Benchmark of event dispatch: the table engine against the `transitions` engine and a bare
``dict[(state, event)] -> state`` lookup, on the same event sequences.

Run it with ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/bench_dispatch.py
[--smoke]``. For every scenario of `common.SCENARIOS` (the life of an ICT, NICT, IST, NIST
and a caller's dialog over UDP, profile rfc6026), each round creates ``N`` instances (not
timed) and then times handing every instance the rest of its events:

* ``table``: `sipfsm.engine.model.engine(m, kind="table")`, ``handle(inst, event)`` per event;
* ``transitions``: `sipfsm.engine.model.engine(m, kind="transitions")`, the same calls;
* ``dict``: the baseline, ``state = table[state, event]`` over the same event objects. The
  dict is read from the declaration: for each step, the first row of the state (then of its
  parents) for the event's trigger whose guards hold. It computes the next state and
  nothing else: no actions, no timers, no guards, no errors.

Before timing, both engines and the dict are checked to take one instance through the same
states to the scenario's end, and both engines to give the same actions. Rounds of the
contenders are taken in turn and each figure is the best of its rounds. The goals
(docs/performance.md) are over the six transaction scenarios together: the table engine at
least 10 times the rate of the `transitions` engine, and at least 30% of the bare dict's.
The dialog is shown for information (the `transitions` engine runs it on a
`HierarchicalMachine`).

Two more lines explain the figures. ``per event`` splits each engine's time into applying the
row and choosing it (the rest). The `transitions` engine applies rows with the interpreter,
`sipfsm.engine.runtime.apply_transition`; the table engine runs each row compiled from the
declaration (`sipfsm.engine.codegen`), which the tests hold to the interpreter's results. Both are
timed alone by replaying the rows the table engine took. ``reference`` is a
bound no dispatcher of concrete events reaches: the dict keyed by trigger names classified
in advance (no event hashed or classified).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from common import (
    SCENARIOS,
    Contender,
    Scenario,
    arguments,
    best_interleaved,
    goal_line,
    machine_line,
    rate,
)

from sipfsm.decl.language import MachineDecl, Outcome, Transition
from sipfsm.engine.model import declare, engine
from sipfsm.engine.runtime import Classifier, Engine, TableMachine, apply_transition
from sipfsm.values.events import Event

ENGINES = ("table", "transitions")
TRANSACTION_MACHINES = ("ict", "nict", "ist", "nist")
Table = dict[tuple[str, Hashable], str]


class Step:
    """One event of a scenario: the state it arrives in and the declared row it takes."""

    __slots__ = ("event", "outcomes", "row", "state")

    def __init__(self, state: str, event: Event, row: Transition, outcomes: tuple[Outcome, ...]):
        self.state = state
        self.event = event
        self.row = row
        self.outcomes = outcomes


def steps_of(decl: MachineDecl, scenario: Scenario, eng: Engine) -> list[Step]:
    """The declared row each event of ``scenario`` takes: the first of the state (then of its
    parents) for the event's trigger whose guards hold. Guards read the instance, so one
    instance is walked through the scenario alongside, by ``eng``."""
    classifier = Classifier(decl)
    steps: list[Step] = []
    inst, _actions = eng.create(scenario.first)
    for event in scenario.rest:
        trigger = classifier.classify(event)
        rows = [
            row
            for ancestor in decl.ancestors(inst.state)  # the state's own rows first
            for row in decl.transitions
            if row.source == ancestor and row.trigger == trigger
        ]
        row = next(r for r in rows if all(g.check(inst, event) for g in r.guards))
        outcomes = tuple(
            oc for oc in decl.outcomes(inst.state) if oc.trigger == trigger and not oc.forbidden
        )
        steps.append(Step(inst.state, event, row, outcomes))
        eng.handle(inst, event)
    return steps


def bare_table(steps: list[Step]) -> Table:
    return {(s.state, s.event): s.state if s.row.internal else s.row.dest for s in steps}


def dict_path(table: Table, start: str, keys: tuple[Hashable, ...]) -> list[str]:
    path, state = [start], start
    for key in keys:
        state = table[state, key]
        path.append(state)
    return path


def check(scenario: Scenario, engines: dict[str, Engine], table: Table) -> None:
    """Both engines and the dict take one instance through the same states, to the end."""
    paths: dict[str, list[str]] = {}
    actions: dict[str, list[Any]] = {}
    for kind, eng in engines.items():
        inst, out = eng.create(scenario.first)
        paths[kind] = [inst.state]
        actions[kind] = [out]
        for event in scenario.rest:
            actions[kind].append(eng.handle(inst, event))
            paths[kind].append(inst.state)
    paths["dict"] = dict_path(table, paths["table"][0], scenario.rest)
    if len({tuple(p) for p in paths.values()}) != 1 or paths["table"][-1] != scenario.end:
        raise SystemExit(f"{scenario.name}: the engines and the dict disagree: {paths}")
    if actions["table"] != actions["transitions"]:
        raise SystemExit(f"{scenario.name}: the engines' actions differ")


# -- the contenders -------------------------------------------------------------------------


def engine_run(eng: Engine, scenario: Scenario, count: int) -> Contender:
    def prepare() -> list[Any]:
        return [eng.create(scenario.first)[0] for _ in range(count)]

    def run(instances: list[Any]) -> None:
        handle, rest = eng.handle, scenario.rest
        for inst in instances:
            for event in rest:
                handle(inst, event)

    return prepare, run


def dict_run(table: Table, start: str, keys: tuple[Hashable, ...], count: int) -> Contender:
    def run(_: object) -> None:
        for _instance in range(count):
            state = start
            for key in keys:
                state = table[state, key]

    return (lambda: None), run


def apply_run(eng: Engine, scenario: Scenario, steps: list[Step], count: int) -> Contender:
    """`apply_transition` alone on the rows the table engine takes (as its ``handle`` calls
    it, the state set first), on fresh instances."""

    def prepare() -> list[Any]:
        return [eng.create(scenario.first)[0] for _ in range(count)]

    def run(instances: list[Any]) -> None:
        decl, timing = eng.decl, eng.timing
        for inst in instances:
            for step in steps:
                if not step.row.internal:
                    inst.state = step.row.dest
                apply_transition(decl, inst, step.row, step.event, timing, step.outcomes)

    return prepare, run


def compiled_run(eng: Engine, scenario: Scenario, steps: list[Step], count: int) -> Contender:
    """The table engine's compiled rows alone, on the rows it takes, on fresh instances."""
    assert isinstance(eng, TableMachine)
    functions = [eng.compiled(step.row, step.state).function for step in steps]
    events = [step.event for step in steps]

    def prepare() -> list[Any]:
        return [eng.create(scenario.first)[0] for _ in range(count)]

    def run(instances: list[Any]) -> None:
        for inst in instances:
            for function, event in zip(functions, events, strict=True):
                function(inst, event)

    return prepare, run


def measure(scenario: Scenario, count: int, rounds: int) -> dict[str, float]:
    """Seconds for ``count`` instances' events on each contender. ``triggers`` (the bound)
    is left out where guards make a (state, trigger) lead to different states."""
    decl = declare(scenario.machine)
    engines = {kind: engine(scenario.machine, kind=kind) for kind in ENGINES}
    steps = steps_of(decl, scenario, engines["table"])
    table = bare_table(steps)
    check(scenario, engines, table)
    start = steps[0].state
    contenders = {kind: engine_run(eng, scenario, count) for kind, eng in engines.items()}
    contenders["dict"] = dict_run(table, start, scenario.rest, count)
    contenders["apply"] = apply_run(engines["table"], scenario, steps, count)
    contenders["compiled"] = compiled_run(engines["table"], scenario, steps, count)
    by_trigger: Table = {}
    consistent = True
    for step in steps:
        dest = table[step.state, step.event]
        consistent &= by_trigger.setdefault((step.state, step.row.trigger), dest) == dest
    if consistent:
        triggers = tuple(step.row.trigger for step in steps)
        contenders["triggers"] = dict_run(by_trigger, start, triggers, count)
    return best_interleaved(rounds, contenders)


# -- the report -----------------------------------------------------------------------------


def line(name: str, events: int, seconds: dict[str, float]) -> str:
    rates = {k: rate(events, s) for k, s in seconds.items()}
    return (
        f"{name:<14}{events:>9,}{rates['table']:>14,.0f}{rates['transitions']:>14,.0f}"
        f"{rates['dict']:>14,.0f}{rates['table'] / rates['transitions']:>10.1f}x"
        f"{rates['table'] / rates['dict']:>10.0%}"
    )


def main() -> None:
    args = arguments("Event dispatch: table engine vs transitions engine vs a bare dict.")
    count, rounds = (20, 1) if args.smoke else (10_000, 5)
    print(machine_line())
    print(f"event dispatch: {count:,} instances per scenario and round, best of {rounds} rounds")
    print(f"{'scenario':<14}{'events':>9}{'table ev/s':>14}{'transitions':>14}"
          f"{'dict ev/s':>14}{'tbl/trans':>11}{'tbl/dict':>10}")  # fmt: skip
    totals = dict.fromkeys((*ENGINES, "dict", "apply", "compiled", "triggers"), 0.0)
    total_events = 0
    for scenario in SCENARIOS:
        events = count * len(scenario.rest)
        seconds = measure(scenario, count, rounds)
        print(line(scenario.name, events, seconds), flush=True)
        if scenario.machine in TRANSACTION_MACHINES:
            total_events += events
            for kind in totals:
                totals[kind] += seconds.get(kind, float("nan"))
    print(line("transactions", total_events, totals))
    table_rate = rate(total_events, totals["table"])
    vs_transitions = table_rate / rate(total_events, totals["transitions"])
    vs_dict = table_rate / rate(total_events, totals["dict"])
    print(goal_line("table engine >= 10x the transitions engine", vs_transitions >= 10,
                    f"{vs_transitions:.1f}x"))  # fmt: skip
    print(goal_line("table engine >= 30% of the bare dict", vs_dict >= 0.30, f"{vs_dict:.0%}"))
    ns = {kind: seconds / total_events * 1e9 for kind, seconds in totals.items()}
    table_own, transitions_own = ns["table"] - ns["compiled"], ns["transitions"] - ns["apply"]
    print(
        f"per event: table {ns['table']:,.0f} ns, transitions {ns['transitions']:,.0f} ns, "
        f"dict {ns['dict']:,.0f} ns; applying the row: interpreted (transitions engine) "
        f"{ns['apply']:,.0f} ns, compiled (table engine) {ns['compiled']:,.0f} ns "
        f"({ns['apply'] / ns['compiled']:.1f}x); choosing it: table {table_own:,.0f} ns, "
        f"transitions {transitions_own:,.0f} ns"
    )
    bound_rate = rate(total_events, totals["triggers"])
    print(
        f"reference: dict keyed by trigger names classified in advance {bound_rate:,.0f} ev/s "
        f"(table engine {table_rate / bound_rate:.0%} of it)"
    )


if __name__ == "__main__":
    main()
