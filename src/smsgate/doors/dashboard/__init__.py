"""The web dashboard at /dashboard/: customers' messages, send, account; operators' accounts.

Server-rendered pages (Jinja2) with htmx for the live parts, on the doors' bare HTTP layer. It
reads and acts only through gateway.Gateway, never the store, and every page checks that what
it shows belongs to the session's account.
"""
