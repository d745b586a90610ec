"""Benchmark of the conformance checker: messages per second on a large generated trace.

Not a test: run it by hand, ``.venv/bin/python benchmarks/bench_check.py [--count N]
[--rounds R] [--smoke]``, or with the others through ``benchmarks/run.py``.

The trace is ``N`` messages (100,000 by default) of basic calls (RFC 3665 §3.1: INVITE,
180, 200, ACK, BYE, 200) templated from messages SIPp 3.6 put on the wire (below, as it
logged them), each call with its own Call-ID, tags and branches, written in sipfsm's
JSONL format with both endpoints checked. From the same run and one core, each the best of
``R`` rounds taken in turn (wall clock, and the process's CPU time beside it), with the
parser's memo caches emptied before every round so each starts cold:

* ``read``: `sipfsm.check.capture.read` alone (the JSONL file into records);
* ``parse``: the baseline -- `sipfsm.values.wire.parse` alone over the same raw messages;
* ``check``: `sipfsm.check.checker.check_files` end to end (read the file, parse, match, replay
  both endpoints' transactions and dialogs through the model, rules), and its ratio to
  ``parse``;
* ``check --as``: the same with only the callee checked (``--as``): one endpoint's replay
  (``check`` minus ``check --as``: what replaying one more endpoint costs);
* on the compiled build (`sipfsm.engine.native`, as ``make bench`` runs it), ``check`` and ``check
  --as`` again on the pure-Python source (this script in a process under ``SIPFSM_PURE=1``),
  and the ratio;
* ``sipmessage``: for reference, when installed, the parse + Via/From/To/CSeq rate of
  the ``sipmessage`` library (see docs/checker.md, "Parsing").

The goal is a ``check`` rate of at least 50,000 messages per second (docs/checker.md,
"Speed", says what stands in its way).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import goal_line, machine_line

from sipfsm.check.capture import jsonl_line, read
from sipfsm.check.checker import check_files
from sipfsm.engine import native
from sipfsm.values.wire import clear_caches, parse

#: One basic call as SIPp 3.6.1 sent it (uac and uas scenarios, loopback), CRLF ends.
SIPP_CALL = [
    (
        "A",
        "B",
        "INVITE sip:service@127.0.0.1:5072 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-0\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: sip:sipp@127.0.0.1:5071\r\n"
        "Max-Forwards: 70\r\n"
        "Subject: Performance Test\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length:   129\r\n\r\n"
        "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\nm=audio 6004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
    ),
    (
        "B",
        "A",
        "SIP/2.0 180 Ringing\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-0\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:127.0.0.1:5072;transport=UDP>\r\n"
        "Content-Length: 0\r\n\r\n",
    ),
    (
        "B",
        "A",
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-0\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:127.0.0.1:5072;transport=UDP>\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length:   129\r\n\r\n"
        "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
    ),
    (
        "A",
        "B",
        "ACK sip:service@127.0.0.1:5072 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-5\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 1 ACK\r\n"
        "Contact: sip:sipp@127.0.0.1:5071\r\n"
        "Max-Forwards: 70\r\n"
        "Subject: Performance Test\r\n"
        "Content-Length: 0\r\n\r\n",
    ),
    (
        "A",
        "B",
        "BYE sip:service@127.0.0.1:5072 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-7\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 2 BYE\r\n"
        "Contact: sip:sipp@127.0.0.1:5071\r\n"
        "Max-Forwards: 70\r\n"
        "Subject: Performance Test\r\n"
        "Content-Length: 0\r\n\r\n",
    ),
    (
        "B",
        "A",
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{c}-1-7\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5071>;tag={c}SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5072>;tag={c}SIPpTag011\r\n"
        "Call-ID: {c}-9299@127.0.0.1\r\n"
        "CSeq: 2 BYE\r\n"
        "Contact: <sip:127.0.0.1:5072;transport=UDP>\r\n"
        "Content-Length: 0\r\n\r\n",
    ),
]
ADDRESS = {"A": "127.0.0.1:5071", "B": "127.0.0.1:5072"}


def generate(count: int) -> list[tuple[float, str, str, bytes]]:
    """``count`` messages: calls started every 10 ms, messages 1 ms apart."""
    for template in SIPP_CALL:  # the templates are valid SIP as SIPp sent them
        parse(template[2].format(c=0).encode())
    out: list[tuple[float, str, str, bytes]] = []
    call = 0
    while len(out) < count:
        call += 1
        for step, (src, dst, text) in enumerate(SIPP_CALL):
            if len(out) == count:
                break
            out.append(
                (
                    call * 0.01 + step * 0.001,
                    ADDRESS[src],
                    ADDRESS[dst],
                    text.format(c=call).encode(),
                )
            )
    out.sort(key=lambda m: m[0])
    return out


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


Timed = tuple[float, float]  # (wall seconds, CPU seconds)


def best_rounds(rounds: int, contenders: dict[str, Callable[[], object]]) -> dict[str, Timed]:
    """The best wall-clock and CPU time of each contender over ``rounds`` rounds taken in
    turn (a change of load on a shared machine hits them alike). The parser's caches are
    emptied and garbage collected before each timing; the cyclic collector is off while a
    contender runs, as `check_files` has it (so the baselines are not slowed by it)."""
    best = dict.fromkeys(contenders, (float("inf"), float("inf")))
    for _ in range(rounds):
        for name, run in contenders.items():
            clear_caches()
            gc.collect()
            gc.disable()
            try:
                wall, cpu = time.perf_counter(), time.process_time()
                kept = run()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            finally:
                gc.enable()
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
            del kept
    return best


def sipmessage_rate(raws: list[bytes]) -> float | None:
    """The ``sipmessage`` library's parse + matching fields rate, if it is installed."""
    try:
        sipmessage: Any = importlib.import_module("sipmessage")
    except ImportError:
        return None
    start = time.perf_counter()
    for raw in raws:
        m = sipmessage.Message.parse(raw)
        _fields = (m.via, m.from_address, m.to_address, m.cseq)
    return rate(len(raws), time.perf_counter() - start)


