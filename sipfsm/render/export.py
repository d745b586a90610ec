"""Exports for other stacks: JSON (versioned, with a JSON Schema), W3C SCXML, Mermaid, DOT.

All four are read from `sipfsm.render.graph`, so they agree with each other and with the engines.

JSON (`to_json`)
    A document with ``"schema_version": 1``, described by the JSON Schema shipped in the package
    (``sipfsm/data/machine.schema.json``, `schema`). It is also what ``sipfsm show --json``
    prints. Fields: ``machine``, ``title``, ``rfc``, ``profile``, ``transport``, ``notes``,
    ``rulings`` (where the RFCs disagree or are silent: ``topic``, ``rfcs``, ``ruling``,
    ``rows`` as ``[state, trigger]``, ``states``); ``timers`` (name -> initial seconds on the
    transport, ``null`` when not started there) and ``timer_details``; ``triggers``; ``states``
    (``name``, ``description``, ``rfc``, ``initial``, ``terminal``, ``parent``, ``timers``,
    ``outcomes`` -- each ``{code, direction, when, rfc, trigger, forbidden}``, parents' outcomes
    included); ``creations`` and ``transitions`` (``source``, ``trigger``, ``dest``, ``guard``
    (text or ``null``), ``guards`` (names), ``actions`` (labels on this transport), ``rfc``,
    ``note``, ``internal``, ``live``, ``outcomes`` (codes that can arise on the row)). A change
    that removes or renames a field bumps ``schema_version``.

SCXML (`to_scxml`)
    A W3C SCXML 1.0 document that an SCXML engine can run; tests run every export in
    ``python-statemachine`` (its SCXML loader) in lockstep with
    `sipfsm.engine.runtime.TableMachine`.

    * **Creation.** The document starts in a pseudo-state ``new``; the creation event
      (``tu_request``, ``rcv_invite`` ...) leaves it, as `TableMachine.create` does.
    * **Events** are the trigger names (``rcv_1xx``, ``timer_b``); the host classifies its
      messages into them as `sipfsm.engine.runtime.Classifier` does.
    * **Timers** are delayed sends: ``<send event="timer_b" id="timer.B" delay="32s"/>``
      started on entry to a state that runs the timer and cancelled with
      ``<cancel sendid="timer.B"/>`` when the machine enters a state that does not, with the
      engines' rules (`sipfsm.engine.runtime.apply_transition`): leaving a state stops every
      running timer the next state does not run (one a row started explicitly included,
      RFC 3261 §9.1's wait after a CANCEL); a timer the previous state already ran keeps
      running (RFC 3261 §17.1.2.2: Timers E and F carry on from Trying into Proceeding),
      unless it is the one that fired; a terminal state stops them all. SCXML runs
      ``onexit`` before the transition's actions and before it knows the target, so
      ``onexit`` only takes notes -- ``leaving_B = 1`` (the state ran B) and
      ``stop_B = running_B`` (B was running) -- a transition that starts B itself clears
      ``stop_B``, and ``onentry`` of the next state cancels or starts by those notes. Each
      timer's state is in the datamodel: ``running_B`` (0/1) and, for a timer that backs
      off, ``step_B``, an index into its intervals. Back-off (``reset Timer A
      (doubled)``) is unrolled into literal delays (``<if cond="running_A == 1 &&
      step_A == 0">...<send delay="1s"/>``); an uncapped back-off (Timer A) is unrolled up
      to the first interval longer than the machine's longest timer (Timer B ends Calling
      first). A timer not started on the transport (A, E, G on tcp) is left out. A timer
      whose duration is random (the dialog's glare timer, RFC 3261 §14.1) is sent with
      ``delayexpr="delay_Glare"``: the host draws the value and sets that datamodel item
      (a CSS2 time string such as ``'2.37s'``; initially the declared upper bound), as it
      sets the guards.
    * **Guards** are evaluated by name, by the host: each guard is a datamodel item
      ``guard_<name>`` (0 or 1, initially 0) and a guarded transition has
      ``cond="guard_a && guard_b"``. Before sending an event the host sets every guard item
      from its own context (sipfsm's `Guard.check`); with python-statemachine, set them as
      attributes of the machine's model. The expressions use only names, numbers, ``==``
      and ``&&``, so they read the same in the ECMAScript data model and in
      python-statemachine's Python one.
    * **Nested states** are nested ``<state>`` elements. A parent's first child is a
      synthetic ``<parent>_self`` state standing for "in the parent itself" (a row that
      targets a parent leaves the machine in it, as the engines do); it carries the parent's
      timers and entry actions.
    * **Other actions** (send request, ... to TU) are ``<log label="..."/>``, for a reader.
    * **Names.** Ids are the state and trigger names where they are plain identifiers, else
      sanitised (``x_...``) and made unique; every element keeps its real name, RFC section
      and guard text in ``sipfsm:`` attributes (namespace `SIPFSM_NS`). `scxml_names` gives
      the mapping. A terminal state without rows is a ``<final>``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import resources
from typing import Any

import networkx as nx

from sipfsm.decl.language import ActionDecl, MachineDecl, Transition
from sipfsm.decl.timers import Timing
from sipfsm.render import graph as sg
from sipfsm.render.diagram import dot_source, mermaid, printable

SCHEMA_VERSION = 1
SCXML_NS = "http://www.w3.org/2005/07/scxml"
SIPFSM_NS = "urn:sipfsm:scxml:1"

# -- JSON ------------------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    """The JSON Schema of `to_json` documents (``sipfsm/data/machine.schema.json``)."""
    text = (
        resources.files("sipfsm")
        .joinpath("data", "machine.schema.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(document: dict[str, Any]) -> None:
    """Check a document against `schema` (needs the ``jsonschema`` package); raises
    ``jsonschema.ValidationError`` when it does not conform."""
    import jsonschema

    jsonschema.validate(document, schema(), cls=jsonschema.Draft202012Validator)


def _outcome(o: Any) -> dict[str, Any]:
    return dict(o.to_json())


def _row(u: str, v: str, a: dict[str, Any], creation: bool) -> dict[str, Any]:
    out: dict[str, Any] = {} if creation else {"source": u}
    out.update(
        trigger=a["trigger"],
        dest=v,
        guard=a["guard"] or None,
        guards=list(a["guards"]),
        actions=list(a["actions"]),
        rfc=a["rfc"],
        note=a["note"],
        internal=a["internal"],
        live=a["live"],
        outcomes=list(a["outcomes"]),
    )
    return out


def to_json(
    machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp"
) -> dict[str, Any]:
    """The machine as a JSON-ready dict (``schema_version`` 1; see the module text)."""
    decl = sg.resolve(machine, profile)
    g = sg.from_decl(decl, transport)
    timing = sg.timing_for(transport)
    states = []
    for n in sg.states(g):
        a = g.nodes[n]
        states.append(
            {
                "name": n,
                "description": a["description"],
                "rfc": a["rfc"],
                "initial": a["initial"],
                "terminal": a["terminal"],
                "parent": a["parent"],
                "timers": [name for name, _ in a["timers"]],
                "outcomes": [_outcome(o) for o in a["outcomes"]],
            }
        )
    edges = sg.edges(g)
    return {
        "schema_version": SCHEMA_VERSION,
        "machine": decl.id,
        "title": decl.title,
        "rfc": decl.rfc,
        "profile": decl.profile,
        "transport": transport,
        "notes": list(decl.notes),
        "rulings": [r.to_json() for r in decl.rulings],
        "timers": {t.name: timing.duration(t) for t in decl.timers},
        "timer_details": [
            {
                "name": t.name,
                "unreliable": t.unreliable,
                "reliable": t.reliable,
                "cap": t.cap,
                "purpose": t.purpose,
                "rfc": t.rfc,
                "seconds": timing.duration(t),
            }
            for t in decl.timers
        ],
        "triggers": [
            {
                "name": t.name,
                "kind": t.kind,
                "label": t.label,
                "status": list(t.status) if t.status else None,
                "method": t.method,
                "timer": t.timer,
            }
            for t in decl.triggers
        ],
        "states": states,
        "creations": [_row(u, v, a, True) for u, v, _k, a in edges if u == sg.START],
        "transitions": [_row(u, v, a, False) for u, v, _k, a in edges if u != sg.START],
    }


def to_dot(
    machine: sg.MachineRef,
    profile: str = "rfc6026",
    transport: str | None = "udp",
    highlight: int | None = None,
) -> str:
    """The DOT text of the machine's diagram (`sipfsm.render.diagram.dot_source`)."""
    return dot_source(machine, profile, transport, highlight)


