"""Errors that explain themselves: each names the machine, profile, state and event.

As in h11, what *we* (the local TU or caller) did wrong is kept apart from what the
*peer* did wrong: a `LocalProtocolError` is a bug in the caller, a `RemoteProtocolError`
is a message from the network that the state machine has no arrow for.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The most characters of a value an error message shows (`shown`): a hostile value (a
#: 10 MB name, an object whose ``repr`` never ends) must not make the one-line error long.
SHOWN_CHARS = 80


def printable(text: str) -> str:
    """``text`` with every character that is not printable (line ends, tabs, other control
    characters, unassigned code points) written as its escape (``\\n``, ``\\x00``,
    ``\\u2028``): whatever a message quotes, it stays on one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """How an error names a value it was given: its ``repr``, on one line, cut to ``limit``
    characters; the type's name if the ``repr`` itself fails."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    if not isinstance(text, str):  # (a __repr__ that returns something else)
        text = f"<{type(value).__name__} object>"
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SipFsmError(Exception):
    """Base class of every error sipfsm raises on purpose."""


class WrongType(SipFsmError, TypeError):
    """An API call was given something of the wrong type: ``what`` it was meant to be,
    what it takes (``expected``) and what it got (`shown`, and its type's name)."""

    def __init__(self, what: str, got: object, expected: str, text: str = "") -> None:
        self.what = what
        self.expected = expected
        self.got_type = type(got).__name__
        super().__init__(
            text or f"{what}: expected {expected}, got {shown(got)} ({self.got_type})"
        )


class ForeignInstance(WrongType):
    """An engine was handed an instance another machine started (``ict.handle`` of an IST
    instance): it would drive it through the wrong table wherever the state names match."""

    def __init__(self, machine: str, owner: str, got: object) -> None:
        self.machine = machine
        self.owner = owner
        super().__init__(
            "instance",
            got,
            f"an instance of {machine}",
            f"{machine}: the instance belongs to the {owner} machine, not to {machine} "
            f"({shown(got)}); an engine drives only the instances it created or started",
        )


class UnknownName(SipFsmError, LookupError):
    """An unknown machine, state, trigger, timer, profile, transport or code."""

    def __init__(self, what: str, name: object, choices: Iterable[object], where: str = "") -> None:
        self.what = what
        self.name = name
        self.choices = tuple(choices)
        place = f" of {where}" if where else ""
        listed = ", ".join(str(c) for c in self.choices)
        super().__init__(f"unknown {what}{place} {shown(name)}; valid choices: {listed}")


class ProtocolError(SipFsmError):
    """An event that the machine does not accept in its current state."""

    def __init__(
        self,
        machine: str,
        profile: str,
        state: str,
        event: str,
        reason: str = "no transition declared",
    ) -> None:
        self.machine = machine
        self.profile = profile
        self.state = state
        self.event = event
        self.reason = reason
        super().__init__(
            f"{machine} ({profile}) in state {state!r} cannot handle {event}: {reason}"
        )


class LocalProtocolError(ProtocolError):
    """The caller (the TU, or the code driving the machine) asked for something illegal."""


class RemoteProtocolError(ProtocolError):
    """A message from the peer has no declared arrow in this state."""


class RunawayError(SipFsmError, RuntimeError):
    """A simulated run reached one of its limits: more events than it may run
    (`sipfsm.sim.engine.EventLoop.run`) or more messages in flight at once
    (`sipfsm.sim.network.Network`) -- something loops without end. ``limit`` names the
    limit (``events``, ``in-flight``; `sipfsm.sim.limits`)."""

    def __init__(self, message: str, limit: str = "") -> None:
        self.limit = limit
        super().__init__(message)


class WireError(SipFsmError, ValueError):
    """A message that is not valid SIP; ``reason`` says which rule it breaks."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
