"""sipfsm.check.rules: the checker's rules and the small judgments they rest on -- here, whether
a request was forwarded (a proxy's, RFC 3261 §16.6 step 8), which keeps the UAC core's duty
to ACK a 2xx off a proxy (§16.7). The rules themselves are checked on traces in
tests/test_check.py, one test per rule."""

from __future__ import annotations

from sipfsm.check.rules import CHECK_RULES, forwarded
from sipfsm.values.message import Request
from sipfsm.values.wire import parse

INVITE = (
    "INVITE sip:b@10.0.0.2 SIP/2.0\r\n{vias}"
    "From: <sip:a@10.0.0.1>;tag=fa\r\nTo: <sip:b@10.0.0.2>\r\nCall-ID: c1\r\n"
    "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)


def invite(vias: str) -> Request:
    request = parse(INVITE.format(vias=vias).encode())
    assert isinstance(request, Request)
    return request


def test_a_uacs_own_request_has_one_via_and_was_not_forwarded_rfc3261_8_1_1_7() -> None:
    request = invite("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1\r\n")
    assert not forwarded(request)
    # a comma inside a quoted parameter separates no Via values
    quoted = 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1;x="a, b"\r\n'
    assert not forwarded(invite(quoted))


def test_a_request_with_a_second_via_was_forwarded_rfc3261_16_6() -> None:
    two_lines = (
        "Via: SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bKp1\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1\r\n"
    )
    assert forwarded(invite(two_lines))
    one_line = (
        "Via: SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bKp1, "
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1\r\n"
    )
    assert forwarded(invite(one_line))


def test_every_rule_names_its_rfc_section() -> None:
    assert all(rule.rfc.startswith("RFC ") and rule.summary for rule in CHECK_RULES.values())
