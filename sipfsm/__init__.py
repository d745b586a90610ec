"""sipfsm: the executable reference model of SIP transactions and dialogs.

The package is laid out in layers, as RFC 3261 draws them, each a folder whose docstring
says what it may import (tests/test_layers.py enforces it):

1. `sipfsm.values`: messages, events and actions, the response-code catalogue;
2. `sipfsm.decl`: the declaration language, timers, profiles;
3. `sipfsm.machines`: the transaction and dialog machines, declared as data;
4. `sipfsm.engine`: the engines that run a declaration (and the compiled build);
5. `sipfsm.elements`: matching and the UA core;
6. `sipfsm.sim`, `sipfsm.check`, `sipfsm.render`, `sipfsm.net`: the simulator, the trace
   checker, the graphs, diagrams, exports and docs, and the network binding (serve, probe);
7. `sipfsm.cli`.

The public API of the README -- ``from sipfsm import model``, ``sipfsm.events``,
``sipfsm.message`` -- keeps its names. Every other module that moved into the layers is
still importable under its old name for one minor version, with a `DeprecationWarning`
naming its new place (`MOVED`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

from sipfsm.engine import native as _native

# Which code the compiled modules run -- their C extensions, or their source -- is decided
# here, before any of them is imported (`sipfsm.engine.native`).
_native.choose()

#: The public names of the README, kept where they were, without a warning.
PUBLIC: dict[str, str] = {
    "sipfsm.model": "sipfsm.engine.model",
    "sipfsm.events": "sipfsm.values.events",
    "sipfsm.message": "sipfsm.values.message",
}

#: Old module -> its place in the layers (imports of the old name warn, until 0.2).
MOVED: dict[str, str] = {
    "sipfsm.errors": "sipfsm.values.errors",
    "sipfsm.frozen": "sipfsm.values.frozen",
    "sipfsm.seeded": "sipfsm.values.seeded",
    "sipfsm.catalogue": "sipfsm.values.catalogue",
    "sipfsm.catalogue_text": "sipfsm.values.catalogue_text",
    "sipfsm.timers": "sipfsm.decl.timers",
    "sipfsm.figures": "sipfsm.decl.figures",
    "sipfsm.transaction": "sipfsm.machines.transaction",
    "sipfsm.dialog": "sipfsm.machines.dialog",
    "sipfsm.runtime": "sipfsm.engine.runtime",
    "sipfsm.codegen": "sipfsm.engine.codegen",
    "sipfsm.rows": "sipfsm.engine.rows",
    "sipfsm.reference": "sipfsm.engine.reference",
    "sipfsm.native": "sipfsm.engine.native",
    "sipfsm.matching": "sipfsm.elements.matching",
    "sipfsm.core": "sipfsm.elements.core",
    "sipfsm.sweep": "sipfsm.sim.sweep",
    "sipfsm.wire": "sipfsm.values.wire",
    "sipfsm.check.wire": "sipfsm.values.wire",
    "sipfsm.capture": "sipfsm.check.capture",
    "sipfsm.graph": "sipfsm.render.graph",
    "sipfsm.export": "sipfsm.render.export",
    "sipfsm.analysis": "sipfsm.render.analysis",
    "sipfsm.docs": "sipfsm.render.docs",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old module name as the module at its new place (`PUBLIC`, `MOVED`)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in PUBLIC or fullname in MOVED:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = PUBLIC.get(spec.name)
        if new is None:
            new = MOVED[spec.name]
            warnings.warn(
                f"{spec.name} moved to {new}; the old name goes in sipfsm 0.2",
                DeprecationWarning,
                stacklevel=2,
            )
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """The module was run at its new place."""


if not any(isinstance(f, _Alias) for f in sys.meta_path):
    sys.meta_path.append(_Alias())


def forward_moved(package: str, new: str, name: str) -> object:
    """A name of the old module ``package`` (``sipfsm.decl``, ``sipfsm.check``,
    ``sipfsm.render``), whose place a package took, read from its new module ``new`` with a
    `DeprecationWarning`; the module-level ``__getattr__`` of those packages calls it. Only
    the names of the old module's ``__all__`` are forwarded, never a submodule's name."""
    module = importlib.import_module(new)
    submodule = importlib.util.find_spec(f"{package}.{name}") if name.isidentifier() else None
    if name in getattr(module, "__all__", ()) and submodule is None:
        warnings.warn(
            f"{package}.{name} moved to {new}.{name}; the old name goes in sipfsm 0.2",
            DeprecationWarning,
            stacklevel=3,
        )
        return getattr(module, name)
    raise AttributeError(f"module {package!r} has no attribute {name!r}")
