"""The compiled build (sipfsm.engine.native): which modules mypyc compiles, which code a process
runs, and when an extension is stale and the source is run instead."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sipfsm.engine import native

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def test_compiled_modules_are_named_by_path_and_by_module() -> None:
    assert "sipfsm/engine/runtime.py" in native.COMPILED
    at = native.COMPILED.index("sipfsm/check/checker.py")
    assert native.module_names()[at] == "sipfsm.check.checker"
    assert native.module_names()[native.COMPILED.index("sipfsm/sim/ua.py")] == "sipfsm.sim.ua"
    assert all((Path(native.__file__).parents[2] / p).exists() for p in native.COMPILED)


@pytest.mark.skipif(
    os.environ.get("SIPFSM_REQUIRE_COMPILED", "") in ("", "0"),
    reason="SIPFSM_REQUIRE_COMPILED is not set (make test sets it for its compiled pass)",
)
def test_the_compiled_build_runs_every_compiled_module_when_make_test_requires_it() -> None:
    assert native.compiled(), native.describe()
    for name in native.module_names():
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        assert isinstance(module.__loader__, importlib.machinery.ExtensionFileLoader), name
    described = native.describe()
    assert described.startswith("compiled (mypyc): ")
    for name in native.module_names():  # each named, as `sim.ua` for sipfsm.sim.ua
        assert name.removeprefix("sipfsm.") in described.split(": ", 1)[1].split(", "), name


def run_python(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != native.PURE_VARIABLE} | env
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sipfsm_pure_runs_the_source_of_every_compiled_module() -> None:
    code = (
        "import importlib, sipfsm.engine.native as n\n"
        "print(n.describe(), all(importlib.import_module(m).__file__.endswith('.py') "
        "for m in n.module_names()))"
    )
    assert run_python(code, SIPFSM_PURE="1") == "pure Python True"


@pytest.mark.parametrize(
    ("value", "pure"), [("", False), ("0", False), ("1", True), ("yes", True), (" 0 ", False)]
)
def test_sipfsm_pure_is_set_by_any_value_but_empty_or_zero(value: str, pure: bool) -> None:
    assert native.pure_requested({native.PURE_VARIABLE: value}) is pure
    assert native.pure_requested({}) is False


def package_with(tmp_path: Path, built: dict[str, int | None]) -> Path:
    """A fake package: every compiled module's source (mtime 100), and an extension with
    the given mtime for those named by their path in the package without ``.py``
    (``check/checker``, ``sim/ua``; ``None``: no extension)."""
    for path in native.COMPILED:
        source = tmp_path / path
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("")
        os.utime(source, (100, 100))
    package = tmp_path / "sipfsm"
    for name, mtime in built.items():
        if mtime is not None:
            ext = package / f"{name}{SUFFIX}"
            ext.write_bytes(b"")
            os.utime(ext, (mtime, mtime))
    return package


def stems() -> list[str]:
    return [p.removeprefix("sipfsm/").removesuffix(".py") for p in native.COMPILED]


def test_compiled_modules_in_the_simulator_package_are_judged_by_their_path(
    tmp_path: Path,
) -> None:
    package = package_with(tmp_path, dict.fromkeys(stems(), 200) | {"sim/ua": 50})
    assert native.stale(package) == [f"sim/ua.py changed after ua{SUFFIX} was built"]
    assert native.extension_of(package / "sim" / "ua.py") == package / "sim" / f"ua{SUFFIX}"
    assert native.extension_of(package / "sim" / "tu.py") == package / "sim" / f"tu{SUFFIX}"


def test_no_extension_at_all_is_not_stale_the_source_is_simply_run(tmp_path: Path) -> None:
    assert native.stale(package_with(tmp_path, {})) == []


def test_extensions_built_after_their_sources_are_current(tmp_path: Path) -> None:
    assert native.stale(package_with(tmp_path, dict.fromkeys(stems(), 200))) == []


def test_a_module_edited_after_its_build_makes_the_build_stale(tmp_path: Path) -> None:
    package = package_with(tmp_path, dict.fromkeys(stems(), 200) | {"check/checker": 50})
    assert native.stale(package) == [f"check/checker.py changed after checker{SUFFIX} was built"]


def test_a_missing_extension_beside_built_ones_makes_the_build_stale(tmp_path: Path) -> None:
    package = package_with(tmp_path, dict.fromkeys(stems(), 200) | {"values/wire": None})
    assert native.stale(package) == ["values/wire.py has no extension"]
    assert native.extension_of(package / "check" / "wire.py") is None
    checker = package / "check" / "checker.py"
    assert native.extension_of(checker) == package / "check" / f"checker{SUFFIX}"


def test_only_a_source_checkout_is_judged_stale_never_an_installed_package(
    tmp_path: Path,
) -> None:
    package = package_with(tmp_path, {})
    assert native.in_checkout(package) is False
    (tmp_path / "pyproject.toml").write_text("")
    assert native.in_checkout(package) is True


def test_choosing_twice_in_one_process_keeps_the_first_choice() -> None:
    code = (
        "import sipfsm, sipfsm.engine.native as n\n"
        "print(repr(n.choose()), n.describe().split(':')[0])"
    )
    assert run_python(code, SIPFSM_PURE="1") == "'chosen already' pure Python"


def test_no_interpreted_module_subclasses_a_compiled_class() -> None:
    """A class the build leaves interpreted cannot derive from a compiled one (mypyc refuses
    it at import, on the compiled build only), unless that class allows it (``mypyc_attr(
    allow_interpreted_subclasses=True)``: Host, TransactionUser). Read from the source, so
    the pure run catches it too."""
    import ast

    root = Path(native.__file__).parents[2]
    compiled: dict[str, bool] = {}  # class name -> allows interpreted subclasses
    for path in native.COMPILED:
        for node in ast.parse((root / path).read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                compiled[node.name] = "allow_interpreted_subclasses" in ast.unparse(node)
    wrong = []
    for path in sorted((root / "sipfsm").rglob("*.py")):
        if path.relative_to(root).as_posix() in native.COMPILED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for base in node.bases:
                    name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                    if compiled.get(name) is False:
                        wrong.append(f"{path.relative_to(root)}: {node.name}({name})")
    assert wrong == []
