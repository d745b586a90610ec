"""The sans-IO runtime shared by both engines.

A *machine* (`TableMachine`, or `sipfsm.engine.reference.TransitionsMachine`) is built once per
declaration, profile and timing, and drives many *instances*: small objects that
hold one transaction's (or dialog's) state. ``machine.handle(instance, event)`` returns
the actions to take; nothing is sent, slept or read from a clock here.

Both engines choose the transition differently (a precomputed dict here, the
`transitions` library there). `apply_transition` is the meaning of taking a row: the
`transitions` engine applies every row through it, and the table engine runs each row as
a function compiled from the declaration (`sipfsm.engine.codegen`) that does what
`apply_transition` does with everything known in advance worked out once. The Hypothesis
tests hold the two to the same states, actions, timers and errors (tests/test_reference.py
over random runs of every machine; tests/test_codegen.py row by row from any timers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final, Protocol

from sipfsm.decl.instance import (
    HANDLERS,
    Instance,
    report_outcomes,
    start_timer,
    stop_timer,
)
from sipfsm.decl.language import MachineDecl, Outcome, Transition, Trigger
from sipfsm.decl.timers import DEFAULT_TIMING, Timing
from sipfsm.engine.codegen import Compiled, RowFunction, compile_row
from sipfsm.values.errors import LocalProtocolError, ProtocolError, RemoteProtocolError, UnknownName
from sipfsm.values.events import (
    Action as RuntimeAction,
)
from sipfsm.values.events import (
    Event,
    MessageSent,
    RequestReceived,
    ResponseReceived,
    StartTimer,
    TimerFired,
    TransactionEnded,
    TransportError,
    TUCancel,
    TURequest,
    TUResponse,
    describe,
    message_of,
)
from sipfsm.values.message import Response, status_of


class Engine(Protocol):
    """What both engines offer."""

    decl: MachineDecl
    timing: Timing

    def create(self, event: Event) -> tuple[Instance, list[RuntimeAction]]: ...

    def handle(self, inst: Instance, event: Event) -> list[RuntimeAction]: ...


# -- classifying events into triggers ------------------------------------------------------

_KIND_OF: Final[dict[type, str]] = {
    RequestReceived: "request_received",
    ResponseReceived: "response_received",
    TURequest: "tu_request",
    TUResponse: "tu_response",
    TUCancel: "tu_cancel",
    TimerFired: "timer",
    TransportError: "transport_error",
    MessageSent: "message_sent",
    TransactionEnded: "transaction_ended",
}


class Classifier:
    """Maps a concrete event to the name of the machine's trigger it stands for.

    A trigger matches on the event kind and, where it declares them, the method (of a
    request, or the CSeq method of a response), the status range (a response; a trigger
    without one matches requests only, for message kinds) and the timer name. The first
    declared trigger that matches wins; answers are memoised per (kind, method, status).
    """

    def __init__(self, decl: MachineDecl) -> None:
        self.decl = decl
        self._triggers: dict[str, tuple[Trigger, ...]] = {}
        for trig in decl.triggers:
            self._triggers[trig.kind] = (*self._triggers.get(trig.kind, ()), trig)
        self._cache: dict[tuple[str, str, int], str | None] = {}

    def classify(self, event: Event) -> str | None:
        kind = _KIND_OF[type(event)]
        if isinstance(event, TimerFired):
            key = (kind, event.name, -1)
        else:
            message = message_of(event)
            if message is None:
                key = (kind, "", -1)
            elif isinstance(message, Response):
                key = (kind, message.method, message.status)
            else:
                key = (kind, message.method, 0)
        try:
            return self._cache[key]
        except KeyError:
            found = self._resolve(*key)
            self._cache[key] = found
            return found

    def _resolve(self, kind: str, name: str, status: int) -> str | None:
        for trig in self._triggers.get(kind, ()):
            if kind == "timer":
                if trig.timer == name:
                    return trig.name
                continue
            if trig.method is not None and trig.method != name:
                continue
            if status > 0:
                if trig.status is None and kind in _MESSAGE_KINDS:
                    continue
                if trig.status is not None and not trig.status[0] <= status <= trig.status[1]:
                    continue
            elif status == 0 and trig.status is not None:
                continue
            return trig.name
        return None


_MESSAGE_KINDS: Final = frozenset({"message_sent"})


#: Event kinds that come from the local side; anything else comes from the network.
LOCAL_EVENTS: Final = (TURequest, TUResponse, TUCancel, MessageSent)


def protocol_error(
    decl: MachineDecl, state: str, event: Event, reason: str = "no transition declared"
) -> ProtocolError:
    cls = LocalProtocolError if isinstance(event, LOCAL_EVENTS) else RemoteProtocolError
    return cls(decl.id, decl.profile, state, describe(event), reason)


def creation_row(
    decl: MachineDecl, classifier: Classifier, event: Event, inst: Any = None
) -> Transition:
    """The creation row ``event`` triggers, its guards checked against the new instance
    (``inst``; without one, guards are not checked)."""
    trig = classifier.classify(event)
    rows = [row for row in decl.creations if row.trigger == trig]
    for row in rows:
        if inst is None or all(g.check(inst, event) for g in row.guards):
            return row
    if rows:
        raise guards_failed(decl, inst, event, rows, "(new)")
    names = " or ".join(r.trigger for r in decl.creations)
    raise protocol_error(decl, "(new)", event, f"a {decl.id} is created by {names}")


def guards_failed(
    decl: MachineDecl,
    inst: Any,
    event: Event,
    rows: Iterable[Transition],
    state: str | None = None,
) -> ProtocolError:
    state = inst.state if state is None else state
    failed = [f"[{g.text}] ({g.rfc})" for r in rows for g in r.guards if not g.check(inst, event)]
    return protocol_error(decl, state, event, "guard failed: " + ", ".join(failed))


# -- applying a transition (shared by both engines) ----------------------------------------

def apply_transition(
    decl: MachineDecl,
    inst: Any,
    row: Transition,
    event: Event,
    timing: Timing,
    outcomes: Iterable[Outcome] = (),
) -> list[RuntimeAction]:
    """Run one declared transition: exit timers, the row's actions, entry timers and entry
    actions, then the declared outcomes. The caller (an engine) has set, or will set, the
    state to ``row.dest``; this function only touches the instance's other fields.

    A timer that fired is no longer running unless the row restarts it (back-off reads its
    last interval first); no `StopTimer` is emitted for it."""
    out: list[RuntimeAction] = []
    change = decl.timer_change(row)
    fired = event.name if isinstance(event, TimerFired) else None
    if change.leaves:
        # leaving a state stops every running timer the next state does not run or keep,
        # including one a row started explicitly (RFC 3261 §9.1's wait after a CANCEL)
        for name in list(inst.timers):
            if name == fired:
                del inst.timers[name]
            elif name not in change.kept:
                out.extend(stop_timer(inst, name))
    for action in row.actions:
        out.extend(HANDLERS[action.kind](inst, decl, event, action, timing))
    if (
        fired is not None
        and fired in inst.timers
        and not any(isinstance(a, StartTimer) and a.name == fired for a in out)
    ):
        del inst.timers[fired]
    if change.leaves:
        dest = change.dest
        for name, source_ran_it in change.starts:
            if not source_ran_it or name == fired:
                out.extend(start_timer(inst, name, timing, decl=decl))
        for action in dest.on_enter:
            out.extend(HANDLERS[action.kind](inst, decl, event, action, timing))
        if dest.terminal:
            for name in list(inst.timers):
                out.extend(stop_timer(inst, name))
    if outcomes:
        # the rule is chosen by the method the event is about: its message's CSeq method
        # (a dialog's request is its initial INVITE), else the transaction's request
        message = message_of(event) or inst.request
        method = message.cseq_method if message is not None else ""
        out.extend(report_outcomes(outcomes, row, event, method))
    return out


def _message_of(event: Event) -> Any:
    return message_of(event)


# -- the table engine -------------------------------------------------------------------------

#: A step: what the table engine does for one (state, kind of event): try the candidate
#: rows' guards in order and run the compiled row (`sipfsm.engine.codegen`).
StepFunction = Callable[[Any, Event], list[RuntimeAction]]

#: A creation row: its guards' checks, the row, its compiled function.
_Creation = tuple[tuple[Callable[[Any, Any], bool], ...], Transition, RowFunction]

#: How many (state, event kind, method, status) answers a machine remembers; methods come
#: from the network, so the memo is bounded (it is emptied when full).
_STEPS_KEPT: Final = 8192


class Choice:
    """A step with guards: tries its candidates -- (guard checks, compiled row) in
    declaration order -- and runs the first row whose guards all hold; if none does,
    raises ``fail(inst, event)``. A class of this module rather than generated code, so the
    compiled build runs it natively."""

    def __init__(
        self,
        candidates: list[tuple[tuple[Callable[[Any, Any], bool], ...], RowFunction]],
        fail: Callable[[Any, Any], BaseException],
    ) -> None:
        self.candidates = candidates
        self.fail = fail

    def __call__(self, inst: Any, event: Any) -> list[Any]:
        for checks, row in self.candidates:
            for check in checks:
                if not check(inst, event):
                    break
            else:
                return row(inst, event)
        raise self.fail(inst, event)


class TableMachine:
    """The fast engine: ``(state, trigger) -> candidate rows`` precomputed from the
    declaration; guards are tried in declaration order; each row runs as a function
    compiled from the declaration (`sipfsm.engine.codegen`) the first time it is taken.

    ``handle`` remembers, per (state, event type, method, status) -- or (state, timer) --
    the step to run, so an event costs one tuple and one dict lookup before its row runs.
    Beside `table` it keeps, per ``(state, trigger)``, the outcomes of the state that the
    trigger can realise (the others `report_outcomes` would skip anyway)."""

    def __init__(
        self,
        decl: MachineDecl,
        timing: Timing = DEFAULT_TIMING,
        factory: Callable[[], Instance] = Instance,
    ) -> None:
        self.decl = decl
        self.timing = timing
        self.factory = factory
        self.classifier = Classifier(decl)
        self.table: dict[tuple[str, str], tuple[Transition, ...]] = {}
        self.outcomes: dict[str, tuple[Outcome, ...]] = {}
        self._dispatch: dict[tuple[str, str], tuple[tuple[Transition, ...], tuple[Outcome, ...]]]
        self._dispatch = {}
        for state in decl.states:
            self.outcomes[state.name] = decl.outcomes(state.name)
            rows = decl.transitions_from(state.name)
            by_trigger: dict[str, list[Transition]] = {}
            # the state's own rows first, then its parents' (nested states)
            for ancestor in decl.ancestors(state.name):
                for row in rows:
                    if row.source == ancestor:
                        by_trigger.setdefault(row.trigger, []).append(row)
            for trig, found in by_trigger.items():
                self.table[(state.name, trig)] = tuple(found)
                realised = tuple(
                    oc
                    for oc in self.outcomes[state.name]
                    if oc.trigger == trig and not oc.forbidden
                )
                self._dispatch[(state.name, trig)] = (tuple(found), realised)
        self._steps: dict[tuple[Any, ...], StepFunction] = {}
        self._by_trigger: dict[tuple[str, str], StepFunction] = {}
        self._rows: dict[tuple[int, str | None], Compiled] = {}
        self._starts: dict[tuple[Any, ...], tuple[_Creation, ...]] = {}

    # -- compiling -------------------------------------------------------------------------

    def compiled(self, row: Transition, state: str | None = None) -> Compiled:
        """The compiled form of ``row`` taken from ``state`` (a creation row: without); the
        outcomes it reports depend on the state, which may be a substate of the row's."""
        key = (id(row), state)
        found = self._rows.get(key)
        if found is None:
            outcomes = () if state is None else self._dispatch[(state, row.trigger)][1]
            found = compile_row(self.decl, row, self.timing, outcomes, creation=state is None)
            self._rows[key] = found
        return found

    def _step(self, state: str, trig: str) -> StepFunction | None:
        """The step for ``trig`` in ``state``: its one unguarded row, or its rows' guards
        tried in order; ``None`` if the state declares no row for it."""
        step = self._by_trigger.get((state, trig))
        if step is not None:
            return step
        found = self._dispatch.get((state, trig))
        if found is None:
            return None
        rows = found[0]
        functions = [self.compiled(row, state).function for row in rows]
        if not rows[0].guards:
            step = functions[0]
        else:
            decl = self.decl

            def fail(inst: Any, event: Event) -> ProtocolError:
                return guards_failed(decl, inst, event, rows)

            step = Choice(
                [
                    (tuple([g.check for g in row.guards]), fn)
                    for row, fn in zip(rows, functions, strict=True)
                ],
                fail,
            )
        self._by_trigger[(state, trig)] = step
        return step

    # -- running -------------------------------------------------------------------------

    def create(self, event: Event) -> tuple[Instance, list[RuntimeAction]]:
        inst = self.factory()
        return inst, self.start(inst, event)

    def start(self, inst: Instance, event: Event) -> list[RuntimeAction]:
        """Enter the initial state through the creation row that ``event`` triggers."""
        key = _event_key("", event)
        candidates = self._starts.get(key)
        if candidates is None:
            trig = self.classifier.classify(event)
            rows = [row for row in self.decl.creations if row.trigger == trig]
            candidates = tuple(
                (tuple(g.check for g in row.guards), row, self.compiled(row).function)
                for row in rows
            )
            if candidates:  # (an event that creates nothing raises below, every time)
                if len(self._starts) >= _STEPS_KEPT:
                    self._starts.clear()
                self._starts[key] = candidates
        for checks, row, function in candidates:
            for check in checks:
                if not check(inst, event):
                    break
            else:
                inst.request = _message_of(event)
                inst.state = row.dest
                return function(inst, event)
        creation_row(self.decl, self.classifier, event, inst)  # raises the engine's error
        raise AssertionError("unreachable: creation_row found a row the table did not")

    def handle(self, inst: Instance, event: Event) -> list[RuntimeAction]:
        # (each kind tested on its own, so that the compiled build reads its fields
        # directly rather than looking them up by name)
        key: tuple[Any, ...]
        if isinstance(event, TimerFired):
            name = event.name
            if name not in inst.timers:
                return []  # a stale timer: stopped, or its state left (see sipfsm.values.events)
            key = (inst.state, name)
        elif isinstance(event, MessageSent):
            sent = event.message
            key = (inst.state, MessageSent, sent.method, status_of(sent))
        elif isinstance(event, RequestReceived):
            key = (inst.state, RequestReceived, event.message.method)
        elif isinstance(event, ResponseReceived):
            response = event.message
            key = (inst.state, ResponseReceived, response.method, response.status)
        elif isinstance(event, TUResponse):
            response = event.message
            key = (inst.state, TUResponse, response.method, response.status)
        elif isinstance(event, TURequest):
            key = (inst.state, TURequest, event.message.method)
        else:
            key = (inst.state, type(event))
        step = self._steps.get(key)
        if step is None:
            step = self._resolve(inst, event, key)
        return step(inst, event)

    def _resolve(self, inst: Instance, event: Event, key: tuple[Any, ...]) -> StepFunction:
        """Classify an event not seen before in this state (or raise the engine's error),
        and remember the step for its kind."""
        state = inst.state
        trig = self.classifier.classify(event)
        if trig is None:
            raise protocol_error(self.decl, state, event, f"not an input of {self.decl.id}")
        step = self._step(state, trig)
        if step is None:
            raise protocol_error(self.decl, state, event, f"no transition for {trig}")
        if len(self._steps) >= _STEPS_KEPT:
            self._steps.clear()
        self._steps[key] = step
        return step

    def source(self, state: str, trigger: str) -> str:
        """The compiled code of the rows ``trigger`` can take in ``state``, for reading."""
        rows = self.table.get((state, trigger))
        if rows is None:
            raise UnknownName(
                f"trigger of state {state!r}",
                trigger,
                sorted(t for s, t in self.table if s == state),
                self.decl.id,
            )
        return "\n".join(self.compiled(row, state).source for row in rows)


