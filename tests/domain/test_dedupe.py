import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain import dedupe
from smsgate.domain.dedupe import DedupeKeys, dedupe_key


def test_key_is_sixteen_bytes() -> None:
    key = dedupe_key(1, "380501234567", "hello")
    assert isinstance(key, bytes)
    assert len(key) == 16


def test_same_inputs_give_the_same_key() -> None:
    assert dedupe_key(7, "380501234567", "hi") == dedupe_key(7, "380501234567", "hi")


def test_any_differing_field_changes_the_key() -> None:
    base = dedupe_key(7, "380501234567", "hi")
    assert dedupe_key(8, "380501234567", "hi") != base
    assert dedupe_key(7, "380501234568", "hi") != base
    assert dedupe_key(7, "380501234567", "hi!") != base


def test_phone_and_text_boundary_cannot_be_shifted() -> None:
    assert dedupe_key(1, "1", "23") != dedupe_key(1, "12", "3")


def test_key_is_stable_across_processes() -> None:
    code = (
        "from smsgate.domain.dedupe import dedupe_key;"
        "print(dedupe_key(42, '380501234567', 'Привіт €').hex())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == dedupe_key(42, "380501234567", "Привіт €").hex()


def test_key_is_pinned_so_stored_keys_stay_valid_after_upgrades() -> None:
    # Keys live in the database across deployments: changing the recipe silently breaks dedupe.
    assert dedupe_key(1, "380501234567", "hello").hex() == PINNED


def test_lone_surrogate_in_text_does_not_crash() -> None:
    assert len(dedupe_key(1, "380501234567", "\ud83d")) == 16


PINNED = "650cdc5b16f4f7eb11dea91ac06a1a52"


@given(
    account_id=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    pairs=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=8),
)
def test_batch_keys_equal_one_off_keys(account_id: int, pairs: list[tuple[str, str]]) -> None:
    keys = DedupeKeys(account_id)
    for phone, text in pairs + pairs:  # twice: the second round uses the cached text bytes
        assert keys.key(phone, text) == dedupe_key(account_id, phone, text)


def test_shared_account_prefixes_stay_bounded_and_correct(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedupe, "_MAX_PREFIXES", 3)
    monkeypatch.setattr(dedupe, "_prefixes", {})
    for account_id in [1, 2, 3, 4, 5, 1, 2, 9, 1]:
        keys = DedupeKeys(account_id)
        assert keys.key("380501234567", "hi") == dedupe_key(account_id, "380501234567", "hi")
        assert keys.key("380501234568", "hi") == dedupe_key(account_id, "380501234568", "hi")
        assert len(dedupe._prefixes) <= 3
