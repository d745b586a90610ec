"""The dialog's vocabulary: its triggers (the inputs, one per kind of message sent or
received, per transaction ending and per glare timer), the glare timer, and the states of
RFC 5407 §2 with the response codes that can arise in each (their outcomes).

States (only leaves are ever current)::

    preparative                      before a 1xx-tag / 2xx: the dialog does not exist
    early                            an early dialog (1xx with a To tag)
    confirmed = moratorium           2xx sent/received, ACK not yet
              | established         ACK sent/received
    terminated = mortal              BYE sent or received; only BYE, ACK and 2xx-ACKing
               | morgue             the dialog is gone (terminal)

Outcomes are declared on the response triggers (``send_final``, ``rcv_3xx_6xx_invite``
...), so the runtime reports one when the 481/487/491/500 is actually sent or received, not
when the dialog decides it with a `Respond` (one of the declaration's notes).
"""

from __future__ import annotations

from sipfsm.decl.language import ActionDecl, Outcome, StateDecl, TimerDecl, Trigger

# -- triggers --------------------------------------------------------------------------------


def _sent_request(method: str | None, name: str, label: str) -> Trigger:
    return Trigger(name, "message_sent", label, method=method, direction="send")


def _received_request(method: str | None, name: str, label: str) -> Trigger:
    return Trigger(name, "request_received", label, method=method, direction="receive")


def _sent_response(name: str, label: str, lo: int, hi: int, method: str | None) -> Trigger:
    return Trigger(name, "message_sent", label, status=(lo, hi), method=method, direction="send")


def _received_response(name: str, label: str, lo: int, hi: int, method: str | None) -> Trigger:
    return Trigger(
        name, "response_received", label, status=(lo, hi), method=method, direction="receive"
    )


#: Order matters: the first trigger that fits an event names it (method-specific first).
TRIGGERS: tuple[Trigger, ...] = (
    _sent_request("INVITE", "send_invite", "INVITE sent"),
    _sent_request("ACK", "send_ack", "ACK sent"),
    _sent_request("BYE", "send_bye", "BYE sent"),
    _sent_request("CANCEL", "send_cancel", "CANCEL sent"),
    _sent_request("PRACK", "send_prack", "PRACK sent"),
    _sent_request("UPDATE", "send_update", "UPDATE sent"),
    _sent_request(None, "send_request", "other request sent"),
    _received_request("INVITE", "rcv_invite", "INVITE received"),
    _received_request("ACK", "rcv_ack", "ACK received"),
    _received_request("BYE", "rcv_bye", "BYE received"),
    _received_request("CANCEL", "rcv_cancel", "CANCEL received"),
    _received_request("PRACK", "rcv_prack", "PRACK received"),
    _received_request("UPDATE", "rcv_update", "UPDATE received"),
    _received_request(None, "rcv_request", "other request received"),
    _sent_response("send_1xx_invite", "1xx (INVITE) sent", 100, 199, "INVITE"),
    _sent_response("send_2xx_invite", "2xx (INVITE) sent", 200, 299, "INVITE"),
    _sent_response("send_3xx_6xx_invite", "3xx-6xx (INVITE) sent", 300, 699, "INVITE"),
    _sent_response("send_1xx", "1xx sent", 100, 199, None),
    _sent_response("send_final", "final response sent", 200, 699, None),
    _received_response("rcv_1xx_invite", "1xx (INVITE) received", 100, 199, "INVITE"),
    _received_response("rcv_2xx_invite", "2xx (INVITE) received", 200, 299, "INVITE"),
    _received_response("rcv_3xx_6xx_invite", "3xx-6xx (INVITE) received", 300, 699, "INVITE"),
    _received_response("rcv_1xx", "1xx received", 100, 199, None),
    _received_response("rcv_final", "final response received", 200, 699, None),
    Trigger("transaction_ended", "transaction_ended", "Timeout (a transaction ended)"),
    Trigger("timer_glare", "timer", "Glare timer fires", timer="Glare"),
)

GLARE = TimerDecl(
    "Glare",
    "4",
    "4",
    "re-INVITE/UPDATE glare: retry after a random 2.1-4 s (we generated the Call-ID) or "
    "0-2 s (we did not), in 10 ms steps; 4 s is the upper bound",
    "RFC 3261 §14.1",
)

# -- states and outcomes ---------------------------------------------------------------------

