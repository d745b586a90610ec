"""sipfsm.elements.matching: transaction keys (RFC 3261 §17.1.3, §17.2.3, §9.2, RFC 2543
fallback) and dialog ids (§12), seen from either side."""

from __future__ import annotations

from conftest import make_request

from sipfsm.elements.matching import (
    DialogId,
    Matcher,
    TransactionKey,
    cancelled_keys,
    dialog_id,
    machine_for,
    normalize_endpoint,
    role,
    transaction_key,
)
from sipfsm.values.frozen import replace
from sipfsm.values.message import ack_for_non_2xx, cancel_for, response_to

INVITE = make_request(
    "INVITE",
    uri="sip:b@x",
    call_id="c1",
    cseq=5,
    from_tag="fa",
    branch="z9hG4bKabc",
    sent_by="10.0.0.1:5060",
    headers=(("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc"),),
)


def test_response_and_ack_of_non_2xx_share_the_invite_key_rfc3261_17_2_3() -> None:
    final = response_to(INVITE, 486, to_tag="tb")
    assert transaction_key(final) == transaction_key(INVITE)
    assert transaction_key(ack_for_non_2xx(INVITE, final)) == transaction_key(INVITE)


def test_ack_of_a_2xx_has_its_own_branch_and_matches_no_invite_rfc3261_13_2_2_4() -> None:
    ack = replace(INVITE, method="ACK", branch="z9hG4bKnew", to_tag="tb")
    matcher: Matcher[str] = Matcher()
    matcher.add(INVITE, "ist")
    assert matcher.find(ack) is None


def test_cancel_is_its_own_transaction_but_finds_the_invite_rfc3261_9_2() -> None:
    cancel = cancel_for(INVITE)
    assert transaction_key(cancel) != transaction_key(INVITE)
    assert transaction_key(INVITE) in set(cancelled_keys(cancel))
    matcher: Matcher[str] = Matcher()
    matcher.add(INVITE, "ist")
    assert matcher.find_cancelled(cancel) == "ist" and matcher.find(cancel) is None


def test_same_branch_from_another_sent_by_is_another_transaction_rfc3261_17_2_3() -> None:
    matcher: Matcher[str] = Matcher()
    matcher.add(INVITE, "ist")
    assert matcher.find(replace(INVITE, sent_by="10.0.0.9:5060")) is None


def test_a_response_matches_its_client_transaction_by_branch_and_method_alone_rfc3261_17_1_3(
) -> None:
    # an ALG rewrote the top Via's sent-by port on the way back: the branch and the CSeq
    # method still name the client transaction (a response to another method does not)
    matcher: Matcher[str] = Matcher()
    key = matcher.add(INVITE, "ict")
    rewritten = replace(response_to(INVITE, 200, to_tag="tb"), sent_by="10.0.0.1:5860")
    assert matcher.find(rewritten) == "ict"
    assert matcher.find(replace(rewritten, method="BYE")) is None
    matcher.forget(key)
    assert matcher.find(rewritten) is None


def test_rfc2543_fallback_without_magic_cookie_rfc3261_17_2_3() -> None:
    old = replace(INVITE, branch="", headers=(("Via", "SIP/2.0/UDP 10.0.0.1:5060"),))
    matcher: Matcher[str] = Matcher()
    key = matcher.add(old, "ist")
    assert key.legacy is not None
    assert matcher.find(old) == "ist"  # a retransmission
    assert matcher.find(replace(old, uri="sip:other@x")) is None  # Request-URI differs
    # a response and the ACK copy the top Via (RFC 3261 §8.2.6.2, §17.1.1.3)
    final = replace(response_to(old, 486, to_tag="tb"), headers=old.headers)
    matcher.note_response(key, final)
    assert matcher.find(final) == "ist"
    ack = replace(ack_for_non_2xx(old, final), headers=old.headers)
    assert matcher.find(ack) == "ist"
    assert matcher.find(replace(ack, to_tag="other")) is None


def test_dialog_id_depends_on_the_side_rfc3261_12() -> None:
    ok = response_to(INVITE, 200, to_tag="tb")
    assert dialog_id(ok, "client") == DialogId("c1", "fa", "tb")
    assert dialog_id(ok, "server") == DialogId("c1", "tb", "fa")
    assert role(INVITE, "sent") == "client" and role(ok, "sent") == "server"
    assert machine_for("INVITE", "server") == "ist" and machine_for("BYE", "client") == "nict"


def test_endpoints_are_normalised() -> None:
    assert normalize_endpoint("Host.Example") == "host.example:5060"
    assert normalize_endpoint("[::1]:5070") == "[::1]:5070"
    assert normalize_endpoint("::1") == "[::1]:5060"


def test_transaction_keys_are_immutable_values_compared_by_field_rfc3261_17_2_3() -> None:
    key = transaction_key(INVITE)
    assert key == transaction_key(replace(INVITE, body="other")) and len({key, key}) == 1
    assert (key.branch, key.sent_by, key.method, key.legacy, key.rfc3261) == (
        "z9hG4bKabc",
        "10.0.0.1:5060",
        "INVITE",
        None,
        True,
    )
    assert key.describe() == "branch=z9hG4bKabc sent-by=10.0.0.1:5060 INVITE"
    try:
        key.method = "BYE"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("a TransactionKey must not change")


def test_a_message_key_is_the_named_tuple_its_fields_make() -> None:
    key = transaction_key(INVITE)
    assert type(key) is TransactionKey and key.rfc3261 and key.legacy is None
    assert key == TransactionKey(INVITE.branch, INVITE.sent_by, "INVITE")
    assert hash(key) == hash(TransactionKey(INVITE.branch, INVITE.sent_by, "INVITE"))
