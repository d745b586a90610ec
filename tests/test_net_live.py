"""Real stacks on loopback: SIPp (Debian sip-tester) as the stack that sipfsm probe judges,
and as the peer of sipfsm serve, a UA and a proxy. Every process is started here on
127.0.0.1, bounded in time (SIPp's -timeout, and a timeout on every wait), stopped by its
PID, and checked gone at the end.

What SIPp's built-in ``uas`` scenario does is a script, not a UA core: what it leaves out
(no answer to OPTIONS, to an unknown method, to a request inside the call it does not
expect) makes those cases inconclusive, and where it answers the verdicts are asserted
below, each judged against the RFC text (docs/live.md lists them)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sipp.harness import HERE, free_port, require_sipp
from test_net_commands import _serve, _stop

from sipfsm.check.checker import check_files
from sipfsm.net.cases import ProbeOptions, Verdict
from sipfsm.net.probe import run_probes

#: Seconds: SIPp's own -timeout, and our bound on each wait for a process.
SIPP_TIMEOUT = 30
WAIT = 40


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """The processes a test starts: stopped by PID at the end, and checked gone."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    for proc in started:
        assert proc.returncode is not None
        with pytest.raises(ProcessLookupError):
            os.kill(proc.pid, 0)  # no process is left behind


def _sipp(processes: list[subprocess.Popen[bytes]], tmp_path: Path, port: int,
          *args: str) -> subprocess.Popen[bytes]:
    sipp = require_sipp()
    proc = subprocess.Popen(
        [sipp, "-i", "127.0.0.1", "-p", str(port), "-nostdin", "-timeout", f"{SIPP_TIMEOUT}s",
         "-trace_err", "-error_file", str(tmp_path / f"sipp-{port}.err"), *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    processes.append(proc)
    return proc


def _probe(port: int, ids: tuple[str, ...] = ()) -> dict[str, Verdict]:
    options = ProbeOptions(("127.0.0.1", port), jobs=1, patience=3.0, ring=3.0)
    return {v.probe.id: v for v in asyncio.run(run_probes(options, ids))}


def _listening(port: int) -> None:
    """Wait until SIPp answers on ``port`` (an OPTIONS it answers, or any datagram back)."""
    import socket
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return  # bound by SIPp
        time.sleep(0.05)
    pytest.fail(f"nothing listens on 127.0.0.1:{port}")


def test_sipp_uas_as_the_stack_under_test(
    processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port = free_port()
    _sipp(processes, tmp_path, port, "-sn", "uas")
    _listening(port)
    got = _probe(port)
    outcome = {k: v.outcome for k, v in got.items()}
    # SIPp's uas sends its 200 right after the 180: a CANCEL that crosses the 200 finds the
    # INVITE answered and the case cannot judge it (a race, not a verdict)
    if outcome["cancel-487"] == "inconclusive":
        reason = got["cancel-487"].reason
        assert "before the CANCEL took effect" in reason or "at once" in reason, reason
        outcome["cancel-487"] = "warn"
    assert outcome == {
        # §17.2.1: SIPp answers 180 at once; §13.3.1.4: it retransmits its 200 on the
        # T1-doubling schedule until the ACK, and absorbs the ACK's copies
        "invite-trying": "pass",
        "final-retransmitted": "pass",
        "ack-absorbed": "pass",
        # §9.2: after the final response, 200 to a CANCEL is right
        "cancel-after-final": "pass",
        # SIPp answers 200 to every BYE and CANCEL it does not expect: 481 is what
        # §9.2 (SHOULD) and §12.2.2 (a UAS MAY accept, but rejecting MUST be 481) ask
        "bye-unknown-dialog": "warn",
        "cancel-unknown": "warn",
        # its 200 to the CANCEL ends the call without any final response to the INVITE:
        # §9.2 says the UAS SHOULD answer it 487
        "cancel-487": "warn",
        # what the uas script does not expect, it does not answer
        "options": "inconclusive",
        "unknown-method": "inconclusive",
        "unsupported-require": "inconclusive",
        "lower-cseq": "inconclusive",
    }, {k: v.reason for k, v in got.items()}


def test_a_sipp_uas_answering_487_to_the_cancel_fails_rfc3261_9_2(
    processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port = free_port()
    _sipp(processes, tmp_path, port, "-sf", str(HERE / "cancel487_uas.xml"), "-m", "1")
    _listening(port)
    got = _probe(port, ("cancel-487",))["cancel-487"]
    assert got.outcome == "fail" and "487 to the CANCEL itself" in got.reason
    assert processes[0].wait(WAIT) == 0  # the scenario ran to its end


def test_sipp_uac_calls_sipfsm_serve_and_the_log_passes_the_checker(
    processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    require_sipp()
    serve, port = _serve(tmp_path)
    try:
        uac = _sipp(processes, tmp_path, free_port(), "-sn", "uac", "-m", "1",
                    f"127.0.0.1:{port}")
        assert uac.wait(WAIT) == 0  # SIPp: the call went as its script says
    finally:
        code, err = _stop(serve)
    assert code == 0 and "bad 0" in err
    report = check_files([tmp_path / "serve.jsonl"])
    assert report.parsed == 5  # INVITE, 200, ACK, BYE, 200
    assert report.violations == [] and not report.unparseable


def test_sipp_calls_sipp_through_sipfsm_serve_as_a_proxy(
    processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    uas_port = free_port()
    _sipp(processes, tmp_path, uas_port, "-sn", "uas", "-m", "1")
    _listening(uas_port)
    serve, port = _serve(tmp_path, "--role", "proxy", "--forward-to", f"127.0.0.1:{uas_port}")
    try:
        uac = _sipp(processes, tmp_path, free_port(), "-sn", "uac", "-m", "1",
                    f"127.0.0.1:{port}")
        assert uac.wait(WAIT) == 0
        assert processes[0].wait(WAIT) == 0
    finally:
        code, err = _stop(serve)
    assert code == 0 and "bad 0" in err and "unroutable" not in err
    report = check_files([tmp_path / "serve.jsonl"])
    # INVITE, 100, INVITE, 180, 180, 200, 200, ACK, ACK, BYE, BYE, 200, 200
    assert report.parsed == 13
    assert report.violations == [] and not report.unparseable
