"""Shared helpers for the transaction and runtime tests.

* Messages modelled on the RFC 3261 §17.1.1.3 example (an INVITE, a BYE ...) and `reply`,
  which answers one of them the way a UAS would (§8.2.6.2).
* `Driver`: one engine and one instance; ``driver(event)`` feeds an event and returns the
  actions, as the h11 ``ConnectionPair`` helper does for h11.
* `PATHS` / `at`: the shortest event sequence that brings each transaction machine into
  each of its states, so a test of one arrow starts exactly in the arrow's source state.
* `MESSAGES` / `PATTERNS`: hypothesis strategies of messages varied in every field a
  scenario's `MessagePattern` reads, and of such patterns (the simulator's caches keyed by
  those fields are checked against reading the patterns).

The expected values in the tests are written from the RFC text, never read back from the
declarations: the tests are the independent check of sipfsm/machines/transaction.py.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from sipfsm.decl.instance import Instance
from sipfsm.decl.timers import Timing
from sipfsm.engine.model import declare, engine
from sipfsm.engine.runtime import Engine
from sipfsm.machines.proxy import ProxyInstance, branch_prefix, forwarded
from sipfsm.sim.limits import Limits
from sipfsm.sim.scenario import MessagePattern
from sipfsm.values.events import (
    Action,
    Event,
    MessageSent,
    ReportOutcome,
    RequestReceived,
    ResponseReceived,
    TimerFired,
    TransactionEnded,
    TransportError,
    TUCancel,
    TURequest,
    TUResponse,
)
from sipfsm.values.message import MAGIC_COOKIE, Request, Response, ack_for_non_2xx, response_to

# -- messages with the identity fields a test does not care about --------------------------------
#
# A Request or Response names every identity field (URI, Call-ID, CSeq, tags, branch, sent-by):
# one forgotten cannot collide in matching. A test that cares about a few fields takes the
# rest from these defaults.


def make_request(
    method: str,
    uri: str = "sip:bob@biloxi.example.com",
    call_id: str = "call-1",
    cseq: int = 1,
    from_tag: str = "",
    to_tag: str = "",
    branch: str = MAGIC_COOKIE + "1",
    sent_by: str = "alice.atlanta.example.com",
    headers: tuple[tuple[str, str], ...] = (),
    body: str = "",
    vias: tuple[tuple[str, str], ...] = (),
) -> Request:
    """A request with the test defaults for the fields not given."""
    return Request(
        method, uri, call_id, cseq, from_tag, to_tag, branch, sent_by, headers, body, vias
    )


def make_response(
    status: int,
    reason: str,
    method: str,
    call_id: str = "call-1",
    cseq: int = 1,
    from_tag: str = "",
    to_tag: str = "",
    branch: str = MAGIC_COOKIE + "1",
    sent_by: str = "alice.atlanta.example.com",
    headers: tuple[tuple[str, str], ...] = (),
    body: str = "",
    vias: tuple[tuple[str, str], ...] = (),
) -> Response:
    """A response with the test defaults for the fields not given."""
    return Response(
        status, reason, method, call_id, cseq, from_tag, to_tag, branch, sent_by, headers, body,
        vias,
    )


UDP = Timing()
TCP = Timing(transport="tcp")
#: A non-default T1 (RFC 3261 §17.1.1.2 allows a larger or, in closed networks, smaller T1).
UDP_T1_025 = Timing(t1=0.25)
TCP_T1_025 = Timing(t1=0.25, transport="tcp")

PROFILES = ("rfc6026", "rfc3261")

INVITE = make_request(
    "INVITE",
    uri="sip:bob@biloxi.com",
    call_id="987asjd97y7atg",
    cseq=986759,
    from_tag="88sja8x",
    branch="z9hG4bKkjshdyff",
    sent_by="pc33.atlanta.com",
    headers=(("Route", "<sip:proxy.atlanta.com;lr>"), ("Max-Forwards", "70")),
    body="v=0",
)
BYE = make_request(
    "BYE",
    uri="sip:bob@192.0.2.4",
    call_id="987asjd97y7atg",
    cseq=986760,
    from_tag="88sja8x",
    to_tag="99sa0xk",
    branch="z9hG4bKbye1",
    sent_by="pc33.atlanta.com",
)
CANCEL = make_request(
    "CANCEL",
    uri="sip:bob@biloxi.com",
    call_id="987asjd97y7atg",
    cseq=986759,
    from_tag="88sja8x",
    branch="z9hG4bKkjshdyff",
    sent_by="pc33.atlanta.com",
)
OPTIONS = make_request("OPTIONS", call_id="opt-1", cseq=1, from_tag="o1", branch="z9hG4bKopt1")

#: The To tag the UAS puts on its responses.
UAS_TAG = "99sa0xk"


def reply(request: Request, status: int, to_tag: str = UAS_TAG) -> Response:
    """A response to ``request`` as a UAS builds it (RFC 3261 §8.2.6.2)."""
    return response_to(request, status, to_tag=to_tag)


def received(request: Request, status: int, to_tag: str = UAS_TAG) -> ResponseReceived:
    return ResponseReceived(reply(request, status, to_tag))


def from_tu(request: Request, status: int, to_tag: str = UAS_TAG) -> TUResponse:
    return TUResponse(reply(request, status, to_tag))


def ack_of(status: int, request: Request = INVITE) -> Request:
    """The ACK a client transaction sends for a 300-699 to ``request`` (§17.1.1.3)."""
    return ack_for_non_2xx(request, reply(request, status))


class Driver:
    """One engine driving one instance: ``driver(event)`` returns the actions."""

    def __init__(
        self,
        machine: str,
        profile: str = "rfc6026",
        timing: Timing = UDP,
        kind: str = "table",
    ) -> None:
        self.machine = machine
        self.profile = profile
        self.timing = timing
        self.engine: Engine = engine(machine, profile, timing, kind)
        self._inst: Instance | None = None

    @property
    def inst(self) -> Instance:
        assert self._inst is not None, "create the instance first"
        return self._inst

    def create(self, event: Event) -> list[Action]:
        self._inst, actions = self.engine.create(event)
        return actions

    def __call__(self, event: Event) -> list[Action]:
        return self.engine.handle(self.inst, event)

    def feed(self, events: Sequence[Event]) -> list[Action]:
        out: list[Action] = []
        for event in events:
            out.extend(self(event))
        return out

    @property
    def state(self) -> str:
        return self.inst.state

    @property
    def timers(self) -> dict[str, float]:
        return dict(self.inst.timers)


#: The event that creates each transaction machine with the request used throughout.
CREATE: dict[str, Event] = {
    "ict": TURequest(INVITE),
    "nict": TURequest(BYE),
    "ist": RequestReceived(INVITE),
    "nist": RequestReceived(BYE),
    "proxy": RequestReceived(INVITE),
}

#: The INVITE as the proxy's response context (its defaults: one target) forwards it.
PROXIED = forwarded(
    ProxyInstance(), INVITE, "sip:bob@192.0.2.4", branch_prefix("proxy.example.com", INVITE) + "1"
)

#: The events after creation that reach each state (RFC 3261 Figures 5-8, RFC 6026).
PATHS: dict[str, dict[str, tuple[Event, ...]]] = {
    "ict": {
        "calling": (),
        "proceeding": (received(INVITE, 180),),
        "completed": (received(INVITE, 486),),
        "accepted": (received(INVITE, 200),),
        "terminated": (TimerFired("B"),),
    },
    "nict": {
        "trying": (),
        "proceeding": (received(BYE, 100),),
        "completed": (received(BYE, 200),),
        "terminated": (TimerFired("F"),),
    },
    "ist": {
        "proceeding": (),
        "completed": (from_tu(INVITE, 486),),
        "confirmed": (from_tu(INVITE, 486), RequestReceived(ack_of(486))),
        "accepted": (from_tu(INVITE, 200),),
        "terminated": (from_tu(INVITE, 486), TimerFired("H")),
    },
    "nist": {
        "trying": (),
        "proceeding": (from_tu(BYE, 100),),
        "completed": (from_tu(BYE, 200),),
        "terminated": (from_tu(BYE, 200), TimerFired("J")),
    },
    "proxy": {
        "proceeding": (received(PROXIED, 180),),
        "lingering": (received(PROXIED, 486),),
        "terminated": (
            received(PROXIED, 486),
            TransactionEnded("INVITE", INVITE.cseq, "server"),
        ),
    },
}


def at(
    machine: str,
    state: str,
    profile: str = "rfc6026",
    timing: Timing = UDP,
    kind: str = "table",
) -> Driver:
    """A driver whose instance has just reached ``state`` by the path in `PATHS`."""
    driver = Driver(machine, profile, timing, kind)
    driver.create(CREATE[machine])
    driver.feed(PATHS[machine][state])
    assert driver.state == state, (machine, state, profile, driver.state)
    return driver


def reported(machine: str, state: str, code: int, profile: str = "rfc6026") -> ReportOutcome:
    """The `ReportOutcome` for the first (non-forbidden) rule declared for ``code`` in
    ``state``: the runtime reports one rule per code, the first declared."""
    for oc in declare(machine, profile).outcomes(state):
        if oc.code == code and not oc.forbidden:
            return ReportOutcome(oc.code, oc.direction, oc.when, oc.rfc)
    raise AssertionError(f"no outcome {code} declared for {machine} {state} ({profile})")


#: The suite's own data (RFC texts, the seed text of the Chinese catalogue), with their sources
#: in ``tests/data/README.md``: the tests read nothing outside the repository.
DATA = Path(__file__).resolve().parent / "data"


def data_file(relative: str) -> Path:
    """A file of ``tests/data/``; missing, the test fails (the file is part of the repository)."""
    path = DATA / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing: tests/data/ is part of the repository")
    return path


def optional(module: str, extra: str) -> None:
    """Skip a test whose optional extra (``pip install 'sipfsm[EXTRA]'``) is not installed;
    under CI, where `make test` installs every extra, fail instead."""
    try:
        importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is missing: under CI every extra is installed ([{extra}])")
        pytest.skip(
            f"{module} is not installed (pip install 'sipfsm[{extra}]')", allow_module_level=True
        )


# -- fuzzing (docs/limits.md) ------------------------------------------------------------------
#
# Tests marked ``fuzz`` feed hostile input to a surface (parser, readers, scenarios, API) and
# assert the promises of docs/limits.md: no traceback, no hang, bounded memory, the exit
# status and counts documented. `make test` runs them on the bounded budget of the default
# profile; `make fuzz` runs them alone under the ``fuzz`` profile (SIPFSM_FUZZ_SECONDS long).

settings.register_profile(
    "fuzz",
    max_examples=1_000_000,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
# CI (.ci/run) runs the same examples every time: a clean clone of main must pass or fail
# for what changed in it, never for a new random draw; `make fuzz` is where new draws go, and
# what it finds is kept as an ``@example``
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"

#: Examples a fuzz test runs at a time (its ``@settings`` take this): a small budget under
#: `make test`; under `make fuzz` the test is run again and again, with new random examples
#: each time, until its share of SIPFSM_FUZZ_SECONDS is spent (`pytest_pyfunc_call`).
FUZZ_EXAMPLES = 2000 if FUZZING else 150

_fuzz_share = 0.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    global _fuzz_share
    fuzz = [item for item in items if item.get_closest_marker("fuzz")]
    if FUZZING and fuzz:
        _fuzz_share = float(os.environ.get("SIPFSM_FUZZ_SECONDS", "1800")) / len(fuzz)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Under `make fuzz`, a fuzz test runs until its share of the time is spent."""
    if not (FUZZING and pyfuncitem.get_closest_marker("fuzz")):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    end = time.monotonic() + _fuzz_share
    while True:
        pyfuncitem.obj(**args)
        if time.monotonic() >= end:
            return True


