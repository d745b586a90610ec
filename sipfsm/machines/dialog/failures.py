"""RFC 5057: which failures end the transaction, the usage or the dialog.

A final response to a mid-dialog request (or its timeout) ends the transaction only, the
usage the request belongs to, or the whole dialog (RFC 5057 §5.1 Table 1, Table 2 and its
notes; §5.2, §5.3). `effect_of` gives the verdict; the dialog's guards ``ends_usage`` and
``timed_out`` (`sipfsm.machines.dialog.guards`) ask it whether the INVITE usage ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from sipfsm.machines.dialog.instance import MACHINE_ID
from sipfsm.values.errors import UnknownName

Scope = Literal["none", "transaction", "usage", "dialog"]

#: RFC 5057 §5.3: the usage a mid-dialog request belongs to. A dialog has at most one
#: INVITE usage; SUBSCRIBE, NOTIFY and REFER belong to a subscription; OPTIONS, MESSAGE and
#: unknown methods to none.
USAGE_OF: Final[dict[str, str]] = {
    **dict.fromkeys(("INVITE", "UPDATE", "PRACK", "ACK", "CANCEL", "BYE", "INFO"), "invite"),
    **dict.fromkeys(("SUBSCRIBE", "NOTIFY", "REFER"), "subscription"),
}

#: RFC 5057 §5.1 note (3): the methods a usage cannot do without (the INVITE usage needs
#: INVITE, ACK, BYE and CANCEL of RFC 3261; a subscription needs SUBSCRIBE and NOTIFY).
#: A 405 or 501 to any other method (INFO, UPDATE, PRACK, REFER ...) affects only its
#: transaction.
INTEGRAL_METHODS: Final = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "SUBSCRIBE", "NOTIFY"})


@dataclass(frozen=True, slots=True)
class EffectRule:
    """One entry of RFC 5057 §5.1 Table 1/Table 2: the codes ``low``-``high`` affect
    ``scope``. ``only_methods`` narrows the rule to some methods; ``integral_only`` to the
    methods a usage needs (`INTEGRAL_METHODS`). The first matching rule wins."""

    low: int
    high: int
    scope: Scope
    rfc: str
    note: str = ""
    only_methods: frozenset[str] | None = None
    integral_only: bool = False

    def applies(self, code: int, method: str) -> bool:
        if not self.low <= code <= self.high:
            return False
        if self.only_methods is not None and method not in self.only_methods:
            return False
        return not (self.integral_only and method not in INTEGRAL_METHODS)


def _rule(
    low: int,
    high: int,
    scope: Scope,
    note: str = "",
    *,
    rfc: str = "RFC 5057 §5.1",
    only: Iterable[str] | None = None,
    integral: bool = False,
) -> EffectRule:
    return EffectRule(
        low, high, scope, rfc, note, frozenset(only) if only is not None else None, integral
    )


_T: Scope = "transaction"
#: RFC 5057 §5.1 Table 1 (and Table 2 with its notes), in the order they are consulted.
FAILURE_EFFECTS: tuple[EffectRule, ...] = (
    _rule(
        100, 299, "none", "provisional and success responses end nothing", rfc="RFC 3261 §12.2.1.2"
    ),
    _rule(
        300,
        399,
        _T,
        "a mid-dialog redirection affects the whole dialog equally and is "
        "handled as outside a dialog (RFC 3261 §12.2.1.2): nothing is destroyed",
    ),
    # exceptions first (Table 2 notes)
    _rule(
        481,
        481,
        _T,
        "note (8): a 481 to a CANCEL only says no transaction matched",
        only=("CANCEL",),
    ),
    _rule(405, 405, "usage", "note (3): the usage needs this method", integral=True),
    _rule(501, 501, "usage", "note (3): the usage needs this method", integral=True),
    _rule(405, 405, _T, "note (3): the request was not integral to the usage"),
    _rule(501, 501, _T, "note (3): the request was not integral to the usage"),
    _rule(
        489,
        489,
        "usage",
        "note (12): Bad Event ends the subscription",
        only=("SUBSCRIBE", "NOTIFY"),
    ),
    _rule(489, 489, _T, "note (12): to other methods, treated as an unknown 4xx"),
    # Destroys Dialog
    _rule(404, 404, "dialog", "note (2): the remote target is wrong"),
    _rule(410, 410, "dialog", "note (2): the remote target is wrong"),
    _rule(416, 416, "dialog", "note (2): the remote target is wrong"),
    _rule(482, 482, "dialog", "note (9): aberrant mid-dialog; later requests fail too"),
    _rule(483, 483, "dialog", "note (10): unless retried with a larger Max-Forwards"),
    _rule(484, 484, "dialog", "note (2): the remote target is wrong"),
    _rule(485, 485, "dialog", "note (2): the remote target is wrong"),
    _rule(502, 502, "dialog", "note (14): aberrant mid-dialog; later requests fail too"),
    _rule(604, 604, "dialog", "note (2): the remote target is wrong"),
    # Destroys Usage
    _rule(480, 480, "usage", "note (7): only the usage of the request"),
    _rule(481, 481, "usage", "note (8): the peer lost its copy of the usage"),
    _rule(
        408,
        408,
        "usage",
        "note (4): a 408 has the effect of a timeout (RFC 5057 §5.2; "
        "Table 1 lists it under Transaction Only)",
    ),
    # Transaction Only (listed codes, then the classes of unknown codes)
    _rule(400, 403, _T),
    _rule(406, 407, _T),
    _rule(412, 415, _T),
    _rule(417, 417, _T),
    _rule(420, 423, _T, "note (5): 422 mid-usage is treated as an unknown 4xx"),
    _rule(428, 429, _T),
    _rule(436, 438, _T),
    _rule(486, 488, _T, "note (11): 486 mid-usage is treated as an unknown 4xx"),
    _rule(491, 491, _T),
    _rule(493, 494, _T),
    _rule(400, 499, _T, "an unknown 4xx is treated as 400"),
    _rule(500, 500, _T, "note (13): retry after Retry-After, or end the usage gracefully"),
    _rule(503, 505, _T, "notes (15), (16)"),
    _rule(513, 513, _T),
    _rule(580, 580, _T),
    _rule(500, 599, _T, "note (13): an unknown 5xx is treated as 500"),
    _rule(600, 600, _T, "note (17): the user, not the request, is refusing"),
    _rule(603, 603, _T),
    _rule(606, 606, _T),
    _rule(600, 699, _T, "note (17): an unknown 6xx is treated as 600"),
)

#: RFC 5057 §5.2: a transaction timeout affects only the usage of the request.
TIMEOUT_EFFECT = _rule(
    0,
    0,
    "usage",
    "a transaction timeout affects only the usage in which the transaction occurred",
    rfc="RFC 5057 §5.2",
)


@dataclass(frozen=True, slots=True)
class Effect:
    """What a final response (``code``; ``None`` for a timeout) to a mid-dialog request of
    ``method`` destroys: ``scope`` is ``none``, ``transaction``, ``usage`` or ``dialog``;
    ``usage`` the usage the method belongs to (RFC 5057 §5.3)."""

    code: int | None
    method: str
    scope: Scope
    usage: str | None
    rfc: str
    note: str

    @property
    def ends_invite_usage(self) -> bool:
        """Whether the INVITE usage (the one this DSM models) ends."""
        return self.scope == "dialog" or (self.scope == "usage" and self.usage == "invite")


def effect_of(code: int | None, method: str) -> Effect:
    """RFC 5057's verdict on a final response ``code`` (``None``: the transaction timed out)
    to a mid-dialog request of ``method``.

    >>> effect_of(481, "UPDATE").scope
    'usage'
    >>> effect_of(481, "CANCEL").scope
    'transaction'
    """
    if not isinstance(method, str) or not method:
        raise UnknownName("method", method, ("a SIP method such as INVITE",), MACHINE_ID)
    usage = USAGE_OF.get(method)
    if code is None:
        rule = TIMEOUT_EFFECT
    else:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 699:
            raise UnknownName("status code", code, ("100-699", "None (a timeout)"), MACHINE_ID)
        rule = next(r for r in FAILURE_EFFECTS if r.applies(code, method))
    scope = rule.scope
    note = rule.note
    if scope == "usage" and usage is None:
        scope = "transaction"
        note = "RFC 5057 §5.2, §5.3: the request belongs to no usage; " + note
    return Effect(code, method, scope, usage, rule.rfc, note)



__all__ = [
    "FAILURE_EFFECTS",
    "INTEGRAL_METHODS",
    "TIMEOUT_EFFECT",
    "USAGE_OF",
    "Effect",
    "EffectRule",
    "Scope",
    "effect_of",
]
