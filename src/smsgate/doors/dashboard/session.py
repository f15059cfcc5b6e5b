"""Dashboard sessions as signed cookies: the account id, when it logged in, and its CSRF token.

Signed with HMAC-SHA256 under a secret every node and worker shares (a 0600 file in the state
directory), so no session table is needed and any node can serve any page. A cookie cannot be
revoked before it expires: logout clears it in the browser, disabling the account ends it
everywhere (every page re-reads the account).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

import orjson

from smsgate.immutable import record

COOKIE = "sg_session"
MAX_AGE = 12 * 3600  # seconds a login lasts


@record
class Session:
    account_id: int | None  # None: not logged in (the login form still needs a CSRF token)
    csrf: str
    issued_at: float


class SessionCodec:
    def __init__(self, secret: bytes, *, max_age: float = MAX_AGE) -> None:
        if len(secret) < 32:
            raise ValueError("the session secret must be at least 32 bytes")
        self._secret = secret
        self.max_age = max_age

    def new(self, account_id: int | None = None) -> Session:
        return Session(account_id, secrets.token_urlsafe(24), time.time())

    def encode(self, session: Session) -> str:
        payload = orjson.dumps([session.account_id, session.csrf, session.issued_at])
        body = base64.urlsafe_b64encode(payload).rstrip(b"=")
        return (body + b"." + self._sign(body)).decode("ascii")

    def decode(self, cookie: str) -> Session | None:
        """The session in a cookie, or None when it is forged, damaged or expired."""
        body, _, signature = cookie.encode("ascii", "replace").partition(b".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            account_id, csrf, issued_at = orjson.loads(
                base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
            )
        except (ValueError, TypeError):
            return None
        if not isinstance(issued_at, float | int) or time.time() - issued_at > self.max_age:
            return None
        if not isinstance(csrf, str) or not (account_id is None or isinstance(account_id, int)):
            return None
        return Session(account_id, csrf, float(issued_at))

    def _sign(self, body: bytes) -> bytes:
        digest = hmac.new(self._secret, body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=")


def shared_secret(path: Path) -> bytes:
    """The secret in `path`, made once (0600) by whichever process gets there first."""
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        pass
    else:
        return secret if len(secret) >= 32 else _wait_for(path)  # being written now
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it a moment ago
        return _wait_for(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(32))
    return path.read_bytes()


def _wait_for(path: Path) -> bytes:
    deadline = time.monotonic() + 5.0
    while True:
        secret = path.read_bytes()
        if len(secret) >= 32 or time.monotonic() > deadline:
            return secret
        time.sleep(0.01)
