"""The scripted transaction user: which steps of the scenario fire, and when.

A step fires ``at`` a virtual time, or ``on`` an event of its element -- a request reaching
the UA core, a response reaching the TU, a transaction event (timeout, cancelled,
transport_error), or the dialog entering a state -- and runs ``after`` seconds later. A
step fires once unless it says ``repeat: true``. What a step *does* (send a request,
respond, never answer) is carried out by the user agent (`sipfsm.sim.ua`); this module only
keeps the book of which steps are waiting.
"""

from __future__ import annotations

from collections.abc import Iterable

from sipfsm.message import Message, Request
from sipfsm.sim.scenario import Step

__all__ = ["ScriptedTU"]


class ScriptedTU:
    """The steps of one element, and which of them have fired."""

    __slots__ = ("_fired", "_on", "steps")

    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps = tuple(steps)
        self._fired: set[int] = set()
        self._on = tuple(s for s in self.steps if s.on is not None)

    def timed(self) -> tuple[Step, ...]:
        """The steps that run at a fixed time, in script order."""
        return tuple(s for s in self.steps if s.at is not None)

    def _take(self, step: Step) -> bool:
        if step.repeat:
            return True
        if step.index in self._fired:
            return False
        self._fired.add(step.index)
        return True

    def on_request(self, request: Request) -> list[Step]:
        """The steps a request reaching the UA core sets off (now marked as fired)."""
        return [
            s
            for s in self._on
            if s.on is not None
            and s.on.kind == "request"
            and s.on.pattern.matches(request)
            and self._take(s)
        ]

    def on_response(self, response: Message) -> list[Step]:
        return [
            s
            for s in self._on
            if s.on is not None
            and s.on.kind == "response"
            and s.on.pattern.matches(response)
            and self._take(s)
        ]

    def on_event(self, event: str, method: str) -> list[Step]:
        return [
            s
            for s in self._on
            if s.on is not None
            and s.on.kind == "event"
            and s.on.event == event
            and s.on.pattern.method in (None, method)
            and self._take(s)
        ]

    def on_dialog(self, state: str) -> list[Step]:
        return [
            s
            for s in self._on
            if s.on is not None and s.on.kind == "dialog" and s.on.dialog == state and self._take(s)
        ]

    @staticmethod
    def answers(steps: Iterable[Step]) -> bool:
        """Whether these steps take charge of answering the request (respond or
        never_answer), so the UA does not answer it by default."""
        return any(s.action in ("respond", "never_answer") for s in steps)
