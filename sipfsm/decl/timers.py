"""SIP timers: RFC 3261 Table 4 (§17, Appendix A) and RFC 6026 Timers L and M.

Each timer is declared once; its value on a given transport is derived from the
declaration and the base values T1, T2 and T4 (`Timing`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sipfsm.decl.language import TimerDecl, Transport
from sipfsm.values.errors import SipFsmError, shown

T1_DEFAULT = 0.5
T2_DEFAULT = 4.0
T4_DEFAULT = 5.0

#: The timers of RFC 3261 Table 4, RFC 6026 (L, M), the 100 Trying delay of §17.2.1 and the
#: 64*T1 wait after a CANCEL of §9.1.
TIMERS: Mapping[str, TimerDecl] = MappingProxyType(
    {
        t.name: t
        for t in (
            TimerDecl(
                "A",
                "T1",
                None,
                "INVITE request retransmit interval, for UDP only",
                "RFC 3261 §17.1.1.2",
            ),
            TimerDecl(
                "B", "64*T1", "64*T1", "INVITE transaction timeout timer", "RFC 3261 §17.1.1.2"
            ),
            TimerDecl(
                "C", "180", "180", "proxy INVITE transaction timeout (> 3 min)", "RFC 3261 §16.6"
            ),
            TimerDecl("D", "32", "0", "Wait time for response retransmits", "RFC 3261 §17.1.1.2"),
            TimerDecl(
                "E",
                "T1",
                None,
                "non-INVITE request retransmit interval, UDP only",
                "RFC 3261 §17.1.2.2",
                cap="T2",
            ),
            TimerDecl(
                "F", "64*T1", "64*T1", "non-INVITE transaction timeout timer", "RFC 3261 §17.1.2.2"
            ),
            TimerDecl(
                "G", "T1", None, "INVITE response retransmit interval", "RFC 3261 §17.2.1", cap="T2"
            ),
            TimerDecl("H", "64*T1", "64*T1", "Wait time for ACK receipt", "RFC 3261 §17.2.1"),
            TimerDecl("I", "T4", "0", "Wait time for ACK retransmits", "RFC 3261 §17.2.1"),
            TimerDecl(
                "J",
                "64*T1",
                "0",
                "Wait time for non-INVITE request retransmits",
                "RFC 3261 §17.2.2",
            ),
            TimerDecl("K", "T4", "0", "Wait time for response retransmits", "RFC 3261 §17.1.2.2"),
            TimerDecl(
                "L",
                "64*T1",
                "64*T1",
                "Wait time for accepted INVITE request retransmits",
                "RFC 6026 §8.7",
            ),
            TimerDecl(
                "M",
                "64*T1",
                "64*T1",
                "Wait time for retransmission of 2xx to INVITE "
                "or additional 2xx from other branches of a forked INVITE",
                "RFC 6026 §8.4",
            ),
            TimerDecl(
                "Cancel",
                "64*T1",
                "64*T1",
                "wait for the final response to a cancelled INVITE before destroying its "
                "client transaction",
                "RFC 3261 §9.1",
            ),
            TimerDecl(
                "Trying",
                "0.2",
                "0.2",
                "send 100 Trying if the TU has not responded within 200 ms",
                "RFC 3261 §17.2.1",
            ),
        )
    }
)


class TimingError(SipFsmError, ValueError):
    """A `Timing` whose base values or transport cannot be used."""


@dataclass(frozen=True, slots=True)
class Timing:
    """Base timer values and the transport. Every duration is derived from these."""

    t1: float = T1_DEFAULT
    t2: float = T2_DEFAULT
    t4: float = T4_DEFAULT
    transport: Transport = "udp"

    def __post_init__(self) -> None:
        values: tuple[object, ...] = (self.t1, self.t2, self.t4)
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < math.inf
            for v in values
        ):
            raise TimingError(
                "T1, T2 and T4 must be positive, finite numbers of seconds, got "
                + ", ".join(shown(v) for v in values)
            )
        if not isinstance(self.transport, str) or self.transport not in ("udp", "tcp"):
            raise TimingError(f"transport must be 'udp' or 'tcp', got {shown(self.transport)}")

    @property
    def reliable(self) -> bool:
        return self.transport == "tcp"

    def value(self, expr: str) -> float:
        """Evaluate a timer expression: a number, ``T1``/``T2``/``T4`` or ``k*Tn``."""
        factor = 1.0
        text = expr.replace(" ", "")
        if "*" in text:
            head, text = text.split("*", 1)
            factor = float(head)
        base = {"T1": self.t1, "T2": self.t2, "T4": self.t4}.get(text)
        return factor * (base if base is not None else float(text))

    def duration(self, timer: str | TimerDecl) -> float | None:
        """Initial duration of a timer on this transport; ``None`` if it is not started."""
        decl = TIMERS[timer] if isinstance(timer, str) else timer
        expr = decl.reliable if self.reliable else decl.unreliable
        return None if expr is None else self.value(expr)

    def backoff(self, timer: str | TimerDecl, previous: float) -> float:
        """The next interval of a doubling retransmission timer (capped where declared)."""
        decl = TIMERS[timer] if isinstance(timer, str) else timer
        nxt = previous * 2
        return min(nxt, self.value(decl.cap)) if decl.cap else nxt

    def table(self, names: tuple[str, ...] | None = None) -> dict[str, float | None]:
        return {n: self.duration(n) for n in (names or tuple(TIMERS))}


DEFAULT_TIMING = Timing()
