"""One dialog: the `DialogInstance` a DSM instance runs on (RFC 5407 Appendix E), everything
the dialog remembers between events, and how it reads the messages it tracks.

Guards (`sipfsm.machines.dialog.guards`) only read an instance; actions
(`sipfsm.machines.dialog.actions`) are the only code that changes one.
"""

from __future__ import annotations

from typing import ClassVar, Final

from sipfsm.decl.instance import Instance
from sipfsm.values.message import Message, Request
from sipfsm.values.seeded import SeededRandom

MACHINE_ID: Final = "dialog"

Key = tuple[str, int]  # (method, CSeq number) of a request, in one direction
#: (side, method, CSeq) of a transaction: side ``client`` (our request) or ``server``.
TransactionRef = tuple[str, str, int]


#: How many dialogs have drawn from their random source (`random_sources`).
_random_sources = 0


def random_sources() -> int:
    """How many dialog random sources have been made in this process so far: a simulation
    compares it before and after a run to know whether the run drew anything besides its
    links' loss draws (`sipfsm.sim.run`, runs reused by their draws)."""
    return _random_sources


class DialogInstance(Instance):
    """One dialog (one DSM instance, RFC 5407 Appendix E): its state and what it tracks.

    ``request`` (inherited) is the initial INVITE. ``role`` is ``caller`` or ``callee``;
    ``local_cseq``/``remote_cseq`` the sequence numbers of RFC 3261 §12 (``None``: empty);
    ``pending_client``/``pending_server`` the requests sent/received on the dialog that
    have no final response yet, by (method, CSeq); ``local_offer``/``remote_offer`` the
    (method, CSeq) of the transaction whose offer awaits an answer (ours / the peer's);
    ``unacked_provisionals`` the reliable 1xx we sent that no PRACK acknowledged yet, as
    (RSeq, CSeq, method) (RFC 3262 §3); ``transactions`` the live transactions as
    (role, method, CSeq); ``call_id_owner`` whether this UA generated the Call-ID (the
    caller, unless told otherwise; RFC 3261 §14.1); ``rng`` the random source of the glare
    timer and Retry-After, seeded with ``seed``; ``retry_request`` the request a 491
    refused, handed back to the TU when the glare timer fires.

    Few dialogs ever draw a random number (a 491, a 500 with Retry-After), so ``rng`` is
    made from ``seed`` when first used (a `random.Random` costs microseconds and kilobytes
    to build): the numbers are those a generator made at construction would give, and two
    instances still compare field by field (``seed``, and the generator once it exists).
    """

    FIELDS: ClassVar[tuple[str, ...]] = (
        *Instance.FIELDS,
        "_rng",
        "call_id",
        "call_id_owner",
        "local_cseq",
        "local_offer",
        "local_tag",
        "pending_client",
        "pending_server",
        "remote_cseq",
        "remote_offer",
        "remote_tag",
        "retry_request",
        "role",
        "seed",
        "transactions",
        "unacked_provisionals",
    )

    def __init__(self, seed: int = 0, call_id_owner: bool | None = None) -> None:
        super().__init__()
        self.role = ""
        self.call_id = ""
        self.local_tag = ""
        self.remote_tag = ""
        self.local_cseq: int | None = None
        self.remote_cseq: int | None = None
        self.pending_client: dict[Key, Request] = {}
        self.pending_server: dict[Key, Request] = {}
        self.local_offer: TransactionRef | None = None
        self.remote_offer: TransactionRef | None = None
        self.unacked_provisionals: set[tuple[int, int, str]] = set()
        self.transactions: set[TransactionRef] = set()
        self.call_id_owner: bool | None = call_id_owner
        self.seed = seed
        self._rng: SeededRandom | None = None
        self.retry_request: Request | None = None

    @property
    def rng(self) -> SeededRandom:
        """The seeded random source, made from ``seed`` on first use."""
        rng = self._rng
        if rng is None:
            global _random_sources
            _random_sources += 1
            rng = self._rng = SeededRandom(self.seed)
        return rng

    @property
    def initial_cseq(self) -> int:
        """The CSeq number of the initial INVITE."""
        return self.request.cseq if self.request is not None else -1

    def __repr__(self) -> str:
        return (
            f"<DialogInstance {self.role} state={self.state!r} call_id={self.call_id!r} "
            f"local_tag={self.local_tag!r} remote_tag={self.remote_tag!r}>"
        )



def initial_side(ctx: DialogInstance) -> str:
    """The side of the initial INVITE's transaction at this UA."""
    return "client" if ctx.role == "caller" else "server"


# -- reading a message ----------------------------------------------------------------------


def key_of(message: Message) -> Key:
    """The (method, CSeq number) a request and its responses are tracked by."""
    return (message.method, message.cseq)


def rack_of(request: Request) -> tuple[int, int, str] | None:
    """The RAck header of a PRACK as (RSeq, CSeq, method) (RFC 3262 §7.2)."""
    value = request.header("RAck")
    if value is None:
        return None
    parts = value.split()
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return (int(parts[0]), int(parts[1]), parts[2])


__all__ = [
    "MACHINE_ID",
    "DialogInstance",
    "Key",
    "TransactionRef",
    "initial_side",
    "key_of",
    "rack_of",
    "random_sources",
]
