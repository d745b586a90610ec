"""What a check reports: its transactions, dialogs and deviations (`CheckReport`, with
``to_json()`` and ``to_text()``), and `TraceError` for a trace that cannot be checked as
asked. Reexported by `sipfsm.check.checker`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sipfsm.check.capture import shown
from sipfsm.check.rules import Deviation
from sipfsm.values.errors import SipFsmError

# -- report ------------------------------------------------------------------------------------


@dataclass(slots=True)
class TransactionReport:
    id: str
    endpoint: str
    role: str
    machine: str
    method: str
    key: str
    messages: list[int]
    path: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class DialogReport:
    """One instance of the dialog machine: ``path`` is its states (the first is
    ``preparative``), ``role`` caller or callee (RFC 5407 §2 Figures 1 and 2)."""

    id: str
    endpoint: str
    role: str
    call_id: str
    local_tag: str
    remote_tag: str
    messages: list[int]
    path: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class CheckReport:
    """What `check_files` found. ``to_json()`` has the shape of issue 5; the counts
    add up: ``messages == parsed + unparseable`` and every parsed message is in a
    transaction (or, for the ACK of a 2xx, a dialog) or in ``unmatched``."""

    profile: str
    files: list[dict[str, Any]] = field(default_factory=list)
    messages: int = 0
    parsed: int = 0
    unparseable: list[dict[str, Any]] = field(default_factory=list)
    #: messages whose time is earlier than that of a message before them in their file
    #: (the replay puts them in time order; their numbers stay their places in the file)
    out_of_order: int = 0
    #: the first `sipfsm.check.capture.MAX_LISTED` of them in each file
    out_of_order_messages: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[TransactionReport] = field(default_factory=list)
    dialogs: list[DialogReport] = field(default_factory=list)
    violations: list[Deviation] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        """0 conforming, 1 deviations (or unparseable messages), 2 nothing to check."""
        if self.parsed == 0:
            return 2
        return 1 if self.violations or self.unparseable else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "parsed": self.parsed,
            "unparseable": len(self.unparseable),
            "out_of_order": self.out_of_order,
            "profile": self.profile,
            "files": self.files,
            "transactions": [t.to_json() for t in self.transactions],
            "dialogs": [d.to_json() for d in self.dialogs],
            "violations": [v.to_json() for v in self.violations],
            "unmatched": self.unmatched,
            "unparseable_messages": self.unparseable,
            "out_of_order_messages": self.out_of_order_messages,
        }

    def to_text(self) -> str:
        lines = [
            f"{self.messages} messages: {self.parsed} parsed, {len(self.unparseable)} "
            f"unparseable, {len(self.unmatched)} unmatched; {len(self.transactions)} "
            f"transactions, {len(self.dialogs)} dialogs (profile {self.profile})"
        ]
        for f in self.files:
            lines.append(
                f"  {shown(f['path'])} ({f['format']}): messages {f['first']}-{f['last']}, "
                f"endpoints {', '.join(map(shown, f['endpoints'])) or '-'}"
            )
            if f["out_of_order"]:
                lines.append(
                    f"  {f['out_of_order']} out of time order in {shown(f['path'])}, replayed "
                    "in time order (numbered in file order)"
                )
        for o in self.out_of_order_messages:
            which = f"message {o['message']}" if o["message"] else "record"
            lines.append(
                f"  {which} out of time order ({o['where']}): at {o['time']} s, after "
                f"{o['after']} s"
            )
        for t in self.transactions:
            lines.append(
                f"  {t.id} {t.endpoint} {t.machine} {t.method} "
                f"msgs {','.join(map(str, t.messages))}: {' > '.join(t.path)}"
            )
        for d in self.dialogs:
            lines.append(
                f"  {d.id} {d.endpoint} {d.role} dialog {shown(d.call_id)} "
                f"({shown(d.local_tag)}/{shown(d.remote_tag)}): {' > '.join(d.path)}"
            )
        # (what comes from a trace is shown escaped when it is not printable: each entry
        # stays on its line, and no terminal escape gets through)
        for u in self.unparseable:
            lines.append(
                f"  message {u['message']} unparseable ({u['where']}): {shown(u['reason'])}"
            )
        for u in self.unmatched:
            lines.append(f"  message {u['message']} unmatched: {u['reason']}")
        if self.violations:
            lines.append(f"{len(self.violations)} deviation(s):")
            for v in self.violations:
                lines.append(f"  message {v.message} [{v.rule}] {v.rfc}: {shown(v.text)}")
        else:
            lines.append("no deviation")
        return "\n".join(lines)


class TraceError(SipFsmError):
    """A trace that cannot be checked as asked (for example ``--as`` names no endpoint)."""

    def __init__(self, path: Path | str, what: str) -> None:
        super().__init__(f"{shown(path)}: {what}")
