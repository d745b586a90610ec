"""Reading traces: SIPp message logs, pcap and pcapng captures, and sipfsm's JSONL.

Every reader turns a file into `Record`\\ s -- one per SIP message, with its time, sender,
receiver, transport, raw octets and where in the file it was found -- and raises
`CaptureError` (naming the file and the position) when the file itself is unusable:
garbage, or cut short. A SIP message that is merely invalid is *not* a file error: it
becomes a record like any other, and the checker lists it as unparseable.

Formats (docs/checker.md gives the details):

* ``sipp``: the message log SIPp writes with ``-trace_msg``. It names no addresses, so the
  logging instance is one endpoint (its address inferred from its own Via, see
  `sipp_local_address`) and everything it received comes from ``peer``.
* ``pcap`` / ``pcapng``: captures of UDP and TCP over IPv4 and IPv6 (link types Ethernet,
  Linux cooked v1/v2, raw IP, BSD loopback). Packet layers are decoded with ``dpkt``; the
  file framing is read here so that a truncated file is reported at its exact offset.
  IPv4 fragments are reassembled; TCP streams are reassembled in sequence order and cut
  into messages by their Content-Length (RFC 3261 §18.3).
* ``jsonl``: one message per line, ``{"t": seconds, "src": "HOST:PORT", "dst":
  "HOST:PORT", "raw": "SIP text"}`` with an optional ``"transport": "udp"|"tcp"``
  (`jsonl_line` writes one).
* ``sim``: the trace ``sipfsm simulate`` writes (`sipfsm.sim.trace`), also JSONL: one
  record per event. Each ``send`` record is one message (its time the send time); each
  ``deliver`` record (``ref``: the ``seq`` of its send) is one arrival of it at ``dst``.
  `Trace.observations` keeps the two apart, in the trace's order, so that the checker
  replays the sender at the send time and the receiver at the delivery time; a lost
  message has no arrival, a duplicated one two. Read as ``jsonl`` too: the first record
  tells the two JSONL forms apart.
"""

from __future__ import annotations

import io
import ipaddress
import itertools
import json
import operator
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, NamedTuple, cast

import dpkt

from sipfsm.check.wire import WireError, content_length, find_header_end, looks_like_sip
from sipfsm.values.errors import SipFsmError

FORMATS: Final[tuple[str, ...]] = ("auto", "sipp", "pcap", "jsonl", "sim")

#: Who sees a message at an observation of `Trace.observations`.
SENDER: Final = 1
RECEIVER: Final = 2


class CaptureError(SipFsmError):
    """A trace file that cannot be read: the message names the file and the position."""

    def __init__(self, path: Path | str, position: str, what: str) -> None:
        self.path = str(path)
        self.position = position
        self.what = what
        super().__init__(f"{path}: {position}: {what}")


class Record(NamedTuple):
    """One SIP message as it was seen: ``time`` in seconds, ``src`` / ``dst`` as
    ``HOST:PORT`` (IPv6 hosts in brackets), ``transport`` ``udp`` or ``tcp`` (reliable),
    the raw octets, and ``where`` it was found. ``error`` is set when the message could not
    even be framed (a TCP stream without Content-Length, cut short ...).

    An immutable value like the frozen dataclasses elsewhere, but a named tuple (as
    `sipfsm.elements.matching.TransactionKey`): a trace makes one per message, and a tuple is built
    in a third of the time of a frozen dataclass (measured: 0.19 against 0.57 µs)."""

    time: float
    src: str
    dst: str
    transport: str
    raw: bytes
    where: str
    error: str = ""


@dataclass(slots=True)
class Trace:
    """The records of one file, in time order, and what the reader learnt about it."""

    path: Path
    format: str
    records: list[Record] = field(default_factory=list)
    #: For a SIPp log: the logging endpoint, the only viewpoint the log allows.
    local: str | None = None
    #: For a simulator trace: who saw which record when, in replay order, as
    #: ``(position in records, time, SENDER or RECEIVER)``. ``None``: every record was seen
    #: by its sender and its receiver at once, at its time (one capture point).
    observations: list[tuple[int, float, int]] | None = None
    #: For a simulator trace: its element names, which are its endpoints' names as they are.
    elements: tuple[str, ...] = ()
    #: The end of what the trace shows, if later than its last message (a simulator trace
    #: records timers and state changes after the last message).
    end: float | None = None


# -- detection ---------------------------------------------------------------------------------

