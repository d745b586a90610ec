"""Scenario files: YAML in, frozen values out, and an error that says where and what.

A scenario declares the elements, the network between them, what each transaction user
does and when, and what must be seen; `docs/scenarios.md` describes the format. `parse`
turns YAML text into a `Scenario`; every problem is a `ScenarioError` naming the file,
the line (from PyYAML's node marks), the path inside the document
(``script.bob[1].respond``), what is wrong and what is allowed -- never a traceback.

The YAML is read with YAML 1.1's scalar rules except booleans: only ``true``/``false``
are booleans, so ``on:`` is a key and ``no`` a string (and refused where a boolean is
expected).

Names that the model declares are taken from it, not restated: the dialog states from the
dialog declaration, the invariant names from `sipfsm.sim.invariants`, profiles and
transports from `sipfsm.decl.language`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from sipfsm.decl.language import PROFILES, TRANSPORTS
from sipfsm.sim.engine import Stream
from sipfsm.sim.invariants import INVARIANTS
from sipfsm.sim.limits import DEFAULT_LIMITS, Limits
from sipfsm.values.errors import SipFsmError, WireError, printable, shown
from sipfsm.values.headers import NUMBER_HEADERS, check_number
from sipfsm.values.message import Message, Request
from sipfsm.values.routing import RECORD_ROUTE, ROUTE, values

__all__ = [
    "DIALOG_STATES",
    "METHODS",
    "SENDABLE",
    "Delay",
    "DropRule",
    "ElementSpec",
    "Expectation",
    "LibraryEntry",
    "LinkSpec",
    "MessagePattern",
    "NetworkSpec",
    "On",
    "Scenario",
    "ScenarioError",
    "Step",
    "library",
    "load",
    "parse",
]

#: The request methods a pattern may name (RFC 3261 §27.4 and its extensions).
METHODS: tuple[str, ...] = (
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "PRACK",
    "SUBSCRIBE",
    "NOTIFY",
    "PUBLISH",
    "INFO",
    "REFER",
    "MESSAGE",
    "UPDATE",
)
#: What a scripted TU may send. ACK is the UA core's (RFC 3261 §13.2.2.4, §17.1.1.3); PRACK
#: needs reliable provisional responses (RFC 3262), which the simulated UAs do not use.
SENDABLE: tuple[str, ...] = (
    "INVITE",
    "UPDATE",
    "BYE",
    "CANCEL",
    "REFER",
    "INFO",
    "OPTIONS",
    "MESSAGE",
    "REGISTER",
)
#: What the transaction layer can tell the TU besides messages (`sipfsm.machines.transaction`).
TU_EVENTS: tuple[str, ...] = ("timeout", "cancelled", "transport_error")


def _dialog_states() -> tuple[str, ...]:
    from sipfsm.engine.model import declare

    return tuple(s.name for s in declare("dialog").leaf_states)


#: The dialog's leaf states (RFC 5407 §2), read from its declaration, and ``none`` for an
#: element that has no dialog.
DIALOG_STATES: tuple[str, ...] = (*_dialog_states(), "none")

DEFAULT_DURATION = 300.0
DEFAULT_DELAY = 0.05
#: The largest number of seconds a scenario may give anywhere (a time, a delay, a duration,
#: a timer): about eleven days of virtual time; larger values only overflow the timers
#: derived from them (64*T1 ...).
MAX_SECONDS = 1_000_000.0

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


# -- errors -------------------------------------------------------------------------------


class ScenarioError(SipFsmError, ValueError):
    """A scenario that cannot be run: where (file, line, path), what, and what is allowed."""

    def __init__(
        self,
        file: str,
        line: int | None,
        path: str,
        what: str,
        allowed: str = "",
        *,
        limit: str = "",
    ):
        self.file = file
        self.line = line
        self.path = path
        self.what = what
        self.allowed = allowed
        #: the limit the scenario reached and how to raise it (`Limits.hint`), if any
        self.limit = limit
        where = f"{file}:{line}" if line else file
        text = f"{where}: {path}: {what}" if path else f"{where}: {what}"
        if allowed:
            text += f" (allowed: {allowed})"
        if limit:
            text += f" ({limit})"
        super().__init__(printable(text))  # one line, whatever the file quotes


# -- values -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delay:
    """A link delay: ``fixed`` seconds, ``uniform`` between ``a`` and ``b``, or
    ``exponential`` with mean ``a``."""

    kind: Literal["fixed", "uniform", "exponential"]
    a: float
    b: float = 0.0

    def sample(self, rng: Stream) -> float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b)
        return rng.expovariate(1.0 / self.a)

    def describe(self) -> str:
        if self.kind == "fixed":
            return f"{self.a:g} s"
        if self.kind == "uniform":
            return f"uniform {self.a:g}-{self.b:g} s"
        return f"exponential, mean {self.a:g} s"


@dataclass(frozen=True, slots=True)
class MessagePattern:
    """Which messages a rule, a step or an expectation is about. Every field left ``None``
    matches anything. ``method`` is a request's method or a response's CSeq method;
    ``status`` an inclusive range; ``in_dialog`` whether the To header has a tag; ``body``
    whether the message carries a session description (an offer or an answer); ``uri``
    a request's Request-URI; ``route`` and ``record_route`` the values of its Route and
    Record-Route header fields, in order (empty: none; RFC 3261 §12.2.1.1, §16.6). ``src``,
    ``dst``, ``lost`` and ``retransmission`` are about the wire and are read by
    expectations only (`matches_wire`)."""

    kind: Literal["request", "response"] | None = None
    method: str | None = None
    status: tuple[int, int] | None = None
    cseq: int | None = None
    in_dialog: bool | None = None
    body: bool | None = None
    src: str | None = None
    dst: str | None = None
    lost: bool | None = None
    retransmission: bool | None = None
    uri: str | None = None
    route: tuple[str, ...] | None = None
    record_route: tuple[str, ...] | None = None

    def matches(self, message: Message) -> bool:
        is_request = isinstance(message, Request)
        if self.kind is not None and (self.kind == "request") != is_request:
            return False
        if self.method is not None and message.cseq_method != self.method:
            return False
        if self.status is not None:
            if is_request:
                return False
            status = message.status  # type: ignore[union-attr]
            if not self.status[0] <= status <= self.status[1]:
                return False
        if self.cseq is not None and message.cseq != self.cseq:
            return False
        if self.in_dialog is not None and bool(message.to_tag) != self.in_dialog:
            return False
        if self.body is not None and bool(message.body) != self.body:
            return False
        if self.uri is not None and (not is_request or message.uri != self.uri):  # type: ignore[union-attr]
            return False
        if self.route is not None and values(message.headers, ROUTE) != self.route:
            return False
        return self.record_route is None or (
            values(message.headers, RECORD_ROUTE) == self.record_route
        )

    def matches_wire(
        self, message: Message, src: str, dst: str, lost: bool, retransmission: bool
    ) -> bool:
        if self.src is not None and src != self.src:
            return False
        if self.dst is not None and dst != self.dst:
            return False
        if self.lost is not None and lost != self.lost:
            return False
        if self.retransmission is not None and retransmission != self.retransmission:
            return False
        return self.matches(message)

    def describe(self) -> str:
        if self.status is not None:
            lo, hi = self.status
            if lo == hi:
                what = str(lo)
            elif lo % 100 == 0 and hi == lo + 99:
                what = f"{lo // 100}xx"
            else:
                what = f"{lo}-{hi}"
            what += f" ({self.method})" if self.method else " (any method)"
        elif self.kind == "request":
            what = self.method or "any request"
        elif self.kind == "response":
            what = f"any response ({self.method})" if self.method else "any response"
        else:
            what = f"any {self.method} message" if self.method else "any message"
        extra = []
        if self.cseq is not None:
            extra.append(f"CSeq {self.cseq}")
        if self.in_dialog is not None:
            extra.append("in a dialog" if self.in_dialog else "outside a dialog")
        if self.body is not None:
            extra.append("with a body" if self.body else "without a body")
        if self.uri is not None:
            extra.append(f"Request-URI {self.uri}")
        for name, found in ((ROUTE, self.route), (RECORD_ROUTE, self.record_route)):
            if found is not None:
                extra.append(f"{name}: {', '.join(found)}" if found else f"no {name}")
        if self.retransmission is not None:
            extra.append("retransmitted" if self.retransmission else "not a retransmission")
        if self.lost is not None:
            extra.append("lost" if self.lost else "delivered")
        if extra:
            what += ", " + ", ".join(extra)
        if self.src is not None or self.dst is not None:
            what += f" {self.src or 'any'} -> {self.dst or 'any'}"
        return what


@dataclass(frozen=True, slots=True)
class DropRule:
    """Drop the ``nth`` messages (1-based, counted per link) that match, or ``every``."""

    match: MessagePattern
    nth: frozenset[int] = frozenset({1})
    every: bool = False
    where: str = ""

    def describe(self) -> str:
        which = "every" if self.every else "#" + ",".join(str(n) for n in sorted(self.nth))
        return f"drop {which} {self.match.describe()}"


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """One direction of a link (``src`` -> ``dst``), or the default of every link (both
    ``None``). A field left ``None`` is taken from the default."""

    src: str | None = None
    dst: str | None = None
    delay: Delay | None = None
    loss: float | None = None
    duplicate: float | None = None
    reorder: float | None = None
    reorder_delay: Delay | None = None
    drop: tuple[DropRule, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    default: LinkSpec = LinkSpec()
    links: tuple[LinkSpec, ...] = ()
    #: Named drop rules also apply on TCP (a message the sender never wrote).
    drops_on_tcp: bool = False

    def link(self, src: str, dst: str) -> LinkSpec:
        """The effective settings of ``src`` -> ``dst``: its own, then the default's."""
        own = next((x for x in self.links if x.src == src and x.dst == dst), None)
        d = self.default
        if own is None:
            return LinkSpec(
                src,
                dst,
                d.delay or Delay("fixed", DEFAULT_DELAY),
                d.loss or 0.0,
                d.duplicate or 0.0,
                d.reorder or 0.0,
                d.reorder_delay or Delay("uniform", 0.0, 0.5),
                d.drop,
            )
        return LinkSpec(
            src,
            dst,
            own.delay or d.delay or Delay("fixed", DEFAULT_DELAY),
            _first(own.loss, d.loss),
            _first(own.duplicate, d.duplicate),
            _first(own.reorder, d.reorder),
            own.reorder_delay or d.reorder_delay or Delay("uniform", 0.0, 0.5),
            d.drop + own.drop,
        )

    @property
    def has_drops(self) -> bool:
        return bool(self.default.drop) or any(x.drop for x in self.links)


