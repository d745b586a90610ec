"""What the replay keeps per endpoint (`Side`), per call (`ReplayCall`), per transaction
(`ReplayTx`: the machine's own `Instance` with the checker's bookkeeping beside it), per
dialog set (`ReplaySet`) and dialog (`DialogRecord`), per §14.1 glare timer (`Glare`) and
per parsed message (`Item`). Plain records: the replay modules (`sipfsm.check.dialog_replay`,
`sipfsm.check.clock`, `sipfsm.check.replay`) change them.
"""

from __future__ import annotations

from typing import Final

from sipfsm.check.capture import Record
from sipfsm.check.rules import UNKNOWN
from sipfsm.decl.instance import Instance
from sipfsm.elements.dialogs import DialogSet
from sipfsm.elements.matching import (
    Matcher,
    TransactionKey,
)
from sipfsm.engine.runtime import Engine
from sipfsm.machines.dialog import DialogInstance
from sipfsm.values.events import TransactionEnded
from sipfsm.values.message import Message, Request

# -- replay state --------------------------------------------------------------------------------


#: Beyond every deadline.
INF: Final = float("inf")


class ReplayTx(Instance):
    """One transaction seen from one endpoint: the machine's own instance (`Instance`:
    state, running timers, request ...) with what the checker keeps beside it, so the
    replay makes one object per transaction and reads its state without a hop."""

    def __init__(
        self,
        side: Side,
        call: ReplayCall,
        number: int,
        machine: str,
        engine: Engine,
        request: Request,
        key: TransactionKey,
        role: str,
    ) -> None:
        Instance.__init__(self)
        self.side = side
        self.call = call
        #: ``T<number>`` in the report
        self.number = number
        self.machine = machine
        self.role = role
        self.engine = engine
        self.request = request
        self.method = request.method
        self.cseq = request.cseq
        self.key = key
        #: the other end of the transaction (whose duties some rules are about)
        self.peer = ""
        self.messages: list[int] = []
        self.path: list[str] = []
        self.deadlines: dict[str, tuple[float, float]] = {}
        self.expects: list[tuple[str, float, Message, int]] = []
        self.last_sent: Message | None = None
        #: the rules already reported for it (None: none yet)
        self.reported: set[str] | None = None
        self.cancel_target: ReplayTx | None = None
        self.dset: ReplaySet | None = None
        #: what was shown to the dialog: the first ACK (client), responses (server) as
        #: (status, To tag) -- a few, so a tuple
        self.fed: tuple[tuple[int, str], ...] = ()
        self.acked = False
        #: when an INVITE client transaction passed up its first 2xx (-1: not yet)
        self.accepted_at = -1.0
        self.final_index = 0
        self.last_index = 0
        self.start = 0.0
        self.verdict = UNKNOWN
        self.verdict_rfc = ""
        self.verdict_note = ""

    @property
    def id(self) -> str:
        return f"T{self.number}"

    def report_once(self, rule: str) -> bool:
        """Whether ``rule`` is reported for the first time for this transaction (a
        retransmission repeats a fault: it is reported once)."""
        reported = self.reported
        if reported is None:
            self.reported = {rule}
            return True
        if rule in reported:
            return False
        reported.add(rule)
        return True


class DialogRecord:
    """What the report says of one dialog instance."""

    def __init__(self, inst: DialogInstance) -> None:
        self.inst = inst
        self.messages: list[int] = []
        self.path = ["preparative"] if inst.state != "preparative" else []
        self.path.append(inst.state)


class ReplaySet:
    """One `DialogSet` of an endpoint (the dialogs of one initial INVITE) and the report
    records of its instances, by identity (the set re-keys an instance when it learns its
    remote tag; the record holds the instance, so its id stays unique)."""

    def __init__(self, side: str, call: ReplayCall, dset: DialogSet) -> None:
        self.side = side
        self.call = call
        self.set = dset
        self.recs: dict[int, DialogRecord] = {}
        self.last_index = 0
        #: remote tag -> the §14.1 retry the dialog waits for (its glare timer runs)
        self.glare: dict[str, Glare] = {}
        #: the ends of INVITE client transactions its dialogs hear of later (RFC 3261
        #: §13.2.2.4, `sipfsm.elements.core.invite_completed_at`), by the name of the timer
        #: in the call's timers that tells them
        self.pending_ends: dict[str, TransactionEnded] = {}


class Glare:
    """A 491 to a re-INVITE or UPDATE of the endpoint: when it came and what it refused."""

    def __init__(self, at: float, refused: Request, owner: bool, index: int) -> None:
        self.at = at
        self.refused = refused
        self.owner = owner
        self.index = index


class ReplayCall:
    """One Call-ID at one endpoint: its transactions still running, its dialog sets, and
    the timers of both. Events of one call are replayed in time order (its transactions'
    timers fire before a later message of the call reaches its dialogs); calls are
    independent of each other."""

    def __init__(self) -> None:
        self.live: list[ReplayTx] = []
        self.dsets: list[ReplaySet] = []
        #: dialog timers: (dialog set, remote tag, timer) -> deadline
        self.timers: dict[tuple[ReplaySet, str, str], float] = {}
        #: no timer of the call is due before this (deadline + tolerance); may be early
        self.due = INF
        self.expecting: list[ReplayTx] = []
        self.expect_due = INF


class Side:
    """Everything one endpoint has: its transactions (client and server) and calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.client: Matcher[ReplayTx] = Matcher()
        self.server: Matcher[ReplayTx] = Matcher()
        self.calls: dict[str, ReplayCall] = {}
        self.txs: list[ReplayTx] = []
        #: INVITE transactions by (role, Call-ID, CSeq number, From tag), for 2xx ACKs.
        self.invites: dict[tuple[str, str, int, str], ReplayTx] = {}
        #: the INVITE server transaction that sent the first 2xx with a key
        self.sent_2xx: dict[TransactionKey, ReplayTx] = {}


class Item:
    """One parsed message of the trace, with its transaction key (computed once for both
    its ends)."""

    def __init__(
        self, index: int, record: Record, message: Message, key: TransactionKey, src: str, dst: str
    ) -> None:
        self.index = index
        self.record = record
        self.message = message
        self.key = key
        #: when the endpoint being replayed saw it: the record's time, or for a simulator
        #: trace the send time (sender) or the delivery time (receiver)
        self.time = record.time
        #: its sender and receiver, as the report names them
        self.src = src
        self.dst = dst
        #: "tcp" stands for any reliable transport
        self.transport = "tcp" if record.transport == "tcp" else "udp"
