"""Events into a machine and actions out of it: small frozen values compared by value.

Time is an input: a machine never reads a clock. It asks for timers with `StartTimer` and
is told they fired with `TimerFired` (as aioquic's ``handle_timer``). A `TimerFired` for a
timer that is not running -- it was stopped, or its state was left -- does nothing
(reSIProcate's stale-timer rule), so a host may deliver timers late without harm.
"""

from __future__ import annotations

from typing import Final, Literal

from sipfsm.values.frozen import Frozen
from sipfsm.values.message import Message, Request, Response

#: Whether a machine sends or receives a message (an outcome's direction, a trigger's).
Direction = Literal["send", "receive"]

# -- events (inputs) --------------------------------------------------------------------


class RequestReceived(Frozen):
    """A request from the network, matched to this machine (§17.2.3)."""

    __slots__ = ("message",)

    def __init__(self, message: Request) -> None:
        self.message: Final = message


class ResponseReceived(Frozen):
    """A response from the network, matched to this machine (§17.1.3)."""

    __slots__ = ("message",)

    def __init__(self, message: Response) -> None:
        self.message: Final = message


class TURequest(Frozen):
    """The TU asks a client transaction to send a request (creates it)."""

    __slots__ = ("message",)

    def __init__(self, message: Request) -> None:
        self.message: Final = message


class TUResponse(Frozen):
    """The TU passes a response to a server transaction."""

    __slots__ = ("message",)

    def __init__(self, message: Response) -> None:
        self.message: Final = message


class TUCancel(Frozen):
    """The TU wants to cancel the INVITE of this client transaction (§9.1)."""

    __slots__ = ()

    def __init__(self) -> None:
        pass


class TimerFired(Frozen):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name: Final = name


_FIRED: Final[dict[str, TimerFired]] = {}


def timer_fired(name: str) -> TimerFired:
    """``TimerFired(name)``, made once per timer name and shared (events are immutable
    values; hosts that fire many timers need not build one each time)."""
    found = _FIRED.get(name)
    if found is None:
        found = _FIRED[name] = TimerFired(name)
    return found


class TransportError(Frozen):
    """The transport layer could not send a message (§17.1.4, §17.2.4)."""

    __slots__ = ("detail",)

    def __init__(self, detail: str = "") -> None:
        self.detail: Final = detail


class MessageSent(Frozen):
    """For a dialog: a message this UA sent on it (dialogs move on sent and received
    messages alike, RFC 5407 §2)."""

    __slots__ = ("message",)

    def __init__(self, message: Message) -> None:
        self.message: Final = message


class TransactionEnded(Frozen):
    """For a dialog: one of its transactions reached Terminated (RFC 5407 §2, Morgue)."""

    __slots__ = (
        "method",
        "cseq",
        "role",
    )

    def __init__(self, method: str, cseq: int, role: str) -> None:
        self.method: Final = method
        self.cseq: Final = cseq
        self.role: Final = role


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


#: the classes of `Event`, for hosts that check what they were given
EVENT_TYPES: Final = (
    RequestReceived,
    ResponseReceived,
    TURequest,
    TUResponse,
    TUCancel,
    TimerFired,
    TransportError,
    MessageSent,
    TransactionEnded,
)


def message_of(event: object) -> Message | None:
    """The message ``event`` carries; ``None`` for a timer, a cancel, a transport error, a
    transaction's end. (Not ``getattr(event, "message", None)``: compiled, a missing
    attribute builds and formats an `AttributeError` before the default is returned.)"""
    if isinstance(event, (RequestReceived, ResponseReceived, TURequest, TUResponse, MessageSent)):
        return event.message
    return None


def describe(event: object) -> str:
    """A short text naming an event (or whatever was passed as one), for errors and traces."""
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


class SendMessage(Frozen):
    __slots__ = ("message",)

    def __init__(self, message: Message) -> None:
        self.message: Final = message


class StartTimer(Frozen):
    __slots__ = (
        "name",
        "seconds",
    )

    def __init__(self, name: str, seconds: float) -> None:
        self.name: Final = name
        self.seconds: Final = seconds


class StopTimer(Frozen):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name: Final = name


class ToTU(Frozen):
    """Tell the transaction user something: ``what`` is e.g. ``"response"``, ``"request"``,
    ``"ack"``, ``"timeout"``, ``"transport_error"``, ``"terminated"``, ``"send_cancel"``."""

    __slots__ = (
        "what",
        "message",
    )

    def __init__(self, what: str, message: Message | None = None) -> None:
        self.what: Final = what
        self.message: Final = message


class ReportOutcome(Frozen):
    """A declared outcome took place: the code, its direction, the rule and its section."""

    __slots__ = (
        "code",
        "direction",
        "when",
        "rfc",
    )

    def __init__(self, code: int, direction: Direction, when: str, rfc: str) -> None:
        self.code: Final = code
        self.direction: Final = direction
        self.when: Final = when
        self.rfc: Final = rfc


class Respond(Frozen):
    """For a dialog: answer a request with this status (the dialog layer decided it)."""

    __slots__ = (
        "request",
        "status",
        "headers",
        "rfc",
    )

    def __init__(
        self,
        request: Request,
        status: int,
        headers: tuple[tuple[str, str], ...] = (),
        rfc: str = "",
    ) -> None:
        self.request: Final = request
        self.status: Final = status
        self.headers: Final = headers
        self.rfc: Final = rfc


Action = SendMessage | StartTimer | StopTimer | ToTU | ReportOutcome | Respond

__all__ = [
    "EVENT_TYPES",
    "Action",
    "Direction",
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
    "message_of",
    "timer_fired",
]
