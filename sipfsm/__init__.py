"""sipfsm: the executable reference model of SIP transactions and dialogs."""

from sipfsm import native as _native

# Which code the compiled modules run -- their C extensions, or their source -- is decided
# here, before any of them is imported (`sipfsm.native`).
_native.choose()
