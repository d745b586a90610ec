"""The dialog's actions: the effects a row declares (`ActionDecl`), each run by a handler
registered by its kind (`sipfsm.decl.instance.handler`), and the only code that changes a
`DialogInstance`. Most rows only *track* the message (the requests pending on the dialog,
the offer awaiting its answer, the reliable provisionals awaiting PRACK); the others answer a
request at once (`Respond`: 481, 487, 491, 500 ...), advise the TU (`ToTU`: ``send_ack``,
``send_bye``, ``reject_invite``, ``retry``) or start the §14.1 glare timer, whose random
duration is drawn from the instance's seeded generator.

At the end, the shorthand the rows (`sipfsm.machines.dialog.table`) are written with.
"""

from __future__ import annotations

import random
from typing import Any, Final

from sipfsm.decl.instance import handler, start_timer
from sipfsm.decl.language import ACTION_LABELS, ActionDecl, MachineDecl
from sipfsm.decl.timers import Timing
from sipfsm.machines.dialog.instance import DialogInstance, key_of, rack_of
from sipfsm.values.events import Action as RuntimeAction
from sipfsm.values.events import Event, Respond, ToTU, TransactionEnded, message_of
from sipfsm.values.message import Request, Response

# -- reading a response -----------------------------------------------------------------------


def _msg(event: Any) -> Any:
    return message_of(event)


def _rseq(response: Response) -> int | None:
    value = response.header("RSeq")
    return int(value) if value is not None and value.strip().isdigit() else None


#: Methods whose requests can carry an offer or an answer (RFC 3261 §13.2.1, RFC 3262 §5,
#: RFC 3311 §5).
OFFER_METHODS: Final = frozenset({"INVITE", "UPDATE", "PRACK"})


def _offer_capable(response: Response) -> bool:
    """A 2xx to INVITE, UPDATE or PRACK, or a reliable 1xx to INVITE."""
    if 200 <= response.status <= 299:
        return response.method in OFFER_METHODS
    return (
        response.method == "INVITE"
        and 101 <= response.status <= 199
        and (_rseq(response) is not None)
    )


# -- tracking what is sent and received on the dialog -----------------------------------------


def _request_sent(inst: DialogInstance, req: Request) -> None:
    if req.method == "ACK":
        if req.body and inst.remote_offer is not None:
            inst.remote_offer = None  # the answer to an offer in a 2xx (RFC 3261 §13.2.2.4)
        return
    if req.method == "CANCEL":
        return  # a CANCEL is no request of the dialog (RFC 5407 Appendix C)
    if inst.local_cseq is None or req.cseq > inst.local_cseq:
        inst.local_cseq = req.cseq
    inst.pending_client[key_of(req)] = req
    side = ("client", req.method, req.cseq)
    inst.transactions.add(side)
    if req.body and req.method in OFFER_METHODS:
        if req.method == "PRACK" and inst.remote_offer is not None:
            inst.remote_offer = None  # answer to an offer in a reliable 1xx (RFC 3262 §5)
        elif inst.local_offer is None and inst.remote_offer is None:
            inst.local_offer = side


def _request_received(inst: DialogInstance, req: Request, accepted: bool) -> None:
    if req.method == "ACK":
        if req.body and inst.local_offer is not None:
            inst.local_offer = None  # the answer to the offer in our 2xx
        return
    if req.method == "CANCEL":
        return
    if inst.remote_cseq is None or req.cseq > inst.remote_cseq:
        inst.remote_cseq = req.cseq
    side = ("server", req.method, req.cseq)
    inst.transactions.add(side)
    if not accepted:
        return  # answered by the dialog layer at once: not pending, no offer taken
    inst.pending_server[key_of(req)] = req
    if req.method == "PRACK":
        inst.unacked_provisionals.discard(rack_of(req) or (-1, -1, ""))
    if req.body and req.method in OFFER_METHODS:
        if req.method == "PRACK" and inst.local_offer is not None:
            inst.local_offer = None  # answer to the offer in our reliable 1xx
        elif inst.local_offer is None and inst.remote_offer is None:
            inst.remote_offer = side


