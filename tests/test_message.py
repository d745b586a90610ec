"""The messages the machines build themselves (sipfsm/values/message.py): responses (RFC 3261
§8.2.6.2), the ACK for a non-2xx final response (§17.1.1.3) and CANCEL (§9.1).

The INVITE is the one of the §17.1.1.3 example, with a Route header added so that the
Route rules of §17.1.1.3 and §9.1 can be checked.
"""

from __future__ import annotations

import pytest
from conftest import BYE, INVITE, UAS_TAG, make_request, make_response, reply
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.engine import native
from sipfsm.values.frozen import replace
from sipfsm.values.message import (
    MAGIC_COOKIE,
    Request,
    Response,
    ack_for_non_2xx,
    cancel_for,
    pop_via,
    push_via,
    response_to,
    status_of,
    to_wire,
    via_stack,
)

ROUTE = ("Route", "<sip:proxy.atlanta.com;lr>")


# -- responses (RFC 3261 §8.2.6.2) -------------------------------------------------------------


@pytest.mark.parametrize("status", [100, 180, 200, 486, 603])
def test_response_to_copies_from_call_id_cseq_and_via_rfc3261_8_2_6_2(status: int) -> None:
    resp = response_to(INVITE, status, to_tag=UAS_TAG)
    assert isinstance(resp, Response)
    assert resp.status == status
    assert resp.method == INVITE.method  # CSeq method
    assert resp.cseq == INVITE.cseq
    assert resp.call_id == INVITE.call_id
    assert resp.from_tag == INVITE.from_tag
    assert (resp.branch, resp.sent_by) == (INVITE.branch, INVITE.sent_by)  # top Via


def test_response_to_keeps_the_request_to_tag_when_present_rfc3261_8_2_6_2() -> None:
    assert response_to(BYE, 200).to_tag == BYE.to_tag == UAS_TAG


def test_response_to_adds_the_uas_to_tag_when_given_rfc3261_8_2_6_2() -> None:
    assert response_to(INVITE, 180, to_tag="abc").to_tag == "abc"


def test_response_to_without_a_tag_keeps_the_request_s_none_for_100_trying_rfc3261_17_2_1() -> None:
    assert response_to(INVITE, 100).to_tag == ""


@pytest.mark.parametrize(
    ("status", "reason"),
    [(100, "Trying"), (180, "Ringing"), (200, "OK"), (487, "Request Terminated")],
)
def test_response_to_uses_the_canonical_reason_phrase_rfc3261_21(status: int, reason: str) -> None:
    assert response_to(INVITE, status).reason == reason


def test_response_to_accepts_reason_headers_and_body() -> None:
    resp = response_to(
        INVITE, 486, reason="Busy Here Now", headers=(("Retry-After", "10"),), body="x"
    )
    assert resp.reason == "Busy Here Now"
    assert resp.header("retry-after") == "10"
    assert resp.body == "x"


def test_response_does_not_copy_request_headers_or_body() -> None:
    resp = response_to(INVITE, 200)
    assert resp.headers == ()
    assert resp.body == ""


# -- ACK for a non-2xx final response (RFC 3261 §17.1.1.3) --------------------------------------


@pytest.mark.parametrize("status", [300, 404, 486, 487, 603, 699])
def test_ack_for_non_2xx_copies_uri_call_id_from_via_and_cseq_number_rfc3261_17_1_1_3(
    status: int,
) -> None:
    ack = ack_for_non_2xx(INVITE, reply(INVITE, status))
    assert ack.method == "ACK"  # CSeq method ACK
    assert ack.uri == INVITE.uri
    assert ack.call_id == INVITE.call_id
    assert ack.from_tag == INVITE.from_tag
    assert ack.cseq == INVITE.cseq
    assert (ack.branch, ack.sent_by) == (INVITE.branch, INVITE.sent_by)  # the one Via


