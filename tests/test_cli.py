"""The command line: every command takes --json; user errors are one line and exit 2."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

import pytest
from conftest import FUZZ_EXAMPLES, hostile_scenario_texts
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sim_run import DOUBLING

from sipfsm.cli import main
from sipfsm.engine import model, native


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_machines_lists_every_machine_id_and_title(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "machines", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == list(model.MACHINES)
    assert {r["id"]: r["title"] for r in rows}["ist"] == "INVITE server transaction"


def test_show_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "ict", "--profile", "rfc6026", "--transport", "tcp",
                       "--json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["machine"], doc["profile"], doc["transport"]) == ("ict", "rfc6026", "tcp")
    assert doc["timers"]["A"] is None  # Timer A is not started on a reliable transport
    assert doc["timers"]["D"] == 0
    names = [s["name"] for s in doc["states"]]
    assert names == ["calling", "proceeding", "completed", "accepted", "terminated"]
    calling = doc["states"][0]
    assert calling["initial"] and not calling["terminal"]
    assert {"code", "direction", "when", "rfc"} <= set(calling["outcomes"][0])
    row = doc["transitions"][0]
    assert {"source", "trigger", "dest", "guard", "actions", "rfc"} <= set(row)


def test_show_rfc3261_profile_has_no_accepted_state(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "ist", "--profile", "rfc3261", "--json")
    assert code == 0
    assert "accepted" not in [s["name"] for s in json.loads(out)["states"]]


def test_show_prints_tables_with_rfc_sections(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "nist")
    assert code == 0
    assert "RFC 4320 §4.2" in out and "tu_final" in out and "Timer J" in out


def test_outcomes_ist_proceeding_says_487_when_a_cancel_matched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "outcomes", "ist", "proceeding")
    assert code == 0
    assert "send 487 when a CANCEL matched" in out and "(RFC 3261 §9.2)" in out


def test_outcomes_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "outcomes", "nist", "trying", "--json")
    assert code == 0
    rows = json.loads(out)
    forbidden = {r["code"] for r in rows if r["forbidden"]}
    assert forbidden == {408, 487}


def test_codes_json_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "codes", "--json")
    assert code == 0
    rows = json.loads(out)
    by_code = {r["code"]: r for r in rows}
    assert by_code[405]["required_headers"] == ["Allow"]
    assert {"code", "reason", "rfc", "required_headers", "description"} == set(by_code[481])


def test_codes_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "codes", "486", "--lang", "zh", "--json")
    assert code == 0
    assert any("\u4e00" <= ch <= "\u9fff" for ch in json.loads(out)[0]["description"])


def test_unregistered_4xx_is_treated_as_400_rfc3261_8_1_3_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "codes", "499")
    assert code == 0
    assert "treats it as 400" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("show", "foo"), "'ict', 'nict', 'ist', 'nist', 'dialog'"),
        (("outcomes", "ist", "bogus"), "proceeding, completed, confirmed, accepted, terminated"),
        (("codes", "299"), "400, 401"),
        (("show", "ist", "--bogus"), "--profile"),
        (("show", "ist", "--profile", "rfc9999"), "'rfc6026', 'rfc3261'"),
        (("show", "ist", "--transport", "sctp"), "'udp', 'tcp'"),
        (("frobnicate",), "frobnicate"),
    ],
)
def test_user_errors_are_one_line_listing_the_choices_with_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("sipfsm: error: ")
    assert expected in err


def test_render_writes_dot_and_mermaid_for_each_machine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "render", "ict", "nist", "--format", "dot", "--out",
                       str(tmp_path), "--json")
    assert code == 0
    written = [Path(p) for p in json.loads(out)["written"]]
    assert [p.name for p in written] == ["ict-rfc6026-udp.dot", "nist-rfc6026-udp.dot"]
    assert "digraph" in written[0].read_text()
    code, out, _ = run(capsys, "render", "ist", "--format", "mermaid", "--out", str(tmp_path))
    assert code == 0 and "stateDiagram-v2" in Path(out.strip()).read_text()


def test_render_highlight_marks_where_481_arises(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "render", "nist", "--format", "dot", "--highlight", "481",
                       "--out", str(tmp_path))
    assert code == 0
    assert "where 481 can arise" in Path(out.strip()).read_text()


def test_analyze_reports_where_487_can_happen(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", "ist")
    assert code == 0
    assert "unreachable states: none" in out
    assert "487 in ist" in out and "RFC 3261 §9.2" in out


def test_diff_rfc3261_to_rfc6026_adds_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", "ict", "--from", "rfc3261", "--to", "rfc6026")
    assert code == 0
    assert "+ state accepted" in out
    assert "- edge calling --rcv_2xx--> terminated" in out


def test_export_json_validates_against_the_shipped_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sipfsm.render.export import validate

    code, out, _ = run(capsys, "export", "ist", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    validate(doc)
    assert doc["machine"] == "ist"


def test_export_scxml_is_xml(capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    code, out, _ = run(capsys, "export", "nict", "--format", "scxml")
    assert code == 0
    assert ET.fromstring(out).tag.endswith("scxml")


def test_check_of_a_missing_file_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "/nonexistent/trace.log")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no such file" in err


def test_check_of_a_garbage_file_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "garbage.jsonl"
    bad.write_text('{"t": 0, "src": "a"\nnot json\n')
    code, out, err = run(capsys, "check", str(bad), "--format", "jsonl")
    assert code == 2
    assert "garbage.jsonl" in (err + out)


def test_check_offers_every_format_the_readers_know() -> None:
    from sipfsm.check.capture import FORMATS
    from sipfsm.cli import CHECK_FORMATS

    assert CHECK_FORMATS == FORMATS


def test_check_reads_a_simulator_trace_named_with_format_sim(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, _ = run(capsys, "simulate", "rfc3665-3.1", "--out", str(tmp_path))
    assert code == 0
    code, out, _ = run(capsys, "check", str(tmp_path / "rfc3665-3.1.jsonl"), "--format", "sim")
    assert code == 0, out


def test_scenarios_lists_the_built_in_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scenarios", "--json")
    assert code == 0
    names = [e["name"] for e in json.loads(out)]
    assert {"rfc3665-3.1", "rfc5407-3.3.1", "4xx-486-busy"} <= set(names)


def test_simulate_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "simulate", "rfc3665-3.1", "--seed", "3", "--json")
    assert code == 0
    doc = json.loads(out)
    assert {"scenario", "seed", "passed", "messages", "final_states", "violations",
            "expectations"} <= set(doc)
    assert doc["scenario"] == "rfc3665-3.1" and doc["seed"] == 3 and doc["passed"]
    first = doc["messages"][0]
    assert {"t", "src", "dst", "kind", "method", "status", "lost"} <= set(first)
    assert (first["kind"], first["method"], first["src"]) == ("request", "INVITE", "alice")
    assert all({"text", "passed"} <= set(e) for e in doc["expectations"])


def test_simulate_prints_a_text_ladder(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "simulate", "rfc3665-3.1")
    assert code == 0
    assert "INVITE F1" in out and "180 Ringing F2" in out and "passed" in out


def test_simulate_writes_ladder_and_trace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, _ = run(capsys, "simulate", "rfc5407-3.3.1", "--ladder", "svg", "--out",
                     str(tmp_path))
    assert code == 0
    assert (tmp_path / "rfc5407-3.3.1.svg").read_text().lstrip().startswith("<")
    lines = (tmp_path / "rfc5407-3.3.1.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line)["t"] >= 0 for line in lines)


def test_simulate_runs_summarises_seeded_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "simulate", "rfc3665-3.1", "--runs", "5", "--loss", "0.05",
                       "--json")
    doc = json.loads(out)
    assert doc["runs"] == 5
    assert code == (0 if doc["passed"] == 5 else 1)


def test_simulate_of_an_unknown_scenario_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "simulate", "no-such-flow")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "rfc3665-3.1" in err


def test_simulate_of_a_malformed_file_says_where_and_what(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nelements:\n  alice: {role: ua}\nscript:\n  alice:\n"
                   "    - {at: 0, send: FROB, to: bob}\n")
    code, out, err = run(capsys, "simulate", str(bad))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "bad.yaml" in err


def test_sweep_json_counts_runs_per_point(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sweep", "rfc3665-3.1", "--loss", "0,0.2", "--runs", "4",
                       "--workers", "1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert len(doc["points"]) == 2
    assert all(p["runs"] == 4 for p in doc["points"])


def test_sweep_of_a_bad_range_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sweep", "rfc3665-3.1", "--loss", "0:2")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "not a range" in err


def test_simulate_runs_give_the_same_counts_with_or_without_reuse(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("simulate", "rfc3665-3.1", "--runs", "60", "--loss", "0.2", "--json")
    code, reused, _ = run(capsys, *args)
    assert code in (0, 1)
    code_again, fresh, _ = run(capsys, *args, "--no-reuse")
    assert (code_again, json.loads(fresh)) == (code, json.loads(reused))


def test_version_says_which_build_runs_compiled_or_pure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _err = run(capsys, "--version")
    assert code == 0
    assert " 0.1.0 (" in out
    assert native.describe() in out
    assert ("compiled (mypyc)" in out) == native.compiled()


# -- hostile input: one line, exit 2, never a traceback (docs/limits.md) -----------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("simulate", "foo\nbar"),
        ("sweep", "foo\nbar", "--runs", "1"),
        ("simulate", "rfc3665-3.1", "--x\ny"),
        ("show", "ict\n"),
        ("simulate", "bad\nname.yaml"),
        ("sweep", "rfc3665-3.1", "--loss", "0.1\n0.2"),
        ("simulate", "\x1b[31mred\x1b[0m"),
    ],
    ids=repr,
)
def test_a_name_with_control_characters_is_echoed_escaped_on_one_line(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("sipfsm: error: ")
    assert "\x1b" not in err and "\r" not in err


def test_simulate_of_a_runaway_scenario_stops_at_its_limit_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = tmp_path / "doubling.yaml"
    scenario.write_text(DOUBLING)
    code, out, err = run(capsys, "simulate", str(scenario), "--limit", "in-flight=40")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "more than 40 messages in flight" in err and "--limit in-flight=N" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("--runs", str(10**23)), "limit runs=10,000,000; raise it with --limit runs=N"),
        (("--limit", "events"), "--limit: 'events' is not NAME=N"),
        (("--limit", "events=0"), "--limit events: '0' is not a whole number >= 1"),
        (("--runs", "3", "--limit", "runs=2"), "limit runs=2"),
    ],
)
def test_simulate_limits_are_one_line_errors_with_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: str
) -> None:
    code, out, err = run(capsys, "simulate", "rfc3665-3.1", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err


def test_sweep_workers_past_the_cores_are_capped_with_a_note(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sipfsm.sim import sweep as sw

    monkeypatch.setattr(sw, "cores", lambda: 1)
    code, out, err = run(capsys, "sweep", "rfc3665-3.1", "--runs", "2", "--workers", "100000",
                         "--json")
    assert code == 0 and json.loads(out)["points"][0]["runs"] == 2
    assert err == ("sipfsm: note: --workers 100,000: 1 worker process, one per core "
                   "(--force-workers starts more)\n")


def test_sweep_forced_workers_past_the_limit_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "sweep", "rfc3665-3.1", "--workers", "100000",
                         "--force-workers")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "limit workers=64; raise it with --limit workers=N" in err


def test_sweep_past_its_runs_or_points_limit_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (("--runs", str(10**23)), ("--loss", "0:1:0.00001")):
        code, out, err = run(capsys, "sweep", "rfc3665-3.1", *argv)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and "raise it with --limit" in err


# -- outputs that cannot be written: one line, exit 2 (docs/limits.md) -----------------------

linux_places = pytest.mark.skipif(
    not (Path("/proc/self").is_dir() and Path("/dev/full").exists()), reason="/proc, /dev/full"
)


@linux_places
@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("simulate", "rfc3665-3.1", "--out", "/proc/sipfsm-no/flows"), "No such file"),
        (("simulate", "rfc3665-3.1", "--out", "/dev/full"), "not a folder"),
        (("export", "ict", "--out", "/dev/full"), "No space left on device"),
        (("export", "ict", "--out", "/proc/sipfsm-no/ict.json"), "No such file"),
        (("export", "ict", "--format", "dot", "--out", "MISSING/x/ict.dot"), "No such file"),
        (("render", "ict", "--format", "dot", "--out", "/proc/sipfsm-no"), "No such file"),
        (("render", "ict", "--format", "dot", "--out", "/dev/full"), "not a folder"),
        (("diff", "ict", "--out", "/proc/sipfsm-no"), "No such file"),
        (("diff", "ict", "--out", "/dev/full"), "not a folder"),
        (("sweep", "rfc3665-3.1", "--runs", "1", "--plot", "/proc/sipfsm-no/r.png"), "No such"),
        (("demo", "--flows", "/dev/full/x"), "Not a directory"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)
def test_an_output_that_cannot_be_written_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    says: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # (MISSING/ is relative: a folder that does not exist)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("sipfsm: error: --")
    assert "cannot write" in err and says in err


@linux_places
def test_results_are_shown_before_the_output_that_cannot_be_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # /proc exists, so the folder is there; the files in it cannot be made
    code, out, err = run(capsys, "simulate", "rfc3665-3.1", "--out", "/proc", "--json")
    assert code == 2 and json.loads(out)["scenario"] == "rfc3665-3.1"
    assert err.count("\n") == 1 and "--out: cannot write '/proc'" in err
    code, out, err = run(capsys, "sweep", "rfc3665-3.1", "--runs", "2", "--workers", "1",
                         "--plot", "/proc/rates.png", "--json")
    assert code == 2 and json.loads(out)["points"][0]["runs"] == 2
    assert err.count("\n") == 1 and "--plot: cannot write '/proc/rates.png'" in err


# -- fuzzing the command line with hostile scenarios and options --------------------------------

_SMALL = ("--limit", "events=1500", "--limit", "in-flight=60", "--limit", "runs=50",
          "--limit", "points=20")  # fmt: skip
_OPTION_VALUES = st.one_of(
    st.sampled_from(["0", "1", "-1", "3", "0.5", "1e999", "nan", "", "udp", "tcp", "x"]),
    st.text(max_size=6),
    st.integers(-(10**30), 10**30).map(str),
)
_OPTIONS = {
    "simulate": ["--seed", "--runs", "--loss", "--transport", "--profile", "--engine",
                 "--ladder", "--limit"],
    "sweep": ["--seed", "--runs", "--loss", "--t1", "--transport", "--limit"],
}  # fmt: skip


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    command=st.sampled_from(["simulate", "sweep"]),
    text=hostile_scenario_texts(),
    by_name=st.sampled_from([None, "rfc3665-3.1", "no-such-flow", "a\nb", "/dev/zero"]),
    options=st.lists(st.tuples(st.sampled_from(_OPTIONS["sweep"] + ["--engine", "--bogus"]),
                               _OPTION_VALUES), max_size=3),
    as_json=st.booleans(),
)
def test_the_command_line_given_hostile_input_exits_0_1_or_2_with_one_line_errors(
    command: str,
    text: str,
    by_name: str | None,
    options: list[tuple[str, str]],
    as_json: bool,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        argv = [command, by_name or str(path)]
        for option, value in options:
            argv += [option, value]
        argv += [*_SMALL, *(("--workers", "1") if command == "sweep" else ())]
        argv += ["--json"] if as_json else []
        out, err = io.StringIO(), io.StringIO()
        started = time.monotonic()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        assert time.monotonic() - started < 20
    assert code in (0, 1, 2), (argv, code, err.getvalue())
    lines = [line for line in err.getvalue().splitlines() if not line.startswith("sipfsm: note:")]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("sipfsm: error: "), (argv, lines)
    else:
        assert lines == [], (argv, lines)
