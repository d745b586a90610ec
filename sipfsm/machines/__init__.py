"""Layer 3, machines: the declarations themselves.

The four transaction machines of RFC 3261 §17 (`transaction`: ``ict``, ``nict``, ``ist``,
``nist``, under the ``rfc6026`` and ``rfc3261`` profiles) and the dialog machine of RFC 5407
§2 over RFC 3261 §12-15 (`dialog`). Each is a `sipfsm.decl.language.MachineDecl`: rows,
guards, actions, timers and outcomes, each with its RFC section.

Imports: `sipfsm.values`, `sipfsm.decl` and this package only. No engine: a machine is data.
"""
