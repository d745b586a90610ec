"""The dialog layer: the INVITE dialog usage of RFC 3261 §12-15 as the dialog state machine
(DSM) of RFC 5407 §2, declared once as data, plus the UAS/UAC rules that decide the
4xx/5xx answers inside a dialog.

The RFC figures (RFC 5407 §2 Figures 1 and 2, in `sipfsm.decl.figures`) are above the table
that encodes them; one declaration serves both roles. Triggers are direction specific
(``send_*`` for a message this UA sent, a `MessageSent` event; ``rcv_*`` for one it
received), and an arrow drawn in only one figure carries a guard on the role (``caller``:
the UAC of the initial INVITE, Figure 1; ``callee``: its UAS, Figure 2).

States (only leaves are ever current)::

    preparative                      before a 1xx-tag / 2xx: the dialog does not exist
    early                            an early dialog (1xx with a To tag)
    confirmed = moratorium           2xx sent/received, ACK not yet
              | established         ACK sent/received
    terminated = mortal              BYE sent or received; only BYE, ACK and 2xx-ACKing
               | morgue             the dialog is gone (terminal)

Everything the dialog remembers between events lives in a `DialogInstance`; every message
sent or received on the dialog is a declared row (most of them internal rows whose only
action is bookkeeping), so every (state, trigger) is either a declared row or a
`ProtocolError` that names the dialog, its state and the event. Decisions are actions:
`Respond` (the answer the dialog layer chose: 481, 487, 491, 500 ...), `ToTU` (``send_ack``,
``send_bye``, ``reject_invite``, ``retry``, ``terminated``) and `StartTimer` (the §14.1
glare timer, whose random duration is drawn from the instance's seeded generator).

Where the RFCs disagree or are silent, and what the model does
--------------------------------------------------------------
* Ending the dialog after a failed mid-dialog request. RFC 3261 §12.2.1.2 says a 481, a 408
  or a timeout SHOULD end the dialog, and that for an INVITE dialog this *consists of
  sending a BYE*. RFC 5057 §5.1 (Table 1, Table 2 and its notes) refines which codes end
  the transaction, the usage or the dialog; the model follows RFC 5057 (`effect_of`), for
  the INVITE usage this DSM models: 404, 410, 416, 482-485, 502, 604 destroy the dialog,
  405, 480, 481, 489, 501 the usage (405/501 only for a method the usage needs, 489 only
  for SUBSCRIBE/NOTIFY), everything else (3xx included) only the transaction. A 481 to a
  CANCEL affects only the CANCEL (note 8). RFC 5057 lists 408 under "Transaction Only" in
  Table 1 yet note (4) says a 408 has the effect of a timeout, which §5.2 confines to the
  usage: the model treats 408 and timeouts as ending the usage, which agrees with RFC 3261
  §12.2.1.2. A request that belongs to no usage (OPTIONS, MESSAGE, unknown methods; §5.3)
  is only affected by dialog-destroying codes. When the INVITE usage ends the dialog does
  not change state by itself: it tells the TU to send the BYE (``send_bye``; the callee of
  an early dialog, which MUST NOT send BYE (§15), is told ``reject_invite``), and the BYE
  takes it to Mortal as in the figures.
* A client transaction that ends (`TransactionEnded`) before any final response arrived is
  a timeout (§12.2.1.2, §8.1.3.1: treated as 408). A host that knows it was a transport
  error (treated as 503) delivers that 503 as a response first.
* Mortal -> Morgue ("Timeout" in the figures) happens when the BYE transaction ends; RFC
  5407 Appendix D keeps the INVITE usage while a 2xx may still need an ACK, so the model
  moves to Morgue when the last BYE or INVITE transaction of the dialog has ended.
* A callee MUST NOT send BYE before the ACK "or until the server transaction times out"
  (§15). Under RFC 6026 the INVITE server transaction ends with Timer L (64*T1) if no ACK
  came, and the callee is then told ``send_bye`` (§13.3.1.4, §14.2); under the original RFC
  3261 figures it ends as soon as the 2xx is sent, so the BYE is allowed from then on and
  no advice is given (the UAS core's own 2xx retransmission timeout is outside the DSM).
  This is the only difference between the two profiles.
* 491 to an UPDATE. RFC 3311 §5.2 answers 491 only to an UPDATE *with an offer* while our
  own offer is unanswered (and 500 with Retry-After while the peer's offer, or an earlier
  UPDATE, is unanswered). A re-INVITE gets 491 while our INVITE is in progress (RFC 3261
  §14.2, with or without offers) and, when it carries an offer, while our offer is
  unanswered (RFC 5407 §3.1.5: the offer in our 2xx awaits its answer in the ACK). An
  UPDATE with an offer that crosses a re-INVITE of ours *without* an offer is accepted:
  no RFC rejects it.
* §12.2.2 rejects a CSeq *lower* than the remote sequence number with 500; an equal CSeq
  (not a retransmission, which the transaction layer absorbs) is silent there and accepted.
  A request rejected by the dialog layer (491, 500 with Retry-After, 481 to PRACK) still
  advances the remote sequence number: the CSeq check of §12.2.2 comes before the
  method-specific processing whose state changes a rejection undoes.
* In Mortal every non-BYE request gets 481 (RFC 5407 §2, §3.2.2, §3.3.3), OPTIONS included,
  although §12.2.2 would process an OPTIONS as if outside a dialog.
* A retransmitted initial INVITE that reaches the callee's TU after its server transaction
  is gone (original RFC 3261: destroyed by the 2xx) is recognised and absorbed (RFC 5407
  §3.1.1), not treated as a new INVITE.
* A BYE received by the caller on an early dialog, or sent by the callee on one, has no
  arrow: the callee MUST NOT send BYE on an early dialog (§15), so it is a protocol error.
* RFC 5407 §3.2.4 draws the callee sending BYE in Moratorium (its message details say
  Alice sends it); RFC 3261 §15 forbids a callee's BYE before the ACK (or the INVITE
  server transaction's end). The model follows §15: the callee's BYE in Moratorium is a
  `LocalProtocolError` until then.
* Outcomes are declared on the response triggers (``send_final``, ``rcv_3xx_6xx_invite``
  ...), so the runtime reports one when the 481/487/491/500 is actually sent or received
  (status-filtered), not when the dialog decides it with a `Respond`: a request trigger
  carries no status, and every row of that trigger would report the code.
* The glare timer is started by an action, not by a state; leaving a state stops every
  running timer the next state does not run (`sipfsm.engine.runtime.apply_transition`), so a
  BYE (Mortal) cancels the retry as §14.1 wants -- and so does Early -> Moratorium or
  Moratorium -> Established, where the RFC says nothing.
* A CANCEL (sent or received) never changes the dialog (RFC 5407 §2, Appendix C); the UA
  core answers it (`sipfsm.elements.core.handle_cancel`) and the 487 it causes moves the callee's
  dialog. A CANCEL is never a pending request of the dialog, so it never gets a 487
  (§21.4.25).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

from sipfsm.decl import figures
from sipfsm.decl.instance import Instance, handler, start_timer
from sipfsm.decl.language import (
    ACTION_LABELS,
    ALL_PROFILES,
    ONLY_3261,
    ONLY_6026,
    PROFILES,
    ActionDecl,
    Guard,
    MachineDecl,
    Outcome,
    Profile,
    StateDecl,
    TimerDecl,
    Transition,
    Trigger,
    select_profile,
)
from sipfsm.decl.timers import Timing
from sipfsm.values.errors import UnknownName
from sipfsm.values.events import Action as RuntimeAction
from sipfsm.values.events import (
    Event,
    MessageSent,
    Respond,
    ToTU,
    TransactionEnded,
    message_of,
)
from sipfsm.values.message import Message, Request, Response, status_of
from sipfsm.values.seeded import SeededRandom

MACHINE_ID: Final = "dialog"

# -- RFC 5057: which failures end the transaction, the usage or the dialog ---------------------

Scope = Literal["none", "transaction", "usage", "dialog"]

#: RFC 5057 §5.3: the usage a mid-dialog request belongs to. A dialog has at most one
#: INVITE usage; SUBSCRIBE, NOTIFY and REFER belong to a subscription; OPTIONS, MESSAGE and
#: unknown methods to none.
USAGE_OF: Final[dict[str, str]] = {
    **dict.fromkeys(("INVITE", "UPDATE", "PRACK", "ACK", "CANCEL", "BYE", "INFO"), "invite"),
    **dict.fromkeys(("SUBSCRIBE", "NOTIFY", "REFER"), "subscription"),
}

#: RFC 5057 §5.1 note (3): the methods a usage cannot do without (the INVITE usage needs
#: INVITE, ACK, BYE and CANCEL of RFC 3261; a subscription needs SUBSCRIBE and NOTIFY).
#: A 405 or 501 to any other method (INFO, UPDATE, PRACK, REFER ...) affects only its
#: transaction.
INTEGRAL_METHODS: Final = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "SUBSCRIBE", "NOTIFY"})


@dataclass(frozen=True, slots=True)
class EffectRule:
    """One entry of RFC 5057 §5.1 Table 1/Table 2: the codes ``low``-``high`` affect
    ``scope``. ``only_methods`` narrows the rule to some methods; ``integral_only`` to the
    methods a usage needs (`INTEGRAL_METHODS`). The first matching rule wins."""

    low: int
    high: int
    scope: Scope
    rfc: str
    note: str = ""
    only_methods: frozenset[str] | None = None
    integral_only: bool = False

    def applies(self, code: int, method: str) -> bool:
        if not self.low <= code <= self.high:
            return False
        if self.only_methods is not None and method not in self.only_methods:
            return False
        return not (self.integral_only and method not in INTEGRAL_METHODS)


def _rule(
    low: int,
    high: int,
    scope: Scope,
    note: str = "",
    *,
    rfc: str = "RFC 5057 §5.1",
    only: Iterable[str] | None = None,
    integral: bool = False,
) -> EffectRule:
    return EffectRule(
        low, high, scope, rfc, note, frozenset(only) if only is not None else None, integral
    )


_T: Scope = "transaction"
#: RFC 5057 §5.1 Table 1 (and Table 2 with its notes), in the order they are consulted.
FAILURE_EFFECTS: tuple[EffectRule, ...] = (
    _rule(
        100, 299, "none", "provisional and success responses end nothing", rfc="RFC 3261 §12.2.1.2"
    ),
    _rule(
        300,
        399,
        _T,
        "a mid-dialog redirection affects the whole dialog equally and is "
        "handled as outside a dialog (RFC 3261 §12.2.1.2): nothing is destroyed",
    ),
    # exceptions first (Table 2 notes)
    _rule(
        481,
        481,
        _T,
        "note (8): a 481 to a CANCEL only says no transaction matched",
        only=("CANCEL",),
    ),
    _rule(405, 405, "usage", "note (3): the usage needs this method", integral=True),
    _rule(501, 501, "usage", "note (3): the usage needs this method", integral=True),
    _rule(405, 405, _T, "note (3): the request was not integral to the usage"),
    _rule(501, 501, _T, "note (3): the request was not integral to the usage"),
    _rule(
        489,
        489,
        "usage",
        "note (12): Bad Event ends the subscription",
        only=("SUBSCRIBE", "NOTIFY"),
    ),
    _rule(489, 489, _T, "note (12): to other methods, treated as an unknown 4xx"),
    # Destroys Dialog
    _rule(404, 404, "dialog", "note (2): the remote target is wrong"),
    _rule(410, 410, "dialog", "note (2): the remote target is wrong"),
    _rule(416, 416, "dialog", "note (2): the remote target is wrong"),
    _rule(482, 482, "dialog", "note (9): aberrant mid-dialog; later requests fail too"),
    _rule(483, 483, "dialog", "note (10): unless retried with a larger Max-Forwards"),
    _rule(484, 484, "dialog", "note (2): the remote target is wrong"),
    _rule(485, 485, "dialog", "note (2): the remote target is wrong"),
    _rule(502, 502, "dialog", "note (14): aberrant mid-dialog; later requests fail too"),
    _rule(604, 604, "dialog", "note (2): the remote target is wrong"),
    # Destroys Usage
    _rule(480, 480, "usage", "note (7): only the usage of the request"),
    _rule(481, 481, "usage", "note (8): the peer lost its copy of the usage"),
    _rule(
        408,
        408,
        "usage",
        "note (4): a 408 has the effect of a timeout (RFC 5057 §5.2; "
        "Table 1 lists it under Transaction Only)",
    ),
    # Transaction Only (listed codes, then the classes of unknown codes)
    _rule(400, 403, _T),
    _rule(406, 407, _T),
    _rule(412, 415, _T),
    _rule(417, 417, _T),
    _rule(420, 423, _T, "note (5): 422 mid-usage is treated as an unknown 4xx"),
    _rule(428, 429, _T),
    _rule(436, 438, _T),
    _rule(486, 488, _T, "note (11): 486 mid-usage is treated as an unknown 4xx"),
    _rule(491, 491, _T),
    _rule(493, 494, _T),
    _rule(400, 499, _T, "an unknown 4xx is treated as 400"),
    _rule(500, 500, _T, "note (13): retry after Retry-After, or end the usage gracefully"),
    _rule(503, 505, _T, "notes (15), (16)"),
    _rule(513, 513, _T),
    _rule(580, 580, _T),
    _rule(500, 599, _T, "note (13): an unknown 5xx is treated as 500"),
    _rule(600, 600, _T, "note (17): the user, not the request, is refusing"),
    _rule(603, 603, _T),
    _rule(606, 606, _T),
    _rule(600, 699, _T, "note (17): an unknown 6xx is treated as 600"),
)

#: RFC 5057 §5.2: a transaction timeout affects only the usage of the request.
TIMEOUT_EFFECT = _rule(
    0,
    0,
    "usage",
    "a transaction timeout affects only the usage in which the transaction occurred",
    rfc="RFC 5057 §5.2",
)


@dataclass(frozen=True, slots=True)
class Effect:
    """What a final response (``code``; ``None`` for a timeout) to a mid-dialog request of
    ``method`` destroys: ``scope`` is ``none``, ``transaction``, ``usage`` or ``dialog``;
    ``usage`` the usage the method belongs to (RFC 5057 §5.3)."""

    code: int | None
    method: str
    scope: Scope
    usage: str | None
    rfc: str
    note: str

    @property
    def ends_invite_usage(self) -> bool:
        """Whether the INVITE usage (the one this DSM models) ends."""
        return self.scope == "dialog" or (self.scope == "usage" and self.usage == "invite")


def effect_of(code: int | None, method: str) -> Effect:
    """RFC 5057's verdict on a final response ``code`` (``None``: the transaction timed out)
    to a mid-dialog request of ``method``.

    >>> effect_of(481, "UPDATE").scope
    'usage'
    >>> effect_of(481, "CANCEL").scope
    'transaction'
    """
    if not isinstance(method, str) or not method:
        raise UnknownName("method", method, ("a SIP method such as INVITE",), MACHINE_ID)
    usage = USAGE_OF.get(method)
    if code is None:
        rule = TIMEOUT_EFFECT
    else:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 699:
            raise UnknownName("status code", code, ("100-699", "None (a timeout)"), MACHINE_ID)
        rule = next(r for r in FAILURE_EFFECTS if r.applies(code, method))
    scope = rule.scope
    note = rule.note
    if scope == "usage" and usage is None:
        scope = "transaction"
        note = "RFC 5057 §5.2, §5.3: the request belongs to no usage; " + note
    return Effect(code, method, scope, usage, rule.rfc, note)


# -- the instance ---------------------------------------------------------------------------

Key = tuple[str, int]  # (method, CSeq number) of a request, in one direction
#: (side, method, CSeq) of a transaction: side ``client`` (our request) or ``server``.
TransactionRef = tuple[str, str, int]


#: How many dialogs have drawn from their random source (`random_sources`).
_random_sources = 0


def random_sources() -> int:
    """How many dialog random sources have been made in this process so far: a simulation
    compares it before and after a run to know whether the run drew anything besides its
    links' loss draws (`sipfsm.sim.run`, runs reused by their draws)."""
    return _random_sources


