"""The registry of machines: one place that turns a machine id, profile and transport
into a declaration or a running engine. The CLI, the graph exporter, the simulator and the
checker all go through here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from sipfsm.decl.instance import Instance
from sipfsm.decl.language import PROFILES, TRANSPORTS, MachineDecl, Outcome
from sipfsm.decl.timers import Timing
from sipfsm.engine.runtime import Engine, TableMachine
from sipfsm.machines import transaction
from sipfsm.values.errors import UnknownName, WrongType

EngineName = Literal["table", "transitions"]
ENGINES: tuple[EngineName, ...] = ("table", "transitions")

#: Machine ids in the order the RFC presents them.
MACHINES: tuple[str, ...] = ("ict", "nict", "ist", "nist", "dialog", "proxy")


def _declarer(machine: str) -> Callable[[str], MachineDecl]:
    if machine in transaction.TRANSACTION_MACHINES:
        return lambda profile: transaction.declare(machine, profile)
    if machine == "dialog":
        from sipfsm.machines.dialog import declare as declare_dialog

        return declare_dialog
    if machine == "proxy":
        from sipfsm.machines.proxy import declare as declare_proxy

        return declare_proxy
    raise UnknownName("machine", machine, MACHINES)


def declare(machine: str, profile: str = "rfc6026") -> MachineDecl:
    """The declaration of ``machine`` under ``profile`` (``rfc6026`` by default)."""
    if profile not in PROFILES:
        raise UnknownName("profile", profile, PROFILES)
    return _declarer(machine)(profile)


def titles() -> dict[str, str]:
    return {m: declare(m).title for m in MACHINES}


def outcomes(machine: str, state: str, profile: str = "rfc6026") -> tuple[Outcome, ...]:
    """The response codes that can arise in ``state`` of ``machine``, each with its rule
    and RFC section, e.g. ``outcomes("ist", "proceeding")``."""
    return declare(machine, profile).outcomes(state)


def timing_for(transport: str = "udp", t1: float = 0.5, t2: float = 4.0, t4: float = 5.0) -> Timing:
    if transport not in TRANSPORTS:
        raise UnknownName("transport", transport, TRANSPORTS)
    return Timing(t1=t1, t2=t2, t4=t4, transport="tcp" if transport == "tcp" else "udp")


def engine(
    machine: str,
    profile: str = "rfc6026",
    timing: Timing | None = None,
    kind: str = "table",
) -> Engine:
    """A running engine for ``machine``: the fast table engine, or the reference engine
    built on the `transitions` library. Both take the same events and give the same
    actions."""
    decl = declare(machine, profile)
    if timing is not None and not isinstance(timing, Timing):
        raise WrongType("timing", timing, "a sipfsm.decl.timers.Timing (or None)")
    timing = timing or Timing()
    factory = instance_factory(machine)
    if kind == "table":
        return TableMachine(decl, timing, factory)
    if kind == "transitions":
        from sipfsm.engine.reference import TransitionsMachine

        return TransitionsMachine(decl, timing, factory)
    raise UnknownName("engine", kind, ENGINES)


def instance_factory(machine: str) -> Callable[[], Instance]:
    if machine == "dialog":
        from sipfsm.machines.dialog import DialogInstance

        return DialogInstance
    if machine == "proxy":
        from sipfsm.machines.proxy import ProxyInstance

        return ProxyInstance
    return Instance
