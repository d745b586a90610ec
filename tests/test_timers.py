"""Timer values and back-off, against RFC 3261 Table 4 (Appendix A), §17 and RFC 6026 §8.11.

`rfc_table_4` below is the oracle: Table 4 (plus RFC 6026's L and M) written out from the
RFC, not read from sipfsm/decl/timers.py. Every value is checked twice: through
`Timing.duration`, and through the `StartTimer` the engine emits when a transaction enters
the state that runs the timer.
"""

from __future__ import annotations

import re

import pytest
from conftest import BYE, CREATE, PATHS, TCP, TCP_T1_025, UDP, UDP_T1_025, Driver, at, received
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.decl.timers import DEFAULT_TIMING, TIMERS, Timing, TimingError
from sipfsm.values.events import StartTimer, TimerFired

RFC_TIMERS = ("A", "B", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M")
TIMINGS = [UDP, TCP, UDP_T1_025, TCP_T1_025]
TIMING_IDS = ["udp", "tcp", "udp-t1-0.25", "tcp-t1-0.25"]


def rfc_table_4(timer: str, timing: Timing) -> float | None:
    """RFC 3261 Table 4 and RFC 6026 §8.11; ``None``: not started (reliable transport)."""
    t1, t4 = timing.t1, timing.t4
    unreliable = {
        "A": t1,  # initially T1 (§17.1.1.2)
        "B": 64 * t1,
        "D": 32.0,  # > 32 s for UDP
        "E": t1,  # initially T1 (§17.1.2.2)
        "F": 64 * t1,
        "G": t1,  # initially T1 (§17.2.1)
        "H": 64 * t1,
        "I": t4,
        "J": 64 * t1,
        "K": t4,
        "L": 64 * t1,  # RFC 6026 §8.7: "64*T1 for all transports"
        "M": 64 * t1,  # RFC 6026 §8.4
    }
    reliable = {
        "A": None,  # "SHOULD NOT start timer A" (§17.1.1.2)
        "B": 64 * t1,
        "D": 0.0,  # 0 s for TCP/SCTP
        "E": None,  # "If an unreliable transport is in use ... set timer E" (§17.1.2.2)
        "F": 64 * t1,
        "G": None,  # "not set to fire for reliable transports" (§17.2.1)
        "H": 64 * t1,
        "I": 0.0,
        "J": 0.0,
        "K": 0.0,
        "L": 64 * t1,
        "M": 64 * t1,
    }
    return (reliable if timing.reliable else unreliable)[timer]


#: Where each timer is started: machine, profile and the state whose entry starts it.
STARTED_IN: dict[str, tuple[str, str, str]] = {
    "A": ("ict", "rfc6026", "calling"),
    "B": ("ict", "rfc6026", "calling"),
    "D": ("ict", "rfc6026", "completed"),
    "E": ("nict", "rfc6026", "trying"),
    "F": ("nict", "rfc6026", "trying"),
    "G": ("ist", "rfc6026", "completed"),
    "H": ("ist", "rfc6026", "completed"),
    "I": ("ist", "rfc6026", "confirmed"),
    "J": ("nist", "rfc6026", "completed"),
    "K": ("nict", "rfc6026", "completed"),
    "L": ("ist", "rfc6026", "accepted"),
    "M": ("ict", "rfc6026", "accepted"),
}


def started(timer: str, timing: Timing) -> list[StartTimer]:
    """The `StartTimer` actions for ``timer`` on the way into the state that runs it."""
    machine, profile, state = STARTED_IN[timer]
    d = Driver(machine, profile, timing)
    actions = d.create(CREATE[machine])
    for event in PATHS[machine][state]:
        actions += d(event)
    assert d.state == state
    return [a for a in actions if isinstance(a, StartTimer) and a.name == timer]


@pytest.mark.parametrize("timing", TIMINGS, ids=TIMING_IDS)
@pytest.mark.parametrize("timer", RFC_TIMERS)
def test_timer_duration_matches_rfc3261_table_4(timer: str, timing: Timing) -> None:
    assert timing.duration(timer) == rfc_table_4(timer, timing)


@pytest.mark.parametrize("timing", TIMINGS, ids=TIMING_IDS)
@pytest.mark.parametrize("timer", RFC_TIMERS)
def test_timer_started_on_state_entry_with_rfc3261_table_4_value(
    timer: str, timing: Timing
) -> None:
    value = rfc_table_4(timer, timing)
    expected = [] if value is None else [StartTimer(timer, value)]
    assert started(timer, timing) == expected


@pytest.mark.parametrize("timing", [TCP, TCP_T1_025], ids=["tcp", "tcp-t1-0.25"])
@pytest.mark.parametrize("timer", ["A", "E", "G"])
def test_retransmission_timers_a_e_g_not_started_on_reliable_transport_rfc3261_17(
    timer: str, timing: Timing
) -> None:
    assert timing.duration(timer) is None
    assert started(timer, timing) == []


@pytest.mark.parametrize("timing", [TCP, TCP_T1_025], ids=["tcp", "tcp-t1-0.25"])
@pytest.mark.parametrize("timer", ["D", "I", "J", "K"])
def test_wait_timers_d_i_j_k_zero_on_reliable_transport_rfc3261_table_4(
    timer: str, timing: Timing
) -> None:
    assert started(timer, timing) == [StartTimer(timer, 0.0)]


def test_timer_d_is_at_least_32_s_whatever_t1_rfc6026_8_4() -> None:
    for t1 in (0.1, 0.25, 0.5, 1.0):
        assert Timing(t1=t1).duration("D") == 32.0


@pytest.mark.parametrize("timing", TIMINGS, ids=TIMING_IDS)
@pytest.mark.parametrize("timer", ["L", "M"])
def test_timers_l_m_are_64_t1_for_all_transports_rfc6026_8_11(timer: str, timing: Timing) -> None:
    assert started(timer, timing) == [StartTimer(timer, 64 * timing.t1)]


def test_trying_timer_is_200_ms_on_every_transport_rfc3261_17_2_1() -> None:
    for timing in TIMINGS:
        d = Driver("ist", "rfc6026", timing)
        assert StartTimer("Trying", 0.2) in d.create(CREATE["ist"])


# -- back-off ------------------------------------------------------------------------------


def fire_repeatedly(driver: Driver, timer: str, times: int) -> list[float]:
    """Intervals the timer is reset to after each of ``times`` firings."""
    values: list[float] = []
    for _ in range(times):
        restarts = [a for a in driver(TimerFired(timer)) if isinstance(a, StartTimer)]
        assert [a.name for a in restarts] == [timer]
        values.append(restarts[0].seconds)
    return values


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        (UDP, [0.5, 1, 2, 4, 8, 16, 32, 64]),
        (UDP_T1_025, [0.25, 0.5, 1, 2, 4, 8, 16, 32]),
    ],
    ids=["t1-0.5", "t1-0.25"],
)
def test_timer_a_doubles_without_cap_rfc3261_17_1_1_2(
    timing: Timing, expected: list[float]
) -> None:
    d = at("ict", "calling", "rfc6026", timing)
    assert [d.timers["A"], *fire_repeatedly(d, "A", 7)] == expected


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        (UDP, [0.5, 1, 2, 4, 4, 4, 4]),
        (UDP_T1_025, [0.25, 0.5, 1, 2, 4, 4, 4]),
        (Timing(t2=2.0), [0.5, 1, 2, 2, 2, 2, 2]),
    ],
    ids=["t1-0.5", "t1-0.25", "t2-2"],
)
def test_timer_e_doubles_capped_at_t2_in_trying_rfc3261_17_1_2_2(
    timing: Timing, expected: list[float]
) -> None:
    d = at("nict", "trying", "rfc6026", timing)
    assert [d.timers["E"], *fire_repeatedly(d, "E", 6)] == expected


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        (UDP, [0.5, 1, 2, 4, 4, 4, 4]),
        (UDP_T1_025, [0.25, 0.5, 1, 2, 4, 4, 4]),
        (Timing(t2=2.0), [0.5, 1, 2, 2, 2, 2, 2]),
    ],
    ids=["t1-0.5", "t1-0.25", "t2-2"],
)
def test_timer_g_doubles_capped_at_t2_in_completed_rfc3261_17_2_1(
    timing: Timing, expected: list[float]
) -> None:
    d = at("ist", "completed", "rfc6026", timing)
    assert [d.timers["G"], *fire_repeatedly(d, "G", 6)] == expected


