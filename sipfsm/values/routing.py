"""Routing by route sets (RFC 3261 §12.1, §12.2.1.1, §16.4, §16.6 steps 4, 6 and 7,
§16.12): the Route and Record-Route header fields, loose routers (``lr``, §19.1.1) and
strict ones (RFC 2543), as pure functions of values that the UA core
(`sipfsm.elements.endpoint`) and the proxy (`sipfsm.elements.proxy`) share.

A route set is a tuple of header field values (name-addrs such as
``<sip:p1.example.com;lr>``), kept as the Record-Route gave them: "preserving all URI
parameters" (§12.1.1, §12.1.2). A message may carry a Route or Record-Route as one field
of comma-separated values or as several fields (§7.3.1 makes them equivalent); `values`
reads both, `with_values` writes one field.

Imports: `sipfsm.values` only.
"""

from __future__ import annotations

from typing import Final

from sipfsm.values.headers import split_list

__all__ = [
    "RECORD_ROUTE",
    "ROUTE",
    "dialog_request",
    "is_loose",
    "next_hop",
    "request_uri",
    "route_set_uac",
    "route_set_uas",
    "strict_reformat",
    "uri_of",
    "values",
    "with_values",
]

ROUTE: Final = "Route"
RECORD_ROUTE: Final = "Record-Route"

#: URI parameters a Request-URI may not carry (RFC 3261 §19.1.1 Table 1: ``method``; the
#: ``?headers`` part is cut too), stripped when a route becomes the Request-URI (§12.2.1.1,
#: §16.6 step 6).
_NOT_IN_REQUEST_URI: Final = frozenset({"method"})


def values(headers: tuple[tuple[str, str], ...], name: str) -> tuple[str, ...]:
    """Every value of the list header ``name`` (case-insensitive), in order, across all
    its fields (RFC 3261 §7.3.1), each without surrounding white space."""
    wanted = name.lower()
    out: list[str] = []
    for key, text in headers:
        if key.lower() == wanted:
            out.extend(part.strip() for part in split_list(text) if part.strip())
    return tuple(out)


def with_values(
    headers: tuple[tuple[str, str], ...], name: str, new: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """``headers`` with the fields ``name`` replaced by one holding ``new`` (none when
    ``new`` is empty), where the first of them was, else first."""
    wanted = name.lower()
    out: list[tuple[str, str]] = []
    placed = False
    for key, text in headers:
        if key.lower() != wanted:
            out.append((key, text))
        elif not placed:
            placed = True
            if new:
                out.append((key, ", ".join(new)))
    if not placed and new:
        out.insert(0, (name, ", ".join(new)))
    return tuple(out)


def uri_of(value: str) -> str:
    """The URI of a name-addr (``"Bob" <sip:bob@b.example.com;lr>;x=1``: what is inside
    the angle brackets), or of an addr-spec (``sip:p1.example.com;lr``) as it is."""
    text = value.strip()
    start = text.find("<")
    if start >= 0:
        end = text.find(">", start)
        return text[start + 1 : end if end >= 0 else len(text)].strip()
    return text


def _params(uri: str) -> list[str]:
    """The ``;name[=value]`` parameters of a URI (before any ``?headers``)."""
    return uri.split("?", 1)[0].split(";")[1:]


def is_loose(value: str) -> bool:
    """Whether a route (a name-addr or a URI) names a loose router: its URI carries the
    ``lr`` parameter (RFC 3261 §19.1.1)."""
    return any(p.split("=", 1)[0].strip().lower() == "lr" for p in _params(uri_of(value)))


def request_uri(value: str) -> str:
    """A route as a Request-URI: its URI, "stripping any parameters that are not allowed
    in a Request-URI" (RFC 3261 §12.2.1.1, §19.1.1 Table 1: ``method``, and headers)."""
    uri = uri_of(value).split("?", 1)[0]
    base, *params = uri.split(";")
    kept = [p for p in params if p.split("=", 1)[0].strip().lower() not in _NOT_IN_REQUEST_URI]
    return ";".join((base, *kept))


def route_set_uas(headers: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The route set of the UAS of a dialog: the Record-Route of the request, "taken in
    order and preserving all URI parameters" (RFC 3261 §12.1.1)."""
    return values(headers, RECORD_ROUTE)


def route_set_uac(headers: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The route set of the UAC of a dialog: the Record-Route of the response, "taken in
    reverse order and preserving all URI parameters" (RFC 3261 §12.1.2)."""
    return tuple(reversed(values(headers, RECORD_ROUTE)))


def dialog_request(remote_target: str, route_set: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The Request-URI and Route values of a request in a dialog (RFC 3261 §12.2.1.1; the
    same for a pre-existing route set outside one, §8.1.1.1):

    * no route set: the remote target, no Route;
    * a first route with ``lr`` (loose routing): the remote target, Route = the route set;
    * a first route without ``lr`` (a strict router): that route as Request-URI (without
      the parameters a Request-URI may not carry), Route = the rest of the route set and
      then the remote target."""
    if not route_set:
        return remote_target, ()
    first = route_set[0]
    if is_loose(first):
        return remote_target, route_set
    return request_uri(first), (*route_set[1:], f"<{remote_target}>")


def next_hop(uri: str, routes: tuple[str, ...], strict_first: bool) -> str:
    """The URI whose host a request goes to (RFC 3261 §8.1.2 for a UAC, §16.6 step 7 for
    a proxy): the Request-URI when the request was formed for a strict router
    (``strict_first``) or has no Route, else the first Route."""
    if strict_first or not routes:
        return uri
    return uri_of(routes[0])


def strict_reformat(uri: str, routes: tuple[str, ...]) -> tuple[str, tuple[str, ...], bool]:
    """RFC 3261 §16.6 step 6, a proxy's postprocessing: when the first Route has no ``lr``
    (the next hop is a strict router), the Request-URI goes to the end of the Route and
    the first Route becomes the Request-URI. Returns the Request-URI, the Route values
    and whether the request was reformatted (its next hop is then its Request-URI,
    §16.6 step 7)."""
    if not routes or is_loose(routes[0]):
        return uri, routes, False
    return request_uri(routes[0]), (*routes[1:], f"<{uri}>"), True
