"""The registry (sipfsm/engine/model.py) for the transaction machines: declare, outcomes, engine,
timing; unknown machine, profile, engine or transport names raise `UnknownName` listing
the valid choices. (The dialog machine is tested in tests/test_dialog.py.)"""

from __future__ import annotations

import re

import pytest
from conftest import FUZZ_EXAMPLES, INVITE, JUNK, received
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.decl.instance import Instance
from sipfsm.decl.language import PROFILES
from sipfsm.decl.timers import Timing, TimingError
from sipfsm.engine import model
from sipfsm.engine.model import MACHINES, declare
from sipfsm.engine.runtime import TableMachine
from sipfsm.machines import transaction
from sipfsm.values.errors import SipFsmError, UnknownName, WrongType
from sipfsm.values.events import SendMessage, StartTimer, TURequest

TRANSACTIONS = ("ict", "nict", "ist", "nist")


def test_machines_list_the_transactions_in_rfc_order_then_the_dialog_then_the_proxy() -> None:
    assert model.MACHINES == ("ict", "nict", "ist", "nist", "dialog", "proxy")
    assert transaction.TRANSACTION_MACHINES == TRANSACTIONS


@pytest.mark.parametrize("machine", TRANSACTIONS)
@pytest.mark.parametrize("profile", PROFILES)
def test_declare_returns_the_transaction_declaration(machine: str, profile: str) -> None:
    decl = model.declare(machine, profile)
    assert decl is transaction.declare(machine, profile)
    assert (decl.id, decl.profile) == (machine, profile)


@pytest.mark.parametrize("machine", TRANSACTIONS)
def test_declare_defaults_to_the_rfc6026_profile(machine: str) -> None:
    assert model.declare(machine) is model.declare(machine, "rfc6026")


@pytest.mark.parametrize(
    ("machine", "rfc"),
    [
        ("ict", "RFC 3261 §17.1.1"),
        ("nict", "RFC 3261 §17.1.2"),
        ("ist", "RFC 3261 §17.2.1"),
        ("nist", "RFC 3261 §17.2.2"),
    ],
)
def test_declarations_cite_their_section_rfc3261_17(machine: str, rfc: str) -> None:
    assert model.declare(machine).rfc == rfc


def test_outcomes_ist_proceeding_has_487_cancel_matched_rule_rfc3261_9_2() -> None:
    found = [
        o
        for o in model.outcomes("ist", "proceeding")
        if o.code == 487 and "CANCEL matched" in o.when
    ]
    assert len(found) == 1
    assert found[0].rfc == "RFC 3261 §9.2"
    assert found[0].direction == "send"
    assert not found[0].forbidden


def test_outcomes_ict_calling_has_timer_b_408_rule_rfc3261_8_1_3_1() -> None:
    found = [o for o in model.outcomes("ict", "calling") if o.code == 408]
    assert [(o.direction, o.trigger, o.rfc) for o in found] == [
        ("receive", "timer_b", "RFC 3261 §8.1.3.1"),
        ("receive", "rcv_3xx_6xx", "RFC 3261 §12.2.1.2"),
    ]


@pytest.mark.parametrize("source", ["trying", "proceeding"])
def test_outcomes_nist_forbid_408_and_487_to_cancel_rfc4320_4_2_rfc3261_21_4_25(
    source: str,
) -> None:
    forbidden = {(o.code, o.rfc) for o in model.outcomes("nist", source) if o.forbidden}
    assert forbidden == {(408, "RFC 4320 §4.2"), (487, "RFC 3261 §21.4.25")}


@pytest.mark.parametrize("machine", TRANSACTIONS)
@pytest.mark.parametrize("profile", PROFILES)
def test_every_outcome_cites_an_rfc_section(machine: str, profile: str) -> None:
    decl = model.declare(machine, profile)
    for state in decl.state_names:
        for outcome in model.outcomes(machine, state, profile):
            assert re.fullmatch(r"RFC \d+ §[\d.]+", outcome.rfc), outcome


def test_outcomes_of_an_unknown_state_lists_the_states() -> None:
    with pytest.raises(UnknownName) as err:
        model.outcomes("ist", "accepted", "rfc3261")
    assert err.value.choices == ("proceeding", "completed", "confirmed", "terminated")
    assert "valid choices: proceeding, completed, confirmed, terminated" in str(err.value)


@pytest.mark.parametrize("machine", TRANSACTIONS)
@pytest.mark.parametrize("profile", PROFILES)
def test_engine_builds_a_table_machine_for_the_declaration(machine: str, profile: str) -> None:
    eng = model.engine(machine, profile)
    assert isinstance(eng, TableMachine)
    assert eng.decl is model.declare(machine, profile)
    assert eng.timing == Timing()


def test_engine_uses_the_given_timing_rfc3261_17_1_1_2() -> None:
    eng = model.engine("ict", timing=Timing(t1=0.25, transport="tcp"))
    inst, actions = eng.create(TURequest(INVITE))
    assert isinstance(inst, Instance)
    assert actions == [SendMessage(INVITE), StartTimer("B", 16.0)]


