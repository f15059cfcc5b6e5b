"""Dashboard sessions: a signed cookie that cannot be forged, altered or kept past its age,
and a cookie header that is HttpOnly, SameSite=Lax and Secure over TLS."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from smsgate.doors.dashboard.pages import set_cookie
from smsgate.doors.dashboard.session import SessionCodec, shared_secret

SECRET = b"k" * 32


def test_a_session_reads_back_and_a_tampered_or_foreign_one_does_not() -> None:
    codec = SessionCodec(SECRET)
    session = codec.new(42)
    cookie = codec.encode(session)
    assert codec.decode(cookie) == session
    body, _, signature = cookie.partition(".")
    forged = SessionCodec(b"x" * 32).encode(session)
    assert codec.decode(forged) is None
    assert codec.decode(body[:-1] + ("A" if body[-1] != "A" else "B") + "." + signature) is None
    assert codec.decode(body) is None
    assert codec.decode("") is None
    assert codec.decode("not base64!.sig") is None


def test_a_session_past_its_age_is_gone() -> None:
    codec = SessionCodec(SECRET, max_age=60)
    old = codec.new(7)
    aged = type(old)(old.account_id, old.csrf, time.time() - 61)
    assert codec.decode(codec.encode(aged)) is None


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SessionCodec(b"short")


def test_the_cookie_is_httponly_lax_and_secure_only_over_tls() -> None:
    plain = set_cookie("sg_session", "v", secure=False, max_age=60)
    tls = set_cookie("sg_session", "v", secure=True, max_age=60)
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    assert tls.endswith("; Secure")


def test_the_shared_secret_is_made_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "dashboard-secret"
    first = shared_secret(path)
    assert len(first) == 32
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert shared_secret(path) == first
