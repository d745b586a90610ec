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
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, Final

from sipfsm.check.capture import MAX_FILE_SIZE, SENDER, Record, Trace, read, shown
from sipfsm.check.replay import MessageReplay
from sipfsm.check.report import CheckReport, DialogReport, TraceError, TransactionReport
from sipfsm.check.rules import (
    ACCEPTED,
    CHECK_RULES,
    TOLERANCE_ABS,
    TOLERANCE_REL,
    TOLERANCE_SIM,
    UNKNOWN,
    Deviation,
    Rule,
)
from sipfsm.check.state import Item, Side
from sipfsm.elements.matching import normalize_endpoint, transaction_key
from sipfsm.values.message import Request, Response
from sipfsm.values.wire import WireError, parse

_TIME: Final = attrgetter("time")
_SRC: Final = attrgetter("src")
_DST: Final = attrgetter("dst")
_MESSAGE: Final = itemgetter("message")
#: Messages parsed before they are replayed (`Checker._replay_captured`).
_BATCH: Final = 512

# -- the checker ---------------------------------------------------------------------------------


class Checker(MessageReplay):
    """Replays traces; one instance per `check_files` call (its state: `DialogReplay`)."""

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
        self.own_view = (
            as_addr is not None or trace.local is not None or trace.observations is not None
        )
        sides = {name: Side(name) for name in sorted(views)}
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
        sides: dict[str, Side],
        src: str,
        dst: str,
        framed: bool = False,
    ) -> Item | None:
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
        item = Item(index, record, message, transaction_key(message), src, dst)
        if type(message) is Response:
            status = message.status
            self._codes[index] = status
            if status >= 400:
                self._message_rules(item, message, src, dst, sides)
        return item

    def _replay_captured(
        self, trace: Trace, sides: dict[str, Side], names: dict[str, str]
    ) -> list[Item]:
        """One capture point: each message is seen by its sender and its receiver at its
        time. Returns the messages no transaction or dialog had taken when they came."""
        matched = self._matched
        base = index = self.report.messages
        unsure: list[Item] = []
        framed = trace.format in ("pcap", "pcapng")
        # (`_process`, inlined: this runs twice for every message; the methods are called
        # on self, which the compiled build makes direct calls)
        #: an address as the trace writes it -> (its name in the report, its side if checked)
        ends: dict[str, tuple[str, Side | None]] = {}
        records = trace.records
        # in time order: `Trace.order` when the file is not (a message keeps its number)
        order = trace.order
        # Parsed a batch at a time, then replayed: each loop keeps its own code and data in
        # the processor's caches (measured: parsing costs half as much again when every
        # message is parsed between two replay steps).
        for start in range(0, len(records), _BATCH):
            batch: list[tuple[Item, Side | None, Side | None]] = []
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
        self, trace: Trace, sides: dict[str, Side], names: dict[str, str]
    ) -> list[Item]:
        """A simulator trace: each endpoint sees a message at its own time -- the sender when
        it sent it, the receiver at each delivery (never when it was lost, twice when it
        was duplicated). Returns every message read."""
        assert trace.observations is not None
        base = self.report.messages
        records = trace.records
        items: list[Item | None] = [None] * len(records)
        read: list[Item] = []
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

    def _report_side(self, side: Side) -> None:
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
    def _why_unmatched(item: Item, views: set[str], names: dict[str, str]) -> str:
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


_ENDPOINTS: dict[str, str] = {"peer": "peer"}


def _endpoint(text: str) -> str:
    """`normalize_endpoint`, memoised (a trace names few endpoints many times)."""
    found = _ENDPOINTS.get(text)
    if found is None:
        found = normalize_endpoint(text)
        if len(_ENDPOINTS) < 10_000:
            _ENDPOINTS[text] = found
    return found


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
    "DialogReport",
    "Rule",
    "TraceError",
    "TransactionReport",
    "check_files",
]
