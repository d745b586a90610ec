"""Layer 4, engine: what runs a declaration, and the only place that knows about speed.

The table engine (`runtime`, with its rows compiled by `codegen` and generated ahead of
time in `rows`), the reference engine on the ``transitions`` library (`reference`), the
registry of machines by id (`model`: ``model.engine("ict")``), and the compiled build's glue
(`native`: which modules mypyc compiles, and which code a process runs).

Imports: the layers below (`values`, `decl`, `machines`) and this package only.
"""
