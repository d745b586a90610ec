"""The conformance checker: replay a SIP trace through the model and report every deviation.

For each endpoint (or the one named with ``--as``) every message it sent or received is
matched to a transaction (`sipfsm.matching`) and fed to that transaction's machine
(`sipfsm.model.engine`): what the endpoint sent is a TU event or a retransmission, what
it received is a network event, and message times drive the timers -- a timer fires
when the trace has passed its deadline (plus the tolerance). The machine decides:

* an event it has no arrow for (`ProtocolError`) is a deviation, reported with the
  machine's own message as its rule;
* a message the endpoint sent that the machine would not have sent (a second final
  response, a CANCEL held back in Calling) is a deviation;
* a message the machine asks for that the endpoint never sent (the ACK of a non-2xx
  final response, a retransmission at Timer A, E or G) is a deviation; the expected
  retransmission times are those of the machine's own `StartTimer` actions.

Rules that need more than one transaction (481, 491, a 2xx after its ACK) use the dialog
state of the endpoint (`_DialogTracker`), and rules on a single message (487 to a CANCEL,
the mandatory header fields of a 4xx from `sipfsm.catalogue`) are checked once per
message. `RULES` lists them all with their sections; docs/checker.md explains them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sipfsm import catalogue, model
from sipfsm.capture import Record, Trace, read
from sipfsm.decl import PROFILES
from sipfsm.errors import ProtocolError, SipFsmError, UnknownName
from sipfsm.events import (
    Event,
    RequestReceived,
    ResponseReceived,
    SendMessage,
    StartTimer,
    StopTimer,
    TimerFired,
    ToTU,
    TUCancel,
    TURequest,
    TUResponse,
)
from sipfsm.matching import (
    DialogId,
    Matcher,
    TransactionKey,
    dialog_id,
    machine_for,
    normalize_endpoint,
    transaction_key,
)
from sipfsm.message import Message, Request, Response
from sipfsm.runtime import Engine, Instance, TableMachine
from sipfsm.timers import TIMERS, Timing
from sipfsm.wire import WireError, parse

# -- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    rfc: str
    summary: str


RULES: Final[dict[str, Rule]] = {
    r.name: r
    for r in (
        Rule(
            "487-to-cancel",
            "RFC 3261 §21.4.25",
            "a 487 answers the request a CANCEL terminated, never the CANCEL itself",
        ),
        Rule(
            "491-nothing-pending",
            "RFC 3261 §14.2",
            "491 only to a re-INVITE (or offer) that arrived while one of ours was pending",
        ),
        Rule(
            "481-live",
            "RFC 3261 §9.2, §12.2.2",
            "481 to a request that matched a live dialog or transaction",
        ),
        Rule(
            "response-after-end",
            "RFC 3261 §17.2.1, §17.2.2",
            "a response sent after its server transaction ended",
        ),
        Rule(
            "second-final-non-invite",
            "RFC 3261 §17.2.2",
            "a second final response to the same non-INVITE request",
        ),
        Rule("no-ack", "RFC 3261 §17.1.1.3", "no ACK for a non-2xx final response to an INVITE"),
        Rule(
            "2xx-after-ack",
            "RFC 3261 §13.3.1.4",
            "a 2xx to an INVITE retransmitted after its ACK arrived",
        ),
        Rule(
            "retransmission-schedule",
            "RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1",
            "retransmissions off the T1-to-T2 schedule of Timers A, E and G",
        ),
        Rule(
            "no-response-retransmission",
            "RFC 3261 §17.2.1, §17.2.2",
            "a retransmitted request not answered with the last response again",
        ),
        Rule(
            "cancel-before-provisional",
            "RFC 3261 §9.1",
            "a CANCEL sent before any provisional response arrived",
        ),
        Rule(
            "4xx-missing-header",
            "RFC 3261 §21.4",
            "a 4xx without the header fields its code requires (sipfsm.catalogue)",
        ),
        Rule("408-to-non-invite", "RFC 4320 §4.2", "a 408 sent to a non-INVITE request"),
        Rule(
            "provisional-to-non-invite",
            "RFC 4320 §4.1",
            "a provisional other than 100 sent to a non-INVITE request",
        ),
        Rule(
            "protocol-error",
            "RFC 3261 §17",
            "an event the transaction machine has no arrow for (the rule is the "
            "machine's own message)",
        ),
    )
}

#: Guards of sipfsm.transaction whose failure is a named rule here.
_GUARD_RULES: Final = {
    "no_487_to_cancel": "487-to-cancel",
    "no_408": "408-to-non-invite",
    "only_100": "provisional-to-non-invite",
}

#: The retransmission timer of each machine (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1).
_RETRANSMIT: Final = {"ict": "A", "nict": "E", "ist": "G"}

#: Default tolerance: a timer is on time within max(ABS, REL x its interval) of its
#: deadline; an ACK or a response resent on a retransmitted request must follow within ABS.
TOLERANCE_ABS: Final = 0.1
TOLERANCE_REL: Final = 0.1


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    rfc: str
    message: int
    code: int | None
    text: str
    endpoint: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "rfc": self.rfc,
            "message": self.message,
            "code": self.code,
            "text": self.text,
            "endpoint": self.endpoint,
        }


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
        return {
            "id": self.id,
            "endpoint": self.endpoint,
            "role": self.role,
            "machine": self.machine,
            "method": self.method,
            "key": self.key,
            "messages": self.messages,
            "path": self.path,
        }


@dataclass(slots=True)
class DialogReport:
    id: str
    endpoint: str
    call_id: str
    local_tag: str
    remote_tag: str
    messages: list[int]
    path: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "endpoint": self.endpoint,
            "call_id": self.call_id,
            "local_tag": self.local_tag,
            "remote_tag": self.remote_tag,
            "messages": self.messages,
            "path": self.path,
        }


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
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[TransactionReport] = field(default_factory=list)
    dialogs: list[DialogReport] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

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
            "profile": self.profile,
            "files": self.files,
            "transactions": [t.to_json() for t in self.transactions],
            "dialogs": [d.to_json() for d in self.dialogs],
            "violations": [v.to_json() for v in self.violations],
            "unmatched": self.unmatched,
            "unparseable_messages": self.unparseable,
        }

    def to_text(self) -> str:
        lines = [
            f"{self.messages} messages: {self.parsed} parsed, {len(self.unparseable)} "
            f"unparseable, {len(self.unmatched)} unmatched; {len(self.transactions)} "
            f"transactions, {len(self.dialogs)} dialogs (profile {self.profile})"
        ]
        for f in self.files:
            lines.append(
                f"  {f['path']} ({f['format']}): messages {f['first']}-{f['last']}, "
                f"endpoints {', '.join(f['endpoints']) or '-'}"
            )
        for t in self.transactions:
            lines.append(
                f"  {t.id} {t.endpoint} {t.machine} {t.method} "
                f"msgs {','.join(map(str, t.messages))}: {' > '.join(t.path)}"
            )
        for d in self.dialogs:
            lines.append(
                f"  {d.id} {d.endpoint} dialog {d.call_id} "
                f"({d.local_tag}/{d.remote_tag}): {' > '.join(d.path)}"
            )
        for u in self.unparseable:
            lines.append(f"  message {u['message']} unparseable ({u['where']}): {u['reason']}")
        for u in self.unmatched:
            lines.append(f"  message {u['message']} unmatched: {u['reason']}")
        if self.violations:
            lines.append(f"{len(self.violations)} deviation(s):")
            for v in self.violations:
                lines.append(f"  message {v.message} [{v.rule}] {v.rfc}: {v.text}")
        else:
            lines.append("no deviation")
        return "\n".join(lines)


# -- replay state --------------------------------------------------------------------------------


class _Tx:
    """One transaction seen from one endpoint."""

    __slots__ = (
        "acked",
        "cancel_target",
        "deadlines",
        "engine",
        "expects",
        "final_index",
        "glare",
        "id",
        "inst",
        "key",
        "last_index",
        "last_sent",
        "machine",
        "messages",
        "method",
        "path",
        "reported",
        "request",
        "role",
        "side",
        "start",
    )

    def __init__(
        self,
        side: _Side,
        tid: str,
        machine: str,
        engine: Engine,
        request: Request,
        key: TransactionKey,
    ) -> None:
        self.side = side
        self.id = tid
        self.machine = machine
        self.role = "client" if machine in ("ict", "nict") else "server"
        self.engine = engine
        self.inst: Instance = Instance()
        self.request = request
        self.method = request.method
        self.key = key
        self.messages: list[int] = []
        self.path: list[str] = []
        self.deadlines: dict[str, tuple[float, float]] = {}
        self.expects: list[tuple[str, float, float, Message, int]] = []
        self.last_sent: Message | None = None
        self.reported: set[str] = set()
        self.cancel_target: _Tx | None = None
        self.glare = False
        self.acked = False
        self.final_index = 0
        self.last_index = 0
        self.start = 0.0

    @property
    def ended(self) -> bool:
        return self.inst.state == "terminated"


class _Dialog:
    __slots__ = ("acked", "id", "messages", "path", "state")

    def __init__(self, did: DialogId, label: str) -> None:
        self.id = did
        self.messages: list[int] = []
        self.path: list[str] = []
        self.state = ""
        self.acked: set[int] = set()


class _Side:
    """Everything one endpoint has: its transactions (client and server) and dialogs."""

    __slots__ = ("client", "dialogs", "invites", "name", "server", "txs")

    def __init__(self, name: str) -> None:
        self.name = name
        self.client: Matcher[_Tx] = Matcher()
        self.server: Matcher[_Tx] = Matcher()
        self.dialogs: dict[DialogId, _Dialog] = {}
        self.txs: list[_Tx] = []
        #: INVITE transactions by (role, Call-ID, CSeq number, From tag), for 2xx ACKs.
        self.invites: dict[tuple[str, str, int, str], _Tx] = {}


class _Item:
    __slots__ = ("error", "index", "message", "record")

    def __init__(self, index: int, record: Record, message: Message | None, error: str) -> None:
        self.index = index
        self.record = record
        self.message = message
        self.error = error


# -- the checker ---------------------------------------------------------------------------------


class Checker:
    """Replays traces; one instance per `check_files` call."""

    def __init__(
        self,
        profile: str = "rfc6026",
        t1: float = 0.5,
        t2: float = 4.0,
        t4: float = 5.0,
        tolerance: float = TOLERANCE_ABS,
        tolerance_rel: float = TOLERANCE_REL,
    ) -> None:
        if profile not in PROFILES:
            raise UnknownName("profile", profile, PROFILES)
        self.profile = profile
        self.timings = {t: Timing(t1, t2, t4, t) for t in ("udp", "tcp")}
        self.tol_abs = tolerance
        self.tol_rel = tolerance_rel
        self.engines: dict[tuple[str, str], Engine] = {}
        self.report = CheckReport(profile)
        self._seen: set[tuple[str, int]] = set()
        self._seen_messages: set[tuple[str, TransactionKey, int, str]] = set()
        self._times: dict[int, float] = {}
        self._codes: dict[int, int] = {}
        self._matched: set[int] = set()
        self._tx_count = 0
        self._dialog_count = 0

    # -- entry points ---------------------------------------------------------------------------

    def check(self, traces: Iterable[Trace], as_addr: str | None = None) -> CheckReport:
        for trace in traces:
            self.check_trace(trace, as_addr)
        self.report.violations.sort(key=lambda v: (v.message, v.rule))
        return self.report

    def check_trace(self, trace: Trace, as_addr: str | None = None) -> None:
        first = self.report.messages + 1
        items: list[_Item] = []
        for record in trace.records:
            self.report.messages += 1
            index = self.report.messages
            if record.error:
                items.append(_Item(index, record, None, record.error))
                continue
            try:
                framed = record.transport == "tcp" and trace.format in ("pcap", "pcapng")
                items.append(_Item(index, record, parse(record.raw, stream=framed), ""))
            except WireError as exc:
                items.append(_Item(index, record, None, exc.reason))
        endpoints = self._endpoints(trace)
        if as_addr is not None:
            wanted = normalize_endpoint(as_addr)
            if wanted not in endpoints:
                raise TraceError(
                    trace.path,
                    f"--as {as_addr} is none of its endpoints: "
                    f"{', '.join(sorted(endpoints)) or 'none'}",
                )
            views = {wanted}
        elif trace.local is not None:
            views = {trace.local}
        else:
            views = set(endpoints)
        sides = {name: _Side(name) for name in sorted(views)}
        for item in items:
            if item.message is None:
                self.report.unparseable.append(
                    {"message": item.index, "where": item.record.where, "reason": item.error}
                )
                continue
            self.report.parsed += 1
            self._message_rules(item, sides)
            src = _endpoint(item.record.src)
            dst = _endpoint(item.record.dst)
            for name, sent in ((src, True), (dst, False)):
                side = sides.get(name)
                if side is not None:
                    self._process(side, item, sent)
        end = max((r.time for r in trace.records), default=0.0)
        for side in sides.values():
            for tx in side.txs:
                self._advance(tx, end)
        for item in items:
            if item.message is not None and item.index not in self._matched:
                self.report.unmatched.append(
                    {"message": item.index, "reason": self._why_unmatched(item, views)}
                )
        for side in sides.values():
            for tx in side.txs:
                self.report.transactions.append(
                    TransactionReport(
                        tx.id,
                        side.name,
                        tx.role,
                        tx.machine,
                        tx.method,
                        tx.key.describe(),
                        tx.messages,
                        tx.path,
                    )
                )
            for dialog in side.dialogs.values():
                self._dialog_count += 1
                self.report.dialogs.append(
                    DialogReport(
                        f"D{self._dialog_count}",
                        side.name,
                        dialog.id.call_id,
                        dialog.id.local_tag,
                        dialog.id.remote_tag,
                        dialog.messages,
                        dialog.path,
                    )
                )
        self.report.files.append(
            {
                "path": str(trace.path),
                "format": trace.format,
                "first": first,
                "last": self.report.messages,
                "endpoints": sorted(views),
            }
        )

    @staticmethod
    def _endpoints(trace: Trace) -> set[str]:
        if trace.local is not None:
            return {trace.local}
        found: set[str] = set()
        for r in trace.records:
            found.add(_endpoint(r.src))
            found.add(_endpoint(r.dst))
        return found

    @staticmethod
    def _why_unmatched(item: _Item, views: set[str]) -> str:
        src = item.record.src if item.record.src == "peer" else normalize_endpoint(item.record.src)
        dst = item.record.dst if item.record.dst == "peer" else normalize_endpoint(item.record.dst)
        if src not in views and dst not in views:
            return f"neither {src} nor {dst} is checked"
        message = item.message
        if isinstance(message, Response):
            return "a response whose request is not in the trace"
        if isinstance(message, Request) and message.method == "ACK":
            return "an ACK whose INVITE is not in the trace"
        return "matched no transaction"

    # -- engines and events ---------------------------------------------------------------------

    def _engine(self, machine: str, transport: str) -> Engine:
        key = (machine, transport)
        found = self.engines.get(key)
        if found is None:
            found = self.engines[key] = model.engine(machine, self.profile, self.timings[transport])
        return found

    def _tol(self, interval: float) -> float:
        return max(self.tol_abs, self.tol_rel * interval)

    def _violate(
        self, rule: str, index: int, text: str, side: str, rfc: str = "", code: int | None = None
    ) -> None:
        if (rule, index) in self._seen:
            return
        self._seen.add((rule, index))
        known = RULES.get(rule)
        self.report.violations.append(
            Violation(rule, rfc or (known.rfc if known else ""), index, code, text, side)
        )

    def _run(
        self, tx: _Tx, event: Event, at: float, index: int, create: bool = False
    ) -> list[Any] | None:
        """Feed one event; apply timer actions; record the state path. A ProtocolError
        becomes a violation (None is returned)."""
        before = tx.inst.state
        try:
            if create:
                actions: list[Any] = tx.engine.start(tx.inst, event)  # type: ignore[attr-defined]
            else:
                actions = tx.engine.handle(tx.inst, event)
        except ProtocolError as exc:
            self._protocol_error(tx, exc, event, index)
            return None
        for action in actions:
            if isinstance(action, StartTimer):
                tx.deadlines[action.name] = (at + action.seconds, action.seconds)
            elif isinstance(action, StopTimer):
                tx.deadlines.pop(action.name, None)
        if tx.inst.state != before:
            tx.path.append(tx.inst.state)
        return actions

    def _protocol_error(self, tx: _Tx, exc: ProtocolError, event: Event, index: int) -> None:
        rule = "protocol-error"
        rfc = (
            tx.engine.decl.state(exc.state).rfc
            if exc.state in tx.engine.decl.state_names
            else tx.engine.decl.rfc
        )
        if isinstance(tx.engine, TableMachine):
            trig = tx.engine.classifier.classify(event)
            rows = tx.engine.table.get((exc.state, trig or ""), ())
            for row in rows:
                for guard in row.guards:
                    if not guard.check(tx.inst, event):
                        rfc = guard.rfc
                        rule = _GUARD_RULES.get(guard.name, rule)
        code = getattr(getattr(event, "message", None), "status", None)
        text = f"{tx.side.name}: {exc}"
        self._violate(
            rule if rule != "protocol-error" else str(exc), index, text, tx.side.name, rfc, code
        )

    def _fire(self, tx: _Tx, name: str, at: float) -> None:
        tx.deadlines.pop(name, None)
        actions = self._run(tx, TimerFired(name), at, tx.last_index)
        if not actions:
            return
        sends = [a.message for a in actions if isinstance(a, SendMessage)]
        if name == _RETRANSMIT.get(tx.machine) and sends:
            self._once(
                tx,
                "retransmission-schedule",
                tx.last_index,
                f"{tx.side.name} did not retransmit when Timer {name} fired at "
                f"+{at - tx.start:.3f} s ({tx.machine} {tx.inst.state})",
                TIMERS[name].rfc,
            )
        elif name == "Trying":
            for message in sends:  # not enforced: the TU may have known it answers in time
                tx.expects.append(("100", at, at + self.tol_abs, message, 0))
        if any(isinstance(a, ToTU) and a.what == "timeout" for a in actions) and name == "H":
            self._once(
                tx,
                "no-ack",
                tx.final_index,
                f"{tx.side.name} never got the ACK of its final response (Timer H fired)",
                "RFC 3261 §17.2.1",
            )

    def _once(self, tx: _Tx, rule: str, index: int, text: str, rfc: str = "") -> None:
        if rule in tx.reported:
            return
        tx.reported.add(rule)
        self._violate(rule, index, text, tx.side.name, rfc, self._codes.get(index))

    def _advance(self, tx: _Tx, now: float, hold: str = "") -> None:
        """Fire the timers the trace has passed (deadline + tolerance before ``now``) and
        expire what the machine asked for and never saw."""
        while tx.deadlines:
            name, (deadline, interval) = min(tx.deadlines.items(), key=lambda kv: kv[1][0])
            if name == hold or deadline + self._tol(interval) >= now:
                break
            self._fire(tx, name, deadline)
        if tx.expects:
            kept = []
            for expect in tx.expects:
                kind, _due, expiry, _message, index = expect
                if expiry >= now:
                    kept.append(expect)
                elif kind == "ack":
                    self._once(
                        tx,
                        "no-ack",
                        index,
                        f"{tx.side.name} sent no ACK for the {self._codes.get(index)} "
                        "final response",
                    )
                elif kind == "resend":
                    self._once(
                        tx,
                        "no-response-retransmission",
                        index,
                        f"{tx.side.name} did not resend its last response to the "
                        "retransmitted request",
                    )
            tx.expects = kept

    # -- per message ------------------------------------------------------------------------

    def _process(self, side: _Side, item: _Item, sent: bool) -> None:
        message = item.message
        assert message is not None
        self._times[item.index] = item.record.time
        if isinstance(message, Response):
            self._codes[item.index] = message.status
        transport = "tcp" if item.record.transport == "tcp" else "udp"
        if isinstance(message, Request):
            if sent:
                self._sent_request(side, item, message, transport)
            else:
                self._received_request(side, item, message, transport)
        elif sent:
            self._sent_response(side, item, message)
        else:
            self._received_response(side, item, message)

    def _new_tx(self, side: _Side, item: _Item, request: Request, role: str, transport: str) -> _Tx:
        machine = machine_for(request.method, "client" if role == "client" else "server")
        self._tx_count += 1
        key = transaction_key(request)
        tx = _Tx(
            side, f"T{self._tx_count}", machine, self._engine(machine, transport), request, key
        )
        tx.start = item.record.time
        tx.last_index = item.index
        (side.client if role == "client" else side.server).add(request, tx)
        side.txs.append(tx)
        if request.method == "INVITE":
            side.invites[(role, request.call_id, request.cseq, request.from_tag)] = tx
        return tx

    def _attach(self, tx: _Tx, item: _Item) -> None:
        tx.messages.append(item.index)
        self._matched.add(item.index)

    def _settle(self, tx: _Tx, at: float) -> None:
        """Timers of zero duration (D, I, J, K on reliable transports) fire at once."""
        while True:
            due = [n for n, (d, _iv) in tx.deadlines.items() if d <= at]
            if not due:
                return
            self._fire(tx, due[0], at)

    # requests the endpoint sent (client transactions)

    def _sent_request(self, side: _Side, item: _Item, request: Request, transport: str) -> None:
        now = item.record.time
        tx = side.client.find(request)
        if request.method == "ACK":
            self._sent_ack(side, item, request, tx)
            return
        if tx is not None and not tx.ended and tx.method == request.method:
            self._attach(tx, item)
            self._retransmission(tx, item, now)
            return
        tx = self._new_tx(side, item, request, "client", transport)
        self._attach(tx, item)
        tx.last_sent = request
        self._run(tx, TURequest(request), now, item.index, create=True)
        if request.method == "CANCEL":
            target = side.client.find_cancelled(request)
            if target is not None:
                self._advance(target, now)
                state = target.inst.state
                acts = self._run(target, TUCancel(), now, item.index) or []
                asked = any(isinstance(a, ToTU) and a.what == "send_cancel" for a in acts)
                if not asked and state == "calling":
                    self._violate(
                        "cancel-before-provisional",
                        item.index,
                        f"{side.name} sent CANCEL while its INVITE had no "
                        "provisional response (Calling)",
                        side.name,
                    )
        self._settle(tx, now)

    def _sent_ack(self, side: _Side, item: _Item, ack: Request, tx: _Tx | None) -> None:
        now = item.record.time
        if tx is not None:
            self._advance(tx, now)
            self._attach(tx, item)
            tx.expects = [e for e in tx.expects if e[0] != "ack"]
            return
        invite = side.invites.get(("client", ack.call_id, ack.cseq, ack.from_tag))
        if invite is not None:  # the ACK of a 2xx: the UAC core's (RFC 3261 §13.2.2.4)
            self._attach(invite, item)
        dialog = side.dialogs.get(dialog_id(ack, "client"))
        if dialog is not None:
            dialog.messages.append(item.index)
            self._matched.add(item.index)

    def _retransmission(self, tx: _Tx, item: _Item, now: float) -> None:
        """The endpoint resent its request (client) or last response (server)."""
        timer = _RETRANSMIT.get(tx.machine, "")
        self._advance(tx, now, hold=timer)
        entry = tx.deadlines.get(timer)
        if entry is None:
            self._once(
                tx,
                "retransmission-schedule",
                item.index,
                f"{tx.side.name} retransmitted although Timer {timer or 'A/E/G'} is "
                f"not running ({tx.machine} {tx.inst.state}, {item.record.transport})",
                TIMERS[timer].rfc if timer else "",
            )
            return
        deadline, interval = entry
        if abs(now - deadline) > self._tol(interval):
            previous = deadline - interval
            self._once(
                tx,
                "retransmission-schedule",
                item.index,
                f"{tx.side.name} retransmitted {now - previous:.3f} s after the "
                f"previous transmission; Timer {timer} says {interval:g} s "
                f"(tolerance {self._tol(interval):.3f} s)",
                TIMERS[timer].rfc,
            )
        self._fire_observed(tx, timer, now)
        tx.last_index = item.index

    def _fire_observed(self, tx: _Tx, timer: str, at: float) -> None:
        tx.deadlines.pop(timer, None)
        self._run(tx, TimerFired(timer), at, tx.messages[-1])

    # requests the endpoint received (server transactions)

    def _received_request(self, side: _Side, item: _Item, request: Request, transport: str) -> None:
        now = item.record.time
        tx = side.server.find(request)
        if request.method == "ACK":
            if tx is None:
                self._received_2xx_ack(side, item, request)
                return
            self._advance(tx, now)
            self._attach(tx, item)
            self._run(tx, RequestReceived(request), now, item.index)
            self._settle(tx, now)
            return
        if tx is not None and not tx.ended:
            self._advance(tx, now)
        if tx is not None and not tx.ended:
            self._attach(tx, item)
            actions = self._run(tx, RequestReceived(request), now, item.index) or []
            for action in actions:
                # only what the endpoint itself sent must be resent (not the machine's
                # own 100 Trying, which the endpoint may have had no need for)
                if isinstance(action, SendMessage) and tx.last_sent is not None:
                    tx.expects.append(
                        ("resend", now, now + self.tol_abs, action.message, item.index)
                    )
            return
        tx = self._new_tx(side, item, request, "server", transport)
        self._attach(tx, item)
        self._run(tx, RequestReceived(request), now, item.index, create=True)
        if request.method == "CANCEL":
            tx.cancel_target = side.server.find_cancelled(request)
            if tx.cancel_target is not None:
                self._advance(tx.cancel_target, now)
        if request.method in ("INVITE", "UPDATE") and request.to_tag:
            tx.glare = self._offer_pending(side, request, now)
        dialog = side.dialogs.get(dialog_id(request, "server")) if request.to_tag else None
        if dialog is not None:
            dialog.messages.append(item.index)

    def _received_2xx_ack(self, side: _Side, item: _Item, ack: Request) -> None:
        now = item.record.time
        invite = side.invites.get(("server", ack.call_id, ack.cseq, ack.from_tag))
        if invite is not None:
            self._advance(invite, now)
            self._attach(invite, item)
            if invite.inst.state == "accepted":
                self._run(invite, RequestReceived(ack), now, item.index)
            invite.acked = True
        dialog = side.dialogs.get(dialog_id(ack, "server"))
        if dialog is not None:
            dialog.messages.append(item.index)
            dialog.acked.add(ack.cseq)
            self._matched.add(item.index)

    def _offer_pending(self, side: _Side, request: Request, now: float) -> bool:
        """RFC 3261 §14.2 / RFC 3311 §5.2: when ``request`` (a re-INVITE or UPDATE)
        arrived, had this endpoint a re-INVITE or UPDATE of its own pending on the dialog?"""
        for tx in reversed(side.txs):
            if tx.role != "client" or tx.method not in ("INVITE", "UPDATE"):
                continue
            mine = tx.request
            if mine.call_id != request.call_id or mine.from_tag != request.to_tag:
                continue
            self._advance(tx, now)
            if tx.inst.state in ("calling", "proceeding", "trying"):
                return True
        return False

    # responses the endpoint sent (server transactions)

    def _sent_response(self, side: _Side, item: _Item, response: Response) -> None:
        now = item.record.time
        tx = side.server.find(response)
        if tx is None:
            return
        self._advance(tx, now)
        self._attach(tx, item)
        invite_2xx = tx.method == "INVITE" and 200 <= response.status < 300
        self._response_rules(side, item, response, tx)
        self._dialog_response(side, item, response, tx, "server")
        if tx.ended:
            if not invite_2xx:
                self._violate(
                    "response-after-end",
                    item.index,
                    f"{side.name} sent {response.status} after its {tx.machine} transaction ended",
                    side.name,
                    code=response.status,
                )
            return
        side.server.note_response(tx.key, response)
        # a resend the machine asked for (the request was retransmitted)
        for expect in tx.expects:
            kind, _due, _expiry, wanted, _index = expect
            if (
                isinstance(wanted, Response)
                and _same_response(wanted, response)
                and (kind in ("resend", "100"))
            ):
                tx.expects.remove(expect)
                return
        last = tx.last_sent
        if (
            isinstance(last, Response)
            and _same_response(last, response)
            and tx.machine == "ist"
            and tx.inst.state == "completed"
        ):
            self._retransmission(tx, item, now)
            return
        if response.status >= 200:
            tx.final_index = item.index
        state = tx.inst.state
        actions = self._run(tx, TUResponse(response), now, item.index)
        if actions is not None:
            if not any(isinstance(a, SendMessage) for a in actions):
                if tx.machine == "nist" and state == "completed":
                    self._violate(
                        "second-final-non-invite",
                        item.index,
                        f"{side.name} sent {response.status} to {tx.method} after "
                        "its final response",
                        side.name,
                        code=response.status,
                    )
                else:
                    self._violate(
                        f"{tx.machine} would not send this",
                        item.index,
                        f"{side.name} sent {response.status} in {tx.machine} state {state}",
                        side.name,
                        tx.engine.decl.rfc,
                        response.status,
                    )
            tx.last_sent = response
            tx.last_index = item.index
        self._settle(tx, now)

    def _response_rules(self, side: _Side, item: _Item, response: Response, tx: _Tx) -> None:
        """Rules on a response that need the endpoint's dialogs and transactions; each is
        reported once per transaction (a retransmitted response repeats the fault)."""
        status = response.status
        if status == 481:
            target = tx.cancel_target
            if tx.method == "CANCEL" and target is not None and not target.ended:
                self._once(
                    tx,
                    "481-live",
                    item.index,
                    f"{side.name} answered a CANCEL with 481 although it matched the "
                    f"live transaction {target.id} ({target.inst.state})",
                    "RFC 3261 §9.2",
                )
            elif tx.request.to_tag:
                dialog = side.dialogs.get(dialog_id(tx.request, "server"))
                if dialog is not None and dialog.state in ("early", "confirmed"):
                    self._once(
                        tx,
                        "481-live",
                        item.index,
                        f"{side.name} answered {tx.method} with 481 although it "
                        f"matched its {dialog.state} dialog",
                        "RFC 3261 §12.2.2",
                    )
        elif status == 491 and tx.method in ("INVITE", "UPDATE") and not tx.glare:
            self._once(
                tx,
                "491-nothing-pending",
                item.index,
                f"{side.name} answered {tx.method} with 491 but had no re-INVITE or "
                "offer of its own pending on the dialog when it arrived",
            )
        elif 200 <= status < 300 and tx.method == "INVITE":
            dialog = side.dialogs.get(dialog_id(response, "server"))
            if tx.acked or (dialog is not None and tx.request.cseq in dialog.acked):
                self._once(
                    tx,
                    "2xx-after-ack",
                    item.index,
                    f"{side.name} sent the 2xx again after its ACK arrived",
                )

    # responses the endpoint received (client transactions)

    def _received_response(self, side: _Side, item: _Item, response: Response) -> None:
        now = item.record.time
        tx = side.client.find(response)
        if tx is None:
            return
        self._advance(tx, now)
        self._attach(tx, item)
        self._dialog_response(side, item, response, tx, "client")
        if tx.ended:
            return  # dropped (RFC 6026 §7.2); the sender answers for it
        if response.status >= 200:
            tx.final_index = item.index
        actions = self._run(tx, ResponseReceived(response), now, item.index) or []
        for action in actions:
            if isinstance(action, SendMessage) and isinstance(action.message, Request):
                tx.expects.append(("ack", now, now + self.tol_abs, response, item.index))
        self._settle(tx, now)

    # dialogs (a minimal tracker, see _DialogTracker in docs/checker.md)

    def _dialog_response(
        self, side: _Side, item: _Item, response: Response, tx: _Tx, role: str
    ) -> None:
        did = dialog_id(response, "client" if role == "client" else "server")
        dialog = side.dialogs.get(did)
        status = response.status
        if tx.method == "INVITE" and response.to_tag and 101 <= status < 300:
            if dialog is None:
                dialog = side.dialogs[did] = _Dialog(did, "")
                dialog.messages.append(tx.messages[0])
                dialog.path.append("early" if status < 200 else "confirmed")
                dialog.state = dialog.path[-1]
            elif status >= 200 and dialog.state == "early":
                dialog.state = "confirmed"
                dialog.path.append("confirmed")
        if dialog is None:
            return
        dialog.messages.append(item.index)
        if status < 200:
            return
        ends = (
            (tx.method == "BYE")
            or (tx.method == "INVITE" and status >= 300 and dialog.state == "early")
            or (status in (481, 408) and bool(tx.request.to_tag))
        )
        if ends and dialog.state != "terminated":
            dialog.state = "terminated"
            dialog.path.append("terminated")

    # rules on single messages

    def _message_rules(self, item: _Item, sides: dict[str, _Side]) -> None:
        message = item.message
        if not isinstance(message, Response):
            return
        sender = (
            item.record.src if item.record.src == "peer" else normalize_endpoint(item.record.src)
        )
        receiver = (
            item.record.dst if item.record.dst == "peer" else normalize_endpoint(item.record.dst)
        )
        if sender not in sides and receiver not in sides:
            return
        status = message.status
        if status < 400:
            return
        # a retransmitted response repeats the fault: report it once
        once = (transaction_key(message), status, message.to_tag)
        if (
            status == 487
            and message.method == "CANCEL"
            and (("487-to-cancel", *once) not in self._seen_messages)
        ):
            self._seen_messages.add(("487-to-cancel", *once))
            self._violate(
                "487-to-cancel",
                item.index,
                f"{sender} answered a CANCEL with 487",
                sender,
                code=status,
            )
        if status <= 499:
            missing = catalogue.missing_headers(status, (name for name, _v in message.headers))
            if missing and ("4xx-missing-header", *once) not in self._seen_messages:
                self._seen_messages.add(("4xx-missing-header", *once))
                entry = catalogue.effective(status)
                self._violate(
                    "4xx-missing-header",
                    item.index,
                    f"{sender} sent {status} without {', '.join(missing)}",
                    sender,
                    entry.rfc,
                    status,
                )


_ENDPOINTS: dict[str, str] = {"peer": "peer"}


def _endpoint(text: str) -> str:
    """`normalize_endpoint`, memoised (a trace names few endpoints many times)."""
    found = _ENDPOINTS.get(text)
    if found is None:
        found = normalize_endpoint(text)
        if len(_ENDPOINTS) < 10_000:
            _ENDPOINTS[text] = found
    return found


def _same_response(a: Message, b: Response) -> bool:
    return isinstance(a, Response) and a.status == b.status and a.to_tag == b.to_tag


class TraceError(SipFsmError):
    """A trace that cannot be checked as asked (for example ``--as`` names no endpoint)."""

    def __init__(self, path: Path | str, what: str) -> None:
        super().__init__(f"{path}: {what}")


def check_files(
    paths: Sequence[Path | str],
    fmt: str = "auto",
    as_addr: str | None = None,
    profile: str = "rfc6026",
    **options: float,
) -> CheckReport:
    """Read and check trace files; see the module docstring. Raises a `SipFsmError`
    (naming the file and position) for an unusable file. ``options``: ``t1``, ``t2``,
    ``t4`` (seconds) and ``tolerance`` / ``tolerance_rel`` for the timer comparisons."""
    checker = Checker(profile, **options)
    # The replay keeps many small objects alive until the end; the cyclic collector would
    # rescan them again and again (measured: a third of the time on 100,000 messages).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return checker.check((read(p, fmt) for p in paths), as_addr)
    finally:
        if collecting:
            gc.enable()


__all__ = ["RULES", "CheckReport", "Checker", "Rule", "TraceError", "Violation", "check_files"]
