"""Ladder diagrams of a simulator trace (sipfsm.sim.ladder): text, Mermaid and SVG.

What is checked: the RFC 3665 §3.1 flow (INVITE, 180, 200, ACK; Bob's BYE and its 200) as
a text ladder and as Mermaid, exactly; F numbers in send order, one per message on the wire,
retransmissions included (RFC 3665 §3.10); arrow directions; a lost message stops with an
``x`` and says "lost"; a retransmission and a duplicate are marked; a timer is written
beside its element's line with the state change it caused; a state change that follows a
send labels that arrow; unknown names get a column; an empty trace draws the heads; hostile
labels cannot break Mermaid or the SVG; every output is deterministic and no input makes
a function raise.

The records are built by hand, as the simulator would write them, with
`MessageInfo.of` on `sipfsm.values.message` values.
"""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import make_request
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.sim.ladder import (
    EXTENSIONS,
    LADDER_FORMATS,
    MAX_WIDTH,
    ladder_mermaid,
    ladder_svg,
    ladder_text,
    write_ladder,
)
from sipfsm.sim.trace import MessageInfo, RecordKind, TraceRecord
from sipfsm.values.errors import UnknownName
from sipfsm.values.message import Message, response_to

SVG = "{http://www.w3.org/2000/svg}"

# -- the messages of RFC 3665 §3.1 -------------------------------------------------------------

INVITE = make_request(
    "INVITE",
    call_id="3848276298220188511@atlanta.example.com",
    cseq=1,
    from_tag="9fxced76sl",
    branch="z9hG4bK74bf9",
    sent_by="client.atlanta.example.com:5060",
)
RINGING = response_to(INVITE, 180, to_tag="8321234356")
OK_INVITE = response_to(INVITE, 200, to_tag="8321234356")
ACK = make_request(
    "ACK",
    call_id=INVITE.call_id,
    cseq=1,
    from_tag="9fxced76sl",
    to_tag="8321234356",
    branch="z9hG4bKnashds9",
    sent_by="client.atlanta.example.com:5060",
)
BYE = make_request(
    "BYE",
    uri="sip:alice@client.atlanta.example.com",
    call_id=INVITE.call_id,
    cseq=1,
    from_tag="8321234356",
    to_tag="9fxced76sl",
    branch="z9hG4bKnashds7",
    sent_by="client.biloxi.example.com:5060",
)
OK_BYE = response_to(BYE, 200)


class Trace:
    """Records as the simulator writes them: ``seq`` in order, ``t`` set by `at`."""

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []
        self.t = 0.0

    def at(self, t: float) -> Trace:
        self.t = t
        return self

    def add(self, kind: RecordKind, element: str, **fields: object) -> Trace:
        self.records.append(
            TraceRecord(self.t, len(self.records), kind, element, **fields)  # type: ignore[arg-type]
        )
        return self

    def send(self, src: str, dst: str, message: Message, *, retx: bool = False) -> Trace:
        info = MessageInfo.of(message)
        return self.add("send", src, src=src, dst=dst, message=info, retransmission=retx)

    def deliver(self, src: str, dst: str, message: Message) -> Trace:
        return self.add("deliver", dst, src=src, dst=dst, message=MessageInfo.of(message))

    def lost(self, src: str, dst: str, message: Message) -> Trace:
        return self.add("lost", src, src=src, dst=dst, message=MessageInfo.of(message))

    def duplicate(self, src: str, dst: str, message: Message) -> Trace:
        return self.add("duplicate", dst, src=src, dst=dst, message=MessageInfo.of(message))

    def state(self, element: str, machine: str, before: str, after: str, tx: str = "") -> Trace:
        return self.add(
            "state", element, machine=machine, tx=tx, state_before=before, state_after=after
        )

    def timer(self, element: str, machine: str, timer: str, tx: str = "") -> Trace:
        return self.add("timer", element, machine=machine, tx=tx, timer=timer)


