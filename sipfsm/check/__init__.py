"""Layer 6, the trace checker: real traces judged by the model.

The readers of SIPp logs, pcap/pcapng and JSONL (`capture`), and
the replay of every endpoint through the model with its rules and report (`checker`).

Imports: the layers below (`values` ... `elements`) and this package; never `sim` or
`render` (the other packages of its layer).
"""


def __getattr__(name: str) -> object:
    """The names of the old module ``sipfsm.check``, now in `checker`, until sipfsm 0.2."""
    from sipfsm import forward_moved

    return forward_moved(__name__, "sipfsm.check.checker", name)
