"""sipfsm.check: traces replayed through the model, deviations reported by rule.

Two kinds of traces: real SIPp peers on loopback (tests/sipp/, one scenario pair per
case: conforming ones give no deviation, each faulty one exactly its own), and small
JSONL traces written here for the rules SIPp cannot be made to break on cue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sipp.harness import run_pair

from sipfsm.capture import CaptureError, jsonl_line
from sipfsm.check import RULES, CheckReport, check_files

A = "10.0.0.1:5060"
B = "10.0.0.2:5060"


def msg(
    start: str,
    *,
    method: str = "INVITE",
    cseq: int = 1,
    branch: str = "z9hG4bKb1",
    sent_by: str = "10.0.0.1:5060",
    from_tag: str = "fa",
    to_tag: str = "",
    call_id: str = "c1",
    extra: str = "",
) -> str:
    to = "<sip:b@10.0.0.2>" + (f";tag={to_tag}" if to_tag else "")
    return (
        f"{start}\r\nVia: SIP/2.0/UDP {sent_by};branch={branch}\r\n"
        f"From: <sip:a@10.0.0.1>;tag={from_tag}\r\nTo: {to}\r\nCall-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
    )


def req(method: str, **kw: Any) -> str:
    return msg(f"{method} sip:b@10.0.0.2 SIP/2.0", method=method, **kw)


def resp(status: int, method: str = "INVITE", reason: str = "X", **kw: Any) -> str:
    return msg(f"SIP/2.0 {status} {reason}", method=method, **kw)


def trace(
    tmp_path: Path,
    lines: list[tuple[float, str, str, str]],
    transport: str = "udp",
    name: str = "t.jsonl",
) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(jsonl_line(t, s, d, raw, transport) for t, s, d, raw in lines))
    return path


def rules(report: CheckReport) -> list[tuple[str, int]]:
    return [(v.rule, v.message) for v in report.violations]


def assert_counts_add_up(report: CheckReport) -> None:
    data = report.to_json()
    assert data["messages"] == data["parsed"] + data["unparseable"]
    in_tx = {i for t in data["transactions"] for i in t["messages"]}
    in_dialogs = {i for d in data["dialogs"] for i in d["messages"]}
    unmatched = {u["message"] for u in data["unmatched"]}
    bad = {u["message"] for u in data["unparseable_messages"]}
    assert not unmatched & (in_tx | in_dialogs) and not bad & (in_tx | unmatched)
    assert in_tx | in_dialogs | unmatched | bad == set(range(1, data["messages"] + 1))


# -- JSONL traces: one rule each ------------------------------------------------------------


def test_conforming_non_invite_exchange_gives_no_deviation(tmp_path: Path) -> None:
    report = check_files(
        [
            trace(
                tmp_path,
                [(0.0, A, B, req("OPTIONS")), (0.01, B, A, resp(200, "OPTIONS", to_tag="tb"))],
            )
        ]
    )
    assert report.violations == [] and report.exit_status == 0
    assert [t.path for t in report.transactions] == [["trying", "completed"]] * 2
    assert_counts_add_up(report)


def test_timer_a_retransmissions_on_schedule_conform_rfc3261_17_1_1_2(tmp_path: Path) -> None:
    invite = req("INVITE")
    lines = [
        (0.0, A, B, invite),
        (0.5, A, B, invite),
        (1.5, A, B, invite),
        (1.6, B, A, resp(180, to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert report.violations == []


def test_timer_a_retransmission_too_early_is_a_deviation_rfc3261_17_1_1_2(tmp_path: Path) -> None:
    invite = req("INVITE")
    lines = [
        (0.0, A, B, invite),
        (0.5, A, B, invite),
        (0.8, A, B, invite),
        (1.0, B, A, resp(180, to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("retransmission-schedule", 3)]
    assert report.violations[0].rfc == "RFC 3261 §17.1.1.2"


def test_timer_e_missing_retransmission_is_a_deviation_rfc3261_17_1_2_2(tmp_path: Path) -> None:
    lines = [(0.0, A, B, req("OPTIONS")), (2.0, B, A, resp(200, "OPTIONS", to_tag="tb"))]
    report = check_files([trace(tmp_path, lines)], as_addr=A)
    assert rules(report) == [("retransmission-schedule", 1)]
    assert report.violations[0].rfc == "RFC 3261 §17.1.2.2"


def test_timer_g_schedule_doubles_to_t2_rfc3261_17_2_1(tmp_path: Path) -> None:
    final = resp(486, to_tag="tb")
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, final),
        (0.51, B, A, final),
        (1.51, B, A, final),
        (3.51, B, A, final),
        (3.6, A, B, req("ACK", to_tag="tb")),
    ]
    ok = check_files([trace(tmp_path, lines)], as_addr=B)
    assert ok.violations == []
    lines[3] = (1.11, B, A, final)  # 0.6 s after the previous one instead of 1 s
    bad = check_files([trace(tmp_path, lines)], as_addr=B)
    assert rules(bad) == [("retransmission-schedule", 4)]


def test_tcp_has_no_retransmissions_rfc3261_17_1_1_2(tmp_path: Path) -> None:
    lines = [(0.0, A, B, req("OPTIONS")), (2.0, B, A, resp(200, "OPTIONS", to_tag="tb"))]
    assert check_files([trace(tmp_path, lines, "tcp")]).violations == []


def test_second_final_response_to_a_non_invite_rfc3261_17_2_2(tmp_path: Path) -> None:
    lines = [
        (0.0, A, B, req("OPTIONS")),
        (0.01, B, A, resp(200, "OPTIONS", to_tag="tb")),
        (0.02, B, A, resp(500, "OPTIONS", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("second-final-non-invite", 3)]


def test_final_response_after_the_transaction_ended_rfc3261_17_2_2(tmp_path: Path) -> None:
    lines = [
        (0.0, A, B, req("OPTIONS")),
        (0.01, B, A, resp(200, "OPTIONS", to_tag="tb")),
        (1.0, B, A, resp(200, "OPTIONS", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines, "tcp")])  # Timer J is 0 on TCP
    assert rules(report) == [("response-after-end", 3)]


def test_no_ack_for_a_non_2xx_final_rfc3261_17_1_1_3(tmp_path: Path) -> None:
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(486, to_tag="tb")),
        (0.51, B, A, resp(486, to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("no-ack", 2)]


def test_cancel_before_any_provisional_rfc3261_9_1(tmp_path: Path) -> None:
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.1, A, B, req("CANCEL")),
        (0.11, B, A, resp(200, "CANCEL", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)], as_addr=A)
    assert rules(report) == [("cancel-before-provisional", 2)]


def test_481_to_a_cancel_that_matched_a_live_invite_rfc3261_9_2(tmp_path: Path) -> None:
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(180, to_tag="tb")),
        (0.1, A, B, req("CANCEL")),
        (0.11, B, A, resp(481, "CANCEL", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)], as_addr=B)
    assert rules(report) == [("481-live", 4)]


def _call(extra: list[tuple[float, str, str, str]]) -> list[tuple[float, str, str, str]]:
    return [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(200, to_tag="tb")),
        (0.02, A, B, req("ACK", to_tag="tb", branch="z9hG4bKack")),
        *extra,
    ]


def test_481_to_a_request_of_a_live_dialog_rfc3261_12_2_2(tmp_path: Path) -> None:
    bye = req("BYE", cseq=2, to_tag="tb", branch="z9hG4bKbye")
    lines = _call(
        [(1.0, A, B, bye), (1.01, B, A, resp(481, "BYE", cseq=2, to_tag="tb", branch="z9hG4bKbye"))]
    )
    report = check_files([trace(tmp_path, lines)], as_addr=B)
    assert rules(report) == [("481-live", 5)]


def test_491_with_nothing_pending_rfc3261_14_2(tmp_path: Path) -> None:
    reinvite = msg(
        "INVITE sip:a@10.0.0.1 SIP/2.0",
        cseq=1,
        branch="z9hG4bKre",
        from_tag="tb",
        to_tag="fa",
        sent_by=B,
    )
    answer = msg(
        "SIP/2.0 491 Request Pending",
        cseq=1,
        branch="z9hG4bKre",
        from_tag="tb",
        to_tag="fa",
        sent_by=B,
    )
    report = check_files([trace(tmp_path, _call([(1.0, B, A, reinvite), (1.01, A, B, answer)]))])
    assert rules(report) == [("491-nothing-pending", 5)]


def test_2xx_retransmitted_after_its_ack_rfc3261_13_3_1_4(tmp_path: Path) -> None:
    report = check_files([trace(tmp_path, _call([(0.5, B, A, resp(200, to_tag="tb"))]))])
    assert rules(report) == [("2xx-after-ack", 4)]


# -- dialog rules: the dialog machine's answers (sipfsm.dialog) against the endpoint's ----------


def from_b(start: str, **kw: Any) -> str:
    """A message of B's side of the dialog of `_call` (B is the callee: From tag tb)."""
    kw.setdefault("from_tag", "tb")
    kw.setdefault("to_tag", "fa")
    kw.setdefault("sent_by", B)
    return msg(start, **kw)


