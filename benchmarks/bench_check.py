"""Benchmark of the conformance checker: messages per second on a large generated trace.

Not a test: run it by hand, ``.venv/bin/python benchmarks/bench_check.py [N]``.

The trace is ``N`` messages (100,000 by default) of basic calls (RFC 3665 §3.1: INVITE,
180, 200, ACK, BYE, 200) templated from messages SIPp 3.6 put on the wire (below, as it
logged them), each call with its own Call-ID, tags and branches, written in sipfsm's
JSONL format with both endpoints checked. It reports, from the same run and one core:

* ``parse``: the baseline -- `sipfsm.wire.parse` alone over the same raw messages;
* ``check``: `sipfsm.check.check_files` end to end (read the file, parse, match,
  replay both endpoints' transactions and dialogs through the model, rules);
* ``sipmessage``: for reference, when installed, the parse + Via/From/To/CSeq rate of
  the ``sipmessage`` library (see docs/checker.md, "Parsing").

The goal is a ``check`` rate of at least 50,000 messages per second.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sipfsm.capture import jsonl_line
from sipfsm.check import check_files
from sipfsm.wire import parse

#: One basic call as SIPp 3.6.1 sent it (uac and uas scenarios, loopback), CRLF ends.
SIPP_CALL = [
    (
        "A",
        "B",
        "INVITE sip:service@127.0.0.1:5072 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-0\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: sip:sipp@127.0.0.1:5071\r\n"
        "Max-Forwards: 70\r\n"
        "Subject: Performance Test\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length:   129\r\n\r\n"
        "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\nm=audio 6004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
    ),
    (
        "B",
        "A",
        "SIP/2.0 180 Ringing\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-0\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:127.0.0.1:5072;transport=UDP>\r\n"
        "Content-Length: 0\r\n\r\n",
    ),
    (
        "B",
        "A",
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-0\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:127.0.0.1:5072;transport=UDP>\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length:   129\r\n\r\n"
        "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
    ),
    (
        "A",
        "B",
        "ACK sip:service@127.0.0.1:5072 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-5\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 1 ACK\r\n"
        "Contact: sip:sipp@127.0.0.1:5071\r\n"
        "Max-Forwards: 70\r\n"
        "Subject: Performance Test\r\n"
        "Content-Length: 0\r\n\r\n",
    ),
    (
        "A",
        "B",
        "BYE sip:service@127.0.0.1:5072 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-7\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 2 BYE\r\n"
        "Contact: sip:sipp@127.0.0.1:5071\r\n"
        "Max-Forwards: 70\r\n"
        "Subject: Performance Test\r\n"
        "Content-Length: 0\r\n\r\n",
    ),
    (
        "B",
        "A",
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-7\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 2 BYE\r\n"
        "Contact: <sip:127.0.0.1:5072;transport=UDP>\r\n"
        "Content-Length: 0\r\n\r\n",
    ),
]
ADDRESS = {"A": "127.0.0.1:5071", "B": "127.0.0.1:5072"}


def generate(count: int) -> list[tuple[float, str, str, bytes]]:
    """``count`` messages: calls started every 10 ms, messages 1 ms apart."""
    for template in SIPP_CALL:  # the templates are valid SIP as SIPp sent them
        parse(template[2].format(c=0).encode())
    out: list[tuple[float, str, str, bytes]] = []
    call = 0
    while len(out) < count:
        call += 1
        for step, (src, dst, text) in enumerate(SIPP_CALL):
            if len(out) == count:
                break
            out.append(
                (
                    call * 0.01 + step * 0.001,
                    ADDRESS[src],
                    ADDRESS[dst],
                    text.format(c=call).encode(),
                )
            )
    out.sort(key=lambda m: m[0])
    return out


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main(argv: list[str]) -> None:
    count = int(argv[1]) if len(argv) > 1 else 100_000
    messages = generate(count)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        path.write_text("\n".join(jsonl_line(t, s, d, raw) for t, s, d, raw in messages) + "\n")
        raws = [raw for _t, _s, _d, raw in messages]
        start = time.perf_counter()
        for raw in raws:
            parse(raw)
        parse_s = time.perf_counter() - start
        start = time.perf_counter()
        report = check_files([path])
        check_s = time.perf_counter() - start
    assert report.messages == count and report.parsed == count, report.to_text()[:500]
    assert not report.violations, [v.text for v in report.violations[:5]]
    parse_rate = rate(count, parse_s)
    check_rate = rate(count, check_s)
    print(f"messages:        {count}")
    print(f"parse (baseline): {parse_rate:10,.0f} messages/s  ({parse_s:.2f} s)")
    print(
        f"check:            {check_rate:10,.0f} messages/s  ({check_s:.2f} s), "
        f"{len(report.transactions)} transactions, {len(report.dialogs)} dialogs"
    )
    print(f"check / parse:    {check_rate / parse_rate:10.2f}")
    print(f"goal 50,000/s:    {'met' if check_rate >= 50_000 else 'NOT met'}")
    try:
        import sipmessage  # type: ignore[import-not-found]
    except ImportError:
        return
    sample = raws[: min(count, 20_000)]
    start = time.perf_counter()
    for raw in sample:
        m = sipmessage.Message.parse(raw)
        _fields = (m.via, m.from_address, m.to_address, m.cseq)
    sm_rate = rate(len(sample), time.perf_counter() - start)
    print(f"sipmessage 0.7.1 parse+fields (reference): {sm_rate:10,.0f} messages/s")


if __name__ == "__main__":
    main(sys.argv)