class DialogInstance(Instance):
    """One dialog (one DSM instance, RFC 5407 Appendix E): its state and what it tracks.

    ``request`` (inherited) is the initial INVITE. ``role`` is ``caller`` or ``callee``;
    ``local_cseq``/``remote_cseq`` the sequence numbers of RFC 3261 §12 (``None``: empty);
    ``pending_client``/``pending_server`` the requests sent/received on the dialog that
    have no final response yet, by (method, CSeq); ``local_offer``/``remote_offer`` the
    (method, CSeq) of the transaction whose offer awaits an answer (ours / the peer's);
    ``unacked_provisionals`` the reliable 1xx we sent that no PRACK acknowledged yet, as
    (RSeq, CSeq, method) (RFC 3262 §3); ``transactions`` the live transactions as
    (role, method, CSeq); ``call_id_owner`` whether this UA generated the Call-ID (the
    caller, unless told otherwise; RFC 3261 §14.1); ``rng`` the random source of the glare
    timer and Retry-After, seeded with ``seed``; ``retry_request`` the request a 491
    refused, handed back to the TU when the glare timer fires.

    Few dialogs ever draw a random number (a 491, a 500 with Retry-After), so ``rng`` is
    made from ``seed`` when first used (a `random.Random` costs microseconds and kilobytes
    to build): the numbers are those a generator made at construction would give, and two
    instances still compare field by field (``seed``, and the generator once it exists).
    """

    FIELDS: ClassVar[tuple[str, ...]] = (
        *Instance.FIELDS,
        "_rng",
        "call_id",
        "call_id_owner",
        "local_cseq",
        "local_offer",
        "local_tag",
        "pending_client",
        "pending_server",
        "remote_cseq",
        "remote_offer",
        "remote_tag",
        "retry_request",
        "role",
        "seed",
        "transactions",
        "unacked_provisionals",
    )

    def __init__(self, seed: int = 0, call_id_owner: bool | None = None) -> None:
        super().__init__()
        self.role = ""
        self.call_id = ""
        self.local_tag = ""
        self.remote_tag = ""
        self.local_cseq: int | None = None
        self.remote_cseq: int | None = None
        self.pending_client: dict[Key, Request] = {}
        self.pending_server: dict[Key, Request] = {}
        self.local_offer: TransactionRef | None = None
        self.remote_offer: TransactionRef | None = None
        self.unacked_provisionals: set[tuple[int, int, str]] = set()
        self.transactions: set[TransactionRef] = set()
        self.call_id_owner: bool | None = call_id_owner
        self.seed = seed
        self._rng: SeededRandom | None = None
        self.retry_request: Request | None = None

    @property
    def rng(self) -> SeededRandom:
        """The seeded random source, made from ``seed`` on first use."""
        rng = self._rng
        if rng is None:
            global _random_sources
            _random_sources += 1
            rng = self._rng = SeededRandom(self.seed)
        return rng

    @property
    def initial_cseq(self) -> int:
        """The CSeq number of the initial INVITE."""
        return self.request.cseq if self.request is not None else -1

    def __repr__(self) -> str:
        return (
            f"<DialogInstance {self.role} state={self.state!r} call_id={self.call_id!r} "
            f"local_tag={self.local_tag!r} remote_tag={self.remote_tag!r}>"
        )


