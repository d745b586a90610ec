"""State diagrams drawn from the declarations: DOT, SVG, PNG and PDF through the `graphviz`
package, and Mermaid ``stateDiagram-v2`` text.

Every figure is made from `sipfsm.render.graph` (never drawn by hand, as h2's visualizer and unlike
h11's hand-kept edges). What a figure shows:

* one box per state: its name, the timers it runs with their durations on the transport,
  and the response codes that can arise in it, each with its RFC sections; 481, 487 and
  491 stand out (bold, red); a forbidden code reads "never send 408", in grey italics;
* the start pseudo-node (a dot) with the creation rows; the initial states drawn bold,
  terminal states with a double border;
* nested states (the dialog's confirmed/{moratorium, established} ...) as clusters, the
  parent's own box inside its cluster (a row that targets a parent leaves the machine in
  it, `sipfsm.engine.runtime`);
* one arrow per row, labelled ``event [guard] / actions`` in the RFC figures' wording,
  with its RFC section; a row whose timer never runs on the transport is dashed and says
  so; a state's self loops share one arrow whose label has a line per row;
* ``highlight=CODE`` fills every state and colours every edge where CODE can arise.

Output is deterministic: states and rows in declaration order, ids ``s0, s1 ...`` by
position, so committed DOT files can be compared as text. Labels are HTML-like labels built
from escaped text, so no name, guard text or note can break the DOT or the SVG.

Without the ``dot`` program, DOT and Mermaid output still work; SVG, PNG and PDF raise
`GraphvizMissing`, which says how to install it.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphviz
import networkx as nx

from sipfsm.decl.language import PROFILES, TRANSPORTS, Outcome
from sipfsm.render import graph as sg
from sipfsm.values.errors import SipFsmError, UnknownName

if TYPE_CHECKING:
    from sipfsm.render.analysis import Diff

#: Output formats of `render`. ``dot`` and ``mermaid`` need no external program.
FORMATS: tuple[str, ...] = ("dot", "svg", "png", "pdf", "mermaid")
#: File extension of each format.
EXTENSIONS: dict[str, str] = {
    "dot": "dot",
    "svg": "svg",
    "png": "png",
    "pdf": "pdf",
    "mermaid": "mmd",
}
#: Codes drawn to stand out wherever they appear (RFC 5407's races end in these).
STANDOUT: frozenset[int] = frozenset({481, 487, 491})

RED = "#c0392b"
GREEN = "#1e8449"
ORANGE = "#d35400"
GREY = "#7f8c8d"
HIGHLIGHT_FILL = "#fde2e2"
FONT = "Helvetica"

INSTALL_HINT = (
    "the Graphviz 'dot' program is needed for {fmt} output but was not found on PATH; "
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
    "graphviz), or ask for --format dot or mermaid, which need no external program"
)


class RenderError(SipFsmError, ValueError):
    """Bad input to a renderer (an unknown format, a code out of range ...)."""


class GraphvizMissing(RenderError):
    """The ``dot`` program is not installed; the message says how to install it."""


# -- escaping --------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` with characters no XML document may hold (control characters, lone
    surrogates) written as ``\\xNN``-style escapes; newlines, tabs and carriage returns
    are kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def html_text(text: str) -> str:
    """Escape text for a Graphviz HTML-like label: ``& < > " '`` as entities, line breaks
    as ``<BR/>``."""
    escaped = html.escape(printable(text), quote=True)
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n")
    return escaped.replace("\n", '<BR ALIGN="CENTER"/>')


def _wrapped(text: str, width: int = 48, align: str = "CENTER") -> str:
    lines = textwrap.wrap(
        printable(text),
        width=width,
        break_long_words=True,
        break_on_hyphens=False,
        replace_whitespace=False,
    ) or [""]
    return f'<BR ALIGN="{align}"/>'.join(html_text(line) for line in lines)


_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 _.,()/=+*'!?@$%^~|\[\]-]")


def mermaid_text(text: str) -> str:
    """Escape text for Mermaid: every character outside a small safe set becomes an entity
    code (``#35;``), newlines become spaces, and ``--`` cannot start an arrow."""
    out = []
    for ch in printable(text).replace("\r", " ").replace("\n", " ").replace("\t", " "):
        out.append(ch if _MERMAID_SAFE.fullmatch(ch) else f"#{ord(ch)};")
    return "".join(out).replace("--", "-#45;")


# -- shared label pieces ---------------------------------------------------------------------


def check_highlight(code: object) -> int | None:
    if code is None:
        return None
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 699:
        raise RenderError(f"highlight must be a SIP response code 100-699, got {code!r}")
    return code


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UnknownName("format", fmt, FORMATS)
    return fmt


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _timer_text(timers: Sequence[tuple[str, dict[str, float]]]) -> list[str]:
    """``Timer A 0.5 s`` or, for a figure shared by both transports,
    ``Timer D 32 s (udp), 0 s (tcp)``."""
    out = []
    for name, by_transport in timers:
        values = set(by_transport.values())
        if len(by_transport) == 1 or len(values) == 1:
            out.append(f"Timer {name} {_seconds(next(iter(by_transport.values())))}")
        else:
            parts = ", ".join(f"{_seconds(v)} ({t})" for t, v in by_transport.items())
            out.append(f"Timer {name} {parts}")
    return out


def _outcome_lines(outcomes: Iterable[Outcome], highlight: int | None) -> list[str]:
    """HTML lines for a state's outcomes, one per (direction, code), RFC sections joined."""
    groups: dict[tuple[bool, str, int], list[str]] = {}
    for oc in outcomes:
        rfcs = groups.setdefault((oc.forbidden, oc.direction, oc.code), [])
        if oc.rfc not in rfcs:
            rfcs.append(oc.rfc)
    lines = []
    for (forbidden, direction, code), rfcs in groups.items():
        verb = (
            ("never send" if direction == "send" else "never receive") if forbidden else (direction)
        )
        text = _wrapped(f"{verb} {code}: {'; '.join(rfcs)}", 56)
        if forbidden:
            text = f'<FONT COLOR="{GREY}"><I>{text}</I></FONT>'
        elif code in STANDOUT or code == highlight:
            text = f'<FONT COLOR="{RED}"><B>{text}</B></FONT>'
        lines.append(text)
    return lines


def _ids(g: nx.MultiDiGraph[str]) -> dict[str, str]:
    ids = {sg.START: "start"}
    for i, n in enumerate(sg.states(g)):
        ids[n] = f"s{i}"
    return ids


def _edge_label_text(attrs: dict[str, Any]) -> str:
    """The classic ``event [guard] / actions`` label of one edge (plain text)."""
    text = str(attrs["trigger_label"])
    if attrs["guard"]:
        text += f" [{attrs['guard']}]"
    if attrs["actions"]:
        text += " / " + ", ".join(attrs["actions"])
    return text


# -- DOT ---------------------------------------------------------------------------------------


def _graphs(
    machine: sg.MachineRef, profile: str, transport: str | None
) -> list[nx.MultiDiGraph[str]]:
    """The graph to draw, or for ``transport=None`` both transports' graphs, which must
    draw the same figure."""
    if transport is not None:
        return [sg.build(machine, profile, transport)]
    found = [sg.build(machine, profile, t) for t in TRANSPORTS]
    if not sg.same_figure(found[0], found[1]):
        raise RenderError(
            f"the {found[0].graph['machine']} diagram differs by transport under profile "
            f"{found[0].graph['profile']}; give a transport ({', '.join(TRANSPORTS)})"
        )
    return found


# complex on purpose (C901): one attribute per feature a state or arrow may show
def digraph(  # noqa: C901
    machine: sg.MachineRef,
    profile: str = "rfc6026",
    transport: str | None = "udp",
    highlight: int | None = None,
) -> graphviz.Digraph:
    """The `graphviz.Digraph` of a machine. ``transport=None`` draws the figure shared by
    both transports (an error if they differ), with both durations of each timer."""
    highlight = check_highlight(highlight)
    graphs = _graphs(machine, profile, transport)
    g = graphs[0]
    ids = _ids(g)
    where = "both transports" if transport is None else f"transport {transport}"
    title = (
        f"<B>{html_text(g.graph['machine'])}</B> — {html_text(g.graph['title'])} "
        f"({html_text(g.graph['rfc'])})<BR/>profile {html_text(g.graph['profile'])}, "
        f"{where}"
    )
    if highlight is not None:
        title += f'<BR/><FONT COLOR="{RED}">highlighted: where {highlight} can arise</FONT>'
    dot = graphviz.Digraph(name=_dot_name(g), engine="dot")
    dot.attr(
        "graph",
        label=f"<{title}>",
        labelloc="t",
        fontname=FONT,
        compound="true",
        rankdir="TB",
        nodesep="0.5",
        ranksep="0.6",
    )
    dot.attr("node", shape="box", style="rounded", fontname=FONT, fontsize="12")
    dot.attr("edge", fontname=FONT, fontsize="10")
    dot.node("start", label="", shape="point", width="0.18")

    parents = {g.nodes[n]["parent"] for n in sg.states(g)} - {None}

    def node_label(n: str) -> str:
        a = g.nodes[n]
        timers: list[tuple[str, dict[str, float]]] = []
        for name, _ in a["timers"]:
            per = {
                str(h.graph["transport"]): v
                for h in graphs
                for t, v in h.nodes[n]["timers"]
                if t == name
            }
            timers.append((name, per))
        parts = [f"<B>{_wrapped(n, 40)}</B>"]
        small = [html_text(t) for t in _timer_text(timers)]
        if a["stopped_timers"] and transport is not None:
            small.append(
                html_text(f"(Timer {', '.join(a['stopped_timers'])} not started on {transport})")
            )
        small += _outcome_lines(a["outcomes"], highlight)
        if small:
            parts.append('<FONT POINT-SIZE="9">' + "<BR/>".join(small) + "</FONT>")
        return "<" + "<BR/>".join(parts) + ">"

    def node(container: graphviz.Digraph, n: str) -> None:
        a = g.nodes[n]
        attrs: dict[str, str] = {}
        if a["initial"]:
            attrs["penwidth"] = "2"
        if a["terminal"]:
            attrs["peripheries"] = "2"
        if n in parents:
            attrs["style"] = "rounded,dashed"
        if highlight is not None and any(
            o.code == highlight and not o.forbidden for o in a["outcomes"]
        ):
            attrs.update(
                style="rounded,filled" + (",dashed" if n in parents else ""),
                fillcolor=HIGHLIGHT_FILL,
                color=RED,
                penwidth="3",
            )
        container.node(ids[n], label=node_label(n), **attrs)

    def place(container: graphviz.Digraph, n: str) -> None:
        kids = sg.children(g, n)
        if not kids:
            node(container, n)
            return
        with container.subgraph(name=f"cluster_{ids[n]}") as sub:
            sub.attr(
                label=f"<<B>{_wrapped(n, 40)}</B>>", style="rounded", color=GREY, fontname=FONT
            )
            node(sub, n)
            for kid in kids:
                place(sub, kid)

    for n in sg.states(g):
        if g.nodes[n]["parent"] is None:
            place(dot, n)

    loops: dict[str, list[dict[str, Any]]] = {}
    for u, v, _k, a in sg.edges(g):
        if u == v:  # drawn together below, one arrow per state
            loops.setdefault(u, []).append(a)
            continue
        lines = [_wrapped(_edge_label_text(a), 44)]
        if a["rfc"]:
            lines.append(f'<FONT POINT-SIZE="8" COLOR="{GREY}">{html_text(a["rfc"])}</FONT>')
        if a["outcomes"]:
            codes = ", ".join(
                f"<B>{c}</B>" if c in STANDOUT or c == highlight else str(c) for c in a["outcomes"]
            )
            lines.append(f'<FONT POINT-SIZE="8" COLOR="{RED}">can arise: {codes}</FONT>')
        attrs: dict[str, str] = {}
        if not a["live"]:
            attrs.update(style="dashed", color=GREY, fontcolor=GREY)
            lines.append(
                html_text(f"(never on {transport}: the timer is not started)")
                if transport
                else html_text("(timer not started)")
            )
        if highlight is not None and highlight in a["outcomes"]:
            attrs.update(color=RED, fontcolor=RED, penwidth="3")
        if u != sg.START and u in parents and v not in sg.descendants(g, u):
            attrs["ltail"] = f"cluster_{ids[u]}"
        if v in parents and u not in sg.descendants(g, v):
            attrs["lhead"] = f"cluster_{ids[v]}"
        dot.edge(ids[u], ids[v], label="<" + "<BR/>".join(lines) + ">", **attrs)
    for n, rows in loops.items():
        dot.edge(
            ids[n],
            ids[n],
            label="<" + _loop_label(rows, transport, highlight) + ">",
            **_loop_attrs(rows, highlight),
        )
    return dot


def _loop_label(rows: list[dict[str, Any]], transport: str | None, highlight: int | None) -> str:
    """The label of a state's self loops: one line per row (``event [guard] / actions``,
    its RFC section and the codes that can arise), in declaration order."""
    lines = []
    for a in rows:
        text = _wrapped(_edge_label_text(a), 60, "LEFT")
        small = [a["rfc"]] if a["rfc"] else []
        if a["outcomes"]:
            small.append("can arise: " + ", ".join(str(c) for c in a["outcomes"]))
        if not a["live"]:
            small.append(
                f"never on {transport}: the timer is not started"
                if transport
                else "timer not started"
            )
        if small:
            text += f' <FONT POINT-SIZE="8">({html_text("; ".join(small))})</FONT>'
        if highlight is not None and highlight in a["outcomes"]:
            text = f'<FONT COLOR="{RED}"><B>{text}</B></FONT>'
        elif not a["live"]:
            text = f'<FONT COLOR="{GREY}">{text}</FONT>'
        lines.append(text)
    return '<BR ALIGN="LEFT"/>'.join(lines) + '<BR ALIGN="LEFT"/>'


def _loop_attrs(rows: list[dict[str, Any]], highlight: int | None) -> dict[str, str]:
    if highlight is not None and any(highlight in a["outcomes"] for a in rows):
        return {"color": RED, "penwidth": "3"}
    if not any(a["live"] for a in rows):
        return {"style": "dashed", "color": GREY}
    return {}


def _dot_name(g: nx.MultiDiGraph[str]) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{g.graph['machine']}_{g.graph['profile']}")


def dot_source(
    machine: sg.MachineRef,
    profile: str = "rfc6026",
    transport: str | None = "udp",
    highlight: int | None = None,
) -> str:
    """The DOT text of a machine's diagram (no external program needed)."""
    return str(digraph(machine, profile, transport, highlight).source)


to_dot = dot_source


def pipe(source: str, fmt: str) -> bytes:
    """Run ``dot`` on DOT text; `GraphvizMissing` if it is not installed."""
    try:
        out: bytes = graphviz.Source(source).pipe(format=fmt)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing(INSTALL_HINT.format(fmt=fmt.upper())) from exc
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"dot failed to render {fmt}: {exc.stderr!r}") from exc
    return out


