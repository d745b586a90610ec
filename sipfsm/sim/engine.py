"""The simulator's clock: a discrete-event loop on virtual time.

Nothing here sleeps or reads a clock. A scheduled callback is an `Entry`, kept in a heap
ordered by ``(time, sequence)``: events due at the same virtual time run in the order they
were scheduled, so a run is a pure function of what was scheduled -- the same inputs give
the same run. Cancelling is lazy (a cancelled entry stays in the heap and is skipped when
it comes up), which keeps scheduling O(log n) and `cancel` O(1).

An entry is run by its own `Entry.fire`, which the compiled build calls directly, and
compares with its own `Entry.__lt__`, which it compiles; the simulator's own entries -- a
context's timer, a message arriving -- are `Entry` subclasses that call their element or
the network directly too, and `schedule` wraps any callable.

All randomness of a run comes from generators seeded from the run's seed, never from the
global `random` state: a link's `Stream` and the loop's own generator from a seed mixed by
`derive_seed`; a dialog's generator (rarely made) from the run's seed, the UA's place and
the call's number packed into one integer (`sipfsm.sim.ua`).
"""

from __future__ import annotations

import heapq
import math
import random
import sys
from collections.abc import Callable
from typing import Any, Final

from sipfsm.values.errors import RunawayError

__all__ = [
    "Entry",
    "EventLoop",
    "Handle",
    "RunawayError",
    "Stream",
    "derive_seed",
    "mix64",
    "mix_words",
]

_MASK: Final = (1 << 64) - 1
_M32: Final = 0xFFFFFFFF
_push: Final = heapq.heappush
_pop: Final = heapq.heappop


# The splitmix64 finaliser, a bijection on 64-bit integers:
#
#     x = (x + 0x9E3779B97F4A7C15) mod 2**64
#     x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) mod 2**64
#     x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) mod 2**64
#     return x ^ (x >> 31)
#
# computed on the two 32-bit halves of x, with every product taken of 16-bit limbs: each
# intermediate value then stays a machine integer in the compiled build (whose fast path
# multiplies numbers below 2**30), where 64-bit values are boxed big integers and a mix
# cost about 4,500 instructions; this one costs a tenth of that. The constants below are
# those above, cut into limbs; tests/test_sim_engine.py checks the result against the
# formula.
_GOLDEN_HI: Final = 0x9E3779B9
_GOLDEN_LO: Final = 0x7F4A7C15
_C1: Final = (0xBF58, 0x476D, 0x1CE4, 0xE5B9)
_C2: Final = (0x94D0, 0x49BB, 0x1331, 0x11EB)


def _mul_lo(a: int, b1: int, b0: int) -> int:
    """``a * b mod 2**32`` (``a < 2**32``; ``b = b1 << 16 | b0``)."""
    a0 = a & 0xFFFF
    return (a0 * b0 + (((a0 * b1 + (a >> 16) * b0) & 0xFFFF) << 16)) & _M32


def _times(high: int, low: int, c: tuple[int, int, int, int]) -> tuple[int, int]:
    """``(high << 32 | low) * c mod 2**64`` as its halves; ``c`` as four 16-bit limbs,
    the most significant first."""
    c3, c2, c1, c0 = c
    l1 = low >> 16
    l0 = low & 0xFFFF
    mid = l0 * c1 + l1 * c0
    bottom = l0 * c0 + ((mid & 0xFFFF) << 16)
    top = l1 * c1 + (mid >> 16) + (bottom >> 32)  # (low * c's low half) >> 32
    return (top + _mul_lo(high, c1, c0) + _mul_lo(low, c3, c2)) & _M32, bottom & _M32


def mix_words(high: int, low: int) -> tuple[int, int]:
    """`mix64` of ``high << 32 | low`` (both below ``2**32``), as its two halves ``(high,
    low)``: what a link's `Stream` is seeded with (`Stream.of_words`)."""
    low += _GOLDEN_LO
    high = (high + _GOLDEN_HI + (low >> 32)) & _M32
    low &= _M32
    low ^= ((low >> 30) | (high << 2)) & _M32
    high ^= high >> 30
    high, low = _times(high, low, _C1)
    low ^= ((low >> 27) | (high << 5)) & _M32
    high ^= high >> 27
    high, low = _times(high, low, _C2)
    low ^= ((low >> 31) | (high << 1)) & _M32
    high ^= high >> 31
    return high, low