def b_request(method: str, cseq: int, branch: str) -> str:
    return from_b(f"{method} sip:a@10.0.0.1 SIP/2.0", method=method, cseq=cseq, branch=branch)


def answer_to_b(status: int, method: str, cseq: int, branch: str) -> str:
    return from_b(f"SIP/2.0 {status} X", method=method, cseq=cseq, branch=branch)


def test_no_491_to_a_reinvite_that_crossed_ours_rfc3261_14_2(tmp_path: Path) -> None:
    lines = _call(
        [
            (1.0, A, B, req("INVITE", cseq=2, to_tag="tb", branch="z9hG4bKa2")),
            (1.0, B, A, b_request("INVITE", 1, "z9hG4bKb1")),
            (1.01, A, B, answer_to_b(200, "INVITE", 1, "z9hG4bKb1")),
        ]
    )
    report = check_files([trace(tmp_path, lines)], as_addr=A)
    assert rules(report) == [("no-491", 6)]
    assert report.violations[0].rfc == "RFC 3261 §14.2"


def test_491_to_a_reinvite_that_crossed_ours_conforms_rfc3261_14_2(tmp_path: Path) -> None:
    lines = _call(
        [
            (1.0, A, B, req("INVITE", cseq=2, to_tag="tb", branch="z9hG4bKa2")),
            (1.0, B, A, b_request("INVITE", 1, "z9hG4bKb1")),
            (1.01, A, B, answer_to_b(491, "INVITE", 1, "z9hG4bKb1")),
            (1.02, B, A, b_request("ACK", 1, "z9hG4bKb1")),
        ]
    )
    report = check_files([trace(tmp_path, lines)], as_addr=A)
    assert report.violations == [], report.to_text()
    assert_counts_add_up(report)


