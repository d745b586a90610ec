"""Monte-Carlo sweeps (`sipfsm.sim.sweep`): ranges, seeds, outcome counts, and the same results
in this process, in a process pool and on a Dask cluster."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import optional
from hypothesis import given
from hypothesis import strategies as st
from test_sim_run import DOUBLING

from sipfsm.sim import sweep as sw
from sipfsm.sim.limits import Limits
from sipfsm.sim.scenario import parse as parse_scenario
from sipfsm.sim.sweep import (
    RangeError,
    SchedulerError,
    SweepError,
    SweepResult,
    parse_range,
    plot,
    run_seed,
    sweep,
)
from sipfsm.values.errors import SipFsmError

# Two points (no loss, heavy loss) of the basic call, a few runs each: small, but the heavy
# point has timeouts, 481s and more failed runs than are kept (the kept ones must be the
# same whatever the chunks).
SMALL = {"loss": [0.0, 0.8], "runs": 24, "seed": 11}

# A call cancelled after the 180 (the INVITE server transaction answers 487, RFC 3261 §9.2),
# and a BYE outside any dialog (answered 481, RFC 3261 §15.1.2).
CANCEL_AND_STRAY_BYE = """
name: cancel-and-stray-bye
title: Cancelled call, then a BYE for no dialog
transports: [udp]
elements:
  alice: {role: ua}
  bob: {role: ua}
script:
  alice:
    - {at: 0, send: INVITE, to: bob, offer: true}
    - {on: {status: 180, method: INVITE}, after: 0.2, send: CANCEL, to: bob}
    - {at: 60, send: BYE, to: bob, out_of_dialog: true}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 180}
