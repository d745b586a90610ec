"""Reading traces: SIPp message logs, pcap and pcapng captures, and sipfsm's JSONL.

Every reader turns a file into `Record`\\ s -- one per SIP message, with its time, sender,
receiver, transport, raw octets and where in the file it was found -- in file order.
What cannot be read of a file that is otherwise usable -- a JSONL line that is not a
record, a SIPp entry whose byte count is off, a pcap packet cut short, a time that is not
a finite number of seconds -- becomes a record with its ``error`` set (its position and
the reason), which the checker counts as an unparseable message, and the reader goes on
with the rest. A file that is wholly unusable (missing, unreadable, not a regular file,
over `MAX_FILE_SIZE`, empty, or in no known format) raises `CaptureError`, naming the file
(`shown`) and the position. A SIP message that is merely invalid is *not* a reader's
error: it becomes a record like any other, and the checker lists it as unparseable.

Formats (docs/checker.md gives the details):

* ``sipp``: the message log SIPp writes with ``-trace_msg``. It names no addresses, so the
  logging instance is one endpoint (its address inferred from its own Via, see
  `sipp_local_address`) and everything it received comes from ``peer``.
* ``pcap`` / ``pcapng``: captures of UDP, TCP and SCTP over IPv4 and IPv6, behind the
  link types, VLAN tags, PPPoE and tunnels (IP in IP, GRE, ERSPAN, VXLAN) docs/checker.md
  lists, SIP over WebSocket and HEP. Packet layers are decoded with ``dpkt``; the file
  framing is read here so that a truncated file is reported at its exact offset. IPv4
  and IPv6 fragments are reassembled; TCP streams are reassembled in sequence order and
  cut into messages by their Content-Length (RFC 3261 §18.3). `Trace.frames` counts what
  each frame became: no frame is dropped unseen.
* ``jsonl``: one message per line, ``{"t": seconds, "src": "HOST:PORT", "dst":
  "HOST:PORT", "raw": "SIP text"}`` with an optional ``"transport": "udp"|"tcp"``
  (`jsonl_line` writes one).
* ``sim``: the trace ``sipfsm simulate`` writes (`sipfsm.sim.trace`), also JSONL: one
  record per event. Each ``send`` record is one message (its time the send time); each
  ``deliver`` record (``ref``: the ``seq`` of its send) is one arrival of it at ``dst``.
  `Trace.observations` keeps the two apart, in time order, so that the checker replays
  the sender at the send time and the receiver at the delivery time; a lost message has
  no arrival, a duplicated one two. Read as ``jsonl`` too: the first record tells the two
  JSONL forms apart.

Order: records are in file order (a pcap's: the packet where each message starts), and
the checker numbers messages so. Times that go back in the file are not hidden:
`Trace.out_of_order` counts them and `Trace.disorder` lists the first `MAX_LISTED`;
`Trace.order` (or, for a simulator trace, `Trace.observations`) gives the time order in
which the checker replays them.
"""

from __future__ import annotations

import bisect
import io
import ipaddress
import itertools
import json
import operator
import os
import re
import shutil
import stat
import struct
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, NamedTuple, cast

import dpkt

from sipfsm.values.errors import SipFsmError
from sipfsm.values.wire import (
    MAX_DIGITS,
    MAX_MESSAGE_SIZE,
    WireError,
    content_length,
    looks_like_sip,
)

FORMATS: Final[tuple[str, ...]] = ("auto", "sipp", "pcap", "jsonl", "sim")

#: Who sees a message at an observation of `Trace.observations`.
SENDER: Final = 1
RECEIVER: Final = 2

# -- limits (docs/limits.md, "The checker") ----------------------------------------------------

#: Octets of one trace file. A file is read whole into memory, and the checker keeps about
#: 3 KB per message; a larger file is refused (`CaptureError`) before it is read. Raise it
#: with ``read(..., max_size=)``, ``check_files(..., max_file_size=)`` or
#: ``sipfsm check --max-file-size``.
MAX_FILE_SIZE: Final = 1 << 30
#: Nesting of the JSON value on one line of a JSONL trace (its records are flat objects:
#: depth 1). A deeper line is unparseable; Python's own reader would recurse once a level.
MAX_JSON_DEPTH: Final = 32
#: The largest time, in seconds either side of zero, that a record may carry (about the
#: year 2286 as a Unix time; a pcap's 32-bit seconds end in 2106). A time that is not a
#: finite number within it is unparseable: a timer deadline computed from it is meaningless.
MAX_TIME: Final = 1e10
#: Characters of a JSONL ``src`` / ``dst`` (printable, no white space); DNS names have at
#: most 253, and a port, brackets and the colon fit in the rest.
MAX_ADDRESS: Final = 300
#: The out-of-order entries a trace lists (the count covers them all).
MAX_LISTED: Final = 10
#: The largest packet a pcap record may hold: libpcap's largest snapshot length. A record
#: announcing more is taken for a damaged file (the rest of it cannot be framed).
MAX_SNAPLEN: Final = 262_144
#: Fragments of one IPv4 or IPv6 datagram kept for reassembly (a 65,535-octet datagram
#: over Ethernet takes 45); a datagram sent in more is unparseable.
MAX_FRAGMENTS: Final = 128
#: IP datagrams in reassembly at once (fragments kept until their datagram is whole or the
#: capture ends); a fragment of one more is an unparseable entry, not kept.
MAX_DATAGRAMS: Final = 4096
#: Seconds ``editcap`` may take to convert a capture in another format Wireshark reads.
CONVERT_SECONDS: Final = 120
#: Layers of encapsulation followed inside one frame (IP in IP, GRE, ERSPAN, VXLAN,
#: each counting one): a frame nested deeper is counted as not decoded.
MAX_LAYERS: Final = 8


def shown(name: object) -> str:
    """A file name (or any name from the input) as an error or a report line shows it: as
    it is when it is printable, else escaped as Python's ``repr`` does, so that a newline
    or a terminal escape in a name never breaks or colours the line."""
    text = str(name)
    return text if text.isprintable() else repr(text)


class CaptureError(SipFsmError):
    """A trace file that cannot be read: the message names the file and the position."""

    def __init__(self, path: Path | str, position: str, what: str) -> None:
        self.path = str(path)
        self.position = position
        self.what = what
        super().__init__(f"{shown(path)}: {position}: {what}")


