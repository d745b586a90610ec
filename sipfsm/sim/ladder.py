"""Ladder diagrams of a simulator trace: RFC 3665-style text, Mermaid and SVG.

All three are drawn from one layout, made from the trace records (`sipfsm.sim.trace`)
alone; nothing here knows a protocol rule. What a ladder shows:

* one column per element, in the order given; a name that only the trace mentions gets an
  extra column at the right (``?`` for an empty name);
* one arrow per ``send`` record, in send order, numbered F1, F2 ... as in RFC 3665 §3
  (a retransmission is a new message on the wire and gets its own number, as in RFC 3665
  §3.10); its fate comes from the ``deliver`` or ``lost`` record that matches it (same
  sender, receiver and message, first sent first matched): a lost message stops short of
  the receiver with an ``x`` and says "lost"; a message neither delivered nor lost when
  the trace ends says "in flight"; a ``deliver`` or ``lost`` with no matching send is
  drawn where it happens, with its own number;
* a retransmission (``retransmission=True`` on the send) says "retx" (dashed in Mermaid
  and SVG); a ``duplicate`` record draws an extra arrow with the number of the message it
  copies and says "dup"; a later ``deliver`` that finds no send is taken as that copy's
  arrival and not drawn again;
* a ``state`` record that immediately follows a send (only ``deliver``/``lost``/
  ``duplicate`` records between them) or a timer firing, of the same element and, when
  both name one, the same transaction, labels that arrow or timer in the side column, e.g.
  ``bob ist: proceeding->accepted``; any other state change, TU action, outcome, discard
  or violation is a line of its own in the side column; a "change" to the same state is
  not shown;
* a ``timer`` record is written beside the element's line ("Timer A");
* the virtual time of each line in the left column (text and SVG).

Every function is deterministic and total: records are ordered by (t, seq), unknown or
empty names get a column, text is cleaned of control characters and escaped for the
target format, and a label that does not fit is shortened with ``..`` keeping its F number
and its marks. Text lines are at most `MAX_WIDTH` characters for up to eight columns.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from sipfsm.sim.trace import MessageInfo, TraceRecord
from sipfsm.values.errors import UnknownName

LadderFormat = Literal["text", "mermaid", "svg"]
#: The formats `write_ladder` writes, and the file extension of each.
LADDER_FORMATS: tuple[LadderFormat, ...] = ("text", "mermaid", "svg")
EXTENSIONS: dict[str, str] = {"text": "txt", "mermaid": "mmd", "svg": "svg"}

#: The widest line of a text ladder.
MAX_WIDTH = 120
#: The name of a column for an empty element name.
UNNAMED = "?"
#: Written for the state before a machine's first state (its creation).
NEW = "(new)"

Fate = Literal["delivered", "lost", "flight", "dup"]
_NETWORK = frozenset({"deliver", "lost", "duplicate"})


# -- the layout: what is drawn, shared by the three formats --------------------------------


@dataclass(frozen=True, slots=True)
class _Change:
    machine: str
    before: str
    after: str

    def text(self, arrow: str) -> str:
        machine = f"{self.machine}: " if self.machine else ""
        return f"{machine}{self.before or NEW}{arrow}{self.after}"


@dataclass(slots=True)
class _Row:
    """One line of the ladder: an arrow, a timer firing, a state change of its own, or a
    side note (TU, outcome, discard, violation)."""

    kind: Literal["arrow", "timer", "state", "note"]
    t: float
    src: int  # column of the sender, of the timer's or the note's element
    dst: int  # column of the receiver (arrows); == src otherwise
    label: str = ""  # arrow: the message ("INVITE", "200 OK (BYE)"); timer: "Timer A"
    number: int = 0  # the F number of an arrow
    retx: bool = False
    fate: Fate = "delivered"
    change: _Change | None = None  # the sender's (timer's) state change
    note: str = ""  # a note row's text, without its element
    violation: bool = False
    # the matching keys of an arrow (sender, receiver, message)
    key: tuple[str, str, MessageInfo | None] = field(default=("", "", None))

    @property
    def marks(self) -> tuple[str, ...]:
        marks: tuple[str, ...] = ("retx",) if self.retx else ()
        if self.fate == "lost":
            marks += ("lost",)
        elif self.fate == "dup":
            marks += ("dup",)
        elif self.fate == "flight":
            marks += ("in flight",)
        return marks

    @property
    def tail(self) -> str:
        """What an arrow label must keep when shortened: " F3 (retx, lost)"."""
        marks = f" ({', '.join(self.marks)})" if self.marks else ""
        return f" F{self.number}{marks}"


@dataclass(frozen=True, slots=True)
class _Layout:
    columns: tuple[str, ...]
    rows: tuple[_Row, ...]

    def side(self, row: _Row, arrow: str = "->") -> str:
        """The side-column text of a row, its element first."""
        if row.kind == "note":
            return f"{self.columns[row.src]} {row.note}"
        if row.change is not None:
            return f"{self.columns[row.src]} {row.change.text(arrow)}"
        return ""


def _when(record: TraceRecord) -> float:
    try:
        t = float(record.t)
    except (TypeError, ValueError):
        return math.inf
    return math.inf if math.isnan(t) else t


def _name(name: str) -> str:
    return name or UNNAMED


def _label_of(record: TraceRecord) -> str:
    if record.message is not None:
        return record.message.label
    return record.text or "message"


def _note_of(record: TraceRecord) -> str:
    where = f" ({record.rfc})" if record.rfc else ""
    if record.kind == "tu":
        return f"TU: {record.text}"
    if record.kind == "outcome":
        code = f" {record.code}" if record.code is not None else ""
        text = f": {record.text}" if record.text else ""
        return f"outcome{code}{text}{where}"
    if record.kind == "discard":
        return f"discards: {record.text}{where}"
    if record.kind == "violation":
        return f"VIOLATION: {record.text}{where}"
    return f"{record.kind}: {record.text}{where}"


def _change(record: TraceRecord) -> _Change:
    return _Change(record.machine, record.state_before, record.state_after)


def _same_tx(a: TraceRecord, b: TraceRecord) -> bool:
    return not a.tx or not b.tx or a.tx == b.tx


def _follows(records: Sequence[TraceRecord], i: int, owner: str, used: set[int]) -> int | None:
    """The index of the state record that immediately follows record ``i`` (only network
    records between them), when it is ``owner``'s and of the same transaction."""
    j = i + 1
    while j < len(records) and records[j].kind in _NETWORK:
        j += 1
    if j >= len(records) or j in used:
        return None
    nxt = records[j]
    if nxt.kind == "state" and _name(nxt.element) == owner and _same_tx(records[i], nxt):
        return j
    return None