def pure_rates(count: int, rounds: int) -> dict[str, float]:
    """This benchmark's rates on the pure-Python source: the script again, in a process
    that runs no compiled module (`sipfsm.engine.native`, ``SIPFSM_PURE=1``)."""
    done = subprocess.run(
        [sys.executable, __file__, "--count", str(count), "--rounds", str(rounds), "--rates-only"],
        capture_output=True,
        text=True,
        env=os.environ | {native.PURE_VARIABLE: "1"},
        check=True,
    )
    rates: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=100_000, help="messages in the trace")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each measurement")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (checks the script)")
    parser.add_argument(
        "--rates-only", action="store_true", help=argparse.SUPPRESS
    )  # (the pure-Python figure: this script again, under SIPFSM_PURE=1, prints its rates)
    args = parser.parse_args()
    count, rounds = (600, 1) if args.smoke else (args.count, args.rounds)
    print(machine_line())
    messages = generate(count)
    raws = [raw for _t, _s, _d, raw in messages]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        path.write_text("\n".join(jsonl_line(t, s, d, raw) for t, s, d, raw in messages) + "\n")
        report = check_files([path])  # not timed: the figures below are checked first
        assert report.messages == count and report.parsed == count, report.to_text()[:500]
        assert not report.violations, [v.text for v in report.violations[:5]]
        assert not report.unmatched, report.unmatched[:5]
        best = best_rounds(
            rounds,
            {
                "read": lambda: read(path),
                "parse": lambda: [parse(raw) for raw in raws],
                "check": lambda: check_files([path]),
                "check --as": lambda: check_files([path], as_addr=ADDRESS["B"]),
            },
        )
    if args.rates_only:
        print(json.dumps({name: rate(count, wall) for name, (wall, _cpu) in best.items()}))
        return
    print(f"messages: {count} ({len(report.transactions)} transactions and {len(report.dialogs)} "
          f"dialogs replayed, both endpoints), best of {rounds} round(s)")  # fmt: skip
    for name, (wall, cpu) in best.items():
        print(
            f"{name + ':':12s} {rate(count, wall):10,.0f} messages/s  ({wall:6.2f} s wall; "
            f"{rate(count, cpu):10,.0f} messages/s on CPU time)"
        )
    check_rate = rate(count, best["check"][0])
    parse_rate = rate(count, best["parse"][0])
    print(f"check / parse: {check_rate / parse_rate:.2f} (wall), "
          f"{best['parse'][1] / best['check'][1]:.2f} (CPU)")  # fmt: skip
    micros = {name: seconds / count * 1e6 for name, (_wall, seconds) in best.items()}
    print(
        f"per message (CPU): read {micros['read']:.1f} µs, parse {micros['parse']:.1f} µs, "
        f"check {micros['check']:.1f} µs, of which one endpoint's replay "
        f"{micros['check'] - micros['check --as']:.1f} µs (check - check --as)"
    )
    if native.compiled():
        pure = pure_rates(count, rounds)
        print(
            f"the same on the pure-Python source (SIPFSM_PURE=1): check {pure['check']:,.0f}/s,"
            f" check --as {pure['check --as']:,.0f}/s; compiled / pure: "
            f"{check_rate / pure['check']:.2f}x, "
            f"{rate(count, best['check --as'][0]) / pure['check --as']:.2f}x"
        )
    reference = sipmessage_rate(raws[: min(count, 20_000)])
    if reference is not None:
        print(f"sipmessage parse+fields (reference): {reference:10,.0f} messages/s")
    print(goal_line("check >= 50,000 messages/s", check_rate >= 50_000, f"{check_rate:,.0f}/s"))
    print(machine_line())


if __name__ == "__main__":
    main()