def test_retry_after_our_reinvite_got_491_conforms_rfc3261_14_1(tmp_path: Path) -> None:
    again: dict[str, Any] = {"to_tag": "tb", "branch": "z9hG4bKa3", "cseq": 3}
    lines = _call(
        [
            (1.0, A, B, req("INVITE", cseq=2, to_tag="tb", branch="z9hG4bKa2")),
            (1.01, B, A, resp(491, cseq=2, to_tag="tb", branch="z9hG4bKa2")),
            (1.02, A, B, req("ACK", cseq=2, to_tag="tb", branch="z9hG4bKa2")),
            (4.0, A, B, req("INVITE", **again)),  # the glare timer (2.1-4 s) has fired
            (4.01, B, A, resp(200, **again)),
            (4.02, A, B, req("ACK", cseq=3, to_tag="tb", branch="z9hG4bKack3")),
        ]
    )
    report = check_files([trace(tmp_path, lines, "tcp")], as_addr=A)
    assert report.violations == [], report.to_text()


def test_2xx_to_a_request_with_a_lower_cseq_rfc3261_12_2_2(tmp_path: Path) -> None:
    lines = _call(
        [
            (1.0, B, A, b_request("INFO", 5, "z9hG4bKi5")),
            (1.01, A, B, answer_to_b(200, "INFO", 5, "z9hG4bKi5")),
            (2.0, B, A, b_request("INFO", 3, "z9hG4bKi3")),
            (2.01, A, B, answer_to_b(200, "INFO", 3, "z9hG4bKi3")),
        ]
    )
    report = check_files([trace(tmp_path, lines)], as_addr=A)
    assert rules(report) == [("dialog-answer", 7)]
    assert report.violations[0].rfc == "RFC 3261 §12.2.2"
    assert "answers 500" in report.violations[0].text


