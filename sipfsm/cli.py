"""The `sipfsm` command line. Every command takes ``--json``.

Errors a user can make (an unknown machine, state, code or option) end in one line that
lists the valid choices, and exit status 2.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from sipfsm.decl.language import PROFILES, TRANSPORTS, MachineDecl
from sipfsm.engine import model, native
from sipfsm.values import catalogue
from sipfsm.values.errors import SipFsmError, UnknownName, printable

PROFILE_OPT = click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="rfc6026",
    show_default=True,
    help="rfc6026: RFC 3261 + RFC 4320 + RFC 6026; rfc3261: the original figures.",
)
TRANSPORT_OPT = click.option(
    "--transport",
    type=click.Choice(TRANSPORTS),
    default="udp",
    show_default=True,
    help="udp stands for any unreliable transport, tcp for any reliable one.",
)
JSON_OPT = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
LIMIT_OPT = click.option(
    "--limit",
    "limit_items",
    multiple=True,
    metavar="NAME=N",
    help="Set a limit (repeatable): yaml-bytes, yaml-depth, yaml-aliases, yaml-nodes, events, "
    "in-flight, runs, points, workers; see docs/limits.md.",
)
MACHINE_ARG = click.argument("machine", type=click.Choice(model.MACHINES), metavar="MACHINE")


def _console() -> Console:
    return Console(width=140, highlight=False)


class Unwritable(SipFsmError):
    """An output that cannot be written (`writing`): the option, the place, and why."""


@contextlib.contextmanager
def writing(option: str, place: Path) -> Iterator[None]:
    """What writes ``place`` (the value of ``option``) inside: an `OSError` -- a folder that
    cannot be made (under /proc), a file where a folder belongs, a full disk (/dev/full), a
    missing parent -- becomes an `Unwritable` naming the option, the place and the
    reason, which the command line shows as one line (exit 2)."""
    try:
        yield
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        other = exc.filename if exc.filename is not None else None
        if other is not None and str(other) != str(place):
            why += f" ({str(other)!r})"
        raise Unwritable(f"{option}: cannot write {str(place)!r}: {why}") from None


def _folder(option: str, place: Path) -> Path:
    """A folder outputs go to: made (with its parents) now, before any work is done."""
    with writing(option, place):
        if place.exists() and not place.is_dir():
            raise Unwritable(f"{option}: cannot write {str(place)!r}: not a folder")
        place.mkdir(parents=True, exist_ok=True)
    return place


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def fail(message: str) -> NoReturn:
    """One line on standard error (whatever the message quotes: control characters are
    written as escapes, `printable`), and exit status 2."""
    click.echo(f"sipfsm: error: {printable(message)}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    package_name="sipfsm", message=f"%(prog)s %(version)s ({native.describe()})"
)
def cli() -> None:
    """sipfsm: the executable reference model of SIP transactions and dialogs."""


@cli.command()
@JSON_OPT
def machines(as_json: bool) -> None:
    """List the machines: ids and titles."""
    rows = [
        {"id": m, "title": d.title, "rfc": d.rfc}
        for m in model.MACHINES
        for d in [model.declare(m)]
    ]
    if as_json:
        _emit(rows)
        return
    table = Table("id", "title", "rfc")
    for row in rows:
        table.add_row(row["id"], row["title"], row["rfc"])
    _console().print(table)


def describe(machine: str, profile: str, transport: str) -> dict[str, Any]:
    from sipfsm.render.export import to_json

    return to_json(machine, profile, transport)


def print_machine(decl: MachineDecl, transport: str, console: Console) -> None:
    """States, timers, transitions and outcomes of one declaration as tables."""
    timing = model.timing_for(transport)
    console.print(
        f"[bold]{decl.id}[/bold] — {decl.title} ({decl.rfc}), profile "
        f"{decl.profile}, transport {transport}"
    )
    timers = Table("timer", "seconds", "purpose", title="timers")
    timers.add_column("rfc", no_wrap=True)
    for t in decl.timers:
        value = timing.duration(t)
        seconds = "not started" if value is None else f"{value:g}"
        timers.add_row(f"Timer {t.name}", seconds, t.purpose, t.rfc)
    console.print(timers)
    states = Table("state", "parent", "initial", "terminal", "timers", "outcomes", title="states")
    for s in decl.states:
        states.add_row(
            s.name,
            s.parent or "",
            "yes" if s.name == decl.initial else "",
            "yes" if s.terminal else "",
            " ".join(s.timers),
            "\n".join(o.as_text() for o in s.outcomes),
        )
    console.print(states)
    rows = Table("source", "trigger", "guard", "actions", "dest", title="transitions")
    rows.add_column("rfc", no_wrap=True)
    for r in (*decl.creations, *decl.transitions):
        rows.add_row(
            r.source or "(new)",
            r.trigger,
            r.guard_text,
            ", ".join(a.label for a in r.actions),
            r.dest,
            r.rfc,
        )
    console.print(rows)


@cli.command()
@MACHINE_ARG
@PROFILE_OPT
@TRANSPORT_OPT
@JSON_OPT
def show(machine: str, profile: str, transport: str, as_json: bool) -> None:
    """States, transitions, timers and outcomes of MACHINE."""
    if as_json:
        _emit(describe(machine, profile, transport))
        return
    print_machine(model.declare(machine, profile), transport, _console())


@cli.command()
@MACHINE_ARG
@click.argument("state")
@PROFILE_OPT
@JSON_OPT
def outcomes(machine: str, state: str, profile: str, as_json: bool) -> None:
    """The response codes that can arise in STATE of MACHINE, with their RFC rules."""
    found = model.outcomes(machine, state, profile)
    if as_json:
        _emit([o.to_json() for o in found])
        return
    if not found:
        click.echo(f"{machine} {state}: no response code outcomes are declared in this state")
    for o in found:
        click.echo(o.as_text())


@cli.command()
@click.argument("code", required=False, type=int)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@JSON_OPT
def codes(code: int | None, lang: str, as_json: bool) -> None:
    """The 4xx catalogue (RFC 3261 §21.4 and the IANA additions)."""
    lang_key: catalogue.Lang = "zh" if lang == "zh" else "en"
    if code is None:
        entries = list(catalogue.CODES.values())
    elif code in catalogue.CODES:
        entries = [catalogue.CODES[code]]
    elif 400 <= code <= 499:
        entries = [catalogue.effective(code)]
        if not as_json:
            click.echo(f"{code} is not registered: a UAC treats it as 400 (RFC 3261 §8.1.3.2)")
    else:
        raise UnknownName("code", code, list(catalogue.CODES))
    rows = [
        {
            "code": e.code,
            "reason": e.reason,
            "rfc": e.rfc,
            "required_headers": list(e.required_headers)
            + ([" or ".join(e.required_any)] if e.required_any else []),
            "description": e.describe(lang_key),
        }
        for e in entries
    ]
    if as_json:
        _emit(rows)
        return
    table = Table("code", "reason", "rfc", "required headers", "retry", "description")
    for e in entries:
        required = [*e.required_headers, *([" or ".join(e.required_any)] if e.required_any else [])]
        table.add_row(
            str(e.code), e.reason, e.rfc, ", ".join(required), e.retry.how, e.describe(lang_key)
        )
    _console().print(table)


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("diagrams"),
    show_default=True,
    help="Where the rendered diagrams go.",
)
@click.option(
    "--docs",
    "docs_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs"),
    show_default=True,
    help="Where the generated reference pages go.",
)
@click.option("--flows", "flows_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/flows"), show_default=True,
              help="Where the built-in call flows' ladders and traces go.")
@JSON_OPT
def demo(out_dir: Path, docs_dir: Path, flows_dir: Path, as_json: bool) -> None:
    """The main job on the built-in defaults: render every machine, regenerate the reference
    pages, print the machines' tables, and run every built-in call flow (its text and SVG
    ladders and JSONL trace go to --flows), ending with a table of the flows."""
    from sipfsm.net.docs import pages as live_pages
    from sipfsm.render import summary
    from sipfsm.render.diagram import render_all
    from sipfsm.render.docs import generate
    from sipfsm.sim import run as sim

    for option, place in (("--out", out_dir), ("--docs", docs_dir), ("--flows", flows_dir)):
        _folder(option, place)
    with writing("--out", out_dir):
        written = render_all(out_dir) + summary.render_all(out_dir)
    with writing("--docs", docs_dir):
        pages = generate(docs_dir)
        for rel, text in live_pages().items():
            (docs_dir / rel).write_text(text, encoding="utf-8")
            pages.append(docs_dir / rel)
    flows: list[dict[str, Any]] = []
    for entry in sim.library():
        result = sim.simulate(entry.name)
        with writing("--flows", flows_dir):
            _write_flow(result, "text", flows_dir)
            _write_flow(result, "svg", flows_dir)
        flows.append({"scenario": entry.name, "passed": result.passed,
                      "messages": len(result.wire), "violations": len(result.violations)})
    failed = [f["scenario"] for f in flows if not f["passed"]]
    if as_json:
        _emit({"diagrams": [str(p) for p in written], "docs": [str(p) for p in pages],
               "flows": flows})
    else:
        console = _console()
        for machine in model.MACHINES:
            print_machine(model.declare(machine), "udp", console)
        table = Table("scenario", "passed", "messages", "violations",
                      title=f"built-in call flows (ladders and traces in {flows_dir}/)")
        for f in flows:
            table.add_row(str(f["scenario"]), "yes" if f["passed"] else "NO",
                          str(f["messages"]), str(f["violations"]))
        console.print(table)
        console.print(f"wrote {len(written)} diagrams to {out_dir}/, {len(pages)} pages to "
                      f"{docs_dir}/ and {2 * len(flows)} ladders to {flows_dir}/")
    if failed:
        fail(f"built-in call flows failed: {', '.join(failed)}")


RENDER_FORMATS = ("svg", "png", "pdf", "dot", "mermaid")


@cli.command()
@click.argument("machines", nargs=-1, type=click.Choice(model.MACHINES), metavar="[MACHINE]...")
@PROFILE_OPT
@click.option("--transport", type=click.Choice(TRANSPORTS), default="udp", show_default=True)
@click.option("--format", "fmt", type=click.Choice(RENDER_FORMATS), default="svg",
              show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("diagrams"), show_default=True)
@click.option("--highlight", type=int, default=None, metavar="CODE",
              help="Mark every state and edge where this response code can arise.")
@JSON_OPT
def render(machines: tuple[str, ...], profile: str, transport: str, fmt: str, out_dir: Path,
           highlight: int | None, as_json: bool) -> None:
    """Draw MACHINEs (all by default) as diagrams derived from their declarations."""
    from sipfsm.render import diagram as rendering

    with writing("--out", _folder("--out", out_dir)):
        written = [
            rendering.render(m, profile, transport, fmt, out_dir, highlight)
            for m in (machines or model.MACHINES)
        ]
    if as_json:
        _emit({"written": [str(p) for p in written]})
    else:
        for path in written:
            click.echo(str(path))


@cli.command()
@MACHINE_ARG
@PROFILE_OPT
@TRANSPORT_OPT
@JSON_OPT
def analyze(machine: str, profile: str, transport: str, as_json: bool) -> None:
    """Graph analyses of MACHINE: unreachable states, states that cannot end, cycles no timer
    bounds, and where each response code can arise."""
    from sipfsm.render.analysis import analyze as run_analysis

    report = run_analysis(machine, profile, transport)
    if as_json:
        _emit(report.as_json())
    else:
        click.echo(report.as_text())


@cli.command()
@MACHINE_ARG
@click.option("--from", "from_profile", type=click.Choice(PROFILES), default="rfc3261",
              show_default=True)
@click.option("--to", "to_profile", type=click.Choice(PROFILES), default="rfc6026",
              show_default=True)
@TRANSPORT_OPT
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Also write the diff diagram (SVG) into this folder.")
@JSON_OPT
def diff(machine: str, from_profile: str, to_profile: str, transport: str,
         out_dir: Path | None, as_json: bool) -> None:
    """States and edges added and removed between two profiles of MACHINE."""
    from sipfsm.render.analysis import diff as profile_diff
    from sipfsm.render.diagram import render_diff

    result = profile_diff(machine, from_profile, to_profile, transport)
    written = None
    if out_dir is not None:
        with writing("--out", _folder("--out", out_dir)):
            written = render_diff(machine, from_profile, to_profile, "svg", out_dir, transport)
    if as_json:
        data = result.as_json()
        if written is not None:
            data["diagram"] = str(written)
        _emit(data)
        return
    click.echo(result.as_text())
    if written is not None:
        click.echo(f"diagram: {written}")


@cli.command()
@MACHINE_ARG
@click.option("--format", "fmt", type=click.Choice(["json", "scxml", "mermaid", "dot"]),
              default="json", show_default=True)
@PROFILE_OPT
@TRANSPORT_OPT
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write to this file instead of standard output.")
def export(machine: str, fmt: str, profile: str, transport: str, out_file: Path | None) -> None:
    """Export MACHINE for other stacks: JSON (with a JSON Schema), SCXML, Mermaid or DOT."""
    from sipfsm.render.export import export as export_text

    text = export_text(machine, fmt, profile, transport)
    if out_file is None:
        click.echo(text, nl=False)
    else:
        with writing("--out", out_file):
            out_file.write_text(text, encoding="utf-8")


#: `sipfsm.check.capture.FORMATS`, written out so that the CLI starts without loading the readers
#: (tests/test_cli.py checks they are the same).
CHECK_FORMATS = ("auto", "sipp", "pcap", "jsonl", "sim")


#: `sipfsm.check.capture.MAX_FILE_SIZE`, written out for the same reason (tests/test_check.py
#: checks they are the same).
CHECK_MAX_FILE_SIZE = 1 << 30


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(CHECK_FORMATS), default="auto",
              show_default=True,
              help="The trace format (sim: a `sipfsm simulate` trace; auto tells them apart).")
@click.option("--as", "as_addr", metavar="HOST:PORT", default=None,
              help="Check from this endpoint's viewpoint only.")
@click.option("--max-file-size", type=click.IntRange(min=1), default=CHECK_MAX_FILE_SIZE,
              show_default=True, metavar="OCTETS",
              help="Refuse a trace file larger than this (it is read whole into memory).")
@PROFILE_OPT
@JSON_OPT
def check(files: tuple[Path, ...], fmt: str, as_addr: str | None, max_file_size: int,
          profile: str, as_json: bool) -> None:
    """Replay SIP traces (SIPp -trace_msg logs, pcap/pcapng, sipfsm JSONL) through the model
    and report every deviation. Exit 0: conforming, 1: deviations or unparseable messages,
    2: an unusable file or nothing parsed (docs/limits.md)."""
    from sipfsm.check.capture import shown
    from sipfsm.check.checker import check_files

    missing = [shown(f) for f in files if not f.exists()]
    if missing:
        fail(f"no such file: {', '.join(missing)}")
    report = check_files(list(files), fmt=fmt, as_addr=as_addr, profile=profile,
                         max_file_size=max_file_size)
    if as_json:
        # (a file name that is not UTF-8 is written back as the octets it was given)
        text = json.dumps(report.to_json(), indent=2, ensure_ascii=False)
        click.echo(text.encode("utf-8", "surrogateescape"))
    else:
        click.echo(report.to_text())
    sys.exit(report.exit_status)


LADDER_FORMATS = ("text", "mermaid", "svg")


@cli.command()
@JSON_OPT
def scenarios(as_json: bool) -> None:
    """List the built-in call flows (each runs by name with `sipfsm simulate NAME`)."""
    from sipfsm.sim.run import library

    entries = library()
    if as_json:
        _emit([{"name": e.name, "title": e.title, "rfc": e.rfc} for e in entries])
        return
    table = Table("name", "title", "rfc")
    for e in entries:
        table.add_row(e.name, e.title, e.rfc)
    _console().print(table)


@cli.command()
@click.argument("scenario", metavar="NAME|FILE")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--runs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Run N seeded simulations (seed, seed+1, ...) and summarise them.")
@click.option("--loss", type=click.FloatRange(0.0, 1.0), default=None,
              help="Loss probability on every link (UDP only).")
@click.option("--transport", type=click.Choice(TRANSPORTS), default=None,
              help="Default: the scenario's first transport.")
@click.option("--profile", type=click.Choice(PROFILES), default=None,
              help="Default: the scenario's profile.")
@click.option("--engine", type=click.Choice(model.ENGINES), default="table", show_default=True)
@click.option("--ladder", type=click.Choice(LADDER_FORMATS), default="text", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write the ladder and the JSONL trace into this folder.")
@click.option("--reuse/--no-reuse", default=True, show_default=True,
              help="With --runs: give a run whose loss draws come out as an earlier run's "
                   "that run's result (the same result); --no-reuse simulates every run.")
@LIMIT_OPT
@JSON_OPT
def simulate(scenario: str, seed: int, runs: int, loss: float | None, transport: str | None,
             profile: str | None, engine: str, ladder: str, out_dir: Path | None,
             reuse: bool, limit_items: tuple[str, ...], as_json: bool) -> None:
    """Simulate a call flow: a built-in scenario by NAME (see `sipfsm scenarios`) or a YAML
    FILE. Exit 1 when an expectation fails or an invariant is broken; 2 when the input
    cannot be used or a run reaches a limit (--limit, docs/limits.md)."""
    from sipfsm.sim import run as sim
    from sipfsm.sim.limits import DEFAULT_LIMITS

    limits = DEFAULT_LIMITS.with_items(limit_items)
    if runs > 1:
        with _run_progress(not as_json and sys.stderr.isatty(), runs) as advance:
            summary = sim.run_many(scenario, runs, seed=seed, loss=loss, transport=transport,
                                   profile=profile, engine=engine, reuse=reuse,
                                   limits=limits, progress=advance)
        if as_json:
            _emit(summary.to_json())
        else:
            _print_summary(summary.to_json())
        sys.exit(0 if summary.failed == 0 else 1)
    if out_dir is not None:
        _folder("--out", out_dir)
    result = sim.simulate(scenario, seed=seed, loss=loss, transport=transport,
                          profile=profile, engine=engine, limits=limits)
    written: list[Path] = []
    unwritten: Unwritable | None = None
    if out_dir is not None:
        try:
            with writing("--out", out_dir):
                written = _write_flow(result, ladder, out_dir)
        except Unwritable as exc:  # the result is shown all the same, then the error
            unwritten = exc
    if as_json:
        _emit(result.to_json())
    else:
        if out_dir is None:
            click.echo(_ladder(result, ladder))
        _print_result(result, written)
    if unwritten is not None:
        fail(str(unwritten))
    sys.exit(0 if result.passed else 1)


@contextlib.contextmanager
def _run_progress(enabled: bool, total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar of runs done on standard error (``--json`` on stdout stays clean), or
    nothing when ``enabled`` is false; yields what `run_many` calls with the runs done."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("simulate"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                  TimeElapsedColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True)) as bar:
        task = bar.add_task("simulate", total=total)
        yield lambda done: bar.update(task, completed=done)


def _ladder(result: Any, fmt: str) -> str:
    from sipfsm.sim import ladder

    title = f"{result.scenario}: {result.title} ({result.transport}, {result.profile})"
    draw = {"text": ladder.ladder_text, "mermaid": ladder.ladder_mermaid,
            "svg": ladder.ladder_svg}[fmt]
    return draw(result.records, list(result.elements), title=title)


def _write_flow(result: Any, fmt: str, out_dir: Path) -> list[Path]:
    from sipfsm.sim.ladder import EXTENSIONS

    out_dir.mkdir(parents=True, exist_ok=True)
    ladder_path = out_dir / f"{result.scenario}.{EXTENSIONS[fmt]}"
    ladder_path.write_text(_ladder(result, fmt), encoding="utf-8")
    trace_path = result.write_trace(out_dir / f"{result.scenario}.jsonl")
    return [ladder_path, trace_path]


def _print_result(result: Any, written: list[Path]) -> None:
    verdict = "passed" if result.passed else "FAILED"
    click.echo(f"{result.scenario} (seed {result.seed}, {result.transport}, {result.profile}, "
               f"{result.engine} engine): {verdict}")
    for e in result.expectations:
        click.echo(f"  [{'ok' if e.passed else 'FAIL'}] {e.text}")
    for v in result.violations:
        click.echo(f"  violation: {v.to_json()}")
    for err in result.errors:
        click.echo(f"  refused step: {err.to_json()}")
    for path in written:
        click.echo(f"  wrote {path}")


def _print_summary(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@cli.command()
@click.argument("scenario", metavar="NAME|FILE")
@click.option("--loss", "loss_range", default=None, metavar="RANGE",
              help="Loss probabilities: 0:0.3:0.05, 0.1, or 0,0.1,0.2.")
@click.option("--transport", type=click.Choice(TRANSPORTS), default=None)
@click.option("--t1", "t1_range", default=None, metavar="RANGE",
              help="T1 values in seconds, same forms as --loss.")
@click.option("--runs", type=click.IntRange(min=1), default=100, show_default=True,
              help="Seeded simulations per parameter point.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes (default: every core; no more than the cores unless "
                   "--force-workers).")
@click.option("--force-workers", is_flag=True,
              help="Start --workers processes even if there are fewer cores (at most the "
                   "workers limit).")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS|local",
              help="Run on a Dask cluster (pip install sipfsm[dask]).")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write a PNG or SVG chart of outcome rates.")
@LIMIT_OPT
@JSON_OPT
def sweep(scenario: str, loss_range: str | None, transport: str | None,
          t1_range: str | None, runs: int, seed: int, workers: int | None,
          force_workers: bool, dask_address: str | None, plot_file: Path | None,
          limit_items: tuple[str, ...], as_json: bool) -> None:
    """Monte-Carlo sweep: RUNS seeded simulations of a scenario at every point of the loss
    and T1 ranges, in parallel; the distribution of outcomes per point. Results are the same
    for a seed whatever the number of workers. Ctrl-C or SIGTERM stops it, and its workers
    with it."""
    from sipfsm.sim import sweep as sweeping
    from sipfsm.sim.limits import DEFAULT_LIMITS

    limits = DEFAULT_LIMITS.with_items(limit_items)
    if plot_file is not None:
        sweeping.check_plot_path(plot_file)  # before the sweep, not after an hour of it
    if workers is not None and dask_address is None:
        width = sweeping.worker_count(workers, force_workers, limits)
        if width < workers:
            click.echo(f"sipfsm: note: --workers {workers:,}: {width} worker "
                       f"process{'es' if width > 1 else ''}, one per core (--force-workers "
                       f"starts more)", err=True)
    result = sweeping.sweep(
        scenario,
        loss=sweeping.parse_range(loss_range, limits) if loss_range is not None else None,
        transport=transport,
        t1=sweeping.parse_range(t1_range, limits) if t1_range is not None else None,
        runs=runs, seed=seed, workers=workers, dask=dask_address,
        progress=not as_json and sys.stderr.isatty(), force_workers=force_workers,
        limits=limits,
    )
    written = None
    unwritten: SipFsmError | None = None
    if plot_file is not None:
        try:
            written = sweeping.plot(result, plot_file)
        except SipFsmError as exc:  # the results are shown all the same, then the error
            unwritten = exc
    if as_json:
        data = result.to_json()
        if written is not None:
            data["plot"] = str(written)
        _emit(data)
    else:
        _console().print(sweeping.table(result))
        if written is not None:
            click.echo(f"wrote {written}")
    if unwritten is not None:
        fail(str(unwritten))



def _add_live_commands() -> None:
    """``serve`` and ``probe``: the network binding's commands (`sipfsm.net.commands`)."""
    from sipfsm.net.commands import probe, serve_command

    cli.add_command(serve_command)
    cli.add_command(probe)


