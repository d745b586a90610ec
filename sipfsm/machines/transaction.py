"""The transaction layer: the four machines of RFC 3261 §17, declared once as data.

Each machine is one list of rows; `declare(machine_id, profile)` keeps the rows of one
profile. ``rfc6026`` (the default) is RFC 3261 as updated by RFC 4320 and RFC 6026;
``rfc3261`` is the original figures. Where the two disagree the row carries the profile
it belongs to and the later RFC's section.

Where the RFC text and its figures differ, or the RFCs are silent, what the model does is data
on each declaration (`MachineDecl.rulings`, from `RULINGS` at the end of this module; shown on
the machines' docs pages).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sipfsm.decl import figures
from sipfsm.decl.language import (
    ALL_PROFILES,
    ONLY_3261,
    ONLY_6026,
    PROFILES,
    ActionDecl,
    EventKind,
    Guard,
    MachineDecl,
    Outcome,
    Ruling,
    StateDecl,
    Transition,
    Trigger,
    profile_of,
    select_profile,
)
from sipfsm.decl.timers import TIMERS
from sipfsm.values.errors import UnknownName

# -- shorthand for the rows -----------------------------------------------------------------


def _send(kind: str) -> ActionDecl:
    return ActionDecl(kind)


def _tu(what: str) -> ActionDecl:
    return ActionDecl("to_tu", what)


def _backoff(timer: str) -> ActionDecl:
    return ActionDecl("backoff_timer", timer)


SEND_REQUEST = _send("send_request")
SEND_ACK = _send("send_ack")
SEND_RESPONSE = _send("send_response")
RESEND_RESPONSE = _send("resend_response")
SEND_100 = _send("send_100")


def _resp(name: str, kind: EventKind, label: str, lo: int, hi: int) -> Trigger:
    return Trigger(name, kind, label, status=(lo, hi))


def _timer(name: str) -> Trigger:
    return Trigger(f"timer_{name.lower()}", "timer", f"Timer {name} fires", timer=name)


TRANSPORT_ERROR = Trigger("transport_error", "transport_error", "Transport Err.")


def _guard(name: str, text: str, rfc: str, check: Callable[[Any, Any], bool]) -> Guard:
    return Guard(name, text, rfc, check)


def _status(event: Any) -> int:
    return int(event.message.status)


CANCEL_REQUESTED = _guard(
    "cancel_requested", "CANCEL requested", "RFC 3261 §9.1",
    lambda ctx, _ev: bool(ctx.cancel_requested),
)
NO_CANCEL_REQUESTED = _guard(
    "no_cancel_requested", "no CANCEL requested", "RFC 3261 §9.1",
    lambda ctx, _ev: not ctx.cancel_requested,
)
ONLY_100_TO_NON_INVITE = _guard(
    "only_100", "status == 100", "RFC 4320 §4.1",
    lambda _ctx, ev: _status(ev) == 100,
)
NO_408_TO_NON_INVITE = _guard(
    "no_408", "status != 408", "RFC 4320 §4.2",
    lambda _ctx, ev: _status(ev) != 408,
)
NO_487_TO_CANCEL = _guard(
    "no_487_to_cancel", "not 487 to CANCEL", "RFC 3261 §21.4.25",
    lambda ctx, ev: not (_status(ev) == 487 and ctx.request.method == "CANCEL"),
)

NOT_INVITE_OR_ACK = _guard(
    "not_invite_or_ack", "method not INVITE or ACK", "RFC 3261 §17.1",
    lambda _ctx, ev: ev.message.method not in ("INVITE", "ACK"),
)

# -- INVITE client transaction (RFC 3261 §17.1.1, Figure 5; RFC 6026 §7.2, §8.4) -------------

_TRANSPORT_503 = Outcome(
    503, "receive", "when the transport fails: the TU treats it as a 503 (Service "
    "Unavailable)", "RFC 3261 §8.1.3.1", "transport_error")

_RECV_4XX_INVITE = (
    Outcome(487, "receive", "when our CANCEL took effect: the INVITE was terminated",
            "RFC 3261 §9.1", "rcv_3xx_6xx"),
    Outcome(491, "receive", "when our re-INVITE crossed one of the peer's (glare): retry "
            "after the randomised §14.1 timer", "RFC 3261 §14.1", "rcv_3xx_6xx"),
    Outcome(481, "receive", "when the re-INVITE's dialog no longer exists at the peer: the "
            "dialog ends", "RFC 3261 §12.2.1.2", "rcv_3xx_6xx"),
    Outcome(408, "receive", "when a proxy's Timer C or the UAS gave up (a 408 on the wire): "
            "a re-INVITE's dialog ends", "RFC 3261 §12.2.1.2", "rcv_3xx_6xx"),
)


ICT_STATES = (
    StateDecl("calling", "INVITE sent; retransmitted on Timer A (unreliable transport) "
              "until a response or Timer B", "RFC 3261 §17.1.1.2", timers=("A", "B"),
              outcomes=(
                  Outcome(408, "receive", "when Timer B fires: no response, the TU treats it "
                          "as a 408", "RFC 3261 §8.1.3.1", "timer_b"),
                  _TRANSPORT_503,
                  *_RECV_4XX_INVITE,
              )),
    StateDecl("proceeding", "a provisional response arrived; no more retransmissions, and "
              "no timer: the TU decides when to CANCEL", "RFC 3261 §17.1.1.2",
              outcomes=_RECV_4XX_INVITE),
    StateDecl("completed", "a 300-699 arrived and was ACKed; retransmissions of it are "
              "ACKed again until Timer D", "RFC 3261 §17.1.1.2", timers=("D",)),
    StateDecl("accepted", "a 2xx arrived; further 2xx (retransmissions or other forks) go "
              "to the TU, which ACKs them, until Timer M", "RFC 6026 §7.2", timers=("M",),
              profiles=ONLY_6026),
    StateDecl("terminated", "the transaction is destroyed; under RFC 6026 a response that "
              "matches no transaction is dropped", "RFC 6026 §7.2", terminal=True,
              on_enter=(_tu("terminated"),)),
)

ICT_TRIGGERS = (
    Trigger("tu_request", "tu_request", "INVITE from TU", method="INVITE"),
    _resp("rcv_1xx", "response_received", "1xx", 100, 199),
    _resp("rcv_2xx", "response_received", "2xx", 200, 299),
    _resp("rcv_3xx_6xx", "response_received", "300-699", 300, 699),
    Trigger("tu_cancel", "tu_cancel", "CANCEL from TU"),
    _timer("A"), _timer("B"), _timer("D"), _timer("M"), _timer("Cancel"),
    TRANSPORT_ERROR,
)

ICT_CREATION = Transition("", "tu_request", "calling", (SEND_REQUEST,), "RFC 3261 §17.1.1.2")

ICT_ROWS = (
    Transition("calling", "timer_a", "calling", (SEND_REQUEST, _backoff("A")),
               "RFC 3261 §17.1.1.2"),
    Transition("calling", "timer_b", "terminated", (_tu("timeout"),), "RFC 3261 §17.1.1.2"),
    Transition("calling", "transport_error", "terminated", (_tu("transport_error"),),
               "RFC 3261 §17.1.4"),
    Transition("calling", "rcv_1xx", "proceeding",
               (_tu("response"), _tu("send_cancel"), ActionDecl("start_timer", "Cancel")),
               "RFC 3261 §9.1", guards=(CANCEL_REQUESTED,),
               note="a CANCEL held back in Calling may now be sent"),
    Transition("calling", "rcv_1xx", "proceeding", (_tu("response"),), "RFC 3261 §17.1.1.2",
               guards=(NO_CANCEL_REQUESTED,)),
    Transition("calling", "rcv_2xx", "terminated", (_tu("response"),), "RFC 3261 §17.1.1.2",
               profiles=ONLY_3261),
    Transition("calling", "rcv_2xx", "accepted", (_tu("response"),), "RFC 6026 §8.4",
               profiles=ONLY_6026),
    Transition("calling", "rcv_3xx_6xx", "completed", (SEND_ACK, _tu("response")),
               "RFC 3261 §17.1.1.2", note="the ACK is sent even on a reliable transport"),
    Transition("calling", "tu_cancel", "calling", (ActionDecl("set_flag", "cancel_requested"),),
               "RFC 3261 §9.1",
               note="no provisional response yet: the CANCEL MUST wait for one"),
    Transition("proceeding", "rcv_1xx", "proceeding", (_tu("response"),),
               "RFC 3261 §17.1.1.2"),
    Transition("proceeding", "rcv_2xx", "terminated", (_tu("response"),),
               "RFC 3261 §17.1.1.2", profiles=ONLY_3261),
    Transition("proceeding", "rcv_2xx", "accepted", (_tu("response"),), "RFC 6026 §8.4",
               profiles=ONLY_6026),
    Transition("proceeding", "rcv_3xx_6xx", "completed", (SEND_ACK, _tu("response")),
               "RFC 3261 §17.1.1.2", note="the ACK is sent even on a reliable transport"),
    Transition("proceeding", "tu_cancel", "proceeding",
               (_tu("send_cancel"), ActionDecl("start_timer", "Cancel"),
                ActionDecl("set_flag", "cancel_requested")), "RFC 3261 §9.1",
               guards=(NO_CANCEL_REQUESTED,)),
    Transition("proceeding", "tu_cancel", "proceeding", (), "RFC 3261 §9.1",
               guards=(CANCEL_REQUESTED,), note="a CANCEL was already sent"),
    Transition("proceeding", "timer_cancel", "terminated", (_tu("cancelled"),),
               "RFC 3261 §9.1",
               note="no final response 64*T1 after the CANCEL: consider the INVITE cancelled"),
    Transition("completed", "rcv_3xx_6xx", "completed", (SEND_ACK,), "RFC 3261 §17.1.1.2",
               note="a retransmitted final response is ACKed again, not passed to the TU"),
    Transition("completed", "timer_d", "terminated", (), "RFC 3261 §17.1.1.2"),
    Transition("completed", "transport_error", "terminated", (_tu("transport_error"),),
               "RFC 3261 §17.1.4"),
    Transition("completed", "tu_cancel", "completed", (), "RFC 3261 §9.1",
               note="a final response arrived: a CANCEL would be a no-op, none is sent"),
    Transition("accepted", "rcv_2xx", "accepted", (_tu("response"),), "RFC 6026 §8.4",
               profiles=ONLY_6026),
    Transition("accepted", "timer_m", "terminated", (), "RFC 6026 §8.4", profiles=ONLY_6026),
    Transition("accepted", "tu_cancel", "accepted", (), "RFC 3261 §9.1", profiles=ONLY_6026,
               note="a final response arrived: a CANCEL would be a no-op, none is sent"),
)

# -- non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6; RFC 4320) ---------------------

_RECV_4XX_NON_INVITE = (
    _TRANSPORT_503,
    Outcome(481, "receive", "when the request matched no dialog or transaction at the peer "
            "(BYE, CANCEL, PRACK, in-dialog request): a dialog request's dialog ends",
            "RFC 3261 §12.2.1.2", "rcv_final"),
    Outcome(491, "receive", "when our UPDATE crossed the peer's offer: retry after the "
            "§14.1 timer", "RFC 3311 §5.2", "rcv_final", methods=("UPDATE",)),
)

NICT_STATES = (
    StateDecl("trying", "request sent; retransmitted on Timer E (unreliable transport), "
              "given up on Timer F", "RFC 3261 §17.1.2.2", timers=("E", "F"),
              outcomes=(
                  Outcome(408, "receive", "when Timer F fires: the TU treats it as a 408 "
                          "(none is ever sent on the wire to a non-INVITE, RFC 4320 §4.2)",
                          "RFC 3261 §8.1.3.1", "timer_f"),
                  *_RECV_4XX_NON_INVITE,
              )),
    StateDecl("proceeding", "a provisional response arrived; retransmissions continue every "
              "T2", "RFC 3261 §17.1.2.2", timers=("E", "F"),
              outcomes=(
                  Outcome(408, "receive", "when Timer F fires: the TU treats it as a 408",
                          "RFC 3261 §8.1.3.1", "timer_f"),
                  *_RECV_4XX_NON_INVITE,
              )),
    StateDecl("completed", "a final response arrived; retransmissions of responses are "
              "absorbed until Timer K", "RFC 3261 §17.1.2.2", timers=("K",)),
    StateDecl("terminated", "the transaction is destroyed", "RFC 3261 §17.1.2.2",
              terminal=True, on_enter=(_tu("terminated"),)),
)

NICT_TRIGGERS = (
    Trigger("tu_request", "tu_request", "Request from TU"),
    _resp("rcv_1xx", "response_received", "1xx", 100, 199),
    _resp("rcv_final", "response_received", "200-699", 200, 699),
    _timer("E"), _timer("F"), _timer("K"),
    TRANSPORT_ERROR,
)

NICT_CREATION = Transition("", "tu_request", "trying", (SEND_REQUEST,), "RFC 3261 §17.1.2.2",
                           guards=(NOT_INVITE_OR_ACK,),
                           note="there is no client transaction for ACK (RFC 3261 §17.1)")

NICT_ROWS = (
    Transition("trying", "timer_e", "trying", (SEND_REQUEST, _backoff("E")),
               "RFC 3261 §17.1.2.2"),
    Transition("trying", "timer_f", "terminated", (_tu("timeout"),), "RFC 3261 §17.1.2.2"),
    Transition("trying", "transport_error", "terminated", (_tu("transport_error"),),
               "RFC 3261 §17.1.4"),
    Transition("trying", "rcv_1xx", "proceeding", (_tu("response"),), "RFC 3261 §17.1.2.2"),
    Transition("trying", "rcv_final", "completed", (_tu("response"),), "RFC 3261 §17.1.2.2"),
    Transition("proceeding", "timer_e", "proceeding",
               (SEND_REQUEST, ActionDecl("restart_timer", "E", "T2")), "RFC 3261 §17.1.2.2"),
    Transition("proceeding", "timer_f", "terminated", (_tu("timeout"),),
               "RFC 3261 §17.1.2.2"),
    Transition("proceeding", "transport_error", "terminated", (_tu("transport_error"),),
               "RFC 3261 §17.1.4"),
    Transition("proceeding", "rcv_1xx", "proceeding", (_tu("response"),),
               "RFC 3261 §17.1.2.2"),
    Transition("proceeding", "rcv_final", "completed", (_tu("response"),),
               "RFC 3261 §17.1.2.2"),
    Transition("completed", "rcv_1xx", "completed", (), "RFC 3261 §17.1.2.2",
               note="Completed buffers response retransmissions"),
    Transition("completed", "rcv_final", "completed", (), "RFC 3261 §17.1.2.2",
               note="Completed buffers response retransmissions"),
    Transition("completed", "timer_k", "terminated", (), "RFC 3261 §17.1.2.2"),
)

# -- INVITE server transaction (RFC 3261 §17.2.1, Figure 7; RFC 6026 §7.1, §8.5-8.8) ---------

IST_STATES = (
    StateDecl("proceeding", "INVITE passed to the TU; 100 Trying unless the TU answers "
              "within 200 ms; INVITE retransmissions get the latest provisional",
              "RFC 3261 §17.2.1", timers=("Trying",),
              outcomes=(
                  Outcome(487, "send", "when a CANCEL matched this INVITE (the CANCEL itself "
                          "gets 200)", "RFC 3261 §9.2", "tu_3xx_6xx"),
                  Outcome(487, "send", "when a BYE arrived for the early dialog of this "
                          "INVITE", "RFC 3261 §15.1.2", "tu_3xx_6xx"),
                  Outcome(491, "send", "when this re-INVITE arrived while our own re-INVITE "
                          "or offer on the dialog is pending", "RFC 3261 §14.2",
                          "tu_3xx_6xx"),
                  Outcome(481, "send", "when this INVITE carries a To tag that matches no "
                          "dialog", "RFC 3261 §12.2.2", "tu_3xx_6xx"),
                  Outcome(500, "send", "(with Retry-After 0-10 s) when an earlier INVITE we "
                          "received on the dialog is still unanswered", "RFC 3261 §14.2",
                          "tu_3xx_6xx"),
                  Outcome(408, "send", "when the UAS could not produce a final response in "
                          "time", "RFC 3261 §21.4.9", "tu_3xx_6xx"),
              )),
    StateDecl("completed", "a 300-699 was sent; retransmitted on Timer G (unreliable) and "
              "on INVITE retransmissions until the ACK or Timer H", "RFC 3261 §17.2.1",
              timers=("G", "H"),
              outcomes=(
                  Outcome(408, "receive", "when Timer H fires: the ACK never came, the TU is "
                          "told of the failure", "RFC 3261 §17.2.1", "timer_h"),
              )),
    StateDecl("confirmed", "the ACK arrived; further ACKs are absorbed until Timer I",
              "RFC 3261 §17.2.1", timers=("I",)),
    StateDecl("accepted", "a 2xx was sent; INVITE retransmissions are absorbed, ACKs and "
              "2xx retransmissions from the TU pass through, until Timer L", "RFC 6026 §7.1",
              timers=("L",), profiles=ONLY_6026),
    StateDecl("terminated", "the transaction is destroyed", "RFC 3261 §17.2.1",
              terminal=True, on_enter=(_tu("terminated"),)),
)

IST_TRIGGERS = (
    Trigger("rcv_invite", "request_received", "INVITE", method="INVITE"),
    Trigger("rcv_ack", "request_received", "ACK", method="ACK"),
    _resp("tu_1xx", "tu_response", "1xx from TU", 100, 199),
    _resp("tu_2xx", "tu_response", "2xx from TU", 200, 299),
    _resp("tu_3xx_6xx", "tu_response", "300-699 from TU", 300, 699),
    _timer("Trying"), _timer("G"), _timer("H"), _timer("I"), _timer("L"),
    TRANSPORT_ERROR,
)

IST_CREATION = Transition("", "rcv_invite", "proceeding", (_tu("request"),),
                          "RFC 3261 §17.2.1")

IST_ROWS = (
    Transition("proceeding", "timer_trying", "proceeding", (SEND_100,), "RFC 3261 §17.2.1",
               note="the TU did not answer within 200 ms"),
    Transition("proceeding", "rcv_invite", "proceeding", (RESEND_RESPONSE,),
               "RFC 3261 §17.2.1", note="retransmit the most recent provisional, if any"),
    Transition("proceeding", "tu_1xx", "proceeding",
               (ActionDecl("stop_timer", "Trying"), SEND_RESPONSE), "RFC 3261 §17.2.1"),
    Transition("proceeding", "tu_2xx", "terminated", (SEND_RESPONSE,), "RFC 3261 §17.2.1",
               profiles=ONLY_3261),
    Transition("proceeding", "tu_2xx", "accepted", (SEND_RESPONSE,), "RFC 6026 §8.5",
               profiles=ONLY_6026),
    Transition("proceeding", "tu_3xx_6xx", "completed", (SEND_RESPONSE,), "RFC 3261 §17.2.1"),
    Transition("proceeding", "transport_error", "terminated", (_tu("transport_error"),),
               "RFC 3261 §17.2.4", profiles=ONLY_3261),
    Transition("proceeding", "transport_error", "proceeding", (_tu("transport_error"),),
               "RFC 6026 §8.8", profiles=ONLY_6026),
    Transition("completed", "rcv_invite", "completed", (RESEND_RESPONSE,), "RFC 3261 §17.2.1"),
    Transition("completed", "timer_g", "completed", (RESEND_RESPONSE, _backoff("G")),
               "RFC 3261 §17.2.1"),
    Transition("completed", "timer_h", "terminated", (_tu("timeout"),), "RFC 3261 §17.2.1"),
    Transition("completed", "rcv_ack", "confirmed", (), "RFC 3261 §17.2.1"),
    Transition("completed", "transport_error", "terminated", (_tu("transport_error"),),
               "RFC 3261 §17.2.4", profiles=ONLY_3261),
    Transition("completed", "transport_error", "completed", (_tu("transport_error"),),
               "RFC 6026 §8.8", profiles=ONLY_6026),
    Transition("confirmed", "rcv_ack", "confirmed", (), "RFC 3261 §17.2.1",
               note="Confirmed absorbs ACK retransmissions"),
    Transition("confirmed", "timer_i", "terminated", (), "RFC 3261 §17.2.1"),
    Transition("accepted", "rcv_invite", "accepted", (), "RFC 6026 §8.7", profiles=ONLY_6026,
               note="an accepted INVITE's retransmission is absorbed, not passed to the TU"),
    Transition("accepted", "rcv_ack", "accepted", (_tu("ack"),), "RFC 6026 §8.7",
               profiles=ONLY_6026),
    Transition("accepted", "tu_2xx", "accepted", (SEND_RESPONSE,), "RFC 6026 §8.7",
               profiles=ONLY_6026),
    Transition("accepted", "transport_error", "accepted", (_tu("transport_error"),),
               "RFC 6026 §8.8", profiles=ONLY_6026),
    Transition("accepted", "timer_l", "terminated", (), "RFC 6026 §8.7", profiles=ONLY_6026),
)

# -- non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8; RFC 4320 §4) ------------------

_SEND_4XX_NON_INVITE = (
    Outcome(481, "send", "when a BYE matches no dialog", "RFC 3261 §15.1.2", "tu_final",
            methods=("BYE",)),
    Outcome(481, "send", "when a CANCEL matches no transaction", "RFC 3261 §9.2", "tu_final",
            methods=("CANCEL",)),
    Outcome(481, "send", "when a PRACK matches no unacknowledged reliable provisional",
            "RFC 3262 §3", "tu_final", methods=("PRACK",)),
    Outcome(481, "send", "when an in-dialog request's To tag matches no dialog",
            "RFC 3261 §12.2.2", "tu_final"),
    Outcome(487, "send", "when a request pending on the dialog is ended by a BYE",
            "RFC 3261 §15.1.2", "tu_final"),
    Outcome(491, "send", "when an UPDATE with an offer arrives while our own offer is "
            "pending", "RFC 3311 §5.2", "tu_final", methods=("UPDATE",)),
    Outcome(408, "send", "never: a 408 to a non-INVITE request always arrives too late",
            "RFC 4320 §4.2", "tu_final", forbidden=True, profiles=ONLY_6026),
    Outcome(408, "send", "when the UAS could not answer in time (allowed before RFC 4320)",
            "RFC 3261 §21.4.9", "tu_final", profiles=ONLY_3261),
    Outcome(487, "send", "never to a CANCEL itself: 487 answers the request it cancelled",
            "RFC 3261 §21.4.25", "tu_final", forbidden=True, methods=("CANCEL",)),
)

NIST_STATES = (
    StateDecl("trying", "request passed to the TU; its retransmissions are discarded until "
              "the TU responds", "RFC 3261 §17.2.2", outcomes=_SEND_4XX_NON_INVITE),
    StateDecl("proceeding", "a provisional was sent; request retransmissions get it again",
              "RFC 3261 §17.2.2", outcomes=_SEND_4XX_NON_INVITE),
    StateDecl("completed", "a final response was sent; request retransmissions get it "
              "again until Timer J; other finals from the TU are discarded",
              "RFC 3261 §17.2.2", timers=("J",)),
    StateDecl("terminated", "the transaction is destroyed", "RFC 3261 §17.2.2",
              terminal=True, on_enter=(_tu("terminated"),)),
)

NIST_TRIGGERS = (
    Trigger("rcv_request", "request_received", "Request"),
    _resp("tu_1xx", "tu_response", "1xx from TU", 100, 199),
    _resp("tu_final", "tu_response", "200-699 from TU", 200, 699),
    _timer("J"),
    TRANSPORT_ERROR,
)

NIST_CREATION = Transition("", "rcv_request", "trying", (_tu("request"),), "RFC 3261 §17.2.2",
                           guards=(NOT_INVITE_OR_ACK,),
                           note="an ACK never creates a server transaction (RFC 3261 §17.2.3)")

_FINAL_GUARDS_6026 = (NO_408_TO_NON_INVITE, NO_487_TO_CANCEL)
_FINAL_GUARDS_3261 = (NO_487_TO_CANCEL,)

NIST_ROWS = (
    Transition("trying", "rcv_request", "trying", (), "RFC 3261 §17.2.2",
               note="retransmissions are discarded in Trying"),
    Transition("trying", "tu_1xx", "proceeding", (SEND_RESPONSE,), "RFC 4320 §4.1",
               guards=(ONLY_100_TO_NON_INVITE,), profiles=ONLY_6026),
    Transition("trying", "tu_1xx", "proceeding", (SEND_RESPONSE,), "RFC 3261 §17.2.2",
               profiles=ONLY_3261),
    Transition("trying", "tu_final", "completed", (SEND_RESPONSE,), "RFC 4320 §4.2",
               guards=_FINAL_GUARDS_6026, profiles=ONLY_6026),
    Transition("trying", "tu_final", "completed", (SEND_RESPONSE,), "RFC 3261 §17.2.2",
               guards=_FINAL_GUARDS_3261, profiles=ONLY_3261),
    Transition("trying", "transport_error", "trying", (_tu("transport_error"),),
               "RFC 6026 §8.8", profiles=ONLY_6026),
    Transition("trying", "transport_error", "terminated", (_tu("transport_error"),),
               "RFC 3261 §17.2.4", profiles=ONLY_3261),
    Transition("proceeding", "rcv_request", "proceeding", (RESEND_RESPONSE,),
               "RFC 3261 §17.2.2"),
    Transition("proceeding", "tu_1xx", "proceeding", (SEND_RESPONSE,), "RFC 4320 §4.1",
               guards=(ONLY_100_TO_NON_INVITE,), profiles=ONLY_6026),
    Transition("proceeding", "tu_1xx", "proceeding", (SEND_RESPONSE,), "RFC 3261 §17.2.2",
               profiles=ONLY_3261),
    Transition("proceeding", "tu_final", "completed", (SEND_RESPONSE,), "RFC 4320 §4.2",
               guards=_FINAL_GUARDS_6026, profiles=ONLY_6026),
    Transition("proceeding", "tu_final", "completed", (SEND_RESPONSE,), "RFC 3261 §17.2.2",
               guards=_FINAL_GUARDS_3261, profiles=ONLY_3261),
    Transition("proceeding", "transport_error", "proceeding", (_tu("transport_error"),),
               "RFC 6026 §8.8", profiles=ONLY_6026),
    Transition("proceeding", "transport_error", "terminated", (_tu("transport_error"),),
               "RFC 3261 §17.2.4", profiles=ONLY_3261),
    Transition("completed", "rcv_request", "completed", (RESEND_RESPONSE,), "RFC 3261 §17.2.2"),
    Transition("completed", "tu_final", "completed", (), "RFC 3261 §17.2.2",
               note="any other final response from the TU is discarded"),
    Transition("completed", "timer_j", "terminated", (), "RFC 3261 §17.2.2"),
    Transition("completed", "transport_error", "completed", (_tu("transport_error"),),
               "RFC 6026 §8.8", profiles=ONLY_6026),
    Transition("completed", "transport_error", "terminated", (_tu("transport_error"),),
               "RFC 3261 §17.2.4", profiles=ONLY_3261),
)

# -- building per profile ---------------------------------------------------------------------

_SPECS: dict[str, tuple[str, str, dict[str, str], tuple[StateDecl, ...], tuple[Trigger, ...],
                        Transition, tuple[Transition, ...]]] = {
    "ict": ("INVITE client transaction", "RFC 3261 §17.1.1",
            {"rfc3261": figures.ICT_RFC3261, "rfc6026": figures.ICT_RFC6026},
            ICT_STATES, ICT_TRIGGERS, ICT_CREATION, ICT_ROWS),
    "nict": ("non-INVITE client transaction", "RFC 3261 §17.1.2",
             {"rfc3261": figures.NICT, "rfc6026": figures.NICT},
             NICT_STATES, NICT_TRIGGERS, NICT_CREATION, NICT_ROWS),
    "ist": ("INVITE server transaction", "RFC 3261 §17.2.1",
            {"rfc3261": figures.IST_RFC3261, "rfc6026": figures.IST_RFC6026},
            IST_STATES, IST_TRIGGERS, IST_CREATION, IST_ROWS),
    "nist": ("non-INVITE server transaction", "RFC 3261 §17.2.2",
             {"rfc3261": figures.NIST, "rfc6026": figures.NIST},
             NIST_STATES, NIST_TRIGGERS, NIST_CREATION, NIST_ROWS),
}

TRANSACTION_MACHINES: tuple[str, ...] = tuple(_SPECS)

_NOTES = {
    "rfc6026": ("profile rfc6026: RFC 3261 as updated by RFC 4320 and RFC 6026 (Accepted "
                "states, Timers L and M, Timer D a MUST, server transactions keep their "
                "state on transport errors, stray responses dropped, no 408 and only 100 "
                "as a provisional to a non-INVITE)",),
    "rfc3261": ("profile rfc3261: the original figures of RFC 3261 §17 (a 2xx terminates "
                "the INVITE transaction)",),
}

#: Where the RFC text and its figures differ, or the RFCs are silent, and what the model does.
RULINGS: dict[str, tuple[Ruling, ...]] = {
    "ict": (
        Ruling("Timer D and the ACK to a 300-699 on a reliable transport",
               ("RFC 6026 §8.4", "RFC 3261 §17.1.1.2"),
               "RFC 6026 §8.4 makes Timer D a MUST and the ACK to a 300-699 a MUST \"even if "
               "the transport is reliable\" (RFC 3261 §17.1.1.2 said SHOULD and implied as "
               "much); the rows are the same in both profiles and cite RFC 3261 §17.1.1.2.",
               rows=(("calling", "rcv_3xx_6xx"), ("proceeding", "rcv_3xx_6xx"),
                     ("completed", "timer_d"))),
        Ruling("No final response after a CANCEL", ("RFC 3261 §9.1", "RFC 3261 §17.1.1.2"),
               "With no final response 64*T1 after a CANCEL, the client SHOULD destroy the "
               "INVITE transaction (§9.1). The figures have no arrow for it; the rows with "
               "the Cancel timer declare it: the timer starts when the CANCEL is sent, and "
               "when it fires in Proceeding the TU is told the INVITE is cancelled.",
               rows=(("calling", "rcv_1xx"), ("proceeding", "tu_cancel"),
                     ("proceeding", "timer_cancel"))),
        Ruling("A provisional response after the final one", ("RFC 3261 §17.1.1.2",),
               "The figures do not say what the client transaction does with a 1xx in "
               "Completed (or, under RFC 6026, Accepted): no row is declared, so the engines "
               "reject it as a RemoteProtocolError, which a host treats as \"discard\".",
               rows=(("completed", "rcv_1xx"),)),
    ),
    "nict": (),
    "ist": (
        Ruling("Timer H in RFC 6026 Figure 7", ("RFC 6026 §7.1", "RFC 3261 §17.2.1"),
               "RFC 6026 Figure 7 labels \"Timer H fires\" with \"-\", but RFC 3261 §17.2.1 "
               "(not replaced by RFC 6026) says the TU MUST be told of the failure; the "
               "model follows the text.",
               rows=(("completed", "timer_h"),), profiles=ONLY_6026),
        Ruling("A 100 from the TU", ("RFC 3261 §17.2.1",),
               "Figure 7 says \"101-199 from TU\"; the model also accepts a 100 from the TU, "
               "which §17.2.1 allows (\"unless it knows that the TU will generate a "
               "provisional ... response\").",
               rows=(("proceeding", "tu_1xx"),)),
        Ruling("An INVITE retransmission in Confirmed", ("RFC 3261 §17.2.1",),
               "The figures do not say what the server transaction does with an INVITE "
               "retransmission in Confirmed: no row is declared, so the engines reject it as "
               "a RemoteProtocolError, which a host treats as \"discard\".",
               rows=(("confirmed", "rcv_invite"),)),
    ),
    "nist": (
        Ruling("A transport error in the non-INVITE server transaction",
               ("RFC 6026 §8.8", "RFC 3261 §17.2.4"),
               "RFC 6026 §8.8 replaces RFC 3261 §17.2.4 for *every* server transaction: on a "
               "transport error it informs the TU and stays in its state. Figure 8 (non-INVITE "
               "server) was not redrawn by RFC 6026, but the replaced text covers it, so the "
               "rfc6026 NIST keeps its state too.",
               rows=(("trying", "transport_error"), ("proceeding", "transport_error"),
                     ("completed", "transport_error")), profiles=ONLY_6026),
        Ruling("When to send a 100 to a non-INVITE request", ("RFC 4320 §4.1",),
               "RFC 4320 §4.1 also times the 100 to a non-INVITE (none on UDP before Timer E "
               "would reach T2, one after it): that is the TU's clock, not the transaction's, "
               "and is not modelled.",
               rows=(("trying", "tu_1xx"),), profiles=ONLY_6026),
    ),
}

_CACHE: dict[tuple[str, str], MachineDecl] = {}


def declare(machine: str, profile: str = "rfc6026") -> MachineDecl:
    """The declaration of a transaction machine in one profile (cached: it is immutable)."""
    key = (machine, profile)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    if machine not in _SPECS:
        raise UnknownName("machine", machine, TRANSACTION_MACHINES)
    if profile not in PROFILES:
        raise UnknownName("profile", profile, PROFILES)
    title, rfc, figs, states, triggers, creation, rows = _SPECS[machine]
    kept_rows = select_profile(rows, profile)
    used = {creation.trigger} | {r.trigger for r in kept_rows}
    kept_states = tuple(
        replace(s, outcomes=tuple(o for o in s.outcomes if profile in o.profiles))
        for s in select_profile(states, profile)
    )
    timer_names = [n for s in kept_states for n in s.timers] + [
        a.arg for r in kept_rows for a in r.actions if a.kind == "start_timer"
    ]
    decl = MachineDecl(
        id=machine,
        title=title,
        rfc=rfc,
        profile=profile_of(profile),
        figure=figs[profile],
        states=kept_states,
        triggers=tuple(t for t in triggers if t.name in used),
        timers=tuple(TIMERS[n] for n in dict.fromkeys(timer_names)),
        creations=(creation,),
        transitions=kept_rows,
        notes=_NOTES[profile],
        rulings=select_profile(RULINGS[machine], profile),
    )
    _CACHE[key] = decl
    return decl


__all__ = ["ALL_PROFILES", "RULINGS", "TRANSACTION_MACHINES", "declare"]
