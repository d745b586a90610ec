"""Layer 6, the call-flow simulator: user agents built from the elements, a virtual clock,
a faulty network, scenarios, runs, invariants, ladder diagrams and sweeps.

Imports: the layers below (`values` ... `elements`) and this package; never `check` or
`render` (the other packages of its layer).
"""
