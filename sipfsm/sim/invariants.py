"""The invariants checked in every run, reported as violations.

They are an oracle: they watch what the elements put on the wire and what the network
delivers, and keep their own small books, independent of the machines that produced the
messages (so a machine that broke a rule is caught by something other than itself).

* ``one-final-response`` -- a server transaction sends at most one final response; only
  a 2xx may be sent again, unchanged (RFC 3261 §17.2.1, §17.2.2, §13.3.1.4). A transaction
  is named by its element (the ``tx`` of the send; the UA core's 2xx retransmissions carry
  the id of the INVITE server transaction), else by the response's branch, sent-by,
  method and CSeq.
* ``no-487-to-cancel`` -- a 487 is never the answer to a CANCEL itself (RFC 3261 §21.4.25).
* ``491-without-pending`` -- a UA sends 491 only while a re-INVITE or UPDATE of its own is
  pending on the Call-ID (it has not received its final response), or an offer it made in a
  2xx awaits the ACK (RFC 3261 §14.2, RFC 3311 §5.2, RFC 5407 §3.1.5).
* ``send-after-terminated`` -- no message comes from a transaction that has ended (RFC
  3261 §17: a Terminated transaction is destroyed).
* ``leaked-transaction`` -- every transaction ends: none is left when the clock runs out
  (RFC 3261 §17.1, §17.2: each machine's last state is Terminated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sipfsm.sim.values import InvariantViolation
from sipfsm.values.message import Message, Request, Response

if TYPE_CHECKING:
    from sipfsm.sim.recorder import Recorder

__all__ = ["INVARIANTS", "InvariantViolation", "Invariants"]

#: Each invariant: its name, the section it comes from, and what it says.
INVARIANTS: Final[dict[str, tuple[str, str]]] = {
    "one-final-response": (
        "RFC 3261 §17.2.1, §17.2.2",
        "at most one final response per server transaction, except 2xx retransmissions",
    ),
    "no-487-to-cancel": ("RFC 3261 §21.4.25", "never 487 to a CANCEL"),
    "491-without-pending": (
        "RFC 3261 §14.2",
        "491 only while a re-INVITE or offer of the receiver is pending",
    ),
    "send-after-terminated": ("RFC 3261 §17", "no message from a terminated transaction"),
    "leaked-transaction": ("RFC 3261 §17.1, §17.2", "every transaction ends"),
}


_Call = tuple[str, str]  # (element, Call-ID)


class Invariants:
    """The books of one run. The network calls `on_send`/`on_deliver`; elements call
    `report` for what only they can see; the run calls `leaked` at the end."""

    __slots__ = ("_finals", "_offers", "_pending", "_received_invites", "recorder", "violations")

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.violations: list[InvariantViolation] = []
        # (element, transaction) -> the first final response it sent
        self._finals: dict[tuple[str, ...], Response] = {}
        # our INVITE/UPDATE requests without a final response yet: (method, CSeq)
        self._pending: dict[_Call, set[tuple[str, int]]] = {}
        # CSeq numbers of INVITEs we answered with an offer in a 2xx, ACK not yet received
        self._offers: dict[_Call, set[int]] = {}
        # (element, Call-ID, CSeq) -> whether the INVITE we received carried a body
        self._received_invites: dict[tuple[str, str, int], bool] = {}

    def report(self, element: str, rule: str, text: str, rfc: str = "") -> None:
        rfc = rfc or INVARIANTS[rule][0]
        now = self.recorder.loop.now
        self.violations.append(InvariantViolation(now, element, rule, text, rfc))
        self.recorder.add("violation", element, rfc=rfc, text=f"{rule}: {text}")

    # -- the wire -------------------------------------------------------------------------

    def on_send(
        self, src: str, dst: str, message: Message, terminated: bool = False, tx: str = ""
    ) -> None:
        if terminated:
            self.report(
                src,
                "send-after-terminated",
                f"{message.summary()} sent by {tx or 'a transaction'} after it ended",
            )
        if isinstance(message, Request):
            if message.method in ("INVITE", "UPDATE"):
                self._pending.setdefault((src, message.call_id), set()).add(
                    (message.method, message.cseq)
                )
            return
        status = message.status
        if status < 200:
            return
        # the server transaction, as the element names it (a transaction destroyed and
        # created again for the same request is another one, RFC 3261 §17.2.1)
        key = (
            (src, tx)
            if tx
            else (src, message.branch, message.sent_by, message.method, str(message.cseq))
        )
        first = self._finals.get(key)
        if first is not None:  # a retransmission, or a second final response
            if first is not message and not (status < 300 and first == message):
                self.report(
                    src,
                    "one-final-response",
                    f"{message.summary()} sent to {dst} after {first.summary()} on the "
                    "same server transaction",
                )
            return
        self._finals[key] = message
        if status == 487 and message.method == "CANCEL":
            self.report(
                src,
                "no-487-to-cancel",
                f"487 sent to {dst} in answer to a CANCEL (CSeq {message.cseq})",
            )
        elif status == 491:
            call = (src, message.call_id)
            if not self._pending.get(call) and not self._offers.get(call):
                self.report(
                    src,
                    "491-without-pending",
                    f"491 to {message.method} (CSeq {message.cseq}) sent to {dst} with "
                    "no re-INVITE, UPDATE or offer of its own pending",
                )
        elif (
            message.method == "INVITE"
            and status < 300
            and message.body
            and not self._received_invites.get((src, message.call_id, message.cseq), True)
        ):
            self._offers.setdefault((src, message.call_id), set()).add(message.cseq)

    def on_deliver(self, dst: str, message: Message) -> None:
        if isinstance(message, Request):
            if message.method == "INVITE":
                self._received_invites.setdefault(
                    (dst, message.call_id, message.cseq), bool(message.body)
                )
            elif message.method == "ACK":
                offers = self._offers.get((dst, message.call_id))
                if offers:
                    offers.discard(message.cseq)
            return
        if message.status >= 200 and message.method in ("INVITE", "UPDATE"):
            pending = self._pending.get((dst, message.call_id))
            if pending:
                pending.discard((message.method, message.cseq))

    # -- the end of a run ---------------------------------------------------------------------

    def leaked(self, element: str, transactions: list[str]) -> None:
        for tx in transactions:
            self.report(element, "leaked-transaction", f"{tx} had not ended when the run ended")
