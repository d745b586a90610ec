"""The declaration language: every machine in sipfsm is one `MachineDecl`.

A declaration is plain data. Each `Transition` is one arrow of an RFC figure (or one
sentence of normative text) with its source state, trigger, guard, actions, destination
and RFC section. Everything else -- the table engine, the `transitions` engine, graphs,
diagrams, exports and docs -- is derived from these objects; nothing is listed twice.

Conventions
-----------
* A transition whose ``dest`` equals its ``source`` is *internal*: the state is not left,
  so no timers are stopped or started implicitly (the RFC figures' self loops).
* Timers belong to states (`StateDecl.timers`): entering a state starts the timers it
  lists that the previous state did not run; leaving it stops the ones the next state
  does not run. Retransmission back-off is an explicit action on the self loop.
* `Transition.profiles` says in which profiles a row exists; a machine is built per
  profile by filtering the one row list, never by copying it.
* Order is meaning: an event stands for the first trigger that fits it, and among the rows a
  state has for that trigger -- its own, then its parents' -- the first whose guards all
  hold is taken (`Transition` says exactly how both engines choose).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from sipfsm.values.events import Direction

Profile = Literal["rfc6026", "rfc3261"]
#: The default profile first. ``rfc6026`` is RFC 3261 as updated by RFC 4320 and RFC 6026;
#: ``rfc3261`` is the original figures of RFC 3261 §17.
PROFILES: tuple[Profile, ...] = ("rfc6026", "rfc3261")
ALL_PROFILES: frozenset[str] = frozenset(PROFILES)
ONLY_6026: frozenset[str] = frozenset({"rfc6026"})
ONLY_3261: frozenset[str] = frozenset({"rfc3261"})

Transport = Literal["udp", "tcp"]
#: ``udp`` stands for any unreliable transport, ``tcp`` for any reliable one (RFC 3261 §17).
TRANSPORTS: tuple[Transport, ...] = ("udp", "tcp")

EventKind = Literal[
    "request_received",
    "response_received",
    "tu_request",
    "tu_response",
    "tu_cancel",
    "timer",
    "transport_error",
    "message_sent",
    "transaction_ended",
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """A response code that can arise in a state, with the rule that makes it arise.

    ``trigger`` names the trigger under which it happens (so the engine can report it and
    the graph can mark the edge); ``forbidden`` marks a code the RFC prohibits here.
    """

    code: int
    direction: Direction
    when: str
    rfc: str
    trigger: str | None = None
    forbidden: bool = False
    profiles: frozenset[str] = ALL_PROFILES
    #: the request methods the rule is about (empty: any); a transaction reports the first
    #: rule for a code whose methods include its request's
    methods: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The outcome as the JSON export and ``sipfsm outcomes --json`` give it."""
        return {
            "code": self.code,
            "direction": self.direction,
            "when": self.when,
            "rfc": self.rfc,
            "trigger": self.trigger,
            "forbidden": self.forbidden,
            "methods": list(self.methods),
        }

    def as_text(self) -> str:
        verb = "never send" if self.forbidden and self.direction == "send" else self.direction
        return f"{verb} {self.code} {self.when} ({self.rfc})"


@dataclass(frozen=True, slots=True)
class Guard:
    """A named condition on a transition. ``text`` is what diagrams and tables show."""

    name: str
    text: str
    rfc: str
    check: Callable[[Any, Any], bool] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ActionDecl:
    """A declared effect of a transition. ``kind`` selects the handler; ``arg`` is its
    parameter (a timer name, what the TU is told, a response code ...)."""

    kind: str
    arg: str = ""
    arg2: str = ""

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.kind, self.kind).format(arg=self.arg, arg2=self.arg2)


#: How each action kind reads in tables and diagrams.
ACTION_LABELS: dict[str, str] = {
    "send_request": "send request",
    "send_ack": "send ACK",
    "send_response": "send response",
    "resend_response": "resend last response",
    "send_100": "send 100 Trying",
    "to_tu": "{arg} to TU",
    "start_timer": "start Timer {arg}",
    "backoff_timer": "reset Timer {arg} (doubled)",
    "restart_timer": "reset Timer {arg} = {arg2}",
    "stop_timer": "stop Timer {arg}",
    "set_flag": "note {arg}",
    "respond": "respond {arg}",
}


@dataclass(frozen=True, slots=True)
class Trigger:
    """One input of a machine: which concrete events it stands for.

    ``status`` is an inclusive range of response codes; ``method`` narrows a request
    trigger; ``timer`` names the timer of a timer trigger. ``label`` is the RFC figure's
    wording ("1xx", "Timer A fires").
    """

    name: str
    kind: EventKind
    label: str
    status: tuple[int, int] | None = None
    method: str | None = None
    timer: str | None = None
    direction: Direction | None = None


