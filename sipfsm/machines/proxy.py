"""The stateful proxy of RFC 3261 §16: the response context of one request, declared once
as data.

A stateful proxy (RFC 3261 §16.2, Figure 3) is a server transaction, a proxy core and one
client transaction per target. The transactions are the four machines of
`sipfsm.machines.transaction`; this machine is the core's *response context* for one
request (§16.6): it validates the request (§16.3), forwards it to its targets (§16.6, in
groups: one group in parallel, groups one after another), collects the responses the client
transactions pass up (§16.7), runs Timer C (§16.8), answers a CANCEL (§16.10) and handles
transport errors (§16.9). The element that runs it (`sipfsm.elements.proxy`) owns the
transactions and the location service; the machine decides, the element carries out:

* `Respond` -- answer the request (or a CANCEL) upstream with this status, built by the
  proxy itself (100 Trying, 416, 482, 483, 420, 480, 408, 500, the 200 to a CANCEL);
* `SendMessage` of a response -- forward it upstream through the server transaction, its
  top Via already removed (§16.7 step 3, step 9);
* ``ToTU("forward", request)`` -- start a client transaction for this forwarded request
  (copied, Request-URI rewritten, Max-Forwards decremented, Record-Route and Via added);
* ``ToTU("forward_stateless", response)`` -- send a 2xx upstream without the server
  transaction (RFC 3261 §16.7 step 9, profile ``rfc3261`` only);
* ``ToTU("cancel", request)`` -- cancel the client transaction of this forwarded request
  (the client transaction holds the CANCEL until a provisional response, §9.1).

A response or transport error names its branch: a response by its top Via's branch (the one
this proxy put there), a `TransportError` by its ``detail``.

Where the RFC leaves a choice, or the text and practice differ, and what the model does
--------------------------------------------------------------------------------------------
* §16.7 step 6 chooses the best response once every client transaction "has been
  terminated"; an INVITE client transaction that ACKed a 486 stays in Completed for Timer D
  (32 s on UDP). The model counts a branch done when its client transaction passes up a
  final response (or times out, or fails), as RFC 3665's flows show (§3.9: the proxy ACKs
  the 486 and forwards it at once).
* Timer C (§16.6 step 11) is kept per response context, not per client transaction: it is
  started when a group of branches is forwarded, reset by any 101-199 (§16.7 step 2); when
  it fires every pending branch is ended as §16.8 says (a CANCEL if it has had a
  provisional response, otherwise as if it had received a 408). With one target, or one
  group whose branches ring together, this is the RFC's timer.
* A client transaction's own timeout (Timer B or F) or its cancelled end (no final
  response 64*T1 after the CANCEL, §9.1) is given to this machine as a 408 from that
  branch (§16.8: "as if the transaction received a 408"); a transport error as a 503
  (§16.9).
* Loop detection (§16.3 step 4) compares the request's Via entries with the branch this
  proxy would compute for it (§16.6 step 8): the branch is derived from the Request-URI,
  Call-ID, CSeq and tags, so a request that comes back unchanged has looped (482) and one
  whose Request-URI changed is spiralling.
* A 6xx stops new branches and cancels the pending ones; it is forwarded when the last
  branch ends (§16.7 step 5). A CANCEL does the same (§16.10); the 487s that follow make
  the best response.
* After a final response has been sent upstream, a 2xx to an INVITE from another branch is
  still forwarded (§16.7 step 5). Under RFC 6026 it goes through the server transaction,
  which is in Accepted after a 2xx (RFC 6026 §8.3 discards it if the transaction is gone);
  under RFC 3261 the first 2xx destroyed the server transaction and the next is forwarded
  statelessly (§16.7 step 9). `PROFILE_DIFFERENCES` lists these as data.
* "The proxy MUST maintain the response context until all of its associated transactions
  have been terminated, even after forwarding a final response" (§16.7 step 9): once every
  branch is done and a final response went upstream the context *lingers* until the element
  says its last transaction ended (``TransactionEnded``). Meanwhile a 2xx an INVITE client
  transaction in Accepted passes up again (RFC 6026 §8.4) is forwarded (§16.7 step 5: "any
  2xx response"), so a UAC whose first 2xx was lost gets a retransmission; and a CANCEL
  finds the context and gets its 200 (§16.10) instead of being forwarded statelessly, whose
  answer a proxy under RFC 6026 would drop (§7.3).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any, ClassVar, Final

from sipfsm.decl.instance import Instance, handler
from sipfsm.decl.language import (
    ACTION_LABELS,
    ONLY_3261,
    ONLY_6026,
    PROFILES,
    ActionDecl,
    Guard,
    MachineDecl,
    Outcome,
    StateDecl,
    TimerDecl,
    Transition,
    Trigger,
    profile_of,
    select_profile,
)
from sipfsm.decl.timers import Timing
from sipfsm.values.errors import UnknownName
from sipfsm.values.events import (
    Action as RuntimeAction,
)
from sipfsm.values.events import (
    Event,
    Respond,
    SendMessage,
    ToTU,
    TransportError,
    message_of,
)
from sipfsm.values.frozen import replace
from sipfsm.values.message import MAGIC_COOKIE, Request, Response, pop_via, push_via, response_to

MACHINE_ID: Final = "proxy"

#: The URI schemes a proxy understands (§16.3 step 2).
SCHEMES: Final = ("sip", "sips")

#: Responses preferred within the 4xx class: they tell the UAC how to resubmit (§16.7 step 6).
PREFERRED_4XX: Final = (401, 407, 415, 420, 484)

#: Where the two profiles differ for a proxy (RFC 6026 §7.3, §8.2, §8.3).
PROFILE_DIFFERENCES: Final[dict[str, dict[str, str]]] = {
    "stray response": {
        "rfc3261": "a response that matches no client transaction is forwarded statelessly "
        "(RFC 3261 §16.7, paragraph 1)",
        "rfc6026": "a response that matches no client transaction is not forwarded "
        "(RFC 6026 §7.3, §8.2)",
    },
    "2xx after the server transaction": {
        "rfc3261": "a 2xx from another branch after the first 2xx is forwarded statelessly: "
        "the first destroyed the server transaction (RFC 3261 §16.7 step 9)",
        "rfc6026": "a 2xx from another branch goes through the server transaction, which is "
        "in Accepted; with no server transaction it is discarded (RFC 6026 §8.3)",
    },
}

#: Timer C: larger than 3 minutes (§16.6 step 11).
TIMER_C: Final = TimerDecl(
    "C", "181", "181", "proxy INVITE response context timeout: larger than 3 minutes, reset "
    "by 101-199", "RFC 3261 §16.6",
)

FIGURE: Final = """\
            +--------------------+
            |                    | +---+
            |                    | | C |
            |                    | | T |
            |                    | +---+
      +---+ |       Proxy        | +---+   CT = Client Transaction
      | S | |  "Higher" Layer    | | C |
      | T | |                    | | T |   ST = Server Transaction
      +---+ |                    | +---+
            |                    | +---+
            |                    | | C |
            |                    | | T |
            |                    | +---+
            +--------------------+
               Figure 3: Stateful Proxy Model"""


# -- the response context -----------------------------------------------------------------------


class Branch:
    """One client transaction of the context: its forwarded request and how far it got."""

    __slots__ = ("cancelled", "done", "provisional", "request", "target")

    def __init__(self, request: Request, target: str) -> None:
        self.request = request
        self.target = target
        self.provisional = False
        self.done = False
        self.cancelled = False

    def __repr__(self) -> str:
        return (
            f"Branch({self.target!r}, provisional={self.provisional}, done={self.done}, "
            f"cancelled={self.cancelled})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Branch):
            return NotImplemented
        return (self.request, self.target, self.provisional, self.done, self.cancelled) == (
            other.request, other.target, other.provisional, other.done, other.cancelled
        )

    def __hash__(self) -> int:
        return hash((self.request, self.target))


class ProxyInstance(Instance):
    """A response context (§16.6): the request, its configuration (set by the element
    before the request is given to the machine) and its branches.

    ``sent_by`` is the proxy's Via sent-by; ``groups`` the target set, in groups processed
    one after another (the targets of a group in parallel); ``record_route`` the URI put
    in a Record-Route (empty: none), with the ``lr`` parameter §16.6 step 4 requires
    unless ``loose`` is false (an RFC 2543 strict router, which a loose router must route
    around, §16.6 step 6); ``supported`` the option tags the proxy understands
    (Proxy-Require, §16.3 step 5)."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        *Instance.FIELDS,
        "best",
        "branches",
        "final_sent",
        "groups",
        "no_new_branches",
    )

    def __init__(
        self,
        state: str = "",
        *,
        sent_by: str = "proxy.example.com",
        groups: tuple[tuple[str, ...], ...] = (("sip:bob@192.0.2.4",),),
        record_route: str = "",
        supported: frozenset[str] = frozenset(),
        loose: bool = True,
    ) -> None:
        super().__init__(state)
        self.sent_by = sent_by
        self.groups = list(groups)
        self.record_route = record_route
        self.loose = loose
        self.supported = supported
        self.branches: dict[str, Branch] = {}
        self.responses: list[Response] = []
        self.best: Response | None = None
        self.final_sent = False
        self.no_new_branches = False


