"""Diagrams (sipfsm.render.diagram): DOT, SVG and Mermaid drawn from the declarations.

What is checked: output is deterministic; the classic ``event [guard] / actions`` labels;
``highlight=481`` marks exactly the states and edges where RFC 3261 lets a 481 arise;
`render_all` writes the expected file set; without ``dot`` the text formats still work and
the image formats say how to install Graphviz; hostile names cannot break DOT, SVG or
Mermaid.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_graph import CHILD, IDLE, MACHINES, PARENT, TRANSACTIONS, hostile_decl

from sipfsm.decl.language import PROFILES, TRANSPORTS
from sipfsm.engine import model
from sipfsm.render import diagram as render
from sipfsm.render import graph as sg
from sipfsm.values.errors import UnknownName

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz 'dot' is not installed")

_NODE = re.compile(r"^\t(s\d+|start) \[(.*)\]$")
_EDGE = re.compile(r"^\t(s\d+|start) -> (s\d+) \[(.*)\]$")


def _plain(label: str) -> str:
    """The text of an HTML-like label: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<BR[^>]*>", " ", re.sub(r"</?(?:B|I|FONT)\b[^>]*>", "", label)))


def _label(attrs: str) -> str:
    """The plain text of the HTML-like label in a DOT attribute list."""
    found = re.search(r"label=<(.*)>", attrs)
    assert found is not None, attrs
    return _plain(found.group(1))


def _names(machine: str, profile: str = "rfc6026") -> list[str]:
    return list(model.declare(machine, profile).state_names)


def marked(dot: str, names: list[str]) -> tuple[set[str], set[tuple[str, str, str]]]:
    """The states filled as highlighted and the edges (source, label text, dest) drawn red
    and thick, read back from DOT text."""
    ids = {f"s{i}": n for i, n in enumerate(names)} | {"start": "(start)"}
    nodes, edges = set(), set()
    for line in dot.splitlines():
        if m := _EDGE.match(line):
            if f'color="{render.RED}"' in m.group(3) and "penwidth=3" in m.group(3):
                edges.add((ids[m.group(1)], _label(m.group(3)), ids[m.group(2)]))
        elif (m := _NODE.match(line)) and f'fillcolor="{render.HIGHLIGHT_FILL}"' in m.group(2):
            nodes.add(ids[m.group(1)])
    return nodes, edges


# -- determinism and labels ----------------------------------------------------------------


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_two_builds_give_identical_dot_and_mermaid(
    machine: str, profile: str, transport: str
) -> None:
    assert render.dot_source(machine, profile, transport) == render.dot_source(
        machine, profile, transport
    )
    assert render.mermaid(machine, profile, transport) == render.mermaid(
        machine, profile, transport
    )
    assert render.dot_source(machine, profile, transport, highlight=481) == render.dot_source(
        machine, profile, transport, highlight=481
    )


def test_edge_labels_read_event_guard_actions_rfc3261_figure_5() -> None:
    text = _plain(render.dot_source("ict", "rfc6026", "udp"))
    assert "Timer A fires / send request, reset Timer A (doubled)" in text
    assert "1xx [CANCEL requested] / response to TU, send_cancel to TU" in text
    assert "Timer D fires" in text
    assert "RFC 3261 §17.1.1.2" in text


def test_tcp_diagram_drops_timer_a_reset_and_dashes_its_dead_loop_rfc3261_17_1_1_2() -> None:
    udp = _plain(render.dot_source("ict", "rfc6026", "udp"))
    tcp_dot = render.dot_source("ict", "rfc6026", "tcp")
    tcp = _plain(tcp_dot)
    assert "reset Timer A" in udp
    assert "reset Timer A" not in tcp
    assert "never on tcp" in tcp
    assert "Timer A 0.5 s" in udp and "Timer A 0.5 s" not in tcp


def test_initial_and_terminal_states_are_drawn_as_such() -> None:
    dot = render.dot_source("nict")
    names = _names("nict")
    lines = {m.group(1): m.group(2) for line in dot.splitlines() if (m := _NODE.match(line))}
    assert "shape=point" in lines["start"]
    assert "penwidth=2" in lines[f"s{names.index('trying')}"]
    assert "peripheries=2" in lines[f"s{names.index('terminated')}"]
    assert "peripheries" not in lines[f"s{names.index('completed')}"]


def test_states_show_their_outcomes_and_481_487_491_stand_out() -> None:
    dot = render.dot_source("ist")
    names = _names("ist")
    proceeding = next(
        m.group(2)
        for line in dot.splitlines()
        if (m := _NODE.match(line)) and m.group(1) == f"s{names.index('proceeding')}"
    )
    for code in (481, 487, 491):
        assert re.search(rf'<FONT COLOR="{render.RED}"><B>send {code}:', proceeding), code
    assert "send 500:" in proceeding and "<B>send 500:" not in proceeding
    nist = _plain(render.dot_source("nist"))
    assert "never send 408: RFC 4320 §4.2" in nist