# complex on purpose (C901): one branch per kind of trace record
def _layout(records: Iterable[TraceRecord], elements: Sequence[str]) -> _Layout:  # noqa: C901
    recs = sorted(records, key=lambda r: (_when(r), r.seq))
    columns: dict[str, int] = {}

    def col(name: str) -> int:
        name = _name(name)
        if name not in columns:
            columns[name] = len(columns)
        return columns[name]

    for name in elements:
        col(name)
    rows: list[_Row] = []
    pending: list[_Row] = []  # arrows sent, neither delivered nor lost yet
    copies: Counter[tuple[str, str, MessageInfo | None]] = Counter()
    used: set[int] = set()  # state records drawn as the label of an arrow or timer
    number = 0

    def arrow(r: TraceRecord, src: str, fate: Fate) -> _Row:
        nonlocal number
        number += 1
        row = _Row(
            "arrow",
            _when(r),
            col(src),
            col(r.dst),
            _label_of(r),
            number,
            r.retransmission,
            fate,
            key=(_name(src), _name(r.dst), r.message),
        )
        rows.append(row)
        return row

    by_seq: dict[int, _Row] = {}
    for i, r in enumerate(recs):
        if r.kind == "send":
            sender = r.src or r.element
            pending.append(arrow(r, sender, "flight"))
            by_seq[r.seq] = pending[-1]
            j = _follows(recs, i, _name(sender), used)
            if j is not None:
                used.add(j)
                rows[-1].change = _change(recs[j])
        elif r.kind in ("deliver", "lost"):
            # the send it belongs to: named by ``ref`` when the trace has it, else the first
            # pending send of the same message on the same link
            sent = by_seq.get(r.ref) if r.ref is not None else None
            if sent is None or sent not in pending:
                sent = next((a for a in pending if _matches(a, r)), None)
            if sent is not None:
                pending.remove(sent)
                sent.fate = "delivered" if r.kind == "deliver" else "lost"
                continue
            key = (_name(r.src), _name(r.dst), r.message)
            if r.kind == "deliver" and copies[key] > 0:
                copies[key] -= 1  # the arrival of a copy already drawn as "dup"
                continue
            arrow(r, r.src, "delivered" if r.kind == "deliver" else "lost")
        elif r.kind == "duplicate":
            origin = next((a for a in reversed(rows) if a.kind == "arrow" and _matches(a, r)), None)
            if origin is None:
                origin = arrow(r, r.src, "dup")
            else:
                rows.append(
                    _Row(
                        "arrow",
                        _when(r),
                        origin.src,
                        origin.dst,
                        origin.label,
                        origin.number,
                        False,
                        "dup",
                        key=origin.key,
                    )
                )
            copies[origin.key] += 1
        elif r.kind == "timer":
            name = r.timer or r.text
            label = name if name.lower().startswith("timer") else f"Timer {name}".strip()
            c = col(r.element)
            rows.append(_Row("timer", _when(r), c, c, label))
            j = _follows(recs, i, _name(r.element), used)
            if j is not None:
                used.add(j)
                rows[-1].change = _change(recs[j])
        elif i in used or (r.kind == "state" and r.state_before == r.state_after):
            continue
        elif r.kind == "state":
            c = col(r.element)
            rows.append(_Row("state", _when(r), c, c, change=_change(r)))
        else:
            c = col(r.element)
            rows.append(
                _Row("note", _when(r), c, c, note=_note_of(r), violation=r.kind == "violation")
            )
    for row in rows:
        if row.change is not None and row.change.before == row.change.after:
            row.change = None
    return _Layout(tuple(columns), tuple(rows))


