"""The four transaction machines, arrow by arrow, against the RFC text.

One test per arrow of RFC 3261 Figures 5-8 and per change of RFC 6026 §7-§8 and RFC 4320
§4, named after the arrow and its section, run in the profile(s) where the arrow exists.
Each asserts the exact actions (by value) and the next state. The expected actions are
written from the RFC text, not read from sipfsm/machines/transaction.py.

Action order is the runtime's documented order (sipfsm/engine/runtime.py `apply_transition`):
timers of the state left, the arrow's actions, timers of the state entered, its entry
actions, then the outcomes reported.
"""

from __future__ import annotations

import pytest
from conftest import (
    BYE,
    CANCEL,
    CREATE,
    INVITE,
    OPTIONS,
    PATHS,
    TCP,
    UDP,
    Driver,
    ack_of,
    at,
    from_tu,
    make_request,
    received,
    reply,
    reported,
)

from sipfsm.values.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from sipfsm.values.events import (
    Event,
    ReportOutcome,
    RequestReceived,
    SendMessage,
    StartTimer,
    StopTimer,
    TimerFired,
    ToTU,
    TransportError,
    TUCancel,
    TURequest,
    TUResponse,
)
from sipfsm.values.message import Request, ack_for_non_2xx, response_to

BOTH = ("rfc6026", "rfc3261")
#: Final responses 300-699 that no declared outcome reports (so the actions are just the arrow's).
PLAIN_FAILURES = (300, 404, 486, 503, 603, 699)
PLAIN_NON_INVITE_FINALS = (200, 202, 404, 486, 603)


def ack_for(status: int, to_tag: str = "99sa0xk") -> SendMessage:
    """The ACK the ICT passes to the transport for a 300-699 (RFC 3261 §17.1.1.3)."""
    return SendMessage(ack_for_non_2xx(INVITE, reply(INVITE, status, to_tag)))


def to_tu(request: Request, status: int, to_tag: str = "99sa0xk") -> ToTU:
    return ToTU("response", reply(request, status, to_tag))


def sent(request: Request, status: int) -> SendMessage:
    return SendMessage(reply(request, status))


# =============================================================================================
# INVITE client transaction: RFC 3261 §17.1.1 Figure 5, RFC 6026 §7.2 / §8.4 Figure 5
# =============================================================================================


@pytest.mark.parametrize("profile", BOTH)
def test_ict_invite_from_tu_sends_invite_and_enters_calling_with_timers_a_b_rfc3261_17_1_1_2(
    profile: str,
) -> None:
    d = Driver("ict", profile)
    assert d.create(TURequest(INVITE)) == [
        SendMessage(INVITE),
        StartTimer("A", 0.5),
        StartTimer("B", 32.0),
    ]
    assert d.state == "calling"
    assert d.timers == {"A": 0.5, "B": 32.0}


@pytest.mark.parametrize("profile", BOTH)
def test_ict_invite_from_tu_on_reliable_transport_does_not_start_timer_a_rfc3261_17_1_1_2(
    profile: str,
) -> None:
    d = Driver("ict", profile, TCP)
    assert d.create(TURequest(INVITE)) == [SendMessage(INVITE), StartTimer("B", 32.0)]
    assert d.state == "calling"


@pytest.mark.parametrize("profile", BOTH)
def test_ict_calling_timer_a_resends_invite_and_doubles_rfc3261_17_1_1_2(profile: str) -> None:
    d = at("ict", "calling", profile)
    assert d(TimerFired("A")) == [SendMessage(INVITE), StartTimer("A", 1.0)]
    assert d.state == "calling"
    assert d(TimerFired("A")) == [SendMessage(INVITE), StartTimer("A", 2.0)]
    assert d.timers == {"A": 2.0, "B": 32.0}


@pytest.mark.parametrize("profile", BOTH)
def test_ict_calling_timer_b_informs_tu_of_timeout_and_terminates_rfc3261_17_1_1_2(
    profile: str,
) -> None:
    d = at("ict", "calling", profile)
    assert d(TimerFired("B")) == [
        StopTimer("A"),
        ToTU("timeout"),
        ToTU("terminated"),
        reported("ict", "calling", 408, profile),
    ]
    assert d.state == "terminated"
    assert d.timers == {}


@pytest.mark.parametrize("profile", BOTH)
def test_ict_calling_timer_b_generates_no_ack_rfc3261_17_1_1_2(profile: str) -> None:
    d = at("ict", "calling", profile, TCP)
    actions = d(TimerFired("B"))
    assert not [a for a in actions if isinstance(a, SendMessage)]
    assert actions == [ToTU("timeout"), ToTU("terminated"), reported("ict", "calling", 408)]


@pytest.mark.parametrize("profile", BOTH)
def test_ict_calling_transport_error_informs_tu_and_terminates_rfc3261_17_1_4(
    profile: str,
) -> None:
    d = at("ict", "calling", profile)
    assert d(TransportError("ICMP unreachable")) == [
        StopTimer("A"),
        StopTimer("B"),
        ToTU("transport_error"),
        ToTU("terminated"),
        ReportOutcome(503, "receive", "when the transport fails: the TU treats it as a 503 "
                      "(Service Unavailable)", "RFC 3261 §8.1.3.1"),
    ]
    assert d.state == "terminated"


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", [100, 180, 183, 199])
def test_ict_calling_1xx_to_tu_enters_proceeding_and_stops_retransmitting_rfc3261_17_1_1_2(
    profile: str, status: int
) -> None:
    d = at("ict", "calling", profile)
    assert d(received(INVITE, status)) == [
        StopTimer("A"),
        StopTimer("B"),
        to_tu(INVITE, status),
    ]
    assert d.state == "proceeding"
    assert d.timers == {}


def test_ict_calling_2xx_to_tu_terminates_rfc3261_17_1_1_2() -> None:
    d = at("ict", "calling", "rfc3261")
    assert d(received(INVITE, 200)) == [
        StopTimer("A"),
        StopTimer("B"),
        to_tu(INVITE, 200),
        ToTU("terminated"),
    ]
    assert d.state == "terminated"


