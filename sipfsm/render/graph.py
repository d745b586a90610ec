"""A machine as a networkx graph: one `MultiDiGraph` per machine, profile and transport.

Everything here is read from the declaration (`sipfsm.decl.language.MachineDecl`) and the timer
values of `sipfsm.decl.timers.Timing`; the renderers, the analyses and the exports all start
from this graph, so they cannot disagree about what a machine is.

Nodes
    One per declared state, keyed by the state's name, plus the start pseudo-node `START`
    (the empty string, which the declarations use as the source of their creation rows).
    A state node carries ``kind="state"``, ``name``, ``description``, ``rfc``, ``initial``
    (a creation row enters it, or it is declared initial), ``terminal``, ``parent``,
    ``timers`` (``((name, seconds), ...)``: the timers the state runs *on this transport*;
    a timer that is not started there -- A, E and G on a reliable transport -- is left
    out), ``stopped_timers`` (the state's declared timers that are not started on this
    transport) and ``outcomes`` (every `Outcome` that applies in the state, its parents'
    included, each with its RFC section).

Edges
    One per declared row, keyed ``"new:<i>"`` for the i-th creation row (from `START`) and
    ``"row:<i>"`` for the i-th transition. An edge carries ``row`` (the `Transition`),
    ``trigger``, ``trigger_label`` (the RFC figure's wording), ``guard`` (its text, ``""``
    when unguarded), ``guards`` (the guard names), ``actions`` (the action labels, without
    a start, reset or stop of a timer that is not started on this transport, so the
    diagrams of the two transports differ where the RFC says they do), ``rfc``, ``note``,
    ``internal``, ``live`` (false for a row triggered by a timer that never runs in its
    source state on this transport: it can never be taken there), ``outcomes`` (the
    codes that can arise on the edge: the source state's outcomes declared for this
    trigger, minus forbidden ones and codes outside the trigger's status range) and
    ``forbidden`` (the codes declared forbidden there).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from sipfsm.decl.language import PROFILES, TRANSPORTS, MachineDecl, Outcome, StateDecl, Transition
from sipfsm.decl.timers import TIMERS, Timing
from sipfsm.values.errors import UnknownName

#: The start pseudo-node: the source of the creation rows (``""`` as in the declarations).
START = ""

#: Action kinds that start a timer for a duration the host draws at random: the dialog's
#: glare timer (RFC 3261 §14.1: 2.1-4 s or 0-2 s); the timer's declared value is the bound.
RANDOM_TIMER_ACTIONS = frozenset({"start_glare"})
#: Action kinds whose argument is a timer name.
TIMER_ACTIONS = frozenset(
    {"start_timer", "backoff_timer", "restart_timer", "stop_timer", *RANDOM_TIMER_ACTIONS}
)

#: A machine given by id (``"ict"``) or as a declaration built by hand.
MachineRef = str | MachineDecl


def resolve(machine: MachineRef, profile: str = "rfc6026") -> MachineDecl:
    """The declaration of ``machine`` in ``profile``; a `MachineDecl` is returned as it is."""
    if isinstance(machine, MachineDecl):
        return machine
    from sipfsm.engine import model

    return model.declare(machine, profile)


def timing_for(transport: str) -> Timing:
    """The default timing (T1, T2, T4 of RFC 3261 §17) on ``transport``."""
    if transport == "udp":
        return Timing(transport="udp")
    if transport == "tcp":
        return Timing(transport="tcp")
    raise UnknownName("transport", transport, TRANSPORTS)


def available_machines() -> tuple[str, ...]:
    """The machine ids of `sipfsm.engine.model.MACHINES`."""
    from sipfsm.engine import model

    return tuple(model.MACHINES)


def timer_duration(decl: MachineDecl, timing: Timing, name: str) -> float | None:
    """The initial duration of timer ``name`` on ``timing``'s transport, ``None`` if it is
    not started there. The machine's own `TimerDecl` is used when it declares one."""
    for t in decl.timers:
        if t.name == name:
            return timing.duration(t)
    if name in TIMERS:
        return timing.duration(TIMERS[name])
    known = [t.name for t in decl.timers] or list(TIMERS)
    raise UnknownName("timer", name, known, decl.id)


