"""Header values read the same way by the parser (`sipfsm.values.wire`) and the matchers
(`sipfsm.elements.matching`): a list header split at its commas (RFC 3261 §7.3.1), and the
top Via of a message.

Imports: `sipfsm.values` only.
"""

from __future__ import annotations

import re
from typing import Final

from sipfsm.values.errors import WireError
from sipfsm.values.message import Message


def split_list(value: str) -> list[str]:
    """Split a header value at the commas that separate its elements (not inside quotes
    or angle brackets)."""
    if '"' not in value and ("<" not in value or "," not in value):
        return value.split(",")
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "<":
            depth += 1
        elif c == ">":
            depth = max(0, depth - 1)
        elif c == "," and depth == 0:
            parts.append(value[start:i])
            start = i + 1
        i += 1
    if quoted:
        raise WireError("unterminated quoted string")
    parts.append(value[start:])
    return parts


def top_via(message: Message) -> str:
    """The top Via value of a parsed message, whitespace-normalised (for the RFC 2543
    matching rules, which compare the whole top Via)."""
    for name, value in message.headers:
        if name.lower() == "via":
            return " ".join(split_list(value)[0].split())
    return ""


#: The header fields whose value is a number (`check_number`): what the parser refuses and
#: a scenario may not write.
NUMBER_HEADERS: Final = frozenset({"max-forwards", "expires", "min-expires", "rseq", "rack"})

#: Digits of a number in a header field -- CSeq, Content-Length, Max-Forwards, Expires,
#: Min-Expires, RSeq, RAck -- leading zeros included. Every one of them has a range far
#: below (the CSeq number is below 2**31, RFC 3261 §8.1.1.5; a Content-Length is at most the
#: octets that follow, §18.3); a longer number is rejected before it is converted (Python
#: converts no more than 4,300 digits at all, `sys.set_int_max_str_digits`).
MAX_DIGITS: Final = 32


def too_many_digits(where: str, digits: str | bytes) -> WireError:
    text = digits if isinstance(digits, str) else digits.decode("ascii")
    return WireError(
        f"{where}: a number of {len(text)} digits ({text[:12]}...), more than the limit of "
        f"{MAX_DIGITS} (sipfsm.values.wire.MAX_DIGITS)"
    )


#: RFC 3261 §25.1 ``1*DIGIT`` (Max-Forwards, and Expires and Min-Expires as delta-seconds);
#: RFC 3262 §7.1 RSeq ``response-num``, §7.2 RAck ``response-num LWS CSeq-num LWS Method``.
_NUMBER_RE: Final = re.compile(r"[0-9]+")
_RACK_RE: Final = re.compile(r"([0-9]+)[ \t]+([0-9]+)[ \t]+[A-Za-z0-9\-.!%*_+`'~]+")


def check_number(name: str, value: str) -> None:
    """A header field whose value is a number: Max-Forwards, Expires, Min-Expires (RFC 3261
    §20.22, §20.19, §20.23: ``1*DIGIT``), RSeq (RFC 3262 §7.1) or RAck (§7.2: two numbers
    and a method); at most `MAX_DIGITS` digits each. ``value`` stripped."""
    if name.lower() == "rack":
        m = _RACK_RE.fullmatch(value)
        if m is None:
            raise WireError(
                f"RAck: {value[:40]!r} is not 'response-num CSeq-num Method' (RFC 3262 §7.2)"
            )
        numbers: tuple[str, ...] = (m.group(1), m.group(2))
    else:
        if _NUMBER_RE.fullmatch(value) is None:
            section = "RFC 3262 §7.1" if name.lower() == "rseq" else "RFC 3261 §25.1"
            raise WireError(f"{name}: {value[:40]!r} is not a number (1*DIGIT, {section})")
        numbers = (value,)
    for digits in numbers:
        if len(digits) > MAX_DIGITS:
            raise too_many_digits(name, digits)


__all__ = ["MAX_DIGITS", "NUMBER_HEADERS", "check_number", "split_list", "top_via"]