# -- highlight ------------------------------------------------------------------------------


def test_highlight_481_marks_the_ist_proceeding_state_and_its_final_response_edge() -> None:
    # RFC 3261 §12.2.2: a 481 answers an INVITE whose To tag matches no dialog; it is a
    # final response the TU passes to the IST in Proceeding.
    for transport in TRANSPORTS:
        nodes, edges = marked(
            render.dot_source("ist", "rfc6026", transport, highlight=481), _names("ist")
        )
        assert nodes == {"proceeding"}
        assert {(u, v) for u, _label, v in edges} == {("proceeding", "completed")}
        (label,) = [label for _u, label, _v in edges]
        assert label.startswith("300-699 from TU / send response")


@pytest.mark.parametrize("profile", PROFILES)
def test_highlight_481_marks_nist_trying_and_proceeding_and_their_final_edges(
    profile: str,
) -> None:
    # RFC 3261 §15.1.2 (BYE), §9.2 (CANCEL), §12.2.2: a NIST sends a 481 as its final
    # response, from Trying or Proceeding, never from Completed.
    nodes, edges = marked(
        render.dot_source("nist", profile, None, highlight=481), _names("nist", profile)
    )
    assert nodes == {"trying", "proceeding"}
    assert {(u, v) for u, _label, v in edges} == {
        ("trying", "completed"),
        ("proceeding", "completed"),
    }
    assert all(label.startswith("200-699 from TU") for _u, label, _v in edges)


def test_highlight_a_code_that_cannot_arise_marks_nothing() -> None:
    nodes, edges = marked(render.dot_source("nict", highlight=486), _names("nict"))
    assert (nodes, edges) == (set(), set())


def test_highlight_must_be_a_response_code() -> None:
    with pytest.raises(render.RenderError, match="100-699"):
        render.dot_source("ist", highlight=99)
    with pytest.raises(render.RenderError, match="100-699"):
        render.dot_source("ist", highlight="481")  # type: ignore[arg-type]


def test_mermaid_highlight_marks_the_states_with_a_class() -> None:
    text = render.mermaid("nist", highlight=481)
    names = _names("nist")
    ids = [f"s{names.index('trying')}", f"s{names.index('proceeding')}"]
    assert f"    class {','.join(ids)} highlight" in text
    assert text.startswith("stateDiagram-v2\n")
    assert "\n    [*] --> s0 : Request" in text


# -- files ----------------------------------------------------------------------------------


def _expected_transaction_files() -> set[str]:
    names = set()
    for machine in ("ict", "nict", "ist"):  # Timers A, E and G are UDP only
        for profile in PROFILES:
            for transport in TRANSPORTS:
                names |= {
                    f"{machine}-{profile}-{transport}.dot",
                    f"{machine}-{profile}-{transport}.svg",
                }
    for profile in PROFILES:  # Timer J runs on both (0 s on TCP): one figure
        names |= {f"nist-{profile}.dot", f"nist-{profile}.svg"}
    return names


@needs_dot
def test_render_all_writes_dot_and_svg_of_every_machine_and_profile(tmp_path: Path) -> None:
    written = render.render_all(tmp_path)
    names = {p.name for p in written}
    assert names == {p.name for p in tmp_path.iterdir()}
    transactions = {n for n in names if not n.startswith(("dialog-", "proxy-"))}
    assert transactions == _expected_transaction_files()
    if "dialog" in MACHINES:
        for profile in PROFILES:
            if sg.differs_by_transport("dialog", profile):
                want = {f"dialog-{profile}-{t}.{e}" for t in TRANSPORTS for e in ("dot", "svg")}
            else:
                want = {f"dialog-{profile}.dot", f"dialog-{profile}.svg"}
            assert want <= names
    if "proxy" in MACHINES:  # Timer C is the same on every transport: one figure
        assert {f"proxy-{p}.{e}" for p in PROFILES for e in ("dot", "svg")} <= names
    for path in written:
        if path.suffix == ".svg":
            ET.parse(path)  # well-formed
    assert render.render_all(tmp_path) == written  # stable order
    assert (tmp_path / "nist-rfc6026.dot").read_text() == render.dot_source("nist", "rfc6026", None)


def test_render_all_dot_only_needs_no_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    written = render.render_all(tmp_path / "out", formats=("dot",), machines=TRANSACTIONS)
    assert {p.suffix for p in written} == {".dot"}
    assert len(written) == 14  # ict, nict, ist: 2 profiles x 2 transports; nist: 2


