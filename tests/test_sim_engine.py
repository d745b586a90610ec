"""The simulator's clock (sipfsm.sim.engine): a discrete-event loop on virtual time.

What is checked: callbacks run in time order, and in scheduling order at equal times (the
rule that makes runs deterministic); ``now`` is the virtual time of the callback; a
cancelled callback never runs; ``run(until)`` stops before later events and can resume;
negative or NaN delays are refused; seeds for sub-streams are derived with integer
arithmetic only, so they are the same on every platform and Python version.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.sim.engine import EventLoop, Handle, Stream, derive_seed, mix64, mix_words
from sipfsm.values.errors import RunawayError


def test_callbacks_run_in_virtual_time_order_with_now_set() -> None:
    loop = EventLoop()
    seen: list[tuple[str, float]] = []
    for name, delay in (("c", 3.0), ("a", 1.0), ("b", 2.0)):
        loop.schedule(delay, lambda n=name: seen.append((n, loop.now)))
    loop.run()
    assert seen == [("a", 1.0), ("b", 2.0), ("c", 3.0)]
    assert loop.now == 3.0


def test_equal_times_run_in_scheduling_order_for_determinism() -> None:
    loop = EventLoop()
    seen: list[int] = []
    for i in range(20):
        loop.schedule(0.5, seen.append, i)
    loop.run()
    assert seen == list(range(20))


def test_a_callback_may_schedule_more_work_including_at_the_same_time() -> None:
    loop = EventLoop()
    seen: list[str] = []

    def first() -> None:
        seen.append("first")
        loop.schedule(0.0, seen.append, "same time, later")
        loop.schedule(1.0, seen.append, "later")

    loop.schedule(1.0, first)
    loop.schedule(1.0, seen.append, "scheduled before")
    loop.run()
    assert seen == ["first", "scheduled before", "same time, later", "later"]
    assert loop.now == 2.0


def test_a_cancelled_callback_never_runs() -> None:
    loop = EventLoop()
    seen: list[str] = []
    handle = loop.schedule(1.0, seen.append, "cancelled")
    loop.schedule(2.0, seen.append, "kept")
    loop.cancel(handle)
    loop.cancel(None)  # ignored
    assert handle.cancelled
    assert loop.pending == 1
    loop.run()
    assert seen == ["kept"]


def test_run_until_stops_before_later_events_and_resumes() -> None:
    loop = EventLoop()
    seen: list[float] = []
    for t in (1.0, 2.0, 3.0):
        loop.schedule(t, lambda: seen.append(loop.now))
    loop.run(until=2.0)
    assert seen == [1.0, 2.0]
    loop.run()
    assert seen == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("delay", [-0.1, math.nan])
def test_a_negative_or_nan_delay_is_refused(delay: float) -> None:
    with pytest.raises(ValueError, match="delay must be a number >= 0"):
        EventLoop().schedule(delay, lambda: None)


def test_call_later_entries_share_the_order_and_cancelling_of_handles() -> None:
    loop = EventLoop()
    seen: list[str] = []
    loop.schedule(1.0, seen.append, "handle")
    entry = loop.call_later(1.0, seen.append, ("entry",))
    dropped = loop.call_later(0.5, seen.append, ("cancelled",))
    loop.call_later(1.0, seen.append, ("entry, later",))
    loop.cancel(dropped)
    assert loop.pending == 3
    loop.run()
    assert seen == ["handle", "entry", "entry, later"]
    loop.cancel(entry)  # one that already ran: ignored
    with pytest.raises(ValueError, match="delay must be a number >= 0"):
        loop.call_later(-1.0, seen.append, ("never",))


def test_a_handle_reads_its_callback_until_it_runs_or_is_cancelled() -> None:
    loop = EventLoop()
    seen: list[str] = []
    handle = loop.schedule(2.5, seen.append, "x")
    assert isinstance(handle, Handle)
    assert (handle.time, handle.fn, handle.args, handle.cancelled) == (
        2.5,
        seen.append,
        ("x",),
        False,
    )
    loop.cancel(handle)
    assert handle.cancelled and handle.fn is None and handle.args == ()
    loop.run()
    assert seen == []
    ran = loop.schedule(1.0, seen.append, "y")
    loop.run()
    assert seen == ["y"] and ran.cancelled and ran.fn is None  # it ran: nothing left to run


def test_a_posted_entry_runs_after_the_entries_already_due_at_its_time() -> None:
    loop = EventLoop()
    seen: list[str] = []
    loop.schedule(1.0, seen.append, "scheduled")
    loop.post(Handle(seen.append, ("posted",)), 1.0)
    loop.post(Handle(seen.append, ("posted earlier",)), 0.5)
    loop.run()
    assert seen == ["posted earlier", "scheduled", "posted"]
    with pytest.raises(ValueError, match="delay must be a number >= 0"):
        loop.post(Handle(seen.append, ("never",)), math.nan)


def test_a_cancelled_entry_does_not_move_the_clock() -> None:
    loop = EventLoop()
    loop.cancel(loop.schedule(5.0, lambda: None))
    assert loop.run() == 0
    assert loop.now == 0.0 and loop.pending == 0


def test_a_runaway_run_stops_at_the_limit_and_the_rest_still_runs_in_order() -> None:
    loop = EventLoop()
    seen: list[int] = []
    for i in range(5):
        loop.schedule(1.0, seen.append, i)
    with pytest.raises(RunawayError, match="more than 2 events by virtual time 1 s"):
        loop.run(limit=2)
    assert seen == [0, 1]
    assert loop.run() == 3  # the entry that was refused, then the rest, once each
    assert seen == [0, 1, 2, 3, 4]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.booleans(), st.booleans()),
        max_size=25,
    )
)
def test_entries_run_by_time_then_by_scheduling_order_whatever_they_add_while_running(
    plan: list[tuple[float, bool, bool]],
) -> None:
    # each entry may schedule a follow-up (delay 0 or 0.5) when it runs, and may be
    # cancelled; the order must be that of a sort by (time, scheduling number)
    loop = EventLoop()
    ran: list[tuple[float, int]] = []
    counter = [0]

    def add(delay: float, follow: bool) -> Handle:
        counter[0] += 1
        number = counter[0]

        def body() -> None:
            ran.append((loop.now, number))
            if follow:
                add(0.0 if number % 2 else 0.5, False)

        return loop.schedule(delay, body)

    cancelled = []
    for delay, follow, cancel in plan:
        handle = add(delay, follow)
        if cancel:
            loop.cancel(handle)
            cancelled.append(handle)
    loop.run()
    assert ran == sorted(ran)
    assert len(ran) == len({number for _, number in ran})
    assert all(h.cancelled for h in cancelled)


def test_the_loops_random_stream_is_stream_0_of_the_seed_made_when_first_asked_for() -> None:
    assert EventLoop(7).rng.random() == random.Random(derive_seed(7, 0)).random()
    loop = EventLoop(7)
    assert loop.rng is loop.rng


def test_derived_seeds_are_fixed_integers_distinct_per_stream() -> None:
    # fixed values: a change here would change every recorded trace
    assert derive_seed(0) == derive_seed(0)
    assert derive_seed(0, 1, 2) != derive_seed(0, 2, 1)
    assert derive_seed(1, 5) != derive_seed(2, 5)
    assert derive_seed(7, 1) == 14574897457539200646
    # a round of mixing per part, and one for the number of parts
    assert derive_seed(7, 1) == mix64(mix64(mix64(7) ^ 1) ^ 1)
    seeds = {derive_seed(s, a, b) for s in range(4) for a in range(4) for b in range(4)}
    assert len(seeds) == 64


def _splitmix64_finaliser(x: int) -> int:
    """splitmix64's finaliser as published, on Python's unbounded integers."""
    mask = (1 << 64) - 1
    x = (x + 0x9E3779B97F4A7C15) & mask
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
    return x ^ (x >> 31)


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_mixing_on_32_bit_halves_is_the_splitmix64_finaliser(x: int) -> None:
    assert mix64(x) == _splitmix64_finaliser(x)
    high, low = mix_words(x >> 32, x & 0xFFFFFFFF)
    assert (high << 32) | low == _splitmix64_finaliser(x)
    assert 0 <= high < 2**32 and 0 <= low < 2**32


def test_mixing_carries_across_the_halves_at_the_edges() -> None:
    for x in (0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1, 0x6180_83C8_80B5_83EA):
        assert mix64(x) == _splitmix64_finaliser(x)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), max_size=30))
def test_the_loop_visits_every_event_once_in_nondecreasing_time(delays: list[float]) -> None:
    loop = EventLoop()
    times: list[float] = []
    for d in delays:
        loop.schedule(d, lambda: times.append(loop.now))
    loop.run()
    assert times == sorted(delays)


# -- a link's random stream (MRG32k3a) ------------------------------------------------------


def test_stream_is_mrg32k3a_as_published() -> None:
    # L'Ecuyer's MRG32k3a from the customary seed, 12345 in all six words: its first
    # uniforms are 0.12701112204657714 and 0.3185275653967945
    stream = Stream.of_state((12345,) * 6)
    assert stream.random() == pytest.approx(0.12701112204657714, abs=1e-15)
    assert stream.random() == pytest.approx(0.3185275653967945, abs=1e-15)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_a_stream_is_fixed_by_its_seed_and_draws_inside_the_open_unit_interval(seed: int) -> None:
    a, b = Stream(seed), Stream(seed)
    draws = [a.random() for _ in range(50)]
    assert draws == [b.random() for _ in range(50)]
    assert all(0.0 < u < 1.0 for u in draws)
    assert len(set(draws)) > 45  # not stuck (a seed never leaves a component all zero)


class _IntegerMRG32k3a:
    """MRG32k3a on Python integers, seeded as `Stream` seeds: the reference the stream's
    double arithmetic must reproduce exactly."""

    M1, M2 = 4294967087, 4294944443

    def __init__(self, seed: int) -> None:
        low, high = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
        m1, m2 = self.M1, self.M2
        self.s = [low % m1, high % m1, (low ^ high) % m1 or 1]
        self.s += [high % m2, low % m2, (low + high) % m2 or 1]

    def random(self) -> float:
        s10, s11, s12, s20, s21, s22 = self.s
        p1 = (1403580 * s11 - 810728 * s10) % self.M1
        p2 = (527612 * s22 - 1370589 * s20) % self.M2
        self.s = [s11, s12, p1, s21, s22, p2]
        return (p1 - p2 if p1 > p2 else p1 - p2 + self.M1) * (1.0 / 4294967088)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_the_stream_in_doubles_draws_exactly_what_integer_arithmetic_draws(seed: int) -> None:
    reference = _IntegerMRG32k3a(seed)
    stream = Stream(seed)
    from_words = Stream.of_words(seed >> 32, seed & 0xFFFFFFFF)
    for _ in range(200):
        expected = reference.random()
        assert stream.random() == expected
        assert from_words.random() == expected


def test_streams_of_different_seeds_differ() -> None:
    firsts = {Stream(derive_seed(7, 1, i)).random() for i in range(100)}
    assert len(firsts) == 100
    assert Stream(0).random() != Stream(1).random()


def test_uniform_and_exponential_draws_are_taken_from_random_as_random_random_takes_them() -> None:
    a, b = Stream(99), Stream(99)
    assert a.uniform(0.5, 1.5) == 0.5 + 1.0 * b.random()
    assert a.expovariate(4.0) == -math.log(1.0 - b.random()) / 4.0


def test_stream_draws_are_uniform_enough_for_loss_decisions() -> None:
    stream = Stream(derive_seed(2026, 1, 0))
    n = 20_000
    lost = sum(stream.random() < 0.01 for _ in range(n))
    assert 140 <= lost <= 260  # 1% of 20,000 is 200; 4 standard deviations either side
