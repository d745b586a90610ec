"""Scenario files (sipfsm.sim.scenario): YAML in, frozen values out, and clear errors.

What is checked: a complete scenario parses into the values it says (steps, patterns,
network, expectations, defaults); ``on:`` is a key, not YAML 1.1's boolean; names the
model declares (dialog states, invariants, profiles, transports) are taken from it;
malformed files -- broken YAML, wrong types, unknown keys, unknown names, out-of-range
numbers, contradictions, a drop rule on TCP, duplicate keys -- each give one
`ScenarioError` naming the file, the line, the path, what is wrong and what is allowed,
never a traceback; the built-in library lists its scenarios with titles and each loads by
name; a file loads by path; an unknown name lists what exists.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from conftest import FUZZ_EXAMPLES, SMALL_LIMITS, hostile_scenario_texts, make_request
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.check.checker import check_files
from sipfsm.engine.model import declare
from sipfsm.sim.invariants import INVARIANTS
from sipfsm.sim.limits import Limits
from sipfsm.sim.run import simulate
from sipfsm.sim.scenario import (
    DIALOG_STATES,
    Delay,
    DropRule,
    MessagePattern,
    On,
    ScenarioError,
    library,
    load,
    parse,
)

GOOD = """\
name: demo-1
title: A demo
rfc: RFC 3665 §3.1
transports: [udp]
profile: rfc3261
duration: 90
timers: {t1: 0.25}
elements:
  alice: {role: ua, call_id_owner: false}
  bob: {retry_491: false}
network:
  default: {delay: {uniform: [0.01, 0.1]}, loss: 0.1}
  links:
    - from: bob
      to: alice
      delay: 0.2
      drop: [{match: {status: 200, method: INVITE}, nth: [1, 2]}]
script:
  alice:
    - {at: 0, send: INVITE, offer: true}
    - {on: {status: 2xx, method: INVITE}, after: 2, send: BYE, headers: {Reason: "SIP;cause=200"}}
  bob:
    - {on: {request: INVITE, in_dialog: false}, respond: 180}
    - {on: {request: INVITE, in_dialog: false}, after: 1.5, respond: 486, reason: Busy}
    - {on: {request: MESSAGE}, never_answer: true, repeat: true}
expect:
  - {seen: {from: bob, to: alice, status: 486, count: 1}}
  - {not_seen: {status: [500, 599]}}
  - {end_state: {element: alice, dialog: morgue}}
  - {no_violations: true}
  - {violation: leaked-transaction}
  - order: [{request: INVITE}, {status: 180}]