def test_ack_for_non_2xx_takes_the_to_tag_of_the_response_rfc3261_17_1_1_3() -> None:
    ack = ack_for_non_2xx(INVITE, reply(INVITE, 486, to_tag="99sa0xk"))
    assert INVITE.to_tag == ""
    assert ack.to_tag == "99sa0xk"


def test_ack_for_non_2xx_matches_the_rfc_example_rfc3261_17_1_1_3() -> None:
    invite = make_request(
        "INVITE",
        uri="sip:bob@biloxi.com",
        call_id="987asjd97y7atg",
        cseq=986759,
        from_tag="88sja8x",
        branch="z9hG4bKkjshdyff",
        sent_by="pc33.atlanta.com",
    )
    ack = ack_for_non_2xx(invite, response_to(invite, 486, to_tag="99sa0xk"))
    assert ack == make_request(
        "ACK",
        uri="sip:bob@biloxi.com",
        call_id="987asjd97y7atg",
        cseq=986759,
        from_tag="88sja8x",
        to_tag="99sa0xk",
        branch="z9hG4bKkjshdyff",
        sent_by="pc33.atlanta.com",
    )


def test_ack_for_non_2xx_carries_no_body_rfc3261_17_1_1_3() -> None:
    assert INVITE.body
    assert ack_for_non_2xx(INVITE, reply(INVITE, 486)).body == ""


def test_ack_for_non_2xx_keeps_the_invite_route_headers_rfc3261_17_1_1_3() -> None:
    assert INVITE.header("Route") == ROUTE[1]
    ack = ack_for_non_2xx(INVITE, reply(INVITE, 486))
    assert ack.header("Route") == ROUTE[1]


# -- CANCEL (RFC 3261 §9.1) -------------------------------------------------------------------


def test_cancel_for_copies_uri_call_id_to_from_cseq_number_and_top_via_rfc3261_9_1() -> None:
    cancel = cancel_for(INVITE)
    assert cancel.method == "CANCEL"  # CSeq method CANCEL
    assert cancel.uri == INVITE.uri
    assert cancel.call_id == INVITE.call_id
    assert (cancel.from_tag, cancel.to_tag) == (INVITE.from_tag, INVITE.to_tag)
    assert cancel.cseq == INVITE.cseq
    assert (cancel.branch, cancel.sent_by) == (INVITE.branch, INVITE.sent_by)


def test_cancel_for_has_no_body_and_no_require_headers_rfc3261_9_1() -> None:
    invite = make_request(
        "INVITE", headers=(("Require", "100rel"), ("Proxy-Require", "foo")), body="v=0"
    )
    cancel = cancel_for(invite)
    assert cancel.header("Require") is None
    assert cancel.header("Proxy-Require") is None
    assert cancel.body == ""


def test_cancel_for_keeps_the_route_headers_rfc3261_9_1() -> None:
    assert cancel_for(INVITE).header("Route") == ROUTE[1]


@given(
    cseq=st.integers(1, 2**31 - 1),
    branch=st.text("abcdef0123456789", min_size=1, max_size=12),
    from_tag=st.text("abcxyz123", max_size=8),
)
def test_ack_and_cancel_stay_in_the_invite_transaction_rfc3261_17_1_3(
    cseq: int, branch: str, from_tag: str
) -> None:
    invite = make_request("INVITE", cseq=cseq, branch=MAGIC_COOKIE + branch, from_tag=from_tag)
    for derived in (
        ack_for_non_2xx(invite, response_to(invite, 486, to_tag="t")),
        cancel_for(invite),
    ):
        assert (derived.branch, derived.cseq, derived.call_id, derived.from_tag) == (
            invite.branch,
            cseq,
            invite.call_id,
            from_tag,
        )


# -- the message values -----------------------------------------------------------------------


