"""The UA core (RFC 3261 §8, §9, §12-15) as one sans-IO element: an `Endpoint` owns its
transactions (the four machines) and its dialog set, matches what it receives, answers what
the UA core answers by itself, carries out the duties the RFC puts outside the transactions,
and reports every outcome. The simulator's user agent is an Endpoint driven by a scripted
TU (`sipfsm.sim.ua`).

Sans-IO: an Endpoint does no I/O and reads no clock. Whoever runs it gives it a `Host` --
the time, a way to send a message to an address, timers keyed by any hashable value, and a
place for its records and counts -- and calls it with what happens: a message received
from an address (`receive`), a timer fired (`timer`), a TU request (`send_request`,
`respond`, `cancel`). The simulator's `sipfsm.sim.element.Context` is a Host; `ActionLog`
is one that keeps every output as a value (`Send`, `SetTimer`, `CancelTimer`, `Note`,
`Count`), for a host of another kind (a network binding, a test). What the TU decides is
asked of a `TransactionUser`.

The layering is RFC 3261's: message -> transaction -> dialog -> TU. Every decision a
machine declares is taken by the machine and only carried out here: retransmissions and
their timers (the transaction machines), the 481/487/491/500 answers inside a dialog and
the §14.1 glare timer (`sipfsm.machines.dialog`), CANCEL matching and 481 to unmatched
requests (`sipfsm.elements.core`), transaction matching (`sipfsm.elements.matching`). What
no machine declares and RFC 3261 gives to the UA core is done here:
`sipfsm.elements.duties.DUTIES` lists each duty with its section (docs/ua-core.md shows
them).

A request reaching the core is shown to the dialog first (it may answer it itself, or
absorb it), then its server transaction is created, then the dialog's answers are sent
through it, then the TU is told. A request the TU sends is shown to the dialog first too
(the dialog may refuse it, e.g. a re-INVITE while an INVITE is in progress, RFC 3261
§14.1), then its client transaction is created. Every other message a transaction sends
for the first time (100 Trying, the ACK of a 3xx-6xx, a response) is shown to the dialog
after the TU heard of the event that caused it, and a transaction's end after that.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final, cast

from mypy_extensions import mypyc_attr

from sipfsm.decl.instance import Instance
from sipfsm.decl.timers import Timing
from sipfsm.elements import core
from sipfsm.elements.dialogs import DialogEngine, DialogSet, Routed
from sipfsm.elements.host import Host
from sipfsm.elements.matching import Matcher, TransactionKey, machine_for
from sipfsm.engine.runtime import Engine, TableMachine, handle_event
from sipfsm.machines.dialog import DialogInstance
from sipfsm.values.catalogue import missing_headers
from sipfsm.values.errors import LocalProtocolError, ProtocolError
from sipfsm.values.events import (
    Action,
    Event,
    MessageSent,
    ReportOutcome,
    RequestReceived,
    Respond,
    ResponseReceived,
    SendMessage,
    StartTimer,
    StopTimer,
    ToTU,
    TransactionEnded,
    TUCancel,
    TURequest,
    TUResponse,
    describe,
    timer_fired,
)
from sipfsm.values.frozen import replace
from sipfsm.values.message import MAGIC_COOKIE, Message, Request, Response, cancel_for, response_to
from sipfsm.values.routing import (
    RECORD_ROUTE,
    ROUTE,
    dialog_request,
    route_set_uac,
    route_set_uas,
    uri_of,
)

__all__ = ["Call", "Endpoint", "Machines", "TransactionUser", "Tx"]

#: Requests that only exist inside a dialog here (RFC 3261 §15, RFC 3311 §5.1, RFC 6086 §4)
#: and requests that never do (REGISTER, RFC 3261 §10).
IN_DIALOG_ONLY: Final = frozenset({"BYE", "UPDATE", "INFO"})
OUT_OF_DIALOG_ONLY: Final = frozenset({"REGISTER"})

#: Values for the header fields the catalogue requires in a 4xx (RFC 3261 §21.4), used when
#: a scripted response leaves them out. Which fields are required comes from the catalogue.
HEADER_VALUES: Final[dict[str, str]] = {
    "WWW-Authenticate": 'Digest realm="{host}", nonce="ea9c8e88df84f1cec4341ae6cbe5a359"',
    "Proxy-Authenticate": 'Digest realm="{host}", nonce="ea9c8e88df84f1cec4341ae6cbe5a359"',
    "Allow": "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, MESSAGE",
    "Accept": "application/sdp",
    "Unsupported": "{require}",
    "Require": "timer",
    "Min-SE": "90",
    "Min-Expires": "3600",
    "Geolocation-Error": "100",
    "AlertMsg-Error": "100",
    "Recv-Info": "",
    "Security-Server": "digest",
}

#: Virtual times closer than this are the same time (sums of delays are rounded floats).
_EPSILON: Final = 1e-9

_LIVE: Final = ("established", "moratorium", "mortal", "early")  # preference when choosing a dialog

#: peer -> the address of its own URI (`Call.next_hop`), at most `_PEERS_KEPT` of them
_PEER_ADDRESSES: Final[dict[str, str]] = {}
_PEERS_KEPT: Final = 1024


# a TU is the user's own class (a test's, an application's), compiled or not
@mypyc_attr(allow_interpreted_subclasses=True)
class TransactionUser:
    """What an endpoint asks of its TU: it is told of each request, ACK, CANCEL, response
    and transaction event, and answers through the endpoint (`Endpoint.respond`,
    `Endpoint.send_request`, `Endpoint.cancel`). The defaults do nothing: a TU that never
    answers. ``dialog_states``: the dialog states whose entry the TU wants to hear of
    (`dialog`)."""

    def __init__(self, dialog_states: frozenset[str] = frozenset()) -> None:
        self.dialog_states = dialog_states

    def request(self, endpoint: Endpoint, tx: Tx, request: Request, answered: bool) -> None:
        """A request reached the TU (its server transaction ``tx``; ``answered``: the UA
        core or the dialog already answered it)."""

    def ack(self, endpoint: Endpoint, ack: Request) -> None:
        """An ACK for a 2xx reached the TU (RFC 3261 §13.3.1.4)."""

    def cancel(self, endpoint: Endpoint, cancel: Request, tx: Tx) -> None:
        """A CANCEL was answered by the UA core (RFC 3261 §9.2)."""

    def response(self, endpoint: Endpoint, response: Response) -> None:
        """A response to one of the TU's requests."""

    def event(self, endpoint: Endpoint, what: str, method: str) -> None:
        """A client transaction ended without a final response: ``timeout``,
        ``transport_error`` or ``cancelled``."""

    def dialog(self, endpoint: Endpoint, state: str) -> None:
        """A dialog entered ``state`` (one of ``dialog_states``)."""

    def error(self, endpoint: Endpoint, where: str, text: str) -> None:
        """The endpoint refused what the TU (``where``) or its own core asked for."""


