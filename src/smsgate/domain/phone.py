"""Phone numbers to E.164 digits (international form without '+'), valid per `phonenumbers`.

Input that is already international digits takes a fast path built from the library's own
metadata (regexes compiled once per country code) behind an LRU cache; anything the fast path does
not settle goes through `phonenumbers.parse` + `is_valid_number`. No I/O and no number lookup
services: validity means "matches the numbering plan", not "is in service".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata

from smsgate.immutable import record

INVALID_PHONE = "Invalid phone number"
_MAX_INPUT = 64
_MAX_NSN = 17  # phonenumbers' _MAX_LENGTH_FOR_NSN
_MIN_NSN = 2  # phonenumbers' _MIN_LENGTH_FOR_NSN
# What people type around the digits; anything else (letters, extensions, tel: URIs) is refused.
_SEPARATORS = re.compile(r"[ \t\u00a0\-().]")
_NON_GEO_REGION = "001"
# The number types phonenumbers' _number_type_helper tries; a number is valid when any one
# matches, so the order is free: the common ones go first.
_TYPE_FIELDS = (
    "mobile",
    "fixed_line",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


class InvalidPhone(ValueError):
    """Not a valid phone number; `reason` is the human-readable text the doors report."""

    reason = INVALID_PHONE

    def __init__(self, raw: str) -> None:
        super().__init__(f"{INVALID_PHONE}: {raw!r}")
        self.raw = raw


@record
class _Desc:
    lengths: frozenset[int]
    pattern: re.Pattern[str]

    def matches(self, nsn: str) -> bool:
        # Same rule as phonenumbers' _is_number_matching_desc: empty lengths mean "any".
        if self.lengths and len(nsn) not in self.lengths:
            return False
        return self.pattern.fullmatch(nsn) is not None


class _Region:
    """One region's numbering plan. A number is valid when the general description and at
    least one type description match (phonenumbers' rule, `matches_each`). The hot path asks one
    regex per national-number length instead: the general pattern as a lookahead, then the type
    patterns whose possible lengths allow that length as one alternation, compiled on first use
    (fullmatch of an alternation is "any alternative fullmatches"; the patterns have no
    backreferences, so joining them changes nothing)."""

    __slots__ = ("_by_length", "general", "leading_digits", "types")

    def __init__(
        self, leading_digits: re.Pattern[str] | None, general: _Desc, types: tuple[_Desc, ...]
    ) -> None:
        self.leading_digits = leading_digits
        self.general = general
        self.types = types
        self._by_length: dict[int, re.Pattern[str] | None] = {}

    def matches_each(self, nsn: str) -> bool:
        """The rule spelled out desc by desc: the reference `is_valid` is tested against."""
        return self.general.matches(nsn) and any(t.matches(nsn) for t in self.types)

    def is_valid(self, nsn: str) -> bool:
        size = len(nsn)
        try:
            pattern = self._by_length[size]
        except KeyError:
            pattern = self._by_length[size] = self._pattern_for(size)
        return pattern is not None and pattern.fullmatch(nsn) is not None

    def _pattern_for(self, size: int) -> re.Pattern[str] | None:
        source = self.source_for(size)
        return None if source is None else re.compile(source)

    def source_for(self, size: int) -> str | None:
        """The one pattern for national numbers of `size` digits, or None: none is valid."""
        if self.general.lengths and size not in self.general.lengths:
            return None
        types = [t.pattern.pattern for t in self.types if not t.lengths or size in t.lengths]
        if not types:
            return None
        alternatives = "|".join(f"(?:{t})" for t in types)
        return f"(?=(?:{self.general.pattern.pattern})\\Z)(?:{alternatives})"


class _Country:
    """A country code's plan. With a single region (most of them) the fast path asks one regex
    per length: the region's (see _Region) behind a negative lookahead of the national prefix,
    which answers "no prefix to strip and valid" at once (`(?!P)` at the start fails exactly
    when `P.match` would succeed)."""

    __slots__ = ("national_prefix", "regions", "single")

    def __init__(self, national_prefix: re.Pattern[str] | None, regions: tuple[_Region, ...]):
        self.national_prefix = national_prefix
        self.regions = regions
        # length -> pattern (None: no number of that length passes), filled on first use.
        self.single: dict[int, re.Pattern[str] | None] | None = {} if len(regions) == 1 else None

    def single_pattern(self, size: int) -> re.Pattern[str] | None:
        """Compile and keep the single region's pattern for `size` digits."""
        assert self.single is not None
        source = self.regions[0].source_for(size)
        if source is not None and self.national_prefix is not None:
            source = f"(?!(?:{self.national_prefix.pattern})){source}"
        pattern = self.single[size] = None if source is None else re.compile(source)
        return pattern

    def is_valid(self, nsn: str) -> bool:
        if len(self.regions) == 1:
            return self.regions[0].is_valid(nsn)
        # phonenumbers' _region_code_for_number_from_list: the first region whose leading digits
        # match (or, without leading digits, which validates the number) decides.
        for region in self.regions:
            if region.leading_digits is not None:
                if region.leading_digits.match(nsn):
                    return region.is_valid(nsn)
            elif region.is_valid(nsn):
                return True
        return False


def _desc(desc: object) -> _Desc | None:
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    return _Desc(frozenset(getattr(desc, "possible_length", ()) or ()), re.compile(pattern))


def _metadata(country_code: int, region: str) -> object:
    if region == _NON_GEO_REGION:
        return PhoneMetadata.metadata_for_nongeo_region(country_code)
    return PhoneMetadata.metadata_for_region(region)


def _region(metadata: object) -> _Region | None:
    general = _desc(getattr(metadata, "general_desc", None))
    if general is None:
        return None
    fields: tuple[str, ...] = _TYPE_FIELDS
    if getattr(metadata, "same_mobile_and_fixed_line_pattern", False):
        # phonenumbers never tries mobile when it shares fixed-line's pattern.
        fields = tuple(f for f in _TYPE_FIELDS if f != "mobile")
    types = tuple(d for f in fields if (d := _desc(getattr(metadata, f, None))) is not None)
    leading = getattr(metadata, "leading_digits", None)
    return _Region(re.compile(leading) if leading else None, general, types)


def _country(country_code: int) -> _Country | None:
    region_codes: tuple[str, ...] = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if not region_codes:
        return None
    regions = tuple(
        r for code in region_codes if (r := _region(_metadata(country_code, code))) is not None
    )
    # parse() strips the national prefix using the country's main region (the first listed).
    prefix = getattr(_metadata(country_code, region_codes[0]), "national_prefix_for_parsing", None)
    return _Country(re.compile(prefix) if prefix else None, regions)


class MetadataValidator:
    """The fast path: E.164 digits validated against compiled metadata.

    `e164(digits)` returns the digits when `phonenumbers.parse("+" + digits)` + `is_valid_number`
    would accept them unchanged, and None when it cannot say so cheaply: an invalid number, or one
    whose national part starts like a national prefix (parse() might strip or transform it).
    None therefore means "ask the full parser", never "invalid".
    """

    __slots__ = ("_by_head", "_countries")

    def __init__(self) -> None:
        # Keyed by the digit string so the hot path never calls int().
        self._countries: dict[str, _Country | None] = {}
        # The first three digits settle the country code (codes are 1-3 digits and prefix-free):
        # one lookup per number instead of up to three. At most 1,110 keys.
        self._by_head: dict[str, tuple[int, _Country] | None] = {}

    def _lookup(self, prefix: str) -> _Country | None:
        try:
            return self._countries[prefix]
        except KeyError:
            country = self._countries[prefix] = _country(int(prefix))
            return country

    def _code_of(self, head: str) -> tuple[int, _Country] | None:
        """The length and plan of the country code `head` starts with, if one is assigned."""
        # Country codes are prefix-free, so at most one of the 1-3 digit prefixes is assigned.
        for size in (1, 2, 3):
            country = self._lookup(head[:size])
            if country is not None:
                return size, country
        return None

    def e164(self, digits: str) -> str | None:
        if not (digits.isascii() and digits.isdigit()) or digits[0] == "0":
            return None
        head = digits[:3]
        try:
            found = self._by_head[head]
        except KeyError:
            found = self._by_head[head] = self._code_of(head)
        if found is None:
            return None
        size, country = found
        nsn = digits[size:]
        length = len(nsn)
        if not _MIN_NSN <= length <= _MAX_NSN:
            return None
        single = country.single
        if single is not None:
            try:
                pattern = single[length]
            except KeyError:
                pattern = country.single_pattern(length)
            return digits if pattern is not None and pattern.fullmatch(nsn) is not None else None
        if country.national_prefix is not None and country.national_prefix.match(nsn):
            return None
        return digits if country.is_valid(nsn) else None


def full_parse(text: str, region: str | None) -> str | None:
    """E.164 digits by `phonenumbers.parse` + `is_valid_number`, or None when not valid."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))[1:]


class PhoneNormalizer:
    """Raw input to E.164 digits, or `InvalidPhone`.

    Accepted forms: international digits with or without '+' ("380501234567", "+380 50 123 45 67"),
    the "00" international prefix ("00380..."), and the national form of `default_region`
    ("0501234567", "(050) 123-45-67"). Bare digits are read as international first and as
    national only when that is not a valid number, so in a region without a trunk prefix (US)
    a national number that is also a valid international one needs its '+'.
    """

    __slots__ = ("_fast", "_region", "digits")

    def __init__(self, default_region: str = "UA", cache_size: int = 65_536) -> None:
        region = default_region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {default_region!r}")
        self._region = region
        self._fast = MetadataValidator()
        # Invalid input is cached too (as None): a bulk send repeats its bad numbers as well.
        # `digits(raw)`: the E.164 digits, or None where `normalize` raises. The bulk path calls
        # it directly: no Python frame and no exception per number on top of the cache's.
        self.digits: Callable[[str], str | None] = lru_cache(maxsize=cache_size)(self._resolve)

    def normalize(self, raw: str) -> str:
        result = self.digits(raw)
        if result is None:
            raise InvalidPhone(raw)
        return result

    def _resolve(self, raw: str) -> str | None:
        if len(raw) > _MAX_INPUT:
            return None
        # The bulk case, bare international digits, skips the clean-up below (e164 answers None
        # at once for anything else: not all ASCII digits, or a leading 0).
        fast = self._fast.e164(raw)
        if fast is not None:
            return fast
        cleaned = _SEPARATORS.sub("", raw.strip())
        if cleaned.startswith("+"):
            digits, bare = cleaned[1:], False
        elif cleaned.startswith("00"):
            digits, bare = cleaned[2:], False
        else:
            digits, bare = cleaned, True
        if not (digits.isascii() and digits.isdigit()):
            return None
        fast = self._fast.e164(digits)
        if fast is not None:
            return fast
        # No country code starts with 0, so such bare digits can only be national.
        international = None if digits[:1] == "0" else full_parse("+" + digits, None)
        if international is not None or not bare:
            return international
        return full_parse(digits, self._region)