"""


@pytest.fixture(scope="module")
def pool_result() -> SweepResult:
    return sweep("rfc3665-3.1", workers=2, force_workers=True, **SMALL)  # type: ignore[arg-type]


# -- ranges ---------------------------------------------------------------------------------


def test_range_includes_its_stop_when_it_lands_on_a_step() -> None:
    assert parse_range("0:0.3:0.05") == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
    assert parse_range("0:0.32:0.05") == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
    assert parse_range("0.5:0.5:0.1") == [0.5]


def test_range_is_a_number_or_a_comma_list() -> None:
    assert parse_range("0.1") == [0.1]
    assert parse_range(" 0.01, 0.05,0.1 ") == [0.01, 0.05, 0.1]
    assert parse_range("1e-3,0:1:0.5") == [0.001, 0.0, 0.5, 1.0]


@given(
    start=st.integers(0, 1000),
    step=st.integers(1, 500),
    count=st.integers(0, 40),
    places=st.integers(0, 4),
)
def test_range_of_decimal_steps_is_exact(start: int, step: int, count: int, places: int) -> None:
    scale = Decimal(1).scaleb(-places)
    a, s = Decimal(start) * scale, Decimal(step) * scale
    values = parse_range(f"{a}:{a + count * s}:{s}")
    assert values == [float(a + i * s) for i in range(count + 1)]


@pytest.mark.parametrize(
    "text",
    ["", "  ", "abc", "0:0.3", "0:0.3:0", "0:0.3:-0.1", "0.3:0:0.1", "nan", "inf", "0,,1",
     "0:1:1e-9", "1:2:3:4", "1e400"],
)  # fmt: skip
def test_a_bad_range_is_one_clear_error(text: str) -> None:
    with pytest.raises(RangeError) as caught:
        parse_range(text)
    assert isinstance(caught.value, SipFsmError)
    assert "\n" not in str(caught.value) and repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("options", "error", "says"),
    [
        ({"loss": [1.5]}, RangeError, "not a probability"),
        ({"loss": []}, RangeError, "no value"),
        ({"t1": [0.0]}, RangeError, "must be > 0"),
        ({"runs": 0}, SweepError, "--runs"),
        ({"workers": 0}, SweepError, "--workers"),
        ({"transport": "sctp"}, SipFsmError, "sctp"),
    ],
)
def test_a_bad_option_is_one_clear_error(
    options: dict[str, object], error: type[Exception], says: str
) -> None:
    with pytest.raises(error) as caught:
        sweep("rfc3665-3.1", **options)  # type: ignore[arg-type]
    assert isinstance(caught.value, SipFsmError)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_scenario_is_one_clear_error() -> None:
    with pytest.raises(SipFsmError) as caught:
        sweep("rfc9999-no-such-flow", runs=1, workers=1)
    assert "rfc9999-no-such-flow" in str(caught.value) and "\n" not in str(caught.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    optional("distributed", "dask")
    monkeypatch.setattr(sw, "DASK_CONNECT_TIMEOUT", 0.5)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    with pytest.raises(SchedulerError) as caught:
        sweep("rfc3665-3.1", runs=1, dask=address)
    assert f"cannot reach the Dask scheduler at {address!r} within 0.5 s" in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(SchedulerError, match="is not a scheduler address"):
        sweep("rfc3665-3.1", runs=1, dask="no-port-here")


def test_a_chart_is_png_or_svg(tmp_path: Path, pool_result: SweepResult) -> None:
    optional("matplotlib", "plot")
    assert plot(pool_result, tmp_path / "rates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in plot(pool_result, tmp_path / "rates.svg").read_bytes()[:2000]
    with pytest.raises(SweepError, match=r"must end in \.png or \.svg"):
        plot(pool_result, tmp_path / "rates.pdf")


# -- seeds and results ----------------------------------------------------------------------


def test_a_runs_seed_depends_on_the_seed_point_and_run_only() -> None:
    seeds = {run_seed(7, p, r) for p in range(20) for r in range(50)}
    assert len(seeds) == 1000
    assert run_seed(7, 3, 4) == run_seed(7, 3, 4) != run_seed(8, 3, 4)


def test_one_worker_and_two_give_the_same_results(pool_result: SweepResult) -> None:
    here = sweep("rfc3665-3.1", workers=1, **SMALL)  # type: ignore[arg-type]
    assert here == pool_result
    assert json.dumps(here.to_json()) == json.dumps(pool_result.to_json())


def test_a_dask_local_cluster_gives_the_process_pool_results(pool_result: SweepResult) -> None:
    optional("distributed", "dask")
    on_dask = sweep("rfc3665-3.1", dask="local", **SMALL)  # type: ignore[arg-type]
    assert on_dask == pool_result
    assert json.dumps(on_dask.to_json()) == json.dumps(pool_result.to_json())


def test_a_sweep_counts_every_run_of_every_point(pool_result: SweepResult) -> None:
    assert pool_result.swept == ("loss",)
    assert [(p.loss, p.t1, p.runs) for p in pool_result.points] == [(0.0, 0.5, 24), (0.8, 0.5, 24)]
    clean, lossy = pool_result.points
    assert clean.counts["completed"] == 24 and not clean.failed
    assert len(lossy.failed) == min(sw.FAILED_KEPT, 24 - lossy.counts["completed"]) > 0
    assert [run for run, _, _ in lossy.failed] == sorted(run for run, _, _ in lossy.failed)
    rows = pool_result.table_rows()
    assert list(rows[0]) == ["loss", "T1 (s)", "runs", *(title for _, title, _ in sw.OUTCOMES)]
    assert rows[0]["completed"] == "100%"


def test_every_invite_lost_is_a_408_timeout_rfc3261_8_1_3_1() -> None:
    result = sweep("rfc3665-3.1", loss=[1.0], runs=3, workers=1)
    (point,) = result.points
    assert point.counts["timeouts_408"] == 3 and point.counts["completed"] == 0
    assert point.events["408 timeout"] == 3  # Timer B of the one INVITE, nothing else


def test_a_glare_is_retried_after_491_rfc3261_14_1() -> None:
    (point,) = sweep("rfc5407-3.3.1", loss=[0.0], runs=3, workers=1).points
    assert point.counts["retries_491"] == 3 and point.counts["completed"] == 3
    assert point.events["491 retry"] == 6  # both UAs retry once


def test_487_and_481_sent_are_counted_rfc3261_9_2_15_1_2(tmp_path: Path) -> None:
    path = tmp_path / "cancel.yaml"
    path.write_text(CANCEL_AND_STRAY_BYE, encoding="utf-8")
    (point,) = sweep(path, loss=[0.0], runs=2, workers=1).points
    assert point.counts["sent_487"] == 2 and point.counts["sent_481"] == 2
    assert point.events == {"481 sent": 2, "487 sent": 2}


def test_a_t1_sweep_sets_the_scenarios_t1_rfc3261_17_1_1_1() -> None:
    result = sweep("rfc3665-3.1", loss=[1.0], t1=[0.25, 1.0], runs=2, workers=1)
    assert result.swept == ("t1",)
    assert [p.t1 for p in result.points] == [0.25, 1.0]
    assert all(p.counts["timeouts_408"] == 2 for p in result.points)


def test_a_worker_keeps_one_object_per_scenario_whatever_copies_its_chunks_bring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pickle
    import threading
    from dataclasses import replace

    from sipfsm.sim.scenario import load

    monkeypatch.setattr(sw, "_per_thread", threading.local())  # as a new worker starts
    sc = load("rfc3665-3.1")
    copy = pickle.loads(pickle.dumps(sc))
    assert copy is not sc and copy == sc
    assert sw._shared(copy) is sw._shared(sc) is sw._shared(pickle.loads(pickle.dumps(sc)))
    other = replace(sc, t1=1.0)
    assert sw._shared(other) is other  # another scenario keeps its own
    # each thread its own (a Dask worker's threads never share a scenario's caches)
    fresh = pickle.loads(pickle.dumps(sc))
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(sw._shared(fresh)))
    thread.start()
    thread.join()
    assert seen[0] is fresh and sw._shared(fresh) is not fresh


def test_chunks_arriving_as_copies_reuse_the_runs_kept_by_earlier_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # as in a worker process: each chunk brings its own unpickled copy of the scenario; runs
    # whose draws come out as a kept run's are reused across chunks, not only within one
    import pickle
    import threading

    from sipfsm.sim import run as sim_run
    from sipfsm.sim.scenario import load

    monkeypatch.setattr(sw, "_per_thread", threading.local())  # as a new worker starts
    sc = load("rfc3665-3.1")
    made: list[int] = []
    make_ua = sim_run.ELEMENTS["ua"]

    def counted(spec: object, steps: object, machines: object, seed: int, *rest: object) -> object:
        made.append(seed)
        return make_ua(spec, steps, machines, seed, *rest)  # type: ignore[arg-type]

    monkeypatch.setitem(sim_run.ELEMENTS, "ua", counted)
    chunk = sw._Chunk(pickle.loads(pickle.dumps(sc)), 0, 0.0, "udp", 5, 0, 50)
    sw._run_chunk(chunk)
    first = len(made)
    later = sw._Chunk(pickle.loads(pickle.dumps(sc)), 0, 0.0, "udp", 5, 50, 100)
    sw._run_chunk(later)
    assert first > 0 and len(made) == first  # no loss: every later run is a kept one


# -- workers never outlive the command (docs/limits.md) -----------------------------------------


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: no psutil needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (a zombie is not running: it has exited)."""
    alive = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z":
            alive.append(pid)
    return alive