# -- messages and patterns for the simulator's pattern caches ----------------------------------

_TEXTS = st.sampled_from(["", "a", "b7", "1bc"])

#: Requests and responses varied in what a `MessagePattern` reads: kind, (CSeq) method,
#: status, CSeq number, and To tag and body (empty or not, and which text).
MESSAGES = st.builds(
    lambda is_request, status, method, cseq, to_tag, body: (
        make_request(method, cseq=cseq, to_tag=to_tag, body=body)
        if is_request
        else make_response(status, "x", method, cseq=cseq, to_tag=to_tag, body=body)
    ),
    st.booleans(),
    st.sampled_from([100, 180, 200, 481, 487]),
    st.sampled_from(["INVITE", "BYE", "ACK"]),
    st.integers(1, 2),
    _TEXTS,
    _TEXTS,
)

#: Message patterns over the fields `MESSAGES` varies, and the wire fields (`src`, `dst`,
#: `lost`, `retransmission`) between the elements ``alice`` and ``bob``.
PATTERNS = st.builds(
    MessagePattern,
    kind=st.sampled_from([None, "request", "response"]),
    method=st.sampled_from([None, "INVITE", "BYE"]),
    status=st.sampled_from([None, (100, 199), (200, 200), (400, 499)]),
    cseq=st.sampled_from([None, 1, 2]),
    in_dialog=st.sampled_from([None, True, False]),
    body=st.sampled_from([None, True, False]),
    src=st.sampled_from([None, "alice"]),
    dst=st.sampled_from([None, "alice"]),
    lost=st.sampled_from([None, True, False]),
    retransmission=st.sampled_from([None, True, False]),
)


