"""Layer 2, declarations: the language in which every machine is written down as data.

States, triggers, guards, actions, timers, outcomes and profiles (`language`), the timer
values of RFC 3261 §17 and Table 4 (`timers`), the RFC figures drawn above the tables
(`figures`), and what a running instance of any machine holds (`instance`).

Imports: `sipfsm.values` and this package only.
"""


def __getattr__(name: str) -> object:
    """The names of the old module ``sipfsm.decl``, now in `language`, until sipfsm 0.2."""
    from sipfsm import forward_moved

    return forward_moved(__name__, "sipfsm.decl.language", name)
