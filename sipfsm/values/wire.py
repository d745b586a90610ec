"""SIP messages as they travel on the wire: bytes in, `sipfsm.values.message.Request` /
`sipfsm.values.message.Response` out, or a `WireError` that says why not.

Why a parser of our own (measured, see docs/checker.md "Parsing"): the maintained library
``sipmessage`` 0.7.1 parses about 33,000 SIPp INVITEs per second on this project's
machines once the fields the transaction layer needs (top Via, From and To tags, CSeq)
are read -- below the checker's 50,000 messages/s goal before any replay -- and it
rejects valid RFC 4475 messages (header folding, RFC 3261 §7.3.1). This module follows
the RFC 3261 §25 grammar for exactly the parts the model reads, strictly, and keeps every
other header field as text.

What is checked (each rejection names the rule):

* the start line: ``Method SP Request-URI SP SIP-Version`` with single spaces, or
  ``SIP-Version SP 3DIGIT SP Reason-Phrase`` (RFC 3261 §7.1, §7.2, §25.1); SIP/2.0 only;
  no ``<>`` around, and no headers in, a SIP Request-URI (§19.1.1 Table 1);
* header lines: ``token HCOLON value``, folded lines unfolded (§7.3.1), compact forms
  expanded (§7.3.3); the mandatory Via, From, To, Call-ID and CSeq (§8.1.1, §8.2.6.2);
* Via (§20.42), From / To / Contact (§20.10, §20.20, §20.39: a display name is tokens or
  a quoted string; an addr-spec with ``?`` or ``,`` must be in ``<>``; no spaces inside
  ``<>``), CSeq (§8.1.1.5: number below 2**31, method equal to the request's), Call-ID,
  Content-Length (§20.14, §18.3: not larger than the octets that follow; trailing octets
  of a datagram are ignored), Date (§20.17: rfc1123-date in GMT).

Line ends: CRLF as RFC 3261 §7 says; a message with bare LF line ends throughout (as
some logs store them) is accepted too.
"""

from __future__ import annotations

import re
from typing import Any, Final

from sipfsm.values.catalogue import COMPACT_FORMS
from sipfsm.values.errors import WireError
from sipfsm.values.headers import MAX_DIGITS, check_number, split_list, too_many_digits
from sipfsm.values.message import Message, Request, Response

#: RFC 3261 §7.3.3 compact forms, plus the IANA-registered ones the catalogue does not use.
COMPACT: Final[dict[str, str]] = {
    **{k.lower(): v for k, v in COMPACT_FORMS.items()},
    "a": "Accept-Contact",  # RFC 3841
    "d": "Request-Disposition",  # RFC 3841
    "j": "Reject-Contact",  # RFC 3841
    "r": "Refer-To",  # RFC 3515
}