@pytest.mark.parametrize("status", [200, 202, 299])
def test_ict_calling_2xx_to_tu_enters_accepted_and_starts_timer_m_rfc6026_8_4(
    status: int,
) -> None:
    d = at("ict", "calling", "rfc6026")
    assert d(received(INVITE, status)) == [
        StopTimer("A"),
        StopTimer("B"),
        to_tu(INVITE, status),
        StartTimer("M", 32.0),
    ]
    assert d.state == "accepted"
    assert d.timers == {"M": 32.0}


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", PLAIN_FAILURES)
def test_ict_calling_300_699_sends_ack_passes_response_enters_completed_rfc3261_17_1_1_2(
    profile: str, status: int
) -> None:
    d = at("ict", "calling", profile)
    assert d(received(INVITE, status)) == [
        StopTimer("A"),
        StopTimer("B"),
        ack_for(status),
        to_tu(INVITE, status),
        StartTimer("D", 32.0),
    ]
    assert d.state == "completed"
    assert d.timers == {"D": 32.0}


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("source", ["calling", "proceeding"])
def test_ict_300_699_acked_even_on_reliable_transport_timer_d_zero_rfc6026_8_4(
    profile: str, source: str
) -> None:
    d = at("ict", source, profile, TCP)
    stops = [StopTimer("B")] if source == "calling" else []
    assert d(received(INVITE, 486)) == [
        *stops,
        ack_for(486),
        to_tu(INVITE, 486),
        StartTimer("D", 0.0),
    ]
    assert d.state == "completed"


@pytest.mark.parametrize("profile", BOTH)
def test_ict_calling_1xx_with_cancel_pending_releases_the_cancel_rfc3261_9_1(
    profile: str,
) -> None:
    d = at("ict", "calling", profile)
    assert d(TUCancel()) == []
    assert d.state == "calling"
    assert d(received(INVITE, 180)) == [
        StopTimer("A"),
        StopTimer("B"),
        to_tu(INVITE, 180),
        ToTU("send_cancel"),
        StartTimer("Cancel", 32.0),
    ]
    assert d.state == "proceeding"


@pytest.mark.parametrize("profile", BOTH)
def test_ict_calling_cancel_waits_for_a_provisional_rfc3261_9_1(profile: str) -> None:
    d = at("ict", "calling", profile)
    assert d(TUCancel()) == []
    assert d.state == "calling"
    assert d.timers == {"A": 0.5, "B": 32.0}
    # retransmissions go on while the CANCEL waits
    assert d(TimerFired("A")) == [SendMessage(INVITE), StartTimer("A", 1.0)]


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", [100, 180, 183])
def test_ict_proceeding_1xx_to_tu_stays_rfc3261_17_1_1_2(profile: str, status: int) -> None:
    d = at("ict", "proceeding", profile)
    assert d(received(INVITE, status)) == [to_tu(INVITE, status)]
    assert d.state == "proceeding"
    assert d.timers == {}


def test_ict_proceeding_2xx_to_tu_terminates_rfc3261_17_1_1_2() -> None:
    d = at("ict", "proceeding", "rfc3261")
    assert d(received(INVITE, 200)) == [to_tu(INVITE, 200), ToTU("terminated")]
    assert d.state == "terminated"


def test_ict_proceeding_2xx_to_tu_enters_accepted_and_starts_timer_m_rfc6026_8_4() -> None:
    d = at("ict", "proceeding", "rfc6026")
    assert d(received(INVITE, 200)) == [to_tu(INVITE, 200), StartTimer("M", 32.0)]
    assert d.state == "accepted"


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", PLAIN_FAILURES)
def test_ict_proceeding_300_699_sends_ack_passes_response_enters_completed_rfc3261_17_1_1_2(
    profile: str, status: int
) -> None:
    d = at("ict", "proceeding", profile)
    assert d(received(INVITE, status)) == [
        ack_for(status),
        to_tu(INVITE, status),
        StartTimer("D", 32.0),
    ]
    assert d.state == "completed"


@pytest.mark.parametrize("profile", BOTH)
def test_ict_proceeding_cancel_from_tu_is_sent_rfc3261_9_1(profile: str) -> None:
    d = at("ict", "proceeding", profile)
    assert d(TUCancel()) == [ToTU("send_cancel"), StartTimer("Cancel", 32.0)]
    assert d.state == "proceeding"
    assert d(TUCancel()) == []  # a second CANCEL request: one was already sent


@pytest.mark.parametrize("profile", BOTH)
def test_ict_no_final_response_64_t1_after_cancel_destroys_the_transaction_rfc3261_9_1(
    profile: str,
) -> None:
    d = at("ict", "proceeding", profile)
    d(TUCancel())
    assert d(TimerFired("Cancel")) == [ToTU("cancelled"), ToTU("terminated")]
    assert d.state == "terminated"


@pytest.mark.parametrize("profile", BOTH)
def test_ict_final_response_after_cancel_stops_the_cancel_timer_rfc3261_9_1(
    profile: str,
) -> None:
    d = at("ict", "proceeding", profile)
    d(TUCancel())
    actions = d(received(INVITE, 487))
    assert actions[0] == StopTimer("Cancel")
    assert d.state == "completed" and "Cancel" not in d.timers


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", [486, 404, 699])
def test_ict_completed_retransmitted_final_is_reacked_not_passed_to_tu_rfc6026_8_4(
    profile: str, status: int
) -> None:
    d = at("ict", "calling", profile)
    d(received(INVITE, status))
    assert d(received(INVITE, status)) == [ack_for(status)]
    assert d(received(INVITE, status)) == [ack_for(status)]
    assert d.state == "completed"
    assert d.timers == {"D": 32.0}


@pytest.mark.parametrize("profile", BOTH)
def test_ict_completed_timer_d_terminates_rfc3261_17_1_1_2(profile: str) -> None:
    d = at("ict", "completed", profile)
    assert d(TimerFired("D")) == [ToTU("terminated")]
    assert d.state == "terminated"
    assert d.timers == {}


@pytest.mark.parametrize("profile", BOTH)
def test_ict_completed_transport_error_informs_tu_and_terminates_rfc3261_17_1_4(
    profile: str,
) -> None:
    d = at("ict", "completed", profile)
    assert d(TransportError()) == [StopTimer("D"), ToTU("transport_error"), ToTU("terminated")]
    assert d.state == "terminated"


@pytest.mark.parametrize("profile", BOTH)
def test_ict_completed_cancel_is_not_sent_after_a_final_response_rfc3261_9_1(
    profile: str,
) -> None:
    d = at("ict", "completed", profile)
    assert d(TUCancel()) == []
    assert d.state == "completed"


