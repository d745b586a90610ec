"""A stateful proxy (RFC 3261 §16) as one sans-IO element: a `Proxy` owns a server
transaction per request it receives, a client transaction per target it forwards to, and a
response context per request (the declared ``proxy`` machine, `sipfsm.machines.proxy`), on a
`Host` like the UA core's `sipfsm.elements.endpoint.Endpoint`.

What the response context decides (forward, respond, cancel a branch, Timer C) is carried out
here through the transactions; what RFC 3261 gives to the proxy outside one context is done
here too:

* the location service (§16.5): an address-of-record maps to targets with q-values, tried
  highest q first; equal q-values in parallel, or every target in parallel (``parallel``);
* route information preprocessing (§16.4): a Request-URI this proxy put in a Record-Route
  (a strict router sent the request) is replaced by the last Route, and a first Route
  naming this proxy is removed, before anything else looks at the request;
* a request inside a dialog (a To tag) is addressed to a remote target, a contact, not to
  an address-of-record: its Request-URI is its only target (§16.5, §16.12 step 1), which
  the location service is not asked about (the simulator's contacts and
  addresses-of-record are the same URIs);
* postprocessing routing and the next hop (§16.6 steps 6, 7; §16.12): a first Route
  without ``lr`` (a strict router) becomes the Request-URI, the Request-URI the last Route,
  and the request goes to its Request-URI; otherwise to its first Route, else to its
  Request-URI. ``outbound`` (a next hop of local policy) is used only for a request
  outside a dialog that has no Route (§16.6 step 6: not unless the next hop is known to
  be a loose router);
* ``strict``: an RFC 2543 strict router, to route around (§16.12.1.2): its Record-Route
  has no ``lr``, and a request whose Request-URI names it gets the first Route as
  Request-URI and goes there;
* the ACK of a non-2xx is absorbed by the server transaction, hop by hop (§17.2.1; the
  client transaction ACKs downstream), the ACK of a 2xx and a CANCEL matching no context
  are forwarded statelessly (§16.10, §16.11), routed as above (by their Route header, or
  else their Request-URI; never by ``outbound``);
* a response matching no client transaction is forwarded statelessly under ``rfc3261`` and
  dropped under ``rfc6026`` (RFC 6026 §7.3, `sipfsm.machines.proxy.PROFILE_DIFFERENCES`).

Addresses: an element is addressed by the first label of its host (``sip:bob@bob.example.com``
and ``bob.example.com`` are both ``bob``), as the simulator names its elements.
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache
from typing import Any, Final, cast

from sipfsm.decl.timers import Timing
from sipfsm.elements.core import address_of
from sipfsm.elements.endpoint import Machines
from sipfsm.elements.host import Host
from sipfsm.elements.matching import Matcher, machine_for, transaction_key
from sipfsm.engine.model import engine as build
from sipfsm.engine.runtime import Engine, Starts, handle_event, start_instance
from sipfsm.machines.proxy import ProxyInstance, branch_of
from sipfsm.values.errors import ProtocolError
from sipfsm.values.events import (
    Action,
    Event,
    RequestReceived,
    Respond,
    ResponseReceived,
    SendMessage,
    StartTimer,
    StopTimer,
    ToTU,
    TransactionEnded,
    TransportError,
    TUCancel,
    TURequest,
    TUResponse,
    describe,
    timer_fired,
)
from sipfsm.values.frozen import replace
from sipfsm.values.message import (
    Message,
    Request,
    Response,
    cancel_for,
    pop_via,
    push_via,
    response_to,
)
from sipfsm.values.routing import (
    ROUTE,
    next_hop,
    request_uri,
    strict_reformat,
    uri_of,
    values,
    with_values,
)

__all__ = ["Location", "Proxy", "address_of"]

#: address-of-record -> (contact URI, q-value) pairs (RFC 3261 §16.5, §20.10)
Location = dict[str, tuple[tuple[str, float], ...]]

_STATELESS: Final = "stateless"


class _Tx:
    """One transaction of the proxy: its instance, peer and context."""

    __slots__ = ("ctx", "engine", "id", "inst", "machine", "peer", "request", "sent")

    def __init__(self, tx_id: str, machine: str, engine: Engine, inst: Any, peer: str,
                 ctx: _Context | None) -> None:
        self.id = tx_id
        self.machine = machine
        self.engine = engine
        self.inst = inst
        self.peer = peer
        self.ctx = ctx
        self.request: Request = inst.request
        self.sent: list[Message] = []  # what it sent (a message sent again is a retransmission)


class _Context:
    """A response context: the declared machine's instance, its server transaction and its
    branches' client transactions."""

    __slots__ = ("branches", "id", "inst", "live", "server")

    def __init__(self, ctx_id: str, inst: ProxyInstance) -> None:
        self.id = ctx_id
        self.inst = inst
        self.server: _Tx | None = None
        self.branches: dict[str, _Tx] = {}
        self.live = 0  # its transactions not yet terminated (§16.7 step 9)


