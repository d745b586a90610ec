"""diagrams/ holds the rendered machines; it must always match the declarations.

DOT text is compared (SVG bytes vary with the graphviz version); every DOT has its SVG.
`make demo` (or `sipfsm demo`) refreshes the folder.
"""

from __future__ import annotations

from pathlib import Path

from sipfsm.render import diagram as render
from sipfsm.render import summary

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"


def test_diagrams_folder_holds_exactly_the_planned_figures() -> None:
    stems = {render.file_stem(m, p, t) for m, p, t in render.planned()}
    stems |= {summary.summary_stem(m, p, t) for m, p, t in render.planned()}
    expected = {f"{s}.{ext}" for s in stems for ext in ("dot", "svg")}
    present = {p.name for p in DIAGRAMS.iterdir() if p.suffix in (".dot", ".svg")}
    assert present == expected, "diagrams/ is out of date: run `make demo`"


def test_committed_dot_files_match_the_declarations() -> None:
    stale = []
    for machine, profile, transport in render.planned():
        path = DIAGRAMS / f"{render.file_stem(machine, profile, transport)}.dot"
        if path.read_text(encoding="utf-8") != render.dot_source(machine, profile, transport):
            stale.append(path.name)
    assert not stale, f"diagrams/ no longer matches the code for {stale}: run `make demo`"


def test_committed_summaries_match_the_declarations() -> None:
    stale = []
    for machine, profile, transport in render.planned():
        path = DIAGRAMS / f"{summary.summary_stem(machine, profile, transport)}.dot"
        if path.read_text(encoding="utf-8") != summary.summary_source(
            machine, profile, transport or "udp"
        ):
            stale.append(path.name)
    assert not stale, f"diagrams/ no longer matches the code for {stale}: run `make demo`"


def test_committed_svgs_name_every_state() -> None:
    from sipfsm.engine import model

    for machine, profile, transport in render.planned():
        svg = (DIAGRAMS / f"{render.file_stem(machine, profile, transport)}.svg").read_text()
        for state in model.declare(machine, profile).state_names:
            assert state in svg, (machine, profile, transport, state)