# -- reading events (guards are pure functions of the instance and the event) ---------------


def _msg(event: Any) -> Any:
    return message_of(event)


def _key(message: Message) -> Key:
    return (message.method, message.cseq)


def _status(event: Any) -> int:
    return status_of(message_of(event))


def _is_initial(ctx: DialogInstance, event: Any) -> bool:
    """Whether the message of ``event`` is a response to the initial INVITE, or its ACK (or
    its retransmission). Each side numbers its requests itself (RFC 3261 §12.2.1.1), so the
    callee's first re-INVITE may well carry the initial INVITE's CSeq number: the direction
    tells them apart. Requests of the initial INVITE go from caller to callee, its
    responses the other way."""
    message = message_of(event)
    request = ctx.request  # the initial INVITE (`DialogInstance.initial_cseq`, inlined)
    initial_cseq = request.cseq if request is not None else -1
    # (each kind read on its own: the compiled build then reads the fields directly)
    if isinstance(message, Response):
        if message.cseq != initial_cseq or message.method not in ("INVITE", "ACK"):
            return False
        return isinstance(event, MessageSent) == (ctx.role == "callee")
    if isinstance(message, Request):
        if message.cseq != initial_cseq or message.method not in ("INVITE", "ACK"):
            return False
        return isinstance(event, MessageSent) == (ctx.role == "caller")
    raise AttributeError(f"{type(event).__name__} carries no message")


