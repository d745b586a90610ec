"""Summary diagrams (`sipfsm.render.summary`): each machine at screen size, its state
changes drawn and its self loops folded into a count that points to the table."""

from __future__ import annotations

import re
import shutil

import pytest

from sipfsm.engine import model
from sipfsm.render import graph as sg
from sipfsm.render import summary
from sipfsm.render.diagram import pipe, planned

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is missing")


@needs_dot
@pytest.mark.parametrize(("machine", "profile", "transport"), planned())
def test_a_summary_fits_a_screen(machine: str, profile: str, transport: str | None) -> None:
    svg = pipe(summary.summary_source(machine, profile, transport or "udp"), "svg").decode()
    found = re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', svg)
    assert found is not None
    width, height = (int(v) * 96 / 72 for v in found.groups())  # points -> CSS pixels
    assert width <= summary.SCREEN_WIDTH and height <= summary.SCREEN_HEIGHT, (width, height)


@pytest.mark.parametrize("machine", model.MACHINES)
def test_every_state_change_is_an_arrow_and_no_self_loop_is_drawn(machine: str) -> None:
    g = sg.build(machine, "rfc6026", "udp")
    ids = {n: f"s{i}" for i, n in enumerate(sg.states(g))} | {sg.START: "start"}
    source = summary.summary_source(machine)
    arrows = set(re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.MULTILINE))
    changes = {(ids[u], ids[v]) for u, v, _k, _a in sg.edges(g) if u != v}
    assert arrows == changes
    assert all(u != v for u, v in arrows)


def test_self_loops_are_counted_on_their_state_and_link_to_the_table() -> None:
    g = sg.build("dialog", "rfc6026", "udp")
    loops = sum(1 for u, v, _k, _a in sg.edges(g) if u == v and u == "early")
    source = summary.summary_source("dialog")
    assert f"↻ {loops} rows" in source
    assert 'URL="../docs/machines/dialog.md"' in source