class Machines:
    """The engines of one run, one per machine, shared by every element: engines are
    stateless apart from the instances they are given."""

    __slots__ = ("dialog", "engine", "profile", "timing", "transactions")

    def __init__(self, profile: str, timing: Timing, engine: str = "table") -> None:
        from sipfsm.engine.model import engine as build

        self.profile = profile
        self.timing = timing
        self.engine = engine
        self.transactions: dict[str, Engine] = {
            m: build(m, profile, timing, engine) for m in ("ict", "nict", "ist", "nist")
        }
        self.dialog = cast(DialogEngine, build("dialog", profile, timing, engine))


class Tx:
    """One transaction of a UA: its machine's instance and what the UA knows of it."""

    __slots__ = (
        "accepted_at",
        "call",
        "client",
        "ended",
        "engine",
        "id",
        "inst",
        "key",
        "machine",
        "peer",
        "request",
        "sent",
        "to_tag",
    )

    def __init__(
        self,
        tx_id: str,
        machine: str,
        peer: str,
        call: Call | None,
        engine: Engine,
        inst: Instance,
    ) -> None:
        self.id = tx_id
        self.machine = machine
        self.engine = engine
        self.client = machine in ("ict", "nict")
        self.peer = peer
        self.call = call
        self.inst = inst
        self.request: Request | None = inst.request
        self.key: TransactionKey | None = None  # in the client or server matcher
        self.sent: list[Message] = []
        self.ended = False
        self.to_tag = ""
        self.accepted_at = -1.0  # when an INVITE client transaction got its first 2xx