class Record(NamedTuple):
    """One SIP message as it was seen: ``time`` in seconds, ``src`` / ``dst`` as
    ``HOST:PORT`` (IPv6 hosts in brackets), ``transport`` ``udp`` or ``tcp`` (reliable),
    the raw octets, and ``where`` it was found. ``error`` is set when the message could not
    be read or framed (a JSONL line that is not a record, a TCP stream without
    Content-Length, cut short ...): the checker counts it unparseable, and its time is the
    one of the entry before it. ``pos`` is its place in the file: the line (JSONL, SIPp)
    or the packet number (pcap) where it starts.

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
    pos: int = 0


class Disorder(NamedTuple):
    """An entry whose time is earlier than that of an entry before it in the file."""

    #: its position in `Trace.records` (-1: a simulator record that is not a message)
    record: int
    where: str
    time: float
    #: the latest time before it in the file
    after: float


@dataclass(slots=True)
class Trace:
    """The records of one file, in file order, and what the reader learnt about it."""

    path: Path
    format: str
    records: list[Record] = field(default_factory=list)
    #: For a SIPp log: the logging endpoint, the only viewpoint the log allows.
    local: str | None = None
    #: For a simulator trace: who saw which record when, in replay (time) order, as
    #: ``(position in records, time, SENDER or RECEIVER)``. ``None``: every record was seen
    #: by its sender and its receiver at once, at its time (one capture point).
    observations: list[tuple[int, float, int]] | None = None
    #: For a simulator trace: its element names, which are its endpoints' names as they are.
    elements: tuple[str, ...] = ()
    #: The end of what the trace shows, if later than its last message (a simulator trace
    #: records timers and state changes after the last message).
    end: float | None = None
    #: The positions of the records in time order (stable: file order among equal times),
    #: the order of the replay; ``None`` when the file is in time order already.
    order: list[int] | None = None
    #: How many entries have a time earlier than an entry before them in the file.
    out_of_order: int = 0
    #: The first `MAX_LISTED` of them.
    disorder: list[Disorder] = field(default_factory=list)
    #: For a SIPp log: what it holds besides messages (SIPp's notes: socket congestion,
    #: its simulated loss, messages it failed to send ...), counted by kind.
    notes: dict[str, int] = field(default_factory=dict)
    #: For a capture: what each of its frames became, counted (`FRAME_SIP`,
    #: `FRAME_STREAM` ..., or why it was not decoded): every packet record of the file,
    #: and every part of it that cannot be framed, is counted once.
    frames: dict[str, int] = field(default_factory=dict)


def _in_time(value: object) -> bool:
    """Whether a time read from a trace is usable: a finite number of seconds within
    `MAX_TIME` of zero (NaN and the infinities are not)."""
    if type(value) is float:
        return -MAX_TIME <= value <= MAX_TIME
    return type(value) is int and -MAX_TIME <= value <= MAX_TIME


def _bad_time(value: object) -> str:
    text = repr(value) if len(repr(value)) <= 24 else repr(value)[:20] + "..."
    return f"time {text} is not a finite number of seconds within ±{MAX_TIME:g} (MAX_TIME)"


def _order(trace: Trace) -> None:
    """Set `Trace.order`, `Trace.out_of_order` and `Trace.disorder` from the times of the
    records (in file order); records with ``error`` take no part."""
    records = trace.records
    times = list(map(_TIME, records))
    if times == sorted(times):
        return
    trace.order = sorted(range(len(records)), key=times.__getitem__)
    latest: float | None = None
    for pos, record in enumerate(records):
        if record.error:
            continue
        if latest is not None and record.time < latest:
            trace.out_of_order += 1
            if len(trace.disorder) < MAX_LISTED:
                trace.disorder.append(Disorder(pos, record.where, record.time, latest))
        elif latest is None or record.time > latest:
            latest = record.time


def _fill_times(records: list[Record]) -> None:
    """Give the error records that come before any good one the time of the first good
    one (the others took the time of the entry before them as they were read)."""
    for pos, record in enumerate(records):
        if not record.error:
            for early in range(pos):
                records[early] = records[early]._replace(time=record.time)
            return


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
#: The UTF-8 byte-order mark, which some editors write at the start of a text file.
_BOM: Final = b"\xef\xbb\xbf"


def detect(path: Path, head: bytes) -> str:
    """The format of a file from its first octets: pcap, pcapng, sipp or jsonl."""
    if not head:
        raise CaptureError(path, "byte 0", "the file is empty")
    if head[:4] in _PCAP_MAGICS:
        return "pcap"
    if head[:4] == _PCAPNG_MAGIC:
        return "pcapng"
    if _SIPP_SEPARATOR.match(head) or _SIPP_SEPARATOR.match(head, _after_notes(head, 0)):
        return "sipp"  # (SIPp may write a note before its first entry: socket congestion)
    if head.removeprefix(_BOM).lstrip()[:1] == b"{":
        return "jsonl"
    raise CaptureError(
        path,
        "byte 0",
        f"not a pcap, pcapng, SIPp message log or JSONL trace (starts with "
        f"{head[:16]!r}); name the format with --format",
    )


_TIME: Final = operator.attrgetter("time")


def _converted(path: Path, data: bytes) -> bytes | None:
    """A binary capture in a format other than pcap and pcapng, converted to pcapng by
    Wireshark's ``editcap`` (which reads every format Wireshark reads: snoop, ERF,
    Network Monitor, 5View ...) when it is installed; None when it is not, when the file
    is text (no NUL in its first octets: the SIPp and JSONL readers say what is wrong with
    it), or when editcap does not read it within `CONVERT_SECONDS`."""
    if b"\0" not in data[:4096]:
        return None
    editcap = shutil.which("editcap")
    if editcap is None:
        return None
    try:
        done = subprocess.run(
            [editcap, "-F", "pcapng", os.fspath(path.absolute()), "-"],
            capture_output=True,
            timeout=CONVERT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = done.stdout
    return out if done.returncode == 0 and out[:4] == _PCAPNG_MAGIC else None


_FILE_KINDS: Final = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_file(path: Path, max_size: int = MAX_FILE_SIZE) -> bytes:
    """The octets of a trace file: a regular file of at most ``max_size`` octets, else a
    `CaptureError`. A FIFO, a device or a directory is refused without waiting on it (it
    is opened without blocking): a trace is read whole, twice over for detection, and a
    stream has no end to wait for."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise CaptureError(path, "open", exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in _FILE_KINDS if test(info.st_mode)), "not a file")
            raise CaptureError(path, "open", f"{kind}, not a regular file")
        if info.st_size > max_size:
            raise CaptureError(path, "open", _too_big(max_size))
        chunks: list[bytes] = []
        size = 0
        want = info.st_size + 1  # (one read; more only if the file grows meanwhile)
        while size <= max_size:
            chunk = os.read(fd, min(max_size + 1 - size, max(want - size, 1 << 16)))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise CaptureError(path, "read", exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if size > max_size:
        raise CaptureError(path, "read", _too_big(max_size))
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_big(limit: int) -> str:
    return (
        f"the file is larger than the limit of {limit} octets (MAX_FILE_SIZE; raise it with "
        "--max-file-size)"
    )


def read(path: Path | str, fmt: str = "auto", max_size: int = MAX_FILE_SIZE) -> Trace:
    """Read one trace file. ``fmt`` is ``auto`` (detect), ``sipp``, ``pcap`` (pcap or
    pcapng), ``jsonl`` or ``sim``. Raises `CaptureError` for an unusable file (see the
    module docstring); what cannot be read of a usable one becomes error records."""
    path = Path(path)
    if fmt not in FORMATS:
        raise CaptureError(path, "format", f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    data = read_file(path, max_size)
    try:
        found = detect(path, data[:4096])
    except CaptureError:
        converted = _converted(path, data) if fmt in ("auto", "pcap") else None
        if converted is not None:
            data, found = converted, "pcapng"
        elif fmt == "auto" or not data:
            raise
        else:
            label = {
                "sipp": "SIPp message log",
                "jsonl": "JSONL trace",
                "sim": "simulator trace",
            }.get(fmt, "pcap or pcapng")
            raise CaptureError(
                path, "byte 0", f"not a {label} (starts with {data[:16]!r})"
            ) from None
    if found == "jsonl" and _is_sim(data):
        found = "sim"
    if fmt != "auto":
        wanted = {"pcap": ("pcap", "pcapng"), "jsonl": ("jsonl", "sim")}.get(fmt, (fmt,))
        if found not in wanted:
            raise CaptureError(path, "byte 0", f"the file is a {found} trace, not {fmt}")
    if found == "sipp":
        trace = read_sipp(path, data)
    elif found in ("pcap", "pcapng"):
        records, frames = _capture_records(path, data)
        trace = Trace(path, found, records, frames=frames)
    elif found == "sim":
        return read_sim(path, data)  # (its observations are in time order)
    else:
        trace = Trace(path, "jsonl", _jsonl_records(path, data))
    _order(trace)
    return trace


# -- SIPp -trace_msg logs ------------------------------------------------------------------

_SIPP_HEADER: Final = re.compile(
    rb"(UDP|TCP|TLS|SCTP|WSS?) (?:control )?message (sent|received) "
    rb"(?:\((\d+) bytes\)|\[(\d+)\] bytes) ?:\r?\n"
)
#: Entries that log again a message received just before (SIPp's socket layer logs every
#: message it reads, then the call logs it once more when it is unexpected, for a call
#: that is over, or ignored as a late response), or a message sent in part; each runs to
#: the next dashed line.
_SIPP_UNEXPECTED: Final = re.compile(
    rb"(?:Unexpected (?:control )?|Dead call [^\r\n]{1,300}? received a |"
    rb"Ignoring (?:provisional|final) |(?:Error|Truncation) sending )"
    rb"(UDP|TCP|TLS|SCTP|WSS?) message"
    rb"(?: received(?: \([^\r\n]{0,300}\))?| for transaction [^\r\n]{0,300}?| \(\d+ of \d+ sent\))?"
    rb":\r?\n"
)
#: What else SIPp writes into a -trace_msg log (src/socket.cpp, src/call.cpp): notes that
#: are no message -- socket congestion, output buffers, its simulated loss (-lost) -- some
#: without a line end, the next entry's dashes then following on the same line.
_SIPP_NOTE: Final = re.compile(
    rb"Problem (?:EAGAIN|EWOULDBLOCK) on socket +-?\d+ and poll_idx +is +-?\d+ *\r?\n"
    rb"|(?:UDP|TCP|TLS|SCTP|WSS?) message (?:voluntary lost \(while sending\)|"
    rb"(?:\(retrans\) )?lost \(recv\))\."
    rb"|(?:Added first|Appended) buffered message to socket -?\d+ *\r?\n"
    rb"|Wrote -?\d+ of \d+ bytes in an output buffer\. *\r?\n"
    rb"|Attempted socket flush returned -?\d+ *\r?\n"
    rb"|Exit problem event on socket -?\d+ *\r?\n"
    rb"|Discarded message for new calls while quitting *\r?\n"
    rb"|socket_write_primitive -?\d+ *\r?\n"
    rb"|Received twin message for dead [^\r\n]*\r?\n"
)
#: The notes of `_SIPP_NOTE`, by kind (`Trace.notes`).
_SIPP_NOTE_KINDS: Final = (
    (b"Problem", "SIPp: socket congested (EAGAIN / EWOULDBLOCK)"),
    (b"voluntary lost", "SIPp -lost: a message not sent"),
    (b"lost (recv)", "SIPp -lost: a received message discarded (not replayed)"),
    (b"buffered message", "SIPp: a message buffered for a congested socket"),
    (b"Wrote", "SIPp: an output buffer written"),
    (b"Attempted socket flush", "SIPp: a socket flush"),
    (b"Exit problem", "SIPp: a socket error event"),
    (b"Discarded message", "SIPp: a message for a new call discarded while quitting"),
    (b"socket_write_primitive", "SIPp: an SCTP write state"),
    (b"Received twin", "SIPp: a twin message for a dead call"),
)


def _sipp_note(note: bytes) -> str:
    return next(kind for key, kind in _SIPP_NOTE_KINDS if key in note)


def _after_notes(data: bytes, pos: int) -> int:
    """``pos`` past line ends and SIPp's notes (`_SIPP_NOTE`)."""
    pos = _after_line_ends(data, pos)
    while (note := _SIPP_NOTE.match(data, pos)) is not None:
        pos = _after_line_ends(data, note.end())
    return pos


#: Line ends: what may follow an entry's octets before the next entry (SIPp ends each
#: message with one; blank lines between entries).
_LINE_ENDS: Final = re.compile(rb"[\r\n]+")


def _after_line_ends(data: bytes, pos: int) -> int:
    m = _LINE_ENDS.match(data, pos)
    return pos if m is None else m.end()


class _SippEntry(NamedTuple):
    when: float
    transport: str
    sent: bool
    raw: bytes
    #: the line where the message starts (where the entry starts, for an error)
    line: int
    error: str = ""


def read_sipp(path: Path, data: bytes) -> Trace:
    """A SIPp ``-trace_msg`` log: entries of a dashed line with the local time, a line
    ``UDP message sent (N bytes):`` or ``UDP message received [N] bytes :``, an empty
    line, then the N octets of the message. SIPp also logs ``Unexpected UDP message
    received:`` entries, with no time and no length: they take the time of the entry
    before and run to the next dashed line.

    SIPp also logs a message again when it is for a call that is over (``Dead call ...
    received a UDP message:``) or ignored (``Ignoring final UDP message for transaction
    ...:``), like an unexpected one; ``Error sending UDP message:`` entries (nothing was
    sent) are skipped; ``Truncation sending`` ones are messages sent (SIPp sends the rest
    from a buffer). Its notes between entries (socket congestion, ``UDP message lost
    (recv).`` of ``-lost`` ...) are counted in `Trace.notes`; a message SIPp says it
    discarded (``lost (recv)``) is not a message of its replay.

    An entry that cannot be read -- not an entry, a bad date, a byte count that the next
    entry does not follow (too small, too large, past the end of the file) -- is an error
    record at its line, and reading goes on at the next dashed line."""
    entries: list[_SippEntry] = []
    notes: dict[str, int] = {}
    pos = 0
    line = 1
    size = len(data)
    when = 0.0
    timed = False  # whether a good entry gave a time yet
    while pos < size:
        blank = _after_line_ends(data, pos)
        if blank > pos:  # blank lines between entries
            line += data.count(b"\n", pos, blank)
            pos = blank
            continue
        note = _SIPP_NOTE.match(data, pos)
        if note is not None:
            kind = _sipp_note(note.group())
            notes[kind] = notes.get(kind, 0) + 1
            last = entries[-1] if entries else None
            if b"lost (recv)" in note.group() and last and not last.error and not last.sent:
                entries.pop()  # (the message it logged just before, which it discarded)
            line += note.group().count(b"\n")
            pos = note.end()
            continue
        sep = _SIPP_SEPARATOR.match(data, pos)
        entry: _SippEntry | None
        if sep is None:
            found = data[pos : pos + 30]
            reason = f"expected a SIPp entry ('----- DATE TIME'), found {found!r}"
            entry, end, resume = _SippEntry(when, "udp", False, b"", line, reason), -1, pos
        else:
            previous = entries[-1] if entries else None
            entry, end = _sipp_entry(data, sep, line, when, previous, notes)
            resume = sep.end()
        if end < 0:  # on at the next dashed line
            following = _SIPP_NEXT.search(data, resume)
            end = following.start() + 1 if following else size
        if entry is not None:
            if not entry.error:
                if not timed:  # the entries before it that had no time take its time
                    timed = True
                    entries = [e._replace(when=entry.when) for e in entries]
                when = entry.when
            entries.append(entry)
        line += data.count(b"\n", pos, end)
        pos = end
    local = sipp_local_address((e.sent, e.raw) for e in entries if not e.error) or "sipp:0"
    trace = Trace(path, "sipp", local=local, notes=notes)
    name = shown(path.name)
    add = trace.records.append
    for e in entries:
        where = f"{name} line {e.line}"
        if e.error:
            add(Record(e.when, "", "", "udp", b"", where, e.error, e.line))
            continue
        reliable = "udp" if e.transport == "udp" else "tcp"
        src, dst = (local, "peer") if e.sent else ("peer", local)
        add(Record(e.when, src, dst, reliable, e.raw, where, "", e.line))
    return trace


def _sipp_entry(
    data: bytes,
    sep: re.Match[bytes],
    line: int,
    when: float,
    previous: _SippEntry | None,
    notes: dict[str, int],
) -> tuple[_SippEntry | None, int]:
    """The entry whose dashed line ``sep`` matched at ``line``, and where the next entry
    starts; an entry with ``error`` and -1 when it cannot be read; None for an
    ``Unexpected`` entry that repeats the message before it (SIPp logs such a message
    twice: received, then unexpected)."""
    size = len(data)
    if sep.group(1) is not None:
        stamp = _sipp_time(sep.group(1), sep.group(2))
        if isinstance(stamp, str):
            return _sipp_failed(when, line, stamp)
        when = stamp
    head = _SIPP_HEADER.match(data, sep.end())
    unexpected = _SIPP_UNEXPECTED.match(data, sep.end())
    if head is None and unexpected is None:
        found = data[sep.end() : sep.end() + 40]
        return _sipp_failed(
            when,
            line,
            f"expected 'UDP message sent (N bytes):' or 'received [N] bytes :', found {found!r}",
            line + 1,
        )
    start = (head or unexpected).end()  # type: ignore[union-attr]
    if data[start : start + 1] == b"\r":
        start += 1
    if data[start : start + 1] != b"\n":
        return _sipp_failed(when, line, "expected an empty line before the message", line + 2)
    start += 1
    at = line + 3  # the line where the message starts
    if head is not None:
        transport, sent = head.group(1), head.group(2) == b"sent"
        digits = head.group(3) or head.group(4)
        if len(digits) > MAX_DIGITS:
            return _sipp_failed(
                when, line, f"a byte count of {len(digits)} digits (MAX_DIGITS is {MAX_DIGITS})", at
            )
        length = int(digits)
        end = start + length
        inside = _next_entry(data, start, min(end, size))
        if inside >= 0:
            return _sipp_failed(
                when,
                line,
                f"the byte count {length} runs into the next entry ({inside - start} octets on)",
                at,
            )
        if end > size:
            return _sipp_failed(
                when,
                line,
                f"the file ends inside a message: {size - start} of the {length} octets announced",
                at,
            )
        after = _after_notes(data, end)
        if after < size and _SIPP_SEPARATOR.match(data, after) is None:
            return _sipp_failed(
                when,
                line,
                f"the byte count {length} does not end the message: the next entry does not "
                f"follow it (found {data[end : end + 20]!r})",
                at,
            )
        raw = data[start:end]
    else:
        assert unexpected is not None
        transport = unexpected.group(1)
        kind = unexpected.group()
        sent = kind.startswith(b"Truncation")
        following = _SIPP_NEXT.search(data, start)
        end = following.start() + 1 if following else size
        raw = data[start:end]
        raw = raw[:-1] if raw.endswith((b"\r\n\n", b"\n\n")) else raw
        if kind.startswith(b"Error"):
            what = "SIPp: a message it failed to send (not sent)"
            notes[what] = notes.get(what, 0) + 1
            return None, end
        if not sent and previous is not None and not previous.error and previous.raw == raw:
            return None, end
    return _SippEntry(when, transport.decode().lower(), sent, raw, at), end


def _sipp_failed(when: float, line: int, reason: str, at: int = 0) -> tuple[_SippEntry | None, int]:
    """An entry that cannot be read (at line ``at``, else ``line``): the caller goes on at
    the next dashed line."""
    return _SippEntry(when, "udp", False, b"", at or line, reason), -1


def _next_entry(data: bytes, start: int, end: int) -> int:
    """Where a SIPp entry (a dashed line, then its header line) starts within
    ``data[start:end]``, or -1: a byte count too large runs into it."""
    pos = start
    while True:
        found = _SIPP_NEXT.search(data, pos, end)
        if found is None:
            return -1
        sep = _SIPP_SEPARATOR.match(data, found.start() + 1)
        if sep is not None and (
            _SIPP_HEADER.match(data, sep.end()) or _SIPP_UNEXPECTED.match(data, sep.end())
        ):
            return found.start() + 1
        pos = found.end()


def _sipp_time(day: bytes, clock: bytes) -> float | str:
    """The time of a SIPp entry (local time, as SIPp writes it), or why it is unusable."""
    text = f"{day.decode()} {clock[:40].decode()}"
    try:
        value = datetime.fromisoformat(text).timestamp()
    except (ValueError, OverflowError, OSError):
        return f"bad date {text!r}"
    if not _in_time(value):
        return _bad_time(value)
    return value


_HOST_PORT: Final = rb"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._\-]+)(?::([0-9]{1,5}))?"
_VIA_SENT_BY: Final = re.compile(
    rb"^(?:Via|v)[ \t]*:[ \t]*SIP/2\.0/[A-Za-z]+[ \t]+" + _HOST_PORT,
    re.IGNORECASE | re.MULTILINE,
)
_CONTACT_VALUE: Final = re.compile(
    rb"^(?:Contact|m)[ \t]*:([^\r\n]*)", re.IGNORECASE | re.MULTILINE
)
_SIP_URI_HOST: Final = re.compile(rb"sips?:(?:[^@>\s]*@)?" + _HOST_PORT, re.IGNORECASE)


def _uri_host(text: bytes) -> re.Match[bytes] | None:
    """The host and port of the first SIP or SIPS URI in ``text`` (matched once, at the
    first ``sip:``: a line of many is read in linear time)."""
    lower = text.lower()
    starts = [at for at in (lower.find(b"sip:"), lower.find(b"sips:")) if at >= 0]
    return _SIP_URI_HOST.match(text, min(starts)) if starts else None


def sipp_local_address(entries: Iterable[tuple[bool, bytes]]) -> str | None:
    """The address of a SIPp instance, from what it logged: the sent-by of the top Via
    of a request it sent (RFC 3261 §18.1.1: the transport puts its own address there),
    else the Contact of a response it sent, else the Request-URI of a request it got.
    Hosts are a hostname, an IPv4 address or an IPv6 reference (RFC 3261 §25.1)."""
    logged = list(entries)
    for sent, raw in logged:
        if sent and raw[:8] != b"SIP/2.0 ":
            m = _VIA_SENT_BY.search(raw)
            if m is not None:
                return _hostport(m)
    for sent, raw in logged:
        if sent and raw[:8] == b"SIP/2.0 ":
            contact = _CONTACT_VALUE.search(raw)
            m = _uri_host(contact.group(1)) if contact is not None else None
            if m is not None:
                return _hostport(m)
    for sent, raw in logged:
        if not sent:
            first = raw.split(b"\n", 1)[0]
            parts = first.removesuffix(b"\r").split(b" ")
            if len(parts) == 3 and parts[2] == b"SIP/2.0" and parts[0]:
                m = _SIP_URI_HOST.match(parts[1])
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


class _JsonLimit(ValueError):
    """A JSON number with more digits than `MAX_DIGITS`."""


def _json_int(text: str) -> int:
    if len(text) > MAX_DIGITS + 1:  # (a sign)
        raise _JsonLimit(
            f"a number of {len(text)} digits, more than the limit of {MAX_DIGITS} "
            "(sipfsm.values.wire.MAX_DIGITS)"
        )
    return int(text)


_JSON: Final = json.JSONDecoder(parse_int=_json_int)
#: The decoder's scanner (``raw_decode`` calls it; typeshed does not name it)
_SCAN: Final[Callable[[str, int], tuple[Any, int]]] = cast(Any, _JSON).scan_once
#: A JSON string (the brackets inside one are text), and what is left once they are gone.
_JSON_STRING: Final = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS: Final = re.compile(r"[^\[\]{}]+")


def _json_depth(line: str) -> int:
    """How deep the arrays and objects of a JSON text nest (its strings aside)."""
    depth = deepest = 0
    for c in _NOT_BRACKETS.sub("", _JSON_STRING.sub("", line)):
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _json_record(line: str) -> dict[str, Any] | str:
    """One line of a JSONL file as a JSON object, or why it is not one."""
    if line.count("[") + line.count("{") > MAX_JSON_DEPTH:  # (cheap: most lines have few)
        depth = _json_depth(line)
        if depth > MAX_JSON_DEPTH:
            return (
                f"JSON nested {depth} deep, more than the limit of {MAX_JSON_DEPTH} "
                "(MAX_JSON_DEPTH)"
            )
    try:
        item, end = _JSON.raw_decode(line, len(line) - len(line.lstrip()))
    except ValueError as exc:  # json.JSONDecodeError, or our _JsonLimit (one clause: mypyc
        # typed `exc` as the first class for both clauses, and failed on a JSONDecodeError)
        if isinstance(exc, _JsonLimit):
            return f"not JSON: {exc}"
        return f"not JSON ({exc})"
    except RecursionError:  # (MAX_JSON_DEPTH keeps it away; a guard all the same)
        return "JSON nested too deep for Python's JSON reader"
    if end != len(line) and not line[end:].isspace():
        return f"not JSON (extra data at column {end + 1})"
    if type(item) is not dict:
        return "expected a JSON object"
    return cast(dict[str, Any], item)


def _address(value: object) -> bool:
    """Whether a JSONL ``src`` / ``dst`` is usable: printable, no white space, at most
    `MAX_ADDRESS` characters."""
    return (
        type(value) is str
        and 0 < len(value) <= MAX_ADDRESS
        and value.isprintable()
        and " " not in value
    )


def _lines(data: bytes) -> Iterator[tuple[int, str, str]]:
    """The lines of a JSONL file as text, numbered from 1, each with why it is not UTF-8
    ("" if it is); a byte-order mark at the start is skipped. Line by line, each decoded
    on its own: no copy of the whole file as text (a big buffer is fresh memory the system
    must hand over page by page; a line's is reused)."""
    for number, octets in enumerate(io.BytesIO(data), 1):
        if number == 1 and octets.startswith(_BOM):
            octets = octets[len(_BOM) :]
        try:
            text, reason = octets.decode("utf-8"), ""
        except UnicodeDecodeError as exc:
            text, reason = "", f"not UTF-8 (octet {exc.start} of the line)"
        # (yielded outside the handler: an error in the consumer, while this generator waits
        # there, would otherwise carry the decoding error as its context in every traceback)
        yield number, text, reason


def read_jsonl(path: Path, data: bytes) -> Iterator[Record]:
    """The records of a JSONL trace (`jsonl_line`), in file order; a line that is not such
    a record is an error record with its line number and the reason."""
    return iter(_jsonl_records(path, data))


_new_record: Final = tuple.__new__


# complex on purpose (C901): each field of a line checked in turn, inlined for speed
def _jsonl_records(path: Path, data: bytes) -> list[Record]:  # noqa: C901
    # `_json_record`, inlined: this runs for every message. The decoder's scanner itself
    # (C), not `raw_decode`, a Python function around it: a line that is not a JSON value
    # makes it raise StopIteration, where raw_decode raises a JSONDecodeError -- either
    # way the line goes to `_json_record`, which says why
    decode = _SCAN
    name = shown(path.name)
    records: list[Record] = []
    add = records.append
    last = 0.0  # the time of the last good record (an error record takes it)
    # the src and dst of the last good record: a line naming the same is known to be usable
    # (`_address` depends on the text alone) by comparing two texts, where a set of the
    # addresses seen hashed every line's fresh strings. "-" is usable too: a start value
    # that lets nothing through that `_address` would refuse
    seen_src = seen_dst = "-"
    # line by line, each decoded on its own: no copy of the whole file as text (a big
    # buffer is fresh memory the system must hand over page by page; a line's is reused)
    for number, octets in enumerate(io.BytesIO(data), 1):
        if number == 1 and octets.startswith(_BOM):
            octets = octets[len(_BOM) :]
        try:
            line = octets.decode("utf-8")
        except UnicodeDecodeError as exc:
            error = f"not UTF-8 (octet {exc.start} of the line)"
        else:
            if line.isspace() or not line:
                continue
            error = ""
            item: Any = None
            # (no bracket but the object's own: nothing nests; else `_json_record` counts)
            if line.find("[") < 0 and line.find("{", 1) < 0 and line[0] == "{":
                try:
                    item, end = decode(line, 0)
                except (ValueError, StopIteration):
                    item = None
                else:
                    rest = len(line) - end  # (most often the line's own end: nothing to look at)
                    if rest and not (rest == 1 and line[end] == "\n") and not line[end:].isspace():
                        item = None
            if type(item) is not dict:
                found = _json_record(line)
                if type(found) is str:
                    error = found
                else:
                    item = found
            if not error:
                fields: dict[str, Any] = item  # (typed: the compiled build reads it directly)
                t = fields.get("t")
                src = fields.get("src")
                dst = fields.get("dst")
                raw = fields.get("raw")
                transport = fields.get("transport", "udp")
                if type(t) is not float and type(t) is not int:
                    error = "'t' must be a number of seconds"
                # (compared as a float, which is exact against MAX_TIME: no other whole
                # number becomes it; NaN is within no bounds)
                elif not -MAX_TIME <= (when := float(t)) <= MAX_TIME:
                    error = _bad_time(t)
                elif type(src) is not str or not (src in (seen_src, seen_dst) or _address(src)):
                    error = _bad_address("src")
                elif type(dst) is not str or not (dst in (seen_dst, seen_src) or _address(dst)):
                    error = _bad_address("dst")
                elif type(raw) is not str:
                    error = "'raw' must be a string"
                elif transport != "udp" and transport != "tcp":
                    error = "'transport' must be 'udp' or 'tcp'"
                else:
                    try:
                        encoded = raw.encode("utf-8", "surrogateescape")
                    except UnicodeEncodeError:
                        encoded = raw.encode("utf-8", "surrogatepass")
                    last = when
                    seen_src, seen_dst = src, dst
                    where = f"{name} line {number}"
                    # (the tuple built directly: a named tuple's constructor is Python code)
                    record = (last, src, dst, transport, encoded, where, "", number)
                    add(_new_record(Record, record))
                    continue
        add(Record(last, "", "", "udp", b"", f"{name} line {number}", error, number))
    _fill_times(records)
    return records


def _bad_address(key: str) -> str:
    return (
        f"{key!r} must be a string of 1 to {MAX_ADDRESS} printable characters without "
        "white space (HOST:PORT)"
    )


# -- simulator traces ----------------------------------------------------------------------


def _is_sim(data: bytes) -> bool:
    """Whether a JSONL file is a simulator trace: its first record has ``kind`` and ``seq``
    (a message of the plain JSONL form has ``raw``, ``src`` and ``dst`` instead)."""
    for _number, line, error in _lines(data[:65536]):
        if error:
            return False  # the JSONL reader says what is wrong with it
        if not line.strip():
            continue
        item = _json_record(line)
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


class _BadLine(Exception):
    """A line of a simulator trace that cannot be used (its reason)."""


def _field(item: dict[str, Any], key: str, kind: type) -> Any:
    value = item.get(key)
    if kind is float:
        if type(value) is not float and type(value) is not int:
            raise _BadLine(f"{key!r} must be a number of seconds")
        if not _in_time(value):
            raise _BadLine(_bad_time(value))
        return float(value)
    if kind is int:
        if type(value) is not int:
            raise _BadLine(f"{key!r} must be a whole number")
        return value
    if type(value) is not str:
        raise _BadLine(f"{key!r} must be a string")
    return value


# complex on purpose (C901): each kind of trace record, and each way a line can be bad
def read_sim(path: Path, data: bytes) -> Trace:  # noqa: C901
    """A trace of ``sipfsm simulate`` (`sipfsm.sim.trace.TraceRecord` lines). A ``send``
    record is one message, a ``deliver`` record one arrival of the message its ``ref``
    names; records of other kinds (``lost``, ``duplicate``, ``timer``, ``state`` ...) only
    tell how far the trace goes. The transport of a message is its record's
    ``"transport"`` when given, else the one its top Via names.

    A line that cannot be used -- not a JSON object, a field of the wrong type, a time
    that is not finite, a delivery of a send not before it or at an earlier time -- is an
    error record (an unparseable message, in file order with the sends), seen by no one;
    a delivery of a send that was such a line is skipped (that send is counted already)."""
    trace = Trace(path, "sim", observations=[])
    observations: list[tuple[int, float, int]] = []
    records = trace.records
    sends: dict[int, int] = {}
    elements: dict[str, None] = {}
    end: float | None = None
    latest: float | None = None
    name = shown(path.name)
    for number, line, error in _lines(data):
        where = f"{name} line {number}"
        if not error and (not line or line.isspace()):
            continue
        try:
            if error:
                raise _BadLine(error)
            item = _json_record(line)
            if type(item) is str:
                raise _BadLine(item)
            assert type(item) is dict
            t = _field(item, "t", float)
            kind = _field(item, "kind", str)
            pos = -1
            if kind == "send":
                seq = _field(item, "seq", int)
                sends[seq] = len(records)  # (a bad send is an error record: skip its deliveries)
                src = _field(item, "src", str)
                dst = _field(item, "dst", str)
                raw = _field(item, "raw", str)
                if not _address(src) or not _address(dst):
                    raise _BadLine(_bad_address("src" if not _address(src) else "dst"))
                transport = item.get("transport") or _via_transport(raw)
                if transport not in ("udp", "tcp"):
                    raise _BadLine("'transport' must be 'udp' or 'tcp'")
            elif kind == "deliver":
                ref = _field(item, "ref", int)
                pos = sends.get(ref, -1)
                if pos < 0:
                    raise _BadLine(f"a deliver record of send {ref}, which is not before it")
                sent = records[pos]
                if not sent.error and (item.get("dst", sent.dst) != sent.dst or t < sent.time):
                    raise _BadLine(
                        f"a delivery of send {ref} to {repr(item.get('dst'))[:40]} at {t:g} s, "
                        f"which was sent to {sent.dst!r} at {sent.time:g} s"
                    )
        except _BadLine as bad:
            at = latest if latest is not None else 0.0
            observations.append((len(records), at, SENDER))
            records.append(Record(at, "", "", "udp", b"", where, str(bad), number))
            continue
        end = t if end is None else max(end, t)
        if latest is not None and t < latest:
            trace.out_of_order += 1
            if len(trace.disorder) < MAX_LISTED:
                message = len(records) if kind == "send" else -1
                trace.disorder.append(Disorder(message, where, t, latest))
        elif latest is None:
            latest = t
            for early, (p, _t, who) in enumerate(observations):  # error lines before it
                observations[early] = (p, t, who)
                records[p] = records[p]._replace(time=t)
        else:
            latest = max(latest, t)
        if kind == "send":
            try:
                octets = raw.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                octets = raw.encode("utf-8", "surrogatepass")
            observations.append((len(records), t, SENDER))
            records.append(Record(t, src, dst, transport, octets, where, "", number))
            elements.setdefault(src)
            elements.setdefault(dst)
        elif kind == "deliver" and not records[pos].error:  # (else: its send is counted)
            observations.append((pos, t, RECEIVER))
    observations.sort(key=_OBSERVED)  # stable: the trace's order at a tie
    trace.observations = observations
    trace.elements = tuple(elements)
    trace.end = end
    return trace


_OBSERVED: Final = operator.itemgetter(1)


# -- pcap / pcapng -----------------------------------------------------------------------------


class _Frame(NamedTuple):
    """One packet record of a capture file, or (``error`` set) one that cannot be read."""

    time: float
    linktype: int
    octets: bytes
    #: the packet's number in the file (from 1); for an error that is no packet, the
    #: number of the packets before it
    number: int
    #: the byte offset of its record or block
    offset: int
    orig: int
    error: str = ""
    #: where an error is: ``byte N (packet M)``, or ``byte N`` when it is no packet's
    place: str = ""


def _broken(number: int, offset: int, reason: str, packet: bool = True) -> _Frame:
    place = f"byte {offset} (packet {number})" if packet else f"byte {offset}"
    return _Frame(0.0, -1, b"", number, offset, 0, reason, place)


def _pcap_frames(path: Path, data: bytes) -> Iterator[_Frame]:
    """The packet records of a pcap file. Its records carry no marker to find the next
    one by: once one is cut short, or announces more than `MAX_SNAPLEN` octets, the rest
    of the file is one error frame."""
    size = len(data)
    if size < 24:
        raise CaptureError(path, "byte 0", f"the pcap header needs 24 octets, {size} given")
    order, unit = _PCAP_MAGICS[data[:4]]
    linktype = struct.unpack_from(order + "I", data, 20)[0] & 0x0FFFFFFF
    pos = 24
    number = 0
    record = struct.Struct(order + "IIII")
    while pos < size:
        number += 1
        if pos + 16 > size:
            yield _broken(
                number,
                pos,
                f"the file ends inside a packet record header ({size - pos} of 16 octets)",
            )
            return
        sec, frac, incl, orig = record.unpack_from(data, pos)
        if incl > MAX_SNAPLEN:
            yield _broken(
                number,
                pos,
                f"a packet record of {incl} octets, more than any snapshot length "
                f"({MAX_SNAPLEN}, MAX_SNAPLEN): the rest of the file ({size - pos} octets) "
                "cannot be framed",
            )
            return
        if pos + 16 + incl > size:
            yield _broken(
                number,
                pos,
                f"the file ends inside a packet: {size - pos - 16} of {incl} octets",
            )
            return
        yield _Frame(
            sec + frac * unit, linktype, data[pos + 16 : pos + 16 + incl], number, pos, orig
        )
        pos += 16 + incl


def _pcapng_frames(path: Path, data: bytes) -> Iterator[_Frame]:
    """The packets of a pcapng file. A block that cannot be framed (its length bad, or
    cut short) ends the file in one error frame; a packet block that is too short, names
    an interface not declared, or has a time out of range is an error frame of its own.
    A malformed interface description block is an error frame too, and its packets are
    skipped as those of a link type that is not decoded."""
    size = len(data)
    pos = 0
    number = 0
    order = "<"
    interfaces: list[tuple[int, float]] = []
    while pos < size:
        if pos + 12 > size:
            yield _broken(number, pos, "the file ends inside a pcapng block header", False)
            return
        if data[pos : pos + 4] == _PCAPNG_MAGIC:
            magic = data[pos + 8 : pos + 12]
            if magic == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif magic == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                yield _broken(
                    number, pos, "bad pcapng byte-order magic: the rest cannot be framed", False
                )
                return
            interfaces = []
        block_type, length = struct.unpack_from(order + "II", data, pos)
        if length < 12 or length % 4:
            yield _broken(
                number, pos, f"bad pcapng block length {length}: the rest cannot be framed", False
            )
            return
        if pos + length > size:
            yield _broken(
                number,
                pos,
                f"the file ends inside a pcapng block: {size - pos} of {length} octets",
                False,
            )
            return
        if struct.unpack_from(order + "I", data, pos + length - 4)[0] != length:
            yield _broken(
                number,
                pos,
                f"the pcapng block's two lengths differ ({length} at its start): the rest "
                "cannot be framed",
                False,
            )
            return
        body = data[pos + 8 : pos + length - 4]
        if block_type == 1:  # Interface Description Block
            if len(body) < 8:
                interfaces.append((-1, 1e-6))
                reason = f"an interface description block of {len(body)} octets (8 at least)"
                yield _broken(number, pos, reason, False)
            else:
                linktype = struct.unpack_from(order + "H", body, 0)[0]
                interfaces.append((linktype, _if_tsresol(body[8:], order)))
        elif block_type in (6, 2):  # Enhanced Packet Block, obsolete Packet Block
            number += 1
            if len(body) < 20:
                yield _broken(number, pos, f"a packet block of {len(body)} octets (20 at least)")
            else:
                if block_type == 6:
                    iface, high, low, cap, orig = struct.unpack_from(order + "IIIII", body, 0)
                else:
                    iface, _drops, high, low, cap, orig = struct.unpack_from(
                        order + "HHIIII", body, 0
                    )
                if iface >= len(interfaces):
                    yield _broken(number, pos, f"packet of undeclared interface {iface}")
                else:
                    linktype, unit = interfaces[iface]
                    when = ((high << 32) | low) * unit
                    if _in_time(when):
                        yield _Frame(when, linktype, body[20 : 20 + cap], number, pos, orig)
                    else:
                        yield _broken(number, pos, _bad_time(when))
        elif block_type == 3:  # Simple Packet Block: no timestamp
            number += 1
            if len(body) < 4:
                yield _broken(number, pos, f"a simple packet block of {len(body)} octets")
            else:
                orig = struct.unpack_from(order + "I", body, 0)[0]
                linktype = interfaces[0][0] if interfaces else 1
                yield _Frame(0.0, linktype, body[4 : 4 + orig], number, pos, orig)
        pos += length


def _if_tsresol(options: bytes, order: str) -> float:
    pos = 0
    while pos + 4 <= len(options):
        code, size = struct.unpack_from(order + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and size >= 1 and pos + 4 < len(options):
            value = options[pos + 4]
            return float(2 ** -(value & 0x7F) if value & 0x80 else 10 ** -(value & 0x7F))
        pos += 4 + ((size + 3) & ~3)
    return 1e-6


# -- link layers, tunnels and transports ---------------------------------------------------

#: What a frame became (`Trace.frames`): each frame of a capture is counted once, under one
#: of these (or under a reason it was not decoded, which names what was found).
FRAME_SIP: Final = "SIP datagram (UDP, SCTP or HEP)"
FRAME_STREAM: Final = "TCP segment with data (reassembled into its stream)"
FRAME_TCP_EMPTY: Final = "TCP segment without data"
FRAME_FRAGMENT: Final = "IP fragment held for reassembly"
FRAME_UDP_OTHER: Final = "UDP datagram that is not SIP"
FRAME_SCTP_OTHER: Final = "SCTP packet without SIP"
FRAME_HEP_OTHER: Final = "HEP packet that does not carry SIP"
FRAME_ERROR: Final = "a record that cannot be read, or a frame with SIP that cannot be decoded"


def _link_layer(linktype: int, octets: bytes) -> Any:
    """The dpkt packet inside a link-layer frame (IP, IP6, or what else the link carries),
    or a reason (str) the link type is not decoded."""
    if linktype == 1:  # Ethernet (802.1Q and QinQ tags, MPLS, PPPoE: dpkt follows them)
        frame = dpkt.ethernet.Ethernet(octets)
        data = frame.data
        return data if type(data) is not bytes else f"ethertype 0x{frame.type:04x} is not decoded"
    if linktype in (0, 108):  # BSD loopback: 4-octet address family
        family = struct.unpack("<I", octets[:4])[0]
        if family > 0xFFFF:
            family = struct.unpack(">I", octets[:4])[0]
        payload = octets[4:]
        return dpkt.ip.IP(payload) if family == 2 else dpkt.ip6.IP6(payload)
    if linktype == 113:  # Linux cooked capture v1
        return dpkt.sll.SLL(octets).data
    if linktype == 276:  # Linux cooked capture v2
        return dpkt.sll2.SLL2(octets).data
    if linktype in (101, 12, 14, 228, 229):  # raw IP
        return _raw_ip(octets)
    if linktype in (9, 50):  # PPP, PPP in HDLC framing (RFC 1661, RFC 1662)
        if octets[:2] == b"\xff\x03":
            octets = octets[2:]
        return dpkt.ppp.PPP(octets).data
    if linktype == 51:  # PPPoE without its Ethernet header
        return dpkt.pppoe.PPPoE(octets).data
    return f"link type {linktype} is not decoded"


def _raw_ip(octets: bytes) -> Any:
    return dpkt.ip.IP(octets) if octets[:1] and octets[0] >> 4 == 4 else dpkt.ip6.IP6(octets)


#: What dpkt raises on octets it cannot decode.
_UNDECODABLE: Final = (dpkt.UnpackError, struct.error, IndexError, ValueError, KeyError)


def _host(raw: bytes) -> str:
    if len(raw) == 4:
        return ".".join(str(b) for b in raw)
    return f"[{ipaddress.IPv6Address(raw)}]"


_FragmentKey = tuple[bytes, bytes, int, int]


class _Fragments:
    """IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5) reassembly: fragments keyed by source,
    destination, identification and (IPv4) protocol; at most `MAX_FRAGMENTS` for one
    datagram and `MAX_DATAGRAMS` datagrams in reassembly at once."""

    def __init__(self) -> None:
        #: key -> {offset: payload}, the first fragment's where / number / time, and the
        #: total length once the last fragment came
        self.pending: dict[_FragmentKey, dict[int, bytes]] = {}
        self.first: dict[_FragmentKey, tuple[float, str, int]] = {}
        self.total: dict[_FragmentKey, int] = {}
        self.dropped: set[_FragmentKey] = set()

    def add(
        self, key: _FragmentKey, offset: int, more: bool, payload: bytes, at: tuple[float, str, int]
    ) -> tuple[bytes, tuple[float, str, int]] | str | None:
        """The whole datagram, and the time and place of its first fragment, once every
        fragment came; a reason (once) when it comes in too many fragments or too many
        datagrams are in reassembly; else None."""
        if key in self.dropped:
            return None
        parts = self.pending.get(key)
        if parts is None:
            if len(self.pending) >= MAX_DATAGRAMS:
                return (
                    f"more than {MAX_DATAGRAMS} IP datagrams in reassembly at once "
                    "(MAX_DATAGRAMS): this fragment is not kept"
                )
            parts = self.pending[key] = {}
            self.first[key] = at
        if offset not in parts and len(parts) >= MAX_FRAGMENTS:
            self._forget(key)
            self.dropped.add(key)
            return f"an IP datagram in more than {MAX_FRAGMENTS} fragments (MAX_FRAGMENTS)"
        if offset == 0:
            self.first[key] = at
        parts[offset] = payload
        if not more:
            self.total[key] = offset + len(payload)
        total = self.total.get(key)
        if total is None or sum(map(len, parts.values())) < total:
            return None
        joined = bytearray()
        for start in sorted(parts):
            if start > len(joined):
                return None
            del joined[start:]
            joined += parts[start]
        if len(joined) < total:
            return None
        first = self.first[key]
        self._forget(key)
        return bytes(joined[:total]), first

    def _forget(self, key: _FragmentKey) -> None:
        self.pending.pop(key, None)
        self.total.pop(key, None)
        self.first.pop(key, None)

    def incomplete(self) -> Iterator[tuple[_FragmentKey, bytes, tuple[float, str, int]]]:
        """End of capture: the datagrams still missing a fragment, each with the octets of
        its first fragment (offset 0, or b"" if that one never came)."""
        for key, parts in self.pending.items():
            yield key, parts.get(0, b""), self.first[key]


def _ip6_fragment(ip6: Any) -> tuple[Any, bytes] | None:
    """An IPv6 packet's fragment header and the octets after it, or None if it has none."""
    frag = ip6.extension_hdrs.get(44) if ip6.extension_hdrs else None
    if frag is None:
        return None
    data = ip6.data
    return frag, data if isinstance(data, bytes) else bytes(data)


def _ws_frame(buf: bytearray) -> tuple[int, int, bool, bytes] | None:
    """One WebSocket frame (RFC 6455 §5.2) at the start of ``buf``: (its length, opcode,
    FIN, payload unmasked); None until it is all there. ValueError if it is too large."""
    if len(buf) < 2:
        return None
    b0, b1 = buf[0], buf[1]
    size = b1 & 0x7F
    head = 2
    if size == 126:
        if len(buf) < 4:
            return None
        size = int.from_bytes(buf[2:4], "big")
        head = 4
    elif size == 127:
        if len(buf) < 10:
            return None
        size = int.from_bytes(buf[2:10], "big")
        head = 10
    if size > MAX_MESSAGE_SIZE:
        raise ValueError(
            f"a WebSocket frame of {size} octets, more than the limit of {MAX_MESSAGE_SIZE} "
            "(MAX_MESSAGE_SIZE)"
        )
    key = b""
    if b1 & 0x80:
        if len(buf) < head + 4:
            return None
        key = bytes(buf[head : head + 4])
        head += 4
    if len(buf) < head + size:
        return None
    payload = bytes(buf[head : head + size])
    if key and size:
        mask = (key * (size // 4 + 1))[:size]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(
            size, "big"
        )
    return head + size, b0 & 0x0F, bool(b0 & 0x80), payload


_WS_UPGRADE: Final = re.compile(
    rb"^upgrade[ \t]*:[ \t]*websocket[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)
#: The first octet of a HEPv1 or HEPv2 packet (its version).
_HEP_FIRST: Final = (b"\x01", b"\x02")
#: Link layers that may come between two network layers.
_LINKS: Final = (dpkt.ethernet.Ethernet, dpkt.pppoe.PPPoE, dpkt.ppp.PPP)


class _Decoder:
    """Reads the frames of one capture into records and `counts` (`Trace.frames`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.records: list[Record] = []
        self.counts: dict[str, int] = {}
        self.fragments = _Fragments()
        self.streams: dict[tuple[str, str], _Stream] = {}
        #: SCTP user messages in fragments (RFC 4960 §6.9): (src, dst, stream id) ->
        #: octets so far and where the first one was
        self.sctp: dict[tuple[str, str, int], tuple[bytearray, float, str, int]] = {}

    def count(self, what: str) -> None:
        counts = self.counts
        counts[what] = counts.get(what, 0) + 1

    def error(self, when: float, where: str, reason: str, number: int) -> None:
        self.records.append(Record(when, "", "", "udp", b"", where, reason, number))
        self.count(FRAME_ERROR)

    def frame(self, frame: _Frame) -> None:
        when, linktype, octets, number, _offset, orig, error, place = frame
        if error:
            self.error(when, f"{self.name} {place}", error, number)
            return
        where = f"{self.name} packet {number}"
        try:
            layer = _link_layer(linktype, octets)
        except _UNDECODABLE as exc:
            self.undecoded(octets, when, where, number, f"link layer ({type(exc).__name__})")
            return
        cut = orig > len(octets)
        outcome = self.network(layer, when, where, number, cut, 0)
        if outcome:  # (a reason the frame has no SIP that could be read)
            self.undecoded(octets, when, where, number, outcome)

    def undecoded(self, octets: bytes, when: float, where: str, number: int, reason: str) -> None:
        """A frame not decoded: an error record if it seems to carry SIP (no SIP message
        is lost unseen), else counted under its reason."""
        if b"SIP/2.0" in octets:
            self.error(
                when, where, f"a frame with SIP in it that cannot be decoded: {reason}", number
            )
        else:
            self.count(f"not decoded: {reason}")

    # complex on purpose (C901): one branch per network-layer case, in the order of their frequency
    def network(self, ip: Any, when: float, where: str, number: int, cut: bool, depth: int) -> str:
        """Decode what an IP packet carries; "" when the frame is counted, else the reason
        it cannot be read (the caller counts it)."""
        while isinstance(ip, _LINKS):  # (Ethernet behind GRE, PPP behind PPPoE ...)
            if isinstance(ip, dpkt.ethernet.Ethernet) and type(ip.data) is bytes:
                return f"ethertype 0x{ip.type:04x} is not decoded"
            ip = ip.data
        if isinstance(ip, dpkt.ip.IP):
            flags = ip._flags_offset
            if flags & (dpkt.ip.IP_MF | dpkt.ip.IP_OFFMASK):
                payload = bytes(ip)[ip.hl * 4 : ip.len]
                key = (ip.src, ip.dst, ip.id, ip.p)
                offset = (flags & dpkt.ip.IP_OFFMASK) * 8
                more = bool(flags & dpkt.ip.IP_MF)
                return self.fragment(
                    ip, key, offset, more, payload, ip.p, when, where, number, depth
                )
            protocol = ip.p
        elif isinstance(ip, dpkt.ip6.IP6):
            fragment = _ip6_fragment(ip)
            if fragment is not None:
                header, payload = fragment
                key = (ip.src, ip.dst, header.id, 0)
                more = bool(header.m_flag)
                return self.fragment(
                    ip,
                    key,
                    header.frag_off * 8,
                    more,
                    payload,
                    header.nxt,
                    when,
                    where,
                    number,
                    depth,
                )
            protocol = getattr(ip, "p", None)  # (dpkt leaves it unset when the
            if protocol is None:  # extension headers are cut short or garbled)
                return "an IPv6 packet whose extension headers cannot be read"
        elif isinstance(ip, str):
            return ip
        elif isinstance(ip, dpkt.Packet):
            return f"{type(ip).__name__} carries no IP packet"
        else:
            return "no IP packet in the frame"
        return self.transport(ip, ip.data, protocol, when, where, number, cut, depth)

    def fragment(
        self,
        ip: Any,
        key: _FragmentKey,
        offset: int,
        more: bool,
        payload: bytes,
        protocol: int,
        when: float,
        where: str,
        number: int,
        depth: int,
    ) -> str:
        whole = self.fragments.add(key, offset, more, payload, (when, where, number))
        if whole is None:
            self.count(FRAME_FRAGMENT)
            return ""
        if isinstance(whole, str):
            self.error(when, where, whole, number)
            return ""
        octets, (first_when, first_where, first_number) = whole
        try:
            inner = _decode_protocol(protocol, octets)
        except _UNDECODABLE as exc:
            return f"a reassembled IP datagram ({type(exc).__name__})"
        # (the message is numbered by the fragment where it starts, as a TCP message is)
        return self.transport(
            ip, inner, protocol, first_when, first_where, first_number, False, depth
        )

    # complex on purpose (C901): one branch per protocol an IP packet may carry
    def transport(
        self,
        ip: Any,
        segment: Any,
        protocol: int,
        when: float,
        where: str,
        number: int,
        cut: bool,
        depth: int,
    ) -> str:
        if isinstance(segment, dpkt.udp.UDP):
            payload = segment.data
            if type(payload) is not bytes:
                payload = bytes(payload)
            if payload[:4] == b"HEP3" or payload[:1] in _HEP_FIRST:  # (before SIP: it holds SIP)
                hep = self.hep(payload, when, where, number)
                if hep is not None:
                    return hep
            if looks_like_sip(payload):
                counts = self.counts  # (`count`, inlined: this runs for every datagram)
                counts[FRAME_SIP] = counts.get(FRAME_SIP, 0) + 1
                src = f"{_host(ip.src)}:{segment.sport}"
                dst = f"{_host(ip.dst)}:{segment.dport}"
                error = "the packet was cut by the capture's snapshot length" if cut else ""
                self.records.append(Record(when, src, dst, "udp", payload, where, error, number))
                return ""
            if (segment.dport == 4789 or segment.sport == 4789) and payload[:1] == b"\x08":
                if depth >= MAX_LAYERS:
                    return f"more than {MAX_LAYERS} layers of encapsulation (MAX_LAYERS)"
                inner = dpkt.ethernet.Ethernet(payload[8:]).data  # VXLAN (RFC 7348)
                return self.network(inner, when, where, number, cut, depth + 1)
            counts = self.counts
            counts[FRAME_UDP_OTHER] = counts.get(FRAME_UDP_OTHER, 0) + 1
            return ""
        if isinstance(segment, dpkt.tcp.TCP):
            src = f"{_host(ip.src)}:{segment.sport}"
            dst = f"{_host(ip.dst)}:{segment.dport}"
            stream = self.streams.get((src, dst))
            if stream is None:
                stream = self.streams[(src, dst)] = _Stream(src, dst)
            self.count(FRAME_STREAM if segment.data else FRAME_TCP_EMPTY)
            self.records.extend(_tcp_segment(stream, segment, when, where, number))
            return ""
        if isinstance(segment, dpkt.ip.IP | dpkt.ip6.IP6) or protocol in (4, 41, 47):
            if depth >= MAX_LAYERS:
                return f"more than {MAX_LAYERS} layers of encapsulation (MAX_LAYERS)"
            if isinstance(segment, dpkt.gre.GRE):
                segment = _gre_payload(segment)
            elif isinstance(segment, bytes):
                return f"IP protocol {protocol} that dpkt could not decode"
            return self.network(segment, when, where, number, cut, depth + 1)
        if isinstance(segment, dpkt.sctp.SCTP):
            return self.sctp_packet(ip, segment, when, where, number)
        return f"IP protocol {protocol}: not UDP, TCP, SCTP or a tunnel"

    def sctp_packet(self, ip: Any, packet: Any, when: float, where: str, number: int) -> str:
        """The DATA chunks of an SCTP packet (RFC 4960 §3.3.1): one SIP message per user
        message (RFC 4168 §5), fragments (B and E flags) joined in order."""
        src = f"{_host(ip.src)}:{packet.sport}"
        dst = f"{_host(ip.dst)}:{packet.dport}"
        found = False
        for chunk in packet.chunks:
            if chunk.type != 0 or len(chunk.data) < 12:
                continue
            data = bytes(chunk.data)
            sid = int.from_bytes(data[4:6], "big")
            user = data[12:]
            begin, end = chunk.flags & 2, chunk.flags & 1
            key = (src, dst, sid)
            if begin and end:
                message, at = user, (when, where, number)
            else:
                if begin:
                    self.sctp[key] = (bytearray(user), when, where, number)
                    continue
                held = self.sctp.get(key)
                if held is None:
                    continue  # a middle or last fragment whose first was not captured
                held[0].extend(user)
                if len(held[0]) > MAX_MESSAGE_SIZE:
                    del self.sctp[key]
                    self.error(
                        when, where, "an SCTP user message larger than MAX_MESSAGE_SIZE", number
                    )
                    found = True
                    continue
                if not end:
                    continue
                del self.sctp[key]
                message, at = bytes(held[0]), held[1:]
            if looks_like_sip(message):
                found = True
                self.records.append(Record(at[0], src, dst, "tcp", message, at[1], "", at[2]))
        self.count(FRAME_SIP if found else FRAME_SCTP_OTHER)
        return ""

    def hep(self, payload: bytes, when: float, where: str, number: int) -> str | None:
        """A HEP packet (HEPv3, or the HEPv1/v2 header) as capture agents send it to a
        HOMER server: the SIP message it carries, with its own addresses and time; None
        if ``payload`` is not HEP after all."""
        hep = _hep3(payload) if payload[:4] == b"HEP3" else _hep2(payload)
        if hep is None:
            return None
        if isinstance(hep, str):
            if b"SIP/2.0" in payload:
                self.error(when, where, f"a HEP packet that cannot be read: {hep}", number)
            else:
                self.count(FRAME_HEP_OTHER)
            return ""
        src, dst, transport, at, message = hep
        if not looks_like_sip(message):
            self.count(FRAME_HEP_OTHER)
            return ""
        self.count(FRAME_SIP)
        time = at if at is not None and _in_time(at) else when
        self.records.append(Record(time, src, dst, transport, message, where, "", number))
        return ""

    def finish(self) -> None:
        for stream in self.streams.values():
            self.records.extend(_tcp_flush(stream))
        for key, first, (when, where, number) in self.fragments.incomplete():
            if looks_like_sip(first[8:]) or b"SIP/2.0" in first:
                missing = "the first fragment" if not first else "a fragment"
                self.records.append(
                    Record(
                        when,
                        _host(key[0]),
                        _host(key[1]),
                        "udp",
                        b"",
                        where,
                        f"an IP datagram with SIP in it misses {missing} (the capture "
                        "ends before it is whole)",
                        number,
                    )
                )
        for (src, dst, _sid), (_data, when, where, number) in self.sctp.items():
            self.records.append(
                Record(
                    when,
                    src,
                    dst,
                    "tcp",
                    b"",
                    where,
                    "an SCTP user message misses its last fragment (the capture ends first)",
                    number,
                )
            )


def _decode_protocol(protocol: int, payload: bytes) -> Any:
    """A reassembled IP payload, decoded as its protocol says."""
    if protocol == 17:
        return dpkt.udp.UDP(payload)
    if protocol == 6:
        return dpkt.tcp.TCP(payload)
    if protocol == 132:
        return dpkt.sctp.SCTP(payload)
    if protocol == 4:
        return dpkt.ip.IP(payload)
    if protocol == 41:
        return dpkt.ip6.IP6(payload)
    if protocol == 47:
        return dpkt.gre.GRE(payload)
    return payload


def _gre_payload(gre: Any) -> Any:
    """What a GRE packet (RFC 2784, RFC 2890) carries: IP and IPv6 (dpkt decodes them),
    Ethernet (transparent bridging, 0x6558), ERSPAN type I, II (0x88BE) and III
    (0x22EB), each an Ethernet frame behind its header; a reason (str) for anything else."""
    data = gre.data
    if not isinstance(data, bytes):
        return data
    kind = gre.p
    if kind == 0x6558:
        return dpkt.ethernet.Ethernet(data).data
    if kind == 0x88BE:  # ERSPAN: type II has a sequence number and an 8-octet header
        return dpkt.ethernet.Ethernet(data[8:] if gre.flags & 0x1000 else data).data
    if kind == 0x22EB:  # ERSPAN type III: 12 octets, and 8 more with the O flag
        skip = 20 if len(data) > 11 and data[11] & 1 else 12
        return dpkt.ethernet.Ethernet(data[skip:]).data
    return f"GRE protocol 0x{kind:04x} is not decoded"


_HepResult = tuple[str, str, str, float | None, bytes]


def _hep_address(raw: bytes, port: int) -> str:
    return f"{_host(raw)}:{port}"


def _hep3(payload: bytes) -> _HepResult | str:
    """HEPv3: ``HEP3``, a 16-bit length, then chunks of (vendor, type, length, value)."""
    total = int.from_bytes(payload[4:6], "big")
    if total < 6 or total > len(payload):
        return f"HEPv3 length {total} does not fit the {len(payload)} octets of the datagram"
    chunks: dict[int, bytes] = {}
    pos = 6
    while pos + 6 <= total:
        vendor, kind, size = struct.unpack_from(">HHH", payload, pos)
        if size < 6 or pos + size > total:
            return f"a HEPv3 chunk of length {size} at octet {pos}"
        if vendor == 0:
            chunks[kind] = payload[pos + 6 : pos + size]
        pos += size
    if 15 not in chunks:
        return "a HEPv3 packet without payload (chunk 15)"
    if chunks.get(11, b"\x01") != b"\x01":
        return "not SIP (HEPv3 protocol type is not 1)"
    src_raw = chunks.get(3) or chunks.get(5) or b""
    dst_raw = chunks.get(4) or chunks.get(6) or b""
    if len(src_raw) not in (4, 16) or len(dst_raw) != len(src_raw):
        return "a HEPv3 packet without source and destination addresses"
    sport = int.from_bytes(chunks.get(7, b"\0\0"), "big")
    dport = int.from_bytes(chunks.get(8, b"\0\0"), "big")
    at: float | None = None
    if len(chunks.get(9, b"")) == 4:
        at = (
            int.from_bytes(chunks[9], "big")
            + int.from_bytes(chunks.get(10, b"\0\0\0\0"), "big") * 1e-6
        )
    transport = "tcp" if chunks.get(2, b"\x11") in (b"\x06", b"\x84") else "udp"
    return _hep_address(src_raw, sport), _hep_address(dst_raw, dport), transport, at, chunks[15]


def _hep2(payload: bytes) -> _HepResult | str | None:
    """HEPv1/v2: version, header length, family, protocol, ports, addresses; HEPv2 then
    the capture time (seconds, µs, in the agent's byte order: little-endian, as Kamailio
    and the HOMER agents of that time wrote it) and a capture id. None if ``payload``
    does not have that shape (it is then no HEP packet)."""
    if len(payload) < 8:
        return None
    version, length, family, proto = payload[0], payload[1], payload[2], payload[3]
    size = {2: 4, 10: 16, 28: 16, 30: 16}.get(family)
    if size is None or length != 8 + 2 * size or proto not in (6, 17, 132):
        return None
    sport, dport = struct.unpack_from(">HH", payload, 4)
    src = _hep_address(payload[8 : 8 + size], sport)
    dst = _hep_address(payload[8 + size : 8 + 2 * size], dport)
    pos = length
    at: float | None = None
    if version == 2:
        if len(payload) < pos + 12:
            return None
        sec, usec = struct.unpack_from("<II", payload, pos)
        at = sec + usec * 1e-6
        pos += 12
    message = payload[pos:]
    if not looks_like_sip(message):
        return None
    return src, dst, "udp" if proto == 17 else "tcp", at, message


def read_capture(path: Path, data: bytes) -> Iterator[Record]:
    """The SIP messages of a pcap or pcapng capture (`_capture_records` puts them in file
    order); what cannot be read as error records."""
    return iter(_decode(path, data).records)


def _decode(path: Path, data: bytes) -> _Decoder:
    frames = _pcapng_frames(path, data) if data[:4] == _PCAPNG_MAGIC else _pcap_frames(path, data)
    decoder = _Decoder(shown(path.name))
    last = 0.0  # the time of the last good packet (an error record takes it)
    for frame in frames:
        if frame.error:
            frame = frame._replace(time=last)
        else:
            last = frame.time
        decoder.frame(frame)
    decoder.finish()
    return decoder


_POS: Final = operator.attrgetter("pos")


def _capture_records(path: Path, data: bytes) -> tuple[list[Record], dict[str, int]]:
    """The records of a capture in file order (by the packet where each starts), and what
    each frame became (`Trace.frames`)."""
    decoder = _decode(path, data)
    records = decoder.records
    if any(b.pos < a.pos for a, b in itertools.pairwise(records)):
        records.sort(key=_POS)  # stable: stream order within one packet
    _fill_times(records)
    return records, decoder.counts


@dataclass(slots=True)
class _Stream:
    """One direction of a TCP connection: reassembled octets not yet framed."""

    src: str
    dst: str
    next_seq: int | None = None
    buffer: bytearray = field(default_factory=bytearray)
    #: where each appended segment starts in the stream, and its time, place and number
    offsets: list[int] = field(default_factory=list)
    times: list[tuple[float, str, int]] = field(default_factory=list)
    #: the first of them still needed (those before end before ``consumed``)
    first: int = 0
    consumed: int = 0  # octets framed so far (stream offset of buffer[0])
    pending: dict[int, tuple[bytes, float, str, int]] = field(default_factory=dict)
    synced: bool = False
    broken: str = ""
    #: how far the buffer was searched for a line end or the end of a header section
    #: (the search goes on from there when more comes: a message in many small segments
    #: is searched once, not once per segment)
    scanned: int = 0
    #: whether the header section searched so far has a CRLF (then no bare LF ends it)
    crlf: bool = False
    #: SIP over WebSocket (RFC 7118): after the HTTP upgrade, the stream is WebSocket
    #: frames (RFC 6455 §5), each data message one SIP message
    websocket: bool = False
    #: the data message being received in fragments, and the time, place and packet
    #: number of its first frame
    ws_message: bytearray | None = None
    ws_at: tuple[float, str, int] = (0.0, "", 0)


def _tcp_segment(
    stream: _Stream, seg: Any, when: float, where: str, number: int
) -> Iterator[Record]:
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
            stream.pending[seq] = (payload, when, where, number)
            return
        behind = (stream.next_seq - seq) & 0xFFFFFFFF
        if behind >= len(payload):
            return  # a retransmission of octets we have
        payload = payload[behind:]
    _tcp_append(stream, payload, when, where, number)
    while stream.next_seq in stream.pending:
        data, at, place, count = stream.pending.pop(stream.next_seq)
        _tcp_append(stream, data, at, place, count)
    yield from _tcp_frame(stream)


def _tcp_append(stream: _Stream, payload: bytes, when: float, where: str, number: int) -> None:
    assert stream.next_seq is not None
    stream.offsets.append(stream.consumed + len(stream.buffer))
    stream.times.append((when, where, number))
    stream.buffer += payload
    stream.next_seq = (stream.next_seq + len(payload)) & 0xFFFFFFFF


def _time_at(stream: _Stream, offset: int) -> tuple[float, str, int]:
    """The time, place and packet number of the segment that holds stream ``offset``."""
    at = bisect.bisect_right(stream.offsets, offset, stream.first) - 1
    return stream.times[max(at, stream.first)]


def _head_end(stream: _Stream) -> tuple[int, int]:
    """`sipfsm.values.wire.find_header_end` of the stream's buffer, searching only what was
    not searched before."""
    buf = stream.buffer
    end = buf.find(b"\r\n\r\n", max(0, stream.scanned - 3))
    if end >= 0:
        return end, end + 4
    if not stream.crlf:  # a bare LF ends the header section only if no CRLF came before
        lf = buf.find(b"\n\n", max(0, stream.scanned - 1))
        if buf.find(b"\r\n", max(0, stream.scanned - 1), lf if lf >= 0 else len(buf)) >= 0:
            stream.crlf = True
        elif lf >= 0:
            return lf, lf + 2
    stream.scanned = len(buf)
    return -1, -1


def _tcp_frame(stream: _Stream) -> Iterator[Record]:
    """Cut complete messages off the front of the stream (RFC 3261 §18.3)."""
    buf = stream.buffer
    while buf:
        if stream.websocket:
            yield from _ws_messages(stream)
            return
        ends = _LINE_ENDS.match(buf)  # keep-alive CRLFs (RFC 5626 §3.5.1)
        if ends is not None:
            _tcp_consume(stream, ends.end())
            continue
        if not stream.synced:
            if buf[:4] == b"GET " or buf[:12] == b"HTTP/1.1 101":
                upgraded = _ws_upgrade(stream)
                if upgraded is None:  # the HTTP header is not all there yet
                    return
                if upgraded:
                    continue
            if not looks_like_sip(bytes(buf[:1024])):
                line_end = buf.find(b"\n", stream.scanned)
                if line_end < 0:
                    stream.scanned = len(buf)
                    return
                _tcp_consume(stream, line_end + 1)  # resynchronise on a start line
                continue
            stream.synced = True
        head_end, body_start = _head_end(stream)
        if head_end < 0:
            if len(buf) > MAX_MESSAGE_SIZE:
                yield from _tcp_break(
                    stream,
                    f"no empty line ends the header section within {MAX_MESSAGE_SIZE} octets "
                    "(MAX_MESSAGE_SIZE)",
                )
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
        when, where, number = _time_at(stream, stream.consumed)
        raw = bytes(buf[: body_start + length])
        yield Record(when, stream.src, stream.dst, "tcp", raw, where, "", number)
        _tcp_consume(stream, body_start + length)


def _ws_upgrade(stream: _Stream) -> bool | None:
    """At an HTTP request or 101 response starting a stream: whether it upgrades the
    connection to WebSocket (RFC 6455 §4; SIP over it, RFC 7118 §4); None until its
    header is all there. An upgrade is consumed and the stream reads WebSocket frames."""
    buf = stream.buffer
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None if len(buf) <= MAX_MESSAGE_SIZE else False
    if _WS_UPGRADE.search(bytes(buf[:end])) is None:
        return False
    _tcp_consume(stream, end + 4)
    stream.synced = stream.websocket = True
    return True


def _ws_messages(stream: _Stream) -> Iterator[Record]:
    """The WebSocket frames at the front of the stream: each data message (text or
    binary, in one frame or several, RFC 6455 §5.4) that looks like SIP is one record,
    at the packet where its first frame starts; control frames and other messages are
    skipped."""
    buf = stream.buffer
    while buf:
        try:
            frame = _ws_frame(buf)
        except ValueError as exc:
            yield from _tcp_break(stream, str(exc))
            return
        if frame is None:
            return
        size, opcode, fin, payload = frame
        if opcode in (1, 2):
            stream.ws_message = bytearray(payload)
            stream.ws_at = _time_at(stream, stream.consumed)
        elif opcode == 0 and stream.ws_message is not None:
            stream.ws_message += payload
            if len(stream.ws_message) > MAX_MESSAGE_SIZE:
                stream.ws_message = None
                yield from _tcp_break(
                    stream, f"a WebSocket message larger than {MAX_MESSAGE_SIZE} (MAX_MESSAGE_SIZE)"
                )
                return
        if fin and opcode in (0, 1, 2) and stream.ws_message is not None:
            message = bytes(stream.ws_message)
            stream.ws_message = None
            if looks_like_sip(message):
                when, where, number = stream.ws_at
                yield Record(when, stream.src, stream.dst, "tcp", message, where, "", number)
        _tcp_consume(stream, size)


def _tcp_consume(stream: _Stream, count: int) -> None:
    del stream.buffer[:count]
    stream.consumed += count
    stream.scanned = 0
    stream.crlf = False
    first = max(bisect.bisect_right(stream.offsets, stream.consumed, stream.first) - 1, 0)
    if first > 64 and first * 2 > len(stream.offsets):  # forget what is long framed
        del stream.offsets[:first]
        del stream.times[:first]
        first = 0
    stream.first = first


def _tcp_break(stream: _Stream, reason: str) -> Iterator[Record]:
    when, where, number = _time_at(stream, stream.consumed)
    yield Record(
        when,
        stream.src,
        stream.dst,
        "tcp",
        bytes(stream.buffer),
        where,
        f"{reason}; the rest of this TCP stream cannot be framed",
        number,
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
        _data, when, where, number = stream.pending[first]
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
                number,
            )
        return
    if stream.buffer.strip(b"\r\n") and stream.synced:
        when, where, number = _time_at(stream, stream.consumed)
        yield Record(
            when,
            stream.src,
            stream.dst,
            "tcp",
            bytes(stream.buffer),
            where,
            f"the capture ends inside a message ({len(stream.buffer)} octets framed so far)",
            number,
        )


__all__ = [
    "CONVERT_SECONDS",
    "FORMATS",
    "FRAME_ERROR",
    "FRAME_FRAGMENT",
    "FRAME_HEP_OTHER",
    "FRAME_SCTP_OTHER",
    "FRAME_SIP",
    "FRAME_STREAM",
    "FRAME_TCP_EMPTY",
    "FRAME_UDP_OTHER",
    "MAX_ADDRESS",
    "MAX_DATAGRAMS",
    "MAX_FILE_SIZE",
    "MAX_FRAGMENTS",
    "MAX_JSON_DEPTH",
    "MAX_LAYERS",
    "MAX_LISTED",
    "MAX_SNAPLEN",
    "MAX_TIME",
    "RECEIVER",
    "SENDER",
    "CaptureError",
    "Disorder",
    "Record",
    "Trace",
    "detect",
    "jsonl_line",
    "read",
    "read_capture",
    "read_file",
    "read_jsonl",
    "read_sim",
    "read_sipp",
    "shown",
    "sipp_local_address",
]
