"""The scripted transaction user: which steps of the scenario fire, and when.

A step fires ``at`` a virtual time, or ``on`` an event of its element -- a request reaching
the UA core, a response reaching the TU, a transaction event (timeout, cancelled,
transport_error), or the dialog entering a state -- and runs ``after`` seconds later. A
step fires once unless it says ``repeat: true``. What a step *does* (send a request,
respond, never answer) is carried out by the user agent (`sipfsm.sim.ua`); this module only
keeps the book of which steps are waiting.

The steps are sorted by what they wait for once per script (`_Index`, shared by every run
of the same steps), so an event that no step waits for costs a lookup; and the index
remembers which ``on`` steps a kind of message matches (`message_key`: the fields a
`MessagePattern` reads), so the patterns are read once per kind of message, not per
message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from sipfsm.sim.memo import ByIdentity
from sipfsm.sim.scenario import Step
from sipfsm.values.message import Message, Request, Response

__all__ = ["ScriptedTU", "message_key"]


def message_key(m: Message) -> tuple[Any, ...]:
    """What a `MessagePattern` reads of a message (`MessagePattern.matches`): its kind,
    its (CSeq) method and number, its status (0 for a request), and whether it has a To
    tag and a body -- not their texts, which are new strings in every call."""
    if isinstance(m, Response):
        return (Response, m.method, m.cseq, bool(m.to_tag), bool(m.body), m.status)
    return (type(m), m.method, m.cseq, bool(m.to_tag), bool(m.body), 0)


#: How many kinds of message an index remembers the matching steps of (then it starts over).
_MAX_KINDS: Final = 4096


class _Index:
    """The ``on`` steps of a script by what they wait for, in script order; and, for each
    kind of message seen (`message_key`), the request or response steps it matches."""

    __slots__ = (
        "dialog",
        "events",
        "matched",
        "requests",
        "responses",
        "states",
        "steps",
        "timed",
    )

    def __init__(self, steps: tuple[Step, ...]) -> None:
        self.steps = steps
        self.timed = tuple(s for s in steps if s.at is not None)
        on = [(s, s.on) for s in steps if s.on is not None]
        self.requests = tuple(s for s, o in on if o.kind == "request")
        self.responses = tuple(s for s, o in on if o.kind == "response")
        self.events = tuple(s for s, o in on if o.kind == "event")
        self.dialog: dict[str, tuple[Step, ...]] = {}
        for s, o in on:
            if o.kind == "dialog":
                self.dialog[o.dialog] = (*self.dialog.get(o.dialog, ()), s)
        self.states = frozenset(self.dialog)
        self.matched: dict[tuple[Any, ...], tuple[Step, ...]] = {}

    def matching(self, requests: bool, message: Message) -> tuple[Step, ...]:
        """The `requests` (or `responses`) steps whose pattern ``message`` matches, in
        script order."""
        key = (requests, message_key(message))
        found = self.matched.get(key)
        if found is None:
            steps = self.requests if requests else self.responses
            found = tuple(s for s in steps if s.on is not None and s.on.pattern.matches(message))
            if len(self.matched) >= _MAX_KINDS:
                self.matched.clear()
            self.matched[key] = found
        return found


_MAX_INDEXES: Final = 256
_indexes: Final[ByIdentity[tuple[Step, ...], _Index]] = ByIdentity(_Index, _MAX_INDEXES)


def _index(steps: tuple[Step, ...]) -> _Index:
    """The index of ``steps``, by identity (a run passes the same tuple every time)."""
    return _indexes.get(steps)


class ScriptedTU:
    """The steps of one element, and which of them have fired."""

    __slots__ = ("_fired", "_index", "dialog_states", "steps", "waits_for")

    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps = tuple(steps)
        self._fired: set[int] = set()
        self._index = _index(self.steps)
        #: the dialog states some step waits for (`on_dialog` finds nothing for others)
        self.dialog_states: dict[str, tuple[Step, ...]] = self._index.dialog
        #: the same as a set (what `sipfsm.elements.endpoint.TransactionUser` takes), made
        #: once per script rather than once per UA
        self.waits_for: frozenset[str] = self._index.states

    def timed(self) -> tuple[Step, ...]:
        """The steps that run at a fixed time, in script order."""
        return self._index.timed

    def _take(self, step: Step) -> bool:
        if step.repeat:
            return True
        if step.index in self._fired:
            return False
        self._fired.add(step.index)
        return True

    def on_request(self, request: Request) -> list[Step]:
        """The steps a request reaching the UA core sets off (now marked as fired)."""
        index = self._index
        if not index.requests:
            return []
        return [s for s in index.matching(True, request) if self._take(s)]

    def on_response(self, response: Message) -> list[Step]:
        index = self._index
        if not index.responses:
            return []
        return [s for s in index.matching(False, response) if self._take(s)]

    def on_event(self, event: str, method: str) -> list[Step]:
        return [
            s
            for s in self._index.events
            if s.on is not None
            and s.on.event == event
            and s.on.pattern.method in (None, method)
            and self._take(s)
        ]

    def on_dialog(self, state: str) -> list[Step]:
        steps = self._index.dialog.get(state)
        if not steps:
            return []
        return [s for s in steps if self._take(s)]

    @staticmethod
    def answers(steps: Iterable[Step]) -> bool:
        """Whether these steps take charge of answering the request (respond or
        never_answer), so the UA does not answer it by default."""
        return any(s.action in ("respond", "never_answer") for s in steps)