def to_mermaid(
    machine: sg.MachineRef,
    profile: str = "rfc6026",
    transport: str | None = "udp",
    highlight: int | None = None,
) -> str:
    """Mermaid ``stateDiagram-v2`` text (`sipfsm.render.diagram.mermaid`)."""
    return mermaid(machine, profile, transport, highlight)


# -- SCXML names -----------------------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: Ids we never hand out for a state: the pseudo-state and names an engine may reserve.
_RESERVED = frozenset({"new", "scxml", "initial", "final", "history", "parallel"})


def _ident(name: str, used: set[str], prefix: str = "") -> str:
    base = prefix + name
    if not _IDENT.fullmatch(base) or base in _RESERVED or base != prefix + name:
        base = prefix + "x_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
    candidate, i = base, 2
    while candidate in used or candidate in _RESERVED:
        candidate, i = f"{base}_{i}", i + 1
    used.add(candidate)
    return candidate


@dataclass(frozen=True, slots=True)
class ScxmlNames:
    """How sipfsm's names map to the ids of an exported SCXML document.

    ``states``: state name -> the id of the SCXML state the machine is in while in that
    state (a parent maps to its ``_self`` child); ``compounds``: parent state name -> the id
    of its ``<state>`` element; ``events``: trigger name -> event name; ``guards``: guard
    name -> datamodel item; ``timers``: timer name -> (event name, send id)."""

    new: str
    states: dict[str, str]
    compounds: dict[str, str]
    events: dict[str, str]
    guards: dict[str, str]
    timers: dict[str, tuple[str, str]]

    def state_of(self, scxml_id: str) -> str | None:
        """The sipfsm state for an SCXML leaf id (``None`` for the pseudo-state)."""
        for name, sid in self.states.items():
            if sid == scxml_id:
                return name
        return None