_PCAP_MAGICS: Final = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_PCAPNG_MAGIC: Final = b"\x0a\x0d\x0d\x0a"
_SIPP_SEPARATOR: Final = re.compile(
    rb"-{10,}(?: (\d{4}-\d\d-\d\d)[ \t]+(\d\d:\d\d:\d\d(?:\.\d+)?))?[ \t]*\r?\n"
)
_SIPP_NEXT: Final = re.compile(rb"\n-{10,}")


def detect(path: Path, head: bytes) -> str:
    """The format of a file from its first octets: pcap, pcapng, sipp or jsonl."""
    if not head:
        raise CaptureError(path, "byte 0", "the file is empty")
    if head[:4] in _PCAP_MAGICS:
        return "pcap"
    if head[:4] == _PCAPNG_MAGIC:
        return "pcapng"
    if _SIPP_SEPARATOR.match(head):
        return "sipp"
    if head.lstrip()[:1] == b"{":
        return "jsonl"
    raise CaptureError(
        path,
        "byte 0",
        f"not a pcap, pcapng, SIPp message log or JSONL trace (starts with "
        f"{head[:16]!r}); name the format with --format",
    )


_TIME: Final = operator.attrgetter("time")


def read(path: Path | str, fmt: str = "auto") -> Trace:
    """Read one trace file. ``fmt`` is ``auto`` (detect), ``sipp``, ``pcap`` (pcap or
    pcapng) or ``jsonl``. Raises `CaptureError` for an unusable file."""
    path = Path(path)
    if fmt not in FORMATS:
        raise CaptureError(path, "format", f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CaptureError(path, "open", exc.strerror or str(exc)) from None
    try:
        found = detect(path, data[:4096])
    except CaptureError:
        if fmt == "auto" or not data:
            raise
        label = {
            "sipp": "SIPp message log",
            "jsonl": "JSONL trace",
            "sim": "simulator trace",
        }.get(fmt, "pcap or pcapng")
        raise CaptureError(path, "byte 0", f"not a {label} (starts with {data[:16]!r})") from None
    if found == "jsonl" and _is_sim(data):
        found = "sim"
    if fmt != "auto":
        wanted = {"pcap": ("pcap", "pcapng"), "jsonl": ("jsonl", "sim")}.get(fmt, (fmt,))
        if found not in wanted:
            raise CaptureError(path, "byte 0", f"the file is a {found} trace, not {fmt}")
    if found == "sipp":
        trace = read_sipp(path, data)
    elif found in ("pcap", "pcapng"):
        trace = Trace(path, found, list(read_capture(path, data)))
    elif found == "sim":
        return read_sim(path, data)  # in time order already (its observations say so)
    else:
        trace = Trace(path, "jsonl", _jsonl_records(path, data))
    trace.records.sort(key=_TIME)  # stable: file order among equal times
    return trace


# -- SIPp -trace_msg logs ------------------------------------------------------------------

_SIPP_HEADER: Final = re.compile(
    rb"(UDP|TCP|TLS|SCTP|WSS?) message (sent|received) (?:\((\d+) bytes\)|\[(\d+)\] bytes) ?:"
    rb"\r?\n"
)
_SIPP_UNEXPECTED: Final = re.compile(rb"Unexpected (UDP|TCP|TLS|SCTP|WSS?) message received:\r?\n")


def read_sipp(path: Path, data: bytes) -> Trace:
    """A SIPp ``-trace_msg`` log: entries of a dashed line with the local time, a line
    ``UDP message sent (N bytes):`` or ``UDP message received [N] bytes :``, an empty
    line, then the N octets of the message. SIPp also logs ``Unexpected UDP message
    received:`` entries, with no time and no length: they take the time of the entry
    before and run to the next dashed line."""
    entries: list[tuple[float, str, bool, bytes, str]] = []
    pos = 0
    line = 1
    size = len(data)
    when = 0.0
    while pos < size:
        if data[pos : pos + 1] in (b"\n", b"\r"):  # blank lines between entries
            pos += 1
            line += data[pos - 1 : pos] == b"\n"
            continue
        sep = _SIPP_SEPARATOR.match(data, pos)
        if sep is None:
            raise CaptureError(
                path,
                f"line {line}",
                f"expected a SIPp entry ('----- DATE TIME'), found {data[pos : pos + 30]!r}",
            )
        if sep.group(1) is not None:
            when = _sipp_time(path, line, sep.group(1), sep.group(2))
        line += 1
        head = _SIPP_HEADER.match(data, sep.end())
        unexpected = _SIPP_UNEXPECTED.match(data, sep.end())
        if head is None and unexpected is None:
            raise CaptureError(
                path,
                f"line {line}",
                "expected 'UDP message sent (N bytes):' "
                f"or 'received [N] bytes :', found "
                f"{data[sep.end() : sep.end() + 40]!r}",
            )
        line += 1
        start = (head or unexpected).end()  # type: ignore[union-attr]
        if data[start : start + 1] == b"\r":
            start += 1
        if data[start : start + 1] != b"\n":
            raise CaptureError(path, f"line {line}", "expected an empty line before the message")
        start += 1
        line += 1
        if head is not None:
            transport, sent = head.group(1), head.group(2) == b"sent"
            length = int(head.group(3) or head.group(4))
            raw = data[start : start + length]
            if len(raw) < length:
                raise CaptureError(
                    path,
                    f"line {line}",
                    f"the file ends inside a message: {len(raw)} of the {length} octets announced",
                )
        else:
            assert unexpected is not None
            transport, sent = unexpected.group(1), False
            following = _SIPP_NEXT.search(data, start)
            length = (following.start() + 1 if following else size) - start
            raw = data[start : start + length]
            raw = raw[:-1] if raw.endswith((b"\r\n\n", b"\n\n")) else raw
        duplicate = head is None and entries and entries[-1][3] == raw
        if not duplicate:  # SIPp logs an unexpected message twice: received, then unexpected
            entries.append(
                (when, transport.decode().lower(), sent, raw, f"{path.name} line {line}")
            )
        pos = start + length
        line += data.count(b"\n", start, pos)
    local = sipp_local_address((sent, raw) for _w, _t, sent, raw, _p in entries) or "sipp:0"
    trace = Trace(path, "sipp", local=local)
    for when, transport, sent, raw, where in entries:
        reliable = "udp" if transport == "udp" else "tcp"
        src, dst = (local, "peer") if sent else ("peer", local)
        trace.records.append(Record(when, src, dst, reliable, raw, where))
    return trace


def _sipp_time(path: Path, line: int, day: bytes, clock: bytes) -> float:
    try:
        return datetime.fromisoformat(f"{day.decode()} {clock.decode()}").timestamp()
    except ValueError:
        raise CaptureError(path, f"line {line}", f"bad date {day!r} {clock!r}") from None


_VIA_SENT_BY: Final = re.compile(
    rb"^(?:Via|v)[ \t]*:[ \t]*SIP/2\.0/[A-Za-z]+[ \t]+(\[[^\]]+\]|[^\s;:,]+)(?::(\d+))?",
    re.IGNORECASE | re.MULTILINE,
)
_CONTACT_HOST: Final = re.compile(
    rb"^(?:Contact|m)[ \t]*:[^\r\n<]*<?sips?:(?:[^@>\s]*@)?(\[[^\]]+\]|[^\s;:>]+)(?::(\d+))?",
    re.IGNORECASE | re.MULTILINE,
)
_REQUEST_URI_HOST: Final = re.compile(
    rb"^[!-~]+ sips?:(?:[^@\s]*@)?(\[[^\]]+\]|[^\s;:?]+)(?::(\d+))?[^\s]* SIP/2\.0\r?\n"
)


def sipp_local_address(entries: Iterable[tuple[bool, bytes]]) -> str | None:
    """The address of a SIPp instance, from what it logged: the sent-by of the top Via
    of a request it sent (RFC 3261 §18.1.1: the transport puts its own address there),
    else the Contact of a response it sent, else the Request-URI of a request it got."""
    logged = list(entries)
    for sent, raw in logged:
        if sent and raw[:8] != b"SIP/2.0 ":
            m = _VIA_SENT_BY.search(raw)
            if m is not None:
                return _hostport(m)
    for sent, raw in logged:
        if sent and raw[:8] == b"SIP/2.0 ":
            m = _CONTACT_HOST.search(raw)
            if m is not None:
                return _hostport(m)
    for sent, raw in logged:
        if not sent:
            m = _REQUEST_URI_HOST.match(raw)
            if m is not None:
                return _hostport(m)
    return None


def _hostport(m: re.Match[bytes]) -> str:
    return f"{m.group(1).decode().lower()}:{(m.group(2) or b'5060').decode()}"


# -- JSONL -------------------------------------------------------------------------------------


def jsonl_line(t: float, src: str, dst: str, raw: bytes | str, transport: str = "udp") -> str:
    """One line of sipfsm's JSONL trace format (no newline). Octets that are not UTF-8
    are written as Python's surrogate escapes, which `read_jsonl` turns back."""
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "surrogateescape")
    item: dict[str, Any] = {"t": t, "src": src, "dst": dst, "raw": text}
    if transport != "udp":
        item["transport"] = transport
    return json.dumps(item, ensure_ascii=True)