_NEVER_487_TO_CANCEL = Outcome(
    487,
    "send",
    "to a CANCEL: 487 answers the request it cancelled",
    "RFC 3261 §21.4.25",
    "send_final",
    forbidden=True,
)

# (the rule about a method comes before the rule about any request: a report names the
# first rule declared for its code whose methods include the request's)
_481_NO_DIALOG = (
    Outcome(
        481,
        "send",
        "to a BYE: it matches no dialog",
        "RFC 3261 §15.1.2",
        "send_final",
        methods=("BYE",),
    ),
    Outcome(
        481,
        "send",
        "to an in-dialog request: the dialog does not exist",
        "RFC 3261 §12.2.2",
        "send_final",
    ),
    Outcome(
        481,
        "send",
        "to an INVITE with a To tag: the dialog does not exist",
        "RFC 3261 §12.2.2",
        "send_3xx_6xx_invite",
        methods=("INVITE",),
    ),
)

_INITIAL_FAILED = (
    Outcome(
        487,
        "receive",
        "to the initial INVITE when our CANCEL took effect: the dialog goes to Morgue",
        "RFC 3261 §9.1",
        "rcv_3xx_6xx_invite",
    ),
    Outcome(
        408,
        "receive",
        "to the initial INVITE (a proxy's Timer C), or its transaction "
        "timed out, which the TU treats as a 408: Morgue",
        "RFC 3261 §13.2.2",
        "rcv_3xx_6xx_invite",
    ),
    Outcome(
        487,
        "send",
        "to the initial INVITE when a CANCEL matched it (the CANCEL gets 200): Morgue",
        "RFC 3261 §9.2",
        "send_3xx_6xx_invite",
    ),
)

_IN_DIALOG_SEND = (
    Outcome(
        481,
        "send",
        "to a PRACK that matches no unacknowledged reliable provisional",
        "RFC 3262 §3",
        "send_final",
        methods=("PRACK",),
    ),
    Outcome(
        491,
        "send",
        "to an INVITE received while our INVITE on the dialog is in progress",
        "RFC 3261 §14.2",
        "send_3xx_6xx_invite",
    ),
    Outcome(
        491,
        "send",
        "to a re-INVITE with an offer while our offer is unanswered",
        "RFC 5407 §3.1.5",
        "send_3xx_6xx_invite",
    ),
    Outcome(
        491,
        "send",
        "to an UPDATE with an offer while our offer is unanswered",
        "RFC 3311 §5.2",
        "send_final",
        methods=("UPDATE",),
    ),
    Outcome(
        500,
        "send",
        "with Retry-After 0-10 s, to an INVITE while an earlier INVITE we received is unanswered",
        "RFC 3261 §14.2",
        "send_3xx_6xx_invite",
    ),
    Outcome(
        500,
        "send",
        "to a request whose CSeq is lower than the remote sequence number",
        "RFC 3261 §12.2.2",
        "send_final",
    ),
    Outcome(
        500,
        "send",
        "with Retry-After 0-10 s, to an UPDATE while an earlier UPDATE, or "
        "an offer, we received is unanswered",
        "RFC 3311 §5.2",
        "send_final",
    ),
    Outcome(487, "send", "to a re-INVITE a CANCEL matched", "RFC 3261 §9.2", "send_3xx_6xx_invite"),
    _NEVER_487_TO_CANCEL,
)

_IN_DIALOG_RECEIVE = (
    Outcome(
        491,
        "receive",
        "to our re-INVITE: retry after the random §14.1 timer",
        "RFC 3261 §14.1",
        "rcv_3xx_6xx_invite",
    ),
    Outcome(
        491,
        "receive",
        "to our UPDATE: retry after the random §14.1 timer",
        "RFC 3311 §5.3",
        "rcv_final",
        methods=("UPDATE",),
    ),
    Outcome(
        481,
        "receive",
        "to our mid-dialog request: the peer lost the dialog (usage); the TU sends BYE",
        "RFC 3261 §12.2.1.2",
        "rcv_final",
    ),
    Outcome(
        481,
        "receive",
        "to our re-INVITE: the peer lost the dialog; the TU sends BYE",
        "RFC 3261 §12.2.1.2",
        "rcv_3xx_6xx_invite",
    ),
    Outcome(
        408,
        "receive",
        "to our mid-dialog request, or it timed out: the usage ends; the TU sends BYE",
        "RFC 3261 §12.2.1.2",
        "rcv_final",
    ),
    Outcome(
        408,
        "receive",
        "to our re-INVITE, or it timed out: the usage ends; the TU sends BYE",
        "RFC 3261 §12.2.1.2",
        "rcv_3xx_6xx_invite",
    ),
    Outcome(
        487,
        "receive",
        "to our re-INVITE when our CANCEL took effect",
        "RFC 3261 §9.1",
        "rcv_3xx_6xx_invite",
    ),
)

