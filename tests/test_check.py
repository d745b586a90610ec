"""sipfsm.check: traces replayed through the model, deviations reported by rule.

Two kinds of traces: real SIPp peers on loopback (tests/sipp/, one scenario pair per
case: conforming ones give no deviation, each faulty one exactly its own), and small
JSONL traces written here for the rules SIPp cannot be made to break on cue.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sipp.harness import run_pair

from sipfsm.capture import CaptureError, jsonl_line
from sipfsm.check import RULES, check_files

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


def req(method: str, **kw: object) -> str:
    return msg(f"{method} sip:b@10.0.0.2 SIP/2.0", method=method, **kw)  # type: ignore[arg-type]


def resp(status: int, method: str = "INVITE", reason: str = "X", **kw: object) -> str:
    return msg(f"SIP/2.0 {status} {reason}", method=method, **kw)  # type: ignore[arg-type]


def trace(
    tmp_path: Path,
    lines: list[tuple[float, str, str, str]],
    transport: str = "udp",
    name: str = "t.jsonl",
) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(jsonl_line(t, s, d, raw, transport) for t, s, d, raw in lines))
    return path


def rules(report) -> list[tuple[str, int]]:
    return [(v.rule, v.message) for v in report.violations]


def assert_counts_add_up(report) -> None:
    data = report.to_json()
    assert data["messages"] == data["parsed"] + data["unparseable"]
    in_tx = {i for t in data["transactions"] for i in t["messages"]}
    in_dialogs = {i for d in data["dialogs"] for i in d["messages"]}
    unmatched = {u["message"] for u in data["unmatched"]}
    bad = {u["message"] for u in data["unparseable_messages"]}
    assert not unmatched & (in_tx | in_dialogs) and not bad & (in_tx | unmatched)
    assert in_tx | in_dialogs | unmatched | bad == set(range(1, data["messages"] + 1))


# -- JSONL traces: one rule each ------------------------------------------------------------


def test_conforming_non_invite_exchange_gives_no_deviation(tmp_path):
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


def test_timer_a_retransmissions_on_schedule_conform_rfc3261_17_1_1_2(tmp_path):
    invite = req("INVITE")
    lines = [
        (0.0, A, B, invite),
        (0.5, A, B, invite),
        (1.5, A, B, invite),
        (1.6, B, A, resp(180, to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert report.violations == []


def test_timer_a_retransmission_too_early_is_a_deviation_rfc3261_17_1_1_2(tmp_path):
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


def test_timer_e_missing_retransmission_is_a_deviation_rfc3261_17_1_2_2(tmp_path):
    lines = [(0.0, A, B, req("OPTIONS")), (2.0, B, A, resp(200, "OPTIONS", to_tag="tb"))]
    report = check_files([trace(tmp_path, lines)], as_addr=A)
    assert rules(report) == [("retransmission-schedule", 1)]
    assert report.violations[0].rfc == "RFC 3261 §17.1.2.2"


def test_timer_g_schedule_doubles_to_t2_rfc3261_17_2_1(tmp_path):
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


def test_tcp_has_no_retransmissions_rfc3261_17_1_1_2(tmp_path):
    lines = [(0.0, A, B, req("OPTIONS")), (2.0, B, A, resp(200, "OPTIONS", to_tag="tb"))]
    assert check_files([trace(tmp_path, lines, "tcp")]).violations == []


def test_second_final_response_to_a_non_invite_rfc3261_17_2_2(tmp_path):
    lines = [
        (0.0, A, B, req("OPTIONS")),
        (0.01, B, A, resp(200, "OPTIONS", to_tag="tb")),
        (0.02, B, A, resp(500, "OPTIONS", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("second-final-non-invite", 3)]


def test_final_response_after_the_transaction_ended_rfc3261_17_2_2(tmp_path):
    lines = [
        (0.0, A, B, req("OPTIONS")),
        (0.01, B, A, resp(200, "OPTIONS", to_tag="tb")),
        (1.0, B, A, resp(200, "OPTIONS", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines, "tcp")])  # Timer J is 0 on TCP
    assert rules(report) == [("response-after-end", 3)]


def test_no_ack_for_a_non_2xx_final_rfc3261_17_1_1_3(tmp_path):
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(486, to_tag="tb")),
        (0.51, B, A, resp(486, to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("no-ack", 2)]


def test_cancel_before_any_provisional_rfc3261_9_1(tmp_path):
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.1, A, B, req("CANCEL")),
        (0.11, B, A, resp(200, "CANCEL", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)], as_addr=A)
    assert rules(report) == [("cancel-before-provisional", 2)]


def test_481_to_a_cancel_that_matched_a_live_invite_rfc3261_9_2(tmp_path):
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


def test_481_to_a_request_of_a_live_dialog_rfc3261_12_2_2(tmp_path):
    bye = req("BYE", cseq=2, to_tag="tb", branch="z9hG4bKbye")
    lines = _call(
        [(1.0, A, B, bye), (1.01, B, A, resp(481, "BYE", cseq=2, to_tag="tb", branch="z9hG4bKbye"))]
    )
    report = check_files([trace(tmp_path, lines)], as_addr=B)
    assert rules(report) == [("481-live", 5)]


def test_491_with_nothing_pending_rfc3261_14_2(tmp_path):
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


def test_2xx_retransmitted_after_its_ack_rfc3261_13_3_1_4(tmp_path):
    report = check_files([trace(tmp_path, _call([(0.5, B, A, resp(200, to_tag="tb"))]))])
    assert rules(report) == [("2xx-after-ack", 4)]


@pytest.mark.parametrize(
    ("status", "missing"), [(423, "Min-Expires"), (401, "WWW-Authenticate"), (405, "Allow")]
)
def test_4xx_without_its_mandatory_headers_rfc3261_21_4(tmp_path, status, missing):
    lines = [(0.0, A, B, req("REGISTER")), (0.01, B, A, resp(status, "REGISTER", to_tag="t"))]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("4xx-missing-header", 2)]
    assert missing in report.violations[0].text and report.violations[0].code == status


def test_487_to_a_cancel_rfc3261_21_4_25(tmp_path):
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(180, to_tag="tb")),
        (0.1, A, B, req("CANCEL")),
        (0.11, B, A, resp(487, "CANCEL", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("487-to-cancel", 4)]


def test_bad_messages_are_listed_and_the_good_ones_still_checked(tmp_path):
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


def test_unusable_file_raises_with_its_position(tmp_path):
    path = trace(tmp_path, [(0.0, A, B, req("OPTIONS"))])
    path.write_text(path.read_text() + '\n{"t": 1, "src"')
    with pytest.raises(CaptureError, match=r"t\.jsonl: line 2: not JSON"):
        check_files([path])


def test_rfc3261_profile_replays_too(tmp_path):
    report = check_files([trace(tmp_path, _call([]))], profile="rfc3261")
    assert report.violations == []
    assert ["calling", "terminated"] in [t.path for t in report.transactions]


def test_every_rule_has_a_section():
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
def test_sipp_scenario_gives_exactly_its_deviation(tmp_path, case):
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


def test_sipp_reinvite_glare_491_both_ways_then_the_retry_rfc3261_14_2(tmp_path):
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
