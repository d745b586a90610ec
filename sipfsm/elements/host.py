"""What runs an element: the `Host` a sans-IO element (`sipfsm.elements.endpoint.Endpoint`)
acts through -- the time, sending a message to an address, timers, records and counts --
and `ActionLog`, a Host that keeps every output as a value (`Send`, `SetTimer`,
`CancelTimer`, `Note`, `Count`) for its caller to carry out. The simulator's context
(`sipfsm.sim.element.Context`) is a Host too.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final

from mypy_extensions import mypyc_attr

from sipfsm.values.frozen import Frozen
from sipfsm.values.message import Message

__all__ = [
    "ActionLog",
    "CancelTimer",
    "Count",
    "EndpointAction",
    "Host",
    "Note",
    "Send",
    "SetTimer",
]



# a host is the user's own class (a network binding, a test), compiled or not
@mypyc_attr(allow_interpreted_subclasses=True)
class Host:
    """What an endpoint needs of whatever runs it: the time (an input: the endpoint reads no
    clock), sending a message to an address, timers keyed by any hashable value (setting a
    key again replaces its timer; `Endpoint.timer` is called when one fires), and a place
    for its records (what the trace shows) and counts (outcomes). The simulator's context
    (`sipfsm.sim.element.Context`) is a Host; `ActionLog` keeps every call as a value."""

    @property
    def now(self) -> float:
        raise NotImplementedError

    @property
    def recording(self) -> bool:
        """Whether records are kept (an endpoint skips building their texts when not)."""
        raise NotImplementedError

    def send(
        self,
        dst: str,
        message: Message,
        retransmission: bool = False,
        machine: str = "",
        tx: str = "",
        terminated: bool = False,
    ) -> None:
        raise NotImplementedError

    def set_timer(self, key: Hashable, seconds: float) -> None:
        raise NotImplementedError

    def cancel_timer(self, key: Hashable) -> None:
        raise NotImplementedError

    def record(self, kind: str, **fields: Any) -> None:
        raise NotImplementedError

    def count(self, what: str) -> None:
        raise NotImplementedError


class Send(Frozen):
    """Send ``message`` to ``dst`` (``machine`` and ``tx`` name what sent it)."""

    # in the order of __init__, as every value's (sipfsm.values.frozen)
    __slots__ = ("dst", "message", "retransmission", "machine", "tx", "terminated")  # noqa: RUF023

    def __init__(
        self,
        dst: str,
        message: Message,
        retransmission: bool = False,
        machine: str = "",
        tx: str = "",
        terminated: bool = False,
    ) -> None:
        self.dst: Final = dst
        self.message: Final = message
        self.retransmission: Final = retransmission
        self.machine: Final = machine
        self.tx: Final = tx
        self.terminated: Final = terminated


class SetTimer(Frozen):
    """(Re)start the endpoint's timer ``key``: call `Endpoint.timer` in ``seconds``."""

    __slots__ = ("key", "seconds")

    def __init__(self, key: Hashable, seconds: float) -> None:
        self.key: Final = key
        self.seconds: Final = seconds


class CancelTimer(Frozen):
    """Stop the endpoint's timer ``key``."""

    __slots__ = ("key",)

    def __init__(self, key: Hashable) -> None:
        self.key: Final = key


class Note(Frozen):
    """A record of what the endpoint did (its ``kind`` and fields, as a trace shows them)."""

    __slots__ = ("kind", "fields")  # noqa: RUF023 (in the order of __init__)

    def __init__(self, kind: str, fields: tuple[tuple[str, Any], ...]) -> None:
        self.kind: Final = kind
        self.fields: Final = fields


class Count(Frozen):
    """An outcome to count (``send 487``, ``retry after 491`` ...)."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what: Final = what


#: What an endpoint does, as values (`ActionLog`).
EndpointAction = Send | SetTimer | CancelTimer | Note | Count


# (a caller may extend it: a test's clock that also keeps the timers it was told to set)
@mypyc_attr(allow_interpreted_subclasses=True)
class ActionLog(Host):
    """A Host that keeps what the endpoint does as values, in order, for the caller to carry
    out (`take`); the caller sets the time (``now``) before each call."""

    def __init__(self, now: float = 0.0, recording: bool = True) -> None:
        self.time = now
        self.keep_records = recording
        self.actions: list[EndpointAction] = []

    @property
    def now(self) -> float:
        return self.time

    @property
    def recording(self) -> bool:
        return self.keep_records

    def send(
        self,
        dst: str,
        message: Message,
        retransmission: bool = False,
        machine: str = "",
        tx: str = "",
        terminated: bool = False,
    ) -> None:
        self.actions.append(Send(dst, message, retransmission, machine, tx, terminated))

    def set_timer(self, key: Hashable, seconds: float) -> None:
        self.actions.append(SetTimer(key, seconds))

    def cancel_timer(self, key: Hashable) -> None:
        self.actions.append(CancelTimer(key))

    def record(self, kind: str, **fields: Any) -> None:
        if self.keep_records:
            self.actions.append(Note(kind, tuple(fields.items())))

    def count(self, what: str) -> None:
        self.actions.append(Count(what))

    def take(self) -> list[EndpointAction]:
        """What the endpoint did since the last call, in order."""
        out, self.actions = self.actions, []
        return out
