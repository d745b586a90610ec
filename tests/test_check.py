"""sipfsm.check.checker: traces replayed through the model, deviations reported by rule.

Two kinds of traces: real SIPp peers on loopback (tests/sipp/, one scenario pair per
case: conforming ones give no deviation, each faulty one exactly its own), and small
JSONL traces written here for the rules SIPp cannot be made to break on cue.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sipp.harness import run_pair

from sipfsm.check import checker as check
from sipfsm.check.capture import CaptureError, jsonl_line
from sipfsm.check.checker import CHECK_RULES, CheckReport, check_files
from sipfsm.cli import main
from sipfsm.sim.run import SimResult, library, load, simulate

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


def test_no_ack_for_a_2xx_rfc3261_13_2_2_4(tmp_path: Path) -> None:
    later: dict[str, Any] = {"branch": "z9hG4bKo", "call_id": "c2"}
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(200, to_tag="tb")),
        (0.51, B, A, resp(200, to_tag="tb")),  # the UAS core resends it: still no ACK
        (40.0, A, B, req("OPTIONS", **later)),  # the trace goes on past 64*T1
        (40.01, B, A, resp(200, "OPTIONS", to_tag="x", **later)),
    ]
    report = check_files([trace(tmp_path, lines)], as_addr=A)
    assert rules(report) == [("no-ack-2xx", 2)]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("no-ack-2xx", 2)]
    assert report.violations[0].rfc == "RFC 3261 §13.2.2.4"
    assert report.violations[0].endpoint == A


def test_a_capture_from_anywhere_owes_the_2xx_ack_only_by_64_t1_rfc3261_13_3_1_4(
    tmp_path: Path,
) -> None:
    # a capture taken elsewhere on the path (an ERSPAN mirror, say): the UAS resends its 2xx
    # because the first never reached the UAC, which ACKs the second: no deviation
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(200, to_tag="tb")),
        (0.51, B, A, resp(200, to_tag="tb")),
        (0.53, A, B, req("ACK", to_tag="tb", branch="z9hG4bKack")),
    ]
    assert check_files([trace(tmp_path, lines)]).violations == []
    # seen as A's own view, the same ACK is half a second late
    assert rules(check_files([trace(tmp_path, lines)], as_addr=A)) == [("no-ack-2xx", 2)]


def test_2xx_acked_late_is_no_ack_within_the_tolerance_rfc3261_13_2_2_4(tmp_path: Path) -> None:
    lines = _call([])
    lines[2] = (0.5, A, B, req("ACK", to_tag="tb", branch="z9hG4bKack"))
    assert rules(check_files([trace(tmp_path, lines)], as_addr=A)) == [("no-ack-2xx", 2)]
    assert rules(check_files([trace(tmp_path, lines)], as_addr=A, tolerance=0.5)) == []


def test_trace_ending_right_after_the_2xx_claims_no_missing_ack_rfc3261_13_2_2_4(
    tmp_path: Path,
) -> None:
    lines = [(0.0, A, B, req("INVITE")), (0.01, B, A, resp(200, to_tag="tb"))]
    assert check_files([trace(tmp_path, lines)]).violations == []


def test_no_ack_for_a_2xx_seen_from_the_uas_when_timer_l_fires_rfc6026_8_7(
    tmp_path: Path,
) -> None:
    later: dict[str, Any] = {"branch": "z9hG4bKo", "call_id": "c2"}
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(200, to_tag="tb")),
        (40.0, A, B, req("OPTIONS", **later)),  # the trace goes on past 64*T1
        (40.01, B, A, resp(200, "OPTIONS", to_tag="x", **later)),
    ]
    path = trace(tmp_path, lines, "tcp")
    (seen_by_b,) = check_files([path], as_addr=B).violations
    assert (seen_by_b.rule, seen_by_b.message, seen_by_b.endpoint) == ("no-ack-2xx", 2, B)
    assert "Timer L" in seen_by_b.text
    # with the UAC in view its own replay judges it (and reports it once)
    both = check_files([path])
    assert [(v.rule, v.message, v.endpoint) for v in both.violations] == [("no-ack-2xx", 2, A)]
    # RFC 3261's own INVITE server transaction ends with the 2xx: no Timer L to tell
    assert check_files([path], as_addr=B, profile="rfc3261").violations == []


# -- dialog rules: the dialog machine's answers (sipfsm.machines.dialog), the endpoint's -----


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


def _glare(retry_at: float, retry_body: str = "") -> list[tuple[float, str, str, str]]:
    """A's re-INVITE refused with 491, then A's retry at ``retry_at`` (A sent the initial
    INVITE: it generated the Call-ID)."""
    again: dict[str, Any] = {"to_tag": "tb", "branch": "z9hG4bKa3", "cseq": 3}
    retry = req("INVITE", **again)
    if retry_body:
        retry = retry.replace(
            "Content-Length: 0\r\n\r\n", f"Content-Length: {len(retry_body)}\r\n\r\n{retry_body}"
        )
    return _call(
        [
            (1.0, A, B, req("INVITE", cseq=2, to_tag="tb", branch="z9hG4bKa2")),
            (1.01, B, A, resp(491, cseq=2, to_tag="tb", branch="z9hG4bKa2")),
            (1.02, A, B, req("ACK", cseq=2, to_tag="tb", branch="z9hG4bKa2")),
            (retry_at, A, B, retry),
            (retry_at + 0.01, B, A, resp(200, **again)),
            (retry_at + 0.02, A, B, req("ACK", cseq=3, to_tag="tb", branch="z9hG4bKack3")),
        ]
    )


@pytest.mark.parametrize(("retry_at", "deviation"), [(2.0, True), (3.2, False), (5.5, True)])
def test_owner_of_the_call_id_retries_after_a_491_in_2_1_to_4_s_rfc3261_14_1(
    tmp_path: Path, retry_at: float, deviation: bool
) -> None:
    report = check_files([trace(tmp_path, _glare(retry_at), "tcp")], as_addr=A)
    assert rules(report) == ([("glare-retry-time", 7)] if deviation else [])
    if deviation:
        assert report.violations[0].rfc == "RFC 3261 §14.1"
        assert "owner of the Call-ID" in report.violations[0].text
        assert "2.1-4 s" in report.violations[0].text


def test_a_later_reinvite_with_another_offer_is_no_late_retry_rfc3261_14_1(
    tmp_path: Path,
) -> None:
    lines = _glare(9.0, retry_body="v=0 another offer")
    assert check_files([trace(tmp_path, lines, "tcp")], as_addr=A).violations == []


@pytest.mark.parametrize(("retry_at", "deviation"), [(2.5, False), (3.5, True)])
def test_non_owner_of_the_call_id_retries_within_2_s_rfc3261_14_1(
    tmp_path: Path, retry_at: float, deviation: bool
) -> None:
    refused = b_request("INVITE", 1, "z9hG4bKb1")
    retry = b_request("INVITE", 2, "z9hG4bKb2")
    lines = _call(
        [
            (1.0, B, A, refused),
            (1.01, A, B, answer_to_b(491, "INVITE", 1, "z9hG4bKb1")),
            (1.02, B, A, b_request("ACK", 1, "z9hG4bKb1")),
            (retry_at, B, A, retry),  # B (the callee) did not generate the Call-ID: 0-2 s
            (retry_at + 0.01, A, B, answer_to_b(200, "INVITE", 2, "z9hG4bKb2")),
            (retry_at + 0.02, B, A, b_request("ACK", 2, "z9hG4bKack")),
        ]
    )
    report = check_files([trace(tmp_path, lines, "tcp")], as_addr=B)
    assert rules(report) == ([("glare-retry-time", 7)] if deviation else [])


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


@pytest.mark.parametrize("profile", ["rfc3261", "rfc6026"])
def test_a_later_2xx_of_another_fork_confirms_its_early_dialog_rfc3261_13_2_2_4(
    tmp_path: Path, profile: str
) -> None:
    """The UAC core considers its INVITE transaction completed 64*T1 after the first 2xx
    (RFC 3261 §13.2.2.4; under rfc6026 the transaction's Timer M): until then the early
    dialog of another fork lives, and that fork's 2xx confirms it; the UA ACKs it and ends
    it with a BYE. Under rfc3261 the INVITE client transaction ends on the first 2xx, and
    the replay tells the dialogs only 64*T1 later, as the Endpoint does
    (`sipfsm.elements.core.invite_completed_at`)."""
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(180, to_tag="tc")),
        (0.02, B, A, resp(200, to_tag="tb")),
        (0.03, A, B, req("ACK", to_tag="tb", branch="z9hG4bKack")),
        (1.0, B, A, resp(200, to_tag="tc")),
        (1.01, A, B, req("ACK", to_tag="tc", branch="z9hG4bKack2")),
        (1.02, A, B, req("BYE", cseq=2, to_tag="tc", branch="z9hG4bKbye")),
        (1.03, B, A, resp(200, "BYE", cseq=2, to_tag="tc", branch="z9hG4bKbye")),
        (40.0, A, B, req("OPTIONS", branch="z9hG4bKo", call_id="c2")),
    ]
    report = check_files([trace(tmp_path, lines, "tcp")], as_addr=A, profile=profile)
    assert report.violations == [], report.to_text()
    assert [(d.remote_tag, d.path) for d in report.dialogs] == [
        ("tc", ["preparative", "early", "moratorium", "established", "mortal", "morgue"]),
        ("tb", ["preparative", "moratorium", "established"]),
    ]


def _from_b(message: str) -> str:
    """``message`` with From and To swapped: a request of B's in the dialog (its To tag
    "fa"), or a response to one."""
    return message.replace(
        "From: <sip:a@10.0.0.1>;tag=tb\r\nTo: <sip:b@10.0.0.2>;tag=fa",
        "From: <sip:b@10.0.0.2>;tag=tb\r\nTo: <sip:a@10.0.0.1>;tag=fa",
    )


P = "10.0.0.3:5060"  # a stateful proxy between A and B


def _below(branch: str, sent_by: str = A) -> str:
    """The Via under the proxy's in what it forwards (RFC 3261 §16.6 step 8)."""
    return f"Via: SIP/2.0/UDP {sent_by};branch={branch}\r\n"