def test_ict_accepted_2xx_retransmission_passed_to_tu_without_ack_rfc6026_8_4() -> None:
    d = at("ict", "accepted")
    assert d(received(INVITE, 200)) == [to_tu(INVITE, 200)]
    assert d.state == "accepted"
    assert d.timers == {"M": 32.0}


def test_ict_accepted_2xx_from_another_fork_passed_to_tu_without_ack_rfc6026_7_2() -> None:
    d = at("ict", "accepted")
    assert d(received(INVITE, 200, to_tag="fork-2")) == [to_tu(INVITE, 200, "fork-2")]
    assert d.state == "accepted"


def test_ict_accepted_timer_m_terminates_rfc6026_8_4() -> None:
    d = at("ict", "accepted")
    assert d(TimerFired("M")) == [ToTU("terminated")]
    assert d.state == "terminated"
    assert d.timers == {}


def test_ict_accepted_cancel_is_not_sent_after_a_2xx_rfc3261_9_1() -> None:
    d = at("ict", "accepted")
    assert d(TUCancel()) == []
    assert d.state == "accepted"


def test_ict_accepted_state_exists_only_in_rfc6026_profile_rfc6026_7_2() -> None:
    assert "accepted" in Driver("ict", "rfc6026").engine.decl.state_names
    assert "accepted" not in Driver("ict", "rfc3261").engine.decl.state_names


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("source", ["calling", "proceeding"])
def test_ict_487_received_reports_cancel_outcome_rfc3261_9_1(profile: str, source: str) -> None:
    d = at("ict", source, profile)
    actions = d(received(INVITE, 487))
    outcome = actions[-1]
    assert outcome == reported("ict", source, 487, profile)
    assert isinstance(outcome, ReportOutcome)
    assert outcome.rfc == "RFC 3261 §9.1"
    assert ack_for(487) in actions
    assert d.state == "completed"


def test_ict_timer_b_reports_408_outcome_rfc3261_8_1_3_1() -> None:
    d = at("ict", "calling")
    outcome = d(TimerFired("B"))[-1]
    assert isinstance(outcome, ReportOutcome)
    assert (outcome.code, outcome.direction, outcome.rfc) == (408, "receive", "RFC 3261 §8.1.3.1")


def test_ict_retransmitted_487_in_completed_is_not_reported_again_rfc6026_8_4() -> None:
    d = at("ict", "calling")
    d(received(INVITE, 487))
    assert d(received(INVITE, 487)) == [ack_for(487)]


# -- ICT strictness -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", BOTH)
def test_ict_completed_rejects_a_1xx_as_remote_protocol_error_rfc3261_17_1_1_2(
    profile: str,
) -> None:
    d = at("ict", "completed", profile)
    with pytest.raises(RemoteProtocolError) as err:
        d(received(INVITE, 180))
    text = str(err.value)
    for part in ("ict", profile, "'completed'", "ResponseReceived(180 INVITE)"):
        assert part in text
    assert (err.value.machine, err.value.profile, err.value.state) == ("ict", profile, "completed")
    assert d.state == "completed"
    assert d.timers == {"D": 32.0}


@pytest.mark.parametrize("profile", BOTH)
def test_ict_completed_rejects_a_2xx_rfc6026_8_4(profile: str) -> None:
    d = at("ict", "completed", profile)
    with pytest.raises(RemoteProtocolError):
        d(received(INVITE, 200))


def test_ict_accepted_rejects_a_300_699_rfc6026_8_4() -> None:
    d = at("ict", "accepted")
    with pytest.raises(RemoteProtocolError, match="'accepted'"):
        d(received(INVITE, 486))
    assert d.state == "accepted"


@pytest.mark.parametrize("profile", BOTH)
def test_ict_proceeding_transport_error_is_not_an_arrow_of_figure_5_rfc3261_17_1_1_2(
    profile: str,
) -> None:
    d = at("ict", "proceeding", profile)
    with pytest.raises(RemoteProtocolError):
        d(TransportError())


@pytest.mark.parametrize("profile", BOTH)
def test_ict_rejects_server_side_events_as_inputs_rfc3261_17_1_1(profile: str) -> None:
    d = at("ict", "calling", profile)
    with pytest.raises(RemoteProtocolError, match="not an input of ict"):
        d(RequestReceived(INVITE))
    with pytest.raises(LocalProtocolError, match="not an input of ict"):
        d(from_tu(INVITE, 200))


@pytest.mark.parametrize("method", ["BYE", "OPTIONS", "ACK"])
def test_ict_is_created_only_by_an_invite_rfc3261_17_1(method: str) -> None:
    with pytest.raises(LocalProtocolError, match=r"\(new\)"):
        Driver("ict").create(TURequest(make_request(method)))


# =============================================================================================
# non-INVITE client transaction: RFC 3261 §17.1.2 Figure 6
# =============================================================================================


@pytest.mark.parametrize("profile", BOTH)
def test_nict_request_from_tu_sends_it_and_enters_trying_with_timers_e_f_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = Driver("nict", profile)
    assert d.create(TURequest(BYE)) == [
        SendMessage(BYE),
        StartTimer("E", 0.5),
        StartTimer("F", 32.0),
    ]
    assert d.state == "trying"


@pytest.mark.parametrize("profile", BOTH)
def test_nict_request_from_tu_on_reliable_transport_does_not_start_timer_e_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = Driver("nict", profile, TCP)
    assert d.create(TURequest(BYE)) == [SendMessage(BYE), StartTimer("F", 32.0)]


@pytest.mark.parametrize("profile", BOTH)
def test_nict_trying_timer_e_resends_request_and_doubles_up_to_t2_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = at("nict", "trying", profile)
    assert d(TimerFired("E")) == [SendMessage(BYE), StartTimer("E", 1.0)]
    assert d.state == "trying"


@pytest.mark.parametrize("profile", BOTH)
def test_nict_trying_timer_f_informs_tu_of_timeout_and_terminates_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = at("nict", "trying", profile)
    assert d(TimerFired("F")) == [
        StopTimer("E"),
        ToTU("timeout"),
        ToTU("terminated"),
        reported("nict", "trying", 408, profile),
    ]
    assert d.state == "terminated"
    assert d.timers == {}


