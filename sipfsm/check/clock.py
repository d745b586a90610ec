"""The second layer of the checker's replay: transactions and time. `TimerReplay` feeds one
event to a transaction's machine and keeps its timers' deadlines, fires every timer the
trace has passed (deadline + tolerance: `RETRANSMIT` timers when the endpoint
retransmits), expires what a machine asked the endpoint to send and it never sent
(``no-ack``, ``no-ack-2xx``, ``no-response-retransmission``), and judges an endpoint's
answers against the model's (`_judge`, `_judge_retry`, `_message_rules`). See
`sipfsm.check.dialog_replay` for the layers.
"""

from __future__ import annotations

from typing import Any

from sipfsm.check.dialog_replay import DialogReplay
from sipfsm.check.rules import (
    ACCEPTED,
    GUARD_RULES,
    RETRANSMIT,
    UNKNOWN,
    failed_guard,
    forwarded,
    state_rfc,
)
from sipfsm.check.state import INF, Glare, Item, ReplayCall, ReplaySet, ReplayTx, Side
from sipfsm.decl.timers import TIMERS
from sipfsm.engine.runtime import handle_event, start_instance
from sipfsm.machines.dialog import GLARE_OTHER_STEPS, GLARE_OWNER_STEPS
from sipfsm.values import catalogue
from sipfsm.values.errors import ProtocolError
from sipfsm.values.events import (
    Event,
    SendMessage,
    StartTimer,
    StopTimer,
    ToTU,
    timer_fired,
)
from sipfsm.values.message import Message, Request, Response