def initial_side(ctx: DialogInstance) -> str:
    """The side of the initial INVITE's transaction at this UA."""
    return "client" if ctx.role == "caller" else "server"


def _is_initial_transaction(ctx: DialogInstance, event: Any) -> bool:
    """Whether the `TransactionEnded` ``event`` is about the initial INVITE's transaction."""
    if event.method != "INVITE" or event.cseq != ctx.initial_cseq:
        return False
    return bool(event.role == ("client" if ctx.role == "caller" else "server"))


def _provisional_with_tag(event: Any) -> bool:
    """A 101-199 response with a To tag: it creates an early dialog (RFC 3261 §12.1)."""
    message = _msg(event)
    return 101 <= status_of(message) <= 199 and bool(message.to_tag)


def _rack(request: Request) -> tuple[int, int, str] | None:
    """The RAck header of a PRACK as (RSeq, CSeq, method) (RFC 3262 §7.2)."""
    value = request.header("RAck")
    if value is None:
        return None
    parts = value.split()
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return (int(parts[0]), int(parts[1]), parts[2])


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


def _no_other_bye_or_invite(ctx: DialogInstance, event: TransactionEnded) -> bool:
    """Whether no BYE or INVITE transaction of the dialog is left once ``event``'s ended."""
    ended = (event.role, event.method, event.cseq)
    return not any(t[1] in ("BYE", "INVITE") and t != ended for t in ctx.transactions)


def _guard(name: str, text: str, rfc: str, check: Callable[[Any, Any], bool]) -> Guard:
    return Guard(name, text, rfc, check)


