"""Other real stacks on loopback, in front of sipfsm serve (the model's UA): Kamailio (Debian
``kamailio``, a minimal transaction-stateful proxy with the tm module,
tests/data/kamailio/proxy.cfg) and sippy's B2BUA (PyPI ``sippy``, ``b2bua_simple``). The
probe's cases go through them to the UA; each verdict is asserted and judged against the
RFC text (docs/live.md). Every process is started here on 127.0.0.1, bounded in time,
stopped by its PID (its process group: Kamailio forks workers), and checked gone.

Missing stacks skip the tests, but under CI (``CI`` set) they fail: scripts/system-deps.sh
installs Kamailio and the ``live`` extra installs sippy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sipp.harness import free_port
from test_net_commands import _serve, _stop

from sipfsm.net.cases import ProbeOptions, Verdict
from sipfsm.net.probe import run_probes

HERE = Path(__file__).parent
KAMAILIO_CFG = HERE / "data" / "kamailio" / "proxy.cfg"
#: Seconds each stack may live, whatever happens (SIGKILL to its group then).
LIFETIME = 90


def _require(what: str, found: object, how: str) -> None:
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing under CI: {how}")
    pytest.skip(f"{what} is not installed ({how})")


@pytest.fixture
def group() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started in their own process group; stopped by PID (SIGTERM to the
    group, then SIGKILL) and checked gone."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        pgid = proc.pid  # start_new_session: the group is the leader's PID
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)  # no worker of the stack is left behind


def _start(group: list[subprocess.Popen[bytes]], argv: list[str], log: Path) -> None:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["timeout", "-s", "KILL", str(LIFETIME), *argv],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    group.append(proc)


def _bound(port: int) -> None:
    import socket

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    pytest.fail(f"nothing listens on 127.0.0.1:{port}")


def _answering(port: int) -> None:
    """Wait until the stack answers at all (an OPTIONS, again every 0.3 s): a stack that
    has bound its port may still be starting (sippy imports for seconds under load)."""
    import socket

    probe = (
        "OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKready{n}\r\nMax-Forwards: 70\r\n"
        "From: <sip:ready@127.0.0.1:{me}>;tag=r\r\nTo: <sip:ping@127.0.0.1:{port}>\r\n"
        "Call-ID: ready-{me}\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.3)
        me = s.getsockname()[1]
        deadline = time.monotonic() + 30
        n = 0
        while time.monotonic() < deadline:
            n += 1
            s.sendto(probe.format(port=port, me=me, n=n).encode(), ("127.0.0.1", port))
            try:
                s.recv(65535)
                return
            except (TimeoutError, OSError):
                continue
    pytest.fail(f"nothing answers on 127.0.0.1:{port}")


def _probe(port: int) -> dict[str, Verdict]:
    _answering(port)
    options = ProbeOptions(("127.0.0.1", port), jobs=2, patience=3.0, ring=3.0)
    return {v.probe.id: v for v in asyncio.run(run_probes(options))}


def test_through_kamailio_as_a_stateful_proxy_rfc3261_16(
    group: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    kamailio = shutil.which("kamailio")
    _require("kamailio", kamailio, "Debian package kamailio, scripts/system-deps.sh")
    assert kamailio is not None
    serve, ua_port = _serve(tmp_path, "--ring", "1")
    try:
        port = free_port()
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        _start(group, [kamailio, "-f", str(KAMAILIO_CFG), "-DD", "-E",
                       "-l", f"udp:127.0.0.1:{port}", "-Y", str(run_dir),
                       "-P", str(run_dir / "kamailio.pid"),
                       "-A", f'NEXTHOP="sip:127.0.0.1:{ua_port}"'], tmp_path / "kamailio.log")
        _bound(port)
        got = _probe(port)
    finally:
        code, _ = _stop(serve)
    assert code == 0
    outcome = {k: v.outcome for k, v in got.items()}
    # Kamailio forwards every 2xx, retransmissions too (§16.7 step 5, RFC 6026 §8.4), and
    # the UA's answers come back; a CANCEL that matches no transaction is dropped by the
    # configuration Kamailio ships (so is ours), which the case sees as no answer
    assert outcome == {**dict.fromkeys(got, "pass"), "cancel-unknown": "inconclusive"}, {
        k: v.reason for k, v in got.items()}
    assert "100 trying" in got["invite-trying"].reason.lower()  # Kamailio's own (§16.2)


def test_through_sippys_b2bua(group: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "b2bua_simple"
    _require("sippy", script.exists(), "pip install 'sipfsm[live]'")
    serve, ua_port = _serve(tmp_path, "--ring", "1")
    try:
        port = free_port()
        _start(group, [str(script), "-f", "-l", "127.0.0.1", "-p", str(port),
                       "-n", f"127.0.0.1:{ua_port}"], tmp_path / "b2bua.log")
        _bound(port)
        got = _probe(port)
    finally:
        code, _ = _stop(serve)
    assert code == 0
    outcome = {k: v.outcome for k, v in got.items()}
    assert outcome == {
        **dict.fromkeys(got, "pass"),
        # sippy's B2BUA answers OPTIONS 501 (Not Implemented) itself: a B2BUA is a UA to
        # its caller (§6), and all UAs MUST support OPTIONS (§11)
        "options": "fail",
        # so the OPTIONS carrying the Require is refused before the Require is looked at
        "unsupported-require": "inconclusive",
    }, {k: v.reason for k, v in got.items()}
    # and FOOBAR gets 501, which §21.5.2 allows for a method not recognised
    assert "501" in got["unknown-method"].reason
