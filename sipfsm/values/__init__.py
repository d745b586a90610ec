"""Layer 1, values: what flows in and out of the machines, as small frozen values.

Messages (`message`), the events into a machine and the actions out of it (`events`), the
response-code vocabulary with its reason phrases and the 4xx catalogue (`catalogue`), header
helpers shared by the parser and the matchers (`headers`), the SIP parser, from text to a
`Request` or `Response` or a `WireError` (`wire`: what reads the wire, the checker or a
network binding, parses with it), the project's errors (`errors`), and a seeded random
stream (`seeded`).

Imports: the standard library only, and other modules of this package. Nothing here knows
that a state machine exists.
"""