def _sweep_then(signum: int) -> tuple[int, str, list[int]]:
    """Start a long sweep with two worker processes in a child process, send it ``signum``
    once its workers run, and return its exit status, its standard error and the workers
    still running a moment later (each then killed, so that no test leaves one behind)."""
    command = [sys.executable, "-m", "sipfsm.cli", "sweep", "rfc3665-3.1", "--runs", "400000",
               "--loss", "0.3,0.6", "--workers", "2", "--force-workers"]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=Path(__file__).parent.parent
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            workers = _children(proc.pid)
        assert len(workers) >= 2, "the sweep never started its workers"
        time.sleep(0.5)  # (the workers are running chunks)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        return proc.returncode, err.decode(), _alive(workers)
    finally:
        for pid in [*_alive(workers), *([proc.pid] if proc.poll() is None else [])]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            proc.communicate(timeout=5)


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@needs_proc
@pytest.mark.parametrize(
    ("signum", "name"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")]
)
def test_a_sweep_interrupted_stops_its_workers_and_says_so_in_one_line(
    signum: int, name: str
) -> None:
    status, err, alive = _sweep_then(signum)
    assert alive == [], "worker processes outlived the sweep"
    assert status == 128 + signum
    assert err == f"sipfsm: error: interrupted ({name})\n"


@needs_proc
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_sweep_killed_outright_takes_its_workers_with_it() -> None:
    status, _, alive = _sweep_then(signal.SIGKILL)
    assert status == -signal.SIGKILL
    assert alive == []


def test_workers_are_no_more_than_the_cores_unless_forced_and_never_past_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sw, "cores", lambda: 2)
    assert sw.worker_count(None, False) == 2
    assert sw.worker_count(100_000, False) == 2
    assert sw.worker_count(1, False) == 1
    assert sw.worker_count(8, True) == 8
    with pytest.raises(SweepError, match=r"--workers: 100,000 worker processes .*limit workers=64"):
        sw.worker_count(100_000, True)
    assert sw.worker_count(100, True, Limits(workers=100)) == 100


