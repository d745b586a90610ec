"""The 4xx response-code catalogue: RFC 3261 §21.4 plus the IANA-registered extensions.

One `ResponseCode` row per code, read top to bottom: canonical reason phrase, defining
section, the header fields the response MUST carry (or SHOULD/MAY carry), and what the
UAC may do next (`RetryRule`). The English and Chinese descriptions live in
`sipfsm.values.catalogue_text`.

Rules implemented here, with their sections:

* RFC 3261 §8.1.3.2: a UAC treats an unrecognised final response as the x00 of its class,
  so an unknown 4xx behaves as 400 (`effective`).
* RFC 3261 §7.3.3 / §20: compact header forms are equivalent to the long ones
  (`canonical_header`, used by `missing_headers`).
* RFC 3261 §7.2: the first digit is the response class; only 1-6 exist (`reason_phrase`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from sipfsm.values.catalogue_text import DESCRIPTIONS
from sipfsm.values.errors import UnknownName

Lang = Literal["en", "zh"]
LANGS: Final[tuple[Lang, ...]] = ("en", "zh")


@dataclass(frozen=True, slots=True)
class RetryRule:
    """What a UAC may do after the response.

    ``may_retry`` is true when the RFCs describe a way to resend (usually modified) that can
    succeed; ``same_server`` is true when that resend may go to the same server. A code with
    no such procedure has ``may_retry=False`` and ``same_server=False`` (RFC 3261 §21.4: the
    same request might still succeed at a different server).
    """

    may_retry: bool
    how: str
    same_server: bool
    rfc: str


@dataclass(frozen=True, slots=True)
class ResponseCode:
    code: int
    reason: str
    rfc: str
    required_headers: tuple[str, ...]
    recommended_headers: tuple[str, ...]
    retry: RetryRule
    description: Mapping[str, str] = field(hash=False)
    source: Literal["rfc3261", "iana"]
    #: At least one of these header fields MUST be present (RFC 3261 §21.4.13 for 415).
    required_any: tuple[str, ...] = ()

    def describe(self, lang: Lang = "en") -> str:
        """The description in ``lang`` ("en" or "zh")."""
        try:
            return self.description[lang]
        except KeyError:
            raise UnknownName("language", lang, LANGS) from None


class UnknownCode(UnknownName, ValueError):
    """A status code that is not a catalogued 4xx (or not a SIP status code at all)."""

    def __init__(self, code: int, why: str) -> None:
        super().__init__("4xx response code", code, CODES, where="sipfsm.values.catalogue.CODES")
        self.code = code
        valid = ", ".join(str(c) for c in CODES)
        self.args = (f"{why}; valid codes are the keys of sipfsm.values.catalogue.CODES: {valid}",)


# --- Retry rules shared by several codes ------------------------------------------------

_NO_RETRY: Final = RetryRule(False, "do not retry unmodified", False, "RFC 3261 §21.4")


def _retry(how: str, rfc: str, *, same_server: bool = True) -> RetryRule:
    return RetryRule(True, how, same_server, rfc)


def _no_retry(how: str, rfc: str) -> RetryRule:
    return RetryRule(False, how, False, rfc)


def _entry(
    code: int,
    reason: str,
    rfc: str,
    retry: RetryRule = _NO_RETRY,
    *,
    required: tuple[str, ...] = (),
    recommended: tuple[str, ...] = (),
    required_any: tuple[str, ...] = (),
) -> ResponseCode:
    english, chinese = DESCRIPTIONS[code]
    return ResponseCode(
        code=code,
        reason=reason,
        rfc=rfc,
        required_headers=required,
        recommended_headers=recommended,
        retry=retry,
        description=MappingProxyType({"en": english, "zh": chinese}),
        source="rfc3261" if rfc.startswith("RFC 3261 ") else "iana",
        required_any=required_any,
    )


_ENTRIES: Final[tuple[ResponseCode, ...]] = (
    # --- RFC 3261 §21.4 ----------------------------------------------------------------
    _entry(400, "Bad Request", "RFC 3261 §21.4.1"),
    _entry(
        401,
        "Unauthorized",
        "RFC 3261 §21.4.2",
        _retry("retry with credentials in Authorization (RFC 3261 §22.2)", "RFC 3261 §8.1.3.5"),
        required=("WWW-Authenticate",),
    ),
    _entry(402, "Payment Required", "RFC 3261 §21.4.3"),
    _entry(
        403,
        "Forbidden",
        "RFC 3261 §21.4.4",
        _no_retry("do not repeat: authorization will not help", "RFC 3261 §21.4.4"),
    ),
    # §20.33 and Table 3 allow Retry-After in 404 as well.
    _entry(404, "Not Found", "RFC 3261 §21.4.5", recommended=("Retry-After",)),
    _entry(405, "Method Not Allowed", "RFC 3261 §21.4.6", required=("Allow",)),
    _entry(406, "Not Acceptable", "RFC 3261 §21.4.7"),
    _entry(
        407,
        "Proxy Authentication Required",
        "RFC 3261 §21.4.8",
        _retry(
            "retry with credentials in Proxy-Authorization (RFC 3261 §22.3)", "RFC 3261 §8.1.3.5"
        ),
        required=("Proxy-Authenticate",),
    ),
    _entry(
        408,
        "Request Timeout",
        "RFC 3261 §21.4.9",
        _retry(
            "may repeat unmodified at any later time; inside a dialog the UAC terminates the "
            "dialog instead (RFC 3261 §12.2.1.2)",
            "RFC 3261 §21.4.9",
        ),
    ),
    _entry(
        410,
        "Gone",
        "RFC 3261 §21.4.10",
        _no_retry("do not retry: the condition is permanent", "RFC 3261 §21.4.10"),
    ),
    _entry(
        413,
        "Request Entity Too Large",
        "RFC 3261 §21.4.11",
        _retry(
            "retry without the body or with a shorter one; if Retry-After is present the limit "
            "is temporary: retry after Retry-After (RFC 3261 §21.4.11)",
            "RFC 3261 §8.1.3.5",
        ),
        recommended=("Retry-After",),
    ),
    _entry(414, "Request-URI Too Long", "RFC 3261 §21.4.12"),
    _entry(
        415,
        "Unsupported Media Type",
        "RFC 3261 §21.4.13",
        _retry(
            "retry using only the types, encodings and languages listed in Accept, "
            "Accept-Encoding and Accept-Language",
            "RFC 3261 §8.1.3.5",
        ),
        required_any=("Accept", "Accept-Encoding", "Accept-Language"),
    ),
    _entry(
        416,
        "Unsupported URI Scheme",
        "RFC 3261 §21.4.14",
        _retry("retry using a SIP URI", "RFC 3261 §8.1.3.5"),
    ),
    _entry(
        420,
        "Bad Extension",
        "RFC 3261 §21.4.15",
        _retry("retry omitting the extensions listed in Unsupported", "RFC 3261 §8.1.3.5"),
        required=("Unsupported",),
    ),
    _entry(
        421,
        "Extension Required",
        "RFC 3261 §21.4.16",
        _retry("retry supporting the extensions listed in Require, if possible", "RFC 3261 §8.2.4"),
        required=("Require",),
    ),
    # §21.4.17 only points at §10.3, where the registrar MUST add Min-Expires.
    _entry(
        423,
        "Interval Too Brief",
        "RFC 3261 §21.4.17",
        _retry("retry with expiration intervals of at least Min-Expires", "RFC 3261 §10.2.8"),
        required=("Min-Expires",),
    ),
    _entry(
        480,
        "Temporarily Unavailable",
        "RFC 3261 §21.4.18",
        _retry(
            "retry after Retry-After, if given; the user may be reachable elsewhere",
            "RFC 3261 §21.4.18",
        ),
        recommended=("Retry-After",),
    ),
    _entry(
        481,
        "Call/Transaction Does Not Exist",
        "RFC 3261 §21.4.19",
        _no_retry(
            "do not retry; inside a dialog terminate the dialog (RFC 5057: the usage)",
            "RFC 3261 §12.2.1.2",
        ),
    ),
    _entry(482, "Loop Detected", "RFC 3261 §21.4.20"),
    _entry(
        483,
        "Too Many Hops",
        "RFC 3261 §21.4.21",
        _retry("do not retry unmodified; retry only with a larger Max-Forwards", "RFC 5057 §5.1"),
    ),
    _entry(
        484,
        "Address Incomplete",
        "RFC 3261 §21.4.22",
        _retry("retry with a longer address (overlapped dialing)", "RFC 3261 §21.4.22"),
    ),
    _entry(
        485,
        "Ambiguous",
        "RFC 3261 §21.4.23",
        _retry(
            "retry with an unambiguous address from Contact, chosen by the user",
            "RFC 3261 §21.4.23",
        ),
        recommended=("Contact",),
    ),
    _entry(
        486,
        "Busy Here",
        "RFC 3261 §21.4.24",
        _retry(
            "retry after Retry-After, if given, or try elsewhere (e.g. voice mail)",
            "RFC 3261 §21.4.24",
        ),
        recommended=("Retry-After",),
    ),
    _entry(
        487,
        "Request Terminated",
        "RFC 3261 §21.4.25",
        _no_retry("do not retry: the request was cancelled or ended", "RFC 3261 §21.4.25"),
    ),
    # §13.3.1.3 and §14.2: a UAS rejecting an offer SHOULD explain why in Warning.
    _entry(
        488,
        "Not Acceptable Here",
        "RFC 3261 §21.4.26",
        _retry(
            "retry with a session description acceptable here (see Warning and any body)",
            "RFC 3261 §21.4.26",
        ),
        recommended=("Warning",),
    ),
    _entry(
        491,
        "Request Pending",
        "RFC 3261 §21.4.27",
        _retry(
            "retry after a randomised timer: 2.1-4 s if this UA owns the Call-ID, else 0-2 s",
            "RFC 3261 §14.1",
        ),
    ),
    _entry(
        493,
        "Undecipherable",
        "RFC 3261 §21.4.28",
        _retry(
            "retry with the body encrypted to the certificate in the response, if any",
            "RFC 3261 §23.2",
        ),
    ),
    # --- IANA registry additions -------------------------------------------------------
    _entry(
        412,
        "Conditional Request Failed",
        "RFC 3903 §11.2.1",
        _retry(
            "do not retry unmodified; discard the entity-tag and send an initial PUBLISH "
            "without SIP-If-Match",
            "RFC 3903 §5",
        ),
    ),
    _entry(
        417,
        "Unknown Resource-Priority",
        "RFC 4412 §4.6.2",
        _retry(
            "retry with a resource value, preferably one from Accept-Resource-Priority",
            "RFC 4412 §4.7.1",
        ),
        recommended=("Accept-Resource-Priority",),
    ),
    _entry(
        422,
        "Session Interval Too Small",
        "RFC 4028 §6",
        _retry("retry with Min-SE and a Session-Expires of at least Min-SE", "RFC 4028 §7.3"),
        required=("Min-SE",),
    ),
    _entry(
        424,
        "Bad Location Information",
        "RFC 6442 §4.3",
        _retry("retry with corrected location, e.g. the one in the response", "RFC 6442 §4.3"),
        required=("Geolocation-Error",),
    ),
    _entry(
        425,
        "Bad Alert Message",
        "RFC 8876 §5.1",
        _no_retry("do not retry unmodified: the alert message is malformed", "RFC 8876 §5.1"),
        required=("AlertMsg-Error",),
    ),
    _entry(
        428,
        "Use Identity Header",
        "RFC 8224 §6.2.2",
        _retry("retry with a usable Identity header field", "RFC 8224 §6.2.3"),
    ),
    _entry(
        429,
        "Provide Referrer Identity",
        "RFC 3892 §5",
        _retry("the referrer may send a new REFER with a Referred-By token", "RFC 3892 §2.1"),
    ),
    _entry(
        430,
        "Flow Failed",
        "RFC 5626 §11.5",
        _retry(
            "the authoritative proxy tries another flow to the same instance; an endpoint "
            "treats 430 as 400",
            "RFC 5626 §7",
            same_server=False,
        ),
    ),
    _entry(
        433,
        "Anonymity Disallowed",
        "RFC 5079 §5",
        _retry("retry without anonymity, only if the user agrees", "RFC 5079 §4"),
    ),
    _entry(
        436,
        "Bad Identity Info",
        "RFC 8224 §6.2.2",
        _retry(
            "retry with an info parameter pointing at a reachable credential", "RFC 8224 §6.2.2"
        ),
    ),
    _entry(
        437,
        "Unsupported Credential",
        "RFC 8224 §6.2.2",
        _retry("retry signed with a credential the verifier supports", "RFC 8224 §6.2.3"),
    ),
    _entry(
        438,
        "Invalid Identity Header",
        "RFC 8224 §6.2.2",
        _retry("retry once with the full form of PASSporT, if compact was sent", "RFC 8224 §6.1.1"),
    ),
    _entry(
        439,
        "First Hop Lacks Outbound Support",
        "RFC 5626 §11.6",
        _retry(
            "register again without outbound, or through another outbound proxy",
            "RFC 5626 §4.2.1",
        ),
    ),
    _entry(
        440,
        "Max-Breadth Exceeded",
        "RFC 5393 §5.3.3",
        _retry("do not retry unmodified; narrow the search (as for 483)", "RFC 5393 §5.1"),
    ),
    _entry(
        469,
        "Bad Info Package",
        "RFC 6086 §4.2.2",
        _no_retry("do not resend INFO for that Info Package", "RFC 6086 §4.2.1"),
        required=("Recv-Info",),
    ),
    _entry(
        470,
        "Consent Needed",
        "RFC 5360 §5.9.2",
        _retry("retry once the missing permissions have been obtained", "RFC 5360 §5.9.2"),
        recommended=("Permission-Missing",),
    ),
    # RFC 6665 has no 489-specific header rule; §4.4.4 asks notifiers to send Allow-Events.
    _entry(
        489,
        "Bad Event",
        "RFC 6665 §8.3.2",
        _no_retry("do not retry; outside SUBSCRIBE/NOTIFY treat as 400", "RFC 5057 §5.1"),
        recommended=("Allow-Events",),
    ),
    # Require: sec-agree is a MUST only when the server starts the agreement (§2.3.2).
    _entry(
        494,
        "Security Agreement Required",
        "RFC 3329 §2.3.1",
        _retry(
            "set up a mechanism from Security-Server and retry with Security-Verify",
            "RFC 3329 §2.3.1",
        ),
        required=("Security-Server",),
        recommended=("Require",),
    ),
)

CODES: Final[Mapping[int, ResponseCode]] = MappingProxyType(
    {entry.code: entry for entry in sorted(_ENTRIES, key=lambda entry: entry.code)}
)

#: RFC 3261 §7.3.3 / §20 compact forms, plus those of extension headers named above.
COMPACT_FORMS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "c": "Content-Type",
        "e": "Content-Encoding",
        "f": "From",
        "i": "Call-ID",
        "k": "Supported",
        "l": "Content-Length",
        "m": "Contact",
        "s": "Subject",
        "t": "To",
        "v": "Via",
        "b": "Referred-By",  # RFC 3892 §3
        "o": "Event",  # RFC 6665 §8.4
        "u": "Allow-Events",  # RFC 6665 §8.4
        "x": "Session-Expires",  # RFC 4028 §4
        "y": "Identity",  # RFC 8224 §13.1
    }
)

#: RFC 3261 §7.2: the six response classes.
CLASS_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {
        1: "Provisional",
        2: "Success",
        3: "Redirection",
        4: "Client Error",
        5: "Server Error",
        6: "Global Failure",
    }
)

#: Reason phrases outside 4xx: RFC 3261 §21.1-21.3, §21.5, §21.6, and the extensions named.
OTHER_REASONS: Final[Mapping[int, str]] = MappingProxyType(
    {
        100: "Trying",
        180: "Ringing",
        181: "Call Is Being Forwarded",
        182: "Queued",
        183: "Session Progress",
        199: "Early Dialog Terminated",  # RFC 6228
        200: "OK",
        202: "Accepted",  # RFC 6665 §8.3.1 (deprecated)
        204: "No Notification",  # RFC 5839
        300: "Multiple Choices",
        301: "Moved Permanently",
        302: "Moved Temporarily",
        305: "Use Proxy",
        380: "Alternative Service",
        500: "Server Internal Error",
        501: "Not Implemented",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Server Time-out",
        505: "Version Not Supported",
        513: "Message Too Large",
        580: "Precondition Failure",  # RFC 3312
        600: "Busy Everywhere",
        603: "Decline",
        604: "Does Not Exist Anywhere",
        606: "Not Acceptable",
        607: "Unwanted",  # RFC 8197
        608: "Rejected",  # RFC 8688
    }
)


def _check_status(code: int) -> None:
    if not 100 <= code <= 699:
        raise UnknownCode(code, f"{code} is not a SIP status code (100-699, RFC 3261 §7.2)")


def lookup(code: int) -> ResponseCode:
    """The catalogue entry for exactly ``code``; `UnknownCode` if there is none."""
    _check_status(code)
    if not 400 <= code <= 499:
        raise UnknownCode(code, f"{code} is not a 4xx response code")
    try:
        return CODES[code]
    except KeyError:
        raise UnknownCode(
            code, f"{code} is not catalogued (effective() maps it to 400, RFC 3261 §8.1.3.2)"
        ) from None


def effective(code: int) -> ResponseCode:
    """The entry a UAC acts on: the code's own, or 400 for an unknown 4xx (§8.1.3.2)."""
    _check_status(code)
    if not 400 <= code <= 499:
        raise UnknownCode(code, f"{code} is not a 4xx response code")
    return CODES.get(code, CODES[400])


def canonical_header(name: str) -> str:
    """``name`` with a compact form expanded (RFC 3261 §7.3.3); other names unchanged."""
    name = name.strip()
    return COMPACT_FORMS.get(name.lower(), name) if len(name) == 1 else name


def missing_headers(code: int, headers: Iterable[str]) -> list[str]:
    """The MUST header fields of ``code`` (unknown 4xx: those of 400) absent from ``headers``.

    Names match case-insensitively and in compact form. A one-of requirement (415) that
    nothing satisfies is reported as a single item, "one of Accept, Accept-Encoding, ...".
    """
    entry = effective(code)
    present = {canonical_header(name).lower() for name in headers}
    missing = [name for name in entry.required_headers if name.lower() not in present]
    if entry.required_any and not any(name.lower() in present for name in entry.required_any):
        missing.append("one of " + ", ".join(entry.required_any))
    return missing


def reason_phrase(code: int) -> str:
    """The reason phrase for any SIP status 100-699; an unlisted code gets its class name."""
    _check_status(code)
    if code in CODES:
        return CODES[code].reason
    return OTHER_REASONS.get(code, CLASS_NAMES[code // 100])