def scxml_names(machine: sg.MachineRef, profile: str = "rfc6026") -> ScxmlNames:
    """The id mapping `to_scxml` uses for ``machine`` (independent of the transport)."""
    decl = sg.resolve(machine, profile)
    used: set[str] = set()
    parents = {s.parent for s in decl.states if s.parent}
    new = "new"
    states: dict[str, str] = {}
    compounds: dict[str, str] = {}
    for s in decl.states:
        if s.name in parents:
            compounds[s.name] = _ident(s.name, used)
    for s in decl.states:
        states[s.name] = _ident(s.name + "_self" if s.name in parents else s.name, used)
    ev_used: set[str] = set()
    events = {t.name: _ident(t.name, ev_used) for t in decl.triggers}
    g_used: set[str] = set()
    guards: dict[str, str] = {}
    for row in (*decl.creations, *decl.transitions):
        for gd in row.guards:
            if gd.name not in guards:
                guards[gd.name] = _ident(gd.name, g_used, "guard_")
    timers: dict[str, tuple[str, str]] = {}
    by_timer = {t.timer: t.name for t in decl.triggers if t.kind == "timer" and t.timer}
    t_used: set[str] = set()
    names = dict.fromkeys(
        [
            *(n for s in decl.states for n in s.timers),
            *(t.name for t in decl.timers),
            *(
                a.arg
                for r in (*decl.creations, *decl.transitions)
                for a in r.actions
                if a.kind in sg.TIMER_ACTIONS
            ),
        ]
    )
    for name in names:
        if name in by_timer:
            event = events[by_timer[name]]
        else:
            event = _ident(f"timer_{name.lower()}", ev_used)
        timers[name] = (event, "timer." + _ident(name, t_used))
    return ScxmlNames(new, states, compounds, events, guards, timers)


# -- SCXML document --------------------------------------------------------------------------


def _css_time(seconds: float) -> str:
    text = f"{seconds:.6f}".rstrip("0").rstrip(".")
    return f"{text or '0'}s"


