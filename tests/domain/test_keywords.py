"""Words of an inbound SMS as keywords see them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.keywords import fold, keyword, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", ["stop"]),
        ("  Stop!  ", ["stop"]),
        ("ｓｔｏｐ", ["stop"]),  # full-width letters, NFKC
        ("Стоп.", ["стоп"]),
        ("ЇЖАК ok", ["їжак", "ok"]),
        ("stop 🙏", ["stop"]),  # an emoji alone is not a word
        ("«Shop» — 2", ["shop", "2"]),
        ("", []),
        ("...", []),
        ("Straße", ["strasse"]),  # casefold, not lower
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(("given_", "folded"), [("Shop", "shop"), (" СТОП ", "стоп"), ("A1", "a1")])
def test_keyword_is_folded(given_: str, folded: str) -> None:
    assert keyword(given_) == folded


@pytest.mark.parametrize("bad", ["", "   ", "two words", "stop!", "x" * 33])
def test_keyword_must_be_one_word_of_letters_or_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="keyword"):
        keyword(bad)


@given(st.text(max_size=50))
def test_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert words(" ".join(words(text))) == words(text)
