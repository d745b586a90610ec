"""Between the wire and the model: SIP text from a socket address in, a model message and the
name of its sender out; a model message and the name of its destination in, SIP text and a
socket address out. No I/O: `sipfsm.net.host` does it.

Why a translation: the elements address each other as the simulator does, by the first
label of a host name (``sip:bob@bob.example.com`` is ``bob``, `sipfsm.elements.core.
address_of`), and keep only the fields the transaction and dialog layers match on
(`sipfsm.values.message`). On the wire, a peer is an IP address and a port, and a message
carries From and To URIs, Via parameters and Contact URIs the model does not keep. So:

* every remote address the codec meets (the source of a datagram or connection, a Via
  sent-by, a Contact or Request-URI host) gets a name, ``net1``, ``net2`` ... (`label`);
  the element sees ``netN.example.com`` where the wire said ``127.0.0.1:5061``, and the
  codec writes back what the wire said;
* what the model drops is remembered, keyed by what the model keeps: each Via value by its
  (sent-by, branch), each From / To name-addr by (Call-ID, tag), the To of a request
  without a tag by (Call-ID, From tag), each Request-URI and Contact URI by the name it was
  given. A response of the element copies its request's Via values, From and To (RFC 3261
  §8.2.6.2) from there; a request of its own gets a Via naming the local address with
  ``rport`` (§18.1.1, RFC 3581), From its own address, To its Request-URI;
* a Request-URI naming the local address is the element's own: kept as it is, or, for a
  proxy with a next hop (`Codec.default_route`), given the next hop's name, so that the
  request is forwarded there with the next hop's address in its Request-URI (§16.5,
  §16.6 step 2);
* the element's own host (``NAME.example.com``) is the local address; a body the model
  made (``v=0 o=NAME offer``, not SDP) is sent as a minimal SDP session description
  (RFC 4566) with ``Content-Type: application/sdp``; a body from the wire is sent as it
  came.

What is remembered is bounded (`Codec.max_entries` per table, oldest forgotten first;
docs/limits.md).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from sipfsm.values.errors import SipFsmError
from sipfsm.values.frozen import replace
from sipfsm.values.headers import split_list
from sipfsm.values.message import Message, Request, via_stack
from sipfsm.values.wire import parse, parse_via

__all__ = ["MAX_ENTRIES", "Address", "Codec", "CodecError", "hostport", "sdp"]

#: A socket address: (host, port).
Address = tuple[str, int]

#: Entries each table of a `Codec` keeps (labels, Via values, parties, URIs), oldest
#: forgotten first (docs/limits.md, "The network binding").
MAX_ENTRIES: Final = 20_000

#: A model URI: ``sip:[user@]NAME.example.com`` (the host's first label is the name).
_MODEL_URI = re.compile(r"sips?:(?:([^@<>;\s]+)@)?([A-Za-z0-9\-]+)\.example\.com")
_URI_HOSTPORT = re.compile(r"sips?:(?:[^@<>;\s]*@)?(\[[0-9A-Fa-f:.]+\]|[^:;>\s?]+)(?::(\d+))?")
_TAG = re.compile(r";\s*tag\s*=\s*[^;\s]*", re.IGNORECASE)
#: Header fields the codec writes itself, from the model's fields.
_OWN: Final = frozenset({"via", "from", "to", "call-id", "cseq", "content-length"})


class CodecError(SipFsmError, ValueError):
    """A message that cannot go on the wire (no address is known for its destination)."""


def hostport(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def sdp(address: str) -> str:
    """A minimal SDP session description (RFC 4566 §5) for the model's offer or answer: an
    audio stream on the discard port, PCMU."""
    kind = "IP6" if ":" in address else "IP4"
    return (
        f"v=0\r\no=- 0 0 IN {kind} {address}\r\ns=-\r\nc=IN {kind} {address}\r\nt=0 0\r\n"
        "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class _Table(dict[str, str]):
    """A dict that forgets its oldest entries past ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: str) -> None:
        self[key] = value
        while len(self) > self.limit:
            del self[next(iter(self))]


