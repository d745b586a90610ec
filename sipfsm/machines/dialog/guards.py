"""The dialog's guards: pure functions of the instance and the event, each with the text a
diagram shows and the RFC section it comes from.

Among the rows of one state and trigger, the first whose guards all hold is taken
(`sipfsm.decl.language.Transition`); the rows in `sipfsm.machines.dialog.table` are ordered
with that in mind (a request's CSeq check, RFC 3261 §12.2.2, before its method's rules).
"""

from __future__ import annotations

from collections.abc import Callable

from sipfsm.decl.language import Guard
from sipfsm.machines.dialog.failures import effect_of
from sipfsm.machines.dialog.instance import DialogInstance, key_of, rack_of
from sipfsm.values.events import MessageSent, RequestReceived, ResponseReceived, TransactionEnded
from sipfsm.values.message import Message, Request, Response, status_of

#: The events of the dialog's rows that carry a message: what it received, what it sent
#: (RFC 5407 §2). Its other trigger is `TransactionEnded`.
MessageEvent = RequestReceived | ResponseReceived | MessageSent

# -- reading events ---------------------------------------------------------------------------


def _msg(event: MessageEvent) -> Message:
    return event.message


def _status(event: MessageEvent) -> int:
    return status_of(event.message)


def _is_initial(ctx: DialogInstance, event: MessageEvent) -> bool:
    """Whether the message of ``event`` is a response to the initial INVITE, or its ACK (or
    its retransmission). Each side numbers its requests itself (RFC 3261 §12.2.1.1), so the
    callee's first re-INVITE may well carry the initial INVITE's CSeq number: the direction
    tells them apart. Requests of the initial INVITE go from caller to callee, its
    responses the other way."""
    message = event.message
    request = ctx.request  # the initial INVITE (`DialogInstance.initial_cseq`, inlined)
    initial_cseq = request.cseq if request is not None else -1
    if message.cseq != initial_cseq or message.method not in ("INVITE", "ACK"):
        return False
    # (each kind read on its own: the compiled build then reads the fields directly)
    if isinstance(message, Response):
        return isinstance(event, MessageSent) == (ctx.role == "callee")
    return isinstance(event, MessageSent) == (ctx.role == "caller")


def _is_initial_transaction(ctx: DialogInstance, event: TransactionEnded) -> bool:
    """Whether the `TransactionEnded` ``event`` is about the initial INVITE's transaction."""
    if event.method != "INVITE" or event.cseq != ctx.initial_cseq:
        return False
    return event.role == ("client" if ctx.role == "caller" else "server")


def _provisional_with_tag(event: MessageEvent) -> bool:
    """A 101-199 response with a To tag: it creates an early dialog (RFC 3261 §12.1)."""
    message = event.message
    return 101 <= status_of(message) <= 199 and bool(message.to_tag)


def _no_other_bye_or_invite(ctx: DialogInstance, event: TransactionEnded) -> bool:
    """Whether no BYE or INVITE transaction of the dialog is left once ``event``'s ended."""
    ended = (event.role, event.method, event.cseq)
    return not any(t[1] in ("BYE", "INVITE") and t != ended for t in ctx.transactions)


def _rack_unmatched(ctx: DialogInstance, event: MessageEvent) -> bool:
    """No unacknowledged reliable provisional response matches the PRACK's RAck."""
    message = event.message
    rack = rack_of(message) if isinstance(message, Request) else None
    return rack not in ctx.unacked_provisionals


# -- the guards -------------------------------------------------------------------------------
#
# Each kind of guard is typed by what it reads, so mypy checks every guard's body: the state
# of the dialog alone, a message event, or the end of a transaction. A row's trigger decides
# the event its guards get (`sipfsm.machines.dialog.table`).


def _guard(
    name: str, text: str, rfc: str, check: Callable[[DialogInstance, MessageEvent], bool]
) -> Guard:
    return Guard(name, text, rfc, check)


def _state_guard(
    name: str, text: str, rfc: str, check: Callable[[DialogInstance, object], bool]
) -> Guard:
    return Guard(name, text, rfc, check)


def _end_guard(
    name: str, text: str, rfc: str, check: Callable[[DialogInstance, TransactionEnded], bool]
) -> Guard:
    return Guard(name, text, rfc, check)


