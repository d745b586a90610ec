"""The codec between the wire and the model (sipfsm.net.codec): what the wire says and the
model drops is written back, and a response copies its request's Via, From and To
(RFC 3261 §8.2.6.2)."""

from __future__ import annotations

import pytest

from sipfsm.elements.core import address_of
from sipfsm.net.codec import Codec, CodecError, hostport, sdp
from sipfsm.values.errors import WireError
from sipfsm.values.message import Request, response_to
from sipfsm.values.wire import parse

LOCAL = ("127.0.0.1", 5060)
PEER = ("127.0.0.1", 5061)

INVITE = (
    b"INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bKfar\r\n"
    b"From: sipp <sip:sipp@127.0.0.1:5061>;tag=abc\r\n"
    b"To: service <sip:service@127.0.0.1:5060>\r\n"
    b"Call-ID: 1-42@127.0.0.1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:sipp@127.0.0.1:5061>\r\n"
    b"Max-Forwards: 70\r\n"
    b"Subject: test\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def test_a_received_request_names_its_sender_and_its_contact_as_the_model_does() -> None:
    codec = Codec("ua", LOCAL)
    message, sender = codec.decode(INVITE, PEER)
    assert isinstance(message, Request)
    assert sender == "net1" and codec.address_of("net1") == PEER
    assert message.sent_by == "net1.example.com" and message.branch == "z9hG4bK-1-0"
    assert message.vias == (("net2.example.com", "z9hG4bKfar"),)
    contact = message.header("Contact")
    assert contact is not None and address_of(contact) == "net1"  # the Endpoint's peer
    assert message.header("Subject") == "test"
    assert message.header("Via") is None and message.header("CSeq") is None  # the codec's own


def test_a_response_copies_the_vias_from_and_to_of_its_request_rfc3261_8_2_6_2() -> None:
    codec = Codec("ua", LOCAL)
    request, sender = codec.decode(INVITE, PEER)
    assert isinstance(request, Request)
    own = (("Contact", "<sip:ua@ua.example.com>"),)
    answer = response_to(request, 200, to_tag="t1", headers=own)
    data, address = codec.encode(answer, sender)
    assert address == PEER
    text = data.decode()
    assert "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport\r\n" in text
    assert "Via: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bKfar\r\n" in text
    assert "From: sipp <sip:sipp@127.0.0.1:5061>;tag=abc\r\n" in text
    assert "To: service <sip:service@127.0.0.1:5060>;tag=t1\r\n" in text
    assert "Contact: <sip:ua@127.0.0.1:5060>\r\n" in text
    back = parse(data)  # and it is valid SIP
    assert back.to_tag == "t1" and back.cseq == 1 and back.call_id == "1-42@127.0.0.1"


def test_a_request_of_the_element_has_a_via_of_the_local_address_with_rport_rfc3581() -> None:
    codec = Codec("ua", LOCAL)
    _, sender = codec.decode(INVITE, PEER)
    bye = Request("BYE", "sip:net1@net1.example.com", "1-42@127.0.0.1", 1, "t1", "abc",
                  "z9hG4bKua1", "ua.example.com")
    text = codec.encode(bye, sender)[0].decode()
    assert text.startswith("BYE sip:sipp@127.0.0.1:5061 SIP/2.0\r\n")  # the Contact, restored
    assert "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKua1;rport\r\n" in text
    # the callee's BYE: From is the To of the INVITE, To is its From (§12.2.1.1)
    assert "From: service <sip:service@127.0.0.1:5060>;tag=t1\r\n" in text
    assert "To: sipp <sip:sipp@127.0.0.1:5061>;tag=abc\r\n" in text
    assert "Max-Forwards: 70\r\n" in text


def test_a_response_to_a_request_of_the_element_matches_it_by_the_model_sent_by() -> None:
    codec = Codec("ua", LOCAL)
    codec.name_of(PEER)
    response = (
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKua1;rport=5060\r\n"
        b"From: <sip:ua@127.0.0.1:5060>;tag=a\r\nTo: <sip:x@127.0.0.1:5061>;tag=b\r\n"
        b"Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    message, _ = codec.decode(response, PEER)
    assert message.sent_by == "ua.example.com" and message.branch == "z9hG4bKua1"


def test_a_model_body_goes_out_as_sdp_and_a_wire_body_as_it_came_rfc4566() -> None:
    codec = Codec("ua", LOCAL)
    request, _sender = codec.decode(INVITE, PEER)
    assert isinstance(request, Request)
    text = codec.text(response_to(request, 200, to_tag="t", body="v=0 o=ua answer"))
    assert "Content-Type: application/sdp\r\n" in text and text.endswith(sdp("127.0.0.1"))
    wire = response_to(request, 200, to_tag="t", headers=(("Content-Type", "text/plain"),),
                       body="hello")
    assert codec.text(wire).endswith("Content-Length: 5\r\n\r\nhello")


def test_a_destination_never_seen_is_a_clear_error() -> None:
    codec = Codec("ua", LOCAL)
    request, _ = codec.decode(INVITE, PEER)
    with pytest.raises(CodecError, match="no address is known for 'nowhere'"):
        codec.encode(request, "nowhere")


def test_bytes_that_are_not_sip_raise_a_wire_error() -> None:
    with pytest.raises(WireError):
        Codec("ua", LOCAL).decode(b"hello\r\n\r\n", PEER)


def test_a_proxy_routes_its_own_request_uri_to_its_next_hop_rfc3261_16_6() -> None:
    codec = Codec("px", LOCAL)
    codec.default_route = codec.name_of(("127.0.0.1", 5090))
    request, _ = codec.decode(INVITE, PEER)
    assert address_of(request.uri) == codec.default_route
    assert codec.text(request).startswith("INVITE sip:service@127.0.0.1:5090 SIP/2.0")


def test_what_the_codec_remembers_is_bounded() -> None:
    codec = Codec("ua", LOCAL, max_entries=3)
    for port in range(6000, 6010):
        codec.name_of(("127.0.0.1", port))
    assert len(codec.labels) == 3 and len(codec.addresses) == 3


def test_an_ipv6_address_is_written_in_brackets() -> None:
    assert hostport("::1", 5060) == "[::1]:5060"
    assert "IN IP6 ::1" in sdp("::1")


def test_over_tcp_the_own_contact_says_transport_tcp() -> None:
    codec = Codec("ua", LOCAL, "tcp")
    request, _sender = codec.decode(INVITE.replace(b"UDP 127.0.0.1:5061", b"TCP 127.0.0.1:5061"),
                                   PEER)
    assert isinstance(request, Request)
    own = (("Contact", "<sip:ua@ua.example.com>"),)
    answer = response_to(request, 200, to_tag="t", headers=own)
    assert "Contact: <sip:ua@127.0.0.1:5060;transport=tcp>" in codec.text(answer)


def test_route_headers_keep_their_parameters_and_round_trip_rfc3261_20_34() -> None:
    codec = Codec("ua", LOCAL)
    rr = b"Record-Route: <sip:10.0.0.7:5070;lr>, <sip:127.0.0.1:5060;lr;ftag=x>\r\n"
    request, _ = codec.decode(INVITE.replace(b"Subject: test\r\n", rr), PEER)
    value = request.header("Record-Route")
    name = codec.labels["10.0.0.7:5070"]
    assert value == f"<sip:{name}.example.com;lr>, <sip:ua.example.com;lr;ftag=x>"
    assert address_of(value.split(",")[0]) == name
    text = codec.text(request)
    assert "Record-Route: <sip:10.0.0.7:5070;lr>, <sip:127.0.0.1:5060;lr;ftag=x>\r\n" in text