_TOKEN_CHARS = r"A-Za-z0-9\-.!%*_+`'~"
_TOKEN = f"[{_TOKEN_CHARS}]+"
_TOKEN_RE = re.compile(f"{_TOKEN}$")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAM_RE = re.compile(rf"\s*;\s*({_TOKEN})(?:\s*=\s*({_QUOTED}|[^\s;,\"]+))?\s*", re.DOTALL)
_VIA_RE = re.compile(
    r"SIP\s*/\s*2\.0\s*/\s*(" + _TOKEN + r")\s+"
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?:\s*:\s*([0-9]{1,5}))?\s*(;.*)?$",
    re.DOTALL | re.IGNORECASE,
)
_CSEQ_RE = re.compile(rf"([0-9]+)\s+({_TOKEN})$")
_DISPLAY_TOKENS_RE = re.compile(rf"(?:{_TOKEN}(?:\s+{_TOKEN})*)?$")
_FOLD_RE = re.compile(r"\r?\n[ \t]+")
_DATE_RE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$"
)
_CALL_ID_RE = re.compile(r"\S+$")
#: A control character RFC 3261 §25.1 admits nowhere in a header field: CR and LF (but
#: to end a line or fold it), and any other (HTAB aside, which is white space) unless a
#: backslash escapes it, as a quoted-pair inside a quoted string may (RFC 4475 §3.1.1.2).
#: (Searched only in a line that is not `str.isprintable`: a line without a control
#: character mostly is, and that test is ten times faster.)
_CTL_RE = re.compile(r"[\n\r]|(?<!\\)[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: The start line takes none (Request-URI, Reason-Phrase: RFC 3261 §25.1).
_START_CTL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

#: RFC 3261 §8.1.1.5: the CSeq number MUST be less than 2**31.
CSEQ_LIMIT: Final = 2**31

# -- limits (docs/limits.md, "The checker") -------------------------------------------------
#
# A message over one of these limits is not parsed: `parse` raises a `WireError` that names
# the limit, and the checker counts one unparseable message and judges the rest of the
# trace. Each is far above what SIP endpoints send; to raise one, edit it here (the compiled
# build inlines them: rebuild with `make build`).

#: Octets of one message: a datagram (its trailing octets included) or a message framed
#: from a stream. A UDP datagram carries at most 65,507; RFC 3261 §18.3 bounds nothing on
#: a stream, and a trace may hold anything.
MAX_MESSAGE_SIZE: Final = 1 << 20
#: Characters of one line of the header section: the start line, or a header field once
#: unfolded (RFC 3261 §7.3.1).
MAX_HEADER_LINE: Final = 16_384
#: Header fields of one message (lines once unfolded, the start line not counted).
MAX_HEADERS: Final = 512
#: Via values of one message, over all its Via header fields (comma-separated and
#: repeated, RFC 3261 §7.3.1): each proxy on the path adds one (§16.6 step 8), and a
#: request is forwarded at most Max-Forwards times (70 by default, §8.1.1.6), so a
#: message with more is taken for a loop gone wrong or an attack on the parser.
MAX_VIAS: Final = 256
_MANDATORY: Final = ("Via", "From", "To", "Call-ID", "CSeq")
_CACHE_LIMIT: Final = 50_000


# -- small parsers (each cached: header values repeat across a trace) -----------------------


def _params(text: str, where: str) -> dict[str, str]:
    """``*( SEMI generic-param )`` (RFC 3261 §25.1): names lower-cased, quotes kept."""
    found: dict[str, str] = {}
    pos = 0
    end = len(text)
    while pos < end:
        m = _PARAM_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise WireError(f"{where}: malformed parameter at {text[pos : pos + 20]!r}")
        found[m.group(1).lower()] = m.group(2) or ""
        pos = m.end()
    return found


ViaInfo = tuple[str, str, str]  # (transport, sent-by, branch)
_VIA_CACHE: dict[str, ViaInfo] = {}


def parse_via(value: str) -> ViaInfo:
    """The top Via of a Via header value: transport, sent-by and branch ("" if none).
    Every element of the value is checked (RFC 3261 §20.42, §25.1)."""
    hit = _VIA_CACHE.get(value)
    if hit is not None:
        return hit
    top: ViaInfo | None = None
    for element in split_list(value):
        element = element.strip()
        if not element:
            raise WireError("Via: empty value between commas (RFC 3261 §20.42)")
        m = _VIA_RE.match(element)
        if m is None:
            raise WireError(f"Via: not 'SIP/2.0/transport sent-by' in {element[:40]!r}")
        params = _params(m.group(4) or "", "Via")
        if top is None:
            host = m.group(2).lower()
            sent_by = f"{host}:{m.group(3)}" if m.group(3) else host
            top = (m.group(1).upper(), sent_by, params.get("branch", ""))
    assert top is not None
    if len(_VIA_CACHE) > _CACHE_LIMIT:
        _VIA_CACHE.clear()
    _VIA_CACHE[value] = top
    return top


ViaStack = tuple[tuple[str, str], ...]  # ((sent-by, branch), ...), top first
_STACK_CACHE: dict[str, ViaStack] = {}


def parse_vias(value: str) -> ViaStack:
    """Every element of a Via header value, in order: ``(sent-by, branch)`` each (branch
    "" if none), checked as `parse_via` checks them (RFC 3261 §20.42, §25.1)."""
    hit = _STACK_CACHE.get(value)
    if hit is not None:
        return hit
    stack: list[tuple[str, str]] = []
    for element in split_list(value):
        element = element.strip()
        if not element:
            raise WireError("Via: empty value between commas (RFC 3261 §20.42)")
        m = _VIA_RE.match(element)
        if m is None:
            raise WireError(f"Via: not 'SIP/2.0/transport sent-by' in {element[:40]!r}")
        params = _params(m.group(4) or "", "Via")
        host = m.group(2).lower()
        stack.append((f"{host}:{m.group(3)}" if m.group(3) else host, params.get("branch", "")))
    result = tuple(stack)
    if len(_STACK_CACHE) > _CACHE_LIMIT:
        _STACK_CACHE.clear()
    _STACK_CACHE[value] = result
    return result


def _too_many_vias(count: int) -> WireError:
    return WireError(
        f"more than {MAX_VIAS} Via values ({count} so far), the limit (sipfsm.values.wire.MAX_VIAS)"
    )


_ADDR_CACHE: dict[str, tuple[str, str]] = {}


def parse_address(value: str, header: str = "From") -> tuple[str, str]:
    """One ``name-addr / addr-spec`` with header parameters (RFC 3261 §20.10, §20.20,
    §20.39): its URI and its tag parameter ("" if none)."""
    hit = _ADDR_CACHE.get(value)
    if hit is not None:
        return hit
    text = value.strip()
    if text.startswith('"'):
        m = re.match(_QUOTED, text, re.DOTALL)
        if m is None:
            raise WireError(f"{header}: unterminated quoted string in the display name")
        rest = text[m.end() :].lstrip()
        if not rest.startswith("<"):
            raise WireError(f"{header}: a quoted display name must be followed by <URI>")
        uri, params = _bracketed(rest, header)
    elif "<" in text:
        lt = text.index("<")
        display = text[:lt].strip()
        if not _DISPLAY_TOKENS_RE.match(display):
            raise WireError(
                f"{header}: display name {display[:30]!r} must be tokens or a quoted string "
                "(RFC 3261 §25.1)"
            )
        uri, params = _bracketed(text[lt:], header)
    else:
        semi = text.find(";")
        uri = (text if semi < 0 else text[:semi]).strip()
        params = "" if semi < 0 else text[semi:]
        _check_uri(uri, header)
        after_at = uri.split("@", 1)[-1]
        if "?" in after_at or "," in uri:
            raise WireError(
                f"{header}: a URI with '?' or ',' must be enclosed in <> (RFC 3261 §20.10)"
            )
    tag = _params(params, header).get("tag", "") if params.strip() else ""
    result = (uri, tag)
    if len(_ADDR_CACHE) > _CACHE_LIMIT:
        _ADDR_CACHE.clear()
    _ADDR_CACHE[value] = result
    return result


def _bracketed(text: str, header: str) -> tuple[str, str]:
    gt = text.find(">")
    if gt < 0:
        raise WireError(f"{header}: '<' without '>'")
    uri = text[1:gt]
    if uri != uri.strip() or any(c in uri for c in " \t"):
        raise WireError(f"{header}: whitespace inside <> (RFC 3261 §25.1 addr-spec)")
    _check_uri(uri, header)
    return uri, text[gt + 1 :]


def _check_uri(uri: str, where: str) -> None:
    if not _SCHEME_RE.match(uri):
        raise WireError(f"{where}: {uri[:40]!r} is not a URI (scheme ':' ...)")


def _check_contact(value: str) -> None:
    if value.strip() == "*":
        return
    for element in split_list(value):
        if not element.strip():
            raise WireError("Contact: empty value between commas")
        parse_address(element, "Contact")


_CSEQ_CACHE: dict[str, tuple[int, str]] = {}


def parse_cseq(value: str) -> tuple[int, str]:
    """``CSeq: 1*DIGIT LWS Method`` (RFC 3261 §8.1.1.5, §20.16)."""
    hit = _CSEQ_CACHE.get(value)
    if hit is not None:
        return hit
    m = _CSEQ_RE.match(value)
    if m is None:
        raise WireError(f"CSeq: {value[:40]!r} is not 'number method'")
    digits = m.group(1)
    if len(digits) > MAX_DIGITS:
        raise too_many_digits("CSeq", digits)
    number = int(digits)
    if number >= CSEQ_LIMIT:
        raise WireError(
            f"CSeq: sequence number {m.group(1)[:24]} is not below 2**31 (RFC 3261 §8.1.1.5)"
        )
    result = (number, m.group(2))
    if len(_CSEQ_CACHE) > _CACHE_LIMIT:
        _CSEQ_CACHE.clear()
    _CSEQ_CACHE[value] = result
    return result


# -- header section ------------------------------------------------------------------------

_GOOD_NAMES: dict[str, str] = {}


def _header_name(raw: str) -> str:
    """The canonical name of a header line's name part, or a WireError."""
    name = _GOOD_NAMES.get(raw)
    if name is not None:
        return name
    stripped = raw.rstrip(" \t")
    if not _TOKEN_RE.match(stripped):
        raise WireError(f"header name {stripped[:30]!r} is not a token (RFC 3261 §7.3.1)")
    name = COMPACT.get(stripped.lower(), stripped) if len(stripped) == 1 else stripped
    if len(_GOOD_NAMES) < _CACHE_LIMIT:
        _GOOD_NAMES[raw] = name
    return name


def find_header_end(data: bytes, start: int = 0) -> tuple[int, int]:
    """Where the header section of the message at ``start`` ends: (index of the empty
    line, index of the first body octet); (-1, -1) if there is no empty line yet."""
    end = data.find(b"\r\n\r\n", start)
    if end >= 0:
        return end, end + 4
    end = data.find(b"\n\n", start)
    if end >= 0 and b"\r\n" not in data[start:end]:
        return end, end + 2
    return -1, -1


def content_length(head: bytes) -> int | None:
    """The Content-Length of a header section (bytes), for stream framing (RFC 3261
    §18.3); None if absent; WireError if malformed or repeated with different values."""
    found: int | None = None
    for line in head.split(b"\n"):
        name, colon, value = line.partition(b":")
        if not colon:
            continue
        key = name.strip().lower()
        if key in (b"content-length", b"l"):
            text = value.strip()
            if not text.isdigit():
                raise WireError(
                    f"Content-Length: {text[:20].decode('latin-1')!r} is not a non-negative "
                    "integer (RFC 3261 §20.14)"
                )
            if len(text) > MAX_DIGITS:
                raise too_many_digits("Content-Length", text)
            number = int(text)
            if found is not None and found != number:
                raise WireError("two different Content-Length values (RFC 3261 §20.14)")
            found = number
    return found


#: Header lines seen before, split and named: ``line -> (name, value, lower-case name)``.
#: A trace repeats most lines (CSeq, Contact, Max-Forwards ...) and each call's Via, From,
#: To and Call-ID in several messages; a line is only cached once its name is valid.
_LINE_CACHE: dict[str, tuple[str, str, str]] = {}
_START_CACHE: dict[str, tuple[str, str] | tuple[int, str]] = {}
_CONTACTS_OK: set[str] = set()


def clear_caches() -> None:
    """Forget every memoised header value and line (benchmarks start cold with it)."""
    for cache in (
        _VIA_CACHE,
        _STACK_CACHE,
        _ADDR_CACHE,
        _CSEQ_CACHE,
        _GOOD_NAMES,
        _LINE_CACHE,
        _START_CACHE,
        _LINES_OK,
        _NAME_CODES,
    ):
        cache.clear()
    _CONTACTS_OK.clear()


def _header_line(line: str, number: int) -> tuple[str, str, str]:
    raw_name, colon, value = line.partition(":")
    if not colon:
        raise WireError(f"header line {number} has no ':' ({line[:30]!r})")
    _no_control(line, f"header line {number}")
    name = _header_name(raw_name)
    found = (name, value.strip(), name.lower())
    if len(_LINE_CACHE) > _CACHE_LIMIT:
        _LINE_CACHE.clear()
    _LINE_CACHE[line] = found
    return found


def _no_control(line: str, where: str, pattern: re.Pattern[str] = _CTL_RE) -> None:
    if line.isprintable():  # (the common case, at C speed: the pattern is slower)
        return
    ctl = pattern.search(line)
    if ctl is not None:
        raise WireError(
            f"{where} has a control character {ctl.group()!r} at {ctl.start()} (RFC 3261 §25.1)"
        )


def parse(data: bytes, *, stream: bool = False) -> Message:
    """Parse one SIP message.

    ``data`` is a datagram (UDP; octets after the Content-Length body are ignored, RFC
    3261 §18.3) or, with ``stream=True``, exactly one message framed from a stream.
    Raises `WireError` with the reason when the message is not valid SIP.

    The fast path takes each header line from `_LINES_OK` (lines already validated whole,
    with what the message needs of them) and only checks what depends on the message:
    one From, To, Call-ID and CSeq, the Content-Length against the body, the CSeq method.
    Anything it does not accept -- a line that fails, a message-level rule -- goes to
    `_parse_strict`, which checks everything in order and so gives the same verdict and
    reason whichever path a message takes.
    """
    head, body_start, eol = _split_head(data)
    # (a folded line, RFC 3261 §7.3.1, starts with white space: never a line of
    # `_LINES_OK`, so such a message goes to `_parse_strict`, which unfolds it)
    lines = head.split(eol)
    first = _START_CACHE.get(lines[0])
    if (
        first is None
        or len(lines) > MAX_HEADERS + 1
        or (len(head) > MAX_HEADER_LINE and max(map(len, lines)) > MAX_HEADER_LINE)
    ):
        return _parse_strict(data, stream)  # (which names the limit)
    headers: list[tuple[str, str]] = []
    append = headers.append
    get = _LINES_OK.get
    found: list[Any] = [None] * _FIELDS
    for line in lines[1:]:
        hit = get(line)
        if hit is None:
            hit = _checked_line(line)
            if hit is None:
                return _parse_strict(data, stream)
        append(hit[0])
        code = hit[1]
        if code:
            seen = found[code]
            if seen is None:
                found[code] = hit[2]
            elif code == _VIA:
                if len(seen) > MAX_VIAS:
                    return _parse_strict(data, stream)  # (which names the limit)
                found[_VIA] = seen + hit[2]  # (the Via stack, top first: §7.3.1, §20.42)
            elif code <= _CSEQ or (code == _LENGTH and seen != hit[2]):
                return _parse_strict(data, stream)  # one of them twice
    _none, from_tag, to_tag, call_id, cseq, stack, length = found[: _LENGTH + 1]
    if stack is None or from_tag is None or to_tag is None or call_id is None or cseq is None:
        return _parse_strict(data, stream)  # a mandatory header field is missing
    if len(stack) > MAX_VIAS:
        return _parse_strict(data, stream)  # (which names the limit)
    sent_by, branch = stack[0]
    available = len(data) - body_start
    if length is None:
        size = available
    else:
        size = int(length)
        if size > available or (stream and size != available):
            return _parse_strict(data, stream)
    body = data[body_start : body_start + size].decode("utf-8", "surrogateescape") if size else ""
    code_or_method, text = first
    if type(code_or_method) is int:
        return Response(
            code_or_method,
            text,
            cseq[1],
            call_id,
            cseq[0],
            from_tag,
            to_tag,
            branch,
            sent_by,
            tuple(headers),
            body,
            stack[1:],
        )
    if cseq[1] != code_or_method:
        return _parse_strict(data, stream)
    return Request(
        code_or_method,  # type: ignore[arg-type]
        text,
        call_id,
        cseq[0],
        from_tag,
        to_tag,
        branch,
        sent_by,
        tuple(headers),
        body,
        stack[1:],
    )


#: What `parse`'s fast path keeps of each field it reads: ``found[code]``.
#: (From, To, Call-ID and CSeq first: those a message has once.)
_FROM, _TO, _CALL_ID, _CSEQ, _VIA, _LENGTH, _CONTACT, _DATE, _NUMBER = range(1, 10)
_FIELDS: Final = 10
_CODES: Final = {
    "via": _VIA,
    "from": _FROM,
    "to": _TO,
    "call-id": _CALL_ID,
    "cseq": _CSEQ,
    "content-length": _LENGTH,
    "contact": _CONTACT,
    "date": _DATE,
    **dict.fromkeys(("max-forwards", "expires", "min-expires", "rseq", "rack"), _NUMBER),
}

#: Header fields whose value is a number (`check_number`).
_NUMBER_NAMES: Final = frozenset(name for name, code in _CODES.items() if code == _NUMBER)

#: Header lines validated whole (name and value): ``line -> ((name, value), code, what
#: the message needs of it)`` -- the top Via, a tag, the Call-ID, (number, method), the
#: Content-Length text; the value itself for Contact and Date.
_LINES_OK: dict[str, tuple[tuple[str, str], int, Any]] = {}
#: Most lines of a trace are its calls' own (Via, From, To, Call-ID) and never seen again
#: once the call is over: a small cache is emptied sooner and its memory reused (measured
#: on 100,000 messages: 0.5-1 µs per message less than with 50,000 lines kept).
_LINES_KEPT: Final = 4096


def _checked_line(line: str) -> tuple[tuple[str, str], int, Any] | None:
    """Validate one header line on its own, as `_parse_strict` would; None if it breaks a
    rule (`_parse_strict` then says which)."""
    raw_name, colon, value = line.partition(":")
    if not colon or (not line.isprintable() and _CTL_RE.search(line)):
        return None  # (a line end inside: left to `_parse_strict`, which unfolds)
    named = _NAME_CODES.get(raw_name)
    if named is None:
        try:
            name = _header_name(raw_name)
        except WireError:
            return None
        named = (name, _CODES.get(name.lower(), 0))
        if len(_NAME_CODES) < _CACHE_LIMIT:
            _NAME_CODES[raw_name] = named
    name, code = named
    value = value.strip()
    info: Any = None
    try:
        if code == _VIA:
            info = _via_stack(value)
        elif code in (_FROM, _TO):
            info = _tag_of(value, name)
        elif code == _CALL_ID:
            if not _CALL_ID_RE.match(value):
                return None
            info = value
        elif code == _CSEQ:
            info = parse_cseq(value)
        elif code == _LENGTH:
            if not (value.isascii() and value.isdigit()) or len(value) > MAX_DIGITS:
                return None
            info = value
        elif code == _CONTACT:
            _check_contact(value)
            info = value
        elif code == _DATE:
            if not _DATE_RE.match(value):
                return None
            info = value
        elif code == _NUMBER:
            check_number(name, value)
    except WireError:
        return None
    entry = ((name, value), code, info)
    if len(_LINES_OK) > _LINES_KEPT:
        _LINES_OK.clear()
    _LINES_OK[line] = entry
    return entry


#: A header line's name part -> (canonical name, `_CODES` code), once valid.
_NAME_CODES: dict[str, tuple[str, int]] = {}

#: The usual Via value, one element whose only parameter is its branch: what `parse_vias`
#: accepts of it, in one match (anything else goes to `parse_vias`).
_VIA_BRANCH_ONLY = re.compile(
    r"SIP\s*/\s*2\.0\s*/\s*(" + _TOKEN + r")\s+"
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?:\s*:\s*([0-9]{1,5}))?"
    r"\s*;\s*branch\s*=\s*([^\s;,\"]+)\s*$",
    re.IGNORECASE,
)


