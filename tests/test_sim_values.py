"""The values a run hands out (sipfsm.sim.values): run errors and violations travel
between processes (sweeps pickle results) and to JSON unchanged, on the compiled build as
on the source."""

from __future__ import annotations

import pickle

from sipfsm.engine import native
from sipfsm.sim import element, invariants, run
from sipfsm.sim.run import simulate
from sipfsm.sim.values import (
    ExpectationResult,
    InvariantViolation,
    RunError,
    RunSummary,
    SimResult,
)


def test_the_values_are_the_ones_their_modules_export() -> None:
    assert element.RunError is RunError
    assert invariants.InvariantViolation is InvariantViolation
    assert (run.SimResult, run.RunSummary, run.ExpectationResult) == (
        SimResult,
        RunSummary,
        ExpectationResult,
    )


def test_the_values_module_is_never_compiled_so_its_classes_stay_plain_python() -> None:
    assert "sipfsm/sim/values.py" not in native.COMPILED
    assert all(
        not hasattr(cls, "__mypyc_attrs__")
        for cls in (RunError, InvariantViolation, SimResult, RunSummary, ExpectationResult)
    )


def test_a_run_error_and_a_violation_survive_pickling_and_say_the_same_in_json() -> None:
    error = RunError(1.25, "alice", "script.alice[0] (line 3)", "refused")
    violation = InvariantViolation(
        2.0, "bob", "no-487-to-cancel", "487 to CANCEL", "RFC 3261 §21.4.25"
    )
    for value in (error, violation):
        back = pickle.loads(pickle.dumps(value))
        assert back == value and back.to_json() == value.to_json()
    assert error.to_json() == {
        "t": 1.25,
        "element": "alice",
        "where": "script.alice[0] (line 3)",
        "text": "refused",
    }


def test_a_result_with_violations_and_errors_survives_pickling() -> None:
    result = simulate("rfc3665-3.1", seed=2, loss=0.2, record=False)
    broken = InvariantViolation(0.0, "bob", "leaked-transaction", "x", "RFC 3261 §17")
    result.violations.append(broken)
    result.errors.append(RunError(0.0, "alice", "UA core", "y"))
    back = pickle.loads(pickle.dumps(result))
    assert back == result