"""


def test_a_complete_scenario_parses_into_its_values() -> None:
    sc = parse(GOOD, "demo.yaml")
    assert (sc.name, sc.title, sc.rfc) == ("demo-1", "A demo", "RFC 3665 §3.1")
    assert sc.transports == ("udp",)
    assert (sc.profile, sc.duration, sc.t1, sc.t2) == ("rfc3261", 90.0, 0.25, 4.0)
    assert sc.element_names == ("alice", "bob")
    assert sc.element("alice").call_id_owner is False
    assert sc.element("bob").retry_491 is False
    assert sc.network.default.delay == Delay("uniform", 0.01, 0.1)
    (bob_alice,) = sc.network.links
    assert bob_alice.drop == (
        DropRule(
            MessagePattern("response", "INVITE", (200, 200)),
            frozenset({1, 2}),
            where="network.links[0].drop[0]",
        ),
    )
    a0, a1 = sc.steps_of("alice")
    assert (a0.action, a0.method, a0.to, a0.at, a0.body) == ("send", "INVITE", "bob", 0.0, True)
    assert a1.on == On("response", MessagePattern("response", "INVITE", (200, 299)))
    assert a1.after == 2.0 and a1.headers == (("Reason", "SIP;cause=200"),)
    b0, b1, b2 = sc.steps_of("bob")
    assert b0.on == On("request", MessagePattern("request", "INVITE", in_dialog=False))
    assert (b1.code, b1.reason) == (486, "Busy")
    assert (b2.action, b2.repeat) == ("never_answer", True)
    assert b1.where == "script.bob[1] (line 24)"
    kinds = [e.kind for e in sc.expect]
    assert kinds == ["seen", "not_seen", "end_state", "no_violations", "violation", "order"]
    assert sc.expect[0].text == "seen 486 (any method) bob -> alice, exactly 1 time"


def test_on_is_a_key_not_a_yaml_1_1_boolean() -> None:
    sc = parse(
        "name: x\ntitle: t\nelements: {a: {}, b: {}}\n"
        "script:\n  b:\n    - on: {request: BYE}\n      respond: 200\n"
    )
    assert sc.script[0].on is not None


def test_defaults_both_transports_both_profiles_rfc6026_and_300_s() -> None:
    sc = parse("name: x\ntitle: t\nelements: {alice: {}, bob: {}}\n")
    assert sc.transports == ("udp", "tcp")
    assert sc.profiles == ("rfc6026", "rfc3261")
    assert (sc.profile, sc.duration, sc.t1, sc.t2, sc.t4) == ("rfc6026", 300.0, 0.5, 4.0, 5.0)
    assert sc.element("alice").auto_answer


def test_names_come_from_the_model_dialog_states_and_invariants() -> None:
    leaves = tuple(s.name for s in declare("dialog").leaf_states)
    assert (*leaves, "none") == DIALOG_STATES
    assert "confirmed" not in DIALOG_STATES  # a parent state is never current
    assert set(INVARIANTS) == {
        "one-final-response",
        "no-487-to-cancel",
        "491-without-pending",
        "send-after-terminated",
        "leaked-transaction",
        "proxy-final-response",
        "response-without-branch",
    }


BASE = "name: x\ntitle: t\nelements:\n  alice: {}\n  bob: {}\n"

#: (what, text, line, path, words in the message)
MALFORMED = [
    ("broken YAML", "name: x\ntitle: [unclosed\n", 3, "", "not valid YAML"),
    ("a tab", "name: x\n\ttitle: t\n", 2, "", "not valid YAML"),
    ("empty file", "", None, "", "the scenario is empty"),
    ("a list at the top", "- a\n", 1, "", "expected a mapping, got a list"),
    ("missing title", "name: x\nelements: {a: {}}\n", 1, "", "the key 'title' is missing"),
    ("unknown top key", BASE + "bogus: 1\n", 6, "bogus", "unknown key 'bogus'"),
    ("duplicate key", BASE + "script: {}\nscript: {}\n", 7, "script", "appears twice"),
    ("bad name", "name: 'a b'\ntitle: t\nelements: {a: {}}\n", 1, "name", "is not a scenario name"),
    (
        "an outbound proxy that is a UA",
        BASE.replace("alice: {}", "alice: {outbound_proxy: bob}"),
        4,
        "elements.alice.outbound_proxy",
        "'bob' is not another proxy element",
    ),
    (
        "a location target that is no element",
        BASE + "  p1: {role: proxy, location: {bob: [bob, carol]}}\n",
        6,
        "elements.p1.location.bob[1]",
        "'carol' is not another element",
    ),
    (
        "a forking that is neither",
        BASE + "  p1: {role: proxy, forking: serial}\n",
        6,
        "elements.p1.forking",
        "unknown forking 'serial'",
    ),
    (
        "a UA key on a proxy",
        BASE + "  p1: {role: proxy, auto_answer: false}\n",
        6,
        "elements.p1.auto_answer",
        "unknown key 'auto_answer'",
    ),
    (
        "a script for a proxy",
        BASE + "  p1: {role: proxy}\nscript:\n  p1:\n    - {at: 0, send: INVITE}\n",
        8,
        "script.p1",
        "a proxy has no script",
    ),
    ("unknown profile", BASE + "profile: rfc2543\n", 6, "profile", "unknown profile"),
    (
        "code out of range",
        BASE + "script:\n  bob:\n    - {on: {request: INVITE}, respond: 999}\n",
        8,
        "script.bob[0].respond",
        "999 is out of range",
    ),
    (
        "lower-case method",
        BASE + "script:\n  alice:\n    - {at: 0, send: invite}\n",
        8,
        "script.alice[0].send",
        "methods are upper case",
    ),
    (
        "ACK from a script",
        BASE + "script:\n  alice:\n    - {at: 0, send: ACK}\n",
        8,
        "script.alice[0].send",
        "the UA core sends ACKs",
    ),
    (
        "no time or event",
        BASE + "script:\n  alice:\n    - {send: INVITE}\n",
        8,
        "script.alice[0]",
        "exactly one of at",
    ),
    (
        "respond without a request",
        BASE + "script:\n  alice:\n    - {at: 1, respond: 200}\n",
        8,
        "script.alice[0]",
        "respond needs on: {request: METHOD}",
    ),
    (
        "respond to CANCEL",
        BASE + "script:\n  bob:\n    - {on: {request: CANCEL}, respond: 200}\n",
        8,
        "script.bob[0]",
        "the UA core answers a CANCEL",
    ),
    (
        "unknown element",
        BASE + "script:\n  carol:\n    - {at: 0, send: INVITE}\n",
        7,
        "script.carol",
        "no element is named 'carol'",
    ),
    (
        "send to itself",
        BASE + "script:\n  alice:\n    - {at: 0, send: BYE, to: alice}\n",
        8,
        "script.alice[0].to",
        "does not send to itself",
    ),
    (
        "two actions",
        BASE + "script:\n  alice:\n    - {at: 0, send: BYE, respond: 200}\n",
        8,
        "script.alice[0]",
        "does send and respond at once",
    ),
    (
        "after without on",
        BASE + "script:\n  alice:\n    - {at: 0, after: 1, send: BYE}\n",
        8,
        "script.alice[0].after",
        "after counts from an event",
    ),
    (
        "yes is no boolean",
        BASE + "script:\n  alice:\n    - {at: 0, send: INVITE, offer: yes}\n",
        8,
        "script.alice[0].offer",
        "expected true or false",
    ),
    (
        "negative time",
        BASE + "script:\n  alice:\n    - {at: -1, send: INVITE}\n",
        8,
        "script.alice[0].at",
        "-1 is out of range",
    ),
    (
        "vague event",
        BASE + "script:\n  alice:\n    - {on: {method: INVITE}, send: BYE}\n",
        8,
        "script.alice[0].on",
        "say whether it is a request or a response",
    ),
    (
        "unknown delay",
        BASE + "network:\n  default: {delay: {normal: 1}}\n",
        7,
        "network.default.delay.normal",
        "unknown delay distribution",
    ),
    (
        "loss above one",
        BASE + "network:\n  default: {loss: 1.5}\n",
        7,
        "network.default.loss",
        "1.5 is out of range",
    ),
    (
        "link to itself",
        BASE + "network:\n  links:\n    - {from: bob, to: bob}\n",
        8,
        "network.links[0].to",
        "joins two different elements",
    ),
    (
        "drop rule on TCP",
        BASE + "network:\n  links:\n    - {from: bob, to: alice, drop: "
        "[{match: {request: ACK}}]}\n",
        6,
        "network",
        "which TCP never does",
    ),
    (
        "unknown dialog state",
        BASE + "expect:\n  - {end_state: {element: alice, dialog: confirmed}}\n",
        7,
        "expect[0].end_state.dialog",
        "unknown dialog state 'confirmed'",
    ),
    (
        "unknown invariant",
        BASE + "expect:\n  - {violation: foo}\n",
        7,
        "expect[0].violation",
        "unknown invariant 'foo'",
    ),
    (
        "bad status",
        BASE + "expect:\n  - {seen: {status: 2yy}}\n",
        7,
        "expect[0].seen.status",
        "expected a status",
    ),
    (
        "unknown expectation",
        BASE + "expect:\n  - {maybe: 1}\n",
        7,
        "expect[0].maybe",
        "unknown expectation 'maybe'",
    ),
    (
        "an order of one",
        BASE + "expect:\n  - {order: [{request: BYE}]}\n",
        7,
        "expect[0].order",
        "at least two",
    ),
    (
        "a route to no outbound proxy",
        "name: x\ntitle: t\nelements:\n  alice: {outbound_route: true}\n  bob: {}\n",
        4,
        "elements.alice.outbound_route",
        "needs an outbound proxy",
    ),
    (
        "a Request-URI of a response",
        BASE + "expect:\n  - {seen: {status: 200, uri: 'sip:a@b'}}\n",
        7,
        "expect[0].seen.uri",
        "a response has no Request-URI",
    ),
    (
        "a Route that is no list",
        BASE + "expect:\n  - {seen: {request: BYE, route: '<sip:p1;lr>'}}\n",
        7,
        "expect[0].seen.route",
        "expected a list",
    ),
]


@pytest.mark.parametrize(
    ("what", "text", "line", "path", "words"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_scenario_gets_an_error_saying_where_and_what(
    what: str, text: str, line: int | None, path: str, words: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        parse(text, "bad.yaml")
    err = info.value
    assert (err.file, err.line, err.path) == ("bad.yaml", line, path)
    assert words in err.what
    message = str(err)
    assert message.startswith(f"bad.yaml:{line}: " if line else "bad.yaml: ")
    assert "\n" not in message and "Traceback" not in message


def test_the_error_says_what_is_allowed() -> None:
    with pytest.raises(ScenarioError) as info:
        parse(BASE + "script:\n  alice:\n    - {at: 0, send: PUBLISH}\n", "bad.yaml")
    assert str(info.value) == (
        "bad.yaml:8: script.alice[0].send: unknown method 'PUBLISH' (allowed: INVITE, UPDATE, "
        "BYE, CANCEL, REFER, INFO, OPTIONS, MESSAGE, REGISTER)"
    )


def test_a_drop_rule_on_tcp_is_allowed_when_the_scenario_says_so() -> None:
    sc = parse(
        BASE + "network:\n  drops_on_tcp: true\n  default: {drop: [{match: "
        "{request: ACK}, every: true}]}\n"
    )
    assert sc.network.drops_on_tcp and sc.network.has_drops


def test_the_library_lists_the_built_in_scenarios_with_titles() -> None:
    entries = {e.name: e for e in library()}
    assert {"rfc3665-3.1", "4xx-486-busy", "rfc5407-3.3.1"} <= set(entries)
    assert entries["rfc5407-3.3.1"].title == "Re-INVITE crossover"
    assert entries["rfc5407-3.3.1"].rfc == "RFC 5407 §3.3.1"
    for name in entries:
        sc = load(name)
        assert sc.name == name  # each file is named after its scenario
        assert sc.source == f"library:{name}.yaml"


def test_the_library_is_in_natural_order() -> None:
    names = [e.name for e in library()]
    key = [[int(p) if p.isdigit() else p for p in re.split(r"(\d+)", n)] for n in names]
    assert key == sorted(key)


def test_a_file_loads_by_path_and_errors_name_the_file(tmp_path: Path) -> None:
    good = tmp_path / "mine.yaml"
    good.write_text(BASE, encoding="utf-8")
    assert load(good).name == "x"
    assert load(str(good)).source == str(good)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE + "duration: 0\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"^{re.escape(str(bad))}:6: duration: 0 is out"):
        load(bad)


def test_an_unknown_name_or_missing_file_lists_what_exists() -> None:
    with pytest.raises(ScenarioError) as info:
        load("rfc9999-1")
    assert "no built-in scenario or file of this name" in str(info.value)
    assert "rfc5407-3.3.1" in info.value.allowed
    with pytest.raises(ScenarioError, match="no such file"):
        load("/nonexistent/scenario.yaml")


def test_patterns_match_requests_and_responses_by_their_fields() -> None:
    from sipfsm.values.message import response_to

    invite = make_request("INVITE", body="v=0")
    reinvite = make_request("INVITE", to_tag="b", cseq=2)
    busy = response_to(invite, 486)
    assert MessagePattern("request", "INVITE", in_dialog=False).matches(invite)
    assert not MessagePattern("request", "INVITE", in_dialog=False).matches(reinvite)
    assert MessagePattern("request", cseq=2).matches(reinvite)
    assert MessagePattern(status=(400, 499), method="INVITE").matches(busy)
    assert not MessagePattern(status=(400, 499)).matches(invite)
    assert MessagePattern(method="INVITE").matches(busy)  # a response's CSeq method
    assert MessagePattern(body=True).matches(invite) and not MessagePattern(body=True).matches(busy)
    assert MessagePattern(src="bob").matches_wire(busy, "bob", "alice", False, False)
    assert not MessagePattern(lost=True).matches_wire(busy, "bob", "alice", False, False)


def test_patterns_match_the_request_uri_route_and_record_route_rfc3261_12_2_1_1() -> None:
    from sipfsm.values.message import response_to

    bye = make_request("BYE", uri="sip:alice@alice.example.com", to_tag="a", headers=(
        ("Route", "<sip:p2.example.com;lr>, <sip:p1.example.com;lr>"),))
    ok = response_to(make_request("INVITE"), 200, headers=(
        ("Record-Route", "<sip:p2.example.com;lr>"), ("Record-Route", "<sip:p1.example.com;lr>")))
    both = ("<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>")
    assert MessagePattern(uri="sip:alice@alice.example.com", route=both).matches(bye)
    assert not MessagePattern(route=both[:1]).matches(bye)
    assert not MessagePattern(route=()).matches(bye) and MessagePattern(route=()).matches(ok)
    assert MessagePattern(record_route=both).matches(ok)
    assert not MessagePattern(uri="sip:alice@alice.example.com").matches(ok)
    pattern = parse(
        BASE + "expect:\n  - {seen: {request: BYE, uri: 'sip:alice@alice.example.com', "
        "route: ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']}}\n"
    ).expect[0].pattern
    assert pattern is not None and pattern.route == both
    assert "Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>" in pattern.describe()
    assert "no Record-Route" in MessagePattern(record_route=()).describe()


# -- hostile scenarios: every limit explicit, one error, never a traceback (docs/limits.md) -----

SMALL = "name: x\ntitle: y\nelements: {alice: {}, bob: {}}\n"


def laughs(levels: int) -> str:
    """A billion-laughs document: each anchor lists the one before nine times."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return SMALL + "description:\n  " + "\n  ".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused_by_its_expanded_size_without_expanding_it() -> None:
    with pytest.raises(ScenarioError, match=r"more than 100,000 values once its aliases") as e:
        parse(laughs(10), "bomb.yaml")
    assert "--limit yaml-nodes=N" in str(e.value) and e.value.limit
    # the limit is the only thing in the way: raised, a smaller bomb is read (and refused
    # for what it is: a list where a text belongs)
    with pytest.raises(ScenarioError, match="description: expected a text"):
        parse(laughs(5), "raised.yaml", Limits(yaml_nodes=100_000, yaml_aliases=1_000))


