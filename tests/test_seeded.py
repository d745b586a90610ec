"""The dialog's seeded random source (sipfsm.values.seeded): equal by state, unhashable."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.values.seeded import SeededRandom


@given(seed=st.integers(min_value=0, max_value=2**64), draws=st.integers(0, 20))
def test_two_sources_with_one_seed_draw_alike_and_compare_equal_rfc3261_14_1(
    seed: int, draws: int
) -> None:
    a, b = SeededRandom(seed), SeededRandom(seed)
    assert [a.random() for _ in range(draws)] == [b.random() for _ in range(draws)]
    assert a == b
    assert a == random.Random(seed) or draws > 0  # equal to any generator in that state


def test_a_draw_makes_two_sources_differ_and_none_is_hashable() -> None:
    a, b = SeededRandom(7), SeededRandom(7)
    a.random()
    assert a != b
    assert a != "not a generator"
    with pytest.raises(TypeError):
        hash(a)
