"""docs/probes.md is generated from the probe declarations (sipfsm.net.docs), never by hand."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_probe_page_is_made_from_the_probe_declarations() -> None:
    from sipfsm.net import docs as live
    from sipfsm.net.cases import PROBES

    for rel, text in live.pages().items():
        committed = ROOT / "docs" / rel
        assert committed.read_text(encoding="utf-8") == text, f"docs/{rel}: run `make demo`"
    page = live.probes_page()
    for probe in PROBES:
        assert f"| `{probe.id}` | {probe.rfc} |" in page


def test_the_probe_page_explains_every_outcome() -> None:
    from sipfsm.net import docs as live
    from sipfsm.net.cases import OUTCOMES

    page = live.probes_page()
    for outcome in OUTCOMES:
        assert f"| `{outcome}` |" in page