def rfc3665_3_1() -> list[TraceRecord]:
    """RFC 3665 §3.1: Alice calls Bob directly, Bob hangs up; 10 ms links."""
    tr = Trace()
    tr.send("alice", "bob", INVITE).state("alice", "ict", "", "calling")
    tr.at(0.010).deliver("alice", "bob", INVITE).state("bob", "ist", "", "proceeding")
    tr.send("bob", "alice", RINGING)
    tr.at(0.020).deliver("bob", "alice", RINGING).state("alice", "ict", "calling", "proceeding")
    tr.at(2.0).send("bob", "alice", OK_INVITE).state("bob", "ist", "proceeding", "accepted")
    tr.at(2.010).deliver("bob", "alice", OK_INVITE)
    tr.state("alice", "ict", "proceeding", "accepted")
    tr.send("alice", "bob", ACK)
    tr.at(2.020).deliver("alice", "bob", ACK)
    tr.at(10.0).send("bob", "alice", BYE).state("bob", "nict", "", "trying")
    tr.at(10.010).deliver("bob", "alice", BYE).state("alice", "nist", "", "trying")
    tr.send("alice", "bob", OK_BYE).state("alice", "nist", "trying", "completed")
    tr.at(10.020).deliver("alice", "bob", OK_BYE).state("bob", "nict", "trying", "completed")
    return tr.records


GOLDEN_TEXT = """\
RFC 3665 3.1 Successful Session Establishment

         alice                            bob
           |                               |
 0.000     |-----------INVITE F1---------->|  alice ict: (new)->calling
 0.010     |                               |  bob ist: (new)->proceeding
 0.010     |<-------180 Ringing F2---------|
 0.020     |                               |  alice ict: calling->proceeding
 2.000     |<----------200 OK F3-----------|  bob ist: proceeding->accepted
 2.010     |                               |  alice ict: proceeding->accepted
 2.010     |------------ACK F4------------>|
10.000     |<-----------BYE F5-------------|  bob nict: (new)->trying
10.010     |                               |  alice nist: (new)->trying
10.010     |--------200 OK (BYE) F6------->|  alice nist: trying->completed
10.020     |                               |  bob nict: trying->completed
           |                               |
"""

GOLDEN_MERMAID = """\
sequenceDiagram
    title RFC 3665 3.1 Successful Session Establishment
    participant alice
    participant bob
    alice->>bob: INVITE F1
    Note right of alice: ict: (new) → calling
    Note right of bob: ist: (new) → proceeding
    bob->>alice: 180 Ringing F2
    Note right of alice: ict: calling → proceeding
    bob->>alice: 200 OK F3
    Note right of bob: ist: proceeding → accepted
    Note right of alice: ict: proceeding → accepted
    alice->>bob: ACK F4
    bob->>alice: BYE F5
    Note right of bob: nict: (new) → trying
    Note right of alice: nist: (new) → trying
    alice->>bob: 200 OK (BYE) F6
    Note right of alice: nist: trying → completed
    Note right of bob: nict: trying → completed
"""

TITLE = "RFC 3665 3.1 Successful Session Establishment"


def arrows(text: str) -> list[str]:
    """The arrow lines of a text ladder, without the time column and side notes."""
    out = []
    for line in text.splitlines():
        m = re.search(r"\|[-<x ].*F\d+.*?[->x ]\|", line)
        if m and "-" in m.group(0):
            out.append(m.group(0))
    return out


def shapes(text: str) -> list[str]:
    """The arrows of a text ladder with each run of dashes as one: "|-INVITE F1->|"."""
    return [re.sub("-+", "-", a) for a in arrows(text)]


# -- text ----------------------------------------------------------------------------------


def test_text_ladder_of_rfc3665_3_1_golden() -> None:
    assert ladder_text(rfc3665_3_1(), ["alice", "bob"], title=TITLE) == GOLDEN_TEXT


def test_text_ladder_numbers_messages_in_send_order_rfc3665_3() -> None:
    labels = [re.search(r"[A-Z0-9][^-<>|]*F\d+", a) for a in arrows(GOLDEN_TEXT)]
    assert [m.group(0) for m in labels if m] == [
        "INVITE F1",
        "180 Ringing F2",
        "200 OK F3",
        "ACK F4",
        "BYE F5",
        "200 OK (BYE) F6",
    ]


def test_text_ladder_arrow_points_from_sender_to_receiver() -> None:
    # alice (left column) sends INVITE, ACK and the 200 to the BYE; bob the others
    assert shapes(ladder_text(rfc3665_3_1(), ["alice", "bob"])) == [
        "|-INVITE F1->|",
        "|<-180 Ringing F2-|",
        "|<-200 OK F3-|",
        "|-ACK F4->|",
        "|<-BYE F5-|",
        "|-200 OK (BYE) F6->|",
    ]
    # the column order decides the direction, not the names
    assert shapes(ladder_text(rfc3665_3_1(), ["bob", "alice"]))[:2] == [
        "|<-INVITE F1-|",
        "|-180 Ringing F2->|",
    ]