def _response_sent(inst: DialogInstance, resp: Response) -> None:
    initial = resp.method == "INVITE" and resp.cseq == inst.initial_cseq
    if inst.role == "callee" and initial and resp.to_tag and not inst.local_tag:
        inst.local_tag = resp.to_tag  # RFC 3261 §12.1.1
    req = inst.pending_server.get(key_of(resp))
    if req is None:
        return  # a retransmission, or the answer to a request the dialog rejected
    side = ("server", resp.method, resp.cseq)
    if 101 <= resp.status <= 199:  # only a 1xx can be reliable (RFC 3262 §3)
        rseq = _rseq(resp)
        if rseq is not None:
            inst.unacked_provisionals.add((rseq, resp.cseq, resp.method))
    if resp.status >= 200:
        del inst.pending_server[key_of(resp)]
        if resp.status >= 300 and inst.remote_offer == side:
            inst.remote_offer = None  # rejected: the session is unchanged (§14.2)
    if resp.body and _offer_capable(resp):
        if inst.remote_offer == side:
            inst.remote_offer = None  # our answer
        elif (
            resp.method == "INVITE"
            and not req.body
            and inst.local_offer is None
            and inst.remote_offer is None
        ):
            inst.local_offer = side  # the INVITE had no offer: ours is in the response


def _response_received(inst: DialogInstance, resp: Response) -> None:
    initial = resp.method == "INVITE" and resp.cseq == inst.initial_cseq
    if inst.role == "caller" and initial and resp.to_tag and not inst.remote_tag:
        inst.remote_tag = resp.to_tag  # RFC 3261 §12.1.2
    req = inst.pending_client.get(key_of(resp))
    if req is None:
        return  # a retransmission (of a 2xx), or a stray response
    side = ("client", resp.method, resp.cseq)
    if resp.status >= 200:
        del inst.pending_client[key_of(resp)]
        if resp.status >= 300 and inst.local_offer == side:
            inst.local_offer = None  # rejected: the session is unchanged (§14.1)
    if resp.body and _offer_capable(resp):
        if inst.local_offer == side:
            inst.local_offer = None  # the peer's answer
        elif (
            resp.method == "INVITE"
            and not req.body
            and inst.local_offer is None
            and inst.remote_offer is None
        ):
            inst.remote_offer = side  # our INVITE had no offer: the peer's is here


# -- the handlers -----------------------------------------------------------------------------


