"""Summary diagrams: a machine at screen size, beside its full diagram (`sipfsm.render.diagram`).

A full diagram labels every row (``event [guard] / actions``, its section, its codes); the
dialog's reaches thousands of pixels, its self loops forty lines a state. A summary draws
what a SIP engineer looks for first:

* one box per state (nested states as clusters, as in the full diagram), with the codes
  that can arise in it and the number of rows that leave the state where it is, folded
  into one line (``↻ 12 rows``) that links to the state's table on the machine's docs page;
* one arrow per pair of states that a row moves between, labelled with the triggers of
  those rows (no guards, no actions: those are in the table).

Drawn from `sipfsm.render.graph`, like every figure; deterministic, so committed DOT files
compare as text. ``tests/test_diagrams.py`` renders each summary and checks that it fits a
screen (`SCREEN_WIDTH`, `SCREEN_HEIGHT`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import graphviz
import networkx as nx

from sipfsm.decl.language import PROFILES
from sipfsm.render import graph as sg
from sipfsm.render.diagram import (
    EXTENSIONS,
    FONT,
    GREY,
    RED,
    STANDOUT,
    check_format,
    file_stem,
    html_text,
    pipe,
    planned,
)

__all__ = [
    "SCREEN_HEIGHT",
    "SCREEN_WIDTH",
    "render_all",
    "render_summary",
    "summary_digraph",
    "summary_source",
    "summary_stem",
]

#: The size a summary must fit, in CSS pixels (an SVG's points at 96 dpi).
SCREEN_WIDTH = 1600
SCREEN_HEIGHT = 1200

#: Triggers named on one arrow before the rest are counted ("+3 more").
_TRIGGERS_SHOWN = 3


def _ids(g: nx.MultiDiGraph[str]) -> dict[str, str]:
    ids = {sg.START: "start"}
    for i, n in enumerate(sg.states(g)):
        ids[n] = f"s{i}"
    return ids


def _codes(outcomes: Iterable[Any]) -> str:
    codes = sorted({o.code for o in outcomes if not o.forbidden})
    return " ".join(f"<B>{c}</B>" if c in STANDOUT else str(c) for c in codes)


# complex on purpose (C901): one attribute per feature a state or arrow may show
def summary_digraph(  # noqa: C901
    machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp"
) -> graphviz.Digraph:
    """The summary `graphviz.Digraph` of a machine (see the module docstring)."""
    g = sg.build(machine, profile, transport)
    ids = _ids(g)
    machine_id = str(g.graph["machine"])
    title = (
        f"<B>{html_text(machine_id)}</B> — {html_text(g.graph['title'])}<BR/>"
        f'<FONT POINT-SIZE="10">summary: profile {html_text(g.graph["profile"])}, transport '
        f"{html_text(transport)}; every row is in docs/machines/{html_text(machine_id)}.md"
        "</FONT>"
    )
    dot = graphviz.Digraph(name=f"{machine_id}_{g.graph['profile']}_summary", engine="dot")
    dot.attr(
        "graph", label=f"<{title}>", labelloc="t", fontname=FONT, compound="true",
        rankdir="TB", nodesep="0.35", ranksep="0.45",
    )  # fmt: skip
    dot.attr("node", shape="box", style="rounded", fontname=FONT, fontsize="12")
    dot.attr("edge", fontname=FONT, fontsize="9")
    dot.node("start", label="", shape="point", width="0.15")

    loops: dict[str, int] = {}
    arrows: dict[tuple[str, str], list[str]] = {}
    for u, v, _k, a in sg.edges(g):
        if u == v:
            loops[u] = loops.get(u, 0) + 1
            continue
        triggers = arrows.setdefault((u, v), [])
        label = str(a["trigger_label"])
        if label not in triggers:
            triggers.append(label)
    parents = {g.nodes[n]["parent"] for n in sg.states(g)} - {None}

    def node(container: graphviz.Digraph, n: str) -> None:
        a = g.nodes[n]
        lines = [f"<B>{html_text(n)}</B>"]
        small = []
        codes = _codes(a["outcomes"])
        if codes:
            small.append(f'<FONT COLOR="{RED}">{codes}</FONT>')
        if loops.get(n):
            rows = loops[n]
            small.append(f'<FONT COLOR="{GREY}">↻ {rows} row{"s" if rows > 1 else ""}</FONT>')
        if small:
            lines.append('<FONT POINT-SIZE="9">' + "<BR/>".join(small) + "</FONT>")
        attrs = {"URL": f"../docs/machines/{machine_id}.md", "tooltip": f"{n}: every row"}
        if a["initial"]:
            attrs["penwidth"] = "2"
        if a["terminal"]:
            attrs["peripheries"] = "2"
        if n in parents:
            attrs["style"] = "rounded,dashed"
        container.node(ids[n], label="<" + "<BR/>".join(lines) + ">", **attrs)

    def place(container: graphviz.Digraph, n: str) -> None:
        kids = sg.children(g, n)
        if not kids:
            node(container, n)
            return
        with container.subgraph(name=f"cluster_{ids[n]}") as sub:
            sub.attr(label=f"<<B>{html_text(n)}</B>>", style="rounded", color=GREY)
            node(sub, n)
            for kid in kids:
                place(sub, kid)

    for n in sg.states(g):
        if g.nodes[n]["parent"] is None:
            place(dot, n)
    for (u, v), triggers in arrows.items():
        shown = triggers[:_TRIGGERS_SHOWN]
        more = len(triggers) - len(shown)
        text = "<BR/>".join(html_text(t) for t in shown)
        if more:
            text += f'<BR/><FONT COLOR="{GREY}">+{more} more</FONT>'
        attrs: dict[str, str] = {}
        if u != sg.START and u in parents and v not in sg.descendants(g, u):
            attrs["ltail"] = f"cluster_{ids[u]}"
        if v in parents and u not in sg.descendants(g, v):
            attrs["lhead"] = f"cluster_{ids[v]}"
        dot.edge(ids[u], ids[v], label=f"<{text}>", **attrs)
    return dot


def summary_source(
    machine: sg.MachineRef, profile: str = "rfc6026", transport: str = "udp"
) -> str:
    """The DOT text of a machine's summary."""
    return str(summary_digraph(machine, profile, transport).source)


def summary_stem(machine: str, profile: str, transport: str | None) -> str:
    """``dialog-rfc6026-summary``, ``ict-rfc6026-udp-summary``."""
    return file_stem(machine, profile, transport) + "-summary"


def render_summary(
    machine: sg.MachineRef,
    profile: str = "rfc6026",
    transport: str | None = "udp",
    fmt: str = "svg",
    out_dir: Path | str = Path("diagrams"),
) -> Path:
    """Write one summary (``transport=None``: the figure both transports share, drawn from
    the udp graph) and return its path."""
    check_format(fmt)
    decl = sg.resolve(machine, profile)
    source = summary_source(decl, decl.profile, transport or "udp")
    data = source.encode() if fmt == "dot" else pipe(source, fmt)
    out_dir = Path(out_dir)
    path = out_dir / f"{summary_stem(decl.id, decl.profile, transport)}.{EXTENSIONS[fmt]}"
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def render_all(
    out_dir: Path | str = Path("diagrams"),
    formats: Sequence[str] = ("dot", "svg"),
    machines: Iterable[str] | None = None,
) -> list[Path]:
    """Write the summary of every figure `sipfsm.render.diagram.render_all` draws."""
    return [
        render_summary(machine, profile, transport, fmt, out_dir)
        for machine, profile, transport in planned(machines)
        for fmt in formats
        if profile in PROFILES
    ]
