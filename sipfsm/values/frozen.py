"""The base of the small immutable values that carry events, actions and messages
(`sipfsm.values.events`, `sipfsm.values.message`): millions are built per second in a run.

A value class lists its fields once, in ``__slots__``, and sets each one, declared
``Final``, in an ``__init__`` written out in full. `Frozen` gives it, from ``__slots__``,
what a frozen dataclass would: equality and hashing by value (between values of the same
class only), a ``repr`` of its fields, and pickling; `replace` is ``dataclasses.replace``.

Why not frozen dataclasses (which these were): mypyc compiles these modules
(`sipfsm.engine.native`), and a dataclass's generated ``__init__`` stays interpreted Python even in
a compiled module, as its frozen ``__setattr__`` does. A plain class with a written-out
``__init__`` compiles to a native class: built in about a tenth of the time, and its fields
read as C struct members (docs/performance.md, "Simulation"). The compiled build refuses to
set a field after ``__init__`` (``AttributeError``); in the pure-Python source, ``Final``
makes the type checker (`make typecheck`) refuse it.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

V = TypeVar("V", bound="Frozen")


class Frozen:
    """A value of named fields, compared, hashed, shown and pickled by them (its class's
    ``__slots__``, in order)."""

    __slots__: ClassVar[tuple[str, ...]] = ()

    def values(self) -> tuple[Any, ...]:
        """The fields' values, in the order of ``__slots__``."""
        return tuple([getattr(self, name) for name in type(self).__slots__])

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        # field by field, stopping at the first that differs (a 180 and a 200 of one
        # transaction differ in their first field)
        return all(getattr(self, name) == getattr(other, name) for name in type(self).__slots__)

    def __hash__(self) -> int:
        return hash(self.values())

    def __repr__(self) -> str:
        fields = ", ".join([f"{name}={getattr(self, name)!r}" for name in type(self).__slots__])
        return f"{type(self).__qualname__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self.values())


def replace(value: V, **changes: Any) -> V:
    """A copy of ``value`` with the fields named in ``changes`` set to new values (as
    ``dataclasses.replace``); an unknown field name is a `TypeError`."""
    names = type(value).__slots__
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise TypeError(f"{type(value).__qualname__} has no field {', '.join(unknown)}")
    return type(value)(**{name: changes.get(name, getattr(value, name)) for name in names})


__all__ = ["Frozen", "replace"]