@pytest.mark.parametrize("profile", BOTH)
def test_nict_trying_transport_error_informs_tu_and_terminates_rfc3261_17_1_4(
    profile: str,
) -> None:
    d = at("nict", "trying", profile)
    assert d(TransportError()) == [
        StopTimer("E"),
        StopTimer("F"),
        ToTU("transport_error"),
        ToTU("terminated"),
        ReportOutcome(503, "receive", "when the transport fails: the TU treats it as a 503 "
                      "(Service Unavailable)", "RFC 3261 §8.1.3.1"),
    ]
    assert d.state == "terminated"


@pytest.mark.parametrize("profile", BOTH)
def test_nict_trying_1xx_to_tu_enters_proceeding_retransmissions_continue_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = at("nict", "trying", profile)
    assert d(received(BYE, 100)) == [to_tu(BYE, 100)]
    assert d.state == "proceeding"
    assert d.timers == {"E": 0.5, "F": 32.0}


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", PLAIN_NON_INVITE_FINALS)
def test_nict_trying_200_699_to_tu_enters_completed_starts_timer_k_rfc3261_17_1_2_2(
    profile: str, status: int
) -> None:
    d = at("nict", "trying", profile)
    assert d(received(BYE, status)) == [
        StopTimer("E"),
        StopTimer("F"),
        to_tu(BYE, status),
        StartTimer("K", 5.0),
    ]
    assert d.state == "completed"
    assert d.timers == {"K": 5.0}


@pytest.mark.parametrize("profile", BOTH)
def test_nict_trying_final_on_reliable_transport_timer_k_zero_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = at("nict", "trying", profile, TCP)
    assert d(received(BYE, 200)) == [StopTimer("F"), to_tu(BYE, 200), StartTimer("K", 0.0)]


@pytest.mark.parametrize("profile", BOTH)
def test_nict_proceeding_timer_e_resends_request_and_resets_to_t2_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = at("nict", "proceeding", profile)
    assert d(TimerFired("E")) == [SendMessage(BYE), StartTimer("E", 4.0)]
    assert d(TimerFired("E")) == [SendMessage(BYE), StartTimer("E", 4.0)]
    assert d.state == "proceeding"


@pytest.mark.parametrize("profile", BOTH)
def test_nict_proceeding_timer_f_informs_tu_of_timeout_and_terminates_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = at("nict", "proceeding", profile)
    assert d(TimerFired("F")) == [
        StopTimer("E"),
        ToTU("timeout"),
        ToTU("terminated"),
        reported("nict", "proceeding", 408, profile),
    ]
    assert d.state == "terminated"


@pytest.mark.parametrize("profile", BOTH)
def test_nict_proceeding_transport_error_informs_tu_and_terminates_rfc3261_17_1_4(
    profile: str,
) -> None:
    d = at("nict", "proceeding", profile)
    assert d(TransportError()) == [
        StopTimer("E"),
        StopTimer("F"),
        ToTU("transport_error"),
        ToTU("terminated"),
        ReportOutcome(503, "receive", "when the transport fails: the TU treats it as a 503 "
                      "(Service Unavailable)", "RFC 3261 §8.1.3.1"),
    ]
    assert d.state == "terminated"


@pytest.mark.parametrize("profile", BOTH)
def test_nict_proceeding_1xx_to_tu_stays_rfc3261_17_1_2_2(profile: str) -> None:
    d = at("nict", "proceeding", profile)
    assert d(received(BYE, 100)) == [to_tu(BYE, 100)]
    assert d.state == "proceeding"


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", PLAIN_NON_INVITE_FINALS)
def test_nict_proceeding_200_699_to_tu_enters_completed_starts_timer_k_rfc3261_17_1_2_2(
    profile: str, status: int
) -> None:
    d = at("nict", "proceeding", profile)
    assert d(received(BYE, status)) == [
        StopTimer("E"),
        StopTimer("F"),
        to_tu(BYE, status),
        StartTimer("K", 5.0),
    ]
    assert d.state == "completed"


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", [100, 200, 486])
def test_nict_completed_buffers_response_retransmissions_rfc3261_17_1_2_2(
    profile: str, status: int
) -> None:
    d = at("nict", "completed", profile)
    assert d(received(BYE, status)) == []
    assert d.state == "completed"
    assert d.timers == {"K": 5.0}


@pytest.mark.parametrize("profile", BOTH)
def test_nict_completed_timer_k_terminates_rfc3261_17_1_2_2(profile: str) -> None:
    d = at("nict", "completed", profile)
    assert d(TimerFired("K")) == [ToTU("terminated")]
    assert d.state == "terminated"


@pytest.mark.parametrize("profile", BOTH)
def test_nict_481_received_reports_outcome_rfc3261_12_2_1_2(profile: str) -> None:
    d = at("nict", "trying", profile)
    actions = d(received(BYE, 481))
    outcome = actions[-1]
    assert outcome == reported("nict", "trying", 481, profile)
    assert isinstance(outcome, ReportOutcome)
    assert outcome.rfc == "RFC 3261 §12.2.1.2"


@pytest.mark.parametrize("profile", BOTH)
def test_nict_completed_rejects_transport_error_not_an_arrow_of_figure_6_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = at("nict", "completed", profile)
    with pytest.raises(RemoteProtocolError, match="'completed'"):
        d(TransportError())


@pytest.mark.parametrize("method", ["INVITE", "ACK"])
def test_nict_is_not_created_for_invite_or_ack_rfc3261_17_1(method: str) -> None:
    with pytest.raises(LocalProtocolError, match=r"\(new\)"):
        Driver("nict").create(TURequest(make_request(method)))


# =============================================================================================
# INVITE server transaction: RFC 3261 §17.2.1 Figure 7, RFC 6026 §7.1 / §8.5-8.8 Figure 7
# =============================================================================================

TRYING_100 = SendMessage(response_to(INVITE, 100))


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("timing", [UDP, TCP], ids=["udp", "tcp"])
def test_ist_invite_passed_to_tu_and_trying_timer_started_rfc3261_17_2_1(
    profile: str, timing: object
) -> None:
    d = Driver("ist", profile, timing)  # type: ignore[arg-type]
    assert d.create(RequestReceived(INVITE)) == [
        ToTU("request", INVITE),
        StartTimer("Trying", 0.2),
    ]
    assert d.state == "proceeding"


@pytest.mark.parametrize("profile", BOTH)
def test_ist_proceeding_sends_100_trying_if_tu_silent_for_200_ms_rfc3261_17_2_1(
    profile: str,
) -> None:
    d = at("ist", "proceeding", profile)
    assert d(TimerFired("Trying")) == [TRYING_100]
    assert d.state == "proceeding"
    assert d.timers == {}


