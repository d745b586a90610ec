"""Tests of the 4xx catalogue, each named after the rule it checks."""

from __future__ import annotations

import re
from types import MappingProxyType

import pytest
from conftest import data_file
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.values.catalogue import (
    CODES,
    COMPACT_FORMS,
    ResponseCode,
    UnknownCode,
    canonical_header,
    effective,
    lookup,
    missing_headers,
    reason_phrase,
)
from sipfsm.values.errors import SipFsmError

RFC3261_TXT = "rfc/rfc3261.txt"
SEED_ZH_TXT = "seed-4xx-zh.txt"

RFC3261_4XX = {
    400, 401, 402, 403, 404, 405, 406, 407, 408, 410, 413, 414, 415, 416, 420, 421, 423,
    480, 481, 482, 483, 484, 485, 486, 487, 488, 491, 493,
}  # fmt: skip
IANA_4XX = {
    412, 417, 422, 424, 425, 428, 429, 430, 433, 436, 437, 438, 439, 440, 469, 470, 489, 494,
}  # fmt: skip

CITATION = re.compile(r"^RFC \d+ §[\d.]+$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _rfc3261_sections() -> dict[int, tuple[str, str]]:
    """Status code -> (section, reason phrase) from headings like "21.4.19 481 Call/...".

    Only headings at the left margin count; the table of contents is indented.
    """
    heading = re.compile(r"^(21\.\d\.\d+) (\d{3}) (.+?)\s*$")
    found: dict[int, tuple[str, str]] = {}
    for line in data_file(RFC3261_TXT).read_text(encoding="utf-8").splitlines():
        match = heading.match(line)
        if match:
            found[int(match.group(2))] = (match.group(1), match.group(3))
    return found


# --- What the catalogue holds -------------------------------------------------------------


def test_rfc3261_codes_are_exactly_section_21_4() -> None:
    assert {c for c, e in CODES.items() if e.source == "rfc3261"} == RFC3261_4XX


def test_iana_codes_are_exactly_the_registered_extensions() -> None:
    assert {c for c, e in CODES.items() if e.source == "iana"} == IANA_4XX


def test_catalogue_is_sorted_read_only_and_keyed_by_code() -> None:
    assert isinstance(CODES, MappingProxyType)
    assert list(CODES) == sorted(CODES)
    assert all(entry.code == code for code, entry in CODES.items())
    with pytest.raises(TypeError):
        CODES[499] = CODES[400]  # type: ignore[index]


def test_rfc3261_sections_and_reasons_match_rfc_text() -> None:
    sections = _rfc3261_sections()
    in_text = {code for code in sections if 400 <= code <= 499}
    assert in_text == RFC3261_4XX
    for code in sorted(RFC3261_4XX):
        section, reason = sections[code]
        assert CODES[code].rfc == f"RFC 3261 §{section}", code
        assert CODES[code].reason == reason, code


def test_non_4xx_reason_phrases_match_rfc3261_text() -> None:
    for code, (_section, reason) in _rfc3261_sections().items():
        assert reason_phrase(code) == reason, code


def test_every_citation_has_the_rfc_section_format() -> None:
    for entry in CODES.values():
        assert CITATION.match(entry.rfc), entry.rfc
        assert CITATION.match(entry.retry.rfc), entry.retry.rfc


def test_rfc3261_codes_cite_rfc3261_and_iana_codes_do_not() -> None:
    for entry in CODES.values():
        assert entry.rfc.startswith("RFC 3261 ") == (entry.source == "rfc3261"), entry.code


# --- Descriptions -----------------------------------------------------------------------------


def test_every_code_has_english_and_chinese_descriptions() -> None:
    for entry in CODES.values():
        assert set(entry.description) == {"en", "zh"}, entry.code
        assert entry.describe("en").strip(), entry.code
        assert entry.describe() == entry.describe("en")
        assert CJK.search(entry.describe("zh")), entry.code
        assert not CJK.search(entry.describe("en")), entry.code


def test_descriptions_are_read_only() -> None:
    with pytest.raises(TypeError):
        CODES[400].description["en"] = "x"  # type: ignore[index]


def test_describe_rejects_an_unknown_language() -> None:
    with pytest.raises(SipFsmError, match="zh"):
        CODES[400].describe("fr")  # type: ignore[arg-type]


def test_487_description_says_it_is_never_the_response_to_cancel_itself() -> None:
    entry = CODES[487]
    assert "never" in entry.describe("en")
    assert "CANCEL request itself" in entry.describe("en")
    assert "CANCEL 请求本身" in entry.describe("zh")


def test_chinese_descriptions_do_not_copy_the_seed_text() -> None:
    lines = [
        line.strip() for line in data_file(SEED_ZH_TXT).read_text(encoding="utf-8").splitlines()
    ]
    sentences = {
        sentence.strip()
        for line in lines
        for sentence in re.split(r"[。；]", line)
        if len(sentence.strip()) >= 12
    }
    for entry in CODES.values():
        zh = entry.describe("zh")
        assert zh not in lines, entry.code
        copied = [sentence for sentence in sentences if sentence in zh]
        assert not copied, (entry.code, copied)


# --- Header requirements --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "required"),
    [
        (401, ("WWW-Authenticate",)),
        (405, ("Allow",)),
        (407, ("Proxy-Authenticate",)),
        (420, ("Unsupported",)),
        (421, ("Require",)),
        (422, ("Min-SE",)),
        (423, ("Min-Expires",)),
        (424, ("Geolocation-Error",)),
        (425, ("AlertMsg-Error",)),
        (469, ("Recv-Info",)),
        (494, ("Security-Server",)),
    ],
)
def test_mandatory_headers_follow_the_rfcs(code: int, required: tuple[str, ...]) -> None:
    assert CODES[code].required_headers == required
    assert missing_headers(code, []) == list(required)
    assert missing_headers(code, required) == []


