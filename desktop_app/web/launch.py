"""The per-launch token: nobody gets even the login page without it.

A local server is reachable by every process and every user on this machine.
Each launch makes a random token; the window opens `/_launch?token=...` once,
this middleware swaps the token for an HttpOnly cookie and redirects to a clean
URL. Any other request without that cookie gets 403, so other local users and
processes cannot even try passwords. Headless mode prints the URL with the
token (as Jupyter does); `--launch-token off` turns this off for servers.

Always open: /healthz and /readyz (they say nothing) and /_instance/show (has its own token).
"""

from __future__ import annotations

import hmac
import secrets
from html import escape
from urllib.parse import parse_qs

from starlette.responses import HTMLResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from desktop_app.identity import current
from desktop_app.instance import SHOW_PATH
from desktop_app.web.gate import cookie_name, cookie_value

LAUNCH_PATH = "/_launch"
ALWAYS_OPEN = frozenset({"/healthz", "/readyz", SHOW_PATH})

_REFUSED = """<!doctype html><meta charset="utf-8"><title>{app}</title>
<p>This page belongs to a running {app}. Open it from the app's window, or
from the address the app printed when it started.</p>"""


def launch_cookie() -> str:
    return cookie_name("launch")


def new_launch_token() -> str:
    return secrets.token_urlsafe(32)


def launch_url(base_url: str, token: str | None) -> str:
    base = base_url.rstrip("/")
    return f"{base}{LAUNCH_PATH}?token={token}" if token else base + "/"


class LaunchGate:
    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def _matches(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in ALWAYS_OPEN:
            await self.app(scope, receive, send)
            return
        has_cookie = self._matches(cookie_value(scope, launch_cookie()))
        if scope["path"] == LAUNCH_PATH and scope["type"] == "http":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if has_cookie or self._matches((query.get("token") or [None])[0]):
                # A clean URL afterwards: the token leaves the address bar and history.
                # Straight to /login (one hop; it sends a signed-in user on to the app):
                # each extra redirect cost the window ~0.05 s.
                response = RedirectResponse("/login", status_code=303, headers={"cache-control": "no-store"})
                # A session cookie (no Max-Age): the next launch has a new token.
                response.set_cookie(launch_cookie(), self.token.decode(), path="/", httponly=True, samesite="strict")
                await response(scope, receive, send)
                return
        elif has_cookie:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        refused = _REFUSED.format(app=escape(current().name))
        await HTMLResponse(refused, status_code=403, headers={"cache-control": "no-store"})(scope, receive, send)
