"""An element's context (sipfsm.sim.element): its timers on the run's clock, and letting go
of the element when the run is over."""

from __future__ import annotations

from collections.abc import Hashable

from sipfsm.sim.element import Context
from sipfsm.sim.engine import EventLoop
from sipfsm.sim.invariants import Invariants
from sipfsm.sim.network import Network
from sipfsm.sim.recorder import Recorder
from sipfsm.sim.scenario import NetworkSpec
from sipfsm.values.message import Message


class Clock:
    """A minimal element: it notes the timers that fire."""

    name = "alice"

    def __init__(self) -> None:
        self.fired: list[tuple[float, Hashable]] = []

    def start(self, ctx: Context) -> None:
        ctx.set_timer("A", 1.0)
        ctx.set_timer("B", 2.0)

    def receive(self, ctx: Context, message: Message, src: str) -> None:
        raise AssertionError("no message in this test")

    def timer(self, ctx: Context, key: Hashable) -> None:
        self.fired.append((ctx.now, key))


def context(element: Clock) -> tuple[EventLoop, Context]:
    loop = EventLoop()
    recorder = Recorder(loop)
    invariants = Invariants(recorder)
    network = Network(NetworkSpec(), ("alice",), loop, recorder, invariants, lambda *a: None)
    return loop, Context(element, loop, network, recorder, invariants)  # type: ignore[arg-type]


def test_timers_fire_at_their_time_and_a_restarted_timer_fires_once() -> None:
    clock = Clock()
    loop, ctx = context(clock)
    clock.start(ctx)
    ctx.set_timer("A", 0.5)  # restarted: the first A never fires
    assert ctx.timer_running("A")
    loop.run()
    assert clock.fired == [(0.5, "A"), (2.0, "B")]
    assert not ctx.timer_running("A")


def test_a_closed_context_cancels_its_timers_and_lets_go_of_its_element() -> None:
    clock = Clock()
    loop, ctx = context(clock)
    clock.start(ctx)
    loop.run(until=1.5)
    ctx.close()
    loop.run()
    assert clock.fired == [(1.0, "A")]  # B was cancelled
    assert ctx.element is None and not ctx.timer_running("B")
