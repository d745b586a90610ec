"""The simulated network (sipfsm.sim.network): links with delay, loss, named drop rules,
duplication and reordering, over an unreliable (UDP) or reliable (TCP) transport.

What is checked, driving `Network.transmit` directly with messages of RFC 3665 §3.1:
a fixed delay delivers after exactly that delay; loss 1 loses everything on UDP and
nothing on TCP (RFC 3261 §18: a reliable transport); `--loss` replaces a link's loss;
a drop rule drops the nth match or every match, counted per link; duplication delivers
a second copy; TCP keeps the send order even with random delays; delays stay within their
distribution; the same seed gives the same fates and every link has its own random
stream; every message is logged on the wire, lost or not; records are written only when
recording is on.
"""

from __future__ import annotations

import random

import pytest
from conftest import make_request

from sipfsm.sim.engine import EventLoop, Stream
from sipfsm.sim.invariants import Invariants
from sipfsm.sim.network import Network, link_seed, link_stream, network_key, network_words
from sipfsm.sim.recorder import Recorder
from sipfsm.sim.scenario import Delay, DropRule, LinkSpec, MessagePattern, NetworkSpec
from sipfsm.values.message import Message, response_to

INVITE = make_request("INVITE", call_id="c1", from_tag="a", branch="z9hG4bK1", sent_by="alice")
RINGING = response_to(INVITE, 180, to_tag="b")
OK = response_to(INVITE, 200, to_tag="b")
ACK = make_request(
    "ACK", call_id="c1", from_tag="a", to_tag="b", branch="z9hG4bK2", sent_by="alice"
)


class Wire:
    """A network between alice and bob, and what arrived where, when."""

    def __init__(
        self,
        spec: NetworkSpec,
        *,
        transport: str = "udp",
        seed: int = 0,
        loss: float | None = None,
        record: bool = True,
    ) -> None:
        self.loop = EventLoop(seed)
        self.recorder = Recorder(self.loop, record)
        self.arrived: list[tuple[float, str, Message, str]] = []
        self.net = Network(
            spec,
            ("alice", "bob"),
            self.loop,
            self.recorder,
            Invariants(self.recorder),
            self._deliver,
            transport=transport,
            seed=seed,
            loss=loss,
        )

    def _deliver(self, dst: str, message: Message, src: str) -> None:
        self.arrived.append((self.loop.now, dst, message, src))

    def send(self, *messages: Message, src: str = "alice", dst: str = "bob") -> None:
        for m in messages:
            self.net.transmit(src, dst, m)

    def run(self) -> list[tuple[float, str, Message, str]]:
        self.loop.run()
        return self.arrived


def link(**fields: object) -> NetworkSpec:
    return NetworkSpec(default=LinkSpec(**fields))  # type: ignore[arg-type]


def test_a_fixed_delay_delivers_after_exactly_that_delay() -> None:
    w = Wire(link(delay=Delay("fixed", 0.25)))
    w.send(INVITE)
    assert w.run() == [(0.25, "bob", INVITE, "alice")]
    assert [(e.src, e.dst, e.lost) for e in w.net.log] == [("alice", "bob", False)]


def test_the_default_delay_is_50_ms() -> None:
    w = Wire(NetworkSpec())
    w.send(INVITE)
    assert w.run()[0][0] == 0.05


def test_loss_one_loses_everything_over_udp_and_logs_it_as_lost() -> None:
    w = Wire(link(loss=1.0))
    w.send(INVITE, ACK)
    assert w.run() == []
    assert [e.lost for e in w.net.log] == [True, True]
    assert [r.kind for r in w.recorder.records] == ["send", "lost", "send", "lost"]


def test_tcp_is_reliable_loss_and_duplication_do_not_apply_rfc3261_18() -> None:
    w = Wire(link(loss=1.0, duplicate=1.0), transport="tcp")
    w.send(INVITE, ACK)
    assert [m for _, _, m, _ in w.run()] == [INVITE, ACK]


def test_the_loss_option_replaces_every_links_loss() -> None:
    w = Wire(link(loss=0.0), loss=1.0)
    w.send(INVITE)
    assert w.run() == []
    w = Wire(link(loss=1.0), loss=0.0)
    w.send(INVITE)
    assert len(w.run()) == 1


def test_a_drop_rule_drops_only_the_nth_match_counted_per_link() -> None:
    rule = DropRule(
        MessagePattern(kind="response", method="INVITE", status=(200, 200)), frozenset({2})
    )
    w = Wire(link(drop=(rule,)))
    w.send(RINGING, OK, OK, OK, src="bob", dst="alice")
    w.send(OK)  # alice -> bob is another link with its own count
    arrived = [(dst, m.status) for _, dst, m, _ in w.run()]  # type: ignore[union-attr]
    assert arrived == [("alice", 180), ("alice", 200), ("alice", 200), ("bob", 200)]
    assert [e.lost for e in w.net.log] == [False, False, True, False, False]
    lost = [r for r in w.recorder.records if r.kind == "lost"]
    assert lost[0].text.startswith("drop #2 200 (INVITE)")


def test_a_drop_rule_with_every_drops_all_matches() -> None:
    rule = DropRule(MessagePattern(kind="request", method="ACK"), every=True)
    w = Wire(link(drop=(rule,)))
    w.send(INVITE, ACK, ACK, ACK)
    assert [m for _, _, m, _ in w.run()] == [INVITE]