def test_yaml_aliases_are_counted_against_their_limit() -> None:
    text = SMALL + "x: &a 1\ny: [" + ", ".join(["*a"] * 300) + "]\n"
    with pytest.raises(ScenarioError, match=r":5: more than 256 aliases .*--limit yaml-aliases"):
        parse(text, "f.yaml")


@pytest.mark.parametrize(
    "value", ["[" * 5000 + "]" * 5000, "{a: " * 2000 + "1" + "}" * 2000], ids=["lists", "maps"]
)
def test_yaml_nesting_deeper_than_the_limit_is_refused_before_it_is_built(value: str) -> None:
    with pytest.raises(ScenarioError, match=r"nest more than 32 deep .*--limit yaml-depth"):
        parse(SMALL + "description: " + value + "\n", "deep.yaml")


def test_a_yaml_value_that_contains_itself_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"f.yaml:3: the alias \*e is inside the value"):
        parse("name: x\ntitle: y\nelements: &e {alice: *e, bob: {}}\n", "f.yaml")


def test_a_scenario_larger_than_the_size_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"more than a scenario may be .*yaml-bytes"):
        parse(SMALL + "description: '" + "x" * 1_100_000 + "'\n", "big.yaml")
    big = tmp_path / "big.yaml"
    big.write_text(SMALL + "#" * 2000 + "\n")
    with pytest.raises(ScenarioError, match=r"more than 1,000 bytes .*yaml-bytes=1,000"):
        load(big, Limits(yaml_bytes=1000))