class _TimerPlan:
    """The intervals a managed timer can take on one transport, for unrolling back-off."""

    def __init__(self, decl: MachineDecl, timing: Timing, name: str, bound: float) -> None:
        self.name = name
        first = sg.timer_duration(decl, timing, name)
        assert first is not None
        self.first = first
        decl_timer = next((t for t in decl.timers if t.name == name), None)
        from sipfsm.decl.timers import TIMERS

        self.decl = decl_timer or TIMERS.get(name)
        starts = [first] + [
            timing.value(a.arg2)
            for r in (*decl.creations, *decl.transitions)
            for a in r.actions
            if a.kind == "restart_timer" and a.arg == name
        ]
        self.values: list[float] = []
        self.next: dict[int, int] = {}
        backs_off = any(
            a.kind == "backoff_timer" and a.arg == name
            for r in (*decl.creations, *decl.transitions)
            for a in r.actions
        )
        for v in starts:
            self.index(v)
        if backs_off:
            i = 0
            while i < len(self.values):
                v = self.values[i]
                if self.decl is not None and self.decl.cap is None and v > bound:
                    self.next[i] = i  # beyond every other timer: never reached (module text)
                else:
                    nxt = timing.backoff(self.decl, v) if self.decl is not None else v * 2
                    self.next[i] = self.index(nxt)
                i += 1
        self.stepped = backs_off or len(self.values) > 1
        self.random = any(
            a.kind in sg.RANDOM_TIMER_ACTIONS and a.arg == name
            for r in (*decl.creations, *decl.transitions)
            for a in r.actions
        )

    def index(self, value: float) -> int:
        for i, v in enumerate(self.values):
            if abs(v - value) < 1e-9:
                return i
        self.values.append(value)
        return len(self.values) - 1


def _q(tag: str) -> str:
    return f"{{{SCXML_NS}}}{tag}"


def _s(attr: str) -> str:
    return f"{{{SIPFSM_NS}}}{attr}"


