"""The scripted transaction user (sipfsm.sim.tu) and how its steps play out in a run.

What is checked: ``at`` steps are the timed ones; an ``on`` step fires on the first event
that matches it and only once, unless ``repeat: true``; request, response, transaction
event and dialog-state triggers each fire only on their own kind; a step that responds or
never answers takes charge of the request (no answer by default); in a run, a step runs
``after`` seconds after its event, ``at`` steps at their time, and a respond step answers
the very request that set it off.
"""

from __future__ import annotations

from conftest import MESSAGES, PATTERNS, make_request
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.sim.run import simulate
from sipfsm.sim.scenario import MessagePattern, On, Step, StepKind, parse
from sipfsm.sim.tu import ScriptedTU, message_key
from sipfsm.values.message import Message, Request, response_to

INVITE = make_request("INVITE", from_tag="a")
REINVITE = make_request("INVITE", from_tag="a", to_tag="b", cseq=2)
BYE = make_request("BYE", from_tag="a", to_tag="b", cseq=3)


def step(
    index: int,
    on: On | None = None,
    *,
    at: float | None = None,
    action: StepKind = "send",
    repeat: bool = False,
) -> Step:
    return Step("bob", index, f"script.bob[{index}]", action, at, on, method="BYE", repeat=repeat)


def request(method: str, **kw: object) -> On:
    return On("request", MessagePattern("request", method, **kw))  # type: ignore[arg-type]


def test_timed_steps_are_the_at_steps_in_script_order() -> None:
    s0, s1, s2 = step(0, at=5.0), step(1, request("BYE")), step(2, at=1.0)
    assert ScriptedTU([s0, s1, s2]).timed() == (s0, s2)


def test_an_on_step_fires_once_on_the_first_match() -> None:
    s = step(0, request("INVITE", in_dialog=False))
    tu = ScriptedTU([s])
    assert tu.on_request(REINVITE) == []  # does not match
    assert tu.on_request(INVITE) == [s]
    assert tu.on_request(INVITE) == []  # fired already


def test_a_repeat_step_fires_every_time() -> None:
    s = step(0, request("INVITE"), repeat=True)
    tu = ScriptedTU([s])
    assert tu.on_request(INVITE) == [s]
    assert tu.on_request(REINVITE) == [s]


def test_each_trigger_kind_fires_only_on_its_own_events() -> None:
    on_response = step(0, On("response", MessagePattern("response", "INVITE", (200, 299))))
    on_timeout = step(1, On("event", MessagePattern(method="INVITE"), event="timeout"))
    on_state = step(2, On("dialog", dialog="established"))
    on_bye = step(3, request("BYE"))
    tu = ScriptedTU([on_response, on_timeout, on_state, on_bye])
    ok = response_to(INVITE, 200, to_tag="b")
    assert tu.on_request(INVITE) == []
    assert tu.on_response(response_to(INVITE, 180)) == []
    assert tu.on_event("timeout", "BYE") == []
    assert tu.on_dialog("early") == []
    assert tu.on_response(ok) == [on_response]
    assert tu.on_event("timeout", "INVITE") == [on_timeout]
    assert tu.on_dialog("established") == [on_state]
    assert tu.on_request(BYE) == [on_bye]


def test_only_respond_and_never_answer_steps_take_charge_of_a_request() -> None:
    assert ScriptedTU.answers([step(0, request("BYE"), action="respond")])
    assert ScriptedTU.answers([step(0, request("BYE"), action="never_answer")])
    assert not ScriptedTU.answers([step(0, request("BYE"), action="send")])
    assert not ScriptedTU.answers([])


TIMING = """\
name: timing
title: steps run when they say
transports: [tcp]
elements: {alice: {}, bob: {}}
network: {default: {delay: 0.1}}
script:
  alice:
    - {at: 1.5, send: INVITE}
    - {on: {status: 180, method: INVITE}, after: 0.25, send: CANCEL}
  bob:
    - {on: {request: INVITE, in_dialog: false}, after: 0.5, respond: 180}
    - {on: {request: INVITE, in_dialog: false}, after: 3, respond: 200}
    - {on: {request: OPTIONS}, never_answer: true}
"""


