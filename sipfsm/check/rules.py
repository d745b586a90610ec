"""The checker's rules (`CHECK_RULES`, each with its RFC section), the deviations it reports,
its tolerances, and how a machine's `ProtocolError` is traced back to the guard or state it
is about, and whether a request was forwarded (a proxy's, `forwarded`). Data and small
functions only: the replay (`sipfsm.check.replay`) applies them;
docs/checker.md explains each rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Final

from sipfsm.decl.instance import Instance
from sipfsm.decl.language import Guard, MachineDecl
from sipfsm.engine.runtime import TableMachine
from sipfsm.values.events import (
    Event,
)
from sipfsm.values.headers import split_list
from sipfsm.values.message import Request

# -- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    rfc: str
    summary: str


CHECK_RULES: Final[dict[str, Rule]] = {
    r.name: r
    for r in (
        Rule(
            "487-to-cancel",
            "RFC 3261 §21.4.25",
            "a 487 answers the request a CANCEL terminated, never the CANCEL itself",
        ),
        Rule(
            "491-nothing-pending",
            "RFC 3261 §14.2",
            "491 to a request the dialog machine does not answer 491: no re-INVITE or "
            "offer of ours was pending when it arrived",
        ),
        Rule(
            "no-491",
            "RFC 3261 §14.2, RFC 3311 §5.2, RFC 5407 §3.1.5",
            "no 491 to a re-INVITE (or offer) that arrived while one of ours was pending "
            "(the dialog machine answers 491)",
        ),
        Rule(
            "481-live",
            "RFC 3261 §9.2, §12.2.2",
            "481 to a request that matched a live dialog (the dialog machine accepts it) "
            "or a live transaction (a CANCEL, `sipfsm.elements.core.handle_cancel`)",
        ),
        Rule(
            "dialog-answer",
            "RFC 3261 §12.2.2, §14.2, §15.1.2; RFC 5407 §3.2.2",
            "a 2xx to a request the dialog machine refuses (481 in Mortal, 500 to a lower "
            "CSeq or while an earlier INVITE is unanswered, 487 to a request a BYE ended)",
        ),
        Rule(
            "response-after-end",
            "RFC 3261 §17.2.1, §17.2.2",
            "a response sent after its server transaction ended",
        ),
        Rule(
            "second-final-non-invite",
            "RFC 3261 §17.2.2",
            "a second final response to the same non-INVITE request",
        ),
        Rule("no-ack", "RFC 3261 §17.1.1.3", "no ACK for a non-2xx final response to an INVITE"),
        Rule(
            "no-ack-2xx",
            "RFC 3261 §13.2.2.4",
            "no ACK for a 2xx to an INVITE (the dialog machine asks for it, ToTU send_ack: "
            "within the tolerance in the UAC's own view, by 64*T1 in a capture from anywhere); "
            "seen from the UAS alone: Timer L fired without it (RFC 6026 §8.7, §13.3.1.4)",
        ),
        Rule(
            "glare-retry-time",
            "RFC 3261 §14.1",
            "a re-INVITE (RFC 3311 §5.3: an UPDATE) refused with 491 retried outside the "
            "window of the glare timer: 2.1-4 s for the owner of the Call-ID, 0-2 s otherwise",
        ),
        Rule(
            "2xx-after-ack",
            "RFC 3261 §13.3.1.4",
            "a 2xx to an INVITE retransmitted after its ACK arrived",
        ),
        Rule(
            "retransmission-schedule",
            "RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1",
            "retransmissions off the T1-to-T2 schedule of Timers A, E and G",
        ),
        Rule(
            "no-response-retransmission",
            "RFC 3261 §17.2.1, §17.2.2",
            "a retransmitted request not answered with the last response again",
        ),
        Rule(
            "cancel-before-provisional",
            "RFC 3261 §9.1",
            "a CANCEL sent before any provisional response arrived",
        ),
        Rule(
            "4xx-missing-header",
            "RFC 3261 §21.4",
            "a 4xx without the header fields its code requires (sipfsm.values.catalogue)",
        ),
        Rule("408-to-non-invite", "RFC 4320 §4.2", "a 408 sent to a non-INVITE request"),
        Rule(
            "provisional-to-non-invite",
            "RFC 4320 §4.1",
            "a provisional other than 100 sent to a non-INVITE request",
        ),
        Rule(
            "protocol-error",
            "RFC 3261 §17, RFC 5407 §2",
            "an event a transaction or dialog machine has no arrow for (the rule is the "
            "machine's own message, the section that of the state)",
        ),
    )
}

#: Guards of sipfsm.machines.transaction whose failure is a named rule here.
GUARD_RULES: Final = {
    "no_487_to_cancel": "487-to-cancel",
    "no_408": "408-to-non-invite",
    "only_100": "provisional-to-non-invite",
}

#: The retransmission timer of each machine (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1).
RETRANSMIT: Final = {"ict": "A", "nict": "E", "ist": "G"}

#: Default tolerance: a timer is on time within max(ABS, REL x its interval) of its
#: deadline; an ACK or a response resent on a retransmitted request must follow within ABS.
TOLERANCE_ABS: Final = 0.1
TOLERANCE_REL: Final = 0.1
#: The tolerance for a simulator trace (no relative part): its endpoints' timers run on
#: the trace's own clock and fire at their deadlines exactly; what remains is the rounding
#: of its times to the microsecond.
TOLERANCE_SIM: Final = 2e-6

#: A server transaction's request as the model judged it: not shown to a dialog
#: (UNKNOWN), accepted by its dialog (ACCEPTED), or answered with a status code.
UNKNOWN: Final = 0
ACCEPTED: Final = -1


@dataclass(frozen=True, slots=True)
class Deviation:
    rule: str
    rfc: str
    message: int
    code: int | None
    text: str
    endpoint: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def failed_guard(
    engine: object, insts: Iterable[Instance], event: Event, state: str
) -> Guard | None:
    """The (last) guard of the rows ``event`` triggers in ``state`` that fails for one of
    ``insts``: what a "guard failed" ProtocolError is about."""
    if not isinstance(engine, TableMachine):
        return None
    rows = engine.table.get((state, engine.classifier.classify(event) or ""), ())
    found = None
    for inst in insts:
        for row in rows:
            for guard in row.guards:
                if not guard.check(inst, event):
                    found = guard
    return found


def state_rfc(decl: MachineDecl, state: str) -> str:
    """The section of a machine's state (of the machine itself for a pseudo-state)."""
    return decl.state(state).rfc if state in decl.state_names else decl.rfc


def forwarded(request: Request) -> bool:
    """Whether ``request`` has more than one Via: its sender forwarded it (a proxy pushes
    its own on top, RFC 3261 §16.6 step 8; a UAC sends its request with one, §8.1.1.7)."""
    if request.vias:
        return True
    seen = 0
    for name, value in request.headers:
        if name.lower() == "via":
            seen += len(split_list(value))
            if seen > 1:
                return True
    return False