def _matches(row: _Row, r: TraceRecord) -> bool:
    src, dst, message = row.key
    if r.src and _name(r.src) != src:
        return False
    if r.dst and _name(r.dst) != dst:
        return False
    return r.message is None or r.message == message


# -- text helpers --------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    """One printable line: line breaks and tabs become spaces, other control characters and
    lone surrogates ``\\xNN`` / ``\\uNNNN`` escapes (no XML document may hold them)."""

    def sub(m: re.Match[str]) -> str:
        ch = m.group(0)
        if ch in "\r\n\t\x85\u2028\u2029":
            return " "
        code = ord(ch)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return _CONTROL.sub(sub, text)


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, shortened with ``..``."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: width - 2] + ".." if width > 3 else text[:width]


def _fit(label: str, tail: str, width: int) -> str:
    """``label + tail`` in ``width`` characters, shortening the label first."""
    full = label + tail
    if len(full) <= width:
        return full
    keep = width - len(tail) - 2
    if keep >= 1:
        return label[:keep].rstrip() + ".." + tail
    return _cut(full.strip(), width)


def _time(t: float) -> str:
    if math.isinf(t):
        return "?"
    text = f"{t:.3f}" if t != 0 else "0.000"
    return text if len(text) <= 12 else f"{t:.3e}"


# -- text ----------------------------------------------------------------------------------

#: The side column is at least this wide; the space between lifelines shrinks to keep it.
_MIN_SIDE = 28
_MAX_GAP = 32
_MIN_GAP = 10


def ladder_text(records: Iterable[TraceRecord], elements: Sequence[str], *, title: str = "") -> str:
    """A ladder in the style of RFC 3665 §3: time at the left, one column per element,
    arrows ``|-----INVITE F1----->|``, side notes (state changes ...) at the right."""
    lay = _layout(records, elements)
    names = [_clean(c) for c in lay.columns]
    n = len(names)
    times = [_time(row.t) for row in lay.rows]
    tw = max([5, *(len(t) for t in times)])
    first = names[0] if names else ""
    x0 = tw + 2 + max(2, (min(len(first), _MAX_GAP - 2) + 1) // 2)
    room = MAX_WIDTH - x0 - 3 - _MIN_SIDE
    gap = max(_MIN_GAP, min(_MAX_GAP, room // (n - 1))) if n > 1 else _MAX_GAP
    xs = [x0 + i * gap for i in range(n)]
    side_at = (xs[-1] + 3 + (gap if n == 1 else 0)) if n else tw + 2
    out: list[str] = []
    if title:
        out += [_cut(_clean(title), MAX_WIDTH), ""]
    if not n:
        return "\n".join(out) + "\n" if out else ""
    head = [" "] * (xs[-1] + gap)
    for x, name in zip(xs, names, strict=True):
        shown = _cut(name, gap - 2)
        start = max(0, x - (len(shown) - 1) // 2)
        head[start : start + len(shown)] = list(shown)
    out.append("".join(head).rstrip())
    out.append(_blank(tw, xs, ""))
    for row, t in zip(lay.rows, times, strict=True):
        line = list(_blank(tw, xs, t))
        if row.kind == "arrow" and row.src != row.dst:
            _draw_arrow(line, xs[row.src], xs[row.dst], row)
        elif row.kind == "arrow":
            _beside(line, xs, row.src, gap, "<> " + _fit(_clean(row.label), row.tail, gap - 6))
        elif row.kind == "timer":
            _beside(line, xs, row.src, gap, _clean(row.label))
        text = "".join(line).rstrip()
        side = _clean(lay.side(row))
        if side:
            text = text.ljust(side_at) + _cut(side, MAX_WIDTH - side_at)
        out.append(text)
    out.append(_blank(tw, xs, ""))
    return "\n".join(out) + "\n"


def _blank(tw: int, xs: Sequence[int], t: str) -> str:
    line = [" "] * (xs[-1] + 1)
    line[:tw] = list(t.rjust(tw))
    for x in xs:
        line[x] = "|"
    return "".join(line)


def _beside(line: list[str], xs: Sequence[int], c: int, gap: int, text: str) -> None:
    """Write ``text`` beside column ``c``'s line: to its right, or for the last of two or
    more columns to its left (as RFC 5407 writes "Timer J |")."""
    text = _cut(text, gap - 3)
    x = xs[c]
    if c == len(xs) - 1 and len(xs) > 1:
        start = x - 1 - len(text)
    else:
        start = x + 2
        if start + len(text) > len(line):
            line.extend(" " * (start + len(text) - len(line)))
    line[start : start + len(text)] = list(text)


def _draw_arrow(line: list[str], xa: int, xb: int, row: _Row) -> None:
    right = xb > xa
    lo, hi = min(xa, xb), max(xa, xb)
    lost = row.fate == "lost"
    # the span the shaft covers, between the two lifelines
    start, end = lo + 1, hi - 1
    if lost and right:
        end = hi - 4
    elif lost:
        start = lo + 4
    for x in range(start, end + 1):
        line[x] = "-"
    if lost:
        line[end if right else start] = "x"
    else:
        line[end if right else start] = ">" if right else "<"
    # the label: centred between the lines, with a dash either side of it besides the head
    width = end - start + 1
    label = _fit(_clean(row.label), row.tail, width - 3)
    if label:
        first, last = (start + 1, end - 1 - len(label)) if right else (start + 2, end - len(label))
        at = min(max(start + (width - len(label)) // 2, first), last)
        line[at : at + len(label)] = list(label)


# -- Mermaid -------------------------------------------------------------------------------

_MERMAID_KEYWORDS = (
    "accdescr", "acctitle", "activate", "actor", "alt", "and", "as", "autonumber", "box",
    "break", "create", "critical", "deactivate", "destroy", "details", "else", "end", "left",
    "link", "loop", "note", "off", "opt", "over", "par", "participant", "properties", "rect",
    "right", "sequencediagram", "title", "x",
)  # fmt: skip
_MERMAID_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# characters that end a Mermaid statement or open a comment, an entity or an HTML tag
_MERMAID_ESCAPE = {ch: f"#{ord(ch)};" for ch in "#;%<>&"}


def _mermaid_text(text: str) -> str:
    """Text for a Mermaid message, note, alias or title: ``# ; % < > &`` as entity codes
    (``#59;``), which Mermaid decodes when it draws; never empty."""
    text = "".join(_MERMAID_ESCAPE.get(ch, ch) for ch in _clean(text)).strip()
    # Mermaid reads a leading "wrap:"/"nowrap:" as a directive and, before parsing, drops the
    # ";" of an entity on a line that has "style ... :" or "classDef ... :".
    text = re.sub(
        r"(?i)^(no)?wrap:", lambda m: "#" + str(ord(m.group(0)[0])) + ";" + m.group(0)[1:], text
    )
    text = text.replace("style", "styl#101;").replace("classDef", "classDe#102;")
    return text or "?"


def _mermaid_ids(columns: Sequence[str]) -> list[str]:
    """A Mermaid id per column: the name itself when Mermaid reads it as one word (letters,
    digits, ``_``; not starting like a keyword, since Mermaid's lexer has no word
    boundaries), else ``E1``, ``E2`` ... with the name as the participant's alias."""
    ids: list[str] = []
    taken = {c for c in columns if _mermaid_safe(c)}
    for i, name in enumerate(columns, start=1):
        if _mermaid_safe(name):
            ids.append(name)
            continue
        ident = f"E{i}"
        while ident in taken:
            ident += "_"
        taken.add(ident)
        ids.append(ident)
    return ids


def _mermaid_safe(name: str) -> bool:
    lower = name.lower()
    return bool(_MERMAID_ID.fullmatch(name)) and not lower.startswith(_MERMAID_KEYWORDS)


def ladder_mermaid(
    records: Iterable[TraceRecord], elements: Sequence[str], *, title: str = ""
) -> str:
    """A Mermaid ``sequenceDiagram``: ``->>`` delivered, ``-x`` lost, ``-)`` in flight,
    dotted for a retransmission or a duplicate; ``Note over`` a timer, ``Note right of`` a
    state change."""
    lay = _layout(records, elements)
    ids = _mermaid_ids(lay.columns)
    out = ["sequenceDiagram"]
    if title.strip():
        out.append(f"    title {_mermaid_text(title)}")
    for ident, name in zip(ids, lay.columns, strict=True):
        alias = "" if ident == name else f" as {_mermaid_text(name)}"
        out.append(f"    participant {ident}{alias}")
    for row in lay.rows:
        who = ids[row.src]
        if row.kind == "arrow":
            dotted = "-" if row.retx or row.fate == "dup" else ""
            head = {"lost": "x", "flight": ")"}.get(row.fate, ">>")
            text = _mermaid_text(row.label + row.tail)
            out.append(f"    {who}-{dotted}{head}{ids[row.dst]}: {text}")
        elif row.kind == "timer":
            out.append(f"    Note over {who}: {_mermaid_text(row.label + ' fires')}")
        elif row.kind == "note":
            out.append(f"    Note over {who}: {_mermaid_text(row.note)}")
        if row.change is not None:
            out.append(f"    Note right of {who}: {_mermaid_text(row.change.text(' → '))}")
    return "\n".join(out) + "\n"


# -- SVG -----------------------------------------------------------------------------------


def _chars(px: int) -> int:
    """How many characters of the 12px monospace font (7.2px each) fit in ``px``."""
    return max(0, px * 10 // 73)


_TIME_W = 64
_COL = 260
_ROW = 28
_HEAD_W = 140
_HEAD_H = 26
_SIDE_W = 400
_RED = "#c0392b"
_GREY = "#7f8c8d"
#: A white halo behind a label, so a lifeline it crosses does not run through its letters.
_HALO = 'stroke="#fff" stroke-width="4" paint-order="stroke"'


def _x(text: str) -> str:
    return escape(_clean(text), {'"': "&quot;", "'": "&apos;"})


def ladder_svg(records: Iterable[TraceRecord], elements: Sequence[str], *, title: str = "") -> str:
    """A standalone SVG ladder: lifelines, arrows with arrowheads (``class="arrow"``, one
    ``<line>`` or ``<path>`` each), lost arrows red ending in a cross, retransmissions
    dashed, duplicates dotted, timers as a dot on the lifeline, side notes at the right."""
    lay = _layout(records, elements)
    n = len(lay.columns)
    xs = [_TIME_W + _COL // 2 + i * _COL for i in range(n)]
    top = 40 if title else 12
    y0 = top + _HEAD_H + 24
    rows = len(lay.rows)
    bottom = y0 + rows * _ROW - 8
    side_x = (xs[-1] + 24 + (_COL // 2 if n == 1 else 0)) if n else _TIME_W
    width = side_x + _SIDE_W
    height = bottom + 16
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">',
    ]
    if title:
        out.append(f"<title>{_x(title)}</title>")
    out += [
        "<defs>",
        '<marker id="ladder-head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#000"/></marker>',
        '<marker id="ladder-head-grey" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{_GREY}"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
    ]
    if title:
        out.append(f'<text x="8" y="24" font-size="14" font-weight="bold">{_x(title)}</text>')
    for x, name in zip(xs, lay.columns, strict=True):
        out.append(
            f'<rect class="head" x="{x - _HEAD_W // 2}" y="{top}" width="{_HEAD_W}" '
            f'height="{_HEAD_H}" fill="#eef" stroke="#000"/>'
        )
        out.append(
            f'<text x="{x}" y="{top + 17}" text-anchor="middle">'
            f"{_x(_cut(_clean(name), _chars(_HEAD_W - 8)))}</text>"
        )
        out.append(
            f'<line class="lifeline" x1="{x}" y1="{top + _HEAD_H}" x2="{x}" '
            f'y2="{bottom}" stroke="#000"/>'
        )
    for k, row in enumerate(lay.rows):
        y = y0 + k * _ROW
        out.append(
            f'<text class="time" x="{_TIME_W - 8}" y="{y + 4}" text-anchor="end" '
            f'fill="{_GREY}">{_x(_time(row.t))}</text>'
        )
        if row.kind == "arrow":
            out += _svg_arrow(xs, row, y)
        elif row.kind == "timer":
            x = xs[row.src]
            out.append(f'<circle class="timer" cx="{x}" cy="{y}" r="4" fill="#fff" stroke="#000"/>')
            label = _x(_cut(_clean(row.label), _chars(_COL - 24)))
            if row.src == n - 1 and n > 1:
                out.append(
                    f'<text class="timer" x="{x - 8}" y="{y + 4}" text-anchor="end">{label}</text>'
                )
            else:
                out.append(f'<text class="timer" x="{x + 8}" y="{y + 4}">{label}</text>')
        side = lay.side(row, " → ")
        if side:
            colour = _RED if row.violation else "#555"
            out.append(
                f'<text class="note" x="{side_x}" y="{y + 4}" fill="{colour}">'
                f"{_x(_cut(_clean(side), _chars(_SIDE_W - 16)))}</text>"
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_arrow(xs: Sequence[int], row: _Row, y: int) -> list[str]:
    xa, xb = xs[row.src], xs[row.dst]
    classes = ["arrow", *(m.replace(" ", "-") for m in row.marks)]
    colour = _RED if row.fate == "lost" else _GREY if row.fate == "flight" else "#000"
    dash = ""
    if row.retx:
        dash = ' stroke-dasharray="6 4"'
    elif row.fate == "dup":
        dash = ' stroke-dasharray="2 3"'
    head = ' marker-end="url(#ladder-head)"'
    if row.fate == "lost":
        head = ""  # a cross instead
    elif row.fate == "flight":
        head = ' marker-end="url(#ladder-head-grey)"'
    style = f'stroke="{colour}" fill="none"{dash}{head}'
    if xa == xb:  # a message to itself: a small loop to the right of the line
        label = _x(_fit(_clean(row.label), row.tail, _chars(_COL - 48)))
        return [
            f'<path class="{" ".join(classes)}" d="M{xa},{y - 6} h30 v12 h-30" {style}/>',
            f'<text class="label" x="{xa + 36}" y="{y + 4}" fill="{colour}" {_HALO}>{label}</text>',
        ]
    right = xb > xa
    end = xb - 16 if row.fate == "lost" and right else xb + 16 if row.fate == "lost" else xb
    out = [f'<line class="{" ".join(classes)}" x1="{xa}" y1="{y}" x2="{end}" y2="{y}" {style}/>']
    if row.fate == "lost":
        out.append(
            f'<path class="cross" d="M{end - 5},{y - 5} L{end + 5},{y + 5} '
            f'M{end - 5},{y + 5} L{end + 5},{y - 5}" stroke="{_RED}" stroke-width="2"/>'
        )
    label = _x(_fit(_clean(row.label), row.tail, _chars(abs(end - xa) - 8)))
    out.append(
        f'<text class="label" x="{(xa + end) // 2}" y="{y - 5}" text-anchor="middle" '
        f'fill="{colour}" {_HALO}>{label}</text>'
    )
    return out


# -- files ---------------------------------------------------------------------------------


def write_ladder(
    records: Iterable[TraceRecord],
    elements: Sequence[str],
    fmt: LadderFormat,
    path: Path,
    title: str = "",
) -> Path:
    """Write the ladder in ``fmt`` to ``path`` (UTF-8; parent folders made) and return
    ``path``. An unknown format is an `UnknownName` error naming the valid ones."""
    draw = {"text": ladder_text, "mermaid": ladder_mermaid, "svg": ladder_svg}.get(fmt)
    if draw is None:
        raise UnknownName("ladder format", fmt, LADDER_FORMATS)
    text = draw(list(records), elements, title=title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
