"""The simulator's stateful proxy: the model's `sipfsm.elements.proxy.Proxy` (its server
and client transactions and the declared ``proxy`` response context, RFC 3261 §16) as an
`sipfsm.sim.element.Element`, built from a scenario's ``{role: proxy}`` element.

A proxy has no script: its location service (``location``: an address-of-record's element
name to its targets, with q-values) and its settings decide everything. Every element is
``NAME.example.com`` and its URI ``sip:NAME@NAME.example.com``, so an address-of-record
``bob`` is the Request-URI ``sip:bob@bob.example.com`` and a target ``carol`` the contact
``sip:carol@carol.example.com``.

This module is not compiled: the element is called through Python's calling convention
(it is no `sipfsm.sim.element.Agent`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sipfsm.elements.endpoint import Machines
from sipfsm.elements.proxy import Location, Proxy
from sipfsm.sim.element import Context, Element, RunError
from sipfsm.sim.scenario import ElementSpec, Step
from sipfsm.values.message import Message

__all__ = ["SimProxy", "location_of", "proxy_element"]


def _uri(name: str) -> str:
    return f"sip:{name}@{name}.example.com"


def location_of(spec: ElementSpec) -> Location:
    """The `Location` of a proxy's scenario settings: URIs for element names."""
    return {
        _uri(aor): tuple((_uri(target), q) for target, q in targets)
        for aor, targets in spec.location
    }


class SimProxy:
    """A simulated stateful proxy (an `Element`): a `Proxy` and its settings."""

    __slots__ = ("proxy", "spec")

    def __init__(self, spec: ElementSpec, machines: Machines) -> None:
        self.spec = spec
        self.proxy = Proxy(
            spec.name,
            machines,
            location_of(spec),
            parallel=not spec.sequential,
            record_route=spec.record_route,
            engine=machines.engine,
            outbound=spec.outbound_proxy,
            strict=spec.strict_routing,
        )

    @property
    def name(self) -> str:
        return self.spec.name

    def start(self, ctx: Context) -> None:
        self.proxy.start(ctx)

    def receive(self, ctx: Context, message: Message, src: str) -> None:
        self.proxy.receive(message, src)

    def timer(self, ctx: Context, key: Hashable) -> None:
        self.proxy.timer(key)

    def final_state(self) -> dict[str, Any]:
        return self.proxy.final_state()

    def live_transactions(self) -> list[str]:
        return self.proxy.live_transactions()


def proxy_element(
    spec: ElementSpec,
    steps: tuple[Step, ...],
    machines: Machines,
    seed: int,
    index: int,
    errors: list[RunError],
) -> Element:
    """The factory of ``role: proxy`` (`sipfsm.sim.run.ELEMENTS`)."""
    return SimProxy(spec, machines)