def test_a_sweep_starts_no_more_workers_than_it_has_chunks() -> None:
    result = sweep("rfc3665-3.1", runs=1, workers=2, force_workers=True)
    assert result.workers == 1  # one chunk: run here, no pool at all
    assert sweep("rfc3665-3.1", runs=40, workers=2, force_workers=True).workers == 2


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"runs": 10**23}, r"--runs: 100,000,000,000,000,000,000,000 runs at each of 1 points"),
        ({"runs": 6_000_000, "loss": [0.0, 0.1]}, r"12,000,000 runs, more than one command runs"),
        ({"loss": [0.1] * 200, "t1": [0.5] * 100}, r"make 20,000 points, .*limit points=10,000"),
        ({"t1": [2e6]}, r"--t1: 2e\+06 must be > 0 and <= 1e\+06 seconds"),
        ({"loss": 0.1}, r"--loss: expected a list of numbers, got 0.1"),
    ],
)
def test_a_sweep_beyond_its_limits_is_refused_before_it_runs(
    options: dict[str, object], says: str
) -> None:
    with pytest.raises(SweepError, match=says):
        sweep("rfc3665-3.1", **options)  # type: ignore[arg-type]


def test_a_range_beyond_the_points_limit_names_the_limit() -> None:
    with pytest.raises(RangeError, match=r"more than 10,000 points \(limit points=10,000; raise"):
        parse_range("0:1:0.00001")
    assert len(parse_range("0:1:0.00001", Limits(points=200_000))) == 100_001


def test_every_run_of_a_sweep_is_bounded_by_the_limits() -> None:
    result = sweep(parse_scenario(DOUBLING), runs=3, workers=1, limits=Limits(in_flight=30))
    point = result.points[0]
    assert point.errors == 3
    assert "more than 30 messages in flight" in point.failed[0][2]


def test_a_peer_that_answers_but_is_no_scheduler_is_one_clear_error() -> None:
    # its bytes, read as a Dask frame, asked numpy for 3 EiB: a MemoryError traceback
    optional("distributed", "dask")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]

    def answer() -> None:
        with contextlib.suppress(OSError):
            while True:
                peer, _ = server.accept()
                with peer:
                    peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" * 3)
                    peer.recv(65536)

    threading.Thread(target=answer, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(SchedulerError, match="answers, but not as a Dask scheduler") as e:
            sweep("rfc3665-3.1", runs=1, dask=f"tcp://127.0.0.1:{port}")
    finally:
        server.close()
    assert "\n" not in str(e.value) and time.monotonic() - started < 30


def test_a_scheduler_without_workers_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    optional("distributed", "dask")
    from distributed import LocalCluster

    monkeypatch.setattr(sw, "DASK_WORKER_TIMEOUT", 0.5)
    with (
        LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster,
        pytest.raises(SchedulerError, match=r"has no worker after 0.5 s") as e,
    ):
        sweep("rfc3665-3.1", runs=1, dask=cluster.scheduler_address)
    assert "\n" not in str(e.value)