def _through_p(ack_to: str) -> list[tuple[float, str, str, str]]:
    """A's INVITE forwarded by P to B, B's 200 forwarded back, and A's ACK sent to
    ``ack_to``: straight to B, or to P (which record-routed, §16.12) and forwarded."""
    lines = [
        (0.0, A, P, req("INVITE", branch="z9hG4bKa1")),
        (0.01, P, B, req("INVITE", branch="z9hG4bKp1", sent_by=P, extra=_below("z9hG4bKa1"))),
        (
            0.02,
            B,
            P,
            resp(200, to_tag="tb", branch="z9hG4bKp1", sent_by=P, extra=_below("z9hG4bKa1")),
        ),
        (0.03, P, A, resp(200, to_tag="tb", branch="z9hG4bKa1")),
        (0.04, A, ack_to, req("ACK", to_tag="tb", branch="z9hG4bKack")),
    ]
    if ack_to == P:
        ack = req("ACK", to_tag="tb", branch="z9hG4bKpa", sent_by=P, extra=_below("z9hG4bKack"))
        lines.append((0.05, P, B, ack))
    return lines


def test_a_proxy_owes_no_ack_for_a_2xx_it_forwarded_rfc3261_16_7(tmp_path: Path) -> None:
    """P forwards A's INVITE (its Via on top of A's: RFC 3261 §16.6 step 8) and B's 200
    back; A ACKs the 2xx straight to B's Contact (§13.2.2.4). P, checked, sent no ACK: an
    INVITE with more than one Via is a forwarded one, and the ACK of a 2xx is the UAC's,
    never the proxy's (§16.7); nor did one reach it, and its Timer L says nothing of the
    UAC's."""
    lines = [*_through_p(ack_to=B), (40.0, A, P, req("OPTIONS", branch="z9hG4bKo", call_id="c2"))]
    report = check_files([trace(tmp_path, lines)], as_addr=P)
    assert report.violations == [], report.to_text()
    # and its Timer L, 64*T1 after the 2xx it forwarded, says nothing of the UAC's ACK: the
    # ACK went end to end, around P (it did not record-route, §16.12)
    assert ["proceeding", "accepted", "terminated"] in [t.path for t in report.transactions]


