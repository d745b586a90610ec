"""Graph analyses of the declared machines (networkx), all read from `sipfsm.render.graph`.

How a nested machine is read (`sipfsm.decl.language`, the engines): a row declared on a parent
state applies in each of its descendants, the state's own rows first; an internal row
(``dest == source``) does not leave the state the machine is in, whether it is declared on
that state or on a parent; a row that targets a parent state leaves the machine *in* that
state (no initial child is entered); a machine is in a parent state while it is in any of
its descendants. The *effective graph* spells this out: one node per state, an edge
``s -> d`` for every row ``p -> d`` where ``p`` is ``s`` or an ancestor of ``s`` (``s -> s``
for an internal one); a row triggered by a timer that is not started on the transport is
left out.

Unreachable states
    States that no path of the effective graph from the start pseudo-node reaches; a
    parent counts as reached when any of its descendants is.

States that cannot reach a terminal state
    States from which no path of the effective graph leads to a terminal state (one
    declared ``terminal``, or a descendant of one); a parent is fine when one of its
    descendants is. Unreachable states are included.

Cycles that no timer bounds
    A *cycle* is an elementary cycle of the effective graph (self loops included) through
    states the machine can be in (reached from its creation; a parent only entered through
    its children does not count) that avoids terminal states. A timer ``T`` *bounds* a
    cycle ``C`` on a transport when

    1. every state of ``C`` runs ``T`` on that transport (so ``T`` keeps running, and is
       never stopped and restarted, while the machine stays in ``C`` -- `sipfsm.decl.language`:
       entering a state starts only the timers the previous one did not run),
    2. no row between two consecutive states of ``C`` starts, resets or restarts ``T``
       (a retransmission timer that resets itself on its own loop, like Timer A, bounds
       nothing), and
    3. in every state of ``C`` the rows triggered by ``T`` firing all lead out of ``C`` (the
       states of ``C``), and there is at least one (so when ``T`` fires, ``C`` is left).

    A cycle that no timer bounds can go on for ever on the events of that cycle. For the
    transactions these are the states that wait for the TU (an IST in Proceeding, where
    RFC 3261 §17.2.1 leaves the final response to the TU and a proxy's Timer C, §16.6, ends
    it) or for the peer (an ICT in Proceeding, which RFC 3261 §17.1.1.2 gives no timer).

Where a code can arise
    For a response code, the states whose outcomes (`sipfsm.decl.language.Outcome`, parents'
    included) declare it, and the edges on which it arises (the source state's outcomes for
    that edge's trigger; see `sipfsm.render.graph`). Forbidden outcomes ("never send 408") are
    listed apart: they mark where the code must *not* arise.

Profile diff
    States and edges added and removed between two profiles of a machine; an edge is
    identified by (source, trigger, dest, guard text). Edges with the same identity whose
    actions, RFC section or note differ are listed as changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from sipfsm.decl.language import MachineDecl, Outcome
from sipfsm.render import graph as sg
from sipfsm.values.errors import SipFsmError

# -- the effective graph ---------------------------------------------------------------------


def effective(g: nx.MultiDiGraph[str]) -> nx.MultiDiGraph[str]:
    """The graph the engines run: parent rows copied onto every descendant (an internal
    parent row, ``dest == source``, becomes a self loop of the descendant: the state is
    not left), and rows that cannot be taken on the transport (``live`` false) left out.

    Each edge keeps the attributes of its declared row, plus ``declared_source``."""
    eff: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    eff.graph.update(g.graph)
    for n, attrs in g.nodes(data=True):
        eff.add_node(n, **attrs)
    for u, v, k, attrs in sg.edges(g):
        if not attrs["live"]:
            continue  # a row whose timer never runs on this transport is never taken
        sources = [u] if u == sg.START else [u, *sg.descendants(g, u)]
        for s in sources:
            dest = s if attrs["internal"] else v
            eff.add_edge(s, dest, key=f"{k}@{s}", declared_source=u, **attrs)
    return eff


def _terminal_set(g: nx.MultiDiGraph[str]) -> set[str]:
    found: set[str] = set()
    for n in sg.states(g):
        if g.nodes[n]["terminal"]:
            found.add(n)
            found.update(sg.descendants(g, n))
    return found


def _ancestors(g: nx.MultiDiGraph[str], state: str) -> list[str]:
    out = []
    parent = g.nodes[state]["parent"]
    while parent is not None:
        out.append(parent)
        parent = g.nodes[parent]["parent"]
    return out


# -- reachability ----------------------------------------------------------------------------


def unreachable(
    machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp"
) -> tuple[str, ...]:
    """States no path from the creation of the machine reaches (declaration order)."""
    g = sg.build(machine, profile, transport)
    eff = effective(g)
    reached = set(nx.descendants(eff, sg.START))
    for n in list(reached - {sg.START}):
        reached.update(_ancestors(g, n))
    return tuple(n for n in sg.states(g) if n not in reached)


def cannot_reach_terminal(
    machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp"
) -> tuple[str, ...]:
    """States from which no terminal state can be reached (declaration order)."""
    g = sg.build(machine, profile, transport)
    eff = effective(g)
    terminal = _terminal_set(g)
    reverse = eff.reverse(copy=False)
    can: set[str] = set(terminal)
    for t in terminal:
        can.update(nx.descendants(reverse, t))
    for n in list(can - {sg.START}):  # a parent can end when one of its descendants can
        can.update(_ancestors(g, n))
    return tuple(n for n in sg.states(g) if n not in can)


# -- cycles and timers -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cycle:
    """An elementary cycle of the effective graph, from its first state in declaration
    order. ``bounded_by`` names the timers that bound it (empty: unbounded)."""

    states: tuple[str, ...]
    bounded_by: tuple[str, ...]
    triggers: tuple[str, ...] = ()

    @property
    def bounded(self) -> bool:
        return bool(self.bounded_by)

    def as_text(self) -> str:
        path = " -> ".join((*self.states, self.states[0]))
        how = (
            f"bounded by Timer {', '.join(self.bounded_by)}"
            if self.bounded_by
            else ("no timer bounds it")
        )
        return f"{path} (on {', '.join(self.triggers)}): {how}"


def _between(eff: nx.MultiDiGraph[str], u: str, v: str) -> list[dict[str, Any]]:
    """The attributes of every edge from ``u`` to ``v``."""
    found: dict[Any, dict[str, Any]] = eff.get_edge_data(u, v, default={})
    return [dict(a) for a in found.values()]


def _bounds(
    eff: nx.MultiDiGraph[str], cycle: list[str], timer: str, trigger_timers: dict[str, str | None]
) -> bool:
    members = set(cycle)
    # 1. every state runs the timer on this transport
    if not all(any(name == timer for name, _ in eff.nodes[s]["timers"]) for s in cycle):
        return False
    # 2. no row along the cycle restarts it
    for i, s in enumerate(cycle):
        nxt = cycle[(i + 1) % len(cycle)]
        for attrs in _between(eff, s, nxt):
            row = attrs["row"]
            if any(
                a.kind in sg.TIMER_ACTIONS and a.kind != "stop_timer" and a.arg == timer
                for a in row.actions
            ):
                return False
    # 3. in every state, the timer's own rows all leave the cycle, and there is one
    for s in cycle:
        fired = [
            v
            for _u, v, attrs in eff.out_edges(s, data=True)
            if trigger_timers.get(attrs["trigger"]) == timer
        ]
        if not fired or any(v in members for v in fired):
            return False
    return True


def cycles(
    machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp"
) -> tuple[Cycle, ...]:
    """Every elementary cycle that avoids terminal states, each with the timers that bound
    it (see the module text for the definition)."""
    decl = sg.resolve(machine, profile)
    g = sg.from_decl(decl, transport)
    eff = effective(g)
    trigger_timers = {t.name: t.timer for t in decl.triggers if t.kind == "timer"}
    terminal = _terminal_set(g)
    occupied = set(nx.descendants(eff, sg.START))  # states the machine can actually be in
    plain: nx.DiGraph[str] = nx.DiGraph()
    plain.add_nodes_from(n for n in sg.states(g) if n not in terminal and n in occupied)
    for u, v in eff.edges():
        if u in plain and v in plain:
            plain.add_edge(u, v)
    order = {n: i for i, n in enumerate(sg.states(g))}
    found: list[Cycle] = []
    for raw in nx.simple_cycles(plain):
        start = min(range(len(raw)), key=lambda i: order[raw[i]])
        cycle = raw[start:] + raw[:start]
        timers = dict.fromkeys(name for s in cycle for name, _ in eff.nodes[s]["timers"])
        bounded = tuple(t for t in timers if _bounds(eff, cycle, t, trigger_timers))
        triggers: dict[str, None] = {}
        for i, s in enumerate(cycle):
            nxt = cycle[(i + 1) % len(cycle)]
            for attrs in _between(eff, s, nxt):
                triggers[attrs["trigger"]] = None
        found.append(Cycle(tuple(cycle), bounded, tuple(triggers)))
    found.sort(key=lambda c: (len(c.states), [order[s] for s in c.states]))
    return tuple(found)


def unbounded_cycles(
    machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp"
) -> tuple[Cycle, ...]:
    """The cycles that no timer bounds."""
    return tuple(c for c in cycles(machine, profile, transport) if not c.bounded)


# -- where a code can arise ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateSite:
    state: str
    outcomes: tuple[Outcome, ...]


@dataclass(frozen=True, slots=True)
class EdgeSite:
    source: str
    trigger: str
    dest: str
    guard: str
    rfc: str
    outcomes: tuple[Outcome, ...]


@dataclass(frozen=True, slots=True)
class CodeSites:
    """Where ``code`` can arise in one machine: states, edges, and the states where it is
    declared forbidden."""

    code: int
    machine: str
    profile: str
    transport: str
    states: tuple[StateSite, ...]
    edges: tuple[EdgeSite, ...]
    forbidden: tuple[StateSite, ...] = ()

    @property
    def found(self) -> bool:
        return bool(self.states or self.edges)

    def as_text(self) -> str:
        head = f"{self.code} in {self.machine} ({self.profile}, {self.transport})"
        if not self.found and not self.forbidden:
            return f"{head}: nowhere"
        lines = [f"{head}:"]
        for s in self.states:
            for oc in s.outcomes:
                lines.append(f"  state {s.state}: {oc.as_text()}")
        for e in self.edges:
            guard = f" [{e.guard}]" if e.guard else ""
            lines.append(f"  edge {e.source} --{e.trigger}{guard}--> {e.dest} ({e.rfc})")
        for s in self.forbidden:
            for oc in s.outcomes:
                lines.append(f"  forbidden in {s.state}: {oc.as_text()}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "machine": self.machine,
            "profile": self.profile,
            "transport": self.transport,
            "states": [
                {"state": s.state, "outcomes": [_outcome_json(o) for o in s.outcomes]}
                for s in self.states
            ],
            "edges": [
                {
                    "source": e.source,
                    "trigger": e.trigger,
                    "dest": e.dest,
                    "guard": e.guard or None,
                    "rfc": e.rfc,
                    "outcomes": [_outcome_json(o) for o in e.outcomes],
                }
                for e in self.edges
            ],
            "forbidden": [
                {"state": s.state, "outcomes": [_outcome_json(o) for o in s.outcomes]}
                for s in self.forbidden
            ],
        }


def _outcome_json(o: Outcome) -> dict[str, Any]:
    return o.to_json()


def check_code(code: object) -> int:
    """A response code 100-699, or a clear error."""
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 699:
        raise AnalysisError(f"not a SIP response code: {code!r} (expected 100-699)")
    return code


class AnalysisError(SipFsmError, ValueError):
    """Bad input to an analysis (a code out of range, an unknown profile pair ...)."""


def where(
    code: int, machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp"
) -> CodeSites:
    """The states and edges of ``machine`` where response ``code`` can arise."""
    code = check_code(code)
    decl = sg.resolve(machine, profile)
    g = sg.from_decl(decl, transport)
    state_sites = []
    forbidden_sites = []
    for n in sg.states(g):
        ocs = [o for o in g.nodes[n]["outcomes"] if o.code == code]
        can = tuple(o for o in ocs if not o.forbidden)
        never = tuple(o for o in ocs if o.forbidden)
        if can:
            state_sites.append(StateSite(n, can))
        if never:
            forbidden_sites.append(StateSite(n, never))
    edge_sites = []
    for u, v, _k, attrs in sg.edges(g):
        if code in attrs["outcomes"]:
            can_here, _ = sg.edge_outcomes(decl, attrs["row"])
            edge_sites.append(
                EdgeSite(
                    u,
                    attrs["trigger"],
                    v,
                    attrs["guard"],
                    attrs["rfc"],
                    tuple(o for o in can_here if o.code == code),
                )
            )
    return CodeSites(
        code,
        decl.id,
        decl.profile,
        transport,
        tuple(state_sites),
        tuple(edge_sites),
        tuple(forbidden_sites),
    )


def where_everywhere(
    code: int, profile: str = "rfc6026", transport: str = "udp"
) -> dict[str, CodeSites]:
    """``where(code, m)`` for every machine that can be built ("where can 481 happen?")."""
    return {m: where(code, m, profile, transport) for m in sg.available_machines()}


def codes(machine: sg.MachineRef, profile: str = "rfc6026") -> tuple[int, ...]:
    """Every response code a machine declares an outcome for, ascending."""
    decl = sg.resolve(machine, profile)
    return tuple(sorted({o.code for s in decl.states for o in s.outcomes}))


# -- the whole report ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    machine: str
    profile: str
    transport: str
    unreachable: tuple[str, ...]
    cannot_reach_terminal: tuple[str, ...]
    cycles: tuple[Cycle, ...]
    codes: tuple[CodeSites, ...]

    @property
    def unbounded_cycles(self) -> tuple[Cycle, ...]:
        return tuple(c for c in self.cycles if not c.bounded)

    def as_text(self) -> str:
        lines = [
            f"{self.machine} ({self.profile}, {self.transport})",
            "unreachable states: " + (", ".join(self.unreachable) or "none"),
            "states that cannot reach a terminal state: "
            + (", ".join(self.cannot_reach_terminal) or "none"),
            "cycles:",
        ]
        lines += [f"  {c.as_text()}" for c in self.cycles] or ["  none"]
        lines.append("where each code can arise:")
        for sites in self.codes:
            lines += ["  " + line for line in sites.as_text().splitlines()]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "profile": self.profile,
            "transport": self.transport,
            "unreachable": list(self.unreachable),
            "cannot_reach_terminal": list(self.cannot_reach_terminal),
            "cycles": [
                {
                    "states": list(c.states),
                    "triggers": list(c.triggers),
                    "bounded_by": list(c.bounded_by),
                }
                for c in self.cycles
            ],
            "unbounded_cycles": [list(c.states) for c in self.unbounded_cycles],
            "codes": {str(s.code): s.as_json() for s in self.codes},
        }


def analyze(machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp") -> Report:
    """Every analysis of one machine, for ``sipfsm analyze``."""
    decl = sg.resolve(machine, profile)
    return Report(
        machine=decl.id,
        profile=decl.profile,
        transport=transport,
        unreachable=unreachable(decl, transport=transport),
        cannot_reach_terminal=cannot_reach_terminal(decl, transport=transport),
        cycles=cycles(decl, transport=transport),
        codes=tuple(where(c, decl, transport=transport) for c in codes(decl)),
    )


# -- profile diff ----------------------------------------------------------------------------

EdgeId = tuple[str, str, str, str]


def edge_id(u: str, v: str, attrs: dict[str, Any]) -> EdgeId:
    """An edge's identity across profiles: (source, trigger, dest, guard text)."""
    return (u, str(attrs["trigger"]), v, str(attrs["guard"]))


