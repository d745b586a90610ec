"""sipfsm.check.capture: SIPp logs, pcap/pcapng (UDP, TCP, IPv4, IPv6) and JSONL into records;
unusable files are errors that name the file and the position."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import dpkt
import pytest

from sipfsm.check.capture import RECEIVER, SENDER, CaptureError, jsonl_line, read

INVITE = (
    b"INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
    b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
    b"Contact: <sip:a@10.0.0.1:5060>\r\nContent-Length: 4\r\n\r\nv=0\n"
)
OK = (
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
    b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def sipp_log(entries: list[tuple[str, bytes]]) -> bytes:
    out = b""
    for i, (kind, raw) in enumerate(entries):
        out += f"----------------------------------------------- 2026-01-01 10:00:0{i}.5\n".encode()
        if kind == "sent":
            out += f"UDP message sent ({len(raw)} bytes):\n\n".encode()
        else:
            out += f"UDP message received [{len(raw)}] bytes :\n\n".encode()
        out += raw + b"\n"
    return out


def test_sipp_log_entries_become_records_of_the_logging_endpoint(tmp_path: Path) -> None:
    path = tmp_path / "uac.log"
    path.write_bytes(sipp_log([("sent", INVITE), ("received", OK)]))
    trace = read(path)
    assert trace.format == "sipp" and trace.local == "10.0.0.1:5060"
    assert [(r.src, r.dst, r.raw) for r in trace.records] == [
        ("10.0.0.1:5060", "peer", INVITE),
        ("peer", "10.0.0.1:5060", OK),
    ]
    assert trace.records[1].time - trace.records[0].time == pytest.approx(1.0)


def test_truncated_sipp_log_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.log"
    path.write_bytes(sipp_log([("sent", INVITE), ("received", OK)])[:-40])
    with pytest.raises(CaptureError, match=r"cut\.log: line 18: the file ends inside a message"):
        read(path)


def test_garbage_is_an_error_at_byte_0(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x00\x01hello")
    with pytest.raises(CaptureError, match=r"junk\.bin: byte 0: not a pcap"):
        read(path)


def test_jsonl_round_trip_and_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(jsonl_line(1.5, "[::1]:5060", "[::1]:5070", INVITE, "tcp") + "\n")
    (record,) = read(path).records
    assert (record.time, record.src, record.transport, record.raw) == (
        1.5,
        "[::1]:5060",
        "tcp",
        INVITE,
    )
    path.write_text('{"t": 1, "src": "a", "dst": "b"}\n')
    with pytest.raises(CaptureError, match=r"line 1: 'raw' must be a string"):
        read(path)


def _ip4_udp(payload: bytes, sport: int = 5060, dport: int = 5070) -> bytes:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = len(udp)
    ip = dpkt.ip.IP(
        src=socket.inet_aton("10.0.0.1"), dst=socket.inet_aton("10.0.0.2"), p=17, data=udp
    )
    ip.len = len(ip)
    return bytes(dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def _ip6_tcp(payload: bytes, seq: int, flags: int = dpkt.tcp.TH_ACK) -> bytes:
    tcp = dpkt.tcp.TCP(sport=5060, dport=5070, seq=seq, flags=flags, data=payload)
    ip6 = dpkt.ip6.IP6(
        src=socket.inet_pton(socket.AF_INET6, "2001:db8::1"),
        dst=socket.inet_pton(socket.AF_INET6, "2001:db8::2"),
        nxt=6,
        hlim=64,
        data=tcp,
        plen=len(tcp),
    )
    return bytes(dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP6, data=ip6))


def _pcap(frames: list[bytes], ng: bool = False) -> bytes:
    out = io.BytesIO()
    writer = (dpkt.pcapng.Writer if ng else dpkt.pcap.Writer)(out)
    for i, frame in enumerate(frames):
        writer.writepkt(frame, ts=100.0 + i * 0.25)
    return out.getvalue()


@pytest.mark.parametrize("ng", [False, True])
def test_udp_over_ipv4_in_pcap_and_pcapng(tmp_path: Path, ng: bool) -> None:
    path = tmp_path / ("t.pcapng" if ng else "t.pcap")
    path.write_bytes(_pcap([_ip4_udp(INVITE), _ip4_udp(b"\x80\x00rtp"), _ip4_udp(OK)], ng))
    trace = read(path)
    assert [(r.src, r.dst, r.transport, r.raw) for r in trace.records] == [
        ("10.0.0.1:5060", "10.0.0.2:5070", "udp", INVITE),
        ("10.0.0.1:5060", "10.0.0.2:5070", "udp", OK),
    ]
    assert trace.records[1].where.endswith("packet 3")


def test_tcp_over_ipv6_reassembled_out_of_order_and_framed_rfc3261_18_3(tmp_path: Path) -> None:
    stream = INVITE + b"\r\n\r\n" + OK  # a keep-alive between two messages
    isn = 1000
    parts = [stream[:30], stream[30:200], stream[200:]]
    offsets = [0, 30, 200]
    frames = [
        _ip6_tcp(b"", isn, dpkt.tcp.TH_SYN),
        _ip6_tcp(parts[0], isn + 1 + offsets[0]),
        _ip6_tcp(parts[2], isn + 1 + offsets[2]),  # arrives before the middle
        _ip6_tcp(parts[1], isn + 1 + offsets[1]),
        _ip6_tcp(parts[1], isn + 1 + offsets[1]),
    ]  # a retransmitted segment
    path = tmp_path / "tcp.pcap"
    path.write_bytes(_pcap(frames))
    records = read(path).records
    assert [(r.src, r.transport, r.raw, r.error) for r in records] == [
        ("[2001:db8::1]:5060", "tcp", INVITE, ""),
        ("[2001:db8::1]:5060", "tcp", OK, ""),
    ]


def test_truncated_pcap_is_an_error_with_its_offset(tmp_path: Path) -> None:
    data = _pcap([_ip4_udp(INVITE), _ip4_udp(OK)])
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-10])
    with pytest.raises(
        CaptureError,
        match=r"cut\.pcap: byte \d+ \(packet 2\): the file ends "
        r"inside a packet",
    ):
        read(path)


def test_a_named_format_that_does_not_fit_says_which_format_was_expected(
    tmp_path: Path,
) -> None:
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"\xad\x1b\x07garbage-not-a-capture")
    with pytest.raises(CaptureError, match=r"junk\.pcap.*not a pcap or pcapng") as err:
        read(junk, "pcap")
    assert "--format" not in str(err.value)


# -- simulator traces ------------------------------------------------------------------------


def sim_line(t: float, seq: int, kind: str, **fields: object) -> str:
    """One record of a `sipfsm simulate` trace (`sipfsm.sim.trace.TraceRecord.to_json`)."""
    return json.dumps({"t": t, "seq": seq, "kind": kind, "element": "x", **fields})


def test_simulator_trace_sender_at_send_time_receiver_at_each_delivery(tmp_path: Path) -> None:
    path = tmp_path / "sim.jsonl"
    invite, ok = INVITE.decode(), OK.decode()
    path.write_text(
        "\n".join(
            [
                sim_line(0.0, 0, "tu", text="at 0 s: send INVITE"),
                sim_line(0.0, 1, "send", src="alice", dst="bob", raw=invite),
                sim_line(0.0, 2, "lost", src="alice", dst="bob", ref=1),
                sim_line(0.5, 3, "send", src="alice", dst="bob", raw=invite),
                sim_line(0.5, 4, "duplicate", src="alice", dst="bob", ref=3),
                sim_line(0.55, 5, "deliver", src="alice", dst="bob", ref=3, raw=invite),
                sim_line(0.55, 6, "send", src="bob", dst="alice", raw=ok),
                sim_line(0.56, 7, "deliver", src="alice", dst="bob", ref=3, raw=invite),
                sim_line(0.6, 8, "deliver", src="bob", dst="alice", ref=6, raw=ok),
                sim_line(9.0, 9, "timer", timer="K"),
            ]
        )
    )
    for fmt in ("auto", "jsonl", "sim"):
        trace = read(path, fmt)
        assert trace.format == "sim" and trace.elements == ("alice", "bob")
        assert [(r.time, r.src, r.dst, r.raw) for r in trace.records] == [
            (0.0, "alice", "bob", INVITE),  # lost: seen by its sender only
            (0.5, "alice", "bob", INVITE),
            (0.55, "bob", "alice", OK),
        ]
        assert trace.observations == [
            (0, 0.0, SENDER),
            (1, 0.5, SENDER),
            (1, 0.55, RECEIVER),
            (2, 0.55, SENDER),
            (1, 0.56, RECEIVER),  # the network's duplicate
            (2, 0.6, RECEIVER),
        ]
        assert trace.end == 9.0


def test_simulator_trace_transport_from_the_record_else_the_via_rfc3261_18_1_1(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sim.jsonl"
    tcp_invite = INVITE.decode().replace("SIP/2.0/UDP", "SIP/2.0/TCP")
    path.write_text(
        "\n".join(
            [
                sim_line(0.0, 0, "send", src="a", dst="b", raw=tcp_invite),
                sim_line(0.1, 1, "send", src="a", dst="b", raw=INVITE.decode()),
                sim_line(0.2, 2, "send", src="a", dst="b", raw=INVITE.decode(), transport="tcp"),
            ]
        )
    )
    assert [r.transport for r in read(path).records] == ["tcp", "udp", "tcp"]


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (
            [sim_line(0.1, 5, "deliver", src="a", dst="b", ref=4)],
            r"sim\.jsonl: line 1: a deliver record of send 4, which is not before it",
        ),
        (
            [
                sim_line(0.5, 1, "send", src="a", dst="b", raw="x"),
                sim_line(0.1, 2, "deliver", src="a", dst="b", ref=1),
            ],
            r"line 2: a delivery of send 1 to 'b' at 0.1 s, which was sent to 'b' at 0.5 s",
        ),
        ([sim_line(0.5, 1, "send", src="a", dst="b")], r"line 1: 'raw' must be a string"),
        (['{"t": "soon", "seq": 1, "kind": "send"}'], r"line 1: 't' must be a number"),
    ],
)
def test_bad_simulator_trace_is_an_error_with_its_line(
    tmp_path: Path, lines: list[str], error: str
) -> None:
    path = tmp_path / "sim.jsonl"
    path.write_text("\n".join(lines))
    with pytest.raises(CaptureError, match=error):
        read(path)


def test_plain_jsonl_is_not_a_simulator_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(jsonl_line(0.0, "a:1", "b:2", INVITE))
    with pytest.raises(CaptureError, match=r"the file is a jsonl trace, not sim"):
        read(path, "sim")
    assert read(path, "jsonl").observations is None