# -- hostile calls of the engines' API (docs/limits.md, "The Python API") ----------------------

#: Anything at all: what a caller may pass where an event, an instance or a field belongs.
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.tuples(st.text(max_size=3), st.integers()),
    st.builds(object),
    st.just(INVITE),
    st.just(Instance()),
)
_METHODS = st.sampled_from(["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "PRACK"])


def _built(cls: Callable[..., object]) -> Callable[..., object]:
    """``cls`` called with hostile fields, or None where the compiled build refuses to build
    the value at all (its classes check their fields' types: a TypeError naming them)."""

    def build(*args: object, **kwargs: object) -> object:
        try:
            return cls(*args, **kwargs)
        except TypeError:
            return None

    return build


def _field(valid: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """A message field: mostly a valid value, sometimes junk."""
    return st.one_of(valid, valid, valid, JUNK)


#: Requests and responses whose fields are valid, or junk of any type.
HOSTILE_MESSAGES = st.one_of(
    st.builds(
        _built(Request),
        _field(_METHODS),
        cseq=_field(st.integers(1, 3)),
        to_tag=_field(st.sampled_from(["", UAS_TAG])),
        call_id=_field(st.just("987asjd97y7atg")),
        headers=_field(st.just(())),
        body=_field(st.sampled_from(["", "v=0"])),
    ),
    st.builds(
        _built(Response),
        _field(st.sampled_from([100, 180, 200, 202, 481, 487, 491, 500, 603, 99, 700])),
        _field(st.just("Reason")),
        _field(_METHODS),
        cseq=_field(st.integers(1, 3)),
        to_tag=_field(st.sampled_from(["", UAS_TAG])),
        from_tag=_field(st.just("88sja8x")),
        body=_field(st.sampled_from(["", "v=0"])),
    ),
)

#: Events of every class, carrying valid or junk contents, and junk where an event belongs.
HOSTILE_EVENTS = st.one_of(
    JUNK,
    st.builds(_built(RequestReceived), st.one_of(HOSTILE_MESSAGES, JUNK)),
    st.builds(_built(ResponseReceived), st.one_of(HOSTILE_MESSAGES, JUNK)),
    st.builds(_built(TURequest), st.one_of(HOSTILE_MESSAGES, JUNK)),
    st.builds(_built(TUResponse), st.one_of(HOSTILE_MESSAGES, JUNK)),
    st.builds(_built(MessageSent), st.one_of(HOSTILE_MESSAGES, JUNK)),
    st.builds(
        _built(TimerFired), st.one_of(st.sampled_from(["A", "B", "D", "E", "F", "G", "H"]), JUNK)
    ),
    st.builds(_built(TransportError), _field(st.just(""))),
    st.builds(TUCancel),
    st.builds(
        _built(TransactionEnded),
        _field(_METHODS),
        _field(st.integers(1, 3)),
        _field(st.just("client")),
    ),
)

MACHINE_IDS = ("ict", "nict", "ist", "nist", "dialog")


def hostile_calls(kind: str, data: st.DataObject) -> None:
    """Drive every machine's engine of ``kind`` with hostile calls: ``create`` of anything,
    ``handle`` of any instance (its own, another machine's, one never started, junk) with any
    event. A call returns a list of actions or raises a `SipFsmError` or a `TypeError` (the
    documented errors: `WrongType` is both); anything else fails the test."""
    from sipfsm.values.errors import SipFsmError

    machine = data.draw(st.sampled_from(MACHINE_IDS), label="machine")
    profile = data.draw(st.sampled_from(PROFILES), label="profile")
    own = _hostile_engine(machine, profile, kind)
    other = _hostile_engine(data.draw(st.sampled_from(MACHINE_IDS)), profile, kind)
    instances: list[object] = []
    for event in data.draw(st.lists(HOSTILE_EVENTS, max_size=6), label="creations"):
        try:
            inst, actions = own.create(event)  # type: ignore[arg-type]
        except (SipFsmError, TypeError):
            continue
        assert isinstance(actions, list)
        assert inst.machine_id == machine
        instances.append(inst)
    for event in data.draw(st.lists(CREATIONS, max_size=2), label="other creations"):
        with contextlib.suppress(SipFsmError, TypeError):
            instances.append(other.create(event)[0])
    choices = st.one_of(JUNK, st.sampled_from(instances)) if instances else JUNK
    for _ in range(data.draw(st.integers(0, 12), label="calls")):
        inst = data.draw(choices, label="instance")
        event = data.draw(st.one_of(HOSTILE_EVENTS, CREATIONS), label="event")
        before = getattr(inst, "state", None)
        try:
            actions = own.handle(inst, event)  # type: ignore[arg-type]
        except (SipFsmError, TypeError) as exc:
            assert "\n" not in str(exc)
            if isinstance(inst, Instance) and inst.machine_id != machine:
                assert inst.state == before  # another machine's instance is left alone
            continue
        assert isinstance(actions, list)
        assert getattr(inst, "machine_id", None) == machine


#: Events that create instances of some machine (the dialog's initial INVITE among them).
CREATIONS = st.sampled_from(
    [TURequest(INVITE), TURequest(BYE), RequestReceived(INVITE), RequestReceived(BYE),
     MessageSent(INVITE)]
)

_ENGINES: dict[tuple[str, str, str], Engine] = {}


def _hostile_engine(machine: str, profile: str, kind: str) -> Engine:
    key = (machine, profile, kind)
    if key not in _ENGINES:
        _ENGINES[key] = engine(machine, profile, kind=kind)
    return _ENGINES[key]


# -- hostile scenarios (docs/limits.md, "The simulator, sweeps and the other commands") --------

#: Limits small enough that a hostile scenario is refused, or its run stopped, in
#: milliseconds: what the fuzz tests read and run scenarios under.
SMALL_LIMITS = Limits(yaml_bytes=50_000, yaml_depth=12, yaml_aliases=16, yaml_nodes=3_000,
                      events=1_500, in_flight=60, runs=50, points=20, workers=2)  # fmt: skip


_SEND = st.sampled_from(["INVITE", "BYE", "OPTIONS", "INFO", "MESSAGE", "UPDATE", "CANCEL"])
_ON = st.sampled_from(["INVITE", "BYE", "OPTIONS", "INFO", "MESSAGE", "UPDATE", "ACK"])
_CODES = st.sampled_from([100, 180, 200, 404, 481, 486, 487, 491, 500, 603])
_SECONDS = st.sampled_from([0, 0, 0.01, 0.5, 2, 40])

#: YAML values of every kind a scenario might be given where it expects something else.
YAML_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(["INVITE", "udp", "alice", "2xx", "on", "yes", "1e999", "", "~", "*"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["at", "on", "send", "to", "x"]), st.integers(), max_size=2),
)


@st.composite
def _step(draw: st.DrawFn, other: str) -> dict[str, object]:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return {"at": draw(_SECONDS), "send": draw(_SEND), "to": other}
    if kind == 1:
        return {"on": {"request": draw(_ON)}, "respond": draw(_CODES),
                "repeat": draw(st.booleans())}  # fmt: skip
    if kind == 2:  # an amplifier: a request answered by a request
        return {"on": {"request": draw(_ON)}, "send": draw(_SEND), "to": other,
                "after": draw(_SECONDS), "repeat": True}  # fmt: skip
    return {"on": {"status": draw(_CODES), "method": draw(_ON)}, "send": draw(_SEND),
            "to": other, "repeat": draw(st.booleans())}  # fmt: skip


@st.composite
def _document(draw: st.DrawFn) -> dict[str, object]:
    """A scenario, mostly valid: two UAs, a network, scripts that may loop or multiply."""
    return {
        "name": "fuzz",
        "title": "fuzz",
        "duration": draw(st.sampled_from([1, 30, 300, 10**6])),
        "elements": {"alice": {}, "bob": {}},
        "network": {"default": {"delay": draw(_SECONDS), "loss": draw(st.sampled_from([0, 0.3])),
                                "duplicate": draw(st.sampled_from([0, 0.5]))}},
        "script": {
            "alice": draw(st.lists(_step("bob"), max_size=4)),
            "bob": draw(st.lists(_step("alice"), max_size=4)),
        },
        "expect": [{"no_violations": True}],
    }  # fmt: skip


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


def _put(doc: object, path: tuple[object, ...], value: object) -> object:
    if not path:
        return value
    parent: object = doc
    for part in path[:-1]:
        parent = parent[part]  # type: ignore[index]
    parent[path[-1]] = value  # type: ignore[index]
    return doc


_CONTROL = st.sampled_from(
    ["\x00", "\x01", "\x1b", "\x7f", "\r", "\t", "\u2028", "\ud800", "\ufeff"]
)


@st.composite
def hostile_scenario_texts(draw: st.DrawFn) -> str:
    """Scenario files a hostile user might write: a mostly valid scenario with values of
    the wrong type put anywhere, then as YAML text with control characters, aliases (a
    billion-laughs ladder among them), deep nesting or a cut in it."""
    import yaml

    doc: object = draw(_document())
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(_paths(doc)))
        doc = _put(doc, where, draw(YAML_JUNK))
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    for _ in range(draw(st.integers(0, 2))):
        mutation = draw(st.integers(0, 5))
        if mutation == 0:  # a control character anywhere
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(_CONTROL) + text[at:]
        elif mutation == 1:  # an alias ladder: each anchor repeats the one before
            levels = draw(st.integers(1, 8))
            ladder = ["a0: &a0 [lol, lol, lol, lol]"] + [
                f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 4) + "]" for i in range(1, levels)
            ]
            text += "description:\n  " + "\n  ".join(ladder) + "\n"
        elif mutation == 2:  # deep nesting
            depth = draw(st.integers(5, 3000))
            text += "description: " + "[" * depth + "]" * depth + "\n"
        elif mutation == 3:  # a value that contains itself
            text = text.replace("elements:", "elements: &self", 1) + "x: *self\n"
        elif mutation == 4:  # cut short
            text = text[: draw(st.integers(0, len(text)))]
        else:  # a huge or odd number where a number belongs
            text = text.replace("duration: ", "duration: " + draw(
                st.sampled_from(["1" * 5000 + " #", "!!float x #", ".nan #", "1.0e+308 #"])
            ), 1)  # fmt: skip
    return text
