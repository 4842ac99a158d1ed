"""Refuse requests that did not come from our own pages on our own address.

Pure ASGI, outermost in the stack. Three rules, for http and websocket alike:

- Host must be 127.0.0.1:PORT, localhost:PORT or [::1]:PORT, where PORT is the
  port this server listens on. Anything else is DNS rebinding (a web page whose
  name resolves to 127.0.0.1) or a confused client.
- A present Origin must be exactly http://<that host>. Cookies are shared by all
  ports of 127.0.0.1, so another local port is a different origin to refuse.
  Gradio's own CORS code never rejects, so this check is ours.
- Unsafe methods are refused when the browser says they are cross-site or
  same-site (`Sec-Fetch-Site`), even without an Origin header.

Every response also gets headers that stop framing and MIME sniffing.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
# For responses that set no policy of their own (Gradio's): everything from our
# own origin only, so the page cannot fetch from or send to the internet, nor be
# framed. Gradio's front end needs inline scripts and styles and eval.
DEFAULT_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    b"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
    b"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


class GuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan passes through
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        server = scope.get("server") or (None, None)
        reason = None
        if host not in allowed_hosts(server[1]):
            reason = "unexpected Host header"
        else:
            origin = headers.get("origin")
            unsafe = scope["type"] == "websocket" or scope.get("method", "GET") not in SAFE_METHODS
            if origin is not None and origin != f"http://{host}":
                reason = "cross-origin request"
            elif unsafe and headers.get("sec-fetch-site") in ("cross-site", "same-site"):
                reason = "cross-site request"
        if reason is not None:
            await _refuse(scope, receive, send, reason)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", DEFAULT_CSP))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _headers(scope: Scope) -> dict[str, str]:
    # Last value wins; duplicated Host/Origin headers are not something a browser sends.
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _refuse(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
    if scope["type"] == "websocket":
        # Closing before accept makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = {k.decode(): v.decode() for k, v in SECURITY_HEADERS}
    await PlainTextResponse(f"Forbidden: {reason}.\n", status_code=403, headers=headers)(scope, receive, send)