class _Writer:
    def __init__(self, decl: MachineDecl, transport: str) -> None:
        self.decl = decl
        self.transport = transport
        self.timing = sg.timing_for(transport)
        self.g: nx.MultiDiGraph[str] = sg.from_decl(decl, transport)
        self.names = scxml_names(decl)
        self.parents = {s.parent for s in decl.states if s.parent}
        bound = max(
            (
                d
                for t in self.names.timers
                if (d := sg.timer_duration(decl, self.timing, t)) is not None
            ),
            default=0.0,
        )
        self.plans = {
            t: _TimerPlan(decl, self.timing, t, bound)
            for t in self.names.timers
            if sg.timer_duration(decl, self.timing, t) is not None
        }
        #: timers tied to states (entry starts them, exit stops them), in declaration order
        self.state_timers = [t for t in self.plans if any(t in s.timers for s in decl.states)]

    # -- timers --
    def _send(self, parent: ET.Element, timer: str, step: int, fresh: bool = False) -> None:
        """Start ``timer`` at interval ``step``; ``fresh``: by a transition's own actions, so
        the entry into the next state must not stop it."""
        plan = self.plans[timer]
        event, sendid = self.names.timers[timer]
        ET.SubElement(
            parent, _q("send"), event=event, id=sendid, delay=_css_time(plan.values[step])
        )
        self._assign(parent, f"running_{self._tid(timer)}", "1")
        if plan.stepped:
            self._assign(parent, f"step_{self._tid(timer)}", str(step))
        if fresh:
            self._assign(parent, f"stop_{self._tid(timer)}", "0")

    def _cancel(self, parent: ET.Element, timer: str) -> None:
        ET.SubElement(parent, _q("cancel"), sendid=self.names.timers[timer][1])
        self._assign(parent, f"running_{self._tid(timer)}", "0")

    def _tid(self, timer: str) -> str:
        return self.names.timers[timer][1].removeprefix("timer.")

    @staticmethod
    def _assign(parent: ET.Element, location: str, expr: str) -> None:
        ET.SubElement(parent, _q("assign"), location=location, expr=expr)

    def _log(self, parent: ET.Element, action: ActionDecl) -> None:
        ET.SubElement(parent, _q("log"), label=printable(action.label))

    def _actions(
        self, parent: ET.Element, row: Transition | None, actions: tuple[ActionDecl, ...]
    ) -> None:
        fired = None
        if row is not None and row.source:
            trig = self.decl.trigger(row.trigger)
            fired = trig.timer if trig.kind == "timer" else None
        restarted = False
        for a in actions:
            if a.kind not in sg.TIMER_ACTIONS:
                self._log(parent, a)
                continue
            if a.arg not in self.plans:
                continue  # not started on this transport (RFC 3261 §17: A, E, G on tcp)
            plan = self.plans[a.arg]
            tid = self._tid(a.arg)
            if a.kind in sg.RANDOM_TIMER_ACTIONS:
                event, sendid = self.names.timers[a.arg]
                ET.SubElement(parent, _q("send"), event=event, id=sendid, delayexpr=f"delay_{tid}")
                self._assign(parent, f"running_{tid}", "1")
                self._assign(parent, f"stop_{tid}", "0")
            elif a.kind == "start_timer":
                self._send(parent, a.arg, 0, fresh=True)
            elif a.kind == "stop_timer":
                self._cancel(parent, a.arg)
            elif a.kind == "restart_timer":
                self._send(parent, a.arg, plan.index(self.timing.value(a.arg2)), fresh=True)
            elif a.kind == "backoff_timer":
                branch: ET.Element | None = None
                for i in range(len(plan.values)):
                    cond = f"running_{tid} == 1 && step_{tid} == {i}"
                    if branch is None:
                        branch = ET.SubElement(parent, _q("if"), cond=cond)
                    else:
                        ET.SubElement(branch, _q("elseif"), cond=cond)
                    self._send(branch, a.arg, plan.next[i], fresh=True)
            if a.arg == fired and a.kind != "stop_timer":
                restarted = True
        if fired is not None and fired in self.plans and not restarted:
            self._assign(parent, f"running_{self._tid(fired)}", "0")
            if row is not None and not row.internal and fired in self.state_timers:
                # a timer that fired is started again by a next state that runs it
                self._assign(parent, f"leaving_{self._tid(fired)}", "0")

    # -- document --
    def document(self) -> ET.Element:
        decl, names = self.decl, self.names
        ET.register_namespace("", SCXML_NS)
        ET.register_namespace("sipfsm", SIPFSM_NS)
        root = ET.Element(
            _q("scxml"),
            {
                "version": "1.0",
                "datamodel": "ecmascript",
                "initial": names.new,
                "name": _ident(decl.id, set()),
                _s("machine"): printable(decl.id),
                _s("profile"): decl.profile,
                _s("transport"): self.transport,
                _s("rfc"): printable(decl.rfc),
            },
        )
        dm = ET.SubElement(root, _q("datamodel"))
        guard_text: dict[str, str] = {}
        for row in (*decl.creations, *decl.transitions):
            for gd in row.guards:
                guard_text.setdefault(gd.name, gd.text)
        for name, did in names.guards.items():
            ET.SubElement(
                dm,
                _q("data"),
                {
                    "id": did,
                    "expr": "0",
                    _s("guard"): printable(name),
                    _s("text"): printable(guard_text[name]),
                },
            )
        for timer, plan in self.plans.items():
            tid = self._tid(timer)
            ET.SubElement(
                dm, _q("data"), {"id": f"running_{tid}", "expr": "0", _s("timer"): printable(timer)}
            )
            ET.SubElement(dm, _q("data"), {"id": f"stop_{tid}", "expr": "0"})
            if timer in self.state_timers:
                ET.SubElement(dm, _q("data"), {"id": f"leaving_{tid}", "expr": "0"})
            if plan.stepped:
                ET.SubElement(
                    dm,
                    _q("data"),
                    {
                        "id": f"step_{tid}",
                        "expr": "0",
                        _s("intervals"): " ".join(_css_time(v) for v in plan.values),
                    },
                )
            if plan.random:
                bound = _css_time(plan.first)
                ET.SubElement(
                    dm,
                    _q("data"),
                    {"id": f"delay_{tid}", "expr": repr(bound), _s("bound"): bound},
                )
        if not names.guards and not self.plans:
            root.remove(dm)
        new = ET.SubElement(root, _q("state"), {"id": names.new, _s("name"): "(new)"})
        for row in decl.creations:
            self._transition(new, row)
        for s in decl.states:
            if s.parent is None:
                self._state(root, s.name)
        return root

    def _has_rows(self, name: str) -> bool:
        chain = self.decl.ancestors(name)
        return any(r.source in chain for r in self.decl.transitions)

    def _state(self, parent: ET.Element, name: str) -> None:
        decl, names = self.decl, self.names
        sdecl = decl.state(name)
        if name in self.parents:
            el = ET.SubElement(
                parent,
                _q("state"),
                {
                    "id": names.compounds[name],
                    "initial": names.states[name],
                    _s("name"): printable(name),
                    _s("rfc"): printable(sdecl.rfc),
                },
            )
            self._leaf(el, name, tag="state", self_of=True)
            for row in decl.transitions:
                if row.source == name:
                    self._transition(el, row)
            for kid in decl.states:
                if kid.parent == name:
                    self._state(el, kid.name)
            return
        final = sdecl.terminal and not self._has_rows(name)
        self._leaf(parent, name, tag="final" if final else "state")

    def _leaf(self, parent: ET.Element, name: str, tag: str, self_of: bool = False) -> None:
        decl = self.decl
        sdecl = decl.state(name)
        attrs = {
            "id": self.names.states[name],
            _s("name"): printable(name),
            _s("rfc"): printable(sdecl.rfc),
        }
        if self_of:
            attrs[_s("self_of")] = printable(name)
        el = ET.SubElement(parent, _q(tag), attrs)
        runs = [t for t in sdecl.timers if t in self.plans]
        kept = {t for a in decl.ancestors(name) for t in decl.state(a).keeps}
        entry = ET.SubElement(el, _q("onentry"))
        for timer in self.plans:
            tid = self._tid(timer)
            if sdecl.terminal:  # entering a terminal state stops every timer
                self._cancel(entry, timer)
            elif timer in runs:  # started unless the previous state ran it too
                started = ET.SubElement(entry, _q("if"), cond=f"leaving_{tid} == 0")
                self._send(started, timer, 0)
            elif timer in kept:  # a running timer this state (or a parent) keeps
                pass
            else:  # running when the previous state was left: stop it
                stopped = ET.SubElement(entry, _q("if"), cond=f"stop_{tid} == 1")
                self._cancel(stopped, timer)
        for action in sdecl.on_enter:
            self._log(entry, action)
        for timer in self.plans:
            if timer in self.state_timers:
                self._assign(entry, f"leaving_{self._tid(timer)}", "0")
            self._assign(entry, f"stop_{self._tid(timer)}", "0")
        if len(entry) == 0:
            el.remove(entry)
        if self.plans:
            leave = ET.SubElement(el, _q("onexit"))
            for timer in runs:
                self._assign(leave, f"leaving_{self._tid(timer)}", "1")
            for timer in self.plans:
                tid = self._tid(timer)
                self._assign(leave, f"stop_{tid}", f"running_{tid}")
        if not self_of:
            for row in decl.transitions:
                if row.source == name:
                    self._transition(el, row)

    def _transition(self, parent: ET.Element, row: Transition) -> None:
        names = self.names
        attrs = {"event": names.events[row.trigger], _s("trigger"): printable(row.trigger)}
        if row.guards:
            attrs["cond"] = " && ".join(names.guards[gd.name] for gd in row.guards)
            attrs[_s("guard")] = printable(row.guard_text)
        if row.source and row.internal:
            pass  # targetless: no exit, no entry (an internal transition, sipfsm.decl.language)
        else:
            attrs["target"] = names.states[row.dest]
        if row.rfc:
            attrs[_s("rfc")] = printable(row.rfc)
        if row.note:
            attrs[_s("note")] = printable(row.note)
        el = ET.SubElement(parent, _q("transition"), attrs)
        self._actions(el, row, row.actions)