class Handles(Protocol):
    """An engine as far as feeding an instance goes (`Engine`, the dialog's engines)."""

    def handle(self, inst: Any, event: Event) -> list[RuntimeAction]: ...


class Starts(Protocol):
    """An engine as far as starting an instance goes (`TableMachine`, the dialog's)."""

    def start(self, inst: Any, event: Event) -> list[RuntimeAction]: ...


def handle_event(engine: Handles, inst: Any, event: Event) -> list[RuntimeAction]:
    """``engine.handle(inst, event)``: in the compiled build a direct call when ``engine``
    is the table engine, where a call through the protocol goes by name through Python's
    calling convention (the reference engine is called that way)."""
    if type(engine) is TableMachine:
        return engine.handle(inst, event)
    return engine.handle(inst, event)


def start_instance(engine: Starts, inst: Any, event: Event) -> list[RuntimeAction]:
    """``engine.start(inst, event)``, called as `handle_event` calls ``handle``."""
    if type(engine) is TableMachine:
        return engine.start(inst, event)
    return engine.start(inst, event)


def _event_key(state: str, event: Event) -> tuple[Any, ...]:
    """What the table engine remembers a step by (`TableMachine.handle` inlines it): the
    classifier's answer depends on nothing else."""
    cls = type(event)
    if cls is TimerFired:
        return (state, event.name)  # type: ignore[union-attr]
    message = message_of(event)
    if message is None:
        return (state, cls)
    return (state, cls, message.method, status_of(message))


__all__ = [
    "Classifier",
    "Engine",
    "TableMachine",
    "apply_transition",
    "creation_row",
    "handle_event",
    "protocol_error",
    "start_instance",
]
