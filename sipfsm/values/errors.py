"""Errors that explain themselves: each names the machine, profile, state and event.

As in h11, what *we* (the local TU or caller) did wrong is kept apart from what the
*peer* did wrong: a `LocalProtocolError` is a bug in the caller, a `RemoteProtocolError`
is a message from the network that the state machine has no arrow for.
"""

from __future__ import annotations

from collections.abc import Iterable


class SipFsmError(Exception):
    """Base class of every error sipfsm raises on purpose."""


class UnknownName(SipFsmError, LookupError):
    """An unknown machine, state, trigger, timer, profile, transport or code."""

    def __init__(self, what: str, name: object, choices: Iterable[object], where: str = "") -> None:
        self.what = what
        self.name = name
        self.choices = tuple(choices)
        place = f" of {where}" if where else ""
        listed = ", ".join(str(c) for c in self.choices)
        super().__init__(f"unknown {what}{place} {name!r}; valid choices: {listed}")


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
    """A simulated run scheduled more events than its limit: something loops without end
    (`sipfsm.sim.engine.EventLoop.run`)."""


class WireError(SipFsmError, ValueError):
    """A message that is not valid SIP; ``reason`` says which rule it breaks."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
