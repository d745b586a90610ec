"""Events into a machine and actions out of it: small frozen values compared by value.

Time is an input: a machine never reads a clock. It asks for timers with `StartTimer` and
is told they fired with `TimerFired` (as aioquic's ``handle_timer``). A `TimerFired` for a
timer that is not running -- it was stopped, or its state was left -- does nothing
(reSIProcate's stale-timer rule), so a host may deliver timers late without harm.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipfsm.decl import Direction
from sipfsm.frozen import fast_init
from sipfsm.message import Message, Request, Response

# -- events (inputs) --------------------------------------------------------------------


@fast_init
@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A request from the network, matched to this machine (§17.2.3)."""

    message: Request


@fast_init
@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A response from the network, matched to this machine (§17.1.3)."""

    message: Response


@fast_init
@dataclass(frozen=True, slots=True)
class TURequest:
    """The TU asks a client transaction to send a request (creates it)."""

    message: Request


@fast_init
@dataclass(frozen=True, slots=True)
class TUResponse:
    """The TU passes a response to a server transaction."""

    message: Response


@fast_init
@dataclass(frozen=True, slots=True)
class TUCancel:
    """The TU wants to cancel the INVITE of this client transaction (§9.1)."""


@fast_init
@dataclass(frozen=True, slots=True)
class TimerFired:
    name: str


_FIRED: dict[str, TimerFired] = {}


def timer_fired(name: str) -> TimerFired:
    """``TimerFired(name)``, made once per timer name and shared (events are immutable
    values; hosts that fire many timers need not build one each time)."""
    found = _FIRED.get(name)
    if found is None:
        found = _FIRED[name] = TimerFired(name)
    return found


@fast_init
@dataclass(frozen=True, slots=True)
class TransportError:
    """The transport layer could not send a message (§17.1.4, §17.2.4)."""

    detail: str = ""


@fast_init
@dataclass(frozen=True, slots=True)
class MessageSent:
    """For a dialog: a message this UA sent on it (dialogs move on sent and received
    messages alike, RFC 5407 §2)."""

    message: Message


@fast_init
@dataclass(frozen=True, slots=True)
class TransactionEnded:
    """For a dialog: one of its transactions reached Terminated (RFC 5407 §2, Morgue)."""

    method: str
    cseq: int
    role: str  # "client" or "server"


Event = (
    RequestReceived
    | ResponseReceived
    | TURequest
    | TUResponse
    | TUCancel
    | TimerFired
    | TransportError
    | MessageSent
    | TransactionEnded
)


def describe(event: Event) -> str:
    """A short text naming an event, for errors and traces."""
    if isinstance(event, RequestReceived | TURequest):
        return f"{type(event).__name__}({event.message.method})"
    if isinstance(event, ResponseReceived | TUResponse):
        return f"{type(event).__name__}({event.message.status} {event.message.method})"
    if isinstance(event, MessageSent):
        return f"MessageSent({event.message.summary()})"
    if isinstance(event, TimerFired):
        return f"TimerFired({event.name})"
    if isinstance(event, TransactionEnded):
        return f"TransactionEnded({event.role} {event.method})"
    return type(event).__name__


# -- actions (outputs) --------------------------------------------------------------------


@fast_init
@dataclass(frozen=True, slots=True)
class SendMessage:
    message: Message


@fast_init
@dataclass(frozen=True, slots=True)
class StartTimer:
    name: str
    seconds: float


@fast_init
@dataclass(frozen=True, slots=True)
class StopTimer:
    name: str


@fast_init
@dataclass(frozen=True, slots=True)
class ToTU:
    """Tell the transaction user something: ``what`` is e.g. ``"response"``, ``"request"``,
    ``"ack"``, ``"timeout"``, ``"transport_error"``, ``"terminated"``, ``"send_cancel"``."""

    what: str
    message: Message | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """A declared outcome took place: the code, its direction, the rule and its section."""

    code: int
    direction: Direction
    when: str
    rfc: str


@fast_init
@dataclass(frozen=True, slots=True)
class Respond:
    """For a dialog: answer a request with this status (the dialog layer decided it)."""

    request: Request
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    rfc: str = ""


Action = SendMessage | StartTimer | StopTimer | ToTU | ReportOutcome | Respond

__all__ = [
    "Action",
    "Event",
    "MessageSent",
    "ReportOutcome",
    "RequestReceived",
    "Respond",
    "Response",
    "ResponseReceived",
    "SendMessage",
    "StartTimer",
    "StopTimer",
    "TUCancel",
    "TURequest",
    "TUResponse",
    "TimerFired",
    "ToTU",
    "TransactionEnded",
    "TransportError",
    "describe",
    "timer_fired",
]
