"""The limits of the simulator, sweeps and the commands that run them (sipfsm.sim.limits):
named, with their defaults, set by ``--limit NAME=N`` or ``Limits(FIELD=N)``, and each
error that reaches one names it and says how to raise it (docs/limits.md)."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from sipfsm.sim import limits
from sipfsm.sim.limits import DEFAULT_LIMITS, LimitError, Limits

DOCS = Path(__file__).resolve().parent.parent / "docs" / "limits.md"


def test_every_limit_has_a_name_a_default_and_a_field() -> None:
    assert Limits.names() == (
        "yaml-bytes", "yaml-depth", "yaml-aliases", "yaml-nodes", "events", "in-flight", "runs",
        "points", "workers",
    )  # fmt: skip
    expected = Limits(
        yaml_bytes=1_048_576, yaml_depth=32, yaml_aliases=256, yaml_nodes=100_000,
        events=100_000, in_flight=10_000, runs=10_000_000, points=10_000, workers=64,
    )  # fmt: skip
    assert expected == DEFAULT_LIMITS
    assert pickle.loads(pickle.dumps(DEFAULT_LIMITS)) == DEFAULT_LIMITS  # sent to workers


def test_limit_items_set_limits_by_name() -> None:
    got = DEFAULT_LIMITS.with_items(["events=1000000", "in-flight=1_000", " yaml-depth = 64 "])
    assert (got.events, got.in_flight, got.yaml_depth) == (1_000_000, 1_000, 64)
    assert got.runs == DEFAULT_LIMITS.runs


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("events", r"'events' is not NAME=N \(names: yaml-bytes, .*workers\)"),
        ("bogus=1", r"'bogus=1' is not NAME=N"),
        ("events=0", r"--limit events: '0' is not a whole number >= 1"),
        ("events=-5", r"is not a whole number >= 1"),
        ("events=1e9", r"'1e9' is not a whole number"),
        ("events=" + "9" * 40, r"is not a whole number"),
        ("events=5\x00", r"'5\\x00' is not a whole number"),
    ],
)
def test_a_limit_item_that_is_not_one_is_a_limit_error(item: str, message: str) -> None:
    with pytest.raises(LimitError, match=message) as e:
        DEFAULT_LIMITS.with_items([item])
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("value", [0, -1, True, 2.5, "3", None])
def test_a_limit_is_a_whole_number_of_at_least_one(value: object) -> None:
    with pytest.raises(LimitError, match=r"limit events: .* is not a whole number >= 1"):
        Limits(events=value)  # type: ignore[arg-type]


def test_the_hint_names_the_limit_and_how_to_raise_it() -> None:
    assert Limits(events=5).hint("events") == (
        "limit events=5; raise it with --limit events=N, or limits=Limits(events=N) in Python"
    )
    assert limits.hint("in-flight", 10_000).startswith("limit in-flight=10,000; ")
def test_docs_limits_lists_every_limit_with_its_default() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in Limits.names():
        default = getattr(DEFAULT_LIMITS, name.replace("-", "_"))
        row = re.search(rf"^\| `{name}` \| ([\d,]+) \|", text, re.MULTILINE)
        assert row is not None, f"docs/limits.md has no row for {name}"
        assert row.group(1) == f"{default:,}", name