class Codec:
    """The translation for one element (``name``) bound to ``local`` over ``transport``
    (``udp`` or ``tcp``); see the module docstring."""

    def __init__(
        self, name: str, local: Address, transport: str = "udp", max_entries: int = MAX_ENTRIES
    ) -> None:
        self.name = name
        self.own_host = f"{name}.example.com"
        self.local = local
        self.local_text = hostport(*local)
        self.transport = transport
        self.max_entries = max_entries
        self.labels = _Table(max_entries)  # "host:port" -> name
        self.addresses: dict[str, Address] = {}  # name -> socket address
        self.vias = _Table(max_entries)  # "sent-by\0branch" (model) -> Via value
        self.parties = _Table(max_entries)  # "Call-ID\0tag" -> name-addr without tag
        self.untagged = _Table(max_entries)  # "Call-ID\0From tag" -> To of the request
        self.uris = _Table(max_entries)  # model URI -> URI on the wire
        #: the name a Request-URI naming the local address is routed to (a proxy's next
        #: hop: its location service maps its own domain there, RFC 3261 §16.5); "" none
        self.default_route = ""
        self._n = 0

    # -- names -----------------------------------------------------------------------------

    def label(self, text: str, address: Address) -> str:
        """The name of the remote address ``text`` (``host:port``), reached at ``address``."""
        key = text.lower()
        found = self.labels.get(key)
        if found is not None:
            return found
        self._n += 1
        found = f"net{self._n}"
        self.labels.put(key, found)
        self.addresses[found] = address
        while len(self.addresses) > self.max_entries:
            del self.addresses[next(iter(self.addresses))]
        return found

    def name_of(self, address: Address) -> str:
        """The name of a socket address (a destination the caller gives, ``--forward-to``)."""
        return self.label(hostport(*address), address)

    def address_of(self, name: str) -> Address:
        found = self.addresses.get(name)
        if found is None:
            raise CodecError(f"no address is known for {name!r} (forgotten, or never seen)")
        return found

    def _sent_by_in(self, sent_by: str, fallback: Address) -> str:
        if sent_by == self.local_text.lower():
            return self.own_host
        host, _, port = sent_by.rpartition(":") if not sent_by.endswith("]") else (sent_by, "", "")
        if not host or not port.isdigit():
            host, port = sent_by, "5060"
        address = (host.strip("[]"), int(port)) if _is_ip(host) else fallback
        return f"{self.label(sent_by, address)}.example.com"

    def _uri_in(self, uri: str, fallback: Address) -> str:
        """A Request-URI or Contact URI from the wire, as the model names it (the local
        address is left as it is)."""
        m = _URI_HOSTPORT.match(uri)
        if m is None:
            return uri
        host, port = m.group(1), int(m.group(2) or 5060)
        text = hostport(host.strip("[]"), port)
        if text.lower() == self.local_text.lower():
            if self.default_route:  # (written back as the next hop's address, §16.6 step 2)
                user = uri.split(":", 1)[1].split("@", 1)[0] if "@" in uri else ""
                name = self.default_route
                return f"sip:{user}@{name}.example.com" if user else f"sip:{name}.example.com"
            return uri
        address = (host.strip("[]"), port) if _is_ip(host) else fallback
        name = self.label(text, address)
        model = f"sip:{name}@{name}.example.com"
        self.uris.put(model, uri)
        return model

    def _uri_out(self, match: re.Match[str]) -> str:
        model = match.group(0)
        found = self.uris.get(model)
        if found is not None:
            return found
        user, name = match.group(1), match.group(2)
        if name == self.name:
            where = self.local_text
        elif name in self.addresses:
            where = hostport(*self.addresses[name])
        else:
            return model
        return f"sip:{user}@{where}" if user else f"sip:{where}"

    def _rewrite(self, value: str) -> str:
        out = _MODEL_URI.sub(self._uri_out, value)
        if self.transport == "tcp" and "transport=" not in out and out.startswith("<sip:"):
            out = out.replace(">", ";transport=tcp>", 1)
        return out

    # -- in ----------------------------------------------------------------------------------

    def decode(self, data: bytes, src: Address, *, stream: bool = False) -> tuple[Message, str]:
        """The message in ``data`` from ``src``, as the element sees it, and the name of its
        sender. Raises `WireError` for what is not SIP (RFC 3261 §25)."""
        message = parse(data, stream=stream)
        sender = self.label(hostport(*src), src)
        call_id = message.call_id
        vias: list[str] = []
        headers: list[tuple[str, str]] = []
        for name, value in message.headers:
            low = name.lower()
            if low == "via":
                vias.extend(v.strip() for v in split_list(value))
            elif low == "from":
                self.parties.put(f"{call_id}\0{message.from_tag}", _TAG.sub("", value))
            elif low == "to":
                if message.to_tag:
                    key = f"{call_id}\0{message.to_tag}"
                    if key not in self.parties:
                        self.parties.put(key, _TAG.sub("", value))
                elif isinstance(message, Request):
                    self.untagged.put(f"{call_id}\0{message.from_tag}", value)
            elif low in _OWN:
                continue
            elif low == "contact" and value.strip() != "*":
                headers.append((name, self._contact_in(value, src)))
            elif low in ("route", "record-route"):
                headers.append((name, self._route_in(value, src)))
            else:
                headers.append((name, value))
        stack: list[tuple[str, str]] = []
        for i, raw in enumerate(vias):
            _transport, sent_by, branch = parse_via(raw)
            # the top Via of a request is answered where the request came from (§18.2.2,
            # RFC 3581); the others where they say
            model = (
                f"{sender}.example.com"
                if i == 0 and isinstance(message, Request)
                else self._sent_by_in(sent_by, src)
            )
            if i == 0 and isinstance(message, Request):
                self.labels.put(sent_by, sender)
            self.vias.put(f"{model}\0{branch}", raw)
            stack.append((model, branch))
        top_sent_by, top_branch = stack[0]
        if isinstance(message, Request):
            message = replace(
                message,
                uri=self._uri_in(message.uri, src),
                sent_by=top_sent_by,
                branch=top_branch,
                headers=tuple(headers),
                vias=tuple(stack[1:]),
            )
        else:
            message = replace(
                message,
                sent_by=top_sent_by,
                branch=top_branch,
                headers=tuple(headers),
                vias=tuple(stack[1:]),
            )
        return message, sender

    def _contact_in(self, value: str, src: Address) -> str:
        out = []
        for element in split_list(value):
            text = element.strip()
            start, end = text.find("<"), text.find(">")
            uri = text[start + 1 : end] if 0 <= start < end else text.split(";", 1)[0]
            out.append(f"<{self._uri_in(uri, src)}>")
        return ", ".join(out)

    def _route_in(self, value: str, src: Address) -> str:
        """Route / Record-Route values (§20.30, §20.34): each URI's host and port named as
        the model names them, its parameters (``lr``, §19.1.1) kept where the model reads
        them; the local address is the element's own host."""
        out = []
        for element in split_list(value):
            text = element.strip()
            start, end = text.find("<"), text.find(">")
            if not 0 <= start < end:
                out.append(text)
                continue
            uri = text[start + 1 : end]
            m = _URI_HOSTPORT.match(uri)
            if m is None:
                out.append(text)
                continue
            host, port = m.group(1), int(m.group(2) or 5060)
            where = hostport(host.strip("[]"), port)
            if where.lower() == self.local_text.lower():
                name = self.name
            else:
                name = self.label(where, (host.strip("[]"), port) if _is_ip(host) else src)
                self.uris.put(f"sip:{name}.example.com", uri[: m.end()])
            out.append(f"{text[:start]}<sip:{name}.example.com{uri[m.end():]}>{text[end + 1:]}")
        return ", ".join(out)

    # -- out ---------------------------------------------------------------------------------

    def encode(self, message: Message, dst: str) -> tuple[bytes, Address]:
        """``message`` as SIP text for the wire, and where it goes (``dst``: a name)."""
        address = self.address_of(dst)
        return self.text(message).encode("utf-8", "surrogateescape"), address

    def text(self, message: Message) -> str:
        """``message`` as SIP text (RFC 3261 §7), with what the wire said restored."""
        transport = self.transport.upper()
        call_id = message.call_id
        lines: list[str] = []
        request = isinstance(message, Request)
        if isinstance(message, Request):
            uri = _MODEL_URI.sub(self._uri_out, message.uri)
            lines.append(f"{message.method} {uri} SIP/2.0")
        else:
            uri = ""
            lines.append(f"SIP/2.0 {message.status} {message.reason}")
        for sent_by, branch in via_stack(message):
            raw = self.vias.get(f"{sent_by}\0{branch}")
            if raw is None:
                where = self.local_text if sent_by == self.own_host else sent_by
                if sent_by.endswith(".example.com"):
                    name = sent_by[: -len(".example.com")]
                    if name in self.addresses:
                        where = hostport(*self.addresses[name])
                raw = f"SIP/2.0/{transport} {where};branch={branch}" + (
                    ";rport" if sent_by == self.own_host and transport == "UDP" else ""
                )
            lines.append(f"Via: {raw}")
        if request:
            hops = message.header("Max-Forwards")
            lines.append(f"Max-Forwards: {70 if hops is None else hops.strip()}")
        own = f"<sip:{self.name}@{self.local_text}>"
        from_key = f"{call_id}\0{message.from_tag}"
        party = self.parties.get(from_key)
        if party is None:
            # a callee's request: its From is the To of the caller's request (§12.1.1)
            plain_to = self.untagged.get(f"{call_id}\0{message.to_tag}") if message.to_tag else None
            if plain_to is not None:
                party = _TAG.sub("", plain_to)
            else:
                party = own if request else f"<{uri}>"
            self.parties.put(from_key, party)
        lines.append(f"From: {party}" + (f";tag={message.from_tag}" if message.from_tag else ""))
        to_key = f"{call_id}\0{message.to_tag}"
        plain = self.untagged.get(f"{call_id}\0{message.from_tag}")
        if message.to_tag:
            party = self.parties.get(to_key)
            if party is None:
                party = _TAG.sub("", plain) if plain is not None else f"<{uri}>" if uri else own
                self.parties.put(to_key, party)
            lines.append(f"To: {party};tag={message.to_tag}")
        else:
            if plain is None:
                plain = f"<{uri}>"
                self.untagged.put(f"{call_id}\0{message.from_tag}", plain)
            lines.append(f"To: {plain}")
        lines.append(f"Call-ID: {call_id}")
        lines.append(f"CSeq: {message.cseq} {message.cseq_method}")
        typed = False
        for name, value in message.headers:
            low = name.lower()
            if low in _OWN or (request and low == "max-forwards"):
                continue
            if low in ("contact", "route", "record-route"):
                value = self._rewrite(value)
            typed = typed or low in ("content-type", "c")
            lines.append(f"{name}: {value}")
        body = message.body
        if body and not typed and body.startswith("v=0 o="):
            body = sdp(self.local[0])
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode('utf-8', 'surrogateescape'))}")
        return "\r\n".join(lines) + "\r\n\r\n" + body

