"""The UA core rules (sipfsm/elements/core.py): dialog IDs (RFC 3261 §12), CANCEL at a UAS (§9.2,
matched with §17.2.3) and requests that match no dialog (§12.2.2, §15.1.2).

The server transactions given to `handle_cancel` are real IST/NIST instances driven by
the table engine into the state each rule is about.
"""

from __future__ import annotations

import pytest
from conftest import make_request
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.decl.instance import Instance
from sipfsm.decl.timers import Timing
from sipfsm.elements.core import (
    CoreError,
    DialogId,
    dialog_id,
    find_cancelled,
    handle_cancel,
    has_final_response,
    invite_completed_at,
    matches_cancel,
    respond_unmatched,
)
from sipfsm.engine import model
from sipfsm.values.events import RequestReceived, Respond, TUResponse
from sipfsm.values.frozen import replace
from sipfsm.values.message import Request, cancel_for, response_to

INVITE = make_request(
    "INVITE",
    uri="sip:bob@biloxi.com",
    call_id="a84b4c76e66710",
    cseq=314159,
    from_tag="1928301774",
    branch="z9hG4bK776asdhds",
    sent_by="pc33.atlanta.com",
)
CANCEL = cancel_for(INVITE)
OPTIONS = replace(INVITE, method="OPTIONS", cseq=314160, branch="z9hG4bKopt")


def server(request: Request, *responses: int) -> Instance:
    """A server transaction for ``request`` after the TU sent ``responses``."""
    machine = "ist" if request.method == "INVITE" else "nist"
    engine = model.engine(machine)
    inst, _ = engine.create(RequestReceived(request))
    for status in responses:
        engine.handle(inst, TUResponse(response_to(request, status, to_tag="a6c85cf")))
    return inst


# -- dialog IDs (RFC 3261 §12) ----------------------------------------------------------------


def test_dialog_id_at_a_uas_is_to_tag_local_from_tag_remote_rfc3261_12() -> None:
    req = replace(INVITE, to_tag="a6c85cf")
    assert dialog_id(req, received=True) == DialogId(INVITE.call_id, "a6c85cf", "1928301774")
    resp = response_to(INVITE, 200, to_tag="a6c85cf")
    assert dialog_id(resp, received=False) == DialogId(INVITE.call_id, "a6c85cf", "1928301774")


def test_dialog_id_at_a_uac_is_from_tag_local_to_tag_remote_rfc3261_12() -> None:
    resp = response_to(INVITE, 180, to_tag="a6c85cf")
    assert dialog_id(resp, received=True) == DialogId(INVITE.call_id, "1928301774", "a6c85cf")
    req = replace(INVITE, method="BYE", to_tag="a6c85cf")
    assert dialog_id(req, received=False) == DialogId(INVITE.call_id, "1928301774", "a6c85cf")


# -- CANCEL (RFC 3261 §9.2) ---------------------------------------------------------------


def test_cancel_matching_no_transaction_gets_481_rfc3261_9_2() -> None:
    other = server(replace(INVITE, branch="z9hG4bKother"))
    assert handle_cancel(CANCEL, [other]) == [Respond(CANCEL, 481, rfc="RFC 3261 §9.2")]
    assert handle_cancel(CANCEL, []) == [Respond(CANCEL, 481, rfc="RFC 3261 §9.2")]


def test_cancel_of_an_unanswered_invite_gets_200_and_the_invite_487_rfc3261_9_2() -> None:
    ist = server(INVITE)
    assert ist.state == "proceeding"
    assert handle_cancel(CANCEL, [ist]) == [
        Respond(CANCEL, 200, rfc="RFC 3261 §9.2"),
        Respond(INVITE, 487, rfc="RFC 3261 §9.2"),
    ]


def test_cancel_after_a_provisional_still_gets_the_invite_487_rfc3261_9_2() -> None:
    ist = server(INVITE, 180)
    assert ist.state == "proceeding"
    assert [r.status for r in handle_cancel(CANCEL, [ist])] == [200, 487]


@pytest.mark.parametrize(
    ("profile", "status", "state"),
    [
        ("rfc6026", 200, "accepted"),
        ("rfc6026", 486, "completed"),
        ("rfc3261", 486, "completed"),
    ],
)
def test_cancel_of_an_answered_invite_gets_200_and_no_effect_rfc3261_9_2(
    profile: str,
    status: int,
    state: str,
) -> None:
    engine = model.engine("ist", profile)
    ist, _ = engine.create(RequestReceived(INVITE))
    engine.handle(ist, TUResponse(response_to(INVITE, status, to_tag="a6c85cf")))
    assert ist.state == state
    assert handle_cancel(CANCEL, [ist]) == [Respond(CANCEL, 200, rfc="RFC 3261 §9.2")]


def test_cancel_of_a_terminated_transaction_matches_nothing_rfc3261_9_2() -> None:
    engine = model.engine("ist", "rfc3261")
    ist, _ = engine.create(RequestReceived(INVITE))
    engine.handle(ist, TUResponse(response_to(INVITE, 200, to_tag="a6c85cf")))
    assert ist.state == "terminated"  # the original IST ends with the 2xx
    assert handle_cancel(CANCEL, [ist]) == [Respond(CANCEL, 481, rfc="RFC 3261 §9.2")]


