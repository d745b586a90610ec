"""The conformance checker: replay a SIP trace through the model and report every deviation.

For each endpoint (or the one named with ``--as``) every message it sent or received is
matched to a transaction (`sipfsm.elements.matching`) and fed to that transaction's machine
(`sipfsm.engine.model.engine`), and what the transaction layer passes between the network and
its user is fed to the endpoint's dialogs (`sipfsm.elements.dialogs.DialogSet` over the ``dialog``
machine). What the endpoint sent is a TU event or a retransmission, what it received is a
network event, and message times drive the timers -- a timer fires when the trace has
passed its deadline (plus the tolerance). The machines decide:

* an event a machine has no arrow for (`ProtocolError`) is a deviation, reported with the
  machine's own message as its rule;
* a message the endpoint sent that the transaction machine would not have sent (a second
  final response, a CANCEL held back in Calling) is a deviation;
* a message the transaction machine asks for that the endpoint never sent (the ACK of a
  non-2xx final response, a retransmission at Timer A, E or G) is a deviation; the
  expected retransmission times are those of the machine's own `StartTimer` actions;
* the answer the dialog machine (or, for a CANCEL, `sipfsm.elements.core.handle_cancel`) gives a
  request it received -- a `Respond` action, or none when the request is accepted -- is
  compared with the endpoint's final response: a 481 to a request the model accepts, a 491
  the model does not give, a missing 491, a 2xx to a request the model refuses.

* the ACK a 2xx needs (the dialog machine asks the UAC core for it, ``ToTU("send_ack")``)
  must follow it; the retry after a 491 must come within the window of the dialog's glare
  timer (RFC 3261 §14.1).

Each endpoint is replayed on its own clock: a capture or a SIPp log shows a message once,
to its sender and its receiver at one time; a simulator trace (``sipfsm simulate``) shows
it to its sender when it was sent and to its receiver at each delivery
(`sipfsm.check.capture.Trace.observations`), so messages that cross in flight are replayed as
each endpoint saw them.

Rules on a single message (487 to a CANCEL, the mandatory header fields of a 4xx from
`sipfsm.values.catalogue`) are checked once per message. `CHECK_RULES` lists them all with their
sections; docs/checker.md explains them.

Which events a dialog sees follows RFC 3261's layering (as `sipfsm.sim.ua` does): a
request the endpoint sent for the first time (`MessageSent`), a response it sent through a
server transaction for the first time, a request it received that created a server
transaction or an ACK of a 2xx (`RequestReceived`), a response its client transaction
passed up (`ResponseReceived`), and the end of each of the dialog's transactions
(`TransactionEnded`). Retransmissions are the transactions' business and never reach
the dialog; neither do a CANCEL's responses nor its transaction's end (RFC 5407 Appendix
C: a CANCEL is the UA core's, matched to transactions by RFC 3261 §9.2).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, Final, cast

from sipfsm.check.capture import MAX_FILE_SIZE, SENDER, Record, Trace, read, shown
from sipfsm.decl.instance import Instance
from sipfsm.decl.language import PROFILES, Guard, MachineDecl
from sipfsm.decl.timers import TIMERS, Timing
from sipfsm.elements import core
from sipfsm.elements.dialogs import DialogEngine, DialogSet, Routed
from sipfsm.elements.matching import (
    Matcher,
    TransactionKey,
    machine_for,
    normalize_endpoint,
    transaction_key,
)
from sipfsm.engine import model
from sipfsm.engine.runtime import Engine, TableMachine, handle_event, start_instance
from sipfsm.machines.dialog import GLARE_OTHER_STEPS, GLARE_OWNER_STEPS, DialogInstance
from sipfsm.values import catalogue
from sipfsm.values.errors import ProtocolError, SipFsmError, UnknownName
from sipfsm.values.events import (
    Event,
    MessageSent,
    RequestReceived,
    Respond,
    ResponseReceived,
    SendMessage,
    StartTimer,
    StopTimer,
    ToTU,
    TransactionEnded,
    TUCancel,
    TURequest,
    TUResponse,
    timer_fired,
)
from sipfsm.values.message import Message, Request, Response
from sipfsm.values.wire import WireError, parse

# -- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    rfc: str
    summary: str


CHECK_RULES: Final[dict[str, Rule]] = {
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
            "491 to a request the dialog machine does not answer 491: no re-INVITE or "
            "offer of ours was pending when it arrived",
        ),
        Rule(
            "no-491",
            "RFC 3261 §14.2, RFC 3311 §5.2, RFC 5407 §3.1.5",
            "no 491 to a re-INVITE (or offer) that arrived while one of ours was pending "
            "(the dialog machine answers 491)",
        ),
        Rule(
            "481-live",
            "RFC 3261 §9.2, §12.2.2",
            "481 to a request that matched a live dialog (the dialog machine accepts it) "
            "or a live transaction (a CANCEL, `sipfsm.elements.core.handle_cancel`)",
        ),
        Rule(
            "dialog-answer",
            "RFC 3261 §12.2.2, §14.2, §15.1.2; RFC 5407 §3.2.2",
            "a 2xx to a request the dialog machine refuses (481 in Mortal, 500 to a lower "
            "CSeq or while an earlier INVITE is unanswered, 487 to a request a BYE ended)",
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
            "no-ack-2xx",
            "RFC 3261 §13.2.2.4",
            "no ACK for a 2xx to an INVITE (the dialog machine asks for it, ToTU send_ack); "
            "seen from the UAS alone: Timer L fired without it (RFC 6026 §8.7, §13.3.1.4)",
        ),
        Rule(
            "glare-retry-time",
            "RFC 3261 §14.1",
            "a re-INVITE (RFC 3311 §5.3: an UPDATE) refused with 491 retried outside the "
            "window of the glare timer: 2.1-4 s for the owner of the Call-ID, 0-2 s otherwise",
        ),
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
            "a 4xx without the header fields its code requires (sipfsm.values.catalogue)",
        ),
        Rule("408-to-non-invite", "RFC 4320 §4.2", "a 408 sent to a non-INVITE request"),
        Rule(
            "provisional-to-non-invite",
            "RFC 4320 §4.1",
            "a provisional other than 100 sent to a non-INVITE request",
        ),
        Rule(
            "protocol-error",
            "RFC 3261 §17, RFC 5407 §2",
            "an event a transaction or dialog machine has no arrow for (the rule is the "
            "machine's own message, the section that of the state)",
        ),
    )
}

#: Guards of sipfsm.machines.transaction whose failure is a named rule here.
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
#: The tolerance for a simulator trace (no relative part): its endpoints' timers run on
#: the trace's own clock and fire at their deadlines exactly; what remains is the rounding
#: of its times to the microsecond.
TOLERANCE_SIM: Final = 2e-6

#: A server transaction's request as the model judged it: not shown to a dialog
#: (UNKNOWN), accepted by its dialog (ACCEPTED), or answered with a status code.
UNKNOWN: Final = 0
ACCEPTED: Final = -1

_INF: Final = float("inf")
_TIME: Final = attrgetter("time")
_SRC: Final = attrgetter("src")
_DST: Final = attrgetter("dst")
_MESSAGE: Final = itemgetter("message")
#: Messages parsed before they are replayed (`Checker._replay_captured`).
_BATCH: Final = 512


@dataclass(frozen=True, slots=True)
class Deviation:
    rule: str
    rfc: str
    message: int
    code: int | None
    text: str
    endpoint: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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


# -- replay state --------------------------------------------------------------------------------


class _Tx(Instance):
    """One transaction seen from one endpoint: the machine's own instance (`Instance`:
    state, running timers, request ...) with what the checker keeps beside it, so the
    replay makes one object per transaction and reads its state without a hop."""

    def __init__(
        self,
        side: _Side,
        call: _Call,
        number: int,
        machine: str,
        engine: Engine,
        request: Request,
        key: TransactionKey,
        role: str,
    ) -> None:
        Instance.__init__(self)
        self.side = side
        self.call = call
        #: ``T<number>`` in the report
        self.number = number
        self.machine = machine
        self.role = role
        self.engine = engine
        self.request = request
        self.method = request.method
        self.cseq = request.cseq
        self.key = key
        #: the other end of the transaction (whose duties some rules are about)
        self.peer = ""
        self.messages: list[int] = []
        self.path: list[str] = []
        self.deadlines: dict[str, tuple[float, float]] = {}
        self.expects: list[tuple[str, float, Message, int]] = []
        self.last_sent: Message | None = None
        #: the rules already reported for it (None: none yet)
        self.reported: set[str] | None = None
        self.cancel_target: _Tx | None = None
        self.dset: _DSet | None = None
        #: what was shown to the dialog: the first ACK (client), responses (server) as
        #: (status, To tag) -- a few, so a tuple
        self.fed: tuple[tuple[int, str], ...] = ()
        self.acked = False
        self.final_index = 0
        self.last_index = 0
        self.start = 0.0
        self.verdict = UNKNOWN
        self.verdict_rfc = ""
        self.verdict_note = ""

    @property
    def id(self) -> str:
        return f"T{self.number}"

    def report_once(self, rule: str) -> bool:
        """Whether ``rule`` is reported for the first time for this transaction (a
        retransmission repeats a fault: it is reported once)."""
        reported = self.reported
        if reported is None:
            self.reported = {rule}
            return True
        if rule in reported:
            return False
        reported.add(rule)
        return True


class _DialogRec:
    """What the report says of one dialog instance."""

    def __init__(self, inst: DialogInstance) -> None:
        self.inst = inst
        self.messages: list[int] = []
        self.path = ["preparative"] if inst.state != "preparative" else []
        self.path.append(inst.state)


class _DSet:
    """One `DialogSet` of an endpoint (the dialogs of one initial INVITE) and the report
    records of its instances, by identity (the set re-keys an instance when it learns its
    remote tag; the record holds the instance, so its id stays unique)."""

    def __init__(self, side: str, call: _Call, dset: DialogSet) -> None:
        self.side = side
        self.call = call
        self.set = dset
        self.recs: dict[int, _DialogRec] = {}
        self.last_index = 0
        #: remote tag -> the §14.1 retry the dialog waits for (its glare timer runs)
        self.glare: dict[str, _Glare] = {}


class _Glare:
    """A 491 to a re-INVITE or UPDATE of the endpoint: when it came and what it refused."""

    def __init__(self, at: float, refused: Request, owner: bool, index: int) -> None:
        self.at = at
        self.refused = refused
        self.owner = owner
        self.index = index


class _Call:
    """One Call-ID at one endpoint: its transactions still running, its dialog sets, and
    the timers of both. Events of one call are replayed in time order (its transactions'
    timers fire before a later message of the call reaches its dialogs); calls are
    independent of each other."""

    def __init__(self) -> None:
        self.live: list[_Tx] = []
        self.dsets: list[_DSet] = []
        #: dialog timers: (dialog set, remote tag, timer) -> deadline
        self.timers: dict[tuple[_DSet, str, str], float] = {}
        #: no timer of the call is due before this (deadline + tolerance); may be early
        self.due = _INF
        self.expecting: list[_Tx] = []
        self.expect_due = _INF


class _Side:
    """Everything one endpoint has: its transactions (client and server) and calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.client: Matcher[_Tx] = Matcher()
        self.server: Matcher[_Tx] = Matcher()
        self.calls: dict[str, _Call] = {}
        self.txs: list[_Tx] = []
        #: INVITE transactions by (role, Call-ID, CSeq number, From tag), for 2xx ACKs.
        self.invites: dict[tuple[str, str, int, str], _Tx] = {}
        #: the INVITE server transaction that sent the first 2xx with a key
        self.sent_2xx: dict[TransactionKey, _Tx] = {}


