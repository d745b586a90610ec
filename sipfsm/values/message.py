"""The message layer: SIP requests and responses as small frozen values.

This is not a parser (the trace checker uses a maintained one); it holds exactly the
fields the transaction and dialog layers match on (RFC 3261 §17.1.3, §17.2.3, §12), and
builds the messages the machines generate themselves: 100 Trying (§17.2.1), the ACK for a
non-2xx final response (§17.1.1.3) and CANCEL (§9.1).
"""

from __future__ import annotations

from functools import cache
from typing import Final

from sipfsm.values.catalogue import reason_phrase
from sipfsm.values.frozen import Frozen, replace

#: RFC 3261 §8.1.1.7: branch IDs of RFC 3261 compliant elements start with this cookie.
MAGIC_COOKIE: Final = "z9hG4bK"


class Request(Frozen):
    __slots__ = (
        "method",
        "uri",
        "call_id",
        "cseq",
        "from_tag",
        "to_tag",
        "branch",
        "sent_by",
        "headers",
        "body",
        "vias",
    )

    def __init__(
        self,
        method: str,
        uri: str,
        call_id: str,
        cseq: int,
        from_tag: str,
        to_tag: str,
        branch: str,
        sent_by: str,
        headers: tuple[tuple[str, str], ...] = (),
        body: str = "",
        vias: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.method: Final = method
        self.uri: Final = uri
        self.call_id: Final = call_id
        self.cseq: Final = cseq
        self.from_tag: Final = from_tag
        self.to_tag: Final = to_tag
        self.branch: Final = branch
        self.sent_by: Final = sent_by
        self.headers: Final = headers
        self.body: Final = body
        #: the Via entries below the top one (``sent_by``, ``branch``), top first: what
        #: proxies pushed on the way (RFC 3261 §16.6 step 8, §16.7 step 3)
        self.vias: Final = vias

    @property
    def kind(self) -> str:
        return "request"

    @property
    def cseq_method(self) -> str:
        return self.method

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def summary(self) -> str:
        return f"{self.method} (CSeq {self.cseq})"


class Response(Frozen):
    __slots__ = (
        "status",
        "reason",
        "method",
        "call_id",
        "cseq",
        "from_tag",
        "to_tag",
        "branch",
        "sent_by",
        "headers",
        "body",
        "vias",
    )

    def __init__(
        self,
        status: int,
        reason: str,
        method: str,
        call_id: str,
        cseq: int,
        from_tag: str,
        to_tag: str,
        branch: str,
        sent_by: str,
        headers: tuple[tuple[str, str], ...] = (),
        body: str = "",
        vias: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.status: Final = status
        self.reason: Final = reason
        self.method: Final = method
        self.call_id: Final = call_id
        self.cseq: Final = cseq
        self.from_tag: Final = from_tag
        self.to_tag: Final = to_tag
        self.branch: Final = branch
        self.sent_by: Final = sent_by
        self.headers: Final = headers
        self.body: Final = body
        #: the Via entries below the top one (``sent_by``, ``branch``), top first: what
        #: proxies pushed on the way (RFC 3261 §16.6 step 8, §16.7 step 3)
        self.vias: Final = vias

    @property
    def kind(self) -> str:
        return "response"

    @property
    def cseq_method(self) -> str:
        return self.method

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def summary(self) -> str:
        return f"{self.status} {self.reason} ({self.method})"


Message = Request | Response


def status_of(message: object) -> int:
    """A response's status code; 0 for a request, or for no message at all. (Not
    ``getattr(message, "status", 0)``: compiled, a missing attribute builds and formats an
    `AttributeError` before the default is returned.)"""
    return message.status if isinstance(message, Response) else 0


def status_or_none(message: object) -> int | None:
    """A response's status; ``None`` for a request or no message (what a generated row's
    outcomes are filtered by, `sipfsm.engine.codegen`)."""
    return message.status if isinstance(message, Response) else None


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    """The first value of the header field ``name`` (case-insensitive, RFC 3261 §7.3.1)."""
    if not headers:
        return None
    size = len(name)
    wanted = name.lower()
    for key, value in headers:
        # names of another length cannot match: most are skipped without lower-casing
        if len(key) == size and (key == name or key.lower() == wanted):
            return value
    return None


def response_to(
    request: Request,
    status: int,
    *,
    reason: str | None = None,
    to_tag: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    body: str = "",
) -> Response:
    """A response to ``request`` (RFC 3261 §8.2.6.2): Call-ID, CSeq, From tag and every Via
    (the top one and those below it, in order) are copied; the To tag is the request's, or
    ``to_tag`` when the UAS adds one."""
    # (positional: the fields in declaration order; keywords cost a third more, and the
    # transactions build a 100 Trying this way on every INVITE, §17.2.1)
    return Response(
        status,
        reason if reason is not None else _reason(status),
        request.method,
        request.call_id,
        request.cseq,
        request.from_tag,
        request.to_tag if to_tag is None else to_tag,
        request.branch,
        request.sent_by,
        headers,
        body,
        request.vias,
    )


@cache
def _reason(status: int) -> str:
    """`reason_phrase`, remembered (it validates the code on every call)."""
    return reason_phrase(status)


def push_via(request: Request, sent_by: str, branch: str) -> Request:
    """``request`` with a new top Via (``sent_by``, ``branch``) above the ones it had: what a
    proxy does to the copy it forwards (RFC 3261 §16.6 step 8)."""
    return replace(
        request,
        sent_by=sent_by,
        branch=branch,
        vias=((request.sent_by, request.branch), *request.vias),
    )


def pop_via(response: Response) -> Response:
    """``response`` without its top Via: what a proxy does before forwarding a response
    (RFC 3261 §16.7 step 3). A response with a single Via was meant for this element and
    MUST NOT be forwarded: `ValueError`."""
    if not response.vias:
        raise ValueError("a response with one Via is for this element, not to forward (§16.7)")
    (sent_by, branch), *rest = response.vias
    return replace(response, sent_by=sent_by, branch=branch, vias=tuple(rest))


def via_stack(message: Message) -> tuple[tuple[str, str], ...]:
    """Every Via of ``message`` as (sent_by, branch), top first."""
    return ((message.sent_by, message.branch), *message.vias)


def ack_for_non_2xx(request: Request, response: Response) -> Request:
    """The ACK a client INVITE transaction builds for a 300-699 response (§17.1.1.3): same
    Request-URI, Call-ID, From, top Via (branch) and CSeq number as the INVITE, the To of the
    response, CSeq method ACK. It belongs to the INVITE's transaction."""
    return Request(
        "ACK",
        request.uri,
        request.call_id,
        request.cseq,
        request.from_tag,
        response.to_tag,
        request.branch,
        request.sent_by,
        _routes(request),
        "",
    )


def cancel_for(request: Request) -> Request:
    """The CANCEL of a request (§9.1): same Request-URI, Call-ID, To, From, CSeq number and
    top Via branch as the request it cancels; method CANCEL."""
    return Request(
        "CANCEL",
        request.uri,
        request.call_id,
        request.cseq,
        request.from_tag,
        request.to_tag,
        request.branch,
        request.sent_by,
        _routes(request),
        "",
    )


def _routes(request: Request) -> tuple[tuple[str, str], ...]:
    """The Route header fields, which the ACK for a non-2xx (§17.1.1.3) and a CANCEL (§9.1)
    MUST carry as the request had them."""
    if not request.headers:
        return ()
    return tuple(h for h in request.headers if h[0].lower() == "route")


def to_wire(message: Message, *, transport: str = "UDP") -> str:
    """The message as SIP text (RFC 3261 §7), with the header fields the model keeps and
    plausible defaults for the rest (From/To URIs, Max-Forwards, Content-Length). The
    simulator writes it into its traces so the trace checker can read them back."""
    to_uri = "sip:bob@biloxi.example.com"
    from_uri = "sip:alice@atlanta.example.com"
    if isinstance(message, Request):
        start = f"{message.method} {message.uri} SIP/2.0"
        to_uri = message.uri
    else:
        start = f"SIP/2.0 {message.status} {message.reason}"
    to_tag = f";tag={message.to_tag}" if message.to_tag else ""
    from_tag = f";tag={message.from_tag}" if message.from_tag else ""
    via = f"Via: SIP/2.0/{transport.upper()} "
    headers = message.headers
    max_forwards: list[str] = []
    if isinstance(message, Request):
        # the request's own Max-Forwards (a proxy decrements it, §16.6 step 3), else 70
        own = message.header("Max-Forwards")
        max_forwards = [f"Max-Forwards: {70 if own is None else own}"]
        if own is not None:
            headers = tuple(h for h in headers if h[0].lower() != "max-forwards")
    lines = [
        start,
        *(f"{via}{sent_by};branch={branch}" for sent_by, branch in via_stack(message)),
        *max_forwards,
        f"From: <{from_uri}>{from_tag}",
        f"To: <{to_uri}>{to_tag}",
        f"Call-ID: {message.call_id}",
        f"CSeq: {message.cseq} {message.cseq_method}",
        *(f"{name}: {value}" for name, value in headers),
        f"Content-Length: {len(message.body.encode())}",
    ]
    return "\r\n".join(lines) + "\r\n\r\n" + message.body
