"""The dialog set of a user agent: one `sipfsm.machines.dialog` instance per dialog that an
initial INVITE creates (a new one per new To tag: forking, RFC 5407 Appendix E), and the
UA core's answer to a request that matches none (§12.2.2: 481).

Imports: the layers below (`values` ... `engine`) and this package.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from sipfsm.decl.language import (
    MachineDecl,
)
from sipfsm.decl.timers import DEFAULT_TIMING, Timing
from sipfsm.elements import core
from sipfsm.engine.runtime import TableMachine, handle_event, start_instance
from sipfsm.machines.dialog import MACHINE_ID, DialogInstance, declare, initial_side
from sipfsm.values.errors import LocalProtocolError, RemoteProtocolError, UnknownName
from sipfsm.values.events import Action as RuntimeAction
from sipfsm.values.events import (
    Event,
    MessageSent,
    RequestReceived,
    ResponseReceived,
    TimerFired,
    ToTU,
    TransactionEnded,
    TransportError,
    TUCancel,
    TURequest,
    TUResponse,
    describe,
)
from sipfsm.values.message import Request


def machine(profile: str = "rfc6026", timing: Timing = DEFAULT_TIMING) -> TableMachine:
    """The table engine of the dialog in ``profile``."""
    return TableMachine(declare(profile), timing, factory=DialogInstance)


# -- the dialog set: forking (RFC 5407 Appendix E) and unmatched requests (§12.2.2) -----------


class DialogEngine(Protocol):
    """What `DialogSet` needs of an engine (`TableMachine` or the reference engine)."""

    decl: MachineDecl

    def start(self, inst: Any, event: Event) -> list[RuntimeAction]: ...

    def handle(self, inst: Any, event: Event) -> list[RuntimeAction]: ...


#: An action of a dialog set, with the remote tag of the dialog it comes from.
Routed = tuple[str, RuntimeAction]

#: The dialog set's advice to end a dialog that a 2xx from another fork confirmed after the
#: first (RFC 3261 §13.2.2.4; `DialogSet._another_fork`).
END_FORK: Final = ToTU("end_fork")


class DialogSet:
    """The dialogs of one Call-ID and local tag: those one initial INVITE creates.

    ``start`` takes the initial INVITE (sent: the caller; received: the callee). ``handle``
    routes every later event to the dialog of its remote tag (RFC 3261 §12: the To tag of
    a response or of a request we send, the From tag of a request we receive) and returns
    the actions as ``(remote tag, action)`` pairs. A 1xx or 2xx to the initial INVITE with
    a new To tag creates a new dialog instance (forking, RFC 5407 Appendix E; RFC 3261
    §13.2.2.4): the first tag is taken by the dialog that sent the INVITE, every other one
    by a new instance that replays the INVITE. A 3xx-6xx to the initial INVITE ends every
    early dialog (§13.2.2.3). A 2xx that confirms a dialog after another 2xx confirmed the
    first comes with the advice ``end_fork`` for it (§13.2.2.4: ACK it, then BYE). A
    received request whose tags name no dialog is answered by
    the UA core (`sipfsm.elements.core.respond_unmatched`: 481, §12.2.2 and §15.1.2).

    Events without a message (`TimerFired`, `TransactionEnded`) name their dialog with
    ``tag``; without it they go to the dialogs they concern (every dialog for the initial
    INVITE's transaction; the one running the timer or tracking the transaction).
    """

    def __init__(
        self,
        engine: DialogEngine | None = None,
        *,
        profile: str = "rfc6026",
        timing: Timing = DEFAULT_TIMING,
        seed: int = 0,
        call_id_owner: bool | None = None,
    ) -> None:
        self.engine: DialogEngine = engine if engine is not None else machine(profile, timing)
        self.seed = seed
        self.call_id_owner = call_id_owner
        self.dialogs: dict[str, DialogInstance] = {}
        self.role = ""
        self.call_id = ""
        self.local_tag = ""
        self._creation: Event | None = None
        self._created = 0
        # what every dialog of the set shares (they all start from the initial INVITE):
        # its CSeq number and the side of its transaction here, read on every event
        self._initial_cseq = -1
        self._initial_side = ""
        #: the remote tag of the first dialog a 2xx to the initial INVITE confirmed
        self.first_confirmed: str | None = None

    # -- creating ------------------------------------------------------------------------------

    def _new_instance(self) -> DialogInstance:
        inst = DialogInstance(seed=self.seed + self._created, call_id_owner=self.call_id_owner)
        self._created += 1
        return inst

    def start(self, event: Event) -> list[Routed]:
        """Create the first dialog from the initial INVITE (sent or received)."""
        if self._creation is not None:
            raise self._error(event, "the dialog set already has its initial INVITE")
        inst = self._new_instance()
        actions = start_instance(self.engine, inst, event)
        self._creation = event
        self.role = inst.role
        self.call_id = inst.call_id
        self.local_tag = inst.local_tag
        self._initial_cseq = inst.initial_cseq
        self._initial_side = initial_side(inst)
        tag = inst.remote_tag
        self.dialogs[tag] = inst
        return [(tag, a) for a in actions] if actions else []

    def _fork(self, tag: str, event: Event) -> list[Routed]:
        assert self._creation is not None
        inst = self._new_instance()
        self.engine.start(inst, self._creation)
        self.dialogs[tag] = inst
        return self._deliver(tag, inst, event)

    # -- routing -------------------------------------------------------------------------------

    def dialog(self, tag: str) -> DialogInstance:
        """The dialog whose remote tag is ``tag``."""
        try:
            return self.dialogs[tag]
        except KeyError:
            raise UnknownName(
                "dialog (remote tag)", tag, sorted(self.dialogs), MACHINE_ID
            ) from None

    def tracks(self, role: str, method: str, cseq: int) -> bool:
        """Whether a dialog of the set took the request (``method``, ``cseq``) of the
        ``role`` side (``client``: sent, ``server``: received) as one of its transactions
        (`DialogInstance.transactions`): then the transaction's responses and its end are
        the dialog's business too. A CANCEL never is (RFC 5407 Appendix C)."""
        wanted = (role, method, cseq)
        # (a loop, not any() over a generator: this runs for every new transaction)
        for inst in self.dialogs.values():  # noqa: SIM110
            if wanted in inst.transactions:
                return True
        return False

    def handle(self, event: object, tag: str | None = None) -> list[Routed]:
        """Route ``event`` to the dialog whose remote tag is ``tag``, or by the message it
        carries. Anything that is not an input of a dialog is refused with a protocol
        error naming the dialog set (``object``: checked here, not by the compiled
        build's argument check, so both builds refuse it alike)."""
        if not isinstance(  # (the classes written out: compiled, each is one comparison)
            event,
            (
                MessageSent,
                RequestReceived,
                ResponseReceived,
                TransactionEnded,
                TimerFired,
                TURequest,
                TUResponse,
                TUCancel,
                TransportError,
            ),
        ):
            raise self._error(event, "not an input of a dialog")
        if self._creation is None:
            raise self._error(event, "start the dialog set with the initial INVITE first")
        if tag is not None:
            return self._deliver(tag, self.dialog(tag), event)
        # (tested in turn, not looked up in a table: direct calls in the compiled build)
        if type(event) is MessageSent:
            return self._message_sent(event)
        if type(event) is RequestReceived:
            return self._request_received(event)
        if type(event) is ResponseReceived:
            return self._response_received(event)
        if type(event) is TransactionEnded:
            return self._transaction_ended(event)
        if type(event) is TimerFired:
            return self._timer_fired(event)
        raise self._error(event, "not an input of a dialog")

    def _deliver(self, tag: str, inst: DialogInstance, event: Event) -> list[Routed]:
        actions = handle_event(self.engine, inst, event)
        remote = inst.remote_tag
        if remote and tag != remote:  # the first dialog took its tag
            del self.dialogs[tag]
            self.dialogs[remote] = inst
            tag = remote
        if not self.local_tag and self.role == "callee":
            self.local_tag = inst.local_tag
        return [(tag, a) for a in actions] if actions else []

    def _deliver_all(self, tags: list[str], event: Event, ambiguous_ok: bool) -> list[Routed]:
        if len(tags) > 1 and not ambiguous_ok:
            raise self._error(
                event, f"several dialogs ({', '.join(tags)}) could take it: name one with tag="
            )
        out: list[Routed] = []
        for t in tags:
            out.extend(self._deliver(t, self.dialogs[t], event))
        return out

    # The routes below read the dialog ID of RFC 3261 §12 straight from the tags
    # (`sipfsm.elements.core.dialog_id` computes the same): a request we receive names its dialog
    # by the From tag, a response we receive or a request we send by the To tag, a
    # response we send by the From tag.

    def _request_received(self, event: RequestReceived) -> list[Routed]:
        req = event.message
        if req.call_id != self.call_id:
            raise self._error(event, f"Call-ID {req.call_id!r} is not this dialog set's")
        remote = req.from_tag
        inst = self.dialogs.get(remote)
        if not req.to_tag:
            # only the callee's initial INVITE transaction sends requests without a To tag
            # (its retransmissions, its CANCEL); anything else is outside any dialog (§8.2)
            if self.role == "callee" and inst is not None:
                return self._deliver(remote, inst, event)
            if req.method == "CANCEL":
                return []  # matched to transactions by the UA core (core.handle_cancel)
            if req.method in ("BYE", "ACK"):
                return [(remote, a) for a in core.respond_unmatched(req)]
            raise self._error(event, "a request without a To tag is outside any dialog")
        if inst is None or (self.local_tag and req.to_tag != self.local_tag):
            if req.method == "CANCEL":
                return []  # matched to transactions by the UA core (core.handle_cancel)
            return [(remote, a) for a in core.respond_unmatched(req)]
        return self._deliver(remote, inst, event)

    def _response_received(self, event: ResponseReceived) -> list[Routed]:
        resp = event.message
        if resp.call_id != self.call_id or resp.from_tag != self.local_tag:
            raise self._error(event, "the response is not to a request of this dialog set")
        remote = resp.to_tag
        dialogs = self.dialogs
        if (
            self.role == "caller"
            and resp.cseq == self._initial_cseq
            and resp.method in ("INVITE", "ACK")
        ):  # a response to the initial INVITE (`_is_initial`)
            if resp.status >= 300:  # every early dialog ends (RFC 3261 §13.2.2.3)
                tags = [
                    t
                    for t, d in dialogs.items()
                    if d.state in ("preparative", "early") or t == remote
                ]
                return self._deliver_all(tags, event, ambiguous_ok=True)
            inst = dialogs.get(remote)
            if inst is not None:
                routed = self._deliver(remote, inst, event)
            else:
                first = dialogs.get("")
                if first is not None and first.state == "preparative":
                    routed = self._deliver("", first, event)  # the first tag: its own dialog
                elif not remote or resp.status == 100:
                    return []  # a tagless provisional after the first tag: nothing to tell
                else:
                    routed = self._fork(remote, event)
            if resp.status >= 200:
                routed.extend(self._another_fork(remote))
            return routed
        inst = dialogs.get(remote)
        if inst is None:
            raise self._error(event, f"no dialog with remote tag {remote!r}")
        return self._deliver(remote, inst, event)

    def _another_fork(self, remote: str) -> list[Routed]:
        """RFC 3261 §13.2.2.4: every 2xx to the initial INVITE confirms a dialog of its own,
        which the UAC core ACKs; a UA that wants one session ends every dialog but the first
        2xx confirmed "by sending a BYE request". The dialog set says so (``end_fork``) when a
        2xx confirms a second dialog (RFC 5407 Appendix E, forking)."""
        first = self.first_confirmed
        if first is None:
            inst = self.dialogs.get(remote)
            if inst is not None and inst.state not in ("preparative", "early", "morgue"):
                self.first_confirmed = remote
            return []
        if remote == first or remote not in self.dialogs:
            return []
        return [(remote, END_FORK)]

    def _message_sent(self, event: MessageSent) -> list[Routed]:
        message = event.message
        if message.call_id != self.call_id:
            raise self._error(event, f"Call-ID {message.call_id!r} is not this dialog set's")
        if isinstance(message, Request):
            if message.method == "CANCEL" and not message.to_tag:
                return self._deliver_all(list(self.dialogs), event, ambiguous_ok=True)
            remote = message.to_tag
        else:
            remote = message.from_tag
        inst = self.dialogs.get(remote)
        if inst is None:
            if (
                self.role == "caller"
                and isinstance(message, Request)
                and message.method == "ACK"
                and message.cseq == self._initial_cseq
            ):
                # the ACK of a non-2xx final response from a fork that made no dialog (no
                # provisional with its tag came first): part of the INVITE client transaction
                # (RFC 3261 §17.1.1.3), sent after that response ended every early dialog
                # (§13.2.2.3); a 2xx always makes its dialog (§13.2.2.4)
                return []
            raise self._error(event, f"no dialog with remote tag {remote!r}")
        return self._deliver(remote, inst, event)

    def _transaction_ended(self, event: TransactionEnded) -> list[Routed]:
        if (
            event.method == "INVITE"
            and event.cseq == self._initial_cseq
            and event.role == self._initial_side
        ):  # the initial INVITE's transaction (`_is_initial_transaction`)
            return self._deliver_all(list(self.dialogs), event, ambiguous_ok=True)
        side = (event.role, event.method, event.cseq)
        tags = [t for t, d in self.dialogs.items() if side in d.transactions]
        return self._deliver_all(tags, event, ambiguous_ok=False)

    def _timer_fired(self, event: TimerFired) -> list[Routed]:
        running = [t for t, d in self.dialogs.items() if event.name in d.timers]
        return self._deliver_all(running, event, ambiguous_ok=False)

    def _any(self) -> DialogInstance:
        return next(iter(self.dialogs.values()))

    def _error(self, event: object, reason: str) -> LocalProtocolError | RemoteProtocolError:
        cls = LocalProtocolError if isinstance(event, MessageSent) else RemoteProtocolError
        return cls(
            f"{MACHINE_ID} set",
            self.engine.decl.profile,
            self.role or "(new)",
            describe(event),
            reason,
        )


__all__ = ["END_FORK", "DialogEngine", "DialogSet", "Routed", "machine"]