def _first(a: float | None, b: float | None) -> float:
    return a if a is not None else (b if b is not None else 0.0)


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """A user agent (``role`` ``ua``) or a stateful proxy (``proxy``, RFC 3261 §16).

    A UA: ``call_id_owner`` overrides who generated the Call-ID (RFC 3261 §14.1; by
    default the caller); ``retry_491`` makes the TU retry a re-INVITE/UPDATE refused with
    491 when the dialog's glare timer fires (§14.1 "SHOULD"); ``auto_answer`` answers
    unscripted non-INVITE requests and re-INVITEs with 200; ``outbound_proxy`` the proxy
    its out-of-dialog requests go to (§8.1.2), named in a Route when ``outbound_route``
    (a pre-existing route set, §8.1.1.1).

    A proxy: ``location`` its location service (§16.5: an address-of-record's element
    name -> its targets' element names with q-values); ``sequential`` tries targets
    highest q first (equal q in parallel) instead of all in parallel (§16.6);
    ``record_route`` inserts a Record-Route (§16.6 step 4); ``outbound_proxy`` the proxy
    every request outside a dialog without a Route that it forwards goes to next (local
    policy, §16.6 steps 6, 7); ``strict_routing`` makes it an RFC 2543 strict router
    (``routing: strict``, §16.12.1.2) instead of a loose one (§16.4, §16.6 step 6)."""

    name: str
    role: Literal["ua", "proxy"] = "ua"
    call_id_owner: bool | None = None
    retry_491: bool = True
    auto_answer: bool = True
    reject_code: int = 480
    outbound_proxy: str = ""
    outbound_route: bool = False
    location: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    sequential: bool = False
    record_route: bool = False
    strict_routing: bool = False


@dataclass(frozen=True, slots=True)
class On:
    """What a step waits for: a ``request`` reaching this UA's core (``pattern``), a
    ``response`` reaching its TU, a transaction ``event`` (timeout, cancelled,
    transport_error) or its ``dialog`` entering a state."""

    kind: Literal["request", "response", "event", "dialog"]
    pattern: MessagePattern = MessagePattern()
    event: str = ""
    dialog: str = ""

    def describe(self) -> str:
        if self.kind == "event":
            return f"{self.event} ({self.pattern.method or 'any method'})"
        if self.kind == "dialog":
            return f"dialog {self.dialog}"
        return self.pattern.describe()