CALLER = _state_guard(
    "caller", "caller", "RFC 5407 §2 Figure 1", lambda ctx, _ev: ctx.role == "caller"
)
CALLEE = _state_guard(
    "callee", "callee", "RFC 5407 §2 Figure 2", lambda ctx, _ev: ctx.role == "callee"
)
INITIAL = _guard("initial", "to the initial INVITE", "RFC 5407 §2", _is_initial)
NOT_INITIAL = _guard(
    "not_initial",
    "to another INVITE",
    "RFC 3261 §14",
    lambda ctx, ev: not _is_initial(ctx, ev),
)
ACK_OF_INITIAL = _guard(
    "ack_of_initial",
    "ACK of the initial INVITE's 2xx",
    "RFC 5407 §2",
    _is_initial,
)
ACK_OF_OTHER = _guard(
    "ack_of_other",
    "ACK of a re-INVITE's 2xx",
    "RFC 3261 §14",
    lambda ctx, ev: not _is_initial(ctx, ev),
)
WITH_TAG = _guard(
    "1xx_tag",
    "101-199 with To tag",
    "RFC 3261 §12.1",
    lambda _ctx, ev: _provisional_with_tag(ev),
)
INITIAL_RETRANSMISSION = _guard(
    "initial_retransmission",
    "retransmitted initial INVITE",
    "RFC 5407 §3.1.1",
    lambda ctx, ev: ctx.role == "callee" and not _msg(ev).to_tag and _is_initial(ctx, ev),
)
NO_TO_TAG = _guard(
    "no_to_tag",
    "no To tag (an initial INVITE)",
    "RFC 5407 Appendix B",
    lambda _ctx, ev: not _msg(ev).to_tag,
)
CSEQ_LOWER = _guard(
    "cseq_lower",
    "CSeq < remote CSeq",
    "RFC 3261 §12.2.2",
    lambda ctx, ev: ctx.remote_cseq is not None and _msg(ev).cseq < ctx.remote_cseq,
)
OUR_INVITE_PENDING = _state_guard(
    "our_invite_pending",
    "our INVITE in progress",
    "RFC 3261 §14.2",
    lambda ctx, _ev: any(m == "INVITE" for m, _ in ctx.pending_client),
)
THEIR_INVITE_PENDING = _guard(
    "their_invite_pending",
    "an earlier INVITE unanswered",
    "RFC 3261 §14.2",
    lambda ctx, ev: any(m == "INVITE" and n < _msg(ev).cseq for m, n in ctx.pending_server),
)
THEIR_UPDATE_PENDING = _guard(
    "their_update_pending",
    "an earlier UPDATE unanswered",
    "RFC 3311 §5.2",
    lambda ctx, ev: any(m == "UPDATE" and n < _msg(ev).cseq for m, n in ctx.pending_server),
)
OFFER_CROSSES_OURS = _guard(
    "offer_crosses_ours",
    "offer while our offer is unanswered",
    "RFC 3311 §5.2",
    lambda ctx, ev: bool(_msg(ev).body) and ctx.local_offer is not None,
)
OFFER_CROSSES_THEIRS = _guard(
    "offer_crosses_theirs",
    "offer while the peer's offer is unanswered",
    "RFC 3311 §5.2",
    lambda ctx, ev: bool(_msg(ev).body) and ctx.remote_offer is not None,
)
PRACK_UNMATCHED = _guard(
    "prack_unmatched",
    "no unacknowledged reliable 1xx matches the RAck",
    "RFC 3262 §3",
    _rack_unmatched,
)
MAY_SEND_BYE = _state_guard(
    "may_send_bye",
    "caller, or ACK received, or INVITE server transaction ended",
    "RFC 3261 §15",
    lambda ctx, _ev: (
        ctx.role == "caller"
        or ctx.state != "moratorium"
        or ("server", "INVITE", ctx.initial_cseq) not in ctx.transactions
    ),
)
NO_INVITE_IN_PROGRESS = _state_guard(
    "no_invite_in_progress",
    "no INVITE transaction in progress",
    "RFC 3261 §14.1",
    lambda ctx, _ev: not any(m == "INVITE" for m, _ in (*ctx.pending_client, *ctx.pending_server)),
)
GLARE_491 = _guard(
    "glare_491",
    "491 to our re-INVITE/UPDATE",
    "RFC 3261 §14.1",
    lambda ctx, ev: (
        _status(ev) == 491
        and key_of(_msg(ev)) in ctx.pending_client
        and _msg(ev).method in ("INVITE", "UPDATE")
        and not _is_initial(ctx, ev)
    ),
)
ENDS_USAGE = _guard(
    "ends_usage",
    "ends the INVITE usage (RFC 5057)",
    "RFC 3261 §12.2.1.2",
    lambda ctx, ev: (
        key_of(_msg(ev)) in ctx.pending_client
        and not _is_initial(ctx, ev)
        and _status(ev) >= 200
        and effect_of(_status(ev), _msg(ev).method).ends_invite_usage
    ),
)
TIMED_OUT = _end_guard(
    "timed_out",
    "our request timed out; ends the INVITE usage",
    "RFC 3261 §12.2.1.2",
    lambda ctx, ev: (
        ev.role == "client"
        and (ev.method, ev.cseq) in ctx.pending_client
        and not _is_initial_transaction(ctx, ev)
        and effect_of(None, ev.method).ends_invite_usage
    ),
)
INITIAL_TRANSACTION = _end_guard(
    "initial_transaction",
    "the initial INVITE's transaction",
    "RFC 5407 §2",
    _is_initial_transaction,
)
NO_ACK_CAME = _end_guard(
    "no_ack_came",
    "callee's INVITE server transaction ended without ACK",
    "RFC 3261 §13.3.1.4",
    lambda ctx, ev: ctx.role == "callee" and _is_initial_transaction(ctx, ev),
)
LAST_TRANSACTION = _end_guard(
    "last_transaction",
    "no BYE or INVITE transaction left",
    "RFC 5407 Appendix D",
    _no_other_bye_or_invite,
)


__all__ = [
    "ACK_OF_INITIAL",
    "ACK_OF_OTHER",
    "CALLEE",
    "CALLER",
    "CSEQ_LOWER",
    "ENDS_USAGE",
    "GLARE_491",
    "INITIAL",
    "INITIAL_RETRANSMISSION",
    "INITIAL_TRANSACTION",
    "LAST_TRANSACTION",
    "MAY_SEND_BYE",
    "NOT_INITIAL",
    "NO_ACK_CAME",
    "NO_INVITE_IN_PROGRESS",
    "NO_TO_TAG",
    "OFFER_CROSSES_OURS",
    "OFFER_CROSSES_THEIRS",
    "OUR_INVITE_PENDING",
    "PRACK_UNMATCHED",
    "THEIR_INVITE_PENDING",
    "THEIR_UPDATE_PENDING",
    "TIMED_OUT",
    "WITH_TAG",
]
