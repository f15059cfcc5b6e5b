import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgate.domain.phone import (
    INVALID_PHONE,
    InvalidPhone,
    MetadataValidator,
    PhoneNormalizer,
    full_parse,
)

UA_MOBILE = "380501234567"
# One validator for the property tests: it compiles metadata per country code on first use.
FAST = MetadataValidator()
UNCACHED = PhoneNormalizer("UA", cache_size=0)


def reference(digits: str) -> str | None:
    """What phonenumbers itself says about "+<digits>", spelled out with its public API."""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))[1:]


def _example_numbers() -> list[str]:
    examples: set[str] = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in phonenumbers.PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                examples.add(phonenumbers.format_number(number, 0)[1:])
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            examples.add(phonenumbers.format_number(number, 0)[1:])
    return sorted(examples)


EXAMPLES = _example_numbers()
VALID_KNOWN = [
    UA_MOBILE,  # UA mobile (Vodafone)
    "380671234567",  # UA mobile (Kyivstar)
    "380442345678",  # UA Kyiv fixed line
    "48601234567",  # PL mobile
    "48221234567",  # PL Warsaw fixed line
    "12025550123",  # US Washington DC
    "14155552671",  # US San Francisco
    "447911123456",  # GB mobile
    "442079460958",  # GB London fixed line
    "4915112345678",  # DE mobile
    "493012345678",  # DE Berlin fixed line
]
INVALID_KNOWN = [
    "38050123456",  # UA one digit short
    "3805012345678",  # UA one digit long
    "380001234567",  # UA no such range
    "4860123456",  # PL one digit short
    "12021234567",  # US exchange can't start with 1
    "10005550123",  # US area code can't start with 0
    "4479111234",  # GB mobile too short
    "491",  # DE nothing after the country code
    "999123456789",  # unassigned country code
]


@pytest.fixture(scope="module")
def phones() -> PhoneNormalizer:
    return PhoneNormalizer("UA")


@pytest.mark.parametrize(
    "raw",
    [
        "380501234567",
        "+380501234567",
        "+380 50 123 45 67",
        "+38 (050) 123-45-67",
        "0501234567",
        "(050) 123-45-67",
        "050.123.45.67",
        "00380501234567",
        " 380501234567\n",
        "+380\u00a050\u00a01234567",
    ],
)
def test_every_common_spelling_of_a_ua_number_normalizes_to_e164_digits(
    phones: PhoneNormalizer, raw: str
) -> None:
    assert phones.normalize(raw) == UA_MOBILE


@pytest.mark.parametrize("digits", VALID_KNOWN)
def test_known_valid_numbers_are_accepted_with_or_without_plus(
    phones: PhoneNormalizer, digits: str
) -> None:
    assert phones.normalize(digits) == digits
    assert phones.normalize("+" + digits) == digits
    assert phones.normalize("00" + digits) == digits


@pytest.mark.parametrize("digits", INVALID_KNOWN)
def test_known_invalid_numbers_are_rejected(phones: PhoneNormalizer, digits: str) -> None:
    with pytest.raises(InvalidPhone):
        phones.normalize("+" + digits)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "+",
        "00",
        "abc",
        "+380 50 ABC 45 67",
        "1-800-FLOWERS",
        "+380501234567 ext. 12",
        "tel:+380501234567",
        "++380501234567",
        "380+501234567",
        "٣٨٠٥٠١٢٣٤٥٦٧",  # Arabic-Indic digits
        "+" + "1" * 80,
        "3" * 65,
        "050123",
    ],
)
def test_empty_garbage_and_too_long_input_is_rejected(phones: PhoneNormalizer, raw: str) -> None:
    with pytest.raises(InvalidPhone):
        phones.normalize(raw)


def test_invalid_phone_carries_the_human_readable_reason(phones: PhoneNormalizer) -> None:
    with pytest.raises(InvalidPhone) as caught:
        phones.normalize("nonsense")
    assert caught.value.reason == INVALID_PHONE == "Invalid phone number"
    assert caught.value.raw == "nonsense"
    assert isinstance(caught.value, ValueError)


def test_national_form_follows_the_default_region() -> None:
    assert PhoneNormalizer("PL").normalize("601 234 567") == "48601234567"
    assert PhoneNormalizer("GB").normalize("07911 123456") == "447911123456"
    assert PhoneNormalizer("us").normalize("(202) 555-0123") == "12025550123"


def test_unknown_default_region_is_refused() -> None:
    with pytest.raises(ValueError):
        PhoneNormalizer("XX")


def test_national_prefix_after_country_code_is_dropped_like_phonenumbers_does(
    phones: PhoneNormalizer,
) -> None:
    assert phones.normalize("+380 (0) 50 123 45 67") == UA_MOBILE
    assert phones.normalize("+44 (0) 7911 123456") == "447911123456"


def test_results_are_cached_and_invalid_input_stays_invalid_on_repeat() -> None:
    phones = PhoneNormalizer(cache_size=8)
    assert phones.normalize(UA_MOBILE) == phones.normalize(UA_MOBILE)
    for _ in range(2):
        with pytest.raises(InvalidPhone):
            phones.normalize("38050")