def test_ist_100_trying_copies_request_fields_and_adds_no_to_tag_rfc3261_17_2_1() -> None:
    d = at("ist", "proceeding")
    (action,) = d(TimerFired("Trying"))
    assert isinstance(action, SendMessage)
    msg = action.message
    assert msg.kind == "response"
    assert (msg.status, msg.reason, msg.method) == (100, "Trying", "INVITE")  # type: ignore[union-attr]
    assert (msg.call_id, msg.cseq, msg.from_tag, msg.branch, msg.sent_by) == (
        INVITE.call_id,
        INVITE.cseq,
        INVITE.from_tag,
        INVITE.branch,
        INVITE.sent_by,
    )
    assert msg.to_tag == ""


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", [101, 180, 183, 199])
def test_ist_proceeding_1xx_from_tu_sent_and_stops_trying_timer_rfc3261_17_2_1(
    profile: str, status: int
) -> None:
    d = at("ist", "proceeding", profile)
    assert d(from_tu(INVITE, status)) == [StopTimer("Trying"), sent(INVITE, status)]
    assert d.state == "proceeding"
    assert d.timers == {}
    assert d(TimerFired("Trying")) == []  # the TU answered: no 100 Trying
    assert d(from_tu(INVITE, 183)) == [sent(INVITE, 183)]


@pytest.mark.parametrize("profile", BOTH)
def test_ist_proceeding_invite_retransmission_resends_latest_provisional_rfc3261_17_2_1(
    profile: str,
) -> None:
    d = at("ist", "proceeding", profile)
    assert d(RequestReceived(INVITE)) == []  # nothing sent yet
    d(TimerFired("Trying"))
    assert d(RequestReceived(INVITE)) == [TRYING_100]
    d(from_tu(INVITE, 180))
    assert d(RequestReceived(INVITE)) == [sent(INVITE, 180)]
    d(from_tu(INVITE, 183))
    assert d(RequestReceived(INVITE)) == [sent(INVITE, 183)]
    assert d.state == "proceeding"


def test_ist_proceeding_2xx_from_tu_sent_and_terminates_rfc3261_17_2_1() -> None:
    d = at("ist", "proceeding", "rfc3261")
    assert d(from_tu(INVITE, 200)) == [StopTimer("Trying"), sent(INVITE, 200), ToTU("terminated")]
    assert d.state == "terminated"


@pytest.mark.parametrize("timing", [UDP, TCP], ids=["udp", "tcp"])
def test_ist_proceeding_2xx_from_tu_sent_enters_accepted_starts_timer_l_rfc6026_8_5(
    timing: object,
) -> None:
    d = at("ist", "proceeding", "rfc6026", timing)  # type: ignore[arg-type]
    assert d(from_tu(INVITE, 200)) == [
        StopTimer("Trying"),
        sent(INVITE, 200),
        StartTimer("L", 32.0),
    ]
    assert d.state == "accepted"
    assert d.timers == {"L": 32.0}


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", PLAIN_FAILURES)
def test_ist_proceeding_300_699_from_tu_sent_enters_completed_timers_g_h_rfc3261_17_2_1(
    profile: str, status: int
) -> None:
    d = at("ist", "proceeding", profile)
    assert d(from_tu(INVITE, status)) == [
        StopTimer("Trying"),
        sent(INVITE, status),
        StartTimer("G", 0.5),
        StartTimer("H", 32.0),
    ]
    assert d.state == "completed"
    assert d.timers == {"G": 0.5, "H": 32.0}


@pytest.mark.parametrize("profile", BOTH)
def test_ist_proceeding_300_699_on_reliable_transport_does_not_start_timer_g_rfc3261_17_2_1(
    profile: str,
) -> None:
    d = at("ist", "proceeding", profile, TCP)
    assert d(from_tu(INVITE, 486)) == [
        StopTimer("Trying"),
        sent(INVITE, 486),
        StartTimer("H", 32.0),
    ]


def test_ist_proceeding_transport_error_informs_tu_and_terminates_rfc3261_17_2_4() -> None:
    d = at("ist", "proceeding", "rfc3261")
    assert d(TransportError()) == [StopTimer("Trying"), ToTU("transport_error"), ToTU("terminated")]
    assert d.state == "terminated"


def test_ist_proceeding_transport_error_informs_tu_and_keeps_state_rfc6026_8_8() -> None:
    d = at("ist", "proceeding", "rfc6026")
    assert d(TransportError()) == [ToTU("transport_error")]
    assert d.state == "proceeding"
    assert d.timers == {"Trying": 0.2}


@pytest.mark.parametrize("profile", BOTH)
def test_ist_completed_invite_retransmission_resends_final_rfc3261_17_2_1(profile: str) -> None:
    d = at("ist", "completed", profile)
    assert d(RequestReceived(INVITE)) == [sent(INVITE, 486)]
    assert d.state == "completed"
    assert d.timers == {"G": 0.5, "H": 32.0}


@pytest.mark.parametrize("profile", BOTH)
def test_ist_completed_timer_g_resends_final_and_doubles_rfc3261_17_2_1(profile: str) -> None:
    d = at("ist", "completed", profile)
    assert d(TimerFired("G")) == [sent(INVITE, 486), StartTimer("G", 1.0)]
    assert d.state == "completed"


@pytest.mark.parametrize("profile", BOTH)
def test_ist_completed_timer_h_informs_tu_and_terminates_rfc3261_17_2_1(profile: str) -> None:
    d = at("ist", "completed", profile)
    assert d(TimerFired("H")) == [
        StopTimer("G"),
        ToTU("timeout"),
        ToTU("terminated"),
        reported("ist", "completed", 408, profile),
    ]
    assert d.state == "terminated"
    assert d.timers == {}


@pytest.mark.parametrize("profile", BOTH)
def test_ist_completed_ack_enters_confirmed_stops_g_h_starts_i_rfc3261_17_2_1(
    profile: str,
) -> None:
    d = at("ist", "completed", profile)
    assert d(RequestReceived(ack_of(486))) == [StopTimer("G"), StopTimer("H"), StartTimer("I", 5.0)]
    assert d.state == "confirmed"
    assert d.timers == {"I": 5.0}


