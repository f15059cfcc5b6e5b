"""What every dashboard page needs of HTTP: forms, cookies, HTML replies and redirects.

Small on purpose: the dashboard rides the doors' bare request/reply types (doors/web.py), so
it adds no framework to the process that serves the SMS Club doors.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from smsgate.doors.web import WebReply, WebRequest

MAX_FORM = 64 * 1024  # bytes; the largest form is the send form's text

# No inline script or style anywhere: the pages load only their own files.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def html(body: str, status: int = 200) -> WebReply:
    return WebReply(
        body.encode("utf-8"), status, "text/html; charset=utf-8", dict(SECURITY_HEADERS)
    )


def redirect(location: str) -> WebReply:
    """303: the browser follows with a GET, so a reload never posts a form again."""
    return WebReply(b"", 303, "text/plain", {**SECURITY_HEADERS, "Location": location})


def cookie(request: WebRequest, name: str) -> str | None:
    raw = request.header(b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


def set_cookie(name: str, value: str, *, secure: bool, max_age: int) -> str:
    """A Set-Cookie value: HttpOnly (no script reads it), SameSite=Lax (no cross-site posts
    carry it), Secure when the page came over TLS."""
    parts = [f"{name}={value}", "Path=/dashboard", "HttpOnly", "SameSite=Lax", f"Max-Age={max_age}"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def query(request: WebRequest) -> dict[str, str]:
    return _first_values(request.query_string.decode("latin-1"))


async def form(request: WebRequest) -> dict[str, str]:
    """The urlencoded form of a POST; an unreadable one reads as empty (the CSRF check then
    refuses it)."""
    body = await request.read(MAX_FORM)
    return _first_values(body.decode("utf-8", "replace"))


def _first_values(text: str) -> dict[str, str]:
    try:
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=64)
    except ValueError:
        return {}
    return {key: values[0] for key, values in parsed.items()}
