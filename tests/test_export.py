"""Exports (sipfsm.render.export): the versioned JSON document and its schema, and SCXML run by a
third-party engine.

SCXML agreement
---------------
Every exported SCXML document is loaded with python-statemachine's SCXML loader
(``statemachine.io.load``, python-statemachine 3.2) and driven in lockstep with our
`TableMachine` by the same events; after every step the two must agree on

* the state (the SCXML leaf state, mapped back through `scxml_names`),
* the timers running (our instance's timers against the engine's pending delayed
  ``<send>`` events, by send id) and when each will fire (virtual time), and
* the ``running_<timer>`` items of the SCXML datamodel.

Time is virtual: `VirtualTime` replaces the engine's clock (``monotonic``) and its idle
``sleep`` (which raises `Idle`: the engine has nothing due and would wait). A timer fires
when the test advances the clock to its due time and the *engine* delivers its own delayed
event; our engine gets `TimerFired` at the same moment. A timer of 0 s (Timer D, I, J, K on
a reliable transport) fires at once on both sides, as a host does.

Guards are evaluated by the host (see `sipfsm.render.export`): before each event the test sets
each ``guard_<name>`` item from the guard's own check on our instance; a random timer
duration (the dialog's glare timer) is set in ``delay_<timer>`` from our engine's
`StartTimer`. An event our engine rejects (`ProtocolError`) must leave the SCXML machine
as it was: no transition of the document may accept it.

Two facts of python-statemachine 3.2.2 the harness works around, both in its SCXML layer:
the ``<datamodel>`` is initialised once per *loaded class* (a closure flag in
``io/actions.py``, ``create_datamodel_action_callable``), so only the first instance of a
class gets its data items -- each run loads a fresh class; and errors in executable content
become ``error.execution`` events by default -- the test turns that off
(``catch_errors_as_events = False``) so a bad expression fails loudly.
"""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import jsonschema
import pytest
from conftest import make_request, make_response, optional
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_graph import IDLE, MACHINES, PARENT, hostile_decl

from sipfsm.decl.instance import Instance
from sipfsm.decl.language import PROFILES, TRANSPORTS, MachineDecl
from sipfsm.engine import model
from sipfsm.engine.runtime import Classifier, TableMachine
from sipfsm.render import export
from sipfsm.render import graph as sg
from sipfsm.render.diagram import printable
from sipfsm.values.errors import ProtocolError
from sipfsm.values.events import (
    Event,
    MessageSent,
    RequestReceived,
    ResponseReceived,
    StartTimer,
    StopTimer,
    TimerFired,
    TransactionEnded,
    TransportError,
    TUCancel,
    TURequest,
    TUResponse,
)
from sipfsm.values.message import Request, Response

optional("statemachine", "dev")
from statemachine.io import load  # noqa: E402

# -- JSON -----------------------------------------------------------------------------------


def test_the_schema_ships_in_the_package_and_is_a_valid_2020_12_schema() -> None:
    schema = export.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"] == {"const": 1}


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_json_export_validates_against_the_schema(
    machine: str, profile: str, transport: str
) -> None:
    doc = export.to_json(machine, profile, transport)
    export.validate(doc)
    assert json.loads(json.dumps(doc)) == doc  # plain JSON types only


def test_json_export_has_what_show_json_gives() -> None:
    doc = export.to_json("ict", "rfc6026", "tcp")
    assert doc["schema_version"] == 1
    assert (doc["machine"], doc["profile"], doc["transport"]) == ("ict", "rfc6026", "tcp")
    assert doc["timers"]["A"] is None  # RFC 3261 §17.1.1.2: not started on TCP
    assert doc["timers"]["B"] == 32.0
    assert doc["timers"]["D"] == 0.0
    calling = next(s for s in doc["states"] if s["name"] == "calling")
    assert calling["initial"] is True and calling["terminal"] is False
    assert calling["parent"] is None
    assert any(
        o["code"] == 487
        and o["direction"] == "receive"
        and o["rfc"] == "RFC 3261 §9.1"
        and o["forbidden"] is False
        for o in calling["outcomes"]
    )
    for key in ("code", "direction", "when", "rfc", "forbidden"):
        assert all(key in o for s in doc["states"] for o in s["outcomes"])
    row = next(
        t for t in doc["transitions"] if (t["source"], t["trigger"]) == ("calling", "timer_a")
    )
    assert set(row) >= {"source", "trigger", "dest", "guard", "actions", "rfc"}
    assert row["actions"] == ["send request"]  # no Timer A reset on TCP
    assert row["guard"] is None
    guarded = [t for t in doc["transitions"] if t["guard"]]
    assert {t["guard"] for t in guarded} >= {"CANCEL requested", "no CANCEL requested"}
    assert doc["creations"][0]["dest"] == "calling"