@pytest.mark.parametrize("profile", BOTH)
def test_ist_completed_ack_on_reliable_transport_timer_i_zero_rfc3261_17_2_1(profile: str) -> None:
    d = at("ist", "completed", profile, TCP)
    assert d(RequestReceived(ack_of(486))) == [StopTimer("H"), StartTimer("I", 0.0)]


def test_ist_completed_transport_error_informs_tu_and_terminates_rfc3261_17_2_4() -> None:
    d = at("ist", "completed", "rfc3261")
    assert d(TransportError()) == [
        StopTimer("G"),
        StopTimer("H"),
        ToTU("transport_error"),
        ToTU("terminated"),
    ]
    assert d.state == "terminated"


def test_ist_completed_transport_error_informs_tu_and_keeps_state_rfc6026_8_8() -> None:
    d = at("ist", "completed", "rfc6026")
    assert d(TransportError()) == [ToTU("transport_error")]
    assert d.state == "completed"
    assert d.timers == {"G": 0.5, "H": 32.0}


@pytest.mark.parametrize("profile", BOTH)
def test_ist_confirmed_absorbs_ack_retransmissions_rfc3261_17_2_1(profile: str) -> None:
    d = at("ist", "confirmed", profile)
    assert d(RequestReceived(ack_of(486))) == []
    assert d.state == "confirmed"
    assert d.timers == {"I": 5.0}


@pytest.mark.parametrize("profile", BOTH)
def test_ist_confirmed_timer_i_terminates_rfc3261_17_2_1(profile: str) -> None:
    d = at("ist", "confirmed", profile)
    assert d(TimerFired("I")) == [ToTU("terminated")]
    assert d.state == "terminated"


ACK_2XX = make_request(
    "ACK",
    uri="sip:bob@192.0.2.4",
    call_id=INVITE.call_id,
    cseq=INVITE.cseq,
    from_tag=INVITE.from_tag,
    to_tag="99sa0xk",
    branch="z9hG4bKack2xx",
    sent_by=INVITE.sent_by,
)


def test_ist_accepted_absorbs_invite_retransmissions_not_passed_to_tu_rfc6026_8_7() -> None:
    d = at("ist", "accepted")
    assert d(RequestReceived(INVITE)) == []
    assert d.state == "accepted"
    assert d.timers == {"L": 32.0}


def test_ist_accepted_passes_ack_to_tu_rfc6026_8_7() -> None:
    d = at("ist", "accepted")
    assert d(RequestReceived(ACK_2XX)) == [ToTU("ack", ACK_2XX)]
    assert d(RequestReceived(ACK_2XX)) == [ToTU("ack", ACK_2XX)]  # not absorbed
    assert d.state == "accepted"


def test_ist_accepted_sends_further_2xx_from_tu_rfc6026_8_7() -> None:
    d = at("ist", "accepted")
    assert d(from_tu(INVITE, 200)) == [sent(INVITE, 200)]
    assert d.state == "accepted"
    assert d.timers == {"L": 32.0}


def test_ist_accepted_transport_error_informs_tu_and_keeps_state_rfc6026_8_8() -> None:
    d = at("ist", "accepted")
    assert d(TransportError()) == [ToTU("transport_error")]
    assert d.state == "accepted"


def test_ist_accepted_timer_l_terminates_rfc6026_8_7() -> None:
    d = at("ist", "accepted")
    assert d(TimerFired("L")) == [ToTU("terminated")]
    assert d.state == "terminated"


def test_ist_accepted_never_retransmits_2xx_on_its_own_rfc6026_7_1() -> None:
    d = at("ist", "accepted")
    assert d.timers == {"L": 32.0}  # no retransmission timer runs in Accepted
    assert d(RequestReceived(INVITE)) == []


@pytest.mark.parametrize("profile", BOTH)
def test_ist_487_sent_reports_cancel_matched_outcome_rfc3261_9_2(profile: str) -> None:
    d = at("ist", "proceeding", profile)
    actions = d(from_tu(INVITE, 487))
    assert actions == [
        StopTimer("Trying"),
        sent(INVITE, 487),
        StartTimer("G", 0.5),
        StartTimer("H", 32.0),
        reported("ist", "proceeding", 487, profile),
    ]
    outcome = actions[-1]
    assert isinstance(outcome, ReportOutcome)
    assert (outcome.code, outcome.direction, outcome.rfc) == (487, "send", "RFC 3261 §9.2")
    assert "CANCEL matched" in outcome.when


# -- IST strictness -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", BOTH)
def test_ist_confirmed_invite_is_not_an_arrow_of_figure_7_rfc3261_17_2_1(profile: str) -> None:
    d = at("ist", "confirmed", profile)
    with pytest.raises(RemoteProtocolError, match="'confirmed'"):
        d(RequestReceived(INVITE))


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", [180, 200, 486])
def test_ist_completed_rejects_responses_from_tu_as_local_error_rfc3261_17_2_1(
    profile: str, status: int
) -> None:
    d = at("ist", "completed", profile)
    with pytest.raises(LocalProtocolError) as err:
        d(from_tu(INVITE, status))
    assert f"TUResponse({status} INVITE)" in str(err.value)
    assert d.state == "completed"


@pytest.mark.parametrize("status", [180, 486])
def test_ist_accepted_rejects_non_2xx_from_tu_rfc6026_8_7(status: int) -> None:
    d = at("ist", "accepted")
    with pytest.raises(LocalProtocolError, match="'accepted'"):
        d(from_tu(INVITE, status))


@pytest.mark.parametrize("profile", BOTH)
def test_ist_proceeding_rejects_an_ack_before_a_final_rfc3261_17_2_1(profile: str) -> None:
    d = at("ist", "proceeding", profile)
    with pytest.raises(RemoteProtocolError):
        d(RequestReceived(ack_of(486)))


@pytest.mark.parametrize("method", ["BYE", "ACK", "CANCEL"])
def test_ist_is_created_only_by_an_invite_rfc3261_17_2_1(method: str) -> None:
    with pytest.raises(RemoteProtocolError, match=r"\(new\)"):
        Driver("ist").create(RequestReceived(make_request(method)))


# =============================================================================================
# non-INVITE server transaction: RFC 3261 §17.2.2 Figure 8, RFC 4320 §4, RFC 6026 §8.8
# =============================================================================================


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("request_", [BYE, OPTIONS, CANCEL], ids=lambda r: r.method)
def test_nist_request_passed_to_tu_enters_trying_rfc3261_17_2_2(
    profile: str, request_: Request
) -> None:
    d = Driver("nist", profile)
    assert d.create(RequestReceived(request_)) == [ToTU("request", request_)]
    assert d.state == "trying"
    assert d.timers == {}


