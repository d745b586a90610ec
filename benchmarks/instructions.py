"""Instructions per basic call and per JSONL message read, counted with callgrind.

Not one of ``make bench``'s benchmarks (it needs valgrind, and takes a minute or two): the
figures it gives do not depend on the load of the machine, so they compare two builds on
a shared machine where wall-clock rates vary by 10-30% (docs/performance.md). Run::

    .venv/bin/python benchmarks/instructions.py                 # this checkout's build
    .venv/bin/python benchmarks/instructions.py --tree ../old   # another checkout's, alike

Each figure is the difference between two runs under ``valgrind --tool=callgrind`` that
differ only in the work counted (``--calls`` basic calls -- the call of bench_sim.py, every
call simulated, no trace -- against none; reading a JSONL trace of ``--messages`` messages
-- bench_check.py's trace -- against one of a tenth as many), divided by the work: what a
process starts with (imports, the first run's caches) cancels out. ``--smoke`` runs the
work once without valgrind (checks the script works).
"""

from __future__ import annotations

import argparse
import gc
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARM_CALLS = 20


def simulate_calls(count: int) -> None:
    from sipfsm.sim.run import load, simulate

    sc = load("rfc3665-3.1")
    for seed in range(WARM_CALLS + count):
        simulate(sc, seed=seed, loss=0.01, transport="udp", record=False, reuse=False)


def write_trace(path: Path, count: int) -> None:
    sys.path.insert(0, str(HERE))
    from bench_check import generate, jsonl_line

    lines = (jsonl_line(t, s, d, raw) for t, s, d, raw in generate(count))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_trace(path: Path) -> None:
    try:
        from sipfsm.check.capture import read
    except ImportError:  # (a checkout from before the layers: the same reader)
        from sipfsm.capture import read  # type: ignore[no-redef]
    gc.disable()
    read(path)


def counted(python: str, tree: Path, args: list[str]) -> int:
    """The instructions callgrind counts in this script run with ``args``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python,
             str(Path(__file__).resolve()), "--inner", *args],
            cwd=tree, check=True, capture_output=True,
        )  # fmt: skip
        found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        assert found is not None, "no total in callgrind's output"
        return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=HERE.parent, help="checkout to measure")
    parser.add_argument("--calls", type=int, default=300, help="basic calls counted")
    parser.add_argument("--messages", type=int, default=20_000, help="JSONL messages counted")
    parser.add_argument("--smoke", action="store_true", help="run the work once, uncounted")
    parser.add_argument("--inner", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:  # (the process callgrind counts)
        if args.inner[0] == "sim":
            simulate_calls(int(args.inner[1]))
        else:
            read_trace(Path(args.inner[1]))
        return
    if args.smoke:
        simulate_calls(2)
        with tempfile.TemporaryDirectory() as tmp:
            write_trace(Path(tmp) / "t.jsonl", 60)
            read_trace(Path(tmp) / "t.jsonl")
        print("instructions: smoke run done (nothing counted)")
        return
    if shutil.which("valgrind") is None:
        sys.exit("instructions: valgrind is not installed (apt-get install valgrind)")
    tree = args.tree.resolve()
    python = str(tree / ".venv" / "bin" / "python")
    calls = counted(python, tree, ["sim", str(args.calls)]) - counted(python, tree, ["sim", "0"])
    small = max(args.messages // 10, 1)
    with tempfile.TemporaryDirectory() as tmp:
        big_trace, small_trace = Path(tmp) / "big.jsonl", Path(tmp) / "small.jsonl"
        write_trace(big_trace, args.messages)
        write_trace(small_trace, small)
        read = counted(python, tree, ["read", str(big_trace)]) - counted(
            python, tree, ["read", str(small_trace)]
        )
    version = subprocess.run(
        [str(tree / ".venv" / "bin" / "sipfsm"), "--version"], capture_output=True, text=True
    ).stdout.split("(", 1)[-1]
    print(f"tree: {tree} ({version.split(':')[0]})")
    print(f"instructions per basic call (every call simulated): {calls / args.calls:,.0f}")
    print(f"instructions per JSONL message read: {read / (args.messages - small):,.0f}")


if __name__ == "__main__":
    main()
