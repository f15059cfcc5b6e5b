"""The country of an international number by its calling code: the ISO 3166 region that
`phonenumbers` names first for the code ("US" for +1, "RU" for +7), "ZZ" when none does.

Values in, values out; the first three digits are enough, since calling codes are one to three
digits and none is a prefix of another (usage is grouped by them, gateway/usage.py).
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

UNKNOWN = "ZZ"


@lru_cache(maxsize=1024)
def country_of(digits: str) -> str:
    """The region of the number whose international digits start with `digits`."""
    for size in (1, 2, 3):
        head = digits[:size]
        if len(head) < size or not head.isdigit():
            break
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(head))
        if regions:
            region = regions[0]
            # +800 and the like are non-geographic: no country.
            return UNKNOWN if region == "001" else region
    return UNKNOWN