# -- Mermaid -----------------------------------------------------------------------------------


def mermaid(
    machine: sg.MachineRef,
    profile: str = "rfc6026",
    transport: str | None = "udp",
    highlight: int | None = None,
) -> str:
    """A Mermaid ``stateDiagram-v2`` of the machine (``transport=None``: both transports'
    shared figure)."""
    highlight = check_highlight(highlight)
    graphs = _graphs(machine, profile, transport)
    g = graphs[0]
    ids = _ids(g)
    where = "both transports" if transport is None else transport
    out = [
        "stateDiagram-v2",
        f"    %% {mermaid_text(g.graph['machine'])}: {mermaid_text(g.graph['title'])}, "
        f"profile {mermaid_text(g.graph['profile'])}, {mermaid_text(where)}",
    ]

    def declare(n: str, indent: str) -> None:
        a = g.nodes[n]
        out.append(f'{indent}state "{mermaid_text(n)}" as {ids[n]}')
        kids = sg.children(g, n)
        if kids:
            out.append(f"{indent}state {ids[n]} {{")
            for kid in kids:
                declare(kid, indent + "    ")
            out.append(f"{indent}}}")
        timers = [name for name, _ in a["timers"]]
        if timers:
            out.append(f"{indent}{ids[n]} : Timer {mermaid_text(', '.join(timers))}")
        codes = dict.fromkeys(o.code for o in a["outcomes"] if not o.forbidden)
        if codes:
            out.append(f"{indent}{ids[n]} : outcomes {' '.join(str(c) for c in codes)}")
        never = dict.fromkeys(o.code for o in a["outcomes"] if o.forbidden)
        if never:
            out.append(f"{indent}{ids[n]} : never {' '.join(str(c) for c in never)}")

    for n in sg.states(g):
        if g.nodes[n]["parent"] is None:
            declare(n, "    ")
    for u, v, _k, a in sg.edges(g):
        src = "[*]" if u == sg.START else ids[u]
        label = _edge_label_text(a)
        if not a["live"]:
            label += " (timer not started)"
        if highlight is not None and highlight in a["outcomes"]:
            label += f" ({highlight} can arise)"
        out.append(f"    {src} --> {ids[v]} : {mermaid_text(label)}")
    for n in sg.states(g):
        if g.nodes[n]["terminal"]:
            out.append(f"    {ids[n]} --> [*]")
    standout = [
        ids[n]
        for n in sg.states(g)
        if any(o.code in STANDOUT and not o.forbidden for o in g.nodes[n]["outcomes"])
    ]
    marked = [
        ids[n]
        for n in sg.states(g)
        if highlight is not None
        and any(o.code == highlight and not o.forbidden for o in g.nodes[n]["outcomes"])
    ]
    if standout:
        out.append(f"    classDef standout stroke:{RED},stroke-width:2px")
        out.append(f"    class {','.join(standout)} standout")
    if marked:
        out.append(f"    classDef highlight fill:{HIGHLIGHT_FILL},stroke:{RED},stroke-width:4px")
        out.append(f"    class {','.join(marked)} highlight")
    return "\n".join(out) + "\n"


