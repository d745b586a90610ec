"""The probe cases are declared once, as data (sipfsm.net.cases): each names its RFC section,
what is sent and what passes, and a procedure that exists."""

from __future__ import annotations

import re

from sipfsm.net.cases import OUTCOMES, PROBES, Probe, ProbeOptions
from sipfsm.net.probe import _PLAYS


def test_every_case_has_a_unique_id_and_a_procedure() -> None:
    ids = [p.id for p in PROBES]
    assert len(ids) == len(set(ids))
    assert {p.play for p in PROBES} == set(_PLAYS)


def test_every_case_cites_an_rfc_section_and_says_what_passes() -> None:
    for p in PROBES:
        assert re.fullmatch(r"RFC \d+ §[\d.]+(, §[\d.]+)*", p.rfc), p.rfc
        assert p.title and p.sends and p.passes
        assert set(p.transports) <= {"udp", "tcp"} and p.budget > 0


def test_outcomes_are_the_five_a_report_shows() -> None:
    assert OUTCOMES == ("pass", "fail", "warn", "inconclusive", "skipped")


def test_a_case_and_the_options_are_frozen_values() -> None:
    p = PROBES[0]
    assert p == Probe(p.id, p.rfc, p.title, p.sends, p.passes, p.play, p.budget, p.transports)
    assert ProbeOptions(("127.0.0.1", 5060)).t1 == 0.5  # RFC 3261 §17.1.1.1's default
