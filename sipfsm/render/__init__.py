"""Layer 6, rendering: everything drawn or written from the declarations.

networkx graphs (`graph`), DOT/SVG diagrams (`diagram`) and their screen-size summaries
(`summary`), JSON, SCXML and Mermaid exports
(`export`), analyses of a machine's graph (`analysis`) and the generated docs pages
(`docs`).

Imports: the layers below (`values` ... `elements`) and this package; never `sim` or
`check` (the other packages of its layer).
"""


def __getattr__(name: str) -> object:
    """The names of the old module ``sipfsm.render``, now in `diagram`, until sipfsm 0.2."""
    from sipfsm import forward_moved

    return forward_moved(__name__, "sipfsm.render.diagram", name)
