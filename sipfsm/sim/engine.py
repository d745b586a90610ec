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
import math
import random
import sys
from collections.abc import Callable
from typing import Any

from sipfsm.errors import RunawayError
from sipfsm.sim.values import Entry, Handle

__all__ = ["Entry", "EventLoop", "Handle", "RunawayError", "derive_seed"]

_MASK = (1 << 64) - 1
_push = heapq.heappush


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


class EventLoop:
    """A heap of entries ``[time, seq, fn, args]`` (`Entry`); ``now`` is the virtual time
    of the callback running (or of the last one run)."""

    __slots__ = ("_heap", "_rng", "_seed", "_seq", "now")

    def __init__(self, seed: int = 0) -> None:
        self.now = 0.0
        self._heap: list[Entry] = []
        self._seq = 0
        self._seed = seed
        self._rng: random.Random | None = None

    @property
    def drew_random(self) -> bool:
        """Whether anything asked for the loop's random stream."""
        return self._rng is not None

    @property
    def rng(self) -> random.Random:
        """The loop's own random stream (seeded from the run's seed, stream 0), made the
        first time it is asked for: seeding a generator costs more than most events."""
        if self._rng is None:
            self._rng = random.Random(derive_seed(self._seed, 0))
        return self._rng

    def schedule(self, delay: float, fn: Callable[..., None], *args: Any) -> Handle:
        """Run ``fn(*args)`` ``delay`` virtual seconds from now (``delay >= 0``)."""
        if not delay >= 0:  # also rejects NaN
            raise ValueError(f"a delay must be a number >= 0, got {delay!r}")
        self._seq = seq = self._seq + 1
        handle = Handle((self.now + delay, seq, fn, args))
        _push(self._heap, handle)
        return handle

    def call_later(self, delay: float, fn: Callable[..., None], args: tuple[Any, ...]) -> Entry:
        """`schedule` for the simulator's own elements, which run a callback per event:
        ``args`` as a tuple, and the bare heap entry back (`cancel` takes it too)."""
        if not delay >= 0:  # also rejects NaN
            raise ValueError(f"a delay must be a number >= 0, got {delay!r}")
        self._seq = seq = self._seq + 1
        entry = [self.now + delay, seq, fn, args]
        _push(self._heap, entry)
        return entry

    def cancel(self, handle: Entry | None) -> None:
        """Disarm ``handle`` (a handle that already ran, or ``None``, is ignored)."""
        if handle is not None:
            handle[2] = None
            handle[3] = ()

    @property
    def pending(self) -> int:
        """How many callbacks are scheduled and not cancelled."""
        return sum(1 for entry in self._heap if entry[2] is not None)

    def run(self, until: float | None = None, limit: int | None = None) -> int:
        """Run callbacks in time order until none is left or the next is due after
        ``until``; the clock then stands at the last callback's time. Returns how many
        callbacks ran; more than ``limit`` is a `RunawayError` (a run that never settles)."""
        heap = self._heap
        pop = heapq.heappop
        count = 0
        last = math.inf if until is None else until
        most = sys.maxsize if limit is None else limit
        while heap:
            entry = heap[0]
            time = entry[0]
            if time > last:
                return count
            pop(heap)
            fn = entry[2]
            if fn is None:
                continue
            entry[2] = None
            self.now = time
            count += 1
            if count > most:
                raise RunawayError(
                    f"more than {limit} events by virtual time {time:g} s: the run does not "
                    "settle (a timer or message loop)"
                )
            fn(*entry[3])
        return count
