"""The reference engine: the same declarations run by the `transitions` library.

`TransitionsMachine` has the interface of `sipfsm.engine.runtime.TableMachine` (``create``,
``start``, ``handle``) but lets `transitions` (0.9) choose the transition: the library keeps
the states, resolves the trigger in the current state (children before parents for nested
states), evaluates the guards as ``conditions`` in declaration order and changes the state.
The effects are not the library's: each library transition carries its declared row
(`sipfsm.decl.language.Transition`), and one ``after`` callback hands that row to
`sipfsm.engine.runtime.apply_transition`, the interpreted meaning of a row (the table engine runs
the same row compiled from the declaration, `sipfsm.engine.codegen`). The Hypothesis tests in
``tests/test_reference.py`` drive both engines in lockstep over random event sequences of
every machine and require the same states, actions, timers and errors.

One library machine per declaration, many instances
---------------------------------------------------
A `transitions.Machine` is built once, in ``__init__``, and shared by every instance; no
instance is ever attached to it with ``Machine.add_model``. What the library source
(``transitions/core.py`` and ``extensions/nesting.py``, version 0.9.3) shows:

* ``add_model`` cannot attach our instances and would be quadratic. It tests
  ``if mod not in self.models`` against a list (core.py, ``Machine.add_model``, line 626)
  and binds ``trigger``, ``may_trigger``, one method per event and ``is_<state>`` per state
  onto the model with ``setattr`` (``_checked_assignment``, line 890): names that are no
  field of our `Instance` (compiled, as in the fast build, it has no room for them and the
  first ``setattr`` raises ``AttributeError``); on an ordinary object the membership test
  makes attaching n models O(n^2) -- measured on this machine (plain objects, a two-state
  ``Machine``), total time to attach 1,000 models 0.011 s, 2,000 0.035 s, 4,000 0.098 s,
  8,000 0.326 s.
* Triggering never needs the model to be attached. ``Event.trigger(model, *args)``
  (core.py line 387) wraps the model in an ``EventData`` and calls ``Machine._process``;
  ``Event._trigger`` (line 408) reads the state with ``machine.get_model_state(model)``,
  which is ``getattr(model, machine.model_attribute)`` (line 782); ``Transition.execute``
  (line 258) evaluates the conditions on that ``EventData`` and ``_change_state`` (line 284)
  writes the new state back with ``machine.set_state(dest, model)``, a plain ``setattr`` on
  the model it is given (lines 792-804). None of these reads ``machine.models``; it is read
  only when states, transitions or models are added or removed, by ``set_state`` without a
  model, by ``dispatch`` and by the markup and graph helpers. The nested machine is the
  same: ``HierarchicalMachine.trigger_event(model, trigger, ...)`` (nesting.py line 888)
  and ``_trigger_event_nested`` (line 1250) read ``getattr(model, model_attribute)`` to
  build the state tree, and ``NestedTransition._update_model`` (line 364) writes the result
  through ``set_state(states, model)`` (line 856).
* So an instance is put in its initial state with ``machine.set_state(name, model)`` --
  the very call ``add_model`` makes (core.py line 636) -- and driven with
  ``machine.events[trigger].trigger(instance, call=call)`` (flat) or
  ``machine.trigger_event(view, trigger, call=call)`` (nested). Nothing per instance is
  stored in the library: attaching is O(1), and a transaction costs only its `Instance`.

Measured on this machine (CPython 3.11, loops of 10,000-20,000; illustrative, not asserted
by any test): building a `TransitionsMachine` for the ICT takes about 0.07 ms and allocates
about 17 KB (tracemalloc; the NIST about 13 KB), which is why it is done once per
declaration and never per instance. Driving ICT instances through the shared flat machine
costs about 7 microseconds an event (the table engine: about 2.5); a small nested
declaration through the shared `HierarchicalMachine` about 36 (the table engine: about 2).

Nested states (the dialog)
--------------------------
A declaration whose states have parents is run by a `HierarchicalMachine`. Its state names
are paths (``confirmed.moratorium``; the separator is ``.`` so our names may contain
``_``), while ``inst.state`` always holds our leaf name (``moratorium``), exactly as with the
table engine. The library sees a small per-call view of the instance whose ``state``
property translates both ways. Composite states get no ``initial`` child, so a row that
targets a composite state leaves the instance in that state, as the table engine does.

Rules kept identical to the table engine
----------------------------------------
* An internal row (``dest == source``) is a library transition with ``dest=None``: no
  exit or enter runs and the state is untouched.
* Guards are ``conditions`` called with the ``EventData``; rows for one (state, trigger) are
  tried in declaration order, a state's own rows before its parents' (the library's order).
* A stale `TimerFired` returns ``[]``; an event that is no input, has no row in the state,
  or whose guards all fail raises the same `ProtocolError` with the same message as
  `TableMachine`. The library's ``MachineError`` never escapes.

The shared library machine keeps per-event scratch state (``HierarchicalMachine`` keeps a
scope stack on itself), so one `TransitionsMachine` must not be driven from two threads at
once -- like everything else in sipfsm, it is meant to be driven by one sans-IO loop.

`graph_machine` builds a `transitions.extensions.GraphMachine` (or its hierarchical
variant) from a declaration, labelled with `sipfsm.decl.language.Transition.label`, for users who
want ``get_graph()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from transitions import Machine, MachineError, Transition
from transitions.core import EventData
from transitions.extensions import GraphMachine, HierarchicalGraphMachine, HierarchicalMachine
from transitions.extensions.diagrams import NestedGraphTransition
from transitions.extensions.nesting import NestedState, NestedTransition

from sipfsm.decl.instance import Instance
from sipfsm.decl.language import Guard, MachineDecl, Outcome
from sipfsm.decl.language import Transition as Row
from sipfsm.decl.timers import DEFAULT_TIMING, Timing
from sipfsm.engine.runtime import (
    Classifier,
    apply_transition,
    check_event,
    check_instance,
    creation_row,
    guards_failed,
    protocol_error,
)
from sipfsm.values.errors import SipFsmError
from sipfsm.values.events import Action, Event, TimerFired

#: Separates a parent from a child in the library's names of nested states.
SEPARATOR = "."

# -- library classes carrying our rows ------------------------------------------------------


class RowTransition(Transition):
    """A library transition that remembers the declared row it stands for."""

    def __init__(self, *args: Any, row: Row, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row = row


class NestedRowTransition(NestedTransition):
    """The nested library transition that remembers its declared row."""

    def __init__(self, *args: Any, row: Row, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row = row


class DotState(NestedState):
    """A nested library state whose path separator is ``.``."""

    separator = SEPARATOR


class FlatLibraryMachine(Machine):
    transition_cls = RowTransition


class NestedLibraryMachine(HierarchicalMachine):
    state_cls = DotState
    transition_cls = NestedRowTransition


class NestedGraphLibraryMachine(HierarchicalGraphMachine):
    state_cls = DotState
    transition_cls = NestedGraphTransition


# -- names ----------------------------------------------------------------------------------


def is_nested(decl: MachineDecl) -> bool:
    """Whether a declaration has composite states (and needs a hierarchical machine)."""
    return any(s.parent is not None for s in decl.states)


def library_names(decl: MachineDecl) -> dict[str, str]:
    """Our state name -> the library's: the name itself for a flat machine, the path from
    the outermost parent (``confirmed.moratorium``) for a nested one."""
    if not is_nested(decl):
        return {s.name: s.name for s in decl.states}
    for s in decl.states:
        if SEPARATOR in s.name:
            raise SipFsmError(
                f"{decl.id}: state name {s.name!r} contains {SEPARATOR!r}, which the "
                "nested library machine uses as its path separator"
            )
    return {s.name: SEPARATOR.join(reversed(decl.ancestors(s.name))) for s in decl.states}


def _state_tree(decl: MachineDecl) -> list[Any]:
    """The library's state configuration: names for a flat machine, nested dicts with
    ``children`` for a hierarchical one (declaration order kept, no initial children)."""
    if not is_nested(decl):
        return [s.name for s in decl.states]

    def node(name: str) -> dict[str, Any] | str:
        children = [node(s.name) for s in decl.states if s.parent == name]
        return {"name": name, "children": children} if children else name

    return [node(s.name) for s in decl.states if s.parent is None]


def _guard_holds(guard: Guard, event_data: EventData) -> bool:
    """A library condition: the declared guard on the instance and event of this call."""
    call: _Call = event_data.kwargs["call"]
    return bool(guard.check(call.inst, call.event))


# -- per call ---------------------------------------------------------------------------------


class _Call:
    """What one ``handle`` passes through the library to the ``after`` callback."""

    __slots__ = ("actions", "event", "inst", "source")

    def __init__(self, inst: Any, event: Event, source: str) -> None:
        self.inst = inst
        self.event = event
        self.source = source
        self.actions: list[Action] = []


class _NestedView:
    """How the hierarchical library sees an instance: ``state`` is the library's path name
    (``confirmed.moratorium``) while the instance keeps our leaf name (``moratorium``)."""

    __slots__ = ("_names", "inst")

    def __init__(self, inst: Any, names: _Names) -> None:
        self.inst = inst
        self._names = names

    @property
    def state(self) -> str:
        return self._names.library[self.inst.state]

    @state.setter
    def state(self, value: str) -> None:
        self.inst.state = self._names.ours[value]


class _Names:
    __slots__ = ("library", "ours")

    def __init__(self, library: Mapping[str, str]) -> None:
        self.library = dict(library)
        self.ours = {lib: ours for ours, lib in library.items()}


# -- the engine -------------------------------------------------------------------------------


class TransitionsMachine:
    """The reference engine: one shared `transitions` machine per declaration, many
    instances (never attached to it; see the module docstring)."""

    def __init__(
        self,
        decl: MachineDecl,
        timing: Timing = DEFAULT_TIMING,
        factory: Callable[[], Instance] = Instance,
    ) -> None:
        self.decl = decl
        self.timing = timing
        self.factory = factory
        #: the class of the instances ``factory`` makes (what `start` takes)
        self.instance_type: type = type(factory())
        self.classifier = Classifier(decl)
        self.nested = is_nested(decl)
        self._names = _Names(library_names(decl))
        self.outcomes: dict[str, tuple[Outcome, ...]] = {
            s.name: decl.outcomes(s.name) for s in decl.states
        }
        cls = NestedLibraryMachine if self.nested else FlatLibraryMachine
        self.machine: Machine = cls(
            model=None,
            states=_state_tree(decl),
            initial=None,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            send_event=True,
            queued=False,
            name=f"{decl.id} ({decl.profile})",
        )
        for row in decl.transitions:
            self.machine.add_transition(
                row.trigger,
                self._names.library[row.source],
                None if row.internal else self._names.library[row.dest],
                conditions=[partial(_guard_holds, g) for g in row.guards],
                after=[self._effects],
                row=row,
            )

    # -- the Engine interface ---------------------------------------------------------------

    def create(self, event: Event) -> tuple[Instance, list[Action]]:
        check_event(self.decl, event)
        inst = self.factory()
        return inst, self.start(inst, event)

    def start(self, inst: Instance, event: Event) -> list[Action]:
        """Enter the initial state through the creation row that ``event`` triggers; the
        library places the instance there as ``add_model`` would (``set_state``). The
        instance is then this machine's (`Instance.machine_id`)."""
        check_instance(self.decl, self.instance_type, inst, started=False)
        check_event(self.decl, event)
        row = creation_row(self.decl, self.classifier, event, inst)
        inst.request = getattr(event, "message", None)
        self.machine.set_state(self._names.library[row.dest], self._model(inst))
        inst.machine_id = self.decl.id
        return apply_transition(self.decl, inst, row, event, self.timing)

    def handle(self, inst: Instance, event: Event) -> list[Action]:
        # (what the table engine checks, all of it every time: this engine is the reference)
        check_instance(self.decl, self.instance_type, inst, event)
        check_event(self.decl, event)
        if isinstance(event, TimerFired) and event.name not in inst.timers:
            return []  # a stale timer: stopped, or its state left (see sipfsm.values.events)
        state = inst.state
        trig = self.classifier.classify(event)
        if trig is None:
            raise protocol_error(self.decl, state, event, f"not an input of {self.decl.id}")
        library_event = self.machine.events.get(trig)
        if library_event is None or state not in self._names.library:
            raise protocol_error(self.decl, state, event, f"no transition for {trig}")
        call = _Call(inst, event, state)
        try:
            if self.nested:
                done = self.machine.trigger_event(self._model(inst), trig, call=call)
            else:
                done = library_event.trigger(inst, call=call)
        except MachineError:
            # the library found no transition for ``trig`` from the state or its parents
            raise protocol_error(self.decl, state, event, f"no transition for {trig}") from None
        if not done:
            raise guards_failed(self.decl, inst, event, self.candidates(state, trig))
        return call.actions

    # -- helpers ----------------------------------------------------------------------------

    def candidates(self, state: str, trigger: str) -> list[Row]:
        """The rows the library tries for ``trigger`` in ``state``, in its order: the
        state's own, then each parent's (read from the library's transitions)."""
        library_event = self.machine.events.get(trigger)
        if library_event is None:
            return []
        found: list[Row] = []
        for name in self.decl.ancestors(state):
            for trans in library_event.transitions.get(self._names.library[name], ()):
                found.append(_row_of(trans))
        return found

    def _model(self, inst: Any) -> Any:
        return _NestedView(inst, self._names) if self.nested else inst

    def _effects(self, event_data: EventData) -> None:
        """The ``after`` callback of every library transition: run its declared row."""
        call: _Call = event_data.kwargs["call"]
        row = _row_of(event_data.transition)
        outcomes = self.outcomes[call.source]
        call.actions.extend(
            apply_transition(self.decl, call.inst, row, call.event, self.timing, outcomes)
        )


def _row_of(trans: object) -> Row:
    """The declared row a library transition of ours stands for."""
    if not isinstance(trans, RowTransition | NestedRowTransition):
        raise TypeError(f"not a transition built by sipfsm.engine.reference: {trans!r}")
    return trans.row


# -- graphs -----------------------------------------------------------------------------------


def graph_machine(decl: MachineDecl) -> GraphMachine:
    """A `transitions` GraphMachine of the declaration (hierarchical if it has composite
    states), edges labelled ``event [guard] / actions``; call ``.get_graph()`` on it.

    It is its own model (the library's default), standing in the initial state."""
    names = library_names(decl)
    cls = NestedGraphLibraryMachine if is_nested(decl) else GraphMachine
    machine: GraphMachine = cls(
        states=_state_tree(decl),
        initial=names[decl.initial],
        transitions=[
            {
                "trigger": row.trigger,
                "source": names[row.source],
                "dest": None if row.internal else names[row.dest],
                "label": row.label,
            }
            for row in decl.transitions
        ],
        auto_transitions=False,
        title=f"{decl.title} ({decl.profile})",
        graph_engine="graphviz",
    )
    return machine


__all__ = ["TransitionsMachine", "graph_machine", "is_nested", "library_names"]
