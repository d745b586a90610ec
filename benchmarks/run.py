"""Run every benchmark (``benchmarks/bench_*.py``) and collect their goal lines.

``make bench`` runs ``.venv/bin/python benchmarks/run.py``. Options:

* ``--smoke``: pass ``--smoke`` to each benchmark (a tiny run that only checks it works);
  a benchmark that has no ``--smoke`` flag is skipped in that mode;
* ``--out FILE``: also write everything printed to FILE (to paste into
  docs/performance.md);
* ``--strict``: exit with status 1 when a goal is not met (by default only a benchmark that
  fails makes the run fail: goals are measured and reported, never assumed);
* names (``dispatch``, ``create`` ...): run only those benchmarks.

Each benchmark's output is shown as it runs; at the end comes one line per goal, prefixed
with the benchmark's name, and the machine the run happened on.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if not names:
        return found
    by_name = {path.stem.removeprefix("bench_"): path for path in found}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(
            f"unknown benchmark {', '.join(unknown)}; valid choices: {', '.join(by_name)}"
        )
    return [by_name[n] for n in names]


def has_smoke_flag(path: Path) -> bool:
    return "--smoke" in path.read_text(encoding="utf-8")


def run(path: Path, smoke: bool, out: list[str]) -> int:
    """Run one benchmark, echoing and keeping its output; its exit status."""
    command = [sys.executable, str(path), *(["--smoke"] if smoke else [])]
    with subprocess.Popen(
        command,
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        for text in proc.stdout:
            print(text, end="", flush=True)
            out.append(text.rstrip("\n"))
    return proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the sipfsm benchmarks.")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--smoke", action="store_true", help="tiny runs that only check")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    parser.add_argument("--strict", action="store_true", help="fail when a goal is not met")
    args = parser.parse_args()
    log: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        log.append(text)

    goals: list[str] = []
    machine = ""
    failed: list[str] = []
    for path in benchmarks(args.names):
        name = path.stem.removeprefix("bench_")
        if args.smoke and not has_smoke_flag(path):
            say(f"== {name}: skipped (no --smoke flag)")
            continue
        say(f"== {name}{' (smoke)' if args.smoke else ''}")
        started = time.perf_counter()
        out: list[str] = []
        status = run(path, args.smoke, out)
        log.extend(out)
        say(f"== {name}: {'ok' if status == 0 else f'FAILED (exit {status})'}, "
            f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        if status != 0:
            failed.append(name)
        machine = machine or next((t for t in out if t.startswith("machine:")), "")
        goals.extend(f"{name}: {t}" for t in out if t.startswith("goal "))
    say()
    say("== summary")
    if machine:
        say(machine)
    for goal in goals:
        say(goal)
    for name in failed:
        say(f"{name}: FAILED")
    if args.out:
        args.out.write_text("\n".join(log) + "\n", encoding="utf-8")
    missed = any(": NOT met" in goal for goal in goals)
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
