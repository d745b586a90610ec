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
from sipfsm.values.errors import (
    ForeignInstance,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    UnknownName,
    WrongType,
    shown,
)
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
from sipfsm.values.message import Request, Response, status_of


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


# -- what the engines take (both builds, both engines) -------------------------------------
#
# The compiled build checks the declared type of every argument a Python caller passes (an
# event that is not one, a message of the wrong class); the pure-Python source does not, and
# a wrong value used to surface as a KeyError or AttributeError from deep inside. These
# checks make both builds refuse it alike, with a `WrongType` (a `TypeError`) that names
# what was given. `create` and `start` check everything; the table engine's `handle`, the
# hot path, checks the owner of the instance (one identity test) and the class of the
# event's message (one isinstance), and the rest of the event the first time its kind is
# seen in a state (`TableMachine._resolve`), which is when its fields are read.

#: The message class each message-carrying event takes.
_MESSAGE_CLASSES: Final[dict[type, tuple[type, ...]]] = {
    RequestReceived: (Request,),
    TURequest: (Request,),
    ResponseReceived: (Response,),
    TUResponse: (Response,),
    MessageSent: (Request, Response),
}
_EVENT_NAMES: Final = ", ".join(cls.__name__ for cls in _KIND_OF)
_TEXT_FIELDS: Final = ("call_id", "from_tag", "to_tag", "branch", "sent_by", "body")


def check_event(decl: MachineDecl, event: object) -> None:
    """Raise `WrongType` unless ``event`` is an event of `sipfsm.values.events` whose fields
    have the types the engines read (a `Request` or `Response` of the right class, and its
    fields; a timer's name ...)."""
    kind = type(event)
    if kind not in _KIND_OF:
        raise WrongType(f"{decl.id}: the event", event, f"one of {_EVENT_NAMES}")
    classes = _MESSAGE_CLASSES.get(kind)
    if classes is not None:
        message = message_of(event)
        if not isinstance(message, (Request, Response)) or not isinstance(message, classes):
            expected = " or ".join(f"a {c.__name__}" for c in classes)
            raise WrongType(f"{decl.id}: {kind.__name__}.message", message, expected)
        check_message(decl, message)
    elif isinstance(event, TimerFired):
        _expect_text(decl, "TimerFired.name", event.name)
    elif isinstance(event, TransactionEnded):
        _expect_text(decl, "TransactionEnded.method", event.method)
        _expect_text(decl, "TransactionEnded.role", event.role)
        _expect_number(decl, "TransactionEnded.cseq", event.cseq)
    elif isinstance(event, TransportError):
        _expect_text(decl, "TransportError.detail", event.detail)


def check_message(decl: MachineDecl, message: Request | Response) -> None:
    """Raise `WrongType` unless every field of ``message`` has its declared type."""
    cls = type(message).__name__
    _expect_text(decl, f"{cls}.method", message.method)
    _expect_number(decl, f"{cls}.cseq", message.cseq)
    for name in _TEXT_FIELDS:
        _expect_text(decl, f"{cls}.{name}", getattr(message, name))
    if isinstance(message, Response):
        _expect_number(decl, "Response.status", message.status)
        _expect_text(decl, "Response.reason", message.reason)
    else:
        _expect_text(decl, "Request.uri", message.uri)
    headers: object = message.headers
    if not isinstance(headers, tuple) or not all(
        isinstance(h, tuple) and len(h) == 2 and isinstance(h[0], str) and isinstance(h[1], str)
        for h in headers
    ):
        raise WrongType(f"{decl.id}: {cls}.headers", headers, "a tuple of (name, value) texts")


def _expect_text(decl: MachineDecl, what: str, value: object) -> None:
    if not isinstance(value, str):
        raise WrongType(f"{decl.id}: {what}", value, "a text (str)")