def test_cancel_of_a_non_invite_gets_200_and_no_effect_rfc3261_9_2() -> None:
    nist = server(OPTIONS)
    cancel = cancel_for(OPTIONS)
    assert handle_cancel(cancel, [nist]) == [Respond(cancel, 200, rfc="RFC 3261 §9.2")]


def test_cancel_ignores_its_own_server_transaction_rfc3261_9_2() -> None:
    own = server(CANCEL)  # the CANCEL's own NIST has the same branch and sent-by
    ist = server(INVITE)
    assert find_cancelled(CANCEL, [own, ist]) is ist
    assert handle_cancel(CANCEL, [own]) == [Respond(CANCEL, 481, rfc="RFC 3261 §9.2")]


def test_cancel_matches_on_branch_and_sent_by_rfc3261_17_2_3() -> None:
    assert matches_cancel(CANCEL, INVITE)
    assert not matches_cancel(replace(CANCEL, sent_by="evil.example.com"), INVITE)
    assert not matches_cancel(replace(CANCEL, branch="z9hG4bKelse"), INVITE)
    # the method is ignored (§9.2); other fields do not matter with the magic cookie
    assert matches_cancel(replace(CANCEL, cseq=1, uri="sip:x@y"), INVITE)


def test_cancel_from_an_rfc2543_client_matches_on_the_old_fields_rfc3261_17_2_3() -> None:
    old = replace(INVITE, branch="1")
    cancel = cancel_for(old)
    assert matches_cancel(cancel, old)
    for changed in (
        replace(cancel, uri="sip:x@y"),
        replace(cancel, cseq=1),
        replace(cancel, from_tag="x"),
        replace(cancel, to_tag="y"),
        replace(cancel, call_id="z"),
        replace(cancel, sent_by="w"),
    ):
        assert not matches_cancel(changed, old), changed


@given(st.lists(st.sampled_from((None, 180, 200, 486)), max_size=4))
def test_cancel_never_gets_487_rfc3261_21_4_25(answers: list[int | None]) -> None:
    transactions = [server(INVITE) if s is None else server(INVITE, s) for s in answers]
    for r in handle_cancel(CANCEL, transactions):
        assert not (r.request.method == "CANCEL" and r.status == 487)
        assert r.status in (200, 481, 487)


def test_has_final_response_reads_the_transaction_state() -> None:
    assert not has_final_response(server(INVITE))
    assert has_final_response(server(INVITE, 486))
    assert not has_final_response(server(OPTIONS))
    assert has_final_response(server(OPTIONS, 200))


def test_handle_cancel_refuses_a_request_that_is_no_cancel() -> None:
    with pytest.raises(CoreError, match=r"expects a CANCEL request, got INVITE \(CSeq 314159\)"):
        handle_cancel(INVITE, [])


# -- requests that match no dialog (RFC 3261 §12.2.2, §15.1.2) -------------------------------


def test_request_with_a_to_tag_matching_no_dialog_gets_481_rfc3261_12_2_2() -> None:
    for method in ("INVITE", "UPDATE", "INFO", "PRACK", "REFER"):
        req = replace(INVITE, method=method, to_tag="gone")
        assert respond_unmatched(req) == [Respond(req, 481, rfc="RFC 3261 §12.2.2")]


def test_bye_matching_no_dialog_gets_481_even_without_tags_rfc3261_15_1_2() -> None:
    for to_tag in ("gone", ""):
        bye = replace(INVITE, method="BYE", to_tag=to_tag)
        assert respond_unmatched(bye) == [Respond(bye, 481, rfc="RFC 3261 §15.1.2")]


def test_ack_matching_no_dialog_is_absorbed_rfc3261_17_1_1_3() -> None:
    assert respond_unmatched(replace(INVITE, method="ACK", to_tag="gone")) == []


def test_unmatched_cancel_and_out_of_dialog_requests_are_refused_clearly() -> None:
    with pytest.raises(CoreError, match="use handle_cancel"):
        respond_unmatched(CANCEL)
    with pytest.raises(CoreError, match="no To tag: it is outside any dialog"):
        respond_unmatched(OPTIONS)


def test_an_accepted_invite_is_completed_64_t1_after_its_first_2xx_rfc3261_13_2_2_4() -> None:
    timing = Timing(0.5, 4.0, 5.0, "udp")
    assert invite_completed_at("rfc3261", 2.0, timing) == 2.0 + 64 * 0.5
    assert invite_completed_at("rfc3261", 0.0, Timing(0.1, 4.0, 5.0, "tcp")) == pytest.approx(6.4)
    assert invite_completed_at("rfc3261", -1.0, timing) == -1.0  # no 2xx: its end is its end
    # RFC 6026 §8.4: the transaction itself waits (Timer M), so its end is the completion
    assert invite_completed_at("rfc6026", 2.0, timing) == -1.0
