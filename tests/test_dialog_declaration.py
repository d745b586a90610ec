"""The dialog's declaration, recorded: `declare(profile)` for both profiles, every field of
every row (source, trigger, guards, actions with their arguments, dest, RFC section,
profiles, note) in declaration order, and every state, outcome, trigger, timer, note and
ruling, is the one in ``tests/data/dialog-declaration.json``.

The declaration may be laid out in any modules; what it declares changes only on purpose,
and then the file is rewritten with ``python tests/test_dialog_declaration.py`` and the
change reviewed in its diff. (The order of the rows matters: among the rows of one state
and trigger, the first whose guards all hold is taken.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from sipfsm.decl.language import (
    PROFILES,
    ActionDecl,
    MachineDecl,
    Outcome,
    StateDecl,
    TimerDecl,
    Transition,
    Trigger,
)
from sipfsm.machines.dialog import declare

RECORD = Path(__file__).resolve().parent / "data" / "dialog-declaration.json"


def _action(a: ActionDecl) -> list[str]:
    return [a.kind, a.arg, a.arg2]


def _row(r: Transition) -> dict[str, Any]:
    return {
        "source": r.source,
        "trigger": r.trigger,
        "guards": [[g.name, g.text, g.rfc] for g in r.guards],
        "actions": [_action(a) for a in r.actions],
        "dest": r.dest,
        "rfc": r.rfc,
        "profiles": sorted(r.profiles),
        "note": r.note,
    }


def _outcome(o: Outcome) -> dict[str, Any]:
    return {**o.to_json(), "profiles": sorted(o.profiles)}


def _state(s: StateDecl) -> dict[str, Any]:
    return {
        "name": s.name,
        "description": s.description,
        "rfc": s.rfc,
        "timers": list(s.timers),
        "outcomes": [_outcome(o) for o in s.outcomes],
        "on_enter": [_action(a) for a in s.on_enter],
        "parent": s.parent,
        "keeps": list(s.keeps),
        "initial": s.initial,
        "terminal": s.terminal,
        "profiles": sorted(s.profiles),
    }


def _trigger(t: Trigger) -> dict[str, Any]:
    return {
        "name": t.name,
        "kind": t.kind,
        "label": t.label,
        "status": list(t.status) if t.status else None,
        "method": t.method,
        "timer": t.timer,
        "direction": t.direction,
    }


def _timer(t: TimerDecl) -> dict[str, Any]:
    return {
        "name": t.name,
        "unreliable": t.unreliable,
        "reliable": t.reliable,
        "purpose": t.purpose,
        "rfc": t.rfc,
        "cap": t.cap,
    }


def recorded(decl: MachineDecl) -> dict[str, Any]:
    """Everything a declaration declares, as JSON-ready data (guards by name, text and
    section: their checks are code)."""
    return {
        "id": decl.id,
        "title": decl.title,
        "rfc": decl.rfc,
        "profile": decl.profile,
        "figure": decl.figure,
        "notes": list(decl.notes),
        "rulings": [{**r.to_json(), "profiles": sorted(r.profiles)} for r in decl.rulings],
        "states": [_state(s) for s in decl.states],
        "triggers": [_trigger(t) for t in decl.triggers],
        "timers": [_timer(t) for t in decl.timers],
        "creations": [_row(r) for r in decl.creations],
        "transitions": [_row(r) for r in decl.transitions],
    }


def record() -> dict[str, Any]:
    return {profile: recorded(declare(profile)) for profile in PROFILES}


def _text(data: dict[str, Any]) -> str:
    """The record as JSON with one row, state, trigger or timer a line (a change reads as
    the lines of the rows it changes)."""

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = ["{"]
    for i, (profile, decl) in enumerate(data.items()):
        lines.append(f" {one(profile)}: {{")
        for j, (key, value) in enumerate(decl.items()):
            comma = "," if j < len(decl) - 1 else ""
            if isinstance(value, list) and value:
                lines.append(f"  {one(key)}: [")
                lines += [f"   {one(v)}," for v in value[:-1]] + [f"   {one(value[-1])}"]
                lines.append(f"  ]{comma}")
            else:
                lines.append(f"  {one(key)}: {one(value)}{comma}")
        lines.append(" }" + ("," if i < len(data) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("profile", PROFILES)
def test_the_dialog_declares_what_tests_data_records(profile: str) -> None:
    expected = json.loads(RECORD.read_text(encoding="utf-8"))[profile]
    got = json.loads(json.dumps(recorded(declare(profile))))
    on_purpose = "if the change is on purpose, run `python tests/test_dialog_declaration.py`"
    for part in ("rulings", "states", "triggers", "timers", "creations", "transitions"):
        assert len(got[part]) == len(expected[part]), f"{part}: {on_purpose}"
        for i, (g, e) in enumerate(zip(got[part], expected[part], strict=True)):
            assert g == e, f"{part}[{i}]: {on_purpose}"
    assert got == expected, on_purpose


if __name__ == "__main__":  # rewrite the record (review the diff)
    RECORD.write_text(_text(record()), encoding="utf-8")
    print(f"wrote {RECORD}", file=sys.stderr)
