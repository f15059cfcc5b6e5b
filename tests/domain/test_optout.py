"""Opt-out and opt-in keywords."""

from __future__ import annotations

import pytest

from smsgate.domain.optout import OptChange, OptOutWords, OptRequest, opt_request

DEFAULT = OptOutWords.of()
OUT, IN = OptChange.OPT_OUT, OptChange.OPT_IN


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", "Stop!", " stop. ", "СТОП", "стоп", "Стоп!!!", "UNSUBSCRIBE", "ｓｔｏｐ"],
)
def test_stop_words_opt_out_in_any_case_and_script(text: str) -> None:
    assert opt_request(text, DEFAULT) == OptRequest(OUT)


@pytest.mark.parametrize("text", ["START", "start", "Старт", "start!"])
def test_start_words_opt_back_in(text: str) -> None:
    assert opt_request(text, DEFAULT) == OptRequest(IN)


def test_a_second_word_is_kept_for_a_shared_short_code() -> None:
    assert opt_request("STOP Shop", DEFAULT) == OptRequest(OUT, "shop")
    assert opt_request("старт піца", DEFAULT) == OptRequest(IN, "піца")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "please don't stop",
        "stop sending me this",
        "stopper",
        "STOPP",
        "unstop",
        "Shop STOP",  # the keyword must come first
    ],
)
def test_other_text_asks_for_nothing(text: str) -> None:
    assert opt_request(text, DEFAULT) is None


def test_the_lists_are_configurable() -> None:
    words = OptOutWords.of(stop=["Cancel", "Відписатися"], start=["Resume"])
    assert opt_request("cancel", words) == OptRequest(OUT)
    assert opt_request("ВІДПИСАТИСЯ", words) == OptRequest(OUT)
    assert opt_request("resume", words) == OptRequest(IN)
    assert opt_request("STOP", words) is None
    assert opt_request("start", OptOutWords.of(start=[])) is None


def test_a_word_on_both_lists_or_no_stop_word_is_refused() -> None:
    with pytest.raises(ValueError, match="both opt out and opt in"):
        OptOutWords.of(stop=["STOP"], start=["stop"])
    with pytest.raises(ValueError, match="at least one"):
        OptOutWords.of(stop=[])
    with pytest.raises(ValueError, match="one word"):
        OptOutWords.of(stop=["STOP NOW"])