@pytest.mark.parametrize("name", ["/dev/zero", "/dev/null", "/tmp"])
def test_a_scenario_file_must_be_a_regular_file(name: str) -> None:
    with pytest.raises(ScenarioError, match="not a regular file"):
        load(name)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: a\x01b", r"f.yaml:2: not valid YAML: the character '\\x01' is not allowed"),
        ("title: a\x00b", r"the character '\\x00' is not allowed"),
        ("duration: " + "1" * 5000, r"duration: not valid YAML: .* cannot be read as int"),
        ("description: 2001-13-45", r"cannot be read as timestamp: month must be in 1..12"),
        ("duration: !!float abc", r"'abc' cannot be read as float"),
        ("duration: !!bool abc", r"'abc' cannot be read as bool"),
        ('title: "a\\nb"', r"title: the character '\\n' is not allowed here"),
        ('title: "\\ud800"', r"title: the character '\\ud800' is not allowed here"),
        ('rfc: "\\e[31m"', r"rfc: the character '\\x1b' is not allowed here"),
        ("duration: 1.0e+300", r"duration: 1e\+300 is out of range .*<= 1e\+06"),
        ("timers: {t1: 2000000}", r"timers.t1: 2000000 is out of range"),
    ],
)
def test_what_yaml_or_a_field_cannot_hold_is_one_error_naming_the_line(
    text: str, message: str
) -> None:
    key = text.split(":")[0]
    rest = [line for line in SMALL.splitlines() if not line.startswith(key + ":")]
    with pytest.raises(ScenarioError, match=message) as e:
        parse("\n".join([rest[0], text, *rest[1:]]) + "\n", "f.yaml")
    assert "\n" not in str(e.value)


