"""What RFC 3261 gives the UA core outside the transactions and the dialog, as data: each
duty the `sipfsm.elements.endpoint.Endpoint` carries out, with its section. The generated
page docs/ua-core.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["DUTIES", "TU_HOOKS", "Duty"]



@dataclass(frozen=True, slots=True)
class Duty:
    """A duty RFC 3261 gives the UA core outside the transactions and the dialog: its
    section, who has it (``UAC``, ``UAS`` or ``UA``), when, and what the Endpoint does.
    (Data read by the docs, never per message: a dataclass, not a compiled value.)"""

    rfc: str
    who: str
    when: str
    what: str


#: What the Endpoint does that no machine declares, each with its section (docs/ua-core.md).
DUTIES: Final[tuple[Duty, ...]] = (
    Duty(
        "RFC 3261 §8.2.6.2, §12.1.1",
        "UAS",
        "it answers a request",
        "adds a To tag to every response but 100 Trying; one tag per initial INVITE, so "
        "every response to it names the same dialog",
    ),
    Duty(
        "RFC 3261 §12.1.1",
        "UAS",
        "it sends a 101-299 to an INVITE",
        "copies every Record-Route of the request into it, in order, as it was; keeps them "
        "as the dialog's route set and the INVITE's Contact as its remote target",
    ),
    Duty(
        "RFC 3261 §12.1.2, §13.2.2.4, §12.2",
        "UAC",
        "a 101-299 to the initial INVITE makes or confirms a dialog",
        "takes its Record-Route, reversed, as the dialog's route set (and its Contact as "
        "the remote target); the first 2xx recomputes it, and from then on it is fixed: a "
        "2xx to a re-INVITE changes the remote target only",
    ),
    Duty(
        "RFC 3261 §12.2.1.1, §8.1.2",
        "UA",
        "it sends a request in a dialog (a BYE, a re-INVITE, the ACK of a 2xx ...)",
        "builds its Request-URI and Route from the remote target and the route set: the "
        "remote target and Route = the route set when the first route has lr (loose); the "
        "first route as Request-URI and the rest, then the remote target, as Route when it "
        "has not (strict); sends it to the first route, else to the remote target. A "
        "CANCEL and the ACK of a non-2xx go where their INVITE went, with its Route (§9.1, "
        "§17.1.1.3)",
    ),
    Duty(
        "RFC 3261 §13.2.2.4",
        "UAC",
        "the dialog says a 2xx to INVITE needs its ACK (send_ack)",
        "sends the ACK outside any transaction, with the INVITE's CSeq number, a new branch, "
        "and an answer when the 2xx carried an offer; a retransmitted 2xx gets the same ACK",
    ),
    Duty(
        "RFC 3261 §13.2.2.4",
        "UAC",
        "a 2xx confirms a second dialog of the initial INVITE (forking; the dialog set says "
        "end_fork)",
        "ACKs it, then ends that dialog with a BYE: the UA keeps the first session",
    ),
    Duty(
        "RFC 3261 §13.2.2.4",
        "UAC",
        "the INVITE client transaction ends on its first 2xx (profile rfc3261)",
        "considers the INVITE transaction completed only 64*T1 after that 2xx: until then "
        "the early dialogs of other forks live, and a late 2xx confirms its dialog (under "
        "rfc6026 the transaction itself waits, Timer M)",
    ),
    Duty(
        "RFC 3261 §13.3.1.4, RFC 6026 §8.1",
        "UAS",
        "it sends a 2xx to INVITE",
        "retransmits it every T1, doubling up to T2, whatever the transport, until the ACK "
        "arrives or the dialog is gone (RFC 5407 §2)",
    ),
    Duty(
        "RFC 3261 §13.3.1.4, §14.2",
        "UAS",
        "no ACK came 64*T1 after the 2xx (to the initial INVITE or to a re-INVITE)",
        "ends the session with a BYE, under both profiles (unless the dialog already said "
        "so), held until the dialog leaves Moratorium (§15)",
    ),
    Duty(
        "RFC 3261 §9.1",
        "UAC",
        "the INVITE client transaction says send_cancel (at once, or after the first "
        "provisional)",
        "builds the CANCEL (same Request-URI, Call-ID, To, From, CSeq number and top Via) "
        "and sends it in a client transaction of its own",
    ),
    Duty(
        "RFC 3261 §9.2",
        "UAS",
        "a CANCEL arrives",
        "answers it (sipfsm.elements.core.handle_cancel): 200 and then 487 to the INVITE "
        "still in Proceeding, 481 when it matches no transaction",
    ),
    Duty(
        "RFC 3261 §14.1",
        "UA",
        "the glare timer fires and the dialog hands back the refused request (retry)",
        "sends it again as a new request (new CSeq and branch) unless retry_491 is off; if "
        "the dialog now refuses it, the retry is dropped",
    ),
    Duty(
        "RFC 3261 §12.2.1.2, §15",
        "UA",
        "the dialog says the INVITE usage ended (send_bye, reject_invite)",
        "sends the BYE; the callee of an early dialog answers the INVITE with reject_code "
        "(480 by default) instead, as it MUST NOT send BYE",
    ),
    Duty(
        "RFC 3261 §12.2.2, §15.1.2",
        "UAS",
        "a request names no dialog of this UA",
        "answers 481 (sipfsm.elements.core.respond_unmatched); an ACK is absorbed",
    ),
    Duty(
        "RFC 3261 §18.1.2, RFC 6026 §8.9",
        "UAC",
        "a response matches no client transaction",
        "passes it to the dialog under rfc3261 (a 2xx retransmission after the INVITE "
        "transaction ended); drops it under rfc6026",
    ),
    Duty(
        "RFC 3261 §18.2.1, RFC 5407 §3.1.1",
        "UAS",
        "a request matches no server transaction",
        "creates one for it, unless the dialog recognises the initial INVITE again "
        "(rfc3261 only)",
    ),
)


#: What the Endpoint tells its TU (`sipfsm.elements.endpoint.TransactionUser`, a method
#: each) and when; the TU answers through the Endpoint (respond, send_request, cancel).
TU_HOOKS: Final[tuple[tuple[str, str], ...]] = (
    ("request", "a request reached the TU (with its server transaction, and whether the UA "
     "core or the dialog already answered it)"),
    ("ack", "an ACK for a 2xx reached the TU (RFC 3261 §13.3.1.4)"),
    ("cancel", "a CANCEL was answered by the UA core (RFC 3261 §9.2)"),
    ("response", "a response to one of the TU's requests"),
    ("event", "a client transaction ended without a final response: timeout, "
     "transport_error or cancelled"),
    ("dialog", "a dialog entered a state the TU waits for (dialog_states)"),
    ("error", "the endpoint refused what the TU or its own core asked for"),
)  # fmt: skip
