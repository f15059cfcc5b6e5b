"""How a word of an inbound SMS is compared with a configured keyword: Unicode-normalised
(NFKC) and case-folded, so "Stop", "STOP" and "ｓｔｏｐ" are one word and "Стоп" is "СТОП";
punctuation around a word is not part of it ("STOP!" is "STOP").

Shared by opt-out detection and keyword routing so both read a message the same way.
"""

from __future__ import annotations

import unicodedata

MAX_KEYWORD_LENGTH = 32


def fold(word: str) -> str:
    """The form two words are compared in."""
    return unicodedata.normalize("NFKC", word).casefold()


def words(text: str) -> list[str]:
    """The message's words, folded, punctuation stripped from both ends of each; words that
    are only punctuation (a lone "!" or emoji-free dash) are dropped."""
    out: list[str] = []
    for raw in fold(text).split():
        word = _strip_punctuation(raw)
        if word:
            out.append(word)
    return out


def keyword(text: str) -> str:
    """A configured keyword in folded form; ValueError unless it is one word of letters or
    digits, 1 to 32 characters long."""
    folded = fold(text.strip())
    if not folded:
        raise ValueError("a keyword is not empty")
    if len(folded) > MAX_KEYWORD_LENGTH:
        raise ValueError(f"a keyword is at most {MAX_KEYWORD_LENGTH} characters")
    if not all(ch.isalnum() for ch in folded):
        raise ValueError(f"a keyword is one word of letters and digits, not {text!r}")
    return folded


def _strip_punctuation(word: str) -> str:
    start, end = 0, len(word)
    while start < end and _is_punctuation(word[start]):
        start += 1
    while end > start and _is_punctuation(word[end - 1]):
        end -= 1
    return word[start:end]


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"  # punctuation and symbols (emoji included)