def _from_b(message: str) -> str:
    """``message`` with From and To swapped: B's request in the dialog, or its response."""
    return message.replace(
        "From: <sip:a@10.0.0.1>;tag=tb\r\nTo: <sip:b@10.0.0.2>;tag=fa",
        "From: <sip:b@10.0.0.2>;tag=tb\r\nTo: <sip:a@10.0.0.1>;tag=fa",
    )


def test_a_proxy_forwards_the_callees_bye_with_the_callers_answer_rfc3261_16_12(
    tmp_path: Path,
) -> None:
    """A proxy that record-routed (§16.12) forwards B's BYE to A and A's 200 back: the
    answer is A's, which P's replay accepts (its dialogs are those of both ends: the
    caller's, of the INVITE it forwarded, takes B's BYE; the callee's, A's 200)."""
    bye = {"from_tag": "tb", "to_tag": "fa", "method": "BYE"}
    start = "BYE sip:a@10.0.0.1 SIP/2.0"
    lines = [
        *_through_p(ack_to=P),
        (1.0, B, P, _from_b(msg(start, branch="z9hG4bKb2", sent_by=B, **bye))),
        (
            1.01,
            P,
            A,
            _from_b(msg(start, branch="z9hG4bKp2", sent_by=P, extra=_below("z9hG4bKb2", B), **bye)),
        ),
        (
            1.02,
            A,
            P,
            _from_b(
                msg(
                    "SIP/2.0 200 OK",
                    branch="z9hG4bKp2",
                    sent_by=P,
                    extra=_below("z9hG4bKb2", B),
                    **bye,
                )
            ),
        ),
        (1.03, P, B, _from_b(msg("SIP/2.0 200 OK", branch="z9hG4bKb2", sent_by=B, **bye))),
        (40.0, A, P, req("OPTIONS", branch="z9hG4bKo", call_id="c2")),
    ]
    report = check_files([trace(tmp_path, lines)], as_addr=P)
    assert report.violations == [], report.to_text()
    assert [(d.role, d.path[-1]) for d in report.dialogs] == [
        ("callee", "morgue"),
        ("caller", "morgue"),
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


def test_a_truncated_last_line_is_one_unparseable_message_and_the_rest_is_judged(
    tmp_path: Path,
) -> None:
    path = trace(tmp_path, [(0.0, A, B, req("OPTIONS"))])
    path.write_text(path.read_text() + '\n{"t": 1, "src"')
    report = check_files([path])
    assert report.unparseable == [
        {
            "message": 2,
            "where": "t.jsonl line 2",
            "reason": "not JSON (Expecting ':' delimiter: line 1 column 15 (char 14))",
        }
    ]
    assert (report.messages, report.parsed, report.exit_status) == (2, 1, 1)
    assert_counts_add_up(report)


def test_parsing_ahead_of_the_replay_changes_no_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checker parses a batch of messages, then replays them in order: the report is
    the one of a message-by-message check, whatever the batch (calls across its edges, a
    deviation in some, an unparseable message and an unmatched one)."""
    lines: list[tuple[float, str, str, str]] = []
    for n in range(120):
        c: dict[str, Any] = {"call_id": f"c{n}", "from_tag": f"f{n}"}
        t = n * 0.01
        bye: dict[str, Any] = {"cseq": 2, "to_tag": f"t{n}", "branch": f"z9hG4bKbye{n}", **c}
        lines += [
            (t, A, B, req("INVITE", branch=f"z9hG4bKi{n}", **c)),
            (t + 0.001, B, A, resp(200, to_tag=f"t{n}", branch=f"z9hG4bKi{n}", **c)),
            (t + 0.002, A, B, req("ACK", to_tag=f"t{n}", branch=f"z9hG4bKa{n}", **c)),
            (t + 0.003, A, B, req("BYE", **bye)),
            (t + 0.004, B, A, resp(481 if n % 7 == 0 else 200, "BYE", **bye)),
        ]
    lines[301] = (lines[301][0], A, B, "garbage")
    lines[402] = (lines[402][0], B, A, resp(200, "OPTIONS", branch="z9hG4bKnone"))
    path = trace(tmp_path, lines)
    whole = check_files([path]).to_json()
    assert len(whole["transactions"]) > 400 and whole["violations"] and whole["unmatched"]
    for batch in (1, 7, 64):
        monkeypatch.setattr(check, "_BATCH", batch)
        assert check_files([path]).to_json() == whole


def test_rfc3261_profile_replays_too(tmp_path: Path) -> None:
    report = check_files([trace(tmp_path, _call([]))], profile="rfc3261")
    assert report.violations == []
    assert ["calling", "terminated"] in [t.path for t in report.transactions]


def test_every_rule_has_a_section() -> None:
    assert all(r.rfc.startswith("RFC ") for r in CHECK_RULES.values())


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
    "noack2xx": "no-ack-2xx",
}


@pytest.mark.parametrize("case", sorted(SIPP_CASES))
def test_sipp_scenario_gives_exactly_its_deviation(tmp_path: Path, case: str) -> None:
    run = run_pair(tmp_path, f"{case}_uas.xml", f"{case}_uac.xml")
    assert run.returncodes == {"callee": 0, "caller": 0}
    expected = SIPP_CASES[case]
    sources = [[run.logs["caller"]], [run.logs["callee"]]] + ([[run.pcap]] if run.pcap else [])
    for paths in sources:
        as_addr = None
        if expected == "no-ack-2xx" and paths == [run.pcap]:
            # a capture does not say where it was taken: a 2xx it shows may not have reached
            # the UAC yet, which owes the ACK only by 64*T1 (§13.3.1.4); this one was taken
            # on loopback, the caller's own view, where its missing ACK is a deviation
            as_addr = f"127.0.0.1:{run.ports['caller']}"
        report = check_files(paths, as_addr=as_addr)
        assert_counts_add_up(report)
        assert report.unparseable == [] and report.unmatched == []
        found = [v.rule for v in report.violations]
        if expected in ("no-ack", "no-ack-2xx") and paths == [run.logs["callee"]]:
            assert found == []  # the callee's log ends before its Timer H (L) would fire
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


# -- simulator traces (sipfsm simulate): each endpoint replayed at its own time ----------------


def write_sim_trace(result: SimResult, path: Path) -> Path:
    """The JSONL trace of a run, as ``sipfsm simulate --out`` writes it."""
    return result.write_trace(path)


def sim_check(tmp_path: Path, name: str, **options: Any) -> tuple[SimResult, CheckReport]:
    result = simulate(name, **options)
    path = write_sim_trace(result, tmp_path / f"{name}.jsonl")
    return result, check_files([path], profile=result.profile)


#: every built-in scenario under each transport and profile it lists
ALL_SIM_CASES = [
    (entry.name, transport, profile)
    for entry in library()
    for transport in load(entry.name).transports
    for profile in load(entry.name).profiles
]
#: not yet those with a proxy under loss: the checker replays every element as a user
#: agent, and a proxy is none (RFC 3261 §16: its transactions are hop by hop, it has no
#: dialog); of a proxy it knows only that it forwarded an INVITE with more than one Via,
#: and owes no ACK for its 2xx (docs/checker.md)
SIM_CASES = [case for case in ALL_SIM_CASES if all(e.role == "ua" for e in load(case[0]).elements)]


def test_simulator_trace_is_read_with_each_endpoint_at_its_own_time_rfc5407_3_3_1(
    tmp_path: Path,
) -> None:
    result, report = sim_check(tmp_path, "rfc5407-3.3.1")
    assert report.violations == [] and report.exit_status == 0, report.to_text()
    sends = [r for r in result.records if r.kind == "send"]
    assert report.messages == report.parsed == len(sends)
    assert report.files[0]["format"] == "sim"
    assert report.files[0]["endpoints"] == ["alice", "bob"]
    assert {d.endpoint for d in report.dialogs} == {"alice", "bob"}
    assert_counts_add_up(report)
    # the same messages with one time each (the send's) make the crossing re-INVITEs look
    # sequential at Bob: his 491 then seems to refuse a re-INVITE with nothing pending
    flat = tmp_path / "flat.jsonl"
    flat.write_text(
        "\n".join(jsonl_line(r.t, r.src, r.dst, r.message.raw) for r in sends if r.message)
    )
    assert "491-nothing-pending" in [v.rule for v in check_files([flat]).violations]


def test_lost_message_is_seen_by_its_sender_and_a_duplicate_twice_by_its_receiver(
    tmp_path: Path,
) -> None:
    options, ok = req("OPTIONS"), resp(200, "OPTIONS", to_tag="tb")
    records: list[dict[str, Any]] = [
        {"t": 0.0, "kind": "send", "src": "alice", "dst": "bob", "raw": options},
        {"t": 0.0, "kind": "lost", "src": "alice", "dst": "bob", "ref": 0},
        {"t": 0.5, "kind": "send", "src": "alice", "dst": "bob", "raw": options},  # Timer E
        {"t": 0.55, "kind": "deliver", "src": "alice", "dst": "bob", "ref": 2},
        {"t": 0.55, "kind": "send", "src": "bob", "dst": "alice", "raw": ok},
        {"t": 0.56, "kind": "deliver", "src": "alice", "dst": "bob", "ref": 2},  # duplicate
        {"t": 0.56, "kind": "send", "src": "bob", "dst": "alice", "raw": ok},  # resent
        {"t": 0.6, "kind": "deliver", "src": "bob", "dst": "alice", "ref": 4},
        {"t": 0.61, "kind": "deliver", "src": "bob", "dst": "alice", "ref": 6},
    ]
    path = tmp_path / "sim.jsonl"
    path.write_text(
        "\n".join(json.dumps({"seq": i, "element": "x", **r}) for i, r in enumerate(records))
    )
    report = check_files([path])
    assert report.violations == [], report.to_text()
    assert [(t.endpoint, t.machine, t.messages) for t in report.transactions] == [
        ("alice", "nict", [1, 2, 3, 4]),
        ("bob", "nist", [2, 3, 2, 4]),
    ]
    assert [t.id for t in check_files([path], as_addr="bob").transactions] == ["T1"]


@pytest.mark.parametrize(("name", "transport", "profile"), ALL_SIM_CASES)
def test_every_builtin_scenario_checks_with_no_deviation(
    tmp_path: Path, name: str, transport: str, profile: str
) -> None:
    _result, report = sim_check(tmp_path, name, transport=transport, profile=profile)
    assert report.violations == [], report.to_text()
    assert report.unmatched == [] and report.unparseable == []
    assert_counts_add_up(report)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    case=st.sampled_from([c for c in SIM_CASES if c[1] == "udp"]),
    seed=st.integers(0, 10_000),
    loss=st.sampled_from([0.1, 0.2, 0.3, 0.5]),
)
def test_lossy_simulations_give_only_deviations_the_simulator_refused_too(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str, str], seed: int, loss: float
) -> None:
    """Loss reorders what each endpoint sees; the checker's replay must agree with the
    simulator's machines: a deviation only where the simulator itself had no arrow for a
    message (its trace records a ``discard`` with the same text) -- a gap of the model
    under the original RFC 3261 (docs/checker.md), never one of the checker."""
    name, transport, profile = case
    result, report = sim_check(
        tmp_path_factory.mktemp("sim"),
        name,
        transport=transport,
        profile=profile,
        seed=seed,
        loss=loss,
    )
    refused = {r.text for r in result.records if r.kind == "discard"}
    assert {v.rule for v in report.violations} <= refused, report.to_text()
    assert report.unmatched == [] and report.unparseable == []
    assert_counts_add_up(report)


# -- hostile input: every good message is judged, every bad one counted (docs/limits.md) -------


def _around(tmp_path: Path, bad: str, name: str = "t.jsonl") -> CheckReport:
    """A non-INVITE exchange whose UAS sends a second final response (a deviation at
    message 4), with ``bad`` -- one JSONL line -- as line 2."""
    path = tmp_path / name
    path.write_text(
        "\n".join(
            [
                jsonl_line(0.0, A, B, req("OPTIONS")),
                bad,
                jsonl_line(0.01, B, A, resp(200, "OPTIONS", to_tag="tb")),
                jsonl_line(0.02, B, A, resp(500, "OPTIONS", to_tag="tb")),
            ]
        )
    )
    return check_files([path])


def _one_unparseable_and_judged(report: CheckReport, reason: str) -> None:
    assert [(u["message"], u["where"]) for u in report.unparseable] == [(2, "t.jsonl line 2")]
    assert reason in report.unparseable[0]["reason"], report.unparseable
    assert (report.messages, report.parsed) == (4, 3)
    assert rules(report) == [("second-final-non-invite", 4)]
    assert report.exit_status == 1
    assert_counts_add_up(report)


def test_a_cseq_of_thousands_of_digits_is_one_unparseable_message_and_the_rest_is_judged(
    tmp_path: Path,
) -> None:
    bad = req("OPTIONS", branch="z9hG4bKx").replace("CSeq: 1 ", "CSeq: " + "9" * 5000 + " ")
    report = _around(tmp_path, jsonl_line(0.005, A, B, bad))
    _one_unparseable_and_judged(report, "CSeq: a number of 5000 digits")


def test_a_content_length_of_thousands_of_digits_is_one_unparseable_message_and_the_rest_is_judged(
    tmp_path: Path,
) -> None:
    bad = req("OPTIONS", branch="z9hG4bKx").replace("Length: 0", "Length: " + "9" * 5000)
    report = _around(tmp_path, jsonl_line(0.005, A, B, bad))
    _one_unparseable_and_judged(report, "Content-Length: a number of 5000 digits")


def test_an_rseq_that_is_no_ascii_number_is_one_unparseable_message_not_a_crash_rfc3262_7_1(
    tmp_path: Path,
) -> None:
    """RFC 3262 §7.1: RSeq is 1*DIGIT. '²' passes str.isdigit() but not int(): the dialog
    machine reads RSeq with int(), so the parser rejects it first."""
    lines = [
        (0.0, A, B, req("INVITE")),
        (0.01, B, A, resp(183, to_tag="tb", extra="Require: 100rel\r\nRSeq: \u00b2\r\n")),
        (0.02, B, A, resp(486, to_tag="tb")),
        (0.03, A, B, req("ACK", to_tag="tb")),
    ]
    report = check_files([trace(tmp_path, lines)])
    assert [u["message"] for u in report.unparseable] == [2]
    assert "RSeq: '²' is not a number" in report.unparseable[0]["reason"]
    assert report.violations == [] and report.parsed == 3
    assert_counts_add_up(report)


def test_a_raw_of_thousands_of_nested_brackets_is_one_unparseable_line_and_the_rest_is_judged(
    tmp_path: Path,
) -> None:
    bad = '{"t": 0.005, "src": "a:1", "dst": "b:1", "raw": ' + "[" * 5000 + "]" * 5000 + "}"
    _one_unparseable_and_judged(_around(tmp_path, bad), "JSON nested 5001 deep")


@pytest.mark.parametrize(
    ("t", "reason"),
    [
        ("1" + "0" * 400, "a number of 401 digits"),
        ("NaN", "time nan is not a finite number of seconds"),
        ("Infinity", "time inf is not a finite number of seconds"),
        ("-Infinity", "time -inf is not a finite number of seconds"),
        ("1e400", "time inf is not a finite number of seconds"),
        ("1e15", "time 1000000000000000.0 is not a finite number of seconds within ±1e+10"),
    ],
)
def test_a_time_that_is_not_finite_is_one_unparseable_line_and_the_rest_is_judged(
    tmp_path: Path, t: str, reason: str
) -> None:
    bad = jsonl_line(0.005, A, B, req("OPTIONS", branch="z9hG4bKx")).replace(
        '"t": 0.005', f'"t": {t}'
    )
    report = _around(tmp_path, bad)
    _one_unparseable_and_judged(report, reason)
    assert all("nan" not in v.text and "inf " not in v.text for v in report.violations)


def test_a_nan_or_infinite_time_alone_is_nothing_parsed_exit_2(tmp_path: Path) -> None:
    for t in ("NaN", "Infinity"):
        path = tmp_path / "t.jsonl"
        path.write_text(jsonl_line(0.0, A, B, req("OPTIONS")).replace('"t": 0.0', f'"t": {t}'))
        report = check_files([path])
        assert (report.messages, report.parsed, len(report.unparseable)) == (1, 0, 1)
        assert report.exit_status == 2 and "no deviation" in report.to_text()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (jsonl_line(0.005, A, B, "x").replace('"t": 0.005', '"t": "0.005"'), "'t' must be a"),
        (jsonl_line(0.005, A, B, "x").replace('"raw": "x"', '"raw": ["x"]'), "'raw' must be"),
        ('{"t": 0.005, "src": "a:1"', "not JSON"),
        ("\x00\x01garbage", "not JSON"),
        ("[]", "expected a JSON object"),
    ],
)
def test_a_wrongly_typed_or_garbled_jsonl_line_is_one_unparseable_message(
    tmp_path: Path, bad: str, reason: str
) -> None:
    _one_unparseable_and_judged(_around(tmp_path, bad), reason)


def test_a_jsonl_file_starting_with_a_byte_order_mark_is_checked(tmp_path: Path) -> None:
    path = trace(tmp_path, [(0.0, A, B, req("OPTIONS")), (0.01, B, A, resp(200, "OPTIONS"))])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = check_files([path])
    assert (report.messages, report.parsed, report.exit_status) == (2, 2, 0)


def test_out_of_order_times_are_reported_and_messages_keep_their_file_numbers(
    tmp_path: Path,
) -> None:
    """The replay is in time order (the machines need it); the messages are numbered by
    their place in the file, and every time that goes back is counted and the first are
    listed: the verdict is the one of the sorted file, under the file's numbers."""
    lines = [
        (0.0, A, B, req("OPTIONS")),
        (0.02, B, A, resp(500, "OPTIONS", to_tag="tb")),  # line 2, the second final
        (0.01, B, A, resp(200, "OPTIONS", to_tag="tb")),  # line 3, the first
    ]
    report = check_files([trace(tmp_path, lines)])
    assert rules(report) == [("second-final-non-invite", 2)]
    sorted_report = check_files([trace(tmp_path, sorted(lines), name="sorted.jsonl")])
    assert rules(sorted_report) == [("second-final-non-invite", 3)]
    data = report.to_json()
    assert data["out_of_order"] == 1 and data["files"][0]["out_of_order"] == 1
    assert data["out_of_order_messages"] == [
        {"message": 3, "where": "t.jsonl line 3", "time": 0.01, "after": 0.02}
    ]
    text = report.to_text()
    assert "1 out of time order in" in text
    assert "message 3 out of time order (t.jsonl line 3): at 0.01 s, after 0.02 s" in text
    assert [t.messages for t in report.transactions] == [[1, 3, 2], [1, 3, 2]]
    assert sorted_report.to_json()["out_of_order"] == 0
    assert_counts_add_up(report)


def _sipp_entry(kind: str, raw: str, second: int, count: int | None = None) -> bytes:
    size = len(raw.encode()) if count is None else count
    head = (
        f"UDP message sent ({size} bytes):"
        if kind == "sent"
        else f"UDP message received [{size}] bytes :"
    )
    stamp = f"2026-01-01 10:00:{second:02d}.000000"
    return f"----------------------------------------------- {stamp}\n{head}\n\n{raw}\n".encode()


def test_a_sipp_entry_whose_byte_count_is_off_is_one_unparseable_message_and_the_rest_is_judged(
    tmp_path: Path,
) -> None:
    notify = req("NOTIFY", branch="z9hG4bKn", call_id="c2")
    path = tmp_path / "uas.log"
    path.write_bytes(
        _sipp_entry("received", req("OPTIONS"), 0)
        + _sipp_entry("sent", resp(200, "OPTIONS", to_tag="tb", sent_by=A), 1)
        + _sipp_entry("received", notify, 2, count=len(notify) + 500)  # off
        + _sipp_entry("sent", resp(500, "OPTIONS", to_tag="tb", sent_by=A), 3)
    )
    report = check_files([path])
    assert [(u["message"], u["where"]) for u in report.unparseable] == [(3, "uas.log line 30")]
    assert "the byte count" in report.unparseable[0]["reason"]
    assert rules(report) == [("second-final-non-invite", 4)]
    assert (report.messages, report.parsed, report.exit_status) == (4, 3, 1)
    assert_counts_add_up(report)


def test_a_real_sipp_log_with_one_byte_count_off_loses_only_that_message(tmp_path: Path) -> None:
    run = run_pair(tmp_path, "basic_uas.xml", "basic_uac.xml", capture=False)
    log = run.logs["caller"].read_bytes()
    whole = check_files([run.logs["caller"]])
    m = re.search(rb"UDP message received \[(\d+)\] bytes", log)
    assert m is not None and whole.violations == [] and whole.unparseable == []
    off = tmp_path / "off.log"
    off.write_bytes(log[: m.start(1)] + str(int(m.group(1)) - 7).encode() + log[m.end(1) :])
    report = check_files([off])
    assert report.messages == whole.messages and report.parsed == whole.parsed - 1
    assert len(report.unparseable) == 1 and "byte count" in report.unparseable[0]["reason"]
    assert report.exit_status == 1
    assert_counts_add_up(report)


# -- the command line: one line on stderr and exit 2 for an unusable file ----------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("fifo", "open: a FIFO (named pipe), not a regular file"),
        ("directory", "open: a directory, not a regular file"),
        ("missing", "no such file"),
        ("garbage", "byte 0: not a pcap, pcapng, SIPp message log or JSONL trace"),
        ("empty", "byte 0: the file is empty"),
        ("too big", "the file is larger than the limit of 10 octets (MAX_FILE_SIZE; raise it"),
    ],
)
def test_a_wholly_unusable_file_is_one_line_on_stderr_naming_it_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str, reason: str
) -> None:
    path = tmp_path / "trace.jsonl"
    if kind == "fifo":
        os.mkfifo(path)  # no writer: refused at once, never waited on
    elif kind == "directory":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(b"\x00\x01 nothing known")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "too big":
        trace(tmp_path, [(0.0, A, B, req("OPTIONS"))], name="trace.jsonl")
    limit = ["--max-file-size", "10"] if kind == "too big" else []
    code, out, err = _cli(capsys, "check", str(path), *limit)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("sipfsm: error: ") and str(path) in err
    assert reason in err


