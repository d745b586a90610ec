"""The network binding: `NetHost`, an asyncio `sipfsm.elements.host.Host` that runs one
sans-IO element -- an `sipfsm.elements.endpoint.Endpoint` (UA core) or an
`sipfsm.elements.proxy.Proxy` -- on a UDP socket or a TCP listening socket, at the address
the caller gives.

This module is meant to be read and copied: it is the whole of what it takes to put the
model on a network.

* Time: the element reads none; ``now`` is the event loop's monotonic clock, in seconds
  since `NetHost.start`. Timers are `asyncio.TimerHandle`s keyed as the element keys them
  (setting a key again replaces its timer, RFC 3261's timers stay the element's inputs).
* In: a datagram, or a message framed from a TCP stream by its Content-Length (RFC 3261
  §18.3; CRLF keep-alives between messages skipped, RFC 5626 §3.5.1), is parsed
  (`sipfsm.values.wire.parse`), translated (`sipfsm.net.codec.Codec`) and given to the
  element. What is not SIP is counted with its source (`Stats.bad`) and dropped; the rest
  is still handled (RFC 3261 §18.1.2, §18.2.1 discard malformed messages). On TCP, a
  stream that cannot be framed (no Content-Length, or over the size limit) is closed.
* Out: the element's `send` is translated and written: on UDP to the name's address; on
  TCP on the connection to that address, opened if there is none (§18.2.2: a response
  goes back on the connection its request came on, which is the one open to its source).
* Every limit is explicit (`Limits`, docs/limits.md); what goes over one is counted, and
  never blocks or grows without bound.
* Every message in and out is logged, one JSON object per line, in the format
  ``sipfsm check`` reads (``{"t", "src", "dst", "raw"}``, ``"transport": "tcp"``).
* `NetHost.close` cancels every timer and task and closes every socket: nothing is left.

Nothing here blocks: the element's calls are short, and a host serves one element.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import IO, Any, Final, Protocol, Self

from sipfsm.elements.host import Host
from sipfsm.net.codec import Address, Codec, CodecError, hostport
from sipfsm.values.errors import SipFsmError, WireError
from sipfsm.values.message import Message
from sipfsm.values.wire import content_length, find_header_end

__all__ = ["Element", "Limits", "NetError", "NetHost", "Stats"]

#: The largest UDP payload over IPv4 (65,535 - 8 - 20).
UDP_MAX: Final = 65_507


class NetError(SipFsmError, RuntimeError):
    """The binding cannot do what it was asked (an address in use, a limit below its floor)."""


@dataclass(frozen=True)
class Limits:
    """The network binding's limits (docs/limits.md, "The network binding").

    ``max_message``: octets of one message, a datagram or a framed TCP message (RFC 3261
    §18.1.1 asks for no more than the path MTU on UDP without congestion control; a
    datagram is at most 65,507). ``max_connections``: TCP connections open at once,
    accepted and opened; one more is closed at once. ``max_timers``: timers pending at
    once; one more is refused and counted. ``max_bad``: bad datagrams kept with their
    source and reason (all are counted). ``max_log``: lines of the JSONL log (then it
    stops writing and counts). ``connect_timeout``: seconds to open a TCP connection."""

    max_message: int = UDP_MAX
    max_connections: int = 64
    max_timers: int = 10_000
    max_bad: int = 100
    max_log: int = 1_000_000
    connect_timeout: float = 5.0

    def __post_init__(self) -> None:
        for name in ("max_message", "max_connections", "max_timers", "max_bad", "max_log"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise NetError(f"limit {name} must be a positive integer, got {value!r}")
        if not 0 < self.connect_timeout < 3600:
            raise NetError(f"connect_timeout must be in (0, 3600) s, got {self.connect_timeout}")


class Element(Protocol):
    """What a host runs: an Endpoint or a Proxy."""

    def start(self, host: Host) -> None: ...

    def receive(self, message: Message, src: str) -> None: ...

    def timer(self, key: Hashable) -> None: ...


class Stats:
    """What a host counted: messages in and out, what was refused and why."""

    def __init__(self, max_bad: int) -> None:
        self.received = 0
        self.sent = 0
        self.bad: deque[tuple[str, str]] = deque(maxlen=max_bad)  # (source, reason)
        self.counts: Counter[str] = Counter()

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "sent": self.sent,
            "bad": [{"src": s, "reason": r} for s, r in self.bad],
            "counts": dict(sorted(self.counts.items())),
        }


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, host: NetHost) -> None:
        self.host = host

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.host._datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable and the like
        self.host.stats.counts["socket error"] += 1


class _Tcp(asyncio.Protocol):
    """One TCP connection: framing by Content-Length (RFC 3261 §18.3)."""

    def __init__(self, host: NetHost) -> None:
        self.host = host
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer: Address = ("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        name = transport.get_extra_info("peername")
        self.peer = (str(name[0]), int(name[1]))
        if not self.host._connected(self):
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.host._disconnected(self)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf.extend(data)
        limit = self.host.limits.max_message
        while buf:
            skip = 0
            while buf[skip : skip + 2] == b"\r\n":  # keep-alives (RFC 5626 §3.5.1)
                skip += 2
            if skip:
                del buf[:skip]
                continue
            _end, body = find_header_end(bytes(buf[: limit + 4]))
            if body < 0:
                if len(buf) > limit:
                    self._refuse(f"no end of the header section in {limit} octets")
                return
            try:
                length = content_length(bytes(buf[:body]))
            except WireError as exc:
                self._refuse(str(exc))
                return
            if length is None:
                self._refuse("no Content-Length on a stream (RFC 3261 §18.3, §20.14)")
                return
            if body + length > limit:
                self._refuse(f"a message of {body + length} octets, over {limit}")
                return
            if len(buf) < body + length:
                return
            frame = bytes(buf[: body + length])
            del buf[: body + length]
            self.host._deliver(frame, self.peer, stream=True)

    def _refuse(self, reason: str) -> None:
        """A stream that cannot be framed any further: counted, and the connection closed."""
        self.host._bad(self.peer, reason)
        self.buffer.clear()
        if self.transport is not None:
            self.transport.close()


class NetHost(Host):
    """Runs ``element`` (named ``name``, the name its codec gives its own host) at
    ``local`` (host, port; port 0 picks one: see ``local`` after `start`) over
    ``transport`` (``udp`` or ``tcp``); ``log`` receives a JSONL line per message."""

    def __init__(
        self,
        element: Element,
        name: str,
        local: Address,
        transport: str = "udp",
        limits: Limits | None = None,
        log: IO[str] | None = None,
        recording: bool = False,
    ) -> None:
        if transport not in ("udp", "tcp"):
            raise NetError(f"transport must be 'udp' or 'tcp', got {transport!r}")
        self.element = element
        self.name = name
        self.local = local
        self.transport = transport
        self.limits = limits or Limits()
        self.log = log
        self.stats = Stats(self.limits.max_bad)
        self.records: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._recording = recording
        self.codec = Codec(name, local, transport)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._connections: dict[Address, _Tcp] = {}
        self._opening: dict[Address, list[bytes]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lines = 0
        self._later = 0
        self._callbacks: dict[Hashable, Callable[[], None]] = {}
        self.closed = False

    # -- the Host the element sees -----------------------------------------------------------

    @property
    def now(self) -> float:
        assert self._loop is not None, "NetHost.start first"
        return self._loop.time() - self._t0

    @property
    def recording(self) -> bool:
        return self._recording

    def send(
        self,
        dst: str,
        message: Message,
        retransmission: bool = False,
        machine: str = "",
        tx: str = "",
        terminated: bool = False,
    ) -> None:
        if self.closed:
            return
        try:
            data, address = self.codec.encode(message, dst)
        except CodecError as exc:
            self.stats.counts["unroutable"] += 1
            self.record("error", text=str(exc))
            return
        if len(data) > self.limits.max_message:
            self.stats.counts["too large to send"] += 1
            self.record("error", text=f"{message.summary()}: {len(data)} octets, over the limit")
            return
        self._write(data, address)

    def set_timer(self, key: Hashable, seconds: float) -> None:
        loop = self._loop
        assert loop is not None, "NetHost.start first"
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        if len(self._timers) >= self.limits.max_timers:
            self.stats.counts["timer refused (max_timers)"] += 1
            self.record("error", text=f"timer {key!r} refused: {self.limits.max_timers} pending")
            return
        self._timers[key] = loop.call_later(max(0.0, seconds), self._fire, key)

    def cancel_timer(self, key: Hashable) -> None:
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def later(self, seconds: float, callback: Callable[[], None]) -> None:
        """Call ``callback`` in ``seconds`` (the TU's own timers: ringing, then answering),
        under the same ``max_timers`` limit as the element's, and cancelled by `close`."""
        self._later += 1
        key = ("net-later", self._later)
        self._callbacks[key] = callback
        self.set_timer(key, seconds)

    def record(self, kind: str, **fields: Any) -> None:
        if self._recording or kind == "error":
            self.records.append({"t": round(self.now, 6), "kind": kind, **fields})

    def count(self, what: str) -> None:
        self.stats.counts[what] += 1

    # -- running -------------------------------------------------------------------------------

    @property
    def pending_timers(self) -> int:
        return len(self._timers)

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def start(self) -> None:
        """Open the socket and start the element (raises `NetError` if the address is
        not usable)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._t0 = loop.time()
        host, port = self.local
        try:
            if self.transport == "udp":
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Udp(self), local_addr=(host, port)
                )
                self._udp = transport
                sock = transport.get_extra_info("sockname")
            else:
                self._server = await loop.create_server(
                    lambda: _Tcp(self), host, port, reuse_address=True
                )
                sock = self._server.sockets[0].getsockname()
        except OSError as exc:
            raise NetError(
                f"cannot listen on {hostport(host, port)}/{self.transport}: {exc}"
            ) from None
        self.local = (str(sock[0]), int(sock[1]))
        self.codec = Codec(self.name, self.local, self.transport)
        self.element.start(self)

    async def close(self) -> None:
        """Stop: every timer cancelled, every task ended, every socket closed."""
        self.closed = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._callbacks.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for conn in list(self._connections.values()):
            if conn.transport is not None:
                conn.transport.close()
        self._connections.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        await asyncio.sleep(0)  # let the transports' connection_lost run

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- inside --------------------------------------------------------------------------------

    def _fire(self, key: Hashable) -> None:
        self._timers.pop(key, None)
        callback = self._callbacks.pop(key, None)
        try:
            if callback is not None:
                callback()
            else:
                self.element.timer(key)
        except Exception as exc:  # a bug in the element: counted, and the host goes on
            self._element_error(exc)

    def _datagram(self, data: bytes, src: Address) -> None:
        if len(data) > self.limits.max_message:
            self._bad(src, f"a datagram of {len(data)} octets, over {self.limits.max_message}")
            return
        if not data.strip(b"\r\n\x00 "):
            self.stats.counts["keep-alive"] += 1  # RFC 5626 §3.5.1: CRLF keep-alives
            return
        self._deliver(data, src, stream=False)

    def _deliver(self, data: bytes, src: Address, stream: bool) -> None:
        if self.closed:
            return
        self._log(src, self.local, data)
        try:
            message, sender = self.codec.decode(data, src, stream=stream)
        except (WireError, CodecError) as exc:
            self._bad(src, str(exc))
            return
        self.stats.received += 1
        try:
            self.element.receive(message, sender)
        except Exception as exc:
            self._element_error(exc)

    def _bad(self, src: Address, reason: str) -> None:
        self.stats.counts["bad message"] += 1
        self.stats.bad.append((hostport(*src), reason))

    def _element_error(self, exc: Exception) -> None:
        self.stats.counts["element error"] += 1
        self.records.append({"kind": "error", "text": f"{type(exc).__name__}: {exc}"})

    def _log(self, src: Address, dst: Address, data: bytes) -> None:
        if self.log is None:
            return
        if self._lines >= self.limits.max_log:
            self.stats.counts["log lines dropped (max_log)"] += 1
            return
        self._lines += 1
        item: dict[str, Any] = {
            "t": round(self.now, 6),
            "src": hostport(*src),
            "dst": hostport(*dst),
            "raw": data.decode("utf-8", "surrogateescape"),
        }
        if self.transport == "tcp":
            item["transport"] = "tcp"
        self.log.write(json.dumps(item, ensure_ascii=True) + "\n")
        self.log.flush()

    def _write(self, data: bytes, address: Address) -> None:
        if self.transport == "udp":
            assert self._udp is not None
            self._log(self.local, address, data)
            self._udp.sendto(data, address)
            self.stats.sent += 1
            return
        conn = self._connections.get(address)
        if conn is not None and conn.transport is not None and not conn.transport.is_closing():
            self._log(self.local, address, data)
            conn.transport.write(data)
            self.stats.sent += 1
            return
        waiting = self._opening.get(address)
        if waiting is not None:
            waiting.append(data)
            return
        self._opening[address] = [data]
        task = asyncio.get_running_loop().create_task(self._open(address))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(self, address: Address) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: _Tcp(self), address[0], address[1]),
                self.limits.connect_timeout,
            )
        except (TimeoutError, OSError) as exc:
            self.stats.counts["connect failed"] += 1
            self.record("error", text=f"cannot connect to {hostport(*address)}: {exc}")
            self._opening.pop(address, None)
            return
        for data in self._opening.pop(address, []):
            self._write(data, address)

    def _connected(self, conn: _Tcp) -> bool:
        if len(self._connections) >= self.limits.max_connections:
            self.stats.counts["connection refused (max_connections)"] += 1
            return False
        self._connections[conn.peer] = conn
        return True

    def _disconnected(self, conn: _Tcp) -> None:
        if self._connections.get(conn.peer) is conn:
            del self._connections[conn.peer]


async def run_for(host: NetHost, seconds: float | None, stop: asyncio.Event | None = None) -> None:
    """Run ``host`` until ``seconds`` pass or ``stop`` is set, then close it."""
    await host.start()
    try:
        waiter = stop or asyncio.Event()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(waiter.wait(), seconds)
    finally:
        await host.close()