_JSON: Final = json.JSONDecoder()


def _text_lines(path: Path, data: bytes) -> list[str]:
    """The lines of a JSONL file as text (UTF-8; the first line that is not says so)."""
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        pass
    lines = []
    for number, line in enumerate(data.split(b"\n"), 1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise CaptureError(path, f"line {number}", f"not JSON ({exc})") from None
    return lines


def _json_object(path: Path, number: int, line: str) -> dict[str, Any]:
    """One line of a JSONL file as a JSON object (else a `CaptureError` naming the line)."""
    try:
        item, end = _JSON.raw_decode(line, len(line) - len(line.lstrip()))
    except json.JSONDecodeError as exc:
        raise CaptureError(path, f"line {number}", f"not JSON ({exc})") from None
    if end != len(line) and not line[end:].isspace():
        raise CaptureError(path, f"line {number}", f"not JSON (extra data at column {end + 1})")
    if type(item) is not dict:
        raise CaptureError(path, f"line {number}", "expected a JSON object")
    return cast(dict[str, Any], item)


def read_jsonl(path: Path, data: bytes) -> Iterator[Record]:
    """The records of a JSONL trace (`jsonl_line`), in file order."""
    return iter(_jsonl_records(path, data))


def _jsonl_records(path: Path, data: bytes) -> list[Record]:
    decode = _JSON.raw_decode  # `_json_object`, inlined: this runs for every message
    name = path.name
    records: list[Record] = []
    add = records.append
    # line by line, each decoded on its own: no copy of the whole file as text (a big
    # buffer is fresh memory the system must hand over page by page; a line's is reused)
    for number, octets in enumerate(io.BytesIO(data), 1):
        try:
            line = octets.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CaptureError(path, f"line {number}", f"not JSON ({exc})") from None
        if line.isspace():
            continue
        try:
            item, end = decode(line, 0 if line[0] == "{" else len(line) - len(line.lstrip()))
        except json.JSONDecodeError as exc:
            raise CaptureError(path, f"line {number}", f"not JSON ({exc})") from None
        rest = len(line) - end  # (most often the line's own end: nothing to look at)
        if rest and not (rest == 1 and line[end] == "\n") and not line[end:].isspace():
            raise CaptureError(path, f"line {number}", f"not JSON (extra data at column {end + 1})")
        if type(item) is not dict:
            raise CaptureError(path, f"line {number}", "expected a JSON object")
        t = item.get("t")
        src = item.get("src")
        dst = item.get("dst")
        raw = item.get("raw")
        transport = item.get("transport", "udp")
        if type(t) is not float and (not isinstance(t, (int, float)) or isinstance(t, bool)):
            raise CaptureError(path, f"line {number}", "'t' must be a number of seconds")
        if type(src) is not str or type(dst) is not str or type(raw) is not str:
            for key, value in (("src", src), ("dst", dst), ("raw", raw)):
                if not isinstance(value, str):
                    raise CaptureError(path, f"line {number}", f"{key!r} must be a string")
        if transport != "udp" and transport != "tcp":
            raise CaptureError(path, f"line {number}", "'transport' must be 'udp' or 'tcp'")
        assert isinstance(raw, str) and isinstance(src, str) and isinstance(dst, str)
        try:
            octets = raw.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            octets = raw.encode("utf-8", "surrogatepass")
        add(Record(float(t), src, dst, transport, octets, f"{name} line {number}"))
    return records


# -- simulator traces ----------------------------------------------------------------------


def _is_sim(data: bytes) -> bool:
    """Whether a JSONL file is a simulator trace: its first record has ``kind`` and ``seq``
    (a message of the plain JSONL form has ``raw``, ``src`` and ``dst`` instead)."""
    for line in data[:65536].split(b"\n"):
        if not line.strip():
            continue
        try:
            item, _end = _JSON.raw_decode(line.decode("utf-8").strip())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return False  # the JSONL reader says what is wrong with it
        return type(item) is dict and "kind" in item and "seq" in item
    return False


_VIA_TRANSPORT: Final = re.compile(
    r"^(?:Via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*([A-Za-z]+)",
    re.IGNORECASE | re.MULTILINE,
)


def _via_transport(raw: str) -> str:
    """``udp`` or ``tcp`` (any reliable transport) from the sent-protocol of a message's top
    Via (RFC 3261 §18.1.1, §20.42: the transport the hop used); ``udp`` when it has none."""
    m = _VIA_TRANSPORT.search(raw)
    return "tcp" if m is not None and m.group(1).upper() != "UDP" else "udp"


def _field(path: Path, number: int, item: dict[str, Any], key: str, kind: type) -> Any:
    value = item.get(key)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CaptureError(path, f"line {number}", f"{key!r} must be a number of seconds")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CaptureError(path, f"line {number}", f"{key!r} must be a whole number")
        return value
    if not isinstance(value, str):
        raise CaptureError(path, f"line {number}", f"{key!r} must be a string")
    return value


def read_sim(path: Path, data: bytes) -> Trace:
    """A trace of ``sipfsm simulate`` (`sipfsm.sim.trace.TraceRecord` lines). A ``send``
    record is one message, a ``deliver`` record one arrival of the message its ``ref``
    names; records of other kinds (``lost``, ``duplicate``, ``timer``, ``state`` ...) only
    tell how far the trace goes. The transport of a message is its record's
    ``"transport"`` when given, else the one its top Via names."""
    trace = Trace(path, "sim", observations=[])
    observations: list[tuple[int, float, int]] = []
    records = trace.records
    sends: dict[int, int] = {}
    elements: dict[str, None] = {}
    end = 0.0
    name = path.name
    for number, line in enumerate(_text_lines(path, data), 1):
        if not line or line.isspace():
            continue
        item = _json_object(path, number, line)
        t = _field(path, number, item, "t", float)
        kind = _field(path, number, item, "kind", str)
        end = max(end, t)
        if kind == "send":
            seq = _field(path, number, item, "seq", int)
            src = _field(path, number, item, "src", str)
            dst = _field(path, number, item, "dst", str)
            raw = _field(path, number, item, "raw", str)
            transport = item.get("transport") or _via_transport(raw)
            if transport not in ("udp", "tcp"):
                raise CaptureError(path, f"line {number}", "'transport' must be 'udp' or 'tcp'")
            try:
                octets = raw.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                octets = raw.encode("utf-8", "surrogatepass")
            sends[seq] = len(records)
            observations.append((len(records), t, SENDER))
            records.append(Record(t, src, dst, transport, octets, f"{name} line {number}"))
            elements.setdefault(src)
            elements.setdefault(dst)
        elif kind == "deliver":
            ref = _field(path, number, item, "ref", int)
            pos = sends.get(ref)
            if pos is None:
                raise CaptureError(
                    path,
                    f"line {number}",
                    f"a deliver record of send {ref}, which is not before it",
                )
            sent = records[pos]
            if item.get("dst", sent.dst) != sent.dst or t < sent.time:
                raise CaptureError(
                    path,
                    f"line {number}",
                    f"a delivery of send {ref} to {item.get('dst')!r} at {t:g} s, which was "
                    f"sent to {sent.dst!r} at {sent.time:g} s",
                )
            observations.append((pos, t, RECEIVER))
    if any(b[1] < a[1] for a, b in itertools.pairwise(observations)):
        observations.sort(key=operator.itemgetter(1))  # stable: the trace's order at a tie
        order = [pos for pos, _t, who in observations if who == SENDER]
        renumber = {old: new for new, old in enumerate(order)}
        trace.records = [records[old] for old in order]
        observations = [(renumber[pos], t, who) for pos, t, who in observations]
    trace.observations = observations
    trace.elements = tuple(elements)
    trace.end = end
    return trace


# -- pcap / pcapng -----------------------------------------------------------------------------

Packet = tuple[float, int, bytes, str, int]  # time, link type, octets, where, orig length


def _pcap_packets(path: Path, data: bytes) -> Iterator[Packet]:
    if len(data) < 24:
        raise CaptureError(path, "byte 0", f"the pcap header needs 24 octets, {len(data)} given")
    order, unit = _PCAP_MAGICS[data[:4]]
    linktype = struct.unpack_from(order + "I", data, 20)[0] & 0x0FFFFFFF
    pos = 24
    number = 0
    record = struct.Struct(order + "IIII")
    while pos < len(data):
        number += 1
        if pos + 16 > len(data):
            raise CaptureError(
                path, f"byte {pos} (packet {number})", "the file ends inside a packet record header"
            )
        sec, frac, incl, orig = record.unpack_from(data, pos)
        pos += 16
        if pos + incl > len(data):
            raise CaptureError(
                path,
                f"byte {pos} (packet {number})",
                f"the file ends inside a packet: {len(data) - pos} of {incl} octets",
            )
        yield sec + frac * unit, linktype, data[pos : pos + incl], f"packet {number}", orig
        pos += incl


def _pcapng_packets(path: Path, data: bytes) -> Iterator[Packet]:
    pos = 0
    number = 0
    order = "<"
    interfaces: list[tuple[int, float]] = []
    while pos < len(data):
        if pos + 12 > len(data):
            raise CaptureError(path, f"byte {pos}", "the file ends inside a pcapng block header")
        kind = data[pos : pos + 4]
        if kind == _PCAPNG_MAGIC:
            magic = data[pos + 8 : pos + 12]
            if magic == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif magic == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                raise CaptureError(path, f"byte {pos + 8}", "bad pcapng byte-order magic")
            interfaces = []
        block_type, length = struct.unpack_from(order + "II", data, pos)
        if length < 12 or length % 4:
            raise CaptureError(path, f"byte {pos}", f"bad pcapng block length {length}")
        if pos + length > len(data):
            raise CaptureError(
                path,
                f"byte {pos}",
                f"the file ends inside a pcapng block: {len(data) - pos} of {length} octets",
            )
        body = data[pos + 8 : pos + length - 4]
        if block_type == 1:  # Interface Description Block
            linktype = struct.unpack_from(order + "H", body, 0)[0]
            interfaces.append((linktype, _if_tsresol(body[8:], order)))
        elif block_type in (6, 2):  # Enhanced Packet Block, obsolete Packet Block
            number += 1
            if block_type == 6:
                iface, high, low, cap, orig = struct.unpack_from(order + "IIIII", body, 0)
            else:
                iface, _drops, high, low, cap, orig = struct.unpack_from(order + "HHIIII", body, 0)
            if iface >= len(interfaces):
                raise CaptureError(
                    path, f"byte {pos} (packet {number})", f"packet of undeclared interface {iface}"
                )
            linktype, unit = interfaces[iface]
            octets = body[20 : 20 + cap]
            yield ((high << 32) | low) * unit, linktype, octets, f"packet {number}", orig
        elif block_type == 3:  # Simple Packet Block: no timestamp
            number += 1
            orig = struct.unpack_from(order + "I", body, 0)[0]
            linktype = interfaces[0][0] if interfaces else 1
            yield 0.0, linktype, body[4 : 4 + orig], f"packet {number}", orig
        pos += length


def _if_tsresol(options: bytes, order: str) -> float:
    pos = 0
    while pos + 4 <= len(options):
        code, size = struct.unpack_from(order + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and size >= 1:
            value = options[pos + 4]
            return float(2 ** -(value & 0x7F) if value & 0x80 else 10 ** -(value & 0x7F))
        pos += 4 + ((size + 3) & ~3)
    return 1e-6


def _network_layer(linktype: int, octets: bytes) -> Any:
    """The dpkt IP or IP6 packet inside a link-layer frame, or None."""
    if linktype == 1:  # Ethernet
        frame: Any = dpkt.ethernet.Ethernet(octets)
        return frame.data
    if linktype in (0, 108):  # BSD loopback: 4-octet address family
        family = struct.unpack("<I", octets[:4])[0]
        if family > 0xFFFF:
            family = struct.unpack(">I", octets[:4])[0]
        payload = octets[4:]
        return dpkt.ip.IP(payload) if family == 2 else dpkt.ip6.IP6(payload)
    if linktype == 113:
        return dpkt.sll.SLL(octets).data
    if linktype == 276:
        return dpkt.sll2.SLL2(octets).data
    if linktype in (101, 12, 14, 228, 229):  # raw IP
        return dpkt.ip.IP(octets) if octets[:1] and octets[0] >> 4 == 4 else dpkt.ip6.IP6(octets)
    return None


def _host(raw: bytes) -> str:
    if len(raw) == 4:
        return ".".join(str(b) for b in raw)
    return f"[{ipaddress.IPv6Address(raw)}]"


class _Fragments:
    """IPv4 reassembly (RFC 791): fragments keyed by source, destination, id, protocol."""

    def __init__(self) -> None:
        self.pending: dict[tuple[bytes, bytes, int, int], dict[int, bytes]] = {}
        self.total: dict[tuple[bytes, bytes, int, int], int] = {}

    def add(self, ip: Any) -> bytes | None:
        key = (ip.src, ip.dst, ip.id, ip.p)
        offset = (ip._flags_offset & dpkt.ip.IP_OFFMASK) * 8
        payload = bytes(ip)[ip.hl * 4 : ip.len]
        parts = self.pending.setdefault(key, {})
        parts[offset] = payload
        if not ip._flags_offset & dpkt.ip.IP_MF:
            self.total[key] = offset + len(payload)
        total = self.total.get(key)
        if total is None:
            return None
        joined = b""
        for start in sorted(parts):
            if start > len(joined):
                return None
            joined = joined[:start] + parts[start]
        if len(joined) < total:
            return None
        del self.pending[key]
        del self.total[key]
        return joined[:total]


@dataclass(slots=True)
class _Stream:
    """One direction of a TCP connection: reassembled octets not yet framed."""

    src: str
    dst: str
    next_seq: int | None = None
    buffer: bytearray = field(default_factory=bytearray)
    times: list[tuple[int, float, str]] = field(default_factory=list)  # (offset, time, where)
    consumed: int = 0  # octets framed so far (stream offset of buffer[0])
    pending: dict[int, tuple[bytes, float, str]] = field(default_factory=dict)
    synced: bool = False
    broken: str = ""


def read_capture(path: Path, data: bytes) -> Iterator[Record]:
    """The SIP messages of a pcap or pcapng capture, UDP and TCP, IPv4 and IPv6."""
    packets = (
        _pcapng_packets(path, data) if data[:4] == _PCAPNG_MAGIC else _pcap_packets(path, data)
    )
    fragments = _Fragments()
    streams: dict[tuple[str, str], _Stream] = {}
    for when, linktype, octets, where, orig in packets:
        try:
            ip = _network_layer(linktype, octets)
        except (dpkt.UnpackError, struct.error, IndexError):
            continue  # not a frame we can decode: not SIP as far as we can tell
        if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6):
            continue
        if isinstance(ip, dpkt.ip.IP) and (ip._flags_offset & (dpkt.ip.IP_MF | dpkt.ip.IP_OFFMASK)):
            whole = fragments.add(ip)
            if whole is None:
                continue
            try:
                segment: Any = (dpkt.udp.UDP if ip.p == 17 else dpkt.tcp.TCP)(whole)
            except (dpkt.UnpackError, struct.error):
                continue
        else:
            segment = ip.data
        src_host, dst_host = _host(ip.src), _host(ip.dst)
        if isinstance(segment, dpkt.udp.UDP):
            payload = bytes(segment.data)
            if not looks_like_sip(payload):
                continue
            error = ""
            if orig > len(octets):
                error = f"captured only {len(octets)} of the packet's {orig} octets (snaplen)"
            yield Record(
                when,
                f"{src_host}:{segment.sport}",
                f"{dst_host}:{segment.dport}",
                "udp",
                payload,
                f"{path.name} {where}",
                error,
            )
        elif isinstance(segment, dpkt.tcp.TCP):
            src = f"{src_host}:{segment.sport}"
            dst = f"{dst_host}:{segment.dport}"
            stream = streams.get((src, dst))
            if stream is None:
                stream = streams[(src, dst)] = _Stream(src, dst)
            yield from _tcp_segment(stream, segment, when, f"{path.name} {where}")
    for stream in streams.values():
        yield from _tcp_flush(stream)


def _tcp_segment(stream: _Stream, seg: Any, when: float, where: str) -> Iterator[Record]:
    payload = bytes(seg.data)
    seq = seg.seq
    if seg.flags & dpkt.tcp.TH_SYN:
        stream.next_seq = (seq + 1) & 0xFFFFFFFF
        return
    if not payload or stream.broken:
        return
    if stream.next_seq is None:
        stream.next_seq = seq
    if seq != stream.next_seq:
        ahead = (seq - stream.next_seq) & 0xFFFFFFFF
        if ahead < 0x80000000:  # a later segment: keep it until the gap is filled
            stream.pending[seq] = (payload, when, where)
            return
        behind = (stream.next_seq - seq) & 0xFFFFFFFF
        if behind >= len(payload):
            return  # a retransmission of octets we have
        payload = payload[behind:]
    _tcp_append(stream, payload, when, where)
    while stream.next_seq in stream.pending:
        data, at, place = stream.pending.pop(stream.next_seq)
        _tcp_append(stream, data, at, place)
    yield from _tcp_frame(stream)


def _tcp_append(stream: _Stream, payload: bytes, when: float, where: str) -> None:
    assert stream.next_seq is not None
    stream.times.append((stream.consumed + len(stream.buffer), when, where))
    stream.buffer += payload
    stream.next_seq = (stream.next_seq + len(payload)) & 0xFFFFFFFF


def _time_at(stream: _Stream, offset: int) -> tuple[float, str]:
    found = stream.times[0]
    for entry in stream.times:
        if entry[0] > offset:
            break
        found = entry
    return found[1], found[2]


def _tcp_frame(stream: _Stream) -> Iterator[Record]:
    """Cut complete messages off the front of the stream (RFC 3261 §18.3)."""
    buf = stream.buffer
    while buf:
        skip = len(buf) - len(buf.lstrip(b"\r\n"))  # keep-alive CRLFs (RFC 5626 §3.5.1)
        if skip:
            _tcp_consume(stream, skip)
            continue
        if not stream.synced:
            if not looks_like_sip(bytes(buf[:1024])):
                line_end = buf.find(b"\n")
                if line_end < 0:
                    return
                _tcp_consume(stream, line_end + 1)  # resynchronise on a start line
                continue
            stream.synced = True
        head_end, body_start = find_header_end(bytes(buf[:65536]))
        if head_end < 0:
            return
        try:
            length = content_length(bytes(buf[:head_end]))
        except WireError as exc:
            yield from _tcp_break(stream, exc.reason)
            return
        if length is None:
            yield from _tcp_break(
                stream,
                "a message on a stream transport must carry "
                "Content-Length (RFC 3261 §18.3, §20.14)",
            )
            return
        if len(buf) < body_start + length:
            return
        when, where = _time_at(stream, stream.consumed)
        yield Record(when, stream.src, stream.dst, "tcp", bytes(buf[: body_start + length]), where)
        _tcp_consume(stream, body_start + length)


def _tcp_consume(stream: _Stream, count: int) -> None:
    del stream.buffer[:count]
    stream.consumed += count
    start = stream.consumed
    keep = [t for t in stream.times if t[0] >= start]
    earlier = [t for t in stream.times if t[0] < start]
    if earlier:
        keep.insert(0, (start, earlier[-1][1], earlier[-1][2]))
    stream.times = keep


def _tcp_break(stream: _Stream, reason: str) -> Iterator[Record]:
    when, where = _time_at(stream, stream.consumed)
    yield Record(
        when,
        stream.src,
        stream.dst,
        "tcp",
        bytes(stream.buffer),
        where,
        f"{reason}; the rest of this TCP stream cannot be framed",
    )
    stream.broken = reason
    stream.buffer.clear()


def _tcp_flush(stream: _Stream) -> Iterator[Record]:
    """End of capture: octets past a gap, and a message cut short, are reported."""
    if stream.broken:
        return
    if stream.pending:
        first = min(stream.pending)
        gap = (first - (stream.next_seq or first)) & 0xFFFFFFFF
        _data, when, where = stream.pending[first]
        rest = b"".join(stream.pending[k][0] for k in sorted(stream.pending))
        if looks_like_sip(rest) or stream.buffer:
            yield Record(
                when,
                stream.src,
                stream.dst,
                "tcp",
                bytes(stream.buffer) + rest,
                where,
                f"the TCP stream misses {gap} octets before this segment",
            )
        return
    if stream.buffer.strip(b"\r\n") and stream.synced:
        when, where = _time_at(stream, stream.consumed)
        yield Record(
            when,
            stream.src,
            stream.dst,
            "tcp",
            bytes(stream.buffer),
            where,
            f"the capture ends inside a message ({len(stream.buffer)} octets framed so far)",
        )


__all__ = [
    "FORMATS",
    "RECEIVER",
    "SENDER",
    "CaptureError",
    "Record",
    "Trace",
    "detect",
    "jsonl_line",
    "read",
    "read_capture",
    "read_jsonl",
    "read_sim",
    "read_sipp",
    "sipp_local_address",
]
