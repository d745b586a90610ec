"""The package's front (``sipfsm/__init__.py``): the README's names stay where they were,
and every module that moved into the layers is still importable under its old name, with a
`DeprecationWarning` naming its new place, until sipfsm 0.2."""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from pathlib import Path

import pytest

import sipfsm
from sipfsm.decl import language, timers
from sipfsm.engine import model as engine_model
from sipfsm.values import events, message


def fresh_import(name: str) -> tuple[object, list[warnings.WarningMessage]]:
    sys.modules.pop(name, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(name)
    return module, list(caught)


@pytest.mark.parametrize(
    ("old", "new"),
    [("sipfsm.model", engine_model), ("sipfsm.events", events), ("sipfsm.message", message)],
)
def test_the_readme_names_stay_without_a_warning(old: str, new: object) -> None:
    module, caught = fresh_import(old)
    assert module is new
    assert [w for w in caught if issubclass(w.category, DeprecationWarning)] == []


def test_the_readme_example_runs_as_written() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    namespace: dict[str, object] = {}
    exec(code, namespace)  # the README's own example, as a user copies it
    tx = namespace["tx"]
    assert getattr(tx, "state", None) == "completed"  # the 486 was ACKed (RFC 3261 §17.1.1.2)


@pytest.mark.parametrize(("old", "new"), sorted(sipfsm.MOVED.items()))
def test_a_moved_module_warns_and_is_its_new_module(old: str, new: str) -> None:
    module, caught = fresh_import(old)
    assert module is importlib.import_module(new)
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert messages == [f"{old} moved to {new}; the old name goes in sipfsm 0.2"]


def test_a_name_of_an_old_module_that_a_package_replaced_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"sipfsm\.decl\.MachineDecl moved to "):
        from sipfsm.decl import MachineDecl
    assert MachineDecl is language.MachineDecl


def test_a_submodule_of_such_a_package_is_never_taken_for_an_old_name() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from sipfsm.decl import timers as again
        from sipfsm.render import graph
    assert again is timers
    assert graph.__name__ == "sipfsm.render.graph"


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        sipfsm.decl.nothing_here  # noqa: B018