def test_without_cache_the_answers_are_the_same() -> None:
    cached, uncached = PhoneNormalizer(), PhoneNormalizer(cache_size=0)
    for digits in VALID_KNOWN:
        assert uncached.normalize(digits) == cached.normalize(digits)


def test_fast_path_decides_known_valid_numbers_itself() -> None:
    fast = MetadataValidator()
    for digits in VALID_KNOWN:
        assert fast.e164(digits) == digits


def test_fast_path_never_vouches_for_known_invalid_numbers() -> None:
    fast = MetadataValidator()
    for digits in INVALID_KNOWN:
        assert fast.e164(digits) is None


def test_fast_path_leaves_a_leading_national_prefix_to_the_full_parser() -> None:
    # parse() turns +380 0501234567 into +380 501234567; the fast path must not answer for it.
    assert MetadataValidator().e164("3800501234567") is None
    assert full_parse("+3800501234567", None) == UA_MOBILE


def test_fast_path_agrees_with_phonenumbers_on_every_library_example_number() -> None:
    fast = MetadataValidator()
    decided = 0
    for digits in EXAMPLES:
        answer = fast.e164(digits)
        assert answer in (None, reference(digits)), digits
        decided += answer is not None
    # The fast path must actually carry the load, not decline everything.
    assert decided >= 0.9 * len(EXAMPLES)


def test_fast_path_agrees_with_phonenumbers_on_mutated_example_numbers() -> None:
    fast = MetadataValidator()
    rng = random.Random(20260101)
    for digits in EXAMPLES:
        for _ in range(20):
            keep = rng.randint(max(1, len(digits) - 5), len(digits))
            tail = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 6)))
            mutated = digits[:keep] + tail
            assert fast.e164(mutated) in (None, reference(mutated)), mutated


@st.composite
def near_valid_digits(draw: st.DrawFn) -> str:
    digits = draw(st.sampled_from(EXAMPLES))
    keep = draw(st.integers(1, len(digits)))
    tail = draw(st.text("0123456789", max_size=len(digits) - keep + 2))
    return digits[:keep] + tail


@settings(max_examples=2000)
@given(near_valid_digits())
def test_fast_path_agrees_with_full_parse_on_generated_numbers(digits: str) -> None:
    answer = FAST.e164(digits)
    assert answer is None or answer == reference(digits)


@settings(max_examples=1000)
@given(st.text("0123456789", min_size=1, max_size=20))
def test_fast_path_agrees_with_full_parse_on_arbitrary_digits(digits: str) -> None:
    answer = FAST.e164(digits)
    assert answer is None or answer == reference(digits)


@settings(max_examples=1000)
@given(near_valid_digits(), st.sampled_from(["{}", "+{}", "00{}", " +{} "]))
def test_normalizer_matches_the_full_parse_for_international_input(
    digits: str, spelling: str
) -> None:
    phones = UNCACHED
    expected = reference(digits)
    if spelling.strip().startswith("+") or spelling.startswith("00"):
        try:
            got: str | None = phones.normalize(spelling.format(digits))
        except InvalidPhone:
            got = None
        assert got == expected
    elif expected is not None:
        assert phones.normalize(spelling.format(digits)) == expected


def each_desc_e164(digits: str) -> str | None:
    """The fast path as it was before its per-length patterns: every description on its own."""
    if not (digits.isascii() and digits.isdigit()) or digits[0] == "0":
        return None
    found = FAST._code_of(digits[:3])
    if found is None:
        return None
    size, country = found
    nsn = digits[size:]
    if not 2 <= len(nsn) <= 17:
        return None
    if country.national_prefix is not None and country.national_prefix.match(nsn):
        return None
    if len(country.regions) == 1:
        return digits if country.regions[0].matches_each(nsn) else None
    for region in country.regions:
        if region.leading_digits is not None:
            if region.leading_digits.match(nsn):
                return digits if region.matches_each(nsn) else None
        elif region.matches_each(nsn):
            return digits
    return None


def test_per_length_patterns_agree_with_each_description_on_mutated_examples() -> None:
    rng = random.Random(20261202)
    for digits in EXAMPLES:
        candidates = [digits, digits[:-1], digits + "0"]
        # a trunk prefix (0, 1, 8, 06...) right after each possible country code
        for k in (1, 2, 3):
            candidates += [digits[:k] + trunk + digits[k:] for trunk in ("0", "1", "8", "06")]
        for _ in range(20):
            keep = rng.randint(max(1, len(digits) - 6), len(digits))
            tail = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 7)))
            candidates.append(digits[:keep] + tail)
        for candidate in candidates:
            assert FAST.e164(candidate) == each_desc_e164(candidate), candidate


@settings(max_examples=2000)
@given(st.one_of(near_valid_digits(), st.text("0123456789", min_size=1, max_size=20)))
def test_per_length_patterns_agree_with_each_description(digits: str) -> None:
    assert FAST.e164(digits) == each_desc_e164(digits)


@pytest.mark.parametrize(
    "raw", [*VALID_KNOWN, *INVALID_KNOWN, "+380 50 123 45 67", "0501234567", ""]
)
def test_digits_is_normalize_without_the_exception(phones: PhoneNormalizer, raw: str) -> None:
    try:
        expected: str | None = phones.normalize(raw)
    except InvalidPhone:
        expected = None
    assert phones.digits(raw) == expected
