"""The dialog layer: the INVITE dialog usage of RFC 3261 §12-15 as the dialog state machine
(DSM) of RFC 5407 §2, declared once as data, plus the UAS/UAC rules that decide the
4xx/5xx answers inside a dialog.

The RFC figures (RFC 5407 §2 Figures 1 and 2, in `sipfsm.decl.figures`) are above the table
that encodes them; one declaration serves both roles. Triggers are direction specific
(``send_*`` for a message this UA sent, a `MessageSent` event; ``rcv_*`` for one it
received), and an arrow drawn in only one figure carries a guard on the role (``caller``:
the UAC of the initial INVITE, Figure 1; ``callee``: its UAS, Figure 2).

The declaration, part by part:

* `sipfsm.machines.dialog.states`: the triggers, the glare timer, the states and their
  outcomes;
* `sipfsm.machines.dialog.table`: the rows, one table read top to bottom;
* `sipfsm.machines.dialog.guards`: the guards the rows name;
* `sipfsm.machines.dialog.actions`: the actions the rows name and the handlers that run them
  (the only code that changes a dialog);
* `sipfsm.machines.dialog.instance`: one dialog, `DialogInstance`, and what it remembers;
* `sipfsm.machines.dialog.failures`: RFC 5057, which failures end the transaction, the usage
  or the dialog (`effect_of`);
* here: `declare`, which assembles them per profile.

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

from sipfsm.decl import figures
from sipfsm.decl.language import PROFILES, MachineDecl, Profile, select_profile
from sipfsm.machines.dialog.actions import GLARE_OTHER_STEPS, GLARE_OWNER_STEPS, glare_seconds
from sipfsm.machines.dialog.failures import (
    FAILURE_EFFECTS,
    TIMEOUT_EFFECT,
    USAGE_OF,
    Effect,
    EffectRule,
    effect_of,
)
from sipfsm.machines.dialog.instance import (
    MACHINE_ID,
    DialogInstance,
    TransactionRef,
    initial_side,
    random_sources,
)
from sipfsm.machines.dialog.states import GLARE, STATES, TRIGGERS
from sipfsm.machines.dialog.table import CREATIONS, ROWS
from sipfsm.values.errors import UnknownName

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
    "CREATIONS",
    "FAILURE_EFFECTS",
    "GLARE",
    "GLARE_OTHER_STEPS",
    "GLARE_OWNER_STEPS",
    "MACHINE_ID",
    "ROWS",
    "STATES",
    "TIMEOUT_EFFECT",
    "TRIGGERS",
    "USAGE_OF",
    "DialogInstance",
    "Effect",
    "EffectRule",
    "TransactionRef",
    "declare",
    "effect_of",
    "glare_seconds",
    "initial_side",
    "random_sources",
]