def test_without_dot_svg_png_pdf_say_how_to_install_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for fmt in ("svg", "png", "pdf"):
        with pytest.raises(render.GraphvizMissing, match="apt-get install graphviz"):
            render.render("ict", "rfc6026", "udp", fmt, tmp_path)
    with pytest.raises(render.GraphvizMissing, match="apt-get install graphviz"):
        render.render_all(tmp_path / "all")
    assert not (tmp_path / "all").exists()
    assert render.render("ict", "rfc6026", "udp", "dot", tmp_path).name == "ict-rfc6026-udp.dot"
    mmd = render.render("ict", "rfc6026", "udp", "mermaid", tmp_path)
    assert mmd.name == "ict-rfc6026-udp.mmd"
    assert mmd.read_text().startswith("stateDiagram-v2")


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_render_writes_images_named_after_machine_profile_transport(
    tmp_path: Path, fmt: str
) -> None:
    path = render.render("ist", "rfc6026", "tcp", fmt, tmp_path, highlight=481)
    assert path == tmp_path / f"ist-rfc6026-tcp-481.{fmt}"
    data = path.read_bytes()
    assert data.startswith({"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[fmt])


def test_unknown_format_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownName, match="dot, svg, png, pdf, mermaid"):
        render.render("ict", "rfc6026", "udp", "jpeg", tmp_path)


def test_a_shared_figure_is_refused_where_the_transports_differ() -> None:
    with pytest.raises(render.RenderError, match="differs by transport"):
        render.dot_source("ict", "rfc6026", None)


# -- nesting and hostile names -----------------------------------------------------------------


def test_nested_states_are_drawn_as_clusters() -> None:
    decl = hostile_decl()
    dot = render.dot_source(decl, transport="udp")
    parent_id = f"s{decl.state_names.index(PARENT)}"
    assert f"subgraph cluster_{parent_id} {{" in dot
    # the parent's own row leaves the cluster's border
    assert f"ltail=cluster_{parent_id}" in dot
    # a row into the parent ends at the cluster's border
    assert f"lhead=cluster_{parent_id}" in dot


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hostile_names_cannot_break_dot_or_svg(transport: str) -> None:
    decl = hostile_decl(with_orphan=True)
    dot = render.dot_source(decl, transport=transport, highlight=481)
    for line in dot.splitlines():
        # every statement is a whole line: names and labels never open a string or a
        # record, never end a line early (newlines became <BR/>)
        assert line.startswith(("\t", "digraph ", "}")) or line == "", line
    assert '"q" <b>' not in dot
    if HAVE_DOT:
        done = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, check=True)
        assert done.stderr == b""
        svg = ET.fromstring(done.stdout)
        texts = "".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
        assert IDLE in texts
        assert CHILD in texts
        assert "{parent}" in texts and "line two" in texts


def test_hostile_names_cannot_break_mermaid() -> None:
    text = render.mermaid(hostile_decl(with_orphan=True))
    structure = [
        r'\s*state "(?P<text>[^"]*)" as s\d+',  # a state and its escaped name
        r"\s*state s\d+ \{|\s*\}",  # a composite state
        r"\s*s\d+ : (?P<text>.*)",  # a state's description line
        r"\s*(?:s\d+|\[\*\]) --> (?:s\d+|\[\*\])(?: : (?P<text>.*))?",  # a transition
        r"\s*classDef \w+ [-\w:#,]+|\s*class [s\d,]+ \w+",
    ]
    for line in text.splitlines()[2:]:
        match = next((m for p in structure if (m := re.fullmatch(p, line))), None)
        assert match is not None, line
        body = match.groupdict().get("text") or ""
        assert not set(body) & set('"<>{}\\&:'), line


def test_real_machines_render_without_graphviz_warnings() -> None:
    if not HAVE_DOT:
        pytest.skip("Graphviz 'dot' is not installed")
    for machine in MACHINES:
        dot = render.dot_source(machine, "rfc6026", "udp", highlight=487)
        done = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, check=True)
        assert done.stderr == b"", (machine, done.stderr)


# -- the profile diff diagram ----------------------------------------------------------------


def test_diff_diagram_colours_the_accepted_state_and_the_2xx_edges_rfc6026_8_4() -> None:
    from sipfsm.render.analysis import diff

    dot = render.diff_dot(diff("ict", "rfc3261", "rfc6026"))
    lines = dot.splitlines()
    accepted = [ln for ln in lines if _NODE.match(ln) and "accepted" in ln]
    assert len(accepted) == 1 and f'color="{render.GREEN}"' in accepted[0]
    removed = [ln for ln in lines if _EDGE.match(ln) and "style=dashed" in ln]
    assert len(removed) == 2 and all(f'color="{render.RED}"' in ln for ln in removed)
    assert all(_plain(ln).count("2xx / response to TU") for ln in removed)


@needs_dot
def test_render_diff_writes_an_svg(tmp_path: Path) -> None:
    path = render.render_diff("ict", "rfc3261", "rfc6026", "svg", tmp_path)
    assert path.name == "ict-rfc3261-to-rfc6026-udp.svg"
    ET.parse(path)