def _expect_number(decl: MachineDecl, what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WrongType(f"{decl.id}: {what}", value, "a whole number (int)")


def check_instance(
    decl: MachineDecl, kind: type, inst: object, event: object = None, started: bool = True
) -> None:
    """Raise unless ``inst`` is an instance (of ``kind``, the engine's factory's class) the
    engine of ``decl`` may drive: `WrongType` for anything else, `ForeignInstance` for one
    another machine started; when it must be ``started`` (``handle``), a
    `LocalProtocolError` for one never started (its `Instance.machine_id` is empty)."""
    if not isinstance(inst, kind):
        raise WrongType(f"{decl.id}: the instance", inst, f"an instance of {kind.__name__}")
    owner: object = getattr(inst, "machine_id", "")
    if owner == decl.id:
        return
    if owner != "":
        raise ForeignInstance(decl.id, shown(owner), inst)
    if started:
        check_event(decl, event)
        raise LocalProtocolError(
            decl.id,
            decl.profile,
            str(getattr(inst, "state", "")),
            describe(event),
            "the instance was never started (create(event) makes one, start(instance, "
            "event) starts one)",
        )


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
        #: the class of the instances ``factory`` makes (what `start` takes), and the id
        #: an instance is marked with when started (`Instance.machine_id`)
        self.instance_type: type = type(factory())
        self._id = decl.id
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
        """Enter the initial state through the creation row that ``event`` triggers (the
        instance is then this machine's: `Instance.machine_id`). The instance is checked
        on every call, the event whenever its kind was not seen before (`check_event`)."""
        owner: str | None
        try:
            owner = inst.machine_id
        except AttributeError:  # (pure Python only: compiled, the argument is checked)
            owner = None
        if (owner != "" and owner != self._id) or not isinstance(inst, self.instance_type):
            check_instance(self.decl, self.instance_type, inst, started=False)
        key: tuple[Any, ...] | None
        try:  # (the key names the classes of the event and of its message)
            key = _event_key("", event)
            candidates = self._starts.get(key)
        except (AttributeError, TypeError):  # not an event as it should be: see below
            key = candidates = None
        if candidates is None:
            check_event(self.decl, event)  # (a kind of event not seen before: all of it)
            key = _event_key("", event)
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
                inst.machine_id = self._id
                return function(inst, event)
        creation_row(self.decl, self.classifier, event, inst)  # raises the engine's error
        raise AssertionError("unreachable: creation_row found a row the table did not")

    # complex on purpose (C901): each kind of event tested on its own, for the compiled build
    def handle(self, inst: Instance, event: Event) -> list[RuntimeAction]:  # noqa: C901
        owner: str | None
        try:
            owner = inst.machine_id
        except AttributeError:  # (pure Python only: compiled, the argument is checked)
            owner = None
        if owner is not self._id and owner != self._id:
            check_instance(self.decl, self.instance_type, inst, event)
        # (each kind tested on its own, so that the compiled build reads its fields
        # directly rather than looking them up by name; the class of the message is checked,
        # the rest of the event when its kind is first seen in the state: `_resolve`)
        key: tuple[Any, ...]
        if isinstance(event, TimerFired):
            name = event.name
            try:
                running = name in inst.timers
            except TypeError:  # (an unhashable name)
                running = False
            if not running:
                if not isinstance(name, str):
                    check_event(self.decl, event)
                return []  # a stale timer: stopped, or its state left (see sipfsm.values.events)
            key = (inst.state, name)
        elif isinstance(event, MessageSent):
            sent = event.message
            if not isinstance(sent, (Request, Response)):
                check_event(self.decl, event)
            key = (inst.state, MessageSent, sent.method, status_of(sent))
        elif isinstance(event, RequestReceived):
            request = event.message
            if not isinstance(request, Request):
                check_event(self.decl, event)
            key = (inst.state, RequestReceived, request.method)
        elif isinstance(event, ResponseReceived):
            response = event.message
            if not isinstance(response, Response):
                check_event(self.decl, event)
            key = (inst.state, ResponseReceived, response.method, response.status)
        elif isinstance(event, TUResponse):
            response = event.message
            if not isinstance(response, Response):
                check_event(self.decl, event)
            key = (inst.state, TUResponse, response.method, response.status)
        elif isinstance(event, TURequest):
            request = event.message
            if not isinstance(request, Request):
                check_event(self.decl, event)
            key = (inst.state, TURequest, request.method)
        else:
            key = (inst.state, type(event))
        try:
            step = self._steps.get(key)
        except TypeError:  # an unhashable field: `_resolve` says which
            step = None
        if step is None:
            step = self._resolve(inst, event, key)
        return step(inst, event)

    def _resolve(self, inst: Instance, event: Event, key: tuple[Any, ...]) -> StepFunction:
        """Check an event whose kind was not seen before in this state (`check_event`),
        classify it (or raise the engine's error), and remember the step for its kind."""
        check_event(self.decl, event)
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
    """What the table engine remembers a creation by (`TableMachine.start`; ``handle``
    builds its keys inline): the classifier's answer depends on nothing else. The class of
    the message is part of it, so that an event carrying a message of the wrong class is
    never taken for one already checked (`check_event`)."""
    cls = type(event)
    if cls is TimerFired:
        return (state, event.name)  # type: ignore[union-attr]
    message = message_of(event)
    if message is None:
        return (state, cls)
    return (state, cls, type(message), message.method, status_of(message))


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