def to_scxml(machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp") -> str:
    """The machine as a W3C SCXML document (see the module text for the conventions)."""
    decl = sg.resolve(machine, profile)
    root = _Writer(decl, transport).document()
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


#: The export formats of ``sipfsm export``.
EXPORT_FORMATS: tuple[str, ...] = ("json", "scxml", "mermaid", "dot")


def export(
    machine: sg.MachineRef, fmt: str, profile: str = "rfc6026", transport: str = "udp"
) -> str:
    """One export as text: ``json`` (indented), ``scxml``, ``mermaid`` or ``dot``."""
    if fmt == "json":
        return json.dumps(to_json(machine, profile, transport), indent=2, ensure_ascii=False) + "\n"
    if fmt == "scxml":
        return to_scxml(machine, profile, transport)
    if fmt == "mermaid":
        return to_mermaid(machine, profile, transport)
    if fmt == "dot":
        return to_dot(machine, profile, transport)
    from sipfsm.values.errors import UnknownName

    raise UnknownName("format", fmt, EXPORT_FORMATS)


__all__ = [
    "EXPORT_FORMATS",
    "SCHEMA_VERSION",
    "SCXML_NS",
    "SIPFSM_NS",
    "ScxmlNames",
    "export",
    "schema",
    "scxml_names",
    "to_dot",
    "to_json",
    "to_mermaid",
    "to_scxml",
    "validate",
]
