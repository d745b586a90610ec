"""The reports of `sipfsm probe`: a terminal summary in the style of h2spec (a case per line,
grouped by RFC section), JSON, JUnit XML for CI systems, and one HTML page with every case's
verdict and its ladder (inline SVG: sipfsm on the left, the target on the right, a message
per arrow). Each is made from the same `sipfsm.net.probe.Verdict` list.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any, Final

from sipfsm.net.cases import OUTCOMES, Verdict

__all__ = ["html_report", "json_report", "junit_report", "summary", "text_report"]

_MARK: Final = {"pass": "✔", "fail": "✖", "warn": "!", "inconclusive": "?", "skipped": "-"}


def summary(verdicts: list[Verdict]) -> dict[str, int]:
    counts = Counter(v.outcome for v in verdicts)
    return {o: counts.get(o, 0) for o in OUTCOMES}


def _summary_line(verdicts: list[Verdict]) -> str:
    s = summary(verdicts)
    return f"{len(verdicts)} cases: " + ", ".join(f"{n} {o}" for o, n in s.items() if n)


def _sections(verdicts: list[Verdict]) -> list[tuple[str, list[Verdict]]]:
    groups: dict[str, list[Verdict]] = {}
    for v in verdicts:
        groups.setdefault(v.probe.rfc, []).append(v)
    return list(groups.items())


def text_report(target: str, verdicts: list[Verdict]) -> str:
    """A case per line under its RFC section; the reason under each case that did not pass."""
    lines = [f"sipfsm probe {target}", ""]
    for section, group in _sections(verdicts):
        lines.append(section)
        for v in group:
            lines.append(f"  {_MARK[v.outcome]} {v.outcome:<12} {v.probe.id}: {v.probe.title}")
            lines.append(f"      {v.reason}")
        lines.append("")
    lines.append(_summary_line(verdicts))
    return "\n".join(lines)


def json_report(target: str, verdicts: list[Verdict]) -> dict[str, Any]:
    return {
        "target": target,
        "summary": summary(verdicts),
        "cases": [v.to_json() for v in verdicts],
    }


def junit_report(target: str, verdicts: list[Verdict]) -> str:
    """JUnit XML: a testsuite per RFC section, a testcase per case; ``fail`` is a
    <failure>, ``inconclusive`` and ``skipped`` are <skipped>, ``warn`` passes with the
    reason in <system-out>."""
    root = ET.Element(
        "testsuites",
        name=f"sipfsm probe {target}",
        tests=str(len(verdicts)),
        failures=str(summary(verdicts)["fail"]),
    )
    for section, group in _sections(verdicts):
        suite = ET.SubElement(
            root,
            "testsuite",
            name=section,
            tests=str(len(group)),
            failures=str(sum(v.outcome == "fail" for v in group)),
            skipped=str(sum(v.outcome in ("inconclusive", "skipped") for v in group)),
            time=f"{sum(v.seconds for v in group):.3f}",
        )
        for v in group:
            case = ET.SubElement(
                suite, "testcase", classname=section, name=v.probe.id, time=f"{v.seconds:.3f}"
            )
            if v.outcome == "fail":
                failure = ET.SubElement(case, "failure", message=v.reason, type=v.probe.rfc)
                failure.text = _ladder_text(v)
            elif v.outcome in ("inconclusive", "skipped"):
                ET.SubElement(case, "skipped", message=f"{v.outcome}: {v.reason}")
            elif v.outcome == "warn":
                out = ET.SubElement(case, "system-out")
                out.text = f"warn: {v.reason}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _ladder_text(v: Verdict) -> str:
    return "\n".join(
        f"{e.t * 1000:8.1f} ms  {'sipfsm -> target' if e.sent else 'target -> sipfsm'}  {e.summary}"
        for e in v.exchanges
    )


_ROW: Final = 26
_LEFT: Final = 90
_RIGHT: Final = 430


def ladder_svg(v: Verdict) -> str:
    """The case's messages as a ladder: two lifelines, an arrow per message, its time."""
    height = 50 + _ROW * max(1, len(v.exchanges))
    marker = f"arrow-{html.escape(v.probe.id)}"  # (ids are unique in the page)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="560" '
        f'height="{height}" viewBox="0 0 560 {height}" role="img" '
        f'aria-label="ladder of {html.escape(v.probe.id)}">',
        f'<defs><marker id="{marker}" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
        f'<text x="{_LEFT}" y="16" text-anchor="middle">sipfsm</text>',
        f'<text x="{_RIGHT}" y="16" text-anchor="middle">target</text>',
        f'<line x1="{_LEFT}" y1="24" x2="{_LEFT}" y2="{height - 6}" stroke="#888"/>',
        f'<line x1="{_RIGHT}" y1="24" x2="{_RIGHT}" y2="{height - 6}" stroke="#888"/>',
    ]
    for i, e in enumerate(v.exchanges):
        y = 44 + _ROW * i
        x1, x2 = (_LEFT, _RIGHT) if e.sent else (_RIGHT, _LEFT)
        colour = "#1f5fa8" if e.sent else "#a8451f"
        parts.append(
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}" '
            f'marker-end="url(#{marker})"/>'
        )
        parts.append(
            f'<text x="{(_LEFT + _RIGHT) // 2}" y="{y - 4}" text-anchor="middle" '
            f'class="msg">{html.escape(e.summary)}</text>'
        )
        parts.append(f'<text x="4" y="{y + 4}" class="time">{e.t * 1000:.0f} ms</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS: Final = """
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
.pass { color: #166d16; } .fail { color: #b00020; } .warn { color: #9a6700; }
.inconclusive, .skipped { color: #666; }
svg.ladder text { font-size: 12px; font-family: monospace; }
svg.ladder text.time { fill: #666; }
section.case { border-top: 1px solid #ccc; margin-top: 1.5em; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; font-size: 12px; }
"""


def html_report(target: str, verdicts: list[Verdict]) -> str:
    """One self-contained page: the summary, a table of cases linking to each case's
    section, and each case's verdict, ladder and messages."""
    t = html.escape(target)
    rows = []
    cases = []
    for v in verdicts:
        pid = html.escape(v.probe.id)
        rows.append(
            f'<tr><td><a href="#case-{pid}">{pid}</a></td><td>{html.escape(v.probe.rfc)}</td>'
            f'<td class="{v.outcome}">{v.outcome}</td><td>{html.escape(v.reason)}</td></tr>'
        )
        messages = "".join(
            f"<details><summary>{e.t * 1000:.1f} ms {'sent' if e.sent else 'received'}: "
            f"{html.escape(e.summary)}</summary><pre>{html.escape(e.raw)}</pre></details>"
            for e in v.exchanges
        )
        cases.append(
            f'<section class="case" id="case-{pid}"><h2>{pid}: {html.escape(v.probe.title)}</h2>'
            f"<p>{html.escape(v.probe.rfc)}. Sends: {html.escape(v.probe.sends)}. "
            f"Passes: {html.escape(v.probe.passes)}.</p>"
            f'<p class="verdict {v.outcome}"><strong>{v.outcome}</strong>: '
            f"{html.escape(v.reason)}</p>{ladder_svg(v)}{messages}"
            '<p><a href="#top">back to the summary</a></p></section>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>sipfsm probe {t}</title><style>{_CSS}</style></head><body>"
        f'<h1 id="top">sipfsm probe {t}</h1>'
        f'<p id="summary">{html.escape(_summary_line(verdicts))}</p>'
        "<table><thead><tr><th>case</th><th>RFC</th><th>outcome</th><th>reason</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{''.join(cases)}</body></html>\n"
    )


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
