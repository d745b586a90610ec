"""The command-line face of the network binding: ``sipfsm serve`` and ``sipfsm probe``
(click commands that `sipfsm.cli` adds to the ``sipfsm`` group). A user's error raises a
`sipfsm.values.errors.SipFsmError` (one line, exit 2, as every other command)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click

from sipfsm.net.cases import PROBES, ProbeOptions
from sipfsm.net.codec import Address, hostport
from sipfsm.net.host import Limits, NetError, NetHost
from sipfsm.net.probe import parse_target, run_probes
from sipfsm.net.report import dumps, html_report, json_report, junit_report, text_report
from sipfsm.net.serve import ServeOptions, serve

__all__ = ["probe", "serve_command"]


def _address(text: str, option: str) -> Address:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host or not 0 <= int(port) < 65536:
        raise NetError(f"{option}: {text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


@contextlib.contextmanager
def _output(place: Path | None, option: str) -> Iterator[IO[str]]:
    """A file to write (``-`` or None: standard output); an unwritable one is a NetError."""
    if place is None or str(place) == "-":
        yield sys.stdout
        return
    try:
        handle = place.open("w", encoding="utf-8")
    except OSError as exc:
        raise NetError(f"{option}: cannot write {str(place)!r}: {exc.strerror}") from None
    with handle:
        yield handle


def _write(place: Path, option: str, text: str) -> None:
    try:
        place.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise NetError(f"{option}: cannot write {str(place)!r}: {exc.strerror}") from None


@click.command("serve")
@click.option("--role", type=click.Choice(["ua", "proxy"]), default="ua", show_default=True)
@click.option("--listen", default="127.0.0.1:5060", show_default=True, metavar="HOST:PORT",
              help="Where to listen (port 0: any free port, printed at start).")
@click.option("--transport", type=click.Choice(["udp", "tcp"]), default="udp", show_default=True)
@click.option("--answer", type=int, default=200, show_default=True,
              help="UA: the final response to an initial INVITE (200-699).")
@click.option("--ring", type=float, default=0.0, show_default=True,
              help="UA: seconds of 180 Ringing before the answer.")
@click.option("--forward-to", "forward_to", metavar="HOST:PORT",
              help="Proxy: the next hop of every request.")
@click.option("--duration", type=float, default=None,
              help="Seconds to run (default: until Ctrl-C or SIGTERM).")
@click.option("--log", "log_file", type=click.Path(path_type=Path), default=None,
              help="JSONL of every message in and out (default: standard output).")
@click.option("--profile", type=click.Choice(["rfc6026", "rfc3261"]), default="rfc6026",
              show_default=True)
@click.option("--t1", type=float, default=0.5, show_default=True, help="T1 in seconds.")
@click.option("--max-message", type=int, default=Limits.max_message, show_default=True)
@click.option("--max-connections", type=int, default=Limits.max_connections, show_default=True)
@click.option("--max-timers", type=int, default=Limits.max_timers, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The closing counts as JSON (stderr).")
def serve_command(
    role: str, listen: str, transport: str, answer: int, ring: float, forward_to: str | None,
    duration: float | None, log_file: Path | None, profile: str, t1: float, max_message: int,
    max_connections: int, max_timers: int, as_json: bool,
) -> None:
    """Run a live UA (answering as --answer/--ring say) or a stateful proxy (--forward-to),
    logging every message as JSONL that `sipfsm check` reads."""
    if duration is not None and not 0 < duration <= 86_400:
        raise NetError(f"--duration must be in (0, 86400] seconds, got {duration}")
    if not 0 < t1 <= 60:
        raise NetError(f"--t1 must be in (0, 60] seconds, got {t1}")
    options = ServeOptions(
        role=role,
        local=_address(listen, "--listen"),
        transport=transport,
        answer=answer,
        ring=ring,
        forward_to=_address(forward_to, "--forward-to") if forward_to else None,
        profile=profile,
        t1=t1,
        limits=Limits(max_message=max_message, max_connections=max_connections,
                      max_timers=max_timers),
    )

    def ready(host: NetHost) -> None:
        what = (f"UA answering {answer}" + (f" after {ring:g} s of ringing" if ring else "")
                if role == "ua" else f"proxy forwarding to {forward_to}")
        click.echo(f"sipfsm serve: {what} on {hostport(*host.local)}/{transport}; "
                   + (f"for {duration:g} s" if duration else "Ctrl-C stops"), err=True)

    with _output(log_file, "--log") as log:
        host = asyncio.run(serve(options, duration, log, ready))
    stats = host.stats.as_dict()
    if as_json:
        click.echo(json.dumps(stats), err=True)
    else:
        counts = ", ".join(f"{k} {v}" for k, v in stats["counts"].items())
        click.echo(f"sipfsm serve: received {stats['received']}, sent {stats['sent']}, "
                   f"bad {stats['counts'].get('bad message', 0)}"
                   + (f" ({counts})" if counts else ""), err=True)
        for bad in stats["bad"]:
            click.echo(f"  bad message from {bad['src']}: {bad['reason']}", err=True)


@click.command("probe")
@click.argument("target", required=False)
@click.option("--case", "cases", multiple=True, metavar="ID", help="Run only these (repeatable).")
@click.option("--transport", type=click.Choice(["udp", "tcp"]), default="udp", show_default=True)
@click.option("--local", default="127.0.0.1", show_default=True, help="Local address to bind.")
@click.option("--t1", type=float, default=0.5, show_default=True, help="The target's T1.")
@click.option("--t2", type=float, default=4.0, show_default=True, help="The target's T2.")
@click.option("--jobs", type=click.IntRange(1, 16), default=4, show_default=True,
              help="Cases run at once.")
@click.option("--patience", type=click.FloatRange(0.1, 60), default=5.0, show_default=True,
              help="Seconds to wait for an answer a case needs (then: inconclusive).")
@click.option("--answer-within", "answer_within", type=click.FloatRange(0, 300), default=5.0,
              show_default=True,
              help="Seconds more to wait for the final response to an INVITE (ringing).")
@click.option("--report", "html_file", type=click.Path(path_type=Path), help="HTML report.")
@click.option("--junit", "junit_file", type=click.Path(path_type=Path), help="JUnit XML.")
@click.option("--log", "log_file", type=click.Path(path_type=Path),
              help="JSONL of every message of every case (for `sipfsm check`).")
@click.option("--list", "list_only", is_flag=True, help="List the cases and exit.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON on standard output.")
def probe(
    target: str | None, cases: tuple[str, ...], transport: str, local: str, t1: float,
    t2: float, jobs: int, patience: float, answer_within: float, html_file: Path | None,
    junit_file: Path | None, log_file: Path | None, list_only: bool, as_json: bool,
) -> None:
    """Play a peer against the SIP stack at TARGET (sip:user@host:port, acting as a UAS) and
    judge it case by case, with the RFC section of each verdict. Exit 0: no case failed;
    1: a case failed; 2: unusable input."""
    if list_only:
        rows = [{"id": p.id, "rfc": p.rfc, "title": p.title} for p in PROBES]
        if as_json:
            click.echo(dumps({"cases": rows}))
        else:
            for r in rows:
                click.echo(f"{r['id']:<22} {r['rfc']:<28} {r['title']}")
        return
    if target is None:
        raise NetError("probe needs a TARGET (sip:user@host:port), or --list")
    if not 0 < t1 <= 10 or not t1 <= t2 <= 60:
        raise NetError(f"--t1 must be in (0, 10] and --t2 in [T1, 60] seconds, got {t1}, {t2}")
    user, address = parse_target(target)
    options = ProbeOptions(address, user, transport, local, t1, t2, jobs, patience, answer_within)
    if log_file is not None:
        with _output(log_file, "--log") as log:
            verdicts = asyncio.run(run_probes(options, cases, log))
    else:
        verdicts = asyncio.run(run_probes(options, cases))
    if html_file is not None:
        _write(html_file, "--report", html_report(target, verdicts))
    if junit_file is not None:
        _write(junit_file, "--junit", junit_report(target, verdicts))
    if as_json:
        click.echo(dumps(json_report(target, verdicts)))
    else:
        click.echo(text_report(target, verdicts))
    if any(v.outcome == "fail" for v in verdicts):
        sys.exit(1)
