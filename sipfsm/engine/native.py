"""The compiled build: which modules mypyc compiles, and whether this process runs them.

sipfsm is pure Python. Its hottest modules -- the table engine's runtime, the dialog layer,
the trace checker with its parser, and the simulator's event loop, network and user agent
-- are also compiled to C extensions by mypyc, from the very same source, when the package
is installed where a C compiler and Python's headers are (``setup.py``; ``make test``,
``make demo`` and ``make bench`` build them). The compiled modules behave as the source
does (the whole test suite runs on both, ``make test``); they are only faster
(docs/performance.md, "The compiled build").

Which code runs is decided once, when `sipfsm` is imported (`choose`):

* ``SIPFSM_PURE=1`` in the environment: the source, always (and ``SIPFSM_PURE=1 pip install``
  builds no extension at all);
* in a source checkout (an editable install), the source too when any compiled module is
  older than its ``.py`` file, or only some of them are there: a module edited since the
  last build must not be shadowed by its stale extension. A warning says to rebuild
  (``make build``);
* otherwise the extensions, when they are installed.

`compiled()` says which one this process runs (``sipfsm --version`` prints it).

This module itself is never compiled, and imports nothing of sipfsm: ``setup.py`` reads
`COMPILED` from it before the package can be imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

#: The modules mypyc compiles, as paths from the project root (what ``mypycify`` takes).
COMPILED: tuple[str, ...] = (
    "sipfsm/values/frozen.py",
    "sipfsm/values/headers.py",
    "sipfsm/values/message.py",
    "sipfsm/values/events.py",
    "sipfsm/elements/core.py",
    "sipfsm/machines/transaction.py",
    "sipfsm/machines/proxy.py",
    "sipfsm/decl/instance.py",
    "sipfsm/engine/rows.py",
    "sipfsm/engine/runtime.py",
    "sipfsm/machines/dialog/instance.py",
    "sipfsm/machines/dialog/failures.py",
    "sipfsm/machines/dialog/guards.py",
    "sipfsm/machines/dialog/actions.py",
    "sipfsm/elements/dialogs.py",
    "sipfsm/elements/host.py",
    "sipfsm/elements/endpoint.py",
    "sipfsm/elements/matching.py",
    "sipfsm/values/wire.py",
    "sipfsm/check/capture.py",
    "sipfsm/check/rules.py",
    "sipfsm/check/report.py",
    "sipfsm/check/state.py",
    "sipfsm/check/dialog_replay.py",
    "sipfsm/check/clock.py",
    "sipfsm/check/replay.py",
    "sipfsm/check/checker.py",
    "sipfsm/sim/engine.py",
    "sipfsm/sim/recorder.py",
    "sipfsm/sim/network.py",
    "sipfsm/sim/element.py",
    "sipfsm/sim/invariants.py",
    "sipfsm/sim/tu.py",
    "sipfsm/sim/ua.py",
    "sipfsm/sim/run.py",
)

#: The environment variable that forces the pure-Python code (and build).
PURE_VARIABLE = "SIPFSM_PURE"

_PACKAGE = Path(__file__).resolve().parent.parent  # the sipfsm package (this is sipfsm/engine)


def module_names() -> tuple[str, ...]:
    """`COMPILED` as module names: ``sipfsm.engine.runtime`` ..."""
    return tuple(p.removesuffix(".py").replace("/", ".") for p in COMPILED)


def pure_requested(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """Whether ``SIPFSM_PURE`` asks for the pure-Python code (any value but empty or 0)."""
    value = (os.environ if environ is None else environ).get(PURE_VARIABLE, "")
    return value.strip() not in ("", "0")


def extension_of(source: Path) -> Path | None:
    """The compiled extension beside a module's source (``check.cpython-311-...so``)."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = source.with_name(source.stem + suffix)
        if candidate.exists():
            return candidate
    return None


def stale(package: Path = _PACKAGE) -> list[str]:
    """Why the extensions in a source checkout must not be used: the modules whose
    extension is older than their source, or missing while others are there. Empty when
    all are built and current, or none is built."""
    found = {}
    for path in COMPILED:
        source = package.parent / path
        found[source] = extension_of(source)
    built = [s for s, ext in found.items() if ext is not None]
    if not built:
        return []
    reasons = []
    for source, ext in found.items():
        name = source.relative_to(package).as_posix()
        if ext is None:
            reasons.append(f"{name} has no extension")
        elif ext.stat().st_mtime < source.stat().st_mtime:
            reasons.append(f"{name} changed after {ext.name} was built")
    return reasons


def in_checkout(package: Path = _PACKAGE) -> bool:
    """Whether the package is a source checkout (its project's pyproject.toml beside it),
    where sources are edited after a build; an installed wheel is never stale."""
    return (package.parent / "pyproject.toml").exists()


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Finds the compiled modules' ``.py`` files, ahead of the extensions beside them."""

    def __init__(self, package: Path) -> None:
        self.package = package
        self.names = frozenset(module_names())

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in self.names:
            return None
        source = self.package.parent.joinpath(*fullname.split(".")).with_suffix(".py")
        return importlib.util.spec_from_file_location(fullname, source)


def choose() -> str:
    """Decide, once per process, which code the compiled modules run (see the module
    docstring); returns why the source was chosen, or ``""``."""
    if any(isinstance(f, _SourceFirst) for f in sys.meta_path):
        return "chosen already"
    reason = ""
    if pure_requested():
        reason = f"{PURE_VARIABLE} is set"
    elif in_checkout():
        reasons = stale()
        if reasons:
            reason = "; ".join(reasons)
            warnings.warn(
                f"sipfsm runs its pure-Python code: {reason} (rebuild with `make build`, "
                f"or set {PURE_VARIABLE}=1 to say you mean it)",
                RuntimeWarning,
                stacklevel=3,
            )
    if reason:
        sys.meta_path.insert(0, _SourceFirst(_PACKAGE))
    return reason


def compiled() -> bool:
    """Whether this process runs the compiled modules (all of them, as they are loaded
    together or not at all)."""
    import sipfsm.engine.runtime

    loader = getattr(sipfsm.engine.runtime, "__loader__", None)
    return isinstance(loader, importlib.machinery.ExtensionFileLoader)


def describe() -> str:
    """``compiled (mypyc): runtime, dialog, ..., sim.ua`` or ``pure Python``."""
    if not compiled():
        return "pure Python"
    return "compiled (mypyc): " + ", ".join(n.removeprefix("sipfsm.") for n in module_names())


__all__ = [
    "COMPILED",
    "PURE_VARIABLE",
    "choose",
    "compiled",
    "describe",
    "extension_of",
    "in_checkout",
    "module_names",
    "pure_requested",
    "stale",
]
