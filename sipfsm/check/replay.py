"""The third layer of the checker's replay: one message at one endpoint (`MessageReplay`).
A request the endpoint sent is a TU request to a new client transaction or a
retransmission, a response it sent a TU response or a retransmission, what it received a
network event; each goes to its transaction and, as RFC 3261's layering passes it up or
down, to the endpoint's dialogs (`sipfsm.check.dialog_replay`). See the module docstring
of `sipfsm.check.checker` for what the machines decide.
"""

from __future__ import annotations

from typing import Final

from sipfsm.check.clock import TimerReplay
from sipfsm.check.rules import (
    ACCEPTED,
    RETRANSMIT,
    UNKNOWN,
    forwarded,
)
from sipfsm.check.state import Item, ReplayCall, ReplayTx, Side
from sipfsm.decl.timers import TIMERS
from sipfsm.elements import core
from sipfsm.elements.dialogs import Routed
from sipfsm.elements.matching import (
    machine_for,
)
from sipfsm.values.events import (
    MessageSent,
    RequestReceived,
    Respond,
    ResponseReceived,
    SendMessage,
    ToTU,
    TUCancel,
    TURequest,
    TUResponse,
    timer_fired,
)
from sipfsm.values.message import Message, Request, Response


class MessageReplay(TimerReplay):
    """One message at one endpoint (see the module docstring)."""

    # -- per message ------------------------------------------------------------------------

    def _process(self, side: Side, item: Item, message: Message, sent: bool) -> None:
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

    def _new_tx(
        self, side: Side, call: ReplayCall, item: Item, request: Request, role: str
    ) -> ReplayTx:
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
        tx = ReplayTx(side, call, self._tx_count, machine, engine, request, key, role)
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

    def _sent_request(self, side: Side, item: Item, request: Request) -> None:
        now = item.time
        call = side.calls.get(request.call_id)
        if call is None:
            call = side.calls[request.call_id] = ReplayCall()
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
        self, side: Side, call: ReplayCall, tx: ReplayTx, item: Item, request: Request
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
        self, side: Side, call: ReplayCall, item: Item, ack: Request, tx: ReplayTx | None
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

    def _retransmission(self, tx: ReplayTx, item: Item, now: float) -> None:
        """The endpoint resent its request (client) or last response (server)."""
        timer = RETRANSMIT.get(tx.machine, "")
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

    def _received_request(self, side: Side, item: Item, request: Request) -> None:
        now = item.time
        call = side.calls.get(request.call_id)
        if call is None:
            call = side.calls[request.call_id] = ReplayCall()
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
        self, side: Side, call: ReplayCall, tx: ReplayTx, item: Item, event: RequestReceived
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
        self, side: Side, call: ReplayCall, tx: ReplayTx, item: Item, event: RequestReceived
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

    def _received_2xx_ack(self, side: Side, call: ReplayCall, item: Item, ack: Request) -> None:
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
    def _sent_response(self, side: Side, item: Item, response: Response) -> None:  # noqa: C901
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

    def _received_response(self, side: Side, item: Item, response: Response) -> None:
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
        if passed and tx.accepted_at < 0 and tx.machine == "ict" and 200 <= status < 300:
            tx.accepted_at = now  # (RFC 3261 §13.2.2.4: `_flush_ended`)
        if passed and dset is not None:
            routed = self._dialog(dset, event, now, item.index, remote=response.to_tag)
            self._ack_asked(tx, routed, response, item)
        if tx.deadlines and min(tx.deadlines.values())[0] <= now:
            self._settle(tx, now)

    def _ack_asked(
        self, tx: ReplayTx, routed: list[Routed] | None, response: Response, item: Item
    ) -> None:
        """The dialog told the UAC core to ACK a 2xx (`ToTU("send_ack")`, RFC 3261
        §13.2.2.4): in the endpoint's own view the endpoint must send it within the
        tolerance; in a capture taken elsewhere on the path, the 2xx seen may never have
        reached it (the UAS resends it, §13.3.1.4), so the ACK is owed only by the time the
        UAS gives up, 64*T1 after this 2xx. A proxy (it forwarded the INVITE: more than one
        Via) forwards the 2xx and owes no ACK; the ACK is the UAC's, end to end (§16.7)."""
        if tx.request is not None and forwarded(tx.request):
            return
        wait = self.tol_abs if self.own_view else self._t64.value("64*T1") + self.tol_abs
        for _tag, action in routed or ():
            if type(action) is ToTU and action.what == "send_ack":
                self._expect(tx, "ack2xx", item.time + wait, response, item.index)
                return


_TU_CANCEL: Final = TUCancel()


def _same_response(a: Message, b: Response) -> bool:
    return type(a) is Response and a.status == b.status and a.to_tag == b.to_tag
