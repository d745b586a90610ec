"""The RFC 5407 race library (sipfsm/sim/library/rfc5407-*.yaml): the 13 races of §3 and
Appendices A-D.

What is checked: the library holds one scenario per race and appendix, named after its
section, each with a title, an RFC reference, a description and a ``no_violations``
expectation; every one passes under both engines, each transport and each profile it
lists, and both engines give the same trace; and each scenario's key messages are
asserted here from the `SimResult` itself (not only through the YAML expectations): which
messages cross, in which dialog state each race message arrives, the answer the RFC
prescribes (200 or 481 to a CANCEL and never 487; 491 only with an unanswered offer or
re-INVITE; 481 in Mortal; the ACK of a 2xx still sent in Mortal) and, for the glare
races, the RFC 3261 §14.1 retry windows over several seeds.

The expected values come from the RFC 5407 figures and text, never from the scenarios'
own expectations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from sipfsm.engine.model import ENGINES
from sipfsm.sim.run import SimResult, library, load, simulate
from sipfsm.values.message import Message, Request, Response

EPS = 1e-9
T1 = 0.5  # the scenarios use RFC 3261's default timers

SECTION_3 = tuple(
    f"rfc5407-3.{a}.{b}" for a, count in ((1, 6), (2, 4), (3, 3)) for b in range(1, count + 1)
)
APPENDICES = ("rfc5407-a", "rfc5407-b", "rfc5407-c", "rfc5407-d")
NAMES = SECTION_3 + APPENDICES
GLARE_SEEDS = (0, 7, 42)

Variant = tuple[str, str, str]  # transport, profile, engine


def variants(name: str) -> list[Variant]:
    """Every transport and profile the scenario lists, under both engines."""
    sc = load(name)
    return [(t, p, e) for t in sc.transports for p in sc.profiles for e in ENGINES]


def variant_params(name: str) -> list[object]:
    return [pytest.param(v, id="-".join(v)) for v in variants(name)]


ALL_VARIANTS = [
    pytest.param(name, v, id=f"{name}-{'-'.join(v)}") for name in NAMES for v in variants(name)
]


@cache
def run(name: str, variant: Variant, seed: int = 0) -> SimResult:
    transport, profile, engine = variant
    return simulate(name, seed=seed, transport=transport, profile=profile, engine=engine)


# -- reading a run ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hop:
    """One message on the wire: when it was sent and when it arrived (``None``: lost)."""

    sent: float
    arrived: float | None
    src: str
    dst: str
    message: Message
    retransmission: bool
    delivered_at: int | None  # index of its ``deliver`` record in ``SimResult.records``

    @property
    def status(self) -> int:
        return self.message.status if isinstance(self.message, Response) else 0

    @property
    def method(self) -> str:
        return self.message.cseq_method


def hops(r: SimResult) -> list[Hop]:
    """The run's messages in send order, each paired with its arrival. A link delivers in
    send order in these scenarios (no reordering or duplication), so the n-th delivery on
    a link is its n-th message that was not lost."""
    found = _HOPS.get(id(r))
    if found is not None:
        return found
    waiting: dict[tuple[str, str], list[int]] = {}
    arrivals: dict[int, tuple[float, int]] = {}
    raw: list[str] = []
    for index, record in enumerate(r.records):
        assert record.kind != "duplicate"
        if record.kind == "send":
            assert record.message is not None
            if not r.wire[len(raw)].lost:
                waiting.setdefault((record.src, record.dst), []).append(len(raw))
            raw.append(record.message.raw)
        elif record.kind == "deliver":
            n = waiting[(record.src, record.dst)].pop(0)
            assert record.message is not None and record.message.raw == raw[n]
            arrivals[n] = (record.t, index)
    assert len(raw) == len(r.wire)
    out = []
    for n, w in enumerate(r.wire):
        arrived, at = arrivals.get(n, (None, None))
        out.append(Hop(w.t, arrived, w.src, w.dst, w.message, w.retransmission, at))
    _HOPS[id(r)] = out
    return out


_HOPS: dict[int, list[Hop]] = {}  # the results are cached by `run`, so ids stay unique


def find(
    r: SimResult,
    *,
    src: str | None = None,
    request: str | None = None,
    status: int | None = None,
    method: str | None = None,
    cseq: int | None = None,
    retransmission: bool | None = None,
    lost: bool | None = None,
) -> list[Hop]:
    """The messages that match: ``request`` a request's method, ``method`` a response's
    CSeq method."""
    out = []
    for h in hops(r):
        m = h.message
        if src is not None and h.src != src:
            continue
        if request is not None and not (isinstance(m, Request) and m.method == request):
            continue
        if status is not None and h.status != status:
            continue
        if method is not None and not (isinstance(m, Response) and h.method == method):
            continue
        if cseq is not None and m.cseq != cseq:
            continue
        if retransmission is not None and h.retransmission != retransmission:
            continue
        if lost is not None and (h.arrived is None) != lost:
            continue
        out.append(h)
    return out


def one(r: SimResult, **pattern: Any) -> Hop:
    found = find(r, **pattern)
    assert len(found) == 1, (pattern, [(h.src, h.message.summary()) for h in found])
    return found[0]


def crossed(a: Hop, b: Hop) -> bool:
    """Two messages in opposite directions, each sent before the other arrived."""
    assert a.arrived is not None and b.arrived is not None
    return a.src == b.dst and a.sent < b.arrived and b.sent < a.arrived


def dialog_state(r: SimResult, element: str, before: int | None, dialog: str = "") -> str:
    """The state of ``element``'s dialog (the one labelled ``dialog``, or any) just before
    the record at index ``before`` (a message's delivery)."""
    assert before is not None
    state = "none"
    for record in r.records[:before]:
        if (
            record.kind == "state"
            and record.machine == "dialog"
            and record.element == element
            and (not dialog or record.tx == dialog)
        ):
            state = record.state_after
    return state


def dialog_states(r: SimResult, element: str, dialog: str = "") -> list[tuple[float, str]]:
    """Every state ``element``'s dialog went through, with the time it entered it."""
    out: list[tuple[float, str]] = []
    for record in r.records:
        if (
            record.kind == "state"
            and record.machine == "dialog"
            and record.element == element
            and (not dialog or record.tx == dialog)
            and record.state_after != (out[-1][1] if out else "")
        ):
            out.append((record.t, record.state_after))
    return out


def final(r: SimResult, element: str) -> list[str]:
    return list(r.final_states[element]["dialogs"].values())


def codes(r: SimResult) -> set[int]:
    return {h.status for h in hops(r) if h.status}


# -- the library ------------------------------------------------------------------------------


def test_the_library_has_every_rfc5407_race_and_appendix_named_after_its_section() -> None:
    names = {e.name for e in library() if e.name.startswith("rfc5407-")}
    assert names == set(NAMES)
    for name in NAMES:
        sc = load(name)
        section = name.removeprefix("rfc5407-")
        where = f"Appendix {section.upper()}" if len(section) == 1 else f"§{section}"
        assert sc.rfc == f"RFC 5407 {where}"
        assert sc.title and len(sc.description) > 200
        assert any(e.kind == "no_violations" for e in sc.expect)
        assert any(e.kind == "end_state" for e in sc.expect)


@pytest.mark.parametrize(("name", "variant"), ALL_VARIANTS)
def test_every_rfc5407_scenario_passes_without_violation_or_refused_step(
    name: str, variant: Variant
) -> None:
    r = run(name, variant)
    assert r.passed, [(e.text, e.detail) for e in r.expectations if not e.passed]
    assert r.violations == [] and r.errors == []
    for states in r.final_states.values():
        assert states["transactions"] == {}  # every transaction ended


@pytest.mark.parametrize(
    ("name", "transport", "profile"),
    [
        pytest.param(name, t, p, id=f"{name}-{t}-{p}")
        for name in NAMES
        for t, p, e in variants(name)
        if e == "table"
    ],
)
def test_both_engines_give_the_same_rfc5407_trace(name: str, transport: str, profile: str) -> None:
    table = run(name, (transport, profile, "table"))
    other = run(name, (transport, profile, "transitions"))
    assert list(table.trace_lines()) == list(other.trace_lines())


@pytest.mark.parametrize("name", ["rfc5407-3.3.1", "rfc5407-3.3.2"])
@pytest.mark.parametrize("seed", GLARE_SEEDS)
@pytest.mark.parametrize("engine", ENGINES)
def test_the_glare_races_pass_with_other_seeds(name: str, seed: int, engine: str) -> None:
    sc = load(name)
    for transport, profile in [(t, p) for t in sc.transports for p in sc.profiles]:
        r = run(name, (transport, profile, engine), seed)
        assert r.passed, [(e.text, e.detail) for e in r.expectations if not e.passed]


# -- §3.1: receiving a message in Moratorium --------------------------------------------------


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.1.1"))
def test_rfc5407_3_1_1_initial_invite_retransmission_in_moratorium_is_absorbed(
    variant: Variant,
) -> None:
    r = run("rfc5407-3.1.1", variant)
    ringing = one(r, src="bob", status=180)
    assert ringing.arrived is None  # F2 lost
    f3 = one(r, src="bob", status=200, method="INVITE")
    f4 = one(r, src="alice", request="INVITE", retransmission=True)
    assert crossed(f3, f4)
    assert dialog_state(r, "bob", f4.delivered_at) == "moratorium"  # *race*
    # handled as a retransmission: no answer, no second transaction or dialog
    assert [h for h in hops(r) if h.src == "bob" and f4.arrived == h.sent] == []
    assert len(find(r, src="bob", status=200)) == 1  # no 200 triggered by F4
    bob_ists = {x.tx for x in r.records if x.element == "bob" and x.machine == "ist"}
    assert bob_ists == {"ist-1"}
    assert final(r, "bob") == ["established"] and final(r, "alice") == ["established"]
    f5 = one(r, src="alice", request="ACK")
    assert f5.sent >= f3.arrived  # type: ignore[operator]


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.1.2"))
def test_rfc5407_3_1_2_cancel_crossing_the_200_gets_200_or_481_never_487(
    variant: Variant,
) -> None:
    r = run("rfc5407-3.1.2", variant)
    f3 = one(r, request="CANCEL")
    f4 = one(r, src="bob", status=200, method="INVITE")
    assert crossed(f3, f4)
    assert dialog_state(r, "bob", f3.delivered_at) == "moratorium"  # *race*
    f5 = one(r, src="bob", method="CANCEL")
    # 200 when the INVITE server transaction survives the 2xx (RFC 6026), 481 when the
    # 2xx destroyed it (original RFC 3261 §17.2.1)
    assert f5.status == (200 if variant[1] == "rfc6026" else 481)
    assert 487 not in codes(r)
    f6 = one(r, src="alice", request="ACK")
    f7 = one(r, src="alice", request="BYE")
    f8 = one(r, src="bob", status=200, method="BYE")
    assert f4.arrived is not None and f4.arrived <= f6.sent <= f7.sent < f8.sent
    # the CANCEL does not move Bob's dialog: Moratorium until the ACK
    assert [s for _, s in dialog_states(r, "bob")] == [
        "preparative",
        "early",
        "moratorium",
        "established",
        "mortal",
        "morgue",
    ]
    assert final(r, "alice") == ["morgue"] and final(r, "bob") == ["morgue"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.1.3"))
def test_rfc5407_3_1_3_bye_from_early_crossing_the_200_and_the_200_is_still_acked(
    variant: Variant,
) -> None:
    r = run("rfc5407-3.1.3", variant)
    f3 = one(r, src="bob", status=200, method="INVITE")
    f4 = one(r, src="alice", request="BYE")
    assert crossed(f3, f4)
    assert dialog_state(r, "alice", f4.delivered_at) != "early"
    assert dialog_state(r, "bob", f4.delivered_at) == "moratorium"  # *race*
    assert dialog_state(r, "alice", f3.delivered_at) == "mortal"
    f5 = one(r, src="alice", request="ACK")  # the ACK in Mortal (Appendix D)
    assert f5.sent == f3.arrived and f5.message.cseq == f3.message.cseq
    one(r, src="bob", status=200, method="BYE")
    assert codes(r) <= {180, 200}
    # Alice never starts the session
    assert "established" not in [s for _, s in dialog_states(r, "alice")]
    assert final(r, "alice") == ["morgue"] and final(r, "bob") == ["morgue"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.1.4"))
def test_rfc5407_3_1_4_reinvite_in_moratorium_gets_200(variant: Variant) -> None:
    r = run("rfc5407-3.1.4", variant)
    f4 = one(r, src="alice", request="ACK", cseq=1, retransmission=False)
    assert f4.arrived is None  # lost
    f5 = find(r, src="bob", status=200, cseq=1, retransmission=True)[0]
    f6 = one(r, src="alice", request="INVITE", cseq=2)
    assert f6.message.body  # offer2
    assert crossed(f5, f6)
    assert dialog_state(r, "bob", f6.delivered_at) == "moratorium"  # *race*
    f8 = one(r, src="bob", method="INVITE", cseq=2)
    assert f8.status == 200 and f8.message.body  # answer2; not 491
    f7 = one(r, src="alice", request="ACK", cseq=1, retransmission=True)
    assert f7.message.cseq == 1 and crossed(f7, f8)  # the ACK keeps the initial CSeq
    one(r, src="alice", request="ACK", cseq=2)
    assert 491 not in codes(r)
    assert final(r, "alice") == ["established"] and final(r, "bob") == ["established"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.1.5"))
def test_rfc5407_3_1_5_reinvite_while_the_offer_in_the_200_is_unanswered_gets_491(
    variant: Variant,
) -> None:
    r = run("rfc5407-3.1.5", variant)
    f1 = one(r, src="alice", request="INVITE", cseq=1)
    f3 = one(r, src="bob", status=200, cseq=1, retransmission=False)
    assert not f1.message.body and f3.message.body  # offer1 in the 200
    f4 = one(r, src="alice", request="ACK", cseq=1, retransmission=False)
    assert f4.arrived is None and f4.message.body  # the answer, lost
    f5 = find(r, src="bob", status=200, cseq=1, retransmission=True)[0]
    f6 = one(r, src="alice", request="INVITE", cseq=2)
    assert f6.message.body and crossed(f5, f6)  # offer2
    assert dialog_state(r, "bob", f6.delivered_at) == "moratorium"
    f8 = one(r, src="bob", method="INVITE", cseq=2)
    assert f8.status == 491
    f9 = one(r, src="alice", request="ACK", cseq=2)
    assert f9.message.branch == f6.message.branch  # the INVITE transaction's ACK
    # Alice owns the Call-ID: she retries after 2.1-4 s (RFC 3261 §14.1), and it works
    retry = one(r, src="alice", request="INVITE", cseq=3)
    assert f8.arrived is not None
    assert 2.1 - EPS <= retry.sent - f8.arrived <= 4.0 + EPS
    assert one(r, src="bob", method="INVITE", cseq=3).status == 200
    assert final(r, "alice") == ["established"] and final(r, "bob") == ["established"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.1.6"))
def test_rfc5407_3_1_6_bye_in_moratorium_and_the_retransmitted_200_acked_in_mortal(
    variant: Variant,
) -> None:
    r = run("rfc5407-3.1.6", variant)
    assert one(r, src="alice", request="ACK", retransmission=False).arrived is None
    f5 = find(r, src="bob", status=200, method="INVITE", retransmission=True)[0]
    f6 = one(r, src="alice", request="BYE")
    assert crossed(f5, f6)
    assert dialog_state(r, "alice", f5.delivered_at) == "mortal"
    assert dialog_state(r, "bob", f6.delivered_at) == "moratorium"  # *race*
    f7 = one(r, src="alice", request="ACK", retransmission=True)
    assert f7.sent == f5.arrived
    f8 = one(r, src="bob", status=200, method="BYE")
    assert crossed(f7, f8)
    # the session is not re-established on either side once Mortal
    for element in ("alice", "bob"):
        states = [s for _, s in dialog_states(r, element)]
        assert states[states.index("mortal") :] == ["mortal", "morgue"]
    assert codes(r) <= {180, 200}


# -- §3.2: receiving a message in Mortal ------------------------------------------------------


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.2.1"))
def test_rfc5407_3_2_1_bye_glare_both_byes_answered_200_in_mortal(variant: Variant) -> None:
    r = run("rfc5407-3.2.1", variant)
    f5 = one(r, src="alice", request="BYE")
    f6 = one(r, src="bob", request="BYE")
    assert crossed(f5, f6)
    assert dialog_state(r, "bob", f5.delivered_at) == "mortal"  # *race*
    assert dialog_state(r, "alice", f6.delivered_at) == "mortal"
    assert one(r, src="bob", method="BYE", retransmission=False).status == 200  # F7
    assert one(r, src="alice", method="BYE", retransmission=False).status == 200  # F8
    assert codes(r) <= {180, 200}
    assert final(r, "alice") == ["morgue"] and final(r, "bob") == ["morgue"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.2.2"))
def test_rfc5407_3_2_2_reinvite_in_mortal_gets_481_which_is_acked(variant: Variant) -> None:
    r = run("rfc5407-3.2.2", variant)
    f5 = one(r, src="alice", request="BYE")
    f6 = one(r, src="bob", request="INVITE")
    assert crossed(f5, f6)
    assert dialog_state(r, "alice", f6.delivered_at) == "mortal"  # *race*
    f7 = one(r, src="bob", method="BYE")
    f8 = one(r, src="alice", method="INVITE", retransmission=False)
    assert (f7.status, f8.status) == (200, 481)
    f9 = one(r, src="bob", request="ACK")
    assert f9.message.branch == f6.message.branch  # by the INVITE client transaction
    assert dialog_state(r, "bob", f8.delivered_at) == "mortal"
    assert find(r, src="bob", request="BYE") == []
    assert final(r, "alice") == ["morgue"] and final(r, "bob") == ["morgue"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.2.3"))
def test_rfc5407_3_2_3_200_to_reinvite_in_mortal_is_still_acked(variant: Variant) -> None:
    r = run("rfc5407-3.2.3", variant)
    f5 = one(r, src="bob", request="INVITE")
    f6 = one(r, src="bob", request="BYE")
    assert f5.sent < f6.sent < f5.arrived  # type: ignore[operator]
    f7 = one(r, src="alice", status=200, method="INVITE", retransmission=False)
    assert crossed(f6, f7)
    assert dialog_state(r, "bob", f7.delivered_at) == "mortal"  # *race*
    f8 = one(r, src="alice", method="BYE")
    f9 = one(r, src="bob", request="ACK")
    assert f8.status == 200 and crossed(f8, f9)
    assert f9.sent == f7.arrived and f9.message.cseq == f5.message.cseq
    # the ACK completes the handshake: Alice's UA core stops retransmitting the 2xx
    assert [h for h in find(r, src="alice", status=200, method="INVITE") if h.sent > f9.sent] == []
    assert codes(r) <= {180, 200}
    assert final(r, "alice") == ["morgue"] and final(r, "bob") == ["morgue"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.2.4"))
def test_rfc5407_3_2_4_ack_in_mortal_is_ignored(variant: Variant) -> None:
    r = run("rfc5407-3.2.4", variant)
    f3 = one(r, src="bob", status=200, method="INVITE")
    f4 = one(r, src="alice", request="ACK")
    f5 = one(r, src="bob", request="BYE")
    assert f4.sent == f3.arrived and crossed(f4, f5)
    assert dialog_state(r, "bob", f4.delivered_at) == "mortal"  # *race*
    after_ack = [
        x
        for x in r.records[f4.delivered_at :]
        if x.element == "bob" and x.machine == "dialog" and x.text == "RequestReceived(ACK)"
    ]
    assert [(x.state_before, x.state_after, x.actions) for x in after_ack[:1]] == [
        ("mortal", "mortal", ())
    ]
    assert dialog_state(r, "alice", f5.delivered_at) == "established"
    assert one(r, src="alice", method="BYE").status == 200  # F6
    assert final(r, "alice") == ["morgue"] and final(r, "bob") == ["morgue"]


# -- §3.3: other races ------------------------------------------------------------------------


def check_glare_retries(r: SimResult, alice_method: str) -> None:
    """RFC 3261 §14.1: after the 491s each side retries once; Bob (who did not generate the
    Call-ID) 0-2 s after his 491 arrived, Alice (who did) 2.1-4 s after hers; Bob first."""
    alice_491 = one(r, src="bob", status=491, retransmission=False)
    bob_491 = one(r, src="alice", status=491, retransmission=False)
    assert alice_491.method == alice_method and bob_491.method == "INVITE"
    retries = [
        h
        for h in hops(r)
        if isinstance(h.message, Request)
        and h.message.method in ("INVITE", "UPDATE")
        and h.message.to_tag
        and not h.retransmission
        and h.sent > 5.0 + EPS
    ]
    assert [(h.src, h.message.method, h.message.cseq) for h in retries] == [
        ("bob", "INVITE", 2),
        ("alice", alice_method, 3),
    ]
    bob_retry, alice_retry = retries
    assert bob_491.arrived is not None and alice_491.arrived is not None
    assert 0.0 - EPS <= bob_retry.sent - bob_491.arrived <= 2.0 + EPS
    assert 2.1 - EPS <= alice_retry.sent - alice_491.arrived <= 4.0 + EPS
    assert alice_retry.message.body  # the same offer again
    assert one(r, src="alice", method="INVITE", cseq=2, retransmission=False).status == 200
    assert one(r, src="bob", method=alice_method, cseq=3, retransmission=False).status == 200


@pytest.mark.parametrize("seed", GLARE_SEEDS)
@pytest.mark.parametrize("variant", variant_params("rfc5407-3.3.1"))
def test_rfc5407_3_3_1_reinvite_crossover_491_both_ways_then_randomised_retry(
    variant: Variant, seed: int
) -> None:
    r = run("rfc5407-3.3.1", variant, seed)
    f5 = one(r, src="alice", request="INVITE", cseq=2)
    f6 = one(r, src="bob", request="INVITE", cseq=1)
    assert crossed(f5, f6)
    f7 = one(r, src="bob", status=491)
    f8 = one(r, src="alice", status=491)
    assert (f7.method, f8.method) == ("INVITE", "INVITE") and crossed(f7, f8)
    # F9, F10: each INVITE client transaction ACKs its 491 (same branch, RFC 3261 §17.1.1.3)
    assert one(r, src="alice", request="ACK", cseq=2).message.branch == f5.message.branch
    assert one(r, src="bob", request="ACK", cseq=1).message.branch == f6.message.branch
    check_glare_retries(r, "INVITE")
    assert final(r, "alice") == ["established"] and final(r, "bob") == ["established"]


@pytest.mark.parametrize("seed", GLARE_SEEDS)
@pytest.mark.parametrize("variant", variant_params("rfc5407-3.3.2"))
def test_rfc5407_3_3_2_update_and_reinvite_crossover_491_both_ways_then_randomised_retry(
    variant: Variant, seed: int
) -> None:
    r = run("rfc5407-3.3.2", variant, seed)
    f5 = one(r, src="alice", request="UPDATE", cseq=2)
    f6 = one(r, src="bob", request="INVITE", cseq=1)
    assert f5.message.body and f6.message.body and crossed(f5, f6)  # both carry offers
    f7 = one(r, src="bob", status=491)
    f8 = one(r, src="alice", status=491)
    assert (f7.method, f8.method) == ("UPDATE", "INVITE") and crossed(f7, f8)
    # only the INVITE's 491 is ACKed (F9); an UPDATE has no ACK
    acks = find(r, request="ACK", retransmission=False)
    assert [(h.src, h.message.cseq) for h in acks] == [("alice", 1), ("bob", 1), ("bob", 2)]
    check_glare_retries(r, "UPDATE")
    assert final(r, "alice") == ["established"] and final(r, "bob") == ["established"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-3.3.3"))
def test_rfc5407_3_3_3_refer_in_mortal_gets_481(variant: Variant) -> None:
    r = run("rfc5407-3.3.3", variant)
    f5 = one(r, src="alice", request="BYE")
    f6 = one(r, src="bob", request="REFER")
    assert crossed(f5, f6)
    assert dialog_state(r, "alice", f6.delivered_at) == "mortal"  # *race*
    assert one(r, src="bob", method="BYE").status == 200  # F7
    assert one(r, src="alice", method="REFER", retransmission=False).status == 481  # F8
    assert find(r, src="bob", request="BYE") == []
    assert final(r, "alice") == ["morgue"] and final(r, "bob") == ["morgue"]


# -- Appendices -------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", variant_params("rfc5407-a"))
def test_rfc5407_a_bye_in_the_early_dialog_gets_200_and_the_invite_487(variant: Variant) -> None:
    r = run("rfc5407-a", variant)
    invite = one(r, src="alice", request="INVITE")
    bye = one(r, src="alice", request="BYE")
    assert bye.message.to_tag  # sent in the early dialog
    assert dialog_state(r, "alice", bye.delivered_at) == "mortal"
    assert dialog_state(r, "bob", bye.delivered_at) == "early"
    assert one(r, src="bob", method="BYE").status == 200
    refused = one(r, src="bob", method="INVITE", status=487, retransmission=False)
    assert refused.sent == bye.arrived  # BYE/487(INV), RFC 3261 §15.1.2
    ack = one(r, src="alice", request="ACK")
    assert ack.sent == refused.arrived and ack.message.branch == invite.message.branch
    assert find(r, request="CANCEL") == [] and 200 not in {
        h.status for h in find(r, method="INVITE")
    }
    assert final(r, "alice") == ["morgue"] and final(r, "bob") == ["morgue"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-b"))
def test_rfc5407_b_reinvite_retransmitted_in_mortal_gets_481_and_its_ack(
    variant: Variant,
) -> None:
    r = run("rfc5407-b", variant)
    f1 = one(r, src="alice", request="INVITE", cseq=2, retransmission=False)
    f2 = one(r, src="alice", request="BYE")
    assert f1.arrived is None and f1.sent < f2.sent  # F1 lost, BYE right after it
    f3 = one(r, src="bob", method="BYE")
    assert f3.status == 200
    f4 = find(r, src="alice", request="INVITE", cseq=2, retransmission=True)[0]
    assert f4.sent == pytest.approx(f1.sent + T1)  # Timer A, in Mortal
    assert f3.arrived is not None and f3.arrived < f4.sent
    assert dialog_state(r, "bob", f4.delivered_at) == "mortal"
    f5 = one(r, src="bob", method="INVITE", cseq=2, retransmission=False)
    assert f5.status == 481 and f5.sent == f4.arrived
    f6 = one(r, src="alice", request="ACK", cseq=2)
    assert f6.message.branch == f1.message.branch  # the transaction ACKs its 481
    assert final(r, "alice") == ["morgue"] and final(r, "bob") == ["morgue"]


@pytest.mark.parametrize("variant", variant_params("rfc5407-c"))
def test_rfc5407_c_cancel_in_early_gets_487_but_in_confirmed_changes_nothing(
    variant: Variant,
) -> None:
    r = run("rfc5407-c", variant)
    first, second = find(r, request="CANCEL")
    # call 1: in Early, 200 to the CANCEL and 487 to the INVITE, which ends the dialog
    assert dialog_state(r, "bob", first.delivered_at, "dialog-1") == "early"
    replies = [h for h in hops(r) if h.src == "bob" and h.sent == first.arrived]
    assert [(h.status, h.method) for h in replies] == [(200, "CANCEL"), (487, "INVITE")]
    assert [s for _, s in dialog_states(r, "bob", "dialog-1")][-1] == "morgue"
    # call 2: in Confirmed, no 487; 200 (or 481 when the 2xx ended the transaction)
    assert dialog_state(r, "bob", second.delivered_at, "dialog-2") == "moratorium"
    reply = [h for h in hops(r) if h.src == "bob" and h.sent == second.arrived]
    expected = 200 if variant[1] == "rfc6026" else 481
    assert [(h.status, h.method) for h in reply] == [(expected, "CANCEL")]
    assert len(find(r, status=487)) == 1
    assert [s for _, s in dialog_states(r, "bob", "dialog-2")] == [
        "preparative",
        "early",
        "moratorium",
        "established",
        "mortal",
        "morgue",
    ]
    bye = one(r, src="alice", request="BYE")
    assert one(r, src="bob", method="BYE").status == 200 and bye.sent > second.sent


@pytest.mark.parametrize("variant", variant_params("rfc5407-d"))
def test_rfc5407_d_mortal_refuses_requests_but_still_acks_the_2xx(variant: Variant) -> None:
    r = run("rfc5407-d", variant)
    bye = one(r, src="bob", request="BYE")
    info = one(r, src="alice", request="INFO")
    assert dialog_state(r, "bob", info.delivered_at) == "mortal"
    assert one(r, src="bob", method="INFO").status == 481
    ok = one(r, src="alice", status=200, method="INVITE", retransmission=False)
    assert dialog_state(r, "bob", ok.delivered_at) == "mortal" and bye.sent < ok.sent
    lost, again = find(r, src="bob", request="ACK")
    assert lost.arrived is None and lost.sent == ok.arrived
    retransmitted = find(r, src="alice", status=200, method="INVITE", retransmission=True)
    assert [h.sent for h in retransmitted] == [ok.sent + T1]
    assert again.sent == retransmitted[0].arrived and again.message == lost.message
    assert 487 not in codes(r)
    if variant[1] == "rfc6026":
        # the INVITE usage is kept for 64*T1 after the 2xx arrived (Appendix D)
        assert ok.arrived is not None
        (morgue_at,) = [t for t, s in dialog_states(r, "bob") if s == "morgue"]
        assert morgue_at >= ok.arrived + 64 * T1 - EPS
