"""The probe's peer (sipfsm.net.peer): the requests it builds are valid SIP with the names
RFC 3261 asks for, and what it reads from a stream is framed by Content-Length (§18.3)."""

from __future__ import annotations

import asyncio

from sipfsm.net.cases import ProbeOptions
from sipfsm.net.peer import Peer, is_final, is_response
from sipfsm.values.message import Request, Response
from sipfsm.values.wire import parse


def peer(transport: str = "udp") -> Peer:
    async def make() -> Peer:
        return Peer(ProbeOptions(("127.0.0.1", 5070), user="bob", transport=transport), None)

    return asyncio.run(make())


def test_a_request_is_valid_sip_with_a_cookie_branch_and_a_from_tag_rfc3261_8_1_1() -> None:
    p = peer()
    text = p.request("INVITE", 1, branch=p.branch(), body=True)
    m = parse(text.encode())
    assert isinstance(m, Request) and m.method == "INVITE" and m.uri == "sip:bob@127.0.0.1:5070"
    assert m.branch.startswith("z9hG4bK") and m.from_tag and not m.to_tag
    assert m.header("Content-Type") == "application/sdp" and m.body.startswith("v=0\r\n")
    assert ";rport" in (m.header("Via") or "")


def test_the_ack_of_a_non_2xx_shares_the_invite_branch_of_a_2xx_not_rfc3261_17_1_1_3() -> None:
    p = peer()
    invite = p.branch()
    busy = Response(486, "Busy Here", "INVITE", p.call_id, 1, p.from_tag, "t", invite, "h")
    ok = Response(200, "OK", "INVITE", p.call_id, 1, p.from_tag, "t", invite, "h")
    ack_busy = parse(p.ack_for(invite, busy, 1).encode())
    ack_ok = parse(p.ack_for(invite, ok, 1).encode())
    assert ack_busy.branch == invite and ack_ok.branch != invite  # §13.2.2.4: a new one
    assert ack_busy.to_tag == ack_ok.to_tag == "t" and ack_ok.cseq == 1


def test_over_tcp_the_via_says_tcp_and_the_contact_transport_tcp() -> None:
    text = peer("tcp").request("OPTIONS", 1, branch="z9hG4bKx")
    assert "Via: SIP/2.0/TCP " in text and ";transport=tcp>" in text and "rport" not in text


def test_a_stream_is_framed_by_content_length_rfc3261_18_3() -> None:
    p = peer("tcp")
    mine = p.request("OPTIONS", 1, branch="z9hG4bKx")
    answer = mine.replace("OPTIONS sip:bob@127.0.0.1:5070 SIP/2.0", "SIP/2.0 200 OK", 1)

    async def read() -> None:
        reader = asyncio.StreamReader()
        data = (answer + answer).encode()
        reader.feed_data(b"\r\n" + data[:17])
        reader.feed_data(data[17:])
        reader.feed_eof()
        await p._read(reader)

    asyncio.run(read())
    assert [m.status for _, m, _ in p.received if isinstance(m, Response)] == [200, 200]
    assert p.garbage == 0


def test_a_message_of_another_call_is_counted_not_judged() -> None:
    p = peer()
    other = p.request("OPTIONS", 1, branch="z9hG4bKx", call_id="someone-else")
    p._arrived(other.encode(), stream=False)
    assert p.received == [] and p.garbage == 1


def test_the_predicates_pick_final_responses_and_responses_of_a_method() -> None:
    ok = Response(200, "OK", "BYE", "c", 2, "a", "b", "z9hG4bKx", "h")
    trying = Response(100, "Trying", "INVITE", "c", 1, "a", "", "z9hG4bKx", "h")
    assert is_final("BYE")(ok) and not is_final("BYE", 3)(ok) and not is_final("INVITE")(trying)
    assert is_response("INVITE")(trying) and not is_response("BYE")(trying)