def test_text_ladder_lost_message_stops_with_x_before_receiver() -> None:
    tr = Trace().send("alice", "bob", INVITE).lost("alice", "bob", INVITE)
    tr.send("bob", "alice", OK_INVITE).lost("bob", "alice", OK_INVITE)
    text = ladder_text(tr.records, ["alice", "bob"])
    to_bob, to_alice = arrows(text)
    assert re.fullmatch(r"\|-+INVITE F1 \(lost\)-+x {3}\|", to_bob)
    assert re.fullmatch(r"\| {3}x-+200 OK F2 \(lost\)-+\|", to_alice)


def test_text_ladder_marks_retransmission_and_numbers_it_rfc3665_3_10() -> None:
    tr = Trace().send("alice", "bob", INVITE).lost("alice", "bob", INVITE)
    tr.at(0.5).timer("alice", "ict", "A").send("alice", "bob", INVITE, retx=True)
    tr.at(0.51).deliver("alice", "bob", INVITE)
    assert ladder_text(tr.records, ["alice", "bob"]).splitlines()[2:] == [
        "0.000     |------INVITE F1 (lost)-----x   |",
        "0.500     | Timer A                       |",
        "0.500     |-------INVITE F2 (retx)------->|",
        "          |                               |",
    ]


def test_text_ladder_writes_timer_beside_its_line_with_its_state_change_rfc3261_17_2_1() -> None:
    # the IST leaves Completed for Terminated when Timer H fires (RFC 3261 §17.2.1)
    tr = Trace().at(32.0).timer("bob", "ist", "H", tx="t1")
    tr.state("bob", "ist", "completed", "terminated", tx="t1")
    tr.at(33.0).timer("alice", "ict", "D", tx="t2")
    lines = ladder_text(tr.records, ["alice", "bob"]).splitlines()
    assert (
        lines[2] == "32.000     |                       Timer H |  bob ist: completed->terminated"
    )
    assert lines[3] == "33.000     | Timer D                       |"


def test_text_ladder_state_of_another_transaction_is_not_the_arrows_label() -> None:
    tr = Trace().send("alice", "bob", ACK).state("alice", "ict", "accepted", "terminated", "t9")
    tr.records[0] = TraceRecord(0.0, 0, "send", "alice", "alice", "bob", MessageInfo.of(ACK),
                                machine="ict", tx="t1")  # fmt: skip
    lines = ladder_text(tr.records, ["alice", "bob"]).splitlines()
    assert lines[2].endswith("->|")  # no side note on the arrow
    assert lines[3].endswith("alice ict: accepted->terminated")


def test_text_ladder_same_state_is_no_change() -> None:
    tr = Trace().send("bob", "alice", RINGING).state("bob", "ist", "proceeding", "proceeding")
    tr.deliver("bob", "alice", RINGING).state("alice", "ict", "proceeding", "proceeding")
    assert ladder_text(tr.records, ["alice", "bob"]).splitlines()[2:] == [
        "0.000     |<-------180 Ringing F1---------|",
        "          |                               |",
    ]


def test_text_ladder_duplicate_keeps_the_number_of_the_copied_message() -> None:
    tr = Trace().send("alice", "bob", INVITE).duplicate("alice", "bob", INVITE)
    tr.at(0.01).deliver("alice", "bob", INVITE).at(0.02).deliver("alice", "bob", INVITE)
    tr.send("bob", "alice", RINGING).deliver("bob", "alice", RINGING)
    # the copy's arrival (the second deliver) is not a third INVITE
    assert shapes(ladder_text(tr.records, ["alice", "bob"])) == [
        "|-INVITE F1->|",
        "|-INVITE F1 (dup)->|",
        "|<-180 Ringing F2-|",
    ]


