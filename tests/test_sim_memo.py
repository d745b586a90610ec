"""What the simulator works out once per scenario object (sipfsm.sim.memo): one value per
object by identity, never another object's value, bounded."""

from __future__ import annotations

import pytest

from sipfsm.sim.memo import ByIdentity


def test_a_value_is_worked_out_once_per_object_and_found_by_identity() -> None:
    made: list[list[int]] = []

    def make(key: list[int]) -> int:
        made.append(key)
        return sum(key)

    cache: ByIdentity[list[int], int] = ByIdentity(make, 4)
    a, b = [1, 2], [1, 2]  # equal, not the same object
    assert (cache.get(a), cache.get(a), cache.get(b)) == (3, 3, 3)
    assert made == [a, b] and made[0] is a and made[1] is b


def test_an_entry_keeps_its_object_alive_so_its_id_is_never_another_objects() -> None:
    cache: ByIdentity[list[int], int] = ByIdentity(len, 4)
    cache.get([1, 2, 3])  # dropped by the caller, kept by the cache
    assert cache.get([7]) == 1  # a new object cannot take the kept one's id


def test_a_full_cache_is_emptied_and_works_values_out_again() -> None:
    cache: ByIdentity[tuple[int, ...], int] = ByIdentity(len, 2)
    keys = [(1,), (1, 2), (1, 2, 3)]
    assert [cache.get(k) for k in keys] == [1, 2, 3]
    assert len(cache) == 1
    assert cache.get(keys[0]) == 1 and len(cache) == 2


def test_a_cache_of_no_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        ByIdentity(len, 0)