def test_steps_run_at_their_time_and_after_their_event() -> None:
    r = simulate(parse(TIMING, "timing.yaml"))
    sent = [(round(w.t, 6), w.src, w.message.summary()) for w in r.wire]
    assert sent[:6] == [
        (1.5, "alice", "INVITE (CSeq 1)"),
        (1.8, "bob", "100 Trying (INVITE)"),  # arrived at 1.6; the TU silent for 200 ms
        (2.1, "bob", "180 Ringing (INVITE)"),  # 1.6 + 0.5
        (2.45, "alice", "CANCEL (CSeq 1)"),  # the 180 arrived at 2.2, + 0.25
        (2.55, "bob", "200 OK (CANCEL)"),
        (2.55, "bob", "487 Request Terminated (INVITE)"),
    ]
    # the scripted 200 at 4.6 finds the INVITE answered with 487, and is not sent
    assert not any("200 OK (INVITE)" in s for _, _, s in sent)
    notes = [x.text for x in r.records if x.kind == "tu" and x.element == "bob"]
    assert any("does not send 200: INVITE (CSeq 1) was already answered" in n for n in notes)
    assert r.errors == [] and r.violations == []


def test_a_respond_step_answers_the_request_that_set_it_off() -> None:
    text = TIMING.replace(
        "    - {at: 1.5, send: INVITE}\n",
        "    - {at: 1.5, send: INVITE}\n    - {at: 1.6, send: OPTIONS}\n",
    )
    text = text.replace(
        "{on: {request: OPTIONS}, never_answer: true}",
        "{on: {request: OPTIONS}, after: 5, respond: 405}",
    )
    r = simulate(parse(text, "t.yaml"))
    (answer,) = [w for w in r.wire if w.message.cseq_method == "OPTIONS" and w.src == "bob"]
    assert answer.message.status == 405  # type: ignore[union-attr]
    assert round(answer.t, 6) == 6.7
    assert answer.message.header("Allow")  # the catalogue requires Allow in a 405


def test_never_answer_keeps_the_default_answer_away_and_the_transaction_leaks() -> None:
    text = TIMING.replace("    - {at: 1.5, send: INVITE}\n", "    - {at: 1.5, send: OPTIONS}\n")
    r = simulate(parse(text, "t.yaml"))
    assert [w.message.summary() for w in r.wire] == ["OPTIONS (CSeq 1)"]
    assert [v.rule for v in r.violations] == ["leaked-transaction"]  # bob's NIST in Trying
    assert "nist-1" in r.violations[0].text and r.violations[0].element == "bob"


@settings(max_examples=300, deadline=None)
@given(MESSAGES, MESSAGES, PATTERNS)
def test_messages_with_the_same_key_match_every_pattern_alike(
    a: Message, b: Message, pattern: MessagePattern
) -> None:
    # the script's index remembers the steps a message matches under its message_key
    if message_key(a) == message_key(b):
        assert pattern.matches(a) == pattern.matches(b)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(PATTERNS, st.booleans()), max_size=6), st.lists(MESSAGES, max_size=8))
def test_on_steps_fire_as_their_patterns_read_each_message_whatever_was_seen_before(
    patterns: list[tuple[MessagePattern, bool]], messages: list[Message]
) -> None:
    def steps() -> list[Step]:
        out = []
        for i, (pattern, repeat) in enumerate(patterns):
            kind = "request" if pattern.kind != "response" else "response"
            out.append(step(i, On(kind, pattern), repeat=repeat))  # type: ignore[arg-type]
        return out

    remembered, fresh = ScriptedTU(steps()), steps()
    fired: set[int] = set()
    for m in messages:
        got = remembered.on_request(m) if isinstance(m, Request) else remembered.on_response(m)
        kind = "request" if isinstance(m, Request) else "response"
        expected = []
        for s in fresh:
            assert s.on is not None
            if s.on.kind == kind and s.on.pattern.matches(m) and (s.repeat or s.index not in fired):
                fired.add(s.index)
                expected.append(s)
        assert [s.index for s in got] == [s.index for s in expected]
