"""The network binding (sipfsm.net.host): messages in and out over UDP and TCP, framing by
Content-Length on a stream (RFC 3261 §18.3), bad input counted with its source while the
rest is handled, every limit explicit, and nothing left behind by close()."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import Hashable
from typing import Any

import pytest

from sipfsm.elements.host import Host
from sipfsm.net.host import Limits, NetError, NetHost
from sipfsm.values.message import Message, Request, response_to

OPTIONS = (
    b"OPTIONS sip:ua@127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-%d\r\n"
    b"From: <sip:a@127.0.0.1>;tag=a\r\nTo: <sip:ua@127.0.0.1>\r\n"
    b"Call-ID: c%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


def options(n: int) -> bytes:
    return OPTIONS % (n, n)


class Echo:
    """An element that answers every request 200 and keeps what it got."""

    def __init__(self) -> None:
        self.got: list[tuple[Message, str]] = []
        self.fired: list[Hashable] = []
        self.host: Host | None = None

    def start(self, host: Host) -> None:
        self.host = host

    def receive(self, message: Message, src: str) -> None:
        self.got.append((message, src))
        if isinstance(message, Request) and self.host is not None:
            self.host.send(src, response_to(message, 200, to_tag="t"))

    def timer(self, key: Hashable) -> None:
        self.fired.append(key)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


async def _udp_exchange(datagrams: list[bytes], host: NetHost, answers: int) -> list[bytes]:
    loop = asyncio.get_running_loop()
    got: list[bytes] = []
    done = asyncio.Event()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            got.append(data)
            if len(got) >= answers:
                done.set()

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=host.local)
    try:
        for d in datagrams:
            transport.sendto(d)
        if answers:
            await asyncio.wait_for(done.wait(), 5)
        else:
            await asyncio.sleep(0.2)
    finally:
        transport.close()
    return got


def test_a_bad_datagram_is_counted_with_its_source_and_the_next_is_still_handled() -> None:
    async def go() -> tuple[NetHost, Echo, list[bytes]]:
        echo = Echo()
        async with NetHost(echo, "ua", ("127.0.0.1", 0)) as host:
            got = await _udp_exchange([b"garbage\r\n\r\n", options(1)], host, 1)
        return host, echo, got

    host, echo, got = run(go())
    assert len(echo.got) == 1 and got[0].startswith(b"SIP/2.0 200 OK\r\n")
    assert host.stats.counts["bad message"] == 1 and host.stats.received == 1
    (src, reason), = host.stats.bad
    assert src.startswith("127.0.0.1:") and reason


def test_a_datagram_over_the_size_limit_is_refused_and_counted() -> None:
    async def go() -> NetHost:
        async with NetHost(Echo(), "ua", ("127.0.0.1", 0), limits=Limits(max_message=200)) as h:
            await _udp_exchange([options(1) + b"x" * 300], h, 0)
        return h

    host = run(go())
    assert host.stats.received == 0
    assert "over 200" in host.stats.bad[0][1]


def test_crlf_keep_alives_are_skipped_rfc5626_3_5_1() -> None:
    async def go() -> NetHost:
        async with NetHost(Echo(), "ua", ("127.0.0.1", 0)) as h:
            await _udp_exchange([b"\r\n\r\n", options(1)], h, 1)
        return h

    host = run(go())
    assert host.stats.counts["keep-alive"] == 1 and not host.stats.bad


async def _tcp(host: NetHost, chunks: list[bytes], wait_for: int) -> bytes:
    reader, writer = await asyncio.open_connection(*host.local)
    for c in chunks:
        writer.write(c)
        await writer.drain()
        await asyncio.sleep(0.05)
    data = b""
    try:
        while data.count(b"SIP/2.0 200") < wait_for:
            chunk = await asyncio.wait_for(reader.read(65536), 5)
            if not chunk:
                break
            data += chunk
    finally:
        writer.close()
    return data


def test_tcp_frames_messages_by_content_length_rfc3261_18_3() -> None:
    two = options(1) + options(2)
    split = options(3)

    async def go() -> tuple[NetHost, Echo, bytes]:
        echo = Echo()
        async with NetHost(echo, "ua", ("127.0.0.1", 0), "tcp") as h:
            data = await _tcp(h, [two, b"\r\n", split[:30], split[30:]], 3)
        return h, echo, data

    host, echo, data = run(go())
    assert [m.call_id for m, _ in echo.got] == ["c1", "c2", "c3"]
    assert data.count(b"SIP/2.0 200 OK") == 3  # on the connection the requests came on
    assert not host.stats.bad


def test_a_stream_without_content_length_is_closed_and_counted_rfc3261_18_3() -> None:
    bad = options(1).replace(b"Content-Length: 0\r\n", b"")

    async def go() -> NetHost:
        async with NetHost(Echo(), "ua", ("127.0.0.1", 0), "tcp") as h:
            assert await _tcp(h, [bad], 1) == b""  # closed, nothing answered
            await asyncio.sleep(0.05)
            assert h.connections == 0
        return h

    host = run(go())
    assert "no Content-Length" in host.stats.bad[0][1]


def test_connections_over_the_limit_are_closed_at_once() -> None:
    async def go() -> NetHost:
        async with NetHost(Echo(), "ua", ("127.0.0.1", 0), "tcp",
                           Limits(max_connections=1)) as h:
            _r1, w1 = await asyncio.open_connection(*h.local)
            r2, w2 = await asyncio.open_connection(*h.local)
            assert await asyncio.wait_for(r2.read(10), 5) == b""  # the second: closed
            assert h.connections == 1
            w1.close()
            w2.close()
        return h

    host = run(go())
    assert host.stats.counts["connection refused (max_connections)"] == 1


def test_timers_fire_replace_and_stop_and_the_pending_ones_are_bounded() -> None:
    async def go() -> tuple[NetHost, Echo]:
        echo = Echo()
        async with NetHost(echo, "ua", ("127.0.0.1", 0), limits=Limits(max_timers=2)) as h:
            h.set_timer("a", 0.01)
            h.set_timer("b", 0.01)
            h.set_timer("b", 0.02)  # replaces b: still two pending
            h.set_timer("c", 0.01)  # a third: refused and counted
            h.set_timer("d", 10)
            h.cancel_timer("d")
            await asyncio.sleep(0.2)
            assert h.pending_timers == 0
        return h, echo

    host, echo = run(go())
    assert sorted(map(str, echo.fired)) == ["a", "b"]
    assert host.stats.counts["timer refused (max_timers)"] == 2  # c, and d (still two)


def test_close_leaves_no_task_timer_or_socket_behind() -> None:
    async def go() -> tuple[int, tuple[str, int]]:
        before = len(asyncio.all_tasks())
        h = NetHost(Echo(), "ua", ("127.0.0.1", 0), "tcp")
        await h.start()
        h.set_timer("x", 100)
        h.send(h.codec.name_of(("127.0.0.1", 9)), response_to(
            Request("OPTIONS", "sip:a@b", "c", 1, "a", "", "z9hG4bKx", "ua.example.com"), 200))
        await h.close()
        return len(asyncio.all_tasks()) - before, h.local

    extra, local = run(go())
    assert extra == 0
    with socket.socket() as s:  # the port is free again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(local)


def test_every_message_in_and_out_is_logged_as_jsonl_for_the_checker() -> None:
    log = io.StringIO()

    async def go() -> NetHost:
        async with NetHost(Echo(), "ua", ("127.0.0.1", 0), log=log) as h:
            await _udp_exchange([options(1)], h, 1)
        return h

    host = run(go())
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [line["raw"].split(" ", 1)[0] for line in lines] == ["OPTIONS", "SIP/2.0"]
    assert lines[1]["src"] == f"127.0.0.1:{host.local[1]}" == lines[0]["dst"]
    assert all(set(line) == {"t", "src", "dst", "raw"} for line in lines)


def test_an_address_in_use_is_a_one_line_error() -> None:
    async def go() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            host = NetHost(Echo(), "ua", s.getsockname())
            with pytest.raises(NetError, match=r"cannot listen on 127\.0\.0\.1:"):
                await host.start()

    run(go())


@pytest.mark.parametrize("bad", [{"max_message": 0}, {"max_timers": -1}, {"max_log": True},
                                 {"connect_timeout": 0}])
def test_a_limit_must_be_positive(bad: dict[str, Any]) -> None:
    with pytest.raises(NetError):
        Limits(**bad)


def test_an_element_error_is_counted_and_the_host_goes_on() -> None:
    class Broken(Echo):
        def receive(self, message: Message, src: str) -> None:
            raise RuntimeError("bug")

    async def go() -> NetHost:
        async with NetHost(Broken(), "ua", ("127.0.0.1", 0)) as h:
            await _udp_exchange([options(1), options(2)], h, 0)
        return h

    host = run(go())
    assert host.stats.counts["element error"] == 2