to_mermaid = mermaid


# -- files ---------------------------------------------------------------------------------------


def file_stem(
    machine: str, profile: str, transport: str | None, highlight: int | None = None
) -> str:
    """``ict-rfc6026-udp``, ``nist-rfc6026`` (both transports), ``ist-rfc6026-udp-481``."""
    parts = [machine, profile] + ([transport] if transport else [])
    if highlight is not None:
        parts.append(str(highlight))
    return "-".join(parts)


def render(
    machine: sg.MachineRef,
    profile: str = "rfc6026",
    transport: str | None = "udp",
    fmt: str = "svg",
    out_dir: Path | str = Path("diagrams"),
    highlight: int | None = None,
) -> Path:
    """Write one diagram and return its path, ``<out_dir>/<machine>-<profile>[-<transport>]
    [-<highlight>].<ext>``. ``fmt`` is one of `FORMATS`; ``transport=None`` draws the figure
    both transports share (an error where they differ)."""
    check_format(fmt)
    highlight = check_highlight(highlight)
    decl = sg.resolve(machine, profile)
    out_dir = Path(out_dir)
    path = out_dir / f"{file_stem(decl.id, decl.profile, transport, highlight)}.{EXTENSIONS[fmt]}"
    if fmt == "mermaid":
        data = mermaid(decl, decl.profile, transport, highlight).encode()
    else:
        source = dot_source(decl, decl.profile, transport, highlight)
        data = source.encode() if fmt == "dot" else pipe(source, fmt)
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def planned(machines: Iterable[str] | None = None) -> list[tuple[str, str, str | None]]:
    """The (machine, profile, transport) figures `render_all` draws: every machine under
    both profiles, per transport where the udp and tcp figures differ, else once
    (transport ``None``)."""
    found: list[tuple[str, str, str | None]] = []
    for machine in machines if machines is not None else sg.available_machines():
        for profile in PROFILES:
            if sg.differs_by_transport(machine, profile):
                found += [(machine, profile, t) for t in TRANSPORTS]
            else:
                found.append((machine, profile, None))
    return found


