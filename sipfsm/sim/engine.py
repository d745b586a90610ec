"""The simulator's clock: a discrete-event loop on virtual time.

Nothing here sleeps or reads a clock. Callbacks are kept in a heap ordered by ``(time,
sequence)``: events due at the same virtual time run in the order they were scheduled, so
a run is a pure function of what was scheduled -- the same inputs give the same run.
Cancelling is lazy (a cancelled entry stays in the heap and is skipped when it comes up),
which keeps `schedule` and `cancel` O(log n) and O(1).

All randomness of a run comes from generators seeded from the run's seed (`derive_seed`),
never from the global `random` state.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from typing import Any

from sipfsm.errors import SipFsmError

__all__ = ["EventLoop", "Handle", "RunawayError", "derive_seed"]

_MASK = (1 << 64) - 1


class RunawayError(SipFsmError, RuntimeError):
    """A run scheduled more events than its limit: something loops without end."""


def _mix(x: int) -> int:
    """The splitmix64 finaliser: a bijection on 64-bit integers."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def derive_seed(seed: int, *parts: int) -> int:
    """A 64-bit seed for one random stream of a run (a link, an element, a dialog),
    derived from the run's ``seed`` and small integers naming the stream (splitmix64
    mixing, one round per part). Integer arithmetic only: stable across Python versions
    and platforms."""
    x = _mix(seed & _MASK)
    for part in parts:
        x = _mix(x ^ (part & _MASK))
    return _mix(x ^ len(parts))


class Handle:
    """A scheduled callback; `EventLoop.cancel` disarms it."""

    __slots__ = ("args", "fn", "time")

    def __init__(self, time: float, fn: Callable[..., None] | None, args: tuple[Any, ...]):
        self.time = time
        self.fn = fn
        self.args = args

    @property
    def cancelled(self) -> bool:
        return self.fn is None


class EventLoop:
    """A heap of ``(time, seq, handle)``; ``now`` is the virtual time of the callback
    running (or of the last one run)."""

    __slots__ = ("_heap", "_seq", "now", "rng")

    def __init__(self, seed: int = 0) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, Handle]] = []
        self._seq = 0
        self.rng = random.Random(derive_seed(seed, 0))

    def schedule(self, delay: float, fn: Callable[..., None], *args: Any) -> Handle:
        """Run ``fn(*args)`` ``delay`` virtual seconds from now (``delay >= 0``)."""
        if not delay >= 0:  # also rejects NaN
            raise ValueError(f"a delay must be a number >= 0, got {delay!r}")
        handle = Handle(self.now + delay, fn, args)
        self._seq += 1
        heapq.heappush(self._heap, (handle.time, self._seq, handle))
        return handle

    def cancel(self, handle: Handle | None) -> None:
        """Disarm ``handle`` (a handle that already ran, or ``None``, is ignored)."""
        if handle is not None:
            handle.fn = None
            handle.args = ()

    @property
    def pending(self) -> int:
        """How many callbacks are scheduled and not cancelled."""
        return sum(1 for _, _, h in self._heap if h.fn is not None)

    def run(self, until: float | None = None, limit: int | None = None) -> int:
        """Run callbacks in time order until none is left or the next is due after
        ``until``; the clock then stands at the last callback's time. Returns how many
        callbacks ran; more than ``limit`` is a `RunawayError` (a run that never settles)."""
        heap = self._heap
        pop = heapq.heappop
        count = 0
        while heap:
            time, _, handle = heap[0]
            if until is not None and time > until:
                return count
            pop(heap)
            fn = handle.fn
            if fn is None:
                continue
            handle.fn = None
            self.now = time
            count += 1
            if limit is not None and count > limit:
                raise RunawayError(
                    f"more than {limit} events by virtual time {time:g} s: the run does not "
                    "settle (a timer or message loop)"
                )
            fn(*handle.args)
        return count
