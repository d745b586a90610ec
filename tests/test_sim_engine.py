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

from sipfsm.sim.engine import EventLoop, Stream, derive_seed, mix64


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