@pytest.mark.parametrize(
    ("code", "recommended"),
    [
        (404, "Retry-After"),
        (413, "Retry-After"),
        (480, "Retry-After"),
        (486, "Retry-After"),
        (485, "Contact"),
        (488, "Warning"),
        (417, "Accept-Resource-Priority"),
        (470, "Permission-Missing"),
        (489, "Allow-Events"),
    ],
)
def test_optional_headers_are_recommended_not_required(code: int, recommended: str) -> None:
    assert recommended in CODES[code].recommended_headers
    assert recommended not in CODES[code].required_headers
    assert missing_headers(code, []) == []


@pytest.mark.parametrize("code", [408, 430, 439, 481, 482, 483, 487, 491, 493])
def test_codes_without_header_rules_require_nothing(code: int) -> None:
    assert CODES[code].required_headers == ()
    assert missing_headers(code, []) == []


def test_405_without_allow_reports_allow() -> None:
    assert missing_headers(405, ["Via", "From", "To", "Call-ID", "CSeq"]) == ["Allow"]


def test_header_names_match_case_insensitively() -> None:
    assert missing_headers(405, ["allow"]) == []
    assert missing_headers(401, ["WWW-AUTHENTICATE"]) == []
    assert missing_headers(422, [" min-se "]) == []


def test_compact_forms_expand_to_their_long_names() -> None:
    assert canonical_header("i") == "Call-ID"
    assert canonical_header("K") == "Supported"
    assert canonical_header("Allow") == "Allow"
    assert len(COMPACT_FORMS) == len(set(COMPACT_FORMS.values()))
    # "u" is Allow-Events, not Unsupported: a compact form satisfies only its own header.
    assert missing_headers(420, ["u"]) == ["Unsupported"]


def test_415_requires_one_of_accept_headers() -> None:
    assert CODES[415].required_headers == ()
    assert CODES[415].required_any == ("Accept", "Accept-Encoding", "Accept-Language")
    assert missing_headers(415, []) == ["one of Accept, Accept-Encoding, Accept-Language"]


@pytest.mark.parametrize("header", ["Accept", "Accept-Encoding", "accept-language"])
def test_415_is_satisfied_by_any_single_accept_header(header: str) -> None:
    assert missing_headers(415, [header]) == []


def test_missing_headers_accepts_a_one_shot_iterable() -> None:
    assert missing_headers(405, (name for name in ["Allow"])) == []


# --- Lookup and §8.1.3.2 ----------------------------------------------------------------------


def test_lookup_returns_the_exact_entry() -> None:
    for code, entry in CODES.items():
        assert lookup(code) is entry


@pytest.mark.parametrize("code", [200, 999, 99, 700, 0, -400, 599])
def test_lookup_rejects_codes_outside_4xx(code: int) -> None:
    with pytest.raises(UnknownCode, match=r"keys of sipfsm\.values\.catalogue\.CODES"):
        lookup(code)


