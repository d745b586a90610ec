"""Which transaction and which dialog a message belongs to, seen from one endpoint.

The rules, as RFC 3261 gives them:

* a request matches a server transaction by the branch and sent-by of its top Via and
  its method, an ACK matching the INVITE that created the transaction (§17.2.3); a
  response matches a client transaction by the branch of its top Via and its CSeq
  method (§17.1.3). Both sides therefore compute the same `TransactionKey`:
  ``(branch, sent-by, method)`` with ACK counted as INVITE. The ACK of a 2xx carries a
  new branch (§13.2.2.4), so it matches no INVITE transaction -- as the RFC intends.
* a CANCEL is its own transaction; the transaction it cancels is found with the same
  rules, its method taken as anything but CANCEL or ACK (§9.1, §9.2): `cancelled_keys`.
* when the branch lacks the magic cookie ``z9hG4bK`` the request comes from an RFC 2543
  element (§8.1.1.7) and §17.2.3's older rules apply: Request-URI, To tag, From tag,
  Call-ID, CSeq and top Via (for an ACK: the To tag of the response, and the CSeq number
  only). `TransactionKey.legacy` holds what a response can show of them; `Matcher`
  checks the Request-URI and To tag of requests itself.
* a dialog is identified by the Call-ID and the local and remote tags (§12), which
  depend on the side: `dialog_id`.

Everything here is plain data and dictionaries: the checker uses it to replay traces and
the simulator uses it to deliver messages to machines.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Generic, Literal, NamedTuple, TypeVar

from sipfsm.values.frozen import Frozen
from sipfsm.values.headers import top_via
from sipfsm.values.message import MAGIC_COOKIE, Message, Request, Response

Role = Literal["client", "server"]
SentOrReceived = Literal["sent", "received"]


class TransactionKey(NamedTuple):
    """How both ends of a transaction name it. ``legacy`` is set for an RFC 2543 branch
    (none, or without the magic cookie): ``(Call-ID, CSeq number, From tag, top Via)``.

    An immutable value like the frozen values elsewhere (`sipfsm.values.frozen`), but a named
    tuple: every message builds one and looks it up in a dictionary or two, and a tuple is
    hashed and compared in C."""

    branch: str
    sent_by: str
    method: str
    legacy: tuple[str, int, str, str] | None = None

    @property
    def rfc3261(self) -> bool:
        return self.legacy is None

    def describe(self) -> str:
        if self.legacy is None:
            return f"branch={self.branch} sent-by={self.sent_by} {self.method}"
        call_id, cseq, from_tag, _via = self.legacy
        return f"RFC 2543 Call-ID={call_id} CSeq={cseq} From-tag={from_tag} {self.method}"


class DialogId(Frozen):
    """RFC 3261 §12: Call-ID, local tag, remote tag -- from one side's point of view."""

    __slots__ = ("call_id", "local_tag", "remote_tag")

    def __init__(self, call_id: str, local_tag: str, remote_tag: str) -> None:
        self.call_id: Final = call_id
        self.local_tag: Final = local_tag
        self.remote_tag: Final = remote_tag

    def describe(self) -> str:
        return f"Call-ID={self.call_id} local={self.local_tag} remote={self.remote_tag}"


def is_rfc3261_branch(branch: str) -> bool:
    """RFC 3261 §8.1.1.7: a branch starting with the magic cookie is unique per client."""
    return branch.startswith(MAGIC_COOKIE)


def transaction_method(message: Message) -> str:
    """The method of the request that created the message's transaction: the CSeq
    method of a response, the method of a request, INVITE for an ACK (§17.2.3 rule 3)."""
    if isinstance(message, Response):
        return message.method
    return "INVITE" if message.method == "ACK" else message.method


_new_key: Final = tuple.__new__


def transaction_key(message: Message) -> TransactionKey:
    """The key of the transaction ``message`` belongs to (§17.1.3, §17.2.3)."""
    method = message.method  # `transaction_method`, inlined: it runs on every message
    if method == "ACK" and not isinstance(message, Response):
        method = "INVITE"
    branch = message.branch
    if branch.startswith(MAGIC_COOKIE):  # `is_rfc3261_branch`
        # (the tuple built directly: a named tuple's constructor is Python code)
        return _new_key(TransactionKey, (branch, message.sent_by, method, None))
    legacy = (message.call_id, message.cseq, message.from_tag, top_via(message))
    return TransactionKey(message.branch, message.sent_by, method, legacy)


def cancelled_keys(
    cancel: Request, methods: tuple[str, ...] = ("INVITE",)
) -> Iterator[TransactionKey]:
    """The keys a CANCEL's target may have (§9.2: the CANCEL's own key with its method
    taken as anything but CANCEL or ACK). ``methods`` lists the candidates to try; the
    INVITE is the one that matters (a CANCEL has no effect on other methods)."""
    key = transaction_key(cancel)
    for method in methods:
        yield TransactionKey(key.branch, key.sent_by, method, key.legacy)


def role(message: Message, direction: SentOrReceived) -> Role:
    """Whether the endpoint acts as client or server of the message's transaction: it
    sends requests and receives responses as a client."""
    sent = direction == "sent"
    return "client" if isinstance(message, Request) == sent else "server"