def test_a_file_name_with_a_newline_is_escaped_and_the_error_stays_on_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "a\nb.log"
    path.write_bytes(b"not a trace")
    code, out, err = _cli(capsys, "check", str(path))
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert repr(str(path)) in err
    good = trace(tmp_path, [(0.0, A, B, req("OPTIONS")), (0.0, A, B, "junk")], name="c\nd.jsonl")
    code, out, err = _cli(capsys, "check", str(good))
    assert code == 1 and err == ""
    assert "message 2 unparseable ('c\\nd.jsonl' line 2)" in out
    assert all(line.startswith(("  ", "2 messages", "no deviation")) for line in out.splitlines())


def test_a_file_name_that_is_not_utf8_is_escaped_in_text_and_given_back_in_json(
    tmp_path: Path,
) -> None:
    name = os.fsdecode(b"t\xff.jsonl")
    path = trace(tmp_path, [(0.0, A, B, req("OPTIONS")), (0.0, A, B, "junk")], name=name)
    run = [sys.executable, "-m", "sipfsm.cli", "check", str(path)]
    text = subprocess.run(run, capture_output=True, timeout=60)
    assert text.returncode == 1 and text.stderr == b""
    assert b"message 2 unparseable ('t\\udcff.jsonl' line 2)" in text.stdout
    as_json = subprocess.run([*run, "--json"], capture_output=True, timeout=60)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout.decode("utf-8", "surrogateescape"))["files"][0]["path"] == str(
        path
    )


