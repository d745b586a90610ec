"""The simulator's trace: one record per event, in virtual time.

The JSONL form (one `TraceRecord.to_json()` per line) is the machine-readable trace;
the ladder diagrams are drawn from the same records. A record of kind ``send`` carries the
message's wire text (``raw``), so `sipfsm check` can read a simulator trace as it reads a
capture (see docs/checker.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from sipfsm.values.message import Message, Request, to_wire

RecordKind = Literal[
    "send",  # an element put a message on a link (src -> dst)
    "deliver",  # the message arrived at dst
    "lost",  # the network dropped it (loss probability or a named drop rule)
    "duplicate",  # the network put an extra copy on the link; it arrives as its own deliver
    "timer",  # a timer fired at an element (machine, tx, timer)
    "state",  # a machine changed state (machine, tx, state_before, state_after)
    "tu",  # the transaction user did something or was told something (text)
    "outcome",  # a declared outcome happened (code, rfc, text)
    "discard",  # an element discarded a message the model has no arrow for (text)
    "violation",  # an invariant was broken (rule, rfc, text)
]


@dataclass(frozen=True, slots=True)
class MessageInfo:
    kind: Literal["request", "response"]
    method: str  # for a response: its CSeq method
    status: int | None
    summary: str  # "INVITE (CSeq 1)" / "180 Ringing (INVITE)"
    call_id: str
    cseq: int
    branch: str
    raw: str

    @classmethod
    def of(cls, message: Message, transport: str = "udp") -> MessageInfo:
        """The record form of ``message``; its wire text names ``transport`` in the Via
        (RFC 3261 §18.1.1, §20.42)."""
        is_request = isinstance(message, Request)
        return cls(
            kind="request" if is_request else "response",
            method=message.cseq_method,
            status=None if isinstance(message, Request) else message.status,
            summary=message.summary(),
            call_id=message.call_id,
            cseq=message.cseq,
            branch=message.branch,
            raw=to_wire(message, transport=transport.upper()),
        )

    @property
    def label(self) -> str:
        """The arrow label of a ladder: "INVITE", "180 Ringing", "200 OK (BYE)"."""
        if self.kind == "request":
            return self.method
        text = self.summary.split(" (")[0]
        return text if self.method == "INVITE" else f"{text} ({self.method})"


@dataclass(frozen=True, slots=True)
class TraceRecord:
    t: float
    seq: int
    kind: RecordKind
    element: str
    src: str = ""
    dst: str = ""
    message: MessageInfo | None = None
    machine: str = ""
    tx: str = ""
    state_before: str = ""
    state_after: str = ""
    timer: str = ""
    retransmission: bool = False
    code: int | None = None
    rfc: str = ""
    text: str = ""
    actions: tuple[str, ...] = field(default=())
    #: for deliver, lost and duplicate records: the ``seq`` of the send they belong to
    ref: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "t": round(self.t, 6),
            "seq": self.seq,
            "kind": self.kind,
            "element": self.element,
        }
        for name in (
            "src",
            "dst",
            "machine",
            "tx",
            "state_before",
            "state_after",
            "timer",
            "rfc",
            "text",
        ):
            value = getattr(self, name)
            if value:
                data[name] = value
        if self.retransmission:
            data["retransmission"] = True
        if self.code is not None:
            data["code"] = self.code
        if self.ref is not None:
            data["ref"] = self.ref
        if self.actions:
            data["actions"] = list(self.actions)
        if self.message is not None:
            m = self.message
            data["message"] = {
                "kind": m.kind,
                "method": m.method,
                "status": m.status,
                "summary": m.summary,
                "call_id": m.call_id,
                "cseq": m.cseq,
                "branch": m.branch,
            }
            data["raw"] = m.raw
        return data

    def to_line(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, sort_keys=False)