# -- the checks of §16.3 and the branches' bookkeeping, as plain functions ---------------------


def scheme_of(uri: str) -> str:
    return uri.split(":", 1)[0].lower() if ":" in uri else ""


def max_forwards(request: Request) -> int | None:
    value = request.header("Max-Forwards")
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def unsupported(inst: ProxyInstance, request: Request) -> tuple[str, ...]:
    """The Proxy-Require option tags the proxy does not understand (§16.3 step 5)."""
    tags: list[str] = []
    for name, value in request.headers:
        if name.lower() == "proxy-require":
            tags.extend(t.strip() for t in value.split(",") if t.strip())
    return tuple(t for t in tags if t not in inst.supported)


def branch_prefix(sent_by: str, request: Request) -> str:
    """The start of the branch this proxy computes for ``request`` (§16.6 step 8): the same
    for a request that comes back unchanged (a loop), another after its Request-URI changed
    (a spiral, §16.3 step 4)."""
    key = f"{request.uri}|{request.call_id}|{request.cseq}|{request.from_tag}|{request.to_tag}"
    digest = zlib.crc32(key.encode()) & 0xFFFFFFFF
    label = sent_by.split(".", 1)[0]
    return f"{MAGIC_COOKIE}{label}.{digest:08x}."


def looped(inst: ProxyInstance, request: Request) -> bool:
    prefix = branch_prefix(inst.sent_by, request)
    vias = ((request.sent_by, request.branch), *request.vias)
    return any(s == inst.sent_by and b.startswith(prefix) for s, b in vias)


