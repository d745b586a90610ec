"""The UA core's duties as data (`sipfsm.elements.duties`): each cites its section and says
who has it."""

from __future__ import annotations

import re

from sipfsm.elements.duties import DUTIES


def test_every_duty_of_the_ua_core_cites_its_rfc_section_and_who_has_it() -> None:
    assert len({(d.rfc, d.when) for d in DUTIES}) == len(DUTIES)
    for duty in DUTIES:
        assert re.fullmatch(r"RFC \d+ §[\d.]+(, (RFC \d+ )?§[\d.]+)*", duty.rfc), duty.rfc
        assert duty.who in ("UAC", "UAS", "UA")
        assert duty.when and duty.what
