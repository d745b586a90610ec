"""`sipfsm serve`: a live user agent that answers calls as its options say, or a live
stateful proxy that forwards every request to one next hop -- the model's Endpoint or Proxy
on a `sipfsm.net.host.NetHost`, for interop work against a real stack.

The user agent (`AnsweringTU`, the TU of an `sipfsm.elements.endpoint.Endpoint`): an
initial INVITE is answered with ``answer`` (200 by default; any 2xx-6xx), after ringing
(180) for ``ring`` seconds if ``ring`` is positive; a request inside a dialog or outside an
INVITE (re-INVITE, BYE, OPTIONS, INFO ...) is answered 200, unless the UA core has answered
it already (481, 491, 500 ..., RFC 3261 §12.2.2, §14.2). What RFC 3261 §8.2 gives to the
UAS before a request is processed, and the Endpoint leaves to its TU, is done here: a
method not in `ALLOWED` gets 405 with Allow (§8.2.1), a request with a Require header gets
420 with Unsupported (§8.2.2.3: this UA supports no extension). What the Endpoint does by itself
-- 100 Trying (§17.2.1), 487 and 200 to a CANCEL (§9.2), the 2xx retransmitted until its
ACK (§13.3.1.4), a BYE when no ACK comes -- it does here as in the simulator.

The proxy (an `sipfsm.elements.proxy.Proxy`): every request goes to ``forward_to``
(RFC 3261 §16.6 step 7, a next hop of local policy), without Record-Route.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Final

from sipfsm.decl.language import Transport
from sipfsm.decl.timers import Timing
from sipfsm.elements.endpoint import HEADER_VALUES, Endpoint, Machines, TransactionUser, Tx
from sipfsm.elements.proxy import Proxy
from sipfsm.net.codec import Address
from sipfsm.net.host import Limits, NetError, NetHost
from sipfsm.values.message import Request

__all__ = ["ALLOWED", "AnsweringTU", "ServeOptions", "build", "serve"]

#: The methods the UA accepts (RFC 3261 §8.2.1: any other gets 405 with Allow), as the
#: Endpoint's Allow header lists them.
ALLOWED: Final = frozenset(m.strip() for m in HEADER_VALUES["Allow"].split(","))


@dataclass(frozen=True)
class ServeOptions:
    """What `serve` runs: ``role`` ``ua`` or ``proxy``; where (``local``, ``transport``);
    for a UA, the final answer to an initial INVITE and the seconds of ringing before it;
    for a proxy, the next hop; the profile and T1."""

    role: str = "ua"
    local: Address = ("127.0.0.1", 5060)
    transport: str = "udp"
    answer: int = 200
    ring: float = 0.0
    forward_to: Address | None = None
    profile: str = "rfc6026"
    t1: float = 0.5
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if self.role not in ("ua", "proxy"):
            raise NetError(f"role must be 'ua' or 'proxy', got {self.role!r}")
        if not 200 <= self.answer <= 699:
            raise NetError(f"--answer must be a final response code (200-699), got {self.answer}")
        if not 0 <= self.ring <= 3600:
            raise NetError(f"--ring must be between 0 and 3600 seconds, got {self.ring}")
        if self.role == "proxy" and self.forward_to is None:
            raise NetError("a proxy needs --forward-to HOST:PORT")


class AnsweringTU(TransactionUser):
    """Answers as `ServeOptions` say (see the module docstring); ``later`` schedules a
    call after some seconds (the host's timers)."""

    def __init__(
        self, answer: int, ring: float, later: Callable[[float, Callable[[], None]], None]
    ) -> None:
        super().__init__()
        self.answer = answer
        self.ring = ring
        self.later = later
        self.errors: list[str] = []

    def request(self, endpoint: Endpoint, tx: Tx, request: Request, answered: bool) -> None:
        if answered or request.method in ("ACK", "CANCEL"):
            return
        if request.method not in ALLOWED:
            endpoint.respond(tx, 405)  # §8.2.1 (Allow added from the catalogue, §21.4.6)
            return
        if request.header("Require") is not None:
            endpoint.respond(tx, 420)  # §8.2.2.3: no extension is supported (Unsupported)
            return
        if request.method == "INVITE" and not request.to_tag:
            if self.ring > 0:
                endpoint.respond(tx, 180)
                self.later(self.ring, lambda: endpoint.respond(tx, self.answer))
            else:
                endpoint.respond(tx, self.answer)
            return
        endpoint.respond(tx, 200)

    def error(self, endpoint: Endpoint, where: str, text: str) -> None:
        self.errors.append(f"{where}: {text}")


def build(options: ServeOptions, log: IO[str] | None = None) -> tuple[NetHost, Any]:
    """The host and its element (not started: ``await host.start()``)."""
    name = f"sipfsm-{secrets.token_hex(3)}"  # tags, branches and Call-IDs new on each run
    transport: Transport = "tcp" if options.transport == "tcp" else "udp"
    machines = Machines(options.profile, Timing(t1=options.t1, transport=transport))
    element: Endpoint | Proxy
    host: NetHost
    if options.role == "ua":
        timers: list[Callable[[], None]] = []

        def later(seconds: float, call: Callable[[], None]) -> None:
            timers.append(call)
            host.later(seconds, call)

        element = Endpoint(name, machines, AnsweringTU(options.answer, options.ring, later))
    else:
        element = Proxy(name, machines)
    host = NetHost(element, name, options.local, options.transport, options.limits, log)
    return host, element


async def serve(
    options: ServeOptions,
    duration: float | None,
    log: IO[str] | None = None,
    ready: Callable[[NetHost], None] | None = None,
    stop: asyncio.Event | None = None,
) -> NetHost:
    """Run until ``duration`` seconds pass (None: until SIGINT or SIGTERM, or ``stop`` is
    set), then close everything; returns the closed host (its `Stats`). ``ready`` is
    called with the started host (its ``local`` address is known then)."""
    host, element = build(options, log)
    await host.start()
    if isinstance(element, Proxy):
        assert options.forward_to is not None
        element.outbound = host.codec.name_of(options.forward_to)
        host.codec.default_route = element.outbound
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    main = threading.current_thread() is threading.main_thread()
    for sig in (signal.SIGINT, signal.SIGTERM) if main else ():
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        if ready is not None:
            ready(host)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await host.close()
    return host
