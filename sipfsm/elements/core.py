"""The UA core rules above the dialog layer (RFC 3261 §8.2, §9.2, §12, §12.2.2, §15.1.2).

Small pure functions: they read messages (and, for CANCEL, the server transactions a UA
holds) and return the answer the UA core decides, as `sipfsm.values.events.Respond` actions. The
dialog layer (`sipfsm.machines.dialog`) uses them for requests that match no dialog.

* `dialog_id`: the dialog ID of a message as RFC 3261 §12 computes it at a UAC or a UAS.
* `handle_cancel`: RFC 3261 §9.2 -- a CANCEL matching no transaction gets 481; one matching
  an INVITE server transaction that has not sent a final response gets 200 and the INVITE
  gets 487; one matching a transaction that has answered (or a non-INVITE one) gets 200 and
  changes nothing. A CANCEL itself never gets a 487 (§21.4.25).
* `respond_unmatched`: a request whose To tag matches no dialog gets 481 (§12.2.2), a BYE
  that matches no dialog gets 481 even without tags (§15.1.2), an ACK is absorbed (an ACK
  is never answered, §17.1.1.3).
* `invite_completed_at`: RFC 3261 §13.2.2.4 -- when the UAC core considers an INVITE
  client transaction that got a 2xx completed (64*T1 after the first 2xx, under
  ``rfc3261``), which is when its dialogs hear of its end.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from sipfsm.decl.timers import Timing
from sipfsm.elements import matching
from sipfsm.elements.matching import DialogId
from sipfsm.values.errors import SipFsmError
from sipfsm.values.events import Respond
from sipfsm.values.message import MAGIC_COOKIE, Message, Request, Response

__all__ = [
    "CoreError",
    "DialogId",
    "ServerTransactionView",
    "address_of",
    "dialog_id",
    "find_cancelled",
    "handle_cancel",
    "has_final_response",
    "invite_completed_at",
    "matches_cancel",
    "respond_unmatched",
]


def address_of(uri_or_host: str) -> str:
    """The simulator address of a URI's, Contact's, Route's or sent-by's host: its first
    label (``sip:bob@bob.example.com``, ``<sip:p1.example.com;lr>`` and ``bob.example.com``
    name ``bob``, ``p1``, ``bob``), as the simulator names its elements."""
    text = uri_or_host.strip().strip("<>")
    if ":" in text and not text.split(":", 1)[0].replace(".", "").isdigit():
        text = text.split(":", 1)[1]
    host = text.split("@", 1)[-1]
    host = host.split(";", 1)[0].split(">", 1)[0]
    return host.split(".", 1)[0]


class CoreError(SipFsmError, ValueError):
    """A UA core function was given something it does not handle (a caller's bug)."""


# -- dialog IDs (RFC 3261 §12) --------------------------------------------------------------


def dialog_id(message: Message, *, received: bool) -> DialogId:
    """The dialog ID of ``message`` at this UA (RFC 3261 §12): a request we received, or a
    response we send, is seen as the UAS (local tag = To tag); otherwise as the UAC."""
    uas = received == isinstance(message, Request)
    return matching.dialog_id(message, "server" if uas else "client")


# -- CANCEL (RFC 3261 §9.2) -----------------------------------------------------------------


class ServerTransactionView(Protocol):
    """What `handle_cancel` reads of a server transaction (a `sipfsm.engine.runtime.Instance` of
    the IST or NIST machine fits): the request that created it and its state."""

    @property
    def request(self) -> Request | None: ...

    @property
    def state(self) -> str: ...


_S = TypeVar("_S", bound=ServerTransactionView)

#: The states in which a server transaction has not yet sent a final response (RFC 3261
#: §17.2.1 Proceeding; §17.2.2 Trying and Proceeding).
NO_FINAL_STATES = frozenset({"proceeding", "trying"})


def has_final_response(transaction: ServerTransactionView) -> bool:
    """Whether the server transaction has sent a final response (it left Proceeding)."""
    return transaction.state not in NO_FINAL_STATES


def matches_cancel(cancel: Request, request: Request) -> bool:
    """Whether ``cancel`` cancels ``request``: the matching rules of RFC 3261 §17.2.3 with
    the method ignored (§9.2). A branch with the magic cookie matches on branch and
    sent-by; an RFC 2543 branch on Request-URI, To tag, From tag, Call-ID, CSeq number and
    the top Via."""
    if request.method in ("CANCEL", "ACK"):
        return False
    if cancel.branch.startswith(MAGIC_COOKIE):
        return cancel.branch == request.branch and cancel.sent_by == request.sent_by
    return (
        cancel.uri == request.uri
        and cancel.to_tag == request.to_tag
        and cancel.from_tag == request.from_tag
        and cancel.call_id == request.call_id
        and cancel.cseq == request.cseq
        and cancel.branch == request.branch
        and cancel.sent_by == request.sent_by
    )


def find_cancelled(cancel: Request, transactions: Iterable[_S]) -> _S | None:
    """The server transaction ``cancel`` is for, if it still exists (not Terminated)."""
    _check_cancel(cancel)
    for tr in transactions:
        req = tr.request
        if req is not None and tr.state != "terminated" and matches_cancel(cancel, req):
            return tr
    return None


def handle_cancel(cancel: Request, transactions: Iterable[ServerTransactionView]) -> list[Respond]:
    """The UAS core's answer to a CANCEL (RFC 3261 §9.2), given its server transactions.

    No match: 481 to the CANCEL. An INVITE server transaction without a final response:
    200 to the CANCEL and 487 to the INVITE. Anything else (the final response was sent,
    or the request is not an INVITE): 200 to the CANCEL only."""
    found = find_cancelled(cancel, transactions)
    if found is None or found.request is None:
        return [Respond(cancel, 481, rfc="RFC 3261 §9.2")]
    out = [Respond(cancel, 200, rfc="RFC 3261 §9.2")]
    if found.request.method == "INVITE" and not has_final_response(found):
        out.append(Respond(found.request, 487, rfc="RFC 3261 §9.2"))
    return out


def _check_cancel(cancel: object) -> None:
    if not isinstance(cancel, Request) or cancel.method != "CANCEL":
        shown = cancel.summary() if isinstance(cancel, Request | Response) else repr(cancel)
        raise CoreError(f"handle_cancel expects a CANCEL request, got {shown}")


# -- requests that match no dialog (RFC 3261 §12.2.2, §15.1.2) --------------------------------


def respond_unmatched(request: Request) -> list[Respond]:
    """The UA core's answer to a request that matches no existing dialog.

    * ACK: absorbed, never answered (§17.1.1.3; a 2xx's ACK for a dialog that is gone).
    * BYE: 481 (§15.1.2), with or without tags.
    * a request with a To tag: 481 (§12.2.2; the UAS does not recreate the dialog).
    CANCEL is answered by `handle_cancel` and a request without To tag is outside any
    dialog (§8.2): both are refused here with `CoreError`."""
    if not isinstance(request, Request):
        raise CoreError(f"respond_unmatched expects a request, got {request!r}")
    if request.method == "ACK":
        return []
    if request.method == "BYE":
        return [Respond(request, 481, rfc="RFC 3261 §15.1.2")]
    if request.method == "CANCEL":
        raise CoreError(
            "a CANCEL is matched to transactions, not dialogs: use handle_cancel (RFC 3261 §9.2)"
        )
    if request.to_tag:
        return [Respond(request, 481, rfc="RFC 3261 §12.2.2")]
    raise CoreError(
        f"{request.summary()} has no To tag: it is outside any dialog "
        "(RFC 3261 §8.2), not an unmatched in-dialog request"
    )


def invite_completed_at(profile: str, accepted_at: float, timing: Timing) -> float:
    """RFC 3261 §13.2.2.4: "the UAC core considers the INVITE transaction completed 64*T1
    seconds after the reception of the first 2xx response". Under ``rfc3261`` the INVITE
    client transaction itself ends on that 2xx, so its dialogs hear of its end
    (``TransactionEnded``) only then: until then the early dialogs of other forks live, and
    a late 2xx confirms its dialog. The time of that completion for an INVITE client
    transaction that passed up its first 2xx at ``accepted_at``; -1.0 when the
    transaction's own end is its completion (no 2xx: ``accepted_at`` < 0; or ``rfc6026``,
    whose Timer M waits in the transaction itself). The `sipfsm.elements.endpoint.Endpoint`
    and the trace checker's replay both follow it."""
    if accepted_at < 0 or profile != "rfc3261":
        return -1.0
    return accepted_at + timing.value("64*T1")
