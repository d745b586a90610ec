"""The cases of `sipfsm probe`, declared once, as data: each `Probe` names its RFC section,
what sipfsm sends and what passes, and the procedure that plays it (`sipfsm.net.probe`).
`PROBES` is the list: ``sipfsm probe --list``, the reports and the list in docs/live.md
(`sipfsm.render.docs`) are made from it. `Verdict` is what a case found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sipfsm.net.codec import Address

__all__ = ["OUTCOMES", "PROBES", "Exchange", "Probe", "ProbeOptions", "Verdict"]


@dataclass(frozen=True)
class Probe:
    """One case: ``id``; ``rfc``, the section whose rule it checks; ``title``; ``sends``,
    what sipfsm sends; ``passes``, what the target must do to pass; ``play``, the
    procedure; ``budget``, its longest run in units of T1 (RFC 3261 §17.1.1.1, 500 ms by
    default); ``transports``, where it applies."""

    id: str
    rfc: str
    title: str
    sends: str
    passes: str
    play: str
    budget: float = 10.0
    transports: tuple[str, ...] = ("udp", "tcp")


PROBES: Final[tuple[Probe, ...]] = (
    Probe(
        "options",
        "RFC 3261 §11, §11.2",
        "OPTIONS is answered",
        "OPTIONS outside a dialog",
        "a final response (2xx-6xx) within the patience (5 s by default); 405 or 501 fails: "
        "all UAs MUST support OPTIONS (§11)",
        "options",
    ),
    Probe(
        "invite-trying",
        "RFC 3261 §17.2.1",
        "a response to INVITE within 200 ms",
        "INVITE",
        "a first response (100 Trying, or any other) within 200 ms of the INVITE: the server "
        "transaction MUST send 100 Trying if the TU will not answer in that time",
        "trying",
    ),
    Probe(
        "final-retransmitted",
        "RFC 3261 §17.2.1, §13.3.1.4",
        "the final response to INVITE is retransmitted until the ACK",
        "INVITE, then no ACK while the final response is repeated",
        "the same final response again after T1, then at intervals doubling up to T2 "
        "(Timer G for a 3xx-6xx, §17.2.1; the UA core's schedule for a 2xx, §13.3.1.4); "
        "within 40% or 100 ms of each interval",
        "retransmitted",
        budget=12.0,
        transports=("udp",),
    ),
    Probe(
        "ack-absorbed",
        "RFC 3261 §17.2.1, §13.3.1.4",
        "a retransmitted ACK is absorbed",
        "INVITE, the ACK of its final response, then the same ACK twice more",
        "no response to any ACK, and no copy of the final response later than one T1 after "
        "the first ACK",
        "ack_absorbed",
    ),
    Probe(
        "bye-unknown-dialog",
        "RFC 3261 §12.2.2",
        "BYE for an unknown dialog gets 481",
        "BYE with a Call-ID and tags that match no dialog",
        "481 (Call/Transaction Does Not Exist); another 3xx-6xx fails (MUST), a 2xx warns (a "
        "UAS MAY accept a request for a dialog it lost)",
        "bye_unknown",
    ),
    Probe(
        "cancel-unknown",
        "RFC 3261 §9.2",
        "CANCEL matching no transaction gets 481",
        "CANCEL whose branch matches no transaction",
        "481 (Call/Transaction Does Not Exist); another response warns (SHOULD)",
        "cancel_unknown",
    ),
    Probe(
        "cancel-487",
        "RFC 3261 §9.2",
        "CANCEL while Proceeding: 200 to the CANCEL, 487 to the INVITE",
        "INVITE, then CANCEL after the first provisional response",
        "200 to the CANCEL (never 487 to it) and 487 to the INVITE (no 487 warns: SHOULD)",
        "cancel_487",
    ),
    Probe(
        "cancel-after-final",
        "RFC 3261 §9.2",
        "CANCEL after the final response changes nothing",
        "INVITE, its ACK once answered, then a CANCEL of it",
        "200 to the CANCEL if its transaction still exists, else 481; never 487 to either",
        "cancel_after_final",
    ),
    Probe(
        "unknown-method",
        "RFC 3261 §8.2.1",
        "an unknown method gets 405 with Allow",
        "a request of method FOOBAR outside a dialog",
        "405 (Method Not Allowed) with an Allow header field (MUST), or 501 (Not Implemented, "
        "§21.5.2); another response warns",
        "unknown_method",
    ),
    Probe(
        "unsupported-require",
        "RFC 3261 §8.2.2.3",
        "an unsupported Require gets 420 with Unsupported",
        "OPTIONS with Require: x-sipfsm-unknown",
        "420 (Bad Extension) listing x-sipfsm-unknown in Unsupported; inconclusive if OPTIONS "
        "itself is refused (405, 501): the method is inspected first (§8.2)",
        "unsupported_require",
    ),
    Probe(
        "lower-cseq",
        "RFC 3261 §12.2.2",
        "a request with a CSeq lower than the last gets 500",
        "INVITE (CSeq 10), its ACK, then OPTIONS in the dialog with CSeq 5",
        "500 (Server Internal Error) to the OPTIONS",
        "lower_cseq",
    ),
)


@dataclass(frozen=True)
class ProbeOptions:
    """Where and how: ``target`` (host, port), ``user`` of its Request-URI, ``transport``,
    ``local`` host to bind, ``t1`` and ``t2`` (RFC 3261 §17.1.1.1), ``jobs`` cases run
    at once; ``patience``, seconds to wait for an answer a case needs (then it is
    inconclusive); ``ring``, seconds more to wait for the final response to an INVITE
    (for a target that rings before it answers)."""

    target: Address
    user: str = "service"
    transport: str = "udp"
    local: str = "127.0.0.1"
    t1: float = 0.5
    t2: float = 4.0
    jobs: int = 4
    patience: float = 5.0
    ring: float = 5.0


@dataclass
class Exchange:
    """One message of a case: when (seconds since the case began), which way, its text."""

    t: float
    sent: bool
    summary: str
    raw: str


@dataclass
class Verdict:
    """What a case found: ``outcome`` (one of `OUTCOMES`) and ``reason``."""

    probe: Probe
    outcome: str
    reason: str
    exchanges: list[Exchange] = field(default_factory=list)
    seconds: float = 0.0
    garbage: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.probe.id,
            "rfc": self.probe.rfc,
            "title": self.probe.title,
            "sends": self.probe.sends,
            "passes": self.probe.passes,
            "outcome": self.outcome,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
            "garbage": self.garbage,
            "messages": [
                {"t": round(e.t, 6), "dir": "sent" if e.sent else "received",
                 "summary": e.summary, "raw": e.raw}
                for e in self.exchanges
            ],
        }


#: Outcomes in the order a summary lists them: ``fail`` a MUST of the RFC broken; ``warn``
#: a SHOULD not followed (or a MAY the case cannot tell from a fault).
OUTCOMES: Final = ("pass", "fail", "warn", "inconclusive", "skipped")
