"""The dialog layer: the INVITE dialog usage of RFC 3261 §12-15 as the dialog state machine
(DSM) of RFC 5407 §2, declared once as data, plus the UAS/UAC rules that decide the
4xx/5xx answers inside a dialog.

The RFC figures (RFC 5407 §2 Figures 1 and 2, in `sipfsm.decl.figures`) are above the table
that encodes them; one declaration serves both roles. Triggers are direction specific
(``send_*`` for a message this UA sent, a `MessageSent` event; ``rcv_*`` for one it
received), and an arrow drawn in only one figure carries a guard on the role (``caller``:
the UAC of the initial INVITE, Figure 1; ``callee``: its UAS, Figure 2).

The declaration, part by part:

* `sipfsm.machines.dialog.states`: the triggers, the glare timer, the states and their
  outcomes;
* `sipfsm.machines.dialog.table`: the rows, one table read top to bottom;
* `sipfsm.machines.dialog.guards`: the guards the rows name;
* `sipfsm.machines.dialog.actions`: the actions the rows name and the handlers that run them
  (the only code that changes a dialog);
* `sipfsm.machines.dialog.instance`: one dialog, `DialogInstance`, and what it remembers;
* `sipfsm.machines.dialog.failures`: RFC 5057, which failures end the transaction, the usage
  or the dialog (`effect_of`);
* `sipfsm.machines.dialog.rulings`: where the RFCs disagree or are silent, and what the model
  does;
* here: `declare`, which assembles them per profile.

Where the RFCs disagree or are silent, what the model does is data on the declaration:
`MachineDecl.rulings`, from `sipfsm.machines.dialog.rulings` (shown on docs/machines/dialog.md).
"""

from __future__ import annotations

from sipfsm.decl import figures
from sipfsm.decl.language import PROFILES, MachineDecl, profile_of, select_profile
from sipfsm.machines.dialog.actions import GLARE_OTHER_STEPS, GLARE_OWNER_STEPS, glare_seconds
from sipfsm.machines.dialog.failures import (
    FAILURE_EFFECTS,
    TIMEOUT_EFFECT,
    USAGE_OF,
    Effect,
    EffectRule,
    effect_of,
)
from sipfsm.machines.dialog.instance import (
    MACHINE_ID,
    DialogInstance,
    TransactionRef,
    initial_side,
    random_sources,
)
from sipfsm.machines.dialog.rulings import RULINGS
from sipfsm.machines.dialog.states import GLARE, STATES, TRIGGERS
from sipfsm.machines.dialog.table import CREATIONS, ROWS
from sipfsm.values.errors import UnknownName

_NOTES = (
    "one declaration for both roles: rows drawn in only one figure of RFC 5407 §2 carry a "
    "guard on the role (caller: Figure 1; callee: Figure 2)",
    "the dialog moves on messages sent (MessageSent) and received, and on its "
    "transactions ending (TransactionEnded, the figures' Timeout)",
    "a new DSM instance per new To tag (forking, RFC 5407 Appendix E) is the job of "
    "sipfsm.elements.dialogs.DialogSet",
    "outcomes are declared on the response triggers (send_final, rcv_3xx_6xx_invite ...), "
    "so the runtime reports one when the 481/487/491/500 is actually sent or received "
    "(status-filtered), not when the dialog decides it with a Respond: a request trigger "
    "carries no status, and every row of that trigger would report the code",
)

_CACHE: dict[str, MachineDecl] = {}


def declare(profile: str = "rfc6026") -> MachineDecl:
    """The dialog machine in ``profile`` (cached: a declaration is immutable)."""
    cached = _CACHE.get(profile)
    if cached is not None:
        return cached
    if profile not in PROFILES:
        raise UnknownName("profile", profile, PROFILES)
    rows = select_profile(ROWS, profile)
    decl = MachineDecl(
        id=MACHINE_ID,
        title="INVITE dialog usage (dialog state machine)",
        rfc="RFC 5407 §2",
        profile=profile_of(profile),
        figure=figures.DIALOG_CALLER + "\n" + figures.DIALOG_CALLEE,
        states=select_profile(STATES, profile),
        triggers=TRIGGERS,
        timers=(GLARE,),
        creations=CREATIONS,
        transitions=rows,
        notes=_NOTES,
        rulings=select_profile(RULINGS, profile),
    )
    _CACHE[profile] = decl
    return decl


__all__ = [
    "CREATIONS",
    "FAILURE_EFFECTS",
    "GLARE",
    "GLARE_OTHER_STEPS",
    "GLARE_OWNER_STEPS",
    "MACHINE_ID",
    "ROWS",
    "RULINGS",
    "STATES",
    "TIMEOUT_EFFECT",
    "TRIGGERS",
    "USAGE_OF",
    "DialogInstance",
    "Effect",
    "EffectRule",
    "TransactionRef",
    "declare",
    "effect_of",
    "glare_seconds",
    "initial_side",
    "random_sources",
]