@pytest.mark.parametrize("timing", [UDP, UDP_T1_025, Timing(t2=2.0)], ids=["d", "t1", "t2"])
def test_nict_proceeding_resets_timer_e_to_t2_rfc3261_17_1_2_2(timing: Timing) -> None:
    d = at("nict", "trying", "rfc6026", timing)
    d(TimerFired("E"))  # E now 2*T1
    d(received(BYE, 100))
    assert d.state == "proceeding"
    assert fire_repeatedly(d, "E", 3) == [timing.t2] * 3


@pytest.mark.parametrize("profile", ["rfc6026", "rfc3261"])
def test_nict_proceeding_never_runs_timer_e_on_reliable_transport_rfc3261_17_1_2_2(
    profile: str,
) -> None:
    d = at("nict", "proceeding", profile, TCP)
    assert "E" not in d.timers
    assert d(TimerFired("E")) == []
    assert d.timers == {"F": 32.0}


@given(
    t1=st.sampled_from([0.05, 0.1, 0.25, 0.5, 1.0, 2.0]),
    t2=st.sampled_from([1.0, 2.0, 4.0, 8.0, 16.0]),
    fires=st.integers(min_value=1, max_value=12),
)
def test_timer_e_and_g_intervals_are_min_t1_times_2_to_n_and_t2_rfc3261_17_1_2_2(
    t1: float, t2: float, fires: int
) -> None:
    timing = Timing(t1=t1, t2=t2)
    expected = [min(t1 * 2**n, t2) for n in range(1, fires + 1)]
    nict = at("nict", "trying", "rfc6026", timing)
    assert fire_repeatedly(nict, "E", fires) == expected
    ist = at("ist", "completed", "rfc6026", timing)
    assert fire_repeatedly(ist, "G", fires) == expected