def mix64(x: int) -> int:
    """One round of `derive_seed`'s mixing (splitmix64's finaliser) of a 64-bit integer."""
    high, low = mix_words((x >> 32) & _M32, x & _M32)
    return (high << 32) | low


def derive_seed(seed: int, *parts: int) -> int:
    """A 64-bit seed for one random stream of a run (a link, an element, a dialog),
    derived from the run's ``seed`` and small integers naming the stream (splitmix64
    mixing, one round per part). Integer arithmetic only: stable across Python versions
    and platforms."""
    x = mix64(seed)
    for part in parts:
        x = mix64(x ^ (part & _MASK))
    return mix64(x ^ len(parts))


# MRG32k3a (P. L'Ecuyer, "Good parameters and implementations for combined multiple
# recursive random number generators", Operations Research 47(1), 1999): the generator of
# ns-3's and SSJ's random streams. Every product fits in 53 bits, so it runs exactly on
# machine doubles (see `Stream`), and seeding it is six assignments (a Mersenne Twister
# costs microseconds to seed, twice per simulated call).
_M1_INT: Final = 4294967087
_M2_INT: Final = 4294944443
_M1: Final = 4294967087.0
_M2: Final = 4294944443.0
_A12: Final = 1403580.0
_A13N: Final = 810728.0
_A21: Final = 527612.0
_A23N: Final = 1370589.0
_NORM: Final = 1.0 / 4294967088  # 1 / (_M1 + 1)


