"""The reference pages in docs/ are generated from the declarations, never by hand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import optional

from sipfsm.engine import model
from sipfsm.render import docs

ROOT = Path(__file__).resolve().parent.parent


def test_committed_docs_match_the_declarations() -> None:
    stale = [
        rel
        for rel, text in docs.pages().items()
        if not (ROOT / "docs" / rel).is_file()
        or (ROOT / "docs" / rel).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"docs/ is out of date for {stale}: run `make demo` (or sipfsm demo)"


def test_every_machine_has_a_page_with_every_row_and_section() -> None:
    pages = docs.pages()
    for machine in model.MACHINES:
        page = pages[f"machines/{machine}.md"]
        assert page.startswith(docs.GENERATED)
        for profile in ("rfc6026", "rfc3261"):
            decl = model.declare(machine, profile)
            for row in decl.transitions:
                assert row.rfc in page
            for state in decl.state_names:
                assert f"`{state}`" in page


def test_every_machine_page_shows_where_the_rfcs_disagree_and_what_the_model_does() -> None:
    pages = docs.pages()
    for machine in model.MACHINES:
        page = pages[f"machines/{machine}.md"]
        section = page.split("## Where the RFCs disagree or are silent\n", 1)[1]
        for profile in ("rfc6026", "rfc3261"):
            for ruling in model.declare(machine, profile).rulings:
                assert f"### {ruling.topic}" in section, (machine, ruling.topic)
                assert ruling.ruling in section
                assert "; ".join(ruling.rfcs) in section
                for state, trigger in ruling.rows:
                    assert f"`{state}` × `{trigger}`" in section
    assert "### Timer H in RFC 6026 Figure 7 (profile rfc6026 only)" in pages["machines/ist.md"]


def test_catalogue_page_lists_every_code_in_both_languages() -> None:
    from sipfsm.values import catalogue

    page = docs.pages()["catalogue.md"]
    for code, entry in catalogue.CODES.items():
        assert f"| {code} | {entry.reason} |" in page
        assert entry.describe("zh").replace("|", "\\|") in page


def test_mkdocs_site_builds_strict(tmp_path: Path) -> None:
    optional("mkdocs", "docs")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    result = subprocess.run(
        [str(mkdocs if mkdocs.exists() else "mkdocs"), "build", "--strict", "-q",
         "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
        capture_output=True, text=True, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr


def test_the_ua_core_page_lists_every_duty_with_its_section() -> None:
    from sipfsm.elements.duties import DUTIES

    page = docs.pages()["ua-core.md"]
    for duty in DUTIES:
        assert f"| {duty.rfc} | {duty.who} | {duty.when} |" in page

