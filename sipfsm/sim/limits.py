"""Every limit of the simulator, its sweeps and the commands that run them, in one place.

A scenario is hostile input: a YAML alias bomb, a nesting a thousand levels deep, or a
script in which each OPTIONS answers two more can exhaust memory or run for ever. Each
such thing has a limit here, with a default far above what a call flow needs (the built-in
scenarios are a few kilobytes, at most a handful of levels deep, use no alias, and a run
of them schedules at most a few hundred events). Reaching one is an error that names the
limit and how to raise it (`Limits.hint`): ``--limit NAME=N`` on the command line, or
``Limits(FIELD=N)`` passed as ``limits=`` from Python (`sipfsm.sim.scenario.load`,
`sipfsm.sim.run.simulate`, `run_many`, `sipfsm.sim.sweep.sweep`).

=================  ===========  =======================================================
name               default      what it bounds
=================  ===========  =======================================================
``yaml-bytes``     1,048,576    the size of a scenario file (UTF-8 bytes)
``yaml-depth``     32           how deeply mappings and lists nest
``yaml-aliases``   256          the aliases (``*name``) a scenario uses
``yaml-nodes``     100,000      the values of the document once every alias is expanded
``events``         100,000      the events (message arrivals, timers) one run may run
``in-flight``      10,000       the messages on their way at once in one run
``runs``           10,000,000   the runs of one command (``--runs``, times the points)
``points``         10,000       the parameter points of a sweep (a range, or loss x T1)
``workers``        64           the worker processes of a sweep (``--force-workers``)
=================  ===========  =======================================================

docs/limits.md lists them with the rest of the project's limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from sipfsm.values.errors import SipFsmError, shown

__all__ = ["DEFAULT_LIMITS", "LimitError", "Limits", "hint"]

#: The default of each limit (the fields of `Limits`).
YAML_BYTES = 1_048_576
YAML_DEPTH = 32
YAML_ALIASES = 256
YAML_NODES = 100_000
EVENTS = 100_000
IN_FLIGHT = 10_000
RUNS = 10_000_000
POINTS = 10_000
WORKERS = 64


class LimitError(SipFsmError, ValueError):
    """A ``--limit`` that is not one (an unknown name, a value that is not a whole number
    >= 1), or a command asked for more than a limit allows (runs, workers)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits a scenario is read and run under (see the module docstring); each is a
    whole number >= 1. Immutable and picklable: a sweep sends it to its workers."""

    yaml_bytes: int = YAML_BYTES
    yaml_depth: int = YAML_DEPTH
    yaml_aliases: int = YAML_ALIASES
    yaml_nodes: int = YAML_NODES
    events: int = EVENTS
    in_flight: int = IN_FLIGHT
    runs: int = RUNS
    points: int = POINTS
    workers: int = WORKERS

    def __post_init__(self) -> None:
        for f in fields(self):
            value: object = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise LimitError(
                    f"limit {_name(f.name)}: {shown(value)} is not a whole number >= 1"
                )

    @staticmethod
    def names() -> tuple[str, ...]:
        """The names the command line knows them by (``yaml-bytes``, ``events`` ...)."""
        return tuple(_name(f.name) for f in fields(Limits))

    def hint(self, name: str) -> str:
        """How an error tells a user what limit it hit and how to raise it."""
        return hint(name, getattr(self, name.replace("-", "_")))

    def with_items(self, items: Iterable[str]) -> Limits:
        """These limits with ``NAME=N`` items (``--limit events=1000000``) applied."""
        changes: dict[str, int] = {}
        for item in items:
            name, equals, text = str(item).partition("=")
            name = name.strip()
            if not equals or name not in self.names():
                raise LimitError(
                    f"--limit: {shown(item)} is not NAME=N (names: {', '.join(self.names())})"
                )
            value = text.strip().replace("_", "").replace(",", "")
            if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) < 1:
                raise LimitError(
                    f"--limit {name}: {shown(text.strip())} is not a whole number >= 1"
                )
            changes[name.replace("-", "_")] = int(value)
        return replace(self, **changes)


def _name(field: str) -> str:
    return field.replace("_", "-")


def hint(name: str, value: int) -> str:
    """``limit NAME=VALUE; raise it with --limit NAME=N, or limits=Limits(FIELD=N) in
    Python``: what an error adds when a limit was reached."""
    field = name.replace("-", "_")
    return (
        f"limit {name}={value:,}; raise it with --limit {name}=N, or "
        f"limits=Limits({field}=N) in Python"
    )


#: The limits everything runs under unless told otherwise.
DEFAULT_LIMITS = Limits()