def machine_for(method: str, side: Role) -> str:
    """The transaction machine for a method and side: ict, nict, ist or nist (§17)."""
    if side == "client":
        return "ict" if method == "INVITE" else "nict"
    return "ist" if method == "INVITE" else "nist"


def dialog_id(message: Message, side: Role) -> DialogId:
    """The dialog id of a message for the endpoint that is ``side`` of its transaction:
    the UAC's local tag is the From tag, the UAS's is the To tag (§12.1.1, §12.1.2)."""
    if side == "client":
        return DialogId(message.call_id, message.from_tag, message.to_tag)
    return DialogId(message.call_id, message.to_tag, message.from_tag)


def normalize_endpoint(text: str, default_port: int = 5060) -> str:
    """``HOST:PORT`` as the checker writes it: host lower-cased, IPv6 in brackets, the
    SIP default port (RFC 3261 §19.1.2) when none is given."""
    text = text.strip()
    if text.startswith("["):
        host, _sep, port = text[1:].partition("]")
        port = port.lstrip(":")
        return f"[{host.lower()}]:{port or default_port}"
    if text.count(":") > 1:  # a bare IPv6 address
        return f"[{text.lower()}]:{default_port}"
    host, _sep, port = text.partition(":")
    return f"{host.lower()}:{port or default_port}"


T = TypeVar("T")


class Matcher(Generic[T]):
    """The transactions of one side (client or server) of one endpoint, found by key.

    Values are whatever the host keeps per transaction. A transaction stays findable
    after it ended until `forget` (the checker keeps them, to say "after it ended").
    """

    def __init__(self) -> None:
        self._entries: dict[TransactionKey, T] = {}
        self._requests: dict[TransactionKey, Request] = {}
        self._to_tags: dict[TransactionKey, str] = {}
        # (branch, method) -> the key: a response matches its client transaction by the
        # branch and the CSeq method alone (RFC 3261 §17.1.3), whatever its sent-by says
        self._branches: dict[tuple[str, str], TransactionKey] = {}

    def add(self, request: Request, value: T) -> TransactionKey:
        """Register the transaction ``request`` creates; returns its key."""
        key = transaction_key(request)
        self.add_keyed(key, request, value)
        return key

    def add_keyed(self, key: TransactionKey, request: Request, value: T) -> None:
        """`add` for a caller that already has ``key == transaction_key(request)``."""
        self._entries[key] = value
        if key.legacy is not None:
            self._requests[key] = request
        else:
            self._branches[(key.branch, key.method)] = key

    def note_response(self, key: TransactionKey, response: Response) -> None:
        """Remember the To tag of a response of the transaction (RFC 2543 ACK matching)."""
        if key.legacy is not None:
            self._to_tags[key] = response.to_tag

    def find(self, message: Message) -> T | None:
        """The transaction ``message`` belongs to, or None."""
        return self.find_keyed(transaction_key(message), message)

    def find_keyed(self, key: TransactionKey, message: Message) -> T | None:
        """`find` for a caller that already has ``key == transaction_key(message)`` (a
        message seen by both its ends is matched at each with one key)."""
        found = self._entries.get(key)
        if found is None and key.legacy is None and isinstance(message, Response):
            # a response whose top Via's sent-by was rewritten on its way (an ALG, a NAT)
            # still matches by branch and method (§17.1.3)
            other = self._branches.get((key.branch, key.method))
            return None if other is None else self._entries.get(other)
        if found is None or key.legacy is None or isinstance(message, Response):
            return found
        return found if self._legacy_request_matches(key, message) else None

    def find_key(self, key: TransactionKey) -> T | None:
        return self._entries.get(key)

    def find_cancelled(self, cancel: Request) -> T | None:
        """The transaction a CANCEL cancels (§9.2), or None."""
        for key in cancelled_keys(cancel):
            found = self._entries.get(key)
            if found is None:
                continue
            if key.legacy is None:
                return found
            created = self._requests.get(key)
            if (
                created is not None
                and created.uri == cancel.uri
                and (created.to_tag == cancel.to_tag)
            ):
                return found
        return None

    def forget(self, key: TransactionKey) -> None:
        self._entries.pop(key, None)
        self._requests.pop(key, None)
        self._to_tags.pop(key, None)
        if self._branches.get((key.branch, key.method)) == key:
            del self._branches[(key.branch, key.method)]

    def __len__(self) -> int:
        return len(self._entries)

    def _legacy_request_matches(self, key: TransactionKey, request: Request) -> bool:
        """§17.2.3 for RFC 2543 requests: the Request-URI must match too, and the To tag
        (for an ACK: the To tag of the response the server sent)."""
        created = self._requests.get(key)
        if created is None or created.uri != request.uri:
            return False
        if request.method == "ACK" and created.method == "INVITE":
            return request.to_tag == self._to_tags.get(key, created.to_tag)
        return request.to_tag == created.to_tag


__all__ = [
    "DialogId",
    "Matcher",
    "Role",
    "SentOrReceived",
    "TransactionKey",
    "cancelled_keys",
    "dialog_id",
    "is_rfc3261_branch",
    "machine_for",
    "normalize_endpoint",
    "role",
    "transaction_key",
    "transaction_method",
]
