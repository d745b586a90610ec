"""Run SIPp scenarios on loopback for the checker tests.

`run_pair` starts the answering scenario, then the calling one, each on its own port of
127.0.0.1, bounded by ``-timeout`` and ``-m 1``, with ``-trace_msg`` logs; while they run,
``dumpcap`` (or ``tshark``) captures their UDP ports on ``lo`` when the machine allows.
SIPp's default behaviours (automatic BYE/CANCEL on errors) are off (``-nd``) so a trace
holds exactly what the scenario says.

`require_sipp` skips a test when SIPp is missing -- except under CI (``CI`` set), where it
fails: CI must not skip the real-peer tests silently.
"""

from __future__ import annotations

import heapq
import os
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pytest

HERE = Path(__file__).parent
SIPP = shutil.which("sipp")
CAPTURE = shutil.which("dumpcap") or shutil.which("tshark")
#: Seconds: SIPp's own global timeout, and our bound on each process.
SIPP_TIMEOUT = 10
PROCESS_TIMEOUT = 30


def require_sipp() -> str:
    if SIPP is None:
        if os.environ.get("CI"):
            pytest.fail(
                "sipp (Debian package sip-tester) is missing under CI: install it "
                "with scripts/system-deps.sh"
            )
        pytest.skip("sipp is not installed (Debian package sip-tester)")
    return SIPP


def free_port() -> int:
    """A UDP port of 127.0.0.1 that nothing uses right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@dataclass
class Run:
    """What one SIPp pair left behind."""

    logs: dict[str, Path]
    pcap: Path | None
    ports: dict[str, int]
    returncodes: dict[str, int]


def _start_capture(path: Path, ports: list[int]) -> subprocess.Popen[bytes] | None:
    if CAPTURE is None:
        return None
    filt = " or ".join(f"udp port {p}" for p in ports)
    proc = subprocess.Popen(
        [CAPTURE, "-i", "lo", "-f", filt, "-w", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 10
    seen = b""
    os.set_blocking(proc.stderr.fileno(), False)
    while time.monotonic() < deadline:
        chunk = proc.stderr.read() or b""
        seen += chunk
        if b"Capturing on" in seen:
            # dumpcap prints its banner just before the capture is live; under load the
            # first datagrams can slip past it, so give it a moment to settle
            time.sleep(0.5)
            return proc
        if proc.poll() is not None:
            return None  # no permission to capture here: the tests use the logs only
        time.sleep(0.05)
    _stop(proc)
    return None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _sipp(scenario: str, port: int, log: Path, remote: int | None) -> list[str]:
    sipp = require_sipp()
    args = [
        sipp,
        "-sf",
        str(HERE / scenario),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-m",
        "1",
        "-nd",
        "-nostdin",
        "-trace_msg",
        "-message_file",
        str(log),
        "-timeout",
        f"{SIPP_TIMEOUT}s",
        "-timeout_error",
        "-recv_timeout",
        "5000",
    ]
    if remote is not None:
        args.append(f"127.0.0.1:{remote}")
    return args


class DelayRelay:
    """A UDP relay between two SIPp instances that delays every datagram by ``delay``
    seconds, as a longer network path would: with it two re-INVITEs sent a few
    milliseconds apart are both in flight at once (a glare, RFC 3261 §14.2), which SIPp's
    single event loop cannot produce on a bare loopback. The caller talks to ``port_a``,
    the callee hears from (and answers to) ``port_b``. Bounded: it stops with the run."""

    def __init__(self, caller_port: int, callee_port: int, delay: float = 0.05) -> None:
        self.delay = delay
        self.caller = ("127.0.0.1", caller_port)
        self.callee = ("127.0.0.1", callee_port)
        self.sock_a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock_a.bind(("127.0.0.1", 0))
        self.sock_b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock_b.bind(("127.0.0.1", 0))
        self.port_a = int(self.sock_a.getsockname()[1])
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock_a.close()
        self.sock_b.close()

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.sock_a, selectors.EVENT_READ)
        sel.register(self.sock_b, selectors.EVENT_READ)
        queue: list[tuple[float, int, bool, bytes]] = []
        count = 0
        deadline = time.monotonic() + PROCESS_TIMEOUT
        while not self.stop.is_set() and time.monotonic() < deadline:
            wait = max(0.0, min(0.01, queue[0][0] - time.monotonic())) if queue else 0.01
            for key, _mask in sel.select(timeout=wait):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                data = sock.recv(65535)
                count += 1
                heapq.heappush(
                    queue, (time.monotonic() + self.delay, count, sock is self.sock_a, data)
                )
            while queue and queue[0][0] <= time.monotonic():
                _due, _n, to_callee, data = heapq.heappop(queue)
                if to_callee:
                    self.sock_b.sendto(data, self.callee)
                else:
                    self.sock_a.sendto(data, self.caller)
        sel.close()


def run_pair(
    tmp_path: Path, callee: str, caller: str, capture: bool = True, relay_delay: float = 0.0
) -> Run:
    """Run ``callee`` (waits for the first request), then ``caller`` against it; with
    ``relay_delay`` through a `DelayRelay` (the capture then holds the caller's leg)."""
    require_sipp()
    ports = {"callee": free_port(), "caller": free_port()}
    logs = {"callee": tmp_path / "callee.log", "caller": tmp_path / "caller.log"}
    pcap = tmp_path / "trace.pcapng"
    relay = DelayRelay(ports["caller"], ports["callee"], relay_delay) if relay_delay else None
    target = relay.port_a if relay is not None else ports["callee"]
    cap = (
        _start_capture(pcap, [ports["caller"]] if relay else list(ports.values()))
        if capture
        else None
    )
    callee_proc = subprocess.Popen(
        _sipp(callee, ports["callee"], logs["callee"], None),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    if relay is not None:
        relay.__enter__()
    try:
        deadline = time.monotonic() + 10
        while not _bound(ports["callee"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        caller_proc = subprocess.run(
            _sipp(caller, ports["caller"], logs["caller"], target),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
            timeout=PROCESS_TIMEOUT,
            check=False,
        )
        callee_rc = callee_proc.wait(timeout=PROCESS_TIMEOUT)
    finally:
        if callee_proc.poll() is None:
            callee_proc.kill()
            callee_proc.wait(timeout=10)
        if relay is not None:
            relay.__exit__()
        if cap is not None:
            time.sleep(0.3)  # let the last packets reach the capture
            _stop(cap)
    return Run(
        logs,
        pcap if cap is not None and pcap.exists() else None,
        ports,
        {"callee": callee_rc, "caller": caller_proc.returncode},
    )