def render_all(
    out_dir: Path | str = Path("diagrams"),
    formats: Sequence[str] = ("dot", "svg"),
    machines: Iterable[str] | None = None,
) -> list[Path]:
    """Write the DOT and SVG (or ``formats``) of every machine under both profiles, per
    transport where the figure differs: ``ict-rfc6026-udp.dot``, ``ict-rfc6026-tcp.dot``,
    ``nist-rfc6026.dot`` ... Returns the paths written, in a stable order."""
    for fmt in formats:
        check_format(fmt)
    if any(f in ("svg", "png", "pdf") for f in formats):
        _require_dot(next(f for f in formats if f in ("svg", "png", "pdf")))
    written = []
    for machine, profile, transport in planned(machines):
        for fmt in formats:
            written.append(render(machine, profile, transport, fmt, out_dir))
    return written


def _require_dot(fmt: str) -> None:
    """Fail early, before any file is written, when ``dot`` is missing."""
    pipe("digraph { }", fmt)


# -- the profile diff ------------------------------------------------------------------------


def diff_dot(d: Diff) -> str:
    """The union of both profiles' graphs; added states and edges green, removed ones red
    and dashed, changed edges orange, the rest black."""
    from sipfsm.render.analysis import edge_id

    ga, gb = d.graphs
    if ga is None or gb is None:
        raise RenderError("this Diff carries no graphs; build it with sipfsm.render.analysis.diff")
    names = list(sg.states(ga)) + [n for n in sg.states(gb) if n not in ga]
    ids = {sg.START: "start", **{n: f"s{i}" for i, n in enumerate(names)}}
    title = (
        f"<B>{html_text(d.machine)}</B>: {html_text(d.from_profile)} → "
        f"{html_text(d.to_profile)} ({html_text(d.transport)})<BR/>"
        f'<FONT COLOR="{GREEN}">added</FONT>, <FONT COLOR="{RED}">removed</FONT>, '
        f'<FONT COLOR="{ORANGE}">changed</FONT>'
    )
    dot = graphviz.Digraph(name=f"diff_{_dot_name(ga)}")
    dot.attr("graph", label=f"<{title}>", labelloc="t", fontname=FONT, rankdir="TB")
    dot.attr("node", shape="box", style="rounded", fontname=FONT, fontsize="12")
    dot.attr("edge", fontname=FONT, fontsize="10")
    dot.node("start", label="", shape="point", width="0.18")
    for n in names:
        attrs: dict[str, str] = {}
        if n in d.states_added:
            attrs.update(color=GREEN, fontcolor=GREEN, penwidth="2.5")
        elif n in d.states_removed:
            attrs.update(color=RED, fontcolor=RED, style="rounded,dashed", penwidth="2.5")
        terminal = (gb.nodes[n] if n in gb else ga.nodes[n])["terminal"]
        if terminal:
            attrs["peripheries"] = "2"
        dot.node(ids[n], label=f"<<B>{_wrapped(n, 40)}</B>>", **attrs)
    # every edge of the old profile, then the edges only the new one has
    for g, side in ((ga, "from"), (gb, "to")):
        for u, v, _k, a in sg.edges(g):
            eid = edge_id(u, v, a)
            if side == "to" and eid not in d.edges_added:
                continue
            attrs = {}
            if eid in d.edges_added:
                attrs.update(color=GREEN, fontcolor=GREEN, penwidth="2.5")
            elif eid in d.edges_removed:
                attrs.update(color=RED, fontcolor=RED, style="dashed", penwidth="2.5")
            elif eid in d.edges_changed:
                attrs.update(color=ORANGE, fontcolor=ORANGE, penwidth="2")
            label = _wrapped(_edge_label_text(a), 44)
            if a["rfc"]:
                label += f'<BR/><FONT POINT-SIZE="8">{html_text(a["rfc"])}</FONT>'
            dot.edge(ids[u], ids[v], label=f"<{label}>", **attrs)
    return str(dot.source)


def render_diff(
    machine: str,
    from_profile: str = "rfc3261",
    to_profile: str = "rfc6026",
    fmt: str = "svg",
    out_dir: Path | str = Path("diagrams"),
    transport: str = "udp",
) -> Path:
    """Write the diff diagram, ``<machine>-<from>-to-<to>-<transport>.<ext>``."""
    from sipfsm.render.analysis import diff

    check_format(fmt)
    if fmt == "mermaid":
        raise RenderError("the diff diagram is drawn with Graphviz: use dot, svg, png or pdf")
    source = diff_dot(diff(machine, from_profile, to_profile, transport))
    data = source.encode() if fmt == "dot" else pipe(source, fmt)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{machine}-{from_profile}-to-{to_profile}-{transport}.{EXTENSIONS[fmt]}"
    path.write_bytes(data)
    return path


__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "STANDOUT",
    "GraphvizMissing",
    "RenderError",
    "diff_dot",
    "digraph",
    "dot_source",
    "file_stem",
    "html_text",
    "mermaid",
    "mermaid_text",
    "pipe",
    "planned",
    "printable",
    "render",
    "render_all",
    "render_diff",
    "to_dot",
    "to_mermaid",
]