def test_named_drops_do_not_apply_on_tcp_unless_the_scenario_says_so() -> None:
    rule = DropRule(MessagePattern(kind="request", method="ACK"), every=True)
    w = Wire(link(drop=(rule,)), transport="tcp")
    w.send(ACK)
    assert len(w.run()) == 1
    w = Wire(NetworkSpec(default=LinkSpec(drop=(rule,)), drops_on_tcp=True), transport="tcp")
    w.send(ACK)
    assert w.run() == []


def test_duplication_delivers_a_second_copy_and_records_it() -> None:
    w = Wire(link(duplicate=1.0, delay=Delay("fixed", 0.1)))
    w.send(INVITE)
    assert [(t, m) for t, _, m, _ in w.run()] == [(0.1, INVITE), (0.1, INVITE)]
    assert [r.kind for r in w.recorder.records] == ["send", "duplicate", "deliver", "deliver"]
    assert w.net.log[0].duplicated


def test_tcp_keeps_the_send_order_whatever_the_delays() -> None:
    w = Wire(link(delay=Delay("uniform", 0.0, 1.0)), transport="tcp", seed=3)
    messages = [make_request("OPTIONS", cseq=n, branch=f"z9hG4bK{n}") for n in range(1, 40)]
    w.send(*messages)
    assert [m for _, _, m, _ in w.run()] == messages


def test_udp_with_random_delays_and_reordering_can_reorder() -> None:
    w = Wire(link(delay=Delay("uniform", 0.0, 1.0), reorder=0.5), seed=3)
    messages = [make_request("OPTIONS", cseq=n, branch=f"z9hG4bK{n}") for n in range(1, 40)]
    w.send(*messages)
    assert [m for _, _, m, _ in w.run()] != messages


@pytest.mark.parametrize(
    "delay", [Delay("uniform", 0.2, 0.3), Delay("exponential", 0.1), Delay("fixed", 0.0)]
)
def test_delays_stay_within_their_distribution(delay: Delay) -> None:
    rng = random.Random(1)
    samples = [delay.sample(rng) for _ in range(2000)]
    assert all(s >= 0 for s in samples)
    if delay.kind == "uniform":
        assert all(0.2 <= s <= 0.3 for s in samples)
    if delay.kind == "exponential":
        assert 0.08 < sum(samples) / len(samples) < 0.12


def fates(seed: int) -> list[bool]:
    w = Wire(link(loss=0.5, delay=Delay("uniform", 0, 0.1)), seed=seed)
    w.send(*[make_request("OPTIONS", cseq=n, branch=f"z9hG4bK{n}") for n in range(1, 60)])
    w.run()
    return [e.lost for e in w.net.log]


def test_the_same_seed_gives_the_same_fates_and_another_seed_others() -> None:
    assert fates(5) == fates(5)
    assert fates(5) != fates(6)


def test_each_link_has_its_own_random_stream() -> None:
    """Traffic on bob -> alice does not change what happens on alice -> bob."""

    def alice_fates(extra: int) -> list[bool]:
        w = Wire(link(loss=0.5), seed=9)
        for n in range(1, 30):
            w.send(make_request("OPTIONS", cseq=n, branch=f"z9hG4bK{n}"))
            for _ in range(extra):
                w.send(OK, src="bob", dst="alice")
        w.run()
        return [e.lost for e in w.net.log if e.src == "alice"]

    assert alice_fates(0) == alice_fates(3)


def test_a_links_own_settings_override_the_default_and_add_drop_rules() -> None:
    ack_rule = DropRule(MessagePattern(kind="request", method="ACK"), every=True)
    ok_rule = DropRule(MessagePattern(kind="response", status=(200, 200)))
    spec = NetworkSpec(
        default=LinkSpec(delay=Delay("fixed", 0.1), loss=0.3, drop=(ack_rule,)),
        links=(LinkSpec("bob", "alice", delay=Delay("fixed", 0.2), drop=(ok_rule,)),),
    )
    eff = spec.link("bob", "alice")
    assert eff.delay == Delay("fixed", 0.2)
    assert eff.loss == 0.3
    assert eff.drop == (ack_rule, ok_rule)
    assert spec.link("alice", "bob").drop == (ack_rule,)


def test_nothing_is_recorded_when_recording_is_off_but_the_log_is_kept() -> None:
    w = Wire(link(loss=1.0), record=False)
    w.send(INVITE)
    w.run()
    assert w.recorder.records == []
    assert [e.lost for e in w.net.log] == [True]


def test_each_link_has_its_own_stream_fixed_by_the_run_seed_and_its_place() -> None:
    seeds = {link_seed(network_key(seed), index) for seed in range(20) for index in range(1, 10)}
    assert len(seeds) == 180  # distinct for every run seed and link
    assert link_seed(network_key(7), 3) == link_seed(network_key(7), 3)
    assert len({network_key(seed) for seed in range(1000)}) == 1000


def test_a_link_stream_from_the_key_halves_is_the_stream_of_its_link_seed() -> None:
    for seed in (0, 7, 2**40 + 3, 2**64 - 1, -5):
        high, low = network_words(seed)
        key = network_key(seed)
        assert (high << 32) | low == key
        for index in (1, 5, 2**33 + 1):
            a, b = link_stream((high, low), index), Stream(link_seed(key, index))
            assert [a.random() for _ in range(20)] == [b.random() for _ in range(20)]
