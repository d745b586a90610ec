"""Compiling declared rows into Python functions: the table engine's fast path.

`sipfsm.engine.runtime.apply_transition` *interprets* a row: on every event it works out which
timers the move stops, looks each action's handler up by kind, reads timer durations from
their expressions, and scans the declared outcomes. All of that depends only on the row,
the state it is taken from and the timing -- so the table engine compiles each row, the
first time it is taken, into one function that does exactly what `apply_transition` would
do for it, with everything that does not depend on the instance or the event worked out in
advance: durations become constants, the actions that carry no message (`StartTimer`,
`StopTimer`, `ToTU` notices, `ReportOutcome`) are built once and shared, and the actions
of the transaction layer are written out in place. Action kinds this module does not know
(the dialog's, registered with `sipfsm.engine.runtime.handler`) are called through their handler,
as `apply_transition` calls them.

`apply_transition` stays the reference: the `transitions` engine applies every row through
it, and the Hypothesis lockstep tests (tests/test_reference.py) drive both engines over
every machine, profile and transport and require the same states, actions, timers and
errors, and tests/test_codegen.py runs every transaction row both ways from any running
timers -- so the compiled code cannot drift from the interpreted meaning unnoticed.
`Compiled.source` is the text of a compiled row, and `TableMachine.source(state, trigger)`
shows those of a state's rows for a trigger, for reading (see docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sipfsm.decl.language import ActionDecl, MachineDecl, Outcome, TimerDecl, Transition
from sipfsm.decl.timers import Timing
from sipfsm.values.events import ReportOutcome, SendMessage, StartTimer, ToTU, message_of
from sipfsm.values.message import response_to, status_or_none

#: A compiled row: ``fn(instance, event) -> actions``.
RowFunction = Callable[[Any, Any], list[Any]]

#: The action kinds that (re)start the timer they name.
_STARTS = frozenset({"start_timer", "backoff_timer", "restart_timer"})

#: The trigger kinds whose events all carry a message.
_WITH_MESSAGE = frozenset(
    {"request_received", "response_received", "tu_request", "tu_response", "message_sent"}
)

#: The `to_tu` arguments that carry the event's message (others are plain notices).
_TU_WITH_MESSAGE = ("response", "request", "ack")


class _Backoff(dict[float, tuple[float, StartTimer]]):
    """The next interval of a doubling timer after each interval (`Timing.backoff` of its
    declaration) and its `StartTimer`, worked out once per interval."""

    def __init__(self, timing: Timing, spec: TimerDecl) -> None:
        super().__init__()
        self.timing = timing
        self.spec = spec

    def __missing__(self, previous: float) -> tuple[float, StartTimer]:
        seconds = self.timing.backoff(self.spec, previous)
        found = self[previous] = (seconds, StartTimer(self.spec.name, seconds))
        return found


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled row: the function and its source (for reading and debugging), and the
    names of the constants the source refers to."""

    function: RowFunction
    source: str
    names: tuple[str, ...] = ()


class _Writer:
    """Collects the lines of one function and the constants it refers to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}
        self._ids: dict[int, str] = {}

    def line(self, text: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + text)

    def const(self, value: Any, hint: str = "k") -> str:
        """A name for ``value`` in the function's namespace (one per distinct object)."""
        found = self._ids.get(id(value))
        if found is None:
            found = f"{hint}{len(self.names)}"
            self.names[found] = value
            self._ids[id(value)] = found
        return found