STATES: tuple[StateDecl, ...] = (
    StateDecl(
        "preparative",
        "an initial INVITE was sent or received; until a 1xx with a To "
        "tag or a final response, the dialog does not exist",
        "RFC 5407 §2",
        initial=True,
        outcomes=(*_INITIAL_FAILED, *_481_NO_DIALOG, _NEVER_487_TO_CANCEL),
    ),
    StateDecl(
        "early",
        "an early dialog: a 1xx with a To tag was sent or received; a 2xx "
        "confirms it, a 3xx-6xx ends it; the caller MAY end it with BYE",
        "RFC 5407 §2",
        outcomes=(*_INITIAL_FAILED, *_IN_DIALOG_SEND, *_IN_DIALOG_RECEIVE),
        keeps=("Glare",),
    ),
    StateDecl(
        "confirmed",
        "a 2xx to the initial INVITE was sent or received: the dialog "
        "exists; a BYE sent or received ends it",
        "RFC 5407 §2",
        outcomes=(*_IN_DIALOG_SEND, *_IN_DIALOG_RECEIVE),
        # a §14.1 retry after a 491 survives Early -> Moratorium -> Established (RFC 5407
        # §3.1.5: a 491 in Moratorium is retried once the dialog is Established); a BYE
        # (Mortal) stops it
        keeps=("Glare",),
    ),
    StateDecl(
        "moratorium",
        "confirmed, waiting for the ACK of the 2xx; 2xx retransmissions are ACKed again",
        "RFC 5407 §2",
        parent="confirmed",
    ),
    StateDecl(
        "established",
        "confirmed and ACKed; either side may send requests within the dialog",
        "RFC 5407 §2",
        parent="confirmed",
    ),
    StateDecl(
        "terminated",
        "a BYE ended the session; the UA keeps the dialog's data only to finish its transactions",
        "RFC 5407 §2",
    ),
    StateDecl(
        "mortal",
        "a BYE was sent or received: BYE is still answered 200, a 2xx is "
        "still ACKed, every other request gets 481; Morgue follows when the BYE "
        "transaction ends",
        "RFC 5407 §2",
        parent="terminated",
        outcomes=(
            Outcome(
                481,
                "send",
                "to a non-BYE request (re-INVITE, UPDATE, REFER ...): "
                "the dialog is being terminated",
                "RFC 5407 §3.2.2",
                "send_final",
            ),
            Outcome(
                481,
                "send",
                "to a re-INVITE: the dialog is being terminated",
                "RFC 5407 §3.2.2",
                "send_3xx_6xx_invite",
            ),
            Outcome(
                487,
                "send",
                "to a request still pending when the BYE arrived",
                "RFC 3261 §15.1.2",
                "send_final",
            ),
            Outcome(
                487,
                "send",
                "to an INVITE still pending when the BYE arrived (BYE/487(INV))",
                "RFC 3261 §15.1.2",
                "send_3xx_6xx_invite",
            ),
            Outcome(
                500,
                "send",
                "to a BYE whose CSeq is lower than the remote sequence number",
                "RFC 3261 §12.2.2",
                "send_final",
                methods=("BYE",),
            ),
            Outcome(
                481,
                "receive",
                "to our BYE: the dialog is terminated (Morgue when the BYE transaction ends)",
                "RFC 3261 §15.1.1",
                "rcv_final",
                methods=("BYE",),
            ),
            Outcome(
                408,
                "receive",
                "to our BYE, or it timed out: the dialog is terminated",
                "RFC 3261 §15.1.1",
                "rcv_final",
                methods=("BYE",),
            ),
            _NEVER_487_TO_CANCEL,
        ),
    ),
    StateDecl(
        "morgue",
        "the dialog no longer exists: in-dialog requests get 481",
        "RFC 5407 §2",
        parent="terminated",
        terminal=True,
        on_enter=(ActionDecl("to_tu", "terminated"),),
        outcomes=(*_481_NO_DIALOG, _NEVER_487_TO_CANCEL),
    ),
)


__all__ = ["GLARE", "STATES", "TRIGGERS"]