StepKind = Literal["send", "respond", "never_answer"]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an element's script: when (``at`` a time, or ``on`` an event plus
    ``after`` seconds) and what (send a request, respond to the request of the event, or
    never answer it)."""

    element: str
    index: int
    where: str
    action: StepKind
    at: float | None = None
    on: On | None = None
    after: float = 0.0
    method: str = ""
    code: int = 0
    to: str = ""
    body: bool | None = None
    headers: tuple[tuple[str, str], ...] = ()
    omit_required: bool = False
    out_of_dialog: bool = False
    new_call: bool = False
    to_tag: str = ""
    reason: str = ""
    repeat: bool = False

    def describe(self) -> str:
        when = f"at {self.at:g} s" if self.on is None else f"on {self.on.describe()}"
        if self.on is not None and self.after:
            when += f" +{self.after:g} s"
        if self.action == "send":
            what = f"send {self.method} to {self.to}"
        elif self.action == "respond":
            what = f"respond {self.code}"
        else:
            what = "never answer"
        return f"{when}: {what}"


ExpectKind = Literal["seen", "not_seen", "end_state", "no_violations", "violation", "order"]


@dataclass(frozen=True, slots=True)
class Expectation:
    kind: ExpectKind
    text: str
    where: str
    pattern: MessagePattern | None = None
    count: int | None = None
    at_least: int | None = None
    element: str = ""
    dialog: str = ""
    rule: str = ""
    patterns: tuple[MessagePattern, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    elements: tuple[ElementSpec, ...]
    script: tuple[Step, ...] = ()
    expect: tuple[Expectation, ...] = ()
    network: NetworkSpec = NetworkSpec()
    rfc: str = ""
    description: str = ""
    transports: tuple[str, ...] = TRANSPORTS
    profile: str = "rfc6026"
    profiles: tuple[str, ...] = PROFILES
    duration: float = DEFAULT_DURATION
    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    source: str = "<scenario>"
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def element_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.elements)

    def element(self, name: str) -> ElementSpec:
        for e in self.elements:
            if e.name == name:
                return e
        raise KeyError(name)

    def steps_of(self, name: str) -> tuple[Step, ...]:
        return tuple(s for s in self.script if s.element == name)

    def error(self, path: str, what: str, allowed: str = "") -> ScenarioError:
        """An error about this scenario at ``path`` (for checks made when it is run)."""
        return ScenarioError(self.source, self.lines.get(path), path, what, allowed)


# -- reading YAML with line numbers --------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.1 scalars, except that only true/false are booleans (``on`` is a key)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

Path_ = tuple[str | int, ...]


def _path_text(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


class _Doc:
    """The parsed document: values, and the line of every path.

    Read within `Limits`: the text's size first; then one pass over the parser's events
    (which nest in a list, not in Python's stack) measures how deeply the document nests,
    counts its aliases and the values it holds once every alias is expanded, and refuses an
    alias of a collection from inside itself (a recursive alias) -- all before PyYAML's
    composer, which recurses once per level, builds anything. A billion-laughs document
    (each alias repeating the one before) is refused by its expanded size without being
    expanded. Whatever PyYAML cannot read -- a character YAML forbids, a tag it does not
    know, a value its tag cannot be (``!!float abc``, a 5,000-digit number, the 45th of a
    13th month) -- is a `ScenarioError` naming the line."""

    def __init__(self, file: str, text: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.file = file
        self.limits = limits
        self.lines: dict[Path_, int] = {}
        if not isinstance(text, str):
            raise ScenarioError(file, None, "", f"expected YAML text, got {type(text).__name__}")
        # (its size in UTF-8 bytes: a text short enough is within the limit however it encodes)
        size = len(text) if len(text) * 4 <= limits.yaml_bytes else len(
            text.encode("utf-8", "surrogatepass")
        )
        if size > limits.yaml_bytes:
            raise ScenarioError(
                file,
                None,
                "",
                f"the scenario is {size:,} bytes, more than a scenario may be",
                limit=limits.hint("yaml-bytes"),
            )
        self._text = text
        self._built = 0
        loader: _Loader | None = None
        try:
            loader = _Loader(text)
            node = self._compose(loader)
            self.data: Any = None if node is None else self._build(loader, node, ())
        except yaml.MarkedYAMLError as exc:
            raise self._yaml_error(exc) from None
        except yaml.reader.ReaderError as exc:
            raise self._reader_error(exc) from None
        except yaml.YAMLError as exc:
            raise ScenarioError(file, None, "", f"not valid YAML: {exc}") from None
        finally:
            if loader is not None:
                loader.dispose()

    def _yaml_error(self, exc: yaml.MarkedYAMLError) -> ScenarioError:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        return ScenarioError(self.file, line, "", f"not valid YAML: {problem}")

    def _reader_error(self, exc: yaml.reader.ReaderError) -> ScenarioError:
        position = exc.position if isinstance(exc.position, int) else 0
        line = self._text.count("\n", 0, position) + 1
        character = chr(exc.character) if isinstance(exc.character, int) else "?"
        return ScenarioError(
            self.file,
            line,
            "",
            f"not valid YAML: the character {character!r} is not allowed",
            "printable characters, tab, line feed and carriage return (YAML 1.1 §5.1)",
        )

    # complex on purpose (C901): one branch per kind of parser event, as PyYAML's composer
    def _compose(self, loader: _Loader) -> yaml.Node | None:  # noqa: C901
        """The document's node graph, built from the parser's events as PyYAML's composer
        builds it (tags resolved the same way, an alias the very node of its anchor) but
        with the open collections in a list rather than on Python's stack, and within the
        limits: nesting depth, aliases, and the values the document holds once every alias
        is expanded -- counted, never expanded. An alias of a collection from inside itself
        (a value that contains itself) is refused. ``None`` for an empty document."""
        limits = self.limits
        get: Any = loader.get_event
        resolve: Any = loader.resolve  # (untyped in PyYAML's stubs, as the marks' types are)
        get()  # the stream's start
        if loader.check_event(yaml.StreamEndEvent):
            get()
            return None
        get()  # the document's start
        anchors: dict[str, yaml.Node] = {}
        sizes: dict[str, int] = {}  # anchor -> values it stands for, expanded
        open_anchors: set[str] = set()  # anchors of collections not closed yet
        # per open collection: [node, values it holds expanded, its anchor, a key waiting
        # for its value (mappings)]
        stack: list[list[Any]] = []
        root: yaml.Node | None = None
        aliases = 0
        while root is None:
            event: Any = get()
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            done: yaml.Node | None = None
            size = 1
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > limits.yaml_aliases:
                    raise ScenarioError(
                        self.file,
                        line,
                        "",
                        f"more than {limits.yaml_aliases} aliases (*name)",
                        limit=limits.hint("yaml-aliases"),
                    )
                if event.anchor in open_anchors:
                    raise ScenarioError(
                        self.file,
                        line,
                        "",
                        f"the alias *{event.anchor} is inside the value its anchor "
                        f"&{event.anchor} names: a value that contains itself",
                    )
                if event.anchor not in anchors:
                    raise ScenarioError(
                        self.file, line, "", f"not valid YAML: found undefined alias "
                        f"{event.anchor!r}",
                    )
                done = anchors[event.anchor]
                size = sizes[event.anchor]
            elif isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(yaml.ScalarNode, event.value, event.implicit)
                marks: tuple[Any, Any] = (event.start_mark, event.end_mark)
                done = yaml.ScalarNode(tag, event.value, *marks, style=event.style)
                self._anchor(event.anchor, done, 1, anchors, sizes, line)
            elif isinstance(event, yaml.CollectionStartEvent):
                if len(stack) >= limits.yaml_depth:
                    raise ScenarioError(
                        self.file,
                        line,
                        "",
                        f"mappings and lists nest more than {limits.yaml_depth} deep",
                        limit=limits.hint("yaml-depth"),
                    )
                mapping = isinstance(event, yaml.MappingStartEvent)
                kind = yaml.MappingNode if mapping else yaml.SequenceNode
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(kind, None, event.implicit)
                start: Any = event.start_mark
                node = kind(tag, [], start, None, flow_style=event.flow_style)
                if event.anchor is not None:
                    self._anchor(event.anchor, node, 0, anchors, sizes, line)
                    open_anchors.add(event.anchor)
                stack.append([node, 1, event.anchor, None])
                continue
            elif isinstance(event, yaml.CollectionEndEvent):
                node, size, anchor, _ = stack.pop()
                node.end_mark = event.end_mark
                if anchor is not None:
                    sizes[anchor] = size
                    open_anchors.discard(anchor)
                done = node
            else:  # (the parser yields nothing else inside a document)
                raise ScenarioError(self.file, line, "", "not valid YAML: unexpected content")
            if not stack:
                root = done
                break
            parent = stack[-1]
            parent[1] += size
            if parent[1] > limits.yaml_nodes:
                raise ScenarioError(
                    self.file,
                    line,
                    "",
                    f"more than {limits.yaml_nodes:,} values once its aliases are expanded",
                    limit=limits.hint("yaml-nodes"),
                )
            if isinstance(parent[0], yaml.MappingNode):
                if parent[3] is None:
                    parent[3] = done
                else:
                    parent[0].value.append((parent[3], done))
                    parent[3] = None
            else:
                parent[0].value.append(done)
        get()  # the document's end
        if not loader.check_event(yaml.StreamEndEvent):
            event = get()
            raise ScenarioError(
                self.file,
                event.start_mark.line + 1 if event.start_mark is not None else None,
                "",
                "not valid YAML: a scenario is one document, but another one follows",
            )
        return root

    def _anchor(
        self,
        anchor: str | None,
        node: yaml.Node,
        size: int,
        anchors: dict[str, yaml.Node],
        sizes: dict[str, int],
        line: int | None,
    ) -> None:
        if anchor is None:
            return
        if anchor in anchors:
            raise ScenarioError(
                self.file, line, "", f"not valid YAML: the anchor &{anchor} is given twice"
            )
        anchors[anchor] = node
        sizes[anchor] = size

    def _scalar(self, loader: _Loader, node: yaml.Node, path: Path_) -> Any:
        """The value of a scalar node; one PyYAML cannot construct is a `ScenarioError`."""
        try:
            return loader.construct_object(node)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, OverflowError, ArithmeticError) as exc:
            tag = str(node.tag).rsplit(":", 1)[-1]
            raise ScenarioError(
                self.file,
                node.start_mark.line + 1,
                _path_text(path),
                f"not valid YAML: {str(node.value)[:40]!r} cannot be read as {tag}: "
                f"{str(exc)[:80]}",
            ) from None

    def _build(self, loader: _Loader, node: yaml.Node, path: Path_) -> Any:
        self._built += 1  # (bounded by `_measure`; checked again here, cheaply)
        if self._built > self.limits.yaml_nodes:
            raise self.error(
                path,
                f"more than {self.limits.yaml_nodes:,} values once its aliases are expanded",
                limit=self.limits.hint("yaml-nodes"),
            )
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    raise ScenarioError(
                        self.file, line, _path_text(path), "a key must be a plain name"
                    )
                key = str(self._scalar(loader, key_node, path))
                if key in out:
                    raise ScenarioError(
                        self.file, line, _path_text((*path, key)), f"the key {key!r} appears twice"
                    )
                self.lines[(*path, key)] = line
                out[key] = self._build(loader, value_node, (*path, key))
                self.lines[(*path, key)] = line
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._build(loader, item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(loader, node, path)

    def line(self, path: Path_) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def error(self, path: Path_, what: str, allowed: str = "", limit: str = "") -> ScenarioError:
        return ScenarioError(
            self.file, self.line(path), _path_text(path), what, allowed, limit=limit
        )


# -- typed access -------------------------------------------------------------------------


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _V:
    """Validators over one document; each returns a value or raises a ScenarioError."""

    def __init__(self, doc: _Doc) -> None:
        self.doc = doc

    def mapping(
        self, value: Any, path: Path_, keys: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.doc.error(
                path, f"expected a mapping, got {_kind_of(value)}", "keys " + ", ".join(keys)
            )
        for key in value:
            if key not in keys:
                raise self.doc.error((*path, key), f"unknown key {key!r}", ", ".join(keys))
        for key in required:
            if key not in value:
                raise self.doc.error(path, f"the key {key!r} is missing", ", ".join(keys))
        return value

    def seq(self, value: Any, path: Path_, what: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.doc.error(path, f"expected a list of {what}, got {_kind_of(value)}")
        return value

    def text(self, value: Any, path: Path_, *, empty: bool = False, lines: bool = False) -> str:
        """A text of printable characters and tabs (and, with ``lines``, line feeds): a
        control character would break the one-line output it is shown in, or the SIP
        message it is written into."""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.doc.error(path, f"expected a text, got {_kind_of(value)}")
        out = str(value)
        if not out.strip() and not empty:
            raise self.doc.error(path, "must not be empty")
        if not out.isprintable():
            allowed = "\t\n" if lines else "\t"
            bad = next((c for c in out if not c.isprintable() and c not in allowed), None)
            if bad is not None:
                raise self.doc.error(
                    path,
                    f"the character {bad!r} is not allowed here",
                    "printable characters and tabs" + (" and line feeds" if lines else ""),
                )
        return out

    def flag(self, value: Any, path: Path_) -> bool:
        if not isinstance(value, bool):
            raise self.doc.error(
                path, f"expected true or false, got {_kind_of(value)}", "true, false"
            )
        return value

    def number(
        self,
        value: Any,
        path: Path_,
        *,
        low: float = 0.0,
        high: float = MAX_SECONDS,
        low_open: bool = False,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.doc.error(path, f"expected a number, got {_kind_of(value)}")
        bad = value <= low if low_open else value < low
        if bad or value > high or math.isinf(value):
            lo = f"> {low:g}" if low_open else f">= {low:g}"
            hi = f" and <= {high:g}" if high != math.inf else ""
            raise self.doc.error(path, f"{value!r} is out of range", f"a finite number {lo}{hi}")
        return float(value)

    def integer(self, value: Any, path: Path_, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.doc.error(
                path, f"expected a whole number, got {_kind_of(value)}", f"{low}-{high}"
            )
        if not low <= value <= high:
            raise self.doc.error(path, f"{value} is out of range", f"{low}-{high}")
        return value

    def choice(self, value: Any, path: Path_, choices: tuple[str, ...], what: str) -> str:
        if not isinstance(value, str):
            raise self.doc.error(
                path, f"expected a {what}, got {_kind_of(value)}", ", ".join(choices)
            )
        if value not in choices:
            raise self.doc.error(path, f"unknown {what} {value!r}", ", ".join(choices))
        return value

    def method(self, value: Any, path: Path_, choices: tuple[str, ...] = METHODS) -> str:
        if isinstance(value, str) and value.upper() in choices and value != value.upper():
            raise self.doc.error(path, f"methods are upper case: {value!r}", ", ".join(choices))
        if value in ("ACK", "PRACK") and value not in choices:
            why = (
                "the UA core sends ACKs (RFC 3261 §13.2.2.4, §17.1.1.3)"
                if value == "ACK"
                else "reliable provisional responses (RFC 3262) are not simulated"
            )
            raise self.doc.error(path, f"a script cannot send {value}: {why}", ", ".join(choices))
        return self.choice(value, path, choices, "method")

    def element(self, value: Any, path: Path_, names: tuple[str, ...]) -> str:
        return self.choice(value, path, names, "element")


# -- the scenario grammar ------------------------------------------------------------------


def _proxy_spec(v: _V, spec: Any, path: Path_, name: str) -> ElementSpec:
    """``{role: proxy, location: {AOR: [TARGET | {target: T, q: Q}, ...]}, forking:
    parallel | sequential, record_route: BOOL, outbound_proxy: PROXY, routing: loose |
    strict}``."""
    data = v.mapping(spec, path, _PROXY)
    location: list[tuple[str, tuple[tuple[str, float], ...]]] = []
    if "location" in data:
        loc = data["location"]
        raw = v.mapping(loc, (*path, "location"), tuple(loc) if isinstance(loc, dict) else ())
        for aor, targets in raw.items():
            where: Path_ = (*path, "location", aor)
            found: list[tuple[str, float]] = []
            for i, t in enumerate(v.seq(targets, where, "targets")):
                if isinstance(t, dict):
                    item = v.mapping(t, (*where, i), ("target", "q"), ("target",))
                    q = v.number(item["q"], (*where, i, "q"), high=1.0) if "q" in item else 1.0
                    found.append((v.text(item["target"], (*where, i, "target")), q))
                else:
                    found.append((v.text(t, (*where, i)), 1.0))
            location.append((v.text(aor, where), tuple(found)))
    forking = (
        v.choice(data["forking"], (*path, "forking"), ("parallel", "sequential"), "forking")
        if "forking" in data
        else "parallel"
    )
    return ElementSpec(
        name,
        role="proxy",
        location=tuple(location),
        sequential=forking == "sequential",
        record_route=v.flag(data["record_route"], (*path, "record_route"))
        if "record_route" in data
        else False,
        outbound_proxy=v.text(data["outbound_proxy"], (*path, "outbound_proxy"))
        if "outbound_proxy" in data
        else "",
        strict_routing=v.choice(data["routing"], (*path, "routing"), ("loose", "strict"), "routing")
        == "strict"
        if "routing" in data
        else False,
    )


def _check_proxies(v: _V, elements: list[ElementSpec]) -> None:
    """An outbound proxy names a proxy; a location target names a user agent or proxy."""
    names = tuple(e.name for e in elements)
    proxies = tuple(e.name for e in elements if e.role == "proxy")
    for e in elements:
        path: Path_ = ("elements", e.name)
        if e.outbound_proxy and (e.outbound_proxy not in proxies or e.outbound_proxy == e.name):
            raise v.doc.error(
                (*path, "outbound_proxy"),
                f"{e.outbound_proxy!r} is not another proxy element",
                ", ".join(p for p in proxies if p != e.name) or "no proxy",
            )
        for aor, targets in e.location:
            for i, (target, _) in enumerate(targets):
                if target not in names or target == e.name:
                    raise v.doc.error(
                        (*path, "location", aor, i),
                        f"{target!r} is not another element",
                        ", ".join(n for n in names if n != e.name),
                    )

_TOP = (
    "name",
    "title",
    "rfc",
    "description",
    "transports",
    "profile",
    "profiles",
    "duration",
    "timers",
    "elements",
    "network",
    "script",
    "expect",
)
_ELEMENT = (
    "role",
    "call_id_owner",
    "retry_491",
    "auto_answer",
    "reject_code",
    "outbound_proxy",
    "outbound_route",
)
_PROXY = ("role", "location", "forking", "record_route", "outbound_proxy", "routing")
_LINK = ("delay", "loss", "duplicate", "reorder", "reorder_delay", "drop")
_PATTERN = (
    "request",
    "response",
    "status",
    "method",
    "cseq",
    "in_dialog",
    "body",
    "uri",
    "route",
    "record_route",
)
_WIRE = ("from", "to", "lost", "retransmission")
_ON = (*_PATTERN, "event", "dialog")
_STEP = (
    "at",
    "on",
    "after",
    "send",
    "respond",
    "never_answer",
    "to",
    "offer",
    "answer",
    "body",
    "headers",
    "omit_required",
    "out_of_dialog",
    "new_call",
    "to_tag",
    "reason",
    "repeat",
)
_SEND_KEYS = ("to", "offer", "body", "headers", "out_of_dialog", "new_call", "to_tag")
_RESPOND_KEYS = ("offer", "answer", "body", "headers", "omit_required", "reason")
_EXPECT = ("seen", "not_seen", "end_state", "no_violations", "violation", "order")


def _status(v: _V, value: Any, path: Path_) -> tuple[int, int]:
    """``200``, ``"2xx"`` or ``[400, 499]``."""
    allowed = "a code 100-699, a class such as 2xx, or a range [low, high]"
    if isinstance(value, str) and re.fullmatch(r"[1-6]xx", value):
        lo = int(value[0]) * 100
        return (lo, lo + 99)
    if isinstance(value, list):
        if len(value) != 2:
            raise v.doc.error(path, "a range has two codes", allowed)
        lo = v.integer(value[0], (*path, 0), 100, 699)
        hi = v.integer(value[1], (*path, 1), 100, 699)
        if lo > hi:
            raise v.doc.error(path, f"the range {lo}-{hi} is empty", allowed)
        return (lo, hi)
    if isinstance(value, int) and not isinstance(value, bool):
        code = v.integer(value, path, 100, 699)
        return (code, code)
    raise v.doc.error(path, f"expected a status, got {_kind_of(value)}", allowed)


def _pattern(
    v: _V, value: Any, path: Path_, keys: tuple[str, ...], names: tuple[str, ...] = ()
) -> MessagePattern:
    data = v.mapping(value, path, keys)
    kinds = [k for k in ("request", "response", "status") if k in data]
    if "request" in data and len(kinds) > 1:
        raise v.doc.error(
            path,
            "a pattern is about a request or a response, not both",
            "request: METHOD, or status/response",
        )
    kind: Literal["request", "response"] | None = None
    method = None
    status = None
    if "request" in data:
        kind = "request"
        method = v.method(data["request"], (*path, "request"))
    if "response" in data:
        kind = "response"
        method = v.method(data["response"], (*path, "response"))
    if "status" in data:
        kind = "response"
        status = _status(v, data["status"], (*path, "status"))
    if "method" in data:
        m = v.method(data["method"], (*path, "method"))
        if method is not None and m != method:
            raise v.doc.error((*path, "method"), f"{m} contradicts {method}")
        method = m
    cseq = v.integer(data["cseq"], (*path, "cseq"), 1, 2**31 - 1) if "cseq" in data else None
    in_dialog = v.flag(data["in_dialog"], (*path, "in_dialog")) if "in_dialog" in data else None
    body = v.flag(data["body"], (*path, "body")) if "body" in data else None
    src = v.element(data["from"], (*path, "from"), names) if "from" in data else None
    dst = v.element(data["to"], (*path, "to"), names) if "to" in data else None
    lost = v.flag(data["lost"], (*path, "lost")) if "lost" in data else None
    retx = (
        v.flag(data["retransmission"], (*path, "retransmission"))
        if "retransmission" in data
        else None
    )
    uri = v.text(data["uri"], (*path, "uri")) if "uri" in data else None
    if uri is not None and kind == "response":
        raise v.doc.error((*path, "uri"), "a response has no Request-URI", "request: METHOD")
    route, record_route = (
        tuple(
            v.text(item, (*path, key, i))
            for i, item in enumerate(v.seq(data[key], (*path, key), "header field values"))
        )
        if key in data
        else None
        for key in ("route", "record_route")
    )
    return MessagePattern(
        kind,
        method,
        status,
        cseq,
        in_dialog,
        body,
        src,
        dst,
        lost,
        retx,
        uri,
        route,
        record_route,
    )


def _delay(v: _V, value: Any, path: Path_) -> Delay:
    allowed = "seconds >= 0, {uniform: [low, high]} or {exponential: mean}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Delay("fixed", v.number(value, path))
    if isinstance(value, dict) and len(value) == 1:
        ((kind, arg),) = value.items()
        sub = (*path, kind)
        if kind == "uniform":
            pair = v.seq(arg, sub, "two numbers")
            if len(pair) != 2:
                raise v.doc.error(sub, "expected [low, high]", allowed)
            lo = v.number(pair[0], (*sub, 0))
            hi = v.number(pair[1], (*sub, 1))
            if lo > hi:
                raise v.doc.error(sub, f"low {lo:g} is above high {hi:g}", allowed)
            return Delay("uniform", lo, hi)
        if kind == "exponential":
            return Delay("exponential", v.number(arg, sub, low_open=True))
        raise v.doc.error(sub, f"unknown delay distribution {kind!r}", allowed)
    raise v.doc.error(path, f"expected a delay, got {_kind_of(value)}", allowed)


def _drop(v: _V, value: Any, path: Path_) -> DropRule:
    data = v.mapping(value, path, ("match", "nth", "every"), required=("match",))
    match = _pattern(v, data["match"], (*path, "match"), _PATTERN)
    if "nth" in data and "every" in data:
        raise v.doc.error(path, "give nth or every, not both", "nth: N, nth: [N, ...], every: true")
    nth: frozenset[int] = frozenset({1})
    every = False
    if "every" in data:
        every = v.flag(data["every"], (*path, "every"))
        if not every:
            raise v.doc.error((*path, "every"), "every: false drops nothing; use nth instead")
    if "nth" in data:
        raw = data["nth"]
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise v.doc.error((*path, "nth"), "the list is empty", "nth: N or nth: [N, ...]")
        nth = frozenset(
            v.integer(n, (*path, "nth", i) if isinstance(raw, list) else (*path, "nth"), 1, 10**6)
            for i, n in enumerate(items)
        )
    return DropRule(match, nth, every, _path_text(path))


def _link(v: _V, value: Any, path: Path_, names: tuple[str, ...], default: bool) -> LinkSpec:
    keys = _LINK if default else ("from", "to", *_LINK)
    data = v.mapping(value, path, keys, () if default else ("from", "to"))
    src = dst = None
    if not default:
        src = v.element(data["from"], (*path, "from"), names)
        dst = v.element(data["to"], (*path, "to"), names)
        if src == dst:
            raise v.doc.error((*path, "to"), "a link joins two different elements")

    def prob(key: str) -> float | None:
        return v.number(data[key], (*path, key), high=1.0) if key in data else None

    drops = (
        tuple(
            _drop(v, item, (*path, "drop", i))
            for i, item in enumerate(v.seq(data["drop"], (*path, "drop"), "drop rules"))
        )
        if "drop" in data
        else ()
    )
    return LinkSpec(
        src,
        dst,
        _delay(v, data["delay"], (*path, "delay")) if "delay" in data else None,
        prob("loss"),
        prob("duplicate"),
        prob("reorder"),
        _delay(v, data["reorder_delay"], (*path, "reorder_delay"))
        if "reorder_delay" in data
        else None,
        drops,
    )


def _network(v: _V, value: Any, names: tuple[str, ...]) -> NetworkSpec:
    path: Path_ = ("network",)
    data = v.mapping(value, path, ("default", "links", "drops_on_tcp"))
    default = (
        _link(v, data["default"], (*path, "default"), names, True)
        if "default" in data
        else LinkSpec()
    )
    links: list[LinkSpec] = []
    seen: set[tuple[str | None, str | None]] = set()
    if "links" in data:
        for i, item in enumerate(v.seq(data["links"], (*path, "links"), "links")):
            link = _link(v, item, (*path, "links", i), names, False)
            if (link.src, link.dst) in seen:
                raise v.doc.error(
                    (*path, "links", i), f"the link {link.src} -> {link.dst} is given twice"
                )
            seen.add((link.src, link.dst))
            links.append(link)
    tcp = v.flag(data["drops_on_tcp"], (*path, "drops_on_tcp")) if "drops_on_tcp" in data else False
    return NetworkSpec(default, tuple(links), tcp)


def _on(v: _V, value: Any, path: Path_) -> On:
    data = v.mapping(value, path, _ON)
    kinds = [k for k in ("request", "response", "status", "event", "dialog") if k in data]
    allowed = "request: METHOD, status: CODE (with method), event: NAME, dialog: STATE"
    if not kinds:
        what = "say whether it is a request or a response" if data else "says nothing to wait for"
        raise v.doc.error(path, what, allowed)
    if "event" in data or "dialog" in data:
        if len(kinds) > 1:
            raise v.doc.error(path, f"wait for one thing, not {' and '.join(kinds)}", allowed)
        if "dialog" in data:
            extra = [k for k in data if k != "dialog"]
            if extra:
                raise v.doc.error((*path, extra[0]), "a dialog state takes no other key")
            state = v.choice(data["dialog"], (*path, "dialog"), DIALOG_STATES[:-1], "dialog state")
            return On("dialog", dialog=state)
        extra = [k for k in data if k not in ("event", "method")]
        if extra:
            raise v.doc.error((*path, extra[0]), "an event takes only a method", "event, method")
        event = v.choice(data["event"], (*path, "event"), TU_EVENTS, "event")
        method = v.method(data["method"], (*path, "method")) if "method" in data else None
        return On("event", MessagePattern(method=method), event=event)
    pattern = _pattern(v, data, path, _PATTERN)
    if pattern.kind is None:
        raise v.doc.error(path, "say whether it is a request or a response", allowed)
    return On(pattern.kind, pattern)


#: RFC 3261 §25.1 token: what a header field name (and a tag) is made of.
_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")

#: The header fields the simulated UA writes into every message itself (`sipfsm.values.
#: message.to_wire`), by their lower-case names and compact forms (RFC 3261 §7.3.3): a
#: script that gave one would make the message carry it twice, which the trace checker
#: rightly calls unparseable (a second CSeq, Call-ID, From or To; two Content-Lengths), or
#: contradict what the transaction layer matches on (a second Via).
_SINGLE = "a second one makes the message invalid (RFC 3261 §7.3: it takes one value)"
_WRITTEN_RULES: dict[str, str] = {
    "Via": "the transaction layer writes it (RFC 3261 §8.1.1.7, §17.1.1.3); a second one "
    "changes what the response is matched on",
    "From": f"the UA core writes it (RFC 3261 §8.1.1.3); {_SINGLE}",
    "To": f"the UA core writes it (RFC 3261 §8.1.1.2); {_SINGLE}",
    "Call-ID": f"the UA core writes it (RFC 3261 §8.1.1.4); {_SINGLE}",
    "CSeq": f"the UA core writes it (RFC 3261 §8.1.1.5); {_SINGLE}",
    "Max-Forwards": "the UA core writes it (RFC 3261 §8.1.1.6)",
    "Content-Length": "the transport writes it from the body (RFC 3261 §18.1.1, §20.14); "
    "a second, different one makes the message invalid",
}
_WRITTEN: dict[str, str] = {
    **{name.lower(): name for name in _WRITTEN_RULES},
    "v": "Via", "f": "From", "t": "To", "i": "Call-ID", "l": "Content-Length",
}  # fmt: skip

#: RFC 3261 §20.17 (rfc1123-date in GMT), as the trace checker reads it.
_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT"
)
#: One Contact value (RFC 3261 §20.10, §25.1), in the forms the simulator writes through:
#: ``<URI>`` with an optional display name (tokens, or a quoted string without ``"<>,\\``),
#: or a bare URI without ``;?,``; each followed by ``;name[=value]`` parameters.
_CONTACT = re.compile(
    r"\s*(?:(?:[A-Za-z0-9.!%*_+`'~-]+(?:[ \t]+[A-Za-z0-9.!%*_+`'~-]+)*|\"[^\"\\<>,]*\")?[ \t]*"
    r"<[A-Za-z][A-Za-z0-9+.-]*:[^\s<>,\"]+>|[A-Za-z][A-Za-z0-9+.-]*:[^\s<>,;?\"]+)"
    r"(?:[ \t]*;[ \t]*[A-Za-z0-9.!%*_+`'~-]+(?:[ \t]*=[ \t]*[A-Za-z0-9.!%*_+`'~:\[\]-]+)?)*\s*"
)


def _headers(v: _V, value: Any, path: Path_) -> tuple[tuple[str, str], ...]:
    """A step's extra header fields. Names are RFC 3261 tokens; none may be one the UA
    writes itself (`_WRITTEN`); values are one line of printable text; Contact and Date,
    which the trace checker parses, must be in their RFC 3261 forms."""
    allowed = "a mapping {Name: value}"
    if not isinstance(value, dict):
        raise v.doc.error(path, f"expected header fields, got {_kind_of(value)}", allowed)
    out = []
    for name, raw in value.items():
        where = (*path, name)
        if not _TOKEN.fullmatch(name):
            raise v.doc.error(
                where,
                f"{shown(name)} is not a header field name",
                "a token of letters, digits and -.!%*_+`'~ (RFC 3261 §7.3.1, §25.1)",
            )
        written = _WRITTEN.get(name.lower())
        if written is not None:
            what = written if written == name else f"{name} ({written})"
            raise v.doc.error(
                where,
                f"a script cannot set {what}: {_WRITTEN_RULES[written]}",
                "other header fields, e.g. Contact, Expires, Allow, Require, Session-Expires",
            )
        text = v.text(raw, where, empty=True)
        canonical = name.lower()
        if (
            canonical in ("contact", "m")
            and text.strip() != "*"
            and not all(_CONTACT.fullmatch(part) for part in text.split(","))
        ):
            raise v.doc.error(
                where,
                f"{shown(text)} is not a Contact value",
                "*, or comma-separated <sip:user@host> or sip:user@host, each with "
                "optional ;name=value parameters (RFC 3261 §20.10)",
            )
        if canonical in NUMBER_HEADERS:
            try:
                check_number(name, text.strip())
            except WireError as exc:
                raise v.doc.error(
                    where, exc.reason, "a number (RFC 3261 §25.1; RAck: RFC 3262 §7.2)"
                ) from None
        if canonical == "date" and not _DATE.fullmatch(text.strip()):
            raise v.doc.error(
                where,
                f"{shown(text)} is not a Date",
                "an RFC 1123 date in GMT, e.g. Sat, 13 Nov 2010 23:29:00 GMT "
                "(RFC 3261 §20.17)",
            )
        out.append((name, text))
    return tuple(out)


def _step(v: _V, value: Any, path: Path_, element: str, index: int, names: tuple[str, ...]) -> Step:
    data = v.mapping(value, path, _STEP)
    actions = [k for k in ("send", "respond", "never_answer") if k in data]
    if len(actions) != 1:
        what = "does nothing" if not actions else f"does {' and '.join(actions)} at once"
        raise v.doc.error(
            path, f"a step {what}", "one of send: METHOD, respond: CODE, never_answer: true"
        )
    action = actions[0]
    if ("at" in data) == ("on" in data):
        raise v.doc.error(
            path,
            "a step needs exactly one of at (a time) and on (an event)",
            "at: SECONDS, on: {...}",
        )
    at = v.number(data["at"], (*path, "at")) if "at" in data else None
    on = _on(v, data["on"], (*path, "on")) if "on" in data else None
    if "after" in data and on is None:
        raise v.doc.error(
            (*path, "after"),
            "after counts from an event: use it with on",
            "at: SECONDS, or on: {...} with after: SECONDS",
        )
    after = v.number(data["after"], (*path, "after")) if "after" in data else 0.0
    body_keys = [k for k in ("offer", "answer", "body") if k in data]
    if len(body_keys) > 1:
        raise v.doc.error((*path, body_keys[1]), f"give one of {', '.join(body_keys)}")
    body = v.flag(data[body_keys[0]], (*path, body_keys[0])) if body_keys else None
    others = [n for n in names if n != element]
    where = _path_text(path)
    line = v.doc.line(path)
    if line:
        where += f" (line {line})"
    common = {"at", "on", "after", "repeat", action}
    repeat = v.flag(data["repeat"], (*path, "repeat")) if "repeat" in data else False
    if action == "send":
        allowed_keys = common | set(_SEND_KEYS)
        _only(v, data, path, allowed_keys, "send")
        method = v.method(data["send"], (*path, "send"), SENDABLE)
        if "to" in data:
            if data["to"] == element:
                raise v.doc.error(
                    (*path, "to"), "an element does not send to itself", ", ".join(others)
                )
            to = v.element(data["to"], (*path, "to"), tuple(others))
        elif len(others) == 1:
            to = others[0]
        else:
            raise v.doc.error(path, "say which element to send to", ", ".join(others))
        out_of_dialog = (
            v.flag(data["out_of_dialog"], (*path, "out_of_dialog"))
            if "out_of_dialog" in data
            else False
        )
        new_call = v.flag(data["new_call"], (*path, "new_call")) if "new_call" in data else False
        if new_call and method != "INVITE":
            raise v.doc.error((*path, "new_call"), "only an INVITE starts a call")
        to_tag = v.text(data["to_tag"], (*path, "to_tag")) if "to_tag" in data else ""
        if to_tag and not _TOKEN.fullmatch(to_tag):
            raise v.doc.error(
                (*path, "to_tag"),
                f"{shown(to_tag)} is not a tag",
                "a token of letters, digits and -.!%*_+`'~ (RFC 3261 §19.3, §25.1)",
            )
        if to_tag and not out_of_dialog:
            raise v.doc.error(
                (*path, "to_tag"),
                "a To tag of your own needs out_of_dialog: "
                "true (in a dialog the tag is the dialog's)",
            )
        if "answer" in data:
            raise v.doc.error(
                (*path, "answer"), "a request carries an offer", "offer: true, body: true"
            )
        return Step(
            element,
            index,
            where,
            "send",
            at,
            on,
            after,
            method=method,
            to=to,
            body=body,
            headers=_headers(v, data["headers"], (*path, "headers")) if "headers" in data else (),
            out_of_dialog=out_of_dialog,
            new_call=new_call,
            to_tag=to_tag,
            repeat=repeat,
        )
    if on is None or on.kind != "request" or on.pattern.method in ("ACK", "CANCEL"):
        why = (
            "the UA core answers a CANCEL (RFC 3261 §9.2) and an ACK is never answered"
            if on is not None and on.kind == "request"
            else "it answers the request of its event"
        )
        raise v.doc.error(
            path,
            f"{action} needs on: {{request: METHOD}}: {why}",
            "on: {request: INVITE}, on: {request: BYE} ...",
        )
    if action == "never_answer":
        _only(v, data, path, common, "never_answer")
        if not v.flag(data["never_answer"], (*path, "never_answer")):
            raise v.doc.error((*path, "never_answer"), "never_answer: false does nothing")
        return Step(element, index, where, "never_answer", at, on, after, repeat=repeat)
    _only(v, data, path, common | set(_RESPOND_KEYS), "respond")
    code = v.integer(data["respond"], (*path, "respond"), 100, 699)
    omit = (
        v.flag(data["omit_required"], (*path, "omit_required"))
        if "omit_required" in data
        else False
    )
    reason = v.text(data["reason"], (*path, "reason")) if "reason" in data else ""
    return Step(
        element,
        index,
        where,
        "respond",
        at,
        on,
        after,
        code=code,
        body=body,
        headers=_headers(v, data["headers"], (*path, "headers")) if "headers" in data else (),
        omit_required=omit,
        reason=reason,
        repeat=repeat,
    )


def _only(v: _V, data: dict[str, Any], path: Path_, allowed: set[str], action: str) -> None:
    for key in data:
        if key not in allowed:
            raise v.doc.error(
                (*path, key),
                f"{key!r} does not go with {action}",
                ", ".join(k for k in _STEP if k in allowed),
            )


def _expectation(v: _V, value: Any, path: Path_, names: tuple[str, ...]) -> Expectation:
    allowed = ", ".join(_EXPECT)
    if not isinstance(value, dict) or not value:
        raise v.doc.error(path, f"expected a mapping with one of {allowed}, got {_kind_of(value)}")
    kinds = [k for k in value if k in _EXPECT]
    if len(kinds) != 1:
        unknown = [k for k in value if k not in _EXPECT]
        if unknown:
            raise v.doc.error((*path, unknown[0]), f"unknown expectation {unknown[0]!r}", allowed)
        raise v.doc.error(path, f"one expectation per item, not {' and '.join(kinds)}")
    kind = kinds[0]
    sub = (*path, kind)
    where = _path_text(path)
    arg = value[kind]
    if kind in ("seen", "not_seen"):
        keys = (*_PATTERN, *_WIRE) + (("count", "at_least") if kind == "seen" else ())
        v.mapping(value, path, (kind,))
        data = v.mapping(arg, sub, keys)
        pattern = _pattern(
            v, {k: x for k, x in data.items() if k not in ("count", "at_least")}, sub, keys, names
        )
        count = v.integer(data["count"], (*sub, "count"), 0, 10**6) if "count" in data else None
        least = (
            v.integer(data["at_least"], (*sub, "at_least"), 1, 10**6)
            if "at_least" in data
            else None
        )
        if count is not None and least is not None:
            raise v.doc.error(sub, "give count or at_least, not both")
        text = ("seen " if kind == "seen" else "never seen ") + pattern.describe()
        if count is not None:
            text += f", exactly {count} time{'s' if count != 1 else ''}"
        if least is not None:
            text += f", at least {least} time{'s' if least != 1 else ''}"
        return Expectation(kind, text, where, pattern, count, least)
    v.mapping(value, path, (kind,))
    if kind == "end_state":
        data = v.mapping(arg, sub, ("element", "dialog"), required=("element", "dialog"))
        element = v.element(data["element"], (*sub, "element"), names)
        state = v.choice(data["dialog"], (*sub, "dialog"), DIALOG_STATES, "dialog state")
        return Expectation(
            kind, f"{element}'s dialog ends in {state}", where, element=element, dialog=state
        )
    if kind == "no_violations":
        if not v.flag(arg, sub):
            raise v.doc.error(sub, "no_violations: false expects nothing; leave it out")
        return Expectation(kind, "no invariant violated", where)
    if kind == "violation":
        rule = v.choice(arg, sub, tuple(INVARIANTS), "invariant")
        return Expectation(kind, f"the invariant {rule} is violated", where, rule=rule)
    items = v.seq(arg, sub, "message patterns")
    if len(items) < 2:
        raise v.doc.error(sub, "an order needs at least two messages")
    patterns = tuple(
        _pattern(v, item, (*sub, i), (*_PATTERN, *_WIRE), names) for i, item in enumerate(items)
    )
    text = "in order: " + "; ".join(p.describe() for p in patterns)
    return Expectation("order", text, where, patterns=patterns)


# complex on purpose (C901): one key of the scenario grammar after the other
def parse(text: str, source: str = "<scenario>", limits: Limits = DEFAULT_LIMITS) -> Scenario:  # noqa: C901
    """The scenario in YAML ``text``; ``source`` names it in errors (a file name). The text
    is read within ``limits`` (`sipfsm.sim.limits`: its size, nesting and aliases)."""
    if not isinstance(limits, Limits):
        raise ScenarioError(str(source), None, "", "limits must be a sipfsm.sim.limits.Limits")
    source = str(source)
    doc = _Doc(source, text, limits)
    v = _V(doc)
    if doc.data is None:
        raise ScenarioError(
            source,
            None,
            "",
            "the scenario is empty",
            "a mapping with name, title, elements and script",
        )
    top = v.mapping(doc.data, (), _TOP, required=("name", "title", "elements"))
    name = v.text(top["name"], ("name",))
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise doc.error(
            ("name",),
            f"{shown(name)} is not a scenario name",
            "at most 64 letters, digits, '.', '_' and '-', e.g. rfc5407-3.3.1",
        )
    title = v.text(top["title"], ("title",))
    rfc = v.text(top["rfc"], ("rfc",)) if "rfc" in top else ""
    description = (
        v.text(top["description"], ("description",), empty=True, lines=True)
        if "description" in top
        else ""
    )

    def names_list(key: str, choices: tuple[str, ...], what: str) -> tuple[str, ...]:
        items = v.seq(top[key], (key,), what + "s")
        if not items:
            raise doc.error((key,), "the list is empty", ", ".join(choices))
        out = tuple(v.choice(x, (key, i), choices, what) for i, x in enumerate(items))
        if len(set(out)) != len(out):
            raise doc.error((key,), f"a {what} is listed twice")
        return out

    transports = (
        names_list("transports", TRANSPORTS, "transport") if "transports" in top else TRANSPORTS
    )
    profiles = names_list("profiles", PROFILES, "profile") if "profiles" in top else PROFILES
    profile = (
        v.choice(top["profile"], ("profile",), PROFILES, "profile")
        if "profile" in top
        else profiles[0]
    )
    if profile not in profiles:
        raise doc.error(("profile",), f"{profile} is not among profiles", ", ".join(profiles))
    duration = (
        v.number(top["duration"], ("duration",), low_open=True)
        if "duration" in top
        else DEFAULT_DURATION
    )
    t1, t2, t4 = 0.5, 4.0, 5.0
    if "timers" in top:
        tim = v.mapping(top["timers"], ("timers",), ("t1", "t2", "t4"))
        t1 = v.number(tim["t1"], ("timers", "t1"), low_open=True) if "t1" in tim else t1
        t2 = v.number(tim["t2"], ("timers", "t2"), low_open=True) if "t2" in tim else t2
        t4 = v.number(tim["t4"], ("timers", "t4"), low_open=True) if "t4" in tim else t4
    # elements
    raw_elements = top["elements"]
    if not isinstance(raw_elements, dict) or not raw_elements:
        raise doc.error(
            ("elements",),
            f"expected a mapping of element names, got {_kind_of(raw_elements)}",
            "e.g. {alice: {role: ua}, bob: {role: ua}}",
        )
    elements = []
    for ename, spec in raw_elements.items():
        path: Path_ = ("elements", ename)
        if not _NAME.fullmatch(ename):
            raise doc.error(
                path,
                f"{ename!r} is not an element name",
                "a letter, then letters, digits, '_' or '-' (at most 32)",
            )
        role = "ua"
        if isinstance(spec, dict) and "role" in spec:
            role = v.choice(spec["role"], (*path, "role"), ("ua", "proxy"), "role")
        if role == "proxy":
            elements.append(_proxy_spec(v, spec, path, ename))
            continue
        data = v.mapping({} if spec is None else spec, path, _ELEMENT)
        elements.append(
            ElementSpec(
                ename,
                call_id_owner=v.flag(data["call_id_owner"], (*path, "call_id_owner"))
                if "call_id_owner" in data
                else None,
                retry_491=v.flag(data["retry_491"], (*path, "retry_491"))
                if "retry_491" in data
                else True,
                auto_answer=v.flag(data["auto_answer"], (*path, "auto_answer"))
                if "auto_answer" in data
                else True,
                reject_code=v.integer(data["reject_code"], (*path, "reject_code"), 300, 699)
                if "reject_code" in data
                else 480,
                outbound_proxy=v.text(data["outbound_proxy"], (*path, "outbound_proxy"))
                if "outbound_proxy" in data
                else "",
                outbound_route=v.flag(data["outbound_route"], (*path, "outbound_route"))
                if "outbound_route" in data
                else False,
            )
        )
        if elements[-1].outbound_route and not elements[-1].outbound_proxy:
            raise doc.error(
                (*path, "outbound_route"),
                "a route to the outbound proxy needs an outbound proxy",
                "outbound_proxy: PROXY, or no outbound_route",
            )
    names = tuple(e.name for e in elements)
    _check_proxies(v, elements)
    network = _network(v, top["network"], names) if "network" in top else NetworkSpec()
    if network.has_drops and "tcp" in transports and not network.drops_on_tcp:
        raise doc.error(
            ("network",),
            "named drop rules lose messages, which TCP never does",
            "transports: [udp], or network.drops_on_tcp: true",
        )
    # the script
    steps: list[Step] = []
    if "script" in top:
        script = top["script"]
        if not isinstance(script, dict):
            raise doc.error(
                ("script",),
                f"expected a mapping of element names to steps, got {_kind_of(script)}",
                ", ".join(names),
            )
        for ename in script:
            if ename not in names:
                raise doc.error(
                    ("script", ename), f"no element is named {ename!r}", ", ".join(names)
                )
        for ename, items in script.items():
            if ename in names and next(e for e in elements if e.name == ename).role == "proxy":
                raise doc.error(
                    ("script", ename), "a proxy has no script: its location service decides",
                    ", ".join(e.name for e in elements if e.role == "ua"),
                )
            for i, item in enumerate(v.seq(items, ("script", ename), "steps")):
                steps.append(_step(v, item, ("script", ename, i), ename, i, names))
    expect = (
        tuple(
            _expectation(v, item, ("expect", i), names)
            for i, item in enumerate(v.seq(top["expect"], ("expect",), "expectations"))
        )
        if "expect" in top
        else ()
    )
    lines = {_path_text(p): n for p, n in doc.lines.items()}
    return Scenario(
        name,
        title,
        tuple(elements),
        tuple(steps),
        expect,
        network,
        rfc,
        description,
        transports,
        profile,
        profiles,
        duration,
        t1,
        t2,
        t4,
        source,
        lines,
    )


# -- files and the built-in library ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    name: str
    title: str
    rfc: str


def _natural(name: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _library_files() -> Iterator[tuple[str, str]]:
    folder = resources.files("sipfsm.sim") / "library"
    for item in folder.iterdir():
        if item.name.endswith(".yaml") and item.is_file():
            yield item.name[: -len(".yaml")], item.read_text(encoding="utf-8")


def library() -> list[LibraryEntry]:
    """The built-in scenarios (``sipfsm/sim/library/*.yaml``), in natural name order."""
    out = []
    for name, text in _library_files():
        sc = parse(text, f"library:{name}.yaml")
        out.append(LibraryEntry(name, sc.title, sc.rfc))
    return sorted(out, key=lambda e: _natural(e.name))


def load(name_or_path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Scenario:
    """A built-in scenario by name (``rfc5407-3.3.1``) or a scenario file, read within
    ``limits`` (`sipfsm.sim.limits`). A file must be a regular file: a device (``/dev/zero``)
    or a pipe would be read for ever; no more than the size limit is read of it."""
    if not isinstance(name_or_path, str | Path):
        raise ScenarioError(
            shown(name_or_path), None, "", "not a scenario name or path", "a str or a Path"
        )
    text_name = str(name_or_path)
    path = Path(text_name)
    if (
        isinstance(name_or_path, Path)
        or text_name.endswith((".yaml", ".yml"))
        or (("/" in text_name or "\\" in text_name) and _exists(path))
    ):
        return parse(_read(path, text_name, limits), text_name, limits)
    files = dict(_library_files())
    if text_name not in files:
        names = sorted(files, key=_natural)
        raise ScenarioError(
            text_name,
            None,
            "",
            "no built-in scenario or file of this name",
            ", ".join(names) + ", or a path to a .yaml file",
        )
    return parse(files[text_name], f"library:{text_name}.yaml", limits)


def _read(path: Path, name: str, limits: Limits) -> str:
    """The text of a scenario file: a regular file, at most ``limits.yaml_bytes`` long."""
    try:
        if not _exists(path):
            raise ScenarioError(name, None, "", "no such file")
        if not path.is_file():
            raise ScenarioError(name, None, "", "not a regular file", "a .yaml file")
        with path.open("rb") as handle:
            data = handle.read(limits.yaml_bytes + 1)
    except ScenarioError:
        raise
    except (OSError, ValueError) as exc:  # (ValueError: a NUL in the name)
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError(name, None, "", f"cannot be read: {why}") from None
    if len(data) > limits.yaml_bytes:
        raise ScenarioError(
            name,
            None,
            "",
            f"the scenario is more than {limits.yaml_bytes:,} bytes",
            limit=limits.hint("yaml-bytes"),
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            name, line, "", f"cannot be read: not UTF-8 (byte {exc.start})"
        ) from None


def _exists(path: Path) -> bool:
    """Whether ``path`` names something; a name the system refuses (too long, a NUL in
    it) names nothing."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False
