"""A running instance of a declared machine, and what each declared action does to it.

An *instance* (`Instance`) holds one transaction's (or dialog's) state, its running timers
and the messages it must resend. An action of a row (`sipfsm.decl.language.ActionDecl`) names
an effect, registered here with `handler` (the transaction actions below; a machine's own
module registers the rest, as the dialog does): both engines apply a row by calling the
handler of each of its actions (`sipfsm.engine.runtime.apply_transition`), and the rows the
table engine compiles call the same helpers (`sending`, `ack_of`, `STOPS` ...).

Imports: `sipfsm.values` and `sipfsm.decl` only. Nothing here chooses a transition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, ClassVar, Final

from sipfsm.decl.language import ActionDecl, MachineDecl, Outcome, TimerDecl, Transition
from sipfsm.decl.timers import TIMERS, Timing
from sipfsm.values.events import Action as RuntimeAction
from sipfsm.values.events import (
    Event,
    ReportOutcome,
    SendMessage,
    StartTimer,
    StopTimer,
    ToTU,
    message_of,
)
from sipfsm.values.message import Request, Response, ack_for_non_2xx, response_to

# -- instances ----------------------------------------------------------------------------


class Instance:
    """One live transaction: its state, running timers and the messages it must resend.

    Small (see `benchmarks/`): no per-instance machine, no callbacks.
    ``timers`` maps a running timer's name to its current interval; ``ack`` is the ACK a
    client INVITE transaction built for a 3xx-6xx, re-passed to the transport for each
    retransmission of that response (RFC 3261 §17.1.1.2); ``sending`` the `SendMessage` of
    the request, built when it is first sent and passed again on each retransmission.
    ``machine_id`` is the id of the machine whose engine started it (``""`` until an
    engine's ``create`` or ``start`` does): an engine refuses another machine's instance
    (`sipfsm.values.errors.ForeignInstance`) and one never started.
    """

    #: Every field, for comparing two instances field by field (no ``__slots__``: the
    #: class is compiled by mypyc in the fast build, which gives it fixed fields of its own).
    FIELDS: ClassVar[tuple[str, ...]] = (
        "ack",
        "cancel_requested",
        "last_response",
        "machine_id",
        "request",
        "sending",
        "state",
        "timers",
    )

    def __init__(self, state: str = "") -> None:
        self.state = state
        self.machine_id = ""
        self.timers: dict[str, float] = {}
        self.request: Request | None = None
        self.last_response: Response | None = None
        self.ack: Request | None = None
        self.sending: SendMessage | None = None
        self.cancel_requested = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} state={self.state!r} timers={self.timers}>"



# -- the effects of actions ------------------------------------------------------------------

Handler = Callable[[Any, Any, Event, ActionDecl, Timing], Iterable[RuntimeAction]]
HANDLERS: Final[dict[str, Handler]] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the effect of an action kind. Machines' modules register their own."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def start_timer(
    inst: Any,
    name: str,
    timing: Timing,
    seconds: float | None = None,
    decl: MachineDecl | None = None,
) -> list[RuntimeAction]:
    """Start (or restart) a timer: its declared duration on this transport, unless
    ``seconds`` is given. The declaration's own timers come first, then `TIMERS`."""
    value = declared_duration(timing, decl, name) if seconds is None else seconds
    if value is None:  # not started on this transport (Timers A, E, G on reliable ones)
        return []
    inst.timers[name] = value
    return [_start_action(name, value)]


def timer_decl(decl: MachineDecl | None, name: str) -> TimerDecl:
    if decl is not None:
        found = decl.timer_index.get(name)
        if found is not None:
            return found
    return TIMERS[name]


#: Declared durations already worked out (`Timing.duration` reads the timer's expression on
#: every call), by the identity of the timing and the declaration -- both immutable. An
#: entry holds both, so their ids cannot be reused while it exists.
_DURATIONS: dict[tuple[int, int, str], tuple[Timing, MachineDecl | None, float | None]] = {}
_DURATIONS_KEPT: Final = 4096


def declared_duration(timing: Timing, decl: MachineDecl | None, name: str) -> float | None:
    """``timing.duration`` of the timer ``name`` (`timer_decl`), remembered."""
    key = (id(timing), id(decl), name)
    known = _DURATIONS.get(key)
    if known is None:
        if len(_DURATIONS) >= _DURATIONS_KEPT:
            _DURATIONS.clear()
        known = _DURATIONS[key] = (timing, decl, timing.duration(timer_decl(decl, name)))
    return known[2]


# Actions are immutable values, so the ones that depend only on a name and a duration are
# built once and shared (building a frozen dataclass costs more than the rest of a step).


@lru_cache(maxsize=1024)
def _start_action(name: str, seconds: float) -> StartTimer:
    return StartTimer(name, seconds)


class _Stops(dict[str, StopTimer]):
    """The `StopTimer` of each timer name, built on first use and shared (actions are
    immutable values): a dict read is cheaper than building one per stop. The compiled
    rows (`sipfsm.engine.codegen`) read it too."""

    def __missing__(self, name: str) -> StopTimer:
        found = self[name] = StopTimer(name)
        return found


STOPS: Final = _Stops()


def _stop_action(name: str) -> StopTimer:
    return STOPS[name]


@lru_cache(maxsize=1024)
def _notice(what: str) -> ToTU:
    """A `ToTU` that carries no message (``terminated``, ``timeout`` ...)."""
    return ToTU(what)


def stop_timer(inst: Any, name: str) -> list[RuntimeAction]:
    if inst.timers.pop(name, None) is None:
        return []
    return [_stop_action(name)]



def report_outcomes(
    outcomes: Iterable[Outcome], row: Transition, event: Event, method: str = ""
) -> list[RuntimeAction]:
    """The declared outcomes this transition realises: one report per code, the first rule
    declared for it that is about ``method`` (the transaction's request method); a
    transaction cannot tell which of two rules for the same method caused a 487."""
    message = message_of(event)
    status = message.status if isinstance(message, Response) else None
    seen: set[int] = set()
    out: list[RuntimeAction] = []
    for oc in outcomes:
        if oc.forbidden or oc.trigger != row.trigger or oc.code in seen:
            continue
        if status is not None and status != oc.code:
            continue
        if oc.methods and method not in oc.methods:
            continue
        seen.add(oc.code)
        out.append(ReportOutcome(oc.code, oc.direction, oc.when, oc.rfc))
    return out



# -- the transaction actions ---------------------------------------------------------------


def _message_of(event: Event) -> Any:
    return message_of(event)


@handler("send_request")
def _send_request(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    return [sending(inst)]


def sending(inst: Any) -> SendMessage:
    """The `SendMessage` of the instance's request: built once, then passed again for each
    retransmission (Timers A and E: the same request, RFC 3261 §17.1.1.2, §17.1.2.2)."""
    found: SendMessage | None = inst.sending
    if found is None:
        found = inst.sending = SendMessage(inst.request)
    return found


@handler("send_ack")
def _send_ack(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    return [SendMessage(ack_of(inst, _message_of(event)))]


def ack_of(inst: Any, response: Response) -> Request:
    """The ACK for ``response`` (§17.1.1.3): built for the first 3xx-6xx, then the same
    one re-passed for each retransmission of it (§17.1.1.2); a final response with another
    To tag gets its own."""
    ack: Request | None = inst.ack
    if ack is None or ack.to_tag != response.to_tag:
        ack = inst.ack = ack_for_non_2xx(inst.request, response)
    return ack


@handler("send_response")
def _send_response(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    inst.last_response = _message_of(event)
    return [SendMessage(inst.last_response)]


@handler("resend_response")
def _resend_response(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    return [] if inst.last_response is None else [SendMessage(inst.last_response)]


@handler("send_100")
def _send_100(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    inst.last_response = response_to(inst.request, 100)
    return [SendMessage(inst.last_response)]


@handler("to_tu")
def _to_tu(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    if action.arg in ("response", "request", "ack"):
        return [ToTU(action.arg, _message_of(event))]
    return [_notice(action.arg)]


@handler("start_timer")
def _start(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    return start_timer(inst, action.arg, timing, decl=decl)


@handler("stop_timer")
def _stop(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    return stop_timer(inst, action.arg)


@handler("backoff_timer")
def _backoff(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    previous = inst.timers.get(action.arg)
    if previous is None:
        return []
    spec = timer_decl(decl, action.arg)
    return start_timer(inst, action.arg, timing, timing.backoff(spec, previous))


@handler("restart_timer")
def _restart(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    if declared_duration(timing, decl, action.arg) is None:
        return []
    return start_timer(inst, action.arg, timing, timing.value(action.arg2))


@handler("set_flag")
def _set_flag(
    inst: Any, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    setattr(inst, action.arg, True)
    return []


__all__ = [
    "HANDLERS",
    "STOPS",
    "Handler",
    "Instance",
    "ack_of",
    "declared_duration",
    "handler",
    "report_outcomes",
    "sending",
    "start_timer",
    "stop_timer",
    "timer_decl",
]
