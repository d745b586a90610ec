"""The model benchmarks (benchmarks/bench_dispatch.py, bench_create.py, run.py) run in their
tiny ``--smoke`` mode and print the lines docs/performance.md documents.

Only the shape of the output is checked, never a figure: timings belong to the benchmarks
(``make bench``), not to the tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"

GOAL = re.compile(r"^goal .+: (met|NOT met) \(.+\)$")
MACHINE = re.compile(r"^machine: \d+ CPUs, .+, \S+ \d+\.\d+\.\d+, ")
NUMBER = r"[\d,.]+"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def smoke(script: str) -> list[str]:
    done = run(str(BENCHMARKS / script), "--smoke")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_dispatch_benchmark_prints_every_scenario_against_both_baselines_and_its_goals() -> None:
    lines = smoke("bench_dispatch.py")
    assert MACHINE.match(lines[0]), lines[0]
    scenario = re.compile(
        rf"^(ict 2xx|ict 486|nict|ist 2xx|ist 486|nist|dialog|transactions) +{NUMBER}"
        rf" +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER}x +\d+%$"
    )
    names = [m.group(1) for m in map(scenario.match, lines) if m]
    assert names == ["ict 2xx", "ict 486", "nict", "ist 2xx", "ist 486", "nist", "dialog",
                     "transactions"]  # fmt: skip
    goals = [line for line in lines if line.startswith("goal ")]
    assert [g.split(":")[0] for g in goals] == [
        "goal table engine >= 10x the transitions engine",
        "goal table engine >= 30% of the bare dict",
    ]
    assert all(GOAL.match(g) for g in goals), goals
    assert any(line.startswith("per event: table ") for line in lines)
    assert any(line.startswith("reference: dict keyed by trigger names") for line in lines)


def test_create_benchmark_prints_time_and_memory_per_transaction_and_its_goals() -> None:
    lines = smoke("bench_create.py")
    assert MACHINE.match(lines[0]), lines[0]
    row = re.compile(
        rf"^(ict|nict|ist|nist|\(dialog\)) +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER}"
        rf" +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER}x +{NUMBER}x$"
    )
    names = [m.group(1) for m in map(row.match, lines) if m]
    assert names == ["ict", "nict", "ist", "nist", "(dialog)"]
    goals = [line for line in lines if line.startswith("goal ")]
    assert [g.split(" from ")[0].split(" <=")[0] for g in goals] == [
        "goal time per transaction does not grow",
        "goal memory per live transaction",
    ]
    assert all(GOAL.match(g) for g in goals), goals
    assert any(line.startswith("with the cycle collector running: ") for line in lines)


def test_proxy_benchmark_prints_the_proxied_call_and_memory_beside_their_baselines() -> None:
    lines = smoke("bench_proxy.py")
    assert MACHINE.match(lines[0]), lines[0]
    call = re.compile(rf"^(direct|proxied): .+ +{NUMBER} +{NUMBER}$")
    assert [m.group(1) for m in map(call.match, lines) if m] == ["direct", "proxied"]
    assert any(re.match(rf"^a proxied call costs {NUMBER} direct calls$", t) for t in lines)
    memory = re.compile(rf"^(UA|proxy) \(.+\) +{NUMBER} +{NUMBER} +{NUMBER}x$")
    assert [m.group(1) for m in map(memory.match, lines) if m] == ["UA", "proxy"]
    goals = [line for line in lines if line.startswith("goal ")]
    assert [g.split(":")[0] for g in goals] == [
        "goal every proxied call passes (expectations and invariants)"
    ]
    assert all(GOAL.match(g) for g in goals), goals


def test_run_collects_the_goal_lines_of_the_benchmarks_it_runs() -> None:
    done = run(str(BENCHMARKS / "run.py"), "--smoke", "dispatch", "create")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.split("== summary\n", 1)[1].splitlines()
    assert MACHINE.match(summary[0]), summary[0]
    goals = summary[1:]
    assert [g.split(":")[0] for g in goals] == ["dispatch", "dispatch", "create", "create"]
    assert all(GOAL.match(g.split(": ", 1)[1]) for g in goals), goals


def test_run_names_the_valid_benchmarks_when_given_an_unknown_one() -> None:
    done = run(str(BENCHMARKS / "run.py"), "--smoke", "nosuch")
    assert done.returncode != 0
    message = done.stderr.strip()
    assert message.startswith("unknown benchmark nosuch; valid choices: ")
    assert "dispatch" in message and "create" in message
    assert "Traceback" not in done.stderr


def test_the_instruction_counter_runs_its_work_in_smoke_mode_without_valgrind() -> None:
    # (its figures need valgrind and minutes: docs/performance.md gives them)
    assert smoke("instructions.py") == ["instructions: smoke run done (nothing counted)"]
