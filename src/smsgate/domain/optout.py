"""Opt-out and opt-in keywords in inbound SMS: STOP / СТОП / UNSUBSCRIBE put the sender on the
account's suppression list, START / СТАРТ take it off; both lists are configurable.

A message counts only when it is the keyword alone or the keyword and one more word (on a
shared short code, "STOP SHOP" names whose list to leave: `rest` is that word). Longer text
("please don't stop") is conversation, not a command: a false opt-out silently loses a
recipient, so the rule stays narrow, as carriers' own STOP handling is. Pure rules only.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from smsgate.domain.keywords import keyword, words
from smsgate.immutable import record

DEFAULT_STOP_WORDS = ("STOP", "СТОП", "UNSUBSCRIBE")
DEFAULT_START_WORDS = ("START", "СТАРТ")


class OptChange(Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


@record
class OptRequest:
    change: OptChange
    rest: str | None = None  # the word after the keyword, folded (a shared code's keyword)


@record
class OptOutWords:
    """Folded keyword sets; build with `OptOutWords.of` so they are validated and folded."""

    stop: frozenset[str]
    start: frozenset[str]

    @classmethod
    def of(
        cls,
        stop: Iterable[str] = DEFAULT_STOP_WORDS,
        start: Iterable[str] = DEFAULT_START_WORDS,
    ) -> OptOutWords:
        stop_set = frozenset(keyword(w) for w in stop)
        start_set = frozenset(keyword(w) for w in start)
        if not stop_set:
            raise ValueError("at least one opt-out keyword is needed")
        both = stop_set & start_set
        if both:
            raise ValueError(f"a keyword cannot both opt out and opt in: {sorted(both)}")
        return cls(stop_set, start_set)


def opt_request(text: str, vocabulary: OptOutWords) -> OptRequest | None:
    """The opt-out or opt-in `text` asks for, or None when it asks for neither."""
    found = words(text)
    if not 1 <= len(found) <= 2:
        return None
    first = found[0]
    rest = found[1] if len(found) == 2 else None
    if first in vocabulary.stop:
        return OptRequest(OptChange.OPT_OUT, rest)
    if first in vocabulary.start:
        return OptRequest(OptChange.OPT_IN, rest)
    return None