@pytest.mark.parametrize(("status", "found"), [(200, [("dialog-answer", 7)]), (481, [])])
def test_reinvite_after_bye_gets_481_rfc5407_3_2_2(
    tmp_path: Path, status: int, found: list[tuple[str, int]]
) -> None:
    lines = _call(
        [
            (1.0, B, A, b_request("BYE", 1, "z9hG4bKbye")),
            (1.01, A, B, answer_to_b(200, "BYE", 1, "z9hG4bKbye")),
            (1.02, B, A, b_request("INVITE", 2, "z9hG4bKre")),
            (1.03, A, B, answer_to_b(status, "INVITE", 2, "z9hG4bKre")),
        ]
    )
    report = check_files([trace(tmp_path, lines)], as_addr=A)
    assert rules(report) == found
    dialog = report.dialogs[0]
    assert dialog.path == ["preparative", "moratorium", "established", "mortal"]


def test_callee_bye_before_the_ack_is_a_dialog_protocol_error_rfc3261_15(tmp_path: Path) -> None:
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(200, to_tag="tb")),
        (0.02, B, A, b_request("BYE", 1, "z9hG4bKbye")),
    ]
    report = check_files([trace(tmp_path, lines)], as_addr=B)
    (violation,) = report.violations
    assert violation.message == 3 and violation.rfc == "RFC 3261 §15"
    assert violation.rule.startswith("dialog (rfc6026) in state 'moratorium' cannot handle")


def test_bye_of_an_unknown_dialog_answered_481_conforms_rfc3261_15_1_2(tmp_path: Path) -> None:
    bye: dict[str, Any] = {"to_tag": "tb", "branch": "z9hG4bKbye", "call_id": "gone"}
    lines = [(0.0, A, B, req("BYE", **bye)), (0.01, B, A, resp(481, "BYE", **bye))]
    report = check_files([trace(tmp_path, lines)])
    assert report.violations == [] and report.dialogs == []


def test_dialog_paths_are_the_dialog_machine_states_rfc5407_2(tmp_path: Path) -> None:
    bye: dict[str, Any] = {"cseq": 2, "to_tag": "tb", "branch": "z9hG4bKbye"}
    later: dict[str, Any] = {"cseq": 1, "branch": "z9hG4bKo", "call_id": "c2"}
    lines = _call(
        [
            (1.0, A, B, req("BYE", **bye)),
            (1.01, B, A, resp(200, "BYE", **bye)),
            (40.0, A, B, req("OPTIONS", **later)),  # after Timers L and M (64*T1)
            (40.01, B, A, resp(200, "OPTIONS", to_tag="x", **later)),
        ]
    )
    report = check_files([trace(tmp_path, lines, "tcp")])
    assert report.violations == []
    data = report.to_json()["dialogs"]
    assert [(d["endpoint"], d["role"], d["local_tag"], d["remote_tag"]) for d in data] == [
        (A, "caller", "fa", "tb"),
        (B, "callee", "tb", "fa"),
    ]
    path = ["preparative", "moratorium", "established", "mortal", "morgue"]
    assert [d["path"] for d in data] == [path, path]
    assert_counts_add_up(report)


def test_forked_early_dialogs_each_have_their_path_rfc5407_appendix_e(tmp_path: Path) -> None:
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(180, to_tag="tb")),
        (0.02, B, A, resp(180, to_tag="tc")),
        (0.03, B, A, resp(200, to_tag="tb")),
        (0.04, A, B, req("ACK", to_tag="tb", branch="z9hG4bKack")),
        (40.0, A, B, req("OPTIONS", branch="z9hG4bKo", call_id="c2")),
    ]
    report = check_files([trace(tmp_path, lines, "tcp")], as_addr=A)
    assert report.violations == []
    assert [(d.remote_tag, d.path) for d in report.dialogs] == [
        ("tb", ["preparative", "early", "moratorium", "established"]),
        ("tc", ["preparative", "early", "morgue"]),  # the INVITE transaction ended
    ]


