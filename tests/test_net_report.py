"""The reports of sipfsm probe (sipfsm.net.report): text grouped by RFC section, JSON,
JUnit XML a CI system reads, and an HTML page whose ladders show and whose links resolve.

No headless browser is installed here (chromium is not a dependency yet): the HTML is
checked with Python's HTML parser -- well formed, every case's ladder an SVG with an
arrow per message, every in-page link pointing at an id that exists, ids unique."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from sipfsm.net.cases import PROBES, Exchange, Verdict
from sipfsm.net.report import html_report, json_report, junit_report, summary, text_report

BY_ID = {p.id: p for p in PROBES}


def verdicts() -> list[Verdict]:
    ladder = [
        Exchange(0.0, True, "INVITE", "INVITE sip:a@b SIP/2.0\r\n\r\n"),
        Exchange(0.01, False, "180 Ringing (INVITE)", "SIP/2.0 180 Ringing\r\n\r\n"),
        Exchange(0.02, True, "CANCEL", "CANCEL sip:a@b SIP/2.0\r\n\r\n"),
        Exchange(0.03, False, "487 Request Terminated (CANCEL)", "SIP/2.0 487 <x>\r\n\r\n"),
    ]
    return [
        Verdict(BY_ID["options"], "pass", "answered 200", [], 0.05),
        Verdict(BY_ID["cancel-487"], "fail", "487 to the CANCEL itself", ladder, 0.2),
        Verdict(BY_ID["cancel-unknown"], "warn", "answered 200 <OK>", [], 0.1),
        Verdict(BY_ID["lower-cseq"], "inconclusive", "no dialog", [], 1.0),
        Verdict(BY_ID["final-retransmitted"], "skipped", "udp only", [], 0.0),
    ]


def test_the_text_report_groups_cases_by_rfc_section_as_h2spec_does() -> None:
    text = text_report("sip:x@127.0.0.1:5060", verdicts())
    section = text.index("RFC 3261 §9.2\n")
    assert text.index("cancel-487", section) < text.index("cancel-unknown", section)
    assert "✖ fail         cancel-487" in text
    assert text.rstrip().endswith("5 cases: 1 pass, 1 fail, 1 warn, 1 inconclusive, 1 skipped")


def test_the_json_report_has_every_case_with_its_section_and_messages() -> None:
    data = json.loads(json.dumps(json_report("t", verdicts())))
    assert data["summary"] == summary(verdicts())
    case = data["cases"][1]
    assert case["id"] == "cancel-487" and case["rfc"] == "RFC 3261 §9.2"
    assert [m["dir"] for m in case["messages"]] == ["sent", "received", "sent", "received"]


def test_the_junit_report_marks_failures_and_skips_for_ci() -> None:
    root = ET.fromstring(junit_report("t", verdicts()))
    assert root.tag == "testsuites" and root.get("failures") == "1" and root.get("tests") == "5"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    failure = cases["cancel-487"].find("failure")
    assert failure is not None and failure.get("type") == "RFC 3261 §9.2"
    assert "CANCEL" in (failure.text or "")
    assert cases["lower-cseq"].find("skipped") is not None
    assert cases["options"].find("failure") is None and cases["options"].find("skipped") is None
    out = cases["cancel-unknown"].find("system-out")
    assert out is not None and (out.text or "").startswith("warn:")


class _Page(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "input", "link", "hr", "path", "line"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.svgs = 0
        self.arrows = 0
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag == "svg":
            self.svgs += 1
        if tag == "line" and a.get("marker-end"):
            self.arrows += 1
            self.links.append(str(a["marker-end"])[4:-1])  # url(#id)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()


def test_the_html_report_is_well_formed_its_ladders_show_and_its_links_resolve() -> None:
    page = _Page()
    page.feed(html_report("sip:x@127.0.0.1:5060", verdicts()))
    page.close()
    assert not page.errors and page.stack == []
    assert len(page.ids) == len(set(page.ids))  # unique ids
    assert page.svgs == 5 and page.arrows == 4  # a ladder per case, an arrow per message
    missing = [link for link in page.links if link.startswith("#") and link[1:] not in page.ids]
    assert missing == []
    assert {f"#case-{v.probe.id}" for v in verdicts()} <= set(page.links)


def test_the_html_report_escapes_what_the_target_sent() -> None:
    text = html_report("t", verdicts())
    assert "487 &lt;x&gt;" in text and "<x>" not in text


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no headless chromium here")
def test_the_html_report_renders_in_headless_chromium(tmp_path: object) -> None:
    import subprocess
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    page = tmp_path / "r.html"
    page.write_text(html_report("t", verdicts()), encoding="utf-8")
    chromium = shutil.which("chromium")
    assert chromium is not None
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert out.count("<svg") == 5 and "cancel-487" in out