class Stream:
    """One random stream of a run (a link's losses, delays, reordering and duplicates):
    MRG32k3a, seeded from a 64-bit seed (`derive_seed`). ``random()`` is uniform on the open
    interval (0, 1), with 32 bits of resolution; ``uniform`` and ``expovariate`` are drawn
    from it as `random.Random`'s are.

    The state is kept in floats, as in L'Ecuyer's own implementation: every product and
    difference is an integer below 2**53, so double arithmetic is exact (and the float
    ``%`` is too), and the compiled build runs it on machine doubles -- its fast integer
    path stops at factors below 2**30, and these are 32-bit."""

    __slots__ = ("_s10", "_s11", "_s12", "_s20", "_s21", "_s22")

    def __init__(self, seed: int) -> None:
        self._seed((seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF)

    def _seed(self, high: int, low: int) -> None:
        self._s10 = float(low % _M1_INT)
        self._s11 = float(high % _M1_INT)
        self._s12 = float((low ^ high) % _M1_INT or 1)  # the first three: never all 0
        self._s20 = float(high % _M2_INT)
        self._s21 = float(low % _M2_INT)
        self._s22 = float((low + high) % _M2_INT or 1)  # nor the last three

    @classmethod
    def of_words(cls, high: int, low: int) -> Stream:
        """``Stream(high << 32 | low)``, from the halves of the seed (`mix_words`)."""
        stream = cls(0)
        stream._seed(high, low)
        return stream

    @classmethod
    def of_state(cls, state: tuple[int, int, int, int, int, int]) -> Stream:
        """A stream in the given state (the published test vectors start from one)."""
        stream = cls(0)
        stream._s10, stream._s11, stream._s12, stream._s20, stream._s21, stream._s22 = (
            float(x) for x in state
        )
        return stream

    def random(self) -> float:
        p1 = (_A12 * self._s11 - _A13N * self._s10) % _M1
        self._s10 = self._s11
        self._s11 = self._s12
        self._s12 = p1
        p2 = (_A21 * self._s22 - _A23N * self._s20) % _M2
        self._s20 = self._s21
        self._s21 = self._s22
        self._s22 = p2
        if p1 > p2:
            return (p1 - p2) * _NORM
        return (p1 - p2 + _M1) * _NORM

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def expovariate(self, lambd: float) -> float:
        return -math.log(1.0 - self.random()) / lambd


class Entry:
    """A scheduled callback as the loop keeps it: due at ``time``; ``live`` until it runs or
    is cancelled. A subclass says what running it does (`fire`) and lets go of what it
    holds when cancelled (`cancel`)."""

    __slots__ = ("live", "seq", "time")

    def __init__(self) -> None:
        self.time = 0.0
        self.seq = 0
        self.live = True

    def __lt__(self, other: Entry) -> bool:
        """Earlier due, or due at the same time and scheduled first (``seq``)."""
        return self.time < other.time or (self.time == other.time and self.seq < other.seq)

    def fire(self) -> None:
        """Run the callback (the loop calls it once, after marking the entry not live)."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Disarm the entry (one that already ran is left as it is)."""
        self.live = False

    @property
    def cancelled(self) -> bool:
        """Whether the entry ran or was cancelled."""
        return not self.live


class Handle(Entry):
    """A scheduled call of ``fn(*args)`` (`EventLoop.schedule`); `EventLoop.cancel` disarms
    it. ``fn`` is ``None`` once it ran or was cancelled."""

    __slots__ = ("args", "fn")

    def __init__(self, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        super().__init__()
        self.fn: Callable[..., None] | None = fn
        self.args = args

    def fire(self) -> None:
        fn = self.fn
        args = self.args
        self.fn = None
        self.args = ()
        if fn is not None:
            fn(*args)

    def cancel(self) -> None:
        self.live = False
        self.fn = None
        self.args = ()


class EventLoop:
    """A heap of scheduled callbacks (`Entry`); ``now`` is the virtual time of the callback
    running (or of the last one run)."""

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
        handle = Handle(fn, args)
        self.post(handle, delay)
        return handle

    def call_later(self, delay: float, fn: Callable[..., None], args: tuple[Any, ...]) -> Handle:
        """`schedule` with ``args`` as a tuple."""
        handle = Handle(fn, args)
        self.post(handle, delay)
        return handle

    def post(self, entry: Entry, delay: float) -> None:
        """Run ``entry`` (`Entry.fire`) ``delay`` virtual seconds from now (``delay >=
        0``), after every entry already due at that time. (``entry`` is scheduled once.)"""
        if not delay >= 0:  # also rejects NaN
            raise ValueError(f"a delay must be a number >= 0, got {delay!r}")
        entry.time = self.now + delay
        self._seq = entry.seq = self._seq + 1
        _push(self._heap, entry)

    def cancel(self, entry: Entry | None) -> None:
        """Disarm ``entry`` (one that already ran, or ``None``, is ignored)."""
        if entry is not None:
            entry.cancel()

    def clear(self) -> None:
        """Cancel every scheduled entry and forget them (a run stopped at a limit lets go
        of what they hold)."""
        for entry in self._heap:
            entry.cancel()
        self._heap.clear()

    @property
    def pending(self) -> int:
        """How many callbacks are scheduled and not cancelled."""
        return sum(1 for entry in self._heap if entry.live)

    def run(self, until: float | None = None, limit: int | None = None) -> int:
        """Run callbacks in time order until none is left or the next is due after
        ``until``; the clock then stands at the last callback's time. Returns how many
        callbacks ran; more than ``limit`` is a `RunawayError` (a run that never settles)."""
        heap = self._heap
        count = 0
        last = math.inf if until is None else until
        most = sys.maxsize if limit is None else limit
        while heap:
            entry = heap[0]
            time = entry.time
            if time > last:
                return count
            if not entry.live:
                _pop(heap)
                continue
            count += 1
            if count > most:  # (the entry stays due: a later run starts with it)
                raise RunawayError(
                    f"more than {limit:,} events by virtual time {time:g} s: the run does not "
                    "settle (a timer or message loop)",
                    "events",
                )
            _pop(heap)
            entry.live = False
            self.now = time
            entry.fire()
        return count