@dataclass(frozen=True, slots=True)
class StateDecl:
    name: str
    description: str
    rfc: str
    timers: tuple[str, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    on_enter: tuple[ActionDecl, ...] = ()
    parent: str | None = None
    #: timers a row starts that keep running while the machine stays in this state or its
    #: substates (a state change inside it does not stop them)
    keeps: tuple[str, ...] = ()
    initial: bool = False
    terminal: bool = False
    profiles: frozenset[str] = ALL_PROFILES


@dataclass(frozen=True, slots=True)
class Transition:
    """One row: an arrow of an RFC figure, or one sentence of its normative text.

    Which row an event takes is decided the same way by both engines
    (`sipfsm.engine.runtime.TableMachine`, `sipfsm.engine.reference.TransitionsMachine`):

    1. The event stands for one trigger: the first of `MachineDecl.triggers`, in their
       order, that fits it (its kind, and the method, status range or timer the trigger
       names). An event that fits none is rejected (a `ProtocolError`: not an input).
    2. The candidates are the rows with that trigger whose ``source`` is the current state,
       in declaration order, then those whose ``source`` is its parent, then its
       grandparent ...: a state's own rows come before its parents', wherever they are
       declared.
    3. **The first candidate whose guards all hold is taken**, and no other: its guards are
       checked in their order, a row without guards always holds, and the candidates after
       it are not looked at. Where the guards of two rows can hold together, the row
       declared first wins; a row declared after an unguarded row of the same state and
       trigger is never taken.
    4. With no candidate, or a failed guard in every candidate, the event is rejected: a
       `ProtocolError` naming the machine, the state and the event (a `LocalProtocolError`
       for what this side did -- the TU, a message sent -- else a `RemoteProtocolError`),
       listing each failed guard with its RFC section.

    A creation row (``source`` ``""``) is chosen the same way among `MachineDecl.creations`.
    (A `TimerFired` for a timer that is not running is dropped before any row is looked at.)
    """

    source: str
    trigger: str
    dest: str
    actions: tuple[ActionDecl, ...] = ()
    rfc: str = ""
    guards: tuple[Guard, ...] = ()
    profiles: frozenset[str] = ALL_PROFILES
    note: str = ""

    @property
    def internal(self) -> bool:
        return self.source == self.dest

    @property
    def guard_text(self) -> str:
        return " and ".join(g.text for g in self.guards)

    @property
    def label(self) -> str:
        """The classic ``event [guard] / actions`` label."""
        text = self.trigger
        if self.guards:
            text += f" [{self.guard_text}]"
        if self.actions:
            text += " / " + ", ".join(a.label for a in self.actions)
        return text


@dataclass(frozen=True, slots=True)
class TimerDecl:
    """A timer of RFC 3261 Table 4 (or RFC 6026). Values are expressions over T1, T2, T4:
    ``"T1"``, ``"64*T1"``, ``"32"``. ``reliable=None`` means not started on a reliable
    transport; ``"0"`` means it fires at once. ``cap`` bounds the doubling back-off."""

    name: str
    unreliable: str
    reliable: str | None
    purpose: str
    rfc: str
    cap: str | None = None


@dataclass(frozen=True, slots=True)
class Ruling:
    """Where the RFCs disagree, or are silent, and what the model does.

    ``topic`` names the question; ``rfcs`` are the sections that disagree or leave it open
    (an RFC's figure and its text count as two); ``ruling`` says what the model does, and
    why. ``rows`` are the (state, trigger) pairs the ruling decides -- declared rows, or a
    pair left without a row on purpose, which the engines reject -- and ``states`` the
    states it is about as a whole. ``profiles``: where it applies."""

    topic: str
    rfcs: tuple[str, ...]
    ruling: str
    rows: tuple[tuple[str, str], ...] = ()
    states: tuple[str, ...] = ()
    profiles: frozenset[str] = ALL_PROFILES

    def to_json(self) -> dict[str, Any]:
        """The ruling as the JSON export gives it (its profile is the export's)."""
        return {
            "topic": self.topic,
            "rfcs": list(self.rfcs),
            "ruling": self.ruling,
            "rows": [list(pair) for pair in self.rows],
            "states": list(self.states),
        }


@dataclass(frozen=True, slots=True)
class TimerChange:
    """What taking one row does to the timers its states run (the conventions above),
    worked out from the declaration once per row (`MachineDecl.timer_change`).

    An internal row (``leaves`` false) changes nothing. A row that leaves its state stops
    every running timer not in ``kept`` (those ``dest`` runs or keeps), then starts
    ``dest``'s timers: ``starts`` lists each with whether the source state ran it already
    (such a timer keeps running, unless it has just fired)."""

    leaves: bool
    dest: StateDecl
    kept: frozenset[str]
    starts: tuple[tuple[str, bool], ...]


@dataclass(frozen=True, slots=True)
class MachineDecl:
    """One machine in one profile: its states, triggers, timers, creation rows and rows.

    The order of `triggers` and of the rows is meaning: an event stands for the first
    trigger that fits it, and among the rows a state has for that trigger (its own, then its
    parents') the first whose guards all hold is taken -- see `Transition`.

    ``notes`` are remarks on the machine as a whole (its profile, how it is driven);
    ``rulings`` say where the RFCs disagree or are silent and what the model does
    (`Ruling`)."""

    id: str
    title: str
    rfc: str
    profile: Profile
    figure: str
    states: tuple[StateDecl, ...]
    triggers: tuple[Trigger, ...]
    timers: tuple[TimerDecl, ...]
    creations: tuple[Transition, ...]
    transitions: tuple[Transition, ...]
    notes: tuple[str, ...] = ()
    rulings: tuple[Ruling, ...] = ()
    _state_index: Mapping[str, StateDecl] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )

    _timer_index: Mapping[str, TimerDecl] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )

    #: `timer_change` of the declaration's own rows, by ``id`` (the declaration keeps its
    #: rows alive, so their ids stay theirs); filled on first use
    _timer_changes: dict[int, TimerChange] = field(default_factory=dict, compare=False, repr=False)
    _own_rows: frozenset[int] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_state_index", MappingProxyType({s.name: s for s in self.states}))
        object.__setattr__(self, "_timer_index", MappingProxyType({t.name: t for t in self.timers}))
        object.__setattr__(self, "_timer_changes", {})
        own = frozenset(id(row) for row in (*self.creations, *self.transitions))
        object.__setattr__(self, "_own_rows", own)

    @property
    def timer_index(self) -> Mapping[str, TimerDecl]:
        return self._timer_index

    # -- lookups -----------------------------------------------------------------------
    def state(self, name: str) -> StateDecl:
        try:
            return self._state_index[name]
        except (KeyError, TypeError):  # (TypeError: an unhashable name)
            from sipfsm.values.errors import UnknownName

            raise UnknownName("state", name, [s.name for s in self.states], self.id) from None

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @property
    def leaf_states(self) -> tuple[StateDecl, ...]:
        parents = {s.parent for s in self.states if s.parent}
        return tuple(s for s in self.states if s.name not in parents)

    @property
    def creation(self) -> Transition:
        """The first creation row (transactions have exactly one)."""
        return self.creations[0]

    @property
    def initial(self) -> str:
        return self.creations[0].dest

    @property
    def terminal_states(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states if s.terminal)

    def trigger(self, name: str) -> Trigger:
        for t in self.triggers:
            if t.name == name:
                return t
        from sipfsm.values.errors import UnknownName

        raise UnknownName("trigger", name, [t.name for t in self.triggers], self.id)

    def timer(self, name: str) -> TimerDecl:
        for t in self.timers:
            if t.name == name:
                return t
        from sipfsm.values.errors import UnknownName

        raise UnknownName("timer", name, [t.name for t in self.timers], self.id)

    def ancestors(self, name: str) -> tuple[str, ...]:
        """The state itself, then its parent, grandparent ... (for nested states)."""
        chain = [name]
        parent = self.state(name).parent
        while parent is not None:
            chain.append(parent)
            parent = self.state(parent).parent
        return tuple(chain)

    def kept_timers(self, state: str) -> frozenset[str]:
        """Timers that survive entering ``state``: its own, and those it or a parent keeps."""
        names = set(self.state(state).timers)
        for ancestor in self.ancestors(state):
            names.update(self.state(ancestor).keeps)
        return frozenset(names)

    def timer_change(self, row: Transition) -> TimerChange:
        """What taking ``row`` does to the running timers (see `TimerChange`); remembered for
        the declaration's own rows, worked out afresh for any other."""
        change = self._timer_changes.get(id(row))
        if change is None:
            source = self.state(row.source).timers if row.source else ()
            dest = self.state(row.dest)
            kept = self.kept_timers(dest.name) if dest.parent or dest.keeps else dest.timers
            change = TimerChange(
                leaves=not row.internal,
                dest=dest,
                kept=frozenset(kept),
                starts=tuple((name, name in source) for name in dest.timers),
            )
            if id(row) in self._own_rows:
                self._timer_changes[id(row)] = change
        return change

    def outcomes(self, state: str) -> tuple[Outcome, ...]:
        """Outcomes of a state, including those its parent states declare."""
        found: list[Outcome] = []
        for name in self.ancestors(state):
            found.extend(self.state(name).outcomes)
        return tuple(found)

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        chain = self.ancestors(state)
        return tuple(t for t in self.transitions if t.source in chain)


_Row = TypeVar("_Row", StateDecl, Transition, Ruling)


def profile_of(name: str) -> Profile:
    """``name`` as a `Profile`, or `UnknownName` listing the profiles."""
    for p in PROFILES:
        if p == name:
            return p
    from sipfsm.values.errors import UnknownName

    raise UnknownName("profile", name, PROFILES)


def select_profile(rows: tuple[_Row, ...], profile: str) -> tuple[_Row, ...]:
    """The rows (states, rulings) of a declaration that exist in ``profile``."""
    return tuple(r for r in rows if profile in r.profiles)


__all__ = [
    "ACTION_LABELS",
    "ALL_PROFILES",
    "ONLY_3261",
    "ONLY_6026",
    "PROFILES",
    "TRANSPORTS",
    "ActionDecl",
    "EventKind",
    "Guard",
    "MachineDecl",
    "Outcome",
    "Profile",
    "Ruling",
    "StateDecl",
    "TimerChange",
    "TimerDecl",
    "Transition",
    "Transport",
    "Trigger",
    "profile_of",
    "select_profile",
]