def test_a_description_may_take_several_lines() -> None:
    assert parse(SMALL + "description: |\n  one\n  two\n").description == "one\ntwo\n"


def test_a_scenario_name_is_at_most_64_characters() -> None:
    with pytest.raises(ScenarioError, match="at most 64 letters"):
        parse(SMALL.replace("name: x", "name: " + "x" * 65))


def step_with(headers: str, send: bool = True) -> str:
    what = "at: 0, send: OPTIONS, to: bob" if send else "on: {request: OPTIONS}, respond: 200"
    return SMALL + f"script:\n  alice:\n    - {{{what}, headers: {{{headers}}}}}\n"


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ("Content-Length", r"Content-Length: the transport writes it from the body"),
        ("l", r"l \(Content-Length\): the transport writes it from the body \(RFC 3261 §18"),
        ("CSeq", r"CSeq: the UA core writes it \(RFC 3261 §8.1.1.5\); a second one makes"),
        ("cseq", r"cseq \(CSeq\): the UA core writes it"),
        ("Via", r"Via: the transaction layer writes it \(RFC 3261 §8.1.1.7, §17.1.1.3\)"),
        ("v", r"v \(Via\): the transaction layer"),
        ("Call-ID", r"Call-ID: the UA core writes it \(RFC 3261 §8.1.1.4\)"),
        ("i", r"i \(Call-ID\): the UA core"),
        ("From", r"From: the UA core writes it \(RFC 3261 §8.1.1.3\)"),
        ("To", r"To: the UA core writes it \(RFC 3261 §8.1.1.2\)"),
        ("Max-Forwards", r"Max-Forwards: the UA core writes it \(RFC 3261 §8.1.1.6\)"),
    ],
)
def test_a_script_cannot_set_a_header_field_the_ua_writes_rfc3261_8_1_1(
    header: str, rule: str
) -> None:
    for send in (True, False):
        with pytest.raises(ScenarioError, match=rf"headers\.{header}: a script cannot set {rule}"):
            parse(step_with(f"{header}: '5'", send), "f.yaml")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ("X^Y: a", r"'X\^Y' is not a header field name .*RFC 3261 §7.3.1"),
        ('X-Foo: "a\\r\\nCSeq: 5 INVITE"', r"the character '\\r' is not allowed here"),
        ("Contact: garbage", r"'garbage' is not a Contact value .*RFC 3261 §20.10"),
        ("m: '<sip:a@b'", r"is not a Contact value"),
        ("Date: today", r"'today' is not a Date .*RFC 3261 §20.17"),
        ("Expires: ''", r"Expires: '' is not a number .*RFC 3261 §25.1"),
        ("RAck: '1 two INVITE'", r"RAck: .* is not 'response-num CSeq-num Method'"),
    ],
)
def test_header_fields_a_message_could_not_carry_are_refused(headers: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse(step_with(headers), "f.yaml")


def test_a_to_tag_is_a_token_rfc3261_19_3() -> None:
    text = SMALL + (
        "script:\n  alice:\n    - {at: 0, send: BYE, to: bob, out_of_dialog: true, "
        "to_tag: 'a;b=c'}\n"
    )
    with pytest.raises(ScenarioError, match=r"to_tag: 'a;b=c' is not a tag"):
        parse(text)


def test_contact_and_date_in_their_rfc_forms_are_taken() -> None:
    sc = parse(step_with(
        'Contact: "<sip:a@b.example.com>;expires=60, \\"A b\\" <sip:c@d>", '
        'Date: "Sat, 13 Nov 2010 23:29:00 GMT", Expires: 60'
    ))
    assert dict(sc.script[0].headers)["Expires"] == "60"


_HEADER_NAMES = st.one_of(
    st.sampled_from(
        ["Contact", "m", "Date", "Expires", "Allow", "Subject", "s", "Via", "CSeq", "l", "To",
         "From", "f", "Call-ID", "Content-Length", "Max-Forwards", "Require", "Supported"]
    ),
    st.text(st.sampled_from("AZaz09-.!%*_+`'~^|:@ \t"), min_size=1, max_size=6),
)
_HEADER_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["<sip:a@b.example.com>", "sip:a@b", "*", '"A b" <sip:c@d>;expires=60',
         "<sip:a@b>, <sip:c@d>", "Sat, 13 Nov 2010 23:29:00 GMT", "60", "1 INVITE", ""]
    ),
)


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES // 3, deadline=None)
@given(headers=st.dictionaries(_HEADER_NAMES, _HEADER_VALUES, min_size=1, max_size=3),
       respond=st.booleans())
