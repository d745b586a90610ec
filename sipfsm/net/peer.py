"""sipfsm's side of one case of `sipfsm probe`: `Peer`, a socket to the target (UDP, or a
TCP connection framed by Content-Length, RFC 3261 §18.3), the names of one call, the
requests it builds, what it sent and received with their times, and waits bounded in time.
What the target sends that is not SIP, or not of this case's call, is counted, never
raised; at most `MAX_RECEIVED` messages are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable
from typing import IO, Any, Final

from sipfsm.net.cases import Exchange, ProbeOptions
from sipfsm.net.codec import Address, hostport, sdp
from sipfsm.values.errors import WireError
from sipfsm.values.message import Message, Response
from sipfsm.values.wire import content_length, find_header_end, parse

__all__ = ["MAX_MESSAGE", "MAX_RECEIVED", "Done", "Peer", "is_final", "is_response", "summary"]

#: Messages of the target kept per case (more are counted, not kept).
MAX_RECEIVED: Final = 200
#: Octets read from the target per message (a larger one is counted as garbage).
MAX_MESSAGE: Final = 65_507


class Done(Exception):
    """A case's verdict, raised from deep in its procedure."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


class Peer:
    """sipfsm's side of one case: a socket to the target, the names of one call, what was
    sent and received (with times), and waits bounded by the case's deadline."""

    def __init__(self, options: ProbeOptions, log: IO[str] | None) -> None:
        self.options = options
        self.log = log
        self.t0 = time.monotonic()
        self.received: list[tuple[float, Message, str]] = []
        self.exchanges: list[Exchange] = []
        self.garbage = 0
        self.dropped = 0
        self.arrived = asyncio.Event()
        self.local: Address = (options.local, 0)
        tag = secrets.token_hex(4)
        self.call_id = f"{secrets.token_hex(8)}@sipfsm.probe"
        self.from_tag = f"p{tag}"
        self.n = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def now(self) -> float:
        return time.monotonic() - self.t0

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        target = self.options.target
        try:
            if self.options.transport == "udp":
                peer = self

                class _P(asyncio.DatagramProtocol):
                    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
                        peer._arrived(data, stream=False)

                    def error_received(self, exc: Exception) -> None:
                        peer.garbage += 0  # ICMP unreachable: the waits time out

                self._udp, _ = await loop.create_datagram_endpoint(
                    _P, local_addr=(self.options.local, 0), remote_addr=target
                )
                sock = self._udp.get_extra_info("sockname")
            else:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(
                        target[0], target[1], local_addr=(self.options.local, 0)
                    ),
                    5.0,
                )
                self._writer = writer
                sock = writer.get_extra_info("sockname")
                self._reader = loop.create_task(self._read(reader))
        except (TimeoutError, OSError) as exc:
            raise Done("inconclusive", f"cannot reach the target: {exc}") from None
        self.local = (str(sock[0]), int(sock[1]))

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buf = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                self.garbage += 0
                return
            buf += chunk
            while True:
                buf = buf.lstrip(b"\r\n")
                _end, body = find_header_end(buf[: MAX_MESSAGE + 4])
                if body < 0:
                    if len(buf) > MAX_MESSAGE:
                        self.garbage += 1
                        return
                    break
                try:
                    length = content_length(buf[:body])
                except WireError:
                    length = None
                if length is None or body + length > MAX_MESSAGE:
                    self.garbage += 1
                    return  # a stream that cannot be framed any further
                if len(buf) < body + length:
                    break
                self._arrived(buf[: body + length], stream=True)
                buf = buf[body + length :]

    def _arrived(self, data: bytes, stream: bool) -> None:
        text = data.decode("utf-8", "surrogateescape")
        self._log(self.options.target, self.local, text)
        try:
            message = parse(data, stream=stream)
        except WireError as exc:
            self.garbage += 1
            self.exchanges.append(Exchange(self.now, False, f"(not SIP: {exc})", text))
            return
        if len(self.received) >= MAX_RECEIVED:
            self.dropped += 1
            return
        if message.call_id != self.call_id:
            self.garbage += 1  # not this case's call: not judged
            return
        self.received.append((self.now, message, text))
        self.exchanges.append(Exchange(self.now, False, summary(message), text))
        self.arrived.set()

    def _log(self, src: Address, dst: Address, text: str) -> None:
        if self.log is not None:
            item: dict[str, Any] = {
                "t": round(time.time(), 6),
                "src": hostport(*src),
                "dst": hostport(*dst),
                "raw": text,
            }
            if self.options.transport == "tcp":
                item["transport"] = "tcp"
            self.log.write(json.dumps(item, ensure_ascii=True) + "\n")

    # -- building and sending --------------------------------------------------------------

    def branch(self) -> str:
        self.n += 1
        return f"z9hG4bK{secrets.token_hex(6)}{self.n}"

    def request(
        self,
        method: str,
        cseq: int,
        *,
        branch: str,
        to_tag: str = "",
        cseq_method: str | None = None,
        call_id: str | None = None,
        from_tag: str | None = None,
        headers: tuple[str, ...] = (),
        body: bool = False,
    ) -> str:
        o = self.options
        target = hostport(*o.target)
        me = hostport(*self.local)
        transport = o.transport.upper()
        payload = sdp(self.local[0]) if body else ""
        lines = [
            f"{method} sip:{o.user}@{target} SIP/2.0",
            f"Via: SIP/2.0/{transport} {me};branch={branch}"
            + (";rport" if transport == "UDP" else ""),
            "Max-Forwards: 70",
            f"From: <sip:sipfsm@{me}>;tag={from_tag or self.from_tag}",
            f"To: <sip:{o.user}@{target}>" + (f";tag={to_tag}" if to_tag else ""),
            f"Call-ID: {call_id or self.call_id}",
            f"CSeq: {cseq} {cseq_method or method}",
            f"Contact: <sip:sipfsm@{me}" + (";transport=tcp>" if transport == "TCP" else ">"),
            *headers,
        ]
        if payload:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(payload.encode())}")
        return "\r\n".join(lines) + "\r\n\r\n" + payload

    def send(self, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        first = text.split("\r\n", 1)[0]
        self.exchanges.append(Exchange(self.now, True, first.split(" sip:")[0], text))
        self._log(self.local, self.options.target, text)
        if self._udp is not None:
            self._udp.sendto(data)
        elif self._writer is not None:
            self._writer.write(data)

    async def wait(
        self, accept: Callable[[Message], bool], seconds: float, start: int = 0
    ) -> tuple[float, Message] | None:
        """The first message from index ``start`` on that ``accept`` takes, waiting at most
        ``seconds``; None when none came."""
        deadline = time.monotonic() + seconds
        seen = start
        while True:
            for t, m, _ in self.received[seen:]:
                seen += 1
                if accept(m):
                    return t, m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)

    async def settle(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def responses(self, method: str, cseq: int | None = None) -> list[tuple[float, Response]]:
        return [
            (t, m)
            for t, m, _ in self.received
            if isinstance(m, Response) and m.method == method and (cseq is None or m.cseq == cseq)
        ]

    def ack_for(self, invite_branch: str, response: Response, cseq: int) -> str:
        """The ACK of ``response``: in the INVITE's transaction for a 3xx-6xx (§17.1.1.3),
        a new transaction for a 2xx (§13.2.2.4)."""
        branch = invite_branch if response.status >= 300 else self.branch()
        return self.request("ACK", cseq, branch=branch, to_tag=response.to_tag)


def summary(m: Message) -> str:
    if isinstance(m, Response):
        return f"{m.status} {m.reason} ({m.method})"
    return m.method


def is_final(method: str, cseq: int | None = None) -> Callable[[Message], bool]:
    def accept(m: Message) -> bool:
        return (
            isinstance(m, Response)
            and m.status >= 200
            and m.method == method
            and (cseq is None or m.cseq == cseq)
        )

    return accept


def is_response(method: str) -> Callable[[Message], bool]:
    return lambda m: isinstance(m, Response) and m.method == method