class Proxy:
    """A stateful proxy: ``name`` makes its host (``NAME.example.com``, its Via sent-by and
    Record-Route); ``location`` its location service; ``parallel`` whether targets of
    different q-values are tried in parallel too; ``record_route`` whether it stays on the
    path of the dialog (§16.6 step 4); ``outbound`` the element every request outside a
    dialog without a Route that it forwards is sent to, whatever its Request-URI (a
    next-hop proxy of local policy, §16.6 steps 6, 7; empty: the Request-URI's host);
    ``strict`` makes it an RFC 2543 strict router (§16.12.1.2), else it routes loosely
    (§16.4, §16.6 step 6)."""

    def __init__(
        self,
        name: str,
        machines: Machines,
        location: Location | None = None,
        *,
        parallel: bool = True,
        record_route: bool = False,
        engine: str = "table",
        outbound: str = "",
        strict: bool = False,
    ) -> None:
        self.name = name
        self.host = f"{name}.example.com"
        self.machines = machines
        self.profile = machines.profile
        self.location: Location = dict(location or {})
        self.parallel = parallel
        self.record_route = record_route
        self.outbound = outbound
        self.strict = strict
        #: the URI this proxy puts in a Record-Route (§16.6 step 4), without parameters
        self.route_uri = f"sip:{self.host}"
        self.context_engine = _context_engine(machines.profile, machines.timing, engine)
        self.client: Matcher[_Tx] = Matcher()
        self.server: Matcher[_Tx] = Matcher()
        # the INVITE server transactions that ended before their response context: a
        # CANCEL still finds the context through them (§16.7 step 9, §16.10)
        self.kept: Matcher[_Tx] = Matcher()
        self.txs: dict[str, _Tx] = {}
        self.contexts: dict[str, _Context] = {}
        self._n = 0
        self._host: Host

    def start(self, host: Host) -> None:
        self._host = host

    def final_state(self) -> dict[str, Any]:
        """The transactions and response contexts still there (JSON-ready)."""
        return {
            "dialog": "none",
            "dialogs": {},
            "transactions": {t.id: t.inst.state for t in self.txs.values()},
            "contexts": {c.id: c.inst.state for c in self.contexts.values()},
        }

    def live_transactions(self) -> list[str]:
        """Every transaction and response context that has not ended: each branch ends
        (§16.7 step 9: a context ends when its last transaction has ended)."""
        out = [f"{t.id} ({t.request.summary()}) in {t.inst.state}" for t in self.txs.values()]
        out.extend(
            f"proxy {c.id} with branches {', '.join(sorted(c.branches)) or 'none'} in "
            f"{c.inst.state}"
            for c in self.contexts.values()
        )
        return out

    def _record(self, machine: str, tx: str, before: str, after: str, event: Event,
                actions: list[Action]) -> None:
        """A ``state`` record of one step of a machine (what the ladder shows)."""
        if self._host.recording:
            self._host.record(
                "state", machine=machine, tx=tx, state_before=before, state_after=after,
                text=describe(event), actions=tuple(_action_text(a) for a in actions),
            )

    # -- inputs --------------------------------------------------------------------------

    def receive(self, message: Message, src: str) -> None:
        if isinstance(message, Response):
            self._response(message)
        else:
            self._request(message, src)

    def timer(self, key: Hashable) -> None:
        k: tuple[Any, ...] = key  # type: ignore[assignment]  # the keys this proxy sets
        if k[0] == "tx":
            tx = self.txs.get(k[1])
            if tx is not None:
                self._tx(tx, timer_fired(k[2]))
        elif k[0] == "ctx":
            ctx = self.contexts.get(k[1])
            if ctx is not None:
                self._context(ctx, timer_fired(k[2]))

    def targets(self, request: Request) -> tuple[tuple[str, ...], ...]:
        """The target set of ``request`` in groups (§16.5, §16.6): from the location service
        for an address-of-record it knows, otherwise the Request-URI itself."""
        found = self.location.get(request.uri)
        if found is None:
            return ((request.uri,),)
        if not found:
            return ()
        ordered = sorted(found, key=lambda c: -c[1])
        if self.parallel:
            return (tuple(uri for uri, _ in ordered),)
        groups: list[list[str]] = []
        last: float | None = None
        for uri, q in ordered:
            if q != last:
                groups.append([])
                last = q
            groups[-1].append(uri)
        return tuple(tuple(g) for g in groups)

    # -- requests --------------------------------------------------------------------------

    def _request(self, request: Request, src: str) -> None:
        tx = self.server.find(request)
        if tx is not None:  # a retransmission, or the ACK of a non-2xx (absorbed, §17.2.1)
            self._tx(tx, RequestReceived(request))
            return
        received = request  # what the server transaction keeps
        request = self._preprocess(request)  # §16.4: what the core works on
        if request.method == "ACK":
            self._stateless(request)  # the ACK of a 2xx (§16.11)
            return
        if request.method == "CANCEL":
            target = self.server.find_cancelled(request) or self.kept.find_cancelled(request)
            if target is None or target.ctx is None or target.ctx.id not in self.contexts:
                # §16.10: no response context (none, or every transaction of it ended,
                # §16.7 step 9): forwarded statelessly
                self._stateless(request)
                return
            cancel_tx = self._new_server(received, src, target.ctx)
            if cancel_tx is not None:
                self._context(target.ctx, RequestReceived(request))
            return
        self._n += 1
        inst = ProxyInstance(
            sent_by=self.host,
            # §16.5: a request in a dialog goes to its remote target, as it names it
            groups=((request.uri,),) if request.to_tag else self.targets(request),
            record_route=self.route_uri if self.record_route else "",
            loose=not self.strict,
        )
        ctx = _Context(f"ctx{self._n}", inst)
        self.contexts[ctx.id] = ctx
        ctx.server = self._new_server(received, src, ctx)
        self._context(ctx, RequestReceived(request), start=True)

    def _new_server(self, request: Request, src: str, ctx: _Context) -> _Tx | None:
        machine = machine_for(request.method, "server")
        eng = self.machines.transactions[machine]
        try:
            inst, actions = eng.create(RequestReceived(request))
        except ProtocolError:
            return None
        self._n += 1
        tx = _Tx(f"{machine}-{self._n}", machine, eng, inst, src, ctx)
        self.txs[tx.id] = tx
        ctx.live += 1
        self.server.add(request, tx)
        self._record(machine, tx.id, "", inst.state, RequestReceived(request), actions)
        self._carry(tx, actions)
        return tx

    # -- routing (§16.4, §16.6 steps 6 and 7, §16.12) -------------------------------------

    def _names_me(self, uri: str) -> bool:
        """Whether ``uri`` is one this proxy put in a Record-Route (§16.4): its host, no
        user part, whatever its parameters."""
        return uri.split("?", 1)[0].split(";", 1)[0] == self.route_uri

    def _preprocess(self, request: Request) -> Request:
        """Route information preprocessing (§16.4): a Request-URI this proxy put in a
        Record-Route (a strict router sent it here) is replaced by the last Route, which is
        removed; then a first Route naming this proxy is removed. A strict router (RFC
        2543, §16.12.1.2) instead takes the first Route as the Request-URI when the
        Request-URI names it."""
        if not request.headers:
            return request
        routes = values(request.headers, ROUTE)
        if not routes:
            return request
        uri = request.uri
        if self.strict:
            if self._names_me(uri):
                uri, routes = request_uri(routes[0]), routes[1:]
        else:
            if self._names_me(uri):
                uri, routes = uri_of(routes[-1]), routes[:-1]
            if routes and address_of(uri_of(routes[0])) == self.name:
                routes = routes[1:]
        return replace(request, uri=uri, headers=with_values(request.headers, ROUTE, routes))

    def _postprocess(self, request: Request, policy: bool = True) -> tuple[Request, str]:
        """The request as it is sent and the element it goes to (§16.6 steps 6, 7): before
        a strict router (a first Route without ``lr``) the Request-URI becomes the last
        Route and that route the Request-URI, where the request goes; otherwise it goes to
        its first Route, else (``outbound``, with ``policy``, for a request outside a
        dialog) to the next hop of local policy, else to its Request-URI. A strict router
        sends every request to its Request-URI."""
        routes = values(request.headers, ROUTE) if request.headers else ()
        if policy and self.outbound and not routes and not request.to_tag:
            return request, self.outbound
        if self.strict:
            return request, address_of(request.uri)
        uri, routes_out, reformatted = strict_reformat(request.uri, routes)
        if reformatted:
            request = replace(
                request, uri=uri, headers=with_values(request.headers, ROUTE, routes_out)
            )
        return request, address_of(next_hop(uri, routes_out, reformatted))

    def _stateless(self, request: Request) -> None:
        """Forward a request without a transaction (§16.11), routed as any (§16.4 was done
        on receipt; §16.6 steps 6, 7, never to ``outbound``); Max-Forwards decremented, a
        Via of this proxy pushed."""
        request, hop = self._postprocess(request, policy=False)
        headers = list(request.headers)
        hops = request.header("Max-Forwards")
        value = str((70 if hops is None else int(hops)) - 1)
        headers = [(n, value) if n.lower() == "max-forwards" else (n, v) for n, v in headers]
        if hops is None:
            headers.insert(0, ("Max-Forwards", value))
        self._n += 1
        out = push_via(replace(request, headers=tuple(headers)), self.host,
                       f"{request.branch}.{self.name}")
        self._host.send(hop, out, machine=_STATELESS)

    # -- responses -------------------------------------------------------------------------

    def _response(self, response: Response) -> None:
        tx = self.client.find(response)
        if tx is None:
            # §16.7 (RFC 3261) forwards a stray response statelessly; RFC 6026 §7.3 drops it
            if self.profile == "rfc3261" and response.vias:
                up = pop_via(response)
                self._host.send(address_of(up.sent_by), up, machine=_STATELESS)
            return
        self._tx(tx, ResponseReceived(response))

    # -- running the machines --------------------------------------------------------------

    def _tx(self, tx: _Tx, event: Event) -> None:
        before = tx.inst.state
        try:
            actions = handle_event(tx.engine, tx.inst, event)
        except ProtocolError as exc:
            # a host discards what the transaction has no arrow for
            self._host.record("discard", machine=tx.machine, tx=tx.id, text=str(exc))
            return
        self._record(tx.machine, tx.id, before, tx.inst.state, event, actions)
        self._carry(tx, actions)

    def _carry(self, tx: _Tx, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, SendMessage):
                m = action.message
                retransmission = m in tx.sent
                if not retransmission:
                    tx.sent.append(m)
                self._host.send(tx.peer, m, retransmission, machine=tx.machine, tx=tx.id)
            elif isinstance(action, StartTimer):
                self._host.set_timer(("tx", tx.id, action.name), action.seconds)
            elif isinstance(action, StopTimer):
                self._host.cancel_timer(("tx", tx.id, action.name))
            elif isinstance(action, ToTU):
                self._tx_said(tx, action)

    def _tx_said(self, tx: _Tx, said: ToTU) -> None:
        ctx = tx.ctx
        what = said.what
        if what == "terminated":
            # destroyed (§17): a later response or retransmission matches it no more (a
            # 2xx after the INVITE client transaction ended is forwarded statelessly under
            # rfc3261, §16.7, and dropped under rfc6026)
            self.txs.pop(tx.id, None)
            matcher = self.server if tx.machine.endswith("st") else self.client
            key = transaction_key(tx.request)
            if matcher.find_key(key) is tx:
                matcher.forget(key)
            if ctx is not None and tx is ctx.server and ctx.id in self.contexts:
                self.kept.add(tx.request, tx)
            if ctx is not None:
                ctx.live -= 1
                self._ended(ctx, "server" if matcher is self.server else "client")
            return
        if ctx is None or tx is ctx.server or not tx.machine.endswith("ct"):
            return
        branch = tx.request.branch
        if branch not in ctx.branches:
            return  # the CANCEL's own client transaction: its 200 ends here (§16.7 step 3)
        if what == "response" and isinstance(said.message, Response):
            self._context(ctx, ResponseReceived(said.message))
        elif what == "send_cancel":
            self._new_client(cancel_for(tx.request), tx.peer, None)
        elif what in ("timeout", "cancelled"):
            self._context(ctx, ResponseReceived(response_to(tx.request, 408)))
        elif what == "transport_error":
            self._context(ctx, TransportError(branch))

    def _new_client(self, request: Request, peer: str, ctx: _Context | None) -> _Tx:
        machine = machine_for(request.method, "client")
        eng = self.machines.transactions[machine]
        inst, actions = eng.create(TURequest(request))
        self._n += 1
        tx = _Tx(f"{machine}-{self._n}", machine, eng, inst, peer, ctx)
        self.txs[tx.id] = tx
        self.client.add(request, tx)
        if ctx is not None:
            ctx.live += 1
            ctx.branches[request.branch] = tx
        self._record(machine, tx.id, "", inst.state, TURequest(request), actions)
        self._carry(tx, actions)
        return tx

    def _context(self, ctx: _Context, event: Event, start: bool = False) -> None:
        inst = ctx.inst
        if not start:
            found = inst.branches.get(branch_of(event))
            if found is not None and found.done and not _is_2xx(event):
                # a branch already done (a Timer C 408) has nothing more to say but a 2xx,
                # which is always forwarded (§16.7 step 5)
                return
        before = "" if start else inst.state
        try:
            if start:
                actions = start_instance(cast(Starts, self.context_engine), inst, event)
            else:
                actions = handle_event(self.context_engine, inst, event)
        except ProtocolError as exc:
            self._host.record("discard", machine="proxy", tx=ctx.id, text=str(exc))
            return
        self._record("proxy", ctx.id, before, inst.state, event, actions)
        for action in actions:
            self._decided(ctx, action)
        if inst.state == "lingering" and not ctx.live:
            self._ended(ctx, "server")
        elif inst.state in ("terminated", "rejected") and ctx.id in self.contexts:
            del self.contexts[ctx.id]
            if ctx.server is not None:
                key = transaction_key(ctx.server.request)
                if self.kept.find_key(key) is ctx.server:
                    self.kept.forget(key)
            # the server transaction of a rejected request lives on (Timer H, J ...);
            # nothing of the context is needed by then, and letting go of them leaves no
            # reference cycle
            ctx.server = None
            ctx.branches = {}

    def _ended(self, ctx: _Context, role: str) -> None:
        """A transaction of ``ctx`` (its last, of ``role``) ended: the context ends with
        the last (§16.7 step 9: it is kept "until all of its associated transactions have
        been terminated")."""
        request = ctx.inst.request
        if ctx.live or ctx.inst.state != "lingering" or request is None:
            return
        self._context(ctx, TransactionEnded(request.method, request.cseq, role))

    def _decided(self, ctx: _Context, action: Action) -> None:
        if isinstance(action, Respond):
            request = action.request
            tx = self.server.find(request) if request.method == "CANCEL" else ctx.server
            if tx is not None:
                tag = "" if action.status == 100 or request.to_tag else f"{self.name}-{ctx.id}"
                response = response_to(request, action.status, to_tag=tag or None,
                                       headers=action.headers)
                self._tx(tx, TUResponse(response))
        elif isinstance(action, SendMessage) and isinstance(action.message, Response):
            self._upstream(ctx, action.message)
        elif isinstance(action, StartTimer):
            self._host.set_timer(("ctx", ctx.id, action.name), action.seconds)
        elif isinstance(action, StopTimer):
            self._host.cancel_timer(("ctx", ctx.id, action.name))
        elif isinstance(action, ToTU) and isinstance(action.message, Request):
            if action.what == "forward":
                request, hop = self._postprocess(action.message)  # §16.6 steps 6, 7
                self._new_client(request, hop, ctx)
            elif action.what in ("cancel", "abandon"):
                branch = ctx.branches.get(action.message.branch)
                if branch is not None:
                    self._tx(branch, TUCancel())
        elif (
            isinstance(action, ToTU)
            and isinstance(action.message, Response)
            and action.what == "forward_stateless"
        ):
            up = action.message
            self._host.send(address_of(up.sent_by), up, machine=_STATELESS)

    def _upstream(self, ctx: _Context, response: Response) -> None:
        """Pass a response to the server transaction (§16.7 step 9); if it can no longer
        send it, forward it statelessly (RFC 3261) or drop it (RFC 6026 §8.3)."""
        tx = ctx.server
        if tx is not None and tx.id in self.txs:
            try:
                actions = handle_event(tx.engine, tx.inst, TUResponse(response))
            except ProtocolError:
                actions = None
            if actions is not None:
                self._carry(tx, actions)
                return
        if self.profile == "rfc3261":
            self._host.send(address_of(response.sent_by), response, machine=_STATELESS)


@lru_cache(maxsize=32)
def _context_engine(profile: str, timing: Timing, kind: str) -> Engine:
    """The response context's engine, built once per profile, timing and kind (its rows are
    compiled when it is built; it keeps no state of its own, as the transactions' engines
    of a `Machines` are shared by every element of a run)."""
    return build("proxy", profile, timing, kind)


def _is_2xx(event: Event) -> bool:
    return isinstance(event, ResponseReceived) and 200 <= event.message.status < 300


def _action_text(action: Action) -> str:
    """A short text of an action for the trace."""
    if isinstance(action, SendMessage):
        return f"send {action.message.summary()}"
    if isinstance(action, StartTimer):
        return f"start Timer {action.name} ({action.seconds:g} s)"
    if isinstance(action, StopTimer):
        return f"stop Timer {action.name}"
    if isinstance(action, ToTU):
        return f"{action.what} {action.message.summary()}" if action.message else action.what
    if isinstance(action, Respond):
        return f"respond {action.status} to {action.request.method}"
    return type(action).__name__