def test_header_fields_a_scenario_accepts_give_messages_the_checker_parses(
    headers: dict[str, str], respond: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # what the scenario takes must come out as SIP the trace checker reads: a header field
    # the UA writes, or a malformed Contact or Date, made `check` call the simulator's own
    # messages unparseable
    fields = json.dumps(headers)
    text = SMALL + "transports: [udp]\nscript:\n" + (
        "  alice:\n    - {at: 0, send: OPTIONS, to: bob}\n"
        f"  bob:\n    - {{on: {{request: OPTIONS}}, respond: 200, headers: {fields}}}\n"
        if respond
        else f"  alice:\n    - {{at: 0, send: OPTIONS, to: bob, headers: {fields}}}\n"
    )
    try:
        scenario = parse(text, "f.yaml")
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        return
    trace = tmp_path_factory.mktemp("trace") / "f.jsonl"
    simulate(scenario).write_trace(trace)
    report = check_files([trace], fmt="sim")
    assert report.unparseable == [], (headers, report.unparseable)


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(text=hostile_scenario_texts())
def test_a_hostile_scenario_is_read_or_refused_in_one_line_within_the_limits(text: str) -> None:
    started = time.monotonic()
    try:
        parse(text, "hostile.yaml", SMALL_LIMITS)
    except ScenarioError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith("hostile.yaml")
    assert time.monotonic() - started < 5


_PLAIN = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
    st.sampled_from(["on", "yes", "2001-12-14", "1_000", "0x1F", ".inf", "~", "*a", "&b", "|"]),
)  # fmt: skip
_TREES = st.recursive(
    _PLAIN,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(tree=_TREES, shared=st.booleans(), flow=st.booleans())
def test_the_document_is_read_as_pyyaml_reads_it(tree: object, shared: bool, flow: bool) -> None:
    # the scenario reader composes the document itself (iteratively, within the limits):
    # what it builds is what PyYAML's own composer builds, aliases included
    import yaml

    from sipfsm.sim.scenario import _Doc, _Loader

    doc = {"a": tree, "b": tree} if shared else {"a": tree}  # shared: an anchor and an alias
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
    expected = yaml.load(text, Loader=_Loader)  # (_Loader is a SafeLoader)
    assert _Doc("f.yaml", text).data == expected
