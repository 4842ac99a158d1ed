"""The session check in front of every route, Gradio's included.

Pure ASGI, so it sees every path before routing, including everything the
mounted Gradio app serves (config, theme.css, gradio_api/*, file=...). A route
is public only if it is listed in PUBLIC_PATHS or under PUBLIC_PREFIXES; a test
walks all mounted routes to prove nothing else answers without a session.

Without a valid session a page request (GET/HEAD asking for HTML) is redirected
to /login?next=...; anything else gets 401.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import anyio.to_thread
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from desktop_app.context import STATE_KEY, RequestContext
from desktop_app.errors import StoreError
from desktop_app.identity import current
from desktop_app.store.protocols import TOUCH_INTERVAL_SECONDS, SessionStore

if TYPE_CHECKING:
    from desktop_app.store.accounts import Accounts

log = logging.getLogger(__name__)
# /_instance/show answers only to the token in the owner-only instance file.
PUBLIC_PATHS = frozenset({"/login", "/setup", "/logout", "/healthz", "/readyz", "/_instance/show"})
PUBLIC_PREFIXES = ("/static/",)
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 7230's tchar, as RFC 6265 names cookies
T = TypeVar("T")


def cookie_name(kind: str, secure: bool = False) -> str:
    """The shell's cookies are named after the app: cookies ignore ports, and two
    apps made with this tool may run at once on 127.0.0.1. `secure` (a team
    server behind https): the `__Host-` prefix, so that only this host, over
    https, can set it, and no sibling subdomain."""
    return f"{'__Host-' if secure else ''}{current().slug}-{kind}"


def session_cookie(secure: bool = False) -> str:
    return cookie_name("session", secure)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def parse_cookies(header: str) -> dict[str, str]:
    """A Cookie header as browsers send it (RFC 6265 5.4): `name=value` pairs split
    by `;`, each at its first `=`, blanks around them dropped, values taken as they
    are. Python's SimpleCookie gave up on the whole header for one cookie it could
    not parse (`prefs={"a":1}`, `a=b c`, `"q"=1`), and any page on any local port
    can set such a cookie for 127.0.0.1: one was enough to sign a person out.
    For a name sent twice, the last wins: browsers put the cookie with the longest
    Path first, so our Path=/ cookies outrank one tossed in for a sub-path.
    Only spaces and tabs are blanks (RFC 6265): str.strip() also took U+00A0,
    U+0085 and U+001C-U+001F, so a sibling subdomain could set
    `\xa0__Host-…-session` (no `__Host-` cookie to a browser, so settable with
    Domain=) and have it read as ours, swapping a person into another account.
    A name that is not a plain token (RFC 6265's cookie-name) is nobody's."""
    jar: dict[str, str] = {}
    for pair in header.split(";"):
        name, sep, value = pair.partition("=")
        name, value = name.strip(" \t"), value.strip(" \t")
        if not sep or not _TOKEN.fullmatch(name):
            continue  # a bare word, or a name no cookie of ours has
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        jar[name] = value
    return jar


def cookie_value(scope: Scope, name: str) -> str | None:
    found = None
    for key, value in scope.get("headers", []):
        if key == b"cookie":  # HTTP/2 may split cookies over several headers
            found = parse_cookies(value.decode("latin-1")).get(name, found)
    return found


class SessionGate:
    def __init__(self, app: ASGIApp, *, store: SessionStore, accounts: Accounts | None = None,
                 secure_cookies: bool = False) -> None:
        self.app = app
        self.store = store
        self.accounts = accounts
        self.cookie = session_cookie(secure_cookies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["path"] in HEALTH_PATHS:  # a proxy's checks: no session to look up, whatever it sends
            await self.app(scope, receive, send)
            return
        token = cookie_value(scope, self.cookie)
        try:
            session = await store_call(self.store, self.store.get, token) if token else None
        except StoreError as exc:  # the database is unreachable: one sentence, no session
            await _unavailable(exc, scope, receive, send)
            return
        if token and session is not None and time.time() - session.last_seen > TOUCH_INTERVAL_SECONDS:
            try:
                # A write: in a worker thread, so a write lock held elsewhere stalls this request only.
                await anyio.to_thread.run_sync(self.store.touch, token)
            except StoreError as exc:
                # Only idle-timeout bookkeeping: a missed update can end the session
                # sooner, never later, so a full disk need not lock the person out.
                log.warning("could not record session activity: %s", exc)
        scope.setdefault("state", {})[STATE_KEY] = RequestContext(
            store=self.store, token=token if session else None, session=session, accounts=self.accounts
        )
        if session is not None or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        await _deny(scope, receive, send)


def _wants_page(scope: Scope) -> bool:
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    for key, value in scope.get("headers", []):
        if key == b"accept":
            return b"text/html" in value
    return False


async def _deny(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    no_store = {"cache-control": "no-store"}
    if _wants_page(scope):
        target = scope.get("root_path", "") + scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        if query:
            target += "?" + query
        location = "/login" if target in ("", "/") else "/login?next=" + quote(target, safe="/")
        response: Response = RedirectResponse(location, status_code=303, headers=no_store)
    else:
        response = JSONResponse({"detail": "Not signed in. Sign in at /login."}, status_code=401, headers=no_store)
    await response(scope, receive, send)


async def _unavailable(exc: StoreError, scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        log.error("session check: %s", exc.message)
        await send({"type": "websocket.close", "code": 1011})
        return
    from starlette.requests import Request

    from desktop_app.web.views import store_failed  # views imports this module: here, not at the top

    response = await store_failed(Request(scope, receive), exc)
    await response(scope, receive, send)


async def store_call(store: SessionStore, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`: a lookup in the local file, well under a millisecond, made
    here; on a remote store (a team server's PostgreSQL) a network round trip,
    made in a worker thread, since a slow one on the event loop stalled every
    request of the instance, /healthz too."""
    if store.remote:
        return await anyio.to_thread.run_sync(lambda: fn(*args))
    return fn(*args)