@pytest.mark.parametrize("profile", BOTH)
def test_nist_trying_discards_request_retransmissions_rfc3261_17_2_2(profile: str) -> None:
    d = at("nist", "trying", profile)
    assert d(RequestReceived(BYE)) == []
    assert d.state == "trying"


@pytest.mark.parametrize("profile", BOTH)
def test_nist_trying_100_from_tu_sent_enters_proceeding_rfc3261_17_2_2(profile: str) -> None:
    d = at("nist", "trying", profile)
    assert d(from_tu(BYE, 100)) == [sent(BYE, 100)]
    assert d.state == "proceeding"


@pytest.mark.parametrize("status", [101, 180, 183])
def test_nist_trying_any_1xx_from_tu_sent_enters_proceeding_rfc3261_17_2_2(status: int) -> None:
    d = at("nist", "trying", "rfc3261")
    assert d(from_tu(BYE, status)) == [sent(BYE, status)]
    assert d.state == "proceeding"


@pytest.mark.parametrize("source", ["trying", "proceeding"])
@pytest.mark.parametrize("status", [101, 180, 183, 199])
def test_nist_only_100_as_provisional_other_1xx_is_local_error_rfc4320_4_1(
    source: str, status: int
) -> None:
    d = at("nist", source, "rfc6026")
    with pytest.raises(LocalProtocolError) as err:
        d(from_tu(BYE, status))
    text = str(err.value)
    for part in ("nist", "rfc6026", f"'{source}'", f"TUResponse({status} BYE)", "RFC 4320 §4.1"):
        assert part in text
    assert d.state == source


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", PLAIN_NON_INVITE_FINALS)
def test_nist_trying_200_699_from_tu_sent_enters_completed_starts_timer_j_rfc3261_17_2_2(
    profile: str, status: int
) -> None:
    d = at("nist", "trying", profile)
    assert d(from_tu(BYE, status)) == [sent(BYE, status), StartTimer("J", 32.0)]
    assert d.state == "completed"
    assert d.timers == {"J": 32.0}


@pytest.mark.parametrize("profile", BOTH)
def test_nist_final_on_reliable_transport_timer_j_zero_rfc3261_17_2_2(profile: str) -> None:
    d = at("nist", "trying", profile, TCP)
    assert d(from_tu(BYE, 200)) == [sent(BYE, 200), StartTimer("J", 0.0)]


@pytest.mark.parametrize("source", ["trying", "proceeding"])
def test_nist_408_from_tu_is_local_error_rfc4320_4_2(source: str) -> None:
    d = at("nist", source, "rfc6026")
    with pytest.raises(LocalProtocolError) as err:
        d(from_tu(BYE, 408))
    text = str(err.value)
    for part in ("nist", "rfc6026", f"'{source}'", "TUResponse(408 BYE)", "RFC 4320 §4.2"):
        assert part in text
    assert d.state == source


@pytest.mark.parametrize("source", ["trying", "proceeding"])
def test_nist_408_from_tu_sent_in_original_rfc3261_profile_rfc3261_17_2_2(source: str) -> None:
    d = at("nist", source, "rfc3261")
    assert d(from_tu(BYE, 408)) == [
        sent(BYE, 408),
        StartTimer("J", 32.0),
        ReportOutcome(408, "send", "when the UAS could not answer in time (allowed before "
                      "RFC 4320)", "RFC 3261 §21.4.9"),
    ]
    assert d.state == "completed"


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("path", [(), (100,)], ids=["trying", "proceeding"])
def test_nist_487_to_a_cancel_is_local_error_rfc3261_21_4_25(
    profile: str, path: tuple[int, ...]
) -> None:
    d = Driver("nist", profile)
    d.create(RequestReceived(CANCEL))
    for status in path:
        d(from_tu(CANCEL, status))
    state = d.state
    with pytest.raises(LocalProtocolError) as err:
        d(from_tu(CANCEL, 487))
    assert "TUResponse(487 CANCEL)" in str(err.value)
    assert "RFC 3261 §21.4.25" in str(err.value)
    assert d.state == state


@pytest.mark.parametrize("profile", BOTH)
def test_nist_200_to_a_cancel_is_sent_rfc3261_9_2(profile: str) -> None:
    d = Driver("nist", profile)
    d.create(RequestReceived(CANCEL))
    assert d(from_tu(CANCEL, 200)) == [sent(CANCEL, 200), StartTimer("J", 32.0)]


@pytest.mark.parametrize("profile", BOTH)
def test_nist_487_to_a_bye_pending_request_reports_outcome_rfc3261_15_1_2(profile: str) -> None:
    d = at("nist", "trying", profile)
    assert d(from_tu(BYE, 487)) == [
        sent(BYE, 487),
        StartTimer("J", 32.0),
        reported("nist", "trying", 487, profile),
    ]
    outcome = reported("nist", "trying", 487, profile)
    assert (outcome.direction, outcome.rfc) == ("send", "RFC 3261 §15.1.2")


@pytest.mark.parametrize("profile", BOTH)
def test_nist_proceeding_request_retransmission_resends_provisional_rfc3261_17_2_2(
    profile: str,
) -> None:
    d = at("nist", "proceeding", profile)
    assert d(RequestReceived(BYE)) == [sent(BYE, 100)]
    assert d.state == "proceeding"


@pytest.mark.parametrize("profile", BOTH)
def test_nist_proceeding_further_1xx_from_tu_sent_rfc3261_17_2_2(profile: str) -> None:
    d = at("nist", "proceeding", profile)
    assert d(from_tu(BYE, 100)) == [sent(BYE, 100)]
    assert d.state == "proceeding"


def test_nist_proceeding_further_180_from_tu_sent_rfc3261_17_2_2() -> None:
    d = at("nist", "proceeding", "rfc3261")
    assert d(from_tu(BYE, 180)) == [sent(BYE, 180)]
    assert d(RequestReceived(BYE)) == [sent(BYE, 180)]


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", PLAIN_NON_INVITE_FINALS)
def test_nist_proceeding_200_699_from_tu_sent_enters_completed_rfc3261_17_2_2(
    profile: str, status: int
) -> None:
    d = at("nist", "proceeding", profile)
    assert d(from_tu(BYE, status)) == [sent(BYE, status), StartTimer("J", 32.0)]
    assert d.state == "completed"


