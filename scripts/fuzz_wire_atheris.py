"""Coverage-guided fuzzing of the SIP parser (`sipfsm.values.wire.parse`) with atheris.

Optional, and not part of the test suite (docs/limits.md, "The checker"): atheris is not a
dependency of sipfsm. To run it::

    .venv/bin/pip install atheris
    SIPFSM_PURE=1 .venv/bin/python scripts/fuzz_wire_atheris.py -max_total_time=600

(``SIPFSM_PURE=1``: the compiled parser is C that atheris cannot see the coverage of.)
Further arguments go to libFuzzer (``-runs=N``, ``-max_len=N``, a corpus directory ...).
The seeds are the 32 messages of RFC 4475 (tests/data/rfc/rfc4475.txt, extracted as
tests/test_wire.py does), written to a fresh corpus directory.

The promise checked, on every input and on both transports: `parse` returns a message
or raises `WireError`, and the fast path and the strict parser agree (the same message or
the same reason). Anything else -- another exception, a disagreement -- stops the run
with the input that caused it (libFuzzer writes it to ``crash-*``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from sipfsm.values import headers, wire  # noqa: E402

# (`instrument_imports` sees nothing here: sipfsm's own import hook, which picks the source
# or the compiled build, loads the modules; the functions are instrumented once loaded)
for module in (wire, headers):
    for value in vars(module).values():
        mine = getattr(value, "__module__", None) == module.__name__
        if mine and callable(value) and hasattr(value, "__code__"):
            atheris.instrument_func(value)


def _outcome(parser: object, data: bytes, stream: bool) -> object:
    try:
        if parser is wire.parse:
            return wire.parse(data, stream=stream)
        return wire._parse_strict(data, stream)
    except wire.WireError as exc:
        return exc.reason


def test_one_input(data: bytes) -> None:
    for stream in (False, True):
        fast = _outcome(wire.parse, data, stream)
        strict = _outcome(wire._parse_strict, data, stream)
        if fast != strict:
            raise AssertionError(f"the fast path gives {fast!r}, the strict parser {strict!r}")


def main() -> None:
    from test_wire import TORTURE  # (tests/ is on the path: the RFC 4475 extraction)

    corpus = Path(tempfile.mkdtemp(prefix="sipfsm-wire-corpus-"))
    for name, (_section, raw) in TORTURE.items():
        (corpus / name).write_bytes(raw)
    atheris.Setup([*sys.argv, str(corpus)], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