@dataclass(frozen=True, slots=True)
class Diff:
    """What changes from one profile of a machine to another."""

    machine: str
    from_profile: str
    to_profile: str
    transport: str
    states_added: tuple[str, ...]
    states_removed: tuple[str, ...]
    edges_added: tuple[EdgeId, ...]
    edges_removed: tuple[EdgeId, ...]
    edges_changed: tuple[EdgeId, ...] = ()
    graphs: tuple[Any, Any] = field(default=(None, None), compare=False, repr=False)

    @property
    def empty(self) -> bool:
        return not (
            self.states_added
            or self.states_removed
            or self.edges_added
            or self.edges_removed
            or self.edges_changed
        )

    def as_text(self) -> str:
        lines = [f"{self.machine}: {self.from_profile} -> {self.to_profile} ({self.transport})"]
        if self.empty:
            return lines[0] + ": no difference"
        lines += [f"+ state {s}" for s in self.states_added]
        lines += [f"- state {s}" for s in self.states_removed]
        lines += [f"+ edge {_edge_text(e)}" for e in self.edges_added]
        lines += [f"- edge {_edge_text(e)}" for e in self.edges_removed]
        lines += [
            f"~ edge {_edge_text(e)} (actions, RFC section or note differ)"
            for e in self.edges_changed
        ]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        def edge(e: EdgeId) -> dict[str, Any]:
            return {"source": e[0] or None, "trigger": e[1], "dest": e[2], "guard": e[3] or None}

        return {
            "machine": self.machine,
            "from": self.from_profile,
            "to": self.to_profile,
            "transport": self.transport,
            "states_added": list(self.states_added),
            "states_removed": list(self.states_removed),
            "edges_added": [edge(e) for e in self.edges_added],
            "edges_removed": [edge(e) for e in self.edges_removed],
            "edges_changed": [edge(e) for e in self.edges_changed],
        }