def test_reference_engine_agrees_on_a_simple_run() -> None:
    pytest.importorskip("sipfsm.engine.reference")
    table = model.engine("ict", kind="table")
    ref = model.engine("ict", kind="transitions")
    a, out_a = table.create(TURequest(INVITE))
    b, out_b = ref.create(TURequest(INVITE))
    assert out_a == out_b
    assert table.handle(a, received(INVITE, 180)) == ref.handle(b, received(INVITE, 180))
    assert a.state == b.state == "proceeding"


def test_instance_factory_for_transactions_is_instance() -> None:
    for machine in TRANSACTIONS:
        assert model.instance_factory(machine) is Instance


def test_unknown_machine_raises_unknown_name_listing_machines() -> None:
    with pytest.raises(UnknownName) as err:
        model.declare("invite-client")
    assert err.value.what == "machine"
    assert err.value.choices == model.MACHINES
    assert str(err.value) == (
        "unknown machine 'invite-client'; valid choices: ict, nict, ist, nist, dialog, proxy"
    )
    with pytest.raises(UnknownName, match="valid choices: ict, nict, ist, nist, dialog, proxy"):
        model.engine("ICT")
    with pytest.raises(UnknownName, match="unknown machine"):
        model.outcomes("registrar", "proceeding")


def test_unknown_profile_raises_unknown_name_listing_profiles() -> None:
    for call in (
        lambda: model.declare("ict", "rfc2543"),
        lambda: model.engine("nist", "rfc2543"),
        lambda: model.outcomes("ist", "proceeding", "rfc2543"),
    ):
        with pytest.raises(UnknownName) as err:
            call()
        assert err.value.what == "profile"
        assert err.value.choices == ("rfc6026", "rfc3261")
        assert str(err.value) == "unknown profile 'rfc2543'; valid choices: rfc6026, rfc3261"


def test_unknown_engine_raises_unknown_name_listing_engines() -> None:
    with pytest.raises(UnknownName) as err:
        model.engine("ict", kind="statecharts")
    assert err.value.what == "engine"
    assert err.value.choices == ("table", "transitions")
    assert str(err.value) == "unknown engine 'statecharts'; valid choices: table, transitions"


def test_timing_for_builds_timing_and_rejects_unknown_transport() -> None:
    assert model.timing_for() == Timing()
    assert model.timing_for("tcp", t1=0.25) == Timing(t1=0.25, transport="tcp")
    with pytest.raises(UnknownName) as err:
        model.timing_for("sctp")
    assert str(err.value) == "unknown transport 'sctp'; valid choices: udp, tcp"


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_every_row_outcome_and_state_of_every_machine_cites_its_rfc_section(
    machine: str, profile: str
) -> None:
    cite = re.compile(r"^RFC \d+ (§[\d.]+|Appendix [A-E])( Figure \d+)?$")
    decl = declare(machine, profile)
    cited = [r.rfc for r in (*decl.creations, *decl.transitions)]
    cited += [o.rfc for s in decl.states for o in s.outcomes] + [s.rfc for s in decl.states]
    assert [c for c in cited if not cite.match(c)] == []


# -- hostile arguments (docs/limits.md, "The Python API") -------------------------------------


def test_an_engine_takes_a_timing_or_nothing() -> None:
    with pytest.raises(WrongType, match=r"timing: expected a sipfsm.decl.timers.Timing"):
        model.engine("ict", timing="udp")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "values",
    [
        {"t1": None},
        {"t1": True},
        {"t2": "4"},
        {"t4": float("inf")},
        {"t1": float("nan")},
        {"t1": 0},
    ],
    ids=repr,
)
def test_timing_takes_positive_finite_seconds_rfc3261_17(values: dict[str, object]) -> None:
    with pytest.raises(TimingError, match="must be positive, finite numbers of seconds"):
        Timing(**values)  # type: ignore[arg-type]
    assert issubclass(TimingError, SipFsmError)


def test_outcomes_of_a_state_that_is_not_a_name_is_an_unknown_state() -> None:
    with pytest.raises(UnknownName, match=r"unknown state of ict \[\]"):
        model.outcomes("ict", [])  # type: ignore[arg-type]


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    machine=st.one_of(JUNK, st.sampled_from(MACHINES)),
    profile=st.one_of(JUNK, st.sampled_from(PROFILES)),
    state=st.one_of(JUNK, st.sampled_from(["calling", "trying", "early"])),
    transport=st.one_of(JUNK, st.sampled_from(["udp", "tcp"])),
    t1=st.one_of(JUNK, st.floats(0.01, 10)),
    kind=st.one_of(JUNK, st.sampled_from(model.ENGINES)),
)
def test_hostile_registry_calls_raise_only_sipfsm_errors(
    machine: object, profile: object, state: object, transport: object, t1: object, kind: object
) -> None:
    calls = (
        lambda: model.declare(machine, profile),  # type: ignore[arg-type]
        lambda: model.outcomes(machine, state, profile),  # type: ignore[arg-type]
        lambda: model.timing_for(transport, t1),  # type: ignore[arg-type]
        lambda: model.engine(machine, profile, kind=kind),  # type: ignore[arg-type]
    )
    for call in calls:
        try:
            call()
        except SipFsmError as exc:
            assert "\n" not in str(exc)
