"""The seeded random source of a dialog (the glare timer of RFC 3261 §14.1, Retry-After
waits): a `random.Random` that compares equal to another in the same state, so that the
instances of the two engines compare field by field.

It lives in a module of its own because `sipfsm.machines.dialog` is one of the modules the
fast build compiles with mypyc (docs/performance.md, "The compiled build"), and a compiled
class cannot extend `random.Random`, a class written in C: this module is never compiled.
"""

from __future__ import annotations

import random


class SeededRandom(random.Random):
    """A seeded random source equal to another with the same state."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, random.Random) and self.getstate() == other.getstate()

    __hash__ = None  # type: ignore[assignment]


__all__ = ["SeededRandom"]
