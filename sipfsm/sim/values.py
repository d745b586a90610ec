"""The values the simulator's compiled modules hand out, defined where they stay plain
Python classes.

The event loop, the network, the elements and the invariants (`sipfsm.sim.engine`,
`network`, `element`, `invariants`) are compiled by mypyc in the compiled build
(`sipfsm.native`). A class defined in a compiled module becomes a native class, which
cannot extend ``list`` and whose frozen dataclasses cannot be unpickled. The values here
leave a run -- a scheduled callback's `Handle`, a `RunError`, a `Violation` -- and a
`SimResult` carrying them is sent between processes by sweeps, so they are defined in this
module, which is never compiled. Each is imported from, and documented with, the module
that makes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Entry", "Handle", "RunError", "Violation"]


#: A scheduled callback as the heap holds it: ``[time, seq, fn, args]``; ``fn`` is ``None``
#: once it ran or was cancelled. Entries order by time, then by scheduling order (``seq``
#: is unique, so the rest is never compared).
Entry = list[Any]


class Handle(Entry):
    """A scheduled callback (`EventLoop.schedule`); `EventLoop.cancel` disarms it. It is
    its own heap entry (see `Entry`)."""

    __slots__ = ()

    @property
    def time(self) -> float:
        return float(self[0])

    @property
    def fn(self) -> Callable[..., None] | None:
        fn: Callable[..., None] | None = self[2]
        return fn

    @property
    def args(self) -> tuple[Any, ...]:
        args: tuple[Any, ...] = self[3]
        return args

    @property
    def cancelled(self) -> bool:
        return self[2] is None


@dataclass(frozen=True, slots=True)
class RunError:
    """Something a run could not do: a step of the script the model refused (a
    `LocalProtocolError`; ``where`` is the step's place in the scenario), or an action of
    the UA core the model refused (``where`` is ``UA core``; that is a bug)."""

    t: float
    element: str
    where: str  # "script.alice[2] (line 14)" or "UA core"
    text: str

    def to_json(self) -> dict[str, Any]:
        return _json(self)


@dataclass(frozen=True, slots=True)
class Violation:
    """A run broke an invariant (`sipfsm.sim.invariants.RULES`): when, where, which
    rule, what happened, and the rule's section."""

    t: float
    element: str
    rule: str
    text: str
    rfc: str

    def to_json(self) -> dict[str, Any]:
        return _json(self)


def _json(value: RunError | Violation) -> dict[str, Any]:
    """A value's fields by name, in order, its time rounded to the microsecond."""
    out = {f.name: getattr(value, f.name) for f in fields(value)}
    out["t"] = round(value.t, 6)
    return out
