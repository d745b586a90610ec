"""The dialog's rows (built by the helpers below, as in the former dialog.py): one row
per arrow of RFC 5407 §2 Figures 1 and 2 and one per rule of RFC 3261 §12-15 (and RFC 3262
§3, RFC 3311 §5) that the figures leave out. Each row: source state, trigger, destination,
actions, RFC section, then its guards, the profiles that have it (both unless said) and a note.

Every message sent or received on the dialog is a row -- most of them internal rows whose only
action is to track the message -- so every (state, trigger) is either a row here or a
`ProtocolError` naming the dialog, its state and the event.

One declaration serves both roles: an arrow drawn in only one figure carries a guard on the
role (``caller``: the UAC of the initial INVITE, Figure 1; ``callee``: its UAS, Figure 2).

Order matters where rows share a state and a trigger: the first whose guards all hold is
taken, a state's own rows before its parent's (`sipfsm.decl.language.Transition`). A request
received within the dialog is therefore checked for a retransmitted initial INVITE first,
then for a CSeq lower than the remote one (RFC 3261 §12.2.2), then by its method's rules;
the unguarded row that accepts it comes last.
"""

from __future__ import annotations

from collections.abc import Iterable

from sipfsm.decl.language import ALL_PROFILES, ONLY_3261, ONLY_6026, ActionDecl, Guard, Transition
from sipfsm.machines.dialog.actions import (
    REJECT_INVITE,
    RESPOND_487_TO_PENDING,
    RETRY,
    SEND_ACK,
    SEND_BYE,
    START_GLARE,
    TRACK_ENDED,
    TRACK_RECEIVED,
    TRACK_REJECTED,
    TRACK_SENT,
    respond,
    respond_retry_after,
)
from sipfsm.machines.dialog.guards import (
    ACK_OF_INITIAL,
    ACK_OF_OTHER,
    CALLEE,
    CALLER,
    CSEQ_LOWER,
    ENDS_USAGE,
    GLARE_491,
    INITIAL,
    INITIAL_RETRANSMISSION,
    INITIAL_TRANSACTION,
    LAST_TRANSACTION,
    MAY_SEND_BYE,
    NO_ACK_CAME,
    NO_INVITE_IN_PROGRESS,
    NO_TO_TAG,
    NOT_INITIAL,
    OFFER_CROSSES_OURS,
    OFFER_CROSSES_THEIRS,
    OUR_INVITE_PENDING,
    PRACK_UNMATCHED,
    THEIR_INVITE_PENDING,
    THEIR_UPDATE_PENDING,
    TIMED_OUT,
    WITH_TAG,
)

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
        _row(source, "rcv_invite", source, (TRACK_REJECTED, respond(481, _NO_DIALOG)), _NO_DIALOG),
        _row(source, "rcv_update", source, (TRACK_REJECTED, respond(481, _NO_DIALOG)), _NO_DIALOG),
        _row(
            source,
            "rcv_prack",
            source,
            (TRACK_REJECTED, respond(481, "RFC 3262 §3")),
            "RFC 3262 §3",
        ),
        _row(
            source, "rcv_request", source, (TRACK_REJECTED, respond(481, _NO_DIALOG)), _NO_DIALOG
        ),
        _row(source, "rcv_bye", source, (TRACK_REJECTED, respond(481, rfc_bye)), rfc_bye),
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
            (respond(500, "RFC 3261 §12.2.2"),),
            "RFC 3261 §12.2.2",
            (CSEQ_LOWER,),
        ),
        _row(
            source,
            "rcv_invite",
            source,
            (TRACK_REJECTED, respond(491, "RFC 3261 §14.2")),
            "RFC 3261 §14.2",
            (OUR_INVITE_PENDING,),
        ),
        _row(
            source,
            "rcv_invite",
            source,
            (TRACK_REJECTED, respond_retry_after(500, "RFC 3261 §14.2")),
            "RFC 3261 §14.2",
            (THEIR_INVITE_PENDING,),
        ),
        _row(
            source,
            "rcv_invite",
            source,
            (TRACK_REJECTED, respond(491, "RFC 5407 §3.1.5")),
            "RFC 5407 §3.1.5",
            (OFFER_CROSSES_OURS,),
        ),
        _row(source, "rcv_invite", source, (TRACK_RECEIVED,), "RFC 3261 §14.2"),
        _row(
            source,
            "rcv_update",
            source,
            (respond(500, "RFC 3261 §12.2.2"),),
            "RFC 3261 §12.2.2",
            (CSEQ_LOWER,),
        ),
        _row(
            source,
            "rcv_update",
            source,
            (TRACK_REJECTED, respond_retry_after(500, "RFC 3311 §5.2")),
            "RFC 3311 §5.2",
            (THEIR_UPDATE_PENDING,),
        ),
        _row(
            source,
            "rcv_update",
            source,
            (TRACK_REJECTED, respond(491, "RFC 3311 §5.2")),
            "RFC 3311 §5.2",
            (OFFER_CROSSES_OURS,),
        ),
        _row(
            source,
            "rcv_update",
            source,
            (TRACK_REJECTED, respond_retry_after(500, "RFC 3311 §5.2")),
            "RFC 3311 §5.2",
            (OFFER_CROSSES_THEIRS,),
        ),
        _row(source, "rcv_update", source, (TRACK_RECEIVED,), "RFC 3311 §5.2"),
        _row(
            source,
            "rcv_prack",
            source,
            (respond(500, "RFC 3261 §12.2.2"),),
            "RFC 3261 §12.2.2",
            (CSEQ_LOWER,),
        ),
        _row(
            source,
            "rcv_prack",
            source,
            (TRACK_REJECTED, respond(481, "RFC 3262 §3")),
            "RFC 3262 §3",
            (PRACK_UNMATCHED,),
        ),
        _row(source, "rcv_prack", source, (TRACK_RECEIVED,), "RFC 3262 §3"),
        _row(
            source,
            "rcv_request",
            source,
            (respond(500, "RFC 3261 §12.2.2"),),
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
            (SEND_BYE, TRACK_RECEIVED),
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
                    (REJECT_INVITE, TRACK_RECEIVED),
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
                    (REJECT_INVITE, TRACK_ENDED),
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
            (RETRY,),
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
            (respond(500, "RFC 3261 §12.2.2"),),
            "RFC 3261 §12.2.2",
            (*guards, CSEQ_LOWER),
            note="a BYE is processed as in §12.2.2 first (§15.1.2)",
        ),
        _row(
            source,
            "rcv_bye",
            dest,
            (
                respond(200, "RFC 3261 §15.1.2"),
                RESPOND_487_TO_PENDING,
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
        (respond(500, "RFC 3261 §12.2.2"),),
        "RFC 3261 §12.2.2",
        (CSEQ_LOWER,),
    ),
    _row(
        "mortal",
        "rcv_bye",
        "mortal",
        (
            respond(200, "RFC 5407 §3.2.1"),
            RESPOND_487_TO_PENDING,
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
        (TRACK_REJECTED, respond(481, "RFC 5407 §3.2.2")),
        "RFC 5407 §3.2.2",
    ),
    _row(
        "mortal",
        "rcv_update",
        "mortal",
        (TRACK_REJECTED, respond(481, "RFC 5407 §3.2.2")),
        "RFC 5407 §3.2.2",
    ),
    _row(
        "mortal",
        "rcv_prack",
        "mortal",
        (TRACK_REJECTED, respond(481, "RFC 5407 §3.2.2")),
        "RFC 5407 §3.2.2",
    ),
    _row(
        "mortal",
        "rcv_request",
        "mortal",
        (TRACK_REJECTED, respond(481, "RFC 5407 §3.3.3")),
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


__all__ = ["CREATIONS", "ROWS"]