CALLER = _guard("caller", "caller", "RFC 5407 §2 Figure 1", lambda ctx, _ev: ctx.role == "caller")
CALLEE = _guard("callee", "callee", "RFC 5407 §2 Figure 2", lambda ctx, _ev: ctx.role == "callee")
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
OUR_INVITE_PENDING = _guard(
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
    lambda ctx, ev: _rack(_msg(ev)) not in ctx.unacked_provisionals,
)
MAY_SEND_BYE = _guard(
    "may_send_bye",
    "caller, or ACK received, or INVITE server transaction ended",
    "RFC 3261 §15",
    lambda ctx, _ev: (
        ctx.role == "caller"
        or ctx.state != "moratorium"
        or ("server", "INVITE", ctx.initial_cseq) not in ctx.transactions
    ),
)
NO_INVITE_IN_PROGRESS = _guard(
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
        and _key(_msg(ev)) in ctx.pending_client
        and _msg(ev).method in ("INVITE", "UPDATE")
        and not _is_initial(ctx, ev)
    ),
)
ENDS_USAGE = _guard(
    "ends_usage",
    "ends the INVITE usage (RFC 5057)",
    "RFC 3261 §12.2.1.2",
    lambda ctx, ev: (
        _key(_msg(ev)) in ctx.pending_client
        and not _is_initial(ctx, ev)
        and _status(ev) >= 200
        and effect_of(_status(ev), _msg(ev).method).ends_invite_usage
    ),
)
TIMED_OUT = _guard(
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
INITIAL_TRANSACTION = _guard(
    "initial_transaction",
    "the initial INVITE's transaction",
    "RFC 5407 §2",
    _is_initial_transaction,
)
NO_ACK_CAME = _guard(
    "no_ack_came",
    "callee's INVITE server transaction ended without ACK",
    "RFC 3261 §13.3.1.4",
    lambda ctx, ev: ctx.role == "callee" and _is_initial_transaction(ctx, ev),
)
LAST_TRANSACTION = _guard(
    "last_transaction",
    "no BYE or INVITE transaction left",
    "RFC 5407 Appendix D",
    _no_other_bye_or_invite,
)


# -- the actions (registered effects; the only place the instance changes) ------------------


def _request_sent(inst: DialogInstance, req: Request) -> None:
    if req.method == "ACK":
        if req.body and inst.remote_offer is not None:
            inst.remote_offer = None  # the answer to an offer in a 2xx (RFC 3261 §13.2.2.4)
        return
    if req.method == "CANCEL":
        return  # a CANCEL is no request of the dialog (RFC 5407 Appendix C)
    if inst.local_cseq is None or req.cseq > inst.local_cseq:
        inst.local_cseq = req.cseq
    inst.pending_client[_key(req)] = req
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
    inst.pending_server[_key(req)] = req
    if req.method == "PRACK":
        inst.unacked_provisionals.discard(_rack(req) or (-1, -1, ""))
    if req.body and req.method in OFFER_METHODS:
        if req.method == "PRACK" and inst.local_offer is not None:
            inst.local_offer = None  # answer to the offer in our reliable 1xx
        elif inst.local_offer is None and inst.remote_offer is None:
            inst.remote_offer = side


def _response_sent(inst: DialogInstance, resp: Response) -> None:
    initial = resp.method == "INVITE" and resp.cseq == inst.initial_cseq
    if inst.role == "callee" and initial and resp.to_tag and not inst.local_tag:
        inst.local_tag = resp.to_tag  # RFC 3261 §12.1.1
    req = inst.pending_server.get(_key(resp))
    if req is None:
        return  # a retransmission, or the answer to a request the dialog rejected
    side = ("server", resp.method, resp.cseq)
    if 101 <= resp.status <= 199:  # only a 1xx can be reliable (RFC 3262 §3)
        rseq = _rseq(resp)
        if rseq is not None:
            inst.unacked_provisionals.add((rseq, resp.cseq, resp.method))
    if resp.status >= 200:
        del inst.pending_server[_key(resp)]
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
    req = inst.pending_client.get(_key(resp))
    if req is None:
        return  # a retransmission (of a 2xx), or a stray response
    side = ("client", resp.method, resp.cseq)
    if resp.status >= 200:
        del inst.pending_client[_key(resp)]
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
    inst.retry_request = inst.pending_client.get(_key(_msg(event)))
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
TRACK_REJECTED = ActionDecl("track_received", "rejected")
TRACK_ENDED = ActionDecl("track_ended")
START_GLARE = ActionDecl("start_glare", "Glare")


def _respond(code: int, rfc: str) -> ActionDecl:
    return ActionDecl("respond", str(code), rfc)


def _respond_retry(code: int, rfc: str) -> ActionDecl:
    return ActionDecl("respond_retry_after", str(code), rfc)


def _tu(what: str) -> ActionDecl:
    return ActionDecl("dialog_tu", what)


SEND_ACK = _tu("send_ack")
SEND_BYE = _tu("send_bye")

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

# -- the rows: one per arrow of RFC 5407 Figures 1-2, one per rule of RFC 3261 §12-15 ---------

_F1 = "RFC 5407 §2 Figure 1"
_F2 = "RFC 5407 §2 Figure 2"
_NO_DIALOG = "RFC 3261 §12.2.2"


def _row(
    source: str,
    trigger: str,
    dest: str,
    actions: tuple[ActionDecl, ...] = (),
    rfc: str = "",
    guards: tuple[Guard, ...] = (),
    note: str = "",
    profiles: frozenset[str] = ALL_PROFILES,
) -> Transition:
    return Transition(source, trigger, dest, actions, rfc, guards, profiles, note)


def _bookkeeping(
    source: str, triggers: Iterable[str], rfc: str, note: str
) -> tuple[Transition, ...]:
    """Internal rows whose only effect is to track the message."""
    out = []
    for trig in triggers:
        track = TRACK_SENT if trig.startswith("send_") else TRACK_RECEIVED
        out.append(_row(source, trig, source, (track,), rfc, note=note))
    return tuple(out)


def _no_dialog(source: str, rfc_bye: str = "RFC 3261 §15.1.2") -> tuple[Transition, ...]:
    """The dialog does not exist (Preparative, Morgue): in-dialog requests get 481."""
    return (
        _row(
            source,
            "rcv_invite",
            source,
            (),
            "RFC 5407 §3.1.1",
            (INITIAL_RETRANSMISSION,),
            note="the initial INVITE's retransmission is not a new INVITE",
        ),
        _row(source, "rcv_invite", source, (TRACK_REJECTED, _respond(481, _NO_DIALOG)), _NO_DIALOG),
        _row(source, "rcv_update", source, (TRACK_REJECTED, _respond(481, _NO_DIALOG)), _NO_DIALOG),
        _row(
            source,
            "rcv_prack",
            source,
            (TRACK_REJECTED, _respond(481, "RFC 3262 §3")),
            "RFC 3262 §3",
        ),
        _row(
            source, "rcv_request", source, (TRACK_REJECTED, _respond(481, _NO_DIALOG)), _NO_DIALOG
        ),
        _row(source, "rcv_bye", source, (TRACK_REJECTED, _respond(481, rfc_bye)), rfc_bye),
    )


def _in_dialog(source: str) -> tuple[Transition, ...]:
    """Early and Confirmed: requests within the dialog, and their answers."""
    return (
        # requests received (RFC 3261 §12.2.2, §14.2; RFC 3311 §5.2; RFC 3262 §3)
        _row(
            source,
            "rcv_invite",
            source,
            (),
            "RFC 5407 §3.1.1",
            (INITIAL_RETRANSMISSION,),
            note="the initial INVITE's retransmission is not a new INVITE",
        ),
        _row(
            source,
            "rcv_invite",
            source,
            (_respond(500, "RFC 3261 §12.2.2"),),
            "RFC 3261 §12.2.2",
            (CSEQ_LOWER,),
        ),
        _row(
            source,
            "rcv_invite",
            source,
            (TRACK_REJECTED, _respond(491, "RFC 3261 §14.2")),
            "RFC 3261 §14.2",
            (OUR_INVITE_PENDING,),
        ),
        _row(
            source,
            "rcv_invite",
            source,
            (TRACK_REJECTED, _respond_retry(500, "RFC 3261 §14.2")),
            "RFC 3261 §14.2",
            (THEIR_INVITE_PENDING,),
        ),
        _row(
            source,
            "rcv_invite",
            source,
            (TRACK_REJECTED, _respond(491, "RFC 5407 §3.1.5")),
            "RFC 5407 §3.1.5",
            (OFFER_CROSSES_OURS,),
        ),
        _row(source, "rcv_invite", source, (TRACK_RECEIVED,), "RFC 3261 §14.2"),
        _row(
            source,
            "rcv_update",
            source,
            (_respond(500, "RFC 3261 §12.2.2"),),
            "RFC 3261 §12.2.2",
            (CSEQ_LOWER,),
        ),
        _row(
            source,
            "rcv_update",
            source,
            (TRACK_REJECTED, _respond_retry(500, "RFC 3311 §5.2")),
            "RFC 3311 §5.2",
            (THEIR_UPDATE_PENDING,),
        ),
        _row(
            source,
            "rcv_update",
            source,
            (TRACK_REJECTED, _respond(491, "RFC 3311 §5.2")),
            "RFC 3311 §5.2",
            (OFFER_CROSSES_OURS,),
        ),
        _row(
            source,
            "rcv_update",
            source,
            (TRACK_REJECTED, _respond_retry(500, "RFC 3311 §5.2")),
            "RFC 3311 §5.2",
            (OFFER_CROSSES_THEIRS,),
        ),
        _row(source, "rcv_update", source, (TRACK_RECEIVED,), "RFC 3311 §5.2"),
        _row(
            source,
            "rcv_prack",
            source,
            (_respond(500, "RFC 3261 §12.2.2"),),
            "RFC 3261 §12.2.2",
            (CSEQ_LOWER,),
        ),
        _row(
            source,
            "rcv_prack",
            source,
            (TRACK_REJECTED, _respond(481, "RFC 3262 §3")),
            "RFC 3262 §3",
            (PRACK_UNMATCHED,),
        ),
        _row(source, "rcv_prack", source, (TRACK_RECEIVED,), "RFC 3262 §3"),
        _row(
            source,
            "rcv_request",
            source,
            (_respond(500, "RFC 3261 §12.2.2"),),
            "RFC 3261 §12.2.2",
            (CSEQ_LOWER,),
        ),
        _row(source, "rcv_request", source, (TRACK_RECEIVED,), "RFC 3261 §12.2.2"),
        _row(
            source,
            "rcv_cancel",
            source,
            (),
            "RFC 5407 Appendix C",
            note="no dialog transition: the UA core answers the CANCEL (RFC 3261 §9.2)",
        ),
        # requests sent
        _row(
            source, "send_invite", source, (TRACK_SENT,), "RFC 3261 §14.1", (NO_INVITE_IN_PROGRESS,)
        ),
        _row(source, "send_update", source, (TRACK_SENT,), "RFC 3311 §5.1"),
        _row(source, "send_prack", source, (TRACK_SENT,), "RFC 3262 §4"),
        _row(source, "send_request", source, (TRACK_SENT,), "RFC 3261 §12.2.1.1"),
        _row(
            source,
            "send_cancel",
            source,
            (),
            "RFC 5407 Appendix C",
            note="CANCEL does not influence the dialog state",
        ),
        # responses received to our requests (RFC 3261 §12.2.1.2, §14.1; RFC 5057 §5)
        _row(
            source,
            "rcv_final",
            source,
            (START_GLARE, TRACK_RECEIVED),
            "RFC 3311 §5.3",
            (GLARE_491,),
        ),
        _row(
            source,
            "rcv_final",
            source,
            (_tu("send_bye"), TRACK_RECEIVED),
            "RFC 3261 §12.2.1.2",
            (ENDS_USAGE,) + ((CALLER,) if source == "early" else ()),
            note="terminating an INVITE dialog consists of sending a BYE",
        ),
        *(
            (
                _row(
                    source,
                    "rcv_final",
                    source,
                    (_tu("reject_invite"), TRACK_RECEIVED),
                    "RFC 3261 §15",
                    (ENDS_USAGE, CALLEE),
                    note="the callee MUST NOT send BYE on an early dialog: it ends it with a "
                    "non-2xx final response to the INVITE",
                ),
            )
            if source == "early"
            else ()
        ),
        _row(source, "rcv_final", source, (TRACK_RECEIVED,), "RFC 5057 §5.1"),
        _row(source, "rcv_1xx", source, (TRACK_RECEIVED,), "RFC 3261 §12.2.1.2"),
        # responses we send to the peer's requests
        _row(source, "send_1xx", source, (TRACK_SENT,), "RFC 3261 §12.2.2"),
        _row(source, "send_final", source, (TRACK_SENT,), "RFC 3261 §12.2.2"),
        # transactions ending
        _row(
            source,
            "transaction_ended",
            source,
            (SEND_BYE, TRACK_ENDED),
            "RFC 3261 §12.2.1.2",
            (TIMED_OUT,) + ((CALLER,) if source == "early" else ()),
            note="no response at all: treated as 408 (RFC 5057 §5.2)",
        ),
        *(
            (
                _row(
                    source,
                    "transaction_ended",
                    source,
                    (_tu("reject_invite"), TRACK_ENDED),
                    "RFC 3261 §15",
                    (TIMED_OUT, CALLEE),
                ),
            )
            if source == "early"
            else ()
        ),
        # RFC 3261 §14.1 / RFC 3311 §5.3: the glare timer
        _row(
            source,
            "timer_glare",
            source,
            (_tu("retry"),),
            "RFC 3261 §14.1",
            note="the TU SHOULD attempt the re-INVITE/UPDATE once more if still desired",
        ),
    )


def _bye_received(
    source: str, dest: str, rfc: str, guards: tuple[Guard, ...] = ()
) -> tuple[Transition, ...]:
    return (
        _row(
            source,
            "rcv_bye",
            source,
            (_respond(500, "RFC 3261 §12.2.2"),),
            "RFC 3261 §12.2.2",
            (*guards, CSEQ_LOWER),
            note="a BYE is processed as in §12.2.2 first (§15.1.2)",
        ),
        _row(
            source,
            "rcv_bye",
            dest,
            (
                _respond(200, "RFC 3261 §15.1.2"),
                ActionDecl("respond_pending", "487", "RFC 3261 §15.1.2"),
                TRACK_RECEIVED,
            ),
            rfc,
            guards,
            note="the BYE itself MUST get a 2xx; pending requests get 487 (in that order, as "
            "RFC 5407 Appendix A draws it: §15.1.2 sets none)",
        ),
    )


ROWS: tuple[Transition, ...] = (
    # -- Preparative (RFC 5407 §2): the dialog does not exist yet ---------------------------
    _row(
        "preparative",
        "rcv_1xx_invite",
        "early",
        (TRACK_RECEIVED,),
        _F1,
        (CALLER, INITIAL, WITH_TAG),
        note="1xx-tag",
    ),
    _row(
        "preparative",
        "rcv_1xx_invite",
        "preparative",
        (TRACK_RECEIVED,),
        "RFC 3261 §12.1",
        (CALLER, INITIAL),
        note="100 Trying, or a 1xx without To tag: no dialog yet",
    ),
    _row(
        "preparative",
        "rcv_2xx_invite",
        "moratorium",
        (SEND_ACK, TRACK_RECEIVED),
        _F1,
        (CALLER, INITIAL),
        note="the UAC core MUST ACK each 2xx (RFC 3261 §13.2.2.4)",
    ),
    _row("preparative", "rcv_3xx_6xx_invite", "morgue", (TRACK_RECEIVED,), _F1, (CALLER, INITIAL)),
    _row(
        "preparative",
        "send_1xx_invite",
        "early",
        (TRACK_SENT,),
        _F2,
        (CALLEE, INITIAL, WITH_TAG),
        note="1xx-tag",
    ),
    _row(
        "preparative",
        "send_1xx_invite",
        "preparative",
        (TRACK_SENT,),
        "RFC 3261 §12.1",
        (CALLEE, INITIAL),
        note="100 Trying, or a 1xx without To tag: no dialog yet",
    ),
    _row("preparative", "send_2xx_invite", "moratorium", (TRACK_SENT,), _F2, (CALLEE, INITIAL)),
    _row("preparative", "send_3xx_6xx_invite", "morgue", (TRACK_SENT,), _F2, (CALLEE, INITIAL)),
    _row(
        "preparative",
        "send_3xx_6xx_invite",
        "preparative",
        (TRACK_SENT,),
        _NO_DIALOG,
        (NOT_INITIAL,),
        note="our 481 to an INVITE that names no dialog",
    ),
    *_no_dialog("preparative"),
    _row(
        "preparative",
        "rcv_cancel",
        "preparative",
        (),
        "RFC 5407 Appendix C",
        note="no dialog transition: the UA core answers the CANCEL (RFC 3261 §9.2)",
    ),
    _row(
        "preparative",
        "send_cancel",
        "preparative",
        (),
        "RFC 5407 Appendix C",
        note="CANCEL does not influence the dialog state",
    ),
    *_bookkeeping(
        "preparative",
        ("send_1xx", "send_final", "rcv_1xx", "rcv_final"),
        "RFC 5407 §2",
        "responses to CANCEL, and our 481s",
    ),
    _row(
        "preparative",
        "transaction_ended",
        "morgue",
        (TRACK_ENDED,),
        "RFC 3261 §13.2.2",
        (INITIAL_TRANSACTION,),
        note="the INVITE transaction ended without a response on this dialog (a timeout "
        "is treated as 408)",
    ),
    _row("preparative", "transaction_ended", "preparative", (TRACK_ENDED,), "RFC 5407 §2"),
    # -- Early --------------------------------------------------------------------------------
    _row(
        "early",
        "rcv_1xx_invite",
        "early",
        (TRACK_RECEIVED,),
        "RFC 3261 §13.2.2.1",
        (CALLER, INITIAL),
    ),
    _row(
        "early",
        "rcv_2xx_invite",
        "moratorium",
        (SEND_ACK, TRACK_RECEIVED),
        _F1,
        (CALLER, INITIAL),
        note="the UAC core MUST ACK each 2xx (RFC 3261 §13.2.2.4)",
    ),
    _row(
        "early",
        "rcv_3xx_6xx_invite",
        "morgue",
        (TRACK_RECEIVED,),
        _F1,
        (CALLER, INITIAL),
        note="all early dialogs end (RFC 3261 §13.2.2.3)",
    ),
    _row(
        "early", "send_1xx_invite", "early", (TRACK_SENT,), "RFC 3261 §13.3.1.1", (CALLEE, INITIAL)
    ),
    _row("early", "send_2xx_invite", "moratorium", (TRACK_SENT,), _F2, (CALLEE, INITIAL)),
    _row(
        "early",
        "send_3xx_6xx_invite",
        "morgue",
        (TRACK_SENT,),
        _F2,
        (CALLEE, INITIAL),
        note="a CANCEL's 487 ends the early dialog too (RFC 5407 Appendix C)",
    ),
    _row(
        "early",
        "rcv_3xx_6xx_invite",
        "early",
        (TRACK_RECEIVED,),
        "RFC 3261 §14.2",
        (NOT_INITIAL,),
        note="the answer to an INVITE the peer sent on the early dialog",
    ),
    _row(
        "early",
        "send_3xx_6xx_invite",
        "early",
        (TRACK_SENT,),
        "RFC 3261 §14.2",
        (NOT_INITIAL,),
        note="our 491/500 to an INVITE received on the early dialog",
    ),
    _row(
        "early",
        "send_bye",
        "mortal",
        (TRACK_SENT,),
        _F1,
        (CALLER,),
        note="the caller MAY send BYE on an early dialog (RFC 3261 §15); the callee MUST NOT",
    ),
    *_bye_received("early", "mortal", _F2, (CALLEE,)),
    *_in_dialog("early"),
    _row(
        "early",
        "transaction_ended",
        "morgue",
        (TRACK_ENDED,),
        "RFC 3261 §13.2.2.4",
        (INITIAL_TRANSACTION,),
        note="the INVITE transaction is over: early dialogs not confirmed end "
        "(RFC 5407 Appendix E)",
    ),
    _row("early", "transaction_ended", "early", (TRACK_ENDED,), "RFC 5407 §2"),
    # -- Confirmed (Moratorium, Established) ---------------------------------------------------
    _row("moratorium", "send_ack", "established", (TRACK_SENT,), _F1, (CALLER, ACK_OF_INITIAL)),
    _row("moratorium", "rcv_ack", "established", (TRACK_RECEIVED,), _F2, (CALLEE, ACK_OF_INITIAL)),
    _row(
        "moratorium", "send_ack", "moratorium", (TRACK_SENT,), "RFC 3261 §13.2.2.4", (ACK_OF_OTHER,)
    ),
    _row(
        "moratorium",
        "rcv_ack",
        "moratorium",
        (TRACK_RECEIVED,),
        "RFC 3261 §13.3.1.4",
        (ACK_OF_OTHER,),
    ),
    _row(
        "moratorium",
        "transaction_ended",
        "moratorium",
        (SEND_BYE, TRACK_ENDED),
        "RFC 3261 §13.3.1.4",
        (NO_ACK_CAME,),
        profiles=ONLY_6026,
        note="the 2xx was retransmitted for 64*T1 (Timer L) without ACK: the session "
        "SHOULD end with a BYE",
    ),
    _row(
        "moratorium",
        "transaction_ended",
        "moratorium",
        (TRACK_ENDED,),
        "RFC 3261 §17.2.1",
        (NO_ACK_CAME,),
        profiles=ONLY_3261,
        note="the INVITE server transaction ends with the 2xx; the UAS core retransmits it",
    ),
    _row(
        "established",
        "send_ack",
        "established",
        (TRACK_SENT,),
        _F1,
        note="2xx,ACK: the ACK re-sent for a 2xx retransmission, or a re-INVITE's ACK",
    ),
    _row(
        "established",
        "rcv_ack",
        "established",
        (TRACK_RECEIVED,),
        "RFC 3261 §13.3.1.4",
        note="an ACK retransmission, or a re-INVITE's ACK",
    ),
    _row(
        "confirmed",
        "send_bye",
        "mortal",
        (TRACK_SENT,),
        "RFC 5407 §2",
        (MAY_SEND_BYE,),
        note="BYE(sr)",
    ),
    *_bye_received("confirmed", "mortal", "RFC 5407 §2"),
    _row(
        "confirmed",
        "rcv_2xx_invite",
        "confirmed",
        (SEND_ACK, TRACK_RECEIVED),
        "RFC 3261 §13.2.2.4",
        note="a 2xx retransmission (or a re-INVITE's 2xx): the ACK is sent again",
    ),
    _row("confirmed", "rcv_1xx_invite", "confirmed", (TRACK_RECEIVED,), "RFC 3261 §14.1"),
    _row(
        "confirmed",
        "rcv_3xx_6xx_invite",
        "confirmed",
        (START_GLARE, TRACK_RECEIVED),
        "RFC 3261 §14.1",
        (GLARE_491,),
    ),
    _row(
        "confirmed",
        "rcv_3xx_6xx_invite",
        "confirmed",
        (SEND_BYE, TRACK_RECEIVED),
        "RFC 3261 §14.1",
        (ENDS_USAGE,),
        note="481/408 (RFC 5057 Table 1) to a re-INVITE: the UAC terminates the dialog",
    ),
    _row(
        "confirmed",
        "rcv_3xx_6xx_invite",
        "confirmed",
        (TRACK_RECEIVED,),
        "RFC 3261 §14.1",
        note="the session is unchanged, as if no re-INVITE had been sent",
    ),
    _row("confirmed", "send_1xx_invite", "confirmed", (TRACK_SENT,), "RFC 3261 §14.2"),
    _row(
        "confirmed",
        "send_2xx_invite",
        "confirmed",
        (TRACK_SENT,),
        _F2,
        note="2xx if ACK not received: the UAS core retransmits it (RFC 3261 §13.3.1.4)",
    ),
    _row("confirmed", "send_3xx_6xx_invite", "confirmed", (TRACK_SENT,), "RFC 3261 §14.2"),
    *_in_dialog("confirmed"),
    _row("confirmed", "transaction_ended", "confirmed", (TRACK_ENDED,), "RFC 5407 §2"),
    # -- Terminated (Mortal, Morgue) -----------------------------------------------------------
    _row(
        "mortal",
        "rcv_bye",
        "mortal",
        (_respond(500, "RFC 3261 §12.2.2"),),
        "RFC 3261 §12.2.2",
        (CSEQ_LOWER,),
    ),
    _row(
        "mortal",
        "rcv_bye",
        "mortal",
        (
            _respond(200, "RFC 5407 §3.2.1"),
            ActionDecl("respond_pending", "487", "RFC 3261 §15.1.2"),
            TRACK_RECEIVED,
        ),
        "RFC 5407 §3.2.1",
        note="BYE(r): BYE glare; the BYE is answered 200",
    ),
    _row(
        "mortal",
        "send_bye",
        "mortal",
        (TRACK_SENT,),
        "RFC 5407 Appendix D",
        note="a BYE re-sent with credentials after 401/407",
    ),
    _row("mortal", "rcv_invite", "mortal", (), "RFC 5407 §3.1.1", (INITIAL_RETRANSMISSION,)),
    _row(
        "mortal",
        "rcv_invite",
        "mortal",
        (TRACK_REJECTED, _respond(481, "RFC 5407 §3.2.2")),
        "RFC 5407 §3.2.2",
    ),
    _row(
        "mortal",
        "rcv_update",
        "mortal",
        (TRACK_REJECTED, _respond(481, "RFC 5407 §3.2.2")),
        "RFC 5407 §3.2.2",
    ),
    _row(
        "mortal",
        "rcv_prack",
        "mortal",
        (TRACK_REJECTED, _respond(481, "RFC 5407 §3.2.2")),
        "RFC 5407 §3.2.2",
    ),
    _row(
        "mortal",
        "rcv_request",
        "mortal",
        (TRACK_REJECTED, _respond(481, "RFC 5407 §3.3.3")),
        "RFC 5407 §3.3.3",
        note="REFER and every other request: an error response",
    ),
    _row(
        "mortal",
        "rcv_ack",
        "mortal",
        (TRACK_RECEIVED,),
        "RFC 5407 §3.2.4",
        note="ACK: no session starts; an answer in it is ignored",
    ),
    _row(
        "mortal",
        "send_ack",
        "mortal",
        (TRACK_SENT,),
        "RFC 5407 Appendix D",
        note="ACK: the three-way handshake completes even in Mortal",
    ),
    _row(
        "mortal",
        "rcv_2xx_invite",
        "mortal",
        (SEND_ACK, TRACK_RECEIVED),
        "RFC 5407 §3.2.3",
        note="2xx: ACKed, but no session is started",
    ),
    *_bookkeeping(
        "mortal",
        (
            "rcv_1xx_invite",
            "rcv_3xx_6xx_invite",
            "send_1xx_invite",
            "send_2xx_invite",
            "send_3xx_6xx_invite",
            "send_1xx",
            "send_final",
            "rcv_1xx",
            "rcv_final",
        ),
        "RFC 5407 Appendix B",
        "transactions complete independently of the dialog",
    ),
    _row(
        "mortal",
        "transaction_ended",
        "morgue",
        (TRACK_ENDED,),
        "RFC 5407 §2",
        (LAST_TRANSACTION,),
        note="Timeout: the BYE transaction (and any INVITE transaction) is over",
    ),
    _row("mortal", "transaction_ended", "mortal", (TRACK_ENDED,), "RFC 5407 Appendix D"),
    *_no_dialog("morgue"),
    _row(
        "morgue",
        "rcv_ack",
        "morgue",
        (),
        "RFC 5407 §2",
        note="the ACK of a 3xx-6xx belongs to the INVITE transaction",
    ),
    _row(
        "morgue",
        "send_ack",
        "morgue",
        (),
        "RFC 5407 §2",
        note="the ACK of a 3xx-6xx belongs to the INVITE transaction",
    ),
    _row(
        "morgue",
        "rcv_2xx_invite",
        "morgue",
        (SEND_ACK,),
        "RFC 3261 §13.2.2.4",
        note="every 2xx retransmission is ACKed by the UAC core",
    ),
    _row(
        "morgue",
        "rcv_1xx_invite",
        "morgue",
        (),
        "RFC 3261 §13.2.2.3",
        note="late responses are ignored",
    ),
    _row(
        "morgue",
        "rcv_3xx_6xx_invite",
        "morgue",
        (),
        "RFC 3261 §13.2.2.3",
        note="subsequent final responses MUST be ignored",
    ),
    *_bookkeeping(
        "morgue",
        ("send_3xx_6xx_invite", "send_1xx", "send_final", "rcv_1xx", "rcv_final"),
        "RFC 5407 §2",
        "our 481s, and late responses",
    ),
    _row("morgue", "transaction_ended", "morgue", (TRACK_ENDED,), "RFC 5407 §2"),
    _row(
        "terminated",
        "rcv_cancel",
        "terminated",
        (),
        "RFC 5407 Appendix C",
        note="no dialog transition: the UA core answers the CANCEL (RFC 3261 §9.2)",
    ),
    _row("terminated", "send_cancel", "terminated", (), "RFC 5407 Appendix C"),
    _row(
        "terminated",
        "timer_glare",
        "terminated",
        (),
        "RFC 3261 §14.1",
        note="the call was hung up with a BYE: the re-INVITE does not take place",
    ),
)

CREATIONS: tuple[Transition, ...] = (
    _row(
        "",
        "send_invite",
        "preparative",
        (ActionDecl("dialog_init", "caller"),),
        _F1,
        (NO_TO_TAG,),
        note="INV: the caller sent the initial INVITE",
    ),
    _row(
        "",
        "rcv_invite",
        "preparative",
        (ActionDecl("dialog_init", "callee"),),
        _F2,
        (NO_TO_TAG,),
        note="INV: the callee received the initial INVITE",
    ),
)

_NOTES = (
    "one declaration for both roles: rows drawn in only one figure of RFC 5407 §2 carry a "
    "guard on the role (caller: Figure 1; callee: Figure 2)",
    "the dialog moves on messages sent (MessageSent) and received, and on its "
    "transactions ending (TransactionEnded, the figures' Timeout)",
    "a new DSM instance per new To tag (forking, RFC 5407 Appendix E) is the job of "
    "sipfsm.elements.dialogs.DialogSet",
)

_CACHE: dict[str, MachineDecl] = {}


def declare(profile: str = "rfc6026") -> MachineDecl:
    """The dialog machine in ``profile`` (cached: a declaration is immutable)."""
    cached = _CACHE.get(profile)
    if cached is not None:
        return cached
    if profile not in PROFILES:
        raise UnknownName("profile", profile, PROFILES)
    rows = select_profile(ROWS, profile)
    decl = MachineDecl(
        id=MACHINE_ID,
        title="INVITE dialog usage (dialog state machine)",
        rfc="RFC 5407 §2",
        profile=_profile(profile),
        figure=figures.DIALOG_CALLER + "\n" + figures.DIALOG_CALLEE,
        states=select_profile(STATES, profile),
        triggers=TRIGGERS,
        timers=(GLARE,),
        creations=CREATIONS,
        transitions=rows,
        notes=_NOTES,
    )
    _CACHE[profile] = decl
    return decl


def _profile(name: str) -> Profile:
    for p in PROFILES:
        if p == name:
            return p
    raise UnknownName("profile", name, PROFILES)


__all__ = [
    "FAILURE_EFFECTS",
    "GLARE",
    "TIMEOUT_EFFECT",
    "USAGE_OF",
    "DialogInstance",
    "Effect",
    "EffectRule",
    "declare",
    "effect_of",
    "glare_seconds",
    "initial_side",
]
