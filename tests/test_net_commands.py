"""``sipfsm serve`` and ``sipfsm probe`` (sipfsm.net.commands): run as a user runs them, in
processes of their own on loopback, bounded in time and stopped by PID; user errors are one
line and exit 2."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sipfsm.check.checker import check_files
from sipfsm.cli import main
from sipfsm.net.cases import PROBES

SIPFSM = [sys.executable, "-m", "sipfsm.cli"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_probe_list_is_the_declared_cases(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "probe", "--list", "--json")
    assert code == 0
    assert [c["id"] for c in json.loads(out)["cases"]] == [p.id for p in PROBES]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["probe"], "needs a TARGET"),
        (["probe", "sip:x@127.0.0.1:0"], "port 0 is not in 1-65535"),
        (["probe", "127.0.0.1:5060", "--case", "nope"], "unknown case nope"),
        (["probe", "127.0.0.1:5060", "--t1", "0"], "--t1 must be"),
        (["serve", "--listen", "nowhere"], "--listen: 'nowhere' is not HOST:PORT"),
        (["serve", "--answer", "100"], "--answer must be a final response code"),
        (["serve", "--role", "proxy"], "a proxy needs --forward-to"),
        (["serve", "--duration", "-1"], "--duration must be"),
    ],
)
def test_a_user_error_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and err.count("\n") == 1


def _serve(tmp_path: Path, *argv: str) -> tuple[subprocess.Popen[str], int]:
    """Start ``sipfsm serve`` on a free port of 127.0.0.1; its port, from its first line."""
    proc = subprocess.Popen(
        [*SIPFSM, "serve", "--listen", "127.0.0.1:0", "--duration", "60",
         "--log", str(tmp_path / "serve.jsonl"), *argv],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "sipfsm serve: UA answering 200 on 127.0.0.1:PORT/udp; ..."
    found = re.search(r" on 127\.0\.0\.1:(\d+)/", line)
    if found is None:
        proc.kill()
        proc.wait(10)
        pytest.fail(f"serve did not start: {line!r}")
    return proc, int(found.group(1))


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGINT, as Ctrl-C: serve stops cleanly and prints its counts."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=10)
        raise
    return proc.returncode, err


def test_probe_against_serve_writes_every_report_and_serve_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc, port = _serve(tmp_path, "--ring", "0.3", "--t1", "0.2")
    try:
        done = subprocess.run(
            [*SIPFSM, "probe", f"sip:bob@127.0.0.1:{port}", "--t1", "0.2", "--t2", "1.6",
             "--case", "options", "--case", "cancel-487", "--case", "bye-unknown-dialog",
             "--report", str(tmp_path / "r.html"), "--junit", str(tmp_path / "r.xml"),
             "--log", str(tmp_path / "probe.jsonl"), "--json"],
            capture_output=True, text=True, timeout=60,
        )
    finally:
        code, err = _stop(proc)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["pass"] == 3
    assert ET.parse(tmp_path / "r.xml").getroot().get("failures") == "0"
    assert "<svg" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert code == 0 and "received" in err and "bad 0" in err
    # what serve logged is a trace the checker reads, and finds nothing wrong in
    for log in ("serve.jsonl", "probe.jsonl"):
        result = check_files([tmp_path / log])
        assert result.parsed > 0 and not result.unparseable
        assert result.violations == [], (log, result.to_json()["violations"])


def test_probe_exits_0_when_the_cases_are_only_inconclusive() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # a target that never answers
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        done = subprocess.run(
            [*SIPFSM, "probe", f"127.0.0.1:{port}", "--case", "options", "--patience", "0.3"],
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 0 and "inconclusive" in done.stdout


def test_probe_exits_1_when_a_case_fails_rfc3261_8_2_1() -> None:
    """A target that answers everything 405 without Allow breaks §8.2.1's MUST."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)
        port = s.getsockname()[1]
        stop = threading.Event()

        def answer() -> None:
            while not stop.is_set():
                try:
                    data, addr = s.recvfrom(65535)
                except (TimeoutError, OSError):
                    continue
                head = data.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
                keep = [h for h in head if h.split(b":")[0].lower() in
                        (b"via", b"from", b"to", b"call-id", b"cseq")]
                s.sendto(b"\r\n".join([b"SIP/2.0 405 Method Not Allowed", *keep,
                                        b"Content-Length: 0"]) + b"\r\n\r\n", addr)

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        try:
            done = subprocess.run(
                [*SIPFSM, "probe", f"127.0.0.1:{port}", "--case", "unknown-method"],
                capture_output=True, text=True, timeout=60,
            )
        finally:
            stop.set()
            thread.join(5)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fail" in done.stdout and "405 without Allow" in done.stdout
