"""Header values read the same way by the parser (`sipfsm.check.wire`) and the matchers
(`sipfsm.elements.matching`): a list header split at its commas (RFC 3261 §7.3.1), and the
top Via of a message.

Imports: `sipfsm.values` only.
"""

from __future__ import annotations

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


__all__ = ["split_list", "top_via"]