def test_json_export_says_where_the_rfcs_disagree_and_what_the_model_does() -> None:
    doc = export.to_json("dialog", "rfc6026")
    export.validate(doc)
    mortal = next(r for r in doc["rulings"] if r["topic"] == "When Mortal becomes Morgue")
    assert mortal["rfcs"] == ["RFC 5407 §2", "RFC 5407 Appendix D"]
    assert mortal["rows"] == [["mortal", "transaction_ended"]]
    assert "last BYE or INVITE transaction" in mortal["ruling"]
    assert [r["topic"] for r in export.to_json("nist", "rfc3261")["rulings"]] == []


def test_nist_json_marks_the_forbidden_408_rfc4320_4_2() -> None:
    doc = export.to_json("nist")
    trying = next(s for s in doc["states"] if s["name"] == "trying")
    assert any(o["code"] == 408 and o["forbidden"] for o in trying["outcomes"])


def test_hostile_json_export_validates_and_keeps_the_names() -> None:
    decl = hostile_decl(with_orphan=True)
    doc = export.to_json(decl, transport="tcp")
    export.validate(doc)
    assert [s["name"] for s in doc["states"]] == list(decl.state_names)
    assert json.loads(export.export(decl, "json", transport="tcp")) == doc


def test_a_document_that_breaks_the_schema_is_rejected() -> None:
    doc = export.to_json("ict")
    doc["states"][0]["initial"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        export.validate(doc)
    doc = export.to_json("ict")
    doc["schema_version"] = 2
    with pytest.raises(jsonschema.ValidationError):
        export.validate(doc)


def test_export_formats() -> None:
    assert export.export("nist", "mermaid").startswith("stateDiagram-v2")
    assert export.export("nist", "dot").startswith("digraph ")
    assert export.export("nist", "scxml").startswith('<?xml version="1.0"')
    from sipfsm.values.errors import UnknownName

    with pytest.raises(UnknownName, match="json, scxml, mermaid, dot"):
        export.export("nist", "yaml")


# -- SCXML as a document --------------------------------------------------------------------

SC = "{http://www.w3.org/2005/07/scxml}"
SF = "{urn:sipfsm:scxml:1}"


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_scxml_is_well_formed_and_names_every_state(machine: str, transport: str) -> None:
    decl = model.declare(machine)
    root = ET.fromstring(export.to_scxml(machine, "rfc6026", transport))
    assert root.tag == f"{SC}scxml" and root.get("version") == "1.0"
    names = {el.get(f"{SF}name") for el in root.iter() if el.tag in (f"{SC}state", f"{SC}final")}
    assert set(decl.state_names) <= names


def test_scxml_timers_are_delayed_sends_cancelled_when_left_rfc3261_17_1_1_2() -> None:
    udp = ET.fromstring(export.to_scxml("ict", "rfc6026", "udp"))
    tcp = ET.fromstring(export.to_scxml("ict", "rfc6026", "tcp"))
    sends = {(s.get("event"), s.get("id"), s.get("delay")) for s in udp.iter(f"{SC}send")}
    assert ("timer_b", "timer.B", "32s") in sends
    assert ("timer_a", "timer.A", "0.5s") in sends
    assert ("timer_a", "timer.A", "1s") in sends  # the first doubling
    assert not any(s.get("event") == "timer_a" for s in tcp.iter(f"{SC}send"))
    assert ("timer_d", "timer.D", "0s") in {
        (s.get("event"), s.get("id"), s.get("delay")) for s in tcp.iter(f"{SC}send")
    }
    assert {c.get("sendid") for c in udp.iter(f"{SC}cancel")} >= {"timer.A", "timer.B"}


def test_scxml_guards_are_datamodel_items_by_name() -> None:
    root = ET.fromstring(export.to_scxml("nist", "rfc6026"))
    data = {d.get("id"): d.get(f"{SF}text") for d in root.iter(f"{SC}data")}
    assert data["guard_no_408"] == "status != 408"
    conds = {t.get("cond") for t in root.iter(f"{SC}transition") if t.get("cond")}
    assert "guard_no_408 && guard_no_487_to_cancel" in conds


def test_scxml_nests_parent_states() -> None:
    decl = hostile_decl()
    names = export.scxml_names(decl)
    root = ET.fromstring(export.to_scxml(decl))
    (parent,) = [el for el in root.iter(f"{SC}state") if el.get("id") == names.compounds[PARENT]]
    kids = [el.get(f"{SF}name") for el in parent if el.tag == f"{SC}state"]
    assert kids == [
        printable(PARENT),
        *(printable(s.name) for s in decl.states if s.parent == PARENT),
    ]
    assert parent.get("initial") == names.states[PARENT]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hostile_names_cannot_break_the_scxml(transport: str) -> None:
    decl = hostile_decl(with_orphan=True)
    text = export.to_scxml(decl, transport=transport)
    root = ET.fromstring(text)  # well-formed
    names = {el.get(f"{SF}name") for el in root.iter()}
    # control characters, which no XML document may hold, are written as \\xNN
    assert {printable(n) for n in decl.state_names} <= names
    assert 'back\\slash\\" </state> \\x01' in names
    ids = [el.get("id") for el in root.iter() if el.tag in (f"{SC}state", f"{SC}final")]
    assert len(ids) == len(set(ids))
    assert all(i is not None and i.replace("_", "").isalnum() for i in ids)
    guard_texts = {d.get(f"{SF}text") for d in root.iter(f"{SC}data")}
    assert 'status == 100 & "quoted" <x> {y} \\' in guard_texts
    load(text, format="scxml")  # the third-party engine accepts it


# -- SCXML run by python-statemachine, in lockstep with TableMachine --------------------------


class Idle(Exception):
    """The engine has no event due and would sleep until one is."""


@dataclass
class VirtualTime:
    now: float = 1000.0


@contextmanager
def virtual_time() -> Iterator[VirtualTime]:
    clock = VirtualTime()

    def idle(_seconds: float) -> None:
        raise Idle

    with (
        mock.patch("statemachine.engines.sync.monotonic", lambda: clock.now),
        mock.patch("statemachine.event_data.monotonic", lambda: clock.now),
        mock.patch("statemachine.engines.sync.sleep", idle),
    ):
        yield clock


TICK = "sipfsm_test_clock_tick"


@dataclass
class Lockstep:
    """Our engine and the SCXML document, fed the same events."""

    decl: MachineDecl
    transport: str
    clock: VirtualTime
    factory: Any = Instance
    kind: str = "table"
    table: Any = field(init=False)
    chart: Any = field(init=False)
    inst: Any = None
    due: dict[str, tuple[float, int]] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.timing = sg.timing_for(self.transport)
        if self.kind == "table":
            self.table = TableMachine(self.decl, self.timing, self.factory)
        else:
            from sipfsm.engine.reference import TransitionsMachine

            self.table = TransitionsMachine(self.decl, self.timing, self.factory)
        self.taken: set[tuple[str, str]] = set()
        self.classifier = Classifier(self.decl)
        self.names = export.scxml_names(self.decl)
        cls = load(export.to_scxml(self.decl, transport=self.transport), format="scxml")
        cls.catch_errors_as_events = False
        self.chart = self._run(cls)
        self.seq = itertools.count()
        self.random_timers = {
            a.arg
            for r in self.decl.transitions
            for a in r.actions
            if a.kind in sg.RANDOM_TIMER_ACTIONS
        }

    @staticmethod
    def _run(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Idle:
            return None

    # -- feeding --
    def _guards(self, trigger: str, ctx: Any, event: Event) -> dict[str, int]:
        values = dict.fromkeys(self.names.guards.values(), 0)
        rows = self.decl.creations if ctx is None else self.decl.transitions
        probe = self.factory() if ctx is None else ctx
        for row in rows:
            if row.trigger == trigger:
                for g in row.guards:
                    values[self.names.guards[g.name]] = int(bool(g.check(probe, event)))
        return values

    def _send(self, trigger: str, values: dict[str, Any]) -> None:
        for key, value in values.items():
            setattr(self.chart.model, key, value)
        self._run(self.chart.send, self.names.events[trigger])

    def _record(self, actions: Sequence[Any], fired: str | None = None) -> dict[str, Any]:
        if fired is not None:
            self.due.pop(fired, None)
        delays = {}
        for a in actions:
            if isinstance(a, StartTimer):
                self.due[a.name] = (self.clock.now + a.seconds, next(self.seq))
                if a.name in self.random_timers:
                    tid = self.names.timers[a.name][1].removeprefix("timer.")
                    delays[f"delay_{tid}"] = export._css_time(a.seconds)
            elif isinstance(a, StopTimer):
                self.due.pop(a.name, None)
        return delays

    def create(self, event: Event) -> bool:
        trigger = self.classifier.classify(event)
        if trigger is None:
            return False
        guards = self._guards(trigger, None, event)
        try:
            self.inst, actions = self.table.create(event)
        except ProtocolError:
            return False
        self.steps.append(f"create {event}")
        delays = self._record(actions)
        self._send(trigger, {**guards, **delays})
        self._fire_due()
        self.check()
        return True

    def feed(self, event: Event) -> None:
        trigger = self.classifier.classify(event)
        if trigger is None:
            return
        self.steps.append(f"{event}")
        guards = self._guards(trigger, self.inst, event)
        source = self.inst.state
        try:
            actions = self.table.handle(self.inst, event)
        except ProtocolError:
            # our engine rejects it: no transition of the document may take it either
            self._send(trigger, guards)
            self.check()
            return
        self.taken.add((source, trigger))
        delays = self._record(actions)
        self._send(trigger, {**guards, **delays})
        self._fire_due()
        self.check()

    def advance(self) -> None:
        """Let time run to the next timer; both engines fire it."""
        if not self.due:
            return
        self.clock.now = min(d for d, _ in self.due.values()) + 1e-6
        self.steps.append(f"advance to {self.clock.now}")
        # guards of the rows a timer takes (the proxy's Timer C) are worked out now, from
        # the instance as it is when the timer fires
        for name in self.due:
            trig = next((t.name for t in self.decl.triggers if t.timer == name), None)
            if trig is not None and self.inst is not None:
                for key, value in self._guards(trig, self.inst, TimerFired(name)).items():
                    if value:
                        setattr(self.chart.model, key, value)
        self._fire_due(tick=True)
        self.check()

    def _fire_due(self, tick: bool = False) -> None:
        if tick:
            self._run(self.chart.send, TICK)
        while True:
            ready = sorted((d, s, name) for name, (d, s) in self.due.items() if d <= self.clock.now)
            if not ready:
                return
            name = ready[0][2]
            self.steps.append(f"fire {name}")
            timer_trigger = next((t.name for t in self.decl.triggers if t.timer == name), name)
            self.taken.add((self.inst.state, timer_trigger))
            try:
                actions = self.table.handle(self.inst, TimerFired(name))
            except ProtocolError:
                self.due.pop(name)  # the engine drops a timer event nothing consumes
                continue
            self._record(actions, fired=name)  # a row that restarts it adds it back

    # -- comparing --
    def state(self) -> str | None:
        active = set(self.chart.configuration_values)
        leaves = [n for n, sid in self.names.states.items() if sid in active]
        if self.names.new in active:
            return None
        assert len(leaves) == 1, (active, self.steps)
        return leaves[0]

    def pending(self) -> dict[str, float]:
        queue = self.chart._engine.external_queue.queue.queue  # the engine's delayed sends
        by_id = {sendid: name for name, (_e, sendid) in self.names.timers.items()}
        return {
            by_id[t.send_id]: t.execution_time
            for t in queue
            if not t.cancelled and t.send_id in by_id
        }

    def check(self) -> None:
        table_state = self.inst.state if self.inst is not None else None
        assert self.state() == table_state, (
            f"SCXML in {self.state()!r}, table in {table_state!r}",
            self.steps[-4:],
        )
        running = set(self.inst.timers) if self.inst is not None else set()
        assert set(self.due) == running, (self.due, running, self.steps)
        pending = self.pending()
        assert set(pending) == running, (pending, running, self.steps)
        for name, when in pending.items():
            assert abs(when - self.due[name][0]) < 1e-6, (name, when, self.due, self.steps)
        for name, (_event, sendid) in self.names.timers.items():
            flag = getattr(self.chart.model, f"running_{sendid.removeprefix('timer.')}", 0)
            assert bool(flag) == (name in running), (name, self.steps)


# -- the events a machine can be fed ---------------------------------------------------------

STATUSES = (100, 180, 183, 200, 202, 300, 302, 401, 404, 408, 481, 486, 487, 491, 500, 503, 603)


def _request(method: str, base: Request, cseq: int) -> Request:
    return make_request(
        method,
        call_id=base.call_id,
        cseq=cseq,
        from_tag=base.from_tag,
        to_tag="b" if cseq != base.cseq else base.to_tag,
        branch=base.branch if (cseq == base.cseq) else f"z9hG4bK{method}{cseq}",
    )


def _response(status: int, method: str, base: Request, cseq: int) -> Response:
    return make_response(
        status,
        "Reason",
        method,
        call_id=base.call_id,
        cseq=cseq,
        from_tag=base.from_tag,
        to_tag="b" if status > 100 else "",
        branch=base.branch if (cseq == base.cseq) else f"z9hG4bK{method}{cseq}",
    )


def _as_event(kind: str, message: Request | Response) -> Event:
    """The event of ``kind`` carrying ``message``."""
    if kind == "message_sent":
        return MessageSent(message)
    if isinstance(message, Request):
        return RequestReceived(message) if kind == "request_received" else TURequest(message)
    return ResponseReceived(message) if kind == "response_received" else TUResponse(message)


def event_pool(decl: MachineDecl, base: Request) -> list[list[Event]]:
    """Concrete events for every trigger of ``decl`` (timer triggers excepted: time does
    that), built around the request that created the machine, grouped by the trigger they
    stand for (so a step picks a trigger first, then one of its events)."""
    groups: dict[str, list[Event]] = {}
    classifier = Classifier(decl)
    for event in _events(decl, base):
        trigger = classifier.classify(event)
        if trigger is not None:
            groups.setdefault(trigger, []).append(event)
    return [groups[t.name] for t in decl.triggers if t.name in groups]


def _events(decl: MachineDecl, base: Request) -> list[Event]:
    methods = sorted({t.method for t in decl.triggers if t.method} | {base.method, "INFO"})
    cseqs = (base.cseq, base.cseq + 1)
    pool: list[Event] = []
    kinds = {t.kind for t in decl.triggers}
    for kind in sorted(kinds):
        if kind in ("request_received", "tu_request", "message_sent"):
            for method in methods:
                for cseq in cseqs:
                    req = _request(method, base, cseq)
                    pool.append(_as_event(kind, req))
        if kind in ("response_received", "tu_response", "message_sent"):
            for method in methods:
                for status in STATUSES:
                    for cseq in cseqs:
                        resp = _response(status, method, base, cseq)
                        pool.append(_as_event(kind, resp))
        if kind == "tu_cancel":
            pool.append(TUCancel())
        if kind == "transport_error":
            pool.append(TransportError("broken pipe"))
        if kind == "transaction_ended":
            for method in methods:
                for cseq in cseqs:
                    for role in ("client", "server"):
                        pool.append(TransactionEnded(method, cseq, role))
    return pool


def creations(decl: MachineDecl) -> list[Event]:
    """Events that may create the machine: each creation trigger with a few methods."""
    out: list[Event] = []
    for row in decl.creations:
        trig = decl.trigger(row.trigger)
        for method in [trig.method] if trig.method else ["BYE", "CANCEL", "OPTIONS", "X"]:
            req = make_request(method, call_id="c1", cseq=1, from_tag="a", branch="z9hG4bKnew1")
            if trig.kind in ("tu_request", "request_received", "message_sent"):
                out.append(_as_event(trig.kind, req))
    return out


def _decl_of(machine: str, profile: str) -> tuple[MachineDecl, Any]:
    if machine == "hostile":
        return hostile_decl(timer="E"), Instance
    return model.declare(machine, profile), model.instance_factory(machine)


SUBJECTS = [
    (m, p)
    for m in (*MACHINES, "hostile")
    for p in PROFILES
    if not (m == "hostile" and p == "rfc3261")
]


def run_lockstep(
    machine: str,
    profile: str,
    transport: str,
    first: int,
    steps: Sequence[int | None],
    kind: str = "table",
) -> Lockstep | None:
    decl, factory = _decl_of(machine, profile)
    starts = creations(decl)
    with virtual_time() as clock:
        pair = Lockstep(decl, transport, clock, factory, kind)
        pair.check()
        if not pair.create(starts[first % len(starts)]):
            return None
        pool = event_pool(decl, pair.inst.request)
        for step in steps:
            if step is None:
                pair.advance()
            else:
                group = pool[step % len(pool)]
                pair.feed(group[(step // len(pool)) % len(group)])
        while pair.due:  # let every timer run out
            pair.advance()
        return pair


def _params() -> list[Any]:
    out = []
    for machine, profile in SUBJECTS:
        for transport in TRANSPORTS:
            kinds = ["table", "transitions"] if machine == "dialog" else ["table"]
            for kind in kinds:
                out.append(
                    pytest.param(
                        machine,
                        profile,
                        transport,
                        kind,
                        id=f"{machine}-{profile}-{transport}-{kind}",
                    )
                )
    return out


@pytest.mark.parametrize(("machine", "profile", "transport", "kind"), _params())
@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    first=st.integers(0, 7),
    steps=st.lists(st.one_of(st.none(), st.integers(0, 10_000)), max_size=30),
)
def test_scxml_in_python_statemachine_agrees_with_our_engine(
    machine: str,
    profile: str,
    transport: str,
    kind: str,
    first: int,
    steps: list[int | None],
) -> None:
    run_lockstep(machine, profile, transport, first, steps, kind)


@pytest.mark.parametrize("machine", [m for m in MACHINES if m != "dialog"])
@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_scxml_agrees_on_every_state_the_conftest_paths_reach(
    machine: str, profile: str, transport: str
) -> None:
    from conftest import CREATE, PATHS

    decl = model.declare(machine, profile)
    for state, path in PATHS[machine].items():
        if state not in decl.state_names:
            continue
        with virtual_time() as clock:
            pair = Lockstep(decl, transport, clock, model.instance_factory(machine))
            assert pair.create(CREATE[machine])
            for event in path:
                if isinstance(event, TimerFired):
                    while event.name in pair.due:
                        pair.advance()
                else:
                    pair.feed(event)
            zero = any(
                v == 0 for _t, v in sg.build(decl, profile, transport).nodes[state]["timers"]
            )
            assert pair.inst.state == state or zero  # a 0 s timer (tcp) fires at once
            while pair.due:
                pair.advance()


def test_ict_timer_a_backs_off_in_the_scxml_engine_too_rfc3261_17_1_1_2() -> None:
    with virtual_time() as clock:
        pair = Lockstep(model.declare("ict"), "udp", clock)
        pair.create(TURequest(make_request("INVITE", cseq=1, from_tag="a")))
        intervals = []
        for _ in range(6):
            pending = pair.pending()
            intervals.append(round(pending["A"] - clock.now, 6))
            pair.advance()
        assert intervals[:5] == [0.5, 1.0, 2.0, 4.0, 8.0]
        pair.advance()  # Timer B, 64*T1 after the start
        assert pair.state() == "terminated" == pair.inst.state


def test_hostile_machine_runs_in_the_scxml_engine() -> None:
    pair = run_lockstep("hostile", "rfc6026", "udp", 0, [None, None])
    assert pair is not None
    assert IDLE in pair.names.states


@pytest.mark.skipif("dialog" not in MACHINES, reason="sipfsm/machines/dialog/ is not there yet")
@pytest.mark.parametrize(
    "kind",
    ["transitions", "table"],
)
def test_a_cancel_in_moratorium_keeps_the_dialog_in_moratorium_rfc5407_appendix_c(
    kind: str,
) -> None:
    # RFC 5407 §2, Appendix C: a CANCEL never changes the dialog. The row is declared on
    # the parent ``confirmed`` (dest == source: internal), so the dialog stays in its child.
    inv = make_request("INVITE", call_id="c1", cseq=1, from_tag="a", branch="z9hG4bKinv1")
    ok = make_response(
        200, "OK", "INVITE", call_id="c1", cseq=1, from_tag="a", to_tag="b", branch="z9hG4bKinv1"
    )
    cancel = make_request(
        "CANCEL", call_id="c1", cseq=1, from_tag="a", to_tag="b", branch="z9hG4bKinv1"
    )
    with virtual_time() as clock:
        pair = Lockstep(
            model.declare("dialog"), "udp", clock, model.instance_factory("dialog"), kind
        )
        assert pair.create(MessageSent(inv))
        pair.feed(ResponseReceived(ok))
        assert pair.inst.state == "moratorium"
        pair.feed(RequestReceived(cancel))
        assert pair.inst.state == "moratorium"
