"""The host of a sans-IO element (`sipfsm.elements.host`): `ActionLog` keeps what the
element does as values, in order, and hands them over once."""

from __future__ import annotations

from conftest import make_request

from sipfsm.elements.host import ActionLog, CancelTimer, Count, Note, Send, SetTimer


def test_an_action_log_keeps_every_output_in_order_and_hands_it_over_once() -> None:
    log = ActionLog(now=1.5)
    message = make_request("OPTIONS")
    log.send("bob", message, retransmission=True, machine="nict", tx="nict-1")
    log.set_timer(("tx", "nict-1", "E"), 0.5)
    log.cancel_timer(("tx", "nict-1", "E"))
    log.record("tu", text="hello", rfc="RFC 3261 §8")
    log.count("send 200")
    assert log.now == 1.5
    assert log.take() == [
        Send("bob", message, True, "nict", "nict-1", False),
        SetTimer(("tx", "nict-1", "E"), 0.5),
        CancelTimer(("tx", "nict-1", "E")),
        Note("tu", (("text", "hello"), ("rfc", "RFC 3261 §8"))),
        Count("send 200"),
    ]
    assert log.take() == []


def test_records_are_kept_only_when_the_host_records() -> None:
    log = ActionLog(recording=False)
    log.record("tu", text="not kept")
    log.count("kept anyway")
    assert log.recording is False
    assert log.take() == [Count("kept anyway")]