def forwarded(inst: ProxyInstance, request: Request, target: str, branch: str) -> Request:
    """The copy of ``request`` forwarded to ``target`` (§16.6 steps 1-5 and 8): Request-URI
    rewritten, Max-Forwards decremented (70 when it had none), Record-Route added when
    configured, a Via of this proxy on top. The element that runs the context
    postprocesses its routing and picks the next hop (steps 6 and 7)."""
    hops = max_forwards(request)
    value = str((70 if hops is None else hops) - 1)
    headers: list[tuple[str, str]] = []
    if inst.record_route:
        lr = ";lr" if inst.loose else ""
        headers.append(("Record-Route", f"<{inst.record_route}{lr}>"))
    replaced = False
    for name, text in request.headers:
        if name.lower() == "max-forwards":
            headers.append((name, value))
            replaced = True
        else:
            headers.append((name, text))
    if not replaced:
        headers.insert(0, ("Max-Forwards", value))
    copy = replace(request, uri=target, headers=tuple(headers))
    return push_via(copy, inst.sent_by, branch)


def branch_of(event: Event) -> str:
    """The branch an event from a client transaction is about."""
    message = message_of(event)
    if isinstance(message, Response):
        return message.branch
    if isinstance(event, TransportError):
        return event.detail
    return ""


def _pending(inst: ProxyInstance, but: str = "") -> list[Branch]:
    return [b for key, b in inst.branches.items() if not b.done and key != but]


def _can_branch(inst: ProxyInstance) -> bool:
    """Whether another group of targets may still be tried: not after a 6xx or a CANCEL
    (§16.7 step 5, §16.10), nor once a final response was sent upstream."""
    return bool(inst.groups) and not inst.no_new_branches and not inst.final_sent