def test_messages_are_frozen_slotted_values() -> None:
    assert make_request("BYE") == make_request("BYE")
    assert hash(make_request("BYE")) == hash(make_request("BYE"))
    if native.compiled():  # the pure source leaves it to the type checker (Final)
        with pytest.raises(AttributeError):
            make_request("BYE").method = "INVITE"  # type: ignore[misc]
    assert not hasattr(make_request("BYE"), "__dict__")
    assert not hasattr(response_to(BYE, 200), "__dict__")


def test_message_kind_cseq_method_and_summary() -> None:
    assert (BYE.kind, BYE.cseq_method, BYE.summary()) == ("request", "BYE", "BYE (CSeq 986760)")
    resp = response_to(BYE, 200)
    assert (resp.kind, resp.cseq_method, resp.summary()) == ("response", "BYE", "200 OK (BYE)")


def test_header_lookup_is_case_insensitive_rfc3261_7_3_1() -> None:
    req = make_request("INVITE", headers=(("Max-Forwards", "70"),))
    assert req.header("max-forwards") == "70"
    assert req.header("MAX-FORWARDS") == "70"
    assert req.header("Route") is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["RSeq", "rseq", "RSEQ", "RAck", "Route", "Via", "X"]), st.text()
        ),
        max_size=5,
    ),
    st.sampled_from(["RSeq", "rseq", "RAck", "route", "Contact"]),
)
def test_header_is_the_first_field_of_that_name_in_any_case_rfc3261_7_3_1(
    headers: list[tuple[str, str]], name: str
) -> None:
    expected = next((v for k, v in headers if k.lower() == name.lower()), None)
    assert make_request("PRACK", headers=tuple(headers)).header(name) == expected
    assert make_response(180, "Ringing", "INVITE", headers=tuple(headers)).header(name) == expected


def test_branch_defaults_carry_the_magic_cookie_rfc3261_8_1_1_7() -> None:
    assert MAGIC_COOKIE == "z9hG4bK"
    assert make_request("OPTIONS").branch.startswith(MAGIC_COOKIE)
    assert response_to(make_request("OPTIONS"), 200).branch.startswith(MAGIC_COOKIE)


# -- the builders against the rules written field by field ---------------------------------------

TEXT = st.text(alphabet="abcz9-.@:", max_size=8)
HEADERS = st.lists(
    st.tuples(st.sampled_from(("Route", "route", "Via", "Require")), TEXT), max_size=3
).map(tuple)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    return make_request(
        draw(st.sampled_from(("INVITE", "BYE", "OPTIONS"))),
        uri=draw(TEXT),
        call_id=draw(TEXT),
        cseq=draw(st.integers(1, 2**31 - 1)),
        from_tag=draw(TEXT),
        to_tag=draw(TEXT),
        branch=draw(TEXT),
        sent_by=draw(TEXT),
        headers=draw(HEADERS),
        body=draw(TEXT),
    )


def routes_of(request: Request) -> tuple[tuple[str, str], ...]:
    return tuple(h for h in request.headers if h[0].lower() == "route")


@given(requests(), st.integers(100, 699), st.one_of(st.none(), TEXT))
def test_response_to_sets_every_field_by_name_rfc3261_8_2_6_2(
    request: Request, status: int, to_tag: str | None
) -> None:
    """The builder passes fields by position (it is on every INVITE's path): each lands in
    the field of its name."""
    got = response_to(request, status, to_tag=to_tag, headers=(("RSeq", "1"),), body="v=0")
    assert got == make_response(
        status=status,
        reason=got.reason,
        method=request.method,
        call_id=request.call_id,
        cseq=request.cseq,
        from_tag=request.from_tag,
        to_tag=request.to_tag if to_tag is None else to_tag,
        branch=request.branch,
        sent_by=request.sent_by,
        headers=(("RSeq", "1"),),
        body="v=0",
    )