# complex on purpose (C901): one branch per kind of action a row may carry
def compile_row(  # noqa: C901
    decl: MachineDecl,
    row: Transition,
    timing: Timing,
    outcomes: Iterable[Outcome] = (),
    *,
    creation: bool = False,
) -> Compiled:
    """Compile ``row`` of ``decl`` for ``timing``: a function that sets the instance's state
    (unless the row is internal, or ``creation``: `TableMachine.start` sets it) and returns
    what ``apply_transition(decl, inst, row, event, timing, outcomes)`` returns."""
    from sipfsm.decl.instance import (
        HANDLERS,
        STOPS,
        _notice,
        _start_action,
        _stop_action,
        ack_of,
        declared_duration,
        sending,
        timer_decl,
    )

    w = _Writer()
    w.names.update(
        message_of=message_of,
        status_or_none=status_or_none,
        sending=sending,
        _stops=STOPS,
        _start_action=_start_action,
        SendMessage=SendMessage,
        StartTimer=StartTimer,
        ToTU=ToTU,
    )
    change = decl.timer_change(row)
    opaque: list[str] = []  # kinds run through their handler: they may start any timer
    trigger = decl.trigger(row.trigger)
    fired = trigger.timer if trigger.kind == "timer" else None
    # the event's message, read as apply_transition reads it (events without one: None)
    # (not getattr with a default: compiled, a missing attribute formats an AttributeError)
    msg = "event.message" if trigger.kind in _WITH_MESSAGE else "message_of(event)"

    def start(name: str) -> None:
        seconds = declared_duration(timing, decl, name)
        if seconds is None:  # not started on this transport
            return
        # (the duration as one shared object: a literal would be a new float per store in
        # the compiled build)
        w.line(f"timers[{name!r}] = {w.const(seconds, 'seconds')}")
        w.line(f"out.append({w.const(_start_action(name, seconds), 'start')})")
        if restarts and name == fired:
            w.line("restarted = True")

    def act(action: ActionDecl) -> None:
        kind, arg = action.kind, action.arg
        if kind == "send_request":
            w.line("out.append(inst.sending or sending(inst))")
        elif kind == "send_ack":
            w.names["ack_of"] = ack_of
            w.line(f"out.append(SendMessage(ack_of(inst, {msg})))")
        elif kind == "send_response":
            w.line(f"inst.last_response = message = {msg}")
            w.line("out.append(SendMessage(message))")
        elif kind == "resend_response":
            w.line("if inst.last_response is not None:")
            w.line("out.append(SendMessage(inst.last_response))", 2)
        elif kind == "send_100":
            w.names["response_to"] = response_to
            w.line("inst.last_response = message = response_to(inst.request, 100)")
            w.line("out.append(SendMessage(message))")
        elif kind == "to_tu":
            if arg in _TU_WITH_MESSAGE:
                w.line(f"out.append(ToTU({arg!r}, {msg}))")
            else:
                w.line(f"out.append({w.const(_notice(arg), 'notice')})")
        elif kind == "start_timer":
            start(arg)
        elif kind == "stop_timer":
            w.line(f"if timers.pop({arg!r}, None) is not None:")
            w.line(f"out.append({w.const(_stop_action(arg), 'stop')})", 2)
        elif kind == "backoff_timer":
            spec = timer_decl(decl, arg)
            backoff = w.const(_Backoff(timing, spec), "backoff")
            w.line(f"previous = timers.get({arg!r})")
            w.line("if previous is not None:")
            w.line(f"timers[{arg!r}], start = {backoff}[previous]", 2)
            w.line("out.append(start)", 2)
            if restarts and arg == fired:
                w.line("restarted = True", 2)
        elif kind == "restart_timer":
            if declared_duration(timing, decl, arg) is not None:
                seconds = timing.value(action.arg2)
                w.line(f"timers[{arg!r}] = {w.const(seconds, 'seconds')}")
                w.line(f"out.append({w.const(_start_action(arg, seconds), 'start')})")
                if restarts and arg == fired:
                    w.line("restarted = True")
        elif kind == "set_flag" and arg.isidentifier():
            w.line(f"inst.{arg} = True")
        else:  # a handler registered elsewhere (the dialog's), called as apply_transition does
            opaque.append(kind)
            fn = w.const(HANDLERS[kind], "handler")
            w.line(
                f"out.extend({fn}(inst, {w.const(decl, 'decl')}, event, "
                f"{w.const(action, 'action')}, {w.const(timing, 'timing')}))"
            )

    if not creation and not row.internal:
        w.line(f"inst.state = {row.dest!r}")
    w.line("timers = inst.timers")
    w.line("out = []")
    restarts = fired is not None and any(a.kind in _STARTS and a.arg == fired for a in row.actions)
    if restarts:
        w.line("restarted = False")
    if change.leaves:
        # leaving a state stops every running timer the next state does not run or keep
        w.line("if timers:")
        w.line("for name in list(timers):", 2)
        if fired is not None:
            w.line(f"if name == {fired!r}:", 3)
            w.line("del timers[name]", 4)
            w.line(f"elif name not in {w.const(change.kept, 'kept')}:", 3)
        else:
            w.line(f"if name not in {w.const(change.kept, 'kept')}:", 3)
        w.line("del timers[name]", 4)
        w.line("out.append(_stops[name])", 4)
    for action in row.actions:
        act(action)
    if fired is not None:
        # a timer that fired is no longer running unless the row restarted it
        if opaque:
            w.line(f"if {fired!r} in timers and not any(")
            w.line(f"type(a) is StartTimer and a.name == {fired!r} for a in out", 2)
            w.line("):")
            w.line(f"del timers[{fired!r}]", 2)
        elif restarts:
            w.line(f"if not restarted and {fired!r} in timers:")
            w.line(f"del timers[{fired!r}]", 2)
        elif not change.leaves:  # (leaving, the loop above has removed it)
            w.line(f"timers.pop({fired!r}, None)")
    if change.leaves:
        dest = change.dest
        for name, source_ran_it in change.starts:
            if not source_ran_it or name == fired:
                start(name)
        for action in dest.on_enter:
            act(action)
        # (a terminal state: what the leaving kept, or a row or entry started, stops now)
        if dest.terminal and (change.kept or opaque or _starts_timers(w.lines)):
            w.line("if timers:")
            w.line("for name in list(timers):", 2)
            w.line("del timers[name]", 3)
            w.line("out.append(_stops[name])", 3)
    realised = tuple(oc for oc in outcomes if not oc.forbidden and oc.trigger == row.trigger)
    if realised:
        # a response reports only the outcome of its own code: most responses none
        codes = frozenset(oc.code for oc in realised)
        w.names["_outcomes"] = _outcomes
        if trigger.kind in ("response_received", "tu_response"):
            w.line(f"status = {msg}.status")
        else:
            w.line(f"status = status_or_none({msg})")
        w.line(f"if status is None or status in {w.const(codes, 'codes')}:")
        w.line(
            f"out.extend(_outcomes({w.const(realised, 'outcomes')}, {w.const(row, 'row')}, "
            f"event, inst))",
            2,
        )
    w.line("return out")
    lines = _tidy(w.lines)

    name = "row_" + "".join(c if c.isalnum() else "_" for c in f"{row.source}_{row.trigger}")
    header = f"def {name}(inst, event):"
    doc = f"    # {decl.id} ({decl.profile}): {row.source} --{row.label}--> {row.dest}  {row.rfc}"
    doc = " ".join(doc.splitlines())
    source = "\n".join([header, doc, *lines]) + "\n"
    namespace = dict(w.names)
    names = tuple(sorted(namespace))
    found = ahead_of_time().get(_body(source))
    if found is not None and found[0] == names:  # the same code and constants, compiled
        function: RowFunction = found[1](**namespace)  # ahead of time (sipfsm/engine/rows.py)
    else:
        where = f"<sipfsm {decl.id} {decl.profile} {row.source} {row.trigger}>"
        exec(compile(source, where, "exec"), namespace)  # our own text, from the declaration
        function = namespace[name]
    return Compiled(function, source, names)


