from smsgate.gateway.credentials import (
    hash_password,
    hash_token,
    new_password,
    new_token,
    verify_password,
)


def test_tokens_are_random_and_never_look_like_an_option() -> None:
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert not any(t.startswith("-") for t in tokens)


def test_token_hash_is_deterministic_for_indexed_lookup() -> None:
    assert hash_token("abc") == hash_token("abc") != hash_token("abd")


def test_password_hash_is_salted_and_verifies() -> None:
    first, second = hash_password("secret"), hash_password("secret")
    assert first != second
    assert verify_password("secret", first) and verify_password("secret", second)
    assert not verify_password("Secret", first)


def test_malformed_stored_hash_never_verifies() -> None:
    assert not verify_password("x", "")
    assert not verify_password("x", "md5$abc$def")
    assert not verify_password("x", "scrypt$not-base64$!!")


def test_generated_passwords_fit_smpp() -> None:
    assert len(new_password(8)) == 8
