"""sipfsm.check.capture: SIPp logs, pcap/pcapng (UDP, TCP, IPv4, IPv6) and JSONL into records;
unusable files are errors that name the file and the position."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import socket
import struct
from pathlib import Path

import dpkt
import pytest
from conftest import FUZZ_EXAMPLES, data_file
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sipfsm.check.capture import (
    FRAME_ERROR,
    FRAME_FRAGMENT,
    FRAME_SIP,
    FRAME_STREAM,
    FRAME_TCP_EMPTY,
    FRAME_UDP_OTHER,
    MAX_LAYERS,
    MAX_LISTED,
    MAX_SNAPLEN,
    MAX_TIME,
    RECEIVER,
    SENDER,
    CaptureError,
    Disorder,
    Trace,
    jsonl_line,
    read,
    read_capture,
    shown,
)
from sipfsm.check.checker import check_files

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


def test_a_sipp_log_cut_inside_its_last_message_keeps_the_others_and_names_the_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cut.log"
    path.write_bytes(sipp_log([("sent", INVITE), ("received", OK)])[:-40])
    first, cut = read(path).records
    assert (first.raw, first.error) == (INVITE, "")
    assert cut.where == "cut.log line 18"
    assert cut.error.startswith("the file ends inside a message")


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
    (bad,) = read(path).records
    assert (bad.where, bad.error) == ("t.jsonl line 1", "'raw' must be a string")


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


def test_a_truncated_pcap_keeps_its_whole_packets_and_names_the_offset_of_the_cut_one(
    tmp_path: Path,
) -> None:
    data = _pcap([_ip4_udp(INVITE), _ip4_udp(OK)])
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-10])
    first, cut = read(path).records
    assert (first.raw, first.error) == (INVITE, "")
    offset = 24 + 16 + len(_ip4_udp(INVITE))
    assert cut.where == f"cut.pcap byte {offset} (packet 2)"
    assert cut.error.startswith("the file ends inside a packet")


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
            r"sim\.jsonl line 1: a deliver record of send 4, which is not before it",
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
def test_a_bad_line_of_a_simulator_trace_is_an_error_record_with_its_line(
    tmp_path: Path, lines: list[str], error: str
) -> None:
    path = tmp_path / "sim.jsonl"
    path.write_text("\n".join(lines))
    trace = read(path)
    bad = [r for r in trace.records if r.error]
    assert len(bad) == 1 and re.search(error, f"{bad[0].where}: {bad[0].error}")
    assert trace.observations is not None
    assert [o for o in trace.observations if trace.records[o[0]].error] == [
        (trace.records.index(bad[0]), bad[0].time, SENDER)  # listed once, as sent
    ]


def test_plain_jsonl_is_not_a_simulator_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(jsonl_line(0.0, "a:1", "b:2", INVITE))
    with pytest.raises(CaptureError, match=r"the file is a jsonl trace, not sim"):
        read(path, "sim")
    assert read(path, "jsonl").observations is None


# -- hostile input (docs/limits.md, "The checker") ---------------------------------------------


def _jsonl(tmp_path: Path, *lines: str | bytes, name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines))
    return path


GOOD = jsonl_line(0.5, "a:1", "b:2", INVITE)


def _errors(path: Path) -> list[tuple[str, str]]:
    return [(r.where, r.error) for r in read(path).records if r.error]


@pytest.mark.parametrize(
    ("t", "reason"),
    [
        ("NaN", "time nan is not a finite number"),
        ("Infinity", "time inf is not a finite number"),
        ("-Infinity", "time -inf is not a finite number"),
        ("1e400", "time inf is not a finite number"),
        ("1e300", "time 1e+300 is not a finite number of seconds within ±1e+10"),
        ("1" + "0" * 400, "a number of 401 digits, more than the limit of 32"),
        ("12345678901234567890", "time 12345678901234567890 is not a finite number"),
        ('"soon"', "'t' must be a number of seconds"),
        ("true", "'t' must be a number of seconds"),
        ("null", "'t' must be a number of seconds"),
    ],
)
def test_a_time_that_is_not_finite_or_absurd_makes_its_line_unparseable(
    tmp_path: Path, t: str, reason: str
) -> None:
    bad = GOOD.replace('"t": 0.5', f'"t": {t}')
    records = read(_jsonl(tmp_path, GOOD, bad, GOOD)).records
    assert [r.error == "" for r in records] == [True, False, True]
    assert records[1].where == "t.jsonl line 2" and reason in records[1].error
    assert records[1].time == 0.5  # the time of the entry before it


def test_deep_json_nesting_is_one_unparseable_line_not_a_recursion_error(tmp_path: Path) -> None:
    deep = '{"t": 1, "src": "a:1", "dst": "b:2", "raw": ' + "[" * 5000 + "]" * 5000 + "}"
    brackets = jsonl_line(0.6, "[::1]:1", "[::1]:2", INVITE.replace(b"x", b"[x]" * 40))
    assert brackets.count("[") > 32  # in strings: text, not nesting
    path = _jsonl(tmp_path, GOOD, deep, brackets)
    assert _errors(path) == [
        ("t.jsonl line 2", "JSON nested 5001 deep, more than the limit of 32 (MAX_JSON_DEPTH)")
    ]
    assert len(read(path).records) == 3


def test_a_truncated_last_line_a_wrongly_typed_field_and_bad_utf8_are_one_line_each(
    tmp_path: Path,
) -> None:
    path = _jsonl(
        tmp_path,
        GOOD,
        GOOD.replace('"src": "a:1"', '"src": 5'),
        GOOD.replace('"src": "a:1"', '"src": "a\\nb"'),
        b'{"t": 1, "raw": "\xff"}',
        GOOD.replace('"raw"', '"transport": "sctp", "raw"'),
        "[1, 2]",
        GOOD + " junk",
        GOOD,
        GOOD[:40],
    )
    assert [(w.split()[-1], e.split(" (")[0]) for w, e in _errors(path)] == [
        ("2", "'src' must be a string of 1 to 300 printable characters without white space"),
        ("3", "'src' must be a string of 1 to 300 printable characters without white space"),
        ("4", "not UTF-8"),
        ("5", "'transport' must be 'udp' or 'tcp'"),
        ("6", "expected a JSON object"),
        ("7", "not JSON"),
        ("9", "not JSON"),
    ]
    assert [r.pos for r in read(path).records] == list(range(1, 10))


def test_an_address_is_judged_by_its_text_whatever_the_lines_before_named(
    tmp_path: Path,
) -> None:
    # (the reader remembers the last good line's src and dst: a bad address, a "-" like
    # its start value, or a time and a bool among numbers, are judged all the same)
    lines = [
        jsonl_line(0.1, "a:1", "b:2", INVITE),
        jsonl_line(0.2, "b:2", "a:1", INVITE),
        jsonl_line(0.3, "a :1", "b:2", INVITE),
        jsonl_line(0.4, "-", "-", INVITE),
        jsonl_line(0.5, "", "-", INVITE),
        GOOD.replace('"t": 0.5', '"t": true'),
        GOOD.replace('"t": 0.5', '"t": 10000000001'),
        GOOD.replace('"t": 0.5', '"t": 10000000000'),
    ]
    assert GOOD.count('"t": 0.5') == 1
    errors = [(w.split()[-1], e.split(" must")[0]) for w, e in _errors(_jsonl(tmp_path, *lines))]
    assert errors == [
        ("3", "'src'"),
        ("5", "'src'"),
        ("6", "'t'"),
        ("7", "time 10000000001 is not a finite number of seconds within ±1e+10 (MAX_TIME)"),
    ]


def test_a_byte_order_mark_at_the_start_of_a_jsonl_file_is_skipped(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, b"\xef\xbb\xbf" + GOOD.encode(), GOOD)
    trace = read(path)
    assert trace.format == "jsonl" and [r.error for r in trace.records] == ["", ""]
    sim = _jsonl(
        tmp_path,
        b"\xef\xbb\xbf" + sim_line(0.0, 1, "send", src="a", dst="b", raw="x").encode(),
        name="sim.jsonl",
    )
    assert read(sim).format == "sim"


def test_records_stay_in_file_order_and_times_that_go_back_are_counted_and_listed(
    tmp_path: Path,
) -> None:
    times = [0.0, 0.5, 0.2, 0.7, 0.1, 0.9]
    path = _jsonl(tmp_path, *(jsonl_line(t, "a:1", "b:2", INVITE) for t in times))
    trace = read(path)
    assert [r.time for r in trace.records] == times  # file order
    assert trace.order == [0, 4, 2, 1, 3, 5]  # time order, for the replay
    assert trace.out_of_order == 2
    assert trace.disorder == [
        Disorder(2, "t.jsonl line 3", 0.2, 0.5),
        Disorder(4, "t.jsonl line 5", 0.1, 0.7),
    ]
    in_order = read(_jsonl(tmp_path, GOOD, GOOD, name="ok.jsonl"))
    assert (in_order.order, in_order.out_of_order, in_order.disorder) == (None, 0, [])


def test_only_the_first_entries_out_of_order_are_listed_and_all_are_counted(
    tmp_path: Path,
) -> None:
    times = [100.0] + [float(i) for i in range(30)]
    trace = read(_jsonl(tmp_path, *(jsonl_line(t, "a:1", "b:2", INVITE) for t in times)))
    assert trace.out_of_order == 30 and len(trace.disorder) == MAX_LISTED


def test_a_simulator_trace_keeps_its_file_order_and_lists_times_that_go_back(
    tmp_path: Path,
) -> None:
    path = _jsonl(
        tmp_path,
        sim_line(0.5, 1, "send", src="alice", dst="bob", raw=INVITE.decode()),
        sim_line(0.2, 2, "send", src="bob", dst="alice", raw=OK.decode()),
        sim_line(0.6, 3, "deliver", src="alice", dst="bob", ref=1),
        name="sim.jsonl",
    )
    trace = read(path)
    assert [r.raw for r in trace.records] == [INVITE, OK]  # numbered in file order
    assert trace.observations == [(1, 0.2, SENDER), (0, 0.5, SENDER), (0, 0.6, RECEIVER)]
    assert (trace.out_of_order, trace.disorder) == (1, [Disorder(1, "sim.jsonl line 2", 0.2, 0.5)])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("(3000 bytes)", "the byte count 3000 runs into the next entry"),
        ("(40 bytes)", "the byte count 40 does not end the message"),
        ("(" + "9" * 40 + " bytes)", "a byte count of 40 digits (MAX_DIGITS is 32)"),
        ("(" + "9" * 5000 + " bytes)", "a byte count of 5000 digits"),
    ],
)
def test_a_sipp_entry_whose_byte_count_is_off_is_one_error_record_and_the_rest_is_read(
    tmp_path: Path, change: str, reason: str
) -> None:
    log = sipp_log([("sent", INVITE), ("received", OK), ("sent", INVITE)])
    log = log.replace(f"({len(INVITE)} bytes)".encode(), change.encode(), 1)
    path = tmp_path / "off.log"
    path.write_bytes(log)
    records = read(path).records
    assert [r.raw for r in records if not r.error] == [OK, INVITE]
    (bad,) = [r for r in records if r.error]
    assert bad.where == "off.log line 4" and bad.error.startswith(reason)
    assert records[0] is bad  # in file order


def test_garbage_and_a_bad_date_between_sipp_entries_are_error_records(tmp_path: Path) -> None:
    log = sipp_log([("sent", INVITE), ("received", OK), ("sent", INVITE)])
    log = log.replace(b"2026-01-01 10:00:01.5", b"2026-13-01 10:00:01.5")
    path = tmp_path / "bad.log"
    path.write_bytes(b"-" * 47 + b"\nrubbish line\n\n" + log + b"trailing\x00junk\n")
    records = read(path).records
    assert [r.error.split(" ")[0:2] for r in records] == [
        ["expected", "'UDP"],  # a dashed line, then no entry
        [""],
        ["bad", "date"],
        # what follows an entry's octets must be the next entry: junk there may as well be
        # the rest of a message whose byte count is too small
        ["the", "byte"],
    ]
    assert [r.raw for r in records if not r.error] == [INVITE]
    assert [r.where for r in records] == [f"bad.log line {n}" for n in (2, 7, 18, 33)]


def test_a_sipp_host_that_is_not_utf8_or_a_very_long_request_line_do_not_stop_the_reader(
    tmp_path: Path,
) -> None:
    weird = INVITE.replace(b"10.0.0.1:5060;branch", b"\xff\xfe:5060;branch")
    long_line = b"INVITE sip:" + b"a" * 200_000 + b" x\r\n\r\n"
    path = tmp_path / "w.log"
    path.write_bytes(sipp_log([("sent", weird), ("received", long_line), ("sent", INVITE)]))
    trace = read(path)
    assert trace.local == "10.0.0.1:5060" and len(trace.records) == 3


def test_a_pcap_record_larger_than_any_snaplen_ends_the_file_in_one_error(tmp_path: Path) -> None:
    data = bytearray(_pcap([_ip4_udp(INVITE), _ip4_udp(OK)]))
    second = 24 + 16 + len(_ip4_udp(INVITE))
    data[second + 8 : second + 12] = (MAX_SNAPLEN + 1).to_bytes(4, "little")
    path = tmp_path / "big.pcap"
    path.write_bytes(bytes(data))
    first, bad = read(path).records
    assert first.raw == INVITE and bad.where == f"big.pcap byte {second} (packet 2)"
    assert "more than any snapshot length" in bad.error


def _pcapng_block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def test_a_bad_pcapng_packet_block_is_an_error_and_the_next_packets_are_read(
    tmp_path: Path,
) -> None:
    good = _pcap([_ip4_udp(INVITE), _ip4_udp(OK)], ng=True)
    shb_len = struct.unpack_from("<I", good, 4)[0]
    idb_len = struct.unpack_from("<I", good, shb_len + 4)[0]
    head, packets = good[: shb_len + idb_len], good[shb_len + idb_len :]
    frame = _ip4_udp(OK)
    undeclared = struct.pack("<IIIII", 7, 0, 0, len(frame), len(frame)) + frame
    far_future = struct.pack("<IIIII", 0, 0xFFFFFFFF, 0, len(frame), len(frame)) + frame
    path = tmp_path / "bad.pcapng"
    path.write_bytes(
        head
        + _pcapng_block(6, b"\x00" * 8)  # too short
        + _pcapng_block(6, undeclared + b"\x00" * (-len(undeclared) % 4))
        + _pcapng_block(6, far_future + b"\x00" * (-len(far_future) % 4))
        + packets
        + b"\x01\x00\x00"  # a block header cut short
    )
    records = read(path).records
    assert [r.raw for r in records if not r.error] == [INVITE, OK]
    assert [(r.where.split(" ", 1)[1], r.error.split(" (")[0]) for r in records if r.error] == [
        (f"byte {len(head)} (packet 1)", "a packet block of 8 octets"),
        (f"byte {len(head) + 20} (packet 2)", "packet of undeclared interface 7"),
        (
            f"byte {len(head) + 20 + 12 + len(undeclared) + (-len(undeclared) % 4)} (packet 3)",
            "time 18446744069414.582 is not a finite number of seconds within ±1e+10",
        ),
        (
            f"byte {len(path.read_bytes()) - 3}",
            "the file ends inside a pcapng block header",
        ),
    ]


def test_a_tcp_message_in_a_capture_is_numbered_by_the_packet_where_it_starts(
    tmp_path: Path,
) -> None:
    isn = 5000
    frames = [
        _ip6_tcp(b"", isn, dpkt.tcp.TH_SYN),
        _ip6_tcp(INVITE[:50], isn + 1),  # packet 2: the INVITE starts
        _ip4_udp(OK),  # packet 3
        _ip6_tcp(INVITE[50:], isn + 1 + 50),  # packet 4: the INVITE is complete
    ]
    path = tmp_path / "mixed.pcap"
    path.write_bytes(_pcap(frames))
    trace = read(path)
    assert [(r.raw, r.where) for r in trace.records] == [
        (INVITE, "mixed.pcap packet 2"),
        (OK, "mixed.pcap packet 3"),
    ]
    assert trace.order is None and trace.out_of_order == 0


@pytest.mark.parametrize("kind", ["fifo", "directory", "missing", "too big", "empty"])
def test_a_file_that_is_wholly_unusable_is_one_capture_error_naming_it(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "trace.jsonl"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "too big":
        path.write_text(GOOD * 10)
    elif kind == "empty":
        path.write_text("")
    expected = {
        "fifo": "open: a FIFO (named pipe), not a regular file",
        "directory": "open: a directory, not a regular file",
        "missing": "open: No such file or directory",
        "too big": "the file is larger than the limit of 100 octets (MAX_FILE_SIZE; raise it "
        "with --max-file-size)",
        "empty": "byte 0: the file is empty",
    }[kind]
    with pytest.raises(CaptureError) as caught:
        read(path, max_size=100)  # (a FIFO with no writer: refused at once, not waited on)
    assert str(caught.value).startswith(str(path)) and str(caught.value).endswith(expected)


def test_a_file_name_with_a_newline_is_shown_escaped_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "a\nb\x1b[31m.jsonl"
    path.write_text("junk")
    with pytest.raises(CaptureError) as caught:
        read(path)
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)
    assert str(caught.value).startswith(repr(str(path)))
    assert shown("plain name.jsonl") == "plain name.jsonl"
    path.write_text(GOOD + "\n" + GOOD[:20])
    (_good, bad) = read(path).records
    assert bad.where == "'a\\nb\\x1b[31m.jsonl' line 2"


# -- fuzzing: the readers raise CaptureError for a whole file, and nothing else ----------------


def _check_trace(path: Path, fmt: str = "auto") -> None:
    """What `read` promises: a `Trace` whose records are usable or carry their error,
    with finite times, in file order; or a `CaptureError` for the whole file."""
    try:
        trace = read(path, fmt)
    except CaptureError as exc:
        assert "\n" not in str(exc)
        return
    for r in trace.records:
        assert math.isfinite(r.time) and abs(r.time) <= MAX_TIME
        assert r.where and "\n" not in r.where and "\n" not in r.error
        if r.error and trace.format == "jsonl":
            assert (r.src, r.dst) == ("", "")
    if trace.format not in ("pcap", "pcapng"):
        positions = [r.pos for r in trace.records]
        assert positions == sorted(positions)
    if trace.order is not None:
        assert sorted(trace.order) == list(range(len(trace.records)))
        times = [trace.records[i].time for i in trace.order]
        assert times == sorted(times)
    assert len(trace.disorder) <= MAX_LISTED and trace.out_of_order >= len(trace.disorder)
    if trace.observations is not None:
        sent = {pos for pos, _t, who in trace.observations if who == SENDER}
        assert sent == set(range(len(trace.records)))  # every record is counted once


_JSON_VALUES = st.one_of(
    st.sampled_from(
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "1e400",
            "-1e309",
            "1" + "0" * 400,
            "9" * 5000,
            "true",
            "null",
            '"x"',
            "[]",
            "{}",
            "[" * 3000 + "]" * 3000,
            "{" * 40,
            '"\\ud800"',
            '"\\u0000\\n\\r"',
            "0.5",
            "-3",
            "4294967296",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: json.dumps(f) if f == f else "NaN"
    ),
    st.text(max_size=20).map(json.dumps),
)
_KEYS = st.sampled_from(["t", "src", "dst", "raw", "transport", "kind", "seq", "ref"])


@st.composite
def _hostile_jsonl(draw: st.DrawFn) -> bytes:
    sim = draw(st.booleans())
    lines: list[bytes] = []
    for n in range(draw(st.integers(1, 8))):
        if sim:
            kind = draw(st.sampled_from(["send", "deliver", "timer"]))
            base = sim_line(n * 0.1, n, kind, src="alice", dst="bob", ref=n - 1, raw="x")
        else:
            base = jsonl_line(n * 0.1, "a:1", "b:2", draw(st.sampled_from([INVITE, OK])))
        edit = draw(st.sampled_from(["keep", "value", "cut", "junk", "drop", "bytes"]))
        if edit == "value":
            key = draw(_KEYS)
            value = f'"{key}": ' + draw(_JSON_VALUES)
            base = re.sub(rf'"{key}": ("(?:[^"\\]|\\.)*"|[^,}}]*)', lambda _m, v=value: v, base)
        line = base.encode()
        if edit == "cut":
            line = line[: draw(st.integers(0, len(line)))]
        elif edit == "junk":
            line += draw(st.binary(max_size=10))
        elif edit == "drop":
            line = draw(st.binary(max_size=30))
        elif edit == "bytes":
            at = draw(st.integers(0, len(line)))
            line = line[:at] + draw(st.binary(min_size=1, max_size=4)) + line[at:]
        lines.append(line)
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + b"\n".join(lines)


@pytest.mark.fuzz
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=_hostile_jsonl(), fmt=st.sampled_from(["auto", "jsonl", "sim"]))
def test_fuzz_hostile_jsonl_lines_are_error_records_never_a_crash(
    tmp_path: Path, data: bytes, fmt: str
) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    _check_trace(path, fmt)


@st.composite
def _hostile_sipp(draw: st.DrawFn) -> bytes:
    entries = [
        (draw(st.sampled_from(["sent", "received"])), draw(st.sampled_from([INVITE, OK])))
        for _ in range(draw(st.integers(1, 5)))
    ]
    log = bytearray(sipp_log(entries))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["count", "date", "insert", "delete", "unexpected"]))
        at = draw(st.integers(0, max(0, len(log) - 1)))
        if kind == "count":
            log = bytearray(
                re.sub(
                    rb"\((\d{1,9}) bytes\)",
                    lambda m: b"(%d bytes)" % max(0, int(m.group(1)) + draw(st.integers(-60, 60))),
                    bytes(log),
                    count=1,
                )
            )
        elif kind == "date":
            log = bytearray(
                bytes(log).replace(
                    b"2026-01-01",
                    draw(
                        st.sampled_from(
                            [b"0001-01-01", b"9999-12-31", b"2026-02-30", b"2026-01-01"]
                        )
                    ),
                    1,
                )
            )
        elif kind == "insert":
            log[at:at] = draw(
                st.sampled_from([b"\n", b"-" * 12 + b"\n", b"\x00", b"\xff", b"9" * 5000])
            )
        elif kind == "delete":
            del log[at : at + draw(st.integers(1, 40))]
        elif kind == "unexpected":
            log += b"-" * 47 + b"\nUnexpected UDP message received:\n\n" + OK + b"\n"
    return bytes(log)


@pytest.mark.fuzz
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=_hostile_sipp())
def test_fuzz_hostile_sipp_logs_are_error_records_never_a_crash(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "fuzz.log"
    path.write_bytes(data)
    _check_trace(path)
    _check_trace(path, "sipp")


_CAPTURES = [
    _pcap([_ip4_udp(INVITE), _ip4_udp(b"\x80\x00rtp"), _ip4_udp(OK)]),
    _pcap([_ip4_udp(INVITE), _ip4_udp(OK)], ng=True),
    _pcap(
        [
            _ip6_tcp(b"", 1000, dpkt.tcp.TH_SYN),
            _ip6_tcp(INVITE[:30], 1001),
            _ip6_tcp(INVITE[30:] + OK, 1031),
        ]
    ),
]


@pytest.mark.fuzz
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@example(base=2, edits=[("insert", 791, b"\x00")])  # an IPv6 header dpkt cannot finish
@given(
    base=st.sampled_from(range(len(_CAPTURES))),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["cut", "flip", "insert", "delete"]),
            st.integers(0, 2000),
            st.binary(min_size=1, max_size=8),
        ),
        max_size=4,
    ),
)
def test_fuzz_truncated_and_garbled_captures_are_error_records_never_a_crash(
    tmp_path: Path, base: int, edits: list[tuple[str, int, bytes]]
) -> None:
    data = bytearray(_CAPTURES[base])
    for kind, at, octets in edits:
        at %= len(data) + 1
        if kind == "cut":
            del data[at:]
        elif kind == "flip":
            data[at : at + len(octets)] = octets
        elif kind == "insert":
            data[at:at] = octets
        else:
            del data[at : at + len(octets)]
        if not data:
            data = bytearray(b"\xd4\xc3\xb2\xa1")
    path = tmp_path / "fuzz.pcap"
    path.write_bytes(bytes(data))
    _check_trace(path)
    _check_trace(path, "pcap")


# -- link layers, tunnels, reassembly and transports (each frame counted once) -----------------


def _frames(trace: Trace) -> int:
    return sum(trace.frames.values())


def _ip4(payload: bytes, p: int = 17, src: str = "10.0.0.1", dst: str = "10.0.0.2") -> dpkt.ip.IP:
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=p, data=payload)
    ip.len = len(ip)
    return ip


def _udp(payload: bytes, sport: int = 5060, dport: int = 5070) -> dpkt.udp.UDP:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = len(udp)
    return udp


def _ether(payload: bytes, kind: int = dpkt.ethernet.ETH_TYPE_IP) -> bytes:
    return b"\x00\x00\x5e\x00\x53\x01\x00\x00\x5e\x00\x53\x02" + struct.pack(">H", kind) + payload


def _pcap_link(frames: list[bytes], linktype: int) -> bytes:
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, linktype=linktype)
    for i, frame in enumerate(frames):
        writer.writepkt(frame, ts=100.0 + i * 0.25)
    return out.getvalue()


def _idb(linktype: int) -> bytes:
    return _pcapng_block(1, struct.pack("<HHI", linktype, 0, 0))


def _epb(interface: int, frame: bytes, micros: int) -> bytes:
    body = struct.pack(
        "<IIIII", interface, micros >> 32, micros & 0xFFFFFFFF, len(frame), len(frame)
    )
    return _pcapng_block(6, body + frame + b"\x00" * (-len(frame) % 4))


UDP_INVITE = bytes(_ip4(_udp(INVITE)))


def test_a_pcapng_of_several_interfaces_reads_each_with_its_link_type(tmp_path: Path) -> None:
    """pcapng (its Interface Description Blocks, one link type each): Ethernet, Linux cooked
    v1 (SLL) and v2 (SLL2), raw IPv4, BSD loopback, and a link type not decoded."""
    sll = struct.pack(">HHH8sH", 0, 1, 6, b"\x00" * 8, 0x0800) + UDP_INVITE
    sll2 = struct.pack(">HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\x00" * 8) + UDP_INVITE
    shb = _pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    data = shb + b"".join(_idb(t) for t in (1, 113, 276, 101, 0, 147))
    frames = [_ether(UDP_INVITE), sll, sll2, UDP_INVITE, struct.pack("<I", 2) + UDP_INVITE]
    for i, frame in enumerate(frames):
        data += _epb(i, frame, 1_000_000 * (i + 1))
    data += _epb(5, b"\x01\x02", 6_000_000) + _epb(5, _ether(UDP_INVITE), 7_000_000)
    path = tmp_path / "many.pcapng"
    path.write_bytes(data)
    trace = read(path)
    good = [r for r in trace.records if not r.error]
    assert [(r.time, r.src, r.raw) for r in good] == [
        (float(i + 1), "10.0.0.1:5060", INVITE) for i in range(5)
    ]
    (bad,) = [r for r in trace.records if r.error]  # link type 147 with SIP in it: not lost
    assert bad.where == "many.pcapng packet 7"
    assert bad.error.endswith("link type 147 is not decoded")
    assert trace.frames == {
        FRAME_SIP: 5,
        "not decoded: link type 147 is not decoded": 1,
        FRAME_ERROR: 1,
    }


@pytest.mark.parametrize(
    ("name", "frame"),
    [
        ("802.1Q", _ether(b"\x00\x05\x08\x00" + UDP_INVITE, 0x8100)),
        ("QinQ", _ether(b"\x00\x05\x81\x00\x00\x07\x08\x00" + UDP_INVITE, 0x88A8)),
        (
            "PPPoE",
            _ether(
                struct.pack(">BBHH", 0x11, 0, 7, len(UDP_INVITE) + 2) + b"\x00\x21" + UDP_INVITE,
                0x8864,
            ),
        ),
        (
            "IP in IP",
            _ether(bytes(_ip4(_ip4(_udp(INVITE)), p=4, src="192.0.2.1", dst="192.0.2.2"))),
        ),
        ("GRE", _ether(bytes(_ip4(b"\x00\x00\x08\x00" + UDP_INVITE, p=47, src="192.0.2.1")))),
        (
            "GRE, transparent Ethernet bridging",
            _ether(bytes(_ip4(b"\x20\x00\x65\x58\x00\x00\x00\x00" + _ether(UDP_INVITE), p=47))),
        ),
        (
            "ERSPAN type II",
            _ether(
                bytes(
                    _ip4(
                        b"\x10\x00\x88\xbe"
                        + b"\x00\x00\x00\x01"
                        + b"\x10\x01\x00\x00\x00\x00\x00\x00"
                        + _ether(UDP_INVITE),
                        p=47,
                    )
                )
            ),
        ),
        (
            "ERSPAN type III",
            _ether(
                bytes(
                    _ip4(
                        b"\x10\x00\x22\xeb"
                        + b"\x00\x00\x00\x01"
                        + b"\x20\x01\x00\x00"
                        + b"\x00" * 8
                        + _ether(UDP_INVITE),
                        p=47,
                    )
                )
            ),
        ),
        (
            "VXLAN",
            _ether(
                bytes(
                    _ip4(
                        _udp(b"\x08\x00\x00\x00\x00\x00\x2a\x00" + _ether(UDP_INVITE), 40000, 4789),
                        src="192.0.2.1",
                    )
                )
            ),
        ),
    ],
)
def test_sip_inside_vlan_tags_pppoe_and_tunnels_is_read_with_its_inner_addresses(
    tmp_path: Path, name: str, frame: bytes
) -> None:
    path = tmp_path / "tunnel.pcap"
    path.write_bytes(_pcap_link([frame], 1))
    trace = read(path)
    assert [(r.src, r.dst, r.raw, r.error) for r in trace.records] == [
        ("10.0.0.1:5060", "10.0.0.2:5070", INVITE, "")
    ], name
    assert trace.frames == {FRAME_SIP: 1}


def test_ipv6_in_ipv4_and_raw_ip_link_types_rfc4213() -> None:
    inner = dpkt.ip6.IP6(
        src=socket.inet_pton(socket.AF_INET6, "2001:db8::1"),
        dst=socket.inet_pton(socket.AF_INET6, "2001:db8::2"),
        nxt=17,
        hlim=64,
        data=_udp(INVITE),
        plen=len(_udp(INVITE)),
    )
    frame = bytes(_ip4(bytes(inner), p=41))
    records = list(read_capture(Path("6in4.pcap"), _pcap_link([frame], 101)))
    assert [(r.src, r.dst) for r in records] == [("[2001:db8::1]:5060", "[2001:db8::2]:5070")]


def test_a_frame_nested_deeper_than_the_layer_limit_is_counted_not_followed(tmp_path: Path) -> None:
    packet: bytes | dpkt.ip.IP = _udp(OK)
    for _ in range(MAX_LAYERS + 2):
        packet = _ip4(bytes(packet) if not isinstance(packet, dpkt.udp.UDP) else packet, p=4)
    path = tmp_path / "deep.pcap"
    path.write_bytes(_pcap_link([bytes(packet)], 101))
    (bad,) = read(path).records  # it carries SIP: an error record, not a silent loss
    assert f"more than {MAX_LAYERS} layers of encapsulation (MAX_LAYERS)" in bad.error


def _fragments4(payload: bytes, size: int, ident: int = 7) -> list[bytes]:
    out = []
    for offset in range(0, len(payload), size):
        part = payload[offset : offset + size]
        more = offset + size < len(payload)
        ip = dpkt.ip.IP(
            src=socket.inet_aton("10.0.0.1"),
            dst=socket.inet_aton("10.0.0.2"),
            p=17,
            id=ident,
            _flags_offset=(offset // 8) | (dpkt.ip.IP_MF if more else 0),
            data=part,
        )
        ip.len = len(ip)
        out.append(_ether(bytes(ip)))
    return out


def _fragments6(payload: bytes, size: int, ident: int = 9) -> list[bytes]:
    out = []
    for offset in range(0, len(payload), size):
        part = payload[offset : offset + size]
        more = offset + size < len(payload)
        frag = struct.pack(">BBHI", 17, 0, offset | int(more), ident)
        head = struct.pack(">IHBB", 6 << 28, len(frag) + len(part), 44, 64)
        addresses = socket.inet_pton(socket.AF_INET6, "2001:db8::1") + socket.inet_pton(
            socket.AF_INET6, "2001:db8::2"
        )
        out.append(_ether(head + addresses + frag + part, dpkt.ethernet.ETH_TYPE_IP6))
    return out


@pytest.mark.parametrize("version", [4, 6])
def test_ip_fragments_are_reassembled_in_any_order_rfc791_rfc8200_4_5(
    tmp_path: Path, version: int
) -> None:
    """A datagram in three fragments, the last one first: one message, numbered by the
    packet of the fragment where it starts (offset 0), as a TCP message is."""
    datagram = bytes(_udp(INVITE))
    parts = (_fragments4 if version == 4 else _fragments6)(datagram, 96)
    assert len(parts) == 3
    path = tmp_path / "frag.pcap"
    path.write_bytes(_pcap_link([parts[2], parts[0], _ether(bytes(_ip4(_udp(OK)))), parts[1]], 1))
    trace = read(path)
    assert [(r.raw, r.where, r.error) for r in trace.records] == [
        (INVITE, "frag.pcap packet 2", ""),
        (OK, "frag.pcap packet 3", ""),
    ]
    assert trace.frames == {FRAME_FRAGMENT: 2, FRAME_SIP: 2}


def test_a_datagram_whose_fragments_never_all_come_is_an_error_at_its_first(tmp_path: Path) -> None:
    parts = _fragments6(bytes(_udp(INVITE)), 96)
    path = tmp_path / "lost.pcap"
    path.write_bytes(_pcap_link(parts[:2], 1))
    trace = read(path)
    (bad,) = trace.records
    assert bad.where == "lost.pcap packet 1" and "misses a fragment" in bad.error
    assert trace.frames == {FRAME_FRAGMENT: 2}


def test_several_messages_in_one_tcp_segment_and_one_message_over_several(tmp_path: Path) -> None:
    """RFC 3261 §18.3: the stream is cut by Content-Length, whatever the segments are."""
    stream = INVITE + OK + INVITE.replace(b"CSeq: 1", b"CSeq: 2")
    cut = len(INVITE) + len(OK) + 40
    isn = 77
    frames = [
        _ip6_tcp(b"", isn, dpkt.tcp.TH_SYN),
        _ip6_tcp(stream[:cut], isn + 1),  # two whole messages and the start of a third
        _ip6_tcp(b"", isn + 1 + cut),  # a bare ACK
        _ip6_tcp(stream[cut:], isn + 1 + cut),
    ]
    path = tmp_path / "segments.pcap"
    path.write_bytes(_pcap(frames))
    trace = read(path)
    assert [(r.raw[:20], r.where) for r in trace.records] == [
        (INVITE[:20], "segments.pcap packet 2"),
        (OK[:20], "segments.pcap packet 2"),
        (INVITE[:20], "segments.pcap packet 2"),
    ]
    assert trace.frames == {FRAME_TCP_EMPTY: 2, FRAME_STREAM: 2}


def _hep3(payload: bytes) -> bytes:
    def chunk(kind: int, value: bytes) -> bytes:
        return struct.pack(">HHH", 0, kind, 6 + len(value)) + value

    body = b"".join(
        [
            chunk(1, b"\x02"),
            chunk(2, b"\x11"),
            chunk(3, socket.inet_aton("192.0.2.10")),
            chunk(4, socket.inet_aton("192.0.2.20")),
            chunk(7, struct.pack(">H", 5062)),
            chunk(8, struct.pack(">H", 5064)),
            chunk(9, struct.pack(">I", 1_700_000_000)),
            chunk(10, struct.pack(">I", 250_000)),
            chunk(11, b"\x01"),
            chunk(12, struct.pack(">I", 2001)),
            chunk(15, payload),
        ]
    )
    return b"HEP3" + struct.pack(">H", 6 + len(body)) + body


def test_hep_packets_give_the_sip_message_its_own_addresses_and_time() -> None:
    """HEPv3 (chunks) and HEPv2 (a fixed header, the time little-endian) as capture agents
    send them to HOMER on UDP 9060: the message is the one the agent saw, between the
    addresses and at the time it reports."""
    hep2 = (
        struct.pack(">BBBBHH", 2, 16, 2, 17, 5066, 5068)
        + socket.inet_aton("192.0.2.30")
        + socket.inet_aton("192.0.2.40")
        + struct.pack("<IIHH", 1_700_000_100, 500_000, 1, 0)
        + OK
    )
    rtcp = _hep3(b"\x80\xc8\x00\x06").replace(b"\x00\x0b\x00\x07\x01", b"\x00\x0b\x00\x07\x05")
    frames = [bytes(_ip4(_udp(p, 40000, 9060))) for p in (_hep3(INVITE), hep2, rtcp)]
    trace = read_capture(Path("hep.pcap"), _pcap_link(frames, 101))
    assert [(r.time, r.src, r.dst, r.transport, r.raw) for r in trace] == [
        (1_700_000_000.25, "192.0.2.10:5062", "192.0.2.20:5064", "udp", INVITE),
        (1_700_000_100.5, "192.0.2.30:5066", "192.0.2.40:5068", "udp", OK),
    ]


def _ws(payload: bytes, opcode: int = 1, fin: bool = True, mask: bytes = b"") -> bytes:
    size = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    length = bytes([size]) if size < 126 else b"\x7e" + struct.pack(">H", size)
    if mask:
        length = bytes([length[0] | 0x80]) + length[1:]
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + length + mask + payload


def test_sip_over_websocket_one_message_per_data_message_rfc7118_5(tmp_path: Path) -> None:
    """After the HTTP upgrade (RFC 6455 §4), each WebSocket data message is one SIP message
    (RFC 7118 §5): masked from the client, in one frame or continued over several, with
    control frames between; the HTTP exchange and the pings are not messages."""
    upgrade = (
        b"GET /ws HTTP/1.1\r\nHost: proxy.example.com\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    client = (
        upgrade
        + _ws(INVITE[:60], 1, False, b"\x01\x02\x03\x04")
        + _ws(b"", 9, True, b"\x05\x06\x07\x08")  # a ping between two fragments
        + _ws(INVITE[60:], 0, True, b"\x09\x0a\x0b\x0c")
    )
    server = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Protocol: sip\r\n\r\n" + _ws(OK, 2)
    )

    def tcp(payload: bytes, seq: int, reply: bool = False) -> bytes:
        segment = dpkt.tcp.TCP(
            sport=8080 if reply else 40000,
            dport=40000 if reply else 8080,
            seq=seq,
            flags=dpkt.tcp.TH_ACK,
            data=payload,
        )
        ip = _ip4(
            segment,
            p=6,
            src="10.0.0.2" if reply else "10.0.0.1",
            dst="10.0.0.1" if reply else "10.0.0.2",
        )
        return _ether(bytes(ip))

    cut = len(upgrade) + 30  # the first WebSocket frame starts in packet 1
    frames = [tcp(client[:cut], 1), tcp(client[cut:], 1 + cut), tcp(server, 1, True)]
    path = tmp_path / "ws.pcap"
    path.write_bytes(_pcap_link(frames, 1))
    trace = read(path)
    assert [(r.src, r.transport, r.raw, r.where) for r in trace.records] == [
        ("10.0.0.1:40000", "tcp", INVITE, "ws.pcap packet 1"),
        ("10.0.0.2:8080", "tcp", OK, "ws.pcap packet 3"),
    ]


def test_sip_over_sctp_one_message_per_user_message_rfc4168_5(tmp_path: Path) -> None:
    """Each SCTP user message is one SIP message; one sent in two DATA chunks (B, then E
    flag) is joined; chunks of other types are not messages."""

    def data_chunk(payload: bytes, flags: int, tsn: int) -> bytes:
        value = struct.pack(">IHHI", tsn, 0, 0, 0) + payload
        size = 4 + len(value)
        return struct.pack(">BBH", 0, flags, size) + value + b"\x00" * (-size % 4)

    def sctp(*chunks: bytes) -> bytes:
        return _ether(bytes(_ip4(struct.pack(">HHII", 5060, 5060, 1, 0) + b"".join(chunks), p=132)))

    frames = [
        sctp(data_chunk(INVITE, 3, 1)),
        sctp(data_chunk(OK[:50], 2, 2)),
        sctp(struct.pack(">BBHI", 3, 0, 8, 1)),  # a SACK
        sctp(data_chunk(OK[50:], 1, 3)),
    ]
    path = tmp_path / "sctp.pcap"
    path.write_bytes(_pcap_link(frames, 1))
    trace = read(path)
    assert [(r.transport, r.raw, r.where) for r in trace.records] == [
        ("tcp", INVITE, "sctp.pcap packet 1"),
        ("tcp", OK, "sctp.pcap packet 2"),
    ]
    assert _frames(trace) == 4


def test_every_frame_is_counted_once_and_a_frame_with_sip_is_never_dropped_silently(
    tmp_path: Path,
) -> None:
    """frames read = frames with SIP + frames without SIP (each with its reason) + error
    records: an ARP, a DNS datagram, a TCP ACK, an ICMP packet, a frame cut short."""
    arp = _ether(b"\x00\x01\x08\x00\x06\x04\x00\x01" + b"\x00" * 20, 0x0806)
    dns = _ether(bytes(_ip4(_udp(b"\x12\x34\x01\x00", 5353, 53))))
    ack = _ip6_tcp(b"", 1)
    icmp = _ether(bytes(_ip4(b"\x08\x00\x00\x00\x00\x01\x00\x01", p=1)))
    data = _pcap([_ip4_udp(INVITE), arp, dns, ack, icmp, _ip4_udp(OK)])
    path = tmp_path / "mixed.pcap"
    path.write_bytes(data[:-10])
    trace = read(path)
    assert trace.frames == {
        FRAME_SIP: 1,
        "not decoded: ARP carries no IP packet": 1,
        FRAME_UDP_OTHER: 1,
        FRAME_TCP_EMPTY: 1,
        "not decoded: IP protocol 1: not UDP, TCP, SCTP or a tunnel": 1,
        FRAME_ERROR: 1,
    }
    assert _frames(trace) == 6 and [bool(r.error) for r in trace.records] == [False, True]


def _snoop(frames: list[bytes]) -> bytes:
    """A Sun snoop capture (RFC 1761) of Ethernet frames."""
    out = b"snoop\0\0\0" + struct.pack(">II", 2, 4)
    for i, frame in enumerate(frames):
        pad = b"\0" * (-len(frame) % 4)
        out += struct.pack(
            ">IIIIII", len(frame), len(frame), 24 + len(frame) + len(pad), 0, 100 + i, 0
        )
        out += frame + pad
    return out


@pytest.mark.skipif(shutil.which("editcap") is None, reason="Wireshark's editcap is not installed")
def test_a_capture_in_another_format_wireshark_reads_is_converted_by_editcap(
    tmp_path: Path,
) -> None:
    path = tmp_path / "call.snoop"
    path.write_bytes(_snoop([_ip4_udp(INVITE), _ip4_udp(OK)]))
    trace = read(path)
    assert trace.format == "pcapng"
    assert [(r.time, r.raw) for r in trace.records] == [(100.0, INVITE), (101.0, OK)]
    assert read(path, "pcap").format == "pcapng"  # --format pcap takes it too
    with pytest.raises(CaptureError, match="not a SIPp message log"):
        read(path, "sipp")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01not a capture in any format")
    with pytest.raises(CaptureError, match=r"junk\.bin: byte 0: not a pcap"):
        read(junk)


# -- a corpus of public captures (tests/data/README.md gives each one's source and licence) ----

#: (file, its packets, the SIP messages tshark's SIP dissector finds in it: Wireshark 4,
#: ``tshark -r FILE -Y sip``, counted when the file was added)
CORPUS: list[tuple[str, int, int]] = [
    ("heplify-erspan_sip_ipv4_udp.pcapng", 140, 140),
    ("heplify-sip_ipv4_tcp.pcap", 84, 7),
    ("heplify-sip_ipv4_tcp_retrans.pcap", 196, 8),
    ("heplify-sip_ipv6_udp.pcap", 6, 6),
    ("ndpi-gre.pcapng", 1, 1),
    ("ndpi-sip_hello.pcapng", 30, 8),
    ("pcpp-sdp.pcap", 1, 1),
    ("pcpp-sip_non_default_port.pcap", 2, 2),
    ("pcpp-sip_not_sdp.pcap", 1, 1),
    ("pcpp-sip_reqs.pcap", 4, 4),
    ("pcpp-sip_resp.pcap", 7, 7),
    ("sngrep-ipip.pcap", 4, 4),
    ("sngrep-ipv6frag.pcap", 34, 32),
    ("suricata-sip-body-large.pcap", 16, 2),
    ("suricata-sip-compact-form.pcap", 1, 1),
    ("suricata-sip-header-multi-value.pcap", 1, 1),
    ("suricata-sip-options-method.pcap", 2, 2),
    ("suricata-sip-pattern-matching.pcap", 2, 2),
    ("suricata-sip-sdp.pcap", 2, 2),
    ("suricata-sip-tcp-method.pcap", 11, 2),
    ("suricata-sip-tcp-pattern-matching.pcap", 7, 2),
    ("zeek-invalid-content-length.pcap", 2, 2),
    ("zeek-sip-junk-before-request.pcap", 2, 1),
    ("zeek-sip-long-request-response-paths.pcap", 2, 2),
    ("zeek-wireshark.pcap", 81, 81),
]


@pytest.mark.parametrize(("name", "packets", "sip"), CORPUS)
def test_a_public_capture_is_read_whole_and_checked_to_the_end(
    name: str, packets: int, sip: int
) -> None:
    """Every packet is counted once (a SIP message, stream data, a fragment, not SIP with
    its reason, or an error record at its place); every SIP message tshark sees is a
    message here (read, or unparseable with its reason); and the checker judges the file
    to its end. No verdict is asserted: docs/checker.md ("The corpus") judges each one."""
    path = data_file(f"captures/{name}")
    trace = read(path)
    assert sum(trace.frames.values()) == packets
    assert len(trace.records) == sip
    assert all(r.where.startswith(f"{name} ") for r in trace.records)
    report = check_files([path])
    assert report.messages == sip and report.exit_status in (0, 1, 2)


def test_the_corpus_is_every_capture_of_its_folder_and_each_has_its_source_and_licence() -> None:
    folder = data_file("README.md").parent / "captures"
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    assert files == sorted(name for name, _p, _s in CORPUS)
    readme = data_file("README.md").read_text()
    for name in files:
        (row,) = [line for line in readme.splitlines() if line.startswith(f"| `captures/{name}` |")]
        assert "https://github.com/" in row and row.count("|") >= 5


def test_what_else_sipp_writes_into_its_message_log_is_counted_never_fatal(tmp_path: Path) -> None:
    """SIPp 3.6's -trace_msg log holds more than messages (src/socket.cpp, src/call.cpp):
    socket congestion at the top of a TCP client's log, the markers of its simulated loss
    (-lost; some without a line end, the next entry's dashes on the same line), a message
    logged again for a call that is over, and a message it failed to send. Each is counted
    in `Trace.notes`; none is fatal, none is a message; a message SIPp says it discarded
    is not one of its replay."""
    bye = INVITE.replace(b"INVITE sip:b@x", b"BYE sip:b@x").replace(b"1 INVITE", b"2 BYE")

    def entry(second: int, head: str, raw: bytes) -> bytes:
        return ("-" * 47 + f" 2026-01-01 10:00:0{second}.000000\n{head}\n\n").encode() + raw + b"\n"

    log = (
        b"Problem EAGAIN on socket  5 and poll_idx  is 2 \n"
        + entry(0, f"UDP message sent [{len(INVITE)}] bytes:", INVITE)
        + b"UDP message voluntary lost (while sending)."
        + entry(1, f"UDP message received [{len(OK)}] bytes:", OK)
        + b"UDP message lost (recv)."
        + entry(2, f"UDP message received [{len(OK)}] bytes:", OK)
        + b"-----------------------------------------------\n"
        + b"Dead call c received a UDP message:\n\n"
        + OK
        + b"\n"
        + entry(3, "Error sending UDP message:", bye)
        + entry(4, f"UDP message sent [{len(bye)}] bytes:", bye)
    )
    path = tmp_path / "uac_messages.log"
    path.write_bytes(log)
    trace = read(path)
    assert [(r.src, r.raw, r.where, r.error) for r in trace.records] == [
        ("10.0.0.1:5060", INVITE, "uac_messages.log line 5", ""),
        ("peer", OK, "uac_messages.log line 31", ""),
        ("10.0.0.1:5060", bye, "uac_messages.log line 69", ""),
    ]
    assert trace.notes == {
        "SIPp: socket congested (EAGAIN / EWOULDBLOCK)": 1,
        "SIPp -lost: a message not sent": 1,
        "SIPp -lost: a received message discarded (not replayed)": 1,
        "SIPp: a message it failed to send (not sent)": 1,
    }