def best_response(responses: list[Response]) -> Response | None:
    """The best final response of a context (§16.7 step 6): a 6xx if there is one, else
    the lowest class, preferring 401, 407, 415, 420 and 484 within the 4xx."""
    if not responses:
        return None
    six = [r for r in responses if r.status >= 600]
    if six:
        return six[0]
    lowest = min(r.status // 100 for r in responses)
    chosen = [r for r in responses if r.status // 100 == lowest]
    for code in PREFERRED_4XX:
        for r in chosen:
            if r.status == code:
                return r
    return chosen[0]


# -- guards ----------------------------------------------------------------------------------


def _guard(name: str, text: str, rfc: str, check: Callable[[Any, Any], bool]) -> Guard:
    return Guard(name, text, rfc, check)


def _req(inst: Any, event: Any) -> Request:
    message = message_of(event)
    assert isinstance(message, Request)
    return message


def _invalid(inst: ProxyInstance, request: Request) -> int:
    """The status §16.3 (or §16.5: no target) answers ``request`` with; 0 if valid, -1
    for an ACK, which creates no response context (the server transaction absorbs the ACK
    of a non-2xx; the element forwards the ACK of a 2xx without one, §16.11)."""
    if request.method == "ACK":
        return -1
    if scheme_of(request.uri) not in SCHEMES:
        return 416
    if max_forwards(request) == 0:
        return 483
    if looped(inst, request):
        return 482
    if unsupported(inst, request):
        return 420
    if not inst.groups:
        return 480
    return 0


def _fails_with(code: int) -> Callable[[Any, Any], bool]:
    return lambda inst, ev: _invalid(inst, _req(inst, ev)) == code


BAD_SCHEME = _guard("bad_scheme", "Request-URI scheme not understood", "RFC 3261 §16.3",
                    _fails_with(416))
NO_HOPS = _guard("no_hops", "Max-Forwards is 0", "RFC 3261 §16.3", _fails_with(483))
LOOP = _guard("loop", "a Via of ours with this request's branch (loop)", "RFC 3261 §16.3",
              _fails_with(482))
PROXY_REQUIRE = _guard("proxy_require", "Proxy-Require names an unknown option",
                       "RFC 3261 §16.3", _fails_with(420))
NO_TARGET = _guard("no_target", "the target set is empty", "RFC 3261 §16.5", _fails_with(480))
VALID = _guard("valid", "valid, with targets", "RFC 3261 §16.3",
               lambda inst, ev: _invalid(inst, _req(inst, ev)) == 0)

def _method(inst: Any, event: Any) -> str:
    """The method of the context's request (on creation: the event's, not yet stored)."""
    message = message_of(event)
    if isinstance(message, Request) and message.method != "CANCEL":
        return message.method
    return inst.request.method if inst.request is not None else ""


INVITE = _guard("invite", "INVITE", "RFC 3261 §16.6",
                lambda inst, ev: _method(inst, ev) == "INVITE")
NOT_INVITE = _guard("not_invite", "not INVITE", "RFC 3261 §16.6",
                    lambda inst, ev: _method(inst, ev) != "INVITE")
OTHERS_PENDING = _guard("others_pending", "other branches pending", "RFC 3261 §16.7",
                        lambda inst, ev: bool(_pending(inst, branch_of(ev))))
NEXT_GROUP = _guard("next_group", "none pending, more targets", "RFC 3261 §16.6",
                    lambda inst, ev: not _pending(inst, branch_of(ev)) and _can_branch(inst))
LAST = _guard("last", "none pending, no more targets", "RFC 3261 §16.7",
              lambda inst, ev: not _pending(inst, branch_of(ev)) and not _can_branch(inst))
LAST_ANSWER = _guard("last_answer", "none pending", "RFC 3261 §16.7",
                     lambda inst, ev: not _pending(inst, branch_of(ev)))
SOME_RINGING = _guard("some_ringing", "a pending branch had a provisional",
                      "RFC 3261 §16.8",
                      lambda inst, ev: any(b.provisional for b in _pending(inst)))
NONE_RINGING_MORE = _guard(
    "none_ringing_more", "no pending branch had a provisional, more targets", "RFC 3261 §16.8",
    lambda inst, ev: not any(b.provisional for b in _pending(inst)) and _can_branch(inst))
NONE_RINGING_LAST = _guard(
    "none_ringing_last", "no pending branch had a provisional, no more targets",
    "RFC 3261 §16.8",
    lambda inst, ev: not any(b.provisional for b in _pending(inst)) and not _can_branch(inst))


# -- actions ---------------------------------------------------------------------------------


def _action(kind: str, arg: str = "", arg2: str = "") -> ActionDecl:
    return ActionDecl(kind, arg, arg2)


ACTION_LABELS.update({
    "proxy_reject": "respond {arg} upstream",
    "proxy_trying": "send 100 Trying upstream",
    "proxy_forward": "forward to the next group of targets",
    "proxy_provisional": "note the branch ringing",
    "proxy_forward_response": "forward the response upstream",
    "proxy_forward_stateless": "forward the 2xx statelessly",
    "proxy_store": "store the final response",
    "proxy_store_503": "store a 503 for the branch",
    "proxy_send_best": "send the best final response upstream",
    "proxy_cancel_pending": "CANCEL the pending branches",
    "proxy_stop_branching": "no new branches",
    "proxy_ok_cancel": "respond 200 to the CANCEL",
    "proxy_expire": "CANCEL ringing branches, 408 the others",
})

REJECT = {code: _action("proxy_reject", str(code)) for code in (416, 482, 483, 420, 480)}
TRYING = _action("proxy_trying")
FORWARD = _action("proxy_forward")
START_C = _action("start_timer", "C")
PROVISIONAL = _action("proxy_provisional")
FORWARD_RESPONSE = _action("proxy_forward_response")
FORWARD_STATELESS = _action("proxy_forward_stateless")
STORE = _action("proxy_store")
STORE_503 = _action("proxy_store_503")
SEND_BEST = _action("proxy_send_best")
CANCEL_PENDING = _action("proxy_cancel_pending")
STOP_BRANCHING = _action("proxy_stop_branching")
OK_CANCEL = _action("proxy_ok_cancel")
EXPIRE = _action("proxy_expire")


def _proxy(inst: Any) -> ProxyInstance:
    assert isinstance(inst, ProxyInstance)
    return inst


@handler("proxy_reject")
def _reject(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
            timing: Timing) -> list[RuntimeAction]:
    code = int(action.arg)
    request = _req(inst, event)
    headers: tuple[tuple[str, str], ...] = ()
    if code == 420:
        headers = (("Unsupported", ", ".join(unsupported(_proxy(inst), request))),)
    inst.final_sent = True
    return [Respond(request, code, headers, rfc="RFC 3261 §16.3" if code != 480 else
                    "RFC 3261 §16.5")]


@handler("proxy_trying")
def _trying(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
            timing: Timing) -> list[RuntimeAction]:
    return [Respond(_req(inst, event), 100, rfc="RFC 3261 §16.2")]


@handler("proxy_forward")
def _forward(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
             timing: Timing) -> list[RuntimeAction]:
    ctx = _proxy(inst)
    if not _can_branch(ctx) or ctx.request is None:
        return []
    group = ctx.groups.pop(0)
    out: list[RuntimeAction] = []
    prefix = branch_prefix(ctx.sent_by, ctx.request)
    for target in group:
        branch = f"{prefix}{len(ctx.branches) + 1}"
        request = forwarded(ctx, ctx.request, target, branch)
        ctx.branches[branch] = Branch(request, target)
        out.append(ToTU("forward", request))
    return out


@handler("proxy_provisional")
def _provisional(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
                 timing: Timing) -> list[RuntimeAction]:
    found = _proxy(inst).branches.get(branch_of(event))
    if found is not None:
        found.provisional = True
    return []


def _done(inst: ProxyInstance, event: Event) -> None:
    found = inst.branches.get(branch_of(event))
    if found is not None:
        found.done = True


def _upstream(event: Event) -> Response:
    """The response as it goes upstream: without this proxy's Via (§16.7 step 3). (The
    element gives the machine only responses its branches' client transactions matched,
    which all carry this proxy's Via above the upstream ones; any other is left as it is.)"""
    message = message_of(event)
    assert isinstance(message, Response)
    return pop_via(message) if message.vias else message


@handler("proxy_forward_response")
def _forward_response(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
                      timing: Timing) -> list[RuntimeAction]:
    ctx = _proxy(inst)
    response = _upstream(event)
    if response.status >= 200:
        _done(ctx, event)
        ctx.final_sent = True
    return [SendMessage(response)]


@handler("proxy_forward_stateless")
def _forward_stateless(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
                       timing: Timing) -> list[RuntimeAction]:
    _done(_proxy(inst), event)
    return [ToTU("forward_stateless", _upstream(event))]


@handler("proxy_store")
def _store(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
           timing: Timing) -> list[RuntimeAction]:
    ctx = _proxy(inst)
    _done(ctx, event)
    if not ctx.final_sent:
        ctx.responses.append(_upstream(event))
        ctx.best = best_response(ctx.responses)
    return []


@handler("proxy_store_503")
def _store_503(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
               timing: Timing) -> list[RuntimeAction]:
    ctx = _proxy(inst)
    found = ctx.branches.get(branch_of(event))
    if found is not None:
        found.done = True
        if not ctx.final_sent and ctx.request is not None:
            ctx.responses.append(response_to(ctx.request, 503))
            ctx.best = best_response(ctx.responses)
    return []


@handler("proxy_send_best")
def _send_best(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
               timing: Timing) -> list[RuntimeAction]:
    ctx = _proxy(inst)
    request = ctx.request
    if ctx.final_sent or request is None:
        return []
    ctx.final_sent = True
    best = ctx.best
    if best is None:
        return [Respond(request, 408, rfc="RFC 3261 §16.7")]
    if best.status == 503:
        return [Respond(request, 500, rfc="RFC 3261 §16.7")]
    return [SendMessage(best)]


@handler("proxy_cancel_pending")
def _cancel_pending(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
                    timing: Timing) -> list[RuntimeAction]:
    ctx = _proxy(inst)
    out: list[RuntimeAction] = []
    for key, found in ctx.branches.items():
        if found.done or found.cancelled or key == branch_of(event):
            continue
        found.cancelled = True
        if found.request.method == "INVITE":
            out.append(ToTU("cancel", found.request))
    return out


@handler("proxy_stop_branching")
def _stop_branching(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
                    timing: Timing) -> list[RuntimeAction]:
    _proxy(inst).no_new_branches = True
    return []


@handler("proxy_ok_cancel")
def _ok_cancel(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
               timing: Timing) -> list[RuntimeAction]:
    return [Respond(_req(inst, event), 200, rfc="RFC 3261 §16.10")]


@handler("proxy_expire")
def _expire(inst: Any, decl: MachineDecl, event: Event, action: ActionDecl,
            timing: Timing) -> list[RuntimeAction]:
    """Timer C fired (§16.8): CANCEL each pending branch that had a provisional response;
    end the others as if they had received a 408."""
    ctx = _proxy(inst)
    out: list[RuntimeAction] = []
    for found in _pending(ctx):
        if found.provisional:
            if not found.cancelled:
                found.cancelled = True
                out.append(ToTU("cancel", found.request))
        else:
            found.done = True
            out.append(ToTU("abandon", found.request))
            if not ctx.final_sent:
                ctx.responses.append(pop_via(response_to(found.request, 408)))
                ctx.best = best_response(ctx.responses)
    return out


# -- the declaration -----------------------------------------------------------------------------

TRIGGERS = (
    Trigger("rcv_cancel", "request_received", "CANCEL", method="CANCEL"),
    Trigger("rcv_request", "request_received", "request"),
    Trigger("rcv_100", "response_received", "100", status=(100, 100)),
    Trigger("rcv_1xx", "response_received", "101-199", status=(101, 199)),
    Trigger("rcv_2xx", "response_received", "2xx", status=(200, 299)),
    Trigger("rcv_3xx_5xx", "response_received", "300-599", status=(300, 599)),
    Trigger("rcv_6xx", "response_received", "6xx", status=(600, 699)),
    Trigger("timer_c", "timer", "Timer C fires", timer="C"),
    Trigger("transport_error", "transport_error", "Transport Err."),
    Trigger("ended", "transaction_ended", "every transaction ended"),
)

_VALIDATION = (
    Outcome(416, "send", "when the Request-URI's scheme is not understood", "RFC 3261 §16.3",
            "rcv_request"),
    Outcome(483, "send", "when the request arrives with Max-Forwards 0", "RFC 3261 §16.3",
            "rcv_request"),
    Outcome(482, "send", "when the request looped back to this proxy", "RFC 3261 §16.3",
            "rcv_request"),
    Outcome(420, "send", "(with Unsupported) when Proxy-Require names an option the proxy "
            "does not understand", "RFC 3261 §16.3", "rcv_request"),
    Outcome(480, "send", "when the target set is empty", "RFC 3261 §16.5", "rcv_request"),
)

_PROCEEDING = (
    Outcome(408, "send", "when Timer C fired on branches that never answered and no other "
            "final response was stored", "RFC 3261 §16.8", "timer_c"),
    Outcome(408, "send", "when every branch ended with no final response stored",
            "RFC 3261 §16.7", "rcv_3xx_5xx"),
    Outcome(487, "receive", "when a CANCEL the proxy sent took effect on a branch",
            "RFC 3261 §16.10", "rcv_3xx_5xx"),
    Outcome(500, "send", "when the best response is a 503: the proxy sends 500 instead",
            "RFC 3261 §16.7", "rcv_3xx_5xx"),
    Outcome(503, "receive", "when the transport failed on a branch: as if it answered 503",
            "RFC 3261 §16.9", "transport_error"),
    Outcome(500, "send", "when the only response was a transport error's 503",
            "RFC 3261 §16.7", "transport_error"),
)

_COMPLETED = (
    Outcome(487, "receive", "when a branch the proxy cancelled ends: absorbed, the final "
            "response was sent", "RFC 3261 §16.7", "rcv_3xx_5xx"),
    Outcome(503, "receive", "when the transport failed on a branch: absorbed",
            "RFC 3261 §16.9", "transport_error"),
)

STATES = (
    StateDecl("proceeding", "the request was forwarded; no final response sent upstream yet: "
              "101-199 and 2xx are forwarded, other finals stored until every branch is done",
              "RFC 3261 §16.7", keeps=("C",), outcomes=_PROCEEDING),
    StateDecl("completed", "a final response was sent upstream, other branches are being "
              "cancelled: a 2xx to an INVITE is still forwarded, everything else absorbed",
              "RFC 3261 §16.7", keeps=("C",), outcomes=_COMPLETED),
    StateDecl("rejected", "the proxy answered the request itself: it failed validation or "
              "has no target, nothing was forwarded", "RFC 3261 §16.3", terminal=True,
              outcomes=_VALIDATION, on_enter=(ActionDecl("to_tu", "terminated"),)),
    StateDecl("lingering", "every branch is done and a final response was sent upstream; "
              "the context is kept until its transactions have ended: a 2xx a branch passes "
              "up again is forwarded, a CANCEL answered 200", "RFC 3261 §16.7"),
    StateDecl("terminated", "every transaction of the context has ended",
              "RFC 3261 §16.7", terminal=True, on_enter=(ActionDecl("to_tu", "terminated"),)),
)

CREATIONS = (
    Transition("", "rcv_request", "rejected", (REJECT[416],), "RFC 3261 §16.3",
               guards=(BAD_SCHEME,)),
    Transition("", "rcv_request", "rejected", (REJECT[483],), "RFC 3261 §16.3",
               guards=(NO_HOPS,)),
    Transition("", "rcv_request", "rejected", (REJECT[482],), "RFC 3261 §16.3",
               guards=(LOOP,)),
    Transition("", "rcv_request", "rejected", (REJECT[420],), "RFC 3261 §16.3",
               guards=(PROXY_REQUIRE,)),
    Transition("", "rcv_request", "rejected", (REJECT[480],), "RFC 3261 §16.5",
               guards=(NO_TARGET,)),
    Transition("", "rcv_request", "proceeding", (TRYING, FORWARD, START_C), "RFC 3261 §16.6",
               guards=(VALID, INVITE),
               note="100 Trying (§16.2), Timer C for an INVITE (step 11)"),
    Transition("", "rcv_request", "proceeding", (FORWARD,), "RFC 3261 §16.6",
               guards=(VALID, NOT_INVITE),
               note="no 100 Trying to a non-INVITE (§16.2)"),
)

_SECOND_2XX = (
    Transition("completed", "rcv_2xx", "completed", (FORWARD_RESPONSE,), "RFC 6026 §8.3",
               guards=(OTHERS_PENDING,), profiles=ONLY_6026,
               note="through the server transaction (Accepted)"),
    Transition("completed", "rcv_2xx", "lingering", (FORWARD_RESPONSE,), "RFC 6026 §8.3",
               guards=(LAST_ANSWER,), profiles=ONLY_6026),
    Transition("completed", "rcv_2xx", "completed", (FORWARD_STATELESS,), "RFC 3261 §16.7",
               guards=(OTHERS_PENDING,), profiles=ONLY_3261,
               note="step 9: the server transaction is gone, forwarded statelessly"),
    Transition("completed", "rcv_2xx", "lingering", (FORWARD_STATELESS,), "RFC 3261 §16.7",
               guards=(LAST_ANSWER,), profiles=ONLY_3261),
)

ROWS = (
    Transition("proceeding", "rcv_100", "proceeding", (PROVISIONAL,), "RFC 3261 §16.7",
               note="step 5: a 100 is never forwarded"),
    Transition("proceeding", "rcv_1xx", "proceeding", (PROVISIONAL, START_C, FORWARD_RESPONSE),
               "RFC 3261 §16.7", guards=(INVITE,), note="steps 2 (reset Timer C) and 5"),
    Transition("proceeding", "rcv_1xx", "proceeding", (PROVISIONAL, FORWARD_RESPONSE),
               "RFC 3261 §16.7", guards=(NOT_INVITE,), note="step 5"),
    Transition("proceeding", "rcv_2xx", "completed", (FORWARD_RESPONSE, CANCEL_PENDING),
               "RFC 3261 §16.7", guards=(OTHERS_PENDING,), note="steps 5 and 10"),
    Transition("proceeding", "rcv_2xx", "lingering", (FORWARD_RESPONSE,), "RFC 3261 §16.7",
               guards=(LAST_ANSWER,)),
    Transition("proceeding", "rcv_3xx_5xx", "proceeding", (STORE,), "RFC 3261 §16.7",
               guards=(OTHERS_PENDING,), note="step 4: kept for the best response"),
    Transition("proceeding", "rcv_3xx_5xx", "proceeding", (STORE, FORWARD, START_C),
               "RFC 3261 §16.6", guards=(NEXT_GROUP, INVITE),
               note="the next group of targets (serial forking)"),
    Transition("proceeding", "rcv_3xx_5xx", "proceeding", (STORE, FORWARD),
               "RFC 3261 §16.6", guards=(NEXT_GROUP, NOT_INVITE),
               note="the next group of targets (serial forking)"),
    Transition("proceeding", "rcv_3xx_5xx", "lingering", (STORE, SEND_BEST),
               "RFC 3261 §16.7", guards=(LAST,), note="step 6"),
    Transition("proceeding", "rcv_6xx", "proceeding", (STORE, STOP_BRANCHING, CANCEL_PENDING),
               "RFC 3261 §16.7", guards=(OTHERS_PENDING,),
               note="step 5: no new branches, CANCEL the pending ones"),
    Transition("proceeding", "rcv_6xx", "lingering", (STORE, SEND_BEST), "RFC 3261 §16.7",
               guards=(LAST_ANSWER,), note="step 6: a 6xx is the best response"),
    Transition("proceeding", "transport_error", "proceeding", (STORE_503,), "RFC 3261 §16.9",
               guards=(OTHERS_PENDING,)),
    Transition("proceeding", "transport_error", "proceeding", (STORE_503, FORWARD, START_C),
               "RFC 3261 §16.9", guards=(NEXT_GROUP, INVITE)),
    Transition("proceeding", "transport_error", "proceeding", (STORE_503, FORWARD),
               "RFC 3261 §16.9", guards=(NEXT_GROUP, NOT_INVITE)),
    Transition("proceeding", "transport_error", "lingering", (STORE_503, SEND_BEST),
               "RFC 3261 §16.9", guards=(LAST,), note="503 becomes 500 (§16.7 step 6)"),
    Transition("proceeding", "timer_c", "proceeding", (EXPIRE,), "RFC 3261 §16.8",
               guards=(SOME_RINGING,)),
    Transition("proceeding", "timer_c", "proceeding", (EXPIRE, FORWARD, START_C),
               "RFC 3261 §16.8", guards=(NONE_RINGING_MORE,)),
    Transition("proceeding", "timer_c", "lingering", (EXPIRE, SEND_BEST), "RFC 3261 §16.8",
               guards=(NONE_RINGING_LAST,)),
    Transition("proceeding", "rcv_cancel", "proceeding",
               (OK_CANCEL, STOP_BRANCHING, CANCEL_PENDING), "RFC 3261 §16.10"),
    Transition("completed", "rcv_100", "completed", (), "RFC 3261 §16.7"),
    Transition("completed", "rcv_1xx", "completed", (), "RFC 3261 §16.7",
               note="step 5: after a final response only 2xx to INVITE are forwarded"),
    *_SECOND_2XX,
    Transition("completed", "rcv_3xx_5xx", "completed", (STORE,), "RFC 3261 §16.7",
               guards=(OTHERS_PENDING,)),
    Transition("completed", "rcv_3xx_5xx", "lingering", (STORE,), "RFC 3261 §16.7",
               guards=(LAST_ANSWER,)),
    Transition("completed", "rcv_6xx", "completed", (STORE,), "RFC 3261 §16.7",
               guards=(OTHERS_PENDING,)),
    Transition("completed", "rcv_6xx", "lingering", (STORE,), "RFC 3261 §16.7",
               guards=(LAST_ANSWER,)),
    Transition("completed", "transport_error", "completed", (STORE_503,), "RFC 3261 §16.9",
               guards=(OTHERS_PENDING,)),
    Transition("completed", "transport_error", "lingering", (STORE_503,), "RFC 3261 §16.9",
               guards=(LAST_ANSWER,)),
    Transition("completed", "timer_c", "completed", (EXPIRE,), "RFC 3261 §16.8",
               guards=(SOME_RINGING,)),
    Transition("completed", "timer_c", "lingering", (EXPIRE,), "RFC 3261 §16.8",
               guards=(NONE_RINGING_LAST,)),
    Transition("completed", "rcv_cancel", "completed", (OK_CANCEL,), "RFC 3261 §16.10",
               note="the context still exists: 200 to the CANCEL, nothing left to cancel"),
    # §16.7 step 9: "The proxy MUST maintain the response context until all of its
    # associated transactions have been terminated, even after forwarding a final response."
    Transition("lingering", "rcv_2xx", "lingering", (FORWARD_RESPONSE,), "RFC 3261 §16.7",
               note="step 5: any 2xx is forwarded, also one an INVITE client transaction "
               "in Accepted passes up again (RFC 6026 §8.4)"),
    Transition("lingering", "rcv_cancel", "lingering", (OK_CANCEL,), "RFC 3261 §16.10",
               note="a matching response context: 200 at once, nothing left to cancel"),
    Transition("lingering", "rcv_100", "lingering", (), "RFC 3261 §16.7"),
    Transition("lingering", "rcv_1xx", "lingering", (), "RFC 3261 §16.7",
               note="step 5: after a final response only 2xx to INVITE are forwarded"),
    Transition("lingering", "rcv_3xx_5xx", "lingering", (), "RFC 3261 §16.7",
               note="step 5: not forwarded; a final response was sent"),
    Transition("lingering", "rcv_6xx", "lingering", (), "RFC 3261 §16.7"),
    Transition("lingering", "transport_error", "lingering", (), "RFC 3261 §16.9"),
    Transition("lingering", "ended", "terminated", (), "RFC 3261 §16.7",
               note="step 9: the context is kept until all its transactions have ended"),
)

_NOTES = {
    "rfc6026": ("profile rfc6026: a response matching no client transaction is dropped, and "
                "a 2xx from another branch goes through the server transaction in Accepted "
                "(RFC 6026 §7.3, §8.2, §8.3)",),
    "rfc3261": ("profile rfc3261: a response matching no client transaction is forwarded "
                "statelessly, and a 2xx after the first is forwarded statelessly: the first "
                "destroyed the server transaction (RFC 3261 §16.7)",),
}

_CACHE: dict[str, MachineDecl] = {}


def declare(profile: str = "rfc6026") -> MachineDecl:
    """The proxy's response context in ``profile`` (cached: a declaration is immutable)."""
    cached = _CACHE.get(profile)
    if cached is not None:
        return cached
    if profile not in PROFILES:
        raise UnknownName("profile", profile, PROFILES)
    decl = MachineDecl(
        id=MACHINE_ID,
        title="stateful proxy response context",
        rfc="RFC 3261 §16",
        profile=profile_of(profile),
        figure=FIGURE,
        states=select_profile(STATES, profile),
        triggers=TRIGGERS,
        timers=(TIMER_C,),
        creations=CREATIONS,
        transitions=select_profile(ROWS, profile),
        notes=_NOTES[profile],
    )
    _CACHE[profile] = decl
    return decl


__all__ = [
    "MACHINE_ID",
    "PROFILE_DIFFERENCES",
    "Branch",
    "ProxyInstance",
    "best_response",
    "branch_of",
    "branch_prefix",
    "declare",
    "forwarded",
    "looped",
]
