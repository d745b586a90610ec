"""The network between elements: one link per direction, each with its own faults.

A link has a delay (fixed, uniform or exponential), a loss probability, named drop rules
("drop the first 200 to INVITE", "drop every ACK"), a duplication probability and a
reordering probability (an extra random delay). Every link draws from its own random
generator, seeded from the run's seed and the link's place in the element list, so one
link's faults do not shift another's.

The transport decides what faults exist at the SIP level (RFC 3261 §18): over UDP
everything above can happen; TCP is reliable and ordered, so a message is never lost,
duplicated or overtaken on its link (arrivals are kept in send order) and only the delay
applies -- named drop rules too when the scenario asks for them (``drops_on_tcp``).
The timers the transport changes are the machines' business (`sipfsm.decl.timers.Timing`).

Every message put on a link is logged as a `WireMessage` (for ``--json`` and
expectations), whether or not recording is on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sipfsm.sim.engine import Entry, EventLoop, Stream, mix64, mix_words
from sipfsm.sim.invariants import Invariants
from sipfsm.sim.recorder import Recorder, WireMessage
from sipfsm.sim.scenario import DropRule, LinkSpec, NetworkSpec
from sipfsm.values.errors import RunawayError
from sipfsm.values.message import Message

__all__ = ["Link", "Network"]


def network_key(seed: int) -> int:
    """What the seeds of a run's links are derived from: the run's seed mixed once (with a
    constant of the network's own); each link's seed mixes it once more with its place."""
    high, low = network_words(seed)
    return (high << 32) | low


def network_words(seed: int) -> tuple[int, int]:
    """`network_key` as its two 32-bit halves ``(high, low)`` (`mix_words`: 64-bit values
    are boxed big integers in the compiled build, their halves machine integers)."""
    return mix_words(
        ((seed >> 32) & 0xFFFFFFFF) ^ (_NETWORK_STREAM >> 32),
        (seed & 0xFFFFFFFF) ^ (_NETWORK_STREAM & 0xFFFFFFFF),
    )


#: The network's constant in `network_key` (any fixed 64-bit constant; this one is the
#: golden ratio's, as in splitmix64).
_NETWORK_STREAM: Final = 0x9E3779B97F4A7C15


def link_seed(key: int, index: int) -> int:
    """The seed of the random stream of link ``index`` (`Network.link_index`) in a run
    whose `network_key` is ``key``: one more round of mixing per link."""
    return mix64(key ^ index)


def link_stream(words: tuple[int, int], index: int) -> Stream:
    """``Stream(link_seed(key, index))``, from the halves of ``key`` (`network_words`)."""
    high, low = mix_words(words[0] ^ ((index >> 32) & 0xFFFFFFFF), words[1] ^ (index & 0xFFFFFFFF))
    return Stream.of_words(high, low)


class _Arrival(Entry):
    """A message on its way, as the event loop keeps it (`Network.transmit`)."""

    __slots__ = ("dst", "message", "network", "ref", "src")

    def __init__(
        self, network: Network, src: str, dst: str, message: Message, ref: int | None
    ) -> None:
        super().__init__()
        self.network: Network | None = network
        self.src = src
        self.dst = dst
        self.message = message
        self.ref = ref

    def fire(self) -> None:
        network = self.network
        if network is not None:
            self.network = None
            network.in_flight -= 1
            network._arrive(self.src, self.dst, self.message, self.ref)

    def cancel(self) -> None:
        self.live = False
        self.network = None


class Link:
    """One direction between two elements, with its settings and random generator."""

    __slots__ = (
        "counts",
        "delay",
        "drops",
        "duplicate",
        "fixed",
        "index",
        "last_arrival",
        "loss",
        "reliable",
        "reorder",
        "reorder_delay",
        "rng",
        "spec",
    )

    def __init__(
        self,
        spec: LinkSpec,
        rng: Stream,
        reliable: bool,
        drops_on_tcp: bool,
        loss: float | None,
        index: int = 0,
    ) -> None:
        assert spec.delay is not None and spec.reorder_delay is not None
        self.spec = spec
        self.index = index  # the link's place among the run's (its seed's stream)
        self.rng = rng
        self.reliable = reliable
        self.delay = spec.delay
        #: the delay when it is fixed (drawing it then takes nothing from the generator)
        self.fixed: float | None = spec.delay.a if spec.delay.kind == "fixed" else None
        self.reorder_delay = spec.reorder_delay
        self.loss = 0.0 if reliable else (loss if loss is not None else spec.loss or 0.0)
        self.duplicate = 0.0 if reliable else spec.duplicate or 0.0
        self.reorder = 0.0 if reliable else spec.reorder or 0.0
        self.drops: tuple[DropRule, ...] = () if reliable and not drops_on_tcp else spec.drop
        self.counts = [0] * len(self.drops)
        self.last_arrival = 0.0

    def dropped_by(self, message: Message) -> DropRule | None:
        """The first drop rule that takes ``message`` (each rule counts its matches)."""
        found = None
        for i, rule in enumerate(self.drops):
            if rule.match.matches(message):
                self.counts[i] += 1
                if found is None and (rule.every or self.counts[i] in rule.nth):
                    found = rule
        return found


_MAX_SPECS: Final = 1024
_specs: Final[dict[tuple[int, str, str], tuple[NetworkSpec, LinkSpec]]] = {}


def _link_spec(spec: NetworkSpec, src: str, dst: str) -> LinkSpec:
    """``spec.link(src, dst)``, worked out once per network spec (by identity: the entry
    keeps the spec alive, so its id is not reused while the entry is kept) and link."""
    key = (id(spec), src, dst)
    found = _specs.get(key)
    if found is None or found[0] is not spec:
        if len(_specs) >= _MAX_SPECS:
            _specs.clear()
        found = _specs[key] = (spec, spec.link(src, dst))
    return found[1]


class Network:
    """The links of a run. ``deliver(dst, message, src)`` is called when a message
    arrives."""

    __slots__ = (
        "_deliver",
        "_invariants",
        "_key",
        "_links",
        "_loop",
        "_recorder",
        "decisions",
        "drops_on_tcp",
        "in_flight",
        "log",
        "loss",
        "max_in_flight",
        "names",
        "reliable",
        "seed",
        "spec",
    )

    def __init__(
        self,
        spec: NetworkSpec,
        names: tuple[str, ...],
        loop: EventLoop,
        recorder: Recorder,
        invariants: Invariants,
        deliver: Callable[[str, Message, str], None],
        *,
        transport: str = "udp",
        seed: int = 0,
        loss: float | None = None,
        max_in_flight: int = 10_000,
    ) -> None:
        self.spec = spec
        self.names = names
        self._loop = loop
        self._recorder = recorder
        self._invariants = invariants
        self._deliver = deliver
        self.reliable = transport == "tcp"
        self.drops_on_tcp = spec.drops_on_tcp
        self.seed = seed
        self._key = network_words(seed)  # (`network_key`'s halves)
        self.loss = loss
        self._links: dict[tuple[str, str], Link] = {}
        self.log: list[WireMessage] = []
        #: every loss draw of the run, in order: (link index, loss probability, lost) --
        #: what a run's path depends on when it draws nothing else (`only_loss_draws`;
        #: runs reused by their draws, sipfsm.sim.run)
        self.decisions: list[tuple[int, float, bool]] = []
        #: messages on their way (an arrival scheduled, not yet delivered), and how many may
        #: be at once: more is a `RunawayError` (each message causes more than one other)
        self.in_flight = 0
        self.max_in_flight = max_in_flight

    def link(self, src: str, dst: str) -> Link:
        found = self._links.get((src, dst))
        if found is None:
            index = self.link_index(src, dst)
            found = Link(
                _link_spec(self.spec, src, dst),
                link_stream(self._key, index),
                self.reliable,
                self.drops_on_tcp,
                self.loss,
                index,
            )
            self._links[(src, dst)] = found
        return found

    def link_index(self, src: str, dst: str) -> int:
        """The link's place: its stream is seeded with ``link_seed(network_key(run seed),
        index)`` (`link_stream`)."""
        return self._index(src) * (len(self.names) + 1) + self._index(dst) + 1

    def only_loss_draws(self) -> bool:
        """Whether every link of the run drew only its loss draws (fixed delay, no
        reordering or duplication): then `decisions` is all the randomness it used."""
        return all(
            link.fixed is not None and not link.reorder and not link.duplicate
            for link in self._links.values()
        )

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            return len(self.names)

    def transmit(
        self,
        src: str,
        dst: str,
        message: Message,
        retransmission: bool = False,
        machine: str = "",
        tx: str = "",
    ) -> None:
        link = self._links.get((src, dst)) or self.link(src, dst)
        loop = self._loop
        now = loop.now
        entry = WireMessage(now, src, dst, message, retransmission)
        self.log.append(entry)
        rec = self._recorder
        recording = rec.enabled
        ref = None
        if recording:
            ref = len(rec.records)  # the seq of the send record
            rec.add(
                "send",
                src,
                src=src,
                dst=dst,
                message=message,
                retransmission=retransmission,
                machine=machine,
                tx=tx,
            )
        rule = link.dropped_by(message) if link.drops else None
        rng = link.rng
        lost = rule is not None
        if not lost and link.loss:
            lost = rng.random() < link.loss
            self.decisions.append((link.index, link.loss, lost))
        if lost:
            entry.lost = True
            if recording:
                why = (
                    f"{rule.describe()} ({rule.where})"
                    if rule is not None
                    else f"lost (loss probability {link.loss:g})"
                )
                rec.add("lost", src, src=src, dst=dst, message=message, text=why, ref=ref)
            return
        fixed = link.fixed
        delay = fixed if fixed is not None else link.delay.sample(rng)
        if link.reorder and rng.random() < link.reorder:
            delay += link.reorder_delay.sample(rng)
        arrival = now + delay
        if link.reliable:  # TCP keeps the order of a connection
            arrival = max(arrival, link.last_arrival)
            link.last_arrival = arrival
        if self.in_flight >= self.max_in_flight:
            self._runaway(now)
        self.in_flight += 1
        loop.post(_Arrival(self, src, dst, message, ref), arrival - now)
        if link.duplicate and rng.random() < link.duplicate:
            entry.duplicated = True
            if recording:
                rec.add(
                    "duplicate",
                    src,
                    src=src,
                    dst=dst,
                    message=message,
                    text="the network duplicated it",
                    ref=ref,
                )
            if self.in_flight >= self.max_in_flight:
                self._runaway(now)
            self.in_flight += 1
            loop.post(
                _Arrival(self, src, dst, message, ref),
                fixed if fixed is not None else link.delay.sample(rng),
            )

    def _runaway(self, now: float) -> None:
        raise RunawayError(
            f"more than {self.max_in_flight:,} messages in flight at virtual time {now:g} s: "
            "the run does not settle (each message causes more than one other)",
            "in-flight",
        )

    def _arrive(self, src: str, dst: str, message: Message, ref: int | None = None) -> None:
        self._invariants.on_deliver(dst, message)
        if self._recorder.enabled:
            self._recorder.add("deliver", dst, src=src, dst=dst, message=message, ref=ref)
        self._deliver(dst, message, src)
