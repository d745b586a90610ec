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
  (RFC 3261 §17.1, §17.2: each machine's last state is Terminated); at a proxy, every
  branch (client transaction) and response context too (§16.7).

At a stateful proxy (RFC 3261 §16; the run names its proxies):

* ``one-final-response`` allows the 2xx responses a proxy forwards from other branches
  after the first (§16.7 step 5: every 2xx is forwarded), and only those; a response a
  proxy forwards statelessly passes through no server transaction and is not counted
  (profile rfc3261 only: §16.7 paragraph 1 forwards a response that matches no client
  transaction, e.g. a 408 retransmitted by the next hop after this proxy's own Timer B;
  RFC 6026 §7.3 drops it).
* ``proxy-final-response`` -- each request a proxy receives (but ACK) gets a final response
  from it upstream (§16.7 step 9, §16.10: a CANCEL's 200), by the end of the run; but for
  a request it forwards statelessly (a CANCEL that found no response context, §16.10),
  which the next hop answers.
* ``response-without-branch`` -- a proxy forwards a response only if it came back on a
  branch the proxy opened (the top Via its own, with a branch it sent), and forwards it to
  the element of the next Via (§16.7 steps 1 and 3).
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
    "proxy-final-response": (
        "RFC 3261 §16.7, §16.10",
        "a proxy answers every request it receives (but ACK) with a final response",
    ),
    "response-without-branch": (
        "RFC 3261 §16.7",
        "a proxy forwards only responses of its own branches, to the next Via",
    ),
}


_Call = tuple[str, str]  # (element, Call-ID)


class Invariants:
    """The books of one run. The network calls `on_send`/`on_deliver`; elements call
    `report` for what only they can see; the run calls `leaked` at the end."""

    __slots__ = (
        "_branches",
        "_finals",
        "_invite_branches",
        "_offers",
        "_pending",
        "_proxy_requests",
        "_proxy_responses",
        "_received_invites",
        "proxies",
        "recorder",
        "violations",
    )

    def __init__(self, recorder: Recorder, proxies: frozenset[str] = frozenset()) -> None:
        self.recorder = recorder
        self.proxies = proxies
        self.violations: list[InvariantViolation] = []
        # (proxy, branch): the branches of the requests each proxy sent
        self._branches: set[tuple[str, str]] = set()
        # (proxy, branch, sent-by, method, CSeq) of each request a proxy received -> whether
        # the proxy sent a final response to it
        self._proxy_requests: dict[tuple[str, str, str, str, int], bool] = {}
        # a response as a proxy received it (its fields once the top Via is taken off) ->
        # the branch of the top Via it came with
        self._proxy_responses: dict[tuple[object, ...], str] = {}
        # (element, transaction) -> the first final response it sent
        self._finals: dict[tuple[str, ...], Response] = {}
        # our INVITE/UPDATE requests without a final response yet: (method, CSeq)
        self._pending: dict[_Call, set[tuple[str, int]]] = {}
        # CSeq numbers of INVITEs we answered with an offer in a 2xx, ACK not yet received
        self._offers: dict[_Call, set[int]] = {}
        # (element, Call-ID, CSeq) -> whether the INVITE we received carried a body
        self._received_invites: dict[tuple[str, str, int], bool] = {}
        # (element, Call-ID, CSeq) -> the branch of that INVITE: the ACK of a non-2xx final
        # response shares it (RFC 3261 §17.1.1.3), the ACK of a 2xx has its own (§13.2.2.4)
        self._invite_branches: dict[tuple[str, str, int], str] = {}

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
            if self.proxies and src in self.proxies:  # (most runs have none: no lookup)
                self._branches.add((src, message.branch))
                if not tx and message.vias:
                    # forwarded statelessly (a CANCEL that found no response context,
                    # RFC 3261 §16.10): the next hop answers it, not this proxy
                    sent_by, branch = message.vias[0]
                    received = (src, branch, sent_by, message.method, message.cseq)
                    if received in self._proxy_requests:
                        self._proxy_requests[received] = True
            return
        status = message.status
        if self.proxies and src in self.proxies:
            self._proxy_sent(src, dst, message)
        if status < 200:
            return
        if not tx and src in self.proxies:
            # forwarded statelessly, through no server transaction (profile rfc3261: a
            # response matching no client transaction, RFC 3261 §16.7 paragraph 1, or a 2xx
            # after the server transaction ended, step 9); RFC 6026 §7.3, §8.3 drop both
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
            forwarded_2xx = src in self.proxies and status < 300 and first.status < 300
            if first is not message and not (status < 300 and first == message) and not (
                forwarded_2xx
            ):
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

    def _proxy_sent(self, src: str, dst: str, response: Response) -> None:
        """A proxy sent ``response``: a final one answers the request it received; one it
        forwards came back on a branch of its own, and goes to the next Via."""
        key = (src, response.branch, response.sent_by, response.method, response.cseq)
        if response.status >= 200 and key in self._proxy_requests:
            self._proxy_requests[key] = True
        came_on = self._proxy_responses.get(
            _response_key(src, response, response.branch, response.sent_by)
        )
        if came_on is None:
            return  # the proxy's own response (100, 200 to CANCEL, 408, 480, 483 ...)
        if (src, came_on) not in self._branches:
            self.report(
                src,
                "response-without-branch",
                f"{response.summary()} {response.status} forwarded to {dst}, but it came "
                f"back on branch {came_on}, which {src} never sent",
            )
        elif dst != response.sent_by.split(".", 1)[0]:
            self.report(
                src,
                "response-without-branch",
                f"{response.summary()} {response.status} forwarded to {dst}, not to the "
                f"element of its next Via ({response.sent_by})",
            )

    def on_deliver(self, dst: str, message: Message) -> None:
        if self.proxies and dst in self.proxies:
            if isinstance(message, Request):
                if message.method != "ACK":
                    key = (dst, message.branch, message.sent_by, message.method, message.cseq)
                    self._proxy_requests.setdefault(key, False)
            elif message.vias and message.sent_by.split(".", 1)[0] == dst:
                sent_by, branch = message.vias[0]  # what it is once forwarded (§16.7 step 3)
                self._proxy_responses[_response_key(dst, message, branch, sent_by)] = (
                    message.branch
                )
        if isinstance(message, Request):
            if message.method == "INVITE":
                invite_key = (dst, message.call_id, message.cseq)
                self._received_invites.setdefault(invite_key, bool(message.body))
                self._invite_branches.setdefault(invite_key, message.branch)
            elif message.method == "ACK":
                offers = self._offers.get((dst, message.call_id))
                if offers and message.branch != self._invite_branches.get(
                    (dst, message.call_id, message.cseq)
                ):  # the ACK of the 2xx
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

    def unanswered(self) -> None:
        """The end of the run: every request a proxy received has had its final response."""
        for (proxy, branch, _, method, cseq), answered in self._proxy_requests.items():
            if not answered:
                self.report(
                    proxy,
                    "proxy-final-response",
                    f"{method} (CSeq {cseq}, branch {branch}) got no final response from "
                    f"{proxy}",
                )


def _response_key(
    proxy: str, response: Response, branch: str, sent_by: str
) -> tuple[object, ...]:
    """A response at ``proxy`` with the top Via (``sent_by``, ``branch``) it is sent with."""
    return (
        proxy,
        response.status,
        response.method,
        response.call_id,
        response.cseq,
        response.to_tag,
        branch,
        sent_by,
    )