def _edge_text(e: EdgeId) -> str:
    source, trigger, dest, guard = e
    guard_text = f" [{guard}]" if guard else ""
    return f"{source or '(new)'} --{trigger}{guard_text}--> {dest}"


def _edge_index(g: nx.MultiDiGraph[str]) -> dict[EdgeId, list[dict[str, Any]]]:
    index: dict[EdgeId, list[dict[str, Any]]] = {}
    for u, v, _k, attrs in sg.edges(g):
        index.setdefault(edge_id(u, v, attrs), []).append(attrs)
    return index


def _shown(attrs: Iterable[dict[str, Any]]) -> list[tuple[object, ...]]:
    return [(a["actions"], a["rfc"], a["note"]) for a in attrs]


def diff_decls(a: MachineDecl, b: MachineDecl, transport: str = "udp") -> Diff:
    """The difference between two declarations (normally two profiles of one machine)."""
    ga, gb = sg.from_decl(a, transport), sg.from_decl(b, transport)
    sa, sb = sg.states(ga), sg.states(gb)
    ea, eb = _edge_index(ga), _edge_index(gb)
    changed = tuple(e for e in ea if e in eb and _shown(ea[e]) != _shown(eb[e]))
    return Diff(
        machine=a.id if a.id == b.id else f"{a.id}/{b.id}",
        from_profile=a.profile,
        to_profile=b.profile,
        transport=transport,
        states_added=tuple(s for s in sb if s not in sa),
        states_removed=tuple(s for s in sa if s not in sb),
        edges_added=tuple(e for e in eb if e not in ea),
        edges_removed=tuple(e for e in ea if e not in eb),
        edges_changed=changed,
        graphs=(ga, gb),
    )


def diff(
    machine: str, from_profile: str = "rfc3261", to_profile: str = "rfc6026", transport: str = "udp"
) -> Diff:
    """States and edges added and removed from ``from_profile`` to ``to_profile``."""
    return diff_decls(sg.resolve(machine, from_profile), sg.resolve(machine, to_profile), transport)


__all__ = [
    "AnalysisError",
    "CodeSites",
    "Cycle",
    "Diff",
    "EdgeSite",
    "Report",
    "StateSite",
    "analyze",
    "cannot_reach_terminal",
    "check_code",
    "codes",
    "cycles",
    "diff",
    "diff_decls",
    "edge_id",
    "effective",
    "unbounded_cycles",
    "unreachable",
    "where",
    "where_everywhere",
]