class Call:
    """A dialog set (one initial INVITE) and the element at the other end."""

    __slots__ = (
        "caller",
        "dset",
        "fixed",
        "id",
        "invite_cseq",
        "labels",
        "local_tag",
        "peer",
        "routes",
        "targets",
    )

    def __init__(
        self,
        call_id: str,
        dset: DialogSet,
        peer: str,
        local_tag: str,
        caller: bool = True,
        invite_cseq: int = 1,
    ) -> None:
        self.id = call_id
        self.dset = dset
        self.peer = peer
        self.local_tag = local_tag
        #: whether this UA sent the initial INVITE (the UAC of the dialogs), and its CSeq
        self.caller = caller
        self.invite_cseq = invite_cseq
        self.labels: dict[int, str] = {}
        #: remote tag -> the dialog's remote target (the Contact URI of the response that
        #: made it, RFC 3261 §12.1.2), when it is not the peer's own URI (a proxy forked)
        self.targets: dict[str, str] = {}
        #: remote tag -> the dialog's route set (RFC 3261 §12.1.1, §12.1.2): Record-Route
        #: values, the next hop first; ``fixed`` the dialogs whose route set no later
        #: response recomputes (the UAS's from the start, the UAC's from the 2xx, §13.2.2.4)
        self.routes: dict[str, tuple[str, ...]] = {}
        self.fixed: set[str] = set()

    def target(self, remote_tag: str) -> str:
        """The remote target URI of the dialog with ``remote_tag`` (§12.1.1, §12.1.2)."""
        return self.targets.get(remote_tag) or f"sip:{self.peer}@{self.peer}.example.com"

    def routed(
        self, remote_tag: str, target: str = ""
    ) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The Request-URI and the Route header field of a request in the dialog with
        ``remote_tag`` (RFC 3261 §12.2.1.1): from its remote target (or ``target``) and its
        route set, loose or strict."""
        routes = self.routes.get(remote_tag)
        remote = target or self.target(remote_tag)
        if not routes:
            return remote, ()
        uri, values = dialog_request(remote, routes)
        return uri, ((ROUTE, ", ".join(values)),)

    def next_hop(self, remote_tag: str) -> str:
        """Where a request in the dialog with ``remote_tag`` goes (RFC 3261 §8.1.2,
        §12.2.1.1): the first element of its route set -- the first Route of a loose
        route set, the Request-URI of a strict one, the same URI -- else its remote
        target."""
        routes = self.routes.get(remote_tag)
        if routes:
            return core.address_of(uri_of(routes[0]))
        if self.targets.get(remote_tag):  # a Contact learnt (`_learn_target`)
            return core.address_of(self.target(remote_tag))
        # the peer's own URI (`target`), whose address depends on the peer alone: worked
        # out once per peer, where parsing it took about 5,000 instructions, twice a call
        found = _PEER_ADDRESSES.get(self.peer)
        if found is None:
            found = core.address_of(self.target(remote_tag))
            if len(_PEER_ADDRESSES) >= _PEERS_KEPT:
                _PEER_ADDRESSES.clear()
            _PEER_ADDRESSES[self.peer] = found
        return found

    def label(self, inst: DialogInstance) -> str:
        found = self.labels.get(id(inst))
        if found is None:
            n = len(self.labels)
            found = f"dialog-{self.id}" + (f".{n}" if n else "")
            self.labels[id(inst)] = found
        return found

    def main(self) -> DialogInstance | None:
        """The dialog a TU means when it says "the call": the one furthest along."""
        best: DialogInstance | None = None
        for inst in self.dset.dialogs.values():
            if best is None or _rank(inst.state) < _rank(best.state):
                best = inst
        return best


def _rank(state: str) -> int:
    return _LIVE.index(state) if state in _LIVE else len(_LIVE)


class _Retransmit:
    """A 2xx the UAS core retransmits until its ACK (RFC 3261 §13.3.1.4)."""

    __slots__ = ("call", "interval", "peer", "response", "start", "tx")

    def __init__(
        self,
        response: Response,
        peer: str,
        call: Call | None,
        start: float,
        interval: float,
        tx: str,
    ) -> None:
        self.tx = tx
        self.response = response
        self.peer = peer
        self.call = call
        self.start = start
        self.interval = interval


class Endpoint:
    """A UA's protocol side, UAC and UAS in one (see the module docstring). ``name`` makes
    its host name (``NAME.example.com``), URI, tags, branches and Call-IDs; ``seed`` and
    ``index`` seed its dialogs' random draws (the §14.1 glare timer); ``reject_code`` is the
    answer to an INVITE whose early dialog must end (§15), ``retry_491`` whether a request
    refused with 491 is sent again when the glare timer fires (§14.1), ``call_id_owner``
    who generated the Call-ID (§14.1; by default the caller)."""

    __slots__ = (
        "_branches",
        "_c",
        "_call_ids",
        "_name",
        "_peer_calls",
        "_recording",
        "_registrations",
        "_tags",
        "_tracking",
        "_tx_ids",
        "acks",
        "byes",
        "call_id_owner",
        "call_list",
        "callee_index",
        "calls",
        "client",
        "errors",
        "held_byes",
        "host",
        "machines",
        "outbound_proxy",
        "outbound_route",
        "profile",
        "reject_code",
        "retransmits",
        "retry_491",
        "seed",
        "server",
        "timing",
        "tu",
        "txs",
        "uri",
    )

    def __init__(
        self,
        name: str,
        machines: Machines,
        tu: TransactionUser | None = None,
        *,
        seed: int = 0,
        index: int = 0,
        reject_code: int = 480,
        retry_491: bool = True,
        call_id_owner: bool | None = None,
        outbound_proxy: str = "",
        outbound_route: bool = False,
    ) -> None:
        self._name = name
        self.host = f"{name}.example.com"
        self.uri = f"sip:{name}@{self.host}"
        self.machines = machines
        self.profile = machines.profile
        self.timing: Timing = machines.timing
        self.tu = tu if tu is not None else TransactionUser()
        self.reject_code = reject_code
        self.retry_491 = retry_491
        self.call_id_owner = call_id_owner
        #: where out-of-dialog requests (but REGISTER) go, the Request-URI naming the peer
        #: (RFC 3261 §8.1.2: an outbound proxy); such a request carries a Contact
        self.outbound_proxy = outbound_proxy
        #: whether the outbound proxy is a pre-existing route set of one URI (RFC 3261
        #: §8.1.1.1, §8.1.2: RECOMMENDED), a Route in those requests; else local policy
        self.outbound_route = outbound_route
        # the seeds of the UA's dialog sets: the run's seed, the UA's place and the call's
        # number packed into one integer (distinct per run, UA and call, below 256
        # elements and 2**20 calls). A dialog seeds its generator with it only if it ever
        # draws (`DialogInstance.rng`), and `random.Random` hashes any seed: nothing is
        # mixed here on every call, as `derive_seed` would.
        self.seed = (seed << 48) | ((index & 0xFF) << 40)
        self.client: Matcher[Tx] = Matcher()
        self.server: Matcher[Tx] = Matcher()
        self.txs: dict[str, Tx] = {}
        self.calls: dict[tuple[str, str], Call] = {}  # (Call-ID, local tag)
        self.call_list: list[Call] = []
        self._peer_calls: dict[str, list[Call]] = {}  # the calls with each peer, in order
        self.callee_index: dict[tuple[str, str], Call] = {}  # (Call-ID, caller's tag)
        self.acks: dict[tuple[str, int, str], Request] = {}
        self.retransmits: dict[tuple[str, int, str], _Retransmit] = {}
        self.byes: set[int] = set()  # dialogs (by id) the core ended with a BYE
        self.held_byes: dict[int, tuple[Call, str]] = {}  # BYEs waiting for the ACK (§15)
        self._registrations: dict[str, tuple[str, int]] = {}  # registrar -> (Call-ID, CSeq)
        # counters of the names this UA makes (branches, tags, Call-IDs, transactions)
        self._branches = self._tags = self._call_ids = self._tx_ids = 0
        self._c: Host  # the host, once started (`start`)
        self._recording = False
        # whether a dialog's change of state matters to anyone (the trace, the script)
        self._tracking = bool(self.tu.dialog_states)

    # -- what happens to an endpoint -----------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def recording(self) -> bool:
        """Whether its host keeps records (texts are built only then)."""
        return self._recording

    def start(self, host: Host) -> None:
        """Run on ``host`` from now on (before anything else is given to the endpoint)."""
        self._c = host
        self._recording = host.recording
        self._tracking = self._recording or bool(self.tu.dialog_states)

    def receive(self, message: Message, src: str) -> None:
        """A message arrived from ``src`` (RFC 3261 §18.2.1, §18.1.2)."""
        if isinstance(message, Request):
            self._request(message, src)
        else:
            self._response(message)

    def timer(self, key: Hashable) -> None:
        """A timer this endpoint set (`Host.set_timer`) fired."""
        ctx = self._c
        k: tuple[Any, ...] = key  # type: ignore[assignment]  # the keys this UA sets
        kind = k[0]
        if kind == "tx":
            tx = self.txs.get(k[1])
            if tx is not None:
                if self._recording:
                    ctx.record("timer", machine=tx.machine, tx=tx.id, timer=k[2])
                self._tx_handle(tx, timer_fired(k[2]))
        elif kind == "2xx":
            self._retransmit_2xx(k[1])
        elif kind == "invite-done":  # RFC 3261 §13.2.2.4 (`_tx_ended`)
            _, call, ended = k
            if self._recording:
                ctx.record("timer", machine="ua-core", tx=f"dialog-{call.id}", timer="64*T1")
            self._dialog_core(call, ended)
        elif kind == "dialog":
            _, call, tag, name = k
            if self._recording:
                ctx.record("timer", machine="dialog", tx=f"dialog-{call.id}", timer=name)
            self._dialog(call, timer_fired(name), tag if tag in call.dset.dialogs else None)

    def final_state(self) -> dict[str, Any]:
        dialogs: dict[str, str] = {}
        for call in self.call_list:
            for inst in call.dset.dialogs.values():
                dialogs[call.label(inst)] = inst.state
        main = self.call_list[-1].main() if self.call_list else None
        return {
            "dialog": main.state if main is not None else "none",
            "dialogs": dialogs,
            "transactions": {t.id: t.inst.state for t in self.txs.values()},
        }

    def live_transactions(self) -> list[str]:
        out = []
        for tx in self.txs.values():
            what = tx.request.summary() if tx.request is not None else "?"
            out.append(f"{tx.id} ({what}) in {tx.inst.state}")
        return out

    def dialog_states(self) -> list[str]:
        """The state of every dialog of this UA, in creation order."""
        return [inst.state for call in self.call_list for inst in call.dset.dialogs.values()]

    # -- names ---------------------------------------------------------------------------------

    def _next_call_id(self) -> int:
        self._call_ids += 1
        return self._call_ids

    def _branch(self) -> str:
        self._branches += 1
        return f"{MAGIC_COOKIE}{self._name}{self._branches}"

    def _tag(self) -> str:
        self._tags += 1
        return f"{self._name}-tag{self._tags}"

    def _body(self, what: str) -> str:
        return f"v=0 o={self._name} {what}"

    def note(self, text: str, rfc: str = "") -> None:
        """A record of what the UA core or its TU did (``tu`` in a trace)."""
        if self._recording:
            self._c.record("tu", text=text, rfc=rfc)

    def _error(self, where: str, text: str) -> None:
        self.tu.error(self, where, text)

    # -- transactions --------------------------------------------------------------------------

    def _tx_create(
        self, machine: str, event: Event, peer: str, call: Call | None, told: Message | None = None
    ) -> Tx:
        self._tx_ids += 1
        engine = self.machines.transactions[machine]
        if type(engine) is TableMachine:  # (a direct call in the compiled build)
            inst, actions = engine.create(event)
        else:
            inst, actions = engine.create(event)
        tx = Tx(f"{machine}-{self._tx_ids}", machine, peer, call, engine, inst)
        self.txs[tx.id] = tx
        assert inst.request is not None
        tx.key = (self.client if tx.client else self.server).add(inst.request, tx)
        self._tx_actions(tx, "", event, actions, told)
        return tx

    def _tx_handle(self, tx: Tx, event: Event) -> bool:
        """Give ``event`` to the transaction; False when the machine refused a message from
        the network (discarded, as RFC 3261 §17 leaves such messages unmatched)."""
        before = tx.inst.state
        try:
            actions = handle_event(tx.engine, tx.inst, event)
        except LocalProtocolError:
            raise
        except ProtocolError as exc:
            self._c.record("discard", machine=tx.machine, tx=tx.id, text=str(exc))
            return False
        self._tx_actions(tx, before, event, actions)
        return True

    def _tx_actions(
        self, tx: Tx, before: str, event: Event, actions: list[Action], told: Message | None = None
    ) -> None:
        ctx = self._c
        new: list[Message] = []
        tell: list[Action] = []  # for the TU, once the sends and timers are done
        ended_before = tx.ended or before == "terminated"
        for a in actions:
            if isinstance(a, SendMessage):
                m = a.message
                retx = m in tx.sent
                if not retx:
                    tx.sent.append(m)
                    if m is not told:
                        new.append(m)
                ctx.send(tx.peer, m, retx, tx.machine, tx.id, ended_before)
            elif isinstance(a, StartTimer):
                ctx.set_timer(("tx", tx.id, a.name), a.seconds)
            elif isinstance(a, StopTimer):
                ctx.cancel_timer(("tx", tx.id, a.name))
            else:
                tell.append(a)
        recording = self._recording
        if recording:  # every step, so the trace shows what was absorbed too
            ctx.record(
                "state",
                machine=tx.machine,
                tx=tx.id,
                state_before=before,
                state_after=tx.inst.state,
                text=describe(event),
                actions=tuple(_action_text(a) for a in actions),
            )
        ended = False
        for a in tell:
            if isinstance(a, ToTU):
                if a.what == "terminated":
                    ended = True
                else:
                    self._from_transaction(tx, a, event)
            elif isinstance(a, ReportOutcome):
                ctx.count(f"{a.direction} {a.code}")
                if not recording:
                    continue
                ctx.record(
                    "outcome",
                    machine=tx.machine,
                    tx=tx.id,
                    code=a.code,
                    rfc=a.rfc,
                    text=f"{a.direction} {a.code} {a.when}",
                )
        if new and tx.call is not None:
            for m in new:
                self._dialog_core(tx.call, MessageSent(m))
        if ended:
            self._tx_ended(tx)

    def _tx_ended(self, tx: Tx) -> None:
        tx.ended = True
        self.txs.pop(tx.id, None)
        key = tx.key
        if key is not None:
            matcher = self.client if tx.client else self.server
            if matcher.find_key(key) is tx:
                matcher.forget(key)
        if tx.call is not None and tx.request is not None:
            role = "client" if tx.client else "server"
            ended = TransactionEnded(tx.request.method, tx.request.cseq, role)
            done = core.invite_completed_at(self.profile, tx.accepted_at, self.timing)
            if done >= 0:  # RFC 3261 §13.2.2.4: 64*T1 after the first 2xx (rfc3261 only)
                self._c.set_timer(("invite-done", tx.call, ended), max(done - self._c.now, 0.0))
                return
            self._dialog_core(tx.call, ended)

    def _from_transaction(self, tx: Tx, tu: ToTU, event: Event) -> None:
        """What a transaction tells the TU (``terminated`` is handled by the caller) when
        it took ``event``."""
        what = tu.what
        if what == "response":
            response = cast(Response, tu.message)
            if tx.machine == "ict" and tx.accepted_at < 0 and 200 <= response.status < 300:
                tx.accepted_at = self._c.now
            # a CANCEL's responses are none of the dialog's (RFC 5407 Appendix C: "CANCEL
            # does not have any influence on the UAC's dialog state")
            if tx.call is not None and response.method != "CANCEL":
                _learn_target(tx.call, response)
                _learn_route(tx.call, response)
                if not (type(event) is ResponseReceived and event.message is response):
                    event = ResponseReceived(response)  # else the same value, shown again
                self._dialog(tx.call, event)
            self.tu.response(self, response)
        elif what == "send_cancel":
            self._send_cancel(tx)
        elif what == "ack":  # an ACK that matched an accepted INVITE (RFC 6026 §8.7)
            self._ack(cast(Request, tu.message))
        elif what in ("timeout", "cancelled", "transport_error"):
            method = tx.request.method if tx.request is not None else ""
            if self._recording:
                self.note(f"{tx.id}: {what} ({method})")
            self.tu.event(self, what, method)
        # "request": the UA core tells the TU itself, after the dialog had its say

    # -- dialogs -------------------------------------------------------------------------------

    def _dialog_step(self, call: Call, event: Event, tag: str | None) -> list[Routed] | None:
        """The dialog set's answer to ``event`` (it starts with the first one); None when
        it refused a network message, which is recorded as a discard."""
        dset = call.dset
        try:
            return dset.handle(event, tag) if dset.dialogs else dset.start(event)
        except LocalProtocolError:
            raise
        except ProtocolError as exc:
            self._c.record("discard", machine="dialog", tx=f"dialog-{call.id}", text=str(exc))
            return None

    def _dialog_handle(self, call: Call, event: Event, tag: str | None = None) -> list[Routed]:
        """Give ``event`` to the dialog set, record its dialogs' changes, return its
        actions. A `RemoteProtocolError` (a network message the dialog has no arrow for)
        is recorded as a discard and yields nothing; a `LocalProtocolError` propagates."""
        dset = call.dset
        dialogs = dset.dialogs
        if not self._tracking:  # nobody reads the states: only the held BYEs matter
            routed = self._dialog_step(call, event, tag)
            if routed is None:
                return []
            if self.held_byes:
                self._release_byes(call)
            return routed
        # the dialogs' states before, by id (most dialog sets hold one dialog)
        only: DialogInstance | None = None
        only_state = ""
        before: dict[int, str] | None = None
        if len(dialogs) == 1:
            for only in dialogs.values():
                only_state = only.state
        elif dialogs:
            before = {id(d): d.state for d in dialogs.values()}
        routed = self._dialog_step(call, event, tag)
        if routed is None:
            return []
        if self._recording:
            if before is None:
                before = {id(only): only_state} if only is not None else {}
            self._dialog_changes(call, before, event, routed)
            return routed
        # not recording: only what the core and the script act on
        changed: list[str] = []
        if self.tu.dialog_states:
            if before is None and len(dialogs) == 1:
                for inst in dialogs.values():
                    if inst is not only or inst.state != only_state:
                        changed.append(inst.state)
            else:
                if before is None:
                    before = {id(only): only_state} if only is not None else {}
                changed = [d.state for d in dialogs.values() if before.get(id(d), "") != d.state]
        if self.held_byes:
            self._release_byes(call)
        if changed:
            self._dialog_steps(changed)
        return routed

    def _dialog_changes(
        self, call: Call, before: dict[int, str], event: Event, routed: list[Routed]
    ) -> None:
        ctx = self._c
        changed: list[str] = []
        recorded = False
        dialogs = call.dset.dialogs
        for inst in dialogs.values():
            old = before.get(id(inst), "")
            if old != inst.state:
                changed.append(inst.state)
            acts = tuple(_action_text(a) for t, a in routed if t == inst.remote_tag)
            # a dialog that changed or acted; else the only dialog, which took the event
            if old != inst.state or acts or (len(dialogs) == 1 and not recorded):
                recorded = True
                ctx.record(
                    "state",
                    machine="dialog",
                    tx=call.label(inst),
                    state_before=old,
                    state_after=inst.state,
                    text=describe(event),
                    actions=acts,
                )
        if self.held_byes:
            self._release_byes(call)
        self._dialog_steps(changed)

    def _release_byes(self, call: Call) -> None:
        """Send the BYEs held until their dialog left Moratorium (RFC 3261 §15)."""
        for inst in list(call.dset.dialogs.values()):
            if inst.state != "moratorium" and id(inst) in self.held_byes:
                held_call, rfc = self.held_byes.pop(id(inst))
                self._core_bye(held_call, inst.remote_tag, rfc)

    def _dialog_steps(self, changed: list[str]) -> None:
        """Tell the TU of the dialog states just entered that it waits for."""
        tu = self.tu
        waits = tu.dialog_states
        for state in changed:
            if state in waits:
                tu.dialog(self, state)

    def _dialog(self, call: Call, event: Event, tag: str | None = None) -> None:
        """An event from the network or a timer: discards are recorded, actions run."""
        routed = self._dialog_handle(call, event, tag)
        if routed:
            self._dialog_actions(call, routed)

    def _dialog_core(self, call: Call, event: Event) -> None:
        """An event the UA core caused (a message a transaction sent, a transaction that
        ended): the dialog refusing it is a bug, reported as an error of the UA core."""
        try:
            routed = self._dialog_handle(call, event)
        except LocalProtocolError as exc:
            self._error("UA core", str(exc))
            return
        if routed:
            self._dialog_actions(call, routed)

    def _dialog_actions(self, call: Call, routed: list[Routed]) -> None:
        ctx = self._c
        for tag, a in routed:
            if isinstance(a, StartTimer):
                ctx.set_timer(("dialog", call, tag, a.name), a.seconds)
            elif isinstance(a, StopTimer):
                ctx.cancel_timer(("dialog", call, tag, a.name))
            elif isinstance(a, ToTU):
                self._from_dialog(call, tag, a)
            elif isinstance(a, Respond):
                self._core_respond(a)
            elif isinstance(a, ReportOutcome):
                ctx.count(f"{a.direction} {a.code}")
                if not self._recording:
                    continue
                ctx.record(
                    "outcome",
                    machine="dialog",
                    tx=f"dialog-{call.id}",
                    code=a.code,
                    rfc=a.rfc,
                    text=f"{a.direction} {a.code} {a.when}",
                )

    def _from_dialog(self, call: Call, tag: str, tu: ToTU) -> None:
        what = tu.what
        if what == "send_ack":
            self._send_ack(call, cast(Response, tu.message))
        elif what == "send_bye":
            self._core_bye(call, tag, "RFC 3261 §12.2.1.2")
        elif what == "end_fork":  # a 2xx from another fork, ACKed: end its dialog
            self._core_bye(call, tag, "RFC 3261 §13.2.2.4")
        elif what == "reject_invite":
            self._reject_invite(call)
        elif what == "retry":
            self._retry(call, tag, cast(Request | None, tu.message))
        elif what == "terminated" and self._recording:
            self.note(f"dialog-{call.id} ({tag}) ended")

    # -- receiving -----------------------------------------------------------------------------

    def _response(self, response: Response) -> None:
        tx = self.client.find(response)
        if tx is not None:
            self._tx_handle(tx, ResponseReceived(response))
            return
        if self.profile == "rfc6026":
            self._c.record(
                "discard",
                text=f"{response.summary()} matches no client transaction: dropped",
                rfc="RFC 6026 §8.9",
            )
            return
        # RFC 3261 §18.1.2: passed to the UA core (a 2xx retransmission after the INVITE
        # client transaction ended with the first 2xx)
        call = self.calls.get((response.call_id, response.from_tag))
        if call is None:
            self._c.record(
                "discard",
                text=f"{response.summary()} matches no transaction and no dialog",
                rfc="RFC 3261 §18.1.2",
            )
            return
        self.note(
            f"{response.summary()} matches no transaction: to the UA core", "RFC 3261 §18.1.2"
        )
        _learn_target(call, response)
        _learn_route(call, response)
        self._dialog(call, ResponseReceived(response))

    def _request(self, request: Request, src: str) -> None:
        received = RequestReceived(request)  # for the transaction, and the dialog first
        tx = self.server.find(request)
        if tx is not None:
            self._tx_handle(tx, received)
            return
        if request.method == "ACK":
            self._ack(request, received)
            return
        if request.method == "CANCEL":
            self._cancel_received(request, src, received)
            return
        call = self._call_for(request)
        routed: list[Routed] = []
        answers: list[Respond] = []
        if call is not None:
            try:
                routed = self._dialog_handle(call, received)
            except LocalProtocolError as exc:  # cannot happen for a received message
                self._error("UA core", str(exc))
                return
            answers = [a for _, a in routed if isinstance(a, Respond) and a.request is request]
            if not answers and not self._tracked(call, request):
                self._c.record(
                    "discard",
                    text=f"{request.summary()} is the initial INVITE again: absorbed by the dialog",
                    rfc="RFC 5407 §3.1.1",
                )
                return
        elif request.to_tag or request.method == "BYE":
            answers = core.respond_unmatched(request)
        elif request.method == "INVITE":
            contact = request.header("Contact")  # §12.1.1: the remote target
            peer = core.address_of(contact) if contact else src
            call = self._new_call(request.call_id, peer, request, received=True)
            _learn_uas_route(call, request, contact)
            try:
                routed = self._dialog_handle(call, received)
            except LocalProtocolError as exc:
                self._error("UA core", str(exc))
                return
        bound = call if call is not None and self._in_dialog(call, request) else None
        machine = machine_for(request.method, "server")
        tx = self._tx_create(machine, received, src, bound)
        if request.to_tag:
            tx.to_tag = request.to_tag
        elif bound is not None and request.method == "INVITE":
            tx.to_tag = bound.local_tag
        else:
            tx.to_tag = self._tag()
        if bound is not None:
            self._dialog_actions(bound, routed)
        for answer in answers if bound is None else ():
            self._core_respond(answer)
        self._to_tu(tx, request, answered=bool(answers))

    def _call_for(self, request: Request) -> Call | None:
        if request.to_tag:
            return self.calls.get((request.call_id, request.to_tag))
        if request.method == "INVITE":
            return self.callee_index.get((request.call_id, request.from_tag))
        return None

    @staticmethod
    def _tracked(call: Call, request: Request) -> bool:
        return call.dset.tracks("server", request.method, request.cseq)

    @staticmethod
    def _in_dialog(call: Call, request: Request) -> bool:
        return core.dialog_id(request, received=True).remote_tag in call.dset.dialogs

    def _to_tu(self, tx: Tx, request: Request, answered: bool) -> None:
        self.tu.request(self, tx, request, answered)

    def _ack(self, ack: Request, received: RequestReceived | None = None) -> None:
        """An ACK for a 2xx reached the UA core (RFC 3261 §13.3.1.4, §17.2.3: its branch is
        new, so it matches no transaction); ``received`` is its event, if made already."""
        self._stop_retransmit((ack.call_id, ack.cseq, ack.to_tag))
        call = self.calls.get((ack.call_id, ack.to_tag))
        if call is None:
            core.respond_unmatched(ack)  # absorbed: an ACK is never answered
            self._c.record(
                "discard",
                text=f"{ack.summary()} matches no dialog: absorbed",
                rfc="RFC 3261 §17.1.1.3",
            )
            return
        self._dialog(call, received if received is not None else RequestReceived(ack))
        self.tu.ack(self, ack)

    def _cancel_received(self, cancel: Request, src: str, received: RequestReceived) -> None:
        """RFC 3261 §9.2: the UA core answers a CANCEL from its server transactions."""
        target = self.server.find_cancelled(cancel)
        call = target.call if target is not None else None
        if call is None and not cancel.to_tag:
            call = self.callee_index.get((cancel.call_id, cancel.from_tag))
        tx = self._tx_create(
            "nist",
            received,
            src,
            call if call is not None and self._in_dialog(call, cancel) else None,
        )
        tx.to_tag = cancel.to_tag or (target.to_tag if target is not None else self._tag())
        if tx.call is not None:
            self._dialog(tx.call, received)
        live = [target.inst] if target is not None and not target.ended else []
        for answer in core.handle_cancel(cancel, live):
            self._core_respond(answer)
        self.tu.cancel(self, cancel, tx)

    # -- responding ----------------------------------------------------------------------------

    def _core_respond(self, answer: Respond) -> None:
        """An answer the dialog layer or the UA core decided."""
        tx = self.server.find(answer.request)
        if tx is None or tx.ended:
            self.note(
                f"cannot answer {answer.request.summary()} with {answer.status}: its "
                "transaction has ended"
            )
            return
        if self._recording:
            self.note(f"UA core answers {answer.request.method} with {answer.status}", answer.rfc)
        self.respond(tx, answer.status, False, answer.headers, "", True)

    def respond(
        self,
        tx: Tx,
        code: int,
        body: bool | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        reason: str = "",
        omit_required: bool = False,
        where: str = "UA core",
    ) -> None:
        """Answer the request of the server transaction ``tx`` with ``code`` (the TU's
        answer, or one the UA core decided). ``body``: whether it carries SDP (by default a
        2xx to INVITE does, §13.3.1.4); a 4xx gets the header fields the catalogue requires
        (§21.4) unless ``omit_required``. A refusal is reported as an error of ``where``."""
        request = tx.request
        assert request is not None
        if tx.ended or core.has_final_response(tx.inst):
            if self._recording:
                self.note(f"does not send {code}: {request.summary()} was already answered")
            return
        if body is None:  # RFC 3261 §13.3.1.4: a 2xx to INVITE carries the answer or offer
            body = (200 <= code < 300 and request.method == "INVITE") or (
                200 <= code < 300 and bool(request.body)
            )
        if 400 <= code <= 499 and not omit_required:
            headers = headers + self._required_headers(code, headers, request)
        if 100 < code < 300 and request.method == "INVITE" and request.headers:
            if request.header("Contact"):
                headers = (*headers, ("Contact", f"<{self.uri}>"))  # §12.1.1: remote target
            # §12.1.1: a response that may establish the dialog carries every Record-Route
            # of the request, in order, as it was (RFC 3261 §16.6 step 4: its URIs say
            # where in-dialog requests go)
            if request.header(RECORD_ROUTE) is not None:
                headers = (*headers, *(h for h in request.headers if _is_record_route(h[0])))
        response = response_to(
            request,
            code,
            reason=reason or None,
            to_tag=request.to_tag if code == 100 else tx.to_tag,
            headers=headers,
            body=self._body("answer" if request.body else "offer") if body else "",
        )
        before = tx.inst.state
        event = TUResponse(response)
        try:
            actions = handle_event(tx.engine, tx.inst, event)
        except LocalProtocolError as exc:
            self._error(where, str(exc))
            return
        self._tx_actions(tx, before, event, actions)
        if (
            request.method == "INVITE"
            and 200 <= code < 300
            and any(isinstance(a, SendMessage) and a.message is response for a in actions)
        ):
            self._start_retransmit(tx, response)

    def _required_headers(
        self, code: int, headers: tuple[tuple[str, str], ...], request: Request
    ) -> tuple[tuple[str, str], ...]:
        """The header fields the catalogue requires in ``code`` and ``headers`` lacks."""
        out = []
        for name in missing_headers(code, [n for n, _ in headers]):
            if name.startswith("one of "):
                name = name[len("one of ") :].split(",")[0].strip()
            value = HEADER_VALUES.get(name, "")
            value = value.format(host=self.host, require=request.header("Require") or "foo")
            if name == "Allow" and code == 405:
                # §8.2.1: Allow lists the methods the UAS supports, so not the one it refused
                value = ", ".join(m for m in value.split(", ") if m != request.method)
            out.append((name, value))
        return tuple(out)

    def _reject_invite(self, call: Call) -> None:
        """RFC 3261 §15: the callee ends an early dialog with a non-2xx to the INVITE."""
        for tx in list(self.txs.values()):
            if tx.call is call and tx.machine == "ist" and not core.has_final_response(tx.inst):
                self.note(
                    f"UA core rejects the INVITE with {self.reject_code}", "RFC 3261 §15"
                )
                self.respond(tx, self.reject_code, False)
                return

    # -- the UAS core's 2xx retransmission (RFC 3261 §13.3.1.4) --------------------------------

    def _start_retransmit(self, tx: Tx, response: Response) -> None:
        key = (response.call_id, response.cseq, response.to_tag)
        interval = self.timing.t1
        self.retransmits[key] = _Retransmit(
            response, tx.peer, tx.call, self._c.now, interval, tx.id
        )
        self._c.set_timer(("2xx", key), interval)

    def _stop_retransmit(self, key: tuple[str, int, str]) -> None:
        if self.retransmits.pop(key, None) is not None:
            self._c.cancel_timer(("2xx", key))

    def _retransmit_2xx(self, key: tuple[str, int, str]) -> None:
        r = self.retransmits.get(key)
        if r is None:
            return
        ctx = self._c
        inst = self._dialog_of(r.call, r.response)
        if inst is not None and inst.state == "morgue":
            del self.retransmits[key]
            return
        left = r.start + self.timing.value("64*T1") - ctx.now
        if left < _EPSILON:
            del self.retransmits[key]
            if self._recording:
                self.note(f"no ACK for {r.response.summary()} after 64*T1", "RFC 3261 §13.3.1.4")
            if r.call is not None and inst is not None:
                if inst.state == "moratorium" and r.response.cseq == inst.initial_cseq:
                    self._core_bye(r.call, inst.remote_tag, "RFC 3261 §13.3.1.4")
                elif r.response.cseq != inst.initial_cseq:
                    # "If a UAS generates a 2xx response and never receives an ACK, it
                    # SHOULD generate a BYE to terminate the dialog" (the re-INVITE)
                    self._core_bye(r.call, inst.remote_tag, "RFC 3261 §14.2")
            return
        if self._recording:
            ctx.record("timer", machine="ua-core", tx=r.tx, timer="2xx")
        ctx.send(r.peer, r.response, retransmission=True, machine="ua-core", tx=r.tx)
        if r.call is not None:
            self._dialog_core(r.call, MessageSent(r.response))
        r.interval = min(r.interval * 2, self.timing.t2)
        ctx.set_timer(("2xx", key), min(r.interval, left))

    @staticmethod
    def _dialog_of(call: Call | None, message: Message) -> DialogInstance | None:
        if call is None:
            return None
        remote = message.from_tag if isinstance(message, Response) else message.to_tag
        return call.dset.dialogs.get(remote)

    # -- sending -------------------------------------------------------------------------------

    def _new_call(self, call_id: str, peer: str, request: Request, *, received: bool) -> Call:
        n = len(self.call_list) + 1
        dset = DialogSet(
            self.machines.dialog,
            seed=self.seed | ((n & 0xFFFFF) << 20),
            call_id_owner=self.call_id_owner,
        )
        tag = self._tag() if received else request.from_tag
        call = Call(str(n), dset, peer, tag, not received, request.cseq)
        self.call_list.append(call)
        self._peer_calls.setdefault(peer, []).append(call)
        self.calls[(call_id, tag)] = call
        if received:
            self.callee_index[(call_id, request.from_tag)] = call
        return call

    def _live_dialog(self, peer: str) -> tuple[Call, DialogInstance] | None:
        """The latest call with ``peer`` whose dialog is live, and that dialog."""
        for call in reversed(self._peer_calls.get(peer, ())):
            inst = call.main()
            if inst is not None and inst.state in _LIVE:
                return call, inst
        return None

    def _refuse_second_call(self, peer: str) -> None:
        """A TU's INVITE to ``peer`` while its own initial INVITE to ``peer`` is still in
        progress with no dialog (every response lost, say) is not a new call: it meant a
        re-INVITE, which needs a dialog (RFC 3261 §14.1). `new_call` asks for a second call."""
        for call in reversed(self._peer_calls.get(peer, ())):
            pending = [
                tx.request
                for tx in self.txs.values()
                if tx.call is call
                and tx.machine == "ict"
                and tx.request is not None
                and not tx.request.to_tag
            ]
            inst = call.main()
            if pending and (inst is None or inst.state not in _LIVE):
                raise LocalProtocolError(
                    "UA core",
                    self.profile,
                    "(no dialog)",
                    f"INVITE to {peer}",
                    f"the INVITE to {peer} ({pending[0].summary()}) is still in "
                    "progress with no dialog yet, so there is none to send a re-INVITE in "
                    "(RFC 3261 §14.1); say new_call: true to start a second call",
                )

    def send_request(
        self,
        method: str,
        peer: str,
        *,
        body: bool,
        headers: tuple[tuple[str, str], ...] = (),
        out_of_dialog: bool = False,
        new_call: bool = False,
        to_tag: str = "",
    ) -> None:
        """Send a request the TU asked for. Raises `LocalProtocolError` if the dialog refuses
        it (the caller reports it)."""
        peer_uri = f"sip:{peer}@{peer}.example.com"
        found = None
        if not out_of_dialog and not new_call and method not in OUT_OF_DIALOG_ONLY:
            found = self._live_dialog(peer)
        if found is None and method == "INVITE" and not (out_of_dialog or new_call or to_tag):
            self._refuse_second_call(peer)
        if found is None and method in IN_DIALOG_ONLY and not out_of_dialog:
            raise LocalProtocolError(
                "UA core",
                self.profile,
                "(no dialog)",
                f"{method} to {peer}",
                f"there is no dialog with {peer} to send {method} in "
                "(RFC 3261 §12.2.1.1); say out_of_dialog: true to send "
                "one anyway",
            )
        body_text = self._body("offer") if body else ""
        if found is not None:
            call, inst = found
            # §12.2.1.1: the remote target and the route set make the Request-URI and Route
            uri, route = call.routed(inst.remote_tag)
            request = Request(
                method,
                uri=uri,
                call_id=inst.call_id,
                cseq=(inst.local_cseq or 0) + 1,
                from_tag=inst.local_tag,
                to_tag=inst.remote_tag,
                branch=self._branch(),
                sent_by=self.host,
                headers=(*route, *headers) if route else headers,
                body=body_text,
            )
            self._send_in_call(call, request)
            return
        uri = f"sip:{peer}.example.com" if method == "REGISTER" else peer_uri
        cseq = 1
        if method == "REGISTER" and peer in self._registrations:
            # §10.2: registrations to one registrar share a Call-ID, CSeq going up by one
            call_id, cseq = self._registrations[peer]
            cseq += 1
        else:
            call_id = f"{self._next_call_id()}-{self._name}@{self.host}"
        if method == "REGISTER":
            self._registrations[peer] = (call_id, cseq)
        hop = peer if method == "REGISTER" else self.outbound_proxy or peer
        if hop != peer and method == "INVITE":  # §8.1.1.8: where the callee reaches us
            headers = (*headers, ("Contact", f"<{self.uri}>"))
        if hop != peer and self.outbound_route:
            # §8.1.1.1: the pre-existing route set (the outbound proxy, a loose router) is
            # the Route, the Request-URI still the callee's (§12.2.1.1 applied outside a dialog)
            headers = ((ROUTE, f"<sip:{hop}.example.com;lr>"), *headers)
        request = Request(
            method,
            uri=uri,
            call_id=call_id,
            cseq=cseq,
            from_tag=self._tag(),
            to_tag=to_tag,
            branch=self._branch(),
            sent_by=self.host,
            headers=headers,
            body=body_text,
        )
        if method == "INVITE" and not to_tag:
            call = self._new_call(call_id, peer, request, received=False)
            self._send_in_call(call, request)
            return
        self._tx_create(machine_for(method, "client"), TURequest(request), hop, None, request)

    def _hop(self, call: Call, request: Request) -> str:
        """Where a request of ``call`` goes: in a dialog, the first element of its route
        set, else its remote target (§12.2.1.1, §8.1.2); outside one, the outbound proxy if
        there is one (§8.1.2), else the peer."""
        if request.to_tag:
            return call.next_hop(request.to_tag)
        return self.outbound_proxy or call.peer

    def _send_in_call(self, call: Call, request: Request, hop: str = "") -> None:
        routed = self._dialog_handle(call, MessageSent(request))  # may refuse (§14.1 ...)
        self._tx_create(
            machine_for(request.method, "client"),
            TURequest(request),
            hop or self._hop(call, request),
            call,
            request,
        )
        self._dialog_actions(call, routed)

    def _send_cancel(self, ict: Tx) -> None:
        """RFC 3261 §9.1: the CANCEL the INVITE client transaction asked for."""
        assert ict.request is not None
        cancel = cancel_for(ict.request)
        if self._recording:
            self.note(f"sends CANCEL for {ict.request.summary()}", "RFC 3261 §9.1")
        if ict.call is not None:
            try:
                # §9.1: the CANCEL goes where the request it cancels went
                self._send_in_call(ict.call, cancel, ict.peer)
            except LocalProtocolError as exc:
                self._error("UA core", str(exc))
            return
        self._tx_create("nict", TURequest(cancel), ict.peer, None, cancel)

    def cancel(self, peer: str, out_of_dialog: bool = False) -> None:
        """The TU cancels its INVITE in progress to ``peer`` (RFC 3261 §9.1); with
        ``out_of_dialog``, sends a CANCEL for an INVITE that was never sent (§9.2: 481)."""
        if out_of_dialog:  # a CANCEL for an INVITE that was never sent (RFC 3261 §9.2: 481)
            n = self._next_call_id()
            invite = Request(
                "INVITE",
                uri=f"sip:{peer}@{peer}.example.com",
                call_id=f"{n}-{self._name}@{self.host}",
                cseq=1,
                from_tag=self._tag(),
                to_tag="",
                branch=self._branch(),
                sent_by=self.host,
            )
            cancel = cancel_for(invite)
            hop = self.outbound_proxy or peer
            self._tx_create("nict", TURequest(cancel), hop, None, cancel)
            return
        for tx in reversed(list(self.txs.values())):
            to = tx.call.peer if tx.call is not None else tx.peer
            if tx.machine == "ict" and to == peer and not tx.ended:
                self._tx_handle(tx, TUCancel())
                return
        if self._recording:
            self.note(f"nothing to cancel: no INVITE to {peer} is in progress", "RFC 3261 §9.1")

    def _send_ack(self, call: Call, response: Response) -> None:
        """RFC 3261 §13.2.2.4: the ACK of a 2xx, built once and sent for every copy."""
        key = (response.call_id, response.cseq, response.to_tag)
        ack = self.acks.get(key)
        if ack is None:
            invite = self._invite_of(call, response)
            offer_in_2xx = bool(response.body) and invite is not None and not invite.body
            # §13.2.2.4: built as any request in the dialog (§12.2.1.1: the remote target
            # and the route set make its Request-URI and Route)
            uri, route = call.routed(
                response.to_tag,
                call.targets.get(response.to_tag)
                or (invite.uri if invite is not None else call.target(response.to_tag)),
            )
            ack = Request(
                "ACK",
                uri=uri,
                call_id=response.call_id,
                cseq=response.cseq,
                from_tag=response.from_tag,
                to_tag=response.to_tag,
                branch=self._branch(),
                sent_by=self.host,
                headers=route,
                body=self._body("answer") if offer_in_2xx else "",
            )
            self.acks[key] = ack
            retx = False
        else:
            retx = True
        self._c.send(
            self._hop(call, ack), ack, retransmission=retx, machine="ua-core", tx="ack"
        )
        self._dialog_core(call, MessageSent(ack))

    def _invite_of(self, call: Call, response: Response) -> Request | None:
        """The INVITE a 2xx answers: its client transaction's request (the ACK is built
        while the transaction still exists), else the initial INVITE of the call."""
        tx = self.client.find(response)
        if tx is not None and tx.request is not None:
            return tx.request
        inst = call.main()
        if inst is not None and inst.request is not None and inst.request.cseq == response.cseq:
            return inst.request
        return None

    def _core_bye(self, call: Call, tag: str, rfc: str) -> None:
        """End the session with a BYE, as the dialog (or §13.3.1.4) advises. A callee in
        Moratorium MUST NOT send it before the ACK or the end of the INVITE server
        transaction (RFC 3261 §15): the dialog refuses it then, and the BYE is held until
        the dialog leaves Moratorium."""
        inst = call.dset.dialogs.get(tag) or call.main()
        if inst is None or id(inst) in self.byes or inst.state not in _LIVE:
            return
        uri, route = call.routed(inst.remote_tag)  # §12.2.1.1
        request = Request(
            "BYE",
            uri=uri,
            call_id=inst.call_id,
            cseq=(inst.local_cseq or 0) + 1,
            from_tag=inst.local_tag,
            to_tag=inst.remote_tag,
            branch=self._branch(),
            sent_by=self.host,
            headers=route,
        )
        # this BYE stands for one held until now: showing it to the dialog may move the
        # dialog on, which must not release the held one too (one BYE per dialog)
        self.held_byes.pop(id(inst), None)
        try:
            routed = self._dialog_handle(call, MessageSent(request))
        except LocalProtocolError as exc:
            if inst.state == "moratorium":
                self.held_byes[id(inst)] = (call, rfc)
                self.note("UA core holds the BYE until the ACK", "RFC 3261 §15")
            else:
                self._error("UA core", str(exc))
            return
        self.byes.add(id(inst))
        self.note("UA core ends the session with a BYE", rfc)
        self._tx_create("nict", TURequest(request), self._hop(call, request), call, request)
        self._dialog_actions(call, routed)

    def _retry(self, call: Call, tag: str, refused: Request | None) -> None:
        """RFC 3261 §14.1: the glare timer fired; try the refused request once more."""
        if refused is None or not self.retry_491:
            return
        inst = call.dset.dialogs.get(tag) or call.main()
        if inst is None:
            return
        request = replace(refused, cseq=(inst.local_cseq or 0) + 1, branch=self._branch())
        self._c.count("retry after 491")
        if self._recording:
            self.note(f"retries {refused.method} after 491", "RFC 3261 §14.1")
        try:
            self._send_in_call(call, request)
        except LocalProtocolError as exc:
            if self._recording:
                self.note(f"retry of {refused.method} not sent: {exc}", "RFC 3261 §14.1")


def _is_record_route(name: str) -> bool:
    return name.lower() == "record-route"


def _learn_uas_route(call: Call, invite: Request, contact: str | None) -> None:
    """RFC 3261 §12.1.1: the UAS's remote target is the Contact of the INVITE, its route
    set the INVITE's Record-Route in order; neither later requests nor responses change
    the route set (§12.2)."""
    tag = invite.from_tag
    if contact:
        call.targets[tag] = uri_of(contact)
    routes = route_set_uas(invite.headers) if invite.headers else ()
    if routes:
        call.routes[tag] = routes
    call.fixed.add(tag)


def _learn_route(call: Call, response: Response) -> None:
    """RFC 3261 §12.1.2: a 101-299 to the initial INVITE that makes a dialog gives the
    UAC its route set, the Record-Route reversed; the first 2xx recomputes it (§13.2.2.4),
    and from then on it is fixed: a 2xx to a re-INVITE (a target refresh) changes the
    remote target only (§12.2)."""
    tag = response.to_tag
    if (
        not call.caller
        or not tag
        or response.cseq != call.invite_cseq
        or response.method != "INVITE"
        or not 100 < response.status < 300
        or tag in call.fixed
    ):
        return
    routes = route_set_uac(response.headers) if response.headers else ()
    if routes:
        call.routes[tag] = routes
    else:
        call.routes.pop(tag, None)
    if response.status >= 200:
        call.fixed.add(tag)


def _learn_target(call: Call, response: Response) -> None:
    """RFC 3261 §12.1.2: a response that makes a dialog gives its remote target (Contact)."""
    contact = response.header("Contact") if response.to_tag and response.status > 100 else None
    if contact:
        call.targets[response.to_tag] = contact.strip("<>")


def _action_text(action: Action) -> str:
    """A short text of an action for the trace."""
    kind = type(action)
    if kind is SendMessage:
        return f"send {cast(SendMessage, action).message.summary()}"
    if kind is StartTimer:
        st = cast(StartTimer, action)
        return f"start Timer {st.name} ({st.seconds:g} s)"
    if kind is StopTimer:
        return f"stop Timer {cast(StopTimer, action).name}"
    if kind is ToTU:
        return f"{cast(ToTU, action).what} to TU"
    if kind is Respond:
        r = cast(Respond, action)
        return f"respond {r.status} to {r.request.method}"
    if kind is ReportOutcome:
        return f"outcome {cast(ReportOutcome, action).code}"
    return type(action).__name__