def test_nist_proceeding_transport_error_informs_tu_and_terminates_rfc3261_17_2_4() -> None:
    d = at("nist", "proceeding", "rfc3261")
    assert d(TransportError()) == [ToTU("transport_error"), ToTU("terminated")]
    assert d.state == "terminated"


def test_nist_proceeding_transport_error_informs_tu_and_keeps_state_rfc6026_8_8() -> None:
    d = at("nist", "proceeding", "rfc6026")
    assert d(TransportError()) == [ToTU("transport_error")]
    assert d.state == "proceeding"


def test_nist_trying_transport_error_informs_tu_and_terminates_rfc3261_17_2_4() -> None:
    d = at("nist", "trying", "rfc3261")
    assert d(TransportError()) == [ToTU("transport_error"), ToTU("terminated")]
    assert d.state == "terminated"


def test_nist_trying_transport_error_informs_tu_and_keeps_state_rfc6026_8_8() -> None:
    d = at("nist", "trying", "rfc6026")
    assert d(TransportError()) == [ToTU("transport_error")]
    assert d.state == "trying"


@pytest.mark.parametrize("profile", BOTH)
def test_nist_completed_request_retransmission_resends_final_rfc3261_17_2_2(profile: str) -> None:
    d = at("nist", "completed", profile)
    assert d(RequestReceived(BYE)) == [sent(BYE, 200)]
    assert d.state == "completed"
    assert d.timers == {"J": 32.0}


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("status", [200, 404, 500])
def test_nist_completed_discards_other_finals_from_tu_rfc3261_17_2_2(
    profile: str, status: int
) -> None:
    d = at("nist", "completed", profile)
    assert d(from_tu(BYE, status)) == []
    assert d.state == "completed"
    assert d(RequestReceived(BYE)) == [sent(BYE, 200)]  # still the first final


@pytest.mark.parametrize("profile", BOTH)
def test_nist_completed_timer_j_terminates_rfc3261_17_2_2(profile: str) -> None:
    d = at("nist", "completed", profile)
    assert d(TimerFired("J")) == [ToTU("terminated")]
    assert d.state == "terminated"


def test_nist_completed_transport_error_informs_tu_and_terminates_rfc3261_17_2_4() -> None:
    d = at("nist", "completed", "rfc3261")
    assert d(TransportError()) == [StopTimer("J"), ToTU("transport_error"), ToTU("terminated")]
    assert d.state == "terminated"


def test_nist_completed_transport_error_informs_tu_and_keeps_state_rfc6026_8_8() -> None:
    d = at("nist", "completed", "rfc6026")
    assert d(TransportError()) == [ToTU("transport_error")]
    assert d.state == "completed"
    assert d.timers == {"J": 32.0}


@pytest.mark.parametrize("profile", BOTH)
def test_nist_completed_rejects_a_1xx_from_tu_rfc3261_17_2_2(profile: str) -> None:
    d = at("nist", "completed", profile)
    with pytest.raises(LocalProtocolError, match="'completed'"):
        d(from_tu(BYE, 100))


@pytest.mark.parametrize("method", ["INVITE", "ACK"])
def test_nist_is_not_created_for_invite_or_ack_rfc3261_17_2_2(method: str) -> None:
    with pytest.raises(RemoteProtocolError, match=r"\(new\)"):
        Driver("nist").create(RequestReceived(make_request(method)))


# =============================================================================================
# Every machine: a terminated transaction is destroyed (RFC 3261 §17.1.1.2, §17.2.1 ...)
# =============================================================================================

TU_EVENTS: tuple[Event, ...] = (
    TUCancel(),
    from_tu(INVITE, 100),
    from_tu(INVITE, 200),
    from_tu(BYE, 200),
    TURequest(INVITE),
)
NETWORK_EVENTS: tuple[Event, ...] = (
    received(INVITE, 180),
    received(INVITE, 200),
    received(INVITE, 486),
    received(BYE, 200),
    RequestReceived(INVITE),
    RequestReceived(ack_of(486)),
    RequestReceived(BYE),
    TransportError(),
)


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("machine", sorted(PATHS))
@pytest.mark.parametrize("event", TU_EVENTS + NETWORK_EVENTS, ids=repr)
def test_terminated_transaction_rejects_every_message_event_rfc3261_17_1_1_2(
    profile: str, machine: str, event: Event
) -> None:
    d = at(machine, "terminated", profile)
    local = isinstance(event, TUCancel | TUResponse | TURequest)
    with pytest.raises(LocalProtocolError if local else RemoteProtocolError) as err:
        d(event)
    assert isinstance(err.value, ProtocolError)
    assert f"{machine} ({profile}) in state 'terminated'" in str(err.value)
    assert d.state == "terminated"


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("machine", sorted(PATHS))
def test_terminated_transaction_ignores_late_timers_rfc3261_17_1_1_2(
    profile: str, machine: str
) -> None:
    d = at(machine, "terminated", profile)
    for name in ("A", "B", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "Trying"):
        assert d(TimerFired(name)) == []
    assert d.state == "terminated"
    assert d.timers == {}


@pytest.mark.parametrize("profile", BOTH)
@pytest.mark.parametrize("machine", sorted(PATHS))
def test_terminated_is_announced_to_tu_exactly_once_rfc3261_17_1_1_2(
    profile: str, machine: str
) -> None:
    d = Driver(machine, profile)
    actions = d.create(CREATE[machine])
    for event in PATHS[machine]["terminated"]:
        actions += d(event)
    assert actions.count(ToTU("terminated")) == 1


def test_nist_reports_the_481_rule_of_its_own_method_rfc3261_12_2_2() -> None:
    # a 481 to an UPDATE is the "To tag matches no dialog" rule (§12.2.2), not the BYE rule
    # (§15.1.2) declared first; a 481 to a BYE is the BYE rule
    update, bye = make_request("UPDATE"), make_request("BYE")
    for request, rfc in ((update, "RFC 3261 §12.2.2"), (bye, "RFC 3261 §15.1.2")):
        d = Driver("nist")
        d.create(RequestReceived(request))
        reports = [a for a in d(from_tu(request, 481)) if isinstance(a, ReportOutcome)]
        assert [r.rfc for r in reports] == [rfc]