@handler("dialog_init")
def _init(
    inst: DialogInstance, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    req: Request = _msg(event)
    inst.role = action.arg
    inst.call_id = req.call_id
    if inst.call_id_owner is None:
        inst.call_id_owner = action.arg == "caller"  # the UAC generates it (§8.1.1.4)
    if action.arg == "caller":
        inst.local_tag = req.from_tag
        _request_sent(inst, req)
    else:
        inst.remote_tag = req.from_tag
        _request_received(inst, req, accepted=True)
    return []


@handler("track_sent")
def _track_sent(
    inst: DialogInstance, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    message = message_of(event)
    if isinstance(message, Request):
        _request_sent(inst, message)
    elif isinstance(message, Response):
        _response_sent(inst, message)
    return []


@handler("track_received")
def _track_received(
    inst: DialogInstance, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    message = message_of(event)
    if isinstance(message, Request):
        _request_received(inst, message, accepted=action.arg != "rejected")
    elif isinstance(message, Response):
        _response_received(inst, message)
    return []


@handler("track_ended")
def _track_ended(
    inst: DialogInstance, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    if isinstance(event, TransactionEnded):
        side = (event.role, event.method, event.cseq)
        inst.transactions.discard(side)
        pending = inst.pending_client if event.role == "client" else inst.pending_server
        if pending.pop((event.method, event.cseq), None) is not None:  # no final response
            if inst.local_offer == side:
                inst.local_offer = None
            if inst.remote_offer == side:
                inst.remote_offer = None
    return []


@handler("respond")
def _respond_now(
    inst: DialogInstance, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    return [Respond(_msg(event), int(action.arg), rfc=action.arg2)]


@handler("respond_retry_after")
def _respond_retry_after(
    inst: DialogInstance, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    seconds = inst.rng.randint(0, 10)  # "a randomly chosen value of between 0 and 10 seconds"
    return [
        Respond(_msg(event), int(action.arg), (("Retry-After", str(seconds)),), rfc=action.arg2)
    ]


@handler("respond_pending")
def _respond_pending(
    inst: DialogInstance, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    return [
        Respond(req, int(action.arg), rfc=action.arg2)
        for _, req in sorted(inst.pending_server.items(), key=lambda kv: kv[0][1])
    ]


@handler("dialog_tu")
def _dialog_tu(
    inst: DialogInstance, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    if action.arg == "retry":
        return [ToTU("retry", inst.retry_request)]
    message = _msg(event)
    if message is None and isinstance(event, TransactionEnded):
        message = inst.pending_client.get((event.method, event.cseq))
    return [ToTU(action.arg, message)]


#: RFC 3261 §14.1 (RFC 3311 §5.3): the glare timer, in 10 ms steps.
GLARE_OWNER_STEPS = (210, 400)  # 2.1-4 s when this UA generated the Call-ID
GLARE_OTHER_STEPS = (0, 200)  # 0-2 s otherwise


def glare_seconds(rng: random.Random, call_id_owner: bool) -> float:
    """A §14.1 glare timer value: 2.1-4 s (owner of the Call-ID) or 0-2 s, in 10 ms units."""
    low, high = GLARE_OWNER_STEPS if call_id_owner else GLARE_OTHER_STEPS
    return rng.randint(low, high) / 100


@handler("start_glare")
def _start_glare(
    inst: DialogInstance, decl: MachineDecl, event: Event, action: ActionDecl, timing: Timing
) -> list[RuntimeAction]:
    inst.retry_request = inst.pending_client.get(key_of(_msg(event)))
    return start_timer(inst, action.arg, timing, glare_seconds(inst.rng, bool(inst.call_id_owner)))


for _kind, _label in (
    ("dialog_init", "create the {arg}'s dialog"),
    ("track_sent", "track"),
    ("track_received", "track"),
    ("track_ended", "forget the transaction"),
    ("respond_retry_after", "respond {arg} with Retry-After 0-10 s"),
    ("respond_pending", "respond {arg} to pending requests"),
    ("dialog_tu", "{arg} to TU"),
    ("start_glare", "start Timer {arg} (random)"),
):
    ACTION_LABELS.setdefault(_kind, _label)


# -- shorthand for the rows -------------------------------------------------------------------

TRACK_SENT = ActionDecl("track_sent")
TRACK_RECEIVED = ActionDecl("track_received")
#: a request the dialog layer answers at once (491, 500, 481): its CSeq counts, nothing else
TRACK_REJECTED = ActionDecl("track_received", "rejected")
TRACK_ENDED = ActionDecl("track_ended")
START_GLARE = ActionDecl("start_glare", "Glare")
#: a BYE ends every request still pending on the dialog with 487 (RFC 3261 §15.1.2)
RESPOND_487_TO_PENDING = ActionDecl("respond_pending", "487", "RFC 3261 §15.1.2")


def respond(code: int, rfc: str) -> ActionDecl:
    """Answer the request at once with ``code``, under the rule of ``rfc``."""
    return ActionDecl("respond", str(code), rfc)


def respond_retry_after(code: int, rfc: str) -> ActionDecl:
    """Answer the request at once with ``code`` and a random Retry-After of 0-10 s."""
    return ActionDecl("respond_retry_after", str(code), rfc)


def _tu(what: str) -> ActionDecl:
    return ActionDecl("dialog_tu", what)


#: advice to the TU: ACK this 2xx (RFC 3261 §13.2.2.4)
SEND_ACK = _tu("send_ack")
#: advice to the TU: end the dialog with a BYE (RFC 3261 §12.2.1.2, §13.3.1.4)
SEND_BYE = _tu("send_bye")
#: advice to the callee's TU: end the early dialog with a non-2xx final response to the
#: INVITE, as it MUST NOT send BYE there (RFC 3261 §15)
REJECT_INVITE = _tu("reject_invite")
#: advice to the TU: the glare timer fired; try the refused re-INVITE/UPDATE once more
#: (RFC 3261 §14.1)
RETRY = _tu("retry")


__all__ = [
    "GLARE_OTHER_STEPS",
    "GLARE_OWNER_STEPS",
    "OFFER_METHODS",
    "REJECT_INVITE",
    "RESPOND_487_TO_PENDING",
    "RETRY",
    "SEND_ACK",
    "SEND_BYE",
    "START_GLARE",
    "TRACK_ENDED",
    "TRACK_RECEIVED",
    "TRACK_REJECTED",
    "TRACK_SENT",
    "glare_seconds",
    "respond",
    "respond_retry_after",
]
