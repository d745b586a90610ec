"""Layer 5, elements: whole SIP elements built from the machines, each a sans-IO object.

Transaction and dialog matching (`matching`: RFC 3261 §17.1.3, §17.2.3, §9.2, §12) and the
UA-core rules above the dialog (`core`: CANCEL matching, requests for unknown dialogs).

Imports: the layers below (`values`, `decl`, `machines`, `engine`) and this package only.
"""