class TimerReplay(DialogReplay):
    """Transactions and time: the checker's clock (see the module docstring)."""

    def _run(
        self, tx: ReplayTx, event: Event, at: float, index: int, create: bool = False
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

    def _protocol_error(self, tx: ReplayTx, exc: ProtocolError, event: Event, index: int) -> None:
        rule = "protocol-error"
        rfc = state_rfc(tx.engine.decl, exc.state)
        guard = failed_guard(tx.engine, (tx,), event, exc.state)
        if guard is not None:
            rfc = guard.rfc
            rule = GUARD_RULES.get(guard.name, rule)
        code = getattr(getattr(event, "message", None), "status", None)
        text = f"{tx.side.name}: {exc}"
        if rule == "protocol-error":
            rule = str(exc)
        if not tx.report_once(rule):
            return  # the same fault again (a retransmission): reported once
        self._violate(rule, index, text, tx.side.name, rfc, code)

    def _fire(self, tx: ReplayTx, name: str, at: float) -> None:
        tx.deadlines.pop(name, None)
        actions = self._run(tx, timer_fired(name), at, tx.last_index)
        if not actions:
            return
        retransmit = RETRANSMIT.get(tx.machine)
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
        elif name == "L" and not tx.acked and not self._forwarded_invite(tx):
            self._once(
                tx,
                "no-ack-2xx",
                tx.final_index,
                f"{tx.side.name} never got the ACK of its 2xx (Timer L fired, 64*T1 after it)",
                "RFC 3261 §13.3.1.4, RFC 6026 §8.7",
            )

    @staticmethod
    def _forwarded_invite(tx: ReplayTx) -> bool:
        """Whether the endpoint forwarded the INVITE of its server transaction ``tx`` (it sent
        one with the same Call-ID, CSeq and From tag and more than one Via): a proxy, which
        sees the ACK of a 2xx only if it record-routed (RFC 3261 §16.7, §16.12): its Timer L
        says nothing of the UAC."""
        request = tx.request
        if request is None:
            return False
        out = tx.side.invites.get(("client", request.call_id, tx.cseq, request.from_tag))
        return out is not None and out.request is not None and forwarded(out.request)

    def _once(self, tx: ReplayTx, rule: str, index: int, text: str, rfc: str = "") -> None:
        if not tx.report_once(rule):
            return
        self._violate(rule, index, text, tx.side.name, rfc, self._codes.get(index))

    def _expect(self, tx: ReplayTx, kind: str, expiry: float, message: Message, index: int) -> None:
        """The machine asks the endpoint to send ``message`` by ``expiry``."""
        tx.expects.append((kind, expiry, message, index))
        call = tx.call
        if tx not in call.expecting:
            call.expecting.append(tx)
        if expiry < call.expect_due:
            call.expect_due = expiry

    def _advance(
        self, call: ReplayCall, now: float, hold_tx: ReplayTx | None = None, hold: str = ""
    ) -> None:
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
                best: ReplayTx | None = None
                best_name = ""
                best_at = INF
                for tx in call.live:
                    for name, (deadline, interval) in tx.deadlines.items():
                        if deadline < best_at:
                            slack = tol_rel * interval  # `_tol`, inlined
                            if deadline + (slack if slack > tol_abs else tol_abs) < now and (
                                tx is not hold_tx or name != hold
                            ):
                                best, best_name, best_at = tx, name, deadline
                timer: tuple[ReplaySet, str, str] | None = None
                for key, deadline in call.timers.items():
                    if deadline < best_at and deadline + tol_abs < now:
                        timer, best_at = key, deadline
                if not self._fire_chosen(call, timer, best, best_name, best_at):
                    break
            self._ended = outer
            due = INF
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
        call: ReplayCall,
        timer: tuple[ReplaySet, str, str] | None,
        tx: ReplayTx | None,
        name: str,
        at: float,
    ) -> bool:
        """Fire at ``at`` the timer `_advance` or `_fire_early` chose -- a dialog's
        (``timer``) before a transaction's (``tx``, ``name``) -- and tell the dialogs what
        ended; False when neither was chosen."""
        if timer is not None:
            del call.timers[timer]
            dset, tag, dialog_timer = timer
            ended = dset.pending_ends.pop(dialog_timer, None)
            if ended is not None:  # (`_flush_ended`: RFC 3261 §13.2.2.4)
                self._dialog(dset, ended, at, 0)
            else:
                self._dialog(dset, timer_fired(dialog_timer), at, 0, tag=tag)
        elif tx is not None:
            self._fire(tx, name, at)
        else:
            return False
        self._flush_ended()
        return True

    def _fire_early(self, call: ReplayCall, now: float) -> bool:
        """The endpoint did something its model allows only once a timer has fired (a
        callee's BYE after Timer L, RFC 3261 §15): fire, at ``now``, the call's timers due
        within their tolerance, earliest first -- but not the retransmission timers, which
        the endpoint's retransmissions fire (`_retransmission`). Whether any fired."""
        outer = self._ended
        self._ended = []
        fired = False
        while True:
            best: ReplayTx | None = None
            best_name = ""
            best_at = INF
            for tx in call.live:
                skip = RETRANSMIT.get(tx.machine)
                for name, (deadline, interval) in tx.deadlines.items():
                    if (
                        name != skip
                        and deadline < best_at
                        and deadline - self._tol(interval) <= now
                    ):
                        best, best_name, best_at = tx, name, deadline
            timer: tuple[ReplaySet, str, str] | None = None
            for key, deadline in call.timers.items():
                if deadline < best_at and deadline - self.tol_abs <= now:
                    timer, best_at = key, deadline
            if not self._fire_chosen(call, timer, best, best_name, now):
                break
            fired = True
        self._ended = outer
        return fired

    def _expire(self, call: ReplayCall, now: float) -> None:
        due = INF
        waiting: list[ReplayTx] = []
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

    def _settle(self, tx: ReplayTx, at: float) -> None:
        """Timers of zero duration (D, I, J, K on reliable transports) fire at once (any
        timer whose deadline ``at`` has reached; the callers look at the earliest
        (deadline, interval) first: most often none is due)."""
        deadlines = tx.deadlines
        while deadlines and min(deadlines.values())[0] <= at:
            for name, (deadline, _interval) in deadlines.items():
                if deadline <= at:
                    self._fire(tx, name, at)
                    break

    def _judge_retry(self, dset: ReplaySet, glare: Glare, item: Item, request: Request) -> None:
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

    def _judge(self, tx: ReplayTx, item: Item, response: Response) -> None:
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

    def _message_rules(
        self, item: Item, message: Response, sender: str, receiver: str, sides: dict[str, Side]
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