@given(requests(), TEXT)
def test_ack_for_non_2xx_sets_every_field_by_name_rfc3261_17_1_1_3(
    request: Request, to_tag: str
) -> None:
    response = response_to(request, 486, to_tag=to_tag)
    assert ack_for_non_2xx(request, response) == replace(
        request, method="ACK", to_tag=to_tag, headers=routes_of(request), body=""
    )


@given(requests())
def test_cancel_for_sets_every_field_by_name_rfc3261_9_1(request: Request) -> None:
    assert cancel_for(request) == replace(
        request, method="CANCEL", headers=routes_of(request), body=""
    )


def test_status_of_is_a_responses_code_and_zero_for_anything_else() -> None:
    assert status_of(response_to(BYE, 481)) == 481
    assert status_of(BYE) == 0
    assert status_of(None) == 0


# -- Via stacks and Max-Forwards through proxies (RFC 3261 §16.6, §16.7) -----------------------


PROXY = "proxy.biloxi.example.com"


def test_a_forwarded_request_gets_a_new_top_via_above_the_old_ones_rfc3261_16_6_8() -> None:
    forwarded = push_via(INVITE, PROXY, MAGIC_COOKIE + "p1")
    assert (forwarded.sent_by, forwarded.branch) == (PROXY, MAGIC_COOKIE + "p1")
    assert forwarded.vias == ((INVITE.sent_by, INVITE.branch),)
    assert via_stack(forwarded) == ((PROXY, MAGIC_COOKIE + "p1"), (INVITE.sent_by, INVITE.branch))


def test_a_response_copies_every_via_of_its_request_rfc3261_8_2_6_2() -> None:
    forwarded = push_via(push_via(INVITE, "p1.example.com", "z9hG4bKa"), PROXY, "z9hG4bKb")
    resp = response_to(forwarded, 180, to_tag=UAS_TAG)
    assert via_stack(resp) == via_stack(forwarded)


def test_a_proxy_removes_the_top_via_of_a_response_it_forwards_rfc3261_16_7_3() -> None:
    forwarded = push_via(INVITE, PROXY, MAGIC_COOKIE + "p1")
    upstream = pop_via(response_to(forwarded, 486, to_tag=UAS_TAG))
    assert (upstream.sent_by, upstream.branch, upstream.vias) == (INVITE.sent_by, INVITE.branch, ())
    assert upstream == response_to(INVITE, 486, to_tag=UAS_TAG)


def test_a_response_with_one_via_is_not_forwarded_rfc3261_16_7_3() -> None:
    with pytest.raises(ValueError, match=r"16\.7"):
        pop_via(response_to(INVITE, 200, to_tag=UAS_TAG))


def test_to_wire_writes_every_via_top_first_rfc3261_7_3_1() -> None:
    forwarded = push_via(make_request("INVITE", branch="z9hG4bKa"), PROXY, "z9hG4bKb")
    vias = [line for line in to_wire(forwarded).split("\r\n") if line.startswith("Via:")]
    assert vias == [
        f"Via: SIP/2.0/UDP {PROXY};branch=z9hG4bKb",
        "Via: SIP/2.0/UDP alice.atlanta.example.com;branch=z9hG4bKa",
    ]


def test_to_wire_writes_the_requests_own_max_forwards_once_rfc3261_16_6_3() -> None:
    req = make_request("INVITE", headers=(("Max-Forwards", "69"), ("Subject", "x")))
    lines = to_wire(req).split("\r\n")
    assert [ln for ln in lines if ln.startswith("Max-Forwards")] == ["Max-Forwards: 69"]
    assert lines[2] == "Max-Forwards: 69"  # where the 70 of a request without one is written


def test_to_wire_of_a_request_without_max_forwards_is_unchanged_rfc3261_8_1_1_6() -> None:
    text = to_wire(make_request("OPTIONS", branch="z9hG4bKx"))
    assert text.split("\r\n")[1:3] == [
        "Via: SIP/2.0/UDP alice.atlanta.example.com;branch=z9hG4bKx",
        "Max-Forwards: 70",
    ]