def running_timers(
    decl: MachineDecl, timing: Timing, state: StateDecl
) -> tuple[tuple[str, float], ...]:
    """The timers ``state`` runs on this transport, with their initial durations."""
    out = []
    for name in state.timers:
        value = timer_duration(decl, timing, name)
        if value is not None:
            out.append((name, value))
    return tuple(out)


def kept_actions(decl: MachineDecl, timing: Timing, row: Transition) -> tuple[str, ...]:
    """The labels of a row's actions on this transport (timers not started are left out)."""
    return tuple(
        a.label
        for a in row.actions
        if not (a.kind in TIMER_ACTIONS and timer_duration(decl, timing, a.arg) is None)
    )


def edge_outcomes(
    decl: MachineDecl, row: Transition
) -> tuple[tuple[Outcome, ...], tuple[Outcome, ...]]:
    """The outcomes that can arise on ``row`` and those declared forbidden on it."""
    if not row.source:
        return (), ()
    trig = decl.trigger(row.trigger)
    can: list[Outcome] = []
    forbidden: list[Outcome] = []
    for oc in decl.outcomes(row.source):
        if oc.trigger != row.trigger:
            continue
        if trig.status is not None and not trig.status[0] <= oc.code <= trig.status[1]:
            continue
        (forbidden if oc.forbidden else can).append(oc)
    return tuple(can), tuple(forbidden)


def _codes(outcomes: Iterable[Outcome]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(o.code for o in outcomes))


def _live(decl: MachineDecl, timing: Timing, row: Transition) -> bool:
    """Whether a row can be taken on this transport: a timer trigger needs its timer to be
    running (or restartable) in the source state."""
    if not row.source:
        return True
    trig = decl.trigger(row.trigger)
    if trig.kind != "timer" or trig.timer is None:
        return True
    return timer_duration(decl, timing, trig.timer) is not None


def build(
    machine: MachineRef, profile: str = "rfc6026", transport: str = "udp"
) -> nx.MultiDiGraph[str]:
    """The graph of ``machine`` under ``profile`` on ``transport`` (see the module text).

    ``machine`` is a machine id of `sipfsm.engine.model.MACHINES` or a `MachineDecl` (whose own
    profile is then used)."""
    if not isinstance(machine, MachineDecl) and profile not in PROFILES:
        raise UnknownName("profile", profile, PROFILES)
    decl = resolve(machine, profile)
    return from_decl(decl, transport)


def from_decl(decl: MachineDecl, transport: str = "udp") -> nx.MultiDiGraph[str]:
    """The graph of a declaration on ``transport``."""
    timing = timing_for(transport)
    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    g.graph.update(
        machine=decl.id,
        title=decl.title,
        rfc=decl.rfc,
        profile=decl.profile,
        transport=transport,
        timers={t.name: timing.duration(t) for t in decl.timers},
    )
    initial = {r.dest for r in decl.creations}
    g.add_node(START, kind="start", name=START)
    for s in decl.states:
        g.add_node(
            s.name,
            kind="state",
            name=s.name,
            description=s.description,
            rfc=s.rfc,
            initial=s.initial or s.name in initial,
            terminal=s.terminal,
            parent=s.parent,
            timers=running_timers(decl, timing, s),
            stopped_timers=tuple(n for n in s.timers if timer_duration(decl, timing, n) is None),
            outcomes=decl.outcomes(s.name),
        )
    rows = [(f"new:{i}", r) for i, r in enumerate(decl.creations)]
    rows += [(f"row:{i}", r) for i, r in enumerate(decl.transitions)]
    for key, row in rows:
        can, forbidden = edge_outcomes(decl, row)
        g.add_edge(
            row.source,
            row.dest,
            key=key,
            row=row,
            trigger=row.trigger,
            trigger_label=decl.trigger(row.trigger).label,
            guard=row.guard_text,
            guards=tuple(gd.name for gd in row.guards),
            actions=kept_actions(decl, timing, row),
            rfc=row.rfc,
            note=row.note,
            internal=bool(row.source) and row.internal,
            live=_live(decl, timing, row),
            outcomes=_codes(can),
            forbidden=_codes(forbidden),
        )
    return g


