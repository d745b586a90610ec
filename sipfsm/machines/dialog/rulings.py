"""Where the RFCs disagree or are silent about the INVITE dialog, and what the model does:
data on the declaration (`MachineDecl.rulings`), shown on the dialog's docs page and in its
JSON export. Each `Ruling` names the rows (state, trigger) or states it decides.
"""

from __future__ import annotations

from sipfsm.decl.language import Ruling

_IN_DIALOG = ("early", "confirmed")


def _each(states: tuple[str, ...], *triggers: str) -> tuple[tuple[str, str], ...]:
    """Every (state, trigger) pair of ``states`` and ``triggers``."""
    return tuple((state, trigger) for state in states for trigger in triggers)


RULINGS: tuple[Ruling, ...] = (
    Ruling(
        "Which failures of a mid-dialog request end the dialog",
        ("RFC 3261 §12.2.1.2", "RFC 5057 §5.1", "RFC 5057 §5.3"),
        "RFC 3261 §12.2.1.2 says a 481, a 408 or a timeout SHOULD end the dialog; RFC 5057 "
        "§5.1 (Table 1, Table 2 and its notes) refines which codes end the transaction, the "
        "usage or the dialog. The model follows RFC 5057 (`effect_of`) for the INVITE usage "
        "this DSM models: 404, 410, 416, 482-485, 502, 604 destroy the dialog; 405, 480, 481, "
        "489, 501 the usage (405/501 only for a method the usage needs, 489 only for "
        "SUBSCRIBE/NOTIFY); everything else (3xx included) only the transaction. A 481 to a "
        "CANCEL affects only the CANCEL (note 8). A request that belongs to no usage "
        "(OPTIONS, MESSAGE, unknown methods; §5.3) is only affected by dialog-destroying codes.",
        rows=(*_each(_IN_DIALOG, "rcv_final"), ("confirmed", "rcv_3xx_6xx_invite")),
    ),
    Ruling(
        "A 408: Transaction Only in RFC 5057 Table 1, a timeout in its note (4)",
        ("RFC 5057 §5.1", "RFC 5057 §5.2", "RFC 3261 §12.2.1.2"),
        "RFC 5057 lists 408 under \"Transaction Only\" in Table 1, yet note (4) says a 408 has "
        "the effect of a timeout, which §5.2 confines to the usage. The model treats a 408 "
        "and a timeout as ending the usage, which agrees with RFC 3261 §12.2.1.2.",
        rows=(*_each(_IN_DIALOG, "rcv_final", "transaction_ended"),
              ("confirmed", "rcv_3xx_6xx_invite")),
    ),
    Ruling(
        "How the dialog ends when its INVITE usage does",
        ("RFC 3261 §12.2.1.2", "RFC 3261 §15"),
        "Ending an INVITE dialog \"consists of sending a BYE\" (§12.2.1.2), but the callee "
        "MUST NOT send BYE on an early dialog (§15). So the dialog does not change state by "
        "itself: it tells the TU to send the BYE (`send_bye`), or, the callee of an early "
        "dialog, to end it with a non-2xx final response to the INVITE (`reject_invite`); "
        "the BYE then takes it to Mortal as in the figures.",
        rows=(*_each(_IN_DIALOG, "rcv_final", "transaction_ended"),
              ("confirmed", "rcv_3xx_6xx_invite")),
    ),
    Ruling(
        "A client transaction that ends without a final response",
        ("RFC 3261 §12.2.1.2", "RFC 3261 §8.1.3.1", "RFC 5407 §2"),
        "The figures have no arrow for it. A client transaction that ends (`TransactionEnded`) "
        "before any final response arrived is a timeout, treated as a 408 (§12.2.1.2, "
        "§8.1.3.1). A host that knows it was a transport error (treated as a 503) delivers "
        "that 503 as a response first.",
        rows=_each(_IN_DIALOG, "transaction_ended"),
    ),
    Ruling(
        "When Mortal becomes Morgue",
        ("RFC 5407 §2", "RFC 5407 Appendix D"),
        "The figures go from Mortal to Morgue on \"Timeout\", the end of the BYE transaction; "
        "Appendix D keeps the INVITE usage while a 2xx may still need an ACK. The model moves "
        "to Morgue when the last BYE or INVITE transaction of the dialog has ended.",
        rows=(("mortal", "transaction_ended"),),
    ),
    Ruling(
        "A callee's BYE before the ACK, and the only difference between the profiles",
        ("RFC 3261 §15", "RFC 3261 §13.3.1.4", "RFC 6026 §8.7", "RFC 5407 §3.2.4"),
        "A callee MUST NOT send BYE before the ACK \"or until the server transaction times "
        "out\" (§15). Under RFC 6026 the INVITE server transaction ends with Timer L (64*T1) "
        "if no ACK came, and the callee is then told `send_bye` (§13.3.1.4, §14.2); under the "
        "original RFC 3261 figures it ends as soon as the 2xx is sent, so the BYE is allowed "
        "from then on and no advice is given (the UAS core's own 2xx retransmission timeout "
        "is outside the DSM). This is the only difference between the two profiles. RFC 5407 "
        "§3.2.4 draws the callee sending BYE in Moratorium (its message details say Alice "
        "sends it); the model follows §15: the callee's BYE in Moratorium is a "
        "`LocalProtocolError` until then.",
        rows=(("moratorium", "transaction_ended"), ("confirmed", "send_bye")),
    ),
    Ruling(
        "491 or 500 to an UPDATE, 491 to a re-INVITE",
        ("RFC 3311 §5.2", "RFC 3261 §14.2", "RFC 5407 §3.1.5"),
        "RFC 3311 §5.2 answers 491 only to an UPDATE *with an offer* while our own offer is "
        "unanswered (and 500 with Retry-After while the peer's offer, or an earlier UPDATE, is "
        "unanswered). A re-INVITE gets 491 while our INVITE is in progress (RFC 3261 §14.2, "
        "with or without offers) and, when it carries an offer, while our offer is unanswered "
        "(RFC 5407 §3.1.5: the offer in our 2xx awaits its answer in the ACK). An UPDATE with "
        "an offer that crosses a re-INVITE of ours *without* an offer is accepted: no RFC "
        "rejects it.",
        rows=_each(_IN_DIALOG, "rcv_invite", "rcv_update"),
    ),
    Ruling(
        "An equal CSeq, and the CSeq of a rejected request",
        ("RFC 3261 §12.2.2",),
        "§12.2.2 rejects a CSeq *lower* than the remote sequence number with 500; an equal "
        "CSeq (not a retransmission, which the transaction layer absorbs) is silent there and "
        "accepted. A request rejected by the dialog layer (491, 500 with Retry-After, 481 to "
        "PRACK) still advances the remote sequence number: the CSeq check of §12.2.2 comes "
        "before the method-specific processing whose state changes a rejection undoes.",
        rows=_each(_IN_DIALOG, "rcv_invite", "rcv_update", "rcv_prack", "rcv_request"),
    ),
    Ruling(
        "Requests in Mortal",
        ("RFC 5407 §3.2.2", "RFC 5407 §3.3.3", "RFC 3261 §12.2.2"),
        "In Mortal every request but BYE gets 481 (RFC 5407 §2, §3.2.2, §3.3.3), OPTIONS "
        "included, although RFC 3261 §12.2.2 would process an OPTIONS as if outside a dialog.",
        rows=_each(("mortal",), "rcv_invite", "rcv_update", "rcv_prack", "rcv_request"),
    ),
    Ruling(
        "The initial INVITE retransmitted after its server transaction is gone",
        ("RFC 5407 §3.1.1", "RFC 3261 §17.2.1"),
        "Under the original RFC 3261 the 2xx destroys the INVITE server transaction, so a "
        "retransmission of the initial INVITE may reach the callee's TU. It is recognised "
        "and absorbed (RFC 5407 §3.1.1), not treated as a new INVITE.",
        rows=_each(("preparative", "early", "confirmed", "mortal", "morgue"), "rcv_invite"),
    ),
    Ruling(
        "BYE on an early dialog from the wrong side",
        ("RFC 3261 §15", "RFC 5407 §2"),
        "A BYE received by the caller on an early dialog, or sent by the callee on one, has "
        "no arrow in the figures: the callee MUST NOT send BYE on an early dialog (§15), so "
        "it is a protocol error (the rows of Early carry a guard on the role).",
        rows=(("early", "rcv_bye"), ("early", "send_bye")),
    ),
    Ruling(
        "The glare timer across state changes",
        ("RFC 3261 §14.1", "RFC 3311 §5.3", "RFC 5407 §3.1.5"),
        "The §14.1 glare timer is started by a row's action, not by a state. Early and "
        "Confirmed keep it, so a retry after a 491 survives Early -> Moratorium -> "
        "Established (RFC 5407 §3.1.5 retries a 491 received in Moratorium once the dialog is "
        "Established; for Early -> Moratorium the RFCs say nothing). Leaving for Mortal (a "
        "BYE) stops it, as §14.1 wants: the re-INVITE does not take place.",
        rows=(*_each(_IN_DIALOG, "timer_glare"), ("terminated", "timer_glare")),
        states=("early", "confirmed"),
    ),
    Ruling(
        "CANCEL and the dialog",
        ("RFC 5407 Appendix C", "RFC 3261 §9.2", "RFC 3261 §21.4.25"),
        "A CANCEL (sent or received) never changes the dialog (RFC 5407 §2, Appendix C); the "
        "UA core answers it (`sipfsm.elements.core.handle_cancel`) and the 487 it causes "
        "moves the callee's dialog. A CANCEL is never a pending request of the dialog, so it "
        "never gets a 487 (§21.4.25).",
        rows=_each(
            ("preparative", "early", "confirmed", "terminated"), "rcv_cancel", "send_cancel"
        ),
    ),
)


__all__ = ["RULINGS"]