_add_live_commands()

def _one_line(exc: click.ClickException) -> str:
    """Click's message on one line; an unknown option also lists the valid ones."""
    message = exc.format_message().replace("\n", " ")
    if isinstance(exc, click.NoSuchOption) and exc.ctx is not None:
        valid = sorted(
            o for p in exc.ctx.command.params for o in getattr(p, "opts", ()) if o[0] == "-"
        )
        message = message.rstrip(".") + "; valid options: " + ", ".join([*valid, "--help"])
    return message


class Signalled(BaseException):
    """A SIGINT (Ctrl-C), SIGTERM or SIGHUP, raised where the command is (a
    `BaseException`, as `KeyboardInterrupt` is, so that no ``except Exception`` swallows
    it): the command unwinds, and what it started -- a sweep's worker processes -- is
    stopped on the way out."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)


def _raise_signalled(signum: int, frame: object) -> None:
    raise Signalled(signum)


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise `Signalled` while the command runs (in the main
    thread; elsewhere, as from a test's thread, nothing changes), and are restored after."""
    kept: dict[int, Any] = {}
    try:
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None:
                kept[number] = signal.signal(number, _raise_signalled)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


def _interrupted(signum: int) -> NoReturn:
    """One line, and the shell's status for a command a signal ended: 128 + its number.
    (After a Ctrl-C the terminal shows ``^C``: the line starts on the next one.)"""
    after_ctrl_c = signum == signal.SIGINT and sys.stderr.isatty()
    click.echo(("\n" if after_ctrl_c else "") + "sipfsm: error: interrupted "
               f"({signal.Signals(signum).name})", err=True)
    sys.exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: runs the CLI, turning every user error into one line and exit 2, and
    an interruption (Ctrl-C, SIGTERM, SIGHUP) into one line and exit 128 + the signal's
    number, after what the command started has stopped."""
    try:
        with _signals_unwind():
            cli.main(
                args=list(argv) if argv is not None else None,
                prog_name="sipfsm",
                standalone_mode=False,
            )
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _interrupted(signal.SIGINT)
    except Signalled as exc:
        _interrupted(exc.signum)
    except click.ClickException as exc:
        fail(_one_line(exc))
    except SipFsmError as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
