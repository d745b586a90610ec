"""What a run records: its trace (`Recorder`: `sipfsm.sim.trace.TraceRecord` values in the
order they happened) and every message put on the wire (`WireMessage`), both handed out by
a run's result (`sipfsm.sim.values`).

Records are built only when recording is on (a benchmark turns it off), and a message's
summary (`MessageInfo`, with its wire text) once per message object, only for a record that
shows it. Compiled in the fast build (`sipfsm.engine.native`): a `WireMessage` is built per
message sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sipfsm.sim.engine import EventLoop
from sipfsm.sim.trace import MessageInfo, RecordKind, TraceRecord
from sipfsm.values.message import Message

__all__ = ["Recorder", "WireMessage"]


@dataclass(slots=True, init=False)
class WireMessage:
    """One message put on the wire: when, by whom, to whom, and what became of it.
    (``__init__`` is written out: a dataclass's generated one stays interpreted in the
    compiled build, and one is built per message sent.)"""

    t: float
    src: str
    dst: str
    message: Message
    retransmission: bool
    lost: bool
    duplicated: bool

    def __init__(
        self,
        t: float,
        src: str,
        dst: str,
        message: Message,
        retransmission: bool = False,
        lost: bool = False,
        duplicated: bool = False,
    ) -> None:
        self.t = t
        self.src = src
        self.dst = dst
        self.message = message
        self.retransmission = retransmission
        self.lost = lost
        self.duplicated = duplicated

    def __reduce__(self) -> tuple[Any, ...]:
        fields = (self.t, self.src, self.dst, self.message)
        return (WireMessage, (*fields, self.retransmission, self.lost, self.duplicated))


class Recorder:
    """The trace of one run: `TraceRecord` values in the order they happened."""

    __slots__ = ("_infos", "counts", "enabled", "loop", "records", "transport")

    def __init__(self, loop: EventLoop, enabled: bool = True, transport: str = "udp") -> None:
        self.loop = loop
        self.enabled = enabled
        self.transport = transport  # what the wire text of each message names in its Via
        self.records: list[TraceRecord] = []
        #: how often each outcome happened, kept whether recording or not (`SimResult.counts`)
        self.counts: dict[str, int] = {}
        self._infos: dict[int, tuple[Message, MessageInfo]] = {}

    def info(self, message: Message) -> MessageInfo:
        """The record form of ``message``, built once per message object (a retransmission
        re-sends the same object)."""
        found = self._infos.get(id(message))
        if found is not None and found[0] is message:
            return found[1]
        info = MessageInfo.of(message, self.transport)
        self._infos[id(message)] = (message, info)
        return info

    def add(self, kind: RecordKind, element: str, **fields: Any) -> None:
        if not self.enabled:
            return
        message = fields.pop("message", None)
        if message is not None and not isinstance(message, MessageInfo):
            message = self.info(message)
        self.records.append(
            TraceRecord(self.loop.now, len(self.records), kind, element, message=message, **fields)
        )