# -- rows compiled ahead of time ---------------------------------------------------------------

#: The configurations whose rows `sipfsm/engine/rows.py` holds: every machine and profile, over
#: each transport, with RFC 3261's default T1, T2 and T4 (what most runs use). A row of
#: another timing (a scenario's or a sweep's own T1) is compiled when first taken.
AHEAD_TIMINGS: tuple[Timing, ...] = (Timing(transport="udp"), Timing(transport="tcp"))

_ahead: dict[str, tuple[tuple[str, ...], Callable[..., RowFunction]]] | None = None


def _body(source: str) -> str:
    """A row's code: its source without the ``def`` line and the comment naming the row
    (rows of several machines and profiles share their code)."""
    return source.split("\n", 2)[2]


def ahead_of_time() -> dict[str, tuple[tuple[str, ...], Callable[..., RowFunction]]]:
    """The rows of `sipfsm/engine/rows.py`: a row's code (`_body`) -> the names of the constants
    it takes and a function that, given them, returns the row. Keyed by the whole code and
    checked against the names, so a row whose declaration or compilation changed since the
    file was generated is not taken from there (it is compiled from its text when first
    taken, as any other row)."""
    global _ahead
    if _ahead is None:
        try:
            from sipfsm.engine import rows
        except ImportError:  # (not generated: `make rows`)
            _ahead = {}
        else:
            _ahead = rows.ROWS
    return _ahead


def _starts_timers(lines: list[str]) -> bool:
    """Whether the code so far puts a timer in ``timers`` (a start, back-off or restart)."""
    return any(line.lstrip().startswith("timers[") for line in lines)


def _tidy(lines: list[str]) -> list[str]:
    """Two simplifications of a compiled row that change nothing it does: ``timers`` is
    not read from the instance when nothing uses it, and a row that only appends actions
    returns them as one list display."""
    body = [line for line in lines if line != "    timers = inst.timers"]
    if any("timers" in line for line in body):
        body = lines
    start = body.index("    out = []")
    rest = body[start + 1 : -1]
    if all(line.startswith("    out.append(") and line.endswith(")") for line in rest):
        items = [line[len("    out.append(") : -1] for line in rest]
        return [*body[:start], f"    return [{', '.join(items)}]"]
    return body


def _outcomes(
    outcomes: tuple[Outcome, ...], row: Transition, event: Any, inst: Any
) -> list[ReportOutcome]:
    """`sipfsm.decl.instance.report_outcomes` with the method read as `apply_transition`
    reads it."""
    from sipfsm.decl.instance import report_outcomes

    message = getattr(event, "message", None) or inst.request
    method = message.cseq_method if message is not None else ""
    return report_outcomes(outcomes, row, event, method)  # type: ignore[return-value]


__all__ = [
    "AHEAD_TIMINGS",
    "Compiled",
    "RowFunction",
    "ahead_of_time",
    "compile_row",
]