# -- reading a graph ---------------------------------------------------------------------------


def states(g: nx.MultiDiGraph[str]) -> list[str]:
    """The state nodes in declaration order (the start pseudo-node left out)."""
    return [n for n, a in g.nodes(data=True) if a.get("kind") == "state"]


def edges(g: nx.MultiDiGraph[str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Every edge as ``(source, dest, key, attributes)`` in declaration order."""
    found = list(g.edges(keys=True, data=True))
    order = {key: i for i, key in enumerate(_edge_order(g))}
    return sorted(found, key=lambda e: order[e[2]])


def _edge_order(g: nx.MultiDiGraph[str]) -> list[str]:
    keys = [k for _u, _v, k in g.edges(keys=True)]
    news = sorted((k for k in keys if k.startswith("new:")), key=lambda k: int(k[4:]))
    rows = sorted((k for k in keys if k.startswith("row:")), key=lambda k: int(k[4:]))
    return news + rows


def children(g: nx.MultiDiGraph[str], state: str) -> list[str]:
    """The direct children of ``state`` (nested states), in declaration order."""
    return [n for n in states(g) if g.nodes[n]["parent"] == state]


def descendants(g: nx.MultiDiGraph[str], state: str) -> list[str]:
    out: list[str] = []
    for child in children(g, state):
        out.append(child)
        out.extend(descendants(g, child))
    return out


def signature(g: nx.MultiDiGraph[str]) -> tuple[object, ...]:
    """What a diagram of ``g`` shows apart from timer durations: two graphs with the same
    signature draw the same figure. Used to decide whether a machine's diagram differs by
    transport (RFC 3261 §17: Timers A, E and G are not started on a reliable transport)."""
    nodes = tuple(
        (
            n,
            a["kind"],
            a.get("initial"),
            a.get("terminal"),
            a.get("parent"),
            tuple(name for name, _ in a.get("timers", ())),
            a.get("outcomes"),
        )
        for n, a in g.nodes(data=True)
    )
    edge_sig = tuple(
        (
            u,
            v,
            k,
            a["trigger"],
            a["guard"],
            a["actions"],
            a["rfc"],
            a["note"],
            a["live"],
            a["outcomes"],
            a["forbidden"],
        )
        for u, v, k, a in edges(g)
    )
    return (g.graph["machine"], g.graph["profile"], nodes, edge_sig)


def same_figure(a: nx.MultiDiGraph[str], b: nx.MultiDiGraph[str]) -> bool:
    """Whether two graphs draw the same figure (timer durations aside)."""
    return signature(a) == signature(b)


def differs_by_transport(machine: MachineRef, profile: str = "rfc6026") -> bool:
    """Whether the udp and tcp graphs of a machine draw different figures."""
    return not same_figure(build(machine, profile, "udp"), build(machine, profile, "tcp"))


__all__ = [
    "RANDOM_TIMER_ACTIONS",
    "START",
    "TIMER_ACTIONS",
    "MachineRef",
    "available_machines",
    "build",
    "children",
    "descendants",
    "differs_by_transport",
    "edge_outcomes",
    "edges",
    "from_decl",
    "kept_actions",
    "resolve",
    "running_timers",
    "same_figure",
    "signature",
    "states",
    "timer_duration",
    "timing_for",
]