def test_the_command_line_and_the_readers_have_the_same_file_size_limit() -> None:
    from sipfsm.check.capture import MAX_FILE_SIZE
    from sipfsm.cli import CHECK_MAX_FILE_SIZE

    assert CHECK_MAX_FILE_SIZE == MAX_FILE_SIZE


# -- fuzzing: check_files and `sipfsm check` keep their promises ---------------------------------

#: a conversation whose messages the fuzz tests below mix with hostile lines
_CONVERSATION = [
    (A, B, req("INVITE")),
    (B, A, resp(180, to_tag="tb")),
    (B, A, resp(200, to_tag="tb")),
    (A, B, req("ACK", to_tag="tb", branch="z9hG4bKa")),
    (A, B, req("BYE", cseq=2, to_tag="tb", branch="z9hG4bKbye")),
    (B, A, resp(200, "BYE", cseq=2, to_tag="tb", branch="z9hG4bKbye")),
]

_HOSTILE_RAW = st.sampled_from(
    [
        ("CSeq: 1 ", "CSeq: " + "9" * 5000 + " "),
        ("CSeq: 1 ", f"CSeq: {2**31} "),
        ("Content-Length: 0", "Content-Length: " + "9" * 5000),
        ("Max-Forwards: 70", "Max-Forwards: " + "7" * 40),
        ("Max-Forwards: 70", "Max-Forwards: \u00b2"),
        ("Call-ID: c1", "Call-ID: c\x00\x1b[31m1"),
        ("Call-ID: c1", "Call-ID: " + "c" * 20000),
        ("\r\n\r\n", "\r\n" + "X-H: v\r\n" * 600 + "\r\n"),
        ("\r\n", "\n"),
        ("SIP/2.0", "SIP/2.0\udcff"),
        ("To: ", 'To: "' + "\\" * 3000),
        ("", ""),
    ]
)