def _via_stack(value: str) -> ViaStack:
    """`parse_vias` of a Via value (``value`` stripped), the usual form in one match."""
    m = _VIA_BRANCH_ONLY.match(value)
    if m is None:
        return parse_vias(value)
    host = m.group(2).lower()
    port = m.group(3)
    return ((f"{host}:{port}" if port else host, m.group(4)),)


#: The usual From / To value: ``[tokens] <URI>`` and at most a tag parameter, no white
#: space in the URI: what `parse_address` accepts of it, in one match.
_NAME_ADDR_TAG = re.compile(
    rf"(?:{_TOKEN}(?:\s+{_TOKEN})*)?\s*<[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>]+>"
    r"(?:\s*;\s*[Tt][Aa][Gg]\s*=\s*([^\s;,\"]+))?\s*$"
)


def _tag_of(value: str, header: str) -> str:
    """The tag of a From or To value (``value`` stripped), as `parse_address` gives it."""
    m = _NAME_ADDR_TAG.match(value)
    if m is None:
        return parse_address(value, header)[1]
    return m.group(1) or ""


def _split_head(data: bytes) -> tuple[str, int, str]:
    """The header section as text, where the body starts (after the empty line), and the
    line ending the message uses (CRLF, or a bare LF that `find_header_end` tolerates)."""
    if len(data) > MAX_MESSAGE_SIZE:
        raise WireError(
            f"the message has {len(data)} octets, more than the limit of {MAX_MESSAGE_SIZE} "
            "(sipfsm.values.wire.MAX_MESSAGE_SIZE)"
        )
    head_end = data.find(b"\r\n\r\n")
    if head_end >= 0:
        body_start = head_end + 4
    else:
        head_end, body_start = find_header_end(data)
        if head_end < 0:
            raise WireError("no empty line ends the header section (RFC 3261 §7)")
    try:
        head = data[:head_end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError(f"the header section is not UTF-8 (octet {exc.start})") from None
    return head, body_start, "\r\n" if body_start - head_end == 4 else "\n"


# complex on purpose (C901): one check after the other, in the order that decides the rule reported
def _parse_strict(data: bytes, stream: bool) -> Message:  # noqa: C901
    """`parse`, one check after the other in the order that decides which rule a
    message breaking several is rejected for; `parse` comes here for every message its
    fast path does not accept."""
    head, body_start, eol = _split_head(data)
    if "\n " in head or "\n\t" in head:
        head = _FOLD_RE.sub(" ", head)
    lines = head.split(eol)
    if len(lines) > MAX_HEADERS + 1:
        raise WireError(
            f"{len(lines) - 1} header fields, more than the limit of {MAX_HEADERS} "
            "(sipfsm.values.wire.MAX_HEADERS)"
        )
    if len(head) > MAX_HEADER_LINE:
        longest = max(map(len, lines))
        if longest > MAX_HEADER_LINE:
            raise WireError(
                f"a line of {longest} characters in the header section, more than the limit "
                f"of {MAX_HEADER_LINE} (sipfsm.values.wire.MAX_HEADER_LINE)"
            )
    start_line = lines[0]
    first = _START_CACHE.get(start_line)
    if first is None:
        _no_control(start_line, "the start line", _START_CTL_RE)
        if start_line[:4].upper() == "SIP/":
            first = _status_line(start_line)
        else:
            first = _request_line(start_line)
        if len(_START_CACHE) > _CACHE_LIMIT:
            _START_CACHE.clear()
        _START_CACHE[start_line] = first
    headers: list[tuple[str, str]] = []
    fields: dict[str, str] = {}
    lengths: list[str] = []
    vias: list[str] = []
    contacts: list[str] = []
    numbers: list[tuple[str, str]] = []
    cache = _LINE_CACHE
    number = 1
    for line in lines[1:]:
        number += 1
        found = cache.get(line)
        if found is None:
            found = _header_line(line, number)
        name, value, key = found
        headers.append((name, value))
        if key in fields:
            if key in ("from", "to", "call-id", "cseq"):
                raise WireError(f"{name}: appears twice; it takes a single value (RFC 3261 §7.3)")
        elif key == "via":
            vias.append(value)
            continue
        elif key == "content-length":
            lengths.append(value)
            continue
        elif key in _NUMBER_NAMES:
            numbers.append((name, value))
            continue
        else:
            fields[key] = value
        if key == "contact":
            contacts.append(value)
    try:
        from_value = fields["from"]
        to_value = fields["to"]
        call_id = fields["call-id"]
        cseq_value = fields["cseq"]
        if not vias:
            raise KeyError("via")
    except KeyError:
        _missing(vias, fields)
        raise
    body = _body(data, body_start, lengths, stream)
    every: list[tuple[str, str]] = []
    for value in vias:
        every.extend(parse_vias(value))
        if len(every) > MAX_VIAS:
            raise _too_many_vias(len(every))
    stack = tuple(every)
    sent_by, branch = stack[0]
    from_tag = parse_address(from_value, "From")[1]
    to_tag = parse_address(to_value, "To")[1]
    if not _CALL_ID_RE.match(call_id):
        raise WireError(f"Call-ID: {call_id[:40]!r} is not a word[@word] (RFC 3261 §20.8)")
    cseq, cseq_method = parse_cseq(cseq_value)
    for value in contacts:
        if value not in _CONTACTS_OK:
            _check_contact(value)
            if len(_CONTACTS_OK) > _CACHE_LIMIT:
                _CONTACTS_OK.clear()
            _CONTACTS_OK.add(value)
    date = fields.get("date")
    if date is not None and not _DATE_RE.match(date):
        raise WireError(f"Date: {date[:40]!r} is not an rfc1123-date in GMT (RFC 3261 §20.17)")
    for name, value in numbers:
        check_number(name, value)
    code_or_method, text = first
    if type(code_or_method) is int:
        return Response(
            code_or_method,
            text,
            cseq_method,
            call_id,
            cseq,
            from_tag,
            to_tag,
            branch,
            sent_by,
            tuple(headers),
            body,
            stack[1:],
        )
    if cseq_method != code_or_method:
        raise WireError(
            f"CSeq method {cseq_method} does not match the Request-Line method "
            f"{code_or_method} (RFC 3261 §8.1.1.5)"
        )
    return Request(
        str(code_or_method),
        text,
        call_id,
        cseq,
        from_tag,
        to_tag,
        branch,
        sent_by,
        tuple(headers),
        body,
        stack[1:],
    )


def _missing(vias: list[str], fields: dict[str, str]) -> None:
    """Raise for the first mandatory header field that is missing (RFC 3261 §8.1.1)."""
    for name in _MANDATORY:
        if name == "Via":
            if not vias:
                raise WireError("mandatory header Via is missing (RFC 3261 §8.1.1)")
        elif name.lower() not in fields:
            raise WireError(f"mandatory header {name} is missing (RFC 3261 §8.1.1)")


def _body(data: bytes, start: int, lengths: list[str], stream: bool) -> str:
    available = len(data) - start
    if not lengths:
        size = available
    else:
        values = set(lengths)
        if len(values) > 1:
            raise WireError("two different Content-Length values (RFC 3261 §20.14)")
        text = lengths[0]
        if not (text.isascii() and text.isdigit()):
            raise WireError(
                f"Content-Length: {text[:20]!r} is not a non-negative integer (RFC 3261 §20.14)"
            )
        if len(text) > MAX_DIGITS:
            raise too_many_digits("Content-Length", text)
        size = int(text)
        if size > available:
            raise WireError(
                f"Content-Length {text[:20]} is larger than the {available} octets "
                "that follow the header section (RFC 3261 §18.3)"
            )
        if stream and size != available:
            raise WireError(
                f"Content-Length {size} does not frame the {available} octets "
                "given (RFC 3261 §18.3)"
            )
    return data[start : start + size].decode("utf-8", "surrogateescape") if size else ""


def _status_line(line: str) -> tuple[int, str]:
    """``SIP-Version SP Status-Code SP Reason-Phrase`` (RFC 3261 §7.2)."""
    version, _sp, rest = line.partition(" ")
    if version.upper() != "SIP/2.0":
        raise WireError(f"SIP version {version[:20]!r} is not supported: SIP/2.0 (RFC 3261 §7.1)")
    code, _sp, reason = rest.partition(" ")
    if len(code) != 3 or not (code.isascii() and code.isdigit()):
        raise WireError(f"Status-Code {code[:20]!r} is not 3 digits (RFC 3261 §7.2)")
    status = int(code)
    if not 100 <= status <= 699:
        raise WireError(f"Status-Code {status} is outside 100-699 (RFC 3261 §7.2)")
    return status, reason


def _request_line(line: str) -> tuple[str, str]:
    """``Method SP Request-URI SP SIP-Version`` (RFC 3261 §7.1, §25.1)."""
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise WireError(
            f"Request-Line {line[:60]!r} is not 'Method SP Request-URI SP "
            "SIP-Version' with single spaces (RFC 3261 §25.1)"
        )
    method, uri, version = parts
    if version.upper() != "SIP/2.0":
        if version[:4].upper() == "SIP/":
            raise WireError(
                f"SIP version {version[:20]!r} is not supported: SIP/2.0 (RFC 3261 §7.1)"
            )
        raise WireError(f"{line[:60]!r} is neither a Request-Line nor a Status-Line (RFC 3261 §7)")
    if not _TOKEN_RE.match(method):
        raise WireError(f"method {method[:30]!r} is not a token (RFC 3261 §25.1)")
    if uri.startswith("<"):
        raise WireError("the Request-URI is enclosed in <> (RFC 3261 §25.1)")
    if "\t" in uri or not _SCHEME_RE.match(uri):
        raise WireError(f"Request-URI {uri[:40]!r} is not a URI (RFC 3261 §19.1)")
    scheme = uri.split(":", 1)[0].lower()
    if scheme in ("sip", "sips") and "?" in uri.split("@", 1)[-1]:
        raise WireError(
            "a SIP Request-URI must not contain headers '?...' (RFC 3261 §19.1.1 Table 1)"
        )
    return method, uri


def looks_like_sip(payload: bytes) -> bool:
    """Whether a datagram or stream start looks like an attempt at SIP (its first line
    mentions ``SIP/``); keep-alive CRLFs (RFC 5626 §3.5.1) do not."""
    first = payload[:1024].split(b"\n", 1)[0]
    return b"SIP/" in first.upper()


__all__ = [
    "COMPACT",
    "CSEQ_LIMIT",
    "MAX_DIGITS",
    "MAX_HEADERS",
    "MAX_HEADER_LINE",
    "MAX_MESSAGE_SIZE",
    "MAX_VIAS",
    "WireError",
    "check_number",
    "clear_caches",
    "content_length",
    "find_header_end",
    "looks_like_sip",
    "parse",
    "parse_address",
    "parse_cseq",
    "parse_via",
    "parse_vias",
]