@given(t1=st.sampled_from([0.05, 0.25, 0.5, 1.0, 3.0]), fires=st.integers(1, 12))
def test_timer_a_intervals_are_t1_times_2_to_n_rfc3261_17_1_1_2(t1: float, fires: int) -> None:
    d = at("ict", "calling", "rfc6026", Timing(t1=t1))
    assert fire_repeatedly(d, "A", fires) == [t1 * 2**n for n in range(1, fires + 1)]


# -- Timing and the TIMERS declarations ------------------------------------------------------


def test_default_timing_is_t1_500ms_t2_4s_t4_5s_udp_rfc3261_17() -> None:
    assert (DEFAULT_TIMING.t1, DEFAULT_TIMING.t2, DEFAULT_TIMING.t4) == (0.5, 4.0, 5.0)
    assert DEFAULT_TIMING.transport == "udp"
    assert not DEFAULT_TIMING.reliable
    assert TCP.reliable


@pytest.mark.parametrize(
    "kwargs",
    [{"t1": 0}, {"t1": -0.5}, {"t2": 0}, {"t4": -1}],
    ids=["t1-zero", "t1-negative", "t2-zero", "t4-negative"],
)
def test_timing_rejects_non_positive_base_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(TimingError, match="must be positive"):
        Timing(**kwargs)  # type: ignore[arg-type]


def test_timing_rejects_an_unknown_transport() -> None:
    with pytest.raises(TimingError, match="'sctp'"):
        Timing(transport="sctp")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("T1", 0.25),
        ("T2", 4.0),
        ("T4", 5.0),
        ("64*T1", 16.0),
        ("64 * T1", 16.0),
        ("32", 32.0),
        ("0", 0.0),
        ("0.2", 0.2),
    ],
)
def test_timing_value_evaluates_timer_expressions(expr: str, value: float) -> None:
    assert Timing(t1=0.25).value(expr) == value


def test_timing_table_lists_every_declared_timer() -> None:
    assert set(UDP.table()) == set(TIMERS)
    assert UDP.table(("A", "D")) == {"A": 0.5, "D": 32.0}
    assert TCP.table(("A", "D")) == {"A": None, "D": 0.0}


def test_timers_declare_every_rfc3261_table_4_timer_plus_rfc6026_l_m() -> None:
    assert set(RFC_TIMERS) <= set(TIMERS)
    for name, decl in TIMERS.items():
        assert decl.name == name


@pytest.mark.parametrize("timer", sorted(TIMERS))
def test_every_timer_cites_an_rfc_section(timer: str) -> None:
    assert re.fullmatch(r"RFC \d+ §[\d.]+", TIMERS[timer].rfc)


def test_only_e_and_g_are_capped_at_t2_rfc3261_17_1_2_2() -> None:
    assert {n for n, t in TIMERS.items() if t.cap} == {"E", "G"}
    assert TIMERS["E"].cap == TIMERS["G"].cap == "T2"


def test_backoff_doubles_and_caps_where_declared() -> None:
    assert UDP.backoff("A", 16.0) == 32.0
    assert UDP.backoff("E", 2.0) == 4.0
    assert UDP.backoff("E", 4.0) == 4.0
    assert UDP.backoff(TIMERS["G"], 3.0) == 4.0
