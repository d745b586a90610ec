"""What the simulator works out once per scenario object and reuses on every run.

A `ByIdentity` keeps one value per object, found by the object's identity: a scenario's
plan (`sipfsm.sim.run`), a script's index of steps (`sipfsm.sim.tu`). Each entry keeps its
object alive, so an id is never reused while its entry is kept, and the entry is checked
to be for the very object asked about. The cache is bounded: when full it is emptied, and
what is asked for again is worked out again (the same value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["ByIdentity"]

K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(Generic[K, V]):
    """``make(key)`` for each object ``key``, worked out once while it is kept."""

    __slots__ = ("_entries", "limit", "make")

    def __init__(self, make: Callable[[K], V], limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a cache must hold at least one entry, not {limit}")
        self.make = make
        self.limit = limit
        self._entries: dict[int, tuple[K, V]] = {}

    def get(self, key: K) -> V:
        found = self._entries.get(id(key))
        if found is not None and found[0] is key:
            return found[1]
        if len(self._entries) >= self.limit:
            self._entries.clear()
        value = self.make(key)
        self._entries[id(key)] = (key, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)
