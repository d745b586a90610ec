"""Build sipfsm: pure Python, with the modules ``sipfsm.engine.native.COMPILED`` names compiled
C extensions by mypyc -- from the same source -- when a C compiler and Python's headers are
here and ``SIPFSM_PURE`` is not set. Everything else is declared in pyproject.toml."""

from __future__ import annotations

import runpy
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any

from setuptools import setup  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
NATIVE = runpy.run_path(str(HERE / "sipfsm" / "engine" / "native.py"))  # imports nothing of sipfsm


def why_pure() -> str:
    """Why the build stays pure Python, or ``""``."""
    if NATIVE["pure_requested"]():
        return f"{NATIVE['PURE_VARIABLE']} is set"
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler}; Debian: apt-get install gcc)"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        return "no Python headers (Python.h; Debian: apt-get install python3-dev)"
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        return "mypyc is not installed (pip install mypy)"
    return ""


def extensions() -> list[Any]:
    reason = why_pure()
    if reason:
        print(f"sipfsm: building pure Python only: {reason}", file=sys.stderr)
        return []
    from mypyc.build import mypycify

    try:
        return list(mypycify(list(NATIVE["COMPILED"]), opt_level="3"))
    except SystemExit:  # mypyc stops when its type check fails (it said why above)
        print(
            "sipfsm: building pure Python only: mypyc's type check failed "
            "(`make build` compiles in the development environment)",
            file=sys.stderr,
        )
        return []


setup(ext_modules=extensions())
