"""The UA core's duties as data (`sipfsm.elements.duties`): each cites its section and says
who has it."""

from __future__ import annotations

import re

from sipfsm.elements.duties import DUTIES, TU_HOOKS
from sipfsm.elements.endpoint import TransactionUser


def test_every_duty_of_the_ua_core_cites_its_rfc_section_and_who_has_it() -> None:
    assert len({(d.rfc, d.when) for d in DUTIES}) == len(DUTIES)
    for duty in DUTIES:
        assert re.fullmatch(r"RFC \d+ §[\d.]+(, (RFC \d+ )?§[\d.]+)*", duty.rfc), duty.rfc
        assert duty.who in ("UAC", "UAS", "UA")
        assert duty.when and duty.what


def test_every_hook_the_docs_name_is_a_method_of_the_transaction_user() -> None:
    names = [name for name, _when in TU_HOOKS]
    assert names == sorted(set(names), key=names.index)
    for name in names:
        assert callable(getattr(TransactionUser, name))