@st.composite
def _hostile_trace(draw: st.DrawFn) -> str:
    lines = []
    for n, (src, dst, raw) in enumerate(_CONVERSATION):
        t = n * 0.01 + draw(st.sampled_from([0.0, 0.0, 0.0, -0.05, 1.0]))  # some go back
        old, new = draw(_HOSTILE_RAW)
        line = jsonl_line(t, src, dst, raw.replace(old, new, 1) if old else raw)
        kind = draw(st.sampled_from(["keep"] * 6 + ["t", "cut", "nest", "type", "drop"]))
        if kind == "t":
            value = draw(st.sampled_from(["NaN", "Infinity", "1e400", "1" + "0" * 400, '"1"']))
            line = line.replace(f'"t": {json.dumps(t)}', f'"t": {value}', 1)
        elif kind == "cut":
            line = line[: draw(st.integers(0, len(line)))]
        elif kind == "nest":
            line = line[:-1] + ', "x": ' + "[" * 2000 + "]" * 2000 + "}"
        elif kind == "type":
            line = line.replace('"src": ', '"src": 1, "y": ', 1)
        if kind != "drop":
            lines.append(line)
    return ("\ufeff" if draw(st.booleans()) else "") + "\n".join(lines)


def _promises(report: CheckReport) -> None:
    assert_counts_add_up(report)
    assert report.exit_status in (0, 1, 2)
    assert (report.exit_status == 2) == (report.parsed == 0)
    text = report.to_text()
    assert "\x1b" not in text and "\x00" not in text and "nan s" not in text
    for u in report.unparseable:
        assert "\n" not in u["reason"] and "\n" not in u["where"]
    assert report.out_of_order >= len(report.out_of_order_messages)


@pytest.mark.fuzz
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=_hostile_trace(), as_b=st.booleans())
def test_fuzz_hostile_traces_are_judged_message_by_message(
    tmp_path: Path, text: str, as_b: bool
) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    try:
        report = check_files([path], as_addr=B if as_b else None)
    except (CaptureError, check.TraceError) as exc:  # the whole file (--as: no such endpoint)
        assert "\n" not in str(exc)
        return
    _promises(report)


@pytest.mark.fuzz
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=_hostile_trace(), fmt=st.sampled_from(["auto", "jsonl", "sipp", "pcap", "sim"]))
def test_fuzz_the_command_line_exits_0_1_or_2_with_one_error_line_at_most(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, fmt: str
) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    code, out, err = _cli(capsys, "check", str(path), "--format", fmt, "--json")
    assert code in (0, 1, 2)
    if err:
        assert (code, out) == (2, "")
        assert err.count("\n") == 1 and err.startswith("sipfsm: error: ")
    else:
        data = json.loads(out)
        assert data["messages"] == data["parsed"] + data["unparseable"]
        assert code == (
            2 if data["parsed"] == 0 else 1 if data["violations"] or data["unparseable"] else 0
        )