def test_lookup_rejects_an_uncatalogued_4xx() -> None:
    with pytest.raises(UnknownCode, match=r"8\.1\.3\.2"):
        lookup(499)


def test_unknown_code_is_a_value_error_and_a_sipfsm_error() -> None:
    with pytest.raises(ValueError) as caught:
        lookup(200)
    assert isinstance(caught.value, SipFsmError)
    assert isinstance(caught.value, UnknownCode)
    assert caught.value.code == 200


@pytest.mark.parametrize("code", [409, 431, 450, 499])
def test_unknown_4xx_is_treated_as_400(code: int) -> None:
    assert effective(code) is CODES[400]
    assert missing_headers(code, []) == []


def test_effective_returns_a_catalogued_code_itself() -> None:
    assert effective(405) is CODES[405]
    assert effective(494) is CODES[494]


@pytest.mark.parametrize("code", [200, 503, 999])
def test_effective_and_missing_headers_reject_non_4xx(code: int) -> None:
    with pytest.raises(UnknownCode):
        effective(code)
    with pytest.raises(UnknownCode):
        missing_headers(code, [])


@given(
    code=st.integers(min_value=400, max_value=499),
    headers=st.lists(
        st.sampled_from(
            ["Allow", "accept", "k", "i", "Require", "Min-SE", "Recv-Info", "X-Other", " "]
        )
        | st.text(max_size=20)
    ),
)
def test_every_4xx_has_an_effective_entry_and_header_check(code: int, headers: list[str]) -> None:
    entry = effective(code)
    assert isinstance(entry, ResponseCode)
    assert entry.code == (code if code in CODES else 400)
    missing = missing_headers(code, headers)
    allowed = set(entry.required_headers)
    if entry.required_any:
        allowed.add("one of " + ", ".join(entry.required_any))
    assert set(missing) <= allowed


# --- Retry rules ------------------------------------------------------------------------------


def test_401_and_407_retry_with_credentials() -> None:
    for code, section in ((401, "§22.2"), (407, "§22.3")):
        rule = CODES[code].retry
        assert rule.may_retry and rule.same_server
        assert "retry with credentials" in rule.how
        assert section in rule.how
        assert rule.rfc == "RFC 3261 §8.1.3.5"


@pytest.mark.parametrize("code", [413, 415, 416, 420])
def test_section_8_1_3_5_codes_may_be_retried_modified(code: int) -> None:
    rule = CODES[code].retry
    assert rule.may_retry and rule.same_server
    assert rule.rfc == "RFC 3261 §8.1.3.5"


def test_491_retry_uses_the_randomised_timer_of_section_14_1() -> None:
    rule = CODES[491].retry
    assert rule.may_retry and rule.rfc == "RFC 3261 §14.1"
    assert "2.1-4 s" in rule.how and "0-2 s" in rule.how


def test_408_may_be_repeated_unmodified_later() -> None:
    rule = CODES[408].retry
    assert rule.may_retry and rule.rfc == "RFC 3261 §21.4.9"
    assert "unmodified" in rule.how


def test_413_retry_mentions_retry_after() -> None:
    assert "Retry-After" in CODES[413].retry.how


@pytest.mark.parametrize("code", [403, 410, 481, 487])
def test_final_refusals_are_not_retried(code: int) -> None:
    assert not CODES[code].retry.may_retry


def test_a_code_without_retry_procedure_gives_no_same_server_hope() -> None:
    for entry in CODES.values():
        if not entry.retry.may_retry:
            assert not entry.retry.same_server, entry.code


# --- Reason phrases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        (180, "Ringing"),
        (199, "Early Dialog Terminated"),
        (200, "OK"),
        (486, "Busy Here"),
        (481, "Call/Transaction Does Not Exist"),
        (500, "Server Internal Error"),
        (607, "Unwanted"),
    ],
)
def test_reason_phrase_of_known_codes(code: int, phrase: str) -> None:
    assert reason_phrase(code) == phrase


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        (150, "Provisional"),
        (299, "Success"),
        (399, "Redirection"),
        (499, "Client Error"),
        (599, "Server Error"),
        (699, "Global Failure"),
    ],
)
def test_reason_phrase_of_unknown_code_is_its_class_name(code: int, phrase: str) -> None:
    assert reason_phrase(code) == phrase


@pytest.mark.parametrize("code", [99, 700, 999])
def test_reason_phrase_rejects_codes_outside_the_six_classes(code: int) -> None:
    with pytest.raises(UnknownCode, match="100-699"):
        reason_phrase(code)