def test_text_ladder_crosses_middle_columns_and_keeps_lines_short() -> None:
    elements = ["alice", "proxy1", "proxy2", "bob"]
    tr = Trace().send("alice", "bob", INVITE).deliver("alice", "bob", INVITE)
    tr.send("bob", "proxy1", RINGING).lost("bob", "proxy1", RINGING)
    tr.send("proxy2", "alice", OK_INVITE).deliver("proxy2", "alice", OK_INVITE)
    tr.state("alice", "ict", "proceeding", "accepted " * 30)  # a very long side note
    text = ladder_text(tr.records, elements, title="x" * 300)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= MAX_WIDTH
    heads = lines[2]
    xs = [heads.index(name) + (len(name) - 1) // 2 for name in elements]
    inv, _ringing, _ok = arrows(text)
    start = lines[4].index("|")
    assert (
        lines[4][start : start + len(inv)] == inv and inv.count("|") == 2
    )  # crosses both middle lines
    assert lines[4][xs[0]] == "|" and lines[4][xs[3] - 1 : xs[3] + 1] == ">|"
    assert lines[5][xs[1]] == "|" and lines[5][xs[1] + 4] == "x" and "lost" in lines[5]
    assert lines[6][xs[0] : xs[0] + 2] == "|<" and lines[6][xs[2]] == "|"
    assert lines[7].endswith("..")


def test_text_ladder_long_label_keeps_its_number_and_marks() -> None:
    update = make_request("UPDATE" + "X" * 80, cseq=3)
    tr = Trace().send("bob", "alice", response_to(update, 200), retx=True)
    tr.lost("bob", "alice", response_to(update, 200))
    (arrow,) = arrows(ladder_text(tr.records, ["alice", "proxy", "p2", "bob"]))
    assert re.fullmatch(r"\|   x-200 OK \(UPDATEX+\.\. F1 \(retx, lost\)-+\|", arrow)


def test_text_ladder_draws_a_delivery_without_a_send_where_it_happens() -> None:
    tr = Trace().send("alice", "bob", INVITE).deliver("alice", "bob", INVITE)
    tr.deliver("bob", "alice", RINGING).lost("bob", "alice", OK_INVITE)
    tr.deliver("alice", "bob", INVITE)  # no send, no duplicate: a message of its own
    assert shapes(ladder_text(tr.records, ["alice", "bob"])) == [
        "|-INVITE F1->|",
        "|<-180 Ringing F2-|",
        "|   x-200 OK F3 (lost)-|",
        "|-INVITE F4->|",
    ]


def test_text_ladder_unknown_names_get_a_column() -> None:
    tr = Trace().send("alice", "carol", INVITE).deliver("alice", "carol", INVITE)
    tr.add("tu", "", text="hello")
    lines = ladder_text(tr.records, ["alice", "bob"]).splitlines()
    assert lines[0].split() == ["alice", "bob", "carol", "?"]
    assert lines[1].count("|") == 4
    assert lines[3].endswith("? TU: hello")


def test_text_ladder_of_empty_trace_draws_the_heads() -> None:
    assert ladder_text([], ["alice", "bob"]) == (
        "        alice                            bob\n"
        "          |                               |\n"
        "          |                               |\n"
    )
    assert ladder_text([], [], title="t") == "t\n\n"
    assert ladder_text([], []) == ""


# -- Mermaid -------------------------------------------------------------------------------


def test_mermaid_of_rfc3665_3_1_golden() -> None:
    assert ladder_mermaid(rfc3665_3_1(), ["alice", "bob"], title=TITLE) == GOLDEN_MERMAID


def test_mermaid_arrow_kinds() -> None:
    tr = Trace().send("alice", "bob", INVITE).lost("alice", "bob", INVITE)
    tr.send("alice", "bob", INVITE, retx=True).lost("alice", "bob", INVITE)
    tr.send("alice", "bob", INVITE, retx=True).deliver("alice", "bob", INVITE)
    tr.duplicate("alice", "bob", INVITE)
    tr.timer("alice", "ict", "A").send("bob", "alice", OK_INVITE)
    assert ladder_mermaid(tr.records, ["alice", "bob"]).splitlines()[3:] == [
        "    alice-xbob: INVITE F1 (lost)",
        "    alice--xbob: INVITE F2 (retx, lost)",
        "    alice-->>bob: INVITE F3 (retx)",
        "    alice-->>bob: INVITE F3 (dup)",
        "    Note over alice: Timer A fires",
        "    bob-)alice: 200 OK F4 (in flight)",
    ]


def test_mermaid_escapes_what_would_end_a_statement() -> None:
    hostile = "a;b#c\nd%%e<br>f&g"
    tr = Trace().send("alice", "bob", make_request(hostile)).add("tu", "bob", text=hostile)
    tr.add("violation", "alice", text="nowrap: x: y")
    out = ladder_mermaid(tr.records, ["alice", "bob"], title="style: #;")
    lines = out.splitlines()
    assert lines == [
        "sequenceDiagram",
        "    title styl#101;: #35;#59;",
        "    participant alice",
        "    participant bob",
        "    alice-)bob: a#59;b#35;c d#37;#37;e#60;br#62;f#38;g F1 (in flight)",
        "    Note over bob: TU: a#59;b#35;c d#37;#37;e#60;br#62;f#38;g",
        "    Note over alice: VIOLATION: nowrap: x: y",
    ]
    for line in lines[1:]:
        text = re.sub(r"#\d+;", "", line.partition(":")[2] if ":" in line else line)
        assert not set(text) & set("#;%<>&\n")


def test_mermaid_names_it_cannot_read_get_an_alias() -> None:
    tr = Trace().send("proxy-1", "end", INVITE).send("E3", "xavier", INVITE)
    tr.send("Bob Smith", "alice", INVITE).add("tu", "wrap:x")
    lines = ladder_mermaid(tr.records, ["alice"]).splitlines()
    assert lines[1:8] == [
        "    participant alice",
        "    participant E2 as proxy-1",
        "    participant E3_ as end",  # "end" ends a block; the E3 of the trace keeps its id
        "    participant E3",
        "    participant E5 as xavier",  # "alice-xxavier" would be hard to read
        "    participant E6 as Bob Smith",
        "    participant E7 as #119;rap:x",  # not the "wrap:" directive
    ]
    assert lines[8:11] == [
        "    E2-)E3_: INVITE F1 (in flight)",
        "    E3-)E5: INVITE F2 (in flight)",
        "    E6-)alice: INVITE F3 (in flight)",
    ]


# -- SVG -----------------------------------------------------------------------------------


def svg_root(text: str) -> ET.Element:
    return ET.fromstring(text)


def classes(el: ET.Element) -> set[str]:
    return set(el.get("class", "").split())


def test_svg_parses_and_draws_one_line_per_arrow() -> None:
    tr = Trace()
    tr.records = rfc3665_3_1()
    tr.at(11.0).send("alice", "bob", OK_BYE, retx=True).lost("alice", "bob", OK_BYE)
    tr.timer("bob", "nict", "K")
    root = svg_root(ladder_svg(tr.records, ["alice", "bob"], title=TITLE))
    assert root.tag == f"{SVG}svg"
    drawn = [el for el in root.iter() if "arrow" in classes(el)]
    assert [el.tag for el in drawn] == [f"{SVG}line"] * 7
    assert [(el.get("x1"), el.get("x2")) for el in drawn[:2]] == [("194", "454"), ("454", "194")]
    lost = drawn[-1]
    assert classes(lost) == {"arrow", "retx", "lost"}
    assert lost.get("stroke") == "#c0392b" and lost.get("stroke-dasharray") == "6 4"
    assert lost.get("marker-end") is None and lost.get("x2") == "438"  # stops short of bob
    assert len([el for el in root.iter() if "cross" in classes(el)]) == 1
    assert [el.text for el in root.iter(f"{SVG}text") if "timer" in classes(el)] == ["Timer K"]
    labels = [el.text for el in root.iter(f"{SVG}text") if "label" in classes(el)]
    assert labels[:2] == ["INVITE F1", "180 Ringing F2"]
    assert labels[-1] == "200 OK (BYE) F7 (retx, lost)"


def test_svg_escapes_hostile_labels() -> None:
    hostile = "<script>alert('x' & \"y\")</script>"
    message = make_request(hostile)
    tr = Trace().send("<b>", "bob", message).deliver("<b>", "bob", make_request(hostile))
    tr.add("tu", "bob", text=hostile + "\x00\ud800")
    out = ladder_svg(tr.records, ["bob"], title=hostile)
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(&apos;x&apos; &amp; &quot;y&quot;)&lt;/script&gt;" in out
    root = svg_root(out)
    texts = [el.text or "" for el in root.iter(f"{SVG}text")]
    assert hostile in texts  # the title, read back intact
    assert "<b>" in texts and any(t.startswith("bob TU: <script>") for t in texts)
    assert any("\\x00\\ud800" in t for t in texts)
    assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_svg_height_grows_with_the_records() -> None:
    def height(n: int) -> int:
        tr = Trace()
        for _ in range(n):
            tr.send("alice", "bob", INVITE).deliver("alice", "bob", INVITE)
        return int(svg_root(ladder_svg(tr.records, ["alice", "bob"])).get("height", "0"))

    assert height(0) < height(1) < height(5)
    assert height(5) - height(1) == 4 * (height(2) - height(1))


# -- all formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("draw", [ladder_text, ladder_mermaid, ladder_svg])
def test_ladder_is_deterministic_and_reads_records_in_time_order(draw: object) -> None:
    records = rfc3665_3_1()
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    first = draw(records, ["alice", "bob"], title=TITLE)  # type: ignore[operator]
    assert first == draw(list(records), ["alice", "bob"], title=TITLE)  # type: ignore[operator]
    assert first == draw(shuffled, ["alice", "bob"], title=TITLE)  # type: ignore[operator]
    assert first == draw(iter(records), ("alice", "bob"), title=TITLE)  # type: ignore[operator]


@pytest.mark.parametrize("fmt", LADDER_FORMATS)
def test_write_ladder_writes_each_format(tmp_path: Path, fmt: str) -> None:
    records = rfc3665_3_1()
    path = tmp_path / "out" / f"rfc3665-3.1.{EXTENSIONS[fmt]}"
    written = write_ladder(records, ["alice", "bob"], fmt, path, title=TITLE)  # type: ignore[arg-type]
    assert written == path
    draw = {"text": ladder_text, "mermaid": ladder_mermaid, "svg": ladder_svg}[fmt]
    assert path.read_text(encoding="utf-8") == draw(records, ["alice", "bob"], title=TITLE)


def test_write_ladder_names_the_formats_on_an_unknown_one(tmp_path: Path) -> None:
    with pytest.raises(UnknownName, match=r"ladder format 'png'.*text, mermaid, svg"):
        write_ladder([], ["a"], "png", tmp_path / "x.png")  # type: ignore[arg-type]


NAMES = st.sampled_from(["alice", "bob", "proxy", "", "<x&y>", "end", "a;b#c"])
MESSAGES = st.sampled_from(
    [None, *(MessageInfo.of(m) for m in (INVITE, RINGING, OK_INVITE, ACK, BYE, OK_BYE))]
)
KINDS: tuple[RecordKind, ...] = (
    "send", "deliver", "lost", "duplicate", "timer", "state", "tu", "outcome", "discard",
    "violation",
)  # fmt: skip
RECORDS = st.builds(
    TraceRecord,
    t=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(0, 10**6)),
    seq=st.integers(-5, 1000),
    kind=st.sampled_from(KINDS),
    element=NAMES,
    src=NAMES,
    dst=NAMES,
    message=MESSAGES,
    machine=st.sampled_from(["", "ict", "ist"]),
    tx=st.sampled_from(["", "t1", "t2"]),
    state_before=st.sampled_from(["", "calling", "proceeding"]),
    state_after=st.sampled_from(["", "calling", "proceeding"]),
    timer=st.sampled_from(["", "A", "Timer B"]),
    retransmission=st.booleans(),
    code=st.one_of(st.none(), st.integers(100, 699)),
    rfc=st.sampled_from(["", "RFC 3261 §17.1.1.2"]),
    text=st.text(max_size=40),
)


@settings(max_examples=150, deadline=None)
@given(
    records=st.lists(RECORDS, max_size=25),
    elements=st.lists(NAMES, max_size=4),
    title=st.text(max_size=200),
)
def test_ladder_never_raises_on_odd_records(
    records: list[TraceRecord], elements: list[str], title: str
) -> None:
    text = ladder_text(records, elements, title=title)
    assert text == ladder_text(records, elements, title=title)
    assert all(len(line) <= MAX_WIDTH for line in text.splitlines())
    mermaid = ladder_mermaid(records, elements, title=title)
    body = mermaid.splitlines()[1:]
    assert all(line.startswith("    ") for line in body)  # one statement per line
    for line in body:
        text = line.partition(": ")[2] if "->>" in line or line.startswith("    Note") else line
        assert not set(re.sub(r"#\d+;", "", text)) & set("#;%<>&")
    root = svg_root(ladder_svg(records, elements, title=title))
    svg_arrows = [el for el in root.iter() if "arrow" in classes(el)]
    assert len(svg_arrows) == len(re.findall(r"^    \S+?-{1,2}(?:>>|x|\))", mermaid, re.MULTILINE))