@pytest.mark.parametrize(
    ("status", "missing"), [(423, "Min-Expires"), (401, "WWW-Authenticate"), (405, "Allow")]
)
def test_4xx_without_its_mandatory_headers_rfc3261_21_4(
    tmp_path: Path, status: int, missing: str
) -> None:
    lines = [(0.0, A, B, req("REGISTER")), (0.01, B, A, resp(status, "REGISTER", to_tag="t"))]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("4xx-missing-header", 2)]
    assert missing in report.violations[0].text and report.violations[0].code == status


def test_487_to_a_cancel_rfc3261_21_4_25(tmp_path: Path) -> None:
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(180, to_tag="tb")),
        (0.1, A, B, req("CANCEL")),
        (0.11, B, A, resp(487, "CANCEL", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("487-to-cancel", 4)]


def test_bad_messages_are_listed_and_the_good_ones_still_checked(tmp_path: Path) -> None:
    lines = [
        (0.0, A, B, req("OPTIONS")),
        (0.005, A, B, "GARBAGE\r\n\r\n"),
        (0.01, B, A, resp(200, "OPTIONS", to_tag="tb")),
        (0.02, B, A, resp(200, "OPTIONS", to_tag="zz", branch="z9hG4bKnone")),
    ]
    report = check_files([trace(tmp_path, lines)])
    data = report.to_json()
    assert (data["messages"], data["parsed"], data["unparseable"]) == (4, 3, 1)
    assert [u["message"] for u in data["unparseable_messages"]] == [2]
    assert [u["message"] for u in data["unmatched"]] == [4]
    assert report.exit_status == 1
    assert_counts_add_up(report)


def test_unusable_file_raises_with_its_position(tmp_path: Path) -> None:
    path = trace(tmp_path, [(0.0, A, B, req("OPTIONS"))])
    path.write_text(path.read_text() + '\n{"t": 1, "src"')
    with pytest.raises(CaptureError, match=r"t\.jsonl: line 2: not JSON"):
        check_files([path])


def test_rfc3261_profile_replays_too(tmp_path: Path) -> None:
    report = check_files([trace(tmp_path, _call([]))], profile="rfc3261")
    assert report.violations == []
    assert ["calling", "terminated"] in [t.path for t in report.transactions]


def test_every_rule_has_a_section() -> None:
    assert all(r.rfc.startswith("RFC ") for r in RULES.values())


# -- SIPp on loopback ---------------------------------------------------------------------

#: scenario -> the deviations each trace must give: (rule, from the caller's log, from the
#: callee's log, from the capture)
SIPP_CASES = {
    "basic": None,
    "cancel": None,
    "bye481": None,
    "cancel487": "487-to-cancel",
    "options405": "4xx-missing-header",
    "noack": "no-ack",
}


@pytest.mark.parametrize("case", sorted(SIPP_CASES))
def test_sipp_scenario_gives_exactly_its_deviation(tmp_path: Path, case: str) -> None:
    run = run_pair(tmp_path, f"{case}_uas.xml", f"{case}_uac.xml")
    assert run.returncodes == {"callee": 0, "caller": 0}
    expected = SIPP_CASES[case]
    sources = [[run.logs["caller"]], [run.logs["callee"]]] + ([[run.pcap]] if run.pcap else [])
    for paths in sources:
        report = check_files(paths)
        assert_counts_add_up(report)
        assert report.unparseable == [] and report.unmatched == []
        found = [v.rule for v in report.violations]
        if expected == "no-ack" and paths == [run.logs["callee"]]:
            assert found == []  # the callee's log ends before its Timer H would fire
        elif expected is None:
            assert found == [], report.to_text()
        else:
            assert found == [expected], report.to_text()


def test_sipp_reinvite_glare_491_both_ways_then_the_retry_rfc3261_14_2(tmp_path: Path) -> None:
    run = run_pair(tmp_path, "glare_b.xml", "glare_a.xml", relay_delay=0.05)
    assert run.returncodes == {"callee": 0, "caller": 0}
    for log in run.logs.values():
        report = check_files([log])
        assert report.violations == [], report.to_text()
        paths = [t.path for t in report.transactions if t.machine == "ist"]
        assert ["proceeding", "completed", "confirmed"] in paths  # its 491, then the ACK
    if run.pcap is not None:
        caller = f"127.0.0.1:{run.ports['caller']}"
        report = check_files([run.pcap], as_addr=caller)
        assert report.violations == [], report.to_text()
