"""What the simulator drives: elements, and the context through which they act.

An `Element` is anything with a name that takes messages and timer firings: the user agent
of `sipfsm.sim.ua` today, a stateful proxy (RFC 3261 §16) later. The engine never looks
inside one: it calls ``start`` once, ``receive`` for every message the network delivers and
``timer`` for every timer the element set, and at the end asks for its ``final_state`` and
its ``live_transactions`` (the leak check). An element acts only through its `Context`:
the virtual time, ``send`` to another element, its own timers (keyed by any hashable
value; setting a key again replaces the timer) and trace records.

`sipfsm.sim.recorder.Recorder` collects the trace. Records are built only when recording is
on (a benchmark turns it off): `Context.recording` lets an element skip building texts, and message
summaries (`MessageInfo`, with the wire text) are built once per message object and only
for a record that shows it.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Protocol, cast

from sipfsm.elements.host import Host
from sipfsm.sim.engine import Entry, EventLoop
from sipfsm.sim.recorder import Recorder
from sipfsm.sim.trace import RecordKind
from sipfsm.sim.values import RunError
from sipfsm.values.message import Message

if TYPE_CHECKING:
    from sipfsm.sim.invariants import Invariants
    from sipfsm.sim.network import Network

__all__ = ["Agent", "Context", "Element", "RunError"]


class Element(Protocol):
    """An element of a simulated network (see the module docstring)."""

    @property
    def name(self) -> str: ...

    def start(self, ctx: Context) -> None:
        """Called once at time 0, before any message is delivered."""

    def receive(self, ctx: Context, message: Message, src: str) -> None:
        """The network delivered ``message``, sent by element ``src``."""

    def timer(self, ctx: Context, key: Hashable) -> None:
        """The timer ``key`` set with `Context.set_timer` fired."""

    def final_state(self) -> dict[str, Any]:
        """What the element looks like when the run ends (JSON-ready). ``dialogs`` (a
        mapping of dialog names to states), if present, is what ``end_state``
        expectations read."""

    def live_transactions(self) -> list[str]:
        """The transactions that have not ended (each should have: the leak check)."""


class Agent:
    """A base for elements written in the simulator's compiled modules (the UA): the
    context and the run call an `Agent`'s methods directly in the compiled build, and any
    other `Element` through Python's calling convention. It adds nothing else."""

    __slots__ = ()

    def start(self, ctx: Context) -> None:
        raise NotImplementedError

    def receive(self, ctx: Context, message: Message, src: str) -> None:
        raise NotImplementedError

    def timer(self, ctx: Context, key: Hashable) -> None:
        raise NotImplementedError


class _Timer(Entry):
    """A timer of an element, as the event loop keeps it (`Context.set_timer`)."""

    __slots__ = ("ctx", "key")

    def __init__(self, ctx: Context, key: Hashable) -> None:
        super().__init__()
        self.ctx: Context | None = ctx
        self.key = key

    def fire(self) -> None:
        ctx = self.ctx
        if ctx is not None:
            self.ctx = None
            ctx._fire(self.key)

    def cancel(self) -> None:
        self.live = False
        self.ctx = None


class Context(Host):
    """An element's view of the simulation (the `Host` of a simulated `Endpoint`)."""

    __slots__ = (
        "_invariants",
        "_loop",
        "_network",
        "_timers",
        "element",
        "name",
        "recorder",
    )

    def __init__(
        self,
        element: Element,
        loop: EventLoop,
        network: Network,
        recorder: Recorder,
        invariants: Invariants,
    ) -> None:
        self.element: Element | None = element
        self.name = element.name
        self._loop = loop
        self._network = network
        self.recorder = recorder
        self._invariants = invariants
        self._timers: dict[Hashable, _Timer] = {}

    @property
    def now(self) -> float:
        return self._loop.now

    @property
    def recording(self) -> bool:
        return self.recorder.enabled

    # -- messages ---------------------------------------------------------------------------

    def send(
        self,
        dst: str,
        message: Message,
        retransmission: bool = False,
        machine: str = "",
        tx: str = "",
        terminated: bool = False,
    ) -> None:
        """Put ``message`` on the link to ``dst``. ``machine``/``tx`` name what sent it (for
        the trace); ``terminated`` says it came from a transaction that had already ended
        (an invariant violation, RFC 3261 §17)."""
        self._invariants.on_send(self.name, dst, message, terminated, tx)
        self._network.transmit(self.name, dst, message, retransmission, machine, tx)

    # -- timers -----------------------------------------------------------------------------

    def set_timer(self, key: Hashable, seconds: float) -> None:
        """(Re)start the timer ``key``: `Element.timer` is called ``seconds`` from now."""
        timers = self._timers
        old = timers.get(key)
        if old is not None:
            old.cancel()
        entry = _Timer(self, key)
        self._loop.post(entry, seconds)
        timers[key] = entry

    def cancel_timer(self, key: Hashable) -> None:
        entry = self._timers.pop(key, None)
        if entry is not None:
            entry.cancel()

    def timer_running(self, key: Hashable) -> bool:
        return key in self._timers

    def cancel_all_timers(self) -> None:
        for entry in self._timers.values():
            entry.cancel()
        self._timers.clear()

    def _fire(self, key: Hashable) -> None:
        self._timers.pop(key, None)
        element = self.element
        if element is None:
            return
        if isinstance(element, Agent):  # a direct call in the compiled build (cast: mypy
            cast(Agent, element).timer(self, key)  # narrows to Element and Agent both)
        else:
            element.timer(self, key)

    def close(self) -> None:
        """The run is over: cancel the element's timers and let go of it. (The element
        and its context refer to each other; breaking that here frees the run's objects
        as it returns, without waiting for the cycle collector.)"""
        self.cancel_all_timers()
        self.element = None

    # -- the trace --------------------------------------------------------------------------

    def record(self, kind: str, **fields: Any) -> None:
        """Add a trace record of this element (nothing when recording is off); ``kind`` is
        a `RecordKind`."""
        if self.recorder.enabled:
            self.recorder.add(cast(RecordKind, kind), self.name, **fields)

    def count(self, what: str) -> None:
        """Count an outcome of the run (`SimResult.counts`), recording or not."""
        counts = self.recorder.counts
        counts[what] = counts.get(what, 0) + 1

    def violation(self, rule: str, text: str, rfc: str) -> None:
        """Report an invariant violation (always kept, recorded when recording is on)."""
        self._invariants.report(self.name, rule, text, rfc)