class _Item:
    """One parsed message of the trace, with its transaction key (computed once for both
    its ends)."""

    def __init__(
        self, index: int, record: Record, message: Message, key: TransactionKey, src: str, dst: str
    ) -> None:
        self.index = index
        self.record = record
        self.message = message
        self.key = key
        #: when the endpoint being replayed saw it: the record's time, or for a simulator
        #: trace the send time (sender) or the delivery time (receiver)
        self.time = record.time
        #: its sender and receiver, as the report names them
        self.src = src
        self.dst = dst
        #: "tcp" stands for any reliable transport
        self.transport = "tcp" if record.transport == "tcp" else "udp"


# -- the checker ---------------------------------------------------------------------------------


class Checker:
    """Replays traces; one instance per `check_files` call."""

    def __init__(
        self,
        profile: str = "rfc6026",
        t1: float = 0.5,
        t2: float = 4.0,
        t4: float = 5.0,
        tolerance: float | None = None,
        tolerance_rel: float | None = None,
    ) -> None:
        if profile not in PROFILES:
            raise UnknownName("profile", profile, PROFILES)
        self.profile = profile
        self.timings = {t: Timing(t1, t2, t4, t) for t in ("udp", "tcp")}
        #: the tolerances asked for (None: per trace, `_tolerances`)
        self.tolerance = tolerance
        self.tolerance_rel = tolerance_rel
        self.tol_abs = TOLERANCE_ABS if tolerance is None else tolerance
        self.tol_rel = TOLERANCE_REL if tolerance_rel is None else tolerance_rel
        self.engines: dict[tuple[str, str], Engine] = {}
        #: (role, method, transport) -> (machine, engine)
        self._tx_engines: dict[tuple[str, str, str], tuple[str, Engine]] = {}
        self._dialog_engines: dict[str, DialogEngine] = {}
        self.report = CheckReport(profile)
        self._seen: set[tuple[str, int]] = set()
        self._seen_messages: set[tuple[str, TransactionKey, int, str]] = set()
        self._codes: dict[int, int] = {}
        self._matched: set[int] = set()
        self._ended: list[tuple[_Tx, float]] = []
        self._tx_count = 0
        self._dialog_count = 0
        #: the endpoints of the trace being checked
        self._checked: dict[str, _Side] = {}

    # -- entry points ---------------------------------------------------------------------------

    def check(self, traces: Iterable[Trace], as_addr: str | None = None) -> CheckReport:
        for trace in traces:
            self.check_trace(trace, as_addr)
        self.report.violations.sort(key=lambda v: (v.message, v.rule))
        return self.report

    def check_trace(self, trace: Trace, as_addr: str | None = None) -> None:
        """Check one trace: its records are parsed (a batch at a time, `_BATCH`) and
        replayed in time order. A simulator trace is replayed per observation
        (`Trace.observations`): by its sender at the send time, by its receiver at each
        delivery time."""
        report = self.report
        first = report.messages + 1
        names = {e: e for e in trace.elements}  # a simulator's element names, as they are
        names["peer"] = "peer"
        views = self._views(trace, as_addr, names)
        sides = {name: _Side(name) for name in sorted(views)}
        self._checked = sides
        exact = trace.format == "sim"
        if self.tolerance is None:
            self.tol_abs = TOLERANCE_SIM if exact else TOLERANCE_ABS
        if self.tolerance_rel is None:
            self.tol_rel = 0.0 if exact else TOLERANCE_REL
        base = report.messages
        if trace.observations is None:
            unsure = self._replay_captured(trace, sides, names)
        else:
            unsure = self._replay_observed(trace, sides, names)
        report.messages = base + len(trace.records)
        for late in trace.disorder:
            report.out_of_order_messages.append(
                {
                    "message": base + late.record + 1 if late.record >= 0 else None,
                    "where": late.where,
                    "time": late.time,
                    "after": late.after,
                }
            )
        report.out_of_order += trace.out_of_order
        end = max(map(_TIME, trace.records), default=0.0)
        if trace.end is not None:
            end = max(end, trace.end)
        for side in sides.values():
            for call in side.calls.values():
                self._advance(call, end)
        matched = self._matched
        for item in unsure:
            if item.index not in matched:
                report.unmatched.append(
                    {"message": item.index, "reason": self._why_unmatched(item, views, names)}
                )
        # (replayed in time order, listed in file order)
        report.unmatched.sort(key=_MESSAGE)
        report.unparseable.sort(key=_MESSAGE)
        for side in sides.values():
            self._report_side(side)
        report.files.append(
            {
                "path": str(trace.path),
                "format": trace.format,
                "first": first,
                "last": report.messages,
                "endpoints": sorted(views),
                "out_of_order": trace.out_of_order,
            }
        )

    def _read(
        self,
        index: int,
        record: Record,
        sides: dict[str, _Side],
        src: str,
        dst: str,
        framed: bool = False,
    ) -> _Item | None:
        """Parse one record (an unparseable one is listed, and None returned) and check the
        rules on the message alone. ``framed``: a TCP record is one message framed from its
        stream (a capture's)."""
        report = self.report
        if record.error:
            report.unparseable.append(
                {"message": index, "where": record.where, "reason": record.error}
            )
            return None
        try:
            message = parse(record.raw, stream=framed and record.transport == "tcp")
        except WireError as exc:
            report.unparseable.append(
                {"message": index, "where": record.where, "reason": exc.reason}
            )
            return None
        report.parsed += 1
        item = _Item(index, record, message, transaction_key(message), src, dst)
        if type(message) is Response:
            status = message.status
            self._codes[index] = status
            if status >= 400:
                self._message_rules(item, message, src, dst, sides)
        return item

    def _replay_captured(
        self, trace: Trace, sides: dict[str, _Side], names: dict[str, str]
    ) -> list[_Item]:
        """One capture point: each message is seen by its sender and its receiver at its
        time. Returns the messages no transaction or dialog had taken when they came."""
        matched = self._matched
        base = index = self.report.messages
        unsure: list[_Item] = []
        framed = trace.format in ("pcap", "pcapng")
        # (`_process`, inlined: this runs twice for every message; the methods are called
        # on self, which the compiled build makes direct calls)
        #: an address as the trace writes it -> (its name in the report, its side if checked)
        ends: dict[str, tuple[str, _Side | None]] = {}
        records = trace.records
        # in time order: `Trace.order` when the file is not (a message keeps its number)
        order = trace.order
        # Parsed a batch at a time, then replayed: each loop keeps its own code and data in
        # the processor's caches (measured: parsing costs half as much again when every
        # message is parsed between two replay steps).
        for start in range(0, len(records), _BATCH):
            batch: list[tuple[_Item, _Side | None, _Side | None]] = []
            for pos in range(start, min(start + _BATCH, len(records))):
                if order is None:
                    index += 1
                    record = records[pos]
                else:
                    index = base + order[pos] + 1
                    record = records[order[pos]]
                src = ends.get(record.src)
                if src is None:
                    name = names.get(record.src) or _endpoint(record.src)
                    src = ends[record.src] = (name, sides.get(name))
                dst = ends.get(record.dst)
                if dst is None:
                    name = names.get(record.dst) or _endpoint(record.dst)
                    dst = ends[record.dst] = (name, sides.get(name))
                item = self._read(index, record, sides, src[0], dst[0], framed)
                if item is not None:
                    batch.append((item, src[1], dst[1]))
            for item, sender, receiver in batch:
                message: Any = item.message
                request = type(message) is Request
                if sender is not None:
                    if request:
                        self._sent_request(sender, item, message)
                    else:
                        self._sent_response(sender, item, message)
                    if self._ended:
                        self._flush_ended()
                if receiver is not None:
                    if request:
                        self._received_request(receiver, item, message)
                    else:
                        self._received_response(receiver, item, message)
                    if self._ended:
                        self._flush_ended()
                if item.index not in matched:
                    unsure.append(item)
        return unsure

    def _replay_observed(
        self, trace: Trace, sides: dict[str, _Side], names: dict[str, str]
    ) -> list[_Item]:
        """A simulator trace: each endpoint sees a message at its own time -- the sender when
        it sent it, the receiver at each delivery (never when it was lost, twice when it
        was duplicated). Returns every message read."""
        assert trace.observations is not None
        base = self.report.messages
        records = trace.records
        items: list[_Item | None] = [None] * len(records)
        read: list[_Item] = []
        for pos, time, who in trace.observations:
            record = records[pos]
            item = items[pos]
            if who == SENDER:
                src = names.get(record.src) or _endpoint(record.src)
                dst = names.get(record.dst) or _endpoint(record.dst)
                item = items[pos] = self._read(base + pos + 1, record, sides, src, dst)
                if item is None:
                    continue
                read.append(item)
                side = sides.get(src)
            elif item is None:
                continue  # unparseable: listed when it was sent
            else:
                side = sides.get(names.get(record.dst) or _endpoint(record.dst))
            if side is not None:
                item.time = time
                self._process(side, item, item.message, who == SENDER)
        return read

    def _views(self, trace: Trace, as_addr: str | None, names: dict[str, str]) -> set[str]:
        """The endpoints to check: ``--as``, a SIPp log's own, else every one."""
        if trace.local is not None and as_addr is None:
            return {trace.local}
        endpoints = self._endpoints(trace, names)
        if as_addr is None:
            return endpoints
        wanted = names.get(as_addr) or normalize_endpoint(as_addr)
        if wanted not in endpoints:
            raise TraceError(
                trace.path,
                f"--as {shown(as_addr)} is none of its endpoints: "
                f"{', '.join(map(shown, sorted(endpoints))) or 'none'}",
            )
        return {wanted}

    def _report_side(self, side: _Side) -> None:
        name = side.name
        add = self.report.transactions.append
        for tx in side.txs:
            add(
                TransactionReport(
                    f"T{tx.number}",
                    name,
                    tx.role,
                    tx.machine,
                    tx.method,
                    tx.key.describe(),
                    tx.messages,
                    tx.path,
                )
            )
        add_dialog = self.report.dialogs.append
        for call in side.calls.values():
            for dset in call.dsets:
                for rec in dset.recs.values():
                    self._dialog_count += 1
                    inst = rec.inst
                    add_dialog(
                        DialogReport(
                            f"D{self._dialog_count}",
                            name,
                            inst.role,
                            inst.call_id,
                            inst.local_tag,
                            inst.remote_tag,
                            rec.messages,
                            rec.path,
                        )
                    )

    @staticmethod
    def _endpoints(trace: Trace, names: dict[str, str]) -> set[str]:
        if trace.local is not None:
            return {trace.local}
        records = trace.records
        written = {*map(_SRC, records), *map(_DST, records)}
        written.discard("")  # (records that could not be read)
        return {names.get(a) or _endpoint(a) for a in written}

    @staticmethod
    def _why_unmatched(item: _Item, views: set[str], names: dict[str, str]) -> str:
        src = names.get(item.record.src) or _endpoint(item.record.src)
        dst = names.get(item.record.dst) or _endpoint(item.record.dst)
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
        known = CHECK_RULES.get(rule)
        self.report.violations.append(
            Deviation(rule, rfc or (known.rfc if known else ""), index, code, text, side)
        )

    def _run(
        self, tx: _Tx, event: Event, at: float, index: int, create: bool = False
    ) -> list[Any] | None:
        """Feed one event; keep the timers' deadlines; record the state path; queue the
        transaction's end for its dialog. A ProtocolError becomes a violation (None is
        returned)."""
        before = tx.state
        engine = tx.engine
        try:
            actions: list[Any] = (
                start_instance(engine, tx, event)  # type: ignore[arg-type]
                if create
                else handle_event(engine, tx, event)
            )
        except ProtocolError as exc:
            self._protocol_error(tx, exc, event, index)
            return None
        deadlines = tx.deadlines
        for action in actions:
            kind = type(action)
            if kind is StartTimer:
                seconds = action.seconds
                deadline = at + seconds
                deadlines[action.name] = (deadline, seconds)
                slack = self.tol_rel * seconds  # _tol, inlined: this runs for every timer
                tol_abs = self.tol_abs
                due = deadline + (slack if slack > tol_abs else tol_abs)
                call = tx.call
                if due < call.due:
                    call.due = due
            elif kind is StopTimer:
                deadlines.pop(action.name, None)
        state = tx.state
        if state != before:
            tx.path.append(state)
            if state == "terminated":
                tx.call.live.remove(tx)
                self._ended.append((tx, at))
        return actions

    def _protocol_error(self, tx: _Tx, exc: ProtocolError, event: Event, index: int) -> None:
        rule = "protocol-error"
        rfc = _state_rfc(tx.engine.decl, exc.state)
        guard = _failed_guard(tx.engine, (tx,), event, exc.state)
        if guard is not None:
            rfc = guard.rfc
            rule = _GUARD_RULES.get(guard.name, rule)
        code = getattr(getattr(event, "message", None), "status", None)
        text = f"{tx.side.name}: {exc}"
        if rule == "protocol-error":
            rule = str(exc)
        if not tx.report_once(rule):
            return  # the same fault again (a retransmission): reported once
        self._violate(rule, index, text, tx.side.name, rfc, code)

    def _fire(self, tx: _Tx, name: str, at: float) -> None:
        tx.deadlines.pop(name, None)
        actions = self._run(tx, timer_fired(name), at, tx.last_index)
        if not actions:
            return
        retransmit = _RETRANSMIT.get(tx.machine)
        if name == retransmit or name == "Trying":
            sends = [a.message for a in actions if type(a) is SendMessage]
            if name == retransmit:
                if sends:
                    self._once(
                        tx,
                        "retransmission-schedule",
                        tx.last_index,
                        f"{tx.side.name} did not retransmit when Timer {name} fired at "
                        f"+{at - tx.start:.3f} s ({tx.machine} {tx.state})",
                        TIMERS[name].rfc,
                    )
            else:
                for message in sends:  # not enforced: the TU may have known it answers in time
                    self._expect(tx, "100", at + self.tol_abs, message, 0)
        # Timers H and L say that no ACK arrived. When the peer that owed it is checked
        # too, its own replay judges whether it sent one (a simulated network may have
        # lost it); otherwise this is all the trace shows of it.
        if tx.peer in self._checked:
            return
        if name == "H" and any(type(a) is ToTU and a.what == "timeout" for a in actions):
            self._once(
                tx,
                "no-ack",
                tx.final_index,
                f"{tx.side.name} never got the ACK of its final response (Timer H fired)",
                "RFC 3261 §17.2.1",
            )
        elif name == "L" and not tx.acked:
            self._once(
                tx,
                "no-ack-2xx",
                tx.final_index,
                f"{tx.side.name} never got the ACK of its 2xx (Timer L fired, 64*T1 after it)",
                "RFC 3261 §13.3.1.4, RFC 6026 §8.7",
            )

    def _once(self, tx: _Tx, rule: str, index: int, text: str, rfc: str = "") -> None:
        if not tx.report_once(rule):
            return
        self._violate(rule, index, text, tx.side.name, rfc, self._codes.get(index))

    def _expect(self, tx: _Tx, kind: str, expiry: float, message: Message, index: int) -> None:
        """The machine asks the endpoint to send ``message`` by ``expiry``."""
        tx.expects.append((kind, expiry, message, index))
        call = tx.call
        if tx not in call.expecting:
            call.expecting.append(tx)
        if expiry < call.expect_due:
            call.expect_due = expiry

    def _advance(self, call: _Call, now: float, hold_tx: _Tx | None = None, hold: str = "") -> None:
        """Fire, in deadline order, every timer of the call's transactions and dialogs the
        trace has passed (deadline + tolerance before ``now``; ``hold`` of ``hold_tx`` is
        left to the caller), then expire what the machines asked for and never saw. Cheap
        when nothing is due (``call.due`` and ``call.expect_due`` say so)."""
        if call.due < now:
            outer = self._ended
            self._ended = []
            tol_abs = self.tol_abs
            tol_rel = self.tol_rel
            while True:
                best: _Tx | None = None
                best_name = ""
                best_at = _INF
                for tx in call.live:
                    for name, (deadline, interval) in tx.deadlines.items():
                        if deadline < best_at:
                            slack = tol_rel * interval  # `_tol`, inlined
                            if deadline + (slack if slack > tol_abs else tol_abs) < now and (
                                tx is not hold_tx or name != hold
                            ):
                                best, best_name, best_at = tx, name, deadline
                timer: tuple[_DSet, str, str] | None = None
                for key, deadline in call.timers.items():
                    if deadline < best_at and deadline + tol_abs < now:
                        timer, best_at = key, deadline
                if not self._fire_chosen(call, timer, best, best_name, best_at):
                    break
            self._ended = outer
            due = _INF
            for tx in call.live:
                for deadline, interval in tx.deadlines.values():
                    slack = tol_rel * interval
                    deadline += slack if slack > tol_abs else tol_abs
                    if deadline < due:
                        due = deadline
            for deadline in call.timers.values():
                deadline += tol_abs
                if deadline < due:
                    due = deadline
            call.due = due
        if call.expect_due < now:
            self._expire(call, now)

    def _fire_chosen(
        self,
        call: _Call,
        timer: tuple[_DSet, str, str] | None,
        tx: _Tx | None,
        name: str,
        at: float,
    ) -> bool:
        """Fire at ``at`` the timer `_advance` or `_fire_early` chose -- a dialog's
        (``timer``) before a transaction's (``tx``, ``name``) -- and tell the dialogs what
        ended; False when neither was chosen."""
        if timer is not None:
            del call.timers[timer]
            dset, tag, dialog_timer = timer
            self._dialog(dset, timer_fired(dialog_timer), at, 0, tag=tag)
        elif tx is not None:
            self._fire(tx, name, at)
        else:
            return False
        self._flush_ended()
        return True

    def _fire_early(self, call: _Call, now: float) -> bool:
        """The endpoint did something its model allows only once a timer has fired (a
        callee's BYE after Timer L, RFC 3261 §15): fire, at ``now``, the call's timers due
        within their tolerance, earliest first -- but not the retransmission timers, which
        the endpoint's retransmissions fire (`_retransmission`). Whether any fired."""
        outer = self._ended
        self._ended = []
        fired = False
        while True:
            best: _Tx | None = None
            best_name = ""
            best_at = _INF
            for tx in call.live:
                skip = _RETRANSMIT.get(tx.machine)
                for name, (deadline, interval) in tx.deadlines.items():
                    if (
                        name != skip
                        and deadline < best_at
                        and deadline - self._tol(interval) <= now
                    ):
                        best, best_name, best_at = tx, name, deadline
            timer: tuple[_DSet, str, str] | None = None
            for key, deadline in call.timers.items():
                if deadline < best_at and deadline - self.tol_abs <= now:
                    timer, best_at = key, deadline
            if not self._fire_chosen(call, timer, best, best_name, now):
                break
            fired = True
        self._ended = outer
        return fired

    def _expire(self, call: _Call, now: float) -> None:
        due = _INF
        waiting: list[_Tx] = []
        for tx in call.expecting:
            kept = []
            for expect in tx.expects:
                kind, expiry, _message, index = expect
                if expiry >= now:
                    kept.append(expect)
                    due = min(due, expiry)
                elif kind == "ack":
                    self._once(
                        tx,
                        "no-ack",
                        index,
                        f"{tx.side.name} sent no ACK for the {self._codes.get(index)} "
                        "final response",
                    )
                elif kind == "ack2xx":
                    self._once(
                        tx,
                        "no-ack-2xx",
                        index,
                        f"{tx.side.name} sent no ACK for the {self._codes.get(index)} to its "
                        f"INVITE (CSeq {tx.cseq}); the dialog asked for one",
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
            if kept:
                waiting.append(tx)
        call.expecting = waiting
        call.expect_due = due

    def _settle(self, tx: _Tx, at: float) -> None:
        """Timers of zero duration (D, I, J, K on reliable transports) fire at once (any
        timer whose deadline ``at`` has reached; the callers look at the earliest
        (deadline, interval) first: most often none is due)."""
        deadlines = tx.deadlines
        while deadlines and min(deadlines.values())[0] <= at:
            for name, (deadline, _interval) in deadlines.items():
                if deadline <= at:
                    self._fire(tx, name, at)
                    break

    # -- dialogs --------------------------------------------------------------------------------

    def _dialog_engine(self, transport: str) -> DialogEngine:
        found = self._dialog_engines.get(transport)
        if found is None:
            engine = self._engine("dialog", transport)
            found = self._dialog_engines[transport] = cast(DialogEngine, engine)
        return found

    def _dialog(
        self,
        dset: _DSet,
        event: Event,
        at: float,
        index: int,
        tag: str | None = None,
        remote: str | None = None,
        start: bool = False,
    ) -> list[Routed] | None:
        """Give ``event`` to a dialog set: keep its timers, record its dialogs' paths and
        the message (``index``, of the dialog whose remote tag is ``remote``). A
        ProtocolError is a deviation (None is returned)."""
        try:
            routed = dset.set.start(event) if start else dset.set.handle(event, tag)
        except ProtocolError as exc:
            if type(event) is MessageSent and self._fire_early(dset.call, at):
                return self._dialog(dset, event, at, index, tag, remote, start)
            self._dialog_error(dset, exc, event, index)
            return None
        call = dset.call
        for rtag, action in routed:  # (most events start or stop no timer of a dialog)
            kind = type(action)
            if kind is StartTimer:
                name = action.name  # type: ignore[union-attr]
                deadline = at + action.seconds  # type: ignore[union-attr]
                call.timers[(dset, rtag, name)] = deadline
                call.due = min(call.due, deadline + self.tol_abs)
                if name == "Glare":
                    self._glare_started(dset, rtag, at, index)
            elif kind is StopTimer:
                name = action.name  # type: ignore[union-attr]
                call.timers.pop((dset, rtag, name), None)
                if name == "Glare":
                    dset.glare.pop(rtag, None)  # a BYE: no retry is due (§14.1)
        recs = dset.recs
        dialogs = dset.set.dialogs
        count = len(dialogs)
        rec: _DialogRec | None = None
        if len(recs) == count:
            # a set never drops an instance, so these are the same ones
            for rec in recs.values():
                state = rec.inst.state
                path = rec.path
                if path[-1] != state:
                    path.append(state)
        else:
            for inst in dialogs.values():
                known = recs.get(id(inst))
                if known is None:
                    recs[id(inst)] = _DialogRec(inst)
                elif known.path[-1] != inst.state:
                    known.path.append(inst.state)
        if index:
            dset.last_index = index
            if count == 1:  # the one dialog, whatever its tag (the record seen above)
                if rec is None:
                    rec = next(iter(recs.values()))
            else:
                found = dialogs.get(remote or "")
                if found is None:
                    return routed
                rec = recs[id(found)]
            rec.messages.append(index)
            self._matched.add(index)
        return routed

    def _glare_started(self, dset: _DSet, tag: str, at: float, index: int) -> None:
        """The dialog started its §14.1 glare timer on a 491 to our re-INVITE or UPDATE:
        keep what the retry will be judged by. Whose Call-ID it is is the dialog's
        ``call_id_owner``: the caller's, who generated it (RFC 3261 §8.1.1.4)."""
        inst = dset.set.dialogs.get(tag)
        if inst is None or inst.retry_request is None:
            return
        dset.glare[tag] = _Glare(at, inst.retry_request, bool(inst.call_id_owner), index)

    def _judge_retry(self, dset: _DSet, glare: _Glare, item: _Item, request: Request) -> None:
        """RFC 3261 §14.1 (RFC 3311 §5.3): the first request of the refused method the
        endpoint sends on the dialog after the 491 is its retry, due when the glare timer
        fires -- 2.1-4 s after the 491 for the owner of the Call-ID, 0-2 s for the other
        side. Sooner is a deviation; later only when the request repeats the refused one's
        body (another body may be a new modification, which the UA may send at any time)."""
        low, high = GLARE_OWNER_STEPS if glare.owner else GLARE_OTHER_STEPS
        low_s, high_s = low / 100, high / 100
        waited = item.time - glare.at
        tol = self.tol_abs
        if low_s - tol <= waited <= high_s + tol:
            return
        if waited > high_s and request.body != glare.refused.body:
            return
        who = "owner" if glare.owner else "not the owner"
        self._violate(
            "glare-retry-time",
            item.index,
            f"{dset.side} sent {request.method} (CSeq {request.cseq}) {waited:.2f} s after "
            f"the 491 (message {glare.index}) to its {glare.refused.method} (CSeq "
            f"{glare.refused.cseq}); it is {who} of the Call-ID, so its glare timer runs "
            f"{low_s:g}-{high_s:g} s (tolerance {tol:g} s)",
            dset.side,
            "RFC 3311 §5.3" if request.method == "UPDATE" else "RFC 3261 §14.1",
        )

    def _dialog_error(self, dset: _DSet, exc: ProtocolError, event: Event, index: int) -> None:
        """A dialog machine's (or its set's) ProtocolError: the rule is its message, the
        section that of the guard that failed, else of the state."""
        engine = dset.set.engine
        rfc = _state_rfc(engine.decl, exc.state)
        insts = [i for i in dset.set.dialogs.values() if i.state == exc.state]
        guard = _failed_guard(engine, insts, event, exc.state)
        self._violate(
            str(exc),
            index or dset.last_index,
            f"{dset.side} ({dset.set.role or 'new dialog'}): {exc}",
            dset.side,
            guard.rfc if guard is not None else rfc,
            getattr(getattr(event, "message", None), "status", None),
        )

    def _flush_ended(self) -> None:
        """Tell the dialogs which of their transactions ended (after the message that ended
        them reached the dialog, as RFC 5407 §2's Timeout follows it)."""
        while self._ended:
            ended = self._ended
            self._ended = []
            for tx, at in ended:
                dset = tx.dset
                if dset is not None:
                    event = TransactionEnded(tx.method, tx.cseq, tx.role)
                    self._dialog(dset, event, at, 0)

    def _new_set(self, side: _Side, call: _Call, transport: str) -> _DSet:
        dset = _DSet(side.name, call, DialogSet(self._dialog_engine(transport)))
        call.dsets.append(dset)
        return dset

    @staticmethod
    def _find_set(call: _Call, local_tag: str) -> _DSet | None:
        """The dialog set of the call whose local tag is ``local_tag`` (the latest one if
        none has it: its dialogs then answer for the unmatched tags, RFC 3261 §12.2.2)."""
        sets = call.dsets
        if not sets:
            return None
        for dset in reversed(sets):
            if dset.set.local_tag == local_tag:
                return dset
        return sets[-1]

    @staticmethod
    def _tracks(dset: _DSet, role: str, request: Request) -> bool:
        """Whether a dialog of the set took ``request`` as one of its transactions (the
        dialog machine's own bookkeeping): then its responses and its end are the
        dialog's business too."""
        wanted = (role, request.method, request.cseq)
        # (a loop, not any() over a generator: this runs for every new transaction)
        for inst in dset.set.dialogs.values():  # noqa: SIM110
            if wanted in inst.transactions:
                return True
        return False

    # -- per message ------------------------------------------------------------------------

    def _process(self, side: _Side, item: _Item, message: Message, sent: bool) -> None:
        if type(message) is Request:
            if sent:
                self._sent_request(side, item, message)
            else:
                self._received_request(side, item, message)
        elif sent:
            self._sent_response(side, item, message)  # type: ignore[arg-type]
        else:
            self._received_response(side, item, message)  # type: ignore[arg-type]
        if self._ended:
            self._flush_ended()

    def _new_tx(self, side: _Side, call: _Call, item: _Item, request: Request, role: str) -> _Tx:
        """A transaction the message creates, with the message attached."""
        method = request.method
        transport = item.transport
        kind = (role, method, transport)
        found = self._tx_engines.get(kind)
        if found is None:
            machine = machine_for(method, "client" if role == "client" else "server")
            found = self._tx_engines[kind] = (machine, self._engine(machine, transport))
        machine, engine = found
        self._tx_count += 1
        key = item.key
        tx = _Tx(side, call, self._tx_count, machine, engine, request, key, role)
        index = item.index
        if role == "client":
            side.client.add_keyed(key, request, tx)
            tx.peer = item.dst
        else:
            side.server.add_keyed(key, request, tx)
            tx.peer = item.src
        tx.start = item.time
        tx.last_index = index
        tx.messages.append(index)
        self._matched.add(index)
        side.txs.append(tx)
        call.live.append(tx)
        if method == "INVITE":
            side.invites[(role, request.call_id, request.cseq, request.from_tag)] = tx
        return tx

    # requests the endpoint sent (client transactions)

    def _sent_request(self, side: _Side, item: _Item, request: Request) -> None:
        now = item.time
        call = side.calls.get(request.call_id)
        if call is None:
            call = side.calls[request.call_id] = _Call()
        tx = side.client.find_keyed(item.key, request)
        if request.method == "ACK":
            if call.due < now or call.expect_due < now:
                self._advance(call, now)
            self._sent_ack(side, call, item, request, tx)
            return
        if tx is not None and tx.state != "terminated" and tx.method == request.method:
            tx.messages.append(item.index)  # the message is the transaction's
            self._matched.add(item.index)
            self._retransmission(tx, item, now)
            return
        if call.due < now or call.expect_due < now:
            self._advance(call, now)
        tx = self._new_tx(side, call, item, request, "client")
        tx.last_sent = request
        self._run(tx, TURequest(request), now, item.index, create=True)
        self._dialog_sent_request(side, call, tx, item, request)
        if request.method == "CANCEL":
            target = side.client.find_cancelled(request)
            if target is not None:
                state = target.state
                acts = self._run(target, _TU_CANCEL, now, item.index) or []
                asked = any(type(a) is ToTU and a.what == "send_cancel" for a in acts)
                if not asked and state == "calling":
                    self._violate(
                        "cancel-before-provisional",
                        item.index,
                        f"{side.name} sent CANCEL while its INVITE had no "
                        "provisional response (Calling)",
                        side.name,
                    )
        if tx.deadlines and min(tx.deadlines.values())[0] <= now:
            self._settle(tx, now)

    def _dialog_sent_request(
        self, side: _Side, call: _Call, tx: _Tx, item: _Item, request: Request
    ) -> None:
        """Show a new request of the endpoint to its dialogs: an initial INVITE creates a
        dialog set (the caller's, RFC 5407 §2 Figure 1); a request with a To tag, or a
        CANCEL, goes to the set of its From tag. Other requests are outside any dialog."""
        now = item.time
        if request.method == "INVITE" and not request.to_tag:
            dset = self._new_set(side, call, item.transport)
            event = MessageSent(request)
            if self._dialog(dset, event, now, item.index, remote="", start=True) is None:
                call.dsets.remove(dset)
                return
        elif request.to_tag or request.method == "CANCEL":
            found = self._find_set(call, request.from_tag)
            if found is None:
                return
            dset = found
            glare = dset.glare.get(request.to_tag)
            if glare is not None and glare.refused.method == request.method:
                del dset.glare[request.to_tag]
                self._judge_retry(dset, glare, item, request)
            if (
                self._dialog(dset, MessageSent(request), now, item.index, remote=request.to_tag)
                is None
            ):
                return
        else:
            return
        if self._tracks(dset, "client", request):
            tx.dset = dset

    def _sent_ack(
        self, side: _Side, call: _Call, item: _Item, ack: Request, tx: _Tx | None
    ) -> None:
        now = item.time
        if tx is not None:  # the ACK of a 3xx-6xx: the INVITE client transaction's
            tx.messages.append(item.index)  # the message is the transaction's
            self._matched.add(item.index)
            if tx.expects:
                tx.expects = [
                    e
                    for e in tx.expects
                    if e[0] != "ack" and (e[0] != "ack2xx" or e[2].to_tag != ack.to_tag)
                ]
            if tx.dset is not None and not tx.fed:
                tx.fed = ((0, ack.to_tag),)  # its retransmissions are the transaction's
                self._dialog(tx.dset, MessageSent(ack), now, item.index, remote=ack.to_tag)
            return
        invite = side.invites.get(("client", ack.call_id, ack.cseq, ack.from_tag))
        if invite is not None:  # the ACK of a 2xx: the UAC core's (RFC 3261 §13.2.2.4)
            invite.messages.append(item.index)  # the message is the transaction's
            self._matched.add(item.index)
            if invite.expects:
                invite.expects = [
                    e for e in invite.expects if e[0] != "ack2xx" or e[2].to_tag != ack.to_tag
                ]
        dset = self._find_set(call, ack.from_tag)
        if dset is not None:
            self._dialog(dset, MessageSent(ack), now, item.index, remote=ack.to_tag)

    def _retransmission(self, tx: _Tx, item: _Item, now: float) -> None:
        """The endpoint resent its request (client) or last response (server)."""
        timer = _RETRANSMIT.get(tx.machine, "")
        self._advance(tx.call, now, tx, timer)
        entry = tx.deadlines.get(timer)
        if entry is None:
            self._once(
                tx,
                "retransmission-schedule",
                item.index,
                f"{tx.side.name} retransmitted although Timer {timer or 'A/E/G'} is "
                f"not running ({tx.machine} {tx.state}, {item.record.transport})",
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
        tx.deadlines.pop(timer, None)
        self._run(tx, timer_fired(timer), now, tx.messages[-1])
        tx.last_index = item.index

    # requests the endpoint received (server transactions)

    def _received_request(self, side: _Side, item: _Item, request: Request) -> None:
        now = item.time
        call = side.calls.get(request.call_id)
        if call is None:
            call = side.calls[request.call_id] = _Call()
        tx = side.server.find_keyed(item.key, request)
        if call.due < now or call.expect_due < now:
            self._advance(call, now)
        if request.method == "ACK":
            if tx is None:
                self._received_2xx_ack(side, call, item, request)
                return
            tx.messages.append(item.index)  # the message is the transaction's
            self._matched.add(item.index)
            self._run(tx, RequestReceived(request), now, item.index)
            if tx.deadlines and min(tx.deadlines.values())[0] <= now:
                self._settle(tx, now)
            return
        if tx is not None and tx.state != "terminated":
            tx.messages.append(item.index)  # the message is the transaction's
            self._matched.add(item.index)
            actions = self._run(tx, RequestReceived(request), now, item.index) or []
            for action in actions:
                # only what the endpoint itself sent must be resent (not the machine's
                # own 100 Trying, which the endpoint may have had no need for)
                if type(action) is SendMessage and tx.last_sent is not None:
                    self._expect(tx, "resend", now + self.tol_abs, action.message, item.index)
            return
        tx = self._new_tx(side, call, item, request, "server")
        event = RequestReceived(request)  # one event for the transaction and the dialog
        self._run(tx, event, now, item.index, create=True)
        if request.method == "CANCEL":
            self._received_cancel(side, call, tx, item, event)
        else:
            self._dialog_received_request(side, call, tx, item, event)

    def _received_cancel(
        self, side: _Side, call: _Call, tx: _Tx, item: _Item, event: RequestReceived
    ) -> None:
        """RFC 3261 §9.2 as `sipfsm.elements.core.handle_cancel` decides it: 200 when the CANCEL
        matches a live transaction (481 otherwise, not judged here: the trace may lack
        the INVITE). The dialog sees the CANCEL but never changes (RFC 5407 App. C)."""
        cancel = event.message
        target = side.server.find_cancelled(cancel)
        tx.cancel_target = target
        if target is not None:
            for answer in core.handle_cancel(cancel, [target]):
                if answer.request is cancel and answer.status != 481:
                    tx.verdict = answer.status
                    tx.verdict_rfc = answer.rfc
                    tx.verdict_note = f"the live transaction {target.id} ({target.state})"
        dset = self._find_set(call, cancel.to_tag)
        if dset is not None:
            self._dialog(dset, event, item.time, item.index, remote=cancel.from_tag)

    def _dialog_received_request(
        self, side: _Side, call: _Call, tx: _Tx, item: _Item, event: RequestReceived
    ) -> None:
        """Show a request that reached the endpoint's core to its dialogs and keep their
        verdict (`Respond`, or none: accepted) on the server transaction. An initial
        INVITE creates a dialog set (the callee's, RFC 5407 §2 Figure 2) unless it is the
        initial INVITE of an existing one again (RFC 5407 §3.1.1)."""
        now = item.time
        request = event.message
        start = False
        if request.method == "INVITE" and not request.to_tag:
            found = None
            for dset in call.dsets:
                inst = dset.set.dialogs.get(request.from_tag)
                if (
                    dset.set.role == "callee"
                    and inst is not None
                    and inst.initial_cseq == request.cseq
                ):
                    found = dset
            if found is None:
                found = self._new_set(side, call, item.transport)
                start = True
        elif request.to_tag or request.method == "BYE":
            found = self._find_set(call, request.to_tag)
            if found is None:
                return
        else:
            return
        dset = found
        routed = self._dialog(dset, event, now, item.index, remote=request.from_tag, start=start)
        if routed is None:
            if start:
                call.dsets.remove(dset)
            return
        if self._tracks(dset, "server", request):
            tx.dset = dset
        inst = dset.set.dialogs.get(request.from_tag)
        note = f"its {inst.state} dialog" if inst is not None else "no dialog of its"
        tx.verdict = ACCEPTED
        tx.verdict_note = note
        for _tag, action in routed:
            if type(action) is not Respond:
                continue
            answer = action
            target = tx if answer.request is request else side.server.find(answer.request)
            if target is not None and target.final_index == 0:
                target.verdict = answer.status
                target.verdict_rfc = answer.rfc
                target.verdict_note = note

    def _received_2xx_ack(self, side: _Side, call: _Call, item: _Item, ack: Request) -> None:
        now = item.time
        event = RequestReceived(ack)  # one event for the transaction and the dialog
        invite = side.invites.get(("server", ack.call_id, ack.cseq, ack.from_tag))
        if invite is not None:
            invite.messages.append(item.index)  # the message is the transaction's
            self._matched.add(item.index)
            if invite.state == "accepted":
                self._run(invite, event, now, item.index)
            invite.acked = True
        dset = self._find_set(call, ack.to_tag)
        if dset is not None:
            self._dialog(dset, event, now, item.index, remote=ack.from_tag)

    # responses the endpoint sent (server transactions)

    # complex on purpose (C901): one branch per kind of response and transaction state,
    # in the order §17.2 reads them
    def _sent_response(self, side: _Side, item: _Item, response: Response) -> None:  # noqa: C901
        now = item.time
        tx = side.server.find_keyed(item.key, response)
        if tx is None:
            return
        status = response.status
        if 200 <= status < 300 and tx.method == "INVITE":
            # RFC 3261 §13.3.1.4: the UAS core resends a 2xx after its INVITE server
            # transaction ended, and a retransmission of the INVITE arriving then is a new
            # transaction with the same key (§17.2.3; RFC 6026 §3). A 2xx that this new
            # one cannot have sent (it sent its final response already) is the first's.
            first = side.sent_2xx.setdefault(item.key, tx)
            if first is not tx and tx.final_index:
                tx = first
        call = tx.call
        if call.due < now or call.expect_due < now:
            self._advance(call, now)
        tx.messages.append(item.index)  # the message is the transaction's
        self._matched.add(item.index)
        if status >= 200 and tx.verdict != UNKNOWN:
            self._judge(tx, item, response)
        invite_2xx = tx.method == "INVITE" and 200 <= status < 300
        if invite_2xx and tx.acked:
            self._once(
                tx,
                "2xx-after-ack",
                item.index,
                f"{side.name} sent the 2xx again after its ACK arrived",
            )
        if tx.state == "terminated":
            if not invite_2xx:
                self._violate(
                    "response-after-end",
                    item.index,
                    f"{side.name} sent {status} after its {tx.machine} transaction ended",
                    side.name,
                    code=status,
                )
            return
        if tx.key.legacy is not None:
            side.server.note_response(tx.key, response)
        # a resend the machine asked for (the request was retransmitted)
        for expect in tx.expects:
            kind, _expiry, wanted, _index = expect
            if (kind == "resend" or kind == "100") and _same_response(wanted, response):
                tx.expects.remove(expect)
                return
        last = tx.last_sent
        if (
            tx.machine == "ist"
            and last is not None
            and _same_response(last, response)
            and tx.state == "completed"
        ):
            self._retransmission(tx, item, now)
            return
        if status >= 200:
            tx.final_index = item.index
        state = tx.state
        actions = self._run(tx, TUResponse(response), now, item.index)
        if actions is not None:
            sends = SendMessage in map(type, actions)
            if not sends:
                if tx.machine == "nist" and state == "completed":
                    self._violate(
                        "second-final-non-invite",
                        item.index,
                        f"{side.name} sent {status} to {tx.method} after its final response",
                        side.name,
                        code=status,
                    )
                else:
                    self._violate(
                        f"{tx.machine} would not send this",
                        item.index,
                        f"{side.name} sent {status} in {tx.machine} state {state}",
                        side.name,
                        tx.engine.decl.rfc,
                        status,
                    )
            tx.last_sent = response
            tx.last_index = item.index
            dset = tx.dset
            if sends and dset is not None:
                shown = (status, response.to_tag)
                if shown not in tx.fed:  # a 2xx the UAS core resends is shown once
                    tx.fed += (shown,)
                    event = MessageSent(response)
                    self._dialog(dset, event, now, item.index, remote=response.from_tag)
        if tx.deadlines and min(tx.deadlines.values())[0] <= now:
            self._settle(tx, now)

    def _judge(self, tx: _Tx, item: _Item, response: Response) -> None:
        """Compare the endpoint's final response with the model's answer to the request
        (its dialog's `Respond`, or `sipfsm.elements.core.handle_cancel` for a CANCEL)."""
        verdict = tx.verdict
        tx.verdict = UNKNOWN  # the first final response is the answer
        status = response.status
        if status == verdict:
            return
        who = tx.side.name
        note = tx.verdict_note
        model = "accepts it" if verdict == ACCEPTED else f"answers {verdict} ({tx.verdict_rfc})"
        if status == 481:
            self._once(
                tx,
                "481-live",
                item.index,
                f"{who} answered {tx.method} with 481 although it matched {note}, which {model}",
                "RFC 3261 §9.2" if tx.method == "CANCEL" else "RFC 3261 §12.2.2",
            )
        elif status == 491:
            self._once(
                tx,
                "491-nothing-pending",
                item.index,
                f"{who} answered {tx.method} with 491 but had no re-INVITE or offer of its "
                f"own pending when it arrived ({note}, which {model})",
            )
        elif verdict == 491:
            self._once(
                tx,
                "no-491",
                item.index,
                f"{who} answered {tx.method} with {status}; it had a re-INVITE or offer of "
                f"its own pending ({note}, which {model})",
                tx.verdict_rfc,
            )
        elif verdict > 0 and 200 <= status < 300:
            self._once(
                tx,
                "dialog-answer",
                item.index,
                f"{who} accepted {tx.method} with {status}; {note} {model}",
                tx.verdict_rfc,
            )

    # responses the endpoint received (client transactions)

    def _received_response(self, side: _Side, item: _Item, response: Response) -> None:
        now = item.time
        tx = side.client.find_keyed(item.key, response)
        if tx is None:
            return
        call = tx.call
        if call.due < now or call.expect_due < now:
            self._advance(call, now)
        tx.messages.append(item.index)  # the message is the transaction's
        self._matched.add(item.index)
        dset = tx.dset
        status = response.status
        if tx.state == "terminated":
            # RFC 3261 §18.1.2: a 2xx retransmission that outlived its INVITE client
            # transaction goes to the UA core (RFC 6026 §8.9: dropped)
            if (
                self.profile == "rfc3261"
                and dset is not None
                and tx.machine == "ict"
                and 200 <= status < 300
            ):
                event = ResponseReceived(response)
                routed = self._dialog(dset, event, now, item.index, remote=response.to_tag)
                self._ack_asked(tx, routed, response, item)
            return
        if status >= 200:
            tx.final_index = item.index
        event = ResponseReceived(response)  # one event for the transaction and the dialog
        actions = self._run(tx, event, now, item.index) or []
        passed = False
        for action in actions:
            kind = type(action)
            if kind is SendMessage:
                if type(action.message) is Request:
                    self._expect(tx, "ack", now + self.tol_abs, response, item.index)
            elif kind is ToTU and action.what == "response":
                passed = True
        if passed and dset is not None:
            routed = self._dialog(dset, event, now, item.index, remote=response.to_tag)
            self._ack_asked(tx, routed, response, item)
        if tx.deadlines and min(tx.deadlines.values())[0] <= now:
            self._settle(tx, now)

    def _ack_asked(
        self, tx: _Tx, routed: list[Routed] | None, response: Response, item: _Item
    ) -> None:
        """The dialog told the UAC core to ACK a 2xx (`ToTU("send_ack")`, RFC 3261
        §13.2.2.4): the endpoint must send it within the tolerance."""
        for _tag, action in routed or ():
            if type(action) is ToTU and action.what == "send_ack":
                self._expect(tx, "ack2xx", item.time + self.tol_abs, response, item.index)
                return

    # rules on single messages

    def _message_rules(
        self, item: _Item, message: Response, sender: str, receiver: str, sides: dict[str, _Side]
    ) -> None:
        """Rules on one 4xx (or 487) response, whoever sent it."""
        if sender not in sides and receiver not in sides:
            return
        status = message.status
        # a retransmitted response repeats the fault: report it once
        once = (item.key, status, message.to_tag)
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


def _failed_guard(
    engine: object, insts: Iterable[Instance], event: Event, state: str
) -> Guard | None:
    """The (last) guard of the rows ``event`` triggers in ``state`` that fails for one of
    ``insts``: what a "guard failed" ProtocolError is about."""
    if not isinstance(engine, TableMachine):
        return None
    rows = engine.table.get((state, engine.classifier.classify(event) or ""), ())
    found = None
    for inst in insts:
        for row in rows:
            for guard in row.guards:
                if not guard.check(inst, event):
                    found = guard
    return found


def _state_rfc(decl: MachineDecl, state: str) -> str:
    """The section of a machine's state (of the machine itself for a pseudo-state)."""
    return decl.state(state).rfc if state in decl.state_names else decl.rfc


_ENDPOINTS: dict[str, str] = {"peer": "peer"}


def _endpoint(text: str) -> str:
    """`normalize_endpoint`, memoised (a trace names few endpoints many times)."""
    found = _ENDPOINTS.get(text)
    if found is None:
        found = normalize_endpoint(text)
        if len(_ENDPOINTS) < 10_000:
            _ENDPOINTS[text] = found
    return found


_TU_CANCEL: Final = TUCancel()


def _same_response(a: Message, b: Response) -> bool:
    return type(a) is Response and a.status == b.status and a.to_tag == b.to_tag


class TraceError(SipFsmError):
    """A trace that cannot be checked as asked (for example ``--as`` names no endpoint)."""

    def __init__(self, path: Path | str, what: str) -> None:
        super().__init__(f"{shown(path)}: {what}")


def check_files(
    paths: Sequence[Path | str],
    fmt: str = "auto",
    as_addr: str | None = None,
    profile: str = "rfc6026",
    max_file_size: int = MAX_FILE_SIZE,
    **options: float,
) -> CheckReport:
    """Read and check trace files; see the module docstring. Raises a `SipFsmError`
    (naming the file and position) for an unusable file (`sipfsm.check.capture.read`;
    ``max_file_size`` octets at most); what cannot be read of a usable one is counted
    unparseable. ``options``: ``t1``, ``t2``, ``t4`` (seconds) and ``tolerance`` /
    ``tolerance_rel`` for the timer comparisons."""
    checker = Checker(profile, **options)
    # The replay keeps many small objects alive until the end; the cyclic collector would
    # rescan them again and again (measured: a third of the time on 100,000 messages).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return checker.check((read(p, fmt, max_file_size) for p in paths), as_addr)
    finally:
        if collecting:
            gc.enable()


__all__ = [
    "ACCEPTED",
    "CHECK_RULES",
    "UNKNOWN",
    "CheckReport",
    "Checker",
    "Deviation",
    "Rule",
    "TraceError",
    "check_files",
]
